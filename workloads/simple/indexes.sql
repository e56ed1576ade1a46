ALTER TABLE simple_accounts ADD PRIMARY KEY (id);
VACUUM ANALYZE simple_accounts;
ANALYZE simple_history;
