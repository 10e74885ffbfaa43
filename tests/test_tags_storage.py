"""Storage for tags, notes, audiences and buyer keys, on a small hand-made archive."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

import pytest

from bot.domain.audience import parse
from bot.domain.order import Buyer, Order
from bot.storage import audience as aud
from bot.storage import audit, lookup, notes
from bot.storage import tags as tag_store
from bot.storage.db import open_db
from bot.storage.order_import import OrderImport

SH = ZoneInfo("Asia/Shanghai")
DAY = 86400
NOW = int(time.time())
AGENT = 222


def order(order_id, buyer, *, paid=10000, status="completed", days_ago=10, phone=""):
    created = NOW - days_ago * DAY
    return Order(
        platform="taobao", order_id=order_id, buyer_id=buyer, created_at=created,
        status=status, amount_paid_fen=paid, paid_at=created + 60,
        buyer=Buyer(phone=phone),
    )  # fmt: skip


#: buyer -> (orders, tags). Spent: a 300, b 50, c 200, d 0 (refunded), e 500 yuan.
SHOP = {
    "a": ([order("a1", "a"), order("a2", "a"), order("a3", "a", days_ago=100)], ["lace", "vneck"]),
    "b": ([order("b1", "b", paid=5000, phone="13812345678")], ["Lace", "slit", "refund_risk"]),
    "c": ([order("c1", "c", days_ago=40), order("c2", "c", days_ago=35)], ["ＬＡＣＥ", "slit"]),
    "d": ([order("d1", "d", status="refunded")], ["vneck"]),
    "e": ([order(f"e{i}", "e", days_ago=200) for i in range(5)], []),
}


@pytest.fixture
async def shop(tmp_path):
    db = await open_db(tmp_path / "kefu.db")
    async with OrderImport(db) as imp:
        await imp.add([o for orders, _ in SHOP.values() for o in orders])
        await imp.commit(source="t.csv", preset="generic", rows_read=0)
    ids = {}
    for buyer, (_, tags) in SHOP.items():
        [row] = (await lookup.resolve(db, buyer)).customers
        ids[buyer] = row["id"]
        pairs = [(t.casefold().replace("ｌａｃｅ", "lace"), t) for t in tags]
        await tag_store.add_tags(db, row["id"], pairs, by=AGENT)
    yield db, ids
    await db.close()


async def matching(db, text):
    compiled = await aud.compile_audience(db, parse(text), now=NOW, tz=SH)
    return await aud.count(db, compiled)


async def test_expression_counts_match_the_hand_computed_fixture(shop):
    db, _ = shop
    assert await matching(db, "lace and (vneck or slit) and not refund_risk") == 2  # a, c
    assert await matching(db, "lace") == 3
    assert await matching(db, "not lace") == 2
    assert await matching(db, "vneck or slit") == 4
    assert await matching(db, "orders >= 2") == 3  # a 3, c 2, e 5
    assert await matching(db, "spent > 250") == 2  # a 300, e 500
    assert await matching(db, "lace and spent >= 50 and orders < 3") == 2  # b, c
    # days since the last counted purchase: a 10, b 10, c 35, e 200, d never bought
    assert await matching(db, "days_since_last <= 30") == 2
    assert await matching(db, "days_since_last > 30") == 2
    assert await matching(db, "days_since_last != 10") == 3  # c, e and d (no value)


async def test_segment_fields_say_not_computed_until_the_segmentation_ran(shop):
    db, ids = shop
    with pytest.raises(aud.SegmentsNotComputed) as err:
        await aud.compile_audience(db, parse("lace and abc = A"), now=NOW, tz=SH)
    assert err.value.fields == ["abc"]
    with pytest.raises(aud.SegmentsNotComputed):
        await aud.compile_audience(db, parse("tier = gold"), now=NOW, tz=SH)  # no column yet
    await db.execute("UPDATE customers SET abc_class = 'A' WHERE id = ?", (ids["e"],))
    assert await matching(db, "abc = A") == 1
    assert await matching(db, "abc != A") == 4


async def test_summary_breaks_the_audience_down(shop):
    db, _ = shop
    compiled = await aud.compile_audience(db, parse("lace or vneck"), now=NOW, tz=SH)
    s = await aud.summarize(db, compiled)
    assert (s.count, s.customers_total) == (4, 5)
    assert (s.spent_fen, s.shop_spent_fen) == (55000, 105000)
    assert (s.buyers, s.active_90d) == (3, 3)
    assert s.top_tags[0] == ("lace", 3)


async def test_tag_is_one_tag_whatever_the_spelling_and_keeps_its_first_label(shop):
    db, ids = shop
    stats, total = await tag_store.tag_stats(db)
    lace = next(s for s in stats if s.tag == "lace")
    assert (lace.label, lace.customers, lace.sales_fen) == ("lace", 3, 55000)
    assert total == 105000
    assert [s.tag for s in stats][0] == "lace"  # most carried first
    again = await tag_store.add_tags(db, ids["a"], [("lace", "LACE")], by=1)
    assert again == []


async def test_removing_keeps_history_and_audit(shop):
    db, ids = shop
    assert await tag_store.remove_tag(db, ids["a"], "lace", by=111)
    assert not await tag_store.remove_tag(db, ids["a"], "lace", by=111)
    assert [r["tag"] for r in await tag_store.tags_of(db, ids["a"])] == ["vneck"]
    [hist] = [r for r in await tag_store.tag_history(db, ids["a"]) if r["tag"] == "lace"]
    assert (hist["added_by"], hist["removed_by"]) == (AGENT, 111)
    assert hist["removed_at"] is not None
    # tag again: a new live row, the old one stays
    await tag_store.add_tags(db, ids["a"], [("lace", "lace")], by=AGENT)
    assert len([r for r in await tag_store.tag_history(db, ids["a"]) if r["tag"] == "lace"]) == 2
    actions = [r["action"] for r in await audit.recent(db, customer_id=ids["a"])]
    assert actions[:3] == ["tag", "untag", "tag"]


async def test_rename_and_merge_keep_the_history_rows(shop):
    db, ids = shop
    await tag_store.remove_tag(db, ids["b"], "slit", by=111)
    assert await tag_store.rename_tag(db, "slit", "side slit", "Side slit", by=111)
    assert await tag_store.get_tag(db, "slit") is None
    hist_b = [r["tag"] for r in await tag_store.tag_history(db, ids["b"])]
    assert "side slit" in hist_b and "slit" not in hist_b
    assert [r["label"] for r in await tag_store.tags_of(db, ids["c"])] == ["lace", "Side slit"]

    # merge vneck into lace: a has both (vneck closed), d gets lace
    moved = await tag_store.merge_tags(db, "vneck", "lace", by=111)
    assert moved == 1
    assert await tag_store.get_tag(db, "vneck") is None
    assert [r["tag"] for r in await tag_store.tags_of(db, ids["a"])] == ["lace"]
    assert [r["tag"] for r in await tag_store.tags_of(db, ids["d"])] == ["lace"]
    history_a = await tag_store.tag_history(db, ids["a"])
    assert len(history_a) == 2 and sum(r["removed_at"] is None for r in history_a) == 1
    total, _ = await tag_store.customers_with_tag(db, "lace")
    assert total == 4


async def test_bulk_add_tags_only_new_pairs_with_audit(shop):
    db, ids = shop
    compiled = await aud.compile_audience(db, parse("orders >= 2"), now=NOW, tz=SH)
    await tag_store.add_tags(db, ids["a"], [("loyal", "loyal")], by=AGENT)
    added = await tag_store.bulk_add_tags(
        db, compiled.where, compiled.where_params, [("loyal", "loyal")], by=111,
        from_sql=compiled.from_sql, from_params=compiled.from_params,
    )  # fmt: skip
    assert added == 2  # c and e; a had it
    assert await matching(db, "loyal") == 3
    assert len(await audit.recent(db, user_id=111)) == 2


async def test_notes_newest_first(shop):
    db, ids = shop
    first = await notes.add_note(db, ids["a"], "likes lace", author=AGENT)
    second = await notes.add_note(db, ids["a"], "'; DROP TABLE notes; --", author=AGENT)
    rows = await notes.notes_of(db, ids["a"])
    assert [r["id"] for r in rows] == [second, first]
    assert (await notes.latest_note(db, ids["a"]))["text"] == "'; DROP TABLE notes; --"
    assert await notes.count_notes(db, ids["a"]) == 2
