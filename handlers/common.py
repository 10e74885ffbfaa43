"""What every handler module shares: the services, replying with a template, role gates."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.domain.roles import Role
from bot.rendering import MESSAGE_LIMIT, split_message
from bot.services import Kefu

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[Any]]
RoleHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, Role], Awaitable[Any]]

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def kefu(context: ContextTypes.DEFAULT_TYPE) -> Kefu:
    return context.application.bot_data["kefu"]


async def reply(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    template: str,
    *,
    keyboard: InlineKeyboardMarkup | None = None,
    **values: Any,
) -> Message | None:
    """Render ``template`` and send it to the chat the update came from.

    Text over Telegram's length limit goes out in several messages; the keyboard
    rides on the last one.
    """
    chat = update.effective_chat
    if chat is None:
        return None
    parts = split_message(kefu(context).render(template, **values))
    sent = None
    for i, part in enumerate(parts):
        sent = await context.bot.send_message(
            chat.id,
            part,
            parse_mode="HTML",
            link_preview_options=NO_PREVIEW,
            reply_markup=keyboard if i == len(parts) - 1 else None,
        )
    return sent


def requires(min_role: Role) -> Callable[[RoleHandler], Handler]:
    """Let the handler run only for users of at least ``min_role``; tell the rest politely."""

    def decorate(handler: RoleHandler) -> Handler:
        @functools.wraps(handler)
        async def gated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Any:
            user = update.effective_user
            role = await kefu(context).role_of(user.id if user else None)
            if role < min_role:
                await reply(update, context, "not_staff" if role is Role.NONE else "admins_only")
                return None
            return await handler(update, context, role)

        return gated

    return decorate


def arg_text(update: Update) -> str:
    """What follows the command, as typed (quotes, inner spaces and line breaks kept)."""
    message = update.effective_message
    text = (message.text or message.caption or "") if message else ""
    parts = text.split(None, 1)
    return parts[1].strip() if len(parts) > 1 else ""


async def show(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    template: str,
    *,
    keyboard: InlineKeyboardMarkup | None = None,
    edit: bool = False,
    **values: Any,
) -> Message | None:
    """Send a view, or with ``edit`` put it in place of the message whose button was pressed."""
    query = update.callback_query
    if edit and query is not None and query.message is not None:
        text = kefu(context).render(template, **values)
        if len(text) <= MESSAGE_LIMIT:
            try:
                result = await query.edit_message_text(
                    text, parse_mode="HTML", reply_markup=keyboard, link_preview_options=NO_PREVIEW
                )
            except BadRequest as exc:  # pressed twice: the view is already there
                if "not modified" not in str(exc).lower():
                    raise
                return None
            return result if isinstance(result, Message) else None
    return await reply(update, context, template, keyboard=keyboard, **values)


async def answer(update: Update) -> None:
    """Stop the pressed button's spinner."""
    if update.callback_query is not None:
        with contextlib.suppress(BadRequest):
            await update.callback_query.answer()
