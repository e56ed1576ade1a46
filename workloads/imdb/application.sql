-- application tables
INSERT INTO title_search SELECT id, to_tsvector('simple', title) FROM title;
CREATE INDEX title_search_doc ON title_search USING gin (doc);
INSERT INTO title_stats (movie_id) SELECT id FROM title;
VACUUM ANALYZE;
