"""/tag, /untag, /tags and the Tags view (the card's ``tags:<customer_id>`` button).

/tag <buyer> <tag>...        tag a buyer (or reply to a card: /tag <tag>...)
/untag <buyer> <tag>...      take tags off (the history stays)
/tag where <expr> <tag>...   bulk tagging, applied after a confirm button
/tag rename <old> <new>      admins: rename a tag (history follows)
/tag merge <from> <into>     admins: fold one tag into another
/tags                        the shop's tags: customers and share of sales
/tags <tag>                  the customers carrying a tag, paged
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.domain.audience import And, AudienceSyntaxError, Expr, Not, Tag, describe, parse_tag_where
from bot.domain.roles import Role
from bot.domain.tags import MAX_TAG_LENGTH, TagError, parse_tag_args, validate_tag
from bot.storage import audience as audience_store
from bot.storage import audit, lookup
from bot.storage import tags as tag_store
from handlers.audience import compiled_or_reply
from handlers.common import kefu, reply, requires
from handlers.common_cards import (
    answer,
    arg_text,
    button_label,
    one_customer,
    remember_card,
    replied_customer,
    show,
)

USAGE = "/tag <buyer> <tag> [tag…] | /tag where <expression> <tag> | /tag rename|merge <tag> <tag>"
UNTAG_USAGE = "/untag <buyer> <tag>"
PAGE = 20
MAX_REMOVE_BUTTONS = 24
#: pending bulk operations per chat, and how long a confirm button stays valid
MAX_PENDING = 10
PENDING_TTL_S = 15 * 60
_WHERE = re.compile(r"where\s+(.*)\Z", re.IGNORECASE | re.DOTALL)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u2060\ufeff\u00ad"))


def _label(typed: str) -> str:
    """How a new tag is shown: as first typed, spaces collapsed, without a leading #."""
    text = " ".join(typed.translate(_INVISIBLE).split()).lstrip("#").strip()
    return text[:MAX_TAG_LENGTH] or typed


def _tag_pairs(words: list[str]) -> list[tuple[str, str]]:
    """(normalised tag, label) for each typed tag, duplicates dropped; TagError if bad."""
    pairs: dict[str, str] = {}
    for word in words:
        pairs.setdefault(validate_tag(word), _label(word))
    return list(pairs.items())


async def _shop_labels(db: Any, pairs: list[tuple[str, str]]) -> dict[str, str]:
    """tag -> how the shop spells it (the typed spelling for a tag the shop lacks)."""
    labels = {}
    for tag, typed in pairs:
        row = await tag_store.get_tag(db, tag)
        labels[tag] = row["label"] if row else typed
    return labels


def _rows(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


# ----------------------------------------------------------------------------- Tags view


async def show_tags_view(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    customer: Any,
    *,
    edit: bool = False,
    **change: Any,
) -> None:
    """The customer's tags with remove buttons and the shop's suggested tags as add buttons."""
    services = kefu(context)
    current = await tag_store.tags_of(services.db, customer["id"])
    carried = {row["tag"] for row in current}
    cid = customer["id"]
    remove = [
        InlineKeyboardButton(
            button_label(context, "remove_tag", label=row["label"]),
            callback_data=f"tagrm:{cid}:{row['rowid']}",
        )
        for row in current[:MAX_REMOVE_BUTTONS]
    ]
    add = []
    for i, suggested in enumerate(services.settings.suggested_tags):
        try:
            if validate_tag(suggested) in carried:
                continue
        except TagError:
            continue
        add.append(
            InlineKeyboardButton(
                button_label(context, "add_tag", label=suggested),
                callback_data=f"tagadd:{cid}:{i}",
            )
        )
    rows = _rows(remove, 3) + _rows(add, 4)
    sent = await show(
        update,
        context,
        "tags_view",
        keyboard=InlineKeyboardMarkup(rows) if rows else None,
        edit=edit,
        customer=customer,
        tags=current,
        added=change.get("added", []),
        already=change.get("already", []),
        removed=change.get("removed", []),
        not_carried=change.get("not_carried", []),
    )
    if sent is not None:
        remember_card(context, sent.chat_id, sent.message_id, cid)


async def _customer_and_words(
    update: Update, context: ContextTypes.DEFAULT_TYPE, words: list[str], usage: str
) -> tuple[Any, list[str]] | None:
    """The customer (from a replied-to card, else the first word) and the remaining words."""
    services = kefu(context)
    replied = replied_customer(update, context)
    if replied is not None and words:
        customer = await lookup.get_customer(services.db, replied)
        if customer is not None:
            return customer, words
    if len(words) < 2:
        await reply(update, context, "usage", usage=usage)
        return None
    customer = await one_customer(update, context, words[0])
    return (customer, words[1:]) if customer is not None else None


async def _customer_and_tags(
    update: Update, context: ContextTypes.DEFAULT_TYPE, words: list[str], usage: str
) -> tuple[Any, list[tuple[str, str]]] | None:
    """The customer and the (tag, label) pairs typed after it; None after saying what is wrong."""
    found = await _customer_and_words(update, context, words, usage)
    if found is None:
        return None
    customer, typed = found
    try:
        return customer, _tag_pairs(typed)
    except TagError as exc:
        await reply(update, context, "tag_error", error=str(exc))
        return None


@requires(Role.AGENT)
async def tag_command(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    raw = arg_text(update)
    where = _WHERE.match(raw)
    if where:
        await _bulk_preview(update, context, where.group(1))
        return
    try:
        words = parse_tag_args(raw)
    except TagError as exc:
        await reply(update, context, "tag_error", error=str(exc))
        return
    if words and words[0].lower() in ("rename", "merge"):
        if role < Role.ADMIN:
            await reply(update, context, "admins_only")
        elif words[0].lower() == "rename":
            await _rename(update, context, words[1:])
        else:
            await _merge(update, context, words[1:])
        return
    found = await _customer_and_tags(update, context, words, USAGE)
    if found is None:
        return
    customer, pairs = found
    added = await tag_store.add_tags(
        kefu(context).db, customer["id"], pairs, by=update.effective_user.id
    )
    labels = await _shop_labels(kefu(context).db, pairs)
    await show_tags_view(
        update,
        context,
        customer,
        added=[labels[t] for t in added],
        already=[labels[t] for t, _ in pairs if t not in added],
    )


@requires(Role.AGENT)
async def untag_command(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    try:
        words = parse_tag_args(arg_text(update))
    except TagError as exc:
        await reply(update, context, "tag_error", error=str(exc))
        return
    found = await _customer_and_tags(update, context, words, UNTAG_USAGE)
    if found is None:
        return
    customer, pairs = found
    db = kefu(context).db
    labels = await _shop_labels(db, pairs)
    removed, not_carried = [], []
    for tag, _ in pairs:
        if await tag_store.remove_tag(db, customer["id"], tag, by=update.effective_user.id):
            removed.append(labels[tag])
        else:
            not_carried.append(labels[tag])
    await show_tags_view(update, context, customer, removed=removed, not_carried=not_carried)


@requires(Role.AGENT)
async def tags_button(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    """``tags:<customer_id>`` (the card's button): the Tags view as a new message."""
    await answer(update)
    customer = await lookup.get_customer(kefu(context).db, int(context.match.group(1)))
    if customer is None:
        await reply(update, context, "buyer_gone")
        return
    await audit.record(
        kefu(context).db, update.effective_user.id, "lookup", customer_id=customer["id"],
        detail="tags",
    )  # fmt: skip
    await show_tags_view(update, context, customer)


@requires(Role.AGENT)
async def tag_remove_button(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    await answer(update)
    db = kefu(context).db
    customer = await lookup.get_customer(db, int(context.match.group(1)))
    tag = await tag_store.get_tag_by_rowid(db, int(context.match.group(2)))
    if customer is None:
        await reply(update, context, "buyer_gone")
        return
    removed = []
    if tag is not None and await tag_store.remove_tag(
        db, customer["id"], tag["tag"], by=update.effective_user.id
    ):
        removed.append(tag["label"])
    await show_tags_view(update, context, customer, edit=True, removed=removed)


@requires(Role.AGENT)
async def tag_add_button(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    await answer(update)
    services = kefu(context)
    customer = await lookup.get_customer(services.db, int(context.match.group(1)))
    index = int(context.match.group(2))
    if customer is None:
        await reply(update, context, "buyer_gone")
        return
    suggested = services.settings.suggested_tags
    added = []
    if index < len(suggested):
        try:
            pairs = _tag_pairs([suggested[index]])
        except TagError:
            pairs = []
        new = await tag_store.add_tags(
            services.db, customer["id"], pairs, by=update.effective_user.id
        )
        added = [label for tag, label in pairs if tag in new]
    await show_tags_view(update, context, customer, edit=True, added=added)


# ------------------------------------------------------------------------ shop's tags


@requires(Role.AGENT)
async def tags_command(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    raw = arg_text(update)
    services = kefu(context)
    if not raw:
        stats, total = await tag_store.tag_stats(services.db)
        await reply(update, context, "tags_list", tags=stats, total_fen=total)
        return
    try:
        words = parse_tag_args(raw)
        if len(words) != 1:
            await reply(update, context, "usage", usage="/tags [tag]")
            return
        name = validate_tag(words[0])
    except TagError as exc:
        await reply(update, context, "tag_error", error=str(exc))
        return
    tag = await tag_store.get_tag(services.db, name)
    if tag is None:
        await reply(update, context, "tag_unknown", tag=words[0])
        return
    await audit.record(services.db, update.effective_user.id, "tag_list", detail=tag["tag"])
    await _tag_page(update, context, tag, 0, edit=False)


async def _tag_page(
    update: Update, context: ContextTypes.DEFAULT_TYPE, tag: Any, page: int, *, edit: bool
) -> None:
    total, rows = await tag_store.customers_with_tag(
        kefu(context).db, tag["tag"], offset=page * PAGE, limit=PAGE
    )
    pages = max(1, -(-total // PAGE))
    buttons = []
    if page > 0:
        buttons.append(
            InlineKeyboardButton(
                button_label(context, "prev"), callback_data=f"tagl:{tag['rowid']}:{page - 1}"
            )
        )
    if page + 1 < pages:
        buttons.append(
            InlineKeyboardButton(
                button_label(context, "next"), callback_data=f"tagl:{tag['rowid']}:{page + 1}"
            )
        )
    await show(
        update,
        context,
        "tag_customers",
        keyboard=InlineKeyboardMarkup([buttons]) if buttons else None,
        edit=edit,
        tag=tag,
        total=total,
        customers=rows,
        page=page + 1,
        pages=pages,
        first=page * PAGE + 1,
    )


@requires(Role.AGENT)
async def tag_page_button(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    await answer(update)
    tag = await tag_store.get_tag_by_rowid(kefu(context).db, int(context.match.group(1)))
    if tag is None:
        await reply(update, context, "tag_unknown", tag="")
        return
    await _tag_page(update, context, tag, int(context.match.group(2)), edit=True)


# ---------------------------------------------------------------------- rename, merge


async def _rename(update: Update, context: ContextTypes.DEFAULT_TYPE, words: list[str]) -> None:
    if len(words) != 2:
        await reply(update, context, "usage", usage="/tag rename <old tag> <new tag>")
        return
    try:
        old, new = validate_tag(words[0]), validate_tag(words[1])
    except TagError as exc:
        await reply(update, context, "tag_error", error=str(exc))
        return
    db = kefu(context).db
    source = await tag_store.get_tag(db, old)
    if source is None:
        await reply(update, context, "tag_unknown", tag=words[0])
        return
    if new != old and await tag_store.get_tag(db, new) is not None:
        await reply(update, context, "tag_exists", old=source["label"], new=words[1])
        return
    await tag_store.rename_tag(db, old, new, _label(words[1]), by=update.effective_user.id)
    await reply(update, context, "tag_renamed", old=source["label"], new=_label(words[1]))


async def _merge(update: Update, context: ContextTypes.DEFAULT_TYPE, words: list[str]) -> None:
    if len(words) != 2:
        await reply(update, context, "usage", usage="/tag merge <from tag> <into tag>")
        return
    try:
        names = validate_tag(words[0]), validate_tag(words[1])
    except TagError as exc:
        await reply(update, context, "tag_error", error=str(exc))
        return
    db = kefu(context).db
    source, target = [await tag_store.get_tag(db, n) for n in names]
    for row, typed in ((source, words[0]), (target, words[1])):
        if row is None:
            await reply(update, context, "tag_unknown", tag=typed)
            return
    if source["tag"] == target["tag"]:
        await reply(update, context, "usage", usage="/tag merge <from tag> <into tag>")
        return
    moved = await tag_store.merge_tags(
        db, source["tag"], target["tag"], by=update.effective_user.id
    )
    await reply(update, context, "tag_merged", source=source["label"], target=target["label"],
                moved=moved)  # fmt: skip


# ------------------------------------------------------------------------------ bulk


def _pending(context: ContextTypes.DEFAULT_TYPE) -> dict[str, dict[str, Any]]:
    pending = context.chat_data.setdefault("kefu_bulk", {})
    now = time.time()
    for token in [t for t, op in pending.items() if now - op["at"] > PENDING_TTL_S]:
        del pending[token]
    while len(pending) >= MAX_PENDING:
        del pending[next(iter(pending))]
    return pending


async def _bulk_preview(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    try:
        expr, names = parse_tag_where(text)
    except AudienceSyntaxError as exc:
        await reply(update, context, "audience_error", error=exc.message,
                    pointer=exc.pointer(text))  # fmt: skip
        return
    compiled = await compiled_or_reply(update, context, expr)
    if compiled is None:
        return
    db = kefu(context).db
    missing: Expr = And((expr, Not(And(tuple(Tag(n) for n in names)))))
    touch_compiled = await compiled_or_reply(update, context, missing)
    if touch_compiled is None:
        return
    matching = await audience_store.count(db, compiled)
    touch = await audience_store.count(db, touch_compiled)
    labels = []
    for name in names:
        row = await tag_store.get_tag(db, name)
        labels.append(row["label"] if row else name)
    values = {"expression": describe(expr), "tags": labels, "matching": matching, "touch": touch}
    if touch == 0:
        await reply(update, context, "bulk_preview", **values)
        return
    token = secrets.token_urlsafe(6)
    _pending(context)[token] = {
        "at": time.time(),
        "user": update.effective_user.id,
        "expr": expr,
        "pairs": list(zip(names, labels, strict=True)),
        **values,
    }
    keyboard = InlineKeyboardMarkup(
        [[
            InlineKeyboardButton(button_label(context, "confirm_bulk", touch=touch),
                                 callback_data=f"bulk:ok:{token}"),
            InlineKeyboardButton(button_label(context, "cancel"), callback_data=f"bulk:no:{token}"),
        ]]
    )  # fmt: skip
    await reply(update, context, "bulk_preview", keyboard=keyboard, **values)


@requires(Role.AGENT)
async def bulk_button(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    query = update.callback_query
    action, token = context.match.group(1), context.match.group(2)
    pending = _pending(context)
    op = pending.get(token)
    if op is None:
        await answer(update)
        await show(update, context, "bulk_done", edit=True, state="expired")
        return
    if op["user"] != update.effective_user.id:
        await query.answer(button_label(context, "not_yours"), show_alert=True)
        return
    await answer(update)
    del pending[token]
    values = {k: op[k] for k in ("expression", "tags", "matching")}
    if action == "no":
        await show(update, context, "bulk_done", edit=True, state="cancelled", added=0, **values)
        return
    compiled = await compiled_or_reply(update, context, op["expr"])
    if compiled is None:
        return
    added = await tag_store.bulk_add_tags(
        kefu(context).db,
        compiled.where,
        compiled.where_params,
        op["pairs"],
        by=update.effective_user.id,
        from_sql=compiled.from_sql,
        from_params=compiled.from_params,
    )
    await show(update, context, "bulk_done", edit=True, state="done", added=added, **values)


HANDLERS = [
    CommandHandler("tag", tag_command),
    CommandHandler("untag", untag_command),
    CommandHandler("tags", tags_command),
    CallbackQueryHandler(tags_button, pattern=r"^tags:(\d+)$"),
    CallbackQueryHandler(tag_remove_button, pattern=r"^tagrm:(\d+):(\d+)$"),
    CallbackQueryHandler(tag_add_button, pattern=r"^tagadd:(\d+):(\d+)$"),
    CallbackQueryHandler(tag_page_button, pattern=r"^tagl:(\d+):(\d+)$"),
    CallbackQueryHandler(bulk_button, pattern=r"^bulk:(ok|no):([\w-]+)$"),
]
