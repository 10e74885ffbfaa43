"""Pure helpers around segmentation: day numbers, what /segment accepts, the daily
refresh time, CLV from bucket counts, changes against snapshots.

The *rules* are in :mod:`bot.domain.rfm`, :mod:`~bot.domain.value_classes`,
:mod:`~bot.domain.abc`, :mod:`~bot.domain.clv` and
:mod:`~bot.domain.price_sensitivity`; this module only adapts them to the bulk
computation in :mod:`bot.storage.segments` and to the chat commands.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from bot.domain.clv import OVERALL, GroupCLV, group_from_counts
from bot.domain.segment_config import CLVConfig, SegmentConfig, from_dict
from bot.domain.value_classes import ValueClass, ValueThresholds

Kind = Literal["class", "cell", "abc"]
KINDS: tuple[Kind, ...] = ("class", "cell", "abc")
EPOCH = dt.date(1970, 1, 1)
DEFAULT_REFRESH_AT = dt.time(0, 5)
#: Price levels in display order; "unknown" = too few orders to judge.
PRICE_LEVELS: tuple[str, ...] = ("high", "medium", "low", "unknown")


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01 (a shop-local calendar date as an integer, as stored)."""
    return day.toordinal() - EPOCH.toordinal()


def day_from_number(n: int) -> dt.date:
    return dt.date.fromordinal(EPOCH.toordinal() + n)


def local_today(tz: dt.tzinfo, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the shop's time zone."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(tz).date()


# ---------------------------------------------------------------------------
# Configuration: [segments] plus the refresh time


@dataclass(frozen=True)
class SegmentSettings:
    """The parsed ``[segments]`` table: the rules, their raw form, and the daily refresh time."""

    config: SegmentConfig
    raw: Mapping[str, Any]  # without refresh_at; stored with each refresh
    refresh_at: dt.time


def segment_settings(section: Mapping[str, Any]) -> SegmentSettings:
    """Parse ``[segments]``; ``refresh_at = "HH:MM"`` (shop-local, default 00:05) is ours.

    Raises ``ValueError`` naming the key, like :func:`segment_config.from_dict`.
    """
    raw = dict(section)
    at = raw.pop("refresh_at", None)
    refresh_at = DEFAULT_REFRESH_AT
    if at is not None:
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", at) if isinstance(at, str) else None
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise ValueError(
                f"segments.refresh_at: write the shop-local time as 'HH:MM', e.g. '00:05', "
                f"got {at!r}"
            )
        refresh_at = dt.time(int(m.group(1)), int(m.group(2)))
    return SegmentSettings(from_dict(raw), raw, refresh_at)


# ---------------------------------------------------------------------------
# What /segment accepts

_CELL = re.compile(r"R(\d)F(\d)M(\d)")


def parse_segment_key(text: str) -> tuple[Kind, str] | None:
    """``重要挽留`` / ``重要挽留客户`` / ``important_retain`` -> ("class", code);
    ``r3f2m3`` -> ("cell", "R3F2M3"); ``a`` -> ("abc", "A"); anything else None."""
    t = text.strip()
    if not t:
        return None
    if t.upper() in ("A", "B", "C"):
        return "abc", t.upper()
    if _CELL.fullmatch(t.upper()):
        return "cell", t.upper()
    folded = t.casefold().replace(" ", "_")
    for c in ValueClass:
        names = {c.code, c.name_zh, c.name_zh.removesuffix("客户"), c.name_en.casefold()}
        names.add(c.name_en.casefold().replace(" ", "_"))
        if t in names or folded in names:
            return "class", c.code
    return None


# ---------------------------------------------------------------------------
# Group CLV from counts (the same arithmetic as bot.domain.clv, without a row per customer)


@dataclass(frozen=True)
class CLVBucket:
    """Customers of one group with the same activity: how many and their last-year spend."""

    group: str
    active_last_year: bool
    active_previous_year: bool
    customers: int
    spend_last_year_fen: int


def _group_from_buckets(
    group: str, buckets: list[CLVBucket], margin: Fraction, short: bool
) -> GroupCLV:
    return group_from_counts(
        group,
        customers=sum(b.customers for b in buckets),
        active=sum(b.customers for b in buckets if b.active_last_year),
        spend=sum(b.spend_last_year_fen for b in buckets if b.active_last_year),
        base=sum(b.customers for b in buckets if b.active_previous_year),
        churned=sum(
            b.customers for b in buckets if b.active_previous_year and not b.active_last_year
        ),
        margin=margin,
        short_history=short,
    )


def clv_from_buckets(
    buckets: list[CLVBucket], history_days: int, cfg: CLVConfig | None = None
) -> tuple[GroupCLV, dict[str, GroupCLV]]:
    """(overall, by group) exactly as :func:`bot.domain.clv.group_clv` would give."""
    cfg = cfg or CLVConfig()
    short = history_days < cfg.min_history_days
    groups: dict[str, list[CLVBucket]] = {}
    for b in buckets:
        groups.setdefault(b.group, []).append(b)
    overall = _group_from_buckets(OVERALL, buckets, cfg.margin_rate, short)
    by_group = {
        g: _group_from_buckets(g, bs, cfg.margin_rate, short) for g, bs in sorted(groups.items())
    }
    return overall, by_group


# ---------------------------------------------------------------------------
# /segments: today's counts against 7 and 30 days ago


@dataclass(frozen=True)
class Row:
    key: str
    count: int
    share: int  # whole percent of the customers with a segment
    vs_7: int | None  # change in count; None when there is no snapshot that day
    vs_30: int | None


def lapsed_outside_window(th: ValueThresholds | None, window_days: int | None) -> bool:
    """True when every customer whose R is low bought last before the F and M window:
    they all have F = 0 and M = 0, so 重要保持, 重要挽留 and 一般保持 are empty whatever
    they once spent. (R is low above the threshold; the window holds the recencies below
    ``window_days``.)"""
    if th is None or window_days is None:
        return False
    return math.floor(th.recency_days) + 1 >= window_days


def rows_with_changes(
    counts: Mapping[str, int],
    keys: list[str],
    week_ago: Mapping[str, int] | None,
    month_ago: Mapping[str, int] | None,
    *,
    keep_empty: bool = True,
) -> list[Row]:
    """One row per key in ``keys`` order (plus unknown keys found in ``counts``)."""
    total = sum(counts.values())
    ordered = list(keys) + sorted(k for k in counts if k not in keys)
    out = []
    for k in ordered:
        n = counts.get(k, 0)
        w = None if week_ago is None else n - week_ago.get(k, 0)
        m = None if month_ago is None else n - month_ago.get(k, 0)
        if not keep_empty and n == 0 and not w and not m:
            continue
        share = (n * 100 * 2 + total) // (2 * total) if total else 0
        out.append(Row(k, n, share, w, m))
    return out
