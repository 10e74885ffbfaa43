"""/note, the Notes view, and /audit end to end."""

from __future__ import annotations

from types import SimpleNamespace

from handlers.common_cards import remember_card
from tests.conftest import ADMIN, AGENT, STRANGER
from tests.test_e2e_tags import customer_id, seed


async def test_notes_are_dated_listed_newest_first_and_added_by_reply(kefu_bot_en):
    await seed(kefu_bot_en)
    [added] = await kefu_bot_en.send(AGENT, "/note a prefers SF Express\nsecond line")
    assert "Note added to a (1 in all" in added.plain_text
    assert "prefers SF Express\nsecond line" in added.plain_text
    cid = await customer_id(kefu_bot_en, "a")
    card = await kefu_bot_en.app.bot.send_message(AGENT, "card of a")
    remember_card(SimpleNamespace(application=kefu_bot_en.app), AGENT, card.message_id, cid)
    [by_reply] = await kefu_bot_en.send(
        AGENT, "/note asked for a bigger size", reply_to_message_id=card.message_id
    )
    assert "(2 in all" in by_reply.plain_text

    [view] = await kefu_bot_en.press(AGENT, card, f"note:{cid}", strict=False)
    text = view.plain_text
    assert text.startswith("Notes on a (taobao), newest first")
    assert text.index("bigger size") < text.index("SF Express")
    assert f"· {AGENT}" in text
    [same] = await kefu_bot_en.send(AGENT, "/note a")
    assert same.plain_text == text

    [usage] = await kefu_bot_en.send(AGENT, "/note")
    assert usage.plain_text == "Usage: /note <buyer> <text>"
    [too_long] = await kefu_bot_en.send(AGENT, "/note a " + "x" * 1001)
    assert "1001 characters" in too_long.plain_text
    [none] = await kefu_bot_en.send(AGENT, "/note zz hello")
    assert "No buyer zz" in none.plain_text


async def test_hostile_note_is_shown_literally(kefu_bot_en):
    await seed(kefu_bot_en)
    hostile = "<script>alert(1)</script> {{ 7*7 }} {% raw %} '); DELETE FROM notes; --"
    await kefu_bot_en.send(AGENT, f"/note b {hostile}")
    await kefu_bot_en.send(AGENT, "/note b &amp; <b>bold?</b>")
    [view] = await kefu_bot_en.send(AGENT, "/note b")
    assert hostile in view.plain_text
    assert "&amp; <b>bold?</b>" in view.plain_text


async def test_audit_records_tags_notes_and_views_for_admins_only(kefu_bot_en):
    await seed(kefu_bot_en)
    await kefu_bot_en.send(AGENT, "/tag a vip")
    await kefu_bot_en.send(AGENT, "/untag a vip")
    await kefu_bot_en.send(AGENT, "/note c called back")
    await kefu_bot_en.send(ADMIN, "/note a")

    [denied] = await kefu_bot_en.send(AGENT, "/audit")
    assert "Only admins" in denied.plain_text
    [stranger] = await kefu_bot_en.send(STRANGER, "/audit")
    assert "staff only" in stranger.plain_text

    [recent] = await kefu_bot_en.send(ADMIN, "/audit")
    lines = recent.plain_text.splitlines()
    assert lines[0] == "Audit, newest first"
    assert f"{ADMIN} lookup a: notes" in lines[1]
    assert f"{AGENT} note c: #1" in lines[2]
    assert f"{AGENT} untag a: vip" in lines[3] and f"{AGENT} tag a: vip" in lines[4]

    [by_agent] = await kefu_bot_en.send(ADMIN, f"/audit {AGENT}")
    assert by_agent.plain_text.startswith(f"Audit of agent {AGENT}")
    assert len(by_agent.plain_text.splitlines()) == 4
    [by_buyer] = await kefu_bot_en.send(ADMIN, "/audit a")
    assert by_buyer.plain_text.startswith("Audit of buyer a (taobao)")
    assert "note c" not in by_buyer.plain_text and len(by_buyer.plain_text.splitlines()) == 4
    [by_order] = await kefu_bot_en.send(ADMIN, "/audit c1")
    assert "note c: #1" in by_order.plain_text
    [nobody] = await kefu_bot_en.send(ADMIN, "/audit 999")
    assert "nothing recorded" in nobody.plain_text
    [usage] = await kefu_bot_en.send(ADMIN, "/audit a b")
    assert usage.plain_text == "Usage: /audit [agent id | buyer]"


async def test_chinese_notes_view(kefu_bot):
    await seed(kefu_bot)
    await kefu_bot.send(AGENT, "/note e 老客户，喜欢蕾丝")
    [view] = await kefu_bot.send(AGENT, "/note e")
    assert view.plain_text.startswith("e（taobao）的备注，最新在前")
    assert "老客户，喜欢蕾丝" in view.plain_text
    [audit] = await kefu_bot.send(ADMIN, "/audit e")
    assert f"{AGENT} 备注 e" in audit.plain_text
