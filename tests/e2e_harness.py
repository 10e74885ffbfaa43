"""End-to-end test harness: a real Application talking to the in-process Bot API.

    api = InProcessBotAPI()
    app = build_application(settings, request=api)      # or any ApplicationBuilder(...)
    async with BotHarness(app, api) as bot:
        [reply] = await bot.send(ADMIN, "/whois buyer123")
        assert "buyer123" in reply.plain_text
        [edited] = await bot.press(ADMIN, reply, reply.button_data("Orders"))
        [done] = await bot.send_document(ADMIN, "orders.csv", csv_bytes, caption="/import")

Each call processes one update through ``app.process_update`` and returns what the bot
sent in response, in order: new messages and edits (``SentMessage.edited``) alike.
Exceptions raised inside handlers are re-raised by default (``raise_errors=True``) so a
broken handler fails the test instead of just "not replying".
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from telegram import Message, Update
from telegram.ext import Application

from bot.console.session import capture_errors, settle
from bot.console.transport import InProcessBotAPI, SentMessage

__all__ = ["BotHarness", "InProcessBotAPI", "SentMessage", "build_demo_app"]


class BotHarness:
    """Wraps an already-built Application and the InProcessBotAPI it was built with."""

    def __init__(
        self,
        app: Application,
        api: InProcessBotAPI | None = None,
        *,
        raise_errors: bool = True,
    ) -> None:
        if api is None:
            request = app.bot.request
            if not isinstance(request, InProcessBotAPI):
                raise TypeError("the Application was not built with an InProcessBotAPI")
            api = request
        self.app = app
        self.api = api
        self.raise_errors = raise_errors
        #: every error the Application reported while this harness ran
        self.errors: list[BaseException] = []
        self._new_errors: list[BaseException] = []
        self._capture: Any = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> BotHarness:
        self.api.bind(self.app.bot)
        self._capture = capture_errors(self.app, self._on_error)
        self._capture.__enter__()
        await self.app.initialize()
        await self.app.start()
        return self

    async def stop(self) -> None:
        try:
            if self.app.running:
                await self.app.stop()
            await self.app.shutdown()
        finally:
            if self._capture is not None:
                self._capture.__exit__(None, None, None)
                self._capture = None

    async def __aenter__(self) -> BotHarness:
        try:
            return await self.start()
        except BaseException:
            await self.stop()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _on_error(self, exc: BaseException) -> None:
        self.errors.append(exc)
        self._new_errors.append(exc)

    # -- driving the bot ---------------------------------------------------------------------

    async def process(self, update: Update) -> list[SentMessage]:
        """Process any Update; return the messages sent and edited in response."""
        mark = self.api.mark()
        self._new_errors.clear()
        await self.app.process_update(update)
        await settle(self.app)
        if self.raise_errors and self._new_errors:
            raise self._new_errors[0]
        return self.api.events_since(mark)

    async def send(self, user_id: int, text: str, **kw: Any) -> list[SentMessage]:
        """``user_id`` sends ``text`` (kw: chat_id, chat_type, reply_to_message_id, ...)."""
        return await self.process(self.api.user_message(user_id, text, **kw))

    async def send_document(
        self,
        user_id: int,
        filename: str,
        data: bytes,
        caption: str | None = None,
        **kw: Any,
    ) -> list[SentMessage]:
        """``user_id`` sends a file; handlers can download it with get_file()."""
        return await self.process(self.api.user_document(user_id, filename, data, caption, **kw))

    async def press(
        self,
        user_id: int,
        message: SentMessage | Message | int,
        data: str,
        **kw: Any,
    ) -> list[SentMessage]:
        """``user_id`` presses the button with callback_data ``data`` on ``message``."""
        return await self.process(self.api.press_button(user_id, message, data, **kw))

    # -- inspection shortcuts ----------------------------------------------------------------

    def last(self, chat_id: int | None = None) -> SentMessage:
        """The latest message the bot sent (to ``chat_id``), in its current state."""
        return self.api.last_sent(chat_id)

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        return self.api.sent_to(chat_id)

    def answers(self) -> list[dict[str, Any]]:
        """answerCallbackQuery calls, in order (text, show_alert, ...)."""
        return list(self.api.callback_answers.values())


def build_demo_app(api: InProcessBotAPI) -> Application:
    """A tiny Application for testing the harness itself (and as a wiring example).

    /start → HTML + inline keyboard; a button press edits the message; a document is
    downloaded and its size replied; /export sends a CSV back; /photo sends a photo;
    /boom raises; /later replies from a ``block=False`` handler.
    """
    import asyncio

    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile
    from telegram.constants import ParseMode
    from telegram.ext import (
        ApplicationBuilder,
        CallbackQueryHandler,
        CommandHandler,
        ContextTypes,
        MessageHandler,
        filters,
    )

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.effective_user is not None
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Orders", callback_data="orders"),
                    InlineKeyboardButton("Tags", callback_data="tags"),
                ],
                [InlineKeyboardButton("Shop", url="https://shop.example.com")],
            ]
        )
        name = update.effective_user.first_name
        await update.message.reply_html(
            f"<b>Welcome</b>, {name} &lt;3 <a href='https://kefu.example.com'>docs</a>",
            reply_markup=keyboard,
        )

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer(f"{query.data}!")
        await query.edit_message_text(f"<i>{query.data}</i> selected", parse_mode=ParseMode.HTML)

    async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.document is not None
        doc = update.message.document
        data = await (await doc.get_file()).download_as_bytearray()
        caption = f" ({update.message.caption})" if update.message.caption else ""
        await update.message.reply_text(f"got {doc.file_name}: {len(data)} bytes{caption}")

    async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_document(
            update.effective_chat.id,
            InputFile(b"order_id,amount\n1,100\n", filename="export.csv"),
            caption="<b>3</b> orders",
            parse_mode=ParseMode.HTML,
        )

    async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_photo(update.effective_chat.id, b"\x89PNG fake", caption="chart")

    async def boom(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        raise RuntimeError("kaboom\nsecond line")

    async def later(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await asyncio.sleep(0.01)
        await update.message.reply_text("done later")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(f"you said: {update.message.text}")

    app = ApplicationBuilder().token(api.token).request(api).get_updates_request(api).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("export", export))
    app.add_handler(CommandHandler("photo", photo))
    app.add_handler(CommandHandler("boom", boom))
    app.add_handler(CommandHandler("later", later, block=False))
    app.add_handler(CallbackQueryHandler(button))
    app.add_handler(MessageHandler(filters.Document.ALL, document))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app
