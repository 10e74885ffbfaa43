"""Tags end to end: /tag, /untag, tag by reply, the Tags view, /tags, bulk, rename/merge."""

from __future__ import annotations

import time
from types import SimpleNamespace

from bot.domain.order import Buyer, Order
from bot.storage import staff
from bot.storage.lookup import resolve
from bot.storage.order_import import OrderImport
from handlers.common_cards import remember_card
from tests.conftest import ADMIN, AGENT, STRANGER

DAY = 86400
NOW = int(time.time())


def order(order_id, buyer, *, paid=10000, status="completed", days_ago=10, phone=""):
    created = NOW - days_ago * DAY
    return Order(
        platform="taobao", order_id=order_id, buyer_id=buyer, created_at=created,
        status=status, amount_paid_fen=paid, paid_at=created + 60, buyer=Buyer(phone=phone),
    )  # fmt: skip


#: a: 3 orders 300 yuan; b: 1 order 50 yuan; c: 2 orders 200; d: refunded; e: 5 orders 500
SHOP = [
    order("a1", "a"), order("a2", "a"), order("a3", "a", days_ago=100),
    order("b1", "b", paid=5000, phone="13812345678"),
    order("c1", "c", days_ago=40), order("c2", "c", days_ago=35),
    order("d1", "d", status="refunded"),
    *(order(f"e{i}", "e", days_ago=200) for i in range(5)),
]  # fmt: skip


async def seed(bot, orders=SHOP, *, agent=True) -> None:
    """Import ``orders`` and make AGENT an agent."""
    async with OrderImport(bot.db) as imp:
        await imp.add(orders)
        await imp.commit(source="t.csv", preset="generic", rows_read=len(orders))
    if agent:
        await staff.add_agent(bot.db, AGENT, added_by=ADMIN)


async def customer_id(bot, buyer: str) -> int:
    [row] = (await resolve(bot.db, buyer)).customers
    return row["id"]


async def test_tag_a_buyer_then_tag_by_replying_to_the_view(kefu_bot_en):
    await seed(kefu_bot_en)
    [view] = await kefu_bot_en.send(AGENT, '/tag a VIP "big  spender"')
    assert "Tags of a (taobao)" in view.plain_text
    assert "Added: VIP, big spender" in view.plain_text
    assert f"• VIP — by {AGENT}" in view.plain_text
    # the same tag in another case or width is the same tag
    [again] = await kefu_bot_en.send(AGENT, "/tag ＶＩＰ lace", reply_to_message_id=view.message_id)
    assert "Added: lace" in again.plain_text and "Already tagged: VIP" in again.plain_text
    assert again.plain_text.count("• ") == 3
    [listing] = await kefu_bot_en.send(AGENT, "/tags")
    assert "VIP — 1 customer," in listing.plain_text


async def test_tag_by_reply_to_a_card_and_the_tags_button(kefu_bot_en):
    await seed(kefu_bot_en)
    cid = await customer_id(kefu_bot_en, "c")
    card = await kefu_bot_en.app.bot.send_message(AGENT, "card of c")
    remember_card(SimpleNamespace(application=kefu_bot_en.app), AGENT, card.message_id, cid)

    [tagged] = await kefu_bot_en.send(AGENT, "/tag lace", reply_to_message_id=card.message_id)
    assert "Tags of c" in tagged.plain_text and "Added: lace" in tagged.plain_text

    [view] = await kefu_bot_en.press(AGENT, card, f"tags:{cid}", strict=False)
    assert not view.edited and "• lace" in view.plain_text
    labels = [b.text for b in view.buttons]
    assert "✕ lace" in labels and "+ 爱晒图" in labels
    assert all(len(b.callback_data.encode()) <= 64 for b in view.buttons)

    [edited] = await kefu_bot_en.press(AGENT, view, view.button_data("+ 爱晒图"))
    assert edited.edited and "Added: 爱晒图" in edited.plain_text
    assert "+ 爱晒图" not in [b.text for b in edited.buttons]
    [edited] = await kefu_bot_en.press(AGENT, edited, edited.button_data("✕ lace"))
    assert "Removed: lace" in edited.plain_text and "• lace" not in edited.plain_text
    [after] = await kefu_bot_en.send(AGENT, "/audience lace")
    assert after.plain_text.startswith("0 of 5 customers")


async def test_untag_and_usage_lines(kefu_bot_en):
    await seed(kefu_bot_en)
    await kefu_bot_en.send(AGENT, "/tag b slit")
    [view] = await kefu_bot_en.send(AGENT, "/untag b SLIT vip")
    assert "Removed: slit" in view.plain_text and "Not tagged with: vip" in view.plain_text
    for text in ("/tag", "/tag b", "/untag", "/untag b"):
        [usage] = await kefu_bot_en.send(AGENT, text)
        assert usage.plain_text.startswith("Usage: /") and "\n" not in usage.plain_text
    [bad] = await kefu_bot_en.send(AGENT, '/tag b "unclosed')
    assert "missing closing" in bad.plain_text
    [long] = await kefu_bot_en.send(AGENT, "/tag b " + "x" * 40)
    assert "too long" in long.plain_text
    [unknown] = await kefu_bot_en.send(AGENT, "/tag nobody vip")
    assert "No buyer nobody" in unknown.plain_text
    # by order id and by phone as well
    [by_order] = await kefu_bot_en.send(AGENT, "/tag c1 x")
    assert "Tags of c" in by_order.plain_text
    [by_phone] = await kefu_bot_en.send(AGENT, "/tag 13812345678 y")
    assert "Tags of b" in by_phone.plain_text


async def test_tags_lists_customers_and_share_of_sales_then_pages(kefu_bot_en):
    many = [order(f"m{i}", f"m{i:02d}", paid=100 * (i + 1)) for i in range(25)]
    await seed(kefu_bot_en, [*SHOP, *many])
    for buyer in ("a", "b", "c"):
        await kefu_bot_en.send(AGENT, f"/tag {buyer} lace")
    [listing] = await kefu_bot_en.send(AGENT, "/tags")
    # a + b + c spent 550 of 1050 + 325 yuan
    assert "lace — 3 customers, 550.00 yuan (40.0%)" in listing.plain_text

    [bulk] = await kefu_bot_en.send(ADMIN, "/tag where spent < 30 and orders > 0 small")
    assert "25 customers match" in bulk.plain_text
    await kefu_bot_en.press(ADMIN, bulk, bulk.button_data("Tag 25"))
    [page1] = await kefu_bot_en.send(AGENT, "/tags small")
    assert "small: 25 customers (page 1 of 2)" in page1.plain_text
    assert "1. m24 (taobao)" in page1.plain_text and "\n21. " not in page1.plain_text
    [page2] = await kefu_bot_en.press(AGENT, page1, page1.button_data("Next"))
    assert page2.edited and "21. m04" in page2.plain_text and "25. m00" in page2.plain_text
    [none] = await kefu_bot_en.send(AGENT, "/tags nosuchtag")
    assert "No tag nosuchtag" in none.plain_text


async def test_bulk_tagging_applies_only_after_its_own_agent_confirms(kefu_bot_en):
    await seed(kefu_bot_en)
    await kefu_bot_en.send(AGENT, "/tag a loyal")
    [preview] = await kefu_bot_en.send(AGENT, "/tag where orders >= 2 loyal")
    assert "3 customers match orders >= 2" in preview.plain_text
    assert "changes 2 of them" in preview.plain_text
    [before] = await kefu_bot_en.send(AGENT, "/audience loyal")
    assert before.plain_text.startswith("1 of 5")

    await kefu_bot_en.press(ADMIN, preview, preview.button_data("Cancel"))
    assert kefu_bot_en.answers()[-1]["show_alert"] is True  # not the admin's to confirm
    [done] = await kefu_bot_en.press(AGENT, preview, preview.button_data("Tag 2"))
    assert done.edited and "Done: 2 tags" in done.plain_text and not done.buttons
    [after] = await kefu_bot_en.send(AGENT, "/audience loyal")
    assert after.plain_text.startswith("3 of 5")

    [cancel] = await kefu_bot_en.send(AGENT, "/tag where not loyal gone")
    [cancelled] = await kefu_bot_en.press(AGENT, cancel, cancel.button_data("Cancel"))
    assert "Cancelled" in cancelled.plain_text
    [zero] = await kefu_bot_en.send(AGENT, "/audience gone")
    assert zero.plain_text.startswith("0 of 5")

    [nothing] = await kefu_bot_en.send(AGENT, "/tag where loyal and not loyal x")
    assert "No customer matches" in nothing.plain_text and not nothing.buttons
    [bad] = await kefu_bot_en.send(AGENT, "/tag where (lace loyal")
    assert "does not parse" in bad.plain_text


async def test_admins_rename_and_merge_tags(kefu_bot_en):
    await seed(kefu_bot_en)
    await kefu_bot_en.send(AGENT, "/tag a lace vneck")
    await kefu_bot_en.send(AGENT, "/tag d v-neck")
    [denied] = await kefu_bot_en.send(AGENT, "/tag rename lace Lace")
    assert "Only admins" in denied.plain_text

    [renamed] = await kefu_bot_en.send(ADMIN, '/tag rename lace "lace trim"')
    assert "now called lace trim" in renamed.plain_text
    [exists] = await kefu_bot_en.send(ADMIN, "/tag rename v-neck vneck")
    assert "/tag merge" in exists.plain_text
    [merged] = await kefu_bot_en.send(ADMIN, "/tag merge v-neck vneck")
    assert "1 customer newly carries vneck" in merged.plain_text
    [count] = await kefu_bot_en.send(AGENT, '/audience "lace trim" or vneck')
    assert count.plain_text.startswith("2 of 5")
    [usage] = await kefu_bot_en.send(ADMIN, "/tag merge vneck")
    assert usage.plain_text == "Usage: /tag merge <from tag> <into tag>"


async def test_strangers_get_nothing_about_customers(kefu_bot_en):
    await seed(kefu_bot_en, agent=False)
    await kefu_bot_en.send(ADMIN, "/tag a secret_tag")
    cid = await customer_id(kefu_bot_en, "a")
    card = await kefu_bot_en.app.bot.send_message(STRANGER, "a message")
    commands = ["/tag a x", "/untag a secret_tag", "/tags", "/tags secret_tag", "/note a hi"]
    for text in (*commands, "/audience secret_tag", "/tag where secret_tag y", "/audit"):
        [refusal] = await kefu_bot_en.send(STRANGER, text)
        assert "staff only" in refusal.plain_text, text
    for data in (f"tags:{cid}", f"note:{cid}", f"tagrm:{cid}:1", "tagl:1:0"):
        replies = await kefu_bot_en.press(STRANGER, card, data, strict=False)
        assert [r.plain_text for r in replies] == [replies[0].plain_text]
        assert "staff only" in replies[0].plain_text
    [agent_try] = await kefu_bot_en.send(AGENT, "/tags")
    assert "secret_tag" not in agent_try.plain_text
    [still] = await kefu_bot_en.send(ADMIN, "/audience secret_tag")
    assert still.plain_text.startswith("1 of 5")


async def test_hostile_buyer_id_and_tags_are_stored_and_shown_literally(kefu_bot_en):
    hostile = "<b>x</b>{{7*7}}'; DROP TABLE customers; --"
    await seed(kefu_bot_en, [*SHOP, order("h1", hostile)])
    [row] = (await resolve(kefu_bot_en.db, hostile)).customers
    [view] = await kefu_bot_en.send(AGENT, "/tag h1 <i>ok</i> \"{{ 7*7 }}\" \"x' OR '1'='1\"")
    assert f"Tags of {hostile} (taobao)" in view.plain_text
    for literal in ("<i>ok</i>", "{{ 7*7 }}", "x' OR '1'='1"):
        assert f"• {literal} — by" in view.plain_text
    assert "&lt;" not in view.plain_text and "49" not in view.plain_text
    [count] = await kefu_bot_en.send(AGENT, '/audience "<i>ok</i>" and "{{ 7*7 }}"')
    assert count.plain_text.startswith("1 of 6")
    [listing] = await kefu_bot_en.send(AGENT, "/tags <i>ok</i>")
    assert hostile in listing.plain_text
    assert row["buyer_id"] == hostile


async def test_whois_card_then_tag_by_reply_and_its_tags_and_note_buttons(kefu_bot_en):
    await seed(kefu_bot_en)
    [card] = await kefu_bot_en.send(AGENT, "/whois c")
    cid = await customer_id(kefu_bot_en, "c")
    assert f"tags:{cid}" in [b.callback_data for b in card.buttons]
    [tagged] = await kefu_bot_en.send(AGENT, "/tag lace", reply_to_message_id=card.message_id)
    assert "Tags of c" in tagged.plain_text and "Added: lace" in tagged.plain_text
    [view] = await kefu_bot_en.press(AGENT, card, f"tags:{cid}")
    assert "• lace" in view.plain_text and not view.edited
    [notes] = await kefu_bot_en.press(AGENT, card, f"note:{cid}")
    assert notes.plain_text.startswith("Notes on c")
    # after a restart the chat's memory is gone; the card's own buttons still name c
    kefu_bot_en.app.chat_data[AGENT].clear()
    [again] = await kefu_bot_en.send(AGENT, "/note likes red", reply_to_message_id=card.message_id)
    assert "Note added to c" in again.plain_text
    [usage] = await kefu_bot_en.send(AGENT, "/tag x", reply_to_message_id=again.message_id - 1)
    assert usage.plain_text.startswith("Usage:")
