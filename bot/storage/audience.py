"""SQL for audiences: which customers an audience expression selects, and a breakdown.

The expression (``bot.domain.audience``) is compiled by
``bot.storage.audience_sql.compile_where`` against the column map below, over
``customers`` aliased ``c``. Fields map to columns:

- ``orders`` -> paid (counted) orders, ``spent`` -> total spent (fen);
- ``days_since_last`` -> calendar days, in the shop's time zone, since the last counted
  purchase; computed in a sub-select from ``last_purchase_at`` with "today" passed as
  a parameter (the shop's UTC offset of today is used for the purchase day as well);
  customers who never bought have no value (so ``days_since_last > 30`` leaves them out);
- ``class``, ``rfm``, ``abc``, ``price`` -> ``value_class``, ``rfm_cell``, ``abc_class``,
  ``price_level``, written by the segmentation refresh; ``tier`` and ``segment`` ->
  columns of those names, which no migration defines yet.

A segment field is usable only when its column exists and the segmentation has
filled it for someone; otherwise compiling raises ``SegmentsNotComputed`` (the
handler answers one line instead of counting everybody as "no value").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import aiosqlite

from bot.domain.audience import And, Compare, Expr, Not, Or
from bot.storage.audience_sql import compile_where

__all__ = [
    "AudienceSummary",
    "CompiledAudience",
    "SEGMENT_COLUMNS",
    "SegmentsNotComputed",
    "compile_audience",
    "count",
    "customer_ids",
    "summarize",
]

#: Fields the archive's own aggregates answer.
BASE_COLUMNS: dict[str, str] = {
    "orders": "c.paid_order_count",
    "spent": "c.total_spent_fen",
    "days_since_last": "c.kefu_days_since_last",
}
#: Fields the segmentation writes: field -> column of ``customers``.
SEGMENT_COLUMNS: dict[str, str] = {
    "class": "value_class",
    "rfm": "rfm_cell",
    "abc": "abc_class",
    "price": "price_level",
    "tier": "tier",
    "segment": "segment",
}
_FROM = (
    "(SELECT *, CASE WHEN last_purchase_at IS NULL THEN NULL "
    "ELSE ? - (last_purchase_at + ?) / 86400 END AS kefu_days_since_last FROM customers) c"
)


class SegmentsNotComputed(LookupError):
    """The expression tests segment fields that have no values yet."""

    def __init__(self, fields: Sequence[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = list(fields)


@dataclass(frozen=True)
class CompiledAudience:
    """``SELECT … FROM {from_sql} WHERE {where}`` with ``(*from_params, *where_params)``."""

    from_sql: str
    from_params: tuple[int, ...]
    where: str
    where_params: tuple[int | str, ...]

    @property
    def params(self) -> tuple[int | str, ...]:
        return (*self.from_params, *self.where_params)


def _fields_in(expr: Expr) -> set[str]:
    if isinstance(expr, Compare):
        return {expr.field}
    if isinstance(expr, Not):
        return _fields_in(expr.operand)
    if isinstance(expr, And | Or):
        return set().union(*(_fields_in(p) for p in expr.parts))
    return set()


def local_day(ts: int, tz: ZoneInfo) -> int:
    """Days since 1970-01-01 in the shop's time zone, of UTC unix time ``ts``."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).astimezone(tz).date().toordinal() - 719163


async def _segment_columns_ready(db: aiosqlite.Connection, fields: set[str]) -> list[str]:
    """The segment fields among ``fields`` that cannot be answered yet."""
    wanted = sorted(f for f in fields if f in SEGMENT_COLUMNS)
    if not wanted:
        return []
    async with db.execute("PRAGMA table_info(customers)") as cur:
        present = {row[1] for row in await cur.fetchall()}
    missing = []
    for field in wanted:
        column = SEGMENT_COLUMNS[field]
        if column not in present:
            missing.append(field)
            continue
        # the column name comes from SEGMENT_COLUMNS, never from the user
        async with db.execute(f"SELECT 1 FROM customers WHERE {column} IS NOT NULL LIMIT 1") as cur:
            if await cur.fetchone() is None:
                missing.append(field)
    return missing


async def compile_audience(
    db: aiosqlite.Connection, expr: Expr, *, now: int, tz: ZoneInfo
) -> CompiledAudience:
    """Compile ``expr`` for this database; raise ``SegmentsNotComputed`` when it can't say."""
    missing = await _segment_columns_ready(db, _fields_in(expr))
    if missing:
        raise SegmentsNotComputed(missing)
    columns = dict(BASE_COLUMNS)
    columns.update({f: f"c.{col}" for f, col in SEGMENT_COLUMNS.items()})
    where, params = compile_where(expr, columns)
    offset = int(dt.datetime.fromtimestamp(now, dt.UTC).astimezone(tz).utcoffset().total_seconds())
    return CompiledAudience(_FROM, (local_day(now, tz), offset), where, tuple(params))


async def count(db: aiosqlite.Connection, audience: CompiledAudience) -> int:
    async with db.execute(
        f"SELECT count(*) FROM {audience.from_sql} WHERE {audience.where}", audience.params
    ) as cur:
        return int((await cur.fetchone())[0])


async def customer_ids(db: aiosqlite.Connection, audience: CompiledAudience) -> list[int]:
    async with db.execute(
        f"SELECT c.id FROM {audience.from_sql} WHERE {audience.where} ORDER BY c.id",
        audience.params,
    ) as cur:
        return [int(r[0]) for r in await cur.fetchall()]


@dataclass(frozen=True)
class AudienceSummary:
    count: int
    customers_total: int
    spent_fen: int  # what the matching customers spent in total
    shop_spent_fen: int
    buyers: int  # matching customers with at least one counted order
    active_90d: int  # ... whose last counted purchase was at most 90 days ago
    top_tags: list[tuple[str, int]]  # (label, customers) among the matching, most first
    classes: list[tuple[str, int]]  # (value_class, customers), when segments are computed


async def summarize(
    db: aiosqlite.Connection, audience: CompiledAudience, *, top: int = 5
) -> AudienceSummary:
    """How many customers match, and a small breakdown of who they are."""
    src, where, params = audience.from_sql, audience.where, audience.params
    async with db.execute(
        "SELECT count(*), coalesce(sum(c.total_spent_fen), 0), "
        "coalesce(sum(c.paid_order_count > 0), 0), "
        f"coalesce(sum(c.kefu_days_since_last <= 90), 0) FROM {src} WHERE {where}",
        params,
    ) as cur:
        n, spent, buyers, active = (int(v) for v in await cur.fetchone())
    async with db.execute(
        "SELECT count(*), coalesce(sum(total_spent_fen), 0) FROM customers"
    ) as cur:
        total, shop_spent = (int(v) for v in await cur.fetchone())
    top_tags: list[tuple[str, int]] = []
    classes: list[tuple[str, int]] = []
    if n:
        async with db.execute(
            f"SELECT t.label, count(*) FROM {src} JOIN customer_tags ct ON ct.customer_id = c.id "
            f"AND ct.removed_at IS NULL JOIN tags t ON t.tag = ct.tag WHERE {where} "
            "GROUP BY t.tag ORDER BY count(*) DESC, t.label LIMIT ?",
            (*params, top),
        ) as cur:
            top_tags = [(r[0], int(r[1])) for r in await cur.fetchall()]
        if not await _segment_columns_ready(db, {"class"}):
            async with db.execute(
                f"SELECT c.value_class, count(*) FROM {src} WHERE {where} "
                "AND c.value_class IS NOT NULL GROUP BY c.value_class ORDER BY count(*) DESC",
                params,
            ) as cur:
                classes = [(r[0], int(r[1])) for r in await cur.fetchall()]
    return AudienceSummary(n, total, spent, shop_spent, buyers, active, top_tags, classes)
