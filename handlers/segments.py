"""/segments, /segment <class | cell | A/B/C> (paged, CSV export), /rfm <buyer>.

Every answer is as of today: when the stored segments are older (or the
``[segments]`` rules changed) they are refreshed first, on a connection of their own.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatAction
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.domain.humanize import fen_to_yuan_str
from bot.domain.rfm import all_cells
from bot.domain.roles import Role
from bot.domain.segments_report import (
    PRICE_LEVELS,
    SegmentSettings,
    lapsed_outside_window,
    local_today,
    parse_segment_key,
    rows_with_changes,
    segment_settings,
)
from bot.domain.value_classes import ValueClass
from bot.services import Kefu
from bot.storage import segments
from bot.storage.customers import get_by_buyer_id
from bot.storage.db import ArchiveBusy, open_db
from handlers.common import kefu, reply, requires

PAGE = 10
MAX_REBUILD_DAYS = 400


class SegmentConfigError(ValueError):
    pass


def settings_of(services: Kefu) -> SegmentSettings:
    try:
        return segment_settings(services.settings.section("segments"))
    except ValueError as exc:
        raise SegmentConfigError(str(exc)) from None


async def current(services: Kefu) -> tuple[SegmentSettings, dt.date, segments.SegmentState]:
    """The segment settings, today (shop-local) and the state, refreshed if not today's."""
    seg = settings_of(services)
    tz = services.settings.tz
    today = local_today(tz)
    state = await segments.load_state(services.db)
    key = segments.config_key(seg.raw, tz.key)
    if (
        state is None
        or state.as_of != today
        or segments.config_key(state.raw_config, state.tz) != key
    ):
        db = await open_db(services.settings.db_path)
        try:
            await segments.ensure_current(db, seg.raw, tz, today)
        finally:
            await db.close()
        state = await segments.load_state(services.db)
    assert state is not None
    return seg, today, state


def labels(services: Kefu, name: str, locale: str | None = None) -> dict[str, str]:
    """``key: text`` lines of a template (button labels, chart labels)."""
    out = {}
    for line in services.renderer.render(name, locale=locale).splitlines():
        k, _, v = line.partition(":")
        if v.strip():
            out[k.strip()] = v.strip()
    return out


def class_names(locale: str) -> dict[str, str]:
    return {c.code: c.display_name(locale) for c in ValueClass}


async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Any:
    """(settings, today, state) or None after telling the user what is wrong."""
    try:
        return await current(kefu(context))
    except SegmentConfigError as exc:
        await reply(update, context, "segments_config_error", error=str(exc))
        return None
    except ArchiveBusy as exc:
        await reply(update, context, "segments_busy", seconds=exc.seconds)
        return None


async def distribution_or_explain(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Any:
    """(settings, today, state, counts) of current segments, or None after saying why not."""
    got = await guarded(update, context)
    if got is None:
        return None
    counts = await segments.distribution(kefu(context).db)
    if not sum(counts["class"].values()):
        await reply(update, context, "segments_empty")
        return None
    return (*got, counts)


# ---------------------------------------------------------------------------
# /segments


@requires(Role.ADMIN)
async def segments_command(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    args = context.args or []
    if args and args[0] == "rebuild":
        await rebuild_command(update, context, args[1:])
        return
    if args:
        await reply(update, context, "usage", usage="/segments [rebuild DAYS]")
        return
    got = await distribution_or_explain(update, context)
    if got is None:
        return
    seg, today, state, counts = got
    services = kefu(context)
    db = services.db
    week = await segments.snapshot(db, today - dt.timedelta(days=7))
    month = await segments.snapshot(db, today - dt.timedelta(days=30))

    def rows(kind: str, keys: list[str], keep_empty: bool = True) -> list:
        return rows_with_changes(
            counts[kind], keys, week and week[kind], month and month[kind], keep_empty=keep_empty
        )

    locale = services.renderer.locale
    cfg = seg.config
    await reply(
        update,
        context,
        "segments",
        as_of=today,
        customers=sum(counts["class"].values()),
        classes=rows("class", [c.code for c in ValueClass]),
        class_names=class_names(locale),
        abc=rows("abc", ["A", "B", "C"]),
        cells=rows("cell", all_cells(cfg.tiers) if cfg.mode == "tier" else [], keep_empty=False),
        price=await segments.price_levels(db),
        price_levels=PRICE_LEVELS,
        pareto=state.pareto,
        top_share=round(cfg.abc.pareto_top_share * 100),
        thresholds=state.thresholds,
        window_days=cfg.window_days,
        lapsed_hidden=lapsed_outside_window(state.thresholds, cfg.window_days),
        has_week=week is not None,
        has_month=month is not None,
        mode=cfg.mode,
    )


async def rebuild_command(
    update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]
) -> None:
    if len(args) != 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= MAX_REBUILD_DAYS:
        await reply(update, context, "usage", usage=f"/segments rebuild 1-{MAX_REBUILD_DAYS}")
        return
    services = kefu(context)
    try:
        seg = settings_of(services)
    except SegmentConfigError as exc:
        await reply(update, context, "segments_config_error", error=str(exc))
        return
    await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)
    tz = services.settings.tz
    today = local_today(tz)
    days = [today - dt.timedelta(days=n) for n in range(int(args[0]), 0, -1)]
    from scheduler.segments import rebuild_snapshots

    try:
        await rebuild_snapshots(services.settings.db_path, seg.raw, tz, days)
    except ArchiveBusy as exc:
        await reply(update, context, "segments_busy", seconds=exc.seconds)
        return
    await reply(update, context, "segments_rebuilt", first=days[0], last=days[-1], n=len(days))


# ---------------------------------------------------------------------------
# /segment <key>


def _keyboard(services: Kefu, kind: str, key: str, offset: int, total: int) -> InlineKeyboardMarkup:
    text = labels(services, "segment_buttons")
    nav = []
    if offset > 0:
        nav.append(
            InlineKeyboardButton(
                text["prev"], callback_data=f"seg:{kind}:{key}:{max(0, offset - PAGE)}"
            )
        )
    if offset + PAGE < total:
        nav.append(
            InlineKeyboardButton(text["next"], callback_data=f"seg:{kind}:{key}:{offset + PAGE}")
        )
    rows = [nav] if nav else []
    rows.append([InlineKeyboardButton(text["export"], callback_data=f"segx:{kind}:{key}")])
    return InlineKeyboardMarkup(rows)


async def _page(services: Kefu, kind: str, key: str, offset: int, today: dt.date) -> tuple:
    total, rows = await segments.list_segment(
        services.db, kind, key, today, offset=offset, limit=PAGE
    )
    text = services.render(
        "segment_list",
        kind=kind,
        key=key,
        total=total,
        offset=offset,
        rows=rows,
        class_names=class_names(services.renderer.locale),
    )
    return text, _keyboard(services, kind, key, offset, total), total


@requires(Role.ADMIN)
async def segment_command(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    parsed = parse_segment_key(" ".join(context.args or []))
    if parsed is None:
        await reply(
            update, context, "segment_unknown", given=" ".join(context.args or []),
            class_names=class_names(kefu(context).renderer.locale),
        )  # fmt: skip
        return
    got = await guarded(update, context)
    if got is None:
        return
    _, today, _ = got
    kind, key = parsed
    services = kefu(context)
    text, keyboard, total = await _page(services, kind, key, 0, today)
    await context.bot.send_message(
        update.effective_chat.id, text, parse_mode="HTML",
        reply_markup=keyboard if total else None,
    )  # fmt: skip


@requires(Role.ADMIN)
async def segment_button(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    query = update.callback_query
    services = kefu(context)
    parts = (query.data or "").split(":")
    parsed = parse_segment_key(parts[2]) if len(parts) >= 3 else None
    if parsed is None or parsed[0] != parts[1]:
        await query.answer()
        return
    kind, key = parsed
    got = await guarded(update, context)
    if got is None:
        await query.answer()
        return
    _, today, _ = got
    if parts[0] == "segx":
        await query.answer()
        await _export(update, context, kind, key, today)
        return
    offset = int(parts[3]) if len(parts) == 4 and parts[3].isdigit() else 0
    text, keyboard, _ = await _page(services, kind, key, offset, today)
    await query.answer()
    await query.edit_message_text(text, parse_mode="HTML", reply_markup=keyboard)


async def _export(
    update: Update, context: ContextTypes.DEFAULT_TYPE, kind: str, key: str, today: dt.date
) -> None:
    services = kefu(context)
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow([
        "platform", "buyer_id", "name", "rfm_cell", "value_class", "abc_class",
        "last_purchase", "recency_days", "frequency", "monetary_yuan", "price_level",
    ])  # fmt: skip
    n = 0
    async for f in segments.iter_segment(services.db, kind, key, today):
        n += 1
        out.writerow([
            f.platform, f.buyer_id, f.name, f.rfm_cell or "",
            f.value_class.code if f.value_class else "", f.abc_class or "",
            f.last_purchase.isoformat() if f.last_purchase else "",
            "" if f.recency_days is None else f.recency_days,
            "" if f.frequency is None else f.frequency,
            "" if f.monetary_fen is None else fen_to_yuan_str(f.monetary_fen).replace(",", ""),
            f.price_level or "",
        ])  # fmt: skip
    data = ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(data, filename=f"segment-{key}-{today.isoformat()}.csv"),
        caption=services.render(
            "segment_export", kind=kind, key=key, n=n, as_of=today,
            class_names=class_names(services.renderer.locale),
        ),
        parse_mode="HTML",
    )  # fmt: skip


# ---------------------------------------------------------------------------
# /rfm <buyer>


@requires(Role.AGENT)
async def rfm_command(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    args = context.args or []
    if len(args) != 1:
        await reply(update, context, "usage", usage="/rfm <buyer id>")
        return
    got = await guarded(update, context)
    if got is None:
        return
    seg, today, state = got
    services = kefu(context)
    row = await get_by_buyer_id(services.db, args[0])
    if row is None:
        await reply(update, context, "rfm_not_found", buyer=args[0])
        return
    fields = await segments.segment_fields(services.db, row["id"], today)
    await reply(
        update, context, "rfm", f=fields, cfg=seg.config, th=state.thresholds, as_of=today,
        class_names=class_names(services.renderer.locale),
    )  # fmt: skip


HANDLERS = [
    CommandHandler("segments", segments_command),
    CommandHandler("segment", segment_command),
    CommandHandler("rfm", rfm_command),
    CallbackQueryHandler(segment_button, pattern=r"^segx?:"),
]
