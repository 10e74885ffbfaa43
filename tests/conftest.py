"""Shared fixtures: a kefu bot on a fresh database, driven through the in-process Bot API."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from bot.app import build_application
from bot.config import Settings, load_settings
from bot.console.transport import InProcessBotAPI
from bot.storage.db import open_db
from tests.e2e_harness import BotHarness

ADMIN = 111
AGENT = 222
STRANGER = 333


@pytest.fixture
def settings(tmp_path) -> Settings:
    base = load_settings({"KEFU_DB": str(tmp_path / "kefu.db"), "KEFU_ADMINS": str(ADMIN)})
    return base


@pytest.fixture
def settings_en(settings) -> Settings:
    return dataclasses.replace(settings, locale="en")


async def _harness(settings: Settings) -> AsyncIterator[BotHarness]:
    db = await open_db(settings.db_path)
    api = InProcessBotAPI()
    app = build_application(settings, db, request=api, rate_limit=False)
    try:
        async with BotHarness(app, api) as harness:
            harness.db = db  # type: ignore[attr-defined]
            yield harness
    finally:
        await db.close()


@pytest.fixture
async def kefu_bot(settings) -> AsyncIterator[BotHarness]:
    """kefu in Chinese (the default locale); ADMIN is an admin, nobody else is staff yet."""
    async for harness in _harness(settings):
        yield harness


@pytest.fixture
async def kefu_bot_en(settings_en) -> AsyncIterator[BotHarness]:
    async for harness in _harness(settings_en):
        yield harness
