SELECT value FROM connection_probe WHERE id = $1
