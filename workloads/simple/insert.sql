INSERT INTO simple_history (account_id, delta) VALUES ($1, $2)
