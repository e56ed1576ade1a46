-- connection workload: a small lookup table; the point is the connection, not the query.
CREATE TABLE IF NOT EXISTS connection_probe (
    id    integer NOT NULL,
    value text    NOT NULL
);
