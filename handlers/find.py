"""/find <text>: buyers by buyer id, name, phone digits, e-mail or order id, paged as buttons.

A result button (``whois:<customer id>``) sends that buyer's card. The page buttons
carry the query in their callback data (``find:<offset>:<query>``) when it fits in
Telegram's 64 bytes; a longer query is kept in memory under a number instead
(``find:<offset>:#<n>``), which a restart forgets: the user is asked to search again.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.domain.card import candidate_list
from bot.domain.roles import Role
from bot.storage import audit, lookup
from handlers.common import answer, arg_text, kefu, reply, requires, show
from handlers.whois import candidate_keyboard, label, viewer_role

USAGE = "/find <buyer id | name | 4+ digits of a phone | e-mail | order id>"
PAGE = 8
MAX_CALLBACK_BYTES = 64
_SAVED = "find_queries"
_SAVED_MAX = 500


def _query_ref(context: ContextTypes.DEFAULT_TYPE, offset: int, query: str) -> str:
    data = f"find:{offset}:{query}"
    if len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES and not query.startswith("#"):
        return data
    saved: dict[str, str] = context.bot_data.setdefault(_SAVED, {})
    number = next((k for k, v in saved.items() if v == query), None)
    if number is None:
        number = str(len(saved) + 1)
        if len(saved) >= _SAVED_MAX:
            saved.clear()
            number = "1"
        saved[number] = query
    return f"find:{offset}:#{number}"


async def _results(
    update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role, query: str, offset: int,
    *, edit: bool,
) -> None:  # fmt: skip
    rows, more = await lookup.search(kefu(context).db, query, offset=offset, limit=PAGE)
    found = candidate_list(rows, role=viewer_role(update, role))
    keyboard = candidate_keyboard(context, found, "whois") if found else None
    nav = []
    if offset > 0:
        nav.append(
            InlineKeyboardButton(
                label(context, "prev"),
                callback_data=_query_ref(context, max(0, offset - PAGE), query),
            )
        )
    if more:
        nav.append(
            InlineKeyboardButton(
                label(context, "next"), callback_data=_query_ref(context, offset + PAGE, query)
            )
        )
    if nav and keyboard is not None:
        keyboard = InlineKeyboardMarkup([*keyboard.inline_keyboard, nav])
    await show(
        update, context, "find_results", keyboard=keyboard, edit=edit,
        query=query, results=found, first=offset + 1, page=offset // PAGE + 1, more=more,
    )  # fmt: skip


@requires(Role.AGENT)
async def find_command(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    query = arg_text(update)
    if not query or len(query) > lookup.MAX_QUERY_CHARS:
        await reply(update, context, "usage", usage=USAGE)
        return
    await audit.record(kefu(context).db, update.effective_user.id, "find", detail=query)
    await _results(update, context, role, query, 0, edit=False)


@requires(Role.AGENT)
async def find_page(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    await answer(update)
    _, offset, query = (update.callback_query.data or "").split(":", 2)
    if query.startswith("#"):
        query = context.bot_data.get(_SAVED, {}).get(query[1:], "")
    if not offset.isdigit() or not query:
        await reply(update, context, "usage", usage=USAGE)
        return
    await _results(update, context, role, query, int(offset), edit=True)


HANDLERS = [
    CommandHandler("find", find_command),
    CallbackQueryHandler(find_page, pattern=r"^find:\d+:"),
]
