"""Finding buyers: /whois keys, ambiguity, near-match candidates, /find, orders paged."""

import pytest

from bot.domain.matching import near_matches
from bot.domain.order import Buyer, Item, Order
from bot.storage import lookup
from bot.storage.db import open_db
from bot.storage.migrations import MIGRATIONS
from bot.storage.order_import import OrderImport
from bot.storage.search_grams import grams_sql

T0 = 1_700_000_000
DAY = 86400
HOSTILE = "<b>x</b>' OR 1=1; --{{7*7}}"


def order(order_id, buyer_id, *, platform="taobao", name="", phone="", email="", at=T0, **kw):
    return Order(
        platform=platform, order_id=order_id, buyer_id=buyer_id, created_at=at,
        status=kw.pop("status", "completed"), amount_paid_fen=kw.pop("paid", 10000),
        paid_at=at + 60, items=(Item("连衣裙", 1, 10000),),
        buyer=Buyer(name=name, phone=phone, email=email), **kw,
    )  # fmt: skip


async def load(db, orders):
    async with OrderImport(db) as imp:
        await imp.add(orders)
        await imp.commit(source="t.csv", preset="generic", rows_read=len(orders))


SHOP = [
    order("T1001", "alice", name="王小明", phone="13812345678", email="XiaoMing@example.com"),
    order(
        "T1002",
        "alice",
        name="王小明",
        phone="13812345678",
        email="XiaoMing@example.com",
        at=T0 + 5 * DAY,
    ),
    order("T2001", "bob", name="张伟", phone="13900001111"),
    order("J3001", "bob", platform="jd", name="Bob Li", phone="13700009999"),
    order("T4001", "zhangwei88", name="张伟", phone="159-0000-2222"),
    order("T5001", "Buyer123", name="John Smith", phone="+1 (555) 010-0100"),
    order("T5002", "buyer123", name="Jon Smyth"),
    order("T6001", HOSTILE, name=HOSTILE),
]


@pytest.fixture
async def db(tmp_path):
    conn = await open_db(tmp_path / "kefu.db")
    await load(conn, SHOP)
    yield conn
    await conn.close()


def ids(rows):
    return [(r["platform"], r["buyer_id"]) for r in rows]


@pytest.mark.parametrize(
    ("query", "key", "expected"),
    [
        ("alice", "buyer_id", [("taobao", "alice")]),
        ("  alice ", "buyer_id", [("taobao", "alice")]),
        ("T1002", "order_id", [("taobao", "alice")]),
        ("13812345678", "phone", [("taobao", "alice")]),
        ("+86 138-1234-5678", "phone", [("taobao", "alice")]),
        ("１３８１２３４５６７８", "phone", [("taobao", "alice")]),  # full-width digits
        ("15900002222", "phone", [("taobao", "zhangwei88")]),
        ("xiaoming@EXAMPLE.com", "email", [("taobao", "alice")]),
        ("王小明", "name", [("taobao", "alice")]),
        ("john smith", "name", [("taobao", "Buyer123")]),
        ("Buyer123", "buyer_id", [("taobao", "Buyer123")]),  # exact case wins
        ("BUYER123", "buyer_id", [("taobao", "Buyer123"), ("taobao", "buyer123")]),
        (HOSTILE, "buyer_id", [("taobao", HOSTILE)]),
    ],
)
async def test_whois_keys(db, query, key, expected):
    found = await lookup.resolve(db, query)
    assert (found.key, ids(found.customers)) == (key, expected)


async def test_two_buyers_one_key_are_candidates_not_a_guess(db):
    same_name = await lookup.resolve(db, "张伟")
    assert same_name.key == "name"
    assert ids(same_name.customers) == [("taobao", "bob"), ("taobao", "zhangwei88")]
    two_platforms = await lookup.resolve(db, "bob")
    assert sorted(ids(two_platforms.customers)) == [("jd", "bob"), ("taobao", "bob")]
    assert ids((await lookup.resolve(db, "jd:bob")).customers) == [("jd", "bob")]
    assert ids((await lookup.resolve(db, "JD:bob")).customers) == [("jd", "bob")]


async def test_buyer_id_beats_a_name_that_equals_it(db):
    await load(db, [order("T7001", "carol", name="alice")])
    assert ids((await lookup.resolve(db, "alice")).customers) == [("taobao", "alice")]


async def test_unknown_query_resolves_to_nothing(db):
    for query in ("nobody", "", "   ", "王小", "1381234", "%", "_"):
        assert (await lookup.resolve(db, query)).customers == []


@pytest.mark.parametrize(
    ("query", "suggested"),
    [
        ("alic", "alice"),  # same prefix
        ("alicee", "alice"),  # over-typed
        ("张玮", "bob"),  # similar Chinese name (张伟)
        ("00002222", "zhangwei88"),  # the end of a phone number
    ],
)
async def test_near_candidates_feed_the_ranking(db, query, suggested):
    rows = await lookup.near_candidates(db, query)
    matches = near_matches(query, [(r["buyer_id"], r["name"], r["phone"]) for r in rows])
    assert suggested in [m.buyer_id for m in matches]


async def _find_all(db, query, page=8):
    seen, offset = [], 0
    while True:
        rows, more = await lookup.search(db, query, offset=offset, limit=page)
        seen += ids(rows)
        if not more:
            return seen
        offset += page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("小明", [("taobao", "alice")]),  # Chinese name by substring
        ("张", [("taobao", "bob"), ("taobao", "zhangwei88")]),  # a surname alone
        ("伟", []),  # one character is looked up only in front of another (surnames)
        ("王小明", [("taobao", "alice")]),
        ("ohn sm", [("taobao", "Buyer123")]),
        ("1234", [("taobao", "alice")]),  # any 4 digits of the phone
        ("0100", [("taobao", "Buyer123")]),
        ("5550100", [("taobao", "Buyer123")]),
        ("xiaoming@", [("taobao", "alice")]),  # e-mail prefix
        ("T2001", [("taobao", "bob")]),  # order id
        ("zhangwei", [("taobao", "zhangwei88")]),  # buyer id prefix
        ("123", []),  # too few digits for a phone search
        ("%", []),
        ("'; DROP TABLE customers; --", []),
    ],
)
async def test_find(db, query, expected):
    assert await _find_all(db, query) == expected


async def test_find_puts_exact_hits_first_and_lists_each_buyer_once(db):
    found = await _find_all(db, "张伟")
    assert found == [("taobao", "bob"), ("taobao", "zhangwei88")]
    found = await _find_all(db, "buyer123")
    assert found[0] == ("taobao", "buyer123") or found[0] == ("taobao", "Buyer123")
    assert sorted(found) == [("taobao", "Buyer123"), ("taobao", "buyer123")]


async def test_find_pages_without_gaps_or_repeats(db):
    await load(db, [order(f"L{i}", f"lilei{i:02d}", name=f"李雷{i:02d}") for i in range(19)])
    rows, more = await lookup.search(db, "李雷", offset=0, limit=8)
    assert len(rows) == 8 and more
    everything = await _find_all(db, "李雷")
    assert sorted(everything) == [("taobao", f"lilei{i:02d}") for i in range(19)]
    rows, more = await lookup.search(db, "李雷", offset=16, limit=8)
    assert len(rows) == 3 and not more


async def test_search_index_follows_profile_changes(db):
    await load(db, [order("T1003", "alice", name="王晓明", phone="18600001234", at=T0 + 9 * DAY)])
    assert await _find_all(db, "18600001234") == [("taobao", "alice")]
    assert await _find_all(db, "13812345678") == []
    assert await _find_all(db, "晓明") == [("taobao", "alice")]
    assert await _find_all(db, "小明") == []


async def test_import_keeps_grams_in_bulk_and_restores_the_triggers(db):
    await load(db, [order("T1004", "alice", name="Alice Wong", phone="+86 139-0000-1111",
                          at=T0 + 10 * DAY)])
    async with db.execute("SELECT gram, customer_id FROM search_grams ORDER BY 1, 2") as cur:
        stored = [tuple(r) for r in await cur.fetchall()]
    rebuild = f"SELECT DISTINCT * FROM ({grams_sql('customers')}) ORDER BY 1, 2"
    async with db.execute(rebuild) as cur:
        rebuilt = [tuple(r) for r in await cur.fetchall()]
    assert stored == rebuilt
    async with db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                          "AND name LIKE 'search_grams_%'") as cur:
        assert (await cur.fetchone())[0] == 2


async def test_grams_of_changed_new_and_unchanged_buyers_equal_a_rebuild(db):
    async with db.execute("SELECT buyer_id, name, phone FROM customers") as cur:
        before = {r[0]: (r[1], r[2]) for r in await cur.fetchall()}
    again = [
        order(f"R{i}", buyer, name=name, phone=phone, at=T0 + 20 * DAY)
        for i, (buyer, (name, phone)) in enumerate(before.items())
    ]  # every buyer again with the same name and phone: their grams stay
    again[0] = order("R0", again[0].buyer_id, name="赵新名", phone="13700000000", at=T0 + 20 * DAY)
    again.append(order("R-new", "newbie", name="钱多多", phone="15011112222", at=T0 + 20 * DAY))
    await load(db, again)
    async with db.execute("SELECT gram, customer_id FROM search_grams ORDER BY 1, 2") as cur:
        stored = [tuple(r) for r in await cur.fetchall()]
    rebuild = f"SELECT DISTINCT * FROM ({grams_sql('customers')}) ORDER BY 1, 2"
    async with db.execute(rebuild) as cur:
        assert stored == [tuple(r) for r in await cur.fetchall()]
    assert await _find_all(db, "新名") == [("taobao", again[0].buyer_id)]
    assert await _find_all(db, "多多") == [("taobao", "newbie")]


async def test_older_database_gets_its_customers_indexed_on_upgrade(tmp_path):
    path = tmp_path / "old.db"
    old = await open_db(path, migrations=MIGRATIONS[:3])
    await load(old, SHOP[:1])
    await old.close()
    db = await open_db(path)
    try:
        assert ids((await lookup.resolve(db, "13812345678")).customers) == [("taobao", "alice")]
        assert await _find_all(db, "小明") == [("taobao", "alice")]
    finally:
        await db.close()


async def test_orders_page_newest_first_with_total(db):
    alice = (await lookup.resolve(db, "alice")).customers[0]
    rows, total = await lookup.orders_page(db, alice["id"], offset=0, limit=1)
    assert total == 2 and [r["order_id"] for r in rows] == ["T1002"]
    rows, _ = await lookup.orders_page(db, alice["id"], offset=1, limit=1)
    assert [r["order_id"] for r in rows] == ["T1001"]
    assert await lookup.orders_page(db, alice["id"], offset=2, limit=1) == ([], 2)
