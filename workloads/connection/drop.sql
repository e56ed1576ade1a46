DROP TABLE IF EXISTS connection_probe;
