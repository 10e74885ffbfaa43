"""Benchmark: /whois and /find through the real Application and the in-process Bot API.

    .venv/bin/python -m bench.bench_whois                      # 10k and 1M customers
    .venv/bin/python -m bench.bench_whois --sizes 10000:100000 --queries 500

For each database (made once by ``bench.fixture_db.ensure_db``: ``kefu generate`` +
import, cached under bench/out/) an agent sends /whois for varied buyers — by buyer
id, order id, phone and name in turn (a shared name answers with candidates, as it
would for a user) — and /find for part of a name, 4 digits of a phone, the start of
a buyer id and an order id. The time measured is the handler time: from the update
going into ``Application.process_update`` to the reply having gone out through the
transport. A warm-up round runs first; then the sizes take turns query by query, so
that other work on the machine weighs on all of them alike. The table shows p50 and
p99 in milliseconds and how the largest size's p99 compares with the smallest one's.

Targets (README, Figures): /whois p99 < 10 ms at 1,000,000 customers and no more than
1.5 times the p99 at 10,000; /find p99 < 50 ms at 1,000,000 customers.
The bench removes what it wrote (its agent and its audit rows) when it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bench.fixture_db import ensure_db
from bot.app import build_application
from bot.config import load_settings
from bot.console.transport import InProcessBotAPI
from bot.storage import staff
from bot.storage.db import open_db
from tests.e2e_harness import BotHarness

ADMIN = 1
AGENT = 990_001
DEFAULT_SIZES = ((10_000, 100_000), (1_000_000, 10_000_000))


@dataclass
class Result:
    customers: int
    whois: list[float]
    find: list[float]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def _sample(db, n: int, seed: int) -> list[dict[str, str]]:
    """``n`` random customers with one of their order ids."""
    async with db.execute("SELECT max(id) FROM customers") as cur:
        top = (await cur.fetchone())[0]
    rng = random.Random(seed)
    ids = rng.sample(range(1, top + 1), min(n * 2, top))
    marks = ",".join("?" * len(ids))
    async with db.execute(
        f"SELECT c.id, c.buyer_id, c.name, c.phone, (SELECT o.order_id FROM orders o "
        f"WHERE o.customer_id = c.id LIMIT 1) AS order_id FROM customers c "
        f"WHERE c.id IN ({marks})",
        ids,
    ) as cur:
        rows = [dict(r) for r in await cur.fetchall()]
    rng.shuffle(rows)
    return rows[:n]


def whois_queries(rows: list[dict[str, str]]) -> list[str]:
    keys = ("buyer_id", "order_id", "phone", "name")
    out = []
    for i, row in enumerate(rows):
        value = row[keys[i % len(keys)]] or row["buyer_id"]
        out.append(f"/whois {value}")
    return out


def find_queries(rows: list[dict[str, str]], seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i, row in enumerate(rows):
        kind = i % 4
        if kind == 0 and len(row["name"]) >= 2:
            start = rng.randrange(len(row["name"]) - 1)
            text = row["name"][start : start + 2]  # part of a name (小明 of 王小明)
        elif kind == 1 and len(row["phone"]) >= 8:
            start = rng.randrange(3, len(row["phone"]) - 3)
            text = row["phone"][start : start + 4]  # any 4 digits of a phone
        elif kind == 2:
            text = row["buyer_id"][: max(3, len(row["buyer_id"]) - 2)]  # the start of an id
        else:
            text = row["order_id"] or row["buyer_id"]
        out.append(f"/find {text}")
    return out


async def _timed(bot: BotHarness, text: str) -> float:
    t0 = time.perf_counter()
    replies = await bot.send(AGENT, text)
    elapsed = (time.perf_counter() - t0) * 1000
    if not replies:
        raise RuntimeError(f"no reply to {text!r}")
    return elapsed


async def run(sizes: list[tuple[int, Path]], queries: int, seed: int) -> list[Result]:
    """Measure every database in turn, query by query, so that a busy moment of the
    machine falls on all sizes alike and the p99 ratio compares like with like."""
    async with contextlib.AsyncExitStack() as stack:
        bots, plans = [], []
        for _, path in sizes:
            settings = load_settings({"KEFU_DB": str(path), "KEFU_ADMINS": str(ADMIN)})
            db = await open_db(path)
            stack.push_async_callback(db.close)
            await staff.add_agent(db, AGENT, added_by=ADMIN)
            stack.push_async_callback(staff.remove_agent, db, AGENT)
            stack.push_async_callback(
                db.execute, "DELETE FROM audit_log WHERE user_id = ?", (AGENT,)
            )
            api = InProcessBotAPI()
            app = build_application(settings, db, request=api, rate_limit=False)
            bots.append(await stack.enter_async_context(BotHarness(app, api)))
            rows = await _sample(db, queries + 100, seed)
            plans.append(
                (
                    whois_queries(rows[:100]) + find_queries(rows[:100], seed),
                    whois_queries(rows[100:]),
                    find_queries(rows[100:], seed),
                )
            )
        for bot, (warm, _, _) in zip(bots, plans, strict=True):
            for text in warm:
                await _timed(bot, text)
        results = [Result(customers, [], []) for customers, _ in sizes]
        for j in range(queries):
            for bot, plan, result in zip(bots, plans, results, strict=True):
                result.whois.append(await _timed(bot, plan[1][j % len(plan[1])]))
        for j in range(queries):
            for bot, plan, result in zip(bots, plans, results, strict=True):
                result.find.append(await _timed(bot, plan[2][j % len(plan[2])]))
    return results


def table(results: list[Result]) -> str:
    lines = [
        "| customers | /whois p50 | /whois p99 | /find p50 | /find p99 |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.customers:,} | {statistics.median(r.whois):.2f} ms | {pct(r.whois, 99):.2f} ms "
            f"| {statistics.median(r.find):.2f} ms | {pct(r.find, 99):.2f} ms |"
        )
    if len(results) > 1:
        small, big = results[0], results[-1]
        lines.append(
            f"\n/whois p99 at {big.customers:,} / p99 at {small.customers:,}: "
            f"{pct(big.whois, 99) / pct(small.whois, 99):.2f} (target <= 1.5); "
            f"/find: {pct(big.find, 99) / pct(small.find, 99):.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=",".join(f"{c}:{o}" for c, o in DEFAULT_SIZES),
        help="customers:orders,... (default 10000:100000,1000000:10000000)",
    )
    parser.add_argument("--queries", type=int, default=2000, help="measured queries per command")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    sizes = []
    for size in args.sizes.split(","):
        customers, orders = (int(x) for x in size.split(":"))
        sizes.append((customers, ensure_db(customers=customers, orders=orders)))
    results = asyncio.run(run(sizes, args.queries, args.seed))
    print(table(results))


if __name__ == "__main__":
    main()
