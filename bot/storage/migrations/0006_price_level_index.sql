-- /segments counts customers per price-sensitivity level; without this it reads every
-- customer row.
CREATE INDEX customers_by_price_level ON customers (price_level);
