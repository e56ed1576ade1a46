-- The five TPC-C transactions as client-side statements (clause 2), prepared once per
-- connection. Money travels as integer cents; each block is one statement.

-- name: no_customer
SELECT c_discount::float8, c_last, c_credit, w_tax::float8
  FROM customer JOIN warehouse ON w_id = c_w_id
 WHERE c_w_id = $1::int4 AND c_d_id = $2::int4 AND c_id = $3::int4;
-- name: no_district
UPDATE district SET d_next_o_id = d_next_o_id + 1
 WHERE d_w_id = $1::int4 AND d_id = $2::int4
RETURNING d_next_o_id - 1, d_tax::float8;
-- name: no_order
INSERT INTO orders (o_id, o_d_id, o_w_id, o_c_id, o_entry_d, o_carrier_id, o_ol_cnt, o_all_local)
VALUES ($1::int4, $2::int4, $3::int4, $4::int4, now(), NULL, $5::int4, $6::int4);
-- name: no_new_order
INSERT INTO new_order (no_o_id, no_d_id, no_w_id) VALUES ($1::int4, $2::int4, $3::int4);
-- name: no_items
SELECT i_id, (i_price * 100)::int4, i_name, i_data FROM item WHERE i_id = ANY($1::int4[]);
-- name: no_stock
UPDATE stock
   SET s_quantity = CASE WHEN s_quantity - $3::int4 >= 10 THEN s_quantity - $3::int4
                         ELSE s_quantity - $3::int4 + 91 END,
       s_ytd = s_ytd + $3::int4,
       s_order_cnt = s_order_cnt + 1,
       s_remote_cnt = s_remote_cnt + $4::int4
 WHERE s_i_id = $1::int4 AND s_w_id = $2::int4
RETURNING s_data::text,
          (CASE $5::int4 WHEN 1 THEN s_dist_01 WHEN 2 THEN s_dist_02 WHEN 3 THEN s_dist_03
                         WHEN 4 THEN s_dist_04 WHEN 5 THEN s_dist_05 WHEN 6 THEN s_dist_06
                         WHEN 7 THEN s_dist_07 WHEN 8 THEN s_dist_08 WHEN 9 THEN s_dist_09
                         ELSE s_dist_10 END)::text;
-- name: no_line
INSERT INTO order_line (ol_o_id, ol_d_id, ol_w_id, ol_number, ol_i_id, ol_supply_w_id,
                        ol_delivery_d, ol_quantity, ol_amount, ol_dist_info)
VALUES ($1::int4, $2::int4, $3::int4, $4::int4, $5::int4, $6::int4, NULL, $7::int4,
        $8::int4 * 0.01, $9::text);
-- name: pay_warehouse
UPDATE warehouse SET w_ytd = w_ytd + $2::int4 * 0.01 WHERE w_id = $1::int4
RETURNING w_name::text, w_street_1, w_street_2, w_city, w_state, w_zip;
-- name: pay_district
UPDATE district SET d_ytd = d_ytd + $3::int4 * 0.01 WHERE d_w_id = $1::int4 AND d_id = $2::int4
RETURNING d_name::text, d_street_1, d_street_2, d_city, d_state, d_zip;
-- name: customer_by_name
SELECT c_id FROM customer
 WHERE c_w_id = $1::int4 AND c_d_id = $2::int4 AND c_last = $3::text
 ORDER BY c_first;
-- name: pay_customer
UPDATE customer
   SET c_balance = c_balance - $4::int4 * 0.01,
       c_ytd_payment = c_ytd_payment + $4::int4 * 0.01,
       c_payment_cnt = c_payment_cnt + 1,
       c_data = CASE WHEN c_credit = 'BC'
                     THEN left(c_id || ' ' || c_d_id || ' ' || c_w_id || ' ' || $5::int4 || ' '
                               || $6::int4 || ' ' || ($4::int4 * 0.01) || ' | ' || c_data, 500)
                     ELSE c_data END
 WHERE c_w_id = $1::int4 AND c_d_id = $2::int4 AND c_id = $3::int4
RETURNING c_first, c_middle, c_last, c_street_1, c_street_2, c_city, c_state, c_zip, c_phone,
          c_since, c_credit, c_credit_lim::float8, c_discount::float8, c_balance::float8,
          left(c_data, 200);
-- name: pay_history
INSERT INTO history (h_c_id, h_c_d_id, h_c_w_id, h_d_id, h_w_id, h_date, h_amount, h_data)
VALUES ($1::int4, $2::int4, $3::int4, $4::int4, $5::int4, now(), $6::int4 * 0.01,
        $7::text || '    ' || $8::text);
-- name: os_customer
SELECT c_balance::float8, c_first, c_middle, c_last FROM customer
 WHERE c_w_id = $1::int4 AND c_d_id = $2::int4 AND c_id = $3::int4;
-- name: os_order
SELECT o_id, o_carrier_id, o_entry_d FROM orders
 WHERE o_w_id = $1::int4 AND o_d_id = $2::int4 AND o_c_id = $3::int4
 ORDER BY o_id DESC LIMIT 1;
-- name: os_lines
SELECT ol_i_id, ol_supply_w_id, ol_quantity, ol_amount::float8, ol_delivery_d FROM order_line
 WHERE ol_w_id = $1::int4 AND ol_d_id = $2::int4 AND ol_o_id = $3::int4;
-- name: dl_new_order
-- FOR UPDATE under the LIMIT: when a concurrent Delivery took the oldest order, read
-- committed moves on to the next one instead of skipping the district.
WITH oldest AS (
    SELECT no_o_id FROM new_order
     WHERE no_w_id = $1::int4 AND no_d_id = $2::int4
     ORDER BY no_o_id LIMIT 1 FOR UPDATE)
DELETE FROM new_order
 WHERE no_w_id = $1::int4 AND no_d_id = $2::int4 AND no_o_id = (SELECT no_o_id FROM oldest)
RETURNING no_o_id;
-- name: dl_order
UPDATE orders SET o_carrier_id = $4::int4
 WHERE o_w_id = $1::int4 AND o_d_id = $2::int4 AND o_id = $3::int4
RETURNING o_c_id;
-- name: dl_lines
WITH delivered AS (
    UPDATE order_line SET ol_delivery_d = now()
     WHERE ol_w_id = $1::int4 AND ol_d_id = $2::int4 AND ol_o_id = $3::int4
    RETURNING ol_amount)
SELECT (coalesce(sum(ol_amount), 0) * 100)::int8 FROM delivered;
-- name: dl_customer
UPDATE customer SET c_balance = c_balance + $4::int8 * 0.01, c_delivery_cnt = c_delivery_cnt + 1
 WHERE c_w_id = $1::int4 AND c_d_id = $2::int4 AND c_id = $3::int4;
-- name: sl_district
SELECT d_next_o_id FROM district WHERE d_w_id = $1::int4 AND d_id = $2::int4;
-- name: sl_count
SELECT count(DISTINCT s_i_id) FROM order_line
  JOIN stock ON s_w_id = ol_w_id AND s_i_id = ol_i_id
 WHERE ol_w_id = $1::int4 AND ol_d_id = $2::int4
   AND ol_o_id < $3::int4 AND ol_o_id >= $3::int4 - 20
   AND s_quantity < $4::int4;
-- name: begin_read_committed
BEGIN ISOLATION LEVEL READ COMMITTED;
-- name: begin_repeatable_read
BEGIN ISOLATION LEVEL REPEATABLE READ;
-- name: begin_serializable
BEGIN ISOLATION LEVEL SERIALIZABLE;
-- name: commit
COMMIT;
-- name: proc_new_order
SELECT tpcc_new_order($1::int4, $2::int4, $3::int4, $4::int4[], $5::int4[], $6::int4[])::float8;
-- name: proc_payment
SELECT tpcc_payment($1::int4, $2::int4, $3::int4, $4::int4, $5::bool, $6::int4, $7::text, $8::int4);
-- name: proc_order_status
SELECT tpcc_order_status($1::int4, $2::int4, $3::bool, $4::int4, $5::text);
-- name: proc_delivery
SELECT tpcc_delivery($1::int4, $2::int4);
-- name: proc_stock_level
SELECT tpcc_stock_level($1::int4, $2::int4, $3::int4);
