ALTER TABLE bank_branches ADD PRIMARY KEY (id);
ALTER TABLE bank_accounts ADD PRIMARY KEY (id);
-- accounts opened during a run take ids after the loaded ones
SELECT setval(pg_get_serial_sequence('bank_accounts', 'id'), (SELECT max(id) FROM bank_accounts));
CREATE INDEX IF NOT EXISTS bank_transfers_from ON bank_transfers (from_id, created_at);
CREATE INDEX IF NOT EXISTS bank_transfers_to ON bank_transfers (to_id, created_at);
VACUUM ANALYZE bank_branches;
VACUUM ANALYZE bank_accounts;
