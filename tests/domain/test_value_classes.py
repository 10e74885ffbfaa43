"""The eight value classes: thresholds (mean, median, fixed), equality, names."""

from __future__ import annotations

from fractions import Fraction

import pytest

from bot.domain.rfm import RFMInput
from bot.domain.segment_config import ValueClassConfig
from bot.domain.value_classes import ValueClass, classify, value_thresholds
from tests.domain._helpers import d

DAY = d("2024-06-30")


def inp(recency: int, frequency: int, monetary: int) -> RFMInput:
    return RFMInput(DAY, recency, frequency, monetary)


FIXED = ValueClassConfig("fixed", recency_days=30, frequency_orders=2, monetary_fen=50000)


@pytest.mark.parametrize(
    ("rfm", "code", "zh"),
    [
        ((30, 2, 50000), "important_value", "重要价值客户"),  # all exactly at the line: high
        ((10, 1, 90000), "important_develop", "重要发展客户"),
        ((31, 5, 50000), "important_keep", "重要保持客户"),
        ((90, 1, 80000), "important_retain", "重要挽留客户"),
        ((0, 2, 49999), "ordinary_value", "一般价值客户"),
        ((30, 1, 100), "ordinary_develop", "一般发展客户"),
        ((31, 2, 0), "ordinary_keep", "一般保持客户"),
        ((365, 0, 0), "ordinary_retain", "一般挽留客户"),
    ],
)
def test_the_eight_classes_with_fixed_thresholds(
    rfm: tuple[int, int, int], code: str, zh: str
) -> None:
    got = classify({"x": inp(*rfm)}, FIXED)["x"]
    assert got.code == code
    assert got.name_zh == zh
    assert got.display_name("zh") == zh


def test_class_table_matches_the_seeds() -> None:
    table = {c.name_zh: c.pattern for c in ValueClass}
    assert table == {
        "重要价值客户": "HHH",
        "重要发展客户": "HLH",
        "重要保持客户": "LHH",
        "重要挽留客户": "LLH",
        "一般价值客户": "HHL",
        "一般发展客户": "HLL",
        "一般保持客户": "LHL",
        "一般挽留客户": "LLL",
    }
    assert len({c.code for c in ValueClass}) == 8
    assert len({c.name_en for c in ValueClass}) == 8
    assert ValueClass.from_code("important_retain") is ValueClass.IMPORTANT_RETAIN
    assert ValueClass.IMPORTANT_RETAIN.display_name("en") == "Important to win back"
    with pytest.raises(ValueError, match="unknown value class"):
        ValueClass.from_code("vip")


def test_mean_thresholds_and_equal_to_average_is_high() -> None:
    inputs = {
        "a": inp(10, 4, 30000),
        "b": inp(30, 2, 10000),
        "c": inp(20, 3, 20000),  # exactly the mean on all three
    }
    th = value_thresholds(inputs)
    assert (th.recency_days, th.frequency, th.monetary_fen) == (20, 3, 20000)
    assert th.customers == 3
    got = classify(inputs)
    assert got == {
        "a": ValueClass.IMPORTANT_VALUE,
        "b": ValueClass.ORDINARY_RETAIN,
        "c": ValueClass.IMPORTANT_VALUE,
    }


def test_recency_high_means_fewer_days_than_average() -> None:
    # mean recency (1 + 2) / 2 = 1.5 days: 1 day is high, 2 days low
    inputs = {"recent": inp(1, 1, 100), "older": inp(2, 1, 100)}
    got = classify(inputs)
    assert got["recent"].r_high and not got["older"].r_high


def test_mean_is_exact_not_float() -> None:
    # mean M = 31 / 3 = 10.333...: 10 is low, 11 high; mean F = 2/3
    inputs = {"a": inp(5, 0, 10), "b": inp(5, 1, 10), "c": inp(5, 1, 11)}
    th = value_thresholds(inputs)
    assert th.monetary_fen == Fraction(31, 3) and th.frequency == Fraction(2, 3)
    got = classify(inputs)
    assert [got[k].m_high for k in "abc"] == [False, False, True]
    assert [got[k].f_high for k in "abc"] == [False, True, True]


def test_f0_m0_customers_count_in_the_average() -> None:
    # a customer who bought only before the window (F=0, M=0) still has a cell
    inputs = {"active": inp(3, 2, 20000), "lapsed": inp(500, 0, 0)}
    th = value_thresholds(inputs)
    assert th.frequency == 1 and th.monetary_fen == 10000
    got = classify(inputs)
    assert got["active"] is ValueClass.IMPORTANT_VALUE
    assert got["lapsed"] is ValueClass.ORDINARY_RETAIN


def test_median_odd_and_even() -> None:
    odd = {"a": inp(1, 1, 100), "b": inp(5, 2, 300), "c": inp(50, 9, 900000)}
    th = value_thresholds(odd, ValueClassConfig("median"))
    assert (th.recency_days, th.frequency, th.monetary_fen) == (5, 2, 300)
    got = classify(odd, ValueClassConfig("median"))
    assert got["b"] is ValueClass.IMPORTANT_VALUE  # equal to the median: high
    assert got["c"] is ValueClass.IMPORTANT_KEEP
    even = {**odd, "d": inp(60, 10, 1000)}
    th = value_thresholds(even, ValueClassConfig("median"))
    # sorted R 1 5 50 60 -> 27.5; F 1 2 9 10 -> 5.5; M 100 300 1000 900000 -> 650
    assert th.recency_days == Fraction(55, 2)
    assert th.frequency == Fraction(11, 2)
    assert th.monetary_fen == 650


def test_empty_population() -> None:
    assert classify({}) == {}
    with pytest.raises(ValueError, match="no customers"):
        value_thresholds({})
    # fixed thresholds need no population
    assert value_thresholds({}, FIXED).recency_days == 30
