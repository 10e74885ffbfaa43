"""Import benchmark: kefu's import of a synthetic Taobao export vs the sqlite3 shell's .import.

    .venv/bin/python -m bench.bench_import                      # 1,000,000 orders, 200,000 buyers
    .venv/bin/python -m bench.bench_import --orders 100000 --customers 20000

Generates the export once (cached in --workdir by its parameters), then, each in its
own child process so that peak memory is measured per run: kefu's import into a fresh
database (parse, normalise, upsert, indexes, aggregates — everything ``kefu import``
does) and ``sqlite3 bare.db '.import --csv FILE t'`` into a bare table. Prints a table
of rows, seconds, rows/s and peak RSS (of the process and its children, each run).
Below it, the two halves of kefu's work, each alone in one process: parsing and
normalising the file (no database), and what the database does with rows parsed
beforehand (insert, then the commit's indexes, profiles, aggregates and search grams).
This is a benchmark, not a test: it reports, it does not assert.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

TARGET_RATE = 100_000
SQLITE3 = shutil.which("sqlite3") or "/usr/bin/sqlite3"


def _fresh(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _run_measured(cmd: list[str]) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in MB of the process tree's largest member, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {proc.returncode}")
    return seconds, usage.ru_maxrss // 1024, out


def _child_import(csv_path: Path, db_path: Path, worker: str) -> None:
    from bot.importers.pipeline import import_file, progress_bar
    from bot.storage.db import open_db

    async def run() -> None:
        _fresh(db_path)
        db = await open_db(db_path)
        try:
            summary = await import_file(
                db,
                csv_path,
                tz=ZoneInfo("Asia/Shanghai"),
                progress=progress_bar(sys.stderr),
                worker={"auto": None, "yes": True, "no": False}[worker],
            )
        finally:
            await db.close()
        result = {"rows": summary.rows_read, "orders": summary.orders_new,
                  "customers": summary.customers_new, "seconds": summary.seconds}  # fmt: skip
        print(json.dumps(result))

    asyncio.run(run())


def _child_parse(csv_path: Path) -> None:
    """Parse and normalise the whole file in this one process, writing nothing."""
    from bot.importers.pipeline import parse, plan_import

    start = time.perf_counter()
    plan = plan_import(csv_path, tz=ZoneInfo("Asia/Shanghai"))
    rows = sum(len(b.rows) for b in parse(plan))
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - start}))


def _child_store(csv_path: Path, db_path: Path) -> None:
    """Parse the whole file first (not timed), then time only what the database does with
    the rows: inserting them, and the commit's indexes, profiles, aggregates and grams."""
    from bot.importers.pipeline import parse, plan_import
    from bot.storage.db import checkpoints_done, open_db
    from bot.storage.order_import import OrderImport

    plan = plan_import(csv_path, tz=ZoneInfo("Asia/Shanghai"))
    batches = [b.rows for b in parse(plan)]
    rows = sum(map(len, batches))

    async def run() -> dict[str, float]:
        _fresh(db_path)
        db = await open_db(db_path)
        try:
            start = time.perf_counter()
            async with OrderImport(db) as imp:
                for batch in batches:
                    await imp.add_rows(batch)
                inserted = time.perf_counter()
                await imp.commit(source=csv_path.name, preset="taobao", rows_read=rows)
            done = time.perf_counter()
            await checkpoints_done()
        finally:
            await db.close()
        return {"insert": inserted - start, "commit": done - inserted, "seconds": done - start}

    print(json.dumps({"rows": rows, **asyncio.run(run())}))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "kefu-bench")
    ap.add_argument("--worker", choices=("auto", "yes", "no"), default="auto",
                    help="cut the file in two, parse the second part in a worker process "
                         "(auto: files of 16 MB or more on 2+ cores)")  # fmt: skip
    ap.add_argument("--child-import", nargs=2, metavar=("CSV", "DB"), help=argparse.SUPPRESS)
    ap.add_argument("--child-parse", metavar="CSV", help=argparse.SUPPRESS)
    ap.add_argument("--child-store", nargs=2, metavar=("CSV", "DB"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_import:
        _child_import(Path(args.child_import[0]), Path(args.child_import[1]), args.worker)
        return
    if args.child_parse:
        _child_parse(Path(args.child_parse))
        return
    if args.child_store:
        _child_store(Path(args.child_store[0]), Path(args.child_store[1]))
        return

    from bot.synth import generate

    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    csv_path = work / f"taobao-{args.orders}-{args.customers}-{args.seed}.csv"
    if not csv_path.exists():
        print(f"generating {csv_path} ...", flush=True)
        t = time.perf_counter()
        partial = csv_path.with_suffix(".part")
        generate(partial, customers=args.customers, orders=args.orders, preset="taobao",
                 seed=args.seed, start=date(2023, 1, 1), end=date(2024, 12, 31))  # fmt: skip
        partial.rename(csv_path)
        print(f"  generated in {time.perf_counter() - t:.1f} s", flush=True)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"file: {csv_path} ({size_mb:.0f} MB, GBK)", flush=True)

    kefu_db = work / "kefu.db"
    secs, rss, out = _run_measured(
        [sys.executable, "-m", "bench.bench_import", "--worker", args.worker,
         "--child-import", str(csv_path), str(kefu_db)]
    )  # fmt: skip
    result = json.loads(out.strip().splitlines()[-1])
    rows = result["rows"]

    bare_db = work / "bare.db"
    _fresh(bare_db)
    sq_secs, sq_rss, _ = _run_measured([SQLITE3, str(bare_db), f".import --csv {csv_path} t"])
    sq_rows = rows  # the same file; .import takes the first line as the header
    _fresh(bare_db)

    # the two halves of the work, each alone in one process: where the time goes
    _, _, out = _run_measured([sys.executable, "-m", "bench.bench_import", "--child-parse",
                               str(csv_path)])  # fmt: skip
    parsed = json.loads(out.strip().splitlines()[-1])
    _, _, out = _run_measured([sys.executable, "-m", "bench.bench_import", "--child-store",
                               str(csv_path), str(kefu_db)])  # fmt: skip
    stored = json.loads(out.strip().splitlines()[-1])
    _fresh(kefu_db)

    kefu_rate = rows / secs
    sq_rate = sq_rows / sq_secs
    print()
    print(f"{'':24} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'peak RSS':>9}")
    print(f"{'kefu import (end to end)':24} {rows:>10,} {secs:>8.1f} {kefu_rate:>10,.0f} "
          f"{rss:>6} MB")  # fmt: skip
    print(f"{'  of which in import_file':24} {'':>10} {result['seconds']:>8.1f} "
          f"{rows / result['seconds']:>10,.0f}")  # fmt: skip
    print(f"{'sqlite3 shell .import':24} {sq_rows:>10,} {sq_secs:>8.1f} {sq_rate:>10,.0f} "
          f"{sq_rss:>6} MB")  # fmt: skip
    print(f"{'  parse alone':24} {parsed['rows']:>10,} {parsed['seconds']:>8.1f} "
          f"{parsed['rows'] / parsed['seconds']:>10,.0f}   (one process, no database)")
    print(f"{'  storage alone':24} {stored['rows']:>10,} {stored['seconds']:>8.1f} "
          f"{stored['rows'] / stored['seconds']:>10,.0f}   (rows parsed beforehand: "
          f"insert {stored['insert']:.1f} s, commit {stored['commit']:.1f} s)")  # fmt: skip
    print()
    print(f"orders {result['orders']:,}, customers {result['customers']:,}")
    print(f"kefu / sqlite3 shell: {kefu_rate / sq_rate:.2f} (target >= 0.33); "
          f"kefu {kefu_rate:,.0f} orders/s (target >= {TARGET_RATE:,}); "
          f"peak RSS {rss} MB (target < 500)")  # fmt: skip


if __name__ == "__main__":
    main()
