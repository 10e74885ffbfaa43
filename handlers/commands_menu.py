"""The command menu Telegram shows each user: setMyCommands per role.

A failure to register is logged and never stops the bot.
"""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError
from telegram.ext import Application

from bot.domain.roles import Role, commands_for
from bot.services import Kefu
from bot.storage import staff

log = logging.getLogger(__name__)


def _menu(services: Kefu, role: Role) -> list[BotCommand]:
    descriptions = services.command_descriptions()
    return [BotCommand(c.name, descriptions.get(c.name, c.name)) for c in commands_for(role)]


async def register_commands_for(app: Application, user_id: int, role: Role) -> None:
    services: Kefu = app.bot_data["kefu"]
    try:
        if role is Role.NONE:
            await app.bot.delete_my_commands(scope=BotCommandScopeChat(user_id))
        else:
            await app.bot.set_my_commands(_menu(services, role), scope=BotCommandScopeChat(user_id))
    except TelegramError as exc:
        log.warning("could not register the command menu for %s: %s", user_id, exc)


async def register_all_commands(app: Application) -> None:
    """Everyone sees /start and /help; each admin and agent sees their role's commands."""
    services: Kefu = app.bot_data["kefu"]
    try:
        await app.bot.set_my_commands(_menu(services, Role.NONE), scope=BotCommandScopeDefault())
    except TelegramError as exc:
        log.warning("could not register the default command menu: %s", exc)
        return
    for user_id in sorted(services.settings.admins):
        await register_commands_for(app, user_id, Role.ADMIN)
    for user_id, role, _, _ in await staff.list_staff(services.db):
        if user_id not in services.settings.admins:
            await register_commands_for(app, user_id, Role[role.upper()])
