"""/note and the Notes view (the card's ``note:<customer_id>`` button).

/note <buyer> <text>   add a dated note (or reply to a card: /note <text>)
/note <buyer>          the Notes view: every note, newest first
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.domain.roles import Role
from bot.storage import audit, lookup
from bot.storage import notes as note_store
from handlers.common import kefu, reply, requires
from handlers.common_cards import (
    answer,
    arg_text,
    one_customer,
    remember_card,
    replied_customer,
)

USAGE = "/note <buyer> <text>"
MAX_NOTE_CHARS = 1000


async def show_notes_view(
    update: Update, context: ContextTypes.DEFAULT_TYPE, customer: Any
) -> None:
    services = kefu(context)
    await audit.record(
        services.db, update.effective_user.id, "lookup", customer_id=customer["id"],
        detail="notes",
    )  # fmt: skip
    rows = await note_store.notes_of(services.db, customer["id"])
    sent = await reply(update, context, "notes_view", customer=customer, notes=rows)
    if sent is not None:
        remember_card(context, sent.chat_id, sent.message_id, customer["id"])


@requires(Role.AGENT)
async def note_command(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    services = kefu(context)
    raw = arg_text(update)
    customer = None
    text = raw
    replied = replied_customer(update, context)
    if replied is not None and raw:
        customer = await lookup.get_customer(services.db, replied)
    if customer is None:
        parts = raw.split(None, 1)
        if not parts:
            await reply(update, context, "usage", usage=USAGE)
            return
        customer = await one_customer(update, context, parts[0])
        if customer is None:
            return
        if len(parts) == 1:
            await show_notes_view(update, context, customer)
            return
        text = parts[1].strip()
    if len(text) > MAX_NOTE_CHARS:
        await reply(update, context, "note_too_long", length=len(text), limit=MAX_NOTE_CHARS)
        return
    await note_store.add_note(services.db, customer["id"], text, author=update.effective_user.id)
    count = await note_store.count_notes(services.db, customer["id"])
    sent = await reply(update, context, "note_added", customer=customer, text=text, count=count)
    if sent is not None:
        remember_card(context, sent.chat_id, sent.message_id, customer["id"])


@requires(Role.AGENT)
async def note_button(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    """``note:<customer_id>`` (the card's button): the Notes view as a new message."""
    await answer(update)
    customer = await lookup.get_customer(kefu(context).db, int(context.match.group(1)))
    if customer is None:
        await reply(update, context, "buyer_gone")
        return
    await show_notes_view(update, context, customer)


HANDLERS = [
    CommandHandler("note", note_command),
    CallbackQueryHandler(note_button, pattern=r"^note:(\d+)$"),
]
