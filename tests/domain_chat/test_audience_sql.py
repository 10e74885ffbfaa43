"""The SQL compiler selects exactly the customers ``evaluate`` says match."""

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.audience import (
    And,
    AudienceSyntaxError,
    Compare,
    CustomerFacts,
    Not,
    Or,
    Tag,
    evaluate,
    parse,
)
from bot.storage.audience_sql import compile_where

from ._strategies import customers, expressions

COLUMNS = {
    "orders": "c.orders",
    "spent": "c.spent_fen",
    "days_since_last": "c.days_since_last",
    "tier": "c.tier",
    "class": "c.value_class",
    "segment": "c.segment",
}

SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    orders INTEGER,
    spent_fen INTEGER,
    days_since_last INTEGER,
    tier TEXT,
    value_class TEXT,
    segment TEXT
);
CREATE TABLE customer_tags (
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    tag TEXT NOT NULL,
    removed_at TEXT
);
"""


def make_db(people: list[tuple[CustomerFacts, frozenset[str]]]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA)
    for cid, (facts, removed) in enumerate(people, start=1):
        v = facts.values
        db.execute(
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                cid,
                v.get("orders"),
                v.get("spent"),
                v.get("days_since_last"),
                v.get("tier"),
                v.get("class"),
                v.get("segment"),
            ),
        )
        db.executemany(
            "INSERT INTO customer_tags VALUES (?, ?, NULL)", [(cid, t) for t in facts.tags]
        )
        db.executemany(
            "INSERT INTO customer_tags VALUES (?, ?, '2024-01-01T00:00:00Z')",
            [(cid, t) for t in removed],
        )
    return db


def select_ids(db: sqlite3.Connection, expr) -> set[int]:
    where, params = compile_where(expr, COLUMNS)
    rows = db.execute(f"SELECT c.id FROM customers c WHERE {where}", params).fetchall()
    return {cid for (cid,) in rows}


def person(*tags: str, removed: tuple[str, ...] = (), **values):
    return (CustomerFacts(frozenset(tags), values), frozenset(removed))


@pytest.fixture
def shop() -> sqlite3.Connection:
    return make_db(
        [
            person("lace", "slit", orders=5, spent=150000, tier="gold", days_since_last=3),
            person("lace", "vneck", "refund_risk", orders=1, spent=9900),
            person("lace", removed=("vneck",), orders=2, tier="silver"),
            person("'; drop table customers; --", "<b>"),
        ]
    )


def test_the_issue_example(shop: sqlite3.Connection) -> None:
    assert select_ids(shop, parse("lace and (vneck or slit) and not refund_risk")) == {1}


def test_removed_tags_do_not_count(shop: sqlite3.Connection) -> None:
    assert select_ids(shop, parse("vneck")) == {2}


def test_comparisons_and_nulls(shop: sqlite3.Connection) -> None:
    assert select_ids(shop, parse("spent > 1000")) == {1}
    assert select_ids(shop, parse("orders >= 2")) == {1, 3}
    assert select_ids(shop, parse("tier != gold")) == {2, 3, 4}
    assert select_ids(shop, parse("not days_since_last <= 30")) == {2, 3, 4}


def test_hostile_tags_are_parameters_and_the_table_survives(shop: sqlite3.Connection) -> None:
    expr = parse('"\'; DROP TABLE customers; --" or "<b>"')
    where, params = compile_where(expr, COLUMNS)
    assert "DROP" not in where and "<b>" not in where
    assert params == ["'; drop table customers; --", "<b>"]
    assert select_ids(shop, expr) == {4}
    assert shop.execute("SELECT count(*) FROM customers").fetchone() == (4,)


def test_values_are_never_in_the_sql_text() -> None:
    where, params = compile_where(parse('segment = "x\' OR 1=1 --" and orders > 3'), COLUMNS)
    assert "1=1" not in where and "3" not in where
    assert params == ["x' OR 1=1 --", 3]


def test_tag_test_shape() -> None:
    where, params = compile_where(Tag("vip"), COLUMNS)
    assert where == (
        "EXISTS (SELECT 1 FROM customer_tags t WHERE t.customer_id = c.id "
        "AND t.tag = ? AND t.removed_at IS NULL)"
    )
    assert params == ["vip"]


def test_unmapped_field_and_unknown_operator_are_refused() -> None:
    with pytest.raises(ValueError, match="no SQL column is mapped for audience field 'abc'"):
        compile_where(Compare("abc", "=", "A"), COLUMNS)
    with pytest.raises(ValueError, match="unsupported operator"):
        compile_where(Compare("orders", "; DROP", 1), COLUMNS)


def test_empty_and_or() -> None:
    assert compile_where(And(()), COLUMNS) == ("1", [])
    assert compile_where(Or(()), COLUMNS) == ("0", [])


def test_not_of_a_comparison_with_null_is_not_null(shop: sqlite3.Connection) -> None:
    assert select_ids(shop, Not(Compare("orders", ">", 100))) == {1, 2, 3, 4}


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(expressions(), st.lists(customers(), min_size=1, max_size=6))
def test_sql_agrees_with_evaluate(expr, people) -> None:
    db = make_db(people)
    expected = {cid for cid, (facts, _) in enumerate(people, start=1) if evaluate(expr, facts)}
    assert select_ids(db, expr) == expected


_WORDS = st.sampled_from(
    ["lace", "and", "or", "not", "(", ")", "orders", ">=", "3", "=", "tier", "gold", '"a b"',
     "!", "&&", "||", "'", ";", "--", "spent", "<", "1000.5", "segment", "x"]
)  # fmt: skip


@settings(max_examples=300)
@given(st.lists(_WORDS, max_size=12).map(" ".join))
def test_whatever_parses_also_runs_in_sqlite(text: str) -> None:
    try:
        expr = parse(text)
    except AudienceSyntaxError:
        return
    people = [person("lace", orders=3, spent=100050, tier="gold", segment="x"), person()]
    expected = {cid for cid, (facts, _) in enumerate(people, start=1) if evaluate(expr, facts)}
    assert select_ids(make_db(people), expr) == expected
