"""The fast CSV record reader reads every file exactly as the csv module does."""

import csv
import io

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.importers.csvrows import csv_rows

cell = st.one_of(
    st.text(alphabet='ab 张,"\r\n=\'', max_size=8),
    st.sampled_from(['="3500000000000000001"', "'13812345678", " 交易成功 ", "", "1,234.50"]),
)


def _both(text: str) -> tuple[list[list[str]], list[list[str]]]:
    fast = list(csv_rows(io.StringIO(text, newline="")))
    slow = list(csv.reader(io.StringIO(text, newline="")))
    return fast, slow


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(cell, min_size=1, max_size=5), min_size=1, max_size=8),
    st.sampled_from(["\r\n", "\n"]),
    st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
)
def test_same_records_as_the_csv_module(rows, eol, quoting):
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator=eol, quoting=quoting).writerows(rows)
    fast, slow = _both(out.getvalue())
    assert fast == slow


def test_quoted_line_breaks_and_commas_span_lines():
    text = 'a,b\r\n1,"x\r\ny, z"\r\n="35",\'138\r\n'
    fast, slow = _both(text)
    assert fast == slow == [["a", "b"], ["1", "x\r\ny, z"], ['="35"', "'138"]]


def test_an_order_number_quoted_as_taobao_writes_it():
    text = '订单编号,买家会员名\r\n"=""3500002654435761001""",tina0\r\n"a"",b",c\r\n"",x\r\n'
    fast, slow = _both(text)
    assert fast == slow == [
        ["订单编号", "买家会员名"], ['="3500002654435761001"', "tina0"], ['a",b', "c"], ["", "x"]
    ]


def test_no_final_line_break_and_blank_lines():
    fast, slow = _both('a,b\n\n"q",2')
    assert fast == slow == [["a", "b"], [], ["q", "2"]]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet='ab,"\r\n =', max_size=30))
def test_any_text_gives_the_records_the_csv_module_gives(text):
    """Not only what a CSV writer writes: stray quotes, a quote closing mid-field, an
    unclosed quote at the end, lone carriage returns."""
    try:
        slow = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        assume(False)
    assert list(csv_rows(io.StringIO(text, newline=""))) == slow
