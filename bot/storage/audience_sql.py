"""Compile an audience expression (``bot.domain.audience``) to a SQL WHERE fragment.

The fragment filters a ``customers`` table aliased ``c``::

    where, params = compile_where(parse(text), CUSTOMER_COLUMNS)
    await db.execute(f"SELECT c.id FROM customers c WHERE {where}", params)

- Every value is a ``?`` parameter; nothing the user typed is put into the SQL text.
- Column expressions come only from the ``columns`` mapping the storage code owns
  (field name -> SQL expression such as ``c.spent_fen``); a field with no column is a
  ``ValueError``, as is an operator outside the six the language has.
- Tag tests are ``EXISTS`` sub-queries on ``customer_tags`` that ignore removed tags;
  tag names in the AST are already normalised (``tags.normalize_tag``), so the table
  must hold normalised names too.
- NULL handling matches ``audience.evaluate`` exactly: a comparison with a missing
  value is false, except ``!=``, which is true. ``=``/``!=`` use SQLite's null-safe
  ``IS``/``IS NOT``; ordering comparisons are wrapped in ``COALESCE(…, 0)``. The
  fragment therefore never evaluates to NULL, so ``NOT`` behaves like Python's.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.audience import And, Compare, Expr, Not, Or, Tag

__all__ = ["TAG_EXISTS_SQL", "compile_where"]

TAG_EXISTS_SQL = (
    "EXISTS (SELECT 1 FROM customer_tags t WHERE t.customer_id = c.id "
    "AND t.tag = ? AND t.removed_at IS NULL)"
)

_ORDERING_OPS = frozenset({"<", "<=", ">", ">="})


def compile_where(expr: Expr, columns: Mapping[str, str]) -> tuple[str, list[int | str]]:
    """Return ``(sql, params)``: a parameterised WHERE fragment over ``customers c``."""
    params: list[int | str] = []
    sql = _compile(expr, columns, params)
    return sql, params


def _compile(expr: Expr, columns: Mapping[str, str], params: list[int | str]) -> str:
    if isinstance(expr, Tag):
        params.append(expr.name)
        return TAG_EXISTS_SQL
    if isinstance(expr, Compare):
        column = columns.get(expr.field)
        if column is None:
            raise ValueError(f"no SQL column is mapped for audience field {expr.field!r}")
        if not isinstance(expr.value, int | str) or isinstance(expr.value, bool):
            raise ValueError(f"unsupported value {expr.value!r} for field {expr.field!r}")
        params.append(expr.value)
        if expr.op == "=":
            return f"({column} IS ?)"
        if expr.op == "!=":
            return f"({column} IS NOT ?)"
        if expr.op in _ORDERING_OPS:
            return f"COALESCE({column} {expr.op} ?, 0)"
        raise ValueError(f"unsupported operator {expr.op!r}")
    if isinstance(expr, Not):
        return f"(NOT {_compile(expr.operand, columns, params)})"
    if isinstance(expr, And):
        if not expr.parts:
            return "1"
        return "(" + " AND ".join(_compile(p, columns, params) for p in expr.parts) + ")"
    if isinstance(expr, Or):
        if not expr.parts:
            return "0"
        return "(" + " OR ".join(_compile(p, columns, params) for p in expr.parts) + ")"
    raise TypeError(f"not an audience expression: {expr!r}")
