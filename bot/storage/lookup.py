"""SQL for finding buyers: /whois resolution, near matches, /find, a buyer's orders.

Keys, in the order /whois tries them (the first key with any hit decides):
``platform:buyer_id`` (``jd:bob``), buyer id (exact; ignoring ASCII case when no
exact-case hit), order id, the whole phone number, e-mail (ignoring ASCII case), the
whole name. Two buyers on one key (张伟 twice, a buyer id on two platforms) come back
as candidates, never a guess.

Phones and names are looked up in ``search_grams`` (migration 0004, kept current by
triggers on ``customers``). ``_phone_digits`` and ``_fold_name`` below must agree with
the SQL there: digits without `` -+().``, names trimmed and ASCII lower-cased.
A substring search starts from the query's rarest gram, checks the others with index
probes and finally the text itself, so it reads a few hundred index entries, never
the whole archive.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

__all__ = [
    "MAX_QUERY_CHARS",
    "Resolution",
    "get_customer",
    "last_orders",
    "near_candidates",
    "orders_page",
    "resolve",
    "search",
]

#: Longer queries are refused (nobody types that much; it keeps callback data short).
MAX_QUERY_CHARS = 64
#: How many candidates an ambiguous /whois lists at most.
MAX_CANDIDATES = 10
#: A gram with more postings than this counts as "common" when choosing where to start.
_GRAM_CAP = 2000

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_PHONE_PUNCT = " -+()."
# the SQL twin of _phone_digits, over a column
_SQL_DIGITS = (
    "replace(replace(replace(replace(replace(replace({col}, ' ', ''), '-', ''), '+', ''), "
    "'(', ''), ')', ''), '.', '')"
)
_TOP = "\U0010ffff"  # sorts after any text that starts with the same prefix


@dataclass(frozen=True)
class Resolution:
    """What a /whois query named: ``key`` is the kind of match, ``customers`` the rows."""

    key: str  # "buyer_id", "order_id", "phone", "email", "name", or "" (nothing)
    customers: list[aiosqlite.Row]


def _fold_name(text: str) -> str:
    return text.strip(" ").translate(_ASCII_LOWER)


def _phone_digits(text: str) -> str:
    """The digits of ``text`` when it is written like a phone number, else ''."""
    s = unicodedata.normalize("NFKC", text).strip()
    if not s or any(not (ch.isdigit() or ch in _PHONE_PUNCT) for ch in s):
        return ""
    digits = "".join(ch for ch in s if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    elif len(digits) == 15 and digits.startswith("0086"):
        digits = digits[4:]
    return digits


def _name_grams(folded: str) -> list[str]:
    """The grams to look a name substring up by: trigrams, or bigrams for 2 non-ASCII chars."""
    if len(folded) >= 3:
        return sorted({"t" + folded[i : i + 3] for i in range(len(folded) - 2)})
    if len(folded) == 2 and not folded.isascii():
        return ["b" + folded]
    return []


def _phone_grams(digits: str) -> list[str]:
    return sorted({"p" + digits[i : i + 4] for i in range(len(digits) - 3)})


async def _fetch_customers(db: aiosqlite.Connection, ids: Sequence[int]) -> list[aiosqlite.Row]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = await db.execute_fetchall(f"SELECT * FROM customers WHERE id IN ({marks})", tuple(ids))
    by_id = {row["id"]: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]


async def get_customer(db: aiosqlite.Connection, customer_id: int) -> aiosqlite.Row | None:
    rows = await db.execute_fetchall("SELECT * FROM customers WHERE id = ?", (customer_id,))
    return next(iter(rows), None)


async def resolve(db: aiosqlite.Connection, query: str) -> Resolution:
    """The customers ``query`` names exactly, by the first key that matches anyone."""
    text = query.strip()
    if not text:
        return Resolution("", [])
    digits = _phone_digits(text)
    name = _fold_name(text)
    limit = MAX_CANDIDATES + 1
    # one round trip: every key's hits, tagged with the key's rank
    parts = [
        "SELECT * FROM (SELECT 1 AS k, id, buyer_id = ?1 AS exact FROM customers "
        "WHERE buyer_id = ?1 COLLATE NOCASE ORDER BY id LIMIT ?4)",
        "SELECT * FROM (SELECT DISTINCT 2, customer_id, 1 FROM orders WHERE order_id = ?1 "
        "LIMIT ?4)",
        "SELECT * FROM (SELECT 4, id, 1 FROM customers WHERE email = ?1 COLLATE NOCASE "
        "AND email != '' ORDER BY id LIMIT ?4)",
        "SELECT * FROM (SELECT 5, customer_id, 1 FROM search_grams WHERE gram = 'N' || ?2 "
        "ORDER BY customer_id LIMIT ?4)",
    ]
    if len(digits) >= 4:
        parts.insert(
            2,
            "SELECT * FROM (SELECT 3, customer_id, 1 FROM search_grams WHERE gram = 'P' || ?3 "
            "ORDER BY customer_id LIMIT ?4)",
        )
    platform, colon, buyer_id = text.partition(":")
    if colon and platform and buyer_id:  # platform:buyer_id names one platform's buyer
        parts.insert(
            0,
            "SELECT * FROM (SELECT 0 AS k, id, 1 AS exact FROM customers WHERE platform = ?5 "
            "COLLATE NOCASE "
            "AND buyer_id = ?6)",
        )
    # the customers' rows come along: one round trip for the usual /whois
    sql = (
        f"SELECT h.k AS match_key, h.exact AS match_exact, c.* FROM ({' UNION ALL '.join(parts)}) "
        "AS h JOIN customers c ON c.id = h.id"
    )
    params = (text, name, digits, limit, platform.strip(), buyer_id.strip())
    rows = await db.execute_fetchall(sql, params[: 6 if colon else 4])
    if not rows:
        return Resolution("", [])
    best = min(r["match_key"] for r in rows)
    hits = [r for r in rows if r["match_key"] == best]
    if best == 1 and any(r["match_exact"] for r in hits):  # exact case beats folded case
        hits = [r for r in hits if r["match_exact"]]
    unique = {r["id"]: r for r in sorted(hits, key=lambda r: r["id"])}
    key = {0: "buyer_id", 1: "buyer_id", 2: "order_id", 3: "phone", 4: "email", 5: "name"}[best]
    return Resolution(key, list(unique.values())[:MAX_CANDIDATES])


async def near_candidates(
    db: aiosqlite.Connection, query: str, *, per_source: int = 30
) -> list[aiosqlite.Row]:
    """Rows ``(id, platform, buyer_id, name, phone)`` worth ranking as near matches.

    Pre-filtered with indexes only: the buyer ids sorting next to the query (they share
    the longest prefixes), names sharing a gram or the first character with it, and
    phones with the same last 4 digits. ``bot.domain.matching.near_matches`` ranks them.
    """
    text = query.strip()
    if not text:
        return []
    cols = "id, platform, buyer_id, name, phone"
    name = _fold_name(text)
    digits = _phone_digits(text)
    parts = [
        f"SELECT * FROM (SELECT {cols} FROM customers WHERE buyer_id COLLATE NOCASE >= ?1 "
        "ORDER BY buyer_id COLLATE NOCASE LIMIT ?4)",
        f"SELECT * FROM (SELECT {cols} FROM customers WHERE buyer_id COLLATE NOCASE < ?1 "
        "ORDER BY buyer_id COLLATE NOCASE DESC LIMIT ?4)",
        # names that start with the query's first character (张玮 for 张伟)
        f"SELECT * FROM (SELECT {cols} FROM customers WHERE id IN (SELECT customer_id "
        "FROM search_grams WHERE gram >= 'N' || ?2 AND gram < 'N' || ?2 || ?5 LIMIT ?4))",
    ]
    params: list[object] = [text, name[:1], digits, per_source, _TOP]
    grams = _name_grams(name)
    for gram in grams[:4]:
        params.append(gram)
        parts.append(
            f"SELECT * FROM (SELECT {cols} FROM customers WHERE id IN (SELECT customer_id "
            f"FROM search_grams WHERE gram = ?{len(params)} LIMIT ?4))"
        )
    if len(digits) >= 4:
        parts.append(
            f"SELECT * FROM (SELECT {cols} FROM customers WHERE id IN (SELECT customer_id "
            "FROM search_grams WHERE gram = 'p' || substr(?3, -4) LIMIT ?4))"
        )
    return list(await db.execute_fetchall(" UNION ".join(parts), params))


async def _gram_sizes(db: aiosqlite.Connection, grams: Sequence[str]) -> list[int]:
    sql = "SELECT " + ", ".join(
        f"(SELECT count(*) FROM (SELECT 1 FROM search_grams WHERE gram = ?{i + 1} "
        f"LIMIT {_GRAM_CAP}))"
        for i in range(len(grams))
    )
    rows = await db.execute_fetchall(sql, tuple(grams))
    return list(next(iter(rows)))


async def _substring_ids(
    db: aiosqlite.Connection, grams: list[str], check: str, needle: str, limit: int
) -> list[int]:
    """Customer ids having every gram and passing ``check`` (SQL over ``c``, ?1 = needle)."""
    if not grams:
        return []
    sizes = await _gram_sizes(db, grams)
    if min(sizes) == 0:
        return []
    ordered = [g for _, g in sorted(zip(sizes, grams, strict=True))]
    params: list[object] = [needle, limit, ordered[0]]
    probes = []
    for gram in ordered[1:4]:  # a few probes narrow it enough; the text check is exact
        params.append(gram)
        probes.append(
            f"AND EXISTS (SELECT 1 FROM search_grams h WHERE h.gram = ?{len(params)} "
            "AND h.customer_id = g.customer_id) "
        )
    sql = (
        "SELECT g.customer_id FROM search_grams g CROSS JOIN customers c "
        "ON c.id = g.customer_id WHERE g.gram = ?3 " + "".join(probes) + f"AND {check} "
        "ORDER BY g.customer_id LIMIT ?2"
    )
    return [r[0] for r in await db.execute_fetchall(sql, params)]


async def search(
    db: aiosqlite.Connection, query: str, *, offset: int = 0, limit: int = 8
) -> tuple[list[aiosqlite.Row], bool]:
    """One page of /find results and whether there are more.

    Exact hits first (buyer id, order id, phone, e-mail, name), then buyer ids and
    e-mails starting with the query, then phones containing its digits (4 or more) and
    names containing it (2+ characters for Chinese, 3+ otherwise; one Chinese character
    finds the names where it stands before another, as a surname does); each group in
    archive order. A customer appears once, at its first group.
    """
    text = query.strip()
    if not text:
        return [], False
    want = offset + limit + 1
    name = _fold_name(text)
    digits = _phone_digits(text)
    ids: dict[int, None] = {}

    async def add(sql: str, params: Sequence[object]) -> None:
        if len(ids) >= want:
            return
        for row in await db.execute_fetchall(sql, tuple(params)):
            ids.setdefault(row[0], None)

    exact = [
        "SELECT * FROM (SELECT id FROM customers WHERE buyer_id = ?1 COLLATE NOCASE "
        "ORDER BY id LIMIT ?4)",
        "SELECT * FROM (SELECT DISTINCT customer_id FROM orders WHERE order_id = ?1 LIMIT ?4)",
        "SELECT * FROM (SELECT customer_id FROM search_grams WHERE gram = 'P' || ?3 "
        "AND length(?3) >= 4 ORDER BY customer_id LIMIT ?4)",
        "SELECT * FROM (SELECT id FROM customers WHERE email = ?1 COLLATE NOCASE "
        "AND email != '' ORDER BY id LIMIT ?4)",
        "SELECT * FROM (SELECT customer_id FROM search_grams WHERE gram = 'N' || ?2 "
        "ORDER BY customer_id LIMIT ?4)",
    ]
    # UNION ALL keeps each part's order in practice; the groups are merged in Python
    rows = await db.execute_fetchall(
        " UNION ALL ".join(f"SELECT {i} AS k, * FROM ({p})" for i, p in enumerate(exact)),
        (text, name, digits, want),
    )
    for _, cid in sorted(rows, key=lambda r: r[0]):
        ids.setdefault(cid, None)
    if len(text) >= 2:
        await add(
            "SELECT id FROM customers WHERE buyer_id COLLATE NOCASE >= ?1 "
            "AND buyer_id COLLATE NOCASE < ?1 || ?2 ORDER BY buyer_id COLLATE NOCASE LIMIT ?3",
            (text, _TOP, want),
        )
    if len(text) >= 3:
        await add(
            "SELECT id FROM customers WHERE email COLLATE NOCASE >= ?1 "
            "AND email COLLATE NOCASE < ?1 || ?2 AND email != '' "
            "ORDER BY email COLLATE NOCASE LIMIT ?3",
            (text, _TOP, want),
        )
    if len(digits) >= 4 and len(ids) < want:
        check = f"instr({_SQL_DIGITS.format(col='c.phone')}, ?1) > 0"
        for cid in await _substring_ids(db, _phone_grams(digits), check, digits, want):
            ids.setdefault(cid, None)
    if len(ids) < want:
        check = "instr(lower(trim(c.name, ' ')), ?1) > 0"
        for cid in await _substring_ids(db, _name_grams(name), check, name, want):
            ids.setdefault(cid, None)
    if len(name) == 1 and not name.isascii() and len(ids) < want:
        # one Chinese character, usually a surname: the names where it stands before
        # another character, found as the prefix of their two-character grams
        for (cid,) in await db.execute_fetchall(
            "SELECT DISTINCT customer_id FROM search_grams WHERE gram > ?1 AND gram < ?1 || ?2 "
            "LIMIT ?3",
            ("b" + name, _TOP, want),
        ):
            ids.setdefault(cid, None)
    page = list(ids)[offset : offset + limit]
    return await _fetch_customers(db, page), len(ids) > offset + limit


async def orders_page(
    db: aiosqlite.Connection, customer_id: int, *, offset: int = 0, limit: int = 5
) -> tuple[list[aiosqlite.Row], int]:
    """A customer's orders, newest first, and how many there are in all."""
    rows = await last_orders(db, customer_id, limit, offset=offset)
    total = await db.execute_fetchall(
        "SELECT count(*) FROM orders WHERE customer_id = ?", (customer_id,)
    )
    return rows, int(next(iter(total))[0])


async def last_orders(
    db: aiosqlite.Connection, customer_id: int, limit: int = 3, *, offset: int = 0
) -> list[aiosqlite.Row]:
    """A customer's latest orders, newest first."""
    return list(
        await db.execute_fetchall(
            "SELECT * FROM orders WHERE customer_id = ? ORDER BY created_at DESC, id DESC "
            "LIMIT ? OFFSET ?",
            (customer_id, limit, offset),
        )
    )
