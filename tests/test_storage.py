"""The database: migrations, atomic imports, idempotence, aggregates."""

import sqlite3

import pytest

from bot.domain.order import Buyer, Item, Order
from bot.storage import staff
from bot.storage.customers import archive_counts, get_by_buyer_id
from bot.storage.db import SchemaTooNew, open_db, schema_version
from bot.storage.migrations import MIGRATIONS
from bot.storage.order_import import OrderImport

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
