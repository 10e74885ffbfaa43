"""Group CLV = P / R, with the figures and the refusals."""

from __future__ import annotations

from fractions import Fraction

from bot.domain.clv import OVERALL, CLVRefusal, CustomerYears, customer_years, group_clv
from bot.domain.rfm import OrderFact
from bot.domain.segment_config import CLVConfig
from tests.domain._helpers import SH, d, local_ts, utc_ts

TODAY = d("2024-12-31")


def cy(group: str, spend: int, last: bool, prev: bool) -> CustomerYears:
    return CustomerYears(group, spend, last, prev)


def test_hand_computed_group_and_overall() -> None:
    rows = [
        cy("g", 100000, True, True),  # kept
        cy("g", 0, False, True),  # churned
        cy("g", 50000, True, False),  # new last year
        cy("g", 30000, True, True),  # kept
        cy("h", 20000, True, True),
        cy("h", 0, False, True),
    ]
    report = group_clv(rows, history_days=800)
    g = report.by_group["g"]
    # P = 0.3 * (100000 + 50000 + 30000) / 3 = 18000 fen; R = 1/3; CLV = 54000 fen
    assert (g.customers, g.active_last_year, g.spend_last_year_fen) == (4, 3, 180000)
    assert (g.active_previous_year, g.churned) == (3, 1)
    assert g.yearly_contribution == 18000 and g.yearly_contribution_fen == 18000
    assert g.churn_rate == Fraction(1, 3)
    assert g.clv == 54000 and g.clv_fen == 54000
    assert g.refusal is None
    h = report.by_group["h"]
    # P = 0.3 * 20000 / 1 = 6000; R = 1/2; CLV = 12000
    assert (h.yearly_contribution_fen, h.churn_rate, h.clv_fen) == (6000, Fraction(1, 2), 12000)
    o = report.overall
    assert o.group == OVERALL and o.customers == 6
    # P = 0.3 * 200000 / 4 = 15000; R = 2/5; CLV = 37500
    assert (o.yearly_contribution_fen, o.churn_rate, o.clv_fen) == (15000, Fraction(2, 5), 37500)
    assert report.history_days == 800


def test_margin_rate_and_rounding_half_up_to_fen() -> None:
    rows = [cy("g", 1001, True, True), cy("g", 0, False, True), cy("g", 0, False, True)]
    r = group_clv(rows, 400, CLVConfig(margin_rate=Fraction(1, 2))).by_group["g"]
    # P = 500.5 -> 501 fen; R = 2/3; CLV = 750.75 -> 751 fen
    assert r.yearly_contribution == Fraction(1001, 2) and r.yearly_contribution_fen == 501
    assert r.clv == Fraction(3003, 4) and r.clv_fen == 751


def test_refused_under_a_year_of_history() -> None:
    rows = [cy("g", 100, True, True), cy("g", 0, False, True)]
    report = group_clv(rows, history_days=364)
    for r in (report.overall, report.by_group["g"]):
        assert r.refusal is CLVRefusal.SHORT_HISTORY
        assert r.clv is None and r.churn_rate is None and r.clv_fen is None
    assert "a year" in CLVRefusal.SHORT_HISTORY.text("en")
    assert "不足一年" in CLVRefusal.SHORT_HISTORY.text("zh")
    assert group_clv(rows, history_days=365).overall.refusal is None


def test_other_refusals() -> None:
    rows = [
        cy("no_prev", 500, True, False),
        cy("no_active", 0, False, True),
        cy("zero_churn", 500, True, True),
    ]
    by = group_clv(rows, 800).by_group
    assert by["no_prev"].refusal is CLVRefusal.NO_PREVIOUS_CUSTOMERS
    assert by["no_active"].refusal is CLVRefusal.NO_ACTIVE_CUSTOMERS
    assert by["no_active"].churn_rate == 1  # the figure is still shown
    assert by["zero_churn"].refusal is CLVRefusal.ZERO_CHURN
    assert by["zero_churn"].churn_rate == 0 and by["zero_churn"].yearly_contribution_fen == 150
    assert all(r.clv is None for r in by.values())
    assert group_clv([], 800).overall.refusal is CLVRefusal.NO_PREVIOUS_CUSTOMERS


def test_customer_years_boundaries_in_shop_days() -> None:
    def at(day: str, fen: int = 100, status: str = "completed", refunded: int = 0) -> OrderFact:
        return OrderFact(local_ts(f"{day} 12:00"), status, fen, refunded_fen=refunded)

    # 364 days ago: last year; 365: previous year; 729: previous; 730: neither
    assert customer_years([at("2024-01-02")], TODAY, SH, "g") == cy("g", 100, True, False)
    assert customer_years([at("2024-01-01")], TODAY, SH, "g") == cy("g", 0, False, True)
    assert customer_years([at("2023-01-02")], TODAY, SH, "g") == cy("g", 0, False, True)
    assert customer_years([at("2023-01-01")], TODAY, SH, "g") == cy("g", 0, False, False)
    # 2024-01-02 00:05 Shanghai is 2024-01-01 16:05 UTC: still last year
    edge = OrderFact(utc_ts("2024-01-01 16:05"), "paid", 300)
    assert customer_years([edge], TODAY, SH, "g") == cy("g", 300, True, False)
    # partial refund lowers spend; refused and fully refunded orders do not make anyone active
    orders = [
        at("2024-05-01", 1000, refunded=400),
        at("2024-06-01", 5000, status="refused"),
        at("2023-06-01", 800, status="refunded", refunded=800),
    ]
    assert customer_years(orders, TODAY, SH, "g") == cy("g", 600, True, False)
