"""/start and /help: answer everyone, with the commands their role may use."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.domain.roles import commands_for
from handlers.common import kefu, reply


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = kefu(context)
    user = update.effective_user
    role = await services.role_of(user.id if user else None)
    descriptions = services.command_descriptions()
    commands = [(c.name, descriptions.get(c.name, "")) for c in commands_for(role)]
    await reply(
        update,
        context,
        "help",
        role=role.code,
        commands=commands,
        first_name=user.first_name if user else "",
    )


HANDLERS = [
    CommandHandler("start", help_command),
    CommandHandler("help", help_command),
]
