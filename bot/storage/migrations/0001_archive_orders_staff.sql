-- The customer archive, orders, staff and the import log.
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    buyer_id TEXT NOT NULL,
    -- basic tier
    name TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    province TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    district TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    -- middle tier
    qq TEXT NOT NULL DEFAULT '',
    wechat TEXT NOT NULL DEFAULT '',
    gender TEXT NOT NULL DEFAULT '',
    age INTEGER,
    -- value tier
    birthday TEXT,                      -- 'YYYY-MM-DD', or '--MM-DD' when the year is unknown
    -- high-value tier
    typical_unit_price_fen INTEGER,
    purchase_cycle_days INTEGER,
    family_notes TEXT NOT NULL DEFAULT '',
    -- aggregates, refreshed by every import for the customers it touched
    order_count INTEGER NOT NULL DEFAULT 0,
    paid_order_count INTEGER NOT NULL DEFAULT 0,
    total_spent_fen INTEGER NOT NULL DEFAULT 0,
    first_purchase_at INTEGER,
    last_purchase_at INTEGER,
    avg_order_value_fen INTEGER,
    avg_interval_s INTEGER,
    discount_order_count INTEGER NOT NULL DEFAULT 0,
    coupon_order_count INTEGER NOT NULL DEFAULT 0,
    discount_total_fen INTEGER NOT NULL DEFAULT 0,
    coupon_total_fen INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (platform, buyer_id)
);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    order_id TEXT NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    created_at INTEGER NOT NULL,
    paid_at INTEGER,
    status TEXT NOT NULL CHECK (status IN
        ('unpaid', 'paid', 'shipped', 'completed', 'cancelled', 'refunded', 'refused')),
    amount_paid_fen INTEGER NOT NULL,
    discount_fen INTEGER NOT NULL DEFAULT 0,
    coupon_fen INTEGER NOT NULL DEFAULT 0,
    refunded_fen INTEGER NOT NULL DEFAULT 0,
    item_count INTEGER NOT NULL DEFAULT 0,
    items_json TEXT NOT NULL DEFAULT '[]',
    receiver_name TEXT NOT NULL DEFAULT '',
    receiver_phone TEXT NOT NULL DEFAULT '',
    receiver_email TEXT NOT NULL DEFAULT '',
    province TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    district TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    imported_at INTEGER NOT NULL,
    UNIQUE (platform, order_id)
);
-- covers the per-customer aggregates, so refreshing them never sorts nor reads rows
CREATE INDEX orders_by_customer ON orders (
    customer_id, created_at, status, amount_paid_fen, refunded_fen, paid_at, discount_fen, coupon_fen
);

CREATE TABLE staff (
    user_id INTEGER PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
    added_by INTEGER,
    added_at INTEGER NOT NULL
);

CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    preset TEXT NOT NULL,
    by_user INTEGER,
    rows_read INTEGER NOT NULL,
    orders_new INTEGER NOT NULL,
    orders_updated INTEGER NOT NULL,
    orders_unchanged INTEGER NOT NULL,
    rows_skipped INTEGER NOT NULL,
    customers_new INTEGER NOT NULL,
    customers_updated INTEGER NOT NULL,
    finished_at INTEGER NOT NULL
);
