"""Importing one export file: detect, parse in a stream, stage, commit, summarise.

    summary = await import_file(db, Path("orders.csv"), tz=ZoneInfo("Asia/Shanghai"))

The file is read row by row (never whole) and staged in batches into one
transaction (:class:`bot.storage.order_import.OrderImport`): a bad row fails the whole
file unless ``skip_bad``. Large CSV files are parsed in a worker process while this
process writes to SQLite, so the two cores overlap.
"""

from __future__ import annotations

import asyncio
import csv
import io
import multiprocessing as mp
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import aiosqlite

from bot.importers import presets as _presets
from bot.importers.convert import MissingColumns, RowError, _Orphan, converter, group_lines
from bot.importers.csvrows import csv_rows
from bot.importers.mapping import MappingError, load_mapping
from bot.importers.presets import Preset
from bot.importers.sniff import codec_for, is_xlsx, sniff_csv
from bot.importers.xlsx import open_xlsx
from bot.storage.order_import import OrderImport

PRESETS: tuple[str, ...] = _presets.PRESETS
BATCH = 20_000
#: files at least this big are parsed in a worker process
WORKER_THRESHOLD = 16 << 20
EXAMPLES = 5
csv.field_size_limit(1 << 24)


class ImportFailed(Exception):
    """The file was not imported (nothing of it was written); ``str()`` says why and what to do."""


@dataclass
class ImportSummary:
    source: str
    preset: str
    encoding: str = ""
    rows_read: int = 0
    orders_new: int = 0
    orders_updated: int = 0
    orders_unchanged: int = 0
    rows_skipped: int = 0
    customers_new: int = 0
    customers_updated: int = 0
    skipped_examples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def orders(self) -> int:
        return self.orders_new + self.orders_updated + self.orders_unchanged

    def __str__(self) -> str:
        text = (
            f"{self.source} ({self.preset}): {self.rows_read} rows read; orders "
            f"{self.orders_new} new, {self.orders_updated} updated, "
            f"{self.orders_unchanged} unchanged; {self.rows_skipped} rows skipped; customers "
            f"{self.customers_new} new, {self.customers_updated} updated"
        )
        return "\n".join([text, *(f"  skipped {e}" for e in self.skipped_examples)])


@dataclass(frozen=True)
class _Plan:
    """Everything a parser needs; picklable, so a worker process can run it."""

    path: Path
    source: str
    preset: Preset
    tz_name: str
    encoding: str  # '' for XLSX
    skip_bad: bool
    size: int


# --- reading ------------------------------------------------------------------------


def _open_csv(path: Path, encoding: str) -> tuple[IO[bytes], Iterator[list[str]]]:
    raw = open(path, "rb", buffering=1 << 20)  # noqa: SIM115 - closed by the caller
    text = io.TextIOWrapper(raw, encoding=codec_for(encoding), newline="")
    text._CHUNK_SIZE = 1 << 18  # type: ignore[attr-defined]  # fewer, larger decodes
    return raw, csv_rows(text)


def _header(path: Path, source: str, encoding: str) -> list[str]:
    try:
        if not encoding:
            _, rows = open_xlsx(path)
            header = next(rows, [])
            rows.close()  # type: ignore[attr-defined]
            return header
        raw, rows = _open_csv(path, encoding)
        with raw:
            return next(rows, [])
    except UnicodeDecodeError:
        raise ImportFailed(f"{source}: the header is not readable as {encoding}") from None
    except Exception as exc:  # a corrupt XLSX, a CSV the csv module refuses
        raise ImportFailed(f"{source}: cannot read the file ({exc})") from None


def plan_import(
    path: Path,
    *,
    tz: ZoneInfo,
    preset: str | None = None,
    mapping: Path | None = None,
    skip_bad: bool = False,
    source_name: str | None = None,
) -> _Plan:
    """Sniff the file and settle its preset; raises ImportFailed for an unknown format."""
    source = source_name or path.name
    if not path.is_file():
        raise ImportFailed(f"{source}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise ImportFailed(f"{source}: the file is empty")
    chosen: Preset | None = None
    if mapping is not None:
        try:
            chosen = load_mapping(mapping)
        except MappingError as exc:
            raise ImportFailed(str(exc)) from None
    elif preset is not None:
        chosen = _presets.BUILTIN.get(preset.strip().lower())
        if chosen is None:
            raise ImportFailed(
                f"unknown preset {preset!r}; use one of {'|'.join(PRESETS)} or --mapping FILE"
            )
    encoding = "" if is_xlsx(path) else sniff_csv(path)
    if encoding and chosen is not None and chosen.encoding and mapping is not None:
        encoding = chosen.encoding
    header = _header(path, source, encoding)
    if chosen is None:
        chosen = _presets.detect(header)
        if chosen is None:
            shown = ", ".join(h.strip() for h in header[:6]) + (", ..." if len(header) > 6 else "")
            raise ImportFailed(
                f"{source}: cannot tell which shop exported this file (header: {shown}); "
                f"pass --preset {'|'.join(PRESETS)} or --mapping FILE"
            )
    try:
        converter(chosen, header, tz)
    except MissingColumns as exc:
        raise ImportFailed(
            f"{source}: no column {', '.join(exc.columns)} in the header, which the "
            f"{chosen.name} preset needs; check the export or pass --mapping FILE"
        ) from None
    return _Plan(path, source, chosen, tz.key, encoding, skip_bad, size)


@dataclass
class _Batch:
    rows: list[tuple]
    done: int  # bytes (CSV) or rows (XLSX) read so far
    total: int
    rows_read: int
    rows_skipped: int
    examples: list[str]


def parse(plan: _Plan, batch: int = BATCH) -> Iterator[_Batch]:
    """Staged rows of the file, in batches. Raises ImportFailed on the first bad row
    (unless ``skip_bad``: then bad rows are counted and the first few described)."""
    tz = ZoneInfo(plan.tz_name)
    source = plan.source
    raw: IO[bytes] | None = None
    if plan.encoding:
        raw, rows = _open_csv(plan.path, plan.encoding)
        total = plan.size
        # the reader lets go of (and so closes) the file once it has read it all
        position = lambda: total if raw.closed else raw.tell()  # noqa: E731
    else:
        total, rows = open_xlsx(plan.path)
        position = None
    convert, lines = converter(plan.preset, next(rows, []), tz)
    state = {"read": 0, "skipped": 0, "row": 1}
    examples: list[str] = []

    def bad(rownum: int, what: str) -> None:
        if not plan.skip_bad:
            raise ImportFailed(f"{source} row {rownum}, {what}; fix the row or use --skip-bad")
        state["skipped"] += 1
        if len(examples) < EXAMPLES:
            examples.append(f"row {rownum}, {what}")

    def converted() -> Iterator[tuple[int, tuple]]:
        rownum = 1
        read = 0
        try:
            for r in rows:
                rownum += 1
                if not r or (not r[0] and not any(c.strip() for c in r)):
                    continue  # a blank row
                try:
                    out = convert(r)
                except RowError as e:
                    read += 1
                    state["read"] = read
                    bad(rownum, f"column {e.column}: {e.value!r} is not {e.expected}")
                    continue
                read += 1
                if not read & 1023:
                    state["read"] = read
                    state["row"] = rownum
                yield rownum, out
        except UnicodeDecodeError:
            raise ImportFailed(
                f"{source}: bytes near row {rownum + 1} are not valid {plan.encoding}; "
                "export the file again as UTF-8 or GBK"
            ) from None
        except csv.Error as exc:
            raise ImportFailed(f"{source} row {rownum + 1}: {exc}") from None
        state["read"] = read
        state["row"] = rownum

    if lines:

        def merged() -> Iterator[tuple[int, tuple]]:
            source_rows = converted()
            while True:
                try:
                    yield from group_lines(source_rows)
                    return
                except _Orphan as e:
                    bad(e.rownum, f"line item of order {e.key!r} without the order's first row")

        stream = merged()
    else:
        stream = converted()

    try:
        out: list[tuple] = []
        append = out.append
        for _, row in stream:
            append(row)
            if len(out) >= batch:
                done = position() if position else state["row"]
                yield _Batch(out, done, total, state["read"], state["skipped"], list(examples))
                out = []
                append = out.append
        done = total if position else state["row"]
        yield _Batch(out, done, total, state["read"], state["skipped"], list(examples))
    finally:
        if raw is not None:
            raw.close()
        else:
            rows.close()  # type: ignore[attr-defined]


# --- the worker process ---------------------------------------------------------------


def _work(plan: _Plan, conn: mp.connection.Connection) -> None:  # pragma: no cover - subprocess
    try:
        for b in parse(plan):
            conn.send(b)
        conn.send(None)
    except ImportFailed as exc:
        conn.send(("failed", str(exc)))
    except BaseException as exc:
        conn.send(("crashed", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


async def _in_worker(plan: _Plan) -> AsyncIterator[_Batch]:
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_work, args=(plan, theirs), daemon=True)
    proc.start()
    theirs.close()
    try:
        while True:
            msg = await asyncio.to_thread(_recv, ours)
            if msg is None:
                return
            if isinstance(msg, tuple):
                kind, text = msg
                if kind == "failed":
                    raise ImportFailed(text)
                raise RuntimeError(f"the import worker failed: {text}")
            yield msg
    finally:
        ours.close()
        if proc.is_alive():
            proc.terminate()
        await asyncio.to_thread(proc.join, 5)


def _recv(conn: mp.connection.Connection) -> object:
    try:
        return conn.recv()
    except EOFError:
        return ("crashed", "the worker process ended early")


async def _inline(plan: _Plan, batch: int) -> AsyncIterator[_Batch]:
    for b in parse(plan, batch):
        yield b
        await asyncio.sleep(0)  # let the bot answer others between batches


# --- the import -----------------------------------------------------------------------


async def import_file(
    db: aiosqlite.Connection,
    path: Path,
    *,
    preset: str | None = None,
    mapping: Path | None = None,
    skip_bad: bool = False,
    by_user: int | None = None,
    tz: ZoneInfo,
    progress: Callable[[int, int], None] | None = None,
    source_name: str | None = None,
    worker: bool | None = None,
) -> ImportSummary:
    """Import one export file in one transaction and say what changed.

    ``worker``: parse in a separate process (default: for CSV files of 16 MB or more on
    a machine with more than one core). Raises :class:`ImportFailed`; then nothing of the
    file is in the database.
    """
    started = time.perf_counter()
    path = Path(path)
    plan = plan_import(
        path, tz=tz, preset=preset, mapping=mapping, skip_bad=skip_bad, source_name=source_name
    )
    if worker is None:
        worker = bool(plan.encoding) and plan.size >= WORKER_THRESHOLD and (os.cpu_count() or 1) > 1
    batches = _in_worker(plan) if worker else _inline(plan, BATCH if plan.size > 4 << 20 else 5000)
    last: _Batch | None = None
    async with OrderImport(db) as imp:
        try:
            # The worker parses the next batch while this one is staged. Receiving is not
            # overlapped with staging on purpose: two GIL-bound threads (unpickling and
            # sqlite3's per-row binding, which drops the GIL at every step) convoy, and
            # staging then runs several times slower.
            async for b in batches:
                await imp.add_rows(b.rows)
                last = b
                if progress is not None:
                    progress(b.done, b.total)
        finally:
            await batches.aclose()
        assert last is not None
        if last.rows_read == 0:
            raise ImportFailed(f"{plan.source}: no orders in the file, only a header")
        if last.rows_read == last.rows_skipped:
            raise ImportFailed(
                f"{plan.source}: every row is bad, nothing imported; first: "
                f"{last.examples[0] if last.examples else '?'}"
            )
        counts = await imp.commit(
            source=plan.source,
            preset=plan.preset.name,
            rows_read=last.rows_read,
            rows_skipped=last.rows_skipped,
            by_user=by_user,
        )
    return ImportSummary(
        source=plan.source,
        preset=plan.preset.name,
        encoding=plan.encoding or "xlsx",
        rows_read=last.rows_read,
        orders_new=counts.orders_new,
        orders_updated=counts.orders_updated,
        orders_unchanged=counts.orders_unchanged,
        rows_skipped=last.rows_skipped,
        customers_new=counts.customers_new,
        customers_updated=counts.customers_updated,
        skipped_examples=last.examples,
        seconds=time.perf_counter() - started,
    )


def progress_bar(stream: IO[str] = sys.stderr) -> Callable[[int, int], None]:
    """A terminal progress bar (done / total, e.g. bytes), drawn only on a TTY."""
    if not (hasattr(stream, "isatty") and stream.isatty()):
        return lambda done, total: None
    state = {"shown": -1, "start": time.monotonic()}

    def draw(done: int, total: int) -> None:
        frac = min(1.0, done / total) if total else 1.0
        permille = int(frac * 1000)
        if permille == state["shown"]:
            return
        state["shown"] = permille
        width = 30
        filled = int(frac * width)
        elapsed = time.monotonic() - state["start"]
        eta = f" ETA {elapsed / frac - elapsed:4.0f}s" if 0.02 < frac < 1 else ""
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {frac * 100:5.1f}%{eta}   ")
        if frac >= 1:
            stream.write("\n")
        stream.flush()

    return draw
