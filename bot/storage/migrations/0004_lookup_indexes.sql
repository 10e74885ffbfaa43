-- Indexes for /whois and /find (bot/storage/lookup.py reads them).
--
-- search_grams: what /find and /whois look phones and names up by, kept current by the
-- triggers below whenever a customer's name or phone changes (the import refreshes
-- profiles with an UPDATE, so no writer has to remember it). Grams, by first letter:
--   P<digits>   the whole phone number, digits only (' ', '-', '+', '(', ')', '.' dropped)
--   p<4 digits> every 4 consecutive digits of it: "any 4+ digits of the phone"
--   N<name>     the whole name, trimmed, ASCII lower-cased
--   t<3 chars>  every 3 consecutive characters of that name
--   b<2 chars>  every 2 consecutive characters, for names with non-ASCII characters
--               (Chinese names are 2-4 characters: 小明 must find 王小明)
-- bot/storage/lookup.py computes the same grams for a query; keep the two in step.

CREATE INDEX orders_by_order_id ON orders (order_id);
CREATE INDEX customers_by_buyer_id ON customers (buyer_id COLLATE NOCASE);
CREATE INDEX customers_by_email ON customers (email COLLATE NOCASE) WHERE email != '';

-- 1..100: the positions a gram may start at
CREATE TABLE search_positions (i INTEGER PRIMARY KEY);
INSERT INTO search_positions (i)
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
    SELECT i FROM n;

CREATE TABLE search_grams (
    gram TEXT NOT NULL,
    customer_id INTEGER NOT NULL,
    PRIMARY KEY (gram, customer_id)
) WITHOUT ROWID;

-- customers already in the archive
INSERT OR IGNORE INTO search_grams (gram, customer_id)
    SELECT 'P' || replace(replace(replace(replace(replace(replace(c.phone, ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', ''), c.id FROM customers c WHERE length(replace(replace(replace(replace(replace(replace(c.phone, ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', '')) >= 4
    UNION ALL SELECT 'p' || substr(replace(replace(replace(replace(replace(replace(c.phone, ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', ''), p.i, 4), c.id FROM customers c, search_positions p
        WHERE p.i <= length(replace(replace(replace(replace(replace(replace(c.phone, ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', '')) - 3
    UNION ALL SELECT 'N' || lower(trim(c.name)), c.id FROM customers c WHERE lower(trim(c.name)) != ''
    UNION ALL SELECT 't' || substr(lower(trim(c.name)), p.i, 3), c.id FROM customers c, search_positions p
        WHERE p.i <= length(lower(trim(c.name))) - 2
    UNION ALL SELECT 'b' || substr(lower(trim(c.name)), p.i, 2), c.id FROM customers c, search_positions p
        WHERE p.i <= length(lower(trim(c.name))) - 1 AND length(lower(trim(c.name))) != length(CAST(lower(trim(c.name)) AS BLOB));

CREATE TRIGGER search_grams_insert AFTER INSERT ON customers
WHEN NEW.name != '' OR NEW.phone != ''
BEGIN
    INSERT OR IGNORE INTO search_grams (gram, customer_id)
    SELECT 'P' || replace(replace(replace(replace(replace(replace(NEW.phone, ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', ''), NEW.id WHERE length(replace(replace(replace(replace(replace(replace(NEW.phone, ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', '')) >= 4
    UNION ALL SELECT 'p' || substr(replace(replace(replace(replace(replace(replace(NEW.phone, ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', ''), p.i, 4), NEW.id FROM search_positions p
        WHERE p.i <= length(replace(replace(replace(replace(replace(replace(NEW.phone, ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', '')) - 3
    UNION ALL SELECT 'N' || lower(trim(NEW.name)), NEW.id WHERE lower(trim(NEW.name)) != ''
    UNION ALL SELECT 't' || substr(lower(trim(NEW.name)), p.i, 3), NEW.id FROM search_positions p
        WHERE p.i <= length(lower(trim(NEW.name))) - 2
    UNION ALL SELECT 'b' || substr(lower(trim(NEW.name)), p.i, 2), NEW.id FROM search_positions p
        WHERE p.i <= length(lower(trim(NEW.name))) - 1 AND length(lower(trim(NEW.name))) != length(CAST(lower(trim(NEW.name)) AS BLOB));
END;

CREATE TRIGGER search_grams_update AFTER UPDATE OF name, phone ON customers
WHEN OLD.name IS NOT NEW.name OR OLD.phone IS NOT NEW.phone
BEGIN
    DELETE FROM search_grams WHERE customer_id = OLD.id AND gram IN (
        SELECT 'P' || replace(replace(replace(replace(replace(replace(OLD.phone, ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', '') WHERE length(replace(replace(replace(replace(replace(replace(OLD.phone, ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', '')) >= 4
    UNION ALL SELECT 'p' || substr(replace(replace(replace(replace(replace(replace(OLD.phone, ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', ''), p.i, 4) FROM search_positions p
        WHERE p.i <= length(replace(replace(replace(replace(replace(replace(OLD.phone, ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', '')) - 3
    UNION ALL SELECT 'N' || lower(trim(OLD.name)) WHERE lower(trim(OLD.name)) != ''
    UNION ALL SELECT 't' || substr(lower(trim(OLD.name)), p.i, 3) FROM search_positions p
        WHERE p.i <= length(lower(trim(OLD.name))) - 2
    UNION ALL SELECT 'b' || substr(lower(trim(OLD.name)), p.i, 2) FROM search_positions p
        WHERE p.i <= length(lower(trim(OLD.name))) - 1 AND length(lower(trim(OLD.name))) != length(CAST(lower(trim(OLD.name)) AS BLOB)));
    INSERT OR IGNORE INTO search_grams (gram, customer_id)
    SELECT 'P' || replace(replace(replace(replace(replace(replace(NEW.phone, ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', ''), NEW.id WHERE length(replace(replace(replace(replace(replace(replace(NEW.phone, ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', '')) >= 4
    UNION ALL SELECT 'p' || substr(replace(replace(replace(replace(replace(replace(NEW.phone, ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', ''), p.i, 4), NEW.id FROM search_positions p
        WHERE p.i <= length(replace(replace(replace(replace(replace(replace(NEW.phone, ' ', ''), '-', ''), '+', ''), '(', ''), ')', ''), '.', '')) - 3
    UNION ALL SELECT 'N' || lower(trim(NEW.name)), NEW.id WHERE lower(trim(NEW.name)) != ''
    UNION ALL SELECT 't' || substr(lower(trim(NEW.name)), p.i, 3), NEW.id FROM search_positions p
        WHERE p.i <= length(lower(trim(NEW.name))) - 2
    UNION ALL SELECT 'b' || substr(lower(trim(NEW.name)), p.i, 2), NEW.id FROM search_positions p
        WHERE p.i <= length(lower(trim(NEW.name))) - 1 AND length(lower(trim(NEW.name))) != length(CAST(lower(trim(NEW.name)) AS BLOB));
END;
