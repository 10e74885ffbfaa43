"""/report: the segment charts as PNG photos, and the Pareto and CLV figures.

Charts: customers per value class, an R x F heat map coloured by average M, the
Pareto curve, and the value classes over the last 90 days (daily snapshots).
Chinese labels need a CJK font (see bot/charts.py); without one the charts are
drawn with the English labels.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from telegram import InputFile, Update
from telegram.constants import ChatAction
from telegram.ext import CommandHandler, ContextTypes

from bot import charts
from bot.domain.roles import Role
from bot.domain.value_classes import ValueClass
from bot.storage import segments
from handlers.common import kefu, reply, requires
from handlers.segments import distribution_or_explain, labels

TREND_DAYS = 90


@requires(Role.ADMIN)
async def report_command(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    got = await distribution_or_explain(update, context)
    if got is None:
        return
    seg, today, state, counts = got
    services = kefu(context)
    db = services.db
    chat_id = update.effective_chat.id
    await context.bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
    locale = services.renderer.locale
    font = charts.cjk_font() if locale == "zh" else None
    if locale == "zh" and font is None:
        locale = "en"  # no CJK glyphs installed: English labels rather than empty boxes
    text = labels(services, "report_charts", locale)
    cfg = seg.config
    classes = [(c.display_name(locale), counts["class"].get(c.code, 0)) for c in ValueClass]
    grid = await segments.rf_grid(db)
    if cfg.mode == "tier":
        levels = (cfg.tiers.levels[0], cfg.tiers.levels[1])
    else:
        levels = (cfg.score.bins, cfg.score.bins)
    curve = await segments.pareto_curve(db)
    p = state.pareto
    marker = (float(p.customer_share), float(p.sales_share)) if p.customers else None
    series = await segments.trend(db, "class", today - dt.timedelta(days=TREND_DAYS))
    series[today] = counts["class"]  # today as it is now
    keys = [(c.code, c.display_name(locale)) for c in ValueClass]
    note = (
        text["pareto_note"]
        .replace("{top}", str(round(cfg.abc.pareto_top_share * 100)))
        .replace("{sales}", str(p.sales_percent))
    )

    def draw() -> list[bytes]:
        return [
            charts.class_bars(classes, title=text["classes"], ylabel=text["customers"], font=font),
            charts.rf_heatmap(
                grid, levels, title=text["heatmap"], xlabel=text["f_axis"],
                ylabel=text["r_axis"], colorbar=text["avg_m"], font=font,
            ),
            charts.pareto(
                curve, marker, title=text["pareto"], xlabel=text["customer_share"],
                ylabel=text["sales_share"], note=note, font=font,
            ),
            charts.class_trend(series, keys, title=text["trend"], ylabel=text["customers"],
                               font=font),
        ]  # fmt: skip

    pngs = await asyncio.get_running_loop().run_in_executor(None, draw)
    names = ("classes", "heatmap", "pareto", "trend")
    for name, png in zip(names, pngs, strict=True):
        await context.bot.send_photo(
            chat_id,
            InputFile(png, filename=f"{name}-{today.isoformat()}.png"),
            caption=services.render("report_caption", chart=name, as_of=today),
            parse_mode="HTML",
        )
    await reply(
        update, context, "report", as_of=today, pareto=p, clv=state.clv_overall,
        clv_groups=[state.clv_by_group[c.code] for c in ValueClass if c.code in state.clv_by_group],
        class_names={c.code: c.display_name(services.renderer.locale) for c in ValueClass},
        history_days=state.history_days, trend_days=len(series),
        top_share=round(cfg.abc.pareto_top_share * 100),
    )  # fmt: skip


HANDLERS = [CommandHandler("report", report_command)]
