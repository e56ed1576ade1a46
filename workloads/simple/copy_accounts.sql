COPY simple_accounts (id, balance, category, payload) FROM STDIN
