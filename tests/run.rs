//! Runs against the real test cluster: schema management, reports, stop rules, arrival
//! modes, connection modes.

mod common;

use common::*;
use serde_json::Value;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

#[test]
fn setup_is_idempotent_and_cleanup_drops() {
    let pg = pg();
    let db = pg.loaded("setup", "simple");
    assert_eq!(
        pg.psql(&db, "SELECT count(*) FROM simple_accounts"),
        "100000"
    );
    assert_eq!(
        pg.psql(&db, "SELECT scale || ' ' || stormbench_version FROM stormbench_meta WHERE workload = 'simple'"),
        format!("1 {}", env!("CARGO_PKG_VERSION"))
    );
    // A second --setup finds the schema and loads nothing.
    pg.psql(
        &db,
        "INSERT INTO simple_history (account_id, delta) VALUES (1, 1)",
    );
    let o = ok(pg
        .stormbench(&db)
        .args(["-w", "simple", "--setup", "--no-run"]));
    assert!(!text(&o).1.contains("loading simple"), "{:?}", text(&o));
    assert_eq!(pg.psql(&db, "SELECT count(*) FROM simple_history"), "1");
    // Another scale: a clear error naming both scales and the fix.
    let err = fails(
        pg.stormbench(&db)
            .args(["-w", "simple_read", "--scale", "2", "-d", "1s"]),
        1,
    );
    assert!(
        err.contains("loaded at scale 1") && err.contains("scale 2") && err.contains("--rebuild"),
        "{err}"
    );
    // --cleanup drops the tables and the marker.
    ok(pg.stormbench(&db).args(["-w", "simple", "--cleanup"]));
    assert_eq!(pg.psql(&db, "SELECT to_regclass('simple_accounts') IS NULL AND to_regclass('stormbench_meta') IS NULL"), "t");
}

#[test]
fn missing_schema_says_to_run_setup() {
    let pg = pg();
    let db = pg.fresh_db("noschema");
    let err = fails(pg.stormbench(&db).args(["-w", "simple", "-d", "1s"]), 1);
    assert!(err.contains("--setup"), "{err}");
}

#[test]
fn mixed_run_writes_valid_reports() {
    let pg = pg();
    let db = pg.fresh_db("mixed");
    let dir = tempdir();
    let json = dir.path().join("out/report.json");
    let csv = dir.path().join("out/series.csv");
    let o = ok(pg
        .stormbench(&db)
        .args([
            "-w",
            "simple",
            "--mode",
            "mixed",
            "--rebuild",
            "--workers",
            "6",
            "--connections",
            "3",
        ])
        .args(["-d", "3s", "--warmup", "1s", "-s", "1s", "--seed", "7"])
        .arg("--json")
        .arg(&json)
        .arg("--csv")
        .arg(&csv));
    let (out, err) = text(&o);
    assert!(out.contains("stormbench Load Test Results"), "{out}");
    assert!(out.contains("Latency from intended start"), "{out}");
    assert!(
        err.contains("tps"),
        "summary lines expected on stderr: {err}"
    );

    let r = read_json(&json);
    validate_report_schema(&r);
    assert_eq!(r["schema_version"], 3);
    the_summary_is_consistent(&r);
    let s = &r["summary"];
    // per kind: all three ran; counts add up to the total
    let kinds = r["transactions"].as_array().unwrap();
    let names: Vec<_> = kinds.iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["read", "update", "insert"]);
    let sum: u64 = kinds.iter().map(|k| u(&k["transactions"])).sum();
    assert_eq!(sum, u(&s["transactions"]));
    assert!(kinds
        .iter()
        .all(|k| u(&k["transactions"]) > 0 && k["p99_ms"].is_number()));
    // the writes reached the server
    let inserts = pg.psql(&db, "SELECT count(*) FROM simple_history");
    assert!(inserts.parse::<u64>().unwrap() >= u(&kinds[2]["transactions"]));
    // serialized histograms decode and hold every successful transaction of the kind
    for k in kinds {
        let name = k["name"].as_str().unwrap();
        let h = stormbench::report::decode_histogram(
            r["histograms"]["latency"][name].as_str().unwrap(),
        )
        .unwrap();
        assert_eq!(h.len(), u(&k["transactions"]), "{name}");
    }
    // config embedded, server facts present
    assert_eq!(r["config"]["workers"], 6);
    assert_eq!(r["config"]["seed"], 7);
    assert!(r["server"]["version"]
        .as_str()
        .unwrap()
        .starts_with(|c: char| c.is_ascii_digit()));
    assert!(r["server"]["settings"]["max_connections"].is_string());
    the_series_and_its_csv_add_up_to_the_total(&r, &csv);
}

/// The summary of the mixed run: completed, few sockets, no failure, warm-up excluded,
/// percentiles in order, the server's count of transactions near the client's, pool waits.
fn the_summary_is_consistent(r: &Value) {
    assert_eq!(r["status"], "completed");
    // stormbench's own sockets: at least its 3 pooled connections (and the set-up and
    // server-statistics connections, and the runtime's own), not one per worker or more
    let sockets = u(&r["health"]["client"]["sockets_max"]);
    assert!((3..16).contains(&sockets), "{}", r["health"]);
    let s = &r["summary"];
    assert!(u(&s["transactions"]) > 100, "{s}");
    assert_eq!(u(&s["failed"]), 0, "{}", r["errors"]);
    assert!(
        (f(&r["measured_s"]) - 3.0).abs() < 0.5,
        "warm-up must be excluded: {}",
        r["measured_s"]
    );
    let tps = f(&s["tps"]);
    assert!((tps - u(&s["transactions"]) as f64 / f(&r["measured_s"])).abs() < 1.0);
    assert!(f(&s["p50_ms"]) <= f(&s["p95_ms"]) && f(&s["p95_ms"]) <= f(&s["p99_ms"]));
    assert!(f(&s["p99_ms"]) <= f(&s["p999_ms"]) && f(&s["p999_ms"]) <= f(&s["max_ms"]));
    assert_eq!(f(&s["success_rate"]), 100.0);
    // the server counted the same transactions (warm-up excluded on both sides), give or
    // take what its backends had not yet flushed to the shared statistics at either end:
    // PostgreSQL 15 and later flush a busy backend's counts at most once a second, so a
    // backend can hold up to a second of its commits (a third of the rate here) back
    let server = u(&s["server_transactions"]) as f64;
    let client = u(&s["transactions"]) as f64;
    let second = tps;
    assert!(
        server >= client * 0.9 - second && server <= client * 1.1 + second + 50.0,
        "server {server} vs client {client}"
    );
    // workers > connections: pool waits were measured
    assert!(u(&s["pool_wait"]["count"]) > 0);
}

/// The time series has about one point per second, summing to the total, and the CSV
/// mirrors it.
fn the_series_and_its_csv_add_up_to_the_total(r: &Value, csv: &std::path::Path) {
    let s = &r["summary"];
    let series = r["time_series"].as_array().unwrap();
    assert!((3..=4).contains(&series.len()), "{} points", series.len());
    let series_sum: u64 = series.iter().map(|p| u(&p["transactions"])).sum();
    assert!(series_sum <= u(&s["transactions"]) && series_sum * 10 >= u(&s["transactions"]) * 9);
    // CSV mirrors the series
    let csv_text = std::fs::read_to_string(csv).unwrap();
    let mut lines = csv_text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("interval,t_s,transactions,errors"));
    assert_eq!(lines.count(), series.len());
}

#[test]
fn transaction_budget_stops_the_run() {
    let pg = pg();
    let db = pg.fresh_db("budget");
    let dir = tempdir();
    let json = dir.path().join("r.json");
    ok(pg
        .stormbench(&db)
        .args([
            "-w",
            "simple_read",
            "--setup",
            "--transactions",
            "777",
            "--workers",
            "4",
            "-q",
        ])
        .arg("--json")
        .arg(&json));
    let r = read_json(&json);
    let s = &r["summary"];
    assert_eq!(u(&s["transactions"]) + u(&s["failed"]), 777, "{s}");
}

#[test]
fn open_loop_holds_the_target_rate_and_reports_lag() {
    let pg = pg();
    let db = pg.fresh_db("openloop");
    let dir = tempdir();
    for arrival in ["uniform", "poisson"] {
        let cfg = dir.path().join(format!("{arrival}.yaml"));
        std::fs::write(
            &cfg,
            format!(
                "workload: simple_read\nrate: 300\narrival: {arrival}\nworkers: 4\nduration: 4s\n"
            ),
        )
        .unwrap();
        let json = dir.path().join(format!("{arrival}.json"));
        let o = ok(pg
            .stormbench(&db)
            .arg("--config")
            .arg(&cfg)
            .args(["--setup", "-q", "--json"])
            .arg(&json));
        let (_, err) = text(&o);
        if arrival == "uniform" {
            // -q: the load (done by this first run) prints nothing; its figures are in the report
            assert!(!err.contains("loading") && !err.contains("rows/s"), "{err}");
            assert!(read_json(&json)["workload"]["load"]["tables"].is_array());
        }
        let r = read_json(&json);
        let tps = f(&r["summary"]["tps"]);
        assert!(
            (tps - 300.0).abs() < 30.0,
            "{arrival}: {tps} tps for a 300 tps target"
        );
        let sched = &r["schedule"];
        assert_eq!(f(&sched["target_tps"]), 300.0);
        assert!(u(&sched["lag"]["count"]) > 1000, "{sched}");
        assert!(u(&sched["slots_missed"]) < 30, "{sched}");
    }
}

#[test]
fn connection_workload_compares_modes() {
    let pg = pg();
    let db = pg.fresh_db("connmodes");
    let dir = tempdir();
    let json = dir.path().join("c.json");
    let o = ok(pg
        .stormbench(&db)
        .args([
            "-w",
            "connection_mixed",
            "--setup",
            "--workers",
            "4",
            "-d",
            "3s",
            "--json",
        ])
        .arg(&json));
    let (out, _) = text(&o);
    assert!(out.contains("Connection Modes:"), "{out}");
    let r = read_json(&json);
    validate_report_schema(&r);
    let c = &r["connections"];
    assert_eq!(c["mode"], "mixed");
    assert_eq!(
        c["driver"], "wire",
        "the connection workload runs on the wire driver"
    );
    assert!(u(&c["persistent"]["transactions"]) > 0, "{c}");
    assert!(u(&c["transient"]["transactions"]) > 0, "{c}");
    assert_eq!(u(&c["opened"]), u(&c["connect"]["count"]));
    assert!(u(&c["opened"]) >= u(&c["transient"]["transactions"]));
    // opening a connection costs far more than a pooled point query
    assert!(
        f(&c["transient"]["p50_ms"]) > f(&c["persistent"]["p50_ms"]),
        "{c}"
    );
    assert!(f(&c["connect"]["p50_ms"]) > 0.0);
}

#[test]
fn list_prints_the_registry() {
    let o = ok(stormbench().arg("list"));
    let (out, _) = text(&o);
    for needle in [
        "simple",
        "connection",
        "modes: mixed, read, write",
        "scale: 100,000 accounts",
        "transient",
    ] {
        assert!(out.contains(needle), "{needle} missing in:\n{out}");
    }
}

#[test]
fn think_time_paces_a_closed_loop() {
    let pg = pg();
    let dir = tempdir();
    let cfg = dir.path().join("think.yaml");
    std::fs::write(
        &cfg,
        "workload: noop\nworkers: 2\nthink_time: 50ms\nduration: 2s\n",
    )
    .unwrap();
    let json = dir.path().join("t.json");
    ok(pg
        .stormbench("stormbench_test")
        .arg("--config")
        .arg(&cfg)
        .args(["-q", "--json"])
        .arg(&json));
    let r = read_json(&json);
    let tps = f(&r["summary"]["tps"]);
    // two workers, each one transaction per ~50 ms: about 40 tps, never far above
    assert!((30.0..=41.0).contains(&tps), "{tps} tps");
}

#[test]
fn serialization_failures_are_retried_and_counted() {
    let pg = pg();
    let db = pg.fresh_db("retries");
    let dir = tempdir();
    let cfg = dir.path().join("rr.yaml");
    // hot rows updated concurrently under REPEATABLE READ fail with 40001
    std::fs::write(
        &cfg,
        "database:\n  isolation: repeatable_read\nworkload: simple_write\nworkers: 8\nduration: 3s\n\
         max_tries: 10\nsimple:\n  insert_ratio: 0\n  key_distribution: zipfian\n  zipf_theta: 0.99\n",
    )
    .unwrap();
    let json = dir.path().join("r.json");
    ok(pg
        .stormbench(&db)
        .arg("--config")
        .arg(&cfg)
        .args(["--setup", "-q", "--json"])
        .arg(&json));
    let r = read_json(&json);
    assert_eq!(r["config"]["database"]["isolation"], "repeatable_read");
    let retries = u(&r["summary"]["retries"]);
    assert!(retries > 0, "no retries: {}", r["summary"]);
    assert_eq!(
        u(&r["transactions"][1]["retries"]),
        retries,
        "all retries are updates"
    );
    // with 10 tries nearly every transaction gets through in the end
    let failed = u(&r["summary"]["failed"]);
    assert!(
        failed * 100 <= u(&r["summary"]["transactions"]),
        "{failed} failed"
    );
    // with a single try the same conflicts are counted as serialization errors
    let cfg1 = dir.path().join("rr1.yaml");
    let text1 = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("max_tries: 10", "max_tries: 1");
    std::fs::write(&cfg1, text1).unwrap();
    let json1 = dir.path().join("r1.json");
    ok(pg
        .stormbench(&db)
        .arg("--config")
        .arg(&cfg1)
        .args(["-q", "--json"])
        .arg(&json1));
    let r1 = read_json(&json1);
    assert_eq!(u(&r1["summary"]["retries"]), 0);
    assert!(
        u(&r1["errors"]["by_class"]["serialization"]) > 0,
        "{}",
        r1["errors"]
    );
    assert!(r1["errors"]["samples"]["serialization"][0]
        .as_str()
        .unwrap()
        .contains("could not serialize"));
}

#[test]
fn check_without_checks_says_so() {
    let pg = pg();
    let o = ok(pg
        .stormbench("stormbench_test")
        .args(["-w", "noop", "--check"]));
    let (out, _) = text(&o);
    assert!(
        out.contains("Consistency Checks:") && out.contains("defines none"),
        "{out}"
    );
}

/// `stormbench ... | head`: a reader that closes standard output early does not turn a
/// finished run into an internal error; the report file is written and the exit code is the
/// run's.
#[test]
fn a_closed_stdout_is_not_an_error() {
    let pg = pg();
    let dir = tempdir();
    let json = dir.path().join("r.json");
    let mut child = spawn(
        pg.stormbench("stormbench_test")
            .args(["-w", "noop", "-d", "1s", "--json"])
            .arg(&json),
    );
    // the reader goes away before anything is printed
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let (_, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("internal error"), "{err}");
    assert!(
        read_json(&json)["summary"]["transactions"]
            .as_u64()
            .unwrap()
            > 0
    );
    // the same for a command that only prints
    let mut child = spawn(stormbench().arg("list"));
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{:?}", text(&o));
}
