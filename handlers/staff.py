"""/agents, /agent add|remove: admins manage who may use kefu."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.domain.roles import Role
from bot.storage import staff
from handlers.commands_menu import register_commands_for
from handlers.common import kefu, reply, requires


@requires(Role.ADMIN)
async def agents_command(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    services = kefu(context)
    rows = await staff.list_staff(services.db)
    await reply(
        update,
        context,
        "agents",
        admins=sorted(services.settings.admins),
        agents=[{"user_id": r[0], "added_by": r[2], "added_at": r[3]} for r in rows],
    )


@requires(Role.ADMIN)
async def agent_command(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    args = context.args or []
    if len(args) != 2 or args[0] not in ("add", "remove") or not args[1].isdigit():
        await reply(update, context, "usage", usage="/agent add|remove <user id>")
        return
    action, user_id = args[0], int(args[1])
    services = kefu(context)
    if action == "add":
        if user_id in services.settings.admins:
            await reply(update, context, "agent_changed", action="is_admin", user_id=user_id)
            return
        added = await staff.add_agent(services.db, user_id, added_by=update.effective_user.id)
        await reply(
            update, context, "agent_changed", action="added" if added else "already",
            user_id=user_id,
        )  # fmt: skip
        await register_commands_for(context.application, user_id, Role.AGENT)
    else:
        removed = await staff.remove_agent(services.db, user_id)
        await reply(
            update, context, "agent_changed", action="removed" if removed else "not_agent",
            user_id=user_id,
        )  # fmt: skip
        if removed:
            await register_commands_for(context.application, user_id, Role.NONE)


HANDLERS = [
    CommandHandler("agents", agents_command),
    CommandHandler("agent", agent_command),
]
