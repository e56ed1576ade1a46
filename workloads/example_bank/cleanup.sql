DROP TABLE IF EXISTS bank_transfers;
DROP TABLE IF EXISTS bank_accounts;
DROP TABLE IF EXISTS bank_branches;
