"""The Application builder: one place where kefu's PTB Application is assembled.

Production (``kefu run``), the offline console and the end-to-end tests all build
the same Application here; only the request layer differs.
"""

from __future__ import annotations

import aiosqlite
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults
from telegram.request import BaseRequest

import handlers
from bot.config import Settings
from bot.rendering import Renderer
from bot.services import Kefu

OFFLINE_TOKEN = "123456:offline-console"


def build_application(
    settings: Settings,
    db: aiosqlite.Connection,
    *,
    request: BaseRequest | None = None,
    rate_limit: bool = True,
) -> Application:
    """Assemble the Application with every handler registered.

    ``request`` replaces PTB's HTTP layer (the offline console and tests pass the
    in-process Bot API); ``rate_limit`` keeps outgoing calls within Telegram's flood
    limits and retries once after a 429.
    """
    builder = ApplicationBuilder().token(settings.token or OFFLINE_TOKEN)
    builder.defaults(Defaults(tzinfo=settings.tz))
    if request is not None:
        builder.request(request).get_updates_request(request)
    if settings.api_base_url:
        builder.base_url(settings.api_base_url)
    if settings.api_base_file_url:
        builder.base_file_url(settings.api_base_file_url)
    if rate_limit:
        builder.rate_limiter(AIORateLimiter(max_retries=1))
    app = builder.build()
    renderer = Renderer(settings.locale, override_dir=settings.templates_dir, tz=settings.tz)
    app.bot_data["kefu"] = Kefu(settings=settings, db=db, renderer=renderer)
    handlers.register(app)
    return app
