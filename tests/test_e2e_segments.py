"""/segments, /segment, /rfm, /report and the daily job, through the real Application."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest

from bot.domain.order import Buyer, Order
from bot.domain.segments_report import local_today
from bot.storage import segments
from bot.storage.order_import import OrderImport
from scheduler.segments import JOB_NAME, catch_up, daily
from tests.conftest import ADMIN, AGENT, _harness

SH = ZoneInfo("Asia/Shanghai")
DAY = 86400


def ago(days: int, hour: int = 12) -> int:
    """A time ``days`` shop-local days before today, at ``hour`` o'clock."""
    day = local_today(SH) - dt.timedelta(days=days)
    return int(dt.datetime.combine(day, dt.time(hour), SH).timestamp())


def order(oid: str, buyer_id: str, days: int, yuan: int, **kw) -> Order:
    paid = ago(days)
    return Order(
        platform="taobao", order_id=oid, buyer_id=buyer_id, created_at=paid - 60,
        status=kw.pop("status", "completed"), amount_paid_fen=yuan * 100, paid_at=paid, **kw,
    )  # fmt: skip


SHOP = [
    # big spender, recent and frequent: 重要价值客户, R3F3M3
    *[order(f"v{i}", "vip", 2 + i, 900) for i in range(4)],
    # big spender long gone: 重要挽留客户
    order("r1", "gone_big", 200, 2500, buyer=Buyer(name="李四")),
    # small, recent, once: 一般发展客户
    order("d1", "newbie", 1, 50, coupon_fen=1000),
    order("d0", "newbie_fan", 3, 60),
    # small and gone
    order("o1", "gone_small", 150, 30),
    order("o2", "gone_small2", 160, 40),
    # refused and refunded only: no segment
    order("x1", "refuser", 3, 500, status="refused"),
    *[order(f"g{i}", f"retain{i}", 100 + i, 1800) for i in range(12)],  # a page and more
]


async def load(db, orders) -> None:
    async with OrderImport(db) as imp:
        await imp.add(orders)
        await imp.commit(source="t.csv", preset="generic", rows_read=len(orders))


@pytest.fixture
async def shop(kefu_bot_en):
    await load(kefu_bot_en.db, SHOP)
    return kefu_bot_en


async def test_segments_shows_todays_distribution_and_changes(shop):
    [first] = await shop.send(ADMIN, "/segments")
    text = first.plain_text
    assert f"Segments as of {local_today(SH)}: 18 customers with purchases" in text
    assert "Important to win back: 13" in text  # gone_big and the twelve retain* buyers
    assert "call back with an exclusive coupon" in text  # the class's suggested action
    assert "(no snapshot)" in text and "– / –" in text
    assert "The top 20% of customers (4 of 18) bring" in text
    assert "R3F3M3: 1" in text

    # a month ago (rebuilt from history) nobody had bought yet except the old buyers
    [done] = await shop.send(ADMIN, "/segments rebuild 30")
    assert "30 days" in done.plain_text
    [later] = await shop.send(ADMIN, "/segments")
    assert "(no snapshot)" not in later.plain_text
    week = await segments.snapshot(shop.db, local_today(SH) - dt.timedelta(days=7))
    # a week ago the VIP had not bought yet; the twelve retain* buyers were then recent
    # enough against that day's average to be 重要价值
    assert "R3F3M3" not in week["cell"] and week["class"]["important_value"] == 12
    assert "R3F3M3: 1 +1 / +1" in later.plain_text
    assert "Important value: 1 (6%) -11 / " in later.plain_text


async def test_segment_lists_pages_and_exports_csv(shop):
    [page1] = await shop.send(ADMIN, "/segment 重要挽留")
    assert page1.plain_text.startswith("Important to win back: 13 customers, 1–10 by spend")
    assert "Suggested: Spent much but long gone" in page1.plain_text
    assert "1. gone_big 李四 · R1F1M3 · ¥2,500.00" in page1.plain_text
    assert [b.text for b in page1.buttons] == ["Next ▶", "⬇ Export CSV"]
    assert all(len(b.callback_data.encode()) <= 64 for b in page1.buttons)

    [page2] = await shop.press(ADMIN, page1, page1.button_data("Next ▶"))
    assert page2.edited and "11–13" in page2.plain_text and "11. " in page2.plain_text
    assert [b.text for b in page2.buttons] == ["◀ Previous", "⬇ Export CSV"]

    [doc] = await shop.press(ADMIN, page2, page2.button_data("⬇ Export CSV"))
    assert doc.document.filename.startswith("segment-important_retain-")
    rows = list(csv.DictReader(io.StringIO(doc.document.data.decode("utf-8-sig"))))
    assert len(rows) == 13 and "13 customers" in doc.plain_text
    assert rows[0]["buyer_id"] == "gone_big" and rows[0]["monetary_yuan"] == "2500.00"
    assert {r["value_class"] for r in rows} == {"important_retain"}

    [cell] = await shop.send(ADMIN, "/segment r3f3m3")
    assert "Cell R3F3M3: 1 customers" in cell.plain_text and "vip" in cell.plain_text
    assert [b.text for b in cell.buttons] == ["⬇ Export CSV"]
    [abc] = await shop.send(ADMIN, "/segment a")
    assert abc.plain_text.startswith("ABC class A:")


async def test_segment_with_a_wrong_name_says_what_to_write(shop):
    [r] = await shop.send(ADMIN, "/segment vip<b>")
    assert "“vip<b>” is not a segment" in r.plain_text and "/segment R3F2M3" in r.plain_text
    [empty] = await shop.send(ADMIN, "/segment R1F3M1")
    assert "0 customers" in empty.plain_text and "Nobody is in this segment" in empty.plain_text
    assert empty.buttons == []


async def test_rfm_shows_the_numbers_behind_the_cell(shop):
    await shop.send(ADMIN, f"/agent add {AGENT}")
    [r] = await shop.send(AGENT, "/rfm vip")
    text = r.plain_text
    assert "Cell R3F3M3" in text
    assert "R3: last purchase" in text and "2 days ago" in text
    assert "F3: 4 orders in the last 365 days" in text
    assert "M3: ¥3,600.00 in the last 365 days" in text
    assert "Value class: Important value (R high" in text
    assert "ABC class: A" in text
    assert "Price sensitivity: low: 0 of 4 orders used a coupon or discount" in text

    [newbie] = await shop.send(AGENT, "/rfm newbie")
    assert "Only 1 order (need 3): too few to judge" in newbie.plain_text
    [none] = await shop.send(AGENT, "/rfm refuser")
    assert "No counted purchase" in none.plain_text
    [missing] = await shop.send(AGENT, "/rfm nobody")
    assert "No buyer “nobody”" in missing.plain_text
    [usage] = await shop.send(AGENT, "/rfm")
    assert usage.plain_text == "Usage: /rfm <buyer id>"
    [denied] = await shop.send(AGENT, "/segments")
    assert "Only admins" in denied.plain_text


async def test_recency_moves_with_the_calendar_without_an_import(shop):
    await load(shop.db, [order("w1", "week_ago", 8, 20)])
    # the stored segments are yesterday's: then the purchase was 7 days ago (R3)
    yesterday = local_today(SH) - dt.timedelta(days=1)
    await segments.refresh_all(shop.db, {}, SH, yesterday)
    stale = await shop.db.execute_fetchall(
        "SELECT rfm_cell FROM customers WHERE buyer_id = 'week_ago'"
    )
    assert stale[0][0] == "R3F1M1"
    [r] = await shop.send(ADMIN, "/rfm week_ago")
    assert "Cell R2F1M1" in r.plain_text and "8 days ago" in r.plain_text


async def test_report_sends_four_png_charts_and_the_figures(shop):
    replies = await shop.send(ADMIN, "/report")
    photos = [m for m in replies if m.photo]
    assert len(photos) == 4
    assert all(p.photo.data.startswith(b"\x89PNG") for p in photos)
    assert "Customers per value class" in photos[0].plain_text
    assert "Pareto" in photos[2].plain_text
    [summary] = [m for m in replies if not m.photo]
    assert "the top 20% of customers (4 of 18) bring" in summary.plain_text
    # the shop's history is under a year: CLV is refused with the reason
    assert "less than a year of order history" in summary.plain_text


async def test_chinese_segments_and_report_text(kefu_bot):
    await load(kefu_bot.db, SHOP)
    [r] = await kefu_bot.send(ADMIN, "/segments")
    assert "重要挽留客户:13" in r.plain_text and "送专属优惠券挽回" in r.plain_text
    assert "前 20% 的客户(18 人中的 4 人)贡献了" in r.plain_text
    [rfm] = await kefu_bot.send(ADMIN, "/rfm vip")
    assert "分组 R3F3M3" in rfm.plain_text and "价格敏感度:低" in rfm.plain_text


async def test_empty_shop_and_bad_configuration(kefu_bot_en, settings_en):
    [r] = await kefu_bot_en.send(ADMIN, "/segments")
    assert "Import an order export first" in r.plain_text
    [u] = await kefu_bot_en.send(ADMIN, "/segments rebuild lots")
    assert u.plain_text == "Usage: /segments rebuild 1-400"
    bad = dataclasses.replace(settings_en, raw={"segments": {"mode": "fancy"}})
    async for bot in _harness(bad):
        [e] = await bot.send(ADMIN, "/segments")
        assert "segments.mode: must be 'tier' or 'score'" in e.plain_text


async def test_daily_job_is_scheduled_and_snapshots_the_day(kefu_bot_en, settings_en):
    [job] = kefu_bot_en.app.job_queue.get_jobs_by_name(JOB_NAME)
    assert job.trigger.fields[5].expressions[0].first == 0  # 00:05 shop-local by default
    assert str(job.trigger.timezone) == "Asia/Shanghai"
    await load(kefu_bot_en.db, SHOP)
    today = local_today(SH)
    await daily(settings_en.db_path, {}, SH, today)
    assert await segments.snapshot(kefu_bot_en.db, today) == await segments.distribution(
        kefu_bot_en.db
    )
    for back in (7, 30):
        assert await segments.snapshot(kefu_bot_en.db, today - dt.timedelta(days=back))


async def test_a_bot_started_after_the_nights_job_refreshes_at_once(kefu_bot_en):
    """Down at 00:05: the cards would show yesterday's cells all day without the catch-up."""
    db = kefu_bot_en.db
    await load(db, SHOP)
    today = local_today(SH)
    await segments.refresh_all(db, {}, SH, today - dt.timedelta(days=1))
    catch_up(kefu_bot_en.app)
    for _ in range(200):
        state = await segments.load_state(db)
        if state is not None and state.as_of == today:
            break
        await asyncio.sleep(0.05)
    assert state is not None and state.as_of == today
    assert await segments.snapshot(db, today) == await segments.distribution(db)


async def test_segments_while_an_import_writes_too_long_say_to_try_again(
    kefu_bot_en, settings_en, monkeypatch
):
    import sqlite3

    from bot.storage import db as storage_db

    await load(kefu_bot_en.db, SHOP)  # segments never computed: /segments must refresh
    monkeypatch.setattr(storage_db, "WRITER_WAIT_S", 0.3)
    other = sqlite3.connect(settings_en.db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # an import of a big file, say
    try:
        [busy] = await kefu_bot_en.send(ADMIN, "/segments")
        [rebuild] = await kefu_bot_en.send(ADMIN, "/segments rebuild 2")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert "could not wait longer than 0.3 s" in busy.plain_text
    assert "could not wait longer than 0.3 s" in rebuild.plain_text
    [ok] = await kefu_bot_en.send(ADMIN, "/segments")
    assert "Segments as of" in ok.plain_text


async def test_segments_says_why_lapsed_classes_are_empty_when_the_window_is_short(
    shop, settings_en
):
    [default] = await shop.send(ADMIN, "/segments")  # mean recency ~94 days < 365
    assert "empty by construction" not in default.plain_text
    short = dataclasses.replace(settings_en, raw={"segments": {"window_days": 60}})
    async for bot in _harness(short):
        [text] = await bot.send(ADMIN, "/segments")
        assert "Important to win back: 0 (0%)" in text.plain_text
        assert "are empty by construction" in text.plain_text
        assert 'window_days = "all"' in text.plain_text
