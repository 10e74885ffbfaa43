"""Importing one export file: detect, parse in a stream, stage, commit, summarise.

    summary = await import_file(db, Path("orders.csv"), tz=ZoneInfo("Asia/Shanghai"))

The file is read row by row (never whole) and added in batches into one
transaction (:class:`bot.storage.order_import.OrderImport`): a bad row fails the whole
file unless ``skip_bad``. A large CSV file is cut in two at a record boundary
(:mod:`bot.importers.split`): a worker process parses the larger, later part into a
spool file of batches (``marshal``: three times faster than pickle here) while this
process parses and writes the first part; then this process writes the worker's
batches as they come (after the first part, so that a later row of an order still
wins). Writing every row costs this process about as much as parsing 40 % of the file,
hence the cut at :data:`FIRST_PART` of the file, where both finish together.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import csv
import io
import itertools
import marshal
import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
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
from bot.importers.split import ByteRange, split_point
from bot.importers.xlsx import open_xlsx
from bot.storage.db import ArchiveBusy
from bot.storage.order_import import OrderImport

PRESETS: tuple[str, ...] = _presets.PRESETS
BATCH = 20_000
#: rows a batch of a file under 4 MB
SMALL_BATCH = 5000
#: CSV files at least this big are parsed by two processes
WORKER_THRESHOLD = 16 << 20
#: the share of a split file this process parses itself (it also writes every row)
FIRST_PART = 0.3
EXAMPLES = 5
csv.field_size_limit(1 << 24)


class ImportFailed(Exception):
    """The file was not imported (nothing of it was written); ``str()`` says why and what to do.

    A message about one row holds ``{row}`` and the row number in ``row``: a worker that
    parses a later part of the file counts rows from its part's start.
    """

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.row = row

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return self.message.replace("{row}", str(self.row))

    def shifted(self, rows: int) -> ImportFailed:
        return self if self.row is None else ImportFailed(self.message, self.row + rows)


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
    #: the part of a CSV file to parse: bytes [start, end) (a part after the first
    #: has no header of its own: the header is read from the file's start)
    start: int = 0
    end: int | None = None


# --- reading ------------------------------------------------------------------------


def _open_csv(
    path: Path, encoding: str, start: int = 0, end: int | None = None
) -> tuple[IO[bytes], Iterator[list[str]]]:
    raw = open(path, "rb", buffering=1 << 20)  # noqa: SIM115 - closed by the caller
    stream: IO[bytes] = raw
    if start or end is not None:
        raw.seek(start)
        stream = io.BufferedReader(ByteRange(raw, end if end is not None else 1 << 62), 1 << 20)
    text = io.TextIOWrapper(stream, encoding=codec_for(encoding), newline="")
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
    examples: list[tuple[int, str]]  # (row, what)
    row: int  # the row number of the last record read


def parse(plan: _Plan, batch: int = BATCH) -> Iterator[_Batch]:
    """Staged rows of the file, in batches. Raises ImportFailed on the first bad row
    (unless ``skip_bad``: then bad rows are counted and the first few described)."""
    tz = ZoneInfo(plan.tz_name)
    source = plan.source
    raw: IO[bytes] | None = None
    if plan.encoding:
        if plan.start:
            header = _header(plan.path, source, plan.encoding)
            raw, rows = _open_csv(plan.path, plan.encoding, plan.start, plan.end)
            rows = itertools.chain([header], rows)
        else:
            raw, rows = _open_csv(plan.path, plan.encoding, 0, plan.end)
        total = plan.end if plan.end is not None else plan.size
        # the reader lets go of (and so closes) the file once it has read it all
        position = lambda: total if raw.closed else raw.tell()  # noqa: E731
    else:
        total, rows = open_xlsx(plan.path)
        position = None
    convert, lines = converter(plan.preset, next(rows, []), tz)
    state = {"read": 0, "skipped": 0, "row": 1}
    examples: list[tuple[int, str]] = []

    def bad(rownum: int, what: str) -> None:
        if not plan.skip_bad:
            raise ImportFailed(
                f"{source} row {{row}}, {what}; fix the row or use --skip-bad", rownum
            )
        state["skipped"] += 1
        if len(examples) < EXAMPLES:
            examples.append((rownum, what))

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
                f"{source}: bytes near row {{row}} are not valid {plan.encoding}; "
                "export the file again as UTF-8 or GBK",
                rownum + 1,
            ) from None
        except csv.Error as exc:
            raise ImportFailed(f"{source} row {{row}}: {exc}", rownum + 1) from None
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
                yield _Batch(
                    out, done, total, state["read"], state["skipped"], list(examples), state["row"]
                )
                out = []
                append = out.append
        done = total if position else state["row"]
        yield _Batch(
            out, done, total, state["read"], state["skipped"], list(examples), state["row"]
        )
    finally:
        if raw is not None:
            raw.close()
        else:
            rows.close()  # type: ignore[attr-defined]


# --- the second part of a split file, in a worker process ----------------------------


def _work(
    plan: _Plan, spool: str, conn: mp.connection.Connection, batch: int
) -> None:  # pragma: no cover
    """Parse ``plan``'s part into ``spool`` (batches); say how it went on ``conn``."""
    try:
        last = None
        with open(spool, "wb") as f:
            for b in parse(plan, batch):
                marshal.dump(b.rows, f)  # rows are tuples of str, int and None
                f.flush()
                conn.send(("batch", f.tell(), b.done))
                last = b
        assert last is not None
        conn.send(("done", last.rows_read, last.rows_skipped, last.examples))
    except ImportFailed as exc:
        conn.send(("failed", exc.message, exc.row))
    except BaseException as exc:
        conn.send(("crashed", f"{type(exc).__name__}: {exc}", None))
    finally:
        conn.close()


class _Worker:
    """The later part of a split file, parsed by another process while this one writes."""

    def __init__(self, plan: _Plan, batch: int) -> None:
        fd, self._spool = tempfile.mkstemp(prefix="kefu-import-", suffix=".rows")
        os.close(fd)
        ctx = mp.get_context("spawn")
        self._conn, theirs = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=_work, args=(plan, self._spool, theirs, batch), daemon=True
        )
        self._proc.start()
        theirs.close()
        self._msg: tuple | None = None  # the last word: done, failed or crashed
        #: (spool end, file bytes read) of each batch written and not yet taken
        self._marks: collections.deque[tuple[int, int]] = collections.deque()
        #: the file's bytes whose rows have been taken from the spool
        self.done = plan.start

    def _take(self, msg: tuple) -> None:
        if msg[0] == "batch":
            self._marks.append(msg[1:])
        else:
            self._msg = msg

    def check(self) -> None:
        """Raise at once if the worker has already failed (without waiting for it)."""
        while self._msg is None and self._conn.poll():
            self._take(_recv(self._conn))
        if self._msg is not None and self._msg[0] != "done":
            self._raise(0)

    async def batches(self, rows_before: int) -> AsyncIterator[list[tuple]]:
        """The worker's batches as it writes them; its rows follow ``rows_before``."""
        with open(self._spool, "rb") as f:
            while True:
                if self._marks:
                    end, self.done = self._marks.popleft()
                    # loads of the batch's bytes: marshal.load(f) reads the file a few
                    # bytes at a time (7.5 s instead of 1.5 s for 900,000 rows)
                    yield marshal.loads(f.read(end - f.tell()))
                    continue
                if self._msg is not None:
                    break
                self._take(await asyncio.to_thread(_recv, self._conn))
        assert self._msg is not None
        if self._msg[0] != "done":
            self._raise(rows_before)

    def result(self, rows_before: int) -> tuple[int, int, list[tuple[int, str]]]:
        """(rows read, rows skipped, examples) of the part, once its batches are read."""
        assert self._msg is not None and self._msg[0] == "done"
        _, read, skipped, examples = self._msg
        return read, skipped, [(row + rows_before, what) for row, what in examples]

    def _raise(self, rows_before: int) -> None:
        assert self._msg is not None
        kind, message, row = self._msg
        if kind == "failed":
            raise ImportFailed(message, row).shifted(rows_before)
        raise RuntimeError(f"the import worker failed: {message}")

    async def close(self) -> None:
        self._conn.close()
        if self._proc.is_alive():
            self._proc.terminate()
        await asyncio.to_thread(self._proc.join, 5)
        Path(self._spool).unlink(missing_ok=True)


def _recv(conn: mp.connection.Connection) -> tuple:
    try:
        return conn.recv()
    except EOFError:
        return ("crashed", "the worker process ended early", None)


def _parts(plan: _Plan, parallel: bool | None) -> tuple[_Plan, _Plan | None]:
    """The file as (first part, second part or None), cut where two processes pay off."""
    if parallel is None:
        parallel = plan.size >= WORKER_THRESHOLD and (os.cpu_count() or 1) > 1
    # line-item exports are not cut: an order's lines must stay together
    if not (parallel and plan.encoding and not plan.preset.line_items):
        return plan, None
    cut = split_point(plan.path, plan.size, FIRST_PART)
    if cut is None:
        return plan, None
    return replace(plan, end=cut), replace(plan, start=cut)


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

    ``worker``: cut the file in two and parse the second part in another process
    (default: CSV files of 16 MB or more on a machine with more than one core).
    Raises :class:`ImportFailed`; then nothing of the file is in the database.
    """
    started = time.perf_counter()
    path = Path(path)
    plan = plan_import(
        path, tz=tz, preset=preset, mapping=mapping, skip_bad=skip_bad, source_name=source_name
    )
    first, second = _parts(plan, worker)
    batch = BATCH if plan.size > 4 << 20 else SMALL_BATCH
    size = plan.size
    async with contextlib.AsyncExitStack() as stack:
        try:
            imp = await stack.enter_async_context(OrderImport(db))
        except ArchiveBusy as exc:
            raise ImportFailed(
                f"{plan.source}: the archive is busy (another import or a segment refresh "
                f"has been writing to it for {exc.seconds} s); try again in a minute"
            ) from None
        helper = _Worker(second, batch) if second is not None else None
        try:
            last: _Batch | None = None
            for b in parse(first, batch):
                await imp.add_rows(b.rows)
                last = b
                if progress is not None:
                    progress(b.done, size if plan.encoding else b.total)
                if helper is not None:
                    helper.check()
                await asyncio.sleep(0)  # let the bot answer others between batches
            assert last is not None
            read, skipped, examples = last.rows_read, last.rows_skipped, list(last.examples)
            if helper is not None:
                # the worker's part follows this one: its row numbers count on from here
                async for rows in helper.batches(last.row - 1):
                    await imp.add_rows(rows)
                    if progress is not None:
                        progress(helper.done, size)
                more, more_skipped, more_examples = helper.result(last.row - 1)
                read += more
                skipped += more_skipped
                examples += more_examples
        finally:
            if helper is not None:
                await helper.close()
        described = [f"row {row}, {what}" for row, what in examples[:EXAMPLES]]
        if read == 0:
            raise ImportFailed(f"{plan.source}: no orders in the file, only a header")
        if read == skipped:
            raise ImportFailed(
                f"{plan.source}: every row is bad, nothing imported; first: "
                f"{described[0] if described else '?'}"
            )
        counts = await imp.commit(
            source=plan.source,
            preset=plan.preset.name,
            rows_read=read,
            rows_skipped=skipped,
            by_user=by_user,
        )
    return ImportSummary(
        source=plan.source,
        preset=plan.preset.name,
        encoding=plan.encoding or "xlsx",
        rows_read=read,
        orders_new=counts.orders_new,
        orders_updated=counts.orders_updated,
        orders_unchanged=counts.orders_unchanged,
        rows_skipped=skipped,
        customers_new=counts.customers_new,
        customers_updated=counts.customers_updated,
        skipped_examples=described,
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
