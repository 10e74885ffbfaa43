"""/whois and /find through the real Application: keys, candidates, buttons, masking, access."""

import re
import time

import pytest

from bot.domain.order import Buyer, Item, Order
from bot.storage import audit, notes, tags
from bot.storage.order_import import OrderImport
from tests.conftest import ADMIN, AGENT, STRANGER

NOW = int(time.time())
DAY = 86400
HOSTILE = "<b>x</b>&amp;'; DROP TABLE customers;--{{7*7}}"


def order(order_id, buyer_id, *, days_ago=10, platform="taobao", status="completed", **buyer):
    at = NOW - days_ago * DAY
    return Order(
        platform=platform, order_id=order_id, buyer_id=buyer_id, created_at=at, status=status,
        amount_paid_fen=buyer.pop("paid", 19900), paid_at=at + 60,
        items=(Item("碎花连衣裙", 2, 9950),), buyer=Buyer(**buyer),
    )  # fmt: skip


SHOP = [
    *[order(oid, "alice", days_ago=days, name="王小明", phone="13812345678",
            email="xiaoming@example.com", address="浙江省杭州市西湖区文三路90号")
      for oid, days in (("T1001", 40), ("T1002", 12))],
    order("T2001", "bob", name="张伟", phone="13900001111"),
    order("J3001", "bob", platform="jd", name="Bob Li", phone="13700009999"),
    order("T4001", "zhangwei88", name="张伟", phone="15900002222"),
    order("T6001", HOSTILE, name=HOSTILE, phone="13600006666"),
    *[order(f"M{i}", "alice", days_ago=100 + i, name="王小明") for i in range(7)],
]  # fmt: skip


async def stock(bot, orders=SHOP):
    async with OrderImport(bot.db) as imp:
        await imp.add(orders)
        await imp.commit(source="t.csv", preset="taobao", rows_read=len(orders))
    await bot.send(ADMIN, f"/agent add {AGENT}")


@pytest.fixture
async def shop(kefu_bot_en):
    await stock(kefu_bot_en)
    return kefu_bot_en


@pytest.fixture
async def shop_zh(kefu_bot):
    await stock(kefu_bot)
    return kefu_bot


@pytest.mark.parametrize(
    "query",
    ["alice", "T1002", "13812345678", "+86 138 1234 5678", "xiaoming@example.com", "王小明"],
)
async def test_whois_by_each_key_answers_one_card(shop, query):
    [card] = await shop.send(AGENT, f"/whois {query}")
    text = card.plain_text
    assert "王小明" in text and "alice" in text and "Taobao" in text
    assert "Orders 9 / 9 (paid / all)" in text
    assert "Spent ¥1,791.00" in text and "Average order ¥199.00" in text
    assert "last " in text and "(12 days ago)" in text
    assert "碎花连衣裙×2" in text and "completed" in text
    assert [b.text for b in card.buttons] == ["Orders (9)", "Tags", "Note"]


async def test_card_in_chinese(shop_zh):
    [card] = await shop_zh.send(AGENT, "/whois alice")
    assert "订单 9 / 9（已付款 / 全部）" in card.plain_text and "12天前" in card.plain_text
    assert "已完成" in card.plain_text
    assert [b.text for b in card.buttons] == ["订单（9）", "标签", "备注"]


async def test_agent_sees_phone_and_address_masked_admin_in_private_sees_them_whole(shop):
    [agent] = await shop.send(AGENT, "/whois alice")
    assert "138****5678" in agent.plain_text and "13812345678" not in agent.plain_text
    assert "浙江省杭州市西湖区****" in agent.plain_text and "文三路" not in agent.plain_text
    assert "x***@example.com" in agent.plain_text
    [admin] = await shop.send(ADMIN, "/whois alice")
    assert "13812345678" in admin.plain_text and "文三路90号" in admin.plain_text
    # in a staff group everyone reads the card: even an admin's shows masked data
    [group] = await shop.send(ADMIN, "/whois alice", chat_id=-100, chat_type="supergroup")
    assert group.chat_id == -100 and "138****5678" in group.plain_text
    assert "13812345678" not in group.plain_text


async def test_unauthorised_user_gets_nothing_about_any_buyer(shop):
    for text in ("/whois alice", "/find 王", "/whois 13812345678"):
        [reply] = await shop.send(STRANGER, text)
        assert "staff only" in reply.plain_text
        assert "alice" not in reply.plain_text and "5678" not in reply.plain_text
    [agent_card] = await shop.send(AGENT, "/whois alice")
    # a stranger pressing a button of a card (in a group, say) learns nothing either
    [reply] = await shop.press(STRANGER, agent_card, agent_card.button_data("Orders"),
                               chat_id=AGENT)  # fmt: skip
    assert "staff only" in reply.plain_text and "T1002" not in reply.plain_text


async def test_not_found_suggests_near_matches_as_buttons(shop):
    [reply] = await shop.send(AGENT, "/whois alic")
    assert "No buyer matches “alic”" in reply.plain_text and "Did you mean" in reply.plain_text
    assert reply.buttons[0].text.startswith("1. alice")
    [card] = await shop.press(AGENT, reply, reply.buttons[0].callback_data)
    assert card.edited and "Orders 9 / 9" in card.plain_text

    [by_phone] = await shop.send(AGENT, "/whois 00002222")
    assert "zhangwei88" in by_phone.buttons[0].text and "159****2222" in by_phone.buttons[0].text

    [nothing] = await shop.send(AGENT, "/whois qqqqqqqq")
    assert "No buyer matches" in nothing.plain_text and nothing.buttons == []
    assert "/find" in nothing.plain_text


async def test_ambiguous_names_and_buyer_ids_list_candidates_instead_of_guessing(shop):
    [reply] = await shop.send(AGENT, "/whois 张伟")
    assert "2 buyers match “张伟” (name)" in reply.plain_text
    assert [b.text for b in reply.buttons] == [
        "1. bob 张伟 139****1111",
        "2. zhangwei88 张伟 159****2222",
    ]
    [card] = await shop.press(AGENT, reply, reply.button_data("zhangwei88"))
    assert "zhangwei88" in card.plain_text and "Orders 1 / 1" in card.plain_text

    [two] = await shop.send(AGENT, "/whois bob")
    assert (
        "(buyer id)" in two.plain_text and "(JD)" in two.plain_text and "(Taobao)" in two.plain_text
    )


async def test_orders_button_pages_through_the_orders_and_back(shop):
    [card] = await shop.send(AGENT, "/whois alice")
    [page1] = await shop.press(AGENT, card, card.button_data("Orders"))
    assert page1.edited and page1.message_id == card.message_id
    assert "9 in all, page 1 of 2" in page1.plain_text
    assert re.search(r"1\. \S+ T1002 ¥199.00 completed", page1.plain_text)
    [page2] = await shop.press(AGENT, page1, page1.button_data("Next"))
    assert "page 2 of 2" in page2.plain_text and "6. " in page2.plain_text
    assert "Next ▶" not in [b.text for b in page2.buttons]
    [again] = await shop.press(AGENT, page2, page2.button_data("Previous"))
    assert "page 1 of 2" in again.plain_text
    [back] = await shop.press(AGENT, again, again.button_data("Back to card"))
    assert "Orders 9 / 9" in back.plain_text
    assert back.button_data("Tags") == f"tags:{_cid(back)}"
    assert back.button_data("Note") == f"note:{_cid(back)}"


def _cid(message):
    return message.button_data("Orders").split(":")[1]


async def test_card_shows_tags_with_who_added_them_and_the_latest_note(shop):
    [card] = await shop.send(AGENT, "/whois alice")
    cid = int(_cid(card))
    await tags.add_tags(shop.db, cid, [("爱晒图", "爱晒图")], by=AGENT)
    await notes.add_note(shop.db, cid, "first note", author=AGENT)
    await notes.add_note(shop.db, cid, "prefers SF Express <fast>", author=ADMIN)
    [card] = await shop.send(AGENT, "/whois alice")
    assert f"🏷 爱晒图 ({AGENT})" in card.plain_text
    assert f"📝 prefers SF Express <fast> ({ADMIN}," in card.plain_text
    assert "first note" not in card.plain_text


async def test_tags_button_and_a_reply_to_the_card_reach_the_tag_commands(shop):
    [card] = await shop.send(AGENT, "/whois alice")
    [view] = await shop.press(AGENT, card, card.button_data("Tags"))
    assert "alice" in view.plain_text
    await shop.send(AGENT, "/tag 好沟通", reply_to_message_id=card.message_id)
    [card] = await shop.send(AGENT, "/whois alice")
    assert f"好沟通 ({AGENT})" in card.plain_text


async def test_hostile_input_is_shown_literally(shop):
    [card] = await shop.send(AGENT, f"/whois {HOSTILE}")
    assert HOSTILE in card.plain_text  # the name and the buyer id, as typed
    assert "49" not in card.plain_text.replace("13600006666", "")
    assert "&lt;b&gt;" in card.text  # escaped in the HTML that went out
    [found] = await shop.send(AGENT, "/find DROP TABLE")  # part of that name
    assert f"1. {HOSTILE} (Taobao) {HOSTILE} 136****6666" in found.plain_text
    assert found.buttons[0].text.startswith(f"1. {HOSTILE[:23]}")
    [missing] = await shop.send(AGENT, "/whois <i>{% raw %}")
    assert "No buyer matches “<i>{% raw %}”" in missing.plain_text
    [count] = await shop.send(AGENT, "/whois alice")  # the archive is intact
    assert "alice" in count.plain_text


async def test_find_pages_results_as_buttons_that_open_the_card(shop):
    extra = [order(f"L{i}", f"lilei{i:02d}", name=f"李雷{i:02d}", phone=f"1350000{i:04d}")
             for i in range(11)]  # fmt: skip
    async with OrderImport(shop.db) as imp:
        await imp.add(extra)
        await imp.commit(source="x.csv", preset="taobao", rows_read=len(extra))
    [page1] = await shop.send(AGENT, "/find 李雷")
    assert "page 1" in page1.plain_text
    results = [b for b in page1.buttons if b.callback_data.startswith("whois:")]
    assert len(results) == 8 and "135****00" in results[0].text
    [page2] = await shop.press(AGENT, page1, page1.button_data("Next"))
    assert page2.edited and "page 2" in page2.plain_text
    assert len([b for b in page2.buttons if b.callback_data.startswith("whois:")]) == 3
    assert "9. " in page2.plain_text
    [card] = await shop.press(AGENT, page2, page2.buttons[0].callback_data)
    assert not card.edited and "李雷" in card.plain_text and "Orders 1 / 1" in card.plain_text


@pytest.mark.parametrize(
    ("query", "buyer"),
    [("小明", "alice"), ("5678", "alice"), ("xiaoming@", "alice"), ("T4001", "zhangwei88"),
     ("zhangwei", "zhangwei88")],
)  # fmt: skip
async def test_find_by_part_of_each_field(shop, query, buyer):
    [reply] = await shop.send(AGENT, f"/find {query}")
    assert [b.text.split()[1] for b in reply.buttons] == [buyer]


async def test_long_chinese_query_still_pages(shop):
    name = "欧阳" * 10 + "娜"  # 21 characters, 63 bytes: too long for callback data
    people = [order(f"O{i}", f"oy{i:02d}", name=name) for i in range(9)]
    async with OrderImport(shop.db) as imp:
        await imp.add(people)
        await imp.commit(source="x.csv", preset="taobao", rows_read=len(people))
    [page1] = await shop.send(AGENT, f"/find {name}")
    [page2] = await shop.press(AGENT, page1, page1.button_data("Next"))
    assert "page 2" in page2.plain_text and "9. " in page2.plain_text


async def test_missing_or_wrong_arguments_answer_the_usage(shop):
    for text in ("/whois", "/whois   ", "/find", "/whois " + "x" * 65):
        [reply] = await shop.send(AGENT, text)
        assert reply.plain_text.startswith("Usage: /")
        assert "\n" not in reply.plain_text


async def test_every_lookup_is_in_the_audit_log(shop):
    [card] = await shop.send(AGENT, "/whois alice")
    await shop.press(AGENT, card, card.button_data("Orders"))
    await shop.send(AGENT, "/find 小明")
    rows = await audit.recent(shop.db, user_id=AGENT)
    assert [r["action"] for r in rows] == ["find", "lookup"]
    assert rows[1]["buyer_id"] == "alice" and rows[1]["detail"] == "whois alice"
