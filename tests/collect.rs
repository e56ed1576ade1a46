//! pg_stat collection against real servers: PostgreSQL 15 (the test cluster, with
//! pg_stat_statements) and 16 and 18 (embedded clusters from their own server binaries).

mod common;

use common::*;
use serde_json::Value;
use stormbench::db::embedded::{EmbeddedCluster, EmbeddedOptions};

/// The tests of this file run one at a time: two start their own clusters (initdb and
/// start-up take both cores of a small machine), and a run beside them would measure a
/// starved server.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn collected_run(mut cmd: std::process::Command, extra: &[&str]) -> (Value, String) {
    let dir = tempdir();
    let json = dir.path().join("r.json");
    let o = ok(cmd
        .args([
            "-w",
            "simple",
            "--setup",
            "-d",
            "3s",
            "--workers",
            "4",
            "--collect-pg-stats",
        ])
        .args(extra)
        .arg("--json")
        .arg(&json));
    let (out, err) = text(&o);
    assert!(out.contains("Database Performance"), "{out}");
    let r = read_json(&json);
    validate_report_schema(&r);
    (r, err)
}

fn assert_deltas_agree(r: &Value) {
    let d = &r["database_stats"];
    let client = u(&r["summary"]["transactions"]) as f64;
    let commits = d["run"]["commits"].as_i64().unwrap() as f64;
    let samples = u(&d["samples"]) as f64;
    // the server also counts the collector's own queries (a few per sample)
    assert!(
        commits >= client * 0.95 && commits <= client * 1.05 + 12.0 * samples,
        "server commits {commits} vs client transactions {client}"
    );
    assert!(d["run"]["wal_bytes"].as_i64().unwrap() > 0, "{}", d["run"]);
    assert!(d["run"]["tup_inserted"].as_i64().unwrap() > 0);
    assert!(d["run"]["cache_hit_ratio"].as_f64().unwrap() > 50.0);
    assert!(samples >= 3.0, "{samples} samples in 3 s at 1 s");
    let intervals = d["intervals"].as_array().unwrap();
    assert_eq!(intervals.len() as f64, samples - 1.0);
    assert!(intervals
        .iter()
        .any(|i| i["commits_per_s"].as_f64().unwrap() > 0.0));
    assert!(
        u(&d["connections"]["max_total"]) >= 4,
        "{}",
        d["connections"]
    );
    let tables: Vec<_> = d["autovacuum"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap().to_string())
        .collect();
    assert!(
        tables.contains(&"simple_accounts".to_string()),
        "{tables:?}"
    );
}

#[test]
fn postgres_15_with_pg_stat_statements() {
    let _serial = serial();
    let pg = pg();
    let db = "stormbench_test";
    let (r, err) = collected_run(pg.stormbench(db), &["--pg-stat-statements"]);
    assert_deltas_agree(&r);
    let d = &r["database_stats"];
    assert_eq!(d["available"]["pg_stat_statements"], true);
    assert_eq!(d["available"]["pg_stat_io"], false);
    assert_eq!(d["available"]["pg_stat_checkpointer"], false);
    assert!(
        d["run"]["checkpoints_timed"].is_i64(),
        "bgwriter view read: {}",
        d["run"]
    );
    let top = d["top_statements"].as_array().unwrap();
    assert!(
        top.iter()
            .any(|s| s["query"].as_str().unwrap().contains("simple_accounts")),
        "{top:?}"
    );
    assert!(top.iter().all(|s| u(&s["calls"]) > 0));
    assert!(!err.contains("not installed"), "{err}");
}

#[test]
fn counters_reset_during_the_run_are_joined_not_subtracted() {
    let _serial = serial();
    let pg = pg();
    let db = pg.fresh_db("stats_reset");
    let resetter = {
        let db = db.clone();
        std::thread::spawn(move || {
            let pg = common::pg();
            std::thread::sleep(std::time::Duration::from_secs(4));
            pg.psql(
                &db,
                "SELECT pg_stat_reset(); SELECT pg_stat_reset_shared('wal')",
            );
        })
    };
    let dir = tempdir();
    let json = dir.path().join("r.json");
    let o = ok(pg
        .stormbench(&db)
        .args(["-w", "simple", "--setup", "-d", "6s", "--workers", "4"])
        .args(["--collect-pg-stats", "--json"])
        .arg(&json));
    resetter.join().unwrap();
    let (out, err) = text(&o);
    let r = read_json(&json);
    validate_report_schema(&r);
    let d = &r["database_stats"];
    let views: Vec<&str> = d["counter_resets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["view"].as_str().unwrap())
        .collect();
    assert!(
        views.contains(&"pg_stat_database") && views.contains(&"pg_stat_wal"),
        "{views:?}"
    );
    assert!(out.contains("Counters reset: pg_stat_database at"), "{out}");
    // the server's count goes on across the reset: only what came between the sample
    // before it and the reset (at most a second of six) is missing
    let client = u(&r["summary"]["transactions"]) as f64;
    let commits = d["run"]["commits"].as_i64().unwrap() as f64;
    assert!(
        commits >= client * 0.6,
        "server commits {commits} vs client transactions {client}"
    );
    assert!(d["run"]["wal_bytes"].as_i64().unwrap() > 0, "{}", d["run"]);
    assert!(d["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["commits_per_s"].as_f64().unwrap() >= 0.0));
    // the transaction count of two readings across a reset is left out, not wrong
    assert!(
        r["summary"]["server_transactions"].is_null(),
        "{}",
        r["summary"]
    );
    assert!(
        err.contains("pg_stat_database was reset during the run"),
        "{err}"
    );
}

#[test]
fn missing_extension_warns_and_the_run_goes_on() {
    let _serial = serial();
    let pg = pg();
    let db = pg.fresh_db("nopgss");
    let (r, err) = collected_run(pg.stormbench(&db), &["--pg-stat-statements"]);
    assert!(
        err.contains("pg_stat_statements is not installed") && err.contains("CREATE EXTENSION"),
        "{err}"
    );
    assert_eq!(
        err.matches("pg_stat_statements is not installed").count(),
        1,
        "one warning: {err}"
    );
    let d = &r["database_stats"];
    assert_eq!(d["available"]["pg_stat_statements"], false);
    assert!(d["statements_note"]
        .as_str()
        .unwrap()
        .contains("shared_preload_libraries"));
    assert!(u(&r["summary"]["transactions"]) > 0);
}

fn embedded_run(bindir_var: &str, major: u32) -> Value {
    let bindir = std::env::var(bindir_var).unwrap_or_else(|_| {
        panic!("{bindir_var} is not set: run scripts/pg-extra-versions.sh install and eval \"$(scripts/pg-extra-versions.sh env)\" (scripts/test.sh does both)")
    });
    let cluster = EmbeddedCluster::start(&EmbeddedOptions {
        bindir: Some(bindir.into()),
        ..Default::default()
    })
    .expect("cluster starts");
    assert_eq!(cluster.server_version_major(), major);
    let port = cluster.port().to_string();
    let (r, _) = collected_run(stormbench_on_port(&port), &[]);
    assert_deltas_agree(&r);
    r
}

#[test]
fn postgres_16_reads_pg_stat_io() {
    let _serial = serial();
    let r = embedded_run("STORMBENCH_TEST_PG16_BINDIR", 16);
    let d = &r["database_stats"];
    assert_eq!(d["available"]["pg_stat_io"], true);
    assert_eq!(d["available"]["pg_stat_checkpointer"], false);
    assert!(d["run"]["io_reads"].is_i64(), "{}", d["run"]);
    assert!(d["run"]["checkpoints_requested"].is_i64());
}

#[test]
fn postgres_18_reads_pg_stat_checkpointer() {
    let _serial = serial();
    let r = embedded_run("STORMBENCH_TEST_PG18_BINDIR", 18);
    let d = &r["database_stats"];
    assert_eq!(d["available"]["pg_stat_checkpointer"], true);
    assert_eq!(d["available"]["pg_stat_io"], true);
    assert!(d["run"]["checkpoints_timed"].is_i64(), "{}", d["run"]);
    assert!(d["run"]["io_writes"].is_i64());
}
