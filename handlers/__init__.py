"""Telegram handlers, one module per command family, registered in one place."""

from __future__ import annotations

from telegram.ext import Application

from handlers import fallback, find, imports, staff, start, whois


def register(app: Application) -> None:
    for module in (start, staff, imports, whois, find):
        app.add_handlers(module.HANDLERS, group=0)
    # last in group 0: a group runs only its first matching handler, so the fallback sees
    # only what no handler above took (a later group would see every update again)
    app.add_handlers(fallback.HANDLERS, group=0)
    app.add_error_handler(fallback.on_error)
