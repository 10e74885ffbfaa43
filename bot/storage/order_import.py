"""SQL for importing orders: stage a file's orders, merge them, refresh aggregates.

One import is one transaction: either the whole file lands or nothing does.

    async with OrderImport(db) as imp:
        for batch in batches:
            await imp.add(batch)
        counts = await imp.commit(source="x.csv", preset="taobao", rows_read=n)

Leaving the block without ``commit`` rolls everything back.

Two ways in, the same result:

* into an archive that has orders, rows are staged in a temp table and merged: each
  order is classified new / updated / unchanged against what is stored;
* into an empty archive (a shop's first import, often years of history), rows go
  straight into ``orders`` with its indexes dropped, and each index is built once at
  the end (several times faster than keeping it up to date row by row); a file that
  names an order twice keeps its later row, as the staged way does.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

import aiosqlite

from bot.domain.order import Order
from bot.storage import search_grams, segments
from bot.storage.db import (
    AUTOCHECKPOINT,
    CACHE_KIB,
    ArchiveBusy,
    begin_write,
    checkpoint_soon,
    drop_indexes,
    file_path,
    prefetch_soon,
)

_ORDER_COLUMNS = (
    "platform, order_id, buyer_id, created_at, paid_at, status, amount_paid_fen, discount_fen, "
    "coupon_fen, refunded_fen, item_count, items_json, receiver_name, receiver_phone, "
    "receiver_email, province, city, district, address"
)
# the columns whose difference makes a re-imported order "updated"
_COMPARED = (
    "created_at", "paid_at", "status", "amount_paid_fen", "discount_fen", "coupon_fen",
    "refunded_fen", "item_count", "items_json", "receiver_name", "receiver_phone",
    "receiver_email", "province", "city", "district", "address",
)  # fmt: skip
_STAGE_INSERT = (
    f"INSERT OR REPLACE INTO temp.stage ({_ORDER_COLUMNS}) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_PROFILE = ("name", "phone", "email", "province", "city", "district", "address")
# counted as a purchase: paid, not cancelled/refunded/refused, and not refunded in full
COUNTED_SQL = segments.counted_sql()


@dataclass(frozen=True)
class ImportCounts:
    orders_new: int
    orders_updated: int
    orders_unchanged: int
    customers_new: int
    customers_updated: int


def order_row(o: Order) -> tuple:
    """The staged row of one canonical order."""
    items = o.items
    return (
        o.platform, o.order_id, o.buyer_id, o.created_at, o.paid_at, o.status,
        o.amount_paid_fen, o.discount_fen, o.coupon_fen, o.refunded_fen,
        sum(i.quantity for i in items),
        json.dumps(
            [{"title": i.title, "sku": i.sku, "qty": i.quantity, "price_fen": i.unit_price_fen}
             for i in items],
            ensure_ascii=False, separators=(",", ":"),
        ),
        o.buyer.name, o.buyer.phone, o.buyer.email, o.buyer.province, o.buyer.city,
        o.buyer.district, o.buyer.address,
    )  # fmt: skip


_ORDER_INSERT = (
    f"INSERT INTO orders ({_ORDER_COLUMNS.replace('buyer_id', 'customer_id')}, imported_at) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
#: what a merge into an archive reads all over (see bot.storage.db.prefetch_soon): the
#: customers' (platform, buyer id) key and the spend index of the segment step
PREFETCH = (
    "SELECT count(*) FROM (SELECT platform, buyer_id FROM customers "
    "ORDER BY platform, buyer_id)",
    "SELECT count(*) FROM customers INDEXED BY customers_seg_rank "
    "WHERE rfm_last_day IS NOT NULL",
)
#: a merge of up to this many buyers reads their rows meanwhile, on another connection
#: (a day's buyers sit on random pages of the customers table)
PREFETCH_BUYERS = 50_000
PREFETCH_BUYERS_SQL = (
    "SELECT count(c.name) FROM json_each(?) j "
    "JOIN customers c ON c.platform = j.value ->> 0 AND c.buyer_id = j.value ->> 1"
)
#: the page cache (KiB) while an import into an empty archive builds its indexes and grams
SORT_CACHE_KIB = 2048
#: customer ids remembered by an import into an empty archive (the rest are looked up)
ID_CACHE = 500_000


class OrderImport:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._open = False
        self._fresh = False
        # a fresh load: SQL of the indexes and triggers it dropped, to be made again
        self._indexes: dict[str, list[str]] = {}
        self._triggers: list[str] = []
        self._ids: dict[tuple[str, str], int] = {}
        self._all_cached = True  # the cache holds every customer this import made so far
        self._next_id = 1
        self._now = int(time.time())
        self._path = ""  # the database's file ('' in memory), for the background work
        #: the buyers of a merge so far (None when too many), see PREFETCH_BUYERS
        self._buyers: set[tuple[str, str]] | None = set()

    async def __aenter__(self) -> OrderImport:
        db = self._db
        # The import's joins guarantee every order's customer exists; per-row foreign-key
        # checks would cost a third of the import. Restored when the import ends.
        await db.execute("PRAGMA foreign_keys = OFF")
        # stage on disk, not in memory: peak memory stays flat whatever the file's size
        await db.execute("PRAGMA temp_store = FILE")
        await db.execute("PRAGMA temp.cache_size = -131072")
        # sorts (index builds, search grams) may use a second core
        await db.execute("PRAGMA threads = 2")
        # the log is copied into the file after COMMIT, on another connection
        await db.execute("PRAGMA wal_autocheckpoint = 0")
        self._path = await file_path(db)
        try:
            await begin_write(db)
        except ArchiveBusy:
            await _restore_pragmas(db)
            raise
        self._open = True
        async with db.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM orders) AND NOT EXISTS (SELECT 1 FROM customers)"
        ) as cur:
            self._fresh = bool((await cur.fetchone())[0])
        if self._fresh:
            for table in ("orders", "customers"):
                self._indexes[table] = await drop_indexes(db, table)
            # the per-row search-gram triggers cost more than the insert itself
            self._triggers = await search_grams.suspend_triggers(db)
            return self
        # merging into a large archive dirties pages all over its indexes: a larger cache
        # keeps them from being written to the log twice
        await db.execute(f"PRAGMA cache_size = -{2 * CACHE_KIB}")
        # the new buyers are looked up in the customers' key index and the segment step
        # moves entries all over the spend index: both read whole, meanwhile, elsewhere
        if self._path:
            prefetch_soon(self._path, PREFETCH)
        await db.execute("DROP TABLE IF EXISTS temp.stage")
        await db.execute(
            "CREATE TEMP TABLE stage ("
            "platform TEXT NOT NULL, order_id TEXT NOT NULL, buyer_id TEXT NOT NULL, "
            "created_at INTEGER NOT NULL, paid_at INTEGER, status TEXT NOT NULL, "
            "amount_paid_fen INTEGER NOT NULL, discount_fen INTEGER NOT NULL, "
            "coupon_fen INTEGER NOT NULL, refunded_fen INTEGER NOT NULL, "
            "item_count INTEGER NOT NULL, items_json TEXT NOT NULL, receiver_name TEXT NOT NULL, "
            "receiver_phone TEXT NOT NULL, receiver_email TEXT NOT NULL, province TEXT NOT NULL, "
            "city TEXT NOT NULL, district TEXT NOT NULL, address TEXT NOT NULL, "
            "PRIMARY KEY (platform, order_id))"
        )
        return self

    async def add(self, orders: Iterable[Order]) -> None:
        """Add a batch; a later row for the same order replaces an earlier one."""
        await self.add_rows([order_row(o) for o in orders])

    async def add_rows(self, rows: Iterable[tuple]) -> None:
        """Add rows already made by :func:`order_row` (e.g. in another process)."""
        if not self._fresh:
            rows = list(rows)
            if self._buyers is not None:
                self._buyers.update((r[0], r[2]) for r in rows)
                if len(self._buyers) > PREFETCH_BUYERS:
                    self._buyers = None
            await self._db.executemany(_STAGE_INSERT, rows)
            return
        rows = list(rows)
        ids = await self._customer_ids(rows)
        now = self._now
        await self._db.executemany(
            _ORDER_INSERT, [(r[0], r[1], ids[r[0], r[2]], *r[3:], now) for r in rows]
        )

    async def _customer_ids(self, rows: list[tuple]) -> dict[tuple[str, str], int]:
        """(platform, buyer id) -> customer id for a batch, creating the customers not seen."""
        ids = self._ids
        # (not `set - ids.keys()`: that copies every key of the cache, once per batch)
        missing = {key for r in rows if (key := (r[0], r[2])) not in ids}
        if not missing:
            return ids
        if len(ids) + len(missing) > ID_CACHE:
            ids.clear()  # bounded memory: from now on, buyers not in the cache are looked up
            self._all_cached = False
            missing = {(r[0], r[2]) for r in rows}
        db = self._db
        now = self._now
        new = sorted(missing)
        if self._all_cached:
            # every customer this import made is in the cache: the missing ones are new
            first = self._next_id
            await db.executemany(
                "INSERT INTO customers (id, platform, buyer_id, created_at, updated_at) "
                "VALUES (?,?,?,?,?)",
                [(first + i, p, b, now, now) for i, (p, b) in enumerate(new)],
            )
            for i, key in enumerate(new):
                ids[key] = first + i
            self._next_id = first + len(new)
            return ids
        await db.executemany(
            "INSERT INTO customers (platform, buyer_id, created_at, updated_at) VALUES (?,?,?,?) "
            "ON CONFLICT (platform, buyer_id) DO NOTHING",
            [(p, b, now, now) for p, b in new],
        )
        for i in range(0, len(new), 500):
            chunk = new[i : i + 500]
            for platform in {p for p, _ in chunk}:
                buyers = [b for p, b in chunk if p == platform]
                async with db.execute(
                    "SELECT buyer_id, id FROM customers WHERE platform = ? "
                    f"AND buyer_id IN ({','.join('?' * len(buyers))})",
                    (platform, *buyers),
                ) as cur:
                    for buyer, cid in await cur.fetchall():
                        ids[platform, buyer] = cid
        return ids

    async def commit(
        self,
        *,
        source: str,
        preset: str,
        rows_read: int,
        rows_skipped: int = 0,
        by_user: int | None = None,
    ) -> ImportCounts:
        db = self._db
        now = self._now
        # search grams are kept in bulk below, not row by row (see search_grams.py)
        triggers = self._triggers or await search_grams.suspend_triggers(db)
        if self._fresh:
            async with _sorting(db):
                counts = await self._finish_fresh()
            customers_new = counts["customers"]
        else:
            if self._path and self._buyers:
                buyers = json.dumps(sorted(self._buyers))
                prefetch_soon(self._path, [(PREFETCH_BUYERS_SQL, (buyers,))])
            customers_new, counts = await self._merge_staged(now)
        await search_grams.remember_touched(db)
        await refresh_profiles(db, "orders" if self._fresh else "temp.stage")
        await refresh_customers(db, now=now, staged=not self._fresh)
        async with _sorting(db, self._fresh):
            await search_grams.refresh_touched(db, triggers)
            for sql in self._indexes.get("customers", ()):  # the segment step reads them
                await db.execute(sql)
        # segment fields of the touched customers (see bot/storage/segments.py)
        await segments.refresh_touched(db, now=now)
        async with db.execute("SELECT count(*) FROM temp.touched") as cur:
            touched = (await cur.fetchone())[0]
        customers_updated = max(0, touched - customers_new)

        result = ImportCounts(
            orders_new=counts["new"],
            orders_updated=counts["updated"],
            orders_unchanged=counts["unchanged"],
            customers_new=customers_new,
            customers_updated=customers_updated,
        )
        await db.execute(
            "INSERT INTO imports (source, preset, by_user, rows_read, orders_new, orders_updated, "
            "orders_unchanged, rows_skipped, customers_new, customers_updated, finished_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (source, preset, by_user, rows_read, result.orders_new, result.orders_updated,
             result.orders_unchanged, rows_skipped, result.customers_new,
             result.customers_updated, now),
        )  # fmt: skip
        for table in ("stage", "stage_state", "touched"):
            await db.execute(f"DROP TABLE IF EXISTS temp.{table}")
        await db.execute("COMMIT")
        self._open = False
        await _restore_pragmas(db)
        if self._path:
            checkpoint_soon(self._path)
        return result

    async def _finish_fresh(self) -> dict[str, int]:
        """Build the dropped indexes; every order and customer of an empty archive is new."""
        db = self._db
        indexes = self._indexes["orders"]
        unique = [sql for sql in indexes if sql.upper().startswith("CREATE UNIQUE")]
        try:
            for sql in unique:
                await db.execute(sql)
        except sqlite3.IntegrityError:
            # the file names an order more than once: its later row wins, as when staged
            await db.execute(
                "DELETE FROM orders WHERE id NOT IN "
                "(SELECT max(id) FROM orders GROUP BY order_id, platform)"
            )
            await db.execute(
                "DELETE FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)"
            )
            for sql in unique:
                await db.execute(sql)
        for sql in indexes:
            if sql not in unique:
                await db.execute(sql)
        await db.execute("DROP TABLE IF EXISTS temp.touched")
        await db.execute("CREATE TEMP TABLE touched (id INTEGER PRIMARY KEY)")
        await db.execute("INSERT INTO temp.touched SELECT id FROM customers ORDER BY id")
        counts = {"updated": 0, "unchanged": 0}
        counts["new"] = await _count(db, "orders")
        counts["customers"] = await _count(db, "temp.touched")
        return counts

    async def _merge_staged(self, now: int) -> tuple[int, dict[str, int]]:
        """Merge temp.stage into the archive; fill temp.touched. (customers new, counts)"""
        db = self._db
        customers_before = await _count(db, "customers")
        await db.execute(
            "INSERT INTO customers (platform, buyer_id, created_at, updated_at) "
            "SELECT DISTINCT platform, buyer_id, ?, ? FROM temp.stage WHERE true "
            "ON CONFLICT (platform, buyer_id) DO NOTHING",
            (now, now),
        )
        customers_new = await _count(db, "customers") - customers_before

        differs = " OR ".join(f"o.{c} IS NOT s.{c}" for c in _COMPARED)
        await db.execute("DROP TABLE IF EXISTS temp.stage_state")
        await db.execute(
            "CREATE TEMP TABLE stage_state AS "
            "SELECT s.rowid AS srow, o.id AS oid, c.id AS cid, o.customer_id AS old_cid, "
            "CASE WHEN o.id IS NULL THEN 'new' "
            f"WHEN o.customer_id IS NOT c.id OR {differs} THEN 'updated' "
            "ELSE 'unchanged' END AS state "
            "FROM temp.stage s "
            "JOIN customers c ON c.platform = s.platform AND c.buyer_id = s.buyer_id "
            "LEFT JOIN orders o ON o.platform = s.platform AND o.order_id = s.order_id"
        )
        counts: dict[str, int] = {"new": 0, "updated": 0, "unchanged": 0}
        async with db.execute("SELECT state, count(*) FROM temp.stage_state GROUP BY state") as cur:
            for state, n in await cur.fetchall():
                counts[state] = n

        values = ", ".join(f"s.{c}" for c in _COMPARED)
        if counts["new"]:
            await db.execute(
                f"INSERT INTO orders (platform, order_id, customer_id, {', '.join(_COMPARED)}, "
                f"imported_at) SELECT s.platform, s.order_id, t.cid, {values}, ? "
                "FROM temp.stage_state t JOIN temp.stage s ON s.rowid = t.srow "
                "WHERE t.state = 'new' ORDER BY t.cid",
                (now,),
            )
        if counts["updated"]:
            assignments = ", ".join(f"{c} = s.{c}" for c in _COMPARED)
            await db.execute(
                f"UPDATE orders SET customer_id = t.cid, {assignments}, imported_at = ? "
                "FROM temp.stage_state t JOIN temp.stage s ON s.rowid = t.srow "
                "WHERE t.state = 'updated' AND orders.id = t.oid",
                (now,),
            )

        await db.execute("DROP TABLE IF EXISTS temp.touched")
        await db.execute("CREATE TEMP TABLE touched (id INTEGER PRIMARY KEY)")
        await db.execute(
            "INSERT OR IGNORE INTO temp.touched SELECT cid FROM temp.stage_state "
            "WHERE state != 'unchanged' "
            "UNION SELECT old_cid FROM temp.stage_state WHERE state = 'updated'"
        )
        return customers_new, counts

    async def rollback(self) -> None:
        if self._open:
            self._open = False
            await self._db.execute("ROLLBACK")
            await _restore_pragmas(self._db)

    async def __aexit__(self, *exc: object) -> None:
        await self.rollback()


@contextlib.asynccontextmanager
async def _sorting(db: aiosqlite.Connection, active: bool = True) -> AsyncIterator[None]:
    """A small page cache for statements that write in sorted order what SQLite sorted
    (index builds, the search grams of an empty archive): its sorter then sorts small
    runs, on two threads, and merges them. Measured at a million orders: index builds
    0.8 -> 0.6 s, search grams 5 -> 3.3 s; one big sort in memory is slower."""
    if active:
        (kib,) = (await (await db.execute("PRAGMA cache_size")).fetchone()) or (0,)
        await db.execute(f"PRAGMA cache_size = -{SORT_CACHE_KIB}")
    try:
        yield
    finally:
        if active:
            await db.execute(f"PRAGMA cache_size = {kib}")


async def _restore_pragmas(db: aiosqlite.Connection) -> None:
    await db.execute("PRAGMA threads = 0")
    await db.execute("PRAGMA foreign_keys = ON")
    await db.execute("PRAGMA temp_store = MEMORY")
    await db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    await db.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT}")


async def _count(db: aiosqlite.Connection, table: str) -> int:
    async with db.execute(f"SELECT count(*) FROM {table}") as cur:
        return (await cur.fetchone())[0]


async def refresh_profiles(db: aiosqlite.Connection, source: str) -> None:
    """Name, phone, address ... of the customers in ``temp.touched``, from their orders.

    Each field comes from the customer's latest order that gives it. First every customer
    takes what their latest order gives (one index seek each); older orders are searched
    only for fields the latest order left empty, and only when this file gives that field
    at all (a Taobao export has no e-mail: searching for one would read every order).
    ``source`` holds this import's orders (the stage, or ``orders`` for an empty archive).
    """
    sources = {c: {"name": "receiver_name", "phone": "receiver_phone",
                   "email": "receiver_email"}.get(c, c) for c in _PROFILE}  # fmt: skip
    # rows the latest order leaves as they are are not written; the IN test makes the
    # planner go by the touched customers, not through every customer
    await db.execute(
        "UPDATE customers SET "
        + ", ".join(
            f"{c} = CASE WHEN l.{src} != '' THEN l.{src} ELSE customers.{c} END"
            for c, src in sources.items()
        )
        + " FROM (SELECT t.id AS cid, o.* FROM temp.touched t JOIN orders o ON o.id = "
        "(SELECT o2.id FROM orders o2 WHERE o2.customer_id = t.id "
        "ORDER BY o2.created_at DESC LIMIT 1)) AS l WHERE customers.id = l.cid "
        "AND customers.id IN (SELECT id FROM temp.touched) AND ("
        + " OR ".join(
            f"(l.{src} != '' AND l.{src} IS NOT customers.{c})" for c, src in sources.items()
        )
        + ")"
    )
    for column, src in sources.items():
        async with db.execute(f"SELECT 1 FROM {source} WHERE {src} != '' LIMIT 1") as cur:
            if await cur.fetchone() is None:
                continue
        await db.execute(
            f"UPDATE customers SET {column} = coalesce((SELECT o.{src} FROM orders o "
            f"WHERE o.customer_id = customers.id AND o.{src} != '' "
            f"ORDER BY o.created_at DESC LIMIT 1), '') "
            f"WHERE id IN (SELECT id FROM temp.touched) AND {column} = ''"
        )


def _aggregates_sql(customer: str, source: str) -> str:
    """``SELECT customer_id, n, pn, spent, first, last, dn, cn, dsum, csum`` per customer
    over the orders of ``source`` (``customer`` names its customer column)."""
    purchase = "coalesce(paid_at, created_at)"
    return (
        f"SELECT {customer} AS customer_id, count(*) AS n, sum({COUNTED_SQL}) AS pn, "
        f"sum(CASE WHEN {COUNTED_SQL} THEN amount_paid_fen - refunded_fen ELSE 0 END) AS spent, "
        f"min(CASE WHEN {COUNTED_SQL} THEN {purchase} END) AS first, "
        f"max(CASE WHEN {COUNTED_SQL} THEN {purchase} END) AS last, "
        f"sum({COUNTED_SQL} AND discount_fen > 0) AS dn, "
        f"sum({COUNTED_SQL} AND coupon_fen > 0) AS cn, "
        f"sum(CASE WHEN {COUNTED_SQL} THEN discount_fen ELSE 0 END) AS dsum, "
        f"sum(CASE WHEN {COUNTED_SQL} THEN coupon_fen ELSE 0 END) AS csum "
        f"FROM {source} GROUP BY {customer}"
    )


# the customer's aggregates from the sums ``a`` (added to what is stored when ``plus``)
def _set_aggregates(plus: bool) -> str:
    def add(col: str, new: str) -> str:
        return f"{col} + {new}" if plus else new

    def pick(col: str, new: str, fn: str) -> str:
        return f"coalesce({fn}({col}, {new}), {col}, {new})" if plus else new

    pn, spent = add("paid_order_count", "a.pn"), add("total_spent_fen", "a.spent")
    first = pick("first_purchase_at", "a.first", "min")
    last = pick("last_purchase_at", "a.last", "max")
    return (
        f"order_count = {add('order_count', 'a.n')}, paid_order_count = {pn}, "
        f"total_spent_fen = {spent}, first_purchase_at = {first}, last_purchase_at = {last}, "
        f"avg_order_value_fen = CASE WHEN {pn} > 0 THEN ({spent} + ({pn}) / 2) / ({pn}) END, "
        f"avg_interval_s = CASE WHEN {pn} > 1 THEN ({last} - {first}) / ({pn} - 1) END, "
        f"discount_order_count = {add('discount_order_count', 'a.dn')}, "
        f"coupon_order_count = {add('coupon_order_count', 'a.cn')}, "
        f"discount_total_fen = {add('discount_total_fen', 'a.dsum')}, "
        f"coupon_total_fen = {add('coupon_total_fen', 'a.csum')}, updated_at = ?"
    )


async def refresh_customers(
    db: aiosqlite.Connection, *, now: int, staged: bool = False
) -> None:
    """Recompute the aggregates of the customers in ``temp.touched``.

    Purchases are paid, shipped and completed orders not refunded in full; spend is net
    of partial refunds; purchase time is the payment time (creation time if absent).
    The covering index ``orders_by_customer`` answers this without reading order rows.
    With ``staged`` (a merge of temp.stage), a customer whose only change is new orders
    gets their sums added to what is stored (no read of their older orders); those with
    an updated order (or one moved away from them) are recomputed.
    """
    full = "temp.touched"
    if staged:
        await db.execute("DROP TABLE IF EXISTS temp.recount")
        await db.execute("CREATE TEMP TABLE recount (id INTEGER PRIMARY KEY)")
        await db.execute(
            "INSERT OR IGNORE INTO temp.recount SELECT cid FROM temp.stage_state "
            "WHERE state = 'updated' UNION SELECT old_cid FROM temp.stage_state "
            "WHERE state = 'updated'"
        )
        new_orders = (
            "temp.stage_state t JOIN temp.stage s ON s.rowid = t.srow WHERE t.state = 'new' "
            "AND t.cid NOT IN (SELECT id FROM temp.recount)"
        )
        await db.execute(
            f"UPDATE customers SET {_set_aggregates(plus=True)} "
            f"FROM ({_aggregates_sql('t.cid', new_orders)}) AS a "
            "WHERE customers.id = a.customer_id",
            (now,),
        )
        full = "temp.recount"
    orders = f"orders WHERE customer_id IN (SELECT id FROM {full})"
    await db.execute(
        f"UPDATE customers SET {_set_aggregates(plus=False)} "
        f"FROM ({_aggregates_sql('customer_id', orders)}) AS a WHERE customers.id = a.customer_id",
        (now,),
    )
    # a customer whose every order moved to another buyer keeps no stale figures
    await db.execute(
        "UPDATE customers SET order_count = 0, paid_order_count = 0, total_spent_fen = 0, "
        "first_purchase_at = NULL, last_purchase_at = NULL, avg_order_value_fen = NULL, "
        "avg_interval_s = NULL, discount_order_count = 0, coupon_order_count = 0, "
        "discount_total_fen = 0, coupon_total_fen = 0, updated_at = ? "
        f"WHERE id IN (SELECT id FROM {full}) "
        "AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = customers.id)",
        (now,),
    )
    if staged:
        await db.execute("DROP TABLE temp.recount")
