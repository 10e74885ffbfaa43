"""Human-friendly numbers, dates and lengths for messages.

Decisions:
- ``days_ago`` counts calendar days between two dates (the caller decides "today"
  in the shop's time zone). Up to 30 days it says days, up to a year months
  (30-day months, rounded down), then years (365-day years, rounded down).
  Zh uses 前天 for two days ago, as people say it. Future dates read "tomorrow",
  "in 3 days" / 明天, 3天后 (birthdays, scheduled care).
- A locale is Chinese when it starts with "zh" (zh, zh_CN, zh-Hans…); anything else
  is English.
- ``fen_to_yuan_str`` always shows two decimals and thousands separators, sign in
  front: ``-1,234.50``. It refuses floats (and bools) rather than rounding them.
- ``shorten`` counts characters (code points), ends with "…" and never cuts a
  combining mark or emoji joiner off the character it belongs to.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

__all__ = ["days_ago", "fen_to_yuan_str", "is_zh", "shorten"]

ELLIPSIS = "…"


def is_zh(locale: str | None) -> bool:
    """True for Chinese locales (``zh``, ``zh_CN``, ``zh-Hans``…)."""
    return bool(locale) and str(locale).lower().replace("-", "_").split("_")[0] == "zh"


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def days_ago(then: date, today: date, locale: str = "en") -> str:
    """``"today"``, ``"yesterday"``, ``"12 days ago"``, ``"3 months ago"`` (zh: 今天…)."""
    days = (_as_date(today) - _as_date(then)).days
    zh = is_zh(locale)
    if days == 0:
        return "今天" if zh else "today"
    if days == 1:
        return "昨天" if zh else "yesterday"
    if days == 2 and zh:
        return "前天"
    if days == -1:
        return "明天" if zh else "tomorrow"
    future = days < 0
    n, unit = _amount(abs(days))
    if zh:
        word = {"day": "天", "month": "个月", "year": "年"}[unit]
        return f"{n}{word}{'后' if future else '前'}"
    word = unit if n == 1 else unit + "s"
    return f"in {n} {word}" if future else f"{n} {word} ago"


def _amount(days: int) -> tuple[int, str]:
    if days <= 30:
        return days, "day"
    if days < 365:
        return days // 30, "month"
    return days // 365, "year"


def fen_to_yuan_str(fen: int) -> str:
    """Integer fen to yuan text with two decimals: ``123450`` -> ``"1,234.50"``."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"fen must be an int, not {type(fen).__name__}")
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan:,}.{cents:02d}"


def _is_attached(ch: str) -> bool:
    """Characters that belong to the one before them (accents, ZWJ, selectors)."""
    return (
        unicodedata.combining(ch) != 0
        or unicodedata.category(ch) in ("Mn", "Me")
        or ch in "\u200d\ufe0e\ufe0f"
        or "\U0001f3fb" <= ch <= "\U0001f3ff"  # skin-tone modifiers
    )


def shorten(text: str, n: int) -> str:
    """``text`` cut to at most ``n`` characters, ending with "…" when it was cut."""
    if n <= 0:
        return ""
    if len(text) <= n:
        return text
    if n == 1:
        return ELLIPSIS
    cut = n - 1
    # don't strand a base character from its marks: back off to a clean boundary
    while cut > 0 and _is_attached(text[cut]):
        cut -= 1
    head = text[:cut]
    if head.endswith("\u200d"):  # never end on a joiner
        head = head[:-1]
    return head.rstrip() + ELLIPSIS
