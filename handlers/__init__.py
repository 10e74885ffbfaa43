"""Telegram handlers, one module per command family, registered in one place."""

from __future__ import annotations

from telegram.ext import Application

from handlers import (
    audience,
    audit,
    fallback,
    find,
    imports,
    notes,
    report,
    segments,
    staff,
    start,
    tags,
    whois,
)
from scheduler import segments as segment_jobs


def register(app: Application) -> None:
    for module in (start, staff, imports, whois, find, tags, notes, audience, audit, segments,
                   report):  # fmt: skip
        app.add_handlers(module.HANDLERS, group=0)
    segment_jobs.schedule(app)  # the daily segment refresh and snapshot
    # last in group 0: a group runs only its first matching handler, so the fallback sees
    # only what no handler above took (a later group would see every update again)
    app.add_handlers(fallback.HANDLERS, group=0)
    app.add_error_handler(fallback.on_error)
