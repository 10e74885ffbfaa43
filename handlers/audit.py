"""/audit [agent id | buyer]: admins read who looked up, tagged or noted whom, and when."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.domain.roles import Role
from bot.storage import audit, staff
from handlers.common import kefu, reply, requires
from handlers.common_cards import arg_text, one_customer, resolve_customer

USAGE = "/audit [agent id | buyer]"
LIMIT = 30


@requires(Role.ADMIN)
async def audit_command(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    services = kefu(context)
    key = arg_text(update)
    if not key:
        rows = await audit.recent(services.db, limit=LIMIT)
        await reply(update, context, "audit_list", rows=rows, agent=None, customer=None)
        return
    if len(key.split()) != 1:
        await reply(update, context, "usage", usage=USAGE)
        return
    # a number that is (or was) staff means the agent; anything else names a buyer
    is_staff = key.isdigit() and (
        int(key) in services.settings.admins or await staff.get_role(services.db, int(key))
    )
    if key.isdigit() and (is_staff or not await resolve_customer(services.db, key)):
        rows = await audit.recent(services.db, user_id=int(key), limit=LIMIT)
        await reply(update, context, "audit_list", rows=rows, agent=int(key), customer=None)
        return
    customer = await one_customer(update, context, key)
    if customer is None:
        return
    rows = await audit.recent(services.db, customer_id=customer["id"], limit=LIMIT)
    await reply(update, context, "audit_list", rows=rows, agent=None, customer=customer)


HANDLERS = [CommandHandler("audit", audit_command)]
