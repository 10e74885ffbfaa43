"""Which customer a message is about, so that a reply to it can name the buyer implicitly.

The /whois card, the Tags view and the Notes view are remembered per chat as
``message_id -> customer_id`` in ``chat_data`` (the last ``MAX_CARDS`` of them), so
``/tag lace`` or ``/note …`` sent as a reply to one of them needs no buyer id. A card
no longer remembered (after a restart) is recognised by its own buttons
(``tags:<customer_id>`` ...), which Telegram sends along with the replied-to message.
"""

from __future__ import annotations

import html
import re
from typing import Any

import aiosqlite
from telegram import Update
from telegram.ext import ContextTypes

from bot.storage import lookup
from handlers.common import answer, arg_text, kefu, reply, show

__all__ = [
    "MAX_CARDS",
    "answer",
    "arg_text",
    "button_label",
    "card_customer",
    "one_customer",
    "remember_card",
    "replied_customer",
    "resolve_customer",
    "show",
]

MAX_CARDS = 200
#: buttons of the card and of the Tags view that name their customer
_CUSTOMER_BUTTON = re.compile(r"(?:tags|note|tagrm|tagadd):(\d+)(?::|$)")
_KEY = "kefu_cards"


def _cards(context: Any, chat_id: int) -> dict[int, int]:
    chat_data = context.application.chat_data[chat_id]
    return chat_data.setdefault(_KEY, {})


def remember_card(context: Any, chat_id: int, message_id: int, customer_id: int) -> None:
    """Remember that message ``message_id`` in ``chat_id`` is about ``customer_id``."""
    cards = _cards(context, chat_id)
    cards.pop(message_id, None)
    cards[message_id] = customer_id
    while len(cards) > MAX_CARDS:
        del cards[next(iter(cards))]


def card_customer(context: Any, chat_id: int, message_id: int) -> int | None:
    return _cards(context, chat_id).get(message_id)


def replied_customer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
    """The customer of the card the update's message replies to, if it is one."""
    message = update.effective_message
    replied = message.reply_to_message if message else None
    if replied is None:
        return None
    remembered = card_customer(context, replied.chat_id, replied.message_id)
    if remembered is not None:
        return remembered
    # forgotten (a restart, or older than the last MAX_CARDS): a card or view of ours
    # carries the customer in its buttons, and only the bot can have put them there
    if replied.from_user is None or replied.from_user.id != context.bot.id:
        return None
    markup = replied.reply_markup
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            match = _CUSTOMER_BUTTON.match(button.callback_data or "")
            if match:
                return int(match.group(1))
    return None


async def resolve_customer(db: aiosqlite.Connection, key: str) -> list[aiosqlite.Row]:
    """The customers a ``<buyer>`` argument names: the same keys as /whois."""
    return (await lookup.resolve(db, key)).customers


async def one_customer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, key: str
) -> aiosqlite.Row | None:
    """The one customer ``key`` names; otherwise answer why not and return None."""
    services = kefu(context)
    rows = await resolve_customer(services.db, key)
    if not rows:
        await reply(update, context, "buyer_not_found", query=key)
        return None
    if len(rows) > 1:
        matches = [{"platform": r["platform"], "buyer_id": r["buyer_id"]} for r in rows[:10]]
        await reply(update, context, "buyer_ambiguous", query=key, matches=matches)
        return None
    return rows[0]


def button_label(context: ContextTypes.DEFAULT_TYPE, name: str, **values: Any) -> str:
    """A button's text from the ``tag_buttons`` template (plain text: entities undone)."""
    return html.unescape(kefu(context).render("tag_buttons", button=name, **values))
