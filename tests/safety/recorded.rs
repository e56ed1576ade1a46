//! Set-up, rebuild and clean-up drop and replace only what a set-up recorded creating, a
//! load left half done is not used, and check-workload refuses transaction control in a
//! schema file and names a failing schema statement.

use crate::common::*;
use crate::{decl_workload, run, setup_simple};

#[test]
fn setup_and_cleanup_refuse_tables_stormbench_did_not_create() {
    let pg = pg();
    let db = pg.fresh_db("safe_user_tables");
    pg.psql(
        &db,
        "CREATE TABLE customer (id int PRIMARY KEY, name text);
         INSERT INTO customer VALUES (1, 'a user''s row');
         CREATE TABLE orders (id int);
         INSERT INTO orders VALUES (7);",
    );
    for action in ["--setup", "--rebuild"] {
        let o = run(pg.stormbench(&db).args(["-w", "tpcc", action, "--no-run"]));
        let err = assert_clean_failure(&o, 1);
        assert!(
            err.contains("customer") && err.contains("orders") && err.contains("--force-drop"),
            "{action}: {err}"
        );
    }
    let o = run(pg.stormbench(&db).args(["-w", "tpcc", "--cleanup"]));
    let err = assert_clean_failure(&o, 1);
    assert!(
        err.contains("will not drop") && err.contains("customer"),
        "{err}"
    );
    // a plain run says what is in the way instead of using the user's tables
    let o = run(pg.stormbench(&db).args(["-w", "tpcc", "-d", "1s"]));
    let err = assert_clean_failure(&o, 1);
    assert!(err.contains("did not create"), "{err}");
    assert_eq!(pg.psql(&db, "SELECT name FROM customer"), "a user's row");
    assert_eq!(pg.psql(&db, "SELECT id FROM orders"), "7");
    assert_eq!(
        pg.psql(
            &db,
            "SELECT count(*) FROM pg_class WHERE relname IN ('warehouse', 'stormbench_meta')"
        ),
        "0",
        "nothing was created"
    );
}

#[test]
fn force_drop_is_the_users_explicit_choice() {
    let pg = pg();
    let db = pg.fresh_db("safe_force");
    pg.psql(&db, "CREATE TABLE simple_history (note text)");
    let o = run(pg
        .stormbench(&db)
        .args(["-w", "simple", "--setup", "--no-run", "-q"]));
    assert_clean_failure(&o, 1);
    assert_eq!(pg.psql(&db, "SELECT count(*) FROM simple_history"), "0");
    let o =
        run(pg
            .stormbench(&db)
            .args(["-w", "simple", "--setup", "--no-run", "-q", "--force-drop"]));
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(
        pg.psql(&db, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'simple_history' AND column_name = 'note'"),
        "0",
        "the user's table was replaced as asked"
    );
    assert_eq!(pg.psql(&db, "SELECT state FROM stormbench_meta"), "ready");
}

#[test]
fn cleanup_drops_only_what_setup_recorded() {
    let pg = pg();
    let db = pg.loaded("safe_recorded", "simple");
    let objects = pg.psql(
        &db,
        "SELECT string_agg(o ->> 'name', ',' ORDER BY o ->> 'name') FROM stormbench_meta, jsonb_array_elements(objects) o",
    );
    assert!(
        objects.contains("public.simple_accounts") && objects.contains("public.simple_history"),
        "{objects}"
    );
    // the user builds on a workload table: dropping it would take their view along
    pg.psql(
        &db,
        "CREATE VIEW rich AS SELECT * FROM simple_accounts WHERE balance > 0",
    );
    let o = run(pg.stormbench(&db).args(["-w", "simple", "--cleanup"]));
    let err = assert_clean_failure(&o, 1);
    assert!(
        err.contains("rich") && err.contains("--force-drop"),
        "{err}"
    );
    assert_eq!(pg.psql(&db, "SELECT to_regclass('rich') IS NOT NULL"), "t");
    pg.psql(&db, "DROP VIEW rich");
    // the user replaces a workload table with their own of the same name
    pg.psql(
        &db,
        "DROP TABLE simple_history; CREATE TABLE simple_history (mine text); INSERT INTO simple_history VALUES ('keep')",
    );
    let o = run(pg.stormbench(&db).args(["-w", "simple", "--cleanup"]));
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(
        pg.psql(&db, "SELECT to_regclass('simple_accounts') IS NULL"),
        "t"
    );
    assert_eq!(pg.psql(&db, "SELECT mine FROM simple_history"), "keep");
    assert_eq!(
        pg.psql(&db, "SELECT to_regclass('stormbench_meta') IS NULL"),
        "t"
    );
    // nothing of stormbench's left: a second clean-up says so and succeeds... but the
    // user's table of a workload name is still not stormbench's to drop
    let o = run(pg.stormbench(&db).args(["-w", "simple", "--cleanup"]));
    assert_clean_failure(&o, 1);
    pg.psql(&db, "DROP TABLE simple_history");
    let o = run(pg.stormbench(&db).args(["-w", "simple", "--cleanup"]));
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains("nothing to clean up"), "{:?}", text(&o));
}

#[test]
fn setup_never_replaces_or_drops_a_users_objects() {
    let pg = pg();
    let db = pg.fresh_db("safe_function");
    pg.psql(
        &db,
        "CREATE FUNCTION answer() RETURNS int LANGUAGE sql AS 'SELECT 42'",
    );
    let dir = tempdir();
    decl_workload(
        dir.path(),
        "replacer",
        "rp_items",
        "CREATE TABLE rp_items (id bigint, v int);\nCREATE OR REPLACE FUNCTION answer() RETURNS int LANGUAGE sql AS 'SELECT 0';\n",
    );
    // sets a workload of the folder up; returns its one-line refusal
    let refused = |name: &str| {
        let o = run(pg
            .stormbench(&db)
            .args(["-w", name, "--setup", "--no-run", "-q", "--workloads-path"])
            .arg(dir.path()));
        assert_clean_failure(&o, 1)
    };
    let err = refused("replacer");
    assert!(
        err.contains("answer()") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(pg.psql(&db, "SELECT answer()"), "42");
    assert_eq!(pg.psql(&db, "SELECT to_regclass('rp_items') IS NULL"), "t");

    // a schema file that drops a table of the user's (an idempotent-looking DROP IF EXISTS)
    pg.psql(
        &db,
        "CREATE TABLE precious (id int); INSERT INTO precious VALUES (1)",
    );
    decl_workload(
        dir.path(),
        "dropper",
        "dr_items",
        "DROP TABLE IF EXISTS precious;\nCREATE TABLE dr_items (id bigint, v int);\n",
    );
    let err = refused("dropper");
    assert!(
        err.contains("its schema files drop public.precious, which stormbench did not create")
            && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(pg.psql(&db, "SELECT count(*) FROM precious"), "1");
    assert_eq!(pg.psql(&db, "SELECT to_regclass('dr_items') IS NULL"), "t");

    // a schema file that opens the user's `public` schema to every role
    decl_workload(
        dir.path(),
        "opener",
        "op_items",
        "CREATE TABLE op_items (id bigint, v int);
GRANT CREATE ON SCHEMA public TO PUBLIC;
",
    );
    let err = refused("opener");
    assert!(
        err.contains("change public, which stormbench did not create")
            && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(
        pg.psql(
            &db,
            "SELECT has_schema_privilege('public', 'public', 'CREATE')"
        ),
        "f"
    );
}

#[test]
fn an_interrupted_load_is_not_used_and_setup_reloads_it() {
    let pg = pg();
    let db = pg.loaded("safe_loading", "simple");
    pg.psql(
        &db,
        "UPDATE stormbench_meta SET state = 'loading'; DELETE FROM simple_accounts WHERE id > 10",
    );
    let o = run(pg
        .stormbench(&db)
        .args(["-w", "simple_read", "-d", "1s", "-q"]));
    let err = assert_clean_failure(&o, 1);
    assert!(
        err.contains("not completely loaded") && err.contains("--setup"),
        "{err}"
    );
    setup_simple(&pg, &db);
    assert_eq!(
        pg.psql(&db, "SELECT count(*) FROM simple_accounts"),
        "100000"
    );
    assert_eq!(pg.psql(&db, "SELECT state FROM stormbench_meta"), "ready");
}

#[test]
fn a_marker_from_before_the_object_record_still_cleans_up() {
    let pg = pg();
    let db = pg.loaded("safe_legacy", "simple");
    pg.psql(
        &db,
        "ALTER TABLE stormbench_meta DROP COLUMN state, DROP COLUMN objects",
    );
    let o = run(pg
        .stormbench(&db)
        .args(["-w", "simple_read", "-d", "1s", "-q"]));
    assert!(o.status.success(), "{:?}", text(&o));
    let o = run(pg.stormbench(&db).args(["-w", "simple", "--cleanup"]));
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(
        pg.psql(&db, "SELECT to_regclass('simple_accounts') IS NULL"),
        "t"
    );
}

#[test]
fn transaction_control_in_a_schema_file_is_refused_before_it_runs() {
    let pg = pg();
    let db = pg.fresh_db("safe_check_commit");
    pg.psql(
        &db,
        "CREATE TABLE precious (v int); INSERT INTO precious VALUES (1)",
    );
    let dir = tempdir();
    let wl = decl_workload(
        dir.path(),
        "escaper",
        "esc_items",
        "CREATE TABLE esc_items (id bigint, v int);\nCOMMIT;\nDROP TABLE precious;\n",
    );
    let o = run(pg.stormbench(&db).arg("check-workload").arg(&wl));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(err.contains("line 2") && err.contains("COMMIT"), "{err}");
    let o = run(stormbench().arg("check-workload").arg(&wl).arg("--offline"));
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    assert!(text(&o).1.contains("COMMIT"), "{:?}", text(&o));
    assert_eq!(pg.psql(&db, "SELECT v FROM precious"), "1");
    assert_eq!(
        pg.psql(
            &db,
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'stormbench_check%'"
        ),
        "0"
    );
    let o = run(pg
        .stormbench(&db)
        .args([
            "-w",
            "escaper",
            "--setup",
            "--no-run",
            "-q",
            "--workloads-path",
        ])
        .arg(dir.path()));
    let err = assert_clean_failure(&o, 2);
    assert!(err.contains("COMMIT"), "{err}");
    assert_eq!(pg.psql(&db, "SELECT v FROM precious"), "1");
    assert_eq!(pg.psql(&db, "SELECT to_regclass('esc_items') IS NULL"), "t");
}

#[test]
fn check_workload_names_the_failing_schema_statement() {
    let pg = pg();
    let db = pg.fresh_db("safe_check_stmt");
    let dir = tempdir();
    let wl = decl_workload(
        dir.path(),
        "typo",
        "ty_items",
        "CREATE TABLE ty_items (id bigint, v int);\n\nCREATE INDEX ON ty_itemz (v);\n",
    );
    let o = run(pg.stormbench(&db).arg("check-workload").arg(&wl));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(
        err.contains("line 3") && err.contains("ty_itemz") && !err.contains("generator"),
        "{err}"
    );
}

/// A declarative workload's cleanup files drop by name: where the user has put a table of
/// their own in the place of one stormbench created, `--cleanup` is refused naming it and
/// nothing is dropped (the files run in a transaction that is rolled back); `--force-drop`
/// is the way through.
#[test]
fn cleanup_files_cannot_drop_a_table_the_user_put_in_place() {
    let pg = pg();
    let db = pg.fresh_db("cleanup_files");
    let workloads = concat!(env!("CARGO_MANIFEST_DIR"), "/workloads");
    let bank = |args: &[&str]| {
        let mut c = pg.stormbench(&db);
        c.args(["--workloads-path", workloads, "-w", "example_bank", "-q"])
            .args(args);
        c
    };
    ok(&mut bank(&["--setup", "--no-run"]));
    pg.psql(
        &db,
        "DROP TABLE bank_branches CASCADE; CREATE TABLE bank_branches (note text); \
         INSERT INTO bank_branches VALUES ('mine')",
    );
    let err = fails(&mut bank(&["--cleanup"]), 1);
    assert!(
        err.contains(
            "cleanup files would drop public.bank_branches that stormbench did not create"
        ),
        "{err}"
    );
    let tables = "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'bank\\_%'";
    assert_eq!(pg.psql(&db, tables), "3", "nothing was dropped");
    assert_eq!(pg.psql(&db, "SELECT note FROM bank_branches"), "mine");
    ok(&mut bank(&["--cleanup", "--force-drop"]));
    assert_eq!(pg.psql(&db, tables), "0");
}
