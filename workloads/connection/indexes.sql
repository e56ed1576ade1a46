ALTER TABLE connection_probe ADD PRIMARY KEY (id);
VACUUM ANALYZE connection_probe;
