"""SQL for finding the customer an agent means by a ``<buyer>`` argument.

``find_by_key`` tries, in order, and stops at the first kind that matches:
the exact buyer id (on any platform), ``platform:buyer_id``, the exact order id
(the order's customer), the exact phone number (the archive's or an order's
receiver phone, spaces and dashes ignored). No fuzzy matching here: a tag or a note
must land on exactly the customer the agent named.
"""

from __future__ import annotations

import re

import aiosqlite

__all__ = ["find_by_key", "get"]

_PHONE_JUNK = re.compile(r"[\s\-().]")


async def _rows(db: aiosqlite.Connection, sql: str, params: tuple) -> list[aiosqlite.Row]:
    async with db.execute(sql, params) as cur:
        return list(await cur.fetchall())


async def get(db: aiosqlite.Connection, customer_id: int) -> aiosqlite.Row | None:
    async with db.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)) as cur:
        return await cur.fetchone()


async def find_by_key(db: aiosqlite.Connection, text: str) -> list[aiosqlite.Row]:
    """Customers (``customers`` rows) the key names; empty when none, several if ambiguous."""
    key = text.strip()
    if not key:
        return []
    found = await _rows(db, "SELECT * FROM customers WHERE buyer_id = ? ORDER BY id", (key,))
    if found:
        return found
    platform, sep, buyer = key.partition(":")
    if sep and platform and buyer:
        found = await _rows(
            db,
            "SELECT * FROM customers WHERE platform = ? AND buyer_id = ? ORDER BY id",
            (platform.strip().lower(), buyer.strip()),
        )
        if found:
            return found
    found = await _rows(
        db,
        "SELECT DISTINCT c.* FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE o.order_id = ? ORDER BY c.id",
        (key,),
    )
    if found:
        return found
    phone = _PHONE_JUNK.sub("", key)
    if len(phone) >= 5 and phone.lstrip("+").isdigit():
        found = await _rows(
            db,
            "SELECT * FROM customers WHERE phone = ? "
            "UNION SELECT c.* FROM orders o JOIN customers c ON c.id = o.customer_id "
            "WHERE o.receiver_phone = ? ORDER BY id",
            (phone, phone),
        )
    return found
