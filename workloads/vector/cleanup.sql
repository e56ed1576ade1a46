DROP TABLE IF EXISTS vec_items, vec_queries, vec_truth, vec_state;
DROP FUNCTION IF EXISTS vec_mark_changed();
