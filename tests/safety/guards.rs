//! The `safety:` guards (read_only, allowed_hosts, database_pattern) and the read-only
//! sessions of measures and checks.

use std::path::{Path, PathBuf};

use crate::common::*;
use crate::{beside_a_users_table, run};

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
