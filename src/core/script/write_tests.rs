//! What statements do: writes, drops, and what acts beyond a workload's own objects.

use super::{
    beyond_the_workload, destructive, destructive_anywhere, maintenance, may_write, sequences_set,
    split,
};

/// Each statement's `beyond_the_workload` finding, `None` for a statement that stays
/// within the workload's own objects.
fn beyond_the_workload_is(cases: &[(&str, Option<&str>)]) {
    for &(sql, want) in cases {
        assert_eq!(beyond_the_workload(sql).as_deref(), want, "{sql}");
    }
}

/// Roles, grants, databases, extensions, publications and event triggers.
#[test]
fn roles_databases_and_server_wide_objects() {
    beyond_the_workload_is(&[
        ("DROP ROLE IF EXISTS app", Some("DROP ROLE")),
        ("alter role app set work_mem = '1GB'", Some("ALTER ROLE")),
        ("ALTER USER app PASSWORD 'x'", Some("ALTER USER")),
        ("ALTER DATABASE db SET jit = off", Some("ALTER DATABASE")),
        ("DROP EXTENSION pg_trgm CASCADE", Some("DROP EXTENSION")),
        (
            "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO app",
            Some("ALTER DEFAULT PRIVILEGES"),
        ),
        ("DROP OWNED BY app", Some("DROP OWNED")),
        ("REASSIGN OWNED BY app TO other", Some("REASSIGN OWNED")),
        ("GRANT pg_read_all_data TO app", Some("GRANT of a role")),
        ("revoke admin from app", Some("REVOKE of a role")),
        (
            "GRANT CONNECT ON DATABASE db TO app",
            Some("GRANT ON DATABASE"),
        ),
        (
            "GRANT SET ON PARAMETER work_mem TO app",
            Some("GRANT ON PARAMETER"),
        ),
        ("GRANT SELECT ON t TO app", None),
        ("GRANT USAGE ON SCHEMA mine TO app", None),
        ("REVOKE ALL ON ALL TABLES IN SCHEMA mine FROM app", None),
        ("DROP TABLE users", None),
        ("ALTER TABLE role ADD PRIMARY KEY (id)", None),
        ("CREATE EXTENSION IF NOT EXISTS pg_trgm", None),
        ("SELECT 'drop role x'", None),
        (
            "CREATE PUBLICATION everything FOR ALL TABLES",
            Some("CREATE PUBLICATION"),
        ),
        (
            "create event trigger no_ddl on ddl_command_start execute function f()",
            Some("CREATE EVENT"),
        ),
        ("DROP EVENT TRIGGER audit", Some("DROP EVENT")),
        ("CREATE ROLE app", Some("CREATE ROLE")),
        ("CREATE DATABASE scratch", Some("CREATE DATABASE")),
        ("CREATE EXTENSION IF NOT EXISTS vector", None),
        ("CREATE TABLE event (id int)", None),
    ]);
}

/// Calls of functions that act on the whole server, anywhere in a statement or a body.
#[test]
fn calls_of_server_wide_functions() {
    beyond_the_workload_is(&[
        (
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
            Some("a call of pg_terminate_backend()"),
        ),
        (
            "select 1 where pg_catalog.PG_STAT_RESET ()",
            Some("a call of pg_stat_reset()"),
        ),
        (
            "WITH s AS (SELECT pg_drop_replication_slot('standby')) SELECT 1",
            Some("a call of pg_drop_replication_slot()"),
        ),
        (
            "SELECT lo_unlink(oid) FROM pg_largeobject_metadata",
            Some("a call of lo_unlink()"),
        ),
        ("SELECT 'pg_terminate_backend(1)', pg_stat_reset_time", None),
        (
            "DO $body$ BEGIN PERFORM pg_terminate_backend(pid) FROM pg_stat_activity; END $body$",
            Some("a call of pg_terminate_backend()"),
        ),
        (
            "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ SELECT pg_stat_reset() $$",
            Some("a call of pg_stat_reset()"),
        ),
    ]);
}

/// Statements inside DO bodies, comments, security labels and large objects.
#[test]
fn bodies_comments_labels_and_large_objects() {
    beyond_the_workload_is(&[
        ("DO $$ BEGIN RAISE NOTICE 'x'; END $$", None),
        (
            "DO $$ BEGIN IF true THEN DROP ROLE app; END IF; END $$",
            Some("DROP ROLE"),
        ),
        (
            "DO $o$ BEGIN EXECUTE $i$ SELECT 1 $i$; PERFORM 1; END $o$; SELECT $x$ $y$ grant app to bob $y$ $x$",
            Some("GRANT of a role"),
        ),
        (
            "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX i ON t USING gin (c); \
             ALTER TABLE t ALTER COLUMN c SET NOT NULL; EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%', SQLERRM; END $$",
            None,
        ),
        ("SELECT $$unterminated pg_stat_reset(", None),
        ("SELECT lo_put(16400, 0, 'x')", Some("a call of lo_put()")),
        ("ALTER LARGE OBJECT 16400 OWNER TO app", Some("ALTER LARGE")),
        ("GRANT SELECT ON LARGE OBJECT 16400 TO app", Some("GRANT ON LARGE OBJECT")),
        ("SELECT pg_backend_pid(), pg_stat_get_numscans(1)", None),
        ("COMMENT ON ROLE app IS 'x'", Some("COMMENT ON ROLE")),
        ("comment on database db is null", Some("COMMENT ON DATABASE")),
        ("COMMENT ON EXTENSION vector IS 'x'", Some("COMMENT ON EXTENSION")),
        (
            "SECURITY LABEL FOR selinux ON ROLE app IS 'x'",
            Some("SECURITY LABEL ON ROLE"),
        ),
        ("COMMENT ON TABLE mine IS 'x'", None),
        ("COMMENT ON FOREIGN TABLE mine IS 'x'", None),
        ("COMMENT ON LANGUAGE plpgsql IS 'x'", Some("COMMENT ON LANGUAGE")),
        ("COMMENT ON SCHEMA public IS 'x'", None),
        (
            "DO $$ BEGIN COMMENT ON DATABASE db IS 'x'; END $$",
            Some("COMMENT ON DATABASE"),
        ),
        (
            "DO $$ BEGIN SECURITY LABEL ON TABLESPACE ts IS 'x'; END $$",
            Some("SECURITY LABEL ON TABLESPACE"),
        ),
        // a column named comment, a function's SECURITY DEFINER: no comment or label
        (
            "DO $$ BEGIN PERFORM comment FROM t JOIN server ON server.id = t.id; END $$",
            None,
        ),
        (
            "CREATE FUNCTION f() RETURNS int SECURITY DEFINER LANGUAGE sql AS $$ SELECT 1 FROM a JOIN event ON event.id = a.id $$",
            None,
        ),
        ("", None),
    ]);
}

#[test]
fn what_index_builds_and_rewrites_work_on() {
    use super::{builds_on, BuildsOn::*};
    let one = |t| Some(("build or rebuild indexes on", Relations(vec![t])));
    let rewrite = |t: Vec<&'static str>| Some(("rewrite", Relations(t)));
    let every = |action, what| Some((action, Many(what)));
    for (sql, want) in [
        ("CREATE INDEX CONCURRENTLY ON precious (id)", one("precious")),
        (
            "create unique index concurrently if not exists p_i on only public.\"Precious\" using btree (id)",
            one("public.\"Precious\""),
        ),
        ("CREATE INDEX i ON s.t(id)", one("s.t")),
        ("REINDEX (VERBOSE) TABLE CONCURRENTLY app.t", one("app.t")),
        ("REINDEX INDEX precious_pkey", one("precious_pkey")),
        (
            "REINDEX SCHEMA CONCURRENTLY public",
            every("build or rebuild indexes on", "every table of a schema"),
        ),
        (
            "REINDEX DATABASE db",
            every("build or rebuild indexes on", "every table of the database"),
        ),
        ("VACUUM t", None),
        ("VACUUM (ANALYZE, FULL false) t", None),
        ("vacuum (full 0) t", None),
        ("VACUUM FREEZE VERBOSE t", None),
        ("VACUUM FULL precious", rewrite(vec!["precious"])),
        (
            "VACUUM (FULL, ANALYZE) a, s.\"B\" (x, y), c",
            rewrite(vec!["a", "s.\"B\"", "c"]),
        ),
        ("VACUUM (VERBOSE, FULL true)", every("rewrite", "every table of the database")),
        ("VACUUM FULL ANALYZE", every("rewrite", "every table of the database")),
        ("CLUSTER", every("rewrite", "every clustered table of the database")),
        ("CLUSTER VERBOSE;", every("rewrite", "every clustered table of the database")),
        ("CLUSTER (VERBOSE) public.t USING t_pkey", rewrite(vec!["public.t"])),
        ("CREATE TABLE t (a int REFERENCES u ON DELETE CASCADE)", None),
        ("", None),
    ] {
        assert_eq!(
            builds_on(sql).map(|r| (r.action, r.on)),
            want,
            "{sql}"
        );
    }
}

#[test]
fn sequences_named_to_setval_and_nextval() {
    for (sql, want) in [
        ("SELECT setval('precious_seq', 1000)", vec!["precious_seq"]),
        (
            "select pg_catalog.SETVAL('s.\"Seq\"'::regclass, 1), nextval('it''s')",
            vec!["s.\"Seq\"", "it's"],
        ),
        (
            "SELECT setval(pg_get_serial_sequence('t', 'id'), 5)",
            vec![],
        ),
        ("SELECT 'setval(''x'', 1)'", vec![]),
        (
            "INSERT INTO t VALUES (nextval ('own_seq'))",
            vec!["own_seq"],
        ),
        (
            "DO $d$ BEGIN PERFORM setval('s.seq', 5); EXCEPTION WHEN others THEN NULL; END $d$",
            vec!["s.seq"],
        ),
        // any dollar-quoted string is read as a body: a refusal too many, never a miss
        ("SELECT $$ setval('inert', 1) $$", vec!["inert"]),
    ] {
        assert_eq!(sequences_set(sql), want, "{sql}");
    }
}

#[test]
fn maintenance_statements() {
    for (sql, want) in [
        ("ANALYZE", true),
        ("  -- statistics\n analyse t", true),
        ("VACUUM (ANALYZE) t", true),
        ("CHECKPOINT", true),
        ("EXPLAIN ANALYZE DELETE FROM t", false),
        ("SELECT 'vacuum'", false),
        ("DELETE FROM analyze", false),
        ("", false),
    ] {
        assert_eq!(maintenance(sql), want, "{sql}");
    }
}

#[test]
fn destructive_statements() {
    for (sql, want) in [
        ("DROP TABLE users", Some("DROP")),
        ("  -- clean up\n drop index if exists i", Some("DROP")),
        ("/* nightly */ TRUNCATE t", Some("TRUNCATE")),
        ("alter table t add column c int", Some("ALTER")),
        (
            "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            Some("CREATE OR REPLACE"),
        ),
        ("CREATE TABLE t (a int)", None),
        ("SELECT 'drop table t'", None),
        ("DELETE FROM t WHERE id = $1", None),
        ("UPDATE t SET dropped = true", None),
        ("COMMENT ON TABLE t IS 'x'", Some("COMMENT")),
        (
            "security label for p on column t.c is 'x'",
            Some("SECURITY LABEL"),
        ),
        ("SELECT comment FROM t", None),
        ("", None),
    ] {
        assert_eq!(destructive(sql), want, "{sql}");
    }
    for (sql, want) in [
        ("DO $$ BEGIN DROP TABLE precious; END $$", Some("DROP")),
        ("DO $$ BEGIN PERFORM count(*) FROM t; END $$", None),
        (
            "DO $$ BEGIN COMMENT ON TABLE t IS NULL; END $$",
            Some("COMMENT"),
        ),
        ("SELECT 1", None),
    ] {
        assert_eq!(super::destructive_anywhere(sql), want, "{sql}");
    }
    // a statement hidden after another in one simple-protocol string is found too
    let found: Vec<_> = split("SELECT 1; DROP TABLE t")
        .iter()
        .filter_map(|s| destructive(s.text))
        .collect();
    assert_eq!(found, ["DROP"]);
}

#[test]
fn reads_and_writes() {
    for r in [
        "SELECT abalance FROM accounts WHERE aid = $1",
        "  select 1",
        "VALUES (1)",
        "WITH t AS (SELECT 1) SELECT * FROM t",
        "EXPLAIN SELECT 1",
        "SHOW server_version",
        "",
    ] {
        assert!(!may_write(r), "{r}");
    }
    for w in [
        "INSERT INTO t VALUES (1)",
        "update t set a = 1",
        "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
        "SELECT * FROM t FOR UPDATE",
        "SELECT * FROM t FOR SHARE",
        "SELECT * INTO new_t FROM t",
        "SELECT nextval('s')",
        "EXPLAIN ANALYZE DELETE FROM t",
        "CALL proc()",
        "BEGIN",
    ] {
        assert!(may_write(w), "{w}");
    }
}

/// Bodies nested thousands deep, and thousands of `GRANT`s before one `ON`, are read in one
/// pass (a reading per level or per `GRANT` took minutes on such a file).
#[test]
fn deep_and_long_bodies_are_read_once() {
    let n = 20_000;
    let open: String = (0..n).map(|i| format!("$t{i}$ ")).collect();
    let close: String = (0..n).rev().map(|i| format!("$t{i}$ ")).collect();
    let deep = format!("DO {open} BEGIN DROP ROLE app; END {close}");
    assert_eq!(beyond_the_workload(&deep).as_deref(), Some("DROP ROLE"));
    let grants = format!(
        "DO $$ BEGIN {} ON TABLE t TO app; END $$",
        "GRANT ".repeat(n)
    );
    assert_eq!(beyond_the_workload(&grants), None);
    assert_eq!(destructive_anywhere(&grants), None);
}
