"""The bulk SQL segmentation (bot.storage.segments) gives exactly what the pure
reference functions give: hand-computed edges, random shops under every mode, and
an incremental refresh after an import that equals a full recompute."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.abc import abc_classes, pareto_summary
from bot.domain.clv import CustomerYears, customer_years, group_clv
from bot.domain.order import Order
from bot.domain.price_sensitivity import price_sensitivity
from bot.domain.rfm import OrderFact, local_date, rfm_inputs, spss_scores, tier_levels
from bot.domain.segment_config import from_dict
from bot.domain.segments_report import local_today
from bot.domain.value_classes import classify
from bot.storage import segments
from bot.storage.db import open_db
from bot.storage.order_import import OrderImport
from tests.domain._helpers import local_ts, utc_ts

SH = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2024, 12, 31)


@pytest.fixture
async def db(tmp_path):
    conn = await open_db(tmp_path / "seg.db")
    yield conn
    await conn.close()


def order(oid: str, buyer: str, paid_at: int | None, fen: int, status: str = "completed",
          **kw) -> Order:  # fmt: skip
    created = paid_at - 60 if paid_at is not None else kw.pop("created_at", 1_700_000_000)
    return Order(
        platform="taobao", order_id=oid, buyer_id=buyer, created_at=created, status=status,
        amount_paid_fen=fen, paid_at=paid_at, **kw,
    )  # fmt: skip


async def load(db, orders: list[Order]) -> None:
    async with OrderImport(db) as imp:
        await imp.add(orders)
        await imp.commit(source="t.csv", preset="generic", rows_read=len(orders))


async def stored(db) -> dict[str, dict]:
    async with db.execute(
        "SELECT buyer_id, rfm_cell, rfm_r, rfm_f, rfm_m, rfm_score, value_class, abc_class, "
        "price_level, price_orders, price_deal_orders, price_off_fen, price_list_fen, "
        "price_net_fen, price_promo_net_fen, rfm_frequency, rfm_monetary_fen FROM customers"
    ) as cur:
        cols = [c[0] for c in cur.description]
        return {r[0]: dict(zip(cols, r, strict=True)) for r in await cur.fetchall()}


async def facts(db) -> dict[str, list[OrderFact]]:
    out: dict[str, list[OrderFact]] = defaultdict(list)
    async with db.execute(
        "SELECT c.buyer_id, o.paid_at, o.status, o.amount_paid_fen, o.refunded_fen, "
        "o.discount_fen, o.coupon_fen FROM customers c JOIN orders o ON o.customer_id = c.id"
    ) as cur:
        for buyer, *f in await cur.fetchall():
            out[buyer].append(OrderFact(*f))
    return out


async def reference(db, raw: dict, today: dt.date, tz: ZoneInfo = SH) -> dict[str, dict]:
    """Every customer's fields computed by the pure functions."""
    cfg = from_dict(raw)
    by_buyer = await facts(db)
    async with db.execute("SELECT buyer_id FROM customers") as cur:
        buyers = [r[0] for r in await cur.fetchall()]
    inputs = {}
    for b in buyers:
        inp = rfm_inputs(by_buyer.get(b, []), today, tz, cfg.window_days)
        if inp is not None:
            inputs[b] = inp
    classes = classify(inputs, cfg.value_classes)
    abc = abc_classes(
        {b: v.monetary_fen for b, v in inputs.items()}, cfg.abc.a_share, cfg.abc.b_share
    )
    scores = spss_scores(inputs, cfg.score.bins) if cfg.mode == "score" else {}
    out = {}
    for b in buyers:
        ps = price_sensitivity(until(by_buyer.get(b, []), today, tz), tz, cfg.price_sensitivity)
        row = {
            "price_level": ps.level, "price_orders": ps.orders,
            "price_deal_orders": ps.deal_orders,
            "rfm_cell": None, "rfm_r": None, "rfm_f": None, "rfm_m": None, "rfm_score": None,
            "value_class": None, "abc_class": None,
            "rfm_frequency": None, "rfm_monetary_fen": None,
        }  # fmt: skip
        if b in inputs:
            if cfg.mode == "score":
                s = scores[b]
                r, f, m = s.r, s.f, s.m
                row["rfm_score"] = s.total
            else:
                r, f, m = tier_levels(inputs[b], cfg.tiers)
            row.update(
                rfm_cell=f"R{r}F{f}M{m}", rfm_r=r, rfm_f=f, rfm_m=m,
                value_class=classes[b].code, abc_class=abc[b],
                rfm_frequency=inputs[b].frequency, rfm_monetary_fen=inputs[b].monetary_fen,
            )  # fmt: skip
        out[b] = row
    return out


def until(facts: list[OrderFact], today: dt.date, tz: ZoneInfo = SH) -> list[OrderFact]:
    """The orders that exist as of ``today``: price sensitivity is as of the day too."""
    return [f for f in facts if f.paid_at_utc is None or local_date(f.paid_at_utc, tz) <= today]


def project(rows: dict[str, dict], like: dict[str, dict]) -> dict[str, dict]:
    keys = next(iter(like.values())).keys() if like else ()
    return {b: {k: r[k] for k in keys} for b, r in rows.items()}


async def assert_counts_kept(db) -> None:
    """The counts per class, cell, ABC class and price level the refreshes keep (the
    moves of the customers they write) are those of the customers table."""
    assert (await segments.load_state(db)).counts == await segments._counts(db)


async def assert_matches_reference(db, raw: dict, today: dt.date) -> dict[str, dict]:
    ref = await reference(db, raw, today)
    got = project(await stored(db), ref)
    assert got == ref
    return got


# ---------------------------------------------------------------------------
# Hand-computed edges (today 2024-12-31, Asia/Shanghai, default rules)

DAY = 86400
NOON = local_ts("2024-12-31 12:00")


def ago(days: int) -> int:
    return NOON - days * DAY


EDGES = [
    # recency: R3 <= 7 days, R2 8-30, R1 >= 31
    order("r0", "bought_today", ago(0), 5000),
    order("r7", "seven_days", ago(7), 5000),
    order("r8", "eight_days", ago(8), 5000),
    order("r30", "thirty_days", ago(30), 5000),
    order("r31", "thirty_one_days", ago(31), 5000),
    # midnight in Shanghai: 2024-12-23 16:30 UTC is 12-24 00:30 local -> 7 days ago
    order("tz1", "after_midnight", utc_ts("2024-12-23 16:30"), 5000),
    order("tz2", "before_midnight", utc_ts("2024-12-23 15:59:59"), 5000),
    # frequency: F1 = 1, F2 = 2-3, F3 >= 4
    *[order(f"f2-{i}", "two_orders", ago(40 + i), 1000) for i in range(2)],
    *[order(f"f3-{i}", "three_orders", ago(40 + i), 1000) for i in range(3)],
    *[order(f"f4-{i}", "four_orders", ago(40 + i), 1000) for i in range(4)],
    # monetary: M1 <= 100.00 yuan, M2 to 1000.00, M3 above
    order("m1", "m_100_00", ago(3), 10000),
    order("m2", "m_100_01", ago(3), 10001),
    order("m3", "m_1000_00", ago(3), 100000),
    order("m4", "m_1000_01", ago(3), 100001),
    # refunds and refusals
    order("p1", "partial_refund", ago(3), 150000, refunded_fen=60000),  # M = 900.00 -> M2
    order("x1", "refunded_only", ago(3), 50000, status="refunded"),
    order("x2", "refused_only", ago(3), 50000, status="refused"),
    order("x3", "refunded_in_full", ago(3), 50000, refunded_fen=50000),
    order("x4", "unpaid_only", None, 50000, status="unpaid"),
    order("y1", "refused_then_bought", ago(50), 20000),
    order("y2", "refused_then_bought", ago(2), 300000, status="refused"),
    # window: the only purchase 365 days ago is outside (F = 0, M = 0), 364 inside
    order("w1", "out_of_window", ago(365), 500000),
    order("w2", "just_in_window", ago(364), 500000),
]
EXPECTED_CELLS = {
    "bought_today": "R3F1M1", "seven_days": "R3F1M1", "eight_days": "R2F1M1",
    "thirty_days": "R2F1M1", "thirty_one_days": "R1F1M1",
    "after_midnight": "R3F1M1", "before_midnight": "R2F1M1",
    "two_orders": "R1F2M1", "three_orders": "R1F2M1", "four_orders": "R1F3M1",
    "m_100_00": "R3F1M1", "m_100_01": "R3F1M2", "m_1000_00": "R3F1M2", "m_1000_01": "R3F1M3",
    "partial_refund": "R3F1M2",
    "refunded_only": None, "refused_only": None, "refunded_in_full": None, "unpaid_only": None,
    "refused_then_bought": "R1F1M2",
    "out_of_window": "R1F1M1", "just_in_window": "R1F1M3",
}  # fmt: skip


async def test_every_default_threshold_edge_gives_the_hand_computed_cell(db):
    await load(db, EDGES)
    await segments.refresh_all(db, {}, SH, TODAY)
    rows = await stored(db)
    assert {b: r["rfm_cell"] for b, r in rows.items()} == EXPECTED_CELLS
    assert rows["partial_refund"]["rfm_monetary_fen"] == 90000
    assert (rows["out_of_window"]["rfm_frequency"], rows["out_of_window"]["rfm_monetary_fen"]) == (
        0, 0,
    )  # fmt: skip
    for b in ("refunded_only", "refused_only", "unpaid_only"):
        assert rows[b]["value_class"] is None and rows[b]["abc_class"] is None
        assert rows[b]["price_level"] == "unknown"
    await assert_matches_reference(db, {}, TODAY)


async def test_the_eight_classes_against_fixed_thresholds(db):
    # fixed: R high <= 30 days, F high >= 2 orders, M high >= 300 yuan
    raw = {"value_classes": {"average": "fixed", "recency_days": 30, "frequency_orders": 2,
                             "monetary_yuan": 300}}  # fmt: skip
    plan = {  # buyer: (days since last, orders, yuan each)
        "important_value": (30, 2, 150), "important_develop": (0, 1, 300),
        "important_keep": (31, 2, 150), "important_retain": (200, 1, 300),
        "ordinary_value": (5, 2, 149), "ordinary_develop": (5, 1, 299.99),
        "ordinary_keep": (31, 3, 10), "ordinary_retain": (31, 1, 1),
    }  # fmt: skip
    orders = [
        order(f"{b}-{i}", b, ago(days + i * 0), round(yuan * 100))
        for b, (days, n, yuan) in plan.items()
        for i in range(n)
    ]
    await load(db, orders)
    await segments.refresh_all(db, raw, SH, TODAY)
    rows = await stored(db)
    assert {b: r["value_class"] for b, r in rows.items()} == {b: b for b in plan}
    await assert_matches_reference(db, raw, TODAY)


async def test_abc_boundaries_and_the_pareto_figure(db):
    # spend 500, 300, 100, 50, 50 yuan (total 1000): A until 800 is reached, B until 950
    spend = {"a1": 500, "a2": 300, "b1": 100, "b2": 50, "c1": 50}
    await load(db, [order(b, b, ago(1), y * 100) for b, y in spend.items()])
    state = await segments.refresh_all(db, {}, SH, TODAY)
    rows = await stored(db)
    assert {b: r["abc_class"] for b, r in rows.items()} == {
        "a1": "A", "a2": "A", "b1": "B", "b2": "B", "c1": "C",
    }  # fmt: skip
    # top 20 % of 5 customers = 1 customer, 500 of 1000 yuan
    p = state.pareto
    assert (p.top_customers, p.customers, p.sales_percent) == (1, 5, 50)
    assert p == pareto_summary({b: y * 100 for b, y in spend.items()}, 0.2)


# ---------------------------------------------------------------------------
# Random shops: every mode agrees with the reference

STATUSES = ["completed"] * 6 + ["paid", "shipped", "cancelled", "refunded", "refused", "unpaid"]


def random_orders(rng: random.Random, customers: int, n: int, today: dt.date,
                  prefix: str = "o") -> list[Order]:  # fmt: skip
    end = int(dt.datetime.combine(today, dt.time(23, 59), SH).timestamp())
    out = []
    for i in range(n):
        status = rng.choice(STATUSES)
        # around local midnights, some in the future, across 2.5 years (CLV needs 2)
        paid = end - rng.randrange(0, 900) * DAY + rng.choice([-1, 0, 1, 3600, -3600]) * 60
        fen = rng.choice([1, 999, 10000, 10001, 100000, 100001, rng.randrange(1, 300000)])
        refund = rng.choice([0, 0, 0, fen // 2, fen]) if status != "refunded" else fen
        off = rng.choice([0, 0, 500, fen // 4])
        out.append(order(
            f"{prefix}{i}", f"b{rng.randrange(customers):03d}",
            None if status == "unpaid" else paid, fen, status, refunded_fen=refund,
            discount_fen=off, coupon_fen=rng.choice([0, 0, 300]),
        ))  # fmt: skip
    return out


CONFIGS = [
    {},
    {"mode": "score"},
    {"mode": "score", "score": {"bins": 3}, "window_days": "all"},
    {"value_classes": {"average": "median"}, "window_days": 90},
    {"tiers": {"recency_days": [14], "frequency_orders": [], "monetary_yuan": [50, 500]},
     "abc": {"a_share": 0.7, "b_share": 0.9}},
    {"price_sensitivity": {"min_orders": 1, "deal_share": [0.1, 0.2]}},
]  # fmt: skip


@pytest.mark.parametrize("raw", CONFIGS, ids=lambda r: str(r)[:40] or "defaults")
async def test_random_shop_agrees_with_the_pure_functions(db, raw):
    await load(db, random_orders(random.Random(str(raw)), 60, 400, TODAY))
    state = await segments.refresh_all(db, raw, SH, TODAY)
    got = await assert_matches_reference(db, raw, TODAY)
    cfg = from_dict(raw)
    spend = {b: r["rfm_monetary_fen"] for b, r in got.items() if r["rfm_cell"]}
    assert state.pareto == pareto_summary(spend, cfg.abc.pareto_top_share)
    rows = await stored(db)
    by_buyer = await facts(db)
    for b in rows:  # the figures behind the price level
        ps = price_sensitivity(until(by_buyer.get(b, []), TODAY), SH, cfg.price_sensitivity)
        if ps.orders:
            fields = await segments.segment_fields(db, await cid(db, b), TODAY)
            assert fields.deal_percent == round_half_up(ps.deal_share)
            assert fields.depth_percent == round_half_up(ps.discount_depth)
            assert fields.promo_percent == round_half_up(ps.promo_spend_share)


def round_half_up(frac) -> int:
    return int((frac * 200 + 1) // 2)


async def cid(db, buyer: str) -> int:
    async with db.execute("SELECT id FROM customers WHERE buyer_id = ?", (buyer,)) as cur:
        return (await cur.fetchone())[0]


async def test_group_clv_by_last_years_class_agrees_with_bot_domain_clv(db):
    await load(db, random_orders(random.Random(5), 80, 600, TODAY))
    state = await segments.refresh_all(db, {}, SH, TODAY)
    by_buyer = await facts(db)
    year_ago = TODAY - dt.timedelta(days=365)
    inputs_now = {b: rfm_inputs(f, TODAY, SH) for b, f in by_buyer.items()}
    inputs_then = {b: rfm_inputs(f, year_ago, SH) for b, f in by_buyer.items()}
    then = classify({b: v for b, v in inputs_then.items() if v is not None})
    rows: list[CustomerYears] = [
        customer_years(f, TODAY, SH, then[b].code if b in then else segments.NEW_GROUP)
        for b, f in by_buyer.items()
        if inputs_now[b] is not None
    ]
    first = min(min(d for d in _days(f)) for f in by_buyer.values() if _days(f))
    expected = group_clv(rows, history_days=(TODAY - first).days)
    assert state.clv_overall == expected.overall
    assert state.clv_by_group == expected.by_group
    assert state.history_days == expected.history_days


def _days(fs: list[OrderFact]) -> list[dt.date]:
    from bot.domain.rfm import counted_purchases

    return [d for d, _ in counted_purchases(fs, TODAY, SH)]


async def test_short_history_refuses_clv_with_the_reason(db):
    await load(db, [order("1", "a", ago(10), 5000), order("2", "a", ago(100), 5000)])
    state = await segments.refresh_all(db, {}, SH, TODAY)
    assert state.clv_overall.refusal.code == "short_history" and state.clv_overall.clv is None


async def test_a_zone_with_daylight_saving_counts_local_days(db):
    ny = ZoneInfo("America/New_York")
    # 2024-03-10 is the spring-forward day; 00:30 local on 03-11 is 04:30 UTC (EDT)
    orders = [
        order("1", "a", utc_ts("2024-03-11 04:30"), 5000),  # 03-11 00:30 EDT
        order("2", "b", utc_ts("2024-03-11 03:30"), 5000),  # 03-10 23:30 EDT
        order("3", "c", utc_ts("2024-11-03 04:30"), 5000),  # 11-03 00:30 EDT
        order("4", "d", utc_ts("2024-11-04 04:30"), 5000),  # 11-03 23:30 EST
    ]
    await load(db, orders)
    today = dt.date(2024, 11, 10)
    await segments.refresh_all(db, {"tiers": {"recency_days": [7, 243]}}, ny, today)
    got = await db.execute_fetchall("SELECT buyer_id, rfm_last_day FROM customers")
    days = {b: segments.day_from_number(n) for b, n in got}
    assert days == {
        "a": dt.date(2024, 3, 11), "b": dt.date(2024, 3, 10),
        "c": dt.date(2024, 11, 3), "d": dt.date(2024, 11, 3),
    }  # fmt: skip


# ---------------------------------------------------------------------------
# Incremental refresh == full recompute


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    raw=st.sampled_from(CONFIGS[:4]),
    changes=st.integers(1, 40),
)
async def test_incremental_refresh_after_an_import_equals_a_full_recompute(
    tmp_path_factory, seed, raw, changes
):
    """The import refreshes the customers it touched; the result is what a full
    refresh of the whole shop gives (cells, classes, ABC, scores, price)."""
    await import_then_compare(tmp_path_factory.mktemp("inc") / "k.db", seed, raw, changes)


async def test_incremental_abc_cut_walks_the_spend_ranking_one_customer_at_a_time(
    tmp_path, monkeypatch
):
    """The walk from the old ABC cut to the new one reads the spend index in chunks;
    with chunks of one customer every step crosses a chunk boundary."""
    monkeypatch.setattr(segments, "_WALK_CHUNK", 1)
    for seed in range(9):
        raw = CONFIGS[(0, 3, 4)[seed % 3]]
        await import_then_compare(tmp_path / f"k{seed}.db", seed, raw, 5 + 5 * seed)


@pytest.mark.parametrize("move", ["refunded", "partly refunded", "buys more"])
async def test_an_import_moving_the_customers_at_the_abc_cuts_equals_a_recompute(db, move):
    """The last customers of A and of B (the stored cuts, where the import's search for
    the new cuts starts) are themselves changed by the import: still what a full
    refresh gives, and the stored cuts are the new last customers of A and B."""
    today = local_today(SH)
    noon = int(dt.datetime.combine(today, dt.time(12), SH).timestamp())
    first = [order(f"o{i}", f"c{i:02}", noon - i * DAY, 1000 * (i + 1) ** 2) for i in range(20)]
    await load(db, first)
    state = await segments.refresh_all(db, {}, SH, today)
    assert state.cuts is not None and None not in state.cuts
    at_cuts = [o for o in first if o.buyer_id in {k[1] for k in state.cuts}]
    assert len(at_cuts) == 2
    fen = {"refunded": 0, "partly refunded": 990, "buys more": 10**6}[move]
    changes = [
        order(o.order_id, o.buyer_id, o.paid_at, o.amount_paid_fen, refunded_fen=o.amount_paid_fen)
        if move == "refunded"
        else order(o.order_id, o.buyer_id, o.paid_at, o.amount_paid_fen,
                   refunded_fen=o.amount_paid_fen - fen)
        if move == "partly refunded"
        else order(f"{o.order_id}-more", o.buyer_id, noon, fen)
        for o in at_cuts
    ]  # fmt: skip
    await load(db, changes)  # refreshes incrementally
    incremental, cuts = await stored(db), (await segments.load_state(db)).cuts
    await assert_counts_kept(db)
    before = at_cuts[0].amount_paid_fen
    moved = {"refunded": None, "partly refunded": fen, "buys more": before + fen}
    assert incremental[at_cuts[0].buyer_id]["rfm_monetary_fen"] == moved[move]
    recomputed = await segments.refresh_all(db, {}, SH, today, full=True)
    assert await stored(db) == incremental
    assert cuts == recomputed.cuts
    ranked = sorted(
        ((r["rfm_monetary_fen"], b) for b, r in incremental.items() if r["abc_class"]),
        key=lambda mb: (-mb[0], mb[1]),
    )
    last = {r["abc_class"]: (m, b, "taobao") for m, b in ranked for r in [incremental[b]]}
    assert cuts == (last["A"], last["B"])


async def test_an_import_after_a_refresh_by_an_older_kefu_equals_a_recompute(db):
    """A state stored before the cuts and counts were kept (an upgraded shop): the
    import finds the old cuts by walking the ranking, counts from the table, and the
    result is still what a full refresh gives."""
    today = local_today(SH)
    noon = int(dt.datetime.combine(today, dt.time(12), SH).timestamp())
    await load(db, [order(f"o{i}", f"c{i:02}", noon - i * DAY, 1000 * (i + 3) ** 2)
                    for i in range(30)])  # fmt: skip
    await segments.refresh_all(db, {}, SH, today)
    (figures,) = (await db.execute_fetchall("SELECT figures FROM segment_state"))[0]
    older = {k: v for k, v in json.loads(figures).items() if k not in ("cuts", "counts")}
    await db.execute("UPDATE segment_state SET figures = ?", (json.dumps(older),))
    await db.commit()
    await load(db, [order("n1", "c05", noon, 900_000), order("n2", "new", noon, 100)])
    incremental = await stored(db)
    await assert_counts_kept(db)
    await segments.refresh_all(db, {}, SH, today, full=True)
    assert await stored(db) == incremental


async def import_then_compare(path, seed, raw, changes) -> None:
    rng = random.Random(seed)
    today = local_today(SH)
    db = await open_db(path)
    try:
        first = random_orders(rng, 40, 200, today)
        await load(db, first)
        await segments.refresh_all(db, raw, SH, today)
        # a day's orders: new ones, and re-exports that change old ones (refunds, buyers)
        later = random_orders(rng, 50, changes, today, prefix="n")
        later += [
            order(o.order_id, rng.choice([o.buyer_id, "b999"]), o.paid_at, o.amount_paid_fen,
                  rng.choice(STATUSES[6:]) if o.paid_at else "unpaid")
            for o in rng.sample(first, k=min(changes, 10))
        ]  # fmt: skip
        await load(db, later)  # OrderImport calls segments.refresh_touched
        incremental = await stored(db)
        await assert_counts_kept(db)
        state = await segments.load_state(db)
        await segments.refresh_all(db, raw, SH, today)
        assert await stored(db) == incremental
        assert (await segments.load_state(db)).pareto == state.pareto
    finally:
        await db.close()


# ---------------------------------------------------------------------------
# A refresh on a later day (the daily job) == full recompute

DAY_CONFIGS = [
    {},
    {"value_classes": {"average": "median"}, "window_days": 90},
    CONFIGS[4],
    {"value_classes": {"average": "fixed", "recency_days": 20, "frequency_orders": 2,
                       "monetary_yuan": 300}},
    {"mode": "score"},
]  # fmt: skip
SEGMENT_COLUMNS = (
    "rfm_last_day", "rfm_frequency", "rfm_monetary_fen", "rfm_r", "rfm_f", "rfm_m", "rfm_cell",
    "rfm_score", "value_class", "abc_class", *segments._PRICE, *segments._INPUTS,
)  # fmt: skip


async def index_sql(db) -> list[tuple[str, str]]:
    return await db.execute_fetchall(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    )


async def all_fields(db) -> dict[int, tuple]:
    cols = ", ".join(SEGMENT_COLUMNS)
    rows = await db.execute_fetchall(f"SELECT id, {cols} FROM customers")
    return {r[0]: tuple(r[1:]) for r in rows}


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    raw=st.sampled_from(DAY_CONFIGS),
    steps=st.lists(st.integers(-2, 40), min_size=1, max_size=3),
    imports=st.booleans(),
)
async def test_refresh_on_a_later_day_equals_a_full_recompute(
    tmp_path_factory, seed, raw, steps, imports
):
    """The daily refresh re-derives cells, classes and ABC only where they can change
    (recency crossed a tier cut or the moving average, spend left the window, an import
    on a day without a refresh changed customers): every field is what the pure functions
    and a refresh from scratch give."""
    rng = random.Random(seed)
    db = await open_db(tmp_path_factory.mktemp("day") / "d.db")
    full = mock.Mock(wraps=segments._shopwide)
    indexes = await index_sql(db)
    try:
        await load(db, random_orders(rng, 40, 250, TODAY))
        day = TODAY - dt.timedelta(days=50)
        await segments.refresh_all(db, raw, SH, day)  # all rows: indexes dropped and rebuilt
        assert await index_sql(db) == indexes
        # in this small shop a day changes many of the rows: keep the indexes
        with (
            mock.patch.object(segments, "_shopwide", full),
            mock.patch.object(segments, "DROP_INDEXES_SHARE", 1.0),
        ):
            for k, step in enumerate(steps):
                if imports:  # not today: the import leaves the segments to the next refresh
                    await load(db, random_orders(rng, 50, 8, TODAY, prefix=f"i{k}-"))
                day += dt.timedelta(days=step)
                state = await segments.refresh_all(db, raw, SH, day)
                got = await assert_matches_reference(db, raw, day)
                await assert_counts_kept(db)
                spend = {b: r["rfm_monetary_fen"] for b, r in got.items() if r["rfm_cell"]}
                assert state.pareto == pareto_summary(spend, from_dict(raw).abc.pareto_top_share)
        assert full.called == (raw.get("mode") == "score")
        daily = await all_fields(db)
        await db.execute("DELETE FROM segment_state")
        await db.execute(f"UPDATE customers SET {' = NULL, '.join(SEGMENT_COLUMNS)} = NULL")
        await db.commit()
        scratch = await segments.refresh_all(db, raw, SH, day)
        assert await all_fields(db) == daily
        # the group CLV from the stored inputs is the CLV from every order
        assert (state.clv_overall, state.clv_by_group, state.history_days) == (
            scratch.clv_overall, scratch.clv_by_group, scratch.history_days,
        )  # fmt: skip
    finally:
        await db.close()


async def test_import_without_a_refresh_today_leaves_it_to_the_next_reader(db):
    await load(db, [order("1", "a", ago(1), 5000)])
    await segments.refresh_all(db, {}, SH, TODAY)  # as of 2024-12-31, not today
    await load(db, [order("2", "b", ago(1), 5000)])
    rows = await stored(db)
    assert rows["b"]["rfm_cell"] is None
    assert await segments.ensure_current(db, {}, SH, local_today(SH))
    assert not await segments.ensure_current(db, {}, SH, local_today(SH))
    assert (await stored(db))["b"]["rfm_cell"] is not None


# ---------------------------------------------------------------------------
# Snapshots


async def test_snapshot_rebuilt_for_a_past_day_equals_a_refresh_on_that_day(db):
    await load(db, random_orders(random.Random(9), 50, 300, TODAY))
    past = TODAY - dt.timedelta(days=30)
    rebuilt = await segments.rebuild_snapshot(db, {}, SH, past)
    await segments.refresh_all(db, {}, SH, past)
    assert rebuilt == await segments.distribution(db)
    assert await segments.snapshot(db, past) == rebuilt
    assert sum(rebuilt["class"].values()) == sum(rebuilt["abc"].values()) > 0

    await segments.refresh_all(db, {}, SH, TODAY)
    await segments.write_snapshot(db, TODAY)
    assert await segments.snapshot(db, TODAY) == await segments.distribution(db)
    assert await segments.snapshot(db, TODAY - dt.timedelta(days=7)) is None
    assert await segments.snapshot_days(db, past) == [past, TODAY]


@pytest.mark.parametrize("raw", [{}, {"window_days": 90}], ids=["365 days", "90 days"])
async def test_daily_refresh_in_a_zone_with_daylight_saving_equals_a_recompute(db, raw):
    """Days stepping across New York's clock changes, with imports between refreshes:
    the daily refresh (only the customers due) leaves every field, stored input and CLV
    figure as a recompute from every order does."""
    ny = ZoneInfo("America/New_York")
    rng = random.Random(5)
    await load(db, random_orders(rng, 80, 800, TODAY))
    day = dt.date(2024, 2, 20)
    await segments.refresh_all(db, raw, ny, day)
    for k, step in enumerate((17, 1, 1, 1, 235, 1, 1, 1, 40)):  # around Mar 10 and Nov 3
        day += dt.timedelta(days=step)
        if k % 2:
            await load(db, random_orders(rng, 50, 10, TODAY, prefix=f"n{k}-"))
        daily = await segments.refresh_all(db, raw, ny, day)
        fields = await all_fields(db)
        full = await segments.refresh_all(db, raw, ny, day, full=True)
        assert await all_fields(db) == fields, day
        assert (daily.clv_overall, daily.clv_by_group, daily.pareto) == (
            full.clv_overall, full.clv_by_group, full.pareto,
        )  # fmt: skip


# ---------------------------------------------------------------------------
# The per-order pass: in two halves at once, and unpacked when packed sums cannot hold

PASSES = {
    "two halves at once": ("PARALLEL_MIN_ORDERS", 0),
    "unpacked after the count check": ("COUNT_BITS", 1),
    "in two halves, unpacked after the count check": ("COUNT_BITS", 1),
}


@pytest.mark.parametrize("raw", [{}, {"window_days": 90}], ids=["365 days", "90 days"])
@pytest.mark.parametrize("variant", PASSES)
async def test_every_way_of_the_pass_gives_the_same_fields(db, monkeypatch, raw, variant):
    big = [order(f"big{i}", "big_spender", ago(400 + i), 1 << 31) for i in range(2)]
    await load(db, random_orders(random.Random(11), 60, 400, TODAY) + big)
    plain = await segments.refresh_all(db, raw, SH, TODAY)
    await db.execute("UPDATE customers SET rfm_last_day = NULL, rfm_cell = NULL")
    name, value = PASSES[variant]
    monkeypatch.setattr(segments, name, value)
    if variant.startswith("in two halves"):
        monkeypatch.setattr(segments, "PARALLEL_MIN_ORDERS", 0)
    calls: list[str] = []
    for fn in ("_aggregate_sql", "_aggregate_half"):
        real = getattr(segments, fn)

        def spy(*a, _real=real, _fn=fn, **kw):
            calls.append(f"{_fn}:{kw.get('pack', '')}")
            return _real(*a, **kw)

        monkeypatch.setattr(segments, fn, spy)
    state = await segments.refresh_all(db, raw, SH, TODAY, full=True)
    await assert_matches_reference(db, raw, TODAY)
    assert (state.clv_overall, state.clv_by_group, state.pareto) == (
        plain.clv_overall, plain.clv_by_group, plain.pareto,
    )  # fmt: skip
    if variant.startswith("in two halves"):
        assert calls.count("_aggregate_half:") == 2
    elif name == "PARALLEL_MIN_ORDERS":
        assert calls.count("_aggregate_half:") == 1
    if name == "COUNT_BITS":
        assert [c for c in calls if c.startswith("_aggregate_sql")] == [
            "_aggregate_sql:True", "_aggregate_sql:False",
        ]  # fmt: skip
