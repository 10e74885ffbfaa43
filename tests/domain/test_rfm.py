"""RFM reference definition: counting rule, dates, tiers, SPSS-style scores."""

from __future__ import annotations

import random

import pytest

from bot.domain.rfm import (
    OrderFact,
    RFMInput,
    all_cells,
    is_counted,
    local_date,
    ntile_scores,
    rfm_inputs,
    spss_scores,
    tier_cell,
    tier_levels,
)
from bot.domain.segment_config import RFMTierConfig
from tests.domain._helpers import SH, d, local_ts, utc_ts

TODAY = d("2024-06-30")


def paid(day: str, fen: int = 5000, status: str = "completed", **kw: int) -> OrderFact:
    """A counted order paid at noon shop time on ``day``."""
    return OrderFact(local_ts(f"{day} 12:00"), status, fen, **kw)


def inp(recency: int, frequency: int, monetary: int) -> RFMInput:
    return RFMInput(TODAY, recency, frequency, monetary)


# --- which orders count -----------------------------------------------------


@pytest.mark.parametrize(
    ("order", "counted"),
    [
        (OrderFact(1, "paid", 100), True),
        (OrderFact(1, "shipped", 100), True),
        (OrderFact(1, "completed", 100), True),
        (OrderFact(1, "unpaid", 100), False),
        (OrderFact(1, "cancelled", 100), False),
        (OrderFact(1, "refunded", 100, refunded_fen=100), False),
        (OrderFact(1, "refused", 100), False),  # refused delivery (拒收)
        (OrderFact(None, "paid", 100), False),  # no payment time: cannot be dated
        (OrderFact(1, "completed", 100, refunded_fen=40), True),  # partial refund
        (OrderFact(1, "completed", 100, refunded_fen=100), False),  # refunded in full
        (OrderFact(1, "completed", 0), False),  # nothing paid
    ],
)
def test_counting_rule(order: OrderFact, counted: bool) -> None:
    assert is_counted(order) is counted


def test_unknown_status_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown order status 'done'"):
        is_counted(OrderFact(1, "done", 100))


def test_no_counted_order_means_no_rfm() -> None:
    orders = [
        paid("2024-06-29", status="cancelled"),
        paid("2024-06-29", status="refused"),
        paid("2024-06-29", status="refunded", refunded_fen=5000),
        paid("2024-06-29", status="unpaid"),
    ]
    assert rfm_inputs(orders, TODAY, SH) is None
    assert rfm_inputs([], TODAY, SH) is None


def test_partial_refund_reduces_m_and_refused_delivery_does_not_count() -> None:
    orders = [
        paid("2024-06-20", 15000, refunded_fen=6000),  # 90.00 kept
        paid("2024-06-28", 30000, status="refused"),  # refused: ignored entirely
        paid("2024-06-25", 20000, status="refunded", refunded_fen=20000),
    ]
    got = rfm_inputs(orders, TODAY, SH)
    assert got == RFMInput(d("2024-06-20"), 10, 1, 9000)
    assert tier_cell(got) == "R2F1M1"


# --- days, time zone, window ------------------------------------------------


def test_local_date_midnight_edge_shanghai() -> None:
    assert local_date(utc_ts("2024-06-17 16:30"), SH) == d("2024-06-18")
    assert local_date(utc_ts("2024-06-17 15:59:59"), SH) == d("2024-06-17")
    assert local_date(utc_ts("2024-06-17 16:00"), SH) == d("2024-06-18")


def test_recency_counts_shop_calendar_days_not_utc_days() -> None:
    today = d("2024-06-25")
    # 00:30 on 06-18 in Shanghai (16:30 UTC on 06-17): 7 days -> R3.
    just_after = rfm_inputs([OrderFact(utc_ts("2024-06-17 16:30"), "paid", 100)], today, SH)
    assert just_after is not None and just_after.recency_days == 7
    assert tier_cell(just_after) == "R3F1M1"
    # 23:59:59 on 06-17 in Shanghai: 8 days -> R2.
    just_before = rfm_inputs([OrderFact(utc_ts("2024-06-17 15:59:59"), "paid", 100)], today, SH)
    assert just_before is not None and just_before.recency_days == 8
    assert tier_cell(just_before) == "R2F1M1"


def test_bought_today_is_zero_days() -> None:
    got = rfm_inputs([paid("2024-06-30")], TODAY, SH)
    assert got is not None and got.recency_days == 0


def test_orders_after_today_do_not_exist_yet() -> None:
    got = rfm_inputs([paid("2024-06-01"), paid("2024-07-01", 99999)], TODAY, SH)
    assert got == RFMInput(d("2024-06-01"), 29, 1, 5000)


def test_window_is_the_last_n_days_including_today() -> None:
    today = d("2024-12-31")
    inside = rfm_inputs([paid("2024-01-02")], today, SH, window_days=365)
    outside = rfm_inputs([paid("2024-01-01")], today, SH, window_days=365)
    assert inside == RFMInput(d("2024-01-02"), 364, 1, 5000)
    assert outside == RFMInput(d("2024-01-01"), 365, 0, 0)


def test_window_edge_follows_shop_midnight() -> None:
    today = d("2024-12-31")
    # 2024-01-02 00:10 Shanghai is 2024-01-01 16:10 UTC: inside the window.
    got = rfm_inputs([OrderFact(utc_ts("2024-01-01 16:10"), "paid", 700)], today, SH)
    assert got is not None and got.frequency == 1 and got.monetary_fen == 700
    # 2024-01-01 23:50 Shanghai is 15:50 UTC: outside.
    got = rfm_inputs([OrderFact(utc_ts("2024-01-01 15:50"), "paid", 700)], today, SH)
    assert got is not None and got.frequency == 0 and got.monetary_fen == 0


def test_recency_uses_last_purchase_ever_and_fm_only_the_window() -> None:
    orders = [paid("2022-03-01", 200000), paid("2023-01-10", 300000)]
    got = rfm_inputs(orders, TODAY, SH, window_days=365)
    assert got == RFMInput(d("2023-01-10"), 537, 0, 0)
    assert tier_cell(got) == "R1F1M1"  # no order in the window: lowest F and M
    lifetime = rfm_inputs(orders, TODAY, SH, window_days=None)
    assert lifetime == RFMInput(d("2023-01-10"), 537, 2, 500000)
    assert tier_cell(lifetime) == "R1F2M3"


def test_window_days_must_be_positive() -> None:
    with pytest.raises(ValueError):
        rfm_inputs([paid("2024-06-01")], TODAY, SH, window_days=0)


# --- tier mode: every default edge -----------------------------------------


@pytest.mark.parametrize(("days", "level"), [(0, 3), (7, 3), (8, 2), (30, 2), (31, 1), (400, 1)])
def test_recency_edges(days: int, level: int) -> None:
    assert tier_levels(inp(days, 1, 1), RFMTierConfig())[0] == level


@pytest.mark.parametrize(("orders", "level"), [(0, 1), (1, 1), (2, 2), (3, 2), (4, 3), (50, 3)])
def test_frequency_edges(orders: int, level: int) -> None:
    assert tier_levels(inp(1, orders, 1), RFMTierConfig())[1] == level


@pytest.mark.parametrize(
    ("fen", "level"),
    [(0, 1), (10000, 1), (10001, 2), (100000, 2), (100001, 3)],
)
def test_monetary_edges_100_00_vs_100_01_yuan(fen: int, level: int) -> None:
    assert tier_levels(inp(1, 1, fen), RFMTierConfig())[2] == level


def test_edges_from_orders_end_to_end() -> None:
    # 7 vs 8 days, 3 vs 4 orders, 100.00 vs 100.01 yuan
    three = [paid("2024-06-23", 3000), paid("2024-06-10", 3000), paid("2024-05-01", 4000)]
    assert tier_cell(rfm_inputs(three, TODAY, SH)) == "R3F2M1"
    four = [paid("2024-06-22", 3000), *three[1:], paid("2024-04-01", 1)]
    assert tier_cell(rfm_inputs(four, TODAY, SH)) == "R2F3M2"


def test_27_default_cells_and_12_with_2_3_2_levels() -> None:
    cells = all_cells()
    assert len(cells) == len(set(cells)) == 27
    assert cells[0] == "R3F3M3" and cells[-1] == "R1F1M1"
    cfg = RFMTierConfig(recency_days=(30,), frequency_orders=(1, 3), monetary_fen=(50000,))
    assert cfg.levels == (2, 3, 2)
    assert len(all_cells(cfg)) == 12
    assert tier_cell(inp(30, 2, 50001), cfg) == "R2F2M2"
    assert tier_cell(inp(31, 4, 50000), cfg) == "R1F3M1"


def test_single_level_component() -> None:
    cfg = RFMTierConfig(recency_days=(), frequency_orders=(1,), monetary_fen=())
    assert tier_cell(inp(999, 1, 10**9), cfg) == "R1F1M1"
    assert len(all_cells(cfg)) == 2


# --- score mode (SPSS) ------------------------------------------------------


def test_ntile_distinct_values_hand_worked() -> None:
    # n = 10, k = 5: score = floor(rank * 5 / 11) + 1
    values = {f"c{i}": i for i in range(1, 11)}
    got = ntile_scores(values, 5)
    assert [got[f"c{i}"] for i in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_ntile_ties_share_the_mean_rank_hand_worked() -> None:
    # sorted: 1 2 3 3 3 5 7 8 9 9
    # ranks:  1 2 4 4 4 6 7 8 9.5 9.5   (tied 3s: ranks 3,4,5 -> 4; 9s: 9,10 -> 9.5)
    # floor(r*5/11)+1: 1 1 2 2 2 3 4 4 5 5
    values = dict(zip("abcdefghij", [5, 3, 3, 8, 1, 3, 9, 9, 2, 7], strict=True))
    got = ntile_scores(values, 5)
    assert got == {
        "e": 1, "i": 1,  # 1, 2
        "b": 2, "c": 2, "f": 2,  # 3, 3, 3
        "a": 3,  # 5
        "j": 4, "d": 4,  # 7, 8
        "g": 5, "h": 5,  # 9, 9
    }  # fmt: skip


def test_ntile_big_tie_group_gets_one_middle_score() -> None:
    # four tied values take ranks 1-4, mean 2.5 -> floor(2.5*5/6)+1 = 3
    assert ntile_scores({"a": 1, "b": 1, "c": 1, "d": 1, "e": 2}, 5) == {
        "a": 3, "b": 3, "c": 3, "d": 3, "e": 5,
    }  # fmt: skip
    assert ntile_scores({"a": 7, "b": 7}, 5) == {"a": 3, "b": 3}
    assert ntile_scores({"a": 7}, 5) == {"a": 3}
    assert ntile_scores({}, 5) == {}


def test_ntile_small_n_does_not_use_every_bin() -> None:
    # SPSS's formula with n=3: ranks 1,2,3 -> floor(5/4)+1, floor(10/4)+1, floor(15/4)+1
    assert ntile_scores({"a": 10, "b": 20, "c": 30}, 5) == {"a": 2, "b": 3, "c": 4}


def _ntile_float_reference(values: dict[int, int], k: int) -> dict[int, int]:
    """The textbook formula with float mean ranks, O(n^2): an independent check."""
    n = len(values)
    out = {}
    for key, v in values.items():
        below = sum(1 for w in values.values() if w < v)
        equal = sum(1 for w in values.values() if w == v)
        mean_rank = below + (equal + 1) / 2
        out[key] = int(mean_rank * k // (n + 1)) + 1
    return out


@pytest.mark.parametrize("seed", range(20))
def test_ntile_matches_independent_reference(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 60)
    values = {i: rng.randint(0, rng.choice([3, 10, 1000])) for i in range(n)}
    k = rng.randint(2, 9)
    got = ntile_scores(values, k)
    assert got == _ntile_float_reference(values, k)
    assert all(1 <= s <= k for s in got.values())
    # tied values always share a score; a larger value never scores lower
    pairs = sorted(values.items(), key=lambda kv: kv[1])
    for (k1, v1), (k2, v2) in zip(pairs, pairs[1:], strict=False):
        assert got[k1] <= got[k2]
        if v1 == v2:
            assert got[k1] == got[k2]


def test_spss_scores_direction_and_total() -> None:
    inputs = {
        # name: (recency days, frequency, monetary)
        "fresh_big": inp(0, 9, 900000),
        "c2": inp(5, 7, 70000),
        "c3": inp(10, 5, 50000),
        "c4": inp(20, 4, 40000),
        "c5": inp(40, 3, 30000),
        "c6": inp(60, 3, 20000),
        "c7": inp(90, 2, 10000),
        "c8": inp(120, 1, 5000),
        "c9": inp(200, 1, 3000),
        "old_small": inp(400, 0, 0),
    }
    got = spss_scores(inputs)
    assert got["fresh_big"] == (5, 5, 5, 555)
    assert got["old_small"] == (1, 1, 1, 111)
    # c5/c6 tie on F=3 (ranks 5,6 -> 5.5 -> floor(27.5/11)+1 = 3)
    assert got["c5"].f == got["c6"].f == 3
    # c8/c9 tie on F=1 (ranks 2,3 -> 2.5 -> floor(12.5/11)+1 = 2)
    assert got["c8"].f == got["c9"].f == 2
    for s in got.values():
        assert s.total == 100 * s.r + 10 * s.f + s.m
