-- Segmentation (RFM, value classes, ABC, price sensitivity) stored per customer,
-- daily snapshots of the distribution, and the shop-wide figures of the last refresh.
-- Written only by bot/storage/segments.py; the rules are in bot/domain/rfm.py & co.

-- shop-local day number (days since 1970-01-01 in the shop's time zone) of the last
-- counted purchase ever; recency = today's day number - rfm_last_day
ALTER TABLE customers ADD COLUMN rfm_last_day INTEGER;
ALTER TABLE customers ADD COLUMN rfm_frequency INTEGER;        -- F: counted orders in the window
ALTER TABLE customers ADD COLUMN rfm_monetary_fen INTEGER;     -- M: their net amount, fen
ALTER TABLE customers ADD COLUMN rfm_r INTEGER;                -- level (tier mode) or score 1-5
ALTER TABLE customers ADD COLUMN rfm_f INTEGER;
ALTER TABLE customers ADD COLUMN rfm_m INTEGER;
ALTER TABLE customers ADD COLUMN rfm_cell TEXT;                -- 'R3F2M3'; NULL: no counted order
ALTER TABLE customers ADD COLUMN rfm_score INTEGER;            -- score mode: 100R + 10F + M
ALTER TABLE customers ADD COLUMN value_class TEXT;             -- ValueClass.code
ALTER TABLE customers ADD COLUMN abc_class TEXT;               -- 'A', 'B', 'C'
ALTER TABLE customers ADD COLUMN price_level TEXT;             -- high, medium, low, unknown
ALTER TABLE customers ADD COLUMN price_orders INTEGER;         -- the figures behind price_level
ALTER TABLE customers ADD COLUMN price_deal_orders INTEGER;
ALTER TABLE customers ADD COLUMN price_off_fen INTEGER;        -- discounts + coupons
ALTER TABLE customers ADD COLUMN price_list_fen INTEGER;       -- paid + discounts + coupons
ALTER TABLE customers ADD COLUMN price_net_fen INTEGER;        -- paid - refunded
ALTER TABLE customers ADD COLUMN price_promo_net_fen INTEGER;  -- of which on promotion days
ALTER TABLE customers ADD COLUMN segments_as_of TEXT;          -- 'YYYY-MM-DD': when last written

CREATE INDEX customers_by_class ON customers (value_class, rfm_monetary_fen);
CREATE INDEX customers_by_cell ON customers (rfm_cell, rfm_monetary_fen);
CREATE INDEX customers_by_abc ON customers (abc_class, rfm_monetary_fen);

-- one row per day, kind ('cell', 'class', 'abc') and key: how many customers
CREATE TABLE segment_snapshots (
    day TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('cell', 'class', 'abc')),
    key TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (day, kind, key)
) WITHOUT ROWID;

-- the last full refresh: as-of day, time zone, configuration and shop-wide figures (JSON)
CREATE TABLE segment_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    as_of TEXT NOT NULL,
    tz TEXT NOT NULL,
    config TEXT NOT NULL,
    figures TEXT NOT NULL,
    refreshed_at INTEGER NOT NULL
);
