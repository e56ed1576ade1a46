//! The declarative format's additions against the real test cluster (no pgvector needed):
//! parameters from the run config, session settings, timed after_load steps, measures
//! (after load, after the run, every interval), worker groups with their own workers and
//! rate, COPY transactions, parameter sweeps; and the bad input and interrupts around them.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;

const YAML: &str = r#"
description: the format's additions
params:
  width: {default: 8, min: 1, max: 100, rebuild: true}
  lim:
    default: small
    choices: {small: {n: 5}, big: {n: 50}}
  insert_rate: 100
settings:
  work_mem: "{{width}}MB"
schema:
  create: schema.sql
  after_load:
    - {name: build the index, sql: "CREATE INDEX ff_items_v ON ff_items (v)"}
    - {name: analyze, sql: "VACUUM ANALYZE ff_items"}
data:
  - table: ff_items
    rows_per_scale: 2000
    columns:
      id: {sequence: {}}
      v: {uniform: {min: 1, max: "{{width}}"}}
transactions:
  - name: q
    statements:
      - sql: SELECT id FROM ff_items WHERE v = $1 LIMIT {{lim.n}}
        params: [{uniform: {min: 1, max: "{{width}}"}}]
  - name: add
    statements:
      - sql: INSERT INTO ff_items (id, v) VALUES ($1, $2)
        params: [{sequence: {start: 1000000000, after: ff_items.id}}, {uniform: {min: 1, max: 8}}]
  - name: bulk
    copy:
      table: ff_items
      rows: 50
      columns:
        id: {sequence: {start: 2000000000}}
        v: {uniform: {min: 1, max: 8}}
  - name: take
    rollback_if: {not: pick.ok}
    statements:
      - name: pick
        sql: SELECT v > 4 AS ok FROM ff_items WHERE id = $1
        params: [{foreign_key: ff_items}]
      - sql: UPDATE ff_items SET v = v WHERE id = $1
        params: [{foreign_key: ff_items}]
  - name: divide
    rollback_if: {sqlstate: ["22012"]}
    statements:
      - sql: SELECT 10 / ($1 - 1)
        params: [{uniform: {min: 1, max: 2}}]
modes:
  read: {q: 1}
  bulk: {bulk: 1}
  insert: {add: 1}
  deliberate: {take: 1, divide: 1}
  both:
    groups:
      readers: {mode: read, workers: 3}
      writers: {weights: {add: 1}, workers: 2, rate: "{{insert_rate}}"}
measures:
  - {name: index_size, sql: "SELECT pg_relation_size('ff_items_v') AS index_bytes, 1 AS one", when: after_load, unit: bytes}
  - {name: work_mem_kb, sql: "SELECT setting::float8 FROM pg_settings WHERE name = 'work_mem'"}
  - {name: rows_now, sql: "SELECT count(*) FROM ff_items", when: interval, every: 500ms, modes: [both]}
"#;

/// A folder `root/ff` holding the workload, with `yaml`.
fn folder(root: &Path, yaml: &str) -> PathBuf {
    let dir = root.join("ff");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("workload.yaml"), yaml).unwrap();
    std::fs::write(
        dir.join("schema.sql"),
        "CREATE TABLE ff_items (id bigint PRIMARY KEY, v int NOT NULL);\n",
    )
    .unwrap();
    root.to_path_buf()
}

fn config(root: &Path, name: &str, body: &str) -> PathBuf {
    let p = root.join(format!("{name}.yaml"));
    std::fs::write(
        &p,
        format!(
            "workloads_path: [{}]\nworkload: ff\n{body}\n",
            root.display()
        ),
    )
    .unwrap();
    p
}

/// Runs the workload with config `name` (`body` after the common lines) quietly; its report.
fn quiet_run(pg: &Pg, db: &str, root: &Path, name: &str, body: &str) -> serde_json::Value {
    let json = root.join(format!("{name}.json"));
    let cfg = config(root, name, body);
    ok(pg
        .stormbench(db)
        .arg("-c")
        .arg(&cfg)
        .args(["-q", "--json"])
        .arg(&json));
    read_json(&json)
}

#[test]
fn parameters_settings_steps_measures_groups_and_copy() {
    let pg = pg();
    let db = pg.fresh_db("ff_all");
    let dir = tempdir();
    let root = folder(dir.path(), YAML);
    let json = root.join("read.json");
    let cfg = config(
        &root,
        "read",
        "mode: read\nduration: 1s\nff: {width: 12, lim: big}",
    );
    ok(pg
        .stormbench(&db)
        .arg("-c")
        .arg(&cfg)
        .args(["--setup", "-q", "--json"])
        .arg(&json));
    let r = read_json(&json);
    validate_report_schema(&r);
    // the parameter reached the data, the setting every session, the marker the schema's
    assert_eq!(pg.psql(&db, "SELECT max(v) FROM ff_items"), "12");
    assert_eq!(figure(&r, "work_mem_kb"), Some(12.0 * 1024.0));
    assert_eq!(r["workload"]["marker"]["params"], "width=12");
    let steps: Vec<&str> = r["workload"]["load"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["build the index", "analyze"]);
    let load_figures = r["workload"]["load"]["figures"].as_array().unwrap();
    let names: Vec<&str> = load_figures
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["index_bytes", "one"]);
    assert!(load_figures[0]["value"].as_f64().unwrap() >= 8192.0);
    // the interval measure belongs to mode both only
    assert!(r["workload"].get("measure_series").is_none());
    a_changed_rebuild_parameter_is_refused(&pg, &db, &root);
    worker_groups_keep_their_workers_and_rate(&pg, &db, &root);
    copy_adds_fifty_rows_a_transaction_on_each_driver(&pg, &db, &root);
    inserts_start_past_every_key_already_there(&pg, &db, &root);
    a_sweep_runs_one_band_per_value(&pg, &db, &root);
}

/// A rebuild parameter changed: refused, naming --rebuild.
fn a_changed_rebuild_parameter_is_refused(pg: &Pg, db: &str, root: &Path) {
    let cfg = config(root, "w20", "mode: read\nduration: 1s\nff: {width: 20}");
    let err = fails(pg.stormbench(db).arg("-c").arg(&cfg), 1);
    assert!(
        err.contains("width=12") && err.contains("width=20") && err.contains("--rebuild"),
        "{err}"
    );
}

/// Worker groups keep their own workers; the writers hold their rate.
fn worker_groups_keep_their_workers_and_rate(pg: &Pg, db: &str, root: &Path) {
    let json = root.join("both.json");
    let cfg = config(
        root,
        "both",
        "mode: both\nduration: 4s\nff: {width: 12, insert_rate: 150}",
    );
    let o = ok(pg
        .stormbench(db)
        .arg("-c")
        .arg(&cfg)
        .arg("--json")
        .arg(&json));
    let (out, _) = text(&o);
    assert!(out.contains("Worker Groups:"), "{out}");
    let r = read_json(&json);
    validate_report_schema(&r);
    let groups = r["workload"]["groups"].as_array().unwrap();
    assert_eq!(groups[0]["name"], "readers");
    assert_eq!(groups[0]["workers"], 3);
    assert_eq!(groups[0]["target_tps"], serde_json::Value::Null);
    // two writers share the rate, so one slow insert on a busy machine does not drop it
    assert_eq!(groups[1]["workers"], 2);
    assert_eq!(groups[1]["target_tps"], 150.0);
    let tps = groups[1]["tps"].as_f64().unwrap();
    assert!((142.5..=157.5).contains(&tps), "writers at {tps}/s");
    assert_eq!(r["config"]["workers"], 5, "{}", r["config"]);
    assert_eq!(r["config"]["groups"][1]["arrival"]["rate_tps"], 150.0);
    let series = r["workload"]["measure_series"].as_array().unwrap();
    let rows = &series[0]["points"];
    let pts = rows.as_array().unwrap();
    assert!(pts.len() >= 5, "{rows}");
    // the table grows under the writers
    let first = pts[0][1].as_f64().unwrap();
    let last = pts[pts.len() - 1][1].as_f64().unwrap();
    assert!(last > first + 300.0, "{rows}");
}

/// COPY transactions: 50 rows each, on both drivers, one run after the other into the
/// same table.
fn copy_adds_fifty_rows_a_transaction_on_each_driver(pg: &Pg, db: &str, root: &Path) {
    for driver in ["wire", "tokio-postgres"] {
        let before: u64 = pg
            .psql(db, "SELECT count(*) FROM ff_items")
            .parse()
            .unwrap();
        let r = quiet_run(
            pg,
            db,
            root,
            &format!("bulk-{driver}"),
            &format!("mode: bulk\nduration: 1s\nworkers: 2\ndriver: {driver}\nff: {{width: 12}}"),
        );
        let copies = r["summary"]["transactions"].as_u64().unwrap();
        // the second run's keys start past the first's (COPY's sequence columns resume)
        assert_eq!(r["summary"]["failed"], 0, "{driver}: {}", r["errors"]);
        let after: u64 = pg
            .psql(db, "SELECT count(*) FROM ff_items")
            .parse()
            .unwrap();
        assert!(copies > 0);
        assert!(
            (before + 50 * copies..=before + 50 * (copies + 2)).contains(&after),
            "{driver}: {copies} copies, {before} -> {after}"
        );
    }
}

/// A run of inserts after the groups' and the copies' runs: its keys start past every
/// key already there (`after: ff_items.id`), not at the sequence's start.
fn inserts_start_past_every_key_already_there(pg: &Pg, db: &str, root: &Path) {
    let before = pg.psql(db, "SELECT max(id) FROM ff_items");
    let r = quiet_run(
        pg,
        db,
        root,
        "insert",
        "mode: insert\nduration: 1s\nworkers: 2\nff: {width: 12}",
    );
    assert!(r["summary"]["transactions"].as_u64().unwrap() > 0);
    assert_eq!(r["summary"]["failed"], 0, "{}", r["errors"]);
    // every insert added a key past the earlier ones: none met a key already there
    let added = pg.psql(
        db,
        &format!("SELECT count(*) FROM ff_items WHERE id > {before}"),
    );
    // (as for the copies: a transaction per worker may end after the measured window)
    let done = r["summary"]["transactions"].as_u64().unwrap();
    let added: u64 = added.parse().unwrap();
    assert!(
        (done..=done + 2).contains(&added),
        "{done} inserts, {added} new keys"
    );
}

/// A sweep over a search parameter: one band per value, the curve read by a figure.
fn a_sweep_runs_one_band_per_value(pg: &Pg, db: &str, root: &Path) {
    let json = root.join("sweep.json");
    let csv = root.join("sweep.csv");
    let cfg = config(
        root,
        "sweep",
        "mode: read\nduration: 1s\nff: {width: 12}\nsweep: {param: lim, values: [small, big], figure: work_mem_kb, at: [1, 1000000]}",
    );
    let o = ok(pg
        .stormbench(db)
        .arg("-c")
        .arg(&cfg)
        .arg("--json")
        .arg(&json)
        .arg("--csv")
        .arg(&csv));
    let (out, _) = text(&o);
    assert!(
        out.contains("at work_mem_kb >= 1000000: no band reached it"),
        "{out}"
    );
    let r = read_json(&json);
    assert_eq!(r["kind"], "parameter");
    assert_eq!(r["status"], "completed");
    let values: Vec<&str> = r["bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["small", "big"]);
    assert_eq!(r["curve"][0]["figure"], 12288.0);
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(csv.starts_with("band,param,value,"), "{csv}");
    assert_eq!(csv.lines().count(), 3);
}

#[test]
fn bad_parameters_groups_and_sweeps_are_one_line_errors() {
    let pg = pg();
    let db = pg.fresh_db("ff_bad");
    let dir = tempdir();
    let root = folder(dir.path(), YAML);
    for (body, msg) in [
        ("ff: {width: 500}", "ff.width: 500 is outside 1..100"),
        (
            "ff: {widht: 5}",
            "ff.widht: unknown key; keys: check_after_run, groups, width, lim, insert_rate",
        ),
        ("ff: {lim: huge}", "ff.lim: 'huge' is not one of small, big"),
        (
            "mode: both\nff: {groups: {nobody: {workers: 2}}}",
            "ff.groups.nobody: mode both has no group nobody; groups: readers, writers",
        ),
        (
            "mode: read\nff: {groups: {readers: {workers: 2}}}",
            "ff.groups.readers: mode read has no worker groups",
        ),
        (
            "mode: both\nff: {groups: {writers: {rate: -1}}}",
            "ff.groups.writers.rate: -1 is not a rate",
        ),
        (
            "mode: both\nprogressive: {enabled: true}",
            "progressive: this mode runs worker groups",
        ),
        (
            "sweep: {param: width, values: [4, 8]}",
            "sweep.param: width changes the loaded schema",
        ),
        (
            "sweep: {param: lim}",
            "sweep.values: give the values of lim",
        ),
        ("sweep: {param: nope, values: [1]}", "ff.nope: unknown key"),
        ("sweep: {values: [1]}", "sweep.param: missing"),
        (
            "sweep: {param: lim, values: [small]}\ntransactions: 10",
            "sweep: each band runs for a time",
        ),
    ] {
        let cfg = config(&root, "bad", &format!("duration: 1s\n{body}"));
        let err = fails(pg.stormbench(&db).arg("-c").arg(&cfg), 2);
        assert!(err.contains(msg), "{body}:\n{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn a_measure_that_fails_or_hangs_neither_fails_nor_holds_the_run() {
    let pg = pg();
    let db = pg.fresh_db("ff_hang");
    let dir = tempdir();
    let yaml = YAML.replace(
        "measures:\n",
        "measures:\n  - {name: broken, sql: \"SELECT * FROM no_such_table\"}\n  - {name: slow, sql: \"SELECT pg_sleep(600)\", when: interval, every: 500ms, modes: [read]}\n",
    );
    let root = folder(dir.path(), &yaml);
    let json = root.join("r.json");
    let cfg = config(&root, "r", "mode: read\nduration: 2s");
    let t0 = Instant::now();
    let o = ok(pg
        .stormbench(&db)
        .arg("-c")
        .arg(&cfg)
        .arg("--setup")
        .arg("--json")
        .arg(&json));
    // the interval measure in flight is dropped when the run ends
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
    let (_, err) = text(&o);
    assert!(
        err.contains("measure 'broken'") && err.contains("no_such_table"),
        "{err}"
    );
    let r = read_json(&json);
    assert!(
        figure(&r, "work_mem_kb").is_some(),
        "the other measures stand"
    );
    assert!(figure(&r, "broken").is_none());
    // nothing of the slow measure is left running on the server for long
    let t0 = Instant::now();
    let left = || {
        pg.psql(
            &db,
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(600)%' AND state = 'active'",
        )
    };
    while left() != "0" {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "the slow measure still runs"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn ctrl_c_in_a_sweep_keeps_the_finished_bands() {
    let pg = pg();
    let db = pg.fresh_db("ff_sweep_int");
    let dir = tempdir();
    let root = folder(dir.path(), YAML);
    ok(pg
        .stormbench(&db)
        .arg("-c")
        .arg(config(&root, "setup", "mode: read"))
        .args(["--setup", "--no-run", "-q"]));
    let json = root.join("sweep.json");
    let cfg = config(
        &root,
        "sweep",
        "mode: read\nduration: 1s\nsweep: {param: lim, values: [small, big, small, big, small, big]}",
    );
    let child = spawn(
        pg.stormbench(&db)
            .arg("-c")
            .arg(&cfg)
            .arg("--json")
            .arg(&json),
    );
    // the first band's file appears after it ends
    let t0 = Instant::now();
    while !json.exists() {
        assert!(t0.elapsed() < Duration::from_secs(30), "no band finished");
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let t1 = Instant::now();
    let o = child.wait_with_output().unwrap();
    assert!(t1.elapsed() < Duration::from_secs(10), "{:?}", t1.elapsed());
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(130), "{out}\n{err}");
    let r = read_json(&json);
    assert_eq!(r["status"], "interrupted");
    let bands = r["bands"].as_array().unwrap().len();
    assert!((1..6).contains(&bands), "{bands} bands");
}

#[test]
fn deliberate_rollbacks_are_counted_as_rolled_back_not_failed() {
    let pg = pg();
    let db = pg.fresh_db("ff_rollback");
    let dir = tempdir();
    let root = folder(dir.path(), YAML);
    let json = root.join("r.json");
    let cfg = config(
        &root,
        "r",
        "mode: deliberate\nduration: 2s\nff: {width: 12}",
    );
    ok(pg
        .stormbench(&db)
        .arg("-c")
        .arg(&cfg)
        .args(["--setup", "-q", "--json"])
        .arg(&json));
    let r = read_json(&json);
    validate_report_schema(&r);
    assert_eq!(r["summary"]["failed"], 0, "{}", r["errors"]);
    let kind = |name: &str| {
        r["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == name)
            .unwrap()
            .clone()
    };
    // v is uniform in 1..12: a third of the picks find v <= 4 and roll back
    let take = kind("take");
    let share = take["rolled_back"].as_f64().unwrap() / take["transactions"].as_f64().unwrap();
    assert!(
        (0.28..0.39).contains(&share),
        "take rolled back {share}: {take}"
    );
    // half the divisions divide by zero (SQLSTATE 22012): rolled back, not failed
    let divide = kind("divide");
    let share = divide["rolled_back"].as_f64().unwrap() / divide["transactions"].as_f64().unwrap();
    assert!(
        (0.45..0.55).contains(&share),
        "divide rolled back {share}: {divide}"
    );
    assert_eq!(divide["failed"], 0);
}

#[test]
fn a_suite_of_queries_from_a_folder_runs_each_once_per_pass_with_plan_quality() {
    let pg = pg();
    let db = pg.fresh_db("ff_suite");
    let dir = tempdir();
    let yaml = YAML.replace(
        "modes:\n",
        "transactions_from: {folder: queries, explain: true}\nmodes:\n  job: {suite: {passes: 2, transactions: folder}}\n",
    );
    let root = folder(dir.path(), &yaml);
    let q = root.join("ff").join("queries");
    std::fs::create_dir_all(&q).unwrap();
    for (f, sql) in [
        (
            "10a.sql",
            "SELECT count(*) FROM ff_items a JOIN ff_items b ON a.id = b.v WHERE a.v < 5;\n",
        ),
        ("2a.sql", "SELECT max(v) FROM ff_items WHERE id < 100"),
        (
            "1a.sql",
            "-- the first\nSELECT v, count(*) FROM ff_items GROUP BY v;",
        ),
        ("notes.txt", "not a query"),
    ] {
        std::fs::write(q.join(f), sql).unwrap();
    }
    let json = root.join("job.json");
    let cfg = config(
        &root,
        "job",
        "mode: job\nworkers: 1\nwarmup: 0s\nduration: 60s\nsweep: {}\n",
    );
    let t0 = Instant::now();
    ok(pg
        .stormbench(&db)
        .arg("-c")
        .arg(&cfg)
        .args(["--setup", "-q", "--json"])
        .arg(&json));
    // the suite ends the run, long before its duration
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    let r = read_json(&json);
    validate_report_schema(&r);
    the_queries_ran_in_order_with_their_plan_quality(&r);

    // a query with a parameter, and a folder that does not exist, are refused
    std::fs::write(q.join("3a.sql"), "SELECT $1").unwrap();
    let err = fails(pg.stormbench(&db).arg("-c").arg(&cfg), 2);
    assert!(
        err.contains("3a.sql") && err.contains("takes no parameters"),
        "{err}"
    );
    std::fs::remove_file(q.join("3a.sql")).unwrap();
    let yaml = yaml.replace("folder: queries", "folder: nowhere");
    folder(dir.path(), &yaml);
    let err = fails(pg.stormbench(&db).arg("-c").arg(&cfg), 2);
    assert!(
        err.contains("cannot read folder") && err.contains("nowhere"),
        "{err}"
    );
}

/// The suite's report: the folder's queries after the file's transactions, in natural
/// order, twice each; its passes timed, each query's q-error at least 1, no plan changed.
fn the_queries_ran_in_order_with_their_plan_quality(r: &serde_json::Value) {
    let kinds: Vec<(String, u64)> = r["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["name"].as_str().unwrap().to_string(),
                k["transactions"].as_u64().unwrap(),
            )
        })
        .collect();
    // the folder's queries after the file's transactions, in natural order, twice each
    let suite: Vec<&(String, u64)> = kinds
        .iter()
        .filter(|(n, _)| n.starts_with('q') && n != "q")
        .collect();
    assert_eq!(
        suite
            .iter()
            .map(|(n, c)| (n.as_str(), *c))
            .collect::<Vec<_>>(),
        [("q1a", 2), ("q2a", 2), ("q10a", 2)],
        "{kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .filter(|(n, _)| !n.starts_with('q') || n == "q")
            .all(|(_, c)| *c == 0),
        "{kinds:?}"
    );
    assert_eq!(figure(r, "suite passes"), Some(2.0));
    assert!(figure(r, "suite time per pass").unwrap() > 0.0);
    for name in [
        "q_error.q1a",
        "q_error.q2a",
        "q_error.q10a",
        "q_error median",
    ] {
        let q =
            figure(r, name).unwrap_or_else(|| panic!("no {name}: {}", r["workload"]["metrics"]));
        assert!(q >= 1.0, "{name} {q}");
    }
    assert_eq!(figure(r, "plans changed"), Some(0.0));
    assert_eq!(figure(r, "plan_changed.q10a"), Some(0.0));
}
