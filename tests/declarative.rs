//! Declarative workloads against the real test cluster: example_bank set up, loaded and
//! run (balance invariant checked after a mixed run), check-workload, requirements,
//! workloads_path discovery and bad input.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/workloads/example_bank");

/// Writes a workload folder `root/name` with `yaml` and a schema file.
fn workload(root: &Path, name: &str, yaml: &str, schema: &str) -> std::path::PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("workload.yaml"), yaml).unwrap();
    std::fs::write(dir.join("schema.sql"), schema).unwrap();
    dir
}

#[test]
fn example_bank_keeps_its_balance_invariant_after_a_mixed_run() {
    let pg = pg();
    let db = pg.fresh_db("decl_bank");
    let dir = tempdir();
    let cfg = dir.path().join("bank.yaml");
    std::fs::write(
        &cfg,
        format!(
            "workload: example_bank_mixed\nworkloads_path: {}\nworkers: 8\nduration: 4s\nmax_tries: 5\nexample_bank:\n  check_after_run: true\n",
            Path::new(EXAMPLE).parent().unwrap().display()
        ),
    )
    .unwrap();
    let json = dir.path().join("r.json");
    ok(pg
        .stormbench(&db)
        .arg("--config")
        .arg(&cfg)
        .args(["--setup", "-q", "--collect-pg-stats", "--json"])
        .arg(&json));
    assert_eq!(
        pg.psql(&db, "SELECT count(*) >= 100000 FROM bank_accounts"),
        "t"
    );
    assert_eq!(pg.psql(&db, "SELECT count(*) FROM bank_branches"), "20");

    let r = read_json(&json);
    validate_report_schema(&r);
    assert_eq!(r["workload"]["name"], "example_bank");
    assert_eq!(r["workload"]["mode"], "mixed");
    let kinds = r["transactions"].as_array().unwrap();
    let names: Vec<_> = kinds.iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["balance", "history", "transfer", "deposit", "open_account"]
    );
    assert!(
        kinds.iter().all(|k| u(&k["transactions"]) > 0),
        "every kind ran: {kinds:?}"
    );
    let s = &r["summary"];
    assert!(
        u(&s["failed"]) * 100 <= u(&s["transactions"]),
        "{}",
        r["errors"]
    );
    // transfer sends 3 statements, balance 1: queries are counted per statement
    assert!(s["qps"].as_f64().unwrap() > s["tps"].as_f64().unwrap());
    assert!(r["database_stats"].is_object(), "pg_stat collection ran");
    let checks = r["checks"].as_array().expect("checks after the run");
    assert_eq!(checks.len(), 2);
    assert!(checks.iter().all(|c| c["passed"] == true), "{checks:?}");

    // the invariant, checked here independently of the workload's own checks
    assert_eq!(
        pg.psql(
            &db,
            "SELECT (SELECT sum(balance) FROM bank_accounts) = (SELECT sum(opening_balance) FROM bank_accounts) + (SELECT coalesce(sum(amount), 0) FROM bank_transfers WHERE from_id IS NULL)"
        ),
        "t"
    );
    assert_eq!(
        pg.psql(&db, "SELECT count(*) > 0 FROM bank_transfers WHERE from_id IS NOT NULL AND balance_after IS NOT NULL"),
        "t",
        "RETURNING values reached the transfer log"
    );
    assert_eq!(
        pg.psql(&db, "SELECT count(*) > 0 FROM bank_accounts WHERE opening_balance = 0 AND profile ? 'channel'"),
        "t",
        "open_account inserted accounts with generated JSON"
    );

    // --check runs the same checks; --cleanup drops everything
    let o = ok(pg.stormbench(&db).arg("--config").arg(&cfg).arg("--check"));
    assert!(
        text(&o).0.contains("[PASS] money is conserved"),
        "{:?}",
        text(&o)
    );
    ok(pg
        .stormbench(&db)
        .arg("--config")
        .arg(&cfg)
        .arg("--cleanup"));
    assert_eq!(
        pg.psql(
            &db,
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'bank_%'"
        ),
        "0"
    );
}

#[test]
fn serialization_failures_of_a_declarative_transaction_are_retried() {
    let pg = pg();
    let db = pg.fresh_db("decl_retry");
    let dir = tempdir();
    workload(
        dir.path(),
        "hot",
        r#"
description: a few hot counters updated under REPEATABLE READ
schema: {create: schema.sql}
data:
  - table: hot_counters
    rows: 4
    columns:
      id: {sequence: {}}
      n: {constant: 0}
transactions:
  - name: bump
    isolation: repeatable_read
    statements:
      - name: r
        sql: SELECT n FROM hot_counters WHERE id = $1
        params: [{uniform: {min: 1, max: 4}}]
      - sql: UPDATE hot_counters SET n = n + 1 WHERE id = $1
        params: [{uniform: {min: 1, max: 4}}]
"#,
        "CREATE TABLE hot_counters (id int PRIMARY KEY, n bigint NOT NULL);\n",
    );
    let cfg = dir.path().join("hot.yaml");
    let run = |max_tries: u32| {
        std::fs::write(
            &cfg,
            format!("workload: hot\nworkloads_path: .\nworkers: 8\nduration: 3s\nmax_tries: {max_tries}\n"),
        )
        .unwrap();
        let json = dir.path().join(format!("r{max_tries}.json"));
        ok(pg
            .stormbench(&db)
            .arg("-c")
            .arg(&cfg)
            .args(["--setup", "-q", "--json"])
            .arg(&json));
        read_json(&json)
    };
    // one try: conflicts are counted as serialization errors, with the server's message
    let r = run(1);
    assert_eq!(r["transactions"][0]["name"], "bump");
    assert!(
        u(&r["errors"]["by_class"]["serialization"]) > 0,
        "{}",
        r["errors"]
    );
    assert!(r["errors"]["samples"]["serialization"][0]
        .as_str()
        .unwrap()
        .contains("could not serialize"));
    // ten tries: the same conflicts are retried and nearly all get through
    pg.psql(&db, "UPDATE hot_counters SET n = 0");
    let r = run(10);
    assert!(u(&r["summary"]["retries"]) > 0, "{}", r["summary"]);
    assert_eq!(
        u(&r["transactions"][0]["retries"]),
        u(&r["summary"]["retries"])
    );
    // committed bumps are exactly the rows' increments: failed ones were rolled back
    let committed = u(&r["transactions"][0]["transactions"]);
    let total: u64 = pg
        .psql(&db, "SELECT sum(n) FROM hot_counters")
        .parse()
        .unwrap();
    // warm-up is 0, so every committed bump was measured (a few may land after the end)
    assert!(total >= committed, "{total} < {committed}");
}

#[test]
fn check_workload_prepares_everything_and_leaves_no_trace() {
    let pg = pg();
    let db = pg.fresh_db("decl_check");
    let o = ok(pg.stormbench(&db).args(["check-workload", EXAMPLE]));
    let (out, _) = text(&o);
    assert!(out.contains("workload.yaml: valid"), "{out}");
    assert!(out.contains("mode read: balance 100.0%"), "{out}");
    assert!(
        out.contains(
            "after_load run and 11 statements prepared inside a transaction that was rolled back"
        ),
        "{out}"
    );
    // the shipped workloads whose statements rely on keys their after_load adds (a
    // grouped query on a primary key) check clean too
    for shipped in ["workloads/ecommerce", "workloads/imdb"] {
        let o = ok(pg.stormbench(&db).args(["check-workload", shipped]));
        assert!(
            text(&o).0.contains("after_load run"),
            "{shipped}: {:?}",
            text(&o)
        );
    }
    assert_eq!(
        pg.psql(
            &db,
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'bank_%' OR schemaname LIKE 'stormbench_check%'"
        ),
        "0"
    );

    // a statement the server rejects, and a generator that does not fit its parameter
    let dir = tempdir();
    let bad = workload(
        dir.path(),
        "badsql",
        r#"
schema: {create: schema.sql}
data:
  - table: bs_items
    rows: 10
    columns:
      id: {sequence: {}}
      price: {uniform: {min: 1, max: 9, type: float}}
transactions:
  - name: read
    statements:
      - sql: SELECT pricee FROM bs_items WHERE id = $1
        params: [{uniform: {min: 1, max: 10}}]
  - name: flag
    statements:
      - sql: UPDATE bs_items SET active = $1 WHERE id = $2
        params: [{uniform: {min: 1, max: 2}}, {uniform: {min: 1, max: 10}}]
"#,
        "CREATE TABLE bs_items (id int, price numeric(8,2), active boolean);\n",
    );
    let o = pg
        .stormbench(&db)
        .arg("check-workload")
        .arg(&bad)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("transactions[0].statements[0].sql: column \"pricee\" does not exist"),
        "{err}"
    );
    assert!(
        err.contains("transactions[1].statements[0].params[0] ($1): the integer generator cannot be bound to a parameter of type bool"),
        "{err}"
    );
    assert!(err.contains("2 problems found"), "{err}");
}

#[test]
fn check_workload_reports_static_problems_without_a_database() {
    let dir = tempdir();
    let bad = workload(
        dir.path(),
        "static_bad",
        r#"
schema: {create: schema.sql}
data:
  - table: sb_t
    rows: 10
    columns:
      id: {sequence: {}}
transactions:
  - name: read
    statements:
      - sql: SELECT * FROM sb_t WHERE id = $1 AND $2 > 0
        params: [{foreign_key: sb_missing}]
modes:
  m: {raed: 1}
"#,
        "CREATE TABLE sb_t (id int);\n",
    );
    // port 1: nothing listens, and nothing should try
    let o = stormbench()
        .args(["check-workload", "--port", "1"])
        .arg(&bad)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 4, "{err}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains("static_bad/workload.yaml: ")),
        "{err}"
    );
    assert!(
        err.contains("params: the SQL uses 2 parameters ($1..$2) but params lists 1"),
        "{err}"
    );
    assert!(
        err.contains("foreign_key.table: no table 'sb_missing' in data"),
        "{err}"
    );
    assert!(
        err.contains("modes.m.raed: unknown transaction 'raed'; transactions: read"),
        "{err}"
    );
}

#[test]
fn requirements_are_checked_before_setup() {
    let pg = pg();
    let db = pg.fresh_db("decl_requires");
    let dir = tempdir();
    workload(
        dir.path(),
        "needy",
        r#"
requires:
  server_version: 99
  extensions: [no_such_extension]
schema: {create: schema.sql}
transactions:
  - name: one
    statements:
      - sql: SELECT 1
"#,
        "CREATE TABLE needy_t (id int);\n",
    );
    let err = fails(
        pg.stormbench(&db)
            .arg("--workloads-path")
            .arg(dir.path())
            .args(["-w", "needy", "--setup", "-d", "1s"]),
        1,
    );
    assert!(err.contains("needs PostgreSQL 99 or later"), "{err}");
    assert!(
        err.contains("no extension 'no_such_extension' (not in pg_available_extensions)"),
        "{err}"
    );
    assert_eq!(
        pg.psql(
            &db,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'needy_t'"
        ),
        "0",
        "nothing was created"
    );
}

#[test]
fn workloads_path_discovery_listing_and_errors() {
    let dir = tempdir();
    let root = dir.path().join("mine");
    workload(
        &root,
        "tiny",
        "description: one constant query\ntransactions:\n  - name: one\n    statements:\n      - sql: SELECT $1::int\n        params: [{constant: 1}]\n",
        "",
    );
    std::fs::create_dir_all(root.join("not_a_workload")).unwrap();
    // relative to the config file's folder
    let cfg = dir.path().join("c.yaml");
    std::fs::write(&cfg, "workloads_path: [mine]\n").unwrap();
    let o = ok(stormbench().arg("-c").arg(&cfg).arg("list"));
    let (out, _) = text(&o);
    assert!(
        out.contains("  tiny\n    one constant query\n    modes: default"),
        "{out}"
    );
    assert!(out.contains("declarative: "), "{out}");
    assert!(!out.contains("not_a_workload"), "{out}");
    assert!(out.contains("  simple\n"), "built-ins stay: {out}");

    // a folder that does not exist, named explicitly
    std::fs::write(&cfg, "workloads_path: [mine, nowhere]\n").unwrap();
    let err = fails(stormbench().arg("-c").arg(&cfg).arg("list"), 2);
    assert!(
        err.contains("workloads_path: folder") && err.contains("nowhere does not exist"),
        "{err}"
    );

    // a clash with a built-in names both
    workload(
        &root,
        "tpcc",
        "transactions:\n  - name: x\n    statements:\n      - sql: SELECT 1\n",
        "",
    );
    std::fs::write(&cfg, "workloads_path: mine\n").unwrap();
    let err = fails(stormbench().arg("-c").arg(&cfg).arg("list"), 2);
    assert!(
        err.contains("workload 'tpcc' in ")
            && err.contains("clashes with the built-in workload 'tpcc'"),
        "{err}"
    );
}

#[test]
fn a_malformed_workload_is_rejected_before_connecting() {
    let dir = tempdir();
    workload(
        dir.path(),
        "broken",
        "transactions:\n  - name: one\n    statments: []\n",
        "",
    );
    // port 1: the run must fail on the workload, not on the connection
    let err = fails(
        stormbench()
            .arg("--workloads-path")
            .arg(dir.path())
            .args(["-w", "broken", "--port", "1", "-d", "1s"]),
        2,
    );
    assert!(
        err.contains("broken/workload.yaml: transactions[0].statments: unknown key 'statments'"),
        "{err}"
    );
    assert!(!err.contains("connect"), "{err}");
}

/// A run in which most transactions fail with errors no retry fixes is no measurement:
/// exit 3 with a line naming the SQLSTATE, though some succeeded (before: exit 0); a
/// `max_error_pct` objective decides instead.
#[test]
fn a_run_that_mostly_fails_with_errors_no_retry_fixes_exits_3() {
    let pg = pg();
    let dir = tempdir();
    workload(
        dir.path(),
        "mostly_bad",
        r#"
description: seven in ten transactions divide by zero
transactions:
  - name: bad
    weight: 7
    statements:
      - sql: SELECT 1 / ($1::int - $1::int)
        params: [{uniform: {min: 1, max: 10}}]
  - name: good
    weight: 3
    statements:
      - sql: SELECT 1
"#,
        "",
    );
    let json = dir.path().join("r.json");
    let run = |extra: &[&str]| {
        pg.stormbench("postgres")
            .current_dir(dir.path())
            .args([
                "-w",
                "mostly_bad",
                "--workloads-path",
                ".",
                "-d",
                "1s",
                "--workers",
                "2",
            ])
            .args(["-q", "--no-summary", "--json"])
            .arg(&json)
            .args(extra)
            .output()
            .unwrap()
    };
    let err = assert_verdict(&run(&[]), 3);
    assert!(
        err.contains("exit code 3: ")
            && err.contains("failed with errors no retry fixes (SQLSTATE 22012 x")
            && err.contains("slo.max_error_pct sets the share a run may fail"),
        "{err}"
    );
    let r = read_json(&json);
    assert!(u(&r["summary"]["transactions"]) > 0, "{}", r["summary"]);
    assert!(
        u(&r["errors"]["by_class"]["other"]) > u(&r["summary"]["transactions"]),
        "{}",
        r["errors"]
    );
    // the user's own limit decides: kept here, so the run exits 0
    let o = run(&["--slo", "max_error_pct=95"]);
    assert!(o.status.success(), "{}", text(&o).1);
    assert_eq!(read_json(&json)["slo"]["passed"], true);
}

/// The `misses` workload: ten rows, a queue of twenty, and statements whose parameters
/// hit or miss the loaded keys alone, first, middle and last of a block.
const MISSES_YAML: &str = r#"
description: lookups and updates, some of them past the ten rows loaded
schema: {create: schema.sql}
data:
  - table: few_rows
    rows: 10
    columns:
      id: {sequence: {}}
      v: {constant: 0}
  - table: queue
    rows: 20
    columns:
      id: {sequence: {}}
transactions:
  - name: drain
    statements:
      - sql: DELETE FROM queue WHERE id = (SELECT min(id) FROM queue) RETURNING id
  - name: hit
    statements:
      - sql: SELECT v FROM few_rows WHERE id = $1
        params: [{uniform: {min: 1, max: 10}}]
  - name: miss_read
    statements:
      - sql: SELECT v FROM few_rows WHERE id = $1
        params: [{uniform: {min: 1000, max: 2000}}]
  - name: block
    isolation: read_committed
    statements:
      - name: first_misses
        sql: UPDATE few_rows SET v = v + 1 WHERE id = $1
        params: [{uniform: {min: 1000, max: 2000}}]
      - name: middle_misses
        sql: DELETE FROM few_rows WHERE id = $1 RETURNING id
        params: [{uniform: {min: 1000, max: 2000}}]
      - name: middle_hits
        sql: UPDATE few_rows SET v = v + 1 WHERE id = $1
        params: [{uniform: {min: 1, max: 10}}]
      - name: last_hits
        sql: UPDATE few_rows SET v = v + 1 WHERE id = $1
        params: [{uniform: {min: 1, max: 10}}]
  - name: last_misses
    isolation: read_committed
    statements:
      - sql: SELECT 1
      - sql: UPDATE few_rows SET v = v + 1 WHERE id = $1
        params: [{uniform: {min: 1000, max: 2000}}]
modes:
  all: {hit: 1, miss_read: 1, block: 1, last_misses: 1}
  hits: {hit: 1}
  drain: {drain: 1, hit: 1}
"#;

/// A statement whose every execution returned or changed no row (its parameters miss the
/// loaded keys) makes a fast, error-free run that measured nothing: the report says which,
/// on each driver and on each of a statement's paths (alone, first, middle and last of a
/// block); a statement that found rows is not named. Before, such a run looked healthy.
#[test]
fn a_statement_that_never_finds_a_row_is_named_in_the_report() {
    let pg = pg();
    let db = pg.fresh_db("decl_untouched");
    let dir = tempdir();
    workload(
        dir.path(),
        "misses",
        MISSES_YAML,
        "CREATE TABLE few_rows (id int PRIMARY KEY, v bigint NOT NULL);\n\
         CREATE TABLE queue (id int PRIMARY KEY);\n",
    );
    ok(pg.stormbench(&db).current_dir(dir.path()).args([
        "-w",
        "misses",
        "--workloads-path",
        ".",
        "--setup",
        "--no-run",
        "-q",
    ]));
    for driver in DRIVERS {
        the_missing_statements_are_named(&pg, &db, dir.path(), driver);
    }
    an_objective_fails_on_the_warnings(&pg, &db, dir.path());
    a_run_that_finds_its_rows_has_no_warnings(&pg, &db, dir.path());
    a_queue_drained_in_the_warm_up_is_named(&pg, &db, dir.path());
    a_sweep_warns_per_band(&pg, &db, dir.path());
}

/// Mode `all` on one driver: the JSON report names exactly the four statements that
/// missed, and the console and HTML reports say it too.
fn the_missing_statements_are_named(pg: &Pg, db: &str, dir: &Path, driver: &str) {
    let json = dir.join(format!("{driver}.json"));
    let html = dir.join(format!("{driver}.html"));
    let o = ok(pg
        .stormbench(db)
        .current_dir(dir)
        .args(["-w", "misses", "--workloads-path", ".", "-d", "1s"])
        .args([
            "--mode",
            "all",
            "--workers",
            "2",
            "--driver",
            driver,
            "--json",
        ])
        .arg(&json)
        .arg("--html")
        .arg(&html));
    let r = read_json(&json);
    validate_report_schema(&r);
    let warnings: Vec<&str> = r["workload"]["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("{driver}: no warnings: {}", r["workload"]))
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    let named = |label: &str| {
        warnings
            .iter()
            .any(|w| w.starts_with(&format!("statement {label} returned or changed no row")))
    };
    for label in [
        "miss_read[0]",
        "block.first_misses",
        "block.middle_misses",
        "last_misses[1]",
    ] {
        assert!(named(label), "{driver}: {label} not named: {warnings:?}");
    }
    assert_eq!(warnings.len(), 4, "{driver}: {warnings:?}");
    // the console and HTML reports say it too
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("statement block.first_misses returned"),
        "{driver}"
    );
    let (stdout, _) = text(&o);
    assert!(
        stdout.contains("Workload Warnings:") && stdout.contains("statement miss_read[0]"),
        "{driver}: {stdout}"
    );
}

/// An objective turns the warnings into the exit code of a broken objective (6).
fn an_objective_fails_on_the_warnings(pg: &Pg, db: &str, dir: &Path) {
    let json = dir.join("slo.json");
    let o = pg
        .stormbench(db)
        .current_dir(dir)
        .args([
            "-w",
            "misses",
            "--workloads-path",
            ".",
            "-d",
            "1s",
            "--mode",
            "all",
        ])
        .args(["--slo", "max_workload_warnings=0", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert_verdict(&o, 6);
    let (stdout, _) = text(&o);
    assert!(
        stdout.contains("[FAIL] max_workload_warnings 4 > 0 (see Workload Warnings)"),
        "{stdout}"
    );
    let r = read_json(&json);
    validate_report_schema(&r);
    let gate = &r["slo"]["gates"][0];
    assert_eq!(gate["gate"], "max_workload_warnings", "{gate}");
    assert_eq!(gate["measured"], 4.0, "{gate}");
    assert_eq!(gate["passed"], false, "{gate}");
}

/// A run in which every statement finds its rows has no warnings field.
fn a_run_that_finds_its_rows_has_no_warnings(pg: &Pg, db: &str, dir: &Path) {
    let json = dir.join("hits.json");
    ok(pg
        .stormbench(db)
        .current_dir(dir)
        .args(["-w", "misses", "--workloads-path", ".", "-d", "1s"])
        .args([
            "--mode",
            "hits",
            "-q",
            "--slo",
            "max_workload_warnings=0",
            "--json",
        ])
        .arg(&json));
    let r = read_json(&json);
    assert!(r["workload"].get("warnings").is_none(), "{}", r["workload"]);
    assert_eq!(r["slo"]["passed"], true, "{}", r["slo"]);
}

/// Only measured executions are judged: a queue drained during the warm-up is named.
fn a_queue_drained_in_the_warm_up_is_named(pg: &Pg, db: &str, dir: &Path) {
    let json = dir.join("drain.json");
    ok(pg
        .stormbench(db)
        .current_dir(dir)
        .args(["-w", "misses", "--workloads-path", ".", "--mode", "drain"])
        .args([
            "--warmup",
            "2s",
            "-d",
            "1s",
            "--workers",
            "1",
            "-q",
            "--json",
        ])
        .arg(&json));
    let r = read_json(&json);
    let warnings = &r["workload"]["warnings"];
    assert_eq!(warnings.as_array().map(Vec::len), Some(1), "{warnings}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .starts_with("statement drain[0] returned or changed no row"),
        "{warnings}"
    );
}

/// A sweep warns per band: each band is judged on its own executions.
fn a_sweep_warns_per_band(pg: &Pg, db: &str, dir: &Path) {
    let cfg = dir.join("sweep.yaml");
    std::fs::write(
        &cfg,
        "workload: misses\nworkloads_path: .\nmode: all\nprogressive:\n  enabled: true\n  \
         strategy: linear\n  min_workers: 1\n  max_workers: 2\n  bands: 2\n  \
         band_duration: 1s\n  warmup: 0s\n  cooldown: 0s\n",
    )
    .unwrap();
    let o = ok(pg
        .stormbench(db)
        .current_dir(dir)
        .arg("-c")
        .arg(&cfg)
        .arg("-q"));
    let (_, err) = text(&o);
    for band in ["band 1 (1 workers)", "band 2 (2 workers)"] {
        assert!(
            err.contains(&format!(
                "{band}: statement miss_read[0] returned or changed no row"
            )),
            "{band}: {err}"
        );
    }
}
