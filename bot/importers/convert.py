"""One export row → one staged order row (the tuple ``order_row`` makes).

The converter is built once per file: column indices are resolved from the header,
so a row costs a handful of list lookups and the normalisers in ``normalize``.
Rows are produced directly as the staged tuples of
:func:`bot.storage.order_import.order_row` (same fields, same ``items_json``), without
building ``Order`` objects: at a million rows that is a third of the time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) uses
from zoneinfo import ZoneInfo

from bot.importers.normalize import (
    BadValue,
    money_fen,
    order_id,
    phone,
    quantity,
    split_address,
    text,
    time_parser,
)
from bot.importers.presets import REQUIRED, Preset, closed, norm_header


class RowError(ValueError):
    """A bad cell: ``column`` is the header as written in the file."""

    def __init__(self, column: str, value: str, expected: str) -> None:
        super().__init__(f"column {column}: {value!r} is not {expected}")
        self.column = column
        self.value = value
        self.expected = expected


class MissingColumns(ValueError):
    def __init__(self, columns: list[str]) -> None:
        super().__init__(", ".join(columns))
        self.columns = columns


# staged row layout (see bot.storage.order_import.order_row)
# 0 platform, 1 order_id, 2 buyer_id, 3 created_at, 4 paid_at, 5 status, 6 amount_paid_fen,
# 7 discount_fen, 8 coupon_fen, 9 refunded_fen, 10 item_count, 11 items_json, 12 name,
# 13 phone, 14 email, 15 province, 16 city, 17 district, 18 address
Item = tuple[str, str, int, int]  # title, sku, qty, unit price fen


def items_json(items: Iterable[Item]) -> str:
    return (
        "["
        + ",".join(
            f'{{"title":{encode_basestring(t)},"sku":{encode_basestring(s)},'
            f'"qty":{q},"price_fen":{p}}}'
            for t, s, q, p in items
        )
        + "]"
    )


@dataclass
class Columns:
    """Resolved column indices; -1 reads the empty cell appended to every row."""

    index: dict[str, int]
    names: dict[str, str]  # field -> header as written
    buyer: tuple[int, ...]
    width: int


def resolve(preset: Preset, header: list[str]) -> Columns:
    positions: dict[str, int] = {}
    for i, h in enumerate(header):
        positions.setdefault(norm_header(h), i)
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    buyer: list[int] = []
    for fld, candidates in preset.columns.items():
        for c in candidates:
            i = positions.get(norm_header(c))
            if i is not None:
                if fld == "buyer_id":
                    buyer.append(i)
                if fld not in index:
                    index[fld] = i
                    names[fld] = header[i].strip()
    missing = [
        preset.columns[f][0] if f in preset.columns else f for f in REQUIRED if f not in index
    ]
    if missing:
        raise MissingColumns(missing)
    return Columns(index=index, names=names, buyer=tuple(buyer), width=len(header))


Converter = Callable[[list[str]], tuple]


def converter(preset: Preset, header: list[str], tz: ZoneInfo) -> tuple[Converter, bool]:
    """(row → staged tuple, or for line-item presets row → (order head | None, item)).

    The boolean says which: True for line-item presets. A bad cell raises RowError.
    """
    cols = resolve(preset, header)
    ix = cols.index
    get = ix.get
    width = cols.width
    platform = preset.platform
    parse_time = time_parser(tz, preset.time_format)
    status_of = preset.status_of
    statuses = preset.statuses
    simple_status = preset.rule is None
    i_oid, i_created, i_status, i_amount = (ix[f] for f in REQUIRED)
    i_paid = get("paid_at", -1)
    i_disc, i_coupon, i_ref = get("discount", -1), get("coupon", -1), get("refunded", -1)
    i_title, i_sku, i_qty = get("item_title", -1), get("item_sku", -1), get("quantity", -1)
    i_price, i_goods = get("unit_price", -1), get("goods_total", -1)
    i_name, i_phone, i_email = get("name", -1), get("phone", -1), get("email", -1)
    i_prov, i_city, i_dist = get("province", -1), get("city", -1), get("district", -1)
    i_addr = get("address", -1)
    i_reason, i_ful = get("close_reason", -1), get("fulfillment", -1)
    i_cancel, i_tags = get("cancelled_at", -1), get("tags", -1)
    buyers = cols.buyer
    split = i_prov < 0 and i_city < 0 and i_addr >= 0
    header_names = [h.strip() for h in header]
    line_items = preset.line_items
    status_words = ", ".join(list(statuses)[:6])

    # amounts repeat a lot (prices, 0.00): remember what each string was worth
    fen_of: dict[str, int] = {}
    cached = fen_of.get

    def money(s: str) -> int:
        v = money_fen(s)
        if len(fen_of) < 100_000:
            fen_of[s] = v
        return v

    def fail(i: int, value: str, expected: str) -> RowError:
        return RowError(header_names[i] if i >= 0 else "?", value.strip(), expected)

    def head(r: list[str]) -> tuple:
        col = i_oid
        try:
            oid = order_id(r[i_oid])
            col = i_created
            created = parse_time(r[i_created])
            col = i_paid
            p = r[i_paid].strip()
            paid = parse_time(p) if p else None
            col = i_amount
            s = r[i_amount]
            amount = cached(s)
            if amount is None:
                amount = money(s)
            col = i_disc
            s = r[i_disc]
            discount = cached(s)
            if discount is None:
                discount = money(s)
            col = i_coupon
            s = r[i_coupon]
            coupon = cached(s)
            if coupon is None:
                coupon = money(s)
            col = i_ref
            s = r[i_ref]
            refunded = cached(s)
            if refunded is None:
                refunded = money(s)
        except BadValue as e:
            raise fail(col, r[col], e.expected) from None
        word = r[i_status].strip()
        status = statuses.get(word) if simple_status else None
        if status is not None:
            if status == "cancelled":
                status = closed(status, refunded, r[i_reason])
        else:
            status = status_of(
                word, refunded, r[i_reason], r[i_ful], r[i_cancel].strip(), r[i_tags]
            )
            if status is None:
                raise fail(i_status, word, f"a known status ({status_words} ...)")
        buyer = ""
        for i in buyers:
            buyer = r[i].strip()
            if buyer:
                break
        ph = phone(r[i_phone])
        if not buyer:
            buyer = ph or text(r[i_name])
            if not buyer:
                i = buyers[0] if buyers else i_oid
                raise fail(i, r[i], "a buyer (the column is empty)")
        if split:
            prov, city, dist, addr = split_address(r[i_addr])
        else:
            prov, city, dist, addr = (
                r[i_prov].strip(),
                r[i_city].strip(),
                r[i_dist].strip(),
                r[i_addr].strip(),
            )
        return (
            (platform, oid, buyer, created, paid, status, amount, discount, coupon, refunded),
            (r[i_name].strip(), ph, r[i_email].strip(), prov, city, dist, addr),
        )

    def item(r: list[str]) -> Item:
        col = i_qty
        try:
            qty = quantity(r[i_qty])
            if i_price >= 0:
                col = i_price
                price = cached(r[i_price])
                if price is None:
                    price = money(r[i_price])
            else:
                col = i_goods
                goods = cached(r[i_goods])
                if goods is None:
                    goods = money(r[i_goods])
                price = (goods + qty // 2) // qty if qty else goods
        except BadValue as e:
            raise fail(col, r[col], e.expected) from None
        return (r[i_title].strip(), text(r[i_sku]), qty, price)

    if not line_items:

        def one(r: list[str]) -> tuple:
            if len(r) < width:
                r.extend([""] * (width - len(r)))
            r.append("")
            h, tail = head(r)
            t, s, q, p = item(r)
            if not t and not s:
                q, js = 0, "[]"
            else:
                js = (
                    f'[{{"title":{encode_basestring(t)},"sku":{encode_basestring(s)},'
                    f'"qty":{q},"price_fen":{p}}}]'
                )
            return h + (q, js) + tail

        return one, False

    def line(r: list[str]) -> tuple:
        if len(r) < width:
            r.extend([""] * (width - len(r)))
        r.append("")
        oid_cell = r[i_oid]
        # a follow-up line item carries no order fields (Shopify) or repeats them (JD)
        h = head(r) if r[i_created].strip() else None
        return (h, oid_cell.strip(), item(r))

    return line, True


def group_lines(lines: Iterator[tuple[int, tuple]]) -> Iterator[tuple[int, tuple]]:
    """(row number, (head | None, order id cell, item)) → (first row number, staged tuple).

    Consecutive rows of one order are merged; a row without order fields must follow
    its order's first row.
    """
    cur_head: tuple | None = None
    cur_key = ""
    cur_row = 0
    items: list[Item] = []
    for rownum, (h, key, it) in lines:
        if key == cur_key and cur_head is not None:
            items.append(it)
            continue
        if cur_head is not None:
            yield cur_row, _assemble(cur_head, items)
        if h is None:
            raise _Orphan(rownum, key)
        cur_head, cur_key, cur_row, items = h, key, rownum, [it]
    if cur_head is not None:
        yield cur_row, _assemble(cur_head, items)


class _Orphan(ValueError):
    def __init__(self, rownum: int, key: str) -> None:
        super().__init__(key)
        self.rownum = rownum
        self.key = key


def _assemble(h: tuple[tuple, tuple], items: list[Item]) -> tuple:
    kept = [i for i in items if i[0] or i[1]]
    return h[0] + (sum(i[2] for i in kept), items_json(kept)) + h[1]
