"""Group customer lifetime value: CLV = P / R, per group and overall.

Definitions (a "year" is 365 calendar days in the shop's time zone)
    * **last year**: the 365 days ending today (days ago 0..364);
      **previous year**: the 365 days before that (days ago 365..729).
    * A customer is *active* in a year when they have at least one counted
      order in it (counting rule of :mod:`bot.domain.rfm`).
    * **P**, the average yearly contribution: ``margin_rate`` x (net spend in
      the last year of the group's customers active in the last year) / (the
      number of those customers). It is the yearly contribution of a customer
      who is still buying.
    * **R**, the yearly churn rate measured on the shop's own data: of the
      group's customers active in the previous year, the share who were not
      active in the last year.
    * **CLV = P / R** — the value of a customer who keeps contributing P a
      year and stays each year with probability 1 - R (the seeds' group model).

    P and CLV are money and are given in whole fen, rounded half up; R is an
    exact Fraction. Every figure CLV came from is kept on the result so the
    report can show it.

Refusals
    No number is given (``refusal`` says why) when

    * the shop has less than ``min_history_days`` (default 365) of order
      history — churn cannot be measured (applies to every group);
    * no customer of the group was active in the previous year (no churn base);
    * no customer of the group was active in the last year (no P);
    * the churn rate is 0 (P / 0 has no finite value).

Grouping
    :func:`group_clv` is generic over the group label. For CLV per value class
    the recommended label is the class the customer had *one year ago*
    (``rfm_inputs(..., today=today - 365 days)`` then ``classify``): classes
    computed today are partly defined by last year's spend, so "important"
    classes would trivially show zero churn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from zoneinfo import ZoneInfo

from bot.domain.rfm import OrderFact, counted_purchases
from bot.domain.segment_config import CLVConfig

YEAR_DAYS = 365
OVERALL = "overall"


class CLVRefusal(Enum):
    """Why no CLV figure is given: stable ``code``, zh and en explanations."""

    SHORT_HISTORY = (
        "short_history",
        "订单历史不足一年,无法测算流失率,暂不计算CLV",
        "Less than a year of order history: churn cannot be measured yet, so no CLV",
    )
    NO_PREVIOUS_CUSTOMERS = (
        "no_previous_customers",
        "上一年度(13-24个月前)没有活跃客户,无法测算流失率",
        "No customer bought 13-24 months ago: churn cannot be measured",
    )
    NO_ACTIVE_CUSTOMERS = (
        "no_active_customers",
        "近12个月没有客户消费,无法计算年均贡献",
        "No customer bought in the last 12 months: no yearly contribution",
    )
    ZERO_CHURN = (
        "zero_churn",
        "流失率为0,CLV=P/R没有有限值",
        "Churn is 0: CLV = P / R has no finite value",
    )

    def __init__(self, code: str, text_zh: str, text_en: str) -> None:
        self.code = code
        self.text_zh = text_zh
        self.text_en = text_en

    def text(self, locale: str) -> str:
        return self.text_en if locale == "en" else self.text_zh


@dataclass(frozen=True, slots=True)
class CustomerYears:
    """One customer's two years, as CLV needs them."""

    group: str
    spend_last_year_fen: int  # net spend of counted orders in the last year
    active_last_year: bool
    active_previous_year: bool


def customer_years(
    orders: Iterable[OrderFact], today: dt.date, tz: ZoneInfo, group: str
) -> CustomerYears:
    """A customer's :class:`CustomerYears` from their orders (rfm counting rule)."""
    spend = 0
    active_last = active_prev = False
    for day, o in counted_purchases(orders, today, tz):
        ago = (today - day).days
        if ago < YEAR_DAYS:
            active_last = True
            spend += o.net_fen
        elif ago < 2 * YEAR_DAYS:
            active_prev = True
    return CustomerYears(group, spend, active_last, active_prev)


def _round_fen(x: Fraction) -> int:
    """Half-up rounding to whole fen."""
    return int((x + Fraction(1, 2)) // 1)


@dataclass(frozen=True)
class GroupCLV:
    """CLV of one group with every figure it came from."""

    group: str
    customers: int  # customers in the group
    margin_rate: Fraction
    active_last_year: int  # customers who bought in the last year
    spend_last_year_fen: int  # their net spend in the last year
    active_previous_year: int  # customers who bought in the previous year (churn base)
    churned: int  # of those, how many did not buy in the last year
    yearly_contribution: Fraction | None  # P, exact fen
    churn_rate: Fraction | None  # R
    clv: Fraction | None  # P / R, exact fen
    refusal: CLVRefusal | None

    @property
    def yearly_contribution_fen(self) -> int | None:
        return None if self.yearly_contribution is None else _round_fen(self.yearly_contribution)

    @property
    def clv_fen(self) -> int | None:
        return None if self.clv is None else _round_fen(self.clv)


@dataclass(frozen=True)
class CLVReport:
    overall: GroupCLV
    by_group: dict[str, GroupCLV]
    history_days: int


def group_from_counts(
    group: str,
    *,
    customers: int,
    active: int,
    spend: int,
    base: int,
    churned: int,
    margin: Fraction,
    short_history: bool,
) -> GroupCLV:
    """CLV of one group from its counts: ``active`` customers bought last year and spent
    ``spend`` fen; ``churned`` of the ``base`` who bought the year before did not."""
    p = margin * Fraction(spend, active) if active else None
    churn = Fraction(churned, base) if base else None
    refusal: CLVRefusal | None
    if short_history:
        refusal = CLVRefusal.SHORT_HISTORY
    elif churn is None:
        refusal = CLVRefusal.NO_PREVIOUS_CUSTOMERS
    elif p is None:
        refusal = CLVRefusal.NO_ACTIVE_CUSTOMERS
    elif churn == 0:
        refusal = CLVRefusal.ZERO_CHURN
    else:
        refusal = None
    if short_history:
        churn = None  # a churn rate over a partial previous year would mislead
    clv = p / churn if refusal is None and p is not None and churn else None
    return GroupCLV(
        group=group,
        customers=customers,
        margin_rate=margin,
        active_last_year=active,
        spend_last_year_fen=spend,
        active_previous_year=base,
        churned=churned,
        yearly_contribution=p,
        churn_rate=churn,
        clv=clv,
        refusal=refusal,
    )


def _one_group(
    group: str, rows: list[CustomerYears], margin: Fraction, short_history: bool
) -> GroupCLV:
    active = [r for r in rows if r.active_last_year]
    base = [r for r in rows if r.active_previous_year]
    return group_from_counts(
        group,
        customers=len(rows),
        active=len(active),
        spend=sum(r.spend_last_year_fen for r in active),
        base=len(base),
        churned=sum(1 for r in base if not r.active_last_year),
        margin=margin,
        short_history=short_history,
    )


def group_clv(
    customers: Iterable[CustomerYears], history_days: int, cfg: CLVConfig | None = None
) -> CLVReport:
    """CLV per group and overall (group label :data:`OVERALL`).

    ``history_days``: days from the shop's first order (local date) to today.
    """
    cfg = cfg or CLVConfig()
    short = history_days < cfg.min_history_days
    rows = list(customers)
    groups: dict[str, list[CustomerYears]] = {}
    for r in rows:
        groups.setdefault(r.group, []).append(r)
    return CLVReport(
        overall=_one_group(OVERALL, rows, cfg.margin_rate, short),
        by_group={g: _one_group(g, rs, cfg.margin_rate, short) for g, rs in sorted(groups.items())},
        history_days=history_days,
    )
