"""An admin sends an order export as a document; kefu imports it and answers the summary.

The caption may carry the same options as ``kefu import``: ``--preset jd``,
``--skip-bad``. The import runs on its own database connection, in one transaction,
so it never mixes with what other handlers write meanwhile.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from telegram import Update
from telegram.constants import ChatAction
from telegram.error import BadRequest
from telegram.ext import CommandHandler, ContextTypes, MessageHandler, filters

from bot.domain.roles import Role
from bot.importers.pipeline import PRESETS, ImportFailed, import_file
from bot.storage.db import open_db
from handlers.common import kefu, reply, requires

log = logging.getLogger(__name__)
SUFFIXES = (".csv", ".txt", ".xlsx")


def parse_caption(caption: str | None) -> tuple[str | None, bool] | str:
    """(preset, skip_bad) from a caption, or an error text naming the bad word."""
    words = (caption or "").split()
    preset, skip_bad = None, False
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--skip-bad":
            skip_bad = True
        elif word == "--preset" and i + 1 < len(words):
            preset = words[i + 1]
            i += 1
        elif word.startswith("--preset="):
            preset = word.split("=", 1)[1]
        else:
            return word
        i += 1
    if preset is not None and preset not in PRESETS:
        return f"--preset {preset}"
    return preset, skip_bad


@requires(Role.ADMIN)
async def import_document(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    message = update.effective_message
    document = message.document
    name = document.file_name or "export.csv"
    if not name.lower().endswith(SUFFIXES):
        await reply(update, context, "import_wrong_type", file_name=name)
        return
    options = parse_caption(message.caption)
    if isinstance(options, str):
        await reply(update, context, "import_bad_option", option=options, presets=PRESETS)
        return
    preset, skip_bad = options
    services = kefu(context)
    await context.bot.send_chat_action(message.chat_id, ChatAction.TYPING)
    with tempfile.TemporaryDirectory(prefix="kefu-import-") as tmp:
        path = Path(tmp) / Path(name).name
        try:
            telegram_file = await document.get_file()
            await telegram_file.download_to_drive(path)
        except BadRequest as exc:
            log.warning("could not download %s: %s", name, exc)
            await reply(update, context, "import_too_big", file_name=name)
            return
        db = await open_db(services.settings.db_path)
        try:
            summary = await import_file(
                db,
                path,
                preset=preset,
                skip_bad=skip_bad,
                by_user=update.effective_user.id,
                tz=services.settings.tz,
                source_name=name,
            )
        except ImportFailed as exc:
            await reply(update, context, "import_failed", error=str(exc))
            return
        finally:
            await db.close()
    await reply(update, context, "import_summary", s=summary)


@requires(Role.ADMIN)
async def import_command(update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role) -> None:
    await reply(update, context, "import_howto", presets=PRESETS)


HANDLERS = [
    CommandHandler("import", import_command),
    MessageHandler(filters.Document.ALL, import_document, block=False),
]
