"""SQL for the staff table: which Telegram users are agents (admins come from config)."""

from __future__ import annotations

import time

import aiosqlite


async def get_role(db: aiosqlite.Connection, user_id: int) -> str | None:
    async with db.execute("SELECT role FROM staff WHERE user_id = ?", (user_id,)) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


async def add_agent(db: aiosqlite.Connection, user_id: int, *, added_by: int) -> bool:
    """Make ``user_id`` an agent; False when they already were staff."""
    cur = await db.execute(
        "INSERT INTO staff (user_id, role, added_by, added_at) VALUES (?, 'agent', ?, ?) "
        "ON CONFLICT (user_id) DO NOTHING",
        (user_id, added_by, int(time.time())),
    )
    return cur.rowcount == 1


async def remove_agent(db: aiosqlite.Connection, user_id: int) -> bool:
    cur = await db.execute("DELETE FROM staff WHERE user_id = ? AND role = 'agent'", (user_id,))
    return cur.rowcount == 1


async def list_staff(db: aiosqlite.Connection) -> list[tuple[int, str, int | None, int]]:
    """(user_id, role, added_by, added_at) for every stored staff member, oldest first."""
    async with db.execute(
        "SELECT user_id, role, added_by, added_at FROM staff ORDER BY added_at, user_id"
    ) as cur:
        return [tuple(r) for r in await cur.fetchall()]
