"""ABC classes and the shop's Pareto figure, by spend.

Ranking
    Customers are ranked by spend (M over the RFM window, fen), highest first;
    equal spend is ordered by buyer id ascending (Python ``<`` on the ids, i.e.
    SQL ``ORDER BY spend DESC, buyer_id ASC`` with binary collation for text ids).

ABC
    With T the total spend and S(i) the cumulative spend of the first i
    customers in that ranking (S(0) = 0), the customer at position i is

    * **A** when S(i-1) < a * T — A is the smallest set of top customers whose
      spend reaches a (80 %) of sales; the customer who crosses the line is in A;
    * **B** when not A and S(i-1) < b * T — the next ones up to b (95 %);
    * **C** otherwise.

    Comparisons are exact: ``S * den < T * num`` with a = num/den.
    Consequences, by design: a customer with zero spend is always C (the sales
    before them already add up to T); when total sales are 0 every customer is
    C (there are no sales to concentrate); with equal spend at the line the
    buyer-id order decides, so two equal spenders can land in A and B.

Pareto figure
    The top ``ceil(top_share * n)`` customers of the same ranking (at least one
    when n > 0) and the share of sales they bring: "the top 20 % of customers
    bring 71 % of sales". The counts and fen are exact; the shares are given
    both as Fractions and as rounded whole percents.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, TypeVar

K = TypeVar("K", bound=Hashable)
ABCClass = Literal["A", "B", "C"]


def _as_share(value: float | Fraction | str, name: str) -> Fraction:
    """0.8 -> 4/5 exactly (a float is read through its shortest decimal text)."""
    frac = value if isinstance(value, Fraction) else Fraction(str(value))
    if not (0 <= frac <= 1):
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
    return frac


def rank_by_spend(spend: Mapping[K, int]) -> list[tuple[K, int]]:
    """(buyer id, spend) pairs, highest spend first, ties by buyer id ascending."""
    return sorted(spend.items(), key=lambda kv: (-kv[1], kv[0]))


def abc_classes(
    spend: Mapping[K, int],
    a: float | Fraction | str = Fraction(80, 100),
    b: float | Fraction | str = Fraction(95, 100),
) -> dict[K, ABCClass]:
    """The ABC class of every buyer in ``spend`` (fen, >= 0). See the module rule."""
    fa, fb = _as_share(a, "a"), _as_share(b, "b")
    if fa > fb:
        raise ValueError(f"a ({a}) must not exceed b ({b})")
    for k, v in spend.items():
        if v < 0:
            raise ValueError(f"spend of {k!r} is negative ({v} fen)")
    total = sum(spend.values())
    a_line = total * fa.numerator  # compare S * fa.denominator < a_line
    b_line = total * fb.numerator
    out: dict[K, ABCClass] = {}
    before = 0
    for k, v in rank_by_spend(spend):
        if before * fa.denominator < a_line:
            out[k] = "A"
        elif before * fb.denominator < b_line:
            out[k] = "B"
        else:
            out[k] = "C"
        before += v
    return out


def _round_percent(frac: Fraction) -> int:
    """A share as a whole percent, half rounded up (0.705 -> 71)."""
    scaled = frac * 100
    return int((scaled + Fraction(1, 2)) // 1)


@dataclass(frozen=True)
class ParetoSummary:
    """The top ``top_customers`` of ``customers`` bring ``top_spend_fen`` of ``total_spend_fen``."""

    customers: int
    top_customers: int
    top_spend_fen: int
    total_spend_fen: int

    @property
    def customer_share(self) -> Fraction:
        return Fraction(self.top_customers, self.customers) if self.customers else Fraction(0)

    @property
    def sales_share(self) -> Fraction:
        """Share of sales the top customers bring; 0 when there were no sales."""
        if not self.total_spend_fen:
            return Fraction(0)
        return Fraction(self.top_spend_fen, self.total_spend_fen)

    @property
    def customer_percent(self) -> int:
        return _round_percent(self.customer_share)

    @property
    def sales_percent(self) -> int:
        return _round_percent(self.sales_share)


def pareto_summary(
    spend: Mapping[K, int], top_share: float | Fraction | str = Fraction(20, 100)
) -> ParetoSummary:
    """How much of sales the top ``top_share`` of customers bring (same ranking as ABC)."""
    share = _as_share(top_share, "top_share")
    n = len(spend)
    k = -((-n * share.numerator) // share.denominator)  # ceil(n * share)
    if n and k == 0:
        k = 1
    ranked = rank_by_spend(spend)
    return ParetoSummary(
        customers=n,
        top_customers=k,
        top_spend_fen=sum(v for _, v in ranked[:k]),
        total_spend_fen=sum(spend.values()),
    )


def pareto_share(spend: Mapping[K, int], top_share: float | Fraction | str = 0.2) -> float:
    """Share of sales (0..1) brought by the top ``top_share`` of customers; for display."""
    return float(pareto_summary(spend, top_share).sales_share)
