"""The in-process Bot API drives a real telegram.ext.Application."""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.console.transport import InProcessBotAPI, parse_html
from tests.e2e_harness import BotHarness, build_demo_app

USER = 501


@pytest.fixture
async def bot() -> AsyncIterator[BotHarness]:
    api = InProcessBotAPI()
    async with BotHarness(build_demo_app(api), api) as harness:
        yield harness


async def test_get_me_gives_the_bot_identity(bot: BotHarness) -> None:
    assert bot.app.bot.username == "kefu_bot"
    assert bot.app.bot.id == 1000
    assert bot.api.calls[0].method == "getMe"


async def test_command_reply_is_html_with_inline_keyboard(bot: BotHarness) -> None:
    [reply] = await bot.send(USER, "/start", first_name="Li")
    assert reply.chat_id == USER
    assert reply.parse_mode == "HTML"
    assert reply.plain_text == "Welcome, Li <3 docs"
    assert [b.text for b in reply.buttons] == ["Orders", "Tags", "Shop"]
    assert reply.button_data("Orders") == "orders"
    assert reply.buttons[2].url == "https://shop.example.com"
    assert reply.reply_markup is not None
    params = bot.api.calls_to("sendMessage")[0]
    assert params["chat_id"] == USER


async def test_button_press_edits_the_message_and_answers_the_query(bot: BotHarness) -> None:
    [menu] = await bot.send(USER, "/start")
    [edited] = await bot.press(USER, menu, menu.button_data("Tags"))
    assert edited.edited and edited.message_id == menu.message_id
    assert edited.plain_text == "tags selected"
    assert edited.reply_markup is None
    # harness results are snapshots; api.sent holds the message's current state
    assert menu.plain_text.startswith("Welcome")
    assert [m.plain_text for m in bot.api.sent] == ["tags selected"]
    assert bot.answers()[-1]["text"] == "tags!"


async def test_press_refuses_a_button_the_message_does_not_have(bot: BotHarness) -> None:
    [menu] = await bot.send(USER, "/start")
    with pytest.raises(ValueError, match="(?i)no button"):
        await bot.press(USER, menu, "nope")


async def test_editing_with_identical_content_is_not_modified(bot: BotHarness) -> None:
    [msg] = await bot.send(USER, "hello")
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.app.bot.edit_message_text("you said: hello", USER, msg.message_id)


async def test_answering_a_callback_query_twice_fails(bot: BotHarness) -> None:
    [menu] = await bot.send(USER, "/start")
    update = bot.api.press_button(USER, menu, "orders")
    assert update.callback_query is not None
    await update.callback_query.answer()
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await update.callback_query.answer()


async def test_uploaded_document_is_downloaded_by_the_handler(bot: BotHarness) -> None:
    data = b"order_id,amount\n" + b"1,100\n" * 50
    [reply] = await bot.send_document(USER, "orders.csv", data, caption="import")
    assert reply.plain_text == f"got orders.csv: {len(data)} bytes (import)"


async def test_download_to_drive(bot: BotHarness, tmp_path: Path) -> None:
    update = bot.api.user_document(USER, "export.xlsx", b"PK\x03\x04xlsx")
    assert update.message is not None and update.message.document is not None
    assert update.message.document.mime_type is not None
    tg_file = await update.message.document.get_file()
    target = await tg_file.download_to_drive(tmp_path / "got.xlsx")
    assert target.read_bytes() == b"PK\x03\x04xlsx"


async def test_send_document_keeps_filename_and_bytes(bot: BotHarness) -> None:
    [msg] = await bot.send(USER, "/export")
    assert msg.method == "sendDocument"
    assert msg.document is not None
    assert msg.document.filename == "export.csv"
    assert msg.document.data == b"order_id,amount\n1,100\n"
    assert msg.plain_text == "3 orders"
    # the bot can send it again by file_id, and download it
    again = await bot.app.bot.send_document(USER, msg.document.file_id)
    assert again.document is not None and again.document.file_name == "export.csv"
    tg_file = await bot.app.bot.get_file(msg.document.file_id)
    assert bytes(await tg_file.download_as_bytearray()) == msg.document.data


async def test_send_photo(bot: BotHarness) -> None:
    [msg] = await bot.send(USER, "/photo")
    assert msg.photo is not None and msg.photo.data == b"\x89PNG fake"
    assert msg.plain_text == "chart"


async def test_blocked_chat_is_forbidden(bot: BotHarness) -> None:
    bot.api.block_chat(USER)
    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await bot.app.bot.send_message(USER, "hi")
    with pytest.raises(Forbidden):  # a handler replying to a blocked user
        await bot.send(USER, "/start")
    bot.api.unblock_chat(USER)
    await bot.app.bot.send_message(USER, "hi again")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_429_is_retry_after(bot: BotHarness) -> None:
    bot.api.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.app.bot.send_message(USER, "hi")
    retry_after = info.value.retry_after
    assert retry_after in (7, dtm.timedelta(seconds=7))
    await bot.app.bot.send_message(USER, "hi")  # only the next call failed
    assert [m.plain_text for m in bot.api.sent] == ["hi"]


async def test_injected_server_error_and_bad_request(bot: BotHarness) -> None:
    bot.api.fail_next("*", status=400, description="Bad Request: chat not found", times=2)
    for _ in range(2):
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.app.bot.send_chat_action(USER, "typing")
    assert await bot.app.bot.send_chat_action(USER, "typing")


async def test_too_long_message_is_bad_request(bot: BotHarness) -> None:
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.app.bot.send_message(USER, "x" * 4097)
    # the limit counts the text after entity parsing, not the tags
    await bot.app.bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)caption is too long"):
        await bot.app.bot.send_document(USER, b"x", filename="a.txt", caption="c" * 1025)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.app.bot.send_message(USER, "<b> </b>", parse_mode="HTML")


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("line<br>break", 'Unsupported start tag "br"'),
        ("<div>x</div>", 'Unsupported start tag "div"'),
        ("price < 5", 'Unsupported start tag ""'),
        ("<b>x</i>", "Unmatched end tag"),
        ("x</b>", "Unexpected end tag"),
        ("<span>x</span>", 'must have class "tg-spoiler"'),
    ],
)
async def test_invalid_html_is_bad_request(bot: BotHarness, html: str, error: str) -> None:
    with pytest.raises(BadRequest, match="(?i)can't parse entities") as info:
        await bot.app.bot.send_message(USER, html, parse_mode="HTML")
    assert error.lower() in str(info.value).lower()
    # without parse_mode the same text is fine
    await bot.app.bot.send_message(USER, html)


async def test_valid_html_entities_with_utf16_offsets(bot: BotHarness) -> None:
    msg = await bot.app.bot.send_message(
        USER,
        '😀 <b>a</b> &lt;<a href="https://x.cn/?a=1&amp;b=2">link</a>'
        '<pre><code class="language-python">x = 1</code></pre>'
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler><blockquote>q</blockquote>',
        parse_mode="HTML",
    )
    assert msg.text == "😀 a <linkx = 1stq"
    kinds = [(e.type, e.offset, e.length) for e in msg.entities]
    assert kinds[0] == ("bold", 3, 1)  # the emoji is two UTF-16 units
    link = msg.entities[1]
    assert link.url == "https://x.cn/?a=1&b=2"
    pre = msg.entities[2]
    assert pre.type == "pre" and pre.language == "python"
    assert [e.type for e in msg.entities[3:]] == ["spoiler", "spoiler", "blockquote"]


def test_parse_html_unescapes_numeric_entities() -> None:
    plain, entities = parse_html("&#20013;&#x6587; &amp;amp; &nbsp;")
    assert plain == "中文 &amp; &nbsp;"
    assert entities == []


async def test_callback_data_over_64_bytes_is_rejected(bot: BotHarness) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="y" * 65)]])
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.app.bot.send_message(USER, "menu", reply_markup=markup)


async def test_set_my_commands_recorded_per_scope(bot: BotHarness) -> None:
    tg = bot.app.bot
    await tg.set_my_commands([BotCommand("whois", "look a buyer up")])
    await tg.set_my_commands(
        [BotCommand("whois", "look a buyer up"), BotCommand("import", "import orders")],
        scope=BotCommandScopeChat(42),
    )
    await tg.set_my_commands(
        [BotCommand("whois", "查客户")], scope=BotCommandScopeAllPrivateChats(), language_code="zh"
    )
    assert bot.api.get_commands() == [("whois", "look a buyer up")]
    assert [c for c, _ in bot.api.get_commands({"type": "chat", "chat_id": 42})] == [
        "whois",
        "import",
    ]
    assert bot.api.get_commands(BotCommandScopeAllPrivateChats(), "zh") == [("whois", "查客户")]
    assert bot.api.get_commands(BotCommandScopeAllPrivateChats()) == []
    got = await tg.get_my_commands(scope=BotCommandScopeChat(42))
    assert [c.command for c in got] == ["whois", "import"]
    await tg.delete_my_commands(scope=BotCommandScopeChat(42))
    assert bot.api.get_commands(BotCommandScopeChat(42)) == []
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await tg.set_my_commands([BotCommand("WhoIs", "capitals are not allowed")])


async def test_reply_to_a_message(bot: BotHarness) -> None:
    [first] = await bot.send(USER, "hello")
    sent = await bot.app.bot.send_message(USER, "re", reply_to_message_id=first.message_id)
    assert sent.reply_to_message is not None
    assert bot.api.sent[-1].reply_to_message_id == first.message_id
    with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
        await bot.app.bot.send_message(USER, "re", reply_to_message_id=999)


async def test_group_chat_message(bot: BotHarness) -> None:
    [reply] = await bot.send(USER, "hi all", chat_id=-100123, chat_type="supergroup")
    assert reply.chat_id == -100123
    bot.api.block_chat(-100123)
    with pytest.raises(Forbidden, match="(?i)kicked"):
        await bot.app.bot.send_message(-100123, "x")


async def test_non_blocking_handler_reply_is_collected(bot: BotHarness) -> None:
    [reply] = await bot.send(USER, "/later")
    assert reply.plain_text == "done later"


async def test_handler_errors_are_raised_by_the_harness(bot: BotHarness) -> None:
    with pytest.raises(RuntimeError, match="(?i)kaboom"):
        await bot.send(USER, "/boom")
    bot.raise_errors = False
    assert await bot.send(USER, "/boom") == []
    assert len(bot.errors) == 2


async def test_unimplemented_method_fails_loudly(bot: BotHarness) -> None:
    with pytest.raises(BadRequest, match="(?i)not implemented by InProcessBotAPI"):
        await bot.app.bot.send_dice(USER)
    bot.api.on_method("getChatMemberCount", lambda params: 7)
    assert await bot.app.bot.get_chat_member_count(USER) == 7


async def test_polling_path_with_push_update() -> None:
    api = InProcessBotAPI()
    app = build_demo_app(api)
    api.bind(app.bot)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=5)
        api.push_update(api.user_message(USER, "/start"))
        api.push_update(api.user_message(USER, "polled"))
        async with asyncio.timeout(3):
            while len(api.sent) < 2:
                await asyncio.sleep(0.005)
        await app.updater.stop()  # must not wait for the 5 s long poll
        await app.stop()
    assert [m.plain_text for m in api.sent][1] == "you said: polled"
    assert api.calls_to("deleteWebhook")
