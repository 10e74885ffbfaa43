"""The database: migrations, atomic imports, idempotence, aggregates."""

import random
import sqlite3

import pytest

from bot.domain.order import Buyer, Item, Order
from bot.storage import staff
from bot.storage.customers import archive_counts, get_by_buyer_id
from bot.storage.db import SchemaTooNew, open_db, schema_version
from bot.storage.migrations import MIGRATIONS
from bot.storage.order_import import OrderImport, refresh_customers

DAY = 86400


@pytest.fixture
async def db(tmp_path):
    conn = await open_db(tmp_path / "kefu.db")
    yield conn
    await conn.close()


async def _import(db, orders):
    async with OrderImport(db) as imp:
        await imp.add(orders)
        return await imp.commit(source="t.csv", preset="generic", rows_read=len(orders))


def _order(order_id, buyer_id="alice", status="completed", paid=10000, **kw):
    created = kw.pop("created_at", 1_700_000_000)
    return Order(
        platform="taobao", order_id=order_id, buyer_id=buyer_id, created_at=created,
        status=status, amount_paid_fen=paid,
        paid_at=kw.pop("paid_at", created + 60 if status != "unpaid" else None), **kw,
    )  # fmt: skip


async def test_new_database_has_the_latest_schema_in_wal_mode(db):
    assert await schema_version(db) == len(MIGRATIONS)
    async with db.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone())[0] == "wal"
    async with db.execute("PRAGMA foreign_keys") as cur:
        assert (await cur.fetchone())[0] == 1


async def test_older_database_is_upgraded_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.db"
    extra = "CREATE TABLE later_feature (id INTEGER PRIMARY KEY);"
    old = await open_db(path, migrations=MIGRATIONS)
    await staff.add_agent(old, 42, added_by=1)
    await old.close()
    upgraded = await open_db(path, migrations=(*MIGRATIONS, extra))
    assert await schema_version(upgraded) == len(MIGRATIONS) + 1
    assert await staff.get_role(upgraded, 42) == "agent"
    await upgraded.execute("INSERT INTO later_feature DEFAULT VALUES")
    await upgraded.close()
    with pytest.raises(SchemaTooNew, match="upgrade kefu"):
        await open_db(path, migrations=MIGRATIONS)


async def test_failed_migration_leaves_the_database_as_it_was(tmp_path):
    path = tmp_path / "k.db"
    await (await open_db(path)).close()
    with pytest.raises(sqlite3.OperationalError):
        await open_db(path, migrations=(*MIGRATIONS, "CREATE TABLE t (x); NOT SQL AT ALL;"))
    db = await open_db(path)
    assert await schema_version(db) == len(MIGRATIONS)
    async with db.execute("SELECT name FROM sqlite_master WHERE name = 't'") as cur:
        assert await cur.fetchone() is None
    await db.close()


async def test_import_counts_and_aggregates(db):
    t0 = 1_700_000_000
    counts = await _import(
        db,
        [
            _order("1", paid=10000, created_at=t0, coupon_fen=500,
                   items=(Item("连衣裙", 2, 5000),), buyer=Buyer(name="张三", phone="13812345678")),
            _order("2", paid=30000, created_at=t0 + 10 * DAY, discount_fen=1000),
            _order("3", status="refunded", paid=99900, created_at=t0 + 20 * DAY),
            _order("4", status="shipped", paid=20000, refunded_fen=5000, created_at=t0 + 30 * DAY),
            _order("5", status="unpaid", paid=7000, created_at=t0 + 40 * DAY),
            _order("6", buyer_id="bob", status="refused", paid=5000),
        ],
    )  # fmt: skip
    assert (counts.orders_new, counts.customers_new) == (6, 2)
    alice = await get_by_buyer_id(db, "alice")
    assert alice["order_count"] == 5
    assert alice["paid_order_count"] == 3  # refunded and unpaid do not count
    assert alice["total_spent_fen"] == 10000 + 30000 + 15000  # partial refund subtracted
    assert alice["avg_order_value_fen"] == 18333  # 550.00 yuan / 3, rounded
    assert alice["first_purchase_at"] == t0 + 60
    assert alice["last_purchase_at"] == t0 + 30 * DAY + 60
    assert alice["avg_interval_s"] == 15 * DAY
    assert (alice["coupon_order_count"], alice["discount_order_count"]) == (1, 1)
    assert (alice["name"], alice["phone"]) == ("张三", "13812345678")
    bob = await get_by_buyer_id(db, "bob")
    assert (bob["order_count"], bob["paid_order_count"], bob["total_spent_fen"]) == (1, 0, 0)
    assert bob["last_purchase_at"] is None


async def test_reimport_changes_nothing_and_newer_export_updates(db):
    orders = [_order("1"), _order("2", status="paid", paid=5000)]
    await _import(db, orders)
    again = await _import(db, orders)
    assert (again.orders_new, again.orders_updated, again.orders_unchanged) == (0, 0, 2)
    assert (again.customers_new, again.customers_updated) == (0, 0)

    later = await _import(db, [_order("2", status="refunded", paid=5000)])
    assert (later.orders_updated, later.customers_updated) == (1, 1)
    alice = await get_by_buyer_id(db, "alice")
    assert (alice["paid_order_count"], alice["total_spent_fen"]) == (1, 10000)


AGGREGATES = (
    "order_count", "paid_order_count", "total_spent_fen", "first_purchase_at",
    "last_purchase_at", "avg_order_value_fen", "avg_interval_s", "discount_order_count",
    "coupon_order_count", "discount_total_fen", "coupon_total_fen",
)  # fmt: skip


async def _aggregates(db) -> dict[str, tuple]:
    cols = ", ".join(AGGREGATES)
    rows = await db.execute_fetchall(f"SELECT buyer_id, {cols} FROM customers")
    return {r[0]: tuple(r[1:]) for r in rows}


async def test_aggregates_kept_by_imports_equal_a_recount_of_every_order(db):
    """An import adds a customer's new orders to the stored figures and recounts those
    with a changed order: after imports of new orders, refunds, cancellations, orders
    moved to another buyer, discounts and coupons, every customer's figures are those a
    count over all their orders gives."""
    rng = random.Random(11)
    t0 = 1_700_000_000
    orders: dict[str, Order] = {}
    for step in range(8):
        batch = []
        for k in range(rng.randint(1, 25)):
            status = rng.choice(["completed", "completed", "paid", "refunded", "unpaid"])
            batch.append(_order(
                f"{step}-{k}", f"b{rng.randint(0, 9)}", status, rng.randint(100, 50_000),
                created_at=t0 + rng.randint(0, 400) * DAY,
                discount_fen=rng.choice([0, 0, 300]), coupon_fen=rng.choice([0, 500]),
            ))  # fmt: skip
        for old in rng.sample(sorted(orders.values(), key=lambda o: o.order_id),
                              k=min(len(orders), rng.randint(0, 6))):  # fmt: skip
            batch.append(_order(
                old.order_id, rng.choice([old.buyer_id, f"b{rng.randint(0, 12)}"]),
                rng.choice(["completed", "refunded", "cancelled", "shipped"]),
                old.amount_paid_fen, created_at=old.created_at,
                refunded_fen=rng.choice([0, old.amount_paid_fen // 2]),
            ))  # fmt: skip
        await _import(db, batch)
        orders.update({o.order_id: o for o in batch})
        kept = await _aggregates(db)
        await db.execute("BEGIN")
        await db.execute("CREATE TEMP TABLE touched AS SELECT id FROM customers")
        await refresh_customers(db, now=t0)
        recount = await _aggregates(db)
        await db.execute("ROLLBACK")
        assert kept == recount, step
    assert {o.buyer_id for o in orders.values()} <= set(kept)


async def test_import_that_fails_midway_leaves_nothing(db):
    await _import(db, [_order("1")])
    with pytest.raises(RuntimeError):
        async with OrderImport(db) as imp:
            await imp.add([_order("2", buyer_id="carol"), _order("1", status="refunded")])
            raise RuntimeError("bad row 17")
    assert await archive_counts(db) == (1, 1)
    alice = await get_by_buyer_id(db, "alice")
    assert alice["paid_order_count"] == 1
    # and the connection is usable afterwards
    assert (await _import(db, [_order("3")])).orders_new == 1


async def test_staff_roles(db):
    assert await staff.add_agent(db, 7, added_by=1)
    assert not await staff.add_agent(db, 7, added_by=1)
    assert await staff.get_role(db, 7) == "agent"
    assert await staff.remove_agent(db, 7)
    assert await staff.get_role(db, 7) is None


# --- the first import into an empty archive loads without indexes -----------------------


async def _indexes(db):
    async with db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
        "AND sql IS NOT NULL ORDER BY name"
    ) as cur:
        return [tuple(r) for r in await cur.fetchall()]


async def _archive(db, skip=()):
    """Everything an import writes, keyed by buyer / order id (not by row id)."""
    async with db.execute(
        "SELECT c.buyer_id, c.name, c.phone, c.province, c.order_count, c.paid_order_count, "
        "c.total_spent_fen, c.first_purchase_at, c.last_purchase_at, c.avg_interval_s "
        "FROM customers c ORDER BY c.buyer_id"
    ) as cur:
        customers = [tuple(r) for r in await cur.fetchall() if r[0] not in skip]
    async with db.execute(
        "SELECT o.order_id, c.buyer_id, o.status, o.amount_paid_fen, o.items_json, "
        "o.receiver_name FROM orders o JOIN customers c ON c.id = o.customer_id "
        "ORDER BY o.order_id"
    ) as cur:
        orders = [tuple(r) for r in await cur.fetchall() if r[1] not in skip]
    async with db.execute(
        "SELECT g.gram, c.buyer_id FROM search_grams g JOIN customers c ON c.id = g.customer_id "
        "ORDER BY 1, 2"
    ) as cur:
        grams = [tuple(r) for r in await cur.fetchall() if r[1] not in skip]
    return customers, orders, grams


def _shop(n=60):
    out = []
    for i in range(n):
        buyer = f"b{i % 17}"
        out.append(_order(
            f"o{i % 45}", buyer, status=("completed", "paid", "refunded", "unpaid")[i % 4],
            paid=1000 + 37 * i, created_at=1_700_000_000 + 3600 * i,
            items=(Item(f"商品{i}", 1 + i % 3, 500),),
            buyer=Buyer(name=f"王{buyer}", phone=f"1381234{i % 17:04d}", province="浙江省"),
        ))  # fmt: skip
    return out


async def test_first_import_into_an_empty_archive_matches_a_staged_one(tmp_path):
    """Same file, two ways in: straight into an empty archive, staged into a non-empty one."""
    shop = _shop()  # 60 rows naming 45 orders: later rows replace earlier ones
    fresh = await open_db(tmp_path / "fresh.db")
    staged = await open_db(tmp_path / "staged.db")
    try:
        first = await _import(fresh, shop)
        await _import(staged, [_order("other", "someone-else")])
        second = await _import(staged, shop)
        assert (first.orders_new, first.customers_new) == (45, 17)
        assert (second.orders_new, second.customers_new) == (45, 17)
        assert await _archive(fresh) == await _archive(staged, skip={"someone-else"})
        assert await _indexes(fresh) == await _indexes(staged)
        again = await _import(fresh, shop)
        assert (again.orders_new, again.orders_unchanged) == (0, 45)
    finally:
        await fresh.close()
        await staged.close()


async def test_an_order_named_twice_keeps_its_later_row_and_buyer(db):
    counts = await _import(db, [_order("o1", "alice", paid=100), _order("o1", "bob", paid=200)])
    assert (counts.orders_new, counts.customers_new) == (1, 1)
    assert await get_by_buyer_id(db, "alice") is None  # only named by the replaced row
    assert (await get_by_buyer_id(db, "bob"))["total_spent_fen"] == 200


async def test_failed_first_import_leaves_the_archive_empty_with_its_indexes(db):
    before = await _indexes(db)
    with pytest.raises(RuntimeError):
        async with OrderImport(db) as imp:
            await imp.add(_shop(10))
            raise RuntimeError("a bad row")
    assert await archive_counts(db) == (0, 0)
    assert await _indexes(db) == before
    await _import(db, [_order("o1")])
    with pytest.raises(sqlite3.IntegrityError):  # the unique index is back and enforced
        await db.execute(
            "INSERT INTO orders (platform, order_id, customer_id, created_at, status, "
            "amount_paid_fen, imported_at) SELECT platform, order_id, customer_id, 0, "
            "'paid', 1, 0 FROM orders"
        )


async def test_buyers_beyond_the_id_cache_are_looked_up(db, monkeypatch):
    import bot.storage.order_import as order_import

    monkeypatch.setattr(order_import, "ID_CACHE", 5)
    shop = _shop()
    async with OrderImport(db) as imp:
        for i in range(0, len(shop), 7):  # batches that overflow the cache again and again
            await imp.add(shop[i : i + 7])
        counts = await imp.commit(source="t.csv", preset="generic", rows_read=len(shop))
    assert (counts.orders_new, counts.customers_new) == (45, 17)
    async with db.execute("SELECT count(DISTINCT customer_id) FROM orders") as cur:
        assert (await cur.fetchone())[0] == 17


async def test_upgrade_to_the_unique_order_index_keeps_orders(tmp_path):
    path = tmp_path / "v6.db"
    old = await open_db(path, migrations=MIGRATIONS[:6])
    await _import(old, [_order("o1"), _order("o2", "bob")])
    await old.close()
    db = await open_db(path)
    try:
        async with db.execute("SELECT order_id FROM orders ORDER BY 1") as cur:
            assert [r[0] for r in await cur.fetchall()] == ["o1", "o2"]
        again = await _import(db, [_order("o1"), _order("o3")])
        assert (again.orders_new, again.orders_unchanged) == (1, 1)
    finally:
        await db.close()


async def test_the_log_of_an_import_is_copied_into_the_file_on_another_connection(tmp_path):
    from bot.storage.db import AUTOCHECKPOINT, CACHE_KIB, checkpoints_done

    path = tmp_path / "kefu.db"
    db = await open_db(path)
    try:
        await _import(db, [_order("1")])  # the first import (its own path)
        await checkpoints_done()
        await _import(db, [_order(str(i), buyer_id=f"b{i}") for i in range(2, 300)])
        # the connection is as it was before the import
        assert (await db.execute_fetchall("PRAGMA wal_autocheckpoint"))[0][0] == AUTOCHECKPOINT
        assert (await db.execute_fetchall("PRAGMA cache_size"))[0][0] == -CACHE_KIB
        await checkpoints_done()
        # the database file alone (without its log) now holds every order
        alone = tmp_path / "alone.db"
        alone.write_bytes(path.read_bytes())
        con = sqlite3.connect(alone)
        try:
            assert con.execute("SELECT count(*) FROM orders").fetchone()[0] == 299
        finally:
            con.close()
    finally:
        await db.close()


async def test_a_merge_reads_the_indexes_it_looks_up_whole_meanwhile(tmp_path, caplog):
    """The prefetch of a merge into an archive reads the customers' key index and the
    spend index whole, and the rows of the file's buyers, on its own connection: its
    reads work on the current schema (a renamed index would only log a warning, so the
    plans are checked here) and the import is as without it."""
    from bot.storage import order_import
    from bot.storage.db import checkpoints_done

    db = await open_db(tmp_path / "kefu.db")
    try:
        for sql, index in zip(
            order_import.PREFETCH,
            ("sqlite_autoindex_customers_1", "customers_seg_rank"),
            strict=True,
        ):
            plan = " ".join(r[3] for r in await db.execute_fetchall(f"EXPLAIN QUERY PLAN {sql}"))
            assert f"COVERING INDEX {index}" in plan
        # the buyers' rows: each found by the key index, none by a scan of the table
        plan = " ".join(
            r[3]
            for r in await db.execute_fetchall(
                f"EXPLAIN QUERY PLAN {order_import.PREFETCH_BUYERS_SQL}", ('[["taobao", "a"]]',)
            )
        )
        assert "SEARCH c USING INDEX sqlite_autoindex_customers_1" in plan
        await _import(db, [_order("1")])
        with caplog.at_level("WARNING"):
            counts = await _import(
                db, [_order("2", buyer_id="bob"), _order("1", status="refunded")]
            )
            await checkpoints_done()
        assert not [r for r in caplog.records if "prefetch" in r.getMessage()]
        assert (counts.orders_new, counts.orders_updated, counts.customers_new) == (1, 1, 1)
    finally:
        await db.close()
