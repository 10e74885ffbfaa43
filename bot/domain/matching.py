"""Near matches for "no buyer matches … did you mean …?".

The storage code pre-filters candidate rows with SQL (same prefix, same phone
ending, a page of recent buyers); ``near_matches`` ranks them. Pure, no I/O.

Scoring (0..1, the best reason per candidate counts):
- 1.00 the buyer id equal ignoring case and width (``Buyer123`` for ``buyer123``),
  or the full phone number;
- 0.95 the name equal ignoring case (``张伟``);
- 0.90 a phone ending in the query, when the query has 4 or more digits (spaces,
  dashes and a +86 prefix ignored); the longer the ending, the higher;
- 0.85 the buyer id starts with the query, or the query with the buyer id (a
  truncated or over-typed id), for queries of 2+ characters; longer overlaps rank
  higher;
- 0.80 the name contains the query (2+ characters);
- up to 0.75 similar buyer id or name (``difflib`` ratio ≥ 0.6, or ≥ 0.5 for a
  Chinese query, so that two-character names one character apart, 张伟/张玮,
  still count). Queries of one character only match exactly.

Ties are broken by buyer id, so the order is stable. The phone in a ``Match`` is
not masked: pass it through ``masking.mask_profile`` before showing it.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Match", "near_matches"]

MAX_RESULTS = 5
MIN_SIMILARITY = 0.6
MIN_SIMILARITY_CJK = 0.5
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Match:
    buyer_id: str
    name: str
    phone: str
    score: float
    reason: str  # "id", "phone", "name", "prefix", "similar"


def _fold(s: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", s or "").casefold().split())


def _digits(s: str | None) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", s or "") if ch.isdigit())


def _national(digits: str) -> str:
    """Drop the +86 country code from a Chinese mobile number's digits."""
    if len(digits) == 13 and digits.startswith("86"):
        return digits[2:]
    if len(digits) == 15 and digits.startswith("0086"):
        return digits[4:]
    return digits


def _phone_query(query: str) -> str:
    """The digits of ``query`` if it looks like (part of) a phone number, else ''."""
    text = unicodedata.normalize("NFKC", query).strip()
    if not text or any(not (ch.isdigit() or ch in " -+()") for ch in text):
        return ""
    return _national(_digits(text))


def _score(query: str, q_digits: str, row: Sequence[str | None]) -> tuple[float, str]:
    buyer_id, name, phone = _fold(row[0]), _fold(row[1]), _national(_digits(row[2]))
    best: tuple[float, str] = (0.0, "")

    def offer(score: float, reason: str) -> None:
        nonlocal best
        if score > best[0]:
            best = (score, reason)

    if buyer_id and query == buyer_id:
        offer(1.0, "id")
    if q_digits and phone:
        if q_digits == phone:
            offer(1.0, "phone")
        elif len(q_digits) >= 4 and phone.endswith(q_digits):
            offer(0.9 + 0.009 * min(len(q_digits), 11) / 11, "phone")
    if name and query == name:
        offer(0.95, "name")
    if len(query) >= 2 and buyer_id and (buyer_id.startswith(query) or query.startswith(buyer_id)):
        overlap = min(len(query), len(buyer_id)) / max(len(query), len(buyer_id))
        offer(0.85 + 0.04 * overlap, "prefix")
    if len(query) >= 2 and name and query in name:
        offer(0.8 + 0.04 * len(query) / len(name), "name")
    # Chinese names are short: one character in two differing is still a near miss
    floor = MIN_SIMILARITY_CJK if _CJK.search(query) else MIN_SIMILARITY
    for text in (buyer_id, name) if len(query) >= 2 else ():
        if text:
            ratio = difflib.SequenceMatcher(None, query, text).ratio()
            if ratio >= floor:
                offer(0.75 * ratio, "similar")
    return best


def near_matches(
    query: str,
    candidates: Iterable[Sequence[str | None]],
    limit: int = MAX_RESULTS,
) -> list[Match]:
    """Rank ``candidates`` — rows ``(buyer_id, name, phone)`` — against ``query``.

    Returns at most ``limit`` (default 5) matches, best first; none for an empty
    query. A buyer id listed twice appears once, with its best score.
    """
    folded = _fold(query)
    if not folded or limit <= 0:
        return []
    q_digits = _phone_query(query)
    best: dict[str, Match] = {}
    for row in candidates:
        score, reason = _score(folded, q_digits, row)
        if score <= 0:
            continue
        buyer_id = str(row[0] or "")
        current = best.get(buyer_id)
        if current is None or score > current.score:
            best[buyer_id] = Match(buyer_id, row[1] or "", row[2] or "", round(score, 4), reason)
    ranked = sorted(best.values(), key=lambda m: (-m.score, m.buyer_id))
    return ranked[:limit]
