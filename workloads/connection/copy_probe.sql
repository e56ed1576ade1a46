COPY connection_probe (id, value) FROM STDIN
