"""SQL for reading the customer archive."""

from __future__ import annotations

import aiosqlite


async def get_by_buyer_id(
    db: aiosqlite.Connection, buyer_id: str, platform: str | None = None
) -> aiosqlite.Row | None:
    sql = "SELECT * FROM customers WHERE buyer_id = ?"
    params: tuple = (buyer_id,)
    if platform is not None:
        sql += " AND platform = ?"
        params += (platform,)
    async with db.execute(sql + " ORDER BY id LIMIT 1", params) as cur:
        return await cur.fetchone()


async def archive_counts(db: aiosqlite.Connection) -> tuple[int, int]:
    """(customers, orders) in the archive."""
    async with db.execute(
        "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM orders)"
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]), int(row[1])
