"""What is left: unknown commands, strangers' messages, and errors."""

from __future__ import annotations

import html
import logging

from telegram import Update
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.domain.roles import Role
from handlers.common import kefu, reply

log = logging.getLogger(__name__)


async def unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    role = await kefu(context).role_of(user.id if user else None)
    if role is Role.NONE:
        # strangers learn nothing; in groups kefu stays quiet about ordinary chatter
        if update.effective_chat and update.effective_chat.type == "private":
            await reply(update, context, "not_staff")
        return
    message = update.effective_message
    if message and message.text and message.text.startswith("/"):
        await reply(update, context, "unknown_command", command=message.text.split()[0])


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat:
        try:
            await reply(update, context, "error", detail=html.escape(type(context.error).__name__))
        except Exception:  # the error reply must never raise in the error handler
            log.exception("could not tell the user about the error")


HANDLERS = [
    MessageHandler(filters.COMMAND | (filters.TEXT & filters.ChatType.PRIVATE), unknown),
]
