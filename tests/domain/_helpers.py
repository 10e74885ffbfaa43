"""Shared fixtures for the domain tests: shop-local times -> UTC seconds."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC


def local_ts(text: str, tz: ZoneInfo = SH) -> int:
    """'2024-06-18 00:30' (shop-local) -> UTC unix seconds."""
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=tz).timestamp())


def utc_ts(text: str) -> int:
    """'2024-06-17 16:30' (UTC) -> unix seconds."""
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
