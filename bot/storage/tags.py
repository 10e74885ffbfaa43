"""SQL for personal tags (个性标签): put on, take off, list, rename, merge.

Tag names arrive here already normalised (``bot.domain.tags.validate_tag``); the
shop's spelling (the first one anybody typed) is kept in ``tags.label`` for display.
Every change writes the audit trail in the same transaction, and nothing is ever
deleted from ``customer_tags``: removing a tag stamps ``removed_by``/``removed_at``,
renaming and merging move the history rows along with the live ones.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiosqlite

from bot.storage import audit

__all__ = [
    "TagStat",
    "add_tags",
    "bulk_add_tags",
    "customers_with_tag",
    "get_tag",
    "get_tag_by_rowid",
    "merge_tags",
    "remove_tag",
    "rename_tag",
    "tag_history",
    "tag_stats",
    "tags_of",
]


@asynccontextmanager
async def _transaction(db: aiosqlite.Connection):
    await db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    await db.execute("COMMIT")


async def _ensure_tags(
    db: aiosqlite.Connection, tags: Iterable[tuple[str, str]], by: int, now: int
) -> None:
    await db.executemany(
        "INSERT INTO tags (tag, label, created_by, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (tag) DO NOTHING",
        [(tag, label, by, now) for tag, label in tags],
    )


async def get_tag(db: aiosqlite.Connection, tag: str) -> aiosqlite.Row | None:
    """(rowid, tag, label, created_by, created_at) of a normalised tag name."""
    async with db.execute(
        "SELECT rowid, tag, label, created_by, created_at FROM tags WHERE tag = ?", (tag,)
    ) as cur:
        return await cur.fetchone()


async def get_tag_by_rowid(db: aiosqlite.Connection, rowid: int) -> aiosqlite.Row | None:
    """The same by the tag's short number (what buttons carry, it survives renames)."""
    async with db.execute(
        "SELECT rowid, tag, label, created_by, created_at FROM tags WHERE rowid = ?", (rowid,)
    ) as cur:
        return await cur.fetchone()


async def add_tags(
    db: aiosqlite.Connection,
    customer_id: int,
    tags: Sequence[tuple[str, str]],
    *,
    by: int,
) -> list[str]:
    """Put ``(tag, label)`` pairs on a customer; return the tags that were new on them."""
    now = int(time.time())
    added: list[str] = []
    async with _transaction(db):
        await _ensure_tags(db, tags, by, now)
        for tag, _ in tags:
            cur = await db.execute(
                "INSERT INTO customer_tags (customer_id, tag, added_by, added_at) "
                "SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM customer_tags "
                "WHERE customer_id = ? AND tag = ? AND removed_at IS NULL)",
                (customer_id, tag, by, now, customer_id, tag),
            )
            if cur.rowcount == 1:
                added.append(tag)
                await audit.record(db, by, "tag", customer_id=customer_id, detail=tag)
    return added


async def remove_tag(db: aiosqlite.Connection, customer_id: int, tag: str, *, by: int) -> bool:
    """Take a tag off a customer (the row stays as history); False if they did not carry it."""
    async with _transaction(db):
        cur = await db.execute(
            "UPDATE customer_tags SET removed_by = ?, removed_at = ? "
            "WHERE customer_id = ? AND tag = ? AND removed_at IS NULL",
            (by, int(time.time()), customer_id, tag),
        )
        removed = cur.rowcount == 1
        if removed:
            await audit.record(db, by, "untag", customer_id=customer_id, detail=tag)
    return removed


async def tags_of(db: aiosqlite.Connection, customer_id: int) -> list[aiosqlite.Row]:
    """The customer's live tags, oldest first: rowid, tag, label, added_by, added_at."""
    async with db.execute(
        "SELECT t.rowid, t.tag, t.label, ct.added_by, ct.added_at FROM customer_tags ct "
        "JOIN tags t ON t.tag = ct.tag WHERE ct.customer_id = ? AND ct.removed_at IS NULL "
        "ORDER BY ct.added_at, ct.id",
        (customer_id,),
    ) as cur:
        return list(await cur.fetchall())


async def tag_history(db: aiosqlite.Connection, customer_id: int) -> list[aiosqlite.Row]:
    """Every tag the customer ever carried: tag, label, added_by/at, removed_by/at."""
    async with db.execute(
        "SELECT ct.tag, t.label, ct.added_by, ct.added_at, ct.removed_by, ct.removed_at "
        "FROM customer_tags ct JOIN tags t ON t.tag = ct.tag WHERE ct.customer_id = ? "
        "ORDER BY ct.added_at, ct.id",
        (customer_id,),
    ) as cur:
        return list(await cur.fetchall())


@dataclass(frozen=True)
class TagStat:
    rowid: int
    tag: str
    label: str
    customers: int
    sales_fen: int


async def tag_stats(db: aiosqlite.Connection) -> tuple[list[TagStat], int]:
    """Every tag of the shop with how many customers carry it and their total spent,
    most carried first; and the shop's total sales (fen) to weigh each share against."""
    async with db.execute(
        "SELECT t.rowid, t.tag, t.label, count(c.id), coalesce(sum(c.total_spent_fen), 0) "
        "FROM tags t LEFT JOIN customer_tags ct ON ct.tag = t.tag AND ct.removed_at IS NULL "
        "LEFT JOIN customers c ON c.id = ct.customer_id "
        "GROUP BY t.tag ORDER BY count(c.id) DESC, t.label"
    ) as cur:
        stats = [TagStat(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in await cur.fetchall()]
    async with db.execute("SELECT coalesce(sum(total_spent_fen), 0) FROM customers") as cur:
        total = int((await cur.fetchone())[0])
    return stats, total


async def customers_with_tag(
    db: aiosqlite.Connection, tag: str, *, offset: int = 0, limit: int = 20
) -> tuple[int, list[aiosqlite.Row]]:
    """(how many carry ``tag``, one page of them: biggest spenders first)."""
    async with db.execute(
        "SELECT count(*) FROM customer_tags WHERE tag = ? AND removed_at IS NULL", (tag,)
    ) as cur:
        total = int((await cur.fetchone())[0])
    async with db.execute(
        "SELECT c.id, c.platform, c.buyer_id, c.paid_order_count, c.total_spent_fen, "
        "c.last_purchase_at, ct.added_by, ct.added_at FROM customer_tags ct "
        "JOIN customers c ON c.id = ct.customer_id WHERE ct.tag = ? AND ct.removed_at IS NULL "
        "ORDER BY c.total_spent_fen DESC, c.id LIMIT ? OFFSET ?",
        (tag, limit, offset),
    ) as cur:
        return total, list(await cur.fetchall())


async def bulk_add_tags(
    db: aiosqlite.Connection,
    where_sql: str,
    where_params: Sequence[int | str],
    tags: Sequence[tuple[str, str]],
    *,
    by: int,
    from_sql: str = "customers c",
    from_params: Sequence[int | str] = (),
) -> int:
    """Put tags on every customer matching a compiled audience fragment (over ``c``).

    Returns how many (customer, tag) pairs were new. One transaction; one audit row
    per pair, like a tag added by hand.
    """
    now = int(time.time())
    added = 0
    async with _transaction(db):
        await _ensure_tags(db, tags, by, now)
        for tag, _ in tags:
            async with db.execute(
                f"SELECT c.id FROM {from_sql} WHERE {where_sql} AND NOT EXISTS "
                "(SELECT 1 FROM customer_tags x WHERE x.customer_id = c.id AND x.tag = ? "
                "AND x.removed_at IS NULL)",
                (*from_params, *where_params, tag),
            ) as cur:
                ids = [int(r[0]) for r in await cur.fetchall()]
            await db.executemany(
                "INSERT INTO customer_tags (customer_id, tag, added_by, added_at) "
                "VALUES (?, ?, ?, ?)",
                [(cid, tag, by, now) for cid in ids],
            )
            await db.executemany(
                "INSERT INTO audit_log (at, user_id, action, customer_id, detail) "
                "VALUES (?, ?, 'tag', ?, ?)",
                [(now, by, cid, f"{tag} (bulk)") for cid in ids],
            )
            added += len(ids)
    return added


async def rename_tag(
    db: aiosqlite.Connection, old: str, new: str, new_label: str, *, by: int
) -> bool:
    """Give tag ``old`` a new name (and label); every customer row, history too, follows.

    ``new`` must not be another existing tag (merge instead). False if ``old`` is unknown.
    """
    async with _transaction(db):
        cur = await db.execute(
            "UPDATE tags SET tag = ?, label = ? WHERE tag = ?", (new, new_label, old)
        )
        if cur.rowcount != 1:
            return False
        # customer_tags.tag follows by ON UPDATE CASCADE
        await audit.record(db, by, "tag_rename", detail=f"{old} -> {new}")
    return True


async def merge_tags(db: aiosqlite.Connection, source: str, into: str, *, by: int) -> int:
    """Fold tag ``source`` into ``into``: its customers carry ``into`` instead; its history
    rows are kept under ``into``; ``source`` disappears. Returns customers newly given
    ``into``. Both tags must exist."""
    now = int(time.time())
    async with _transaction(db):
        # customers with both: the source row is closed, it stays as history
        await db.execute(
            "UPDATE customer_tags SET removed_by = ?, removed_at = ? "
            "WHERE tag = ? AND removed_at IS NULL AND customer_id IN "
            "(SELECT customer_id FROM customer_tags WHERE tag = ? AND removed_at IS NULL)",
            (by, now, source, into),
        )
        async with db.execute(
            "SELECT count(*) FROM customer_tags WHERE tag = ? AND removed_at IS NULL", (source,)
        ) as cur:
            moved = int((await cur.fetchone())[0])
        await db.execute("UPDATE customer_tags SET tag = ? WHERE tag = ?", (into, source))
        await db.execute("DELETE FROM tags WHERE tag = ?", (source,))
        await audit.record(db, by, "tag_merge", detail=f"{source} -> {into}")
    return moved
