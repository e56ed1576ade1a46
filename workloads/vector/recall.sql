-- recall@k of the searches as the run ran them (same settings, same index), over the
-- query set: against the ground truth made at load while the items are those it was made
-- for, else against an exact scan done now on the first {{exact_queries}} queries.
WITH r AS (
    SELECT (SELECT count(*)
            FROM (SELECT i.id FROM vec_items i
                  ORDER BY i.embedding {{metric.op}} q.embedding LIMIT {{k}}) a
            WHERE a.id IN (SELECT t.item_id FROM vec_truth t
                           WHERE t.query_id = q.id AND t.rank <= {{k}}))::float8 / {{k}} AS r
    FROM vec_queries q
    WHERE NOT (SELECT changed FROM vec_state)
    UNION ALL
    SELECT (SELECT count(*)
            FROM (SELECT i.id FROM vec_items i
                  ORDER BY i.embedding {{metric.op}} q.embedding LIMIT {{k}}) a
            WHERE a.id IN (SELECT e.id FROM vec_items e
                           ORDER BY (e.embedding {{metric.op}} q.embedding) + 0 LIMIT {{k}}))::float8 / {{k}}
    FROM vec_queries q
    WHERE (SELECT changed FROM vec_state) AND q.id <= {{exact_queries}}
)
SELECT avg(r) AS recall,
       percentile_cont(0.05) WITHIN GROUP (ORDER BY r) AS recall_p5,
       min(r) AS recall_min,
       count(*) AS recall_queries,
       (SELECT changed::int FROM vec_state) AS recall_by_exact_scan
FROM r
