"""Tags: one spelling per tag, clear refusals, quoted arguments."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.tags import MAX_TAG_LENGTH, TagError, normalize_tag, parse_tag_args, validate_tag


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("VIP", "vip"),
        ("ＶＩＰ", "vip"),  # full-width from a Chinese IME
        ("  big   spender ", "big spender"),
        ("big\u3000spender", "big spender"),  # ideographic space
        ("#vip", "vip"),
        ("老客户", "老客户"),
        ("vip\u200b", "vip"),  # zero-width space pasted from a chat tool
        ("Straße", "strasse"),
    ],
)
def test_normalize_makes_spellings_of_one_tag_equal(typed: str, stored: str) -> None:
    assert normalize_tag(typed) == stored


@given(st.text())
def test_normalize_is_idempotent(s: str) -> None:
    once = normalize_tag(s)
    assert normalize_tag(once) == once


def test_validate_returns_the_normalised_tag() -> None:
    assert validate_tag(" ＶＩＰ ") == "vip"


@pytest.mark.parametrize("hostile", ["'; DROP TABLE customers; --", "<b>", "a&b", "1=1"])
def test_hostile_text_is_just_a_tag_name(hostile: str) -> None:
    assert validate_tag(hostile) == hostile.casefold()


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("#", "empty"),
        ("x" * (MAX_TAG_LENGTH + 1), f"at most {MAX_TAG_LENGTH}"),
        ("vip\x00", "control character"),
        ("a\u202eb", "control character"),  # right-to-left override
        ('say "hi"', "quote"),
        ("「vip」", "quote"),
    ],
)
def test_validate_refuses_with_a_message_that_says_what_to_do(bad: str, says: str) -> None:
    with pytest.raises(TagError, match=says):
        validate_tag(bad)


def test_length_limit_counts_characters_after_normalising() -> None:
    assert validate_tag("字" * MAX_TAG_LENGTH) == "字" * MAX_TAG_LENGTH
    assert validate_tag("  " + "a" * MAX_TAG_LENGTH + "  ") == "a" * MAX_TAG_LENGTH


def test_emoji_with_joiner_is_allowed() -> None:
    assert validate_tag("👩\u200d💻") == "👩\u200d💻"


def test_parse_args_honours_every_quote_style() -> None:
    text = 'buyer1 vip "big spender" “老 客户” 「回头 客」 『a b』'
    assert parse_tag_args(text) == ["buyer1", "vip", "big spender", "老 客户", "回头 客", "a b"]


def test_parse_args_keeps_single_quotes_as_text() -> None:
    assert parse_tag_args("it's fine") == ["it's", "fine"]


def test_parse_args_empty_and_adjacent_quotes() -> None:
    assert parse_tag_args("") == []
    assert parse_tag_args('a ""') == ["a", ""]
    assert parse_tag_args('x"y z"') == ["xy z"]


def test_parse_args_missing_closing_quote_is_an_error() -> None:
    with pytest.raises(TagError, match="close the quote"):
        parse_tag_args('vip "big spender')
