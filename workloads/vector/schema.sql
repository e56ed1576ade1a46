-- vector: items to search, a held-out query set, the exact top-k of each query (filled
-- before any index exists), and a flag the writes of a run raise, so recall is measured
-- against an exact scan once the items are no longer those the ground truth was made for.
CREATE TABLE vec_items (
    id         bigint PRIMARY KEY,
    category   int NOT NULL,
    tenant     int NOT NULL,
    rank_key   int NOT NULL,          -- uniform in 0..999999: filters of a chosen selectivity
    created_at timestamptz NOT NULL,
    embedding  vector({{dimensions}}) NOT NULL
);

CREATE TABLE vec_queries (
    id        int PRIMARY KEY,
    category  int NOT NULL,
    embedding vector({{dimensions}}) NOT NULL
);

CREATE TABLE vec_truth (
    query_id int NOT NULL,
    rank     int NOT NULL,
    item_id  bigint NOT NULL,
    PRIMARY KEY (query_id, rank)
);

CREATE TABLE vec_state (changed boolean NOT NULL);
INSERT INTO vec_state VALUES (false);

CREATE FUNCTION vec_mark_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE vec_state SET changed = true WHERE NOT changed;
    RETURN NULL;
END $$;

CREATE TRIGGER vec_items_changed AFTER INSERT OR UPDATE OR DELETE ON vec_items
    FOR EACH STATEMENT EXECUTE FUNCTION vec_mark_changed();
