-- The per-customer figures behind group CLV, and the day a customer's figures next change
-- as the calendar moves (an order leaves the window, a purchase becomes a year old). With
-- them the daily segment refresh reads only the orders of the customers that changed,
-- not every order of the shop. NULL seg_next_day: not known (a new or re-imported
-- customer), recomputed by the next refresh. Written only by bot/storage/segments.py.
ALTER TABLE customers ADD COLUMN seg_first_day INTEGER;
ALTER TABLE customers ADD COLUMN seg_ya_last_day INTEGER;
ALTER TABLE customers ADD COLUMN seg_ya_frequency INTEGER;
ALTER TABLE customers ADD COLUMN seg_ya_monetary_fen INTEGER;
ALTER TABLE customers ADD COLUMN seg_y1_spend_fen INTEGER;
ALTER TABLE customers ADD COLUMN seg_y2_n INTEGER;
ALTER TABLE customers ADD COLUMN seg_next_day INTEGER;
