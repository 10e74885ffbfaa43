"""Telegram handlers, one module per command family, registered in one place."""

from __future__ import annotations

from telegram.ext import Application

from handlers import fallback, imports, staff, start


def register(app: Application) -> None:
    for module in (start, staff, imports):
        app.add_handlers(module.HANDLERS, group=0)
    # group 1 sees only what no handler of group 0 took
    app.add_handlers(fallback.HANDLERS, group=1)
    app.add_error_handler(fallback.on_error)
