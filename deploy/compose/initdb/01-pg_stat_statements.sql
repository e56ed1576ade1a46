-- Runs once, when the lab's data volume is created: the extension that
-- --pg-stat-statements reads (the library is preloaded by the server's command line).
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
