-- order totals from their lines (priced from their products as generated), payments of
-- the totals
ALTER TABLE ec_products ADD PRIMARY KEY (id);
ALTER TABLE ec_customers ADD PRIMARY KEY (id);
ALTER TABLE ec_orders ADD PRIMARY KEY (id);
CREATE INDEX ec_order_lines_order ON ec_order_lines (order_id);
UPDATE ec_orders o SET total = s.total
FROM (SELECT order_id, sum(price * quantity) AS total FROM ec_order_lines GROUP BY order_id) s
WHERE s.order_id = o.id;
-- every order has a line: an order the lines missed gets one
INSERT INTO ec_order_lines (order_id, product_id, quantity, price)
SELECT o.id, 1 + o.id % ({{products}} * {{scale}}), 1, p.price
FROM ec_orders o JOIN ec_products p ON p.id = 1 + o.id % ({{products}} * {{scale}})
WHERE NOT EXISTS (SELECT 1 FROM ec_order_lines l WHERE l.order_id = o.id);
UPDATE ec_orders o SET total = s.total
FROM (SELECT order_id, sum(price * quantity) AS total FROM ec_order_lines GROUP BY order_id) s
WHERE s.order_id = o.id AND o.total = 0;
UPDATE ec_payments y SET amount = o.total FROM ec_orders o WHERE o.id = y.order_id;
-- status by age: old orders delivered, recent ones on their way
UPDATE ec_orders SET status = CASE
    WHEN created_at > now() - interval '2 days' THEN 'paid'
    WHEN created_at > now() - interval '7 days' THEN 'shipped'
    ELSE 'delivered' END;
-- some products out of stock; the stock as loaded is the reference of the checks
UPDATE ec_inventory SET on_hand = 0 WHERE on_hand < 0;
UPDATE ec_inventory SET initial = on_hand;
ALTER TABLE ec_inventory ADD PRIMARY KEY (product_id),
    ADD CONSTRAINT ec_inventory_on_hand CHECK (on_hand >= 0);
INSERT INTO ec_meta SELECT coalesce(max(id), 0) FROM ec_orders;
CREATE INDEX ec_products_category ON ec_products (category_id, id);
CREATE INDEX ec_products_search ON ec_products USING gin (search);
CREATE INDEX ec_orders_customer ON ec_orders (customer_id, created_at DESC);
CREATE INDEX ec_orders_paid ON ec_orders (id) WHERE status = 'paid';
CREATE INDEX ec_order_lines_product ON ec_order_lines (product_id);
ALTER TABLE ec_reviews ADD PRIMARY KEY (id);
CREATE INDEX ec_reviews_product ON ec_reviews (product_id, created_at DESC);
CREATE INDEX ec_events_at ON ec_events (at);
CREATE INDEX ec_cart_items_customer ON ec_cart_items (customer_id);
CREATE INDEX ec_customers_email ON ec_customers (email);
VACUUM ANALYZE;
