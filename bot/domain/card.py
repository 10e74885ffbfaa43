"""The /whois profile card as data: what the template shows, already masked for the viewer.

Pure: rows in (a customer, their latest orders, tags, latest note), a plain dict out.
Every builder here ends with ``masking.mask_profile(view, role)`` so that templates
only ever see what the viewer's role may see; no template masks or unmasks anything.

Decisions:
- Total spent, order counts, average order value and the repurchase interval come
  from the aggregates the import keeps on ``customers`` (paid orders net of refunds).
- First and last purchase are shown as a local date in the shop's time zone and as
  "12 days ago" counted from ``today`` (also local).
- Age is the ``age`` column when the export gave one, otherwise computed from a
  birthday with a year; a birthday without a year (``--MM-DD``) shows no age.
- Segment fields (RFM cell, value class, ABC class) and price sensitivity appear only
  once the segmentation has written them (``segment`` / ``price`` are None before).
  The price evidence is the share of orders bought on a deal and the average discount
  (discounts and coupons over list price).
- The address is shown whole: region parts the street address lacks are put in front
  (exports often split them), so that masking keeps the region and hides the rest.
- Items are the titles joined with "、" (zh) or ", " (en), with ×N for quantities
  above one, shortened to ``ITEMS_CHARS`` characters.
- Open complaints are not on the card yet: there is no complaints table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.humanize import days_ago, is_zh, shorten
from bot.domain.masking import mask_profile
from bot.domain.value_classes import ValueClass

__all__ = [
    "ITEMS_CHARS",
    "age_on",
    "build_card",
    "candidate_list",
    "items_summary",
    "order_lines",
]

ITEMS_CHARS = 24
DAY = 86400


def _local_date(ts: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(int(ts), UTC).astimezone(tz).date()


def age_on(birthday: str | None, today: date) -> int | None:
    """Whole years from a ``YYYY-MM-DD`` birthday to ``today``; None when unknown."""
    if not birthday or birthday.startswith("--"):
        return None
    try:
        born = date.fromisoformat(birthday)
    except ValueError:
        return None
    if born > today:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _birthday_text(birthday: str | None) -> str | None:
    if not birthday:
        return None
    return birthday[2:] if birthday.startswith("--") else birthday


def items_summary(items_json: str | None, locale: str, limit: int = ITEMS_CHARS) -> str:
    """``连衣裙×2、T恤`` from an order's items, shortened to ``limit`` characters."""
    try:
        items = json.loads(items_json or "[]")
    except ValueError:
        items = []
    words = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        title = str(item.get("title") or "").strip()
        qty = item.get("qty") or 1
        if title:
            words.append(f"{title}×{qty}" if isinstance(qty, int) and qty > 1 else title)
    return shorten(("、" if is_zh(locale) else ", ").join(words), limit)


def _order_line(order: Mapping[str, Any], tz: ZoneInfo, locale: str) -> dict[str, Any]:
    return {
        "order_id": order["order_id"],
        "platform": order["platform"],
        "date": _local_date(order["created_at"], tz).isoformat(),
        "items": items_summary(order["items_json"], locale),
        "amount_fen": int(order["amount_paid_fen"]),
        "refunded_fen": int(order["refunded_fen"] or 0),
        "status": order["status"],
    }


def _purchase(ts: int | None, today: date, tz: ZoneInfo, locale: str) -> dict[str, str] | None:
    if ts is None:
        return None
    day = _local_date(ts, tz)
    return {"date": day.isoformat(), "ago": days_ago(day, today, locale)}


def _segment(c: Mapping[str, Any], locale: str) -> dict[str, Any] | None:
    cell, code, abc = c.get("rfm_cell"), c.get("value_class"), c.get("abc_class")
    if not (cell or code or abc):
        return None
    value_class = None
    if code:
        try:
            value_class = ValueClass.from_code(code).display_name("zh" if is_zh(locale) else "en")
        except ValueError:
            value_class = str(code)
    return {"rfm_cell": cell, "value_class": value_class, "abc_class": abc}


def _price(c: Mapping[str, Any]) -> dict[str, Any] | None:
    level = c.get("price_level")
    if not level:
        return None
    listed, off = c.get("price_list_fen") or 0, c.get("price_off_fen") or 0
    return {
        "level": level,
        "orders": c.get("price_orders") or 0,
        "deal_orders": c.get("price_deal_orders") or 0,
        "discount_pct": round(100 * off / listed) if listed > 0 else None,
    }


def build_card(
    customer: Mapping[str, Any],
    *,
    orders: Sequence[Mapping[str, Any]] = (),
    tags: Sequence[Mapping[str, Any]] = (),
    note: Mapping[str, Any] | None = None,
    role: object,
    today: date,
    tz: ZoneInfo,
    locale: str = "zh",
) -> dict[str, Any]:
    """The card's view-model for a viewer of ``role``, masked by ``mask_profile``.

    ``customer`` is a ``customers`` row (any mapping; missing segment columns are
    fine), ``orders`` the latest orders newest first, ``tags`` rows with label,
    added_by, added_at, ``note`` a row with text, author, created_at.
    """
    c = {k: customer[k] for k in customer.keys()}  # noqa: SIM118 - sqlite3.Row has no items()
    parts = list(
        dict.fromkeys(p for p in (c.get("province"), c.get("city"), c.get("district")) if p)
    )
    region = " ".join(parts)
    street = c.get("address") or ""
    # one full address, so that masking keeps the region and hides only the street
    address = "".join(p for p in parts if p not in street) + street if street else ""
    paid = int(c.get("paid_order_count") or 0)
    interval = c.get("avg_interval_s")
    view = {
        "id": c["id"],
        "platform": c["platform"],
        "buyer_id": c["buyer_id"],
        "name": c.get("name") or "",
        "phone": c.get("phone") or "",
        "email": c.get("email") or "",
        "address": address,
        "region": region,
        "birthday": _birthday_text(c.get("birthday")),
        "age": c.get("age") if c.get("age") is not None else age_on(c.get("birthday"), today),
        "tier": c.get("tier") or None,
        "orders_paid": paid,
        "orders_all": int(c.get("order_count") or 0),
        "total_spent_fen": int(c.get("total_spent_fen") or 0),
        "avg_order_fen": c.get("avg_order_value_fen"),
        "first_purchase": _purchase(c.get("first_purchase_at"), today, tz, locale),
        "last_purchase": _purchase(c.get("last_purchase_at"), today, tz, locale),
        "repurchase_days": round(interval / DAY) if interval is not None and paid > 1 else None,
        "segment": _segment(c, locale),
        "price": _price(c),
        "tags": [
            {"label": t["label"], "added_by": t["added_by"], "added_at": t["added_at"]}
            for t in tags
        ],
        "note": (
            {"text": note["text"], "author": note["author"], "at": note["created_at"]}
            if note is not None
            else None
        ),
        "last_orders": [_order_line(o, tz, locale) for o in orders],
    }
    return mask_profile(view, role)


def order_lines(
    orders: Sequence[Mapping[str, Any]], *, role: object, tz: ZoneInfo, locale: str = "zh"
) -> list[dict[str, Any]]:
    """One page of a buyer's orders for the Orders list, masked for ``role``."""
    return mask_profile({"orders": [_order_line(o, tz, locale) for o in orders]}, role)["orders"]


def candidate_list(rows: Sequence[Mapping[str, Any]], *, role: object) -> list[dict[str, Any]]:
    """Buyers to choose from (ambiguous query, near matches, /find results), masked."""
    view = {
        "candidates": [
            {
                "id": r["id"],
                "platform": r["platform"],
                "buyer_id": r["buyer_id"],
                "name": r["name"] or "",
                "phone": r["phone"] or "",
            }
            for r in rows
        ]
    }
    return mask_profile(view, role)["candidates"]
