"""A synthetic shop's order export, in a platform's exact format.

    generate(Path("orders.csv"), customers=2000, orders=10000, preset="taobao", seed=7,
             start=date(2023, 1, 1), end=date(2024, 12, 31))

Deterministic for a seed. Streams to the file: customers are kept (a few hundred bytes
each), orders are written as they are made, one customer's history at a time.

What makes it look like a shop: order counts per customer follow a Pareto law (most
buyers buy once, a few dozens of times) and so does basket size, so spend is skewed;
a repeat buyer's orders come at intervals around a personal cycle; order days crowd
around 618 and 双11; evenings are busier than nights; some orders carry shop discounts
or coupons; statuses include unpaid, cancelled, refunded (full and partial) and refused
delivery, with recent orders still paid or shipped.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.synth import data

PRESETS: tuple[str, ...] = ("taobao", "jd", "shopify", "generic")
_OFFSET = timedelta(hours=8)  # exports are written in shop-local time (Asia/Shanghai)
_HOUR_WEIGHTS = (2, 1, 1, 0.5, 0.5, 0.5, 1, 2, 3, 5, 6, 6, 7, 6, 6, 6, 6, 6, 6, 7, 9, 11, 12, 8)


@dataclass(frozen=True, slots=True)
class Customer:
    index: int
    buyer_id: str
    name: str
    latin: bool
    phone: str
    email: str
    province: str
    city: str
    district: str
    street: str
    birthday: str  # 'YYYY-MM-DD' or ''
    cycle_days: float
    basket: float  # multiplier on basket size (big spenders > 1)


@dataclass(slots=True)
class SynthOrder:
    seq: int
    customer: Customer
    created: datetime  # shop-local, naive
    paid: datetime | None
    status: str
    lines: list[tuple[str, str, int, int]]  # title, sku, qty, unit price fen
    shipping_fen: int
    discount_fen: int
    coupon_fen: int
    coupon_code: str
    refunded_fen: int

    @property
    def goods_fen(self) -> int:
        return sum(q * p for _, _, q, p in self.lines)

    @property
    def total_fen(self) -> int:
        return self.goods_fen + self.shipping_fen

    @property
    def paid_fen(self) -> int:
        return max(1, self.total_fen - self.discount_fen - self.coupon_fen)


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _ts(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S") if dt else ""


class _Shop:
    def __init__(self, rng: random.Random, start: date, end: date, preset: str) -> None:
        self.rng = rng
        self.start = datetime(start.year, start.month, start.day)
        self.end = datetime(end.year, end.month, end.day, 23, 59, 59)
        self.span_days = max(1.0, (self.end - self.start).total_seconds() / 86400)
        self.preset = preset
        self.place_cum = list(itertools.accumulate(p[2] for p in data.PLACES))
        self.product_cum = list(itertools.accumulate(p[3] for p in data.PRODUCTS))
        self.hour_cum = list(itertools.accumulate(_HOUR_WEIGHTS))
        peaks = []
        for y in range(start.year, end.year + 1):
            for m, d in ((6, 18), (11, 11), (12, 12)):
                peak = datetime(y, m, d)
                if self.start <= peak <= self.end:
                    peaks.append(peak)
        self.peaks = peaks

    def customer(self, i: int) -> Customer:
        r = self.rng
        latin = r.random() < (0.7 if self.preset == "shopify" else 0.12)
        if latin:
            first, last = r.choice(data.LATIN_FIRST), r.choice(data.LATIN_LAST)
            name = f"{first} {last}"
            handle = f"{first.lower()}.{last.lower()}"
        else:
            name = r.choice(data.SURNAMES) + "".join(r.choices(data.GIVEN, k=r.choice((1, 2, 2))))
            handle = r.choice(data.PINYIN)
        style = r.random()
        if self.preset == "shopify" or style < 0.3:
            buyer = f"{handle}{i:x}"
        elif style < 0.6:
            buyer = f"tb{r.randrange(10**7, 10**8)}{i:x}"
        else:
            buyer = f"{r.choice(data.NICK_WORDS)}{handle[:4]}{i:x}"
        phone = f"1{r.choice('3456789')}{r.randrange(10**9):09d}"
        email = f"{handle}{i:x}@{r.choice(('qq.com', '163.com', 'gmail.com', 'outlook.com'))}"
        p = data.PLACES[bisect.bisect(self.place_cum, r.random() * self.place_cum[-1])]
        city, districts = r.choice(p[1])
        street = f"{r.choice(data.STREETS)} {r.randrange(1, 999)}号"
        compound = r.choice(data.COMPOUNDS)
        if compound:
            street += f" {compound}{r.randrange(1, 30)}幢{r.randrange(101, 2605)}室"
        birthday = ""
        if r.random() < 0.35:
            bd = date(r.randrange(1965, 2006), 1, 1) + timedelta(days=r.randrange(365))
            birthday = bd.isoformat()
        return Customer(
            index=i, buyer_id=buyer, name=name, latin=latin, phone=phone, email=email,
            province=p[0], city=city, district=r.choice(districts), street=street,
            birthday=birthday, cycle_days=r.uniform(14, 120),
            basket=min(20.0, r.paretovariate(2.2)),
        )  # fmt: skip

    def day(self, after: datetime | None, cycle: float, room: float = 0.0) -> datetime:
        """The next order time: the first anywhere leaving ``room`` days for the rest,
        the next ones about ``cycle`` days apart."""
        r = self.rng
        if after is None:
            t = self.start + timedelta(days=r.random() * max(0.0, self.span_days - room))
        else:
            t = after + timedelta(days=r.gammavariate(2.0, cycle / 2.0) + 0.2)
            if t > self.end:
                t = after + (self.end - after) * r.random()
        if self.peaks and r.random() < 0.6:
            # promotions pull orders forward to the coming peak (618, 双11, 双12)
            for peak in self.peaks:
                if timedelta(0) <= peak - t <= timedelta(days=min(30.0, cycle)):
                    t = peak + timedelta(days=r.choice((-1, 0, 0, 0, 0, 1)))
                    break
        hour = bisect.bisect(self.hour_cum, r.random() * self.hour_cum[-1])
        t = datetime(t.year, t.month, t.day, hour, r.randrange(60), r.randrange(60))
        return min(max(t, self.start), self.end)

    def order(self, seq: int, c: Customer, created: datetime) -> SynthOrder:
        r = self.rng
        kinds = 1 if r.random() < 0.7 else r.choice((2, 2, 3))
        lines = []
        for _ in range(kinds):
            title, sku, price, _w = data.PRODUCTS[
                bisect.bisect(self.product_cum, r.random() * self.product_cum[-1])
            ]
            qty = max(1, min(9, int(r.paretovariate(3.0) * c.basket)))
            lines.append((title, sku, qty, price))
        goods = sum(q * p for _, _, q, p in lines)
        shipping = 0 if goods >= 9900 or r.random() < 0.6 else r.choice((600, 800, 1000))
        peak = created.month in (6, 11, 12) and created.day in (11, 12, 17, 18, 19)
        discount = 0
        if r.random() < (0.6 if peak else 0.25):
            discount = min(goods // 2, r.choice((500, 1000, 2000, 3000)) if goods > 5000 else 300)
        coupon, code = 0, ""
        if r.random() < (0.35 if peak else 0.12):
            code = r.choice(data.COUPON_CODES)
            coupon = min(goods // 3, r.choice((500, 1000, 2000)))
        age = (self.end - created).total_seconds() / 86400
        x = r.random()
        if age < 2:
            status = "unpaid" if x < 0.25 else "paid" if x < 0.6 else "shipped"
        elif age < 12:
            status = "shipped" if x < 0.4 else "unpaid" if x < 0.44 else "completed"
        elif x < 0.05:
            status = "unpaid" if age < 3 else "cancelled"
        elif x < 0.09:
            status = "cancelled"
        elif x < 0.13:
            status = "refunded"
        elif x < 0.15:
            status = "refused"
        else:
            status = "completed"
        paid = None
        if status not in ("unpaid",) and not (status == "cancelled" and x < 0.09):
            paid = created + timedelta(seconds=r.randrange(5, 1800))
        o = SynthOrder(seq, c, created, paid, status, lines, shipping, discount, coupon, code, 0)
        if status in ("refunded", "refused"):
            o.refunded_fen = o.paid_fen
        elif status == "completed" and r.random() < 0.03:
            o.refunded_fen = o.paid_fen // r.choice((2, 3, 4))  # a partial refund
        return o


def _order_number(preset: str, seq: int) -> str:
    scrambled = (seq * 2654435761) % 10**12  # unique for seq < 10**12
    if preset == "taobao":
        return str(3_500_000_000_000_000_000 + scrambled * 1000 + seq % 1000)
    if preset == "jd":
        return str(280_000_000_000 + scrambled % 10**11)
    if preset == "shopify":
        return f"#{1001 + seq}"
    return f"G{seq + 1:08d}"


# --- writers: one per preset -------------------------------------------------------------

TAOBAO_HEADER = [
    "订单编号", "买家会员名", "买家支付宝账号", "买家应付货款", "买家应付邮费", "买家支付积分",
    "总金额", "返点积分", "买家实际支付金额", "买家实际支付积分", "订单状态", "买家留言",
    "收货人姓名", "收货地址 ", "运送方式", "联系电话 ", " 联系手机", "订单创建时间",
    "订单付款时间 ",
    "宝贝标题 ", "宝贝种类 ", "物流单号 ", "物流公司", "订单备注", "宝贝总数量", "店铺Id",
    "店铺名称", "订单关闭原因", "卖家服务费", "买家服务费", "发票抬头", "是否手机订单",
    "天猫卡券抵扣", "集分宝抵扣", "是否是O2O交易", "退款金额", "店铺优惠",
]  # fmt: skip
_TAOBAO_STATUS = {
    "unpaid": "等待买家付款",
    "paid": "买家已付款，等待卖家发货",
    "shipped": "卖家已发货，等待买家确认",
    "completed": "交易成功",
    "cancelled": "交易关闭",
    "refunded": "交易关闭",
    "refused": "交易关闭",
}


def _taobao(o: SynthOrder, r: random.Random) -> list[list[str]]:
    c = o.customer
    unpaid = o.paid is None
    reason = ""
    if o.status == "cancelled":
        reason = "买家不想买了" if unpaid else "卖家缺货"
    elif o.status == "refunded":
        reason = "退款"
    elif o.status == "refused":
        reason = "买家拒收"
    shipped = o.status in ("shipped", "completed", "refused")
    qty = sum(q for _, _, q, _ in o.lines)
    return [[
        f'="{_order_number("taobao", o.seq)}"', c.buyer_id,
        f"{c.phone[:3]}****{c.phone[-4:]}" if r.random() < 0.5 else c.email,
        _yuan(o.goods_fen), _yuan(o.shipping_fen), "0", _yuan(o.total_fen), "0",
        "0.00" if unpaid else _yuan(o.paid_fen), "0", _TAOBAO_STATUS[o.status],
        r.choice(("", "", "", "请尽快发货", "送人的，不要放发票", "周末送货")),
        f" {c.name} ", f"{c.province} {c.city} {c.district} {c.street}",
        "快递", "", f"'{c.phone}", _ts(o.created), _ts(o.paid),
        "，".join(t for t, _, _, _ in o.lines), str(len(o.lines)),
        f"'{r.randrange(10**11, 10**12)}" if shipped else "",
        r.choice(data.CARRIERS) if shipped else "", "", str(qty), "123456789", "小确幸旗舰店",
        reason, "0", "0", "", r.choice(("手机订单", "手机订单", "")),
        _yuan(o.coupon_fen), "0.00", "否", _yuan(o.refunded_fen), _yuan(o.discount_fen),
    ]]  # fmt: skip


JD_HEADER = [
    "订单号", "商品ID", "商品名称", "订购数量", "支付方式", "下单时间", "京东价", "订单金额",
    "结算金额", "余额支付", "应付金额", "订单状态", "订单类型", "下单帐号", "客户姓名",
    "客户地址", "联系电话", "订单备注", "付款确认时间", "京券优惠", "优惠金额", "退款金额",
]  # fmt: skip
_JD_STATUS = {
    "unpaid": "等待付款",
    "paid": "等待出库",
    "shipped": "等待确认收货",
    "completed": "完成",
    "cancelled": "已取消",
    "refunded": "已取消",
    "refused": "已取消",
}


def _jd(o: SynthOrder, r: random.Random) -> list[list[str]]:
    c = o.customer
    number = _order_number("jd", o.seq)
    note = "用户拒收" if o.status == "refused" else ""
    pay = _yuan(o.paid_fen) if o.paid else "0.00"
    return [
        [
            number,
            sku.split("-")[-1] + str(1000 + i),
            title,
            str(qty),
            "在线支付",
            _ts(o.created),
            _yuan(price),
            _yuan(o.total_fen),
            pay,
            "0.00",
            _yuan(o.paid_fen),
            _JD_STATUS[o.status],
            "普通订单",
            c.buyer_id,
            c.name,
            f"{c.province}{c.city}{c.district}{c.street.replace(' ', '')}",
            c.phone,
            note,
            _ts(o.paid),
            _yuan(o.coupon_fen),
            _yuan(o.discount_fen),
            _yuan(o.refunded_fen),
        ]  # fmt: skip
        for i, (title, sku, qty, price) in enumerate(o.lines)
    ]


SHOPIFY_HEADER = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
    "Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total",
    "Discount Code", "Discount Amount", "Shipping Method", "Created at", "Lineitem quantity",
    "Lineitem name", "Lineitem price", "Lineitem compare at price", "Lineitem sku",
    "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status",
    "Billing Name", "Billing Street", "Billing Address1", "Billing City", "Billing Zip",
    "Billing Province", "Billing Country", "Billing Phone", "Shipping Name",
    "Shipping Street", "Shipping Address1", "Shipping City", "Shipping Zip",
    "Shipping Province", "Shipping Country", "Shipping Phone", "Notes", "Note Attributes",
    "Cancelled at", "Payment Method", "Refunded Amount", "Vendor", "Id", "Tags",
    "Risk Level", "Source", "Phone",
]  # fmt: skip


def _shopify_time(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S +0800") if dt else ""


def _shopify(o: SynthOrder, r: random.Random) -> list[list[str]]:
    c = o.customer
    financial = {
        "unpaid": "pending", "paid": "paid", "shipped": "paid", "completed": "paid",
        "cancelled": "voided", "refunded": "refunded", "refused": "refunded",
    }[o.status]  # fmt: skip
    if o.status == "completed" and o.refunded_fen:
        financial = "partially_refunded"
    fulfilled = o.status in ("shipped", "completed", "refused")
    cancelled = o.status in ("cancelled", "refunded", "refused")
    cancel_at = o.created + timedelta(hours=r.randrange(1, 96)) if cancelled else None
    phone = f"+86 {c.phone[:3]} {c.phone[3:7]} {c.phone[7:]}"
    address = f"{c.district} {c.street}"
    rows = []
    for i, (title, sku, qty, price) in enumerate(o.lines):
        first = i == 0
        rows.append([
            f"#{1001 + o.seq}", c.email, financial if first else "",
            _shopify_time(o.paid) if first else "",
            ("fulfilled" if fulfilled else "unfulfilled") if first else "",
            _shopify_time(o.paid + timedelta(days=1)) if first and fulfilled and o.paid else "",
            "yes" if first and r.random() < 0.4 else ("no" if first else ""),
            "CNY" if first else "",
            _yuan(o.goods_fen) if first else "", _yuan(o.shipping_fen) if first else "",
            "0.00" if first else "", _yuan(o.paid_fen) if first else "",
            o.coupon_code if first else "",
            _yuan(o.discount_fen + o.coupon_fen) if first else "",
            "Standard" if first else "", _shopify_time(o.created) if first else "",
            str(qty), title, _yuan(price), "", sku, "true", "true",
            "fulfilled" if fulfilled else "pending",
            c.name if first else "", address if first else "", address if first else "",
            c.city if first else "", "310000" if first else "", c.province if first else "",
            "CN" if first else "", phone if first else "", c.name if first else "",
            address if first else "", address if first else "", c.city if first else "",
            "310000" if first else "", c.province if first else "", "CN" if first else "",
            phone if first else "", "",
            f"birthday: {c.birthday}" if first and c.birthday else "",
            _shopify_time(cancel_at) if first else "", "alipay" if first else "",
            _yuan(o.refunded_fen) if first else "", "kefu demo shop",
            str(5_000_000_000 + o.seq) if first else "",
            ("refused-delivery" if o.status == "refused" else "") if first else "",
            "Low" if first else "", "web" if first else "", "",
        ])  # fmt: skip
    return rows


GENERIC_HEADER = [
    "order_id", "buyer_id", "created_at", "paid_at", "status", "amount_paid", "discount",
    "coupon", "refunded", "item_title", "item_sku", "quantity", "unit_price", "name", "phone",
    "email", "province", "city", "address", "birthday",
]  # fmt: skip


def _generic(o: SynthOrder, r: random.Random) -> list[list[str]]:
    c = o.customer
    head = [
        _order_number("generic", o.seq), c.buyer_id, _ts(o.created), _ts(o.paid), o.status,
        _yuan(o.paid_fen) if o.paid else "0.00", _yuan(o.discount_fen), _yuan(o.coupon_fen),
        _yuan(o.refunded_fen),
    ]  # fmt: skip
    tail = [c.name, c.phone, c.email, c.province, c.city, f"{c.district} {c.street}", c.birthday]
    return [[*head, t, s, str(q), _yuan(p), *tail] for t, s, q, p in o.lines]


_Writer = Callable[[SynthOrder, random.Random], list[list[str]]]
_FORMATS: dict[str, tuple[list[str], _Writer, str]] = {
    "taobao": (TAOBAO_HEADER, _taobao, "gbk"),
    "jd": (JD_HEADER, _jd, "gbk"),
    "shopify": (SHOPIFY_HEADER, _shopify, "utf-8"),
    "generic": (GENERIC_HEADER, _generic, "utf-8"),
}


def _order_counts(rng: random.Random, customers: int, orders: int) -> list[int]:
    """Orders per customer: everyone buys once (while orders last); over half stop there,
    the rest share the remaining orders by Pareto weights, so a handful buy dozens of times."""
    n = min(customers, orders)
    counts = [1] * n
    extra = orders - n
    if extra and n:
        weights = [
            0.0 if rng.random() < 0.55 else min(60.0, rng.paretovariate(1.1)) for _ in range(n)
        ]
        cum = list(itertools.accumulate(weights))
        top = cum[-1]
        if top == 0:
            cum = list(range(1, n + 1))
            top = n
        rand = rng.random
        for _ in range(extra):
            counts[bisect.bisect(cum, rand() * top)] += 1
    return counts


def generate(
    out: Path,
    *,
    customers: int,
    orders: int,
    preset: str,
    seed: int,
    start: date,
    end: date,
) -> None:
    """Write a synthetic export of ``orders`` orders by up to ``customers`` buyers."""
    if preset not in _FORMATS:
        raise ValueError(f"unknown preset {preset!r}; use one of {', '.join(PRESETS)}")
    if customers < 1 or orders < 0:
        raise ValueError("customers must be at least 1 and orders at least 0")
    if end < start:
        raise ValueError("end must not be before start")
    header, write_rows, encoding = _FORMATS[preset]
    rng = random.Random(seed)
    shop = _Shop(rng, start, end, preset)
    counts = _order_counts(rng, customers, orders)
    # order numbers follow creation time only roughly in real exports; here each
    # customer's history is written together and numbers are scrambled sequence numbers
    seq = 0
    with open(out, "w", encoding=encoding, newline="", buffering=1 << 20) as f:
        writer = csv.writer(f)  # Excel dialect: CRLF, quotes only where needed
        writer.writerow(header)
        for i, k in enumerate(counts):
            c = shop.customer(i)
            created: datetime | None = None
            cycle = min(c.cycle_days, 0.6 * shop.span_days / k)  # k orders fit the period
            for _ in range(k):
                created = shop.day(created, cycle, (k - 1) * cycle)
                writer.writerows(write_rows(shop.order(seq, c, created), rng))
                seq += 1


def local_to_utc(dt: datetime) -> int:
    """Unix seconds of a shop-local (UTC+8) time the generator wrote."""
    return int((dt - _OFFSET).replace(tzinfo=UTC).timestamp())
