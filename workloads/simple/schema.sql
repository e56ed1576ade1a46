-- simple workload: accounts read and updated by key, history rows inserted.
-- The primary key is added after loading (see indexes.sql): faster bulk load.
CREATE TABLE IF NOT EXISTS simple_accounts (
    id         bigint      NOT NULL,
    balance    bigint      NOT NULL,
    category   integer     NOT NULL,
    payload    text        NOT NULL,
    updated_at timestamptz
);
CREATE TABLE IF NOT EXISTS simple_history (
    id         bigserial   PRIMARY KEY,
    account_id bigint      NOT NULL,
    delta      bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
