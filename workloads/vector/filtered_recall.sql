-- recall@k of the filtered search (rank_key below the selectivity's cut) over the first
-- {{exact_queries}} queries, against an exact scan of the rows that pass the filter.
SELECT avg(r) AS filtered_recall, min(r) AS filtered_recall_min,
       (SELECT count(*) FROM vec_items WHERE rank_key < {{selectivity}} * 1000000)::float8
           / greatest((SELECT count(*) FROM vec_items), 1) AS filtered_selectivity
FROM (
    SELECT (SELECT count(*)
            FROM (SELECT i.id FROM vec_items i
                  WHERE i.rank_key < {{selectivity}} * 1000000
                  ORDER BY i.embedding {{metric.op}} q.embedding LIMIT {{k}}) a
            WHERE a.id IN (SELECT e.id FROM vec_items e
                           WHERE e.rank_key < {{selectivity}} * 1000000
                           ORDER BY (e.embedding {{metric.op}} q.embedding) + 0 LIMIT {{k}}))::float8
           / least({{k}}, greatest((SELECT count(*) FROM vec_items WHERE rank_key < {{selectivity}} * 1000000), 1)) AS r
    FROM vec_queries q
    WHERE q.id <= {{exact_queries}}
) s
