"""Thresholds for segmentation (RFM, value classes, ABC, CLV, price sensitivity).

Every threshold has a default that matches the issue text; a shop overrides
them in the ``[segments]`` table of its TOML file. :func:`from_dict` turns that
parsed table into a :class:`SegmentConfig` and raises ``ValueError`` naming the
key and what to write instead when a value is wrong.

Example (every key is optional)::

    [segments]
    mode = "tier"              # "tier" (R3F2M3 cells) or "score" (SPSS-style 1-5 scores)
    window_days = 365          # F and M window; "all" for lifetime

    [segments.tiers]           # each list: 0-2 increasing cut points -> 1-3 levels
    recency_days = [7, 30]     # R3 <= 7, R2 8-30, R1 >= 31
    frequency_orders = [1, 3]  # F1 <= 1, F2 2-3, F3 > 3
    monetary_yuan = [100, 1000]  # M1 <= 100, M2 100.01-1000, M3 > 1000 (yuan, up to 2 decimals)

    [segments.score]
    bins = 5

    [segments.value_classes]
    average = "mean"           # "mean", "median" or "fixed"
    # with average = "fixed":
    # recency_days = 30        # R high when days since last purchase <= 30
    # frequency_orders = 2     # F high when orders >= 2
    # monetary_yuan = 300      # M high when spend >= 300 yuan

    [segments.abc]
    a_share = 0.80
    b_share = 0.95
    pareto_top_share = 0.20

    [segments.clv]
    margin_rate = 0.30
    min_history_days = 365

    [segments.price_sensitivity]
    min_orders = 3
    spring_festival_days_before = 21
    deal_share = [0.3, 0.6]          # medium, high
    discount_depth = [0.10, 0.20]
    promo_spend_share = [0.3, 0.6]
    promotions = [
      { name = "618", start = "06-01", end = "06-18" },
      { name = "双11", start = "11-01", end = "11-11" },
      { name = "双12", start = "12-12", end = "12-12" },
    ]

Shares and rates are kept as exact :class:`fractions.Fraction` (``0.8`` becomes
``4/5``), so comparisons such as "cumulative spend reaches 80 % of sales" are
exact integer arithmetic. Money is integer fen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Literal

TierMode = Literal["tier", "score"]
AverageKind = Literal["mean", "median", "fixed"]


@dataclass(frozen=True)
class RFMTierConfig:
    """Cut points for tier mode. ``n`` cut points give ``n + 1`` levels (1-3).

    Each cut point is the inclusive upper bound of a bucket: a value ``<= cuts[0]``
    is in the first bucket, ``cuts[0] < value <= cuts[1]`` in the second, and so
    on. For F and M the first bucket is level 1 (F1, M1); for R the first bucket
    (fewest days) is the *highest* level (R3 with three levels).
    """

    recency_days: tuple[int, ...] = (7, 30)
    frequency_orders: tuple[int, ...] = (1, 3)
    monetary_fen: tuple[int, ...] = (10_000, 100_000)

    def __post_init__(self) -> None:
        for name in ("recency_days", "frequency_orders", "monetary_fen"):
            _check_cuts(f"tiers.{name}", getattr(self, name))

    @property
    def levels(self) -> tuple[int, int, int]:
        """Number of levels of R, F and M; their product is the number of cells."""
        return (
            len(self.recency_days) + 1,
            len(self.frequency_orders) + 1,
            len(self.monetary_fen) + 1,
        )


@dataclass(frozen=True)
class RFMScoreConfig:
    """Score mode: number of bins per component (SPSS allows 2-9; default 5)."""

    bins: int = 5

    def __post_init__(self) -> None:
        if not (isinstance(self.bins, int) and 2 <= self.bins <= 9):
            raise ValueError(f"segments.score.bins: must be a whole number 2-9, got {self.bins!r}")


@dataclass(frozen=True)
class ValueClassConfig:
    """How R, F and M are split into high/low for the eight value classes.

    ``mean``/``median``: the shop's average over the customers that have a
    cell. ``fixed``: the three thresholds below (all required). In every case
    a value equal to the threshold is high; for recency "high" means *at most*
    that many days.
    """

    average: AverageKind = "mean"
    recency_days: int | None = None
    frequency_orders: int | None = None
    monetary_fen: int | None = None

    def __post_init__(self) -> None:
        if self.average not in ("mean", "median", "fixed"):
            raise ValueError(
                f"segments.value_classes.average: must be 'mean', 'median' or 'fixed', "
                f"got {self.average!r}"
            )
        if self.average == "fixed":
            missing = [
                k
                for k in ("recency_days", "frequency_orders", "monetary_fen")
                if getattr(self, k) is None
            ]
            if missing:
                raise ValueError(
                    "segments.value_classes: average = 'fixed' needs recency_days, "
                    "frequency_orders and monetary_yuan; missing "
                    + ", ".join("monetary_yuan" if m == "monetary_fen" else m for m in missing)
                )


@dataclass(frozen=True)
class ABCConfig:
    """A: smallest top set reaching ``a_share`` of sales; B: up to ``b_share``; C: rest."""

    a_share: Fraction = Fraction(80, 100)
    b_share: Fraction = Fraction(95, 100)
    pareto_top_share: Fraction = Fraction(20, 100)

    def __post_init__(self) -> None:
        if not (0 < self.a_share <= self.b_share <= 1):
            raise ValueError(
                "segments.abc: need 0 < a_share <= b_share <= 1, "
                f"got a_share={float(self.a_share)}, b_share={float(self.b_share)}"
            )
        if not (0 < self.pareto_top_share <= 1):
            raise ValueError(
                "segments.abc.pareto_top_share: must be above 0 and at most 1, "
                f"got {float(self.pareto_top_share)}"
            )


@dataclass(frozen=True)
class CLVConfig:
    """Group CLV: contribution = spend x ``margin_rate``; refused under ``min_history_days``."""

    margin_rate: Fraction = Fraction(30, 100)
    min_history_days: int = 365

    def __post_init__(self) -> None:
        if not (0 < self.margin_rate <= 1):
            raise ValueError(
                f"segments.clv.margin_rate: must be above 0 and at most 1 (0.3 = 30 %), "
                f"got {float(self.margin_rate)}"
            )
        if not (isinstance(self.min_history_days, int) and self.min_history_days >= 365):
            raise ValueError(
                "segments.clv.min_history_days: must be a whole number of days, at least 365, "
                f"got {self.min_history_days!r}"
            )


@dataclass(frozen=True)
class PromotionWindow:
    """A yearly sale on fixed calendar days, both ends inclusive (shop-local dates)."""

    name: str
    start: tuple[int, int]  # (month, day)
    end: tuple[int, int]

    def __post_init__(self) -> None:
        for label, (m, d) in (("start", self.start), ("end", self.end)):
            try:
                dt.date(2024, m, d)  # a leap year, so 02-29 is allowed
            except ValueError:
                raise ValueError(
                    f"promotion {self.name!r}: {label} {m:02d}-{d:02d} is not a calendar day"
                ) from None
        if self.end < self.start:
            raise ValueError(
                f"promotion {self.name!r}: end {self.end[0]:02d}-{self.end[1]:02d} is before "
                f"start {self.start[0]:02d}-{self.start[1]:02d}; a window cannot cross New Year"
            )

    def contains(self, day: dt.date) -> bool:
        return self.start <= (day.month, day.day) <= self.end


DEFAULT_PROMOTIONS: tuple[PromotionWindow, ...] = (
    PromotionWindow("618", (6, 1), (6, 18)),
    PromotionWindow("双11", (11, 1), (11, 11)),
    PromotionWindow("双12", (12, 12), (12, 12)),
)


@dataclass(frozen=True)
class PriceSensitivityConfig:
    """Thresholds for the high / medium / low price-sensitivity verdict.

    Each of the three measures has a (medium, high) pair of thresholds; a value
    equal to a threshold reaches it. The rule is in
    :func:`bot.domain.price_sensitivity.price_sensitivity`.
    ``spring_festival_days_before`` = N makes the N days before Chinese New
    Year's day (CNY-N .. CNY-1) a promotion window; 0 turns it off.
    """

    min_orders: int = 3
    promotions: tuple[PromotionWindow, ...] = DEFAULT_PROMOTIONS
    spring_festival_days_before: int = 21
    deal_share: tuple[Fraction, Fraction] = (Fraction(3, 10), Fraction(6, 10))
    discount_depth: tuple[Fraction, Fraction] = (Fraction(10, 100), Fraction(20, 100))
    promo_spend_share: tuple[Fraction, Fraction] = (Fraction(3, 10), Fraction(6, 10))

    def __post_init__(self) -> None:
        if not (isinstance(self.min_orders, int) and self.min_orders >= 1):
            raise ValueError(
                "segments.price_sensitivity.min_orders: must be a whole number >= 1, "
                f"got {self.min_orders!r}"
            )
        if not (
            isinstance(self.spring_festival_days_before, int)
            and 0 <= self.spring_festival_days_before <= 60
        ):
            raise ValueError(
                "segments.price_sensitivity.spring_festival_days_before: must be a whole "
                f"number of days 0-60, got {self.spring_festival_days_before!r}"
            )
        for name in ("deal_share", "discount_depth", "promo_spend_share"):
            medium, high = getattr(self, name)
            if not (0 < medium <= high <= 1):
                raise ValueError(
                    f"segments.price_sensitivity.{name}: need [medium, high] with "
                    f"0 < medium <= high <= 1, got [{float(medium)}, {float(high)}]"
                )


@dataclass(frozen=True)
class SegmentConfig:
    """Everything ``[segments]`` configures. ``window_days=None`` means lifetime."""

    mode: TierMode = "tier"
    window_days: int | None = 365
    tiers: RFMTierConfig = field(default_factory=RFMTierConfig)
    score: RFMScoreConfig = field(default_factory=RFMScoreConfig)
    value_classes: ValueClassConfig = field(default_factory=ValueClassConfig)
    abc: ABCConfig = field(default_factory=ABCConfig)
    clv: CLVConfig = field(default_factory=CLVConfig)
    price_sensitivity: PriceSensitivityConfig = field(default_factory=PriceSensitivityConfig)

    def __post_init__(self) -> None:
        if self.mode not in ("tier", "score"):
            raise ValueError(f"segments.mode: must be 'tier' or 'score', got {self.mode!r}")
        if self.window_days is not None and not (
            isinstance(self.window_days, int) and self.window_days >= 1
        ):
            raise ValueError(
                "segments.window_days: must be a whole number of days >= 1 or 'all', "
                f"got {self.window_days!r}"
            )


# ---------------------------------------------------------------------------
# Parsing the TOML table


def from_dict(d: Mapping[str, Any]) -> SegmentConfig:
    """Build a :class:`SegmentConfig` from the parsed ``[segments]`` TOML table.

    Missing keys take their defaults; unknown keys are an error (they are
    usually typos). Raises ``ValueError`` whose message names the key.
    """
    d = _table(d, "segments")
    _no_unknown(
        d,
        "segments",
        {
            "mode",
            "window_days",
            "tiers",
            "score",
            "value_classes",
            "abc",
            "clv",
            "price_sensitivity",
        },
    )
    kwargs: dict[str, Any] = {}
    if "mode" in d:
        kwargs["mode"] = _str(d["mode"], "segments.mode")
    if "window_days" in d:
        w = d["window_days"]
        if w == "all":
            kwargs["window_days"] = None
        else:
            kwargs["window_days"] = _int(w, "segments.window_days", minimum=1, hint="or 'all'")
    if "tiers" in d:
        kwargs["tiers"] = _tiers(_table(d["tiers"], "segments.tiers"))
    if "score" in d:
        t = _table(d["score"], "segments.score")
        _no_unknown(t, "segments.score", {"bins"})
        kwargs["score"] = RFMScoreConfig(
            **({"bins": _int(t["bins"], "segments.score.bins", minimum=2)} if "bins" in t else {})
        )
    if "value_classes" in d:
        kwargs["value_classes"] = _value_classes(
            _table(d["value_classes"], "segments.value_classes")
        )
    if "abc" in d:
        t = _table(d["abc"], "segments.abc")
        _no_unknown(t, "segments.abc", {"a_share", "b_share", "pareto_top_share"})
        kwargs["abc"] = ABCConfig(**{k: parse_share(v, f"segments.abc.{k}") for k, v in t.items()})
    if "clv" in d:
        t = _table(d["clv"], "segments.clv")
        _no_unknown(t, "segments.clv", {"margin_rate", "min_history_days"})
        ck: dict[str, Any] = {}
        if "margin_rate" in t:
            ck["margin_rate"] = parse_share(t["margin_rate"], "segments.clv.margin_rate")
        if "min_history_days" in t:
            ck["min_history_days"] = _int(
                t["min_history_days"], "segments.clv.min_history_days", minimum=365
            )
        kwargs["clv"] = CLVConfig(**ck)
    if "price_sensitivity" in d:
        kwargs["price_sensitivity"] = _price_sensitivity(
            _table(d["price_sensitivity"], "segments.price_sensitivity")
        )
    return SegmentConfig(**kwargs)


def yuan_to_fen(value: Any, where: str) -> int:
    """Exact yuan -> fen: ``100`` -> 10000, ``"100.01"`` -> 10001. At most 2 decimals.

    Accepts an int, a decimal string, or a TOML float (read through its shortest
    decimal text, so ``100.1`` is 10010 fen, not 10009.99...).
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{where}: must be an amount in yuan like 100 or 99.50, got {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{where}: {value!r} is not an amount in yuan (e.g. 99.50)") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{where}: must be a non-negative amount in yuan, got {value!r}")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{where}: at most 2 decimals (fen), got {value!r}")
    return int(fen)


def parse_share(value: Any, where: str) -> Fraction:
    """A share/rate such as ``0.8`` or ``"80%"`` as an exact Fraction in [0, 1]."""
    if isinstance(value, Fraction):
        frac = value
    elif isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{where}: must be a number between 0 and 1 like 0.8, got {value!r}")
    else:
        text = str(value).strip()
        percent = text.endswith("%")
        try:
            frac = Fraction(Decimal(text.rstrip("%").strip()))
        except (InvalidOperation, ValueError):
            raise ValueError(f"{where}: {value!r} is not a number like 0.8 or '80%'") from None
        if percent:
            frac /= 100
    if not (0 <= frac <= 1):
        raise ValueError(f"{where}: must be between 0 and 1 (0.8 = 80 %), got {value!r}")
    return frac


def _check_cuts(where: str, cuts: tuple[int, ...]) -> None:
    if not isinstance(cuts, tuple) or len(cuts) > 2:
        raise ValueError(f"segments.{where}: give 0-2 cut points (1-3 levels), got {list(cuts)!r}")
    for c in cuts:
        if isinstance(c, bool) or not isinstance(c, int) or c < 0:
            raise ValueError(
                f"segments.{where}: cut points must be whole numbers >= 0, got {list(cuts)!r}"
            )
    if any(a >= b for a, b in zip(cuts, cuts[1:], strict=False)):
        raise ValueError(f"segments.{where}: cut points must increase, got {list(cuts)!r}")


def _tiers(t: Mapping[str, Any]) -> RFMTierConfig:
    _no_unknown(t, "segments.tiers", {"recency_days", "frequency_orders", "monetary_yuan"})
    kw: dict[str, Any] = {}
    for key in ("recency_days", "frequency_orders"):
        if key in t:
            where = f"segments.tiers.{key}"
            kw[key] = tuple(_int(v, where, minimum=0) for v in _list(t[key], where))
    if "monetary_yuan" in t:
        where = "segments.tiers.monetary_yuan"
        kw["monetary_fen"] = tuple(yuan_to_fen(v, where) for v in _list(t["monetary_yuan"], where))
    return RFMTierConfig(**kw)


def _value_classes(t: Mapping[str, Any]) -> ValueClassConfig:
    _no_unknown(
        t,
        "segments.value_classes",
        {"average", "recency_days", "frequency_orders", "monetary_yuan"},
    )
    kw: dict[str, Any] = {}
    if "average" in t:
        kw["average"] = _str(t["average"], "segments.value_classes.average")
    for key in ("recency_days", "frequency_orders"):
        if key in t:
            kw[key] = _int(t[key], f"segments.value_classes.{key}", minimum=0)
    if "monetary_yuan" in t:
        kw["monetary_fen"] = yuan_to_fen(t["monetary_yuan"], "segments.value_classes.monetary_yuan")
    return ValueClassConfig(**kw)


def _price_sensitivity(t: Mapping[str, Any]) -> PriceSensitivityConfig:
    base = "segments.price_sensitivity"
    _no_unknown(
        t,
        base,
        {
            "min_orders",
            "promotions",
            "spring_festival_days_before",
            "deal_share",
            "discount_depth",
            "promo_spend_share",
        },
    )
    kw: dict[str, Any] = {}
    if "min_orders" in t:
        kw["min_orders"] = _int(t["min_orders"], f"{base}.min_orders", minimum=1)
    if "spring_festival_days_before" in t:
        kw["spring_festival_days_before"] = _int(
            t["spring_festival_days_before"], f"{base}.spring_festival_days_before", minimum=0
        )
    for key in ("deal_share", "discount_depth", "promo_spend_share"):
        if key in t:
            where = f"{base}.{key}"
            pair = _list(t[key], where)
            if len(pair) != 2:
                raise ValueError(f"{where}: give [medium, high], e.g. [0.3, 0.6], got {pair!r}")
            kw[key] = (parse_share(pair[0], where), parse_share(pair[1], where))
    if "promotions" in t:
        where = f"{base}.promotions"
        windows = []
        for i, p in enumerate(_list(t["promotions"], where)):
            pw = f"{where}[{i}]"
            p = _table(p, pw)
            _no_unknown(p, pw, {"name", "start", "end"})
            for k in ("name", "start", "end"):
                if k not in p:
                    raise ValueError(f"{pw}: missing {k!r} (e.g. name = '618', start = '06-01')")
            windows.append(
                PromotionWindow(
                    _str(p["name"], f"{pw}.name"),
                    _month_day(p["start"], f"{pw}.start"),
                    _month_day(p["end"], f"{pw}.end"),
                )
            )
        kw["promotions"] = tuple(windows)
    return PriceSensitivityConfig(**kw)


def _month_day(value: Any, where: str) -> tuple[int, int]:
    text = value if isinstance(value, str) else ""
    parts = text.strip().split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{where}: write the day as 'MM-DD', e.g. '06-18', got {value!r}")
    m, d = int(parts[0]), int(parts[1])
    try:
        dt.date(2024, m, d)
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a calendar day") from None
    return (m, d)


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"[{where}] must be a table, got {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{where}: must be a list like [7, 30], got {value!r}")
    return list(value)


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: must be text, got {value!r}")
    return value


def _int(value: Any, where: str, *, minimum: int, hint: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        extra = f" {hint}" if hint else ""
        raise ValueError(f"{where}: must be a whole number >= {minimum}{extra}, got {value!r}")
    return value


def _no_unknown(t: Mapping[str, Any], where: str, known: set[str]) -> None:
    unknown = sorted(set(t) - known)
    if unknown:
        raise ValueError(
            f"[{where}]: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
