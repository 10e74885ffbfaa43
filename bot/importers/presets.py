"""The platforms' export formats: which column holds what, and what their status words mean.

A preset maps canonical fields (``order_id``, ``amount_paid`` ...) to the header names
the platform writes; the first candidate present in a file's header is used. Headers
are compared after stripping spaces and case. The columns of every preset are listed
in the README, under "Import formats".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.domain.order import (
    CANCELLED,
    COMPLETED,
    PAID,
    REFUNDED,
    REFUSED,
    SHIPPED,
    STATUSES,
    UNPAID,
)

#: Canonical fields a preset may map. ``*_at`` are times, money fields are amounts.
FIELDS: tuple[str, ...] = (
    "order_id", "buyer_id", "created_at", "paid_at", "status", "amount_paid", "discount",
    "coupon", "refunded", "item_title", "item_sku", "quantity", "unit_price", "goods_total",
    "name", "phone", "email", "province", "city", "district", "address",
    "close_reason", "fulfillment", "cancelled_at", "tags",
)  # fmt: skip
MONEY_FIELDS = frozenset(
    {"amount_paid", "discount", "coupon", "refunded", "unit_price", "goods_total"}
)
REQUIRED: tuple[str, ...] = ("order_id", "created_at", "status", "amount_paid")

#: (status word or words, refunded fen, close reason, fulfillment, cancelled, tags) → status
StatusRule = Callable[[str, int, str, str, str, str], str]


def norm_header(name: str) -> str:
    return name.replace("\ufeff", "").strip().strip('"').strip().lower()


@dataclass(frozen=True)
class Preset:
    name: str
    platform: str
    columns: Mapping[str, tuple[str, ...]]
    statuses: Mapping[str, str]
    #: headers that, all present, identify this preset's export
    signature: tuple[str, ...] = ()
    #: consecutive rows with the same order id are one order's line items
    line_items: bool = False
    #: amount_paid is per line item and is summed (Shopify writes it on the first row only)
    time_format: str | None = None
    encoding: str | None = None
    rule: StatusRule | None = None
    description: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)

    def status_of(
        self, word: str, refunded: int, reason: str, fulfillment: str, cancelled: str, tags: str
    ) -> str | None:
        if self.rule is not None:
            return self.rule(word, refunded, reason, fulfillment, cancelled, tags)
        status = self.statuses.get(word)
        if status is None:
            status = self.statuses.get(word.strip().lower())
        if status is None:
            return None
        return closed(status, refunded, reason)


def closed(status: str, refunded: int, reason: str) -> str:
    """A cancelled order that was paid back is refunded; one the buyer refused, refused."""
    if status == CANCELLED:
        if "拒收" in reason or "refused" in reason.lower():
            return REFUSED
        if refunded > 0:
            return REFUNDED
    return status


_TAOBAO_STATUS = {
    "等待买家付款": UNPAID,
    "买家已付款，等待卖家发货": PAID,
    "买家已付款,等待卖家发货": PAID,
    "等待卖家发货": PAID,
    "买家已付款，退款中": PAID,
    "退款中": PAID,
    "卖家部分发货": SHIPPED,
    "卖家已发货，等待买家确认": SHIPPED,
    "卖家已发货,等待买家确认": SHIPPED,
    "等待买家确认收货": SHIPPED,
    "交易成功": COMPLETED,
    "交易关闭": CANCELLED,
    "交易自动关闭": CANCELLED,
    "付款以前，卖家或买家主动关闭交易": CANCELLED,
    "付款以后用户退款成功，交易自动关闭": REFUNDED,
    "拒收": REFUSED,
}

TAOBAO = Preset(
    name="taobao",
    platform="taobao",
    description="Taobao/Tmall 订单报表 (GBK, one row per order)",
    signature=("订单编号", "买家会员名", "订单状态"),
    encoding="gbk",
    statuses=_TAOBAO_STATUS,
    columns={
        "order_id": ("订单编号",),
        "buyer_id": ("买家会员名",),
        "created_at": ("订单创建时间",),
        "paid_at": ("订单付款时间",),
        "status": ("订单状态",),
        "amount_paid": ("买家实际支付金额",),
        "goods_total": ("买家应付货款", "总金额"),
        "discount": ("店铺优惠",),
        "coupon": ("天猫卡券抵扣",),
        "refunded": ("退款金额",),
        "item_title": ("宝贝标题",),
        "quantity": ("宝贝总数量",),
        "name": ("收货人姓名",),
        "phone": ("联系手机", "联系电话"),
        "address": ("收货地址",),
        "close_reason": ("订单关闭原因",),
    },
)

_JD_STATUS = {
    "等待付款": UNPAID,
    "等待出库": PAID,
    "等待发货": PAID,
    "锁定": PAID,
    "等待确认收货": SHIPPED,
    "已发货": SHIPPED,
    "完成": COMPLETED,
    "已完成": COMPLETED,
    "已取消": CANCELLED,
    "取消": CANCELLED,
    "已退款": REFUNDED,
    "退款成功": REFUNDED,
    "拒收": REFUSED,
    "已拒收": REFUSED,
}

JD = Preset(
    name="jd",
    platform="jd",
    description="JD 订单导出 (GBK, one row per item, order fields repeated)",
    signature=("订单号", "订单状态", "下单时间"),
    encoding="gbk",
    line_items=True,
    statuses=_JD_STATUS,
    columns={
        "order_id": ("订单号",),
        "buyer_id": ("下单帐号", "下单账号", "用户账号"),
        "created_at": ("下单时间",),
        "paid_at": ("付款确认时间",),
        "status": ("订单状态",),
        "amount_paid": ("应付金额",),
        "goods_total": ("订单金额",),
        "discount": ("优惠金额",),
        "coupon": ("京券优惠",),
        "refunded": ("退款金额",),
        "item_title": ("商品名称",),
        "item_sku": ("商品ID",),
        "quantity": ("订购数量",),
        "unit_price": ("京东价", "商品单价"),
        "name": ("客户姓名",),
        "phone": ("联系电话",),
        "address": ("客户地址",),
        "close_reason": ("订单备注", "取消原因"),
    },
)


def _shopify_status(
    financial: str, refunded: int, reason: str, fulfillment: str, cancelled: str, tags: str
) -> str | None:
    f = financial.strip().lower()
    refused = "refused" in tags.lower()
    if f in ("refunded", "voided") or cancelled:
        if refused:
            return REFUSED
        return REFUNDED if f == "refunded" or (refunded > 0 and f != "voided") else CANCELLED
    if f in ("pending", "authorized", "unpaid", "expired"):
        return UNPAID
    if f in ("paid", "partially_refunded", "partially_paid"):
        if refused:
            return REFUSED
        ful = fulfillment.strip().lower()
        if ful == "fulfilled":
            return COMPLETED
        if ful in ("partial", "partially_fulfilled", "shipped"):
            return SHIPPED
        return PAID
    return None


SHOPIFY = Preset(
    name="shopify",
    platform="shopify",
    description="Shopify orders CSV (UTF-8, one row per line item, order fields on the first)",
    signature=("name", "financial status", "lineitem name"),
    line_items=True,
    rule=_shopify_status,
    statuses={
        w: w for w in ("paid", "pending", "authorized", "refunded", "partially_refunded", "voided")
    },
    columns={
        "order_id": ("Name",),
        "buyer_id": ("Email", "Billing Phone", "Billing Name"),
        "created_at": ("Created at",),
        "paid_at": ("Paid at",),
        "status": ("Financial Status",),
        "fulfillment": ("Fulfillment Status",),
        "cancelled_at": ("Cancelled at",),
        "amount_paid": ("Total",),
        "goods_total": ("Subtotal",),
        "discount": ("Discount Amount",),
        "refunded": ("Refunded Amount",),
        "item_title": ("Lineitem name",),
        "item_sku": ("Lineitem sku",),
        "quantity": ("Lineitem quantity",),
        "unit_price": ("Lineitem price",),
        "name": ("Billing Name", "Shipping Name"),
        "phone": ("Billing Phone", "Shipping Phone", "Phone"),
        "email": ("Email",),
        "province": ("Shipping Province Name", "Shipping Province"),
        "city": ("Shipping City",),
        "address": ("Shipping Address1", "Shipping Street"),
        "tags": ("Tags",),
    },
)

_GENERIC_STATUS = {s: s for s in STATUSES} | {
    "pending": UNPAID,
    "canceled": CANCELLED,
    "delivered": COMPLETED,
    "fulfilled": COMPLETED,
    "returned": REFUNDED,
    "refused delivery": REFUSED,
}

GENERIC = Preset(
    name="generic",
    platform="generic",
    description="plain English columns (UTF-8, one row per line item, order fields repeated)",
    signature=("order_id", "buyer_id", "created_at"),
    line_items=True,
    statuses=_GENERIC_STATUS,
    columns={f: (f,) for f in FIELDS if f not in ("fulfillment", "cancelled_at", "tags")}
    | {"amount_paid": ("amount_paid",), "coupon": ("coupon",), "discount": ("discount",)},
)

BUILTIN: dict[str, Preset] = {p.name: p for p in (TAOBAO, JD, SHOPIFY, GENERIC)}
PRESETS: tuple[str, ...] = tuple(BUILTIN)


def detect(header: list[str]) -> Preset | None:
    """The preset whose signature columns all appear in ``header``."""
    names = {norm_header(h) for h in header}
    for preset in BUILTIN.values():
        if all(norm_header(s) in names for s in preset.signature):
            return preset
    return None
