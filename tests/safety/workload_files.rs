//! What a workload's files may reach: a query folder, after_load steps and statements on
//! roles, the database or extensions.

use std::path::Path;

use crate::common::*;
use crate::{after_load_refused, beside_a_users_table, run, schema_files, set_up};

#[test]
fn a_query_folder_cannot_drop_a_users_table() {
    let pg = pg();
    let (db, dir, wl) = beside_a_users_table(&pg, "query_folder", "suite", "qf_items", |y| {
        format!(
            "{y}transactions_from: {{folder: queries}}\nmodes:\n  read: {{read: 1}}\n  \
             suite: {{suite: {{passes: 1, transactions: folder}}}}\n"
        )
    });
    // a benchmark's repository copied whole: its queries and its clean-up script
    let q = wl.join("queries");
    std::fs::create_dir(&q).unwrap();
    std::fs::write(q.join("1a.sql"), "SELECT count(*) FROM qf_items").unwrap();
    for (file, sql, said) in [
        (
            "drop.sql",
            "DROP TABLE precious;\n",
            "is a DROP (DROP TABLE precious)",
        ),
        // the same inside a DO block
        (
            "hidden.sql",
            "DO $$ BEGIN DROP TABLE precious; END $$;\n",
            "is a DROP (DO $$ BEGIN DROP TABLE precious; END $$)",
        ),
        // a comment replaces the user's
        (
            "comment.sql",
            "COMMENT ON TABLE precious IS 'gone';\n",
            "is a COMMENT (COMMENT ON TABLE precious IS 'gone')",
        ),
    ] {
        std::fs::write(q.join(file), sql).unwrap();
        let mut runs = pg.stormbench(&db);
        runs.args(["-w", "suite_suite", "--setup", "-q", "--workloads-path"])
            .arg(dir.path());
        let mut check = pg.stormbench(&db);
        check.arg("check-workload").arg(&wl);
        for (args, c) in [("run", &mut runs), ("check-workload", &mut check)] {
            let o = run(c);
            let (out, err) = text(&o);
            assert_eq!(o.status.code(), Some(2), "{args}: {out}\n{err}");
            assert!(err.contains(file) && err.contains(said), "{args:?}: {err}");
            assert_eq!(
                pg.psql(&db, "SELECT count(*) FROM precious"),
                "1",
                "{args:?}"
            );
        }
        std::fs::remove_file(q.join(file)).unwrap();
    }
}

#[test]
fn after_load_steps_cannot_drop_or_change_a_users_objects() {
    let pg = pg();
    let (db, dir, wl) = beside_a_users_table(
        &pg,
        "after_load",
        "later",
        "al_items",
        schema_files("after_load: after_load.sql"),
    );
    let setup = || run(&mut set_up(&pg, &db, dir.path(), "later"));
    pg.psql(&db, "CREATE INDEX precious_id ON precious (id)");
    for (after_load, touched) in [
        ("DROP TABLE IF EXISTS precious;", "public.precious"),
        ("TRUNCATE precious;", "public.precious"),
        (
            "ALTER TABLE precious ADD COLUMN note text;",
            "public.precious",
        ),
        (
            "ALTER TABLE precious ALTER COLUMN id SET DEFAULT 7;",
            "public.precious",
        ),
        // the user's table among everything else
        ("DROP SCHEMA public CASCADE;", "public.precious"),
        // an index of the user's table (locked alone, not the table)
        (
            "ALTER INDEX precious_id RENAME TO precious_renamed;",
            "public.precious",
        ),
        (
            "ALTER INDEX precious_id SET (fillfactor = 50);",
            "public.precious",
        ),
        // the schema the user's tables are in, which no set-up creates
        (
            "GRANT CREATE ON SCHEMA public TO PUBLIC;",
            "change public, ",
        ),
        (
            "ALTER SCHEMA public RENAME TO elsewhere;",
            "change public, ",
        ),
    ] {
        let err = after_load_refused(&wl, "al_items", after_load, &setup);
        assert!(
            err.contains("line 2")
                && err.contains("would drop or change ")
                && err.contains(touched)
                && err.contains("which stormbench did not create"),
            "{after_load}: {err}"
        );
        assert_eq!(pg.psql(&db, "SELECT count(*) FROM precious"), "1");
        assert_eq!(
            pg.psql(
                &db,
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'precious'"
            ),
            "1",
            "{after_load}"
        );
        assert_eq!(
            pg.psql(&db, "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'precious'::regclass"),
            "",
            "{after_load}"
        );
        assert_eq!(
            pg.psql(
                &db,
                "SELECT c.relname || ':' || coalesce(array_to_string(c.reloptions, ','), '') \
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                 WHERE i.indrelid = 'precious'::regclass"
            ),
            "precious_id:",
            "{after_load}"
        );
        assert_eq!(
            pg.psql(
                &db,
                "SELECT has_schema_privilege('public', 'public', 'CREATE')"
            ),
            "f",
            "{after_load}"
        );
    }
    // its own objects it may alter, truncate and drop
    std::fs::write(
        wl.join("after_load.sql"),
        "ALTER TABLE al_items ADD PRIMARY KEY (id);\nCREATE TABLE al_stage (x int);\n\
         TRUNCATE al_stage;\nDROP TABLE al_stage;\n",
    )
    .unwrap();
    let o = setup();
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(pg.psql(&db, "SELECT count(*) FROM al_items"), "10");
}

/// The schema file of the workload of
/// [`workload_files_cannot_change_roles_databases_or_extensions`]: its own table.
const BW_CREATE: &str = "CREATE TABLE bw_items (id bigint, v int);\n";
/// The cleanup file of the same workload: its own table dropped.
const BW_CLEAN: &str = "DROP TABLE IF EXISTS bw_items;\n";

/// Writes the three files of that workload as they are when nothing is wrong (its table
/// made, analysed, dropped), with `add`'s statement as line 2 of `add`'s file.
fn write_beyond_files(wl: &Path, add: Option<(&str, &str)>) {
    for (f, sql) in [
        ("schema.sql", BW_CREATE),
        ("after_load.sql", "ANALYZE bw_items;\n"),
        ("cleanup.sql", BW_CLEAN),
    ] {
        let sql = match add {
            Some((file, stmt)) if f == file => format!("{sql}{stmt}\n"),
            _ => sql.into(),
        };
        std::fs::write(wl.join(f), sql).unwrap();
    }
}

/// Statements on what no set-up creates (a role, the database, an extension, what acts on
/// every table, other sessions or the server), each with the workload file it goes in and
/// the command its refusal names; `role` is a role of the user's in database `db`.
fn beyond_the_workload(db: &str, role: &str) -> Vec<(&'static str, String, &'static str)> {
    vec![
        (
            "after_load.sql",
            format!("DROP ROLE IF EXISTS {role};"),
            "DROP ROLE",
        ),
        (
            "schema.sql",
            format!("ALTER ROLE {role} SET work_mem = '64kB';"),
            "ALTER ROLE",
        ),
        (
            "cleanup.sql",
            format!("ALTER DATABASE {db} SET jit = off;"),
            "ALTER DATABASE",
        ),
        (
            "after_load.sql",
            "DROP EXTENSION IF EXISTS plpgsql CASCADE;".into(),
            "DROP EXTENSION",
        ),
        (
            "cleanup.sql",
            format!("DROP OWNED BY {role};"),
            "DROP OWNED",
        ),
        (
            "schema.sql",
            format!("GRANT pg_read_all_data TO {role};"),
            "GRANT of a role",
        ),
        // inside a DO block
        (
            "after_load.sql",
            format!("DO $$ BEGIN DROP ROLE IF EXISTS {role}; END $$;"),
            "DROP ROLE",
        ),
        // (a password in the statement is not repeated in the refusal)
        (
            "after_load.sql",
            format!("CREATE ROLE {role}_2 LOGIN PASSWORD 'hunter2-secret';"),
            "CREATE ROLE",
        ),
        // what acts on the user's tables once made
        (
            "schema.sql",
            "CREATE PUBLICATION bw_everything FOR ALL TABLES;".into(),
            "CREATE PUBLICATION",
        ),
        // calls of functions acting on other sessions or the server
        (
            "schema.sql",
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'none such';"
                .into(),
            "a call of pg_terminate_backend()",
        ),
        (
            "after_load.sql",
            "SELECT pg_stat_reset();".into(),
            "a call of pg_stat_reset()",
        ),
        (
            "cleanup.sql",
            "DO $$ BEGIN PERFORM pg_cancel_backend(pid) FROM pg_stat_activity WHERE false; END $$;"
                .into(),
            "a call of pg_cancel_backend()",
        ),
    ]
}

/// A workload's schema, after_load and cleanup files change only objects a set-up creates:
/// a statement on a role, the database or an extension (nothing stormbench can check
/// against its record) is refused before anything connects, naming the file and line.
#[test]
fn workload_files_cannot_change_roles_databases_or_extensions() {
    let pg = pg();
    let (db, dir, wl) = beside_a_users_table(
        &pg,
        "beyond",
        "beyond",
        "bw_items",
        schema_files("after_load: after_load.sql, cleanup: cleanup.sql"),
    );
    let role = format!("{db}_app");
    pg.psql(
        &db,
        &format!("DROP ROLE IF EXISTS {role}; CREATE ROLE {role}"),
    );
    for (file, stmt, cmd) in beyond_the_workload(&db, &role) {
        write_beyond_files(&wl, Some((file, &stmt)));
        let mut setup = set_up(&pg, &db, dir.path(), "beyond");
        let mut check = pg.stormbench(&db);
        check.arg("check-workload").arg(&wl);
        for (what, c) in [("setup", &mut setup), ("check-workload", &mut check)] {
            let o = run(c);
            let (out, err) = text(&o);
            assert_eq!(o.status.code(), Some(2), "{what} {stmt}: {out}\n{err}");
            assert!(!err.contains("panicked"), "{err}");
            assert!(
                !err.contains("hunter2") && !out.contains("hunter2"),
                "{err}"
            );
            assert!(
                err.contains(&format!("{file}, line 2: {cmd}"))
                    && err.contains("not the workload's own objects"),
                "{what} {stmt}: {err}"
            );
        }
        assert_nothing_beyond_changed(&pg, &db, &role, &stmt);
    }
    assert_eq!(
        pg.psql(
            &db,
            &format!(
                "SELECT count(*) FROM pg_db_role_setting WHERE setrole = \
                 (SELECT oid FROM pg_roles WHERE rolname = '{role}') OR setdatabase = \
                 (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
        ),
        "0"
    );
    // measures, checks and the workload's transactions: the same refusal, before connecting
    queries_cannot_act_beyond_the_workloads_objects(&pg, &db, &wl);
    pg.psql("postgres", &format!("DROP ROLE {role}"));
}

/// After the refusal of `stmt`: the user's `role` is still there, with no new membership,
/// no publication was made, and nothing of the workload was set up.
fn assert_nothing_beyond_changed(pg: &Pg, db: &str, role: &str, stmt: &str) {
    let roles = || {
        pg.psql(
            db,
            &format!("SELECT count(*) FROM pg_roles WHERE rolname = '{role}'"),
        )
    };
    assert_eq!(roles(), "1", "{stmt}");
    assert_eq!(
        pg.psql(db, "SELECT count(*) FROM pg_publication"),
        "0",
        "{stmt}"
    );
    assert_eq!(
        pg.psql(
            db,
            &format!("SELECT pg_has_role('{role}', 'pg_read_all_data', 'MEMBER')")
        ),
        "f",
        "{stmt}"
    );
    assert_eq!(
        pg.psql(
            db,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'bw_items'"
        ),
        "0",
        "{stmt}: nothing was set up"
    );
}

/// Measures, checks and transactions of the workload in `wl` that call functions acting on
/// other sessions or the server: check-workload refuses each, naming where it is; the
/// workload.yaml is put back as it was.
fn queries_cannot_act_beyond_the_workloads_objects(pg: &Pg, db: &str, wl: &Path) {
    let yaml = std::fs::read_to_string(wl.join("workload.yaml")).unwrap();
    for (part, path) in [
        (
            "measures:\n  - name: sneaky\n    sql: SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE false\n",
            "measures[0]",
        ),
        (
            "checks:\n  - name: sneaky\n    sql: SELECT pg_stat_reset_shared('bgwriter') IS NULL\n",
            "checks[0]",
        ),
        (
            "transactions:\n  - name: sneaky\n    statements:\n      - sql: SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE false\n",
            "transactions[0].statements[0]",
        ),
    ] {
        let doc = if part.starts_with("transactions:") {
            yaml.split("transactions:").next().unwrap().to_string() + part
        } else {
            format!("{yaml}{part}")
        };
        std::fs::write(wl.join("workload.yaml"), doc).unwrap();
        write_beyond_files(wl, None);
        let mut check = pg.stormbench(db);
        check.arg("check-workload").arg(wl);
        let o = run(&mut check);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{path}: {out}\n{err}");
        assert!(
            !err.contains("panicked")
                && err.contains(&format!("{path}: a call of"))
                && err.contains("acts beyond the workload's own objects"),
            "{path}: {err}"
        );
    }
    std::fs::write(wl.join("workload.yaml"), yaml).unwrap();
}
