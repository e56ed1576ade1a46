DROP TABLE IF EXISTS ec_categories, ec_products, ec_inventory, ec_customers, ec_orders,
    ec_order_lines, ec_payments, ec_reviews, ec_events, ec_cart_items, ec_meta;
DROP SEQUENCE IF EXISTS ec_orders_run_id, ec_customers_run_id, ec_reviews_run_id;
