"""When the F and M window hides every lapsed customer's spend."""

from fractions import Fraction

from bot.domain.segments_report import lapsed_outside_window
from bot.domain.value_classes import ValueThresholds


def th(recency_days: Fraction | int) -> ValueThresholds:
    return ValueThresholds("mean", Fraction(recency_days), Fraction(2), Fraction(10000), 10)


def test_low_r_customers_all_outside_the_window_only_from_the_edge_on():
    # R is low from floor(threshold) + 1 days on; the window holds 0 .. window_days - 1
    assert lapsed_outside_window(th(364), 365)  # low R = 365+ days: none inside
    assert lapsed_outside_window(th(Fraction(7299, 20)), 365)  # 364.95: low R from 365
    assert not lapsed_outside_window(th(Fraction(727, 2)), 365)  # 363.5: 364 is inside
    assert not lapsed_outside_window(th(30), 365)
    assert lapsed_outside_window(th(475), 365)


def test_lifetime_window_or_no_thresholds_hide_nothing():
    assert not lapsed_outside_window(th(5000), None)
    assert not lapsed_outside_window(None, 365)
