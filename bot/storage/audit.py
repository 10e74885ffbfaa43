"""SQL for the audit trail: who looked up, tagged or noted which customer, when."""

from __future__ import annotations

import time

import aiosqlite


async def record(
    db: aiosqlite.Connection,
    user_id: int,
    action: str,
    *,
    customer_id: int | None = None,
    detail: str = "",
) -> None:
    await db.execute(
        "INSERT INTO audit_log (at, user_id, action, customer_id, detail) VALUES (?, ?, ?, ?, ?)",
        (int(time.time()), user_id, action, customer_id, detail),
    )


async def recent(
    db: aiosqlite.Connection,
    *,
    user_id: int | None = None,
    customer_id: int | None = None,
    limit: int = 20,
) -> list[aiosqlite.Row]:
    """Newest first, with the customer's buyer id; filtered by agent and/or customer."""
    where, params = [], []
    if user_id is not None:
        where.append("a.user_id = ?")
        params.append(user_id)
    if customer_id is not None:
        where.append("a.customer_id = ?")
        params.append(customer_id)
    sql = (
        "SELECT a.at, a.user_id, a.action, a.customer_id, a.detail, c.buyer_id, c.platform "
        "FROM audit_log a LEFT JOIN customers c ON c.id = a.customer_id"
    )
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY a.id DESC LIMIT ?"
    async with db.execute(sql, (*params, limit)) as cur:
        return list(await cur.fetchall())
