"""Dates, money and long texts the way people read them."""

from datetime import date, datetime, timedelta

import pytest

from bot.domain.humanize import days_ago, fen_to_yuan_str, is_zh, shorten

TODAY = date(2024, 5, 31)


@pytest.mark.parametrize(
    ("days", "en", "zh"),
    [
        (0, "today", "今天"),
        (1, "yesterday", "昨天"),
        (2, "2 days ago", "前天"),
        (12, "12 days ago", "12天前"),
        (30, "30 days ago", "30天前"),
        (31, "1 month ago", "1个月前"),
        (95, "3 months ago", "3个月前"),
        (365, "1 year ago", "1年前"),
        (800, "2 years ago", "2年前"),
        (-1, "tomorrow", "明天"),
        (-3, "in 3 days", "3天后"),
        (-45, "in 1 month", "1个月后"),
    ],
)
def test_days_ago(days: int, en: str, zh: str) -> None:
    then = TODAY - timedelta(days=days)
    assert days_ago(then, TODAY, "en") == en
    assert days_ago(then, TODAY, "zh") == zh


def test_locales_and_datetimes() -> None:
    then = date(2024, 5, 19)
    assert days_ago(then, TODAY, "zh_CN") == "12天前"
    assert days_ago(then, TODAY, "zh-Hans") == "12天前"
    assert days_ago(then, TODAY, "fr") == "12 days ago"
    assert days_ago(datetime(2024, 5, 30, 23, 59), datetime(2024, 5, 31, 0, 1)) == "yesterday"
    assert is_zh("ZH") and not is_zh("") and not is_zh(None)


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (100, "1.00"),
        (123450, "1,234.50"),
        (-123450, "-1,234.50"),
        (123456789012, "1,234,567,890.12"),
        (10**20 + 1, "1,000,000,000,000,000,000.01"),  # exact, no float
    ],
)
def test_fen_to_yuan_str(fen: int, text: str) -> None:
    assert fen_to_yuan_str(fen) == text


@pytest.mark.parametrize("bad", [12.5, True, "100", None])
def test_fen_to_yuan_str_refuses_non_integers(bad) -> None:
    with pytest.raises(TypeError):
        fen_to_yuan_str(bad)


def test_shorten() -> None:
    assert shorten("hello", 10) == "hello"
    assert shorten("hello", 5) == "hello"
    assert shorten("hello world", 8) == "hello w…"
    assert shorten("hello world", 7) == "hello…"  # no space before the ellipsis
    assert shorten("这位顾客喜欢蕾丝连衣裙", 6) == "这位顾客喜…"
    assert shorten("abc", 1) == "…"
    assert shorten("abc", 0) == ""


def test_shorten_never_exceeds_n_and_keeps_accents_with_their_letter() -> None:
    text = "cafe\u0301 au lait"
    out = shorten(text, 5)
    assert out == "caf…"  # the é (e + combining accent) is not split
    for n in range(1, len(text) + 2):
        assert len(shorten(text, n)) <= n
