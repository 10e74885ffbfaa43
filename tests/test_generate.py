"""The synthetic shop: exact preset formats, import round trip, determinism, realism."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.importers.pipeline import import_file
from bot.storage.db import open_db
from bot.synth import PRESETS, generate

TZ = ZoneInfo("Asia/Shanghai")
START, END = date(2023, 1, 1), date(2024, 12, 31)


def make(tmp_path: Path, preset: str, *, seed: int = 7, customers: int = 300, orders: int = 1500):
    out = tmp_path / f"{preset}-{seed}.csv"
    generate(out, customers=customers, orders=orders, preset=preset, seed=seed, start=START,
             end=END)  # fmt: skip
    return out


@pytest.fixture
async def db(tmp_path):
    conn = await open_db(tmp_path / "k.db")
    yield conn
    await conn.close()


async def fetch(db, sql: str) -> list[tuple]:
    async with db.execute(sql) as cur:
        return [tuple(r) for r in await cur.fetchall()]


@pytest.mark.parametrize("preset", PRESETS)
async def test_round_trip(db, tmp_path, preset):
    f = make(tmp_path, preset)
    s = await import_file(db, f, tz=TZ)  # the preset is detected from the header
    assert s.preset == preset
    assert (s.orders_new, s.customers_new, s.rows_skipped) == (1500, 300, 0)
    statuses = dict(await fetch(db, "SELECT status, count(*) FROM orders GROUP BY status"))
    assert set(statuses) >= {"unpaid", "cancelled", "refunded", "refused", "completed"}
    again = await import_file(db, f, tz=TZ)
    assert (again.orders_new, again.orders_updated, again.orders_unchanged) == (0, 0, 1500)


def test_deterministic_by_seed(tmp_path):
    digest = [hashlib.sha256(make(tmp_path, "taobao", seed=s).read_bytes()).hexdigest()
              for s in (1, 1, 2)]  # fmt: skip
    (tmp_path / "taobao-1.csv").unlink()
    assert digest[0] == hashlib.sha256(make(tmp_path, "taobao", seed=1).read_bytes()).hexdigest()
    assert digest[0] != digest[2]


def test_taobao_is_written_as_taobao_writes_it(tmp_path):
    raw = make(tmp_path, "taobao", orders=200, customers=50).read_bytes()
    raw.decode("gbk")  # GBK, not UTF-8
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    rows = list(csv.reader(raw.decode("gbk").splitlines()))
    header, first = rows[0], rows[1]
    assert "收货地址 " in header  # the stray spaces of the real export
    assert first[0].startswith('="') and first[0].endswith('"')
    assert first[header.index(" 联系手机")].startswith("'1")
    assert len(first[header.index("收货地址 ")].split(" ")) >= 4
    assert raw.count(b"\r\n") == len(rows)


def test_shopify_has_order_fields_only_on_the_first_line(tmp_path):
    rows = list(csv.DictReader(make(tmp_path, "shopify").open(encoding="utf-8")))
    follow = [r for r, prev in zip(rows[1:], rows, strict=False) if r["Name"] == prev["Name"]]
    assert follow and all(r["Financial Status"] == r["Total"] == "" for r in follow)
    assert all(r["Lineitem name"] for r in rows)
    assert rows[0]["Created at"].endswith(" +0800")


async def test_looks_like_a_real_shop(db, tmp_path):
    f = make(tmp_path, "generic", customers=1000, orders=5000)
    rows = list(csv.DictReader(f.open(encoding="utf-8")))
    await import_file(db, f, tz=TZ)
    spent = [s for (s,) in await fetch(db, "SELECT total_spent_fen FROM customers "
                                          "ORDER BY total_spent_fen DESC")]  # fmt: skip
    assert sum(spent[:100]) > 0.3 * sum(spent)  # the top 10% spend a third or more
    counts = Counter(n for (n,) in await fetch(db, "SELECT order_count FROM customers"))
    assert counts[1] > 400 and max(counts) >= 15  # many one-time buyers, a few heavy ones
    days = Counter(r["created_at"][5:10] for r in rows)
    assert days["11-11"] > 5 * (len(rows) / 365) and days["06-18"] > 3 * (len(rows) / 365)
    assert any(r["coupon"] != "0.00" for r in rows) and any(r["discount"] != "0.00" for r in rows)
    names = {r["name"] for r in rows}
    assert any(n.isascii() for n in names) and any(not n.isascii() for n in names)
    birthdays = {r["buyer_id"]: r["birthday"] for r in rows}
    assert 0.2 < sum(1 for b in birthdays.values() if b) / len(birthdays) < 0.5
    provinces = Counter(r["province"] for r in rows)
    assert len(provinces) > 10 and all(len(r["phone"]) == 11 for r in rows)
    # a repeat buyer's orders are spread out, not all on one day
    (gap,) = await fetch(db, "SELECT avg(avg_interval_s) / 86400 FROM customers "
                             "WHERE paid_order_count > 2")  # fmt: skip
    assert 5 < gap[0] < 120


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="unknown preset"):
        generate(tmp_path / "x.csv", customers=1, orders=1, preset="ebay", seed=1,
                 start=START, end=END)  # fmt: skip
