-- application tables
INSERT INTO title_search SELECT id, to_tsvector('simple', title) FROM title;
CREATE INDEX title_search_doc ON title_search USING gin (doc);
-- substring search on titles: a trigram index where pg_trgm can be had (the query runs
-- without it too, as a scan)
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX title_trgm ON title USING gin (title gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'no trigram index on title (%): substring search scans', SQLERRM;
END $$;
INSERT INTO title_stats (movie_id) SELECT id FROM title;
VACUUM ANALYZE;
