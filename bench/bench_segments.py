"""Segmentation benchmark: the SQL refresh beside a pandas reference, in one run.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python -m bench.bench_segments                      # 1M customers, 10M orders
    .venv/bin/python -m bench.bench_segments --customers 10000 --orders 100000

Works on a copy of the cached benchmark database (bench/fixture_db.ensure_db), so
every run starts from the same state. Prints one line per figure:

* full refresh, first time (every customer's fields written), as of yesterday;
* daily refresh as of today (recency moved a day; the orders read are those of the
  customers whose figures can have changed; only changed rows written);
* full recompute from every order as of today (``refresh_all(full=True)``);
* pandas reference: the same RFM cells from the same orders table (read + compute),
  checked equal to the SQL cells customer by customer;
* /segments answered through the real Application (median of 3);
* importing a day's orders (10,000) with the incremental refresh, and the refresh's share:
  once with the archive's file dropped from the system's cache first (cold, as after a
  reboot), then three days' imports in a row and their median (``--import-only``: only
  this, after a full refresh as of today).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import os
import random
import shutil
import sqlite3
import statistics
import time
from zoneinfo import ZoneInfo

from bench.fixture_db import OUT, ensure_db
from bot.domain.segment_config import RFMTierConfig
from bot.domain.segments_report import day_number, local_today
from bot.importers.pipeline import import_file
from bot.storage import segments
from bot.storage.db import checkpoints_done, open_db

TZ = ZoneInfo("Asia/Shanghai")


def pandas_cells(path: str, today: dt.date, window: int = 365) -> tuple[dict[int, str], float]:
    """customer id -> cell by pandas from the orders table, and the seconds it took."""
    import pandas as pd

    t0 = time.perf_counter()
    con = sqlite3.connect(path)
    df = pd.read_sql_query(
        "SELECT customer_id, paid_at, status, amount_paid_fen, refunded_fen FROM orders", con
    )
    con.close()
    counted = df[
        df.status.isin(["paid", "shipped", "completed"])
        & df.paid_at.notna()
        & (df.amount_paid_fen > df.refunded_fen)
    ]
    local = pd.to_datetime(counted.paid_at.astype("int64"), unit="s", utc=True).dt.tz_convert(TZ)
    days = (local.dt.tz_localize(None).dt.normalize() - pd.Timestamp("1970-01-01")).dt.days
    t = day_number(today)
    c = pd.DataFrame({
        "cid": counted.customer_id.to_numpy(), "d": days.to_numpy(),
        "net": (counted.amount_paid_fen - counted.refunded_fen).to_numpy(),
    })  # fmt: skip
    c = c[c.d <= t]
    last = c.groupby("cid").d.max()
    win = c[c.d > t - window]
    f = win.groupby("cid").size().reindex(last.index, fill_value=0)
    m = win.groupby("cid").net.sum().reindex(last.index, fill_value=0)
    cfg = RFMTierConfig()
    rec = t - last
    r = 3 - (rec > cfg.recency_days[0]).astype(int) - (rec > cfg.recency_days[1]).astype(int)
    fl = 1 + (f > cfg.frequency_orders[0]).astype(int) + (f > cfg.frequency_orders[1]).astype(int)
    ml = 1 + (m > cfg.monetary_fen[0]).astype(int) + (m > cfg.monetary_fen[1]).astype(int)
    cells = "R" + r.astype(str) + "F" + fl.astype(str) + "M" + ml.astype(str)
    elapsed = time.perf_counter() - t0
    return dict(zip(cells.index.tolist(), cells.tolist(), strict=True)), elapsed


async def segments_answer(path, runs: int = 3) -> float:
    """Median seconds for /segments through the real Application (admin 1)."""
    from bot.app import build_application
    from bot.config import load_settings
    from bot.console.transport import InProcessBotAPI
    from tests.e2e_harness import BotHarness

    settings = load_settings({"KEFU_DB": str(path), "KEFU_ADMINS": "1", "KEFU_LOCALE": "en"})
    db = await open_db(path)
    api = InProcessBotAPI()
    app = build_application(settings, db, request=api, rate_limit=False)
    times = []
    try:
        async with BotHarness(app, api) as bot:
            for _ in range(runs):
                t0 = time.perf_counter()
                [reply] = await bot.send(1, "/segments")
                times.append(time.perf_counter() - t0)
                assert "Segments as of" in reply.plain_text, reply.plain_text
    finally:
        await db.close()
    return statistics.median(times)


def days_orders(
    n: int, customers: int, today: dt.date, seed: int = 7, prefix: str = "bench-new-"
) -> list[tuple[str | None, int, int]]:
    """A day's orders as (buyer or None, paid at, fen): mostly existing buyers (None: the
    caller picks one), some new ones, paid today."""
    rng = random.Random(seed)
    start = int(dt.datetime.combine(today, dt.time(0), TZ).timestamp())
    out = []
    for i in range(n):
        paid = start + rng.randrange(0, 12 * 3600)
        buyer = f"{prefix}{i}" if rng.random() < 0.2 else None
        out.append((buyer, paid, rng.randrange(1000, 50000)))
    return out


def write_day_export(path, rows: list[tuple[str, str, int, int]]) -> None:
    """A Taobao order export (GBK, as the shop downloads it) of (order id, buyer, paid
    at, fen) rows: paid, waiting to be shipped."""
    def local(t: int) -> str:
        return dt.datetime.fromtimestamp(t, TZ).strftime("%Y-%m-%d %H:%M:%S")

    with open(path, "w", encoding="gbk", newline="") as f:
        w = csv.writer(f)
        w.writerow(["订单编号", "买家会员名", "买家实际支付金额", "订单状态", "订单创建时间",
                    "订单付款时间", "宝贝标题", "宝贝总数量"])  # fmt: skip
        for oid, buyer, paid, fen in rows:
            w.writerow([f'="{oid}"', buyer, f"{fen / 100:.2f}", "买家已付款，等待卖家发货",
                        local(paid - 60), local(paid), "连衣裙", 1])  # fmt: skip


async def main(customers: int, orders: int, *, import_only: bool = False) -> None:
    src = await asyncio.to_thread(ensure_db, customers=customers, orders=orders)  # it runs a loop
    work = OUT / f"segments-bench-{customers}c-{orders}o.db"
    for suffix in ("", "-wal", "-shm"):
        (OUT / f"{work.name}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(src, work)
    today = local_today(TZ)
    yesterday = today - dt.timedelta(days=1)
    print(f"database: {customers:,} customers, {orders:,} orders ({work.name}); today {today}")

    db = await open_db(work)
    (n_customers,) = (await db.execute_fetchall("SELECT count(*) FROM customers"))[0]
    (n_orders,) = (await db.execute_fetchall("SELECT count(*) FROM orders"))[0]
    print(f"rows: {n_customers:,} customers, {n_orders:,} orders")

    if import_only:
        t0 = time.perf_counter()
        await segments.refresh_all(db, {}, TZ, today)
        print(f"full refresh, first time (all rows written): {time.perf_counter() - t0:.1f} s")
        await db.close()
        await import_a_day(work, n_customers, today)
        return
    t0 = time.perf_counter()
    await segments.refresh_all(db, {}, TZ, yesterday)
    first = time.perf_counter() - t0
    print(f"full refresh, first time (all rows written): {first:.1f} s")
    t0 = time.perf_counter()
    await segments.refresh_all(db, {}, TZ, today)
    daily = time.perf_counter() - t0
    print(
        f"daily refresh, next day (orders of the customers due read, changed rows written): "
        f"{daily:.1f} s"
    )
    t0 = time.perf_counter()
    await segments.refresh_all(db, {}, TZ, today, full=True)
    recompute = time.perf_counter() - t0
    print(f"full recompute from every order, same day (changed rows written): {recompute:.1f} s")
    sql_cells = dict(
        await db.execute_fetchall("SELECT id, rfm_cell FROM customers WHERE rfm_cell IS NOT NULL")
    )
    await db.close()

    ref, pandas_s = pandas_cells(str(work), today)
    same = ref == sql_cells
    print(
        f"pandas reference (read orders + RFM cells only): {pandas_s:.1f} s; "
        f"cells identical to SQL: {same} ({len(ref):,} customers)"
    )
    print(
        f"speed-up of the refresh (cells + classes + ABC + price + CLV) over pandas: "
        f"first {pandas_s / first:.1f}x, daily {pandas_s / daily:.1f}x, "
        f"full recompute {pandas_s / recompute:.1f}x"
    )

    answer = await segments_answer(work)
    print(f"/segments answer (median of 3, through the Application): {answer * 1000:.0f} ms")
    await import_a_day(work, n_customers, today)


#: days' imports in a row (each a new day's orders, on the archive the last one left)
IMPORTS = 3


def drop_cached_pages(path) -> None:
    """Make the system forget the cached pages of the database and its log, as after a
    reboot or a long idle spell (this VM gives back idle file cache within a minute), so
    that the next import reads the archive from disk."""
    for name in (str(path), f"{path}-wal"):
        try:
            fd = os.open(name, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


async def import_a_day(work, n_customers: int, today: dt.date) -> None:
    """Import a day's 10,000 orders, first with the archive's file out of the system's
    cache (cold), then IMPORTS times in a row; print each time, its incremental segment
    refresh's share, and the median of the ones in a row."""
    db = await open_db(work)
    spent: list[float] = []
    real = segments.refresh_touched

    async def timed(db_, *, now: int) -> bool:
        t = time.perf_counter()
        try:
            return await real(db_, now=now)
        finally:
            spent.append(time.perf_counter() - t)

    totals = []
    segments.refresh_touched = timed  # type: ignore[assignment]
    try:
        for k in range(IMPORTS + 1):
            ids = [r[0] for r in await db.execute_fetchall(
                "SELECT buyer_id FROM customers ORDER BY random() LIMIT 10000"
            )]  # fmt: skip
            rng = random.Random(3 + k)
            days = days_orders(10_000, n_customers, today, seed=7 + k, prefix=f"bench-new{k}-")
            rows = [
                (f"{k}{i:07d}", buyer or rng.choice(ids), paid, fen)
                for i, (buyer, paid, fen) in enumerate(days)
            ]
            export = work.with_name(f"bench-day-{k}.csv")
            write_day_export(export, rows)
            await checkpoints_done()  # the last import's log copy, as a day later
            if k == 0:
                drop_cached_pages(work)
            t0 = time.perf_counter()
            summary = await import_file(db, export, tz=TZ)  # what `kefu import FILE` does
            totals.append(time.perf_counter() - t0)
            assert summary.orders_new == len(rows), summary
            export.unlink()
            what = "archive not in the file cache" if k == 0 else f"{k} of {IMPORTS} in a row"
            print(
                f"import of a day's 10,000 orders ({what}): {totals[-1]:.2f} s, "
                f"of which the incremental segment refresh {spent[-1]:.2f} s"
            )
    finally:
        segments.refresh_touched = real  # type: ignore[assignment]
        await checkpoints_done()
        await db.close()
    median = statistics.median(totals[1:])
    print(
        f"import of a day's 10,000 orders: cold {totals[0]:.2f} s; "
        f"in a row, median of {IMPORTS}: {median:.2f} s"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--orders", type=int, default=10_000_000)
    p.add_argument(
        "--import-only", action="store_true",
        help="only the full refresh as of today and the import of a day's orders",
    )  # fmt: skip
    a = p.parse_args()
    asyncio.run(main(a.customers, a.orders, import_only=a.import_only))
