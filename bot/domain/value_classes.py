"""The eight customer value classes (客户价值分类): R, F and M each high or low.

Rule
    Each of R, F and M is "high" or "low" against a threshold:

    * ``mean`` (default) or ``median``: the shop's average, taken over the
      customers that have RFM (at least one counted order ever). Customers with
      F = 0 / M = 0 in the window are included in the average.
    * ``fixed``: the shop's own thresholds.

    F is high when ``frequency >= threshold``, M when ``monetary_fen >=
    threshold``; R is high when the customer bought *more recently* than the
    threshold, i.e. ``recency_days <= threshold``. A value equal to the
    threshold is high in all three.

    The comparisons are exact: "x >= mean" is tested as ``x * n >= sum`` and
    "x >= median" of an even count as ``2x >= a + b``, so no float rounding
    can move a customer across the line.

    The class then follows from the (R, F, M) pattern; M decides 重要 (important)
    versus 一般 (ordinary):

    ==================  =====  =====  =====
    class               R      F      M
    ==================  =====  =====  =====
    重要价值客户         high   high   high
    重要发展客户         high   low    high
    重要保持客户         low    high   high
    重要挽留客户         low    low    high
    一般价值客户         high   high   low
    一般发展客户         high   low    low
    一般保持客户         low    high   low
    一般挽留客户         low    low    low
    ==================  =====  =====  =====
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import TypeVar

from bot.domain.rfm import RFMInput
from bot.domain.segment_config import ValueClassConfig

K = TypeVar("K", bound=Hashable)


class ValueClass(Enum):
    """A value class: stable ``code`` (for storage and templates), zh and en names."""

    IMPORTANT_VALUE = ("important_value", "重要价值客户", "Important value", "HHH")
    IMPORTANT_DEVELOP = ("important_develop", "重要发展客户", "Important to develop", "HLH")
    IMPORTANT_KEEP = ("important_keep", "重要保持客户", "Important to keep", "LHH")
    IMPORTANT_RETAIN = ("important_retain", "重要挽留客户", "Important to win back", "LLH")
    ORDINARY_VALUE = ("ordinary_value", "一般价值客户", "Ordinary value", "HHL")
    ORDINARY_DEVELOP = ("ordinary_develop", "一般发展客户", "Ordinary to develop", "HLL")
    ORDINARY_KEEP = ("ordinary_keep", "一般保持客户", "Ordinary to keep", "LHL")
    ORDINARY_RETAIN = ("ordinary_retain", "一般挽留客户", "Ordinary to win back", "LLL")

    def __init__(self, code: str, name_zh: str, name_en: str, rfm: str) -> None:
        self.code = code
        self.name_zh = name_zh
        self.name_en = name_en
        #: R, F, M high (H) or low (L), e.g. "HLH" for 重要发展客户.
        self.pattern = rfm
        self.r_high = rfm[0] == "H"
        self.f_high = rfm[1] == "H"
        self.m_high = rfm[2] == "H"

    def display_name(self, locale: str) -> str:
        """The class name in ``locale`` ("zh" or "en"; anything else falls back to zh)."""
        return self.name_en if locale == "en" else self.name_zh

    @classmethod
    def from_flags(cls, r_high: bool, f_high: bool, m_high: bool) -> ValueClass:
        return _BY_FLAGS[(r_high, f_high, m_high)]

    @classmethod
    def from_code(cls, code: str) -> ValueClass:
        try:
            return _BY_CODE[code]
        except KeyError:
            raise ValueError(
                f"unknown value class {code!r}; expected one of {sorted(_BY_CODE)}"
            ) from None


_BY_FLAGS = {(c.r_high, c.f_high, c.m_high): c for c in ValueClass}
_BY_CODE = {c.code: c for c in ValueClass}


@dataclass(frozen=True)
class ValueThresholds:
    """The lines R, F and M were compared against, exact, for the report to show.

    ``recency_days``: high when ``<=``; ``frequency`` and ``monetary_fen``: high
    when ``>=``. ``customers`` is how many customers the averages were taken over
    (0 for fixed thresholds).
    """

    kind: str
    recency_days: Fraction
    frequency: Fraction
    monetary_fen: Fraction
    customers: int

    def flags(self, inp: RFMInput) -> tuple[bool, bool, bool]:
        """(R high, F high, M high); integer cross-multiplication, denominators > 0."""
        r, f, m = self.recency_days, self.frequency, self.monetary_fen
        return (
            inp.recency_days * r.denominator <= r.numerator,
            inp.frequency * f.denominator >= f.numerator,
            inp.monetary_fen * m.denominator >= m.numerator,
        )


def _median(values: list[int]) -> Fraction:
    values = sorted(values)
    n = len(values)
    mid = n // 2
    if n % 2:
        return Fraction(values[mid])
    return Fraction(values[mid - 1] + values[mid], 2)


def value_thresholds(
    inputs: Mapping[K, RFMInput], cfg: ValueClassConfig | None = None
) -> ValueThresholds:
    """The thresholds ``classify`` uses for these customers under ``cfg``.

    Raises ``ValueError`` for mean/median over no customers (nothing to average).
    """
    cfg = cfg or ValueClassConfig()
    if cfg.average == "fixed":
        assert cfg.recency_days is not None
        assert cfg.frequency_orders is not None
        assert cfg.monetary_fen is not None
        return ValueThresholds(
            "fixed",
            Fraction(cfg.recency_days),
            Fraction(cfg.frequency_orders),
            Fraction(cfg.monetary_fen),
            0,
        )
    n = len(inputs)
    if n == 0:
        raise ValueError("no customers with RFM: there is no average to compare against")
    rs = [v.recency_days for v in inputs.values()]
    fs = [v.frequency for v in inputs.values()]
    ms = [v.monetary_fen for v in inputs.values()]
    if cfg.average == "mean":
        return ValueThresholds(
            "mean", Fraction(sum(rs), n), Fraction(sum(fs), n), Fraction(sum(ms), n), n
        )
    return ValueThresholds("median", _median(rs), _median(fs), _median(ms), n)


def classify(
    inputs: Mapping[K, RFMInput], cfg: ValueClassConfig | None = None
) -> dict[K, ValueClass]:
    """The value class of every customer in ``inputs`` (customers that have RFM).

    ``inputs`` must be the whole population the averages are taken over; an
    empty mapping gives an empty result.
    """
    if not inputs:
        return {}
    th = value_thresholds(inputs, cfg)
    return {k: ValueClass.from_flags(*th.flags(v)) for k, v in inputs.items()}
