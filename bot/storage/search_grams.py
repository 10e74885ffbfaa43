"""SQL for the search grams behind /find and /whois by phone and name, kept in bulk.

Migration 0004 keeps ``search_grams`` current with a trigger per customer row; an
import would fire them hundreds of thousands of times, so it suspends them for its
transaction, refreshes the touched customers' grams in one sorted pass, and restores
the triggers, as they were, before it commits (DDL is transactional: a rollback
restores them too).

    triggers = await suspend_triggers(db)
    await remember_touched(db)        # before the names and phones change
    ...                               # update customers in temp.touched
    await refresh_touched(db, triggers)
"""

from __future__ import annotations

import aiosqlite

TRIGGERS = ("search_grams_insert", "search_grams_update")


async def suspend_triggers(db: aiosqlite.Connection) -> list[str]:
    """Drop the per-row triggers; return their SQL (empty before migration 0004)."""
    async with db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?)", TRIGGERS
    ) as cur:
        triggers = [row[0] for row in await cur.fetchall()]
    for name in TRIGGERS:
        await db.execute(f"DROP TRIGGER IF EXISTS {name}")
    return triggers


async def remember_touched(db: aiosqlite.Connection) -> None:
    """Keep the names and phones of ``temp.touched`` customers, whose grams will go."""
    await db.execute("DROP TABLE IF EXISTS temp.old_profile")
    await db.execute(
        "CREATE TEMP TABLE old_profile AS SELECT id, name, phone FROM customers "
        "WHERE id IN (SELECT id FROM temp.touched) AND (name != '' OR phone != '')"
    )


def grams_sql(src: str) -> str:
    """``SELECT gram, cid``: the search grams of ``src``'s rows (id, name, phone).

    The same grams as migration 0004's triggers make (see its comment for what they are).
    """
    ph = "c.phone"
    for ch in (" ", "-", "+", "(", ")", "."):
        ph = f"replace({ph}, '{ch}', '')"
    # phone digits and name normalised once per customer, not once per gram
    return (
        f"WITH g AS MATERIALIZED (SELECT c.id, {ph} AS ph, lower(trim(c.name)) AS nm "
        f"FROM {src} c) "
        "SELECT 'P' || ph AS gram, id AS cid FROM g WHERE length(ph) >= 4 "
        "UNION ALL SELECT 'p' || substr(ph, p.i, 4), id "
        "FROM g CROSS JOIN search_positions p WHERE p.i <= length(ph) - 3 "
        "UNION ALL SELECT 'N' || nm, id FROM g WHERE nm != '' "
        "UNION ALL SELECT 't' || substr(nm, p.i, 3), id "
        "FROM g CROSS JOIN search_positions p WHERE p.i <= length(nm) - 2 "
        "UNION ALL SELECT 'b' || substr(nm, p.i, 2), id "
        "FROM g CROSS JOIN search_positions p WHERE p.i <= length(nm) - 1 "
        "AND length(nm) != length(CAST(nm AS BLOB))"
    )


async def _refresh(db: aiosqlite.Connection) -> None:
    """Search grams of the customers in ``temp.touched`` whose name or phone changed.

    ``temp.old_profile`` holds their (id, name, phone) before the import changed them:
    the grams of a changed profile go, then the grams of the new ones are inserted in
    gram order (sorted inserts into the WITHOUT ROWID b-tree). A repeat buyer whose
    name and phone stayed as they were keeps the grams they had.
    """
    changed = "(o.name IS NOT c.name OR o.phone IS NOT c.phone)"
    gone = (
        "(SELECT o.id, o.name, o.phone FROM temp.old_profile o "
        f"JOIN customers c ON c.id = o.id WHERE {changed})"
    )
    # deleted by whole key, in chunks: `(gram, customer_id) IN (SELECT ...)` seeks by gram
    # alone and reads every customer of a common gram (a surname, four phone digits)
    async with db.execute(f"SELECT gram, cid FROM ({grams_sql(gone)})") as cur:
        while chunk := await cur.fetchmany(50_000):
            await db.executemany(
                "DELETE FROM search_grams WHERE gram = ? AND customer_id = ?", chunk
            )
    # CROSS JOIN: by the touched customers (the planner would read every customer)
    new = (
        "(SELECT c.id, c.name, c.phone FROM temp.touched t CROSS JOIN customers c ON c.id = t.id "
        "LEFT JOIN temp.old_profile o ON o.id = t.id "
        f"WHERE (c.name != '' OR c.phone != '') AND (o.id IS NULL OR {changed}))"
    )
    await db.execute(
        "INSERT OR IGNORE INTO search_grams (gram, customer_id) "
        f"SELECT gram, cid FROM ({grams_sql(new)}) ORDER BY gram, cid"
    )


async def refresh_touched(db: aiosqlite.Connection, triggers: list[str]) -> None:
    """Refresh the touched customers' grams, then restore the suspended triggers."""
    if triggers:  # a database older than migration 0004 has no search grams
        await _refresh(db)
    for sql in triggers:
        await db.execute(sql)
    await db.execute("DROP TABLE temp.old_profile")
