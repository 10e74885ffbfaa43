"""/whois: one buyer's profile card, its Orders list, and choosing among candidates.

Callback data (all under 64 bytes):
- ``card:<customer id>``   show the card in place of the pressed message
- ``whois:<customer id>``  send the card as a new message (from /find results)
- ``orders:<customer id>:<offset>``  one page of the buyer's orders, in place
- ``tags:<customer id>``, ``note:<customer id>``  handled by handlers/tags.py and notes.py

Who sees what: the viewer's role decides the masking, and in a group chat everyone
in the group reads the card, so there even an admin gets the agent's (masked) card.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import aiosqlite
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.domain.card import build_card, candidate_list, order_lines
from bot.domain.humanize import shorten
from bot.domain.matching import near_matches
from bot.domain.roles import Role
from bot.storage import audit, lookup, notes, tags
from handlers.common import answer, arg_text, kefu, reply, requires, show
from handlers.common_cards import remember_card

USAGE = "/whois <buyer id | phone | order id | name>"
LAST_ORDERS = 3
ORDERS_PAGE = 5


def viewer_role(update: Update, role: Role) -> Role:
    """Full personal data only in a private chat: a group sees the agent's card."""
    chat = update.effective_chat
    if role >= Role.ADMIN and (chat is None or chat.type != "private"):
        return Role.AGENT
    return role


def label(context: ContextTypes.DEFAULT_TYPE, button: str, **values: Any) -> str:
    """A button's text from templates/<locale>/whois_buttons.html (plain text)."""
    return html.unescape(kefu(context).render("whois_buttons", button=button, **values)).strip()


def candidate_keyboard(
    context: ContextTypes.DEFAULT_TYPE, candidates: list[dict[str, Any]], action: str
) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                label(
                    context, "candidate", n=i, buyer_id=shorten(c["buyer_id"], 24),
                    who=shorten(c["name"], 12), phone=c["phone"],
                ),
                callback_data=f"{action}:{c['id']}",
            )
        ]
        for i, c in enumerate(candidates, start=1)
    ]  # fmt: skip
    return InlineKeyboardMarkup(rows)


async def send_card(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    role: Role,
    customer: aiosqlite.Row,
    *,
    edit: bool = False,
    how: str = "",
) -> None:
    """Render ``customer``'s card for this viewer, record the lookup, send or edit it in."""
    services = kefu(context)
    db = services.db
    cid = customer["id"]
    orders = await lookup.last_orders(db, cid, LAST_ORDERS)
    total = customer["order_count"]
    tag_rows = await tags.tags_of(db, cid)
    note = await notes.latest_note(db, cid)
    tz = services.settings.tz
    card = build_card(
        customer,
        orders=orders,
        tags=tag_rows,
        note=note,
        role=viewer_role(update, role),
        today=datetime.now(UTC).astimezone(tz).date(),
        tz=tz,
        locale=services.renderer.locale,
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    label(context, "orders", total=total), callback_data=f"orders:{cid}:0"
                ),
                InlineKeyboardButton(label(context, "tags"), callback_data=f"tags:{cid}"),
                InlineKeyboardButton(label(context, "note"), callback_data=f"note:{cid}"),
            ]
        ]
    )
    await audit.record(db, update.effective_user.id, "lookup", customer_id=cid, detail=how)
    sent = await show(update, context, "whois_card", keyboard=keyboard, edit=edit, c=card)
    if sent is not None:  # /tag or /note in reply to the card needs no buyer id
        remember_card(context, sent.chat_id, sent.message_id, cid)


@requires(Role.AGENT)
async def whois_command(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    query = arg_text(update)
    if not query or len(query) > lookup.MAX_QUERY_CHARS:
        await reply(update, context, "usage", usage=USAGE)
        return
    db = kefu(context).db
    found = await lookup.resolve(db, query)
    if len(found.customers) == 1:
        await send_card(update, context, role, found.customers[0], how=f"whois {query}")
        return
    if found.customers:
        candidates = candidate_list(found.customers, role=viewer_role(update, role))
        await reply(
            update, context, "whois_candidates",
            keyboard=candidate_keyboard(context, candidates, "card"),
            query=query, key=found.key, candidates=candidates,
        )  # fmt: skip
        return
    rows = await lookup.near_candidates(db, query)
    by_buyer = {}
    for row in rows:
        by_buyer.setdefault(row["buyer_id"], row)
    matches = near_matches(query, [(r["buyer_id"], r["name"], r["phone"]) for r in rows])
    near = candidate_list([by_buyer[m.buyer_id] for m in matches], role=viewer_role(update, role))
    await reply(
        update, context, "whois_not_found",
        keyboard=candidate_keyboard(context, near, "card") if near else None,
        query=query, candidates=near,
    )  # fmt: skip


def _ids(data: str, parts: int) -> list[int] | None:
    """The integers after the prefix of ``data`` (``orders:12:5`` -> [12, 5])."""
    pieces = data.split(":")[1:]
    if len(pieces) != parts or not all(p.isdigit() for p in pieces):
        return None
    return [int(p) for p in pieces]


@requires(Role.AGENT)
async def card_button(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    query = update.callback_query
    await answer(update)
    ids = _ids(query.data or "", 1)
    customer = await lookup.get_customer(kefu(context).db, ids[0]) if ids else None
    if customer is None:
        await reply(update, context, "whois_not_found", query="", candidates=[])
        return
    in_place = (query.data or "").startswith("card:")
    await send_card(update, context, role, customer, edit=in_place, how="button")


@requires(Role.AGENT)
async def orders_button(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    query = update.callback_query
    await answer(update)
    services = kefu(context)
    ids = _ids(query.data or "", 2)
    customer = await lookup.get_customer(services.db, ids[0]) if ids else None
    if customer is None:
        await reply(update, context, "whois_not_found", query="", candidates=[])
        return
    cid, offset = ids
    rows, total = await lookup.orders_page(services.db, cid, offset=offset, limit=ORDERS_PAGE)
    nav = []
    if offset > 0:
        prev = max(0, offset - ORDERS_PAGE)
        nav.append(
            InlineKeyboardButton(label(context, "prev"), callback_data=f"orders:{cid}:{prev}")
        )
    if offset + ORDERS_PAGE < total:
        nxt = offset + ORDERS_PAGE
        nav.append(
            InlineKeyboardButton(label(context, "next"), callback_data=f"orders:{cid}:{nxt}")
        )
    back = [InlineKeyboardButton(label(context, "back"), callback_data=f"card:{cid}")]
    await show(
        update, context, "orders_page",
        keyboard=InlineKeyboardMarkup([nav, back] if nav else [back]), edit=True,
        buyer={"buyer_id": customer["buyer_id"], "platform": customer["platform"],
               "name": customer["name"]},
        orders=order_lines(rows, role=viewer_role(update, role), tz=services.settings.tz,
                           locale=services.renderer.locale),
        page=offset // ORDERS_PAGE + 1, pages=max(1, -(-total // ORDERS_PAGE)), total=total,
        first=offset + 1,
    )  # fmt: skip


HANDLERS = [
    CommandHandler("whois", whois_command),
    CallbackQueryHandler(card_button, pattern=r"^(card|whois):"),
    CallbackQueryHandler(orders_button, pattern=r"^orders:"),
]
