-- The exact top {{truth_k}} of every query, by a sequential scan: no vector index exists
-- yet. The load's own writes do not count as changes.
INSERT INTO vec_truth (query_id, rank, item_id)
SELECT q.id, t.rank, t.id
FROM vec_queries q
CROSS JOIN LATERAL (
    SELECT i.id, row_number() OVER (ORDER BY i.embedding {{metric.op}} q.embedding) AS rank
    FROM vec_items i
    ORDER BY i.embedding {{metric.op}} q.embedding
    LIMIT {{truth_k}}
) t;
UPDATE vec_state SET changed = false;
