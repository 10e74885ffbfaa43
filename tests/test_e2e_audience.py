"""/audience end to end: counts against a hand-computed archive, errors, segments."""

from __future__ import annotations

from tests.conftest import ADMIN, AGENT
from tests.test_e2e_tags import seed

#: a: lace vneck; b: lace slit refund_risk; c: lace slit; d: vneck; e: no tag
TAGS = {"a": "lace vneck", "b": "lace slit refund_risk", "c": "LACE slit", "d": "vneck"}


async def tagged_shop(bot) -> None:
    await seed(bot)
    for buyer, tags in TAGS.items():
        await bot.send(AGENT, f"/tag {buyer} {tags}")


async def count(bot, expression: str) -> int:
    [reply] = await bot.send(AGENT, f"/audience {expression}")
    return int(reply.plain_text.split()[0])


async def test_counts_match_the_hand_computed_fixture(kefu_bot_en):
    await tagged_shop(kefu_bot_en)
    expected = {
        "lace and (vneck or slit) and not refund_risk": 2,  # a, c
        "lace": 3,
        "Ｌａｃｅ": 3,
        "not lace": 2,
        "vneck || slit": 4,
        "lace 且 not slit": 1,  # a
        "orders >= 2": 3,  # a, c, e
        "spent > 250": 2,  # a 300, e 500 yuan
        "tag = slit or spent >= ¥500": 3,  # b, c, e
        "days_since_last <= 30": 2,  # a, b (d never bought)
        "not (lace or vneck) and orders > 0": 1,  # e
    }
    for expression, n in expected.items():
        assert await count(kefu_bot_en, expression) == n, expression


async def test_answer_has_a_small_breakdown(kefu_bot_en):
    await tagged_shop(kefu_bot_en)
    [reply] = await kefu_bot_en.send(AGENT, "/audience lace and (vneck or slit)")
    text = reply.plain_text
    assert text.startswith("3 of 5 customers match lace and (vneck or slit)")
    assert "bought at least once: 3; in the last 90 days: 3" in text
    assert "spent 550.00 yuan, 52.4% of all sales" in text
    assert "tags among them: lace 3, slit 2" in text


async def test_bad_expressions_say_where_and_what_to_do(kefu_bot_en):
    await tagged_shop(kefu_bot_en)
    [unclosed] = await kefu_bot_en.send(AGENT, "/audience lace and (vneck or slit")
    assert "does not parse" in unclosed.plain_text
    assert unclosed.plain_text.splitlines()[-1].endswith("^")
    [field] = await kefu_bot_en.send(AGENT, "/audience ordres > 2")
    assert "did you mean 'orders'" in field.plain_text
    [implicit] = await kefu_bot_en.send(AGENT, "/audience lace vneck")
    assert "does not parse" in implicit.plain_text
    [usage] = await kefu_bot_en.send(AGENT, "/audience")
    assert usage.plain_text.startswith("Usage: /audience <expression>")
    assert "\n" not in usage.plain_text


async def test_segment_predicates_wait_for_the_segmentation(kefu_bot_en):
    await tagged_shop(kefu_bot_en)
    [reply] = await kefu_bot_en.send(AGENT, "/audience lace and class = 重要挽留")
    assert reply.plain_text.startswith("Segments are not computed yet (class)")
    assert "\n" not in reply.plain_text
    await kefu_bot_en.db.execute(
        "UPDATE customers SET value_class = 'important_value' WHERE buyer_id IN ('a', 'c')"
    )
    [counted] = await kefu_bot_en.send(AGENT, "/audience class = important_value or abc = A")
    assert counted.plain_text.startswith("Segments are not computed yet (abc)")
    [ok] = await kefu_bot_en.send(ADMIN, "/audience class = 重要价值 and slit")
    assert ok.plain_text.startswith("1 of 5")
    assert "value classes: Important value 1" in ok.plain_text


async def test_chinese_answer(kefu_bot):
    await tagged_shop(kefu_bot)
    [reply] = await kefu_bot.send(AGENT, "/audience 「lace」 且 非 refund_risk")
    assert reply.plain_text.startswith("lace and not refund_risk：2 位客户（共 5 位）")
