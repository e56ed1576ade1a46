-- Consistency conditions 1-4 (clause 3.3.2). Each returns: rows violating, rows checked,
-- and the first violation (NULL when none).

-- name: condition_1
SELECT count(*) FILTER (WHERE w.w_ytd <> d.ytd),
       count(*),
       min(format('warehouse %s: W_YTD %s but sum(D_YTD) %s', w.w_id, w.w_ytd, d.ytd))
           FILTER (WHERE w.w_ytd <> d.ytd)
  FROM warehouse w
  JOIN (SELECT d_w_id, sum(d_ytd) AS ytd FROM district GROUP BY d_w_id) d ON d.d_w_id = w.w_id;
-- name: condition_2
WITH o AS (SELECT o_w_id, o_d_id, max(o_id) AS max_o FROM orders GROUP BY o_w_id, o_d_id),
     n AS (SELECT no_w_id, no_d_id, max(no_o_id) AS max_no FROM new_order GROUP BY no_w_id, no_d_id),
     x AS (SELECT d.d_w_id, d.d_id, d.d_next_o_id - 1 AS next_1, o.max_o, n.max_no,
                  (o.max_o IS DISTINCT FROM d.d_next_o_id - 1
                   OR (n.max_no IS NOT NULL AND n.max_no <> d.d_next_o_id - 1)) AS bad
             FROM district d
             LEFT JOIN o ON o.o_w_id = d.d_w_id AND o.o_d_id = d.d_id
             LEFT JOIN n ON n.no_w_id = d.d_w_id AND n.no_d_id = d.d_id)
SELECT count(*) FILTER (WHERE bad), count(*),
       min(format('warehouse %s district %s: D_NEXT_O_ID - 1 = %s, max(O_ID) = %s, max(NO_O_ID) = %s',
                  d_w_id, d_id, next_1, max_o, coalesce(max_no::text, 'none')))
           FILTER (WHERE bad)
  FROM x;
-- name: condition_3
WITH n AS (SELECT no_w_id, no_d_id, count(*) AS cnt, max(no_o_id) - min(no_o_id) + 1 AS span
             FROM new_order GROUP BY no_w_id, no_d_id)
SELECT count(*) FILTER (WHERE cnt <> span), count(*),
       min(format('warehouse %s district %s: %s new orders but max(NO_O_ID) - min(NO_O_ID) + 1 = %s',
                  no_w_id, no_d_id, cnt, span))
           FILTER (WHERE cnt <> span)
  FROM n;
-- name: condition_4
WITH o AS (SELECT o_w_id, o_d_id, sum(o_ol_cnt) AS lines FROM orders GROUP BY o_w_id, o_d_id),
     l AS (SELECT ol_w_id, ol_d_id, count(*) AS lines FROM order_line GROUP BY ol_w_id, ol_d_id),
     x AS (SELECT d.d_w_id, d.d_id, coalesce(o.lines, 0) AS o_lines, coalesce(l.lines, 0) AS l_lines
             FROM district d
             LEFT JOIN o ON o.o_w_id = d.d_w_id AND o.o_d_id = d.d_id
             LEFT JOIN l ON l.ol_w_id = d.d_w_id AND l.ol_d_id = d.d_id)
SELECT count(*) FILTER (WHERE o_lines <> l_lines), count(*),
       min(format('warehouse %s district %s: sum(O_OL_CNT) = %s but %s order lines',
                  d_w_id, d_id, o_lines, l_lines))
           FILTER (WHERE o_lines <> l_lines)
  FROM x;
