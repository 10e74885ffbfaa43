"""Opening the database: pragmas and migrations. The only module that knows how."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import aiosqlite

from bot.storage.migrations import MIGRATIONS


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
