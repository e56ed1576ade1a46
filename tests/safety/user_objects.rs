//! A user's comments, types, functions and schema stay as they are, and check-workload
//! reports what a set-up would refuse.

use std::path::Path;

use crate::common::*;
use crate::{beside_a_users_table, run, schema_files, set_up};

/// A fresh database `name` holding the user's table `precious` and what `theirs` makes,
/// beside a small declarative workload whose schema file (`file` "schema") or after_load file
/// (any other `file`) holds `stmt` after its table's creation; sets the workload up. Returns
/// the database and the set-up's output.
fn set_up_beside_theirs(
    pg: &Pg,
    name: &str,
    theirs: &str,
    file: &str,
    stmt: &str,
) -> (String, std::process::Output) {
    let (db, dir, wl) = beside_a_users_table(
        pg,
        name,
        "bt",
        "bt_items",
        schema_files("after_load: after_load.sql"),
    );
    pg.psql(&db, theirs);
    let create = "CREATE TABLE bt_items (id bigint, v int);";
    let (schema, after_load) = match file {
        "schema" => (format!("{create}\n{stmt}\n"), String::new()),
        _ => (format!("{create}\n"), format!("{stmt}\n")),
    };
    std::fs::write(wl.join("schema.sql"), schema).unwrap();
    std::fs::write(wl.join("after_load.sql"), after_load).unwrap();
    let o = run(&mut set_up(pg, &db, dir.path(), "bt"));
    (db, o)
}

#[test]
fn comments_on_a_users_objects_are_left_as_they_are() {
    let pg = pg();
    // what the user described: their table, schema, function, type, database and role
    let theirs = "COMMENT ON TABLE precious IS 'the user''s'; \
                  COMMENT ON SCHEMA public IS 'their schema'; \
                  CREATE FUNCTION their_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'; \
                  COMMENT ON FUNCTION their_fn() IS 'theirs'; \
                  CREATE TYPE their_enum AS ENUM ('a'); COMMENT ON TYPE their_enum IS 'theirs'";
    let described = "SELECT concat_ws('|', obj_description('precious'::regclass, 'pg_class'), \
                     obj_description('public'::regnamespace, 'pg_namespace'), \
                     obj_description('their_fn'::regproc, 'pg_proc'), \
                     obj_description('their_enum'::regtype, 'pg_type'), \
                     shobj_description((SELECT oid FROM pg_database \
                                        WHERE datname = current_database()), 'pg_database'), \
                     shobj_description(current_user::regrole, 'pg_authid'))";
    let unchanged = "the user's|their schema|theirs|theirs";
    let setup_with = |n: usize, file: &str, stmt: &str| {
        set_up_beside_theirs(&pg, &format!("comments{n}"), theirs, file, stmt)
    };
    // a comment on a schema, routine or type changes no row of its catalog: it is seen by
    // the lock it takes, and rolled back
    let mut n = 0;
    for stmt in [
        "COMMENT ON SCHEMA public IS 'gone';",
        "COMMENT ON FUNCTION their_fn() IS 'gone';",
        "COMMENT ON TYPE their_enum IS NULL;",
        "COMMENT ON TABLE precious IS NULL;",
        "DO $$ BEGIN EXECUTE 'COMMENT ON SCHEMA public IS ''gone'''; END $$;",
    ] {
        for file in ["schema", "after_load"] {
            n += 1;
            let (db, o) = setup_with(n, file, stmt);
            let err = assert_clean_failure(&o, 1);
            assert!(
                err.contains("which stormbench did not create")
                    && (err.contains("nothing was changed") || err.contains("rolled back")),
                "{file} {stmt}: {err}"
            );
            assert_eq!(pg.psql(&db, described), unchanged, "{file} {stmt}");
        }
    }
    // on what the cluster shares (no set-up records one): refused before anything runs
    for (stmt, said) in [
        (
            "COMMENT ON DATABASE postgres IS 'gone';",
            "COMMENT ON DATABASE",
        ),
        ("COMMENT ON ROLE CURRENT_USER IS 'gone';", "COMMENT ON ROLE"),
        (
            "SECURITY LABEL FOR anything ON ROLE CURRENT_USER IS 'gone';",
            "SECURITY LABEL ON ROLE",
        ),
    ] {
        n += 1;
        let (db, o) = setup_with(n, "after_load", stmt);
        let err = assert_clean_failure(&o, 2);
        assert!(
            err.contains(said) && err.contains("after_load.sql"),
            "{stmt}: {err}"
        );
        assert_eq!(pg.psql(&db, described), unchanged, "{stmt}");
    }
    // the workload's own table may be described
    n += 1;
    let (db, o) = setup_with(n, "schema", "COMMENT ON TABLE bt_items IS 'items';");
    assert!(o.status.success(), "{}", text(&o).1);
    assert_eq!(
        pg.psql(
            &db,
            "SELECT obj_description('bt_items'::regclass, 'pg_class')"
        ),
        "items"
    );
    assert_eq!(pg.psql(&db, described), unchanged);
}

#[test]
fn a_users_types_functions_and_schema_are_not_changed_by_other_routes() {
    let pg = pg();
    let theirs = "CREATE TYPE their_enum AS ENUM ('a'); CREATE DOMAIN their_dom AS int; \
                  CREATE TYPE their_pair AS (x int, y int); \
                  CREATE FUNCTION their_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'";
    let state = "SELECT concat_ws('|', \
                 (SELECT string_agg(enumlabel, ',') FROM pg_enum \
                  WHERE enumtypid = 'their_enum'::regtype), \
                 (SELECT count(*) FROM pg_constraint WHERE contypid = 'their_dom'::regtype), \
                 (SELECT count(*) FROM pg_cast WHERE castsource = 'their_pair'::regtype), \
                 (SELECT count(*) FROM pg_attribute WHERE attnum > 0 AND attrelid = \
                  (SELECT typrelid FROM pg_type WHERE oid = 'their_pair'::regtype)), \
                 (SELECT coalesce(proconfig::text, '-') FROM pg_proc \
                  WHERE oid = 'their_fn()'::regprocedure), \
                 has_schema_privilege('public', 'public', 'CREATE'))";
    let unchanged = "a|0|0|2|-|f";
    let mut n = 0;
    for stmt in [
        // a subtransaction (a block with an EXCEPTION clause) writes rows under its own
        // transaction ID
        "DO $$ BEGIN GRANT CREATE ON SCHEMA public TO PUBLIC; \
         EXCEPTION WHEN others THEN NULL; END $$;",
        "DO $$ BEGIN ALTER FUNCTION their_fn() SET work_mem = '1MB'; \
         EXCEPTION WHEN others THEN NULL; END $$;",
        // a domain constraint or a cast is a row of its own, not of pg_type
        "ALTER DOMAIN their_dom ADD CONSTRAINT positive CHECK (VALUE > 0);",
        "CREATE CAST (their_pair AS int) WITH INOUT;",
        // a composite type's attributes belong to a relation of its own
        "ALTER TYPE their_pair ADD ATTRIBUTE z int;",
        "ALTER TYPE their_enum ADD VALUE 'b';",
    ] {
        for file in ["schema", "after_load"] {
            n += 1;
            let (db, o) = set_up_beside_theirs(&pg, &format!("routes{n}"), theirs, file, stmt);
            let err = assert_clean_failure(&o, 1);
            assert!(
                err.contains("which stormbench did not create") && err.contains("public"),
                "{file} {stmt}: {err}"
            );
            assert_eq!(pg.psql(&db, state), unchanged, "{file} {stmt}");
        }
    }
    // the workload's own domain may be given a constraint, in a subtransaction too
    let (db, dir, wl) = beside_a_users_table(
        &pg,
        "routes_own",
        "rt",
        "rt_items",
        schema_files("after_load: after_load.sql"),
    );
    pg.psql(&db, theirs);
    std::fs::write(
        wl.join("schema.sql"),
        "CREATE DOMAIN rt_dom AS int;\nCREATE TABLE rt_items (id bigint, v rt_dom);\n\
         DO $$ BEGIN ALTER DOMAIN rt_dom ADD CONSTRAINT p CHECK (VALUE > 0); \
         EXCEPTION WHEN others THEN NULL; END $$;\n",
    )
    .unwrap();
    std::fs::write(wl.join("after_load.sql"), "ANALYZE rt_items;\n").unwrap();
    let o = run(&mut set_up(&pg, &db, dir.path(), "rt"));
    assert!(o.status.success(), "{}", text(&o).1);
    assert_eq!(pg.psql(&db, state), unchanged);
}

/// The schema file of the workload of
/// [`check_workload_reports_what_a_set_up_would_refuse_and_a_users_sequence_it_set`]: its
/// own table.
const CK_CREATE: &str = "CREATE TABLE ck_items (id bigint, v int);\n";

#[test]
fn check_workload_reports_what_a_set_up_would_refuse_and_a_users_sequence_it_set() {
    let pg = pg();
    let (db, _dir, wl) = beside_a_users_table(
        &pg,
        "check_theirs",
        "ck",
        "ck_items",
        schema_files("after_load: after_load.sql"),
    );
    pg.psql(&db, "CREATE SEQUENCE precious_seq");
    let check = || run(pg.stormbench(&db).arg("check-workload").arg(&wl));
    // a problem found: exit 2, each problem a line of its own
    let problem = || {
        let o = check();
        assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
        text(&o).1
    };
    // after_load runs on the sample rows (what cannot run in a transaction left out), and
    // what it does to the user's table is reported (and rolled back)
    std::fs::write(wl.join("schema.sql"), CK_CREATE).unwrap();
    std::fs::write(
        wl.join("after_load.sql"),
        "ALTER TABLE ck_items ADD PRIMARY KEY (id);\n\
         CREATE INDEX CONCURRENTLY ck_v ON ck_items (v);\nANALYZE ck_items;\n",
    )
    .unwrap();
    let o = check();
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains("after_load run"), "{:?}", text(&o));
    std::fs::write(
        wl.join("after_load.sql"),
        "ALTER TABLE ck_items ADD PRIMARY KEY (id);\nCREATE INDEX precious_i ON precious (id);\n",
    )
    .unwrap();
    let err = problem();
    assert!(
        err.contains("would drop, change or write rows of public.precious")
            && err.contains("a set-up would refuse them"),
        "{err}"
    );
    assert_eq!(
        pg.psql(
            &db,
            "SELECT count(*) FROM pg_index WHERE indrelid = 'precious'::regclass"
        ),
        "0"
    );
    check_reads_what_a_set_up_runs_outside_a_transaction(&wl, &problem);
    check_reports_a_users_sequence(&pg, &db, &wl, &problem);
    assert_eq!(
        pg.psql(
            &db,
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'stormbench_check%'"
        ),
        "0"
    );
}

/// After_load statements of the workload in `wl` that a set-up runs outside a transaction
/// and one that runs for seconds: `problem` (check-workload finding one) names each.
fn check_reads_what_a_set_up_runs_outside_a_transaction(wl: &Path, problem: &dyn Fn() -> String) {
    // what a set-up runs outside a transaction is not run here, but what it would build on
    // or rewrite is read as the set-up reads it
    for (stmt, said) in [
        (
            "CREATE INDEX CONCURRENTLY precious_c ON precious (id);",
            "would build or rebuild indexes on public.precious",
        ),
        ("VACUUM FULL precious;", "would rewrite public.precious"),
    ] {
        std::fs::write(wl.join("after_load.sql"), format!("{stmt}\n")).unwrap();
        let err = problem();
        assert!(
            err.contains(said) && err.contains("a set-up would refuse it"),
            "{stmt}: {err}"
        );
    }
    // a statement that runs for seconds on the sample rows works on something bigger: cut
    // short
    std::fs::write(wl.join("after_load.sql"), "SELECT pg_sleep(30);\n").unwrap();
    let started = std::time::Instant::now();
    let err = problem();
    assert!(
        err.contains("line 1 (SELECT pg_sleep(30))") && err.contains("still running after 5 s"),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

/// The user's sequence `precious_seq`, set in after_load by name (not run) or in the schema
/// file through an expression (run, its value kept): `problem` (check-workload finding one)
/// reports each.
fn check_reports_a_users_sequence(pg: &Pg, db: &str, wl: &Path, problem: &dyn Fn() -> String) {
    // a user's sequence named in after_load is not set (a set-up would refuse it too)
    std::fs::write(
        wl.join("after_load.sql"),
        "SELECT setval('precious_seq', 500);\n",
    )
    .unwrap();
    let err = problem();
    assert!(
        err.contains("line 1")
            && err.contains("would set or advance the sequence of public.precious_seq"),
        "{err}"
    );
    assert_eq!(
        pg.psql(
            db,
            "SELECT last_value || ':' || is_called FROM precious_seq"
        ),
        "1:false"
    );
    // a user's sequence reached through an expression: its value is not rolled back, and
    // the check says so
    std::fs::write(wl.join("after_load.sql"), "").unwrap();
    std::fs::write(
        wl.join("schema.sql"),
        format!("{CK_CREATE}SELECT setval(('precious' || '_seq')::regclass, 777);\n"),
    )
    .unwrap();
    let err = problem();
    assert!(
        err.contains("sequence of public.precious_seq")
            && err.contains("a sequence's value is not"),
        "{err}"
    );
}
