-- One index for the segment keys instead of one per key. The per-key indexes (class,
-- cell, ABC class, each with the spend; price level) moved whenever a customer's spend
-- changed: four of the five index entries an import moved per customer. Now:
-- * customers_by_segment (class, cell, ABC class, price level) counts every kind in one
--   pass (/segments, the daily snapshot) and finds a class's members; an entry moves
--   only when one of the keys changes;
-- * customers_seg_rank, the spend ranking, carries the class and cell too, so a
--   segment's list (biggest spend first) is read from it in order, its members picked
--   out by the index alone.
DROP INDEX customers_by_class;
DROP INDEX customers_by_cell;
DROP INDEX customers_by_abc;
DROP INDEX customers_by_price_level;
DROP INDEX customers_seg_rank;
CREATE INDEX customers_seg_rank ON customers (
    rfm_monetary_fen DESC, buyer_id, platform, rfm_last_day, rfm_frequency, abc_class,
    value_class, rfm_cell
) WHERE rfm_last_day IS NOT NULL;
CREATE INDEX customers_by_segment ON customers (value_class, rfm_cell, abc_class, price_level);
