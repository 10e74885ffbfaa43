"""The daily segment job: refresh as of the new day and store the day's snapshot.

Recency moves with the calendar, so every customer's cell can change overnight
without an import. The job runs on PTB's JobQueue (APScheduler) at
``[segments] refresh_at`` shop-local time (default 00:05): a full refresh, the
snapshot of today's counts, and, when missing, the snapshots of 7 and 30 days
ago rebuilt from the order history (so /segments can show its changes from the
first week on). When the bot starts, the same job runs once at once (:func:`catch_up`):
it does nothing when the segments are today's, and otherwise a bot that was down at
that time would show yesterday's cells on every card until the next night. /segments
and /report refresh on demand too.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import Application, ContextTypes

from bot.domain.segments_report import local_today, segment_settings
from bot.services import Kefu
from bot.storage import segments
from bot.storage.db import open_db

log = logging.getLogger(__name__)
JOB_NAME = "segments-daily"


async def rebuild_snapshots(
    db_path: Path, raw: Mapping[str, Any], tz: ZoneInfo, days: Iterable[dt.date]
) -> None:
    """Rebuild the snapshots of past ``days`` from the order history (own connection)."""
    db = await open_db(db_path)
    try:
        for day in days:
            await segments.rebuild_snapshot(db, raw, tz, day)
    finally:
        await db.close()


async def daily(db_path: Path, raw: Mapping[str, Any], tz: ZoneInfo, today: dt.date) -> None:
    """Refresh as of ``today``, snapshot it, and fill in the 7- and 30-day-old snapshots."""
    db = await open_db(db_path)
    try:
        await segments.ensure_current(db, raw, tz, today)
        await segments.write_snapshot(db, today)
        for back in (7, 30):
            day = today - dt.timedelta(days=back)
            if await segments.snapshot(db, day) is None:
                await segments.rebuild_snapshot(db, raw, tz, day)
    finally:
        await db.close()


async def daily_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    services: Kefu = context.application.bot_data["kefu"]
    tz = services.settings.tz
    try:
        seg = segment_settings(services.settings.section("segments"))
    except ValueError as exc:
        log.error("segments not refreshed: %s", exc)
        return
    await daily(services.settings.db_path, seg.raw, tz, local_today(tz))
    log.info("segments refreshed and snapshot taken")


def schedule(app: Application) -> None:
    """Register the daily job (once) at ``[segments] refresh_at`` shop-local time."""
    services: Kefu = app.bot_data["kefu"]
    if app.job_queue is None:
        log.warning("no job queue: segments are refreshed on demand only")
        return
    try:
        at = segment_settings(services.settings.section("segments")).refresh_at
    except ValueError as exc:
        log.error("segments: %s; the daily refresh is not scheduled", exc)
        return
    for job in app.job_queue.get_jobs_by_name(JOB_NAME):
        job.schedule_removal()
    app.job_queue.run_daily(daily_job, time=at.replace(tzinfo=services.settings.tz), name=JOB_NAME)


def catch_up(app: Application) -> None:
    """Run the daily job once now (call after the Application started): the stored
    segments become today's if the bot was down at ``refresh_at``."""
    if app.job_queue is not None:
        app.job_queue.run_once(daily_job, when=0, name=f"{JOB_NAME}-catch-up")
