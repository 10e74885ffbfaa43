"""Benchmark databases, made once and cached under bench/out/.

    from bench.fixture_db import ensure_db
    path = ensure_db(customers=1_000_000, orders=10_000_000)   # slow the first time

Made the way a shop would: ``kefu generate`` writes a Taobao export, ``kefu import``
loads it. Reused while the file exists; delete bench/out/ to rebuild.
"""

from __future__ import annotations

import asyncio
import fcntl
import sys
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

OUT = Path(__file__).resolve().parent / "out"
SPAN = (date(2024, 1, 1), date(2026, 11, 22))


def ensure_db(*, customers: int, orders: int, seed: int = 1) -> Path:
    """The path of a database holding the synthetic shop of that size (built if missing)."""
    OUT.mkdir(exist_ok=True)
    db_path = OUT / f"shop-{customers}c-{orders}o-s{seed}.db"
    # one builder at a time: a second caller waits for the first one's database
    with open(OUT / f"{db_path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not db_path.exists():
            _build(db_path, customers=customers, orders=orders, seed=seed)
    return db_path


def _build(db_path: Path, *, customers: int, orders: int, seed: int) -> None:
    from bot.importers.pipeline import import_file
    from bot.storage.db import open_db
    from bot.synth.generate import generate

    csv_path = OUT / f"taobao-{customers}c-{orders}o-s{seed}.csv"
    t0 = time.perf_counter()
    if not csv_path.exists():
        generate(
            csv_path, customers=customers, orders=orders, preset="taobao", seed=seed,
            start=SPAN[0], end=SPAN[1],
        )  # fmt: skip
    t1 = time.perf_counter()
    partial = db_path.with_suffix(".partial")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)

    async def load() -> None:
        db = await open_db(partial)
        try:
            await import_file(db, csv_path, preset="taobao", tz=ZoneInfo("Asia/Shanghai"))
            await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            await db.close()

    asyncio.run(load())
    partial.rename(db_path)
    print(
        f"made {db_path.name}: generate {t1 - t0:.1f} s, import {time.perf_counter() - t1:.1f} s",
        file=sys.stderr,
    )
