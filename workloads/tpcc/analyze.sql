-- Run after keys.sql; the statements are independent and run concurrently.
VACUUM ANALYZE warehouse;
VACUUM ANALYZE district;
VACUUM ANALYZE customer;
VACUUM ANALYZE history;
VACUUM ANALYZE new_order;
VACUUM ANALYZE orders;
VACUUM ANALYZE order_line;
VACUUM ANALYZE item;
VACUUM ANALYZE stock;
