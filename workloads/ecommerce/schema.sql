-- ecommerce: a shop's catalogue (a category tree, products with JSONB attributes and
-- full-text search), stock, customers, carts, orders with their lines and payments,
-- reviews and a funnel of events. Keys and indexes come after loading (after_load.sql).
CREATE TABLE ec_categories (
    id        int PRIMARY KEY,
    parent_id int,
    name      text NOT NULL
);
-- 20 departments, each with 9 sub-categories (products belong to sub-categories)
INSERT INTO ec_categories (id, parent_id, name)
SELECT g, NULL, 'department ' || g FROM generate_series(1, 20) g;
INSERT INTO ec_categories (id, parent_id, name)
SELECT 20 + g, 1 + (g - 1) / 9, 'category ' || g FROM generate_series(1, 180) g;

CREATE TABLE ec_products (
    id          bigint NOT NULL,
    category_id int NOT NULL,
    title       text NOT NULL,
    attributes  jsonb NOT NULL,
    price       numeric(10,2) NOT NULL,
    created_at  timestamptz NOT NULL,
    search      tsvector GENERATED ALWAYS AS (to_tsvector('simple', title)) STORED
);

CREATE TABLE ec_inventory (
    product_id bigint NOT NULL,
    on_hand    int NOT NULL,
    initial    int,
    restocked  int NOT NULL DEFAULT 0
);

CREATE TABLE ec_customers (
    id         bigint NOT NULL,
    name       text NOT NULL,
    email      text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE ec_orders (
    id          bigint NOT NULL,
    customer_id bigint NOT NULL,
    status      text NOT NULL,
    total       numeric(12,2) NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL
);
CREATE SEQUENCE ec_orders_run_id START 1000000000000;
CREATE SEQUENCE ec_customers_run_id START 1000000000000;
CREATE SEQUENCE ec_reviews_run_id START 1000000000000;

CREATE TABLE ec_order_lines (
    order_id   bigint NOT NULL,
    product_id bigint NOT NULL,
    quantity   int NOT NULL,
    price      numeric(10,2)
);

CREATE TABLE ec_payments (
    order_id bigint NOT NULL,
    amount   numeric(12,2),
    method   text NOT NULL
);

CREATE TABLE ec_reviews (
    id          bigint NOT NULL DEFAULT nextval('ec_reviews_run_id'),
    product_id  bigint NOT NULL,
    customer_id bigint NOT NULL,
    rating      int NOT NULL,
    body        text,
    helpful     int NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL
);

CREATE TABLE ec_events (
    customer_id bigint NOT NULL,
    product_id  bigint NOT NULL,
    kind        text NOT NULL,
    at          timestamptz NOT NULL
);

CREATE TABLE ec_cart_items (
    customer_id bigint NOT NULL,
    product_id  bigint NOT NULL,
    quantity    int NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT now()
);

-- where the loaded history ends: later orders are the run's
CREATE TABLE ec_meta (loaded_orders bigint NOT NULL);
