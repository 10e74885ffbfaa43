"""/audience <expression>: how many customers an expression selects, and who they are.

The expression language is ``bot.domain.audience`` (README: "Audience expressions");
the same text selects bulk tagging (/tag where) and, later, campaign audiences.
"""

from __future__ import annotations

import time

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.domain.audience import AudienceSyntaxError, Expr, describe, parse
from bot.domain.roles import Role
from bot.domain.value_classes import ValueClass
from bot.storage import audience as audience_store
from handlers.common import kefu, reply, requires
from handlers.common_cards import arg_text

USAGE = "/audience <expression>, e.g. /audience lace and (vneck or slit) and not refund_risk"


async def compiled_or_reply(
    update: Update, context: ContextTypes.DEFAULT_TYPE, expr: Expr
) -> audience_store.CompiledAudience | None:
    """Compile ``expr`` for the database; if segments it needs are missing, say so."""
    services = kefu(context)
    try:
        return await audience_store.compile_audience(
            services.db, expr, now=int(time.time()), tz=services.settings.tz
        )
    except audience_store.SegmentsNotComputed as exc:
        await reply(update, context, "segments_not_computed", fields=exc.fields)
        return None


@requires(Role.AGENT)
async def audience_command(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    text = arg_text(update)
    if not text:
        await reply(update, context, "usage", usage=USAGE)
        return
    try:
        expr = parse(text)
    except AudienceSyntaxError as exc:
        await reply(update, context, "audience_error", error=exc.message, pointer=exc.pointer(text))
        return
    compiled = await compiled_or_reply(update, context, expr)
    if compiled is None:
        return
    services = kefu(context)
    summary = await audience_store.summarize(services.db, compiled)
    classes = [
        (ValueClass.from_code(code).display_name(services.settings.locale), n)
        for code, n in summary.classes
    ]
    await reply(
        update,
        context,
        "audience_result",
        expression=describe(expr),
        s=summary,
        top_tags=summary.top_tags,
        classes=classes,
    )


HANDLERS = [CommandHandler("audience", audience_command)]
