-- Orders: "one row per (platform, order id)" moves from a table constraint to a unique
-- index on (order_id, platform), which also answers lookups by order id alone (the job of
-- the old orders_by_order_id, now gone: one index instead of two on every insert).
-- Unlike a table constraint an index can be dropped and rebuilt: the first import into an
-- empty archive loads without its indexes and builds each once (bot/storage/order_import.py),
-- several times faster than keeping them up to date row by row.
CREATE TABLE orders_new (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    order_id TEXT NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    created_at INTEGER NOT NULL,
    paid_at INTEGER,
    -- written out with OR: SQLite evaluates a CHECK's IN list at several times the cost
    -- (half the time of a bulk insert went there)
    status TEXT NOT NULL CHECK (status = 'unpaid' OR status = 'paid' OR status = 'shipped'
        OR status = 'completed' OR status = 'cancelled' OR status = 'refunded'
        OR status = 'refused'),
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
    imported_at INTEGER NOT NULL
);
INSERT INTO orders_new SELECT * FROM orders ORDER BY id;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE UNIQUE INDEX orders_by_order_id ON orders (order_id, platform);
-- covers the per-customer aggregates, so refreshing them never sorts nor reads rows
CREATE INDEX orders_by_customer ON orders (
    customer_id, created_at, status, amount_paid_fen, refunded_fen, paid_at, discount_fen, coupon_fen
);
