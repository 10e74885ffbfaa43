"""Price sensitivity of one buyer, from their orders.

Orders used: the counted orders (rule of :mod:`bot.domain.rfm`) the caller
passes — all of the customer's history unless the caller filters.

Measures
    * **deal share**: orders with any reduction (``discount_fen + coupon_fen > 0``)
      / counted orders;
    * **discount depth**: total reductions / total list price, i.e.
      ``sum(discount + coupon) / sum(amount_paid + discount + coupon)`` — a
      spend-weighted average of how much was taken off;
    * **promo spend share**: net spend (paid - refunded) of orders paid on a
      promotion day / total net spend. Promotion days are shop-local dates in a
      configured window (defaults 618 = 06-01..06-18, 双11 = 11-01..11-11,
      双12 = 12-12) or in the spring-festival sale: the
      ``spring_festival_days_before`` days (default 21) before Chinese New
      Year's day, i.e. CNY-21 .. CNY-1 (年货节). CNY dates are tabulated for
      2015-2035; outside those years there is no spring-festival window.

Verdict
    Each measure has a (medium, high) threshold pair (a value equal to a
    threshold reaches it). Defaults: deal share 30 % / 60 %, depth 10 % / 20 %,
    promo share 30 % / 60 %.

    * fewer than ``min_orders`` (default 3) counted orders -> **unknown**;
    * at least two measures reach their *high* threshold -> **high**;
    * no measure reaches its *medium* threshold -> **low**;
    * otherwise -> **medium**.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal
from zoneinfo import ZoneInfo

from bot.domain.rfm import OrderFact, is_counted, local_date
from bot.domain.segment_config import PriceSensitivityConfig

Level = Literal["high", "medium", "low", "unknown"]

#: Gregorian date of Chinese New Year's day (正月初一), 2015-2035.
CHINESE_NEW_YEAR: dict[int, dt.date] = {
    2015: dt.date(2015, 2, 19),
    2016: dt.date(2016, 2, 8),
    2017: dt.date(2017, 1, 28),
    2018: dt.date(2018, 2, 16),
    2019: dt.date(2019, 2, 5),
    2020: dt.date(2020, 1, 25),
    2021: dt.date(2021, 2, 12),
    2022: dt.date(2022, 2, 1),
    2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
    2031: dt.date(2031, 1, 23),
    2032: dt.date(2032, 2, 11),
    2033: dt.date(2033, 1, 31),
    2034: dt.date(2034, 2, 19),
    2035: dt.date(2035, 2, 8),
}


def spring_festival_window(year: int, days_before: int) -> tuple[dt.date, dt.date] | None:
    """(first, last) day of the spring-festival sale before CNY of ``year``, or None."""
    cny = CHINESE_NEW_YEAR.get(year)
    if cny is None or days_before <= 0:
        return None
    return cny - dt.timedelta(days=days_before), cny - dt.timedelta(days=1)


def is_promotion_day(day: dt.date, cfg: PriceSensitivityConfig | None = None) -> bool:
    """True when ``day`` (shop-local) falls in a configured promotion window."""
    cfg = cfg or PriceSensitivityConfig()
    if any(w.contains(day) for w in cfg.promotions):
        return True
    # The sale before CNY of day.year, or (in late December) of next year.
    for year in (day.year, day.year + 1):
        window = spring_festival_window(year, cfg.spring_festival_days_before)
        if window and window[0] <= day <= window[1]:
            return True
    return False


def _percent(frac: Fraction) -> int:
    """Whole percent, half rounded up."""
    return int((frac * 100 + Fraction(1, 2)) // 1)


@dataclass(frozen=True)
class PriceSensitivity:
    """The verdict and the measures behind it (None measures when there are no orders)."""

    level: Level
    orders: int
    deal_orders: int
    deal_share: Fraction | None
    discount_depth: Fraction | None
    promo_spend_share: Fraction | None
    min_orders: int

    # Convenience names matching the wording.
    @property
    def share_with_coupon_or_discount(self) -> Fraction | None:
        return self.deal_share

    @property
    def avg_discount_depth(self) -> Fraction | None:
        return self.discount_depth

    def evidence_en(self) -> str:
        """One line for the /whois card, e.g. "7 of 9 orders used a coupon or discount, ..."."""
        if self.level == "unknown":
            return (
                f"Only {self.orders} order{'s' if self.orders != 1 else ''} "
                f"(need {self.min_orders}): too few to judge"
            )
        assert self.discount_depth is not None and self.promo_spend_share is not None
        return (
            f"{self.deal_orders} of {self.orders} orders used a coupon or discount, "
            f"average discount {_percent(self.discount_depth)}%, "
            f"{_percent(self.promo_spend_share)}% of spend in promotions"
        )

    def evidence_zh(self) -> str:
        """/whois 卡片上的一行依据,如 "9单中7单用券或折扣,平均优惠23%,大促消费占40%"."""
        if self.level == "unknown":
            return f"仅{self.orders}单(至少需{self.min_orders}单),数据不足,暂不判断"
        assert self.discount_depth is not None and self.promo_spend_share is not None
        return (
            f"{self.orders}单中{self.deal_orders}单用券或折扣,"
            f"平均优惠{_percent(self.discount_depth)}%,"
            f"大促消费占{_percent(self.promo_spend_share)}%"
        )


def price_sensitivity(
    orders: Iterable[OrderFact], tz: ZoneInfo, cfg: PriceSensitivityConfig | None = None
) -> PriceSensitivity:
    """Measures and verdict for one buyer's orders (only counted orders are used)."""
    cfg = cfg or PriceSensitivityConfig()
    n = deal = 0
    reductions = list_price = 0
    net_total = promo_net = 0
    for o in orders:
        if not is_counted(o):
            continue
        n += 1
        off = o.discount_fen + o.coupon_fen
        if off > 0:
            deal += 1
        reductions += off
        list_price += o.amount_paid_fen + off
        net_total += o.net_fen
        if is_promotion_day(local_date(o.paid_at_utc, tz), cfg):  # type: ignore[arg-type]
            promo_net += o.net_fen
    if n == 0:
        return PriceSensitivity("unknown", 0, 0, None, None, None, cfg.min_orders)
    deal_share = Fraction(deal, n)
    depth = Fraction(reductions, list_price)  # list_price >= net_total > 0
    promo = Fraction(promo_net, net_total)
    if n < cfg.min_orders:
        level: Level = "unknown"
    else:
        measures = (
            (deal_share, cfg.deal_share),
            (depth, cfg.discount_depth),
            (promo, cfg.promo_spend_share),
        )
        highs = sum(1 for v, (_, hi) in measures if v >= hi)
        mediums = sum(1 for v, (med, _) in measures if v >= med)
        level = "high" if highs >= 2 else "low" if mediums == 0 else "medium"
    return PriceSensitivity(level, n, deal, deal_share, depth, promo, cfg.min_orders)
