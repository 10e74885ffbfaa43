"""RFM: the reference definition of recency, frequency and monetary value.

These functions are the *definition*; bulk (SQL) computations must give the
same results and are tested against them.

Which orders count
    An order counts as a purchase when all of these hold:

    * its status is ``paid``, ``shipped`` or ``completed`` (so ``unpaid``,
      ``cancelled``, ``refunded`` and ``refused`` — a refused delivery, 拒收 —
      never count);
    * it has a payment time (``paid_at_utc`` is not None);
    * its net amount ``amount_paid_fen - refunded_fen`` is above 0 (an order
      refunded in full, whatever its status says, is not a purchase; a partial
      refund only lowers M);
    * it was paid on or before ``today`` (shop-local date) — later orders do
      not exist yet as of ``today``, which lets callers compute RFM "as of" a
      past day.

Dates
    A payment time (UTC unix seconds) becomes a calendar date in the shop's
    time zone: 2024-06-17 16:30 UTC is 2024-06-18 00:30 in Asia/Shanghai, so
    that purchase happened on 2024-06-18.

R, F and M
    * Recency = ``today - last_purchase`` in calendar days, where
      ``last_purchase`` is the local date of the last counted order **ever**
      (not only inside the window). Bought today -> 0.
    * Frequency = number of counted orders inside the window.
    * Monetary = sum of their net amounts (fen) inside the window.
    * The window is the last ``window_days`` calendar days *including today*:
      an order counts when ``(today - its date).days < window_days``. With the
      default 365 and today = 2024-12-31, 2024-01-02 is inside and 2024-01-01
      outside. ``window_days=None`` is lifetime.
    * A customer with counted orders, but none inside the window, has F = 0
      and M = 0 (lowest F and M levels). A customer with no counted order at
      all has no RFM (``rfm_inputs`` returns None) and therefore no cell.

Tier mode (default)
    Each of R, F, M is cut into at most 3 levels by the shop's cut points (see
    :class:`~bot.domain.segment_config.RFMTierConfig`). Every cut point is the
    inclusive upper bound of a bucket. Defaults: R3 <= 7 days, R2 8-30, R1 >= 31;
    F1 <= 1 order (including 0), F2 2-3, F3 >= 4; M1 <= 100.00 yuan (including
    0), M2 100.01-1000.00, M3 > 1000.00. The cell name is ``R{r}F{f}M{m}``.

Score mode (IBM SPSS Statistics RFM Analysis, independent binning, "assign ties
to the same bin")
    Each component is scored 1..k (k = 5 by default) separately over the
    customers that have RFM. Score k is the best: most recent, most orders,
    most money. The binning is SPSS's percentile-group rule (the ``RANK``
    command's ``NTILES(k)`` with ``TIES=MEAN``):

    1. sort the customers so that the *worst* value comes first (most days
       since last purchase; fewest orders; least money);
    2. give each customer its rank 1..n; customers with the same value share
       the mean of their ranks (a tie group spanning ranks 4..7 gets 5.5);
    3. score = floor(rank * k / (n + 1)) + 1.

    Tied customers therefore always share a score, as SPSS documents for its
    default tie rule, even when that makes the bins uneven. The combined score
    is 100*R + 10*F + M (555 best with 5 bins). The arithmetic is done on
    integers (2*rank is always whole), so no rounding can differ between
    implementations.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from bot.domain.order import (  # noqa: F401 - re-exported for callers of rfm
    CANCELLED,
    COMPLETED,
    COUNTED_STATUSES,
    PAID,
    REFUNDED,
    REFUSED,
    SHIPPED,
    STATUSES,
    UNPAID,
)
from bot.domain.segment_config import RFMTierConfig

K = TypeVar("K", bound=Hashable)



@dataclass(frozen=True, slots=True)
class OrderFact:
    """One order as segmentation sees it. Money in fen, time in UTC unix seconds.

    ``refunded_fen`` > 0 on an order that is not ``refunded`` is a partial refund.
    ``discount_fen`` (shop price cuts) and ``coupon_fen`` (coupons) are the
    reductions off the list price; ``amount_paid_fen`` is what the buyer paid.
    """

    paid_at_utc: int | None
    status: str
    amount_paid_fen: int
    refunded_fen: int = 0
    discount_fen: int = 0
    coupon_fen: int = 0

    @property
    def net_fen(self) -> int:
        """What the shop keeps: paid minus refunded."""
        return self.amount_paid_fen - self.refunded_fen


def is_counted(order: OrderFact) -> bool:
    """True when the order is a purchase (status, payment time, net > 0; not the date rule)."""
    if order.status not in STATUSES:
        raise ValueError(
            f"unknown order status {order.status!r}; expected one of {sorted(STATUSES)}"
        )
    return (
        order.status in COUNTED_STATUSES
        and order.paid_at_utc is not None
        and order.amount_paid_fen - order.refunded_fen > 0
    )


def local_date(ts_utc: int, tz: ZoneInfo) -> dt.date:
    """The shop-local calendar date of a UTC unix timestamp."""
    return dt.datetime.fromtimestamp(ts_utc, tz).date()


class RFMInput(NamedTuple):
    """A customer's raw R, F, M (before tiers or scores)."""

    last_purchase: dt.date  # shop-local date of the last counted order, ever
    recency_days: int  # today - last_purchase, in calendar days (>= 0)
    frequency: int  # counted orders inside the window
    monetary_fen: int  # their net amount inside the window


def counted_purchases(
    orders: Iterable[OrderFact], today: dt.date, tz: ZoneInfo
) -> list[tuple[dt.date, OrderFact]]:
    """The counted orders paid on or before ``today``, with their shop-local dates."""
    out = []
    for o in orders:
        if is_counted(o):
            day = local_date(o.paid_at_utc, tz)  # type: ignore[arg-type]  # checked above
            if day <= today:
                out.append((day, o))
    return out


def rfm_inputs(
    orders: Iterable[OrderFact],
    today: dt.date,
    tz: ZoneInfo,
    window_days: int | None = 365,
) -> RFMInput | None:
    """R, F and M of one customer as of ``today``; None when no order counts.

    See the module docstring for the exact rules.
    """
    if window_days is not None and window_days < 1:
        raise ValueError(f"window_days must be >= 1 or None, got {window_days}")
    last: dt.date | None = None
    frequency = 0
    monetary = 0
    for day, o in counted_purchases(orders, today, tz):
        if last is None or day > last:
            last = day
        if window_days is None or (today - day).days < window_days:
            frequency += 1
            monetary += o.net_fen
    if last is None:
        return None
    return RFMInput(last, (today - last).days, frequency, monetary)


# ---------------------------------------------------------------------------
# Tier mode


def tier_levels(inp: RFMInput, cfg: RFMTierConfig) -> tuple[int, int, int]:
    """The (R, F, M) levels of a customer; each 1..len(cuts)+1, higher is better."""
    r_levels = len(cfg.recency_days) + 1
    r = r_levels - bisect_left(cfg.recency_days, inp.recency_days)
    f = 1 + bisect_left(cfg.frequency_orders, inp.frequency)
    m = 1 + bisect_left(cfg.monetary_fen, inp.monetary_fen)
    return r, f, m


def tier_cell(inp: RFMInput, cfg: RFMTierConfig | None = None) -> str:
    """The cell name, e.g. ``"R3F2M3"`` (default thresholds when ``cfg`` is None)."""
    r, f, m = tier_levels(inp, cfg or RFMTierConfig())
    return f"R{r}F{f}M{m}"


def all_cells(cfg: RFMTierConfig | None = None) -> list[str]:
    """Every cell name of a configuration, best first (27 with the defaults)."""
    rl, fl, ml = (cfg or RFMTierConfig()).levels
    return [
        f"R{r}F{f}M{m}"
        for r in range(rl, 0, -1)
        for f in range(fl, 0, -1)
        for m in range(ml, 0, -1)
    ]


# ---------------------------------------------------------------------------
# Score mode (SPSS)


class RFMScore(NamedTuple):
    r: int
    f: int
    m: int
    total: int  # 100*r + 10*f + m


def ntile_scores(values: Mapping[K, int], bins: int = 5) -> dict[K, int]:
    """SPSS ``RANK /NTILES(bins) /TIES=MEAN`` of integer values, ascending.

    The smallest value gets the lowest score. Tied values share the mean rank
    and therefore the score: score = floor(mean_rank * bins / (n + 1)) + 1.
    """
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    n = len(values)
    ordered = sorted(values.items(), key=lambda kv: kv[1])
    scores: dict[K, int] = {}
    i = 0
    while i < n:
        j = i
        v = ordered[i][1]
        while j < n and ordered[j][1] == v:
            j += 1
        # Ranks i+1 .. j share the mean rank (i+1+j)/2; 2*mean = i+1+j is whole.
        score = (i + 1 + j) * bins // (2 * (n + 1)) + 1
        for key, _ in ordered[i:j]:
            scores[key] = score
        i = j
    return scores


def spss_scores(inputs: Mapping[K, RFMInput], bins: int = 5) -> dict[K, RFMScore]:
    """Score every customer 1..bins on R, F and M by SPSS's independent binning.

    ``inputs`` should hold every customer that has RFM (quintiles are of the
    shop's customers). Recency is ranked so that more days is worse (score 1).
    """
    r = ntile_scores({k: -v.recency_days for k, v in inputs.items()}, bins)
    f = ntile_scores({k: v.frequency for k, v in inputs.items()}, bins)
    m = ntile_scores({k: v.monetary_fen for k, v in inputs.items()}, bins)
    return {k: RFMScore(r[k], f[k], m[k], 100 * r[k] + 10 * f[k] + m[k]) for k in inputs}
