DROP TABLE IF EXISTS simple_history;
DROP TABLE IF EXISTS simple_accounts;
