"""[segments] TOML table -> SegmentConfig, with clear errors."""

from __future__ import annotations

import re
import tomllib
from fractions import Fraction

import pytest

from bot.domain import segment_config
from bot.domain.segment_config import (
    PromotionWindow,
    RFMTierConfig,
    SegmentConfig,
    from_dict,
    parse_share,
    yuan_to_fen,
)


def test_defaults_match_the_issue() -> None:
    cfg = from_dict({})
    assert cfg == SegmentConfig()
    assert cfg.mode == "tier" and cfg.window_days == 365
    assert cfg.tiers == RFMTierConfig((7, 30), (1, 3), (10000, 100000))
    assert cfg.tiers.levels == (3, 3, 3)
    assert cfg.score.bins == 5
    assert cfg.value_classes.average == "mean"
    assert (cfg.abc.a_share, cfg.abc.b_share) == (Fraction(4, 5), Fraction(19, 20))
    assert cfg.abc.pareto_top_share == Fraction(1, 5)
    assert cfg.clv.min_history_days == 365
    assert cfg.price_sensitivity.min_orders == 3
    assert [p.name for p in cfg.price_sensitivity.promotions] == ["618", "双11", "双12"]
    assert cfg.price_sensitivity.spring_festival_days_before == 21


def test_the_documented_example_parses() -> None:
    doc = segment_config.__doc__ or ""
    example = doc.split("Example (every key is optional)::", 1)[1].split("Shares and rates", 1)[0]
    toml_text = "\n".join(line[4:] for line in example.splitlines())
    cfg = from_dict(tomllib.loads(toml_text)["segments"])
    assert cfg == SegmentConfig()


def test_full_table() -> None:
    text = """
    [segments]
    mode = "score"
    window_days = "all"
    [segments.tiers]
    recency_days = [30]
    frequency_orders = [1, 3]
    monetary_yuan = [99.5]
    [segments.score]
    bins = 4
    [segments.value_classes]
    average = "fixed"
    recency_days = 45
    frequency_orders = 2
    monetary_yuan = "300.10"
    [segments.abc]
    a_share = "70%"
    b_share = 0.9
    [segments.clv]
    margin_rate = 0.25
    min_history_days = 400
    [segments.price_sensitivity]
    min_orders = 5
    spring_festival_days_before = 0
    deal_share = [0.2, 0.5]
    promotions = [{ name = "店庆", start = "09-09", end = "09-10" }]
    """
    text = "\n".join(line.strip() for line in text.splitlines())
    cfg = from_dict(tomllib.loads(text)["segments"])
    assert cfg.mode == "score" and cfg.window_days is None
    assert cfg.tiers == RFMTierConfig((30,), (1, 3), (9950,))
    assert cfg.tiers.levels == (2, 3, 2)
    assert cfg.score.bins == 4
    vc = cfg.value_classes
    assert (vc.average, vc.recency_days, vc.frequency_orders, vc.monetary_fen) == (
        "fixed", 45, 2, 30010,
    )  # fmt: skip
    assert (cfg.abc.a_share, cfg.abc.b_share) == (Fraction(7, 10), Fraction(9, 10))
    assert cfg.clv.margin_rate == Fraction(1, 4) and cfg.clv.min_history_days == 400
    ps = cfg.price_sensitivity
    assert ps.min_orders == 5 and ps.spring_festival_days_before == 0
    assert ps.deal_share == (Fraction(1, 5), Fraction(1, 2))
    assert ps.promotions == (PromotionWindow("店庆", (9, 9), (9, 10)),)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"mode": "quintile"}, "segments.mode: must be 'tier' or 'score'"),
        ({"window_days": 0}, "segments.window_days: must be a whole number >= 1 or 'all'"),
        ({"window_days": "forever"}, "segments.window_days"),
        ({"windows_days": 30}, "unknown key(s) windows_days"),
        ({"tiers": {"recency_days": [30, 7]}}, "tiers.recency_days: cut points must increase"),
        ({"tiers": {"frequency_orders": [1, 2, 3]}}, "give 0-2 cut points (1-3 levels)"),
        ({"tiers": {"recency_days": 7}}, "segments.tiers.recency_days: must be a list"),
        ({"tiers": {"recency_days": [7.5]}}, "segments.tiers.recency_days: must be a whole"),
        ({"tiers": {"monetary_yuan": [100.001]}}, "at most 2 decimals"),
        ({"tiers": {"monetary_yuan": ["lots"]}}, "is not an amount in yuan"),
        ({"tiers": {"monetary_yuan": [-1]}}, "non-negative"),
        ({"tiers": {"monetary_fen": [100]}}, "unknown key(s) monetary_fen"),
        ({"tiers": []}, "[segments.tiers] must be a table"),
        ({"score": {"bins": 12}}, "segments.score.bins: must be a whole number 2-9"),
        ({"value_classes": {"average": "mode"}}, "must be 'mean', 'median' or 'fixed'"),
        (
            {"value_classes": {"average": "fixed", "recency_days": 30}},
            "needs recency_days, frequency_orders and monetary_yuan; missing "
            "frequency_orders, monetary_yuan",
        ),
        ({"abc": {"a_share": 0.95, "b_share": 0.8}}, "need 0 < a_share <= b_share <= 1"),
        ({"abc": {"a_share": 1.5}}, "segments.abc.a_share: must be between 0 and 1"),
        ({"abc": {"a_share": True}}, "segments.abc.a_share: must be a number"),
        ({"abc": {"pareto_top_share": 0}}, "pareto_top_share: must be above 0"),
        ({"clv": {"margin_rate": 0}}, "segments.clv.margin_rate: must be above 0"),
        ({"clv": {"min_history_days": 100}}, "min_history_days: must be a whole number >= 365"),
        ({"price_sensitivity": {"min_orders": 0}}, "min_orders: must be a whole number >= 1"),
        ({"price_sensitivity": {"deal_share": [0.6]}}, "deal_share: give [medium, high]"),
        ({"price_sensitivity": {"deal_share": [0.6, 0.3]}}, "0 < medium <= high <= 1"),
        (
            {"price_sensitivity": {"spring_festival_days_before": 90}},
            "spring_festival_days_before: must be a whole number of days 0-60",
        ),
        (
            {"price_sensitivity": {"promotions": [{"name": "x", "start": "6-1"}]}},
            "promotions[0]: missing 'end'",
        ),
        (
            {
                "price_sensitivity": {
                    "promotions": [{"name": "x", "start": "06/01", "end": "06-02"}]
                }
            },
            "promotions[0].start: write the day as 'MM-DD'",
        ),
        (
            {
                "price_sensitivity": {
                    "promotions": [{"name": "x", "start": "02-30", "end": "03-01"}]
                }
            },
            "'02-30' is not a calendar day",
        ),
        (
            {
                "price_sensitivity": {
                    "promotions": [{"name": "年末", "start": "12-25", "end": "01-05"}]
                }
            },
            "a window cannot cross New Year",
        ),
    ],
)
def test_bad_values_say_which_key(table: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        from_dict(table)


def test_not_a_table() -> None:
    with pytest.raises(ValueError, match=r"\[segments\] must be a table"):
        from_dict([])  # type: ignore[arg-type]


def test_money_and_share_parsing_is_exact() -> None:
    assert yuan_to_fen(100, "x") == 10000
    assert yuan_to_fen("100.01", "x") == 10001
    assert yuan_to_fen(100.1, "x") == 10010  # not 10009 from float rounding
    assert yuan_to_fen(0.29, "x") == 29
    assert parse_share(0.8, "x") == Fraction(4, 5)
    assert parse_share("95%", "x") == Fraction(19, 20)
    assert parse_share(1, "x") == 1
    with pytest.raises(ValueError, match="x: "):
        yuan_to_fen(True, "x")


def test_dataclasses_are_frozen() -> None:
    cfg = SegmentConfig()
    with pytest.raises(AttributeError):
        cfg.mode = "score"  # type: ignore[misc]
