"""What every handler module shares: the services, replying with a template, role gates."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.ext import ContextTypes

from bot.domain.roles import Role
from bot.rendering import split_message
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
