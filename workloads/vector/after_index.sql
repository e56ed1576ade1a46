CREATE INDEX vec_items_category ON vec_items (category);
CREATE INDEX vec_items_rank_key ON vec_items (rank_key);
VACUUM ANALYZE vec_items;
ANALYZE vec_queries;
ANALYZE vec_truth;
