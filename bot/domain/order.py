"""The canonical order: what every importer produces, whatever the platform wrote.

Money is integer fen; times are UTC unix seconds. Importers normalise platform
words (交易成功, fulfilled, 等待买家付款 ...) to one of ``STATUSES``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

UNPAID = "unpaid"
PAID = "paid"
SHIPPED = "shipped"
COMPLETED = "completed"
CANCELLED = "cancelled"
REFUNDED = "refunded"
REFUSED = "refused"

STATUSES: tuple[str, ...] = (UNPAID, PAID, SHIPPED, COMPLETED, CANCELLED, REFUNDED, REFUSED)
#: Orders whose money the shop keeps (minus any partial refund).
COUNTED_STATUSES: frozenset[str] = frozenset({PAID, SHIPPED, COMPLETED})


@dataclass(frozen=True, slots=True)
class Item:
    title: str
    quantity: int = 1
    unit_price_fen: int = 0
    sku: str = ""


@dataclass(frozen=True, slots=True)
class Buyer:
    """What an order export says about its buyer (basic tier of the archive)."""

    name: str = ""
    phone: str = ""
    email: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    address: str = ""


@dataclass(frozen=True, slots=True)
class Order:
    platform: str
    order_id: str
    buyer_id: str
    created_at: int
    status: str
    amount_paid_fen: int
    paid_at: int | None = None
    discount_fen: int = 0
    coupon_fen: int = 0
    refunded_fen: int = 0
    items: tuple[Item, ...] = field(default_factory=tuple)
    buyer: Buyer = field(default_factory=Buyer)

    @property
    def counted(self) -> bool:
        """True when the order counts as a purchase (paid, not cancelled/refunded/refused)."""
        return self.status in COUNTED_STATUSES
