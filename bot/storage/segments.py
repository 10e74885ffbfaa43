"""SQL for segmentation: RFM, value classes, ABC and price sensitivity for a whole shop.

The rules are the pure reference functions in ``bot.domain`` (rfm, value_classes,
abc, clv, price_sensitivity); this module computes the same results in bulk and
``tests/test_segments_storage.py`` proves they agree.

How a refresh works
    1. **Per customer** (one GROUP BY pass over the counted orders): the shop-local day
       of the last counted purchase (``rfm_last_day``), F and M over the window, and
       the price-sensitivity figures. Shop-local days are computed in SQL as
       ``(paid_at + offset) / 86400`` where the offset is a CASE over the time zone's
       UTC-offset changes, found in Python (exact for zones with daylight saving).
    2. **Shop-wide** (over the ``customers`` table, not the orders): R/F/M levels or
       SPSS scores, the cell, the value class against the shop's average, ABC from
       the spend ranking (window functions). Only rows whose values change are written.

What is exact when
    * :func:`refresh_all` (the daily job, and on demand when the stored as-of day is
      not today or the configuration changed) recomputes everything as of today,
      including the CLV and Pareto figures in ``segment_state``. When the stored fields
      come from a refresh with the same rules, step 1 reads only the orders of the
      customers that are due (:func:`_due`): each customer stores the inputs of group
      CLV and the next day on which the calendar alone changes its figures (migration
      0008), an import marks the customers it could not refresh as unknown, and a
      purchase paid after the last refresh makes its buyer due. Otherwise (or with
      ``full``) step 1 reads every order. Step 2 then re-derives only where something
      can change, as after an import (below), plus the customers whose recency crossed
      a tier cut or the class threshold as the calendar moved. Without usable stored
      fields (the first refresh, changed rules; tier mode) the thresholds and ABC cuts
      come from the pass and every customer is written once, own and derived fields
      together. When most customers change the segment indexes are dropped for the
      writes and built again.
    * :func:`refresh_touched` (called by the order import for the customers it
      touched, in the import's transaction) recomputes step 1 for those customers
      and step 2 where it can change: the shop's sums are recomputed exactly, then
      classes and ABC are re-derived for the changed customers, those between the
      old and new value-class thresholds and those between the old and new ABC cuts
      (score mode re-derives the whole shop). So cells, classes, ABC and scores are
      again exactly what a full refresh would give. This relies on the stored fields
      being what the last refresh derived (only refreshes write them). The CLV
      figures stay as of the last full refresh (they are yearly figures). When the
      stored as-of day is not today it does nothing: the next reader or the daily
      job refreshes in full.

Everything is as of a day: orders paid after it (shop-local) do not exist yet, for
price sensitivity too. Customers with no counted order (as of the day) have no cell,
class, ABC or score (NULL); their price level is ``unknown``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import datetime as dt
import functools
import json
import math
import os
import shutil
import sqlite3
import tempfile
import time
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite

from bot.domain.abc import ParetoSummary, _as_share
from bot.domain.clv import CLVRefusal, GroupCLV
from bot.domain.price_sensitivity import is_promotion_day
from bot.domain.segment_config import SegmentConfig, from_dict
from bot.domain.segments_report import (
    KINDS,
    CLVBucket,
    Kind,
    clv_from_buckets,
    day_from_number,
    day_number,
)
from bot.domain.value_classes import ValueClass, ValueThresholds
from bot.storage.db import MMAP, ArchiveBusy, begin_write, drop_indexes, file_path


def counted_sql(alias: str = "") -> str:
    """SQL: the order counts as a purchase (paid, shipped or completed, not refunded in
    full). Written with OR: SQLite tests a short IN list at a higher cost (an aggregate
    over a million orders that tests it eight times a row: 2.0-2.3 -> 1.6-2.0 s)."""
    a = f"{alias}." if alias else ""
    return (
        f"(({a}status = 'completed' OR {a}status = 'shipped' OR {a}status = 'paid') "
        f"AND {a}amount_paid_fen > {a}refunded_fen)"
    )


COUNTED_WHERE = f"{counted_sql('o')} AND o.paid_at IS NOT NULL"
LIFETIME = 1_000_000_000  # "window_days = all", in days
NEW_GROUP = "new"  # CLV group of customers who had no purchase a year ago
#: /audience field -> column of ``customers c`` (for bot.storage.audience_sql.compile_where)
AUDIENCE_COLUMNS: Mapping[str, str] = {
    "class": "c.value_class",
    "rfm": "c.rfm_cell",
    "abc": "c.abc_class",
    "price": "c.price_level",
}
_COLUMN = {"class": "value_class", "cell": "rfm_cell", "abc": "abc_class"}
_DERIVED = ("rfm_r", "rfm_f", "rfm_m", "rfm_cell", "rfm_score", "value_class", "abc_class")
_PRICE = (
    "price_level", "price_orders", "price_deal_orders", "price_off_fen", "price_list_fen",
    "price_net_fen", "price_promo_net_fen",
)  # fmt: skip


# ---------------------------------------------------------------------------
# Shop-local days in SQL


def _offset_changes(tz: ZoneInfo, start: int, end: int) -> list[tuple[int, int]]:
    """[(from_ts, utc_offset_s)] ascending over [start, end]; the first from_ts is start."""

    def off(ts: int) -> int:
        return int(dt.datetime.fromtimestamp(ts, tz).utcoffset().total_seconds())

    out = [(start, off(start))]
    step = 86400
    ts = start
    while ts < end:
        nxt = min(ts + step, end)
        if off(nxt) != out[-1][1]:
            lo, hi = ts, nxt  # off(lo) == current, off(hi) differs
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if off(mid) == out[-1][1]:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, off(hi)))
        ts = nxt
    return out


@functools.lru_cache(maxsize=16)
def _offsets(tz: ZoneInfo, year: int) -> tuple[tuple[int, int], ...]:
    """The UTC-offset changes of ``tz`` from 2000 to the end of ``year`` + 2 (cached)."""
    start = int(dt.datetime(2000, 1, 1, tzinfo=dt.UTC).timestamp())
    end = int(dt.datetime(year + 2, 12, 31, tzinfo=dt.UTC).timestamp())
    return tuple(_offset_changes(tz, start, end))


def local_day_sql(column: str, tz: ZoneInfo, params: dict[str, Any], today: dt.date) -> str:
    """SQL for the shop-local day number of a UTC unix-seconds ``column``.

    Exact from 2000 to two years after ``today`` (offset changes found in Python and
    passed as parameters); times before 2000 use the offset of 2000. A zone without
    changes in that span (Asia/Shanghai) costs one addition per order.
    """
    changes = _offsets(tz, today.year)
    if len(changes) == 1:
        params["tz_o0"] = changes[0][1]
        return f"(({column} + :tz_o0) / 86400)"
    # newest first: recent orders leave the CASE at its first test
    parts = []
    for i, (ts, offset) in enumerate(reversed(changes[1:])):
        params[f"tz_t{i}"], params[f"tz_o{i}"] = ts, offset
        parts.append(f"WHEN {column} >= :tz_t{i} THEN :tz_o{i}")
    params["tz_base"] = changes[0][1]
    return f"(({column} + CASE {' '.join(parts)} ELSE :tz_base END) / 86400)"


def _after_sql(x: int, tz: ZoneInfo, params: dict[str, Any], today: dt.date) -> str:
    """SQL (0/1): the shop-local day of ``o.paid_at`` is after day number ``x``.

    In a zone with one UTC offset this is a comparison of paid_at with the first second
    of day x + 1 (no per-order arithmetic); otherwise the local day is computed."""
    changes = _offsets(tz, today.year)
    if len(changes) == 1 and x >= 0:  # (paid_at + off) / 86400 > x  <=>  paid_at >= bound
        return str((x + 1) * 86400 - changes[0][1]).join(("(o.paid_at >= ", ")"))
    return f"({local_day_sql('o.paid_at', tz, params, today)} > {x})"


def _promo_bits(cfg: SegmentConfig, today: dt.date) -> bytes:
    """One byte per day from 2000-01-01 to the end of next year but one: 1 on promotion days."""
    first, last = dt.date(2000, 1, 1), dt.date(today.year + 2, 12, 31)
    return _promo_bits_cached(cfg.price_sensitivity, first, last)


@functools.lru_cache(maxsize=4)
def _promo_bits_cached(ps: Any, first: dt.date, last: dt.date) -> bytes:
    out = bytearray()
    day = first
    while day <= last:
        out.append(1 if is_promotion_day(day, ps) else 0)
        day += dt.timedelta(days=1)
    return bytes(out)


# ---------------------------------------------------------------------------
# Step 1: per-customer aggregates

#: The per-order counts are added up as one integer (fields of this many bits): each
#: aggregate costs about as much as the arithmetic of a row. Exact while a customer has
#: fewer than 2**COUNT_BITS counted orders (checked after the pass, which is redone with
#: one sum per count otherwise). Sums of money are not packed: one customer can spend
#: more than 2**31 fen.
COUNT_BITS = 21
_AGG_COLUMNS = (
    "rfm_last_day", "rfm_first_day", "rfm_frequency", "rfm_monetary_fen", "y1_spend",
    "y2_n", "ya_last_day", "ya_frequency", "ya_monetary_fen", "p_n", "p_deal", "p_off",
    "p_list", "p_net", "p_promo", "next_day",
)  # fmt: skip
#: "never" for seg_next_day: nothing of the customer changes with the calendar alone
NEVER = 1 << 40


def _aggregate_sql(
    cfg: SegmentConfig,
    tz: ZoneInfo,
    today: dt.date,
    p: dict[str, Any],
    *,
    where: str,
    price: bool,
    clv: bool,
    pack: bool,
) -> str:
    """SELECT of the _AGG_COLUMNS (NULL where not asked for) grouped by customer, in
    customer order, over the counted orders ``o`` that also satisfy ``where``."""
    t = day_number(today)
    w = cfg.window_days or LIFETIME
    ya = t - 365
    d = local_day_sql("o.paid_at", tz, p, today)
    net = "(o.amount_paid_fen - o.refunded_fen)"
    off = "(o.discount_fen + o.coupon_fen)"
    in_w = _after_sql(t - w, tz, p, today)  # counted orders are on or before today
    before_ya = f"(1 - {_after_sql(ya, tz, p, today)})"
    in_ya_w = f"({before_ya} * {_after_sql(ya - w, tz, p, today)})"
    in_y1 = in_w if w == 365 else _after_sql(t - 365, tz, p, today)
    # inner aggregates (name -> SQL) and the outer columns made from them; the day of
    # the latest time is the latest day (one conversion per customer) where the zone has
    # one UTC offset, otherwise the days are compared
    fixed = len(_offsets(tz, today.year)) == 1
    at = "o.paid_at" if fixed else d

    def day(col: str) -> str:
        return local_day_sql(col, tz, p, today) if fixed else col

    agg: dict[str, str] = {"last_at": f"max({at})"}
    out: dict[str, str] = {"rfm_last_day": day("last_at")}
    counts: list[tuple[str, str]] = [("rfm_frequency", in_w)]  # (column, 0/1 per order)
    money: list[tuple[str, str]] = [("rfm_monetary_fen", in_w)]  # (column, 0/1 weight of net)
    if clv:
        agg["first_at"] = f"min({at})"
        agg["ya_last_at"] = f"max(CASE WHEN {before_ya} THEN {at} END)"
        out["rfm_first_day"] = day("first_at")
        out["ya_last_day"] = day("ya_last_at")
        # bought in the year before a year ago: the last purchase up to then is in it
        out["y2_n"] = "ya_last_at IS NOT NULL AND " + out["ya_last_day"] + f" > {ya - 365}"
        counts.append(("ya_frequency", in_ya_w))
        money.append(("ya_monetary_fen", in_ya_w))
        if w != 365:
            money.append(("y1_spend", in_y1))
        # the first day after today on which a figure changes with the calendar alone: an
        # order of day d leaves the window on d + w, becomes a year old on d + 365, leaves
        # the year-ago window on d + 365 + w and the year before that on d + 730. For each
        # such k, the earliest order still short of it decides.
        nexts = []
        for k in sorted({w, 365, 365 + w, 730}):
            if k >= LIFETIME:
                continue
            agg[f"nx{k}"] = f"min(CASE WHEN {_after_sql(t - k, tz, p, today)} THEN {at} END)"
            nexts.append(f"coalesce({day(f'nx{k}')} + {k}, {NEVER})")
        out["next_day"] = f"min({', '.join(nexts)}, {NEVER})"
    if price:
        p["promo_bits"] = _promo_bits(cfg, today)
        p["promo_base"] = day_number(dt.date(2000, 1, 1)) - 1
        agg["p_n"] = "count(*)"
        agg["p_off"] = f"sum({off})"
        agg["p_list"] = f"sum(o.amount_paid_fen + {off})"
        agg["p_net"] = f"sum({net})"
        counts.append(("p_deal", f"({off} > 0)"))
        money.append(("p_promo", f"(substr(:promo_bits, max({d} - :promo_base, 0), 1) = x'01')"))
        out.update(p_n="p_n", p_off="p_off", p_list="p_list", p_net="p_net")
    pack = pack and price  # the checks need p_n and p_net
    # fields per packed sum: the top field may use all but the sign bit
    for group, items, bits, per, factor in (
        ("counts", counts, COUNT_BITS, 3, "1"), ("money", money, 0, 1, net),
    ):  # fmt: skip
        chunks = [items[i : i + per] for i in range(0, len(items), per)] if pack else []
        for k, chunk in enumerate(chunks if pack else [[item] for item in items]):
            if len(chunk) == 1:
                name, flag = chunk[0]
                agg[name] = f"sum({flag} * {factor})" if factor != "1" else f"sum({flag})"
                out[name] = name
                continue
            mask = (1 << bits) - 1
            terms = " + ".join(f"({flag} << {bits * i})" for i, (_, flag) in enumerate(chunk))
            agg[f"{group}{k}"] = f"sum(({terms}) * {factor})"
            for i, (name, _) in enumerate(chunk):
                out[name] = f"(({group}{k} >> {bits * i}) & {mask})"
    if clv and w == 365:
        out["y1_spend"] = out["rfm_monetary_fen"]
    inner = ", ".join(f"{expr} AS {name}" for name, expr in agg.items())
    cols = ", ".join(out.get(c, "NULL") for c in _AGG_COLUMNS)
    return (
        f"SELECT cid, {cols} FROM (SELECT o.customer_id AS cid, {inner} FROM orders o "
        f"WHERE {COUNTED_WHERE} AND NOT {_after_sql(t, tz, p, today)}{where} "
        "GROUP BY o.customer_id)"
    )


async def _aggregate(
    db: aiosqlite.Connection,
    cfg: SegmentConfig,
    tz: ZoneInfo,
    today: dt.date,
    *,
    only: str | None = None,
    price: bool = True,
    clv: bool = False,
    scratch: Scratch | None = None,
) -> None:
    """temp.seg_agg: one row per customer with a counted order paid on or before ``today``
    (of the customers in the table ``only``, when given).

    One pass over the covering index ``orders_by_customer``. Window tests are
    comparisons of paid_at with the first second of a shop-local day where the zone
    allows, the shop-local day itself is computed per customer (of the last purchase),
    and several sums are packed into one (see COUNT_BITS). With ``scratch`` (only at
    the start of a transaction that has written nothing) a full pass runs in two halves
    at once.
    """
    where = f" AND o.customer_id IN (SELECT id FROM {only})" if only else ""
    await db.execute("DROP TABLE IF EXISTS temp.seg_agg")
    await db.execute(
        f"CREATE TEMP TABLE seg_agg (cid INTEGER PRIMARY KEY, {', '.join(_AGG_COLUMNS)})"
    )
    split = await _split_point(db, scratch.orders) if scratch is not None and not only else None
    for pack in (True, False):
        p: dict[str, Any] = {}
        sql = _aggregate_sql(cfg, tz, today, p, where=where, price=price, clv=clv, pack=pack)
        if split is None:
            await db.execute(f"INSERT INTO temp.seg_agg {sql}", p)
        else:
            await _aggregate_in_two(db, sql, p, split, scratch)
        if not pack or not price:
            return
        (n,) = await _one(db, "SELECT max(p_n) FROM temp.seg_agg")
        if (n or 0) < 1 << COUNT_BITS:  # each packed count is at most p_n
            return
        await db.execute("DELETE FROM temp.seg_agg")


#: A full pass over at least this many orders runs in two halves at once (two cores).
PARALLEL_MIN_ORDERS = 1_000_000
_SCRATCH = "seg_scratch"


@dataclass
class Scratch:
    """Scratch files for the second half of a parallel pass (see _aggregate), one per pass."""

    dir: str
    db_path: str
    orders: int  # rows of the orders table (its largest rowid)
    passes: int = 0

    def next_path(self) -> str:
        self.passes += 1
        return os.path.join(self.dir, f"pass{self.passes}.db")


async def _scratch_for(db: aiosqlite.Connection) -> Scratch | None:
    """A scratch directory when a full pass may run in two halves: the database is a file
    (a second connection can read it) and large enough to be worth it."""
    (size,) = await _one(db, "SELECT coalesce(max(rowid), 0) FROM orders")
    if size < PARALLEL_MIN_ORDERS:
        return None
    main = await file_path(db)
    if not main:
        return None
    return Scratch(tempfile.mkdtemp(prefix="kefu-seg-"), main, size)


async def _drop_scratch(db: aiosqlite.Connection, scratch: Scratch | None) -> None:
    """Detach the scratch files (only possible after the transaction) and delete them."""
    if scratch is None:
        return
    try:
        for n in range(1, scratch.passes + 1):
            with contextlib.suppress(sqlite3.OperationalError):  # not attached
                await db.execute(f"DETACH DATABASE {_SCRATCH}{n}")
    finally:
        shutil.rmtree(scratch.dir, ignore_errors=True)


async def _split_point(db: aiosqlite.Connection, size: int) -> int:
    """The customer id at about half of the ``size`` orders (in customer order)."""
    row = await _one(
        db,
        "SELECT customer_id FROM orders INDEXED BY orders_by_customer ORDER BY customer_id "
        "LIMIT 1 OFFSET ?",
        (size // 2,),
    )
    return row[0] if row is not None else 0


def _aggregate_half(scratch: Scratch, path: str, sql: str, params: dict[str, Any]) -> None:
    """The second half of a pass, on a connection of its own (run in a worker thread): the
    scratch file is its main database (the only one it writes, so it never waits for the
    refresh's write lock) and the shop's database is attached read-only, as last committed."""
    con = sqlite3.connect(path, isolation_level=None, uri=True)
    try:
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.execute("PRAGMA temp_store = MEMORY")
        con.execute("PRAGMA cache_size = -65536")
        shop = "file:" + urllib.parse.quote(scratch.db_path) + "?mode=ro"
        con.execute("ATTACH DATABASE ? AS shop", (shop,))
        con.execute(MMAP.replace("PRAGMA ", "PRAGMA shop."))
        con.execute(f"CREATE TABLE seg_agg (cid INTEGER PRIMARY KEY, {', '.join(_AGG_COLUMNS)})")
        con.execute(
            f"INSERT INTO seg_agg {sql.replace(' FROM orders o ', ' FROM shop.orders o ')}", params
        )
    finally:
        con.close()


async def _aggregate_in_two(
    db: aiosqlite.Connection, sql: str, p: dict[str, Any], split: int, scratch: Scratch
) -> None:
    """temp.seg_agg from ``sql`` (a SELECT ... GROUP BY customer over ``orders o``): the
    customers below ``split`` on this connection, the others at the same time on a second
    one (SQLite releases the GIL while it steps; WAL lets both read). Only before this
    transaction has written anything: the second connection sees the last commit."""
    low = sql.replace(
        " GROUP BY o.customer_id", " AND o.customer_id < :split GROUP BY o.customer_id"
    )
    high = low.replace("o.customer_id < :split", "o.customer_id >= :split")
    p = {**p, "split": split}
    path = scratch.next_path()
    await asyncio.gather(
        db.execute(f"INSERT INTO temp.seg_agg {low}", p),
        asyncio.to_thread(_aggregate_half, scratch, path, high, p),
    )
    name = f"{_SCRATCH}{scratch.passes}"
    await db.execute(f"ATTACH DATABASE ? AS {name}", (path,))
    await db.execute(f"INSERT INTO temp.seg_agg SELECT * FROM {name}.seg_agg")


def _price_level_sql(cfg: SegmentConfig, p: dict[str, Any]) -> str:
    """The verdict of bot.domain.price_sensitivity, in integers, over temp.seg_agg a."""
    ps = cfg.price_sensitivity
    p["ps_min"] = ps.min_orders
    measures = (
        ("deal", "a.p_deal", "a.p_n", ps.deal_share),
        ("depth", "a.p_off", "a.p_list", ps.discount_depth),
        ("promo", "a.p_promo", "a.p_net", ps.promo_spend_share),
    )
    highs, mediums = [], []
    for name, num, den, (medium, high) in measures:
        for level, frac, acc in (("med", medium, mediums), ("high", high, highs)):
            p[f"ps_{name}_{level}_n"], p[f"ps_{name}_{level}_d"] = (
                frac.numerator,
                frac.denominator,
            )
            acc.append(f"({num} * :ps_{name}_{level}_d >= {den} * :ps_{name}_{level}_n)")
    return (
        "CASE WHEN coalesce(a.p_n, 0) < :ps_min THEN 'unknown' "
        f"WHEN {' + '.join(highs)} >= 2 THEN 'high' "
        f"WHEN {' + '.join(mediums)} = 0 THEN 'low' ELSE 'medium' END"
    )


#: the stored inputs of group CLV and of the daily refresh (migration 0008) <- seg_agg
_INPUTS = {
    "seg_first_day": "a.rfm_first_day", "seg_ya_last_day": "a.ya_last_day",
    "seg_ya_frequency": "a.ya_frequency", "seg_ya_monetary_fen": "a.ya_monetary_fen",
    "seg_y1_spend_fen": "a.y1_spend", "seg_y2_n": "a.y2_n",
    "seg_next_day": f"coalesce(a.next_day, {NEVER})",
}  # fmt: skip


async def _apply_per_customer(
    db: aiosqlite.Connection,
    cfg: SegmentConfig,
    as_of: dt.date,
    *,
    only: str | None,
    inputs: bool,
    many: float | None = None,
    guess: Derivation | None = None,
    counts: Counts | None = None,
) -> list[str]:
    """Write step 1 into customers (all, or those in the table ``only``); changed rows only.

    With ``inputs`` (temp.seg_agg holds the CLV figures and next days) the stored inputs
    are written too; without, they are cleared, so the next full refresh recomputes them.
    With ``many``, when more than that share of the customers changed, the segment
    indexes are dropped before the write (see :func:`bot.storage.db.drop_indexes`); returns the
    SQL to create them again (empty when none were dropped).

    With ``guess`` the derived fields are written too (see :class:`Derivation`). With
    ``counts``, the customers' moves between classes, cells and levels are added to it."""
    p: dict[str, Any] = {"as_of": as_of.isoformat(), "t": day_number(as_of)}
    level = _price_level_sql(cfg, p)
    own = ("rfm_last_day", "rfm_frequency", "rfm_monetary_fen", *_PRICE, *_INPUTS)
    where = f" WHERE c.id IN (SELECT id FROM {only})" if only else ""
    changed = " OR ".join(f"{c} IS NOT old_{c}" for c in own)
    if guess is not None and guess.exact:
        changed = "1"  # the derived fields may change anywhere: every row
    await db.execute("DROP TABLE IF EXISTS temp.seg_pc")
    await db.execute(
        "CREATE TEMP TABLE seg_pc AS SELECT * FROM (SELECT c.id AS id, "
        "a.rfm_last_day AS rfm_last_day, a.rfm_frequency AS rfm_frequency, "
        "a.rfm_monetary_fen AS rfm_monetary_fen, "
        f"{level} AS price_level, coalesce(a.p_n, 0) AS price_orders, "
        "coalesce(a.p_deal, 0) AS price_deal_orders, coalesce(a.p_off, 0) AS price_off_fen, "
        "coalesce(a.p_list, 0) AS price_list_fen, coalesce(a.p_net, 0) AS price_net_fen, "
        "coalesce(a.p_promo, 0) AS price_promo_net_fen, "
        + ", ".join(f"{expr if inputs else 'NULL'} AS {c}" for c, expr in _INPUTS.items())
        + ", c.buyer_id AS buyer_id, c.platform AS platform, "
        + ", ".join(f"c.{c} AS old_{c}" for c in own)
        + f" FROM customers c LEFT JOIN temp.seg_agg a ON a.cid = c.id{where}) WHERE {changed}",
        p,
    )
    dropped: list[str] = []
    if many is not None:
        (changed_n,) = await _one(db, "SELECT count(*) FROM temp.seg_pc")
        (customers,) = await _one(db, "SELECT coalesce(max(rowid), 0) FROM customers")
        if changed_n > customers * many:
            dropped = await drop_indexes(db, "customers", SEGMENT_INDEXES)
    # with the indexes in place, the price level (and its index entry) is written only
    # where it changes: most customers an import touches keep theirs
    split_price = not dropped
    sets = ", ".join(f"{c} = s.{c}" for c in own if not (split_price and c == "price_level"))
    src = "temp.seg_pc"
    if guess is None:
        # derived fields are recomputed by the shop-wide step; here they go when RFM goes
        derived = {c: c for c in _DERIVED}
    else:
        r, f, m, klass = _level_class_sql(cfg, guess.th, p)
        cut_a, cut_b = guess.cuts or (
            await _old_cut(db, ("A",), guess.old_cuts),
            await _old_cut(db, ("A", "B"), guess.old_cuts),
        )
        abc = _abc_sql(cut_a, cut_b, p)
        src = (
            f"(SELECT *, {r} AS g_r, {f} AS g_f, {m} AS g_m, {klass} AS g_class, {abc} AS g_abc "
            "FROM temp.seg_pc)"
        )
        derived = {
            "rfm_r": "s.g_r", "rfm_f": "s.g_f", "rfm_m": "s.g_m",
            "rfm_cell": _cell_sql("s.g_r", "s.g_f", "s.g_m"), "rfm_score": "NULL",
            "value_class": "s.g_class", "abc_class": "s.g_abc",
        }  # fmt: skip
    clear = ", ".join(
        f"{c} = CASE WHEN s.rfm_last_day IS NULL THEN NULL ELSE {expr} END"
        for c, expr in derived.items()
    )
    async with _counting(db, counts, "temp.seg_pc"):
        await db.execute(
            f"UPDATE customers SET {sets}, {clear}, segments_as_of = :as_of "
            f"FROM {src} s WHERE customers.id = s.id",
            p,
        )
        if split_price:
            await db.execute(
                "UPDATE customers SET price_level = s.price_level FROM temp.seg_pc s "
                "WHERE customers.id = s.id AND customers.price_level IS NOT s.price_level"
            )
    return dropped


@dataclass(frozen=True)
class Derivation:
    """Derived fields (levels, cell, class, ABC; tier mode) written by step 1 itself.

    ``exact``: ``th`` and ``cuts`` are the new ones (computed from temp.seg_agg before
    the write): every customer is written once and the shop-wide step is not needed.
    Otherwise ``th`` is the stored thresholds and the cuts are found among the customers
    step 1 leaves alone: most guesses are right, and the shop-wide step then rewrites
    only the rows whose new thresholds and cuts differ, so each row and index entry is
    mostly written once, not twice.
    """

    th: ValueThresholds | None
    exact: bool = False
    cuts: Cuts | None = None
    #: the ABC cuts the last refresh stored (None: not known), where the search for the
    #: cuts among the customers step 1 leaves alone starts
    old_cuts: Cuts | None = None


#: The indexes on customers' segment fields. Writing most customers' rows (the first
#: refresh of a shop, a change of rules) costs less with them dropped and built again.
SEGMENT_INDEXES = ("customers_seg_rank",)
#: ... when more than this share of the customers' own fields changed
DROP_INDEXES_SHARE = 0.2


# ---------------------------------------------------------------------------
# Step 2: shop-wide (levels or scores, cells, value classes, ABC)

# a source is a table or sub-query with: id, buyer_id, platform, rfm_last_day,
# rfm_frequency, rfm_monetary_fen -- only customers that have RFM
# (the customers source carries the stored values so only changed rows are written; its
# sums, spend order and cuts are answered from the covering index customers_seg_rank)
CUSTOMERS_SOURCE = (
    "(SELECT id, buyer_id, platform, rfm_last_day, rfm_frequency, rfm_monetary_fen, "
    "rfm_cell AS old_cell, rfm_score AS old_score, value_class AS old_class, "
    "abc_class AS old_abc FROM customers WHERE rfm_last_day IS NOT NULL)"
)
#: the same read from the table: the covering index lacks the stored score, so a pass
#: over every customer reads the rows in order
CUSTOMERS_TABLE_SOURCE = CUSTOMERS_SOURCE.replace("FROM customers ", "FROM customers NOT INDEXED ")
AGG_SOURCE = (
    "(SELECT c.id, c.buyer_id, c.platform, a.rfm_last_day, a.rfm_frequency, a.rfm_monetary_fen, "
    "NULL AS old_cell, NULL AS old_score, NULL AS old_class, NULL AS old_abc "
    "FROM temp.seg_agg a JOIN customers c ON c.id = a.cid WHERE a.rfm_last_day IS NOT NULL)"
)
YEAR_AGO_SOURCE = (  # for the year-ago averages only (no ranking, so no buyer ids)
    "(SELECT seg_ya_last_day AS rfm_last_day, seg_ya_frequency AS rfm_frequency, "
    "seg_ya_monetary_fen AS rfm_monetary_fen FROM customers NOT INDEXED "
    "WHERE seg_ya_last_day IS NOT NULL)"
)


async def _one(db: aiosqlite.Connection, sql: str, params: Any = ()) -> Any:
    async with db.execute(sql, params) as cur:
        return await cur.fetchone()


async def _sums(db: aiosqlite.Connection, src: str, today: dt.date) -> tuple[int, int, int, int]:
    """(customers, sum of R days, sum of F, sum of M) over ``src``."""
    n, r_sum, f_sum, m_sum = await _one(
        db,
        "SELECT count(*), sum(:t - rfm_last_day), sum(rfm_frequency), sum(rfm_monetary_fen) "
        f"FROM {src}",
        {"t": day_number(today)},
    )
    return n, r_sum or 0, f_sum or 0, m_sum or 0


@dataclass(frozen=True)
class Sums:
    """The shop's sums over the customers with RFM, independent of the day: count, sum of
    the last-purchase day numbers, of F and of M (stored with the state, so an import
    adds its changes instead of reading every customer)."""

    n: int
    last_days: int
    f: int
    m: int

    def plus(self, delta: Any) -> Sums:
        return Sums(*(a + (b or 0) for a, b in zip(self.astuple(), delta, strict=True)))

    def astuple(self) -> tuple[int, int, int, int]:
        return (self.n, self.last_days, self.f, self.m)

    def as_of(self, t: int) -> tuple[int, int, int, int]:
        """(customers, sum of R days, sum of F, sum of M) as of day number ``t``."""
        return self.n, self.n * t - self.last_days, self.f, self.m

    @staticmethod
    def from_day(sums: tuple[int, int, int, int], t: int) -> Sums:
        n, r_sum, f_sum, m_sum = sums
        return Sums(n, n * t - r_sum, f_sum, m_sum)


#: what temp.seg_pc (new and old own fields of the changed customers) adds to Sums
_SUMS_DELTA = (
    "SELECT count(rfm_last_day) - count(old_rfm_last_day), "
    + ", ".join(
        f"coalesce(sum({c}), 0) - coalesce(sum(old_{c}), 0)"
        for c in ("rfm_last_day", "rfm_frequency", "rfm_monetary_fen")
    )
    + " FROM temp.seg_pc"
)


async def thresholds(
    db: aiosqlite.Connection,
    src: str,
    cfg: SegmentConfig,
    today: dt.date,
    sums: tuple[int, int, int, int] | None = None,
) -> ValueThresholds | None:
    """The value-class thresholds over ``src`` (None when no customer has RFM)."""
    vc = cfg.value_classes
    t = day_number(today)
    n, r_sum, f_sum, m_sum = sums or await _sums(db, src, today)
    if vc.average == "fixed":
        return ValueThresholds(
            "fixed", Fraction(vc.recency_days), Fraction(vc.frequency_orders),
            Fraction(vc.monetary_fen), 0,
        )  # fmt: skip
    if not n:
        return None
    if vc.average == "mean":
        return ValueThresholds(
            "mean", Fraction(r_sum, n), Fraction(f_sum, n), Fraction(m_sum, n), n
        )
    medians = []
    for expr in (":t - rfm_last_day", "rfm_frequency", "rfm_monetary_fen"):
        take, offset = (1, (n - 1) // 2) if n % 2 else (2, n // 2 - 1)
        async with db.execute(
            f"SELECT {expr} AS v FROM {src} ORDER BY v LIMIT :k OFFSET :o",
            {"t": t, "k": take, "o": offset},
        ) as cur:
            values = [row[0] for row in await cur.fetchall()]
        medians.append(Fraction(sum(values), len(values)))
    return ValueThresholds("median", *medians, n)


def _class_bits_sql(th: ValueThresholds, p: dict[str, Any], prefix: str = "vc") -> str:
    """SQL: 4 * (R high) + 2 * (F high) + (M high) of the rfm_* columns against ``th``."""
    for name, frac in (("r", th.recency_days), ("f", th.frequency), ("m", th.monetary_fen)):
        p[f"{prefix}_{name}n"], p[f"{prefix}_{name}d"] = frac.numerator, frac.denominator
    return (
        f"((:t - rfm_last_day) * :{prefix}_rd <= :{prefix}_rn) * 4 "
        f"+ (rfm_frequency * :{prefix}_fd >= :{prefix}_fn) * 2 "
        f"+ (rfm_monetary_fen * :{prefix}_md >= :{prefix}_mn)"
    )


def _class_sql(th: ValueThresholds, p: dict[str, Any], prefix: str = "vc") -> str:
    bits = _class_bits_sql(th, p, prefix)
    whens = " ".join(
        f"WHEN {c.r_high * 4 + c.f_high * 2 + c.m_high} THEN '{c.code}'" for c in ValueClass
    )
    return f"CASE {bits} {whens} END"


def _cell_sql(r: str, f: str, m: str) -> str:
    """SQL: the RFM cell (R3F2M1) of level expressions ``r``, ``f``, ``m``."""
    return f"'R' || {r} || 'F' || {f} || 'M' || {m}"


def _level_class_sql(
    cfg: SegmentConfig, th: ValueThresholds | None, p: dict[str, Any]
) -> tuple[str, str, str, str]:
    """SQL of the rfm_* columns: R, F, M levels (or scores) and the value class."""
    r, f, m = _levels_sql(cfg, p)
    return r, f, m, (_class_sql(th, p) if th is not None else "NULL")


def _levels_sql(cfg: SegmentConfig, p: dict[str, Any]) -> tuple[str, str, str]:
    """SQL for the R, F, M levels (tier mode) or SPSS scores (score mode)."""
    if cfg.mode == "score":
        p["bins"] = cfg.score.bins

        def score(order: str) -> str:
            return (
                f"((2 * rank() OVER (ORDER BY {order}) + count(*) OVER (PARTITION BY {order}) - 1)"
                " * :bins) / (2 * (count(*) OVER () + 1)) + 1"
            )

        return score("rfm_last_day"), score("rfm_frequency"), score("rfm_monetary_fen")
    tiers = cfg.tiers

    def above(name: str, cuts: tuple[int, ...], value: str) -> str:
        terms = []
        for i, cut in enumerate(cuts):
            p[f"{name}{i}"] = cut
            terms.append(f"(:{name}{i} < {value})")
        return " + ".join(terms) or "0"

    r_above = above("rc", tiers.recency_days, ":t - rfm_last_day")
    r = f"({len(tiers.recency_days) + 1} - ({r_above}))"
    f = f"(1 + {above('fc', tiers.frequency_orders, 'rfm_frequency')})"
    m = f"(1 + {above('mc', tiers.monetary_fen, 'rfm_monetary_fen')})"
    return r, f, m


_RANKING = "rfm_monetary_fen DESC, buyer_id, platform"
#: a customer's place in the spend ranking: (M, buyer id, platform)
Key = tuple[int, str, str]
#: the last customers of class A and of class B (None: the class is empty)
Cuts = tuple[Key | None, Key | None]
#: (value thresholds, the sums as of the day: customers with RFM, R days, F, M, ABC cuts)
Shopwide = tuple[ValueThresholds | None, tuple[int, int, int, int], Cuts]


async def _shopwide(
    db: aiosqlite.Connection,
    src: str,
    cfg: SegmentConfig,
    today: dt.date,
    table: str,
    *,
    only_changed: bool = False,
) -> Shopwide:
    """temp.<table>(id, rfm_r, rfm_f, rfm_m, rfm_cell, rfm_score, value_class, abc_class).

    With ``only_changed``, only the rows whose values differ from the source's old_*
    columns. Returns (value thresholds, sums, ABC cuts).
    """
    p: dict[str, Any] = {"t": day_number(today)}
    sums = await _sums(db, src, today)
    th = await thresholds(db, src, cfg, today, sums)
    cut_a, cut_b = await _abc_cuts(db, src, cfg, sums[3])
    abc = _abc_sql(cut_a, cut_b, p)
    derive_src = CUSTOMERS_TABLE_SOURCE if src == CUSTOMERS_SOURCE else src
    await _derive(db, derive_src, cfg, p, th, table, abc, only_changed=only_changed)
    return th, sums, (cut_a, cut_b)


async def _abc_cuts(
    db: aiosqlite.Connection, src: str, cfg: SegmentConfig, total: int
) -> tuple[Key | None, Key | None]:
    """The last customers (in spend ranking) of class A and of class B over ``src``.

    A customer is in A while the spend ranked before it is under the A share of
    ``total`` (the one who crosses the line is in A), likewise B. One sorted read up to
    the B line: a running sum in SQL (a window function) cost four times as much.
    """
    a, b = cfg.abc.a_share, cfg.abc.b_share
    a_d, a_line = a.denominator, total * a.numerator
    b_d, b_line = b.denominator, total * b.numerator
    running, cut_a, cut_b = 0, None, None
    async with db.execute(
        f"SELECT rfm_monetary_fen, buyer_id, platform FROM {src} ORDER BY {_RANKING}"
    ) as cur:
        while (rows := await cur.fetchmany(20_000)) and running * b_d < b_line:
            for key in rows:
                if running * b_d >= b_line:
                    break
                if running * a_d < a_line:
                    cut_a = key
                cut_b = key
                running += key[0]
    return (tuple(cut_a) if cut_a else None), (tuple(cut_b) if cut_b else None)


async def _derive(
    db: aiosqlite.Connection,
    src: str,
    cfg: SegmentConfig,
    p: dict[str, Any],
    th: ValueThresholds | None,
    table: str,
    abc: str,
    *,
    only_changed: bool,
) -> None:
    """temp.<table> from ``src``: levels, cell, score, class, and ABC by ``abc``."""
    r, f, m, klass = _level_class_sql(cfg, th, p)
    score = "100 * r + 10 * f + m" if cfg.mode == "score" else "NULL"
    await db.execute(f"DROP TABLE IF EXISTS temp.{table}")
    changed = (
        " WHERE rfm_cell IS NOT old_cell OR rfm_score IS NOT old_score "
        "OR value_class IS NOT old_class OR abc_class IS NOT old_abc"
        if only_changed
        else ""
    )
    await db.execute(
        f"CREATE TEMP TABLE {table} AS SELECT * FROM ("
        f"SELECT id, r AS rfm_r, f AS rfm_f, m AS rfm_m, {_cell_sql('r', 'f', 'm')} AS rfm_cell, "
        f"{score} AS rfm_score, value_class, {abc} AS abc_class, "
        "old_cell, old_score, old_class, old_abc "
        f"FROM (SELECT id, {r} AS r, {f} AS f, {m} AS m, {klass} AS value_class, "
        "rfm_monetary_fen, buyer_id, platform, "
        f"old_cell, old_score, old_class, old_abc FROM {src})){changed} ORDER BY id",
        p,
    )  # in customer order: writing it back then goes through the table in order (4x faster)


# ---------------------------------------------------------------------------
# Step 2 after an import: only the customers whose derived fields can change
#
# Before it, every customer not changed by step 1 holds what the last refresh derived
# under the stored thresholds and ABC cuts. Cells (tier mode) depend on the customer
# alone; a class changes only for a changed customer or one whose R, F or M lies between
# the old and new threshold; ABC classes are prefixes of the spend ranking, so one
# changes only for a changed customer or one between the old and new cut, found by a
# walk over the spend index from the old cut. Score mode ranks everyone: full step 2.

_KEY_ROWS = (
    "SELECT id, rfm_monetary_fen, buyer_id, platform FROM customers "
    "WHERE rfm_last_day IS NOT NULL AND "
)
_WALK_CHUNK = 2000


async def _rows(db: aiosqlite.Connection, sql: str, params: Any) -> list[Any]:
    async with db.execute(sql, params) as cur:
        return list(await cur.fetchall())


async def _after(db: aiosqlite.Connection, key: Key | None) -> list[Any]:
    """The next customers in ranking order after ``key`` (from the top when None)."""
    if key is None:
        return await _rows(db, _KEY_ROWS + f"1 ORDER BY {_RANKING} LIMIT ?", (_WALK_CHUNK,))
    m, b, pl = key
    rows = await _rows(
        db,
        _KEY_ROWS + "rfm_monetary_fen = ? AND (buyer_id, platform) > (?, ?) "
        "ORDER BY buyer_id, platform LIMIT ?",
        (m, b, pl, _WALK_CHUNK),
    )
    if len(rows) < _WALK_CHUNK:
        rows += await _rows(
            db,
            _KEY_ROWS + f"rfm_monetary_fen < ? ORDER BY {_RANKING} LIMIT ?",
            (m, _WALK_CHUNK - len(rows)),
        )
    return rows


async def _before(db: aiosqlite.Connection, key: Key, inclusive: bool) -> list[Any]:
    """The customers ranked before ``key`` (and ``key`` when inclusive), nearest first."""
    m, b, pl = key
    op = "<=" if inclusive else "<"
    rows = await _rows(
        db,
        _KEY_ROWS + f"rfm_monetary_fen = ? AND (buyer_id, platform) {op} (?, ?) "
        "ORDER BY buyer_id DESC, platform DESC LIMIT ?",
        (m, b, pl, _WALK_CHUNK),
    )
    if len(rows) < _WALK_CHUNK:
        rows += await _rows(
            db,
            _KEY_ROWS + "rfm_monetary_fen > ? "
            "ORDER BY rfm_monetary_fen, buyer_id DESC, platform DESC LIMIT ?",
            (m, _WALK_CHUNK - len(rows)),
        )
    return rows


async def _old_cut(
    db: aiosqlite.Connection, classes: tuple[str, ...], stored: Cuts | None
) -> Key | None:
    """The last customer (in ranking) not changed by step 1 whose stored ABC is in ``classes``.

    ``stored``: the cuts the last refresh stored. Every customer ranked after the stored
    cut of the last class has another class, so the answer is the first unchanged one
    at or before it: a seek. Without them, a walk up from the bottom of the ranking."""
    unchanged = (
        "SELECT rfm_monetary_fen, buyer_id, platform FROM customers "
        "WHERE rfm_last_day IS NOT NULL "
        f"AND abc_class IN ({', '.join('?' * len(classes))}) "
        "AND id NOT IN (SELECT id FROM temp.seg_pc) AND "
    )
    if stored is None:
        row = await _one(
            db, unchanged + "1 ORDER BY rfm_monetary_fen, buyer_id DESC, platform DESC LIMIT 1",
            classes,
        )
        return None if row is None else (row[0], row[1], row[2])
    key = stored[len(classes) - 1]
    if key is None:
        return None
    m, b, pl = key
    row = await _one(
        db,
        unchanged + "rfm_monetary_fen = ? AND (buyer_id, platform) <= (?, ?) "
        "ORDER BY buyer_id DESC, platform DESC LIMIT 1",
        (*classes, m, b, pl),
    ) or await _one(
        db,
        unchanged + "rfm_monetary_fen > ? "
        "ORDER BY rfm_monetary_fen, buyer_id DESC, platform DESC LIMIT 1",
        (*classes, m),
    )
    return None if row is None else (row[0], row[1], row[2])


async def _new_cut(
    db: aiosqlite.Connection, k0: Key | None, d: int, line: int, visited: list[int]
) -> Key | None:
    """The last customer with (spend ranked before it) * d < line, walking from ``k0``.

    Appends to ``visited`` every customer ranked between ``k0`` and the new cut.
    """
    cut = k0
    if k0 is None:
        running = 0
    else:
        (running,) = await _one(
            db,
            "SELECT (SELECT coalesce(sum(rfm_monetary_fen), 0) FROM customers "
            "WHERE rfm_last_day IS NOT NULL AND rfm_monetary_fen > :km) + "
            "(SELECT coalesce(sum(rfm_monetary_fen), 0) FROM customers "
            "WHERE rfm_last_day IS NOT NULL AND rfm_monetary_fen = :km "
            "AND (buyer_id, platform) <= (:kb, :kp))",
            {"km": k0[0], "kb": k0[1], "kp": k0[2]},
        )
        if (running - k0[0]) * d >= line:  # the cut moved up: walk back
            key, inclusive = k0, True
            while True:
                rows = await _before(db, key, inclusive)
                if not rows:
                    return None
                for cid, m, b, pl in rows:
                    visited.append(cid)
                    running -= m  # now the spend ranked before this customer
                    if running * d < line:
                        return (m, b, pl)
                key, inclusive = (rows[-1][1], rows[-1][2], rows[-1][3]), False
    key = k0
    while True:
        rows = await _after(db, key)
        if not rows:
            return cut
        for cid, m, b, pl in rows:
            if running * d >= line:
                return cut
            visited.append(cid)
            running += m
            cut = (m, b, pl)
        key = cut


def _at_or_above(key: Key | None, name: str, p: dict[str, Any]) -> str:
    """SQL: the row is ranked at or before ``key`` (never when None)."""
    if key is None:
        return "0"
    p[f"{name}_m"], p[f"{name}_b"], p[f"{name}_p"] = key
    return (
        f"(rfm_monetary_fen > :{name}_m OR (rfm_monetary_fen = :{name}_m "
        f"AND (buyer_id, platform) <= (:{name}_b, :{name}_p)))"
    )


def _abc_sql(cut_a: Key | None, cut_b: Key | None, p: dict[str, Any]) -> str:
    """SQL: the ABC class of a row, from the last customers of A and of B."""
    return (
        f"CASE WHEN {_at_or_above(cut_a, 'ca', p)} THEN 'A' "
        f"WHEN {_at_or_above(cut_b, 'cb', p)} THEN 'B' ELSE 'C' END"
    )


def _flips(old: Fraction, new: Fraction) -> tuple[int, int] | None:
    """Integer values (F or M) whose high/low side differs between thresholds ``old`` and
    ``new`` (inclusive range), or None. High is value >= threshold."""
    lo, hi = sorted((math.ceil(old), math.ceil(new)))  # high iff v >= ceil(threshold)
    return (lo, hi - 1) if lo != hi else None


def _day_flips(old_t: int, old: Fraction, t: int, new: Fraction) -> tuple[int, int] | None:
    """Days of last purchase (inclusive range) whose recency is high on one side and low on
    the other: as of day ``old_t`` against threshold ``old``, as of ``t`` against ``new``.
    High is recency <= floor(threshold), i.e. last day >= day - floor(threshold)."""
    lo, hi = sorted((old_t - math.floor(old), t - math.floor(new)))
    return (lo, hi - 1) if lo != hi else None


def _level_flips(cfg: SegmentConfig, old_t: int, t: int) -> list[tuple[int, int]]:
    """Days of last purchase (inclusive ranges) whose R level differs as of ``old_t`` and
    ``t`` (tier mode): the level counts the cuts c with c < day - last day."""
    if old_t == t:
        return []
    lo, hi = sorted((old_t, t))
    return [(lo - c, hi - c - 1) for c in cfg.tiers.recency_days]


async def _shopwide_touched(
    db: aiosqlite.Connection,
    cfg: SegmentConfig,
    today: dt.date,
    old_th: ValueThresholds | None,
    old_day: dt.date | None = None,
    old_sums: Sums | None = None,
    old_cuts: Cuts | None = None,
) -> Shopwide | None:
    """temp.seg_sw like :func:`_shopwide` (changed rows only) after step 1 (temp.seg_pc
    holds the customers whose own fields changed), reading only the customers whose derived
    fields can change: those changed, those whose R, F or M lies between the old and new
    class threshold, those whose recency crossed a tier cut because the calendar moved from
    ``old_day`` (the as-of day of the stored fields; default ``today``) to ``today``, and
    those between the old and new ABC cuts. None when it cannot (score mode, or thresholds
    appearing or vanishing): then run :func:`_shopwide`. With ``old_sums`` (the stored
    fields' sums, as of ``today``) the shop's sums are those plus the changes in
    temp.seg_pc, not a pass over every customer."""
    if cfg.mode == "score":
        return None
    t = day_number(today)
    old_t = t if old_day is None else day_number(old_day)
    if old_sums is None:
        sums = await _sums(db, CUSTOMERS_SOURCE, today)
    else:
        sums = old_sums.plus(await _one(db, _SUMS_DELTA)).as_of(t)
    th = await thresholds(db, CUSTOMERS_SOURCE, cfg, today, sums)
    if (th is None) != (old_th is None):
        return None
    total = sums[3]
    await db.execute("DROP TABLE IF EXISTS temp.seg_cand")
    await db.execute("CREATE TEMP TABLE seg_cand (id INTEGER PRIMARY KEY)")
    await db.execute("INSERT INTO temp.seg_cand SELECT id FROM temp.seg_pc")
    ranges: list[tuple[str, tuple[int, int] | None]] = [
        ("rfm_last_day", rng) for rng in _level_flips(cfg, old_t, t)
    ]
    if th is not None and old_th is not None:
        ranges += [
            ("rfm_last_day", _day_flips(old_t, old_th.recency_days, t, th.recency_days)),
            ("rfm_frequency", _flips(old_th.frequency, th.frequency)),
            ("rfm_monetary_fen", _flips(old_th.monetary_fen, th.monetary_fen)),
        ]
    tests, params = [], []
    for col, rng in ranges:
        if rng is None:
            continue
        if col == "rfm_monetary_fen":  # the leading column of the index: a seek
            await db.execute(
                "INSERT OR IGNORE INTO temp.seg_cand SELECT id FROM customers "
                "INDEXED BY customers_seg_rank WHERE rfm_last_day IS NOT NULL "
                "AND rfm_monetary_fen BETWEEN ? AND ?",
                rng,
            )
            continue
        tests.append(f"{col} BETWEEN ? AND ?")
        params += rng
    if tests:  # one pass over the covering index
        await db.execute(
            "INSERT OR IGNORE INTO temp.seg_cand SELECT id FROM customers "
            "INDEXED BY customers_seg_rank WHERE rfm_last_day IS NOT NULL "
            f"AND ({' OR '.join(tests)})",
            params,
        )
    visited: list[int] = []
    a, b = cfg.abc.a_share, cfg.abc.b_share
    cut_a = await _new_cut(
        db, await _old_cut(db, ("A",), old_cuts), a.denominator, total * a.numerator, visited
    )
    cut_b = await _new_cut(
        db, await _old_cut(db, ("A", "B"), old_cuts), b.denominator, total * b.numerator, visited
    )
    await db.executemany("INSERT OR IGNORE INTO temp.seg_cand VALUES (?)", [(i,) for i in visited])
    p: dict[str, Any] = {"t": t}
    abc = _abc_sql(cut_a, cut_b, p)
    src = (
        "(SELECT id, buyer_id, platform, rfm_last_day, rfm_frequency, rfm_monetary_fen, "
        "rfm_cell AS old_cell, rfm_score AS old_score, value_class AS old_class, "
        "abc_class AS old_abc FROM customers "
        "WHERE id IN (SELECT id FROM temp.seg_cand) AND rfm_last_day IS NOT NULL)"
    )
    await _derive(db, src, cfg, p, th, "seg_sw", abc, only_changed=True)
    return th, sums, (cut_a, cut_b)


async def _apply_shopwide(
    db: aiosqlite.Connection, as_of: dt.date, counts: Counts | None = None
) -> None:
    """Write temp.seg_sw (only the changed rows) into customers (and their moves into
    ``counts``)."""
    sets = ", ".join(f"{c} = s.{c}" for c in _DERIVED)
    async with _counting(db, counts, "temp.seg_sw"):
        await db.execute(
            f"UPDATE customers SET {sets}, segments_as_of = ? FROM temp.seg_sw s "
            "WHERE customers.id = s.id",
            (as_of.isoformat(),),
        )


async def _pareto(
    db: aiosqlite.Connection, src: str, cfg: SegmentConfig, n: int, total: int
) -> ParetoSummary:
    share = _as_share(cfg.abc.pareto_top_share, "pareto_top_share")
    k = -((-n * share.numerator) // share.denominator)
    if n and k == 0:
        k = 1
    (top,) = await _one(
        db,
        f"SELECT coalesce(sum(rfm_monetary_fen), 0) FROM (SELECT rfm_monetary_fen FROM {src} "
        f"ORDER BY {_RANKING} LIMIT ?)",
        (k,),
    )
    return ParetoSummary(n, k, top, total)


# ---------------------------------------------------------------------------
# The stored state and its figures


def _frac(x: Fraction | None) -> list[int] | None:
    return None if x is None else [x.numerator, x.denominator]


def _unfrac(x: list[int] | None) -> Fraction | None:
    return None if x is None else Fraction(x[0], x[1])


def _th_json(th: ValueThresholds | None) -> dict | None:
    if th is None:
        return None
    return {
        "kind": th.kind, "r": _frac(th.recency_days), "f": _frac(th.frequency),
        "m": _frac(th.monetary_fen), "customers": th.customers,
    }  # fmt: skip


def _th_load(d: dict | None) -> ValueThresholds | None:
    if d is None:
        return None
    return ValueThresholds(
        d["kind"], _unfrac(d["r"]), _unfrac(d["f"]), _unfrac(d["m"]), d["customers"]
    )


def _clv_json(g: GroupCLV) -> dict:
    return {
        "group": g.group, "customers": g.customers, "margin": _frac(g.margin_rate),
        "active_last_year": g.active_last_year, "spend_last_year_fen": g.spend_last_year_fen,
        "active_previous_year": g.active_previous_year, "churned": g.churned,
        "p": _frac(g.yearly_contribution), "churn": _frac(g.churn_rate), "clv": _frac(g.clv),
        "refusal": g.refusal.code if g.refusal else None,
    }  # fmt: skip


def _clv_load(d: dict) -> GroupCLV:
    refusal = next((r for r in CLVRefusal if r.code == d["refusal"]), None)
    return GroupCLV(
        d["group"], d["customers"], _unfrac(d["margin"]), d["active_last_year"],
        d["spend_last_year_fen"], d["active_previous_year"], d["churned"], _unfrac(d["p"]),
        _unfrac(d["churn"]), _unfrac(d["clv"]), refusal,
    )  # fmt: skip


@dataclass(frozen=True)
class SegmentState:
    """What the last refresh stored: as-of day, time zone, configuration and figures."""

    as_of: dt.date
    tz: str
    raw_config: dict[str, Any]
    thresholds: ValueThresholds | None
    pareto: ParetoSummary
    clv_overall: GroupCLV | None
    clv_by_group: dict[str, GroupCLV]
    history_days: int | None
    refreshed_at: int
    #: sums over the customers with RFM (None when stored by an older kefu)
    sums: Sums | None = None
    #: every customer's CLV inputs and next day are stored (migration 0008), exact for
    #: each customer whose next day is known: a daily refresh reads only the others' orders
    inputs: bool = False
    #: the ABC cuts (None when stored by an older kefu)
    cuts: Cuts | None = None
    #: the customers per class, cell, ABC class and price level (None: not stored)
    counts: Counts | None = None

    @property
    def config(self) -> SegmentConfig:
        return from_dict(self.raw_config)


def config_key(raw: Mapping[str, Any], tz: str) -> str:
    return json.dumps([dict(raw), tz], sort_keys=True, ensure_ascii=False, default=str)


async def load_state(db: aiosqlite.Connection) -> SegmentState | None:
    row = await _one(db, "SELECT as_of, tz, config, figures, refreshed_at FROM segment_state")
    if row is None:
        return None
    fig = json.loads(row[3])
    clv = fig.get("clv")
    return SegmentState(
        as_of=dt.date.fromisoformat(row[0]),
        tz=row[1],
        raw_config=json.loads(row[2])[0],
        thresholds=_th_load(fig["thresholds"]),
        pareto=ParetoSummary(**fig["pareto"]),
        clv_overall=_clv_load(clv["overall"]) if clv else None,
        clv_by_group={g["group"]: _clv_load(g) for g in clv["groups"]} if clv else {},
        history_days=fig.get("history_days"),
        refreshed_at=row[4],
        sums=Sums(*fig["sums"]) if fig.get("sums") else None,
        inputs=bool(fig.get("inputs")),
        cuts=_cuts_load(fig["cuts"]) if "cuts" in fig else None,
        counts=fig.get("counts"),
    )


def _cuts_load(cuts: list) -> Cuts:
    a, b = (None if k is None else (k[0], k[1], k[2]) for k in cuts)
    return a, b


async def _write_state(
    db: aiosqlite.Connection,
    *,
    as_of: dt.date,
    tz: str,
    raw: Mapping[str, Any],
    th: ValueThresholds | None,
    pareto: ParetoSummary,
    clv: dict | None,
    history_days: int | None,
    sums: Sums,
    inputs: bool,
    cuts: Cuts,
    counts: Counts | None,
) -> None:
    """Store the state; ``counts`` None: count the customers table now."""
    if counts is None:
        counts = await _counts(db)
    figures = {
        "thresholds": _th_json(th),
        "pareto": {
            "customers": pareto.customers, "top_customers": pareto.top_customers,
            "top_spend_fen": pareto.top_spend_fen, "total_spend_fen": pareto.total_spend_fen,
        },
        "clv": clv,
        "history_days": history_days,
        "sums": list(sums.astuple()),
        "inputs": inputs,
        "cuts": [None if k is None else list(k) for k in cuts],
        "counts": counts,
    }  # fmt: skip
    await db.execute(
        "INSERT INTO segment_state (id, as_of, tz, config, figures, refreshed_at) "
        "VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET as_of = excluded.as_of, "
        "tz = excluded.tz, config = excluded.config, figures = excluded.figures, "
        "refreshed_at = excluded.refreshed_at",
        (as_of.isoformat(), tz, config_key(raw, tz), json.dumps(figures), int(time.time())),
    )


async def _drop_temps(db: aiosqlite.Connection) -> None:
    for t in ("seg_agg", "seg_pc", "seg_sw", "seg_snap", "seg_cand", "seg_clv", "seg_due"):
        await db.execute(f"DROP TABLE IF EXISTS temp.{t}")


# ---------------------------------------------------------------------------
# Refreshes


async def refresh_all(
    db: aiosqlite.Connection,
    raw: Mapping[str, Any],
    tz: ZoneInfo,
    today: dt.date,
    *,
    in_transaction: bool = False,
    full: bool = False,
) -> SegmentState:
    """Recompute every customer's segment fields and the shop figures as of ``today``.

    ``raw`` is the ``[segments]`` table (without ``refresh_at``); it is stored so the
    import can refresh incrementally with the same rules. One transaction. The orders
    read are those of the customers whose figures can have changed since the last
    refresh (see :func:`_due`), or, with ``full`` or without a usable last refresh, all.
    """
    cfg = from_dict(raw)
    await db.execute(MMAP)
    (threads,) = await _one(db, "PRAGMA threads")
    await db.execute("PRAGMA threads = 2")  # SQLite's sorter may use a second core
    if not in_transaction:
        try:
            await begin_write(db)
        except ArchiveBusy:
            await db.execute(f"PRAGMA threads = {threads}")
            raise
    scratch = None
    try:
        # a second connection sees only committed data: not inside the caller's transaction
        scratch = None if in_transaction else await _scratch_for(db)
        # the stored derived fields are what the last refresh derived: with the same rules
        # only the customers whose fields can change are re-derived (as after an import)
        old = await load_state(db)
        row = await _one(db, "SELECT config FROM segment_state")
        if row is None or row[0] != config_key(raw, tz.key):
            old = None
        due = None
        if old is not None and old.inputs and old.as_of <= today and not full:
            due = await _due(db, tz, old.as_of, today)
        await _aggregate(db, cfg, tz, today, only=due, clv=True, scratch=scratch)
        guess = exact = None
        if cfg.mode != "score" and old is None:  # most rows change: derive first, write once
            sums = await _sums(db, AGG_SOURCE, today)
            th = await thresholds(db, AGG_SOURCE, cfg, today, sums)
            cuts = await _abc_cuts(db, AGG_SOURCE, cfg, sums[3])
            guess = exact = Derivation(th, exact=True, cuts=cuts)
        elif cfg.mode != "score" and due and old is not None:  # old: set whenever due is
            guess = Derivation(old.thresholds, old_cuts=old.cuts)
        # the stored counts plus the moves of the customers written; else counted after
        counts = None
        if exact is None and old is not None and old.counts is not None:
            counts = copy.deepcopy(old.counts)
        dropped = await _apply_per_customer(
            db, cfg, today, only=due, inputs=True, many=DROP_INDEXES_SHARE, guess=guess,
            counts=counts,
        )  # fmt: skip
        if exact is not None:
            assert exact.cuts is not None
            fast = (exact.th, sums, exact.cuts)
        else:
            fast = None
            if old is not None and not dropped:
                fast = await _shopwide_touched(
                    db, cfg, today, old.thresholds, old.as_of, old_cuts=old.cuts
                )
            if fast is None:
                fast = await _shopwide(
                    db, CUSTOMERS_SOURCE, cfg, today, "seg_sw", only_changed=True
                )
            await _apply_shopwide(db, today, counts)
        th, sums, cuts = fast
        for sql in dropped:
            await db.execute(sql)
        pareto = await _pareto(db, CUSTOMERS_SOURCE, cfg, sums[0], sums[3])
        clv, history = await _clv_figures(db, cfg, today)
        await _write_state(
            db, as_of=today, tz=tz.key, raw=raw, th=th, pareto=pareto, clv=clv,
            history_days=history, sums=Sums.from_day(sums, day_number(today)), inputs=True,
            cuts=cuts, counts=counts,
        )  # fmt: skip
        await _drop_temps(db)
        if not in_transaction:
            await db.execute("COMMIT")
    except BaseException:
        if not in_transaction:
            await db.execute("ROLLBACK")
        raise
    finally:
        await _drop_scratch(db, scratch)
        await db.execute(f"PRAGMA threads = {int(threads)}")
    state = await load_state(db)
    assert state is not None
    return state


async def _due(db: aiosqlite.Connection, tz: ZoneInfo, old_day: dt.date, today: dt.date) -> str:
    """temp.seg_due: the customers whose per-customer figures can differ as of ``today``
    from those stored as of ``old_day``: an import changed them since (unknown next day),
    the calendar reached their next day, or they have a purchase paid after ``old_day``
    (an order dated ahead, now due). Returns the table's name."""
    after_old = dt.datetime.combine(old_day + dt.timedelta(days=1), dt.time(0), tz)
    await db.execute("DROP TABLE IF EXISTS temp.seg_due")
    await db.execute("CREATE TEMP TABLE seg_due (id INTEGER PRIMARY KEY)")
    await db.execute(
        "INSERT INTO temp.seg_due SELECT id FROM customers WHERE seg_next_day IS NULL "
        "OR seg_next_day <= ? OR last_purchase_at >= ?",
        (day_number(today), int(after_old.timestamp())),
    )
    return "temp.seg_due"


async def _clv_figures(
    db: aiosqlite.Connection, cfg: SegmentConfig, today: dt.date
) -> tuple[dict | None, int | None]:
    """Group CLV by the value class each customer had a year ago (see bot.domain.clv)."""
    # the stored inputs are read in two scans of the table (NOT INDEXED: through the
    # partial segment index every row would be a seek): the first day and the year-ago
    # sums, then the groups
    ya = today - dt.timedelta(days=365)
    first, *sums = await _one(
        db,
        "SELECT min(seg_first_day), count(seg_ya_last_day), sum(:t - seg_ya_last_day), "
        "sum(CASE WHEN seg_ya_last_day IS NOT NULL THEN seg_ya_frequency END), "
        "sum(CASE WHEN seg_ya_last_day IS NOT NULL THEN seg_ya_monetary_fen END) "
        "FROM customers NOT INDEXED",
        {"t": day_number(ya)},
    )
    if first is None:
        return None, None
    history = day_number(today) - first
    n, r_sum, f_sum, m_sum = (x or 0 for x in sums)
    th = await thresholds(db, YEAR_AGO_SOURCE, cfg, ya, (n, r_sum, f_sum, m_sum))
    p: dict[str, Any] = {"t": day_number(ya)}
    # the class bits (8: no purchase a year ago) read rfm_* columns: feed them the year-ago
    # figures; key = 4 * group + 2 * (bought last year) + (bought the year before). The
    # few keys are summed by upsert into a small table (no sort of every customer).
    bits = "8"
    if th is not None:
        bits = f"CASE WHEN rfm_last_day IS NOT NULL THEN {_class_bits_sql(th, p)} ELSE 8 END"
    await db.execute("DROP TABLE IF EXISTS temp.seg_clv")
    await db.execute("CREATE TEMP TABLE seg_clv (k INTEGER PRIMARY KEY, n, spend)")
    await db.execute(
        f"INSERT INTO temp.seg_clv SELECT ({bits}) * 4 "
        "+ coalesce(y1_spend > 0, 0) * 2 + coalesce(y2_n > 0, 0), 1, coalesce(y1_spend, 0) "
        "FROM (SELECT seg_ya_last_day AS rfm_last_day, seg_ya_frequency AS rfm_frequency, "
        "seg_ya_monetary_fen AS rfm_monetary_fen, seg_y1_spend_fen AS y1_spend, "
        "seg_y2_n AS y2_n FROM customers NOT INDEXED WHERE rfm_last_day IS NOT NULL) WHERE true "
        "ON CONFLICT (k) DO UPDATE SET n = n + 1, spend = spend + excluded.spend",
        p,
    )
    codes = {c.r_high * 4 + c.f_high * 2 + c.m_high: c.code for c in ValueClass}
    buckets = [
        CLVBucket(codes.get(k >> 2, NEW_GROUP), bool(k & 2), bool(k & 1), n, spend)
        for k, n, spend in await _rows(db, "SELECT k, n, spend FROM temp.seg_clv", ())
    ]
    overall, by_group = clv_from_buckets(buckets, history, cfg.clv)
    return (
        {"overall": _clv_json(overall), "groups": [_clv_json(g) for g in by_group.values()]},
        history,
    )


async def refresh_touched(db: aiosqlite.Connection, *, now: int) -> bool:
    """Refresh the customers in ``temp.touched`` (inside the caller's transaction).

    Uses the rules and time zone of the last full refresh. Returns False (and does
    nothing) when there has been none or it is not from today: then the next reader
    or the daily job refreshes in full.
    """
    state = await load_state(db)
    if state is None:
        return False
    tz = ZoneInfo(state.tz)
    today = dt.datetime.fromtimestamp(now, tz).date()
    if today != state.as_of:
        # the next refresh reads these customers' orders again
        await db.execute(
            "UPDATE customers SET seg_next_day = NULL WHERE id IN (SELECT id FROM temp.touched)"
        )
        return False
    cfg = state.config
    await _aggregate(db, cfg, tz, today, only="temp.touched")
    # their CLV inputs and next days are left to the next full refresh
    guess = (
        Derivation(state.thresholds, old_cuts=state.cuts) if cfg.mode != "score" else None
    )
    counts = copy.deepcopy(state.counts) if state.counts is not None else None
    await _apply_per_customer(
        db, cfg, today, only="temp.touched", inputs=False, guess=guess, counts=counts
    )
    fast = await _shopwide_touched(
        db, cfg, today, state.thresholds, old_sums=state.sums, old_cuts=state.cuts
    )
    if fast is None:
        fast = await _shopwide(db, CUSTOMERS_SOURCE, cfg, today, "seg_sw", only_changed=True)
    th, sums, cuts = fast
    await _apply_shopwide(db, today, counts)
    pareto = await _pareto(db, CUSTOMERS_SOURCE, cfg, sums[0], sums[3])
    clv = None
    if state.clv_overall is not None:
        clv = {
            "overall": _clv_json(state.clv_overall),
            "groups": [_clv_json(g) for g in state.clv_by_group.values()],
        }
    await _write_state(
        db, as_of=today, tz=state.tz, raw=state.raw_config, th=th, pareto=pareto, clv=clv,
        history_days=state.history_days, sums=Sums.from_day(sums, day_number(today)),
        inputs=state.inputs, cuts=cuts, counts=counts,
    )  # fmt: skip
    await _drop_temps(db)
    return True


async def ensure_current(
    db: aiosqlite.Connection, raw: Mapping[str, Any], tz: ZoneInfo, today: dt.date
) -> bool:
    """Refresh in full unless the stored segments are as of ``today`` with these rules.

    Returns True when it refreshed.
    """
    row = await _one(db, "SELECT as_of, config FROM segment_state")
    if row is not None and row[0] == today.isoformat() and row[1] == config_key(raw, tz.key):
        return False
    await refresh_all(db, raw, tz, today)
    return True


# ---------------------------------------------------------------------------
# Snapshots


#: the customers per class, cell, ABC class and price level: {"class": {code: n}, ...}
Counts = dict[str, dict[str, int]]
#: what the counts count: the segment kinds, and the price level
_COUNTED = {**_COLUMN, "price": "price_level"}


async def _counts(
    db: aiosqlite.Connection, source: str = "customers", ids: str | None = None
) -> Counts:
    """Customers per class, cell and ABC class (and price level, for the customers table)
    in ``source``, or only those whose id is in the table ``ids``."""
    counted = _COUNTED if source == "customers" else _COLUMN  # a temp table: no price
    kinds, cols = tuple(counted), ", ".join(counted.values())
    groups: collections.Counter[tuple] = collections.Counter()
    if ids is None:  # every row: counted here (a GROUP BY sorts them all, twice as slow)
        async with db.execute(f"SELECT {cols} FROM {source}") as cur:
            while rows := await cur.fetchmany(50_000):
                groups.update(tuple(r) for r in rows)
    else:
        async with db.execute(
            f"SELECT {cols}, count(*) FROM {source} WHERE id IN (SELECT id FROM {ids}) "
            f"GROUP BY {cols}"
        ) as cur:
            for *keys, n in await cur.fetchall():
                groups[tuple(keys)] += n
    out: Counts = {k: {} for k in kinds}
    for keys, n in groups.items():
        for kind, key in zip(kinds, keys, strict=True):
            if key is not None:
                out[kind][key] = out[kind].get(key, 0) + n
    return out


def _add_counts(counts: Counts, more: Counts, sign: int) -> None:
    for kind, by_key in more.items():
        mine = counts.setdefault(kind, {})
        for key, n in by_key.items():
            left = mine.get(key, 0) + sign * n
            if left:
                mine[key] = left
            else:
                mine.pop(key, None)


@contextlib.asynccontextmanager
async def _counting(
    db: aiosqlite.Connection, counts: Counts | None, ids: str
) -> AsyncIterator[None]:
    """Keep ``counts`` true across writes to the customers whose id is in ``ids``: their
    counts before the writes go out, their counts after come in (no index on the segment
    keys: its entries would move for most customers an import touches)."""
    if counts is not None:
        _add_counts(counts, await _counts(db, ids=ids), -1)
    yield
    if counts is not None:
        _add_counts(counts, await _counts(db, ids=ids), +1)


async def current_counts(db: aiosqlite.Connection) -> Counts:
    """The counts the last refresh stored (counted from the table when it stored none)."""
    state = await load_state(db)
    if state is not None and state.counts is not None:
        return state.counts
    return await _counts(db)


async def _store_snapshot(db: aiosqlite.Connection, day: dt.date, source: str) -> None:
    """Replace ``day``'s counts per cell, class and ABC class with those of ``source``."""
    await db.execute("DELETE FROM segment_snapshots WHERE day = ?", (day.isoformat(),))
    counts = await (current_counts(db) if source == "customers" else _counts(db, source))
    await db.executemany(
        "INSERT INTO segment_snapshots (day, kind, key, count) VALUES (?, ?, ?, ?)",
        [(day.isoformat(), kind, key, n) for kind in KINDS for key, n in counts[kind].items()],
    )


async def write_snapshot(db: aiosqlite.Connection, day: dt.date) -> None:
    """Store today's counts per cell, class and ABC class (from the customers table)."""
    await begin_write(db)
    try:
        await _store_snapshot(db, day, "customers")
        await db.execute("COMMIT")
    except BaseException:
        await db.execute("ROLLBACK")
        raise


async def rebuild_snapshot(
    db: aiosqlite.Connection, raw: Mapping[str, Any], tz: ZoneInfo, day: dt.date
) -> dict[Kind, dict[str, int]]:
    """Compute the counts of a past ``day`` from the order history and store them.

    Exactly what a full refresh on that day would have counted (orders paid after
    that day do not exist yet); the customers table is not touched.
    """
    cfg = from_dict(raw)
    await db.execute(MMAP)
    await begin_write(db)
    try:
        await _aggregate(db, cfg, tz, day, price=False)
        await _shopwide(db, AGG_SOURCE, cfg, day, "seg_snap")
        await _store_snapshot(db, day, "temp.seg_snap")
        await _drop_temps(db)
        await db.execute("COMMIT")
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    return await snapshot(db, day) or {k: {} for k in KINDS}


async def snapshot(db: aiosqlite.Connection, day: dt.date) -> dict[Kind, dict[str, int]] | None:
    """The stored counts of ``day``, or None when no snapshot was taken that day."""
    async with db.execute(
        "SELECT kind, key, count FROM segment_snapshots WHERE day = ?", (day.isoformat(),)
    ) as cur:
        rows = await cur.fetchall()
    if not rows:
        return None
    out: dict[Kind, dict[str, int]] = {k: {} for k in KINDS}
    for kind, key, count in rows:
        out[kind][key] = count
    return out


async def snapshot_days(db: aiosqlite.Connection, since: dt.date) -> list[dt.date]:
    async with db.execute(
        "SELECT DISTINCT day FROM segment_snapshots WHERE day >= ? ORDER BY day",
        (since.isoformat(),),
    ) as cur:
        return [dt.date.fromisoformat(r[0]) for r in await cur.fetchall()]


async def trend(
    db: aiosqlite.Connection, kind: Kind, since: dt.date
) -> dict[dt.date, dict[str, int]]:
    """Snapshot counts of one kind per day from ``since`` on."""
    out: dict[dt.date, dict[str, int]] = {}
    async with db.execute(
        "SELECT day, key, count FROM segment_snapshots WHERE kind = ? AND day >= ? ORDER BY day",
        (kind, since.isoformat()),
    ) as cur:
        for day, key, count in await cur.fetchall():
            out.setdefault(dt.date.fromisoformat(day), {})[key] = count
    return out


# ---------------------------------------------------------------------------
# Reading: distribution, lists, one customer's fields, chart data


async def distribution(db: aiosqlite.Connection) -> dict[Kind, dict[str, int]]:
    """Current counts per class, cell and ABC class (customers with a segment)."""
    counts = await current_counts(db)
    return {kind: dict(counts[kind]) for kind in KINDS}


async def price_levels(db: aiosqlite.Connection) -> dict[str, int]:
    """Current counts per price-sensitivity level."""
    return dict((await current_counts(db))["price"])


@dataclass(frozen=True)
class SegmentFields:
    """One customer's stored segment fields (for the /whois card, /rfm and lists).

    ``recency_days`` is counted to ``today`` as passed by the reader.
    """

    customer_id: int
    platform: str
    buyer_id: str
    name: str
    rfm_cell: str | None
    rfm_r: int | None
    rfm_f: int | None
    rfm_m: int | None
    rfm_score: int | None
    last_purchase: dt.date | None
    recency_days: int | None
    frequency: int | None
    monetary_fen: int | None
    value_class: ValueClass | None
    abc_class: str | None
    price_level: str | None
    price_orders: int
    price_deal_orders: int
    price_off_fen: int
    price_list_fen: int
    price_net_fen: int
    price_promo_net_fen: int
    as_of: dt.date | None

    @property
    def audience_values(self) -> dict[str, str | None]:
        """The /audience fields: class (code), rfm (cell), abc, price."""
        return {
            "class": self.value_class.code if self.value_class else None,
            "rfm": self.rfm_cell,
            "abc": self.abc_class,
            "price": self.price_level,
        }

    @property
    def deal_percent(self) -> int | None:
        return _pct(self.price_deal_orders, self.price_orders)

    @property
    def depth_percent(self) -> int | None:
        return _pct(self.price_off_fen, self.price_list_fen)

    @property
    def promo_percent(self) -> int | None:
        return _pct(self.price_promo_net_fen, self.price_net_fen)


def _pct(num: int, den: int) -> int | None:
    """Whole percent, half up (as bot.domain.price_sensitivity rounds)."""
    return None if not den else (num * 200 + den) // (2 * den)


_FIELDS_SQL = (
    "SELECT id, platform, buyer_id, name, rfm_cell, rfm_r, rfm_f, rfm_m, rfm_score, "
    "rfm_last_day, rfm_frequency, rfm_monetary_fen, value_class, abc_class, price_level, "
    "price_orders, price_deal_orders, price_off_fen, price_list_fen, price_net_fen, "
    "price_promo_net_fen, segments_as_of FROM customers"
)


def _fields(row: Any, today: dt.date) -> SegmentFields:
    last = row[9]
    return SegmentFields(
        customer_id=row[0], platform=row[1], buyer_id=row[2], name=row[3], rfm_cell=row[4],
        rfm_r=row[5], rfm_f=row[6], rfm_m=row[7], rfm_score=row[8],
        last_purchase=day_from_number(last) if last is not None else None,
        recency_days=day_number(today) - last if last is not None else None,
        frequency=row[10], monetary_fen=row[11],
        value_class=ValueClass.from_code(row[12]) if row[12] else None,
        abc_class=row[13], price_level=row[14], price_orders=row[15] or 0,
        price_deal_orders=row[16] or 0, price_off_fen=row[17] or 0, price_list_fen=row[18] or 0,
        price_net_fen=row[19] or 0, price_promo_net_fen=row[20] or 0,
        as_of=dt.date.fromisoformat(row[21]) if row[21] else None,
    )  # fmt: skip


async def segment_fields(
    db: aiosqlite.Connection, customer_id: int, today: dt.date
) -> SegmentFields | None:
    """The segment fields of one customer (None when there is no such customer).

    For the /whois card and /audience: ``.rfm_cell``, ``.value_class``,
    ``.abc_class``, ``.price_level`` and ``.audience_values``. Call
    :func:`ensure_current` first (or rely on the daily job) so they are today's.
    """
    async with db.execute(_FIELDS_SQL + " WHERE id = ?", (customer_id,)) as cur:
        row = await cur.fetchone()
    return None if row is None else _fields(row, today)


def _segment_sql(col: str) -> str:
    """The fields of a segment's customers in ranking order: the spend index read in
    order, its members picked out by the index alone."""
    return (
        f"{_FIELDS_SQL} INDEXED BY customers_seg_rank WHERE rfm_last_day IS NOT NULL "
        f"AND {col} = ? ORDER BY {_RANKING}"
    )


async def list_segment(
    db: aiosqlite.Connection, kind: Kind, key: str, today: dt.date, *, offset: int, limit: int
) -> tuple[int, list[SegmentFields]]:
    """(total, one page) of the customers in a class, cell or ABC class, biggest spend first
    (ties by buyer id, as the ABC ranking)."""
    total = (await current_counts(db))[kind].get(key, 0)
    async with db.execute(
        _segment_sql(_COLUMN[kind]) + " LIMIT ? OFFSET ?", (key, limit, offset)
    ) as cur:
        rows = [_fields(r, today) for r in await cur.fetchall()]
    return total, rows


async def iter_segment(
    db: aiosqlite.Connection, kind: Kind, key: str, today: dt.date
) -> AsyncIterator[SegmentFields]:
    """Every customer of a segment, for the CSV export (same order as the list)."""
    async with db.execute(_segment_sql(_COLUMN[kind]), (key,)) as cur:
        async for row in cur:
            yield _fields(row, today)


async def rf_grid(db: aiosqlite.Connection) -> list[tuple[int, int, int, float]]:
    """(R level, F level, customers, average M in fen) for the heat map."""
    async with db.execute(
        "SELECT rfm_r, rfm_f, count(*), avg(rfm_monetary_fen) FROM customers "
        "WHERE rfm_cell IS NOT NULL GROUP BY rfm_r, rfm_f"
    ) as cur:
        return [(r, f, n, float(m or 0)) for r, f, n, m in await cur.fetchall()]


async def pareto_curve(db: aiosqlite.Connection, points: int = 100) -> list[tuple[float, float]]:
    """(share of customers, share of sales), best customers first, at ``points`` steps."""
    (n, total) = await _one(
        db, f"SELECT count(*), coalesce(sum(rfm_monetary_fen), 0) FROM {CUSTOMERS_SOURCE}"
    )
    if not n or not total:
        return [(0.0, 0.0)]
    async with db.execute(
        "SELECT tile, count(*), sum(rfm_monetary_fen) FROM (SELECT rfm_monetary_fen, "
        f"ntile(?) OVER (ORDER BY {_RANKING}) AS tile FROM {CUSTOMERS_SOURCE}) "
        "GROUP BY tile ORDER BY tile",
        (points,),
    ) as cur:
        rows = await cur.fetchall()
    out = [(0.0, 0.0)]
    seen = spent = 0
    for _, count, s in rows:
        seen += count
        spent += s
        out.append((seen / n, spent / total))
    return out
