"""Price sensitivity: measures, verdict thresholds, promotion days, evidence lines."""

from __future__ import annotations

from fractions import Fraction

import pytest

from bot.domain.price_sensitivity import (
    CHINESE_NEW_YEAR,
    is_promotion_day,
    price_sensitivity,
    spring_festival_window,
)
from bot.domain.rfm import OrderFact
from bot.domain.segment_config import PriceSensitivityConfig
from tests.domain._helpers import SH, d, local_ts, utc_ts


def order(day: str, paid: int, off: int = 0, *, coupon: int = 0, **kw) -> OrderFact:
    return OrderFact(
        local_ts(f"{day} 12:00"), kw.pop("status", "completed"), paid,
        discount_fen=off, coupon_fen=coupon, **kw,
    )  # fmt: skip


def test_hand_computed_high_with_evidence() -> None:
    orders = [
        # 7 deal orders: list 100.00, 30.00 off, paid 70.00; three on promotion days
        order("2024-06-18", 7000, coupon=3000),  # 618
        order("2024-11-11", 7000, 3000),  # 双11
        order("2024-01-25", 7000, 1000, coupon=2000),  # 年货节 (CNY 2024-02-10)
        order("2024-03-03", 7000, 3000),
        order("2024-04-04", 7000, 3000),
        order("2024-05-05", 7000, 3000),
        order("2024-07-07", 7000, 3000),
        # 2 full-price orders
        order("2024-08-08", 10000),
        order("2024-09-09", 10000),
        # not counted: cancelled and refused
        order("2024-06-01", 5000, 5000, status="cancelled"),
        order("2024-11-01", 5000, 5000, status="refused"),
    ]
    ps = price_sensitivity(orders, SH)
    assert (ps.orders, ps.deal_orders) == (9, 7)
    assert ps.deal_share == ps.share_with_coupon_or_discount == Fraction(7, 9)
    assert ps.discount_depth == ps.avg_discount_depth == Fraction(21000, 90000)
    assert ps.promo_spend_share == Fraction(21000, 69000)
    assert ps.level == "high"  # deal share 78 % >= 60 %, depth 23 % >= 20 %
    assert ps.evidence_en() == (
        "7 of 9 orders used a coupon or discount, average discount 23%, 30% of spend in promotions"
    )
    assert ps.evidence_zh() == "9单中7单用券或折扣,平均优惠23%,大促消费占30%"


def test_too_few_orders_is_unknown_not_a_guess() -> None:
    ps = price_sensitivity([order("2024-06-18", 5000, 5000), order("2024-06-10", 1, 9999)], SH)
    assert ps.level == "unknown" and ps.orders == 2
    assert ps.deal_share == 1  # measures are still computed, just no verdict
    assert ps.evidence_en() == "Only 2 orders (need 3): too few to judge"
    assert ps.evidence_zh() == "仅2单(至少需3单),数据不足,暂不判断"
    none = price_sensitivity([order("2024-06-18", 500, status="cancelled")], SH)
    assert none.level == "unknown" and none.orders == 0 and none.deal_share is None
    assert none.evidence_en() == "Only 0 orders (need 3): too few to judge"
    one = price_sensitivity([order("2024-06-18", 500)], SH, PriceSensitivityConfig(min_orders=2))
    assert one.evidence_en() == "Only 1 order (need 2): too few to judge"


def test_threshold_equality_reaches_the_level() -> None:
    # 3 of 5 orders with a reduction (60 %), reductions exactly 20 % of list price
    orders = [
        order("2024-03-01", 6666, 3334),
        order("2024-03-02", 6667, 3333),
        order("2024-03-03", 6667, 3333),
        order("2024-03-04", 10000),
        order("2024-03-05", 10000),
    ]
    ps = price_sensitivity(orders, SH)
    assert ps.deal_share == Fraction(3, 5) and ps.discount_depth == Fraction(1, 5)
    assert ps.promo_spend_share == 0
    assert ps.level == "high"


def test_one_high_measure_is_medium_and_none_reaching_medium_is_low() -> None:
    every_order_small_coupon = [order(f"2024-03-0{i}", 9500, coupon=500) for i in range(1, 5)]
    ps = price_sensitivity(every_order_small_coupon, SH)
    assert ps.deal_share == 1 and ps.discount_depth == Fraction(5, 100)
    assert ps.level == "medium"
    full_price = [order(f"2024-03-0{i}", 9900) for i in range(1, 5)]
    assert price_sensitivity(full_price, SH).level == "low"
    # just under every medium threshold: 1 of 4 deal orders (25 %), depth < 10 %
    nearly = [order("2024-03-01", 9000, 1000)] + full_price[1:]
    assert price_sensitivity(nearly, SH).level == "low"


def test_promo_spend_share_uses_net_spend_after_partial_refund() -> None:
    orders = [
        order("2024-11-11", 10000, refunded_fen=4000),  # 60.00 kept, in 双11
        order("2024-03-01", 6000),
        order("2024-03-02", 6000),
    ]
    ps = price_sensitivity(orders, SH)
    assert ps.promo_spend_share == Fraction(6000, 18000)


@pytest.mark.parametrize(
    ("day", "promo"),
    [
        ("2024-05-31", False),
        ("2024-06-01", True),
        ("2024-06-18", True),
        ("2024-06-19", False),
        ("2024-10-31", False),
        ("2024-11-01", True),
        ("2024-11-11", True),
        ("2024-11-12", False),
        ("2024-12-11", False),
        ("2024-12-12", True),
        ("2024-12-13", False),
        # CNY 2024-02-10: sale 2024-01-20 .. 2024-02-09
        ("2024-01-19", False),
        ("2024-01-20", True),
        ("2024-02-09", True),
        ("2024-02-10", False),
        # CNY 2023-01-22: sale 2023-01-01 .. 2023-01-21
        ("2022-12-31", False),
        ("2023-01-01", True),
        ("2040-01-25", False),  # outside the CNY table: no spring-festival window
    ],
)
def test_promotion_days(day: str, promo: bool) -> None:
    assert is_promotion_day(d(day)) is promo


def test_spring_festival_window_can_start_in_december() -> None:
    cfg = PriceSensitivityConfig(spring_festival_days_before=30)
    assert spring_festival_window(2023, 30) == (d("2022-12-23"), d("2023-01-21"))
    assert is_promotion_day(d("2022-12-23"), cfg)
    assert not is_promotion_day(d("2022-12-22"), cfg)
    off = PriceSensitivityConfig(spring_festival_days_before=0, promotions=())
    assert not is_promotion_day(d("2024-01-25"), off)
    assert spring_festival_window(2024, 0) is None
    assert spring_festival_window(2014, 21) is None


def test_promotion_day_is_the_shop_local_date() -> None:
    # 2024-05-31 16:00 UTC is 2024-06-01 00:00 in Shanghai: inside 618
    inside = OrderFact(utc_ts("2024-05-31 16:00"), "paid", 5000)
    outside = OrderFact(utc_ts("2024-05-31 15:59"), "paid", 5000)
    plain = [order("2024-03-01", 5000), order("2024-03-02", 5000)]
    assert price_sensitivity([inside, *plain], SH).promo_spend_share == Fraction(1, 3)
    assert price_sensitivity([outside, *plain], SH).promo_spend_share == 0


def test_cny_table_covers_2015_to_2035_in_jan_feb() -> None:
    assert sorted(CHINESE_NEW_YEAR) == list(range(2015, 2036))
    for year, day in CHINESE_NEW_YEAR.items():
        assert day.year == year
        assert (1, 21) <= (day.month, day.day) <= (2, 20)
    assert CHINESE_NEW_YEAR[2024] == d("2024-02-10")
    assert CHINESE_NEW_YEAR[2025] == d("2025-01-29")
