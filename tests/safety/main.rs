//! stormbench is pointed at databases people care about: against the real test cluster,
//! set-up, rebuild and clean-up touch only what stormbench created, one set-up runs at a
//! time, and check-workload leaves nothing behind.

#[path = "../common/mod.rs"]
mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::*;

/// A small declarative workload `name` in `root` whose schema file is `schema`.
fn decl_workload(root: &Path, name: &str, table: &str, schema: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("workload.yaml"),
        format!(
            "description: safety test workload\nschema: {{create: schema.sql}}\ndata:\n  - table: {table}\n    rows: 10\n    columns:\n      id: {{sequence: {{}}}}\n      v: {{constant: 1}}\ntransactions:\n  - name: read\n    statements:\n      - sql: SELECT v FROM {table} WHERE id = $1\n        params: [{{foreign_key: {table}}}]\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("schema.sql"), schema).unwrap();
    dir
}

fn run(c: &mut Command) -> std::process::Output {
    c.output().expect("stormbench runs")
}

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

/// A psql session holding stormbench's set-up lock until it is dropped.
struct LockHolder(Child);

impl LockHolder {
    fn take(pg: &Pg, db: &str) -> Self {
        let mut child = Command::new(pg.bindir.join("psql"))
            .args([
                "-h", &pg.host, "-p", &pg.port, "-U", &pg.user, "-d", db, "-qAt",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("psql starts");
        let key = i64::from_be_bytes(*b"stormbnc");
        let stdin = child.stdin.as_mut().unwrap();
        writeln!(stdin, "SELECT pg_advisory_lock({key});").unwrap();
        stdin.flush().unwrap();
        // wait until the lock shows as granted
        for _ in 0..100 {
            if pg.psql(
                db,
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            ) == "1"
            {
                return LockHolder(child);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the lock was not taken");
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn one_setup_at_a_time_per_database() {
    let pg = pg();
    let db = pg.fresh_db("safe_lock");
    let holder = LockHolder::take(&pg, &db);
    for action in ["--setup", "--cleanup"] {
        let o = run(pg
            .stormbench(&db)
            .args(["-w", "simple", action, "--no-run", "-q"]));
        let err = assert_clean_failure(&o, 1);
        assert!(
            err.contains("another stormbench is setting up"),
            "{action}: {err}"
        );
    }
    assert_eq!(
        pg.psql(&db, "SELECT to_regclass('simple_accounts') IS NULL"),
        "t"
    );
    drop(holder);
    setup_simple(&pg, &db);
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

/// Loads the simple workload into `db` (a plain `--setup`).
fn setup_simple(pg: &Pg, db: &str) {
    let o = run(pg
        .stormbench(db)
        .args(["-w", "simple", "--setup", "--no-run", "-q"]));
    assert!(o.status.success(), "{:?}", text(&o));
}

#[test]
fn reports_go_to_devices_fifos_and_through_symlinks_without_replacing_them() {
    use std::os::unix::fs::FileTypeExt as _;
    let pg = pg();
    let db = pg.loaded("safe_outputs", "simple");
    let short = ["-w", "simple_read", "-d", "1s", "-q", "--workers", "2"];
    // /dev/stdout prints the report
    let o = run(pg
        .stormbench(&db)
        .args(short)
        .args(["--json", "/dev/stdout"]));
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains("\"schema_version\""), "{}", text(&o).0);
    // /dev/null stays a device
    let o = run(pg.stormbench(&db).args(short).args(["--csv", "/dev/null"]));
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
    // a FIFO is written into, not replaced
    let dir = tempdir();
    let fifo = dir.path().join("series.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let o = run(pg.stormbench(&db).args(short).arg("--csv").arg(&fifo));
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(reader.join().unwrap().starts_with("interval,t_s,"));
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    // a symlink stays a symlink; its target gets the report
    let real = dir.path().join("real.json");
    let link = dir.path().join("latest.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let o = run(pg.stormbench(&db).args(short).arg("--json").arg(&link));
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(read_json(&real)["summary"].is_object());
}

#[test]
fn outputs_never_clobber_inputs_each_other_or_foreign_files() {
    let pg = pg();
    let dir = tempdir();
    let cfg = dir.path().join("run.yaml");
    let cfg_text = "workload: simple_read\nduration: 1s\n";
    std::fs::write(&cfg, cfg_text).unwrap();
    let same = dir.path().join("out");
    let notes = dir.path().join("notes.json");
    std::fs::write(&notes, "{\"mine\": true}").unwrap();
    // files that name stormbench without being its outputs: a results history and another
    // config
    let history = dir.path().join("history.sqlite");
    ok(pg
        .stormbench("postgres")
        .args(["-w", "noop", "-d", "1s", "-q", "--history"])
        .arg(&history));
    let history_bytes = std::fs::read(&history).unwrap();
    let other = dir.path().join("other.yaml");
    let other_text = "# stormbench config for the nightly run\nworkload: tpcc\n";
    std::fs::write(&other, other_text).unwrap();
    let cases: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (
            vec!["--json".into(), history.clone().into()],
            "not a file stormbench wrote",
        ),
        (
            vec!["--html".into(), other.clone().into()],
            "not a file stormbench wrote",
        ),
        (
            vec![
                "--json".into(),
                same.clone().into(),
                "--csv".into(),
                same.clone().into(),
            ],
            "same file",
        ),
        (
            vec!["--html".into(), cfg.clone().into()],
            "input of this run",
        ),
        (
            vec!["--json".into(), notes.clone().into()],
            "not a file stormbench wrote",
        ),
        (vec!["--json".into(), dir.path().into()], "directory"),
    ];
    for (args, want) in cases {
        let o = run(pg.stormbench("postgres").arg("-c").arg(&cfg).args(&args));
        let err = assert_clean_failure(&o, 2);
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), cfg_text);
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "{\"mine\": true}");
    assert_eq!(std::fs::read(&history).unwrap(), history_bytes);
    assert_eq!(std::fs::read_to_string(&other).unwrap(), other_text);
    assert!(!same.exists());
}

/// A config file holding only a `safety:` section.
fn guards(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("safety:\n{body}")).unwrap();
    p
}

#[test]
fn read_only_refuses_what_writes_and_runs_what_reads() {
    let pg = pg();
    let db = pg.loaded("guard_ro", "simple");
    let dir = tempdir();
    let cfg = guards(dir.path(), "ro.yaml", "  read_only: true\n");
    for args in [
        &["-w", "simple_mixed"][..],
        &["-w", "simple_write"],
        &["-w", "tpcc"],
        &["-w", "simple_read", "--setup"],
        &["-w", "simple_read", "--rebuild"],
        &["-w", "simple_read", "--cleanup"],
    ] {
        let err = fails(
            pg.stormbench(&db)
                .arg("-c")
                .arg(&cfg)
                .args(args)
                .args(["-d", "1s"]),
            2,
        );
        assert!(err.contains("safety.read_only is on"), "{args:?}: {err}");
    }
    // a read runs, on connections the server keeps read-only, and the report keeps the guards
    let json = dir.path().join("r.json");
    ok(pg
        .stormbench(&db)
        .arg("-c")
        .arg(&cfg)
        .args(["-w", "simple_read", "-d", "1s", "--json"])
        .arg(&json));
    let r = read_json(&json);
    assert_eq!(r["config"]["safety"]["read_only"], true);
    assert_eq!(r["config"]["database"]["read_only"], true);
    let verdict = &r["config"]["safety"]["verdict"];
    assert_eq!(verdict["step"], serde_json::Value::Null, "{verdict}");
    assert_eq!(verdict["applied"][0]["guard"], "read_only", "{verdict}");
    assert_eq!(r["summary"]["failed"], 0, "{}", r["errors"]);
    let rows = pg.psql(&db, "SELECT count(*) > 0 FROM simple_accounts");
    assert_eq!(rows.trim(), "t", "the schema is untouched");
}

#[test]
fn allowed_hosts_and_database_pattern_guard_writes_and_schema_steps() {
    let pg = pg();
    let db = pg.loaded("guard_where", "simple");
    let dir = tempdir();
    let elsewhere = guards(dir.path(), "h.yaml", "  allowed_hosts: [db.example.com]\n");
    for args in [
        &["-w", "simple_write"][..],
        &["-w", "simple_read", "--rebuild"],
    ] {
        let err = fails(
            pg.stormbench(&db)
                .arg("-c")
                .arg(&elsewhere)
                .args(args)
                .args(["-d", "1s"]),
            2,
        );
        assert!(
            err.contains("safety.allowed_hosts does not list host '127.0.0.1'"),
            "{args:?}: {err}"
        );
    }
    // reading is allowed anywhere
    ok(pg
        .stormbench(&db)
        .arg("-c")
        .arg(&elsewhere)
        .args(["-w", "simple_read", "-d", "1s"]));
    let here = guards(
        dir.path(),
        "here.yaml",
        "  allowed_hosts: [db.example.com, '127.0.0.*']\n",
    );
    let json = dir.path().join("here.json");
    ok(pg
        .stormbench(&db)
        .arg("-c")
        .arg(&here)
        .args(["-w", "simple_write", "-d", "1s", "--json"])
        .arg(&json));
    // the report records which guard let the writes through, and why
    let verdict = read_json(&json)["config"]["safety"]["verdict"].clone();
    assert_eq!(verdict["step"], "a workload that writes", "{verdict}");
    assert_eq!(verdict["applied"][0]["guard"], "allowed_hosts", "{verdict}");
    assert_eq!(
        verdict["applied"][0]["detail"], "host '127.0.0.1' matches '127.0.0.*'",
        "{verdict}"
    );

    let tests_only = guards(dir.path(), "p.yaml", "  database_pattern: '*_test'\n");
    let err = fails(
        pg.stormbench(&db).arg("-c").arg(&tests_only).args([
            "-w",
            "simple_read",
            "--rebuild",
            "--no-run",
        ]),
        2,
    );
    assert!(
        err.contains("does not match safety.database_pattern '*_test'"),
        "{err}"
    );
    let ours = guards(dir.path(), "o.yaml", "  database_pattern: 'sbt_guard_*'\n");
    ok(pg.stormbench(&db).arg("-c").arg(&ours).args([
        "-w",
        "simple_read",
        "--rebuild",
        "--no-run",
        "-q",
    ]));
}

/// A write the statement text cannot show (a function that inserts) still fails under
/// `safety.read_only`: the server refuses it on every driver's connections.
#[test]
fn read_only_connections_refuse_a_hidden_write_on_both_drivers() {
    let pg = pg();
    let dir = tempdir();
    let wl = dir.path().join("wl").join("hidden_write");
    std::fs::create_dir_all(&wl).unwrap();
    std::fs::write(
        wl.join("workload.yaml"),
        "description: a read that writes\nschema: {create: schema.sql}\ntransactions:\n  - name: bump\n    statements:\n      - sql: SELECT sbt_bump()\n",
    )
    .unwrap();
    std::fs::write(
        wl.join("schema.sql"),
        "CREATE TABLE hidden_log (at timestamptz);\n\
         CREATE FUNCTION sbt_bump() RETURNS int LANGUAGE sql AS \
         'INSERT INTO hidden_log VALUES (now()); SELECT 1';\n",
    )
    .unwrap();
    let db = pg.fresh_db("guard_hidden");
    let wpath = dir.path().join("wl");
    ok(pg
        .stormbench(&db)
        .arg("--workloads-path")
        .arg(&wpath)
        .args(["-w", "hidden_write", "--setup", "--no-run", "-q"]));
    let cfg = guards(dir.path(), "ro.yaml", "  read_only: true\n");
    for driver in DRIVERS {
        let json = dir.path().join(format!("{driver}.json"));
        let o = run(pg
            .stormbench(&db)
            .arg("-c")
            .arg(&cfg)
            .arg("--workloads-path")
            .arg(&wpath)
            .args([
                "-w",
                "hidden_write",
                "-d",
                "1s",
                "--driver",
                driver,
                "--json",
            ])
            .arg(&json));
        let r = read_json(&json);
        assert!(!o.status.success(), "{driver}: the run had only failures");
        assert_eq!(r["summary"]["transactions"], 0, "{driver}: {}", r["errors"]);
        let errors = r["errors"].to_string();
        assert!(errors.contains("25006"), "{driver}: {errors}");
    }
    assert_eq!(pg.psql(&db, "SELECT count(*) FROM hidden_log").trim(), "0");
}

/// Another session's lock on a table stormbench would drop: the wait is bounded (30 s, or
/// the session's own `lock_timeout`), Ctrl-C while waiting cancels the drop on the server
/// and a stormbench killed while waiting has it abandoned (it does not run later, once the
/// lock goes), and the tables stay as they were.
#[test]
fn a_drop_behind_another_sessions_lock_is_bounded_and_cancelled_on_ctrl_c() {
    use std::time::{Duration, Instant};
    let pg = pg();
    let db = pg.fresh_db("lock_wait");
    setup_simple(&pg, &db);
    // another session reads a table for longer than every step below takes
    let holder = pg.lock_holder(&db, "SELECT count(*) FROM simple_accounts", 50);
    let count = |sql: &str| pg.psql(&db, sql).parse::<u32>().unwrap();
    let until = |what: &str, sql: &str, n: u32| pg.wait_count(&db, what, sql, n);
    let waiting = STORMBENCH_LOCK_WAITS;
    let cleanup = || {
        let mut c = pg.stormbench(&db);
        c.args(["-w", "simple", "--cleanup"]);
        c
    };
    // Ctrl-C while the drop waits: stopped at once, the drop cancelled on the server
    let child = spawn(&mut cleanup());
    until("the drop never waited for the lock", waiting, 1);
    signal(&child, libc::SIGINT);
    let (o, took) = wait_at_most(child, Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(130), "{:?}", text(&o));
    assert!(took < Duration::from_secs(3), "took {took:?}");
    until("the interrupted drop still waits on the server", waiting, 0);
    // killed while the drop waits: the server abandons the drop when it finds the client gone
    let mut child = spawn(&mut cleanup());
    until("the drop never waited for the lock", waiting, 1);
    child.kill().unwrap();
    child.wait().unwrap();
    until(
        "the killed stormbench's drop still waits on the server",
        waiting,
        0,
    );
    // left alone, the wait ends after 30 s, naming the cause
    let t0 = Instant::now();
    let err = assert_clean_failure(&run(&mut cleanup()), 1);
    let took = t0.elapsed();
    assert!(err.contains("another session holds a lock"), "{err}");
    assert!(
        took >= Duration::from_secs(29) && took < Duration::from_secs(40),
        "took {took:?}"
    );
    // a lock_timeout the database sets is kept
    pg.psql(
        "postgres",
        &format!("ALTER DATABASE {db} SET lock_timeout = '2s'"),
    );
    let t0 = Instant::now();
    let err = assert_clean_failure(&run(&mut cleanup()), 1);
    assert!(err.contains("lock timeout"), "{err}");
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    // once the holder is gone, nothing dropped anything behind its back
    let (o, _) = wait_at_most(holder, Duration::from_secs(60));
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(
        count(
            "SELECT count(*) FROM pg_tables WHERE tablename IN ('simple_accounts', 'simple_history')"
        ),
        2
    );
    assert!(run(&mut cleanup()).status.success());
}

/// `check-workload` and a PostgreSQL results history open sessions of their own beside a
/// run's: killed while one waits behind another session's lock, the server abandons the
/// statement instead of running it once the lock goes (nothing lands in the history later).
#[test]
fn killed_while_waiting_for_a_lock_check_workload_and_the_history_leave_nothing_queued() {
    use std::time::Duration;
    let pg = pg();
    let db = pg.fresh_db("lock_wait_side");
    let dir = tempdir();
    let killed_while_waiting = |c: &mut Command, what: &str| {
        let mut child = spawn(c);
        pg.wait_count(&db, what, STORMBENCH_LOCK_WAITS, 1);
        child.kill().unwrap();
        child.wait().unwrap();
        pg.wait_count(
            &db,
            "the killed stormbench's statement still waits on the server",
            STORMBENCH_LOCK_WAITS,
            0,
        );
    };

    // a declarative workload whose statement reads a table of the user's
    pg.psql(&db, "CREATE TABLE sbt_user_table (v int)");
    let workload = dir.path().join("reads_users_table");
    std::fs::create_dir(&workload).unwrap();
    std::fs::write(
        workload.join("workload.yaml"),
        "transactions:\n  - name: t\n    statements:\n      - sql: SELECT count(*) FROM sbt_user_table\n",
    )
    .unwrap();
    let holder = pg.lock_holder(
        &db,
        "LOCK TABLE sbt_user_table IN ACCESS EXCLUSIVE MODE",
        51,
    );
    killed_while_waiting(
        pg.stormbench(&db).arg("check-workload").arg(&workload),
        "check-workload never waited for the lock",
    );
    pg.release(&db, holder);

    // a report imported into a history whose table another session has locked
    let store = format!(
        "postgresql://{}@{}:{}/{db}?sslmode=disable",
        pg.user, pg.host, pg.port
    );
    let json = dir.path().join("r.json");
    ok(pg
        .stormbench(&db)
        .args(["-w", "noop", "-d", "1s", "--history", "off", "--json"])
        .arg(&json));
    ok(stormbench().args(["history", "--store", &store]));
    let holder = pg.lock_holder(
        &db,
        "LOCK TABLE stormbench_history IN ACCESS EXCLUSIVE MODE",
        51,
    );
    killed_while_waiting(
        stormbench()
            .args(["history", "--store", &store, "--import"])
            .arg(&json),
        "the history's insert never waited for the lock",
    );
    pg.release(&db, holder);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(pg.psql(&db, "SELECT count(*) FROM stormbench_history"), "0");
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

/// Edits a workload.yaml of [`beside_a_users_table`] to list `files` under `schema:` beside
/// its `create` file.
fn schema_files(files: &'static str) -> impl FnOnce(&str) -> String {
    move |y| {
        y.replace(
            "schema: {create: schema.sql}",
            &format!("schema: {{create: schema.sql, {files}}}"),
        )
    }
}

/// Makes `stmt` line 2 of the workload's after_load file (after the key of its `table`),
/// runs `setup`, and returns the error of its refusal (exit 1).
fn after_load_refused(
    wl: &Path,
    table: &str,
    stmt: &str,
    setup: &dyn Fn() -> std::process::Output,
) -> String {
    std::fs::write(
        wl.join("after_load.sql"),
        format!("ALTER TABLE {table} ADD PRIMARY KEY (id);\n{stmt}\n"),
    )
    .unwrap();
    assert_clean_failure(&setup(), 1)
}

/// `stormbench --setup --no-run -q` of workload `name` in folder `dir`, against `db`.
fn set_up(pg: &Pg, db: &str, dir: &Path, name: &str) -> Command {
    let mut c = pg.stormbench(db);
    c.args(["-w", name, "--setup", "--no-run", "-q", "--workloads-path"])
        .arg(dir);
    c
}

/// A fresh database `name` holding the user's table `precious` (one row), and beside it a
/// small declarative workload `workload` on its own table `table`, in a temp folder, its
/// workload.yaml edited by `yaml`. Returns the database, the folder and the workload's.
fn beside_a_users_table(
    pg: &Pg,
    name: &str,
    workload: &str,
    table: &str,
    yaml: impl FnOnce(&str) -> String,
) -> (String, tempfile::TempDir, PathBuf) {
    let db = pg.fresh_db(name);
    pg.psql(
        &db,
        "CREATE TABLE precious (id int); INSERT INTO precious VALUES (1)",
    );
    let dir = tempdir();
    let wl = decl_workload(
        dir.path(),
        workload,
        table,
        &format!("CREATE TABLE {table} (id bigint, v int);\n"),
    );
    let file = wl.join("workload.yaml");
    let edited = yaml(&std::fs::read_to_string(&file).unwrap());
    std::fs::write(&file, edited).unwrap();
    (db, dir, wl)
}

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

/// The set-up writes rows only into tables it created: an INSERT, UPDATE, DELETE or COPY of
/// a user's table, in a schema file or an after_load file, is refused (rolled back, the
/// set-up stopped), and so is a schema file adding an index, foreign key, child table or
/// trigger to it, while the workload's own tables take writes and maintenance runs.
#[test]
fn setup_statements_cannot_write_a_users_rows() {
    let pg = pg();
    let (db, dir, wl) = beside_a_users_table(
        &pg,
        "setup_rows",
        "rows",
        "sr_items",
        schema_files("after_load: after_load.sql"),
    );
    let setup = || run(&mut set_up(&pg, &db, dir.path(), "rows"));
    let precious = || pg.psql(&db, "SELECT count(*) || ':' || min(id) FROM precious");
    let create = "CREATE TABLE sr_items (id bigint, v int);\n";
    let writes = [
        "DELETE FROM precious;",
        "UPDATE precious SET id = 5;",
        "INSERT INTO precious VALUES (2);",
        "COPY precious FROM PROGRAM 'echo 9';",
        "WITH d AS (DELETE FROM precious RETURNING 1) SELECT count(*) FROM d;",
    ];
    std::fs::write(wl.join("after_load.sql"), "").unwrap();
    for write in writes {
        std::fs::write(wl.join("schema.sql"), format!("{create}{write}\n")).unwrap();
        let err = assert_clean_failure(&setup(), 1);
        assert!(
            err.contains("its schema files insert, update or delete rows of public.precious")
                && err.contains("nothing was changed"),
            "schema {write}: {err}"
        );
        assert_eq!(precious(), "1:1", "schema {write}");
        assert_eq!(
            pg.psql(
                &db,
                "SELECT count(*) FROM pg_tables WHERE tablename = 'sr_items'"
            ),
            "0",
            "schema {write}"
        );
    }
    // what adds to the user's table rather than writing its rows: caught by its DDL lock
    pg.psql(&db, "ALTER TABLE precious ADD PRIMARY KEY (id)");
    for change in [
        "CREATE INDEX precious_v ON precious (id);",
        "ALTER TABLE sr_items ADD FOREIGN KEY (v) REFERENCES precious (id);",
        "CREATE TABLE sr_child () INHERITS (precious);",
        "CREATE TRIGGER sr_t BEFORE DELETE ON precious FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();",
    ] {
        std::fs::write(wl.join("schema.sql"), format!("{create}{change}\n")).unwrap();
        let err = assert_clean_failure(&setup(), 1);
        assert!(
            err.contains("change public.precious, which stormbench did not create")
                && err.contains("nothing was changed"),
            "schema {change}: {err}"
        );
        assert_eq!(
            pg.psql(
                &db,
                "SELECT (SELECT count(*) FROM pg_index WHERE indrelid = 'precious'::regclass) \
                 || ':' || (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'precious'::regclass) \
                 || ':' || (SELECT count(*) FROM pg_inherits WHERE inhparent = 'precious'::regclass)"
            ),
            "1:0:0",
            "schema {change}"
        );
    }
    std::fs::write(wl.join("schema.sql"), create).unwrap();
    for write in writes {
        let err = after_load_refused(&wl, "sr_items", write, &setup);
        assert!(
            err.contains("line 2")
                && err.contains("would drop or change public.precious")
                && err.contains("rolled back"),
            "after_load {write}: {err}"
        );
        assert_eq!(precious(), "1:1", "after_load {write}");
    }
    // index builds outside a transaction on the user's table (or every table) do not start
    for build in [
        "CREATE INDEX CONCURRENTLY ON precious (id);",
        "REINDEX TABLE CONCURRENTLY public.precious;",
        "REINDEX INDEX CONCURRENTLY precious_pkey;",
        "REINDEX SCHEMA CONCURRENTLY public;",
    ] {
        let err = after_load_refused(&wl, "sr_items", build, &setup);
        assert!(
            err.contains("line 2") && err.contains("would build or rebuild indexes on"),
            "after_load {build}: {err}"
        );
        assert_eq!(
            pg.psql(
                &db,
                "SELECT count(*) FROM pg_index WHERE indrelid = 'precious'::regclass"
            ),
            "1",
            "after_load {build}"
        );
    }
    // rewrites of the user's table outside a transaction (`VACUUM FULL` of it or of every
    // table, `CLUSTER` of every clustered table) do not start; `CLUSTER` of it runs in the
    // guarded transaction and is rolled back
    pg.psql(&db, "CLUSTER precious USING precious_pkey");
    let filenode = || pg.psql(&db, "SELECT pg_relation_filenode('precious')");
    let before = filenode();
    for rewrite in [
        "VACUUM FULL precious;",
        "VACUUM (FULL, ANALYZE) sr_items, public.precious (id);",
        "VACUUM (VERBOSE, FULL true);",
        "CLUSTER;",
        "CLUSTER VERBOSE;",
        "CLUSTER precious;",
    ] {
        let err = after_load_refused(&wl, "sr_items", rewrite, &setup);
        assert!(
            err.contains("line 2")
                && (err.contains("would rewrite")
                    || err.contains("would drop or change public.precious")),
            "after_load {rewrite}: {err}"
        );
        assert_eq!(filenode(), before, "after_load {rewrite}");
    }
    // the user's sequences (one of its own, one behind a serial column): a `setval` naming
    // one does not run; one reaching it through an expression is reported, saying that its
    // value stays changed (no rollback undoes a sequence's)
    pg.psql(
        &db,
        "CREATE SEQUENCE precious_seq; SELECT nextval('precious_seq'); \
         ALTER TABLE precious ADD COLUMN n serial",
    );
    let sequences = || {
        pg.psql(
            &db,
            "SELECT last_value || ':' || (SELECT last_value FROM precious_n_seq) FROM precious_seq",
        )
    };
    let named = [
        "SELECT setval('precious_seq', 1000);",
        "SELECT setval('public.precious_n_seq', 1000);",
        "SELECT nextval('precious_seq');",
        // in a block whose failure is caught: the lock the call took goes with its
        // subtransaction, the value stays
        "DO $$ BEGIN PERFORM setval('precious_seq', 1000); RAISE EXCEPTION 'undo'; \
         EXCEPTION WHEN others THEN NULL; END $$;",
    ];
    for set in named {
        std::fs::write(wl.join("schema.sql"), format!("{create}{set}\n")).unwrap();
        std::fs::write(wl.join("after_load.sql"), "").unwrap();
        let err = assert_clean_failure(&setup(), 1);
        assert!(
            err.contains("line 2")
                && err.contains("would set or advance the sequence of public.precious")
                && err.contains("it was not run"),
            "schema {set}: {err}"
        );
        std::fs::write(wl.join("schema.sql"), create).unwrap();
        let err = after_load_refused(&wl, "sr_items", set, &setup);
        assert!(
            err.contains("line 2")
                && err.contains("would set or advance the sequence of public.precious")
                && err.contains("it was not run"),
            "after_load {set}: {err}"
        );
        assert_eq!(sequences(), "1:1", "{set}");
    }
    let hidden = "SELECT setval(pg_get_serial_sequence('precious', 'n'), 1000);";
    std::fs::write(wl.join("schema.sql"), format!("{create}{hidden}\n")).unwrap();
    let err = assert_clean_failure(&setup(), 1);
    assert!(
        err.contains("set or advance the sequence of public.precious,")
            && err.contains("a sequence's value is not"),
        "schema {hidden}: {err}"
    );
    assert_eq!(sequences(), "1:1000");
    pg.psql(&db, "SELECT setval('precious_n_seq', 1, false)");
    std::fs::write(wl.join("schema.sql"), create).unwrap();
    let err = after_load_refused(&wl, "sr_items", hidden, &setup);
    assert!(
        err.contains("line 2")
            && err.contains("set or advanced the sequence of public.precious,")
            && err.contains("a sequence's value is not"),
        "after_load {hidden}: {err}"
    );
    assert_eq!(sequences(), "1:1000");
    // writes to its own tables, a write of the user's that changes no row, maintenance (a
    // rewrite of its own table, a plain vacuum of the user's) and a concurrent index build
    // (outside a transaction) run
    std::fs::write(
        wl.join("after_load.sql"),
        "ALTER TABLE sr_items ADD PRIMARY KEY (id);\nUPDATE sr_items SET v = 2;\n\
         DELETE FROM precious WHERE id = 77;\nCREATE INDEX CONCURRENTLY sr_v ON sr_items (v);\n\
         ANALYZE;\nVACUUM sr_items;\nVACUUM FULL sr_items;\nVACUUM (FULL false) precious;\n",
    )
    .unwrap();
    let o = setup();
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(pg.psql(&db, "SELECT sum(v) FROM sr_items"), "20");
    assert_eq!(
        pg.psql(
            &db,
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'sr_v'"
        ),
        "1"
    );
    assert_eq!(precious(), "1:1");
    // its own sequence, made by one schema file and set by the next, is its own
    let yaml = std::fs::read_to_string(wl.join("workload.yaml")).unwrap();
    std::fs::write(
        wl.join("workload.yaml"),
        yaml.replace("create: schema.sql", "create: [schema.sql, later.sql]"),
    )
    .unwrap();
    std::fs::write(
        wl.join("schema.sql"),
        format!("{create}CREATE SEQUENCE sr_seq;\n"),
    )
    .unwrap();
    std::fs::write(wl.join("later.sql"), "SELECT setval('sr_seq', 42);\n").unwrap();
    std::fs::write(wl.join("after_load.sql"), "SELECT nextval('sr_seq');\n").unwrap();
    let o = run(pg
        .stormbench(&db)
        .args([
            "-w",
            "rows",
            "--rebuild",
            "--no-run",
            "-q",
            "--workloads-path",
        ])
        .arg(dir.path()));
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(pg.psql(&db, "SELECT last_value FROM sr_seq"), "43");
    assert_eq!(sequences(), "1:1000");
}

/// An after_load step waiting behind another session's lock: Ctrl-C stops the set-up at
/// once and the server abandons the statement; left alone, the wait ends after 30 s naming
/// the cause (the loading sessions' lock waits are bounded as stormbench's own are).
#[test]
fn an_after_load_step_behind_another_sessions_lock_is_bounded_and_stops_on_ctrl_c() {
    use std::time::{Duration, Instant};
    let pg = pg();
    let (db, dir, wl) = beside_a_users_table(
        &pg,
        "after_load_lock",
        "waits",
        "aw_items",
        schema_files("after_load: after_load.sql"),
    );
    std::fs::write(
        wl.join("after_load.sql"),
        "CREATE INDEX ON aw_items (v);\nSELECT count(*) FROM precious;\n",
    )
    .unwrap();
    let setup = || set_up(&pg, &db, dir.path(), "waits");
    // the user's session rewrites the table for longer than every step below takes
    let holder = pg.lock_holder(&db, "LOCK TABLE precious IN ACCESS EXCLUSIVE MODE", 50);
    let waiting = STORMBENCH_LOCK_WAITS;
    let child = spawn(&mut setup());
    pg.wait_count(&db, "the step never waited for the lock", waiting, 1);
    signal(&child, libc::SIGINT);
    let (o, took) = wait_at_most(child, Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(130), "{:?}", text(&o));
    assert!(took < Duration::from_secs(3), "took {took:?}");
    pg.wait_count(
        &db,
        "the interrupted step still waits on the server",
        waiting,
        0,
    );
    let t0 = Instant::now();
    let err = assert_clean_failure(&run(&mut setup()), 1);
    let took = t0.elapsed();
    assert!(
        err.contains("line 2") && err.contains("another session holds a lock"),
        "{err}"
    );
    assert!(
        took >= Duration::from_secs(29) && took < Duration::from_secs(45),
        "took {took:?}"
    );
    pg.release(&db, holder);
    let o = run(&mut setup());
    assert!(o.status.success(), "{:?}", text(&o));
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
    let create = "CREATE TABLE bw_items (id bigint, v int);\n";
    let clean = "DROP TABLE IF EXISTS bw_items;\n";
    let roles = || {
        pg.psql(
            &db,
            &format!("SELECT count(*) FROM pg_roles WHERE rolname = '{role}'"),
        )
    };
    for (file, stmt, cmd) in [
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
    ] {
        for (f, sql) in [
            ("schema.sql", create),
            ("after_load.sql", "ANALYZE bw_items;\n"),
            ("cleanup.sql", clean),
        ] {
            let sql = if f == file {
                format!("{sql}{stmt}\n")
            } else {
                sql.into()
            };
            std::fs::write(wl.join(f), sql).unwrap();
        }
        let mut setup = set_up(&pg, &db, dir.path(), "beyond");
        let mut check = pg.stormbench(&db);
        check.arg("check-workload").arg(&wl);
        for (what, c) in [("setup", &mut setup), ("check-workload", &mut check)] {
            let o = run(c);
            let (out, err) = text(&o);
            assert_eq!(o.status.code(), Some(2), "{what} {stmt}: {out}\n{err}");
            assert!(!err.contains("panicked"), "{err}");
            assert!(!err.contains("hunter2") && !out.contains("hunter2"), "{err}");
            assert!(
                err.contains(&format!("{file}, line 2: {cmd}"))
                    && err.contains("not the workload's own objects"),
                "{what} {stmt}: {err}"
            );
        }
        assert_eq!(roles(), "1", "{stmt}");
        assert_eq!(
            pg.psql(&db, "SELECT count(*) FROM pg_publication"),
            "0",
            "{stmt}"
        );
        assert_eq!(
            pg.psql(
                &db,
                &format!("SELECT pg_has_role('{role}', 'pg_read_all_data', 'MEMBER')")
            ),
            "f",
            "{stmt}"
        );
        assert_eq!(
            pg.psql(
                &db,
                "SELECT count(*) FROM pg_tables WHERE tablename = 'bw_items'"
            ),
            "0",
            "{stmt}: nothing was set up"
        );
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
        for (f, sql) in [
            ("schema.sql", create),
            ("after_load.sql", "ANALYZE bw_items;\n"),
            ("cleanup.sql", clean),
        ] {
            std::fs::write(wl.join(f), sql).unwrap();
        }
        let mut check = pg.stormbench(&db);
        check.arg("check-workload").arg(&wl);
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
    pg.psql("postgres", &format!("DROP ROLE {role}"));
}

/// A declarative workload's cleanup files may drop, empty and change only what its set-up
/// created: a TRUNCATE, DELETE or ALTER of a user's table in them is rolled back with the
/// whole clean-up, naming the table, even with --force-drop.
#[test]
fn cleanup_files_cannot_empty_or_change_a_users_table() {
    let pg = pg();
    let (db, dir, wl) = beside_a_users_table(
        &pg,
        "cleanup_rows",
        "tidy",
        "ct_items",
        schema_files("cleanup: cleanup.sql"),
    );
    let stormbench = |args: &[&str]| {
        let mut c = pg.stormbench(&db);
        c.args(["-w", "tidy", "-q"])
            .args(args)
            .arg("--workloads-path")
            .arg(dir.path());
        c
    };
    let ct_items = "SELECT count(*) FROM pg_tables WHERE tablename = 'ct_items'";
    // sets the workload up, then makes `stmt` line 2 of its cleanup file
    let set_up_then_clean_with = |stmt: &str| {
        std::fs::write(wl.join("cleanup.sql"), "DROP TABLE IF EXISTS ct_items;\n").unwrap();
        ok(&mut stormbench(&["--setup", "--no-run"]));
        std::fs::write(
            wl.join("cleanup.sql"),
            format!("DROP TABLE IF EXISTS ct_items;\n{stmt}\n"),
        )
        .unwrap();
    };
    for stmt in [
        "TRUNCATE precious;",
        "DELETE FROM precious;",
        "ALTER TABLE precious ADD COLUMN note text;",
        // what adds to it or describes it: seen by the lock it takes (--force-drop lets a
        // drop the user asked for lock what referenced the dropped table)
        "CREATE INDEX precious_i ON precious (id);",
        "COMMENT ON TABLE precious IS 'gone';",
    ] {
        set_up_then_clean_with(stmt);
        let seen_by_its_lock = stmt.starts_with("CREATE INDEX") || stmt.starts_with("COMMENT");
        let forced: &[&[&str]] = if !seen_by_its_lock {
            &[&[], &["--force-drop"]]
        } else {
            &[&[]]
        };
        for &force in forced {
            let err = fails(&mut stormbench(&[&["--cleanup"][..], force].concat()), 1);
            assert!(
                err.contains("cleanup files would empty or change public.precious")
                    && err.contains("nothing was dropped"),
                "{stmt} {force:?}: {err}"
            );
            assert_eq!(pg.psql(&db, "SELECT count(*) FROM precious"), "1", "{stmt}");
            assert_eq!(
                pg.psql(
                    &db,
                    "SELECT count(*) FROM information_schema.columns WHERE table_name = 'precious'"
                ),
                "1",
                "{stmt}"
            );
            assert_eq!(pg.psql(&db, ct_items), "1", "{stmt}: rolled back whole");
            assert_eq!(
                pg.psql(
                    &db,
                    "SELECT count(*) || ':' || coalesce(obj_description('precious'::regclass, \
                     'pg_class'), '-') FROM pg_index WHERE indrelid = 'precious'::regclass"
                ),
                "0:-",
                "{stmt}"
            );
        }
        std::fs::write(wl.join("cleanup.sql"), "DROP TABLE IF EXISTS ct_items;\n").unwrap();
        ok(&mut stormbench(&["--cleanup"]));
        assert_eq!(pg.psql(&db, ct_items), "0");
    }
    // a sequence of the user's named to setval is not set (no rollback would undo it);
    // reached through an expression it is reported, its value said to be changed
    pg.psql(
        &db,
        "CREATE SEQUENCE precious_seq; ALTER TABLE precious ADD COLUMN n serial",
    );
    let values = || {
        pg.psql(
            &db,
            "SELECT last_value || ':' || (SELECT last_value FROM precious_n_seq) FROM precious_seq",
        )
    };
    for (stmt, said, after) in [
        (
            "SELECT setval('precious_seq', 50);",
            "would set or advance the sequence of public.precious_seq",
            "1:1",
        ),
        (
            "SELECT setval(pg_get_serial_sequence('precious', 'n'), 50);",
            "set or advance the sequence of public.precious,",
            "1:50",
        ),
    ] {
        set_up_then_clean_with(stmt);
        let err = fails(&mut stormbench(&["--cleanup"]), 1);
        assert!(
            err.contains(said) && err.contains("not rolled back"),
            "{stmt}: {err}"
        );
        assert_eq!(values(), after, "{stmt}");
        assert_eq!(pg.psql(&db, ct_items), "1", "{stmt}: rolled back whole");
    }
}

/// A workload's measures and checks are queries: they run read-only, so a write hidden in
/// one (a data-modifying WITH) is refused by the server, named, and the user's table kept.
#[test]
fn measures_and_checks_run_read_only() {
    let pg = pg();
    let (db, dir, _wl) = beside_a_users_table(&pg, "read_only_measures", "peek", "pk_items", |y| {
        format!(
            "{y}measures:\n  - name: sneaky\n    sql: WITH d AS (DELETE FROM precious RETURNING 1) \
             SELECT count(*) FROM d\n  - name: honest\n    sql: SELECT count(*) FROM pk_items\n\
             checks:\n  - name: sneaky check\n    sql: WITH d AS (DELETE FROM precious RETURNING 1) \
             SELECT count(*) = 0 FROM d\n"
        )
    });
    let json = dir.path().join("run.json");
    let o = run(pg
        .stormbench(&db)
        .args(["-w", "peek", "--setup", "-d", "1s", "-q", "--json"])
        .arg(&json)
        .arg("--workloads-path")
        .arg(dir.path()));
    let (_, err) = text(&o);
    assert!(
        err.contains("measure 'sneaky'") && err.contains("read-only"),
        "{err}"
    );
    let r = read_json(&json);
    assert_eq!(r["summary"]["failed"], 0, "{err}");
    assert!(r["summary"]["transactions"].as_u64().unwrap() > 0);
    assert_eq!(pg.psql(&db, "SELECT count(*) FROM precious"), "1");
    let o = run(pg
        .stormbench(&db)
        .args(["-w", "peek", "--check", "-q", "--workloads-path"])
        .arg(dir.path()));
    let (out, err) = text(&o);
    assert!(!o.status.success(), "{out}\n{err}");
    assert!(
        format!("{out}{err}")
            .contains("check 'sneaky check' (a check is a query: it runs read-only)"),
        "{out}\n{err}"
    );
    assert_eq!(pg.psql(&db, "SELECT count(*) FROM precious"), "1");
}

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
    let create = "CREATE TABLE ck_items (id bigint, v int);\n";
    // after_load runs on the sample rows (what cannot run in a transaction left out), and
    // what it does to the user's table is reported (and rolled back)
    std::fs::write(wl.join("schema.sql"), create).unwrap();
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
            &db,
            "SELECT last_value || ':' || is_called FROM precious_seq"
        ),
        "1:false"
    );
    // a user's sequence reached through an expression: its value is not rolled back, and
    // the check says so
    std::fs::write(wl.join("after_load.sql"), "").unwrap();
    std::fs::write(
        wl.join("schema.sql"),
        format!("{create}SELECT setval(('precious' || '_seq')::regclass, 777);\n"),
    )
    .unwrap();
    let err = problem();
    assert!(
        err.contains("sequence of public.precious_seq")
            && err.contains("a sequence's value is not"),
        "{err}"
    );
    assert_eq!(
        pg.psql(
            &db,
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'stormbench_check%'"
        ),
        "0"
    );
}
