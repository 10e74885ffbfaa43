-- The shop-wide segment step (bot/storage/segments.py: averages, ABC ranking, scores,
-- and which rows changed) reads the customers that have RFM in spend order. This
-- covering index spares it a sort of the whole shop and a read of the wide rows.
CREATE INDEX customers_seg_rank ON customers (
    rfm_monetary_fen DESC, buyer_id, platform, rfm_last_day, rfm_frequency,
    rfm_cell, rfm_score, value_class, abc_class
) WHERE rfm_last_day IS NOT NULL;
