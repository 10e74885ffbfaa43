"""SQL for agents' notes on a customer: dated, never edited, newest first."""

from __future__ import annotations

import time

import aiosqlite

from bot.storage import audit

__all__ = ["add_note", "count_notes", "latest_note", "notes_of"]


async def add_note(db: aiosqlite.Connection, customer_id: int, text: str, *, author: int) -> int:
    """Store a note (and its audit row, in one transaction); return its id."""
    now = int(time.time())
    await db.execute("BEGIN IMMEDIATE")
    try:
        cur = await db.execute(
            "INSERT INTO notes (customer_id, author, text, created_at) VALUES (?, ?, ?, ?)",
            (customer_id, author, text, now),
        )
        note_id = int(cur.lastrowid)
        await audit.record(db, author, "note", customer_id=customer_id, detail=f"#{note_id}")
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    await db.execute("COMMIT")
    return note_id


async def notes_of(
    db: aiosqlite.Connection, customer_id: int, *, limit: int | None = None
) -> list[aiosqlite.Row]:
    """id, author, text, created_at; newest first."""
    async with db.execute(
        "SELECT id, author, text, created_at FROM notes WHERE customer_id = ? "
        "ORDER BY created_at DESC, id DESC LIMIT ?",
        (customer_id, -1 if limit is None else limit),
    ) as cur:
        return list(await cur.fetchall())


async def latest_note(db: aiosqlite.Connection, customer_id: int) -> aiosqlite.Row | None:
    """The newest note (for the profile card), or None."""
    rows = await notes_of(db, customer_id, limit=1)
    return rows[0] if rows else None


async def count_notes(db: aiosqlite.Connection, customer_id: int) -> int:
    async with db.execute("SELECT count(*) FROM notes WHERE customer_id = ?", (customer_id,)) as c:
        return int((await c.fetchone())[0])
