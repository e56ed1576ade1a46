-- The five TPC-C transactions as server-side PL/pgSQL functions (tpcc.mode: procedures).
-- The client calls one function per transaction, inside BEGIN ... COMMIT sent in one
-- round trip. An unused item number raises SQLSTATE TC001: the client rolls back and
-- counts the New-Order as rolled back on purpose. Money arguments are integer cents.

CREATE OR REPLACE FUNCTION tpcc_new_order(p_w_id integer, p_d_id integer, p_c_id integer,
    p_item_ids integer[], p_supply_w_ids integer[], p_quantities integer[])
RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
    v_discount numeric;
    v_last varchar;
    v_credit char(2);
    v_w_tax numeric;
    v_d_tax numeric;
    v_o_id integer;
    v_ol_cnt integer := array_length(p_item_ids, 1);
    v_all_local integer := 1;
    v_price numeric;
    v_name varchar;
    v_data varchar;
    v_s_data varchar;
    v_dist char(24);
    v_amount numeric;
    v_total numeric := 0;
BEGIN
    SELECT c_discount, c_last, c_credit, w_tax INTO v_discount, v_last, v_credit, v_w_tax
      FROM customer JOIN warehouse ON w_id = c_w_id
     WHERE c_w_id = p_w_id AND c_d_id = p_d_id AND c_id = p_c_id;
    UPDATE district SET d_next_o_id = d_next_o_id + 1
     WHERE d_w_id = p_w_id AND d_id = p_d_id
    RETURNING d_next_o_id - 1, d_tax INTO v_o_id, v_d_tax;
    FOR i IN 1 .. v_ol_cnt LOOP
        IF p_supply_w_ids[i] <> p_w_id THEN
            v_all_local := 0;
        END IF;
    END LOOP;
    INSERT INTO orders (o_id, o_d_id, o_w_id, o_c_id, o_entry_d, o_carrier_id, o_ol_cnt, o_all_local)
    VALUES (v_o_id, p_d_id, p_w_id, p_c_id, now(), NULL, v_ol_cnt, v_all_local);
    INSERT INTO new_order (no_o_id, no_d_id, no_w_id) VALUES (v_o_id, p_d_id, p_w_id);
    FOR i IN 1 .. v_ol_cnt LOOP
        SELECT i_price, i_name, i_data INTO v_price, v_name, v_data
          FROM item WHERE i_id = p_item_ids[i];
        IF NOT FOUND THEN
            RAISE EXCEPTION 'item % not found: New-Order rolled back', p_item_ids[i]
                USING ERRCODE = 'TC001';
        END IF;
        UPDATE stock
           SET s_quantity = CASE WHEN s_quantity - p_quantities[i] >= 10
                                 THEN s_quantity - p_quantities[i]
                                 ELSE s_quantity - p_quantities[i] + 91 END,
               s_ytd = s_ytd + p_quantities[i],
               s_order_cnt = s_order_cnt + 1,
               s_remote_cnt = s_remote_cnt + CASE WHEN p_supply_w_ids[i] = p_w_id THEN 0 ELSE 1 END
         WHERE s_i_id = p_item_ids[i] AND s_w_id = p_supply_w_ids[i]
        RETURNING s_data,
                  CASE p_d_id WHEN 1 THEN s_dist_01 WHEN 2 THEN s_dist_02 WHEN 3 THEN s_dist_03
                              WHEN 4 THEN s_dist_04 WHEN 5 THEN s_dist_05 WHEN 6 THEN s_dist_06
                              WHEN 7 THEN s_dist_07 WHEN 8 THEN s_dist_08 WHEN 9 THEN s_dist_09
                              ELSE s_dist_10 END
          INTO v_s_data, v_dist;
        v_amount := p_quantities[i] * v_price;
        v_total := v_total + v_amount;
        INSERT INTO order_line (ol_o_id, ol_d_id, ol_w_id, ol_number, ol_i_id, ol_supply_w_id,
                                ol_delivery_d, ol_quantity, ol_amount, ol_dist_info)
        VALUES (v_o_id, p_d_id, p_w_id, i, p_item_ids[i], p_supply_w_ids[i], NULL,
                p_quantities[i], v_amount, v_dist);
    END LOOP;
    RETURN v_total * (1 - v_discount) * (1 + v_w_tax + v_d_tax);
END
$$;

-- The customer of a Payment or Order-Status: by id, or the one at position ceil(n/2) of
-- the customers with that last name sorted by first name.
CREATE OR REPLACE FUNCTION tpcc_customer_id(p_w_id integer, p_d_id integer, p_by_name boolean,
    p_c_id integer, p_c_last text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_count integer;
    v_c_id integer;
BEGIN
    IF NOT p_by_name THEN
        RETURN p_c_id;
    END IF;
    SELECT count(*) INTO v_count FROM customer
     WHERE c_w_id = p_w_id AND c_d_id = p_d_id AND c_last = p_c_last;
    SELECT c_id INTO v_c_id FROM customer
     WHERE c_w_id = p_w_id AND c_d_id = p_d_id AND c_last = p_c_last
     ORDER BY c_first OFFSET greatest((v_count + 1) / 2 - 1, 0) LIMIT 1;
    RETURN v_c_id;
END
$$;

CREATE OR REPLACE FUNCTION tpcc_payment(p_w_id integer, p_d_id integer, p_c_w_id integer,
    p_c_d_id integer, p_by_name boolean, p_c_id integer, p_c_last text, p_amount_cents integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_amount numeric := p_amount_cents * 0.01;
    v_w_name varchar;
    v_d_name varchar;
    v_c_id integer;
BEGIN
    UPDATE warehouse SET w_ytd = w_ytd + v_amount WHERE w_id = p_w_id RETURNING w_name INTO v_w_name;
    UPDATE district SET d_ytd = d_ytd + v_amount WHERE d_w_id = p_w_id AND d_id = p_d_id
    RETURNING d_name INTO v_d_name;
    v_c_id := tpcc_customer_id(p_c_w_id, p_c_d_id, p_by_name, p_c_id, p_c_last);
    UPDATE customer
       SET c_balance = c_balance - v_amount,
           c_ytd_payment = c_ytd_payment + v_amount,
           c_payment_cnt = c_payment_cnt + 1,
           c_data = CASE WHEN c_credit = 'BC'
                         THEN left(c_id || ' ' || c_d_id || ' ' || c_w_id || ' ' || p_d_id || ' '
                                   || p_w_id || ' ' || v_amount || ' | ' || c_data, 500)
                         ELSE c_data END
     WHERE c_w_id = p_c_w_id AND c_d_id = p_c_d_id AND c_id = v_c_id;
    INSERT INTO history (h_c_id, h_c_d_id, h_c_w_id, h_d_id, h_w_id, h_date, h_amount, h_data)
    VALUES (v_c_id, p_c_d_id, p_c_w_id, p_d_id, p_w_id, now(), v_amount, v_w_name || '    ' || v_d_name);
    RETURN v_c_id;
END
$$;

CREATE OR REPLACE FUNCTION tpcc_order_status(p_w_id integer, p_d_id integer, p_by_name boolean,
    p_c_id integer, p_c_last text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_c_id integer;
    v_balance numeric;
    v_first varchar;
    v_middle char(2);
    v_last varchar;
    v_o_id integer;
    v_carrier integer;
    v_entry timestamp;
    v_lines integer;
BEGIN
    v_c_id := tpcc_customer_id(p_w_id, p_d_id, p_by_name, p_c_id, p_c_last);
    SELECT c_balance, c_first, c_middle, c_last INTO v_balance, v_first, v_middle, v_last
      FROM customer WHERE c_w_id = p_w_id AND c_d_id = p_d_id AND c_id = v_c_id;
    SELECT o_id, o_carrier_id, o_entry_d INTO v_o_id, v_carrier, v_entry
      FROM orders WHERE o_w_id = p_w_id AND o_d_id = p_d_id AND o_c_id = v_c_id
     ORDER BY o_id DESC LIMIT 1;
    SELECT count(*) INTO v_lines FROM (
        SELECT ol_i_id, ol_supply_w_id, ol_quantity, ol_amount, ol_delivery_d FROM order_line
         WHERE ol_w_id = p_w_id AND ol_d_id = p_d_id AND ol_o_id = v_o_id) AS lines;
    RETURN v_lines;
END
$$;

CREATE OR REPLACE FUNCTION tpcc_delivery(p_w_id integer, p_carrier_id integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_o_id integer;
    v_c_id integer;
    v_total numeric;
    v_delivered integer := 0;
BEGIN
    FOR d IN 1 .. 10 LOOP
        WITH oldest AS (
            SELECT no_o_id FROM new_order WHERE no_w_id = p_w_id AND no_d_id = d
             ORDER BY no_o_id LIMIT 1 FOR UPDATE)
        DELETE FROM new_order
         WHERE no_w_id = p_w_id AND no_d_id = d AND no_o_id = (SELECT no_o_id FROM oldest)
        RETURNING no_o_id INTO v_o_id;
        CONTINUE WHEN NOT FOUND;
        UPDATE orders SET o_carrier_id = p_carrier_id
         WHERE o_w_id = p_w_id AND o_d_id = d AND o_id = v_o_id
        RETURNING o_c_id INTO v_c_id;
        WITH delivered AS (
            UPDATE order_line SET ol_delivery_d = now()
             WHERE ol_w_id = p_w_id AND ol_d_id = d AND ol_o_id = v_o_id
            RETURNING ol_amount)
        SELECT coalesce(sum(ol_amount), 0) INTO v_total FROM delivered;
        UPDATE customer SET c_balance = c_balance + v_total, c_delivery_cnt = c_delivery_cnt + 1
         WHERE c_w_id = p_w_id AND c_d_id = d AND c_id = v_c_id;
        v_delivered := v_delivered + 1;
    END LOOP;
    RETURN v_delivered;
END
$$;

CREATE OR REPLACE FUNCTION tpcc_stock_level(p_w_id integer, p_d_id integer, p_threshold integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_next integer;
    v_low integer;
BEGIN
    SELECT d_next_o_id INTO v_next FROM district WHERE d_w_id = p_w_id AND d_id = p_d_id;
    SELECT count(DISTINCT s_i_id) INTO v_low FROM order_line
      JOIN stock ON s_w_id = ol_w_id AND s_i_id = ol_i_id
     WHERE ol_w_id = p_w_id AND ol_d_id = p_d_id
       AND ol_o_id < v_next AND ol_o_id >= v_next - 20
       AND s_quantity < p_threshold;
    RETURN v_low;
END
$$;
