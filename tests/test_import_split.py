"""A large CSV file is parsed by two processes: the result is the same as by one."""

import pytest

from bot.importers import pipeline
from bot.importers.pipeline import FIRST_PART, ImportFailed, import_file
from bot.importers.split import split_point
from tests.test_importers import TAOBAO_HEAD, TZ, rows, tb_row, write


@pytest.fixture
async def db(tmp_path):
    from bot.storage.db import open_db

    conn = await open_db(tmp_path / "k.db")
    yield conn
    await conn.close()


def test_cut_is_where_a_record_starts(tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_bytes(b"h1,h2\n" + b"".join(b"a%d,b\n" % i for i in range(100)))
    cut = split_point(plain, plain.stat().st_size)
    data = plain.read_bytes()
    assert cut is not None and data[cut - 1 : cut] == b"\n"
    assert abs(cut - len(data) // 2) < 10

    # a quoted cell with line breaks across the middle: the cut comes after it
    quoted = tmp_path / "quoted.csv"
    body = b"h1,h2\n" + b"x,1\n" * 20 + b'"long\n' + b"line\n" * 40 + b'end",2\n' + b"y,3\n" * 5
    quoted.write_bytes(body)
    cut = split_point(quoted, len(body))
    assert body[:cut].endswith(b'end",2\n')

    # a stray quote in an unquoted cell: parity means nothing, no cut
    stray = tmp_path / "stray.csv"
    stray.write_bytes(b"h1,h2\n" + b'19" monitor,1\n' + b"a,b\n" * 50)
    assert split_point(stray, stray.stat().st_size) is None


def _lines(n: int) -> list[str]:
    return [TAOBAO_HEAD] + [
        tb_row(oid=str(1000 + i), buyer=f"b{i % 7}", amount=f"{10 + i}.00") for i in range(n)
    ]


async def test_two_processes_import_what_one_does(db, tmp_path):
    lines = _lines(400)
    lines.append(tb_row(oid="1000", buyer="late", amount="99.00"))  # order 1000 again, last
    f = write(tmp_path / "orders.csv", lines)
    seen: list[tuple[int, int]] = []
    s = await import_file(db, f, tz=TZ, worker=True, progress=lambda d, t: seen.append((d, t)))
    assert (s.rows_read, s.orders_new, s.customers_new) == (401, 400, 8)
    # the later row of order 1000 (in the second part) won
    got = await rows(
        db,
        "SELECT c.buyer_id, o.amount_paid_fen FROM orders o "
        "JOIN customers c ON c.id = o.customer_id WHERE o.order_id = '1000'",
    )
    assert got == [("late", 9900)]
    size = f.stat().st_size
    assert seen[-1] == (size, size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[0][0] == pytest.approx(size * FIRST_PART, rel=0.1)  # the first part, then more


async def test_the_workers_batches_are_all_read_in_order(db, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "SMALL_BATCH", 30)  # the worker writes ~9 batches
    lines = [TAOBAO_HEAD] + [
        tb_row(oid=str(5000 + i), buyer=f"b{i % 13}", amount=f"{i}.00") for i in range(400)
    ]
    lines.append(tb_row(oid="5000", buyer="late", amount="99.00"))  # order 5000 again, last
    f = write(tmp_path / "batches.csv", lines)
    seen: list[int] = []
    s = await import_file(db, f, tz=TZ, worker=True, progress=lambda d, t: seen.append(d))
    assert (s.rows_read, s.orders_new, s.customers_new) == (401, 400, 14)
    assert len(seen) > 12 and seen == sorted(seen)  # batch by batch, the worker's too
    got = await rows(db, "SELECT order_id, amount_paid_fen FROM orders ORDER BY order_id")
    assert got == [(str(5000 + i), 9900 if i == 0 else i * 100) for i in range(400)]


async def test_bad_rows_in_the_second_part_are_named_by_their_row_in_the_file(db, tmp_path):
    lines = _lines(400)
    lines[350] = tb_row(oid="x1", amount="??")  # file row 351: in the second part
    f = write(tmp_path / "bad.csv", lines)
    with pytest.raises(ImportFailed, match=r"bad.csv row 351, column 买家实际支付金额"):
        await import_file(db, f, tz=TZ, worker=True)
    assert await rows(db, "SELECT count(*) FROM orders") == [(0,)]

    lines[10] = tb_row(oid="x2", amount="!!")  # file row 11: in the first part
    f = write(tmp_path / "bad2.csv", lines)
    s = await import_file(db, f, tz=TZ, worker=True, skip_bad=True)
    assert (s.rows_read, s.rows_skipped, s.orders_new) == (400, 2, 398)
    assert [e.split(",")[0] for e in s.skipped_examples] == ["row 11", "row 351"]
