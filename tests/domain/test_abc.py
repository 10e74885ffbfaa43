"""ABC classes and the Pareto figure."""

from __future__ import annotations

from fractions import Fraction

import pytest

from bot.domain.abc import abc_classes, pareto_share, pareto_summary, rank_by_spend


def test_reaching_exactly_80_percent_closes_a() -> None:
    # cumulative before each: a 0, b 500, c 800, d 900, e 960, f 1000 (total 1000)
    spend = {"a": 500, "b": 300, "c": 100, "d": 60, "e": 40, "f": 0}
    assert abc_classes(spend) == {"a": "A", "b": "A", "c": "B", "d": "B", "e": "C", "f": "C"}


def test_the_customer_who_crosses_80_percent_is_in_a() -> None:
    # a alone is 70 %; b takes it to 85 %: b is in A; c (85 % -> 96 %) crosses 95 %: B
    spend = {"a": 70, "b": 15, "c": 11, "d": 4}
    assert abc_classes(spend) == {"a": "A", "b": "A", "c": "B", "d": "C"}


def test_the_customer_who_crosses_95_percent_is_in_b() -> None:
    # ranking a 800, b 149, d 49, c 2; before d: 949 < 950 -> B; before c: 998 -> C
    spend = {"a": 800, "b": 149, "c": 2, "d": 49}
    assert abc_classes(spend) == {"a": "A", "b": "B", "c": "C", "d": "B"}


def test_one_fen_either_side_of_the_line() -> None:
    # total 10000 fen; 80 % = 8000 fen
    below = {"a": 7999, "b": 1000, "c": 1000, "d": 1}  # before b: 7999 -> A
    assert abc_classes(below) == {"a": "A", "b": "A", "c": "B", "d": "C"}
    at = {"a": 8000, "b": 1000, "c": 999, "d": 1}  # before b: 8000 reached -> B
    assert abc_classes(at) == {"a": "A", "b": "B", "c": "B", "d": "C"}


def test_ties_broken_by_buyer_id() -> None:
    spend = {"m": 700, "l": 100, "k": 100, "j": 100}
    assert [k for k, _ in rank_by_spend(spend)] == ["m", "j", "k", "l"]
    # equal spenders j, k, l: j closes A (800), k and l fall in B
    assert abc_classes(spend) == {"m": "A", "j": "A", "k": "B", "l": "B"}
    ids = {3: 100, 1: 100, 2: 100}
    assert [k for k, _ in rank_by_spend(ids)] == [1, 2, 3]


def test_zero_spend_is_c_and_zero_total_is_all_c() -> None:
    assert abc_classes({"a": 100, "z": 0}) == {"a": "A", "z": "C"}
    assert abc_classes({"a": 0, "b": 0}) == {"a": "C", "b": "C"}
    assert abc_classes({}) == {}


def test_single_customer_is_a() -> None:
    assert abc_classes({"only": 1}) == {"only": "A"}


def test_configurable_thresholds_and_validation() -> None:
    spend = {"a": 50, "b": 30, "c": 20}
    assert abc_classes(spend, a=0.5, b=0.8) == {"a": "A", "b": "B", "c": "C"}
    assert abc_classes(spend, a=Fraction(1, 2), b="0.8") == {"a": "A", "b": "B", "c": "C"}
    with pytest.raises(ValueError):
        abc_classes(spend, a=0.9, b=0.8)
    with pytest.raises(ValueError):
        abc_classes(spend, a=1.2)
    with pytest.raises(ValueError, match="negative"):
        abc_classes({"a": -1})


def test_pareto_figure() -> None:
    # 10 customers; the top 2 bring 710 of 1000
    spend = {f"c{i}": v for i, v in enumerate([400, 310, 90, 60, 50, 40, 30, 10, 10, 0])}
    s = pareto_summary(spend)
    assert (s.customers, s.top_customers, s.top_spend_fen, s.total_spend_fen) == (
        10, 2, 710, 1000,
    )  # fmt: skip
    assert s.customer_percent == 20 and s.sales_percent == 71
    assert s.sales_share == Fraction(71, 100)
    assert pareto_share(spend) == pytest.approx(0.71)


def test_pareto_top_count_rounds_up_and_rounding_of_percent() -> None:
    spend = {i: v for i, v in enumerate([1000, 200, 100, 50, 30, 20, 1])}  # n = 7
    s = pareto_summary(spend)  # ceil(7 * 0.2) = 2
    assert s.top_customers == 2 and s.customer_percent == 29
    assert s.top_spend_fen == 1200 and s.total_spend_fen == 1401
    assert s.sales_percent == 86  # 85.65 %
    assert pareto_summary({1: 5, 2: 5, 3: 5}).top_customers == 1  # ceil(0.6)
    half = pareto_summary({1: 1, 2: 1, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0}, top_share=0.25)
    assert half.sales_share == 1 and half.sales_percent == 100


def test_pareto_edge_cases() -> None:
    empty = pareto_summary({})
    assert (empty.customers, empty.top_customers, empty.sales_percent) == (0, 0, 0)
    zero = pareto_summary({"a": 0, "b": 0})
    assert zero.top_customers == 1 and zero.sales_share == 0
    # 0.705 rounds half up to 71
    s = pareto_summary({"a": 705, "b": 100, "c": 100, "d": 95, "e": 0})
    assert s.top_customers == 1 and s.sales_share == Fraction(705, 1000) and s.sales_percent == 71
