-- No index per segment key. The per-key indexes (class, cell, ABC class, each with the
-- spend; price level) moved whenever a customer's spend changed: four of the five
-- index entries an import moved per customer, on random pages. Now:
-- * the counts per class, cell, ABC class and price level are kept by each refresh in
--   segment_state (the moves of the customers it writes), so /segments and the daily
--   snapshot read them, not the customers;
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
