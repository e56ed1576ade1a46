SELECT balance FROM simple_accounts WHERE id = $1
