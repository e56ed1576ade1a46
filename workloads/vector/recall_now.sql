-- recall@k now, against an exact scan of the items as they are at this moment (rows
-- inserted during the run included), on the first {{exact_queries}} queries.
SELECT avg(r) AS recall_now, min(r) AS recall_now_min
FROM (
    SELECT (SELECT count(*)
            FROM (SELECT i.id FROM vec_items i
                  ORDER BY i.embedding {{metric.op}} q.embedding LIMIT {{k}}) a
            WHERE a.id IN (SELECT e.id FROM vec_items e
                           ORDER BY (e.embedding {{metric.op}} q.embedding) + 0 LIMIT {{k}}))::float8 / {{k}} AS r
    FROM vec_queries q
    WHERE q.id <= {{exact_queries}}
) s
