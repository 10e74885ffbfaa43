"""Opening the database (pragmas, migrations), dropping indexes around bulk writes, and
checkpointing the write-ahead log off the writer's path."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.migrations import MIGRATIONS

#: read the file through memory mapping: full passes over a large shop's orders run about
#: 15 % faster and random index reads need no system call per page (SQLite caps the size
#: at its compile-time maximum)
MMAP = "PRAGMA mmap_size = 17179869184"
#: page cache of a connection, KiB
CACHE_KIB = 65536
#: pages of write-ahead log after which a commit copies the log into the file (SQLite's
#: default); an import turns this off and has it done on another connection (checkpoint_soon)
AUTOCHECKPOINT = 1000
#: how long a statement waits for another connection's write to end, ms
BUSY_TIMEOUT_MS = 5000
#: how long a large write (an import, a segment refresh) waits for another one to end,
#: seconds: a refresh of a million customers writes for ~20 s, an import of a million
#: orders as long
WRITER_WAIT_S = 60

log = logging.getLogger(__name__)


class SchemaTooNew(RuntimeError):
    """The database was written by a newer kefu than this one."""


class ArchiveBusy(RuntimeError):
    """Another connection kept writing for ``seconds``, as long as this one would wait:
    nothing written."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"another connection kept writing for {seconds} s")
        self.seconds = seconds


async def begin_write(db: aiosqlite.Connection) -> None:
    """``BEGIN IMMEDIATE`` for a large write (an import, a segment refresh or snapshot):
    take the write lock, waiting up to WRITER_WAIT_S for another writer rather than the
    few seconds a query waits; :class:`ArchiveBusy` when the other is still at it."""
    wait_s = WRITER_WAIT_S
    await db.execute(f"PRAGMA busy_timeout = {int(wait_s * 1000)}")
    try:
        await db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
            raise
        raise ArchiveBusy(wait_s) from None
    finally:
        await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


async def open_db(
    path: Path | str, *, migrations: Sequence[str] = MIGRATIONS
) -> aiosqlite.Connection:
    """Open (creating if needed) the database at ``path`` and bring its schema up to date.

    The connection is in autocommit mode; writers open explicit transactions.
    """
    db = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await db.execute("PRAGMA temp_store = MEMORY")
        await db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        await db.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT}")
        await migrate(db, migrations)
    except BaseException:
        await db.close()
        raise
    return db


async def schema_version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0])


async def migrate(db: aiosqlite.Connection, migrations: Sequence[str] = MIGRATIONS) -> int:
    """Apply the migrations after the database's version, each in its own transaction."""
    version = await schema_version(db)
    if version > len(migrations):
        raise SchemaTooNew(
            f"this database has schema version {version}, newer than this kefu knows "
            f"({len(migrations)}); upgrade kefu"
        )
    for number, script in enumerate(migrations[version:], start=version + 1):
        # executescript commits first; wrap the script and its version bump in one transaction
        await db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    return len(migrations)


async def drop_indexes(
    db: aiosqlite.Connection, table: str, names: Sequence[str] | None = None
) -> list[str]:
    """Drop ``table``'s indexes (``names`` only, if given; never a constraint's own index).

    Returns their CREATE statements, to build them again after a bulk write, in the same
    transaction (DDL is transactional: a rollback brings them back too).
    """
    only = f" AND name IN ({', '.join('?' * len(names))})" if names is not None else ""
    async with db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        f"AND sql IS NOT NULL{only} ORDER BY name",
        (table, *(names or ())),
    ) as cur:
        indexes = await cur.fetchall()
    for name, _ in indexes:
        await db.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in indexes]


async def file_path(db: aiosqlite.Connection) -> str:
    """The main database's file ('' when it lives in memory)."""
    async with db.execute("PRAGMA database_list") as cur:
        rows = await cur.fetchall()
    return next((r[2] for r in rows if r[1] == "main"), "") or ""


#: work under way on connections of their own (see checkpoint_soon, prefetch_soon); a
#: reference keeps each task alive
_BACKGROUND: set[asyncio.Task[None]] = set()


#: a statement, or a statement and its parameters
Statement = str | tuple[str, Sequence[Any]]


def _run_all(path: str, sqls: Sequence[Statement]) -> None:
    con = sqlite3.connect(path, isolation_level=None, timeout=5)
    try:
        for sql in sqls:
            con.execute(*((sql,) if isinstance(sql, str) else sql)).fetchall()
    finally:
        con.close()


def _soon(path: str, sqls: Sequence[Statement], what: str) -> None:
    """Run ``sqls`` on a connection of its own, in a thread, without delaying the caller;
    a failure is logged."""

    async def run() -> None:
        try:
            await asyncio.to_thread(_run_all, path, sqls)
        except sqlite3.Error as exc:
            log.warning("%s of %s failed: %s", what, path, exc)

    task = asyncio.get_running_loop().create_task(run())
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


def checkpoint_soon(path: str) -> None:
    """Copy the write-ahead log into the database file, on a connection of its own in a
    thread, without delaying the caller.

    After a large write (an import touches tens of thousands of pages) the automatic
    checkpoint would run inside COMMIT and double its time; done here, the one who
    imported has the answer first, and readers and writers go on meanwhile (a passive
    checkpoint waits for no one). A failure only leaves the log longer: it is logged.
    """
    _soon(path, ["PRAGMA wal_checkpoint(PASSIVE)"], "checkpoint")


def prefetch_soon(path: str, scans: Sequence[Statement]) -> None:
    """Run the read-only ``scans`` (whole small indexes) on a connection of their own in a
    thread, so that the caller's random reads in them find their pages in the system's
    file cache. An index read whole from a cold disk is read ahead in large pieces
    (60 MB in 0.36 s here) where its pages one by one cost a seek each (~0.19 ms on this
    machine's disk: 8,500 of them in a day's import); on a warm cache it is ~0.05 s of
    the other core."""
    _soon(path, scans, "prefetch")


async def checkpoints_done() -> None:
    """Wait for the work started by checkpoint_soon and prefetch_soon (before a program
    exits)."""
    while _BACKGROUND:
        await asyncio.gather(*_BACKGROUND)
