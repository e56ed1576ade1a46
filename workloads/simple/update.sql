UPDATE simple_accounts SET balance = balance + $2, updated_at = now() WHERE id = $1
