use std::path::PathBuf;

use serde_json::json;

use super::*;

/// The record of a report given as a value.
fn record_of(v: &Value, partial: bool) -> Result<Record, String> {
    Record::from_text(serde_json::to_string(v).unwrap(), partial)
}

fn report(started: &str, tps: f64, slo: Option<bool>) -> Value {
    let mut v = json!({
        "schema_version": 1,
        "tool": "stormbench 0.1.0",
        "status": "completed",
        "started_at": started,
        "measured_s": 10.0,
        "database": "db:5432/bench as app",
        "server": {"version": "PostgreSQL 16.4"},
        "config": {"workload": "simple", "mode": "read", "scale": 2, "seed": 7,
                   "json": "a.json", "exec": {"workers": 4, "seed": 7}},
        "summary": {"transactions": 1000, "failed": 1, "tps": tps,
                    "latency": {"p50_ms": 1.0, "p95_ms": 2.0, "p99_ms": 3.0, "max_ms": 9.0}},
        "transactions": [{"name": "read", "transactions": 1000, "tps": tps,
                          "latency": {"p50_ms": 1.0, "p95_ms": 2.0, "p99_ms": 3.0}}],
    });
    if let Some(p) = slo {
        v["slo"] = json!({"passed": p});
        v["config"]["slo"] = json!({"p99_ms": 5.0});
    }
    v
}

#[test]
fn a_record_holds_the_reports_figures() {
    let r = record_of(&report("2026-12-01T00:00:00Z", 100.0, Some(true)), false).unwrap();
    assert_eq!(r.row.workload, "simple");
    assert_eq!(r.row.scale, 2);
    assert_eq!(r.row.tps, 100.0);
    assert_eq!(r.row.p99_ms, 3.0);
    assert_eq!(r.row.slo_passed, Some(true));
    assert_eq!(r.row.slo_p99_ms, Some(5.0));
    assert_eq!(r.row.kinds[0].kind, "read");
    let e = record_of(&json!({"hello": 1}), false).unwrap_err();
    assert!(e.contains("is it a stormbench run report"), "{e}");
}

#[test]
fn a_record_from_the_reports_text_reads_the_same_figures() {
    let mut v = report("2026-12-01T00:00:00Z", 100.0, Some(false));
    v["time_series"] = json!([{"interval": 0, "t_s": 1.0}, {"interval": 1, "t_s": 2.0}]);
    let a = RunRow::of_report(&v, true).unwrap();
    let b = Record::from_text(serde_json::to_string(&v).unwrap(), true).unwrap();
    assert_eq!(a, b.row);
    assert_eq!(
        b.report,
        serde_json::to_string(&v).unwrap(),
        "the whole report is kept"
    );
    let e = Record::from_text("[1, 2]".into(), false).unwrap_err();
    assert!(e.contains("is it a stormbench run report"), "{e}");
}

#[test]
fn the_config_hash_ignores_what_does_not_change_the_measurement() {
    let a = report("2026-12-01T00:00:00Z", 100.0, None);
    let mut b = a.clone();
    b["config"]["seed"] = json!(8);
    b["config"]["exec"]["seed"] = json!(8);
    b["config"]["json"] = json!("elsewhere.json");
    assert_eq!(config_hash(&a["config"]), config_hash(&b["config"]));
    b["config"]["exec"]["workers"] = json!(8);
    assert_ne!(config_hash(&a["config"]), config_hash(&b["config"]));
}

#[test]
fn store_specs() {
    let env = |k: &str| match k {
        "HOME" => Some("/home/u".to_string()),
        _ => None,
    };
    assert!(matches!(StoreSpec::parse("off", &env), Ok(StoreSpec::Off)));
    match StoreSpec::parse("~/h.sqlite", &env).unwrap() {
        StoreSpec::File(p) => assert_eq!(p, PathBuf::from("/home/u/h.sqlite")),
        other => panic!("{other:?}"),
    }
    let pg = StoreSpec::parse("postgres://app:pw@db:5433/team", &env).unwrap();
    assert_eq!(pg.display(), "postgres db:5433/team");
    assert!(!format!("{pg:?}").contains("pw"));
    assert!(StoreSpec::parse("postgres://a@b/c?bogus=1", &env).is_err());
    assert!(StoreSpec::parse(" ", &env).is_err());
    // a folder: SQLite took `h/` as a file named `h`, or failed to open it on every run
    let dir = tempfile::tempdir().unwrap();
    for folder in ["~/results/".to_string(), dir.path().display().to_string()] {
        let e = StoreSpec::parse(&folder, &env).unwrap_err();
        assert!(
            e.contains("names a directory; give a file name (e.g. "),
            "{e}"
        );
    }
    match StoreSpec::default_store(&env) {
        StoreSpec::File(p) => assert_eq!(
            p,
            PathBuf::from("/home/u/.local/share/stormbench/history.sqlite")
        ),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        StoreSpec::default_store(&|_: &str| None),
        StoreSpec::Off
    ));
}

fn row(id: i64, key: &str, slo: Option<bool>) -> RunRow {
    let mut r = record_of(&report("2026-12-01T00:00:00Z", 1.0, slo), false)
        .unwrap()
        .row;
    r.id = id;
    r.run_key = key.into();
    r
}

#[test]
fn baselines_pick_the_newest_fitting_run_never_the_new_one() {
    let mut partial = row(3, "c", Some(true));
    partial.partial = true;
    let mut other = row(4, "d", Some(true));
    other.scale = 9;
    let runs = vec![
        row(1, "a", Some(true)),
        row(2, "b", Some(false)),
        partial,
        other,
        row(5, "new", Some(true)),
    ];
    let new = &runs[4];
    assert_eq!(Baseline::Last.pick(&runs, new).unwrap().id, 2);
    assert_eq!(Baseline::LastPass.pick(&runs, new).unwrap().id, 1);
    assert_eq!(Baseline::Id(4).pick(&runs, new).unwrap().id, 4);
    assert!(Baseline::Id(99).pick(&runs, new).is_err());
    let e = Baseline::LastPass.pick(&runs[1..2], new).unwrap_err();
    assert!(e.contains("met its objectives"), "{e}");
    assert_eq!(Baseline::parse("last-pass"), Ok(Baseline::LastPass));
    assert_eq!(Baseline::parse("12"), Ok(Baseline::Id(12)));
    assert!(Baseline::parse("yesterday").is_err());
}

#[test]
fn a_sqlite_history_records_updates_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("h.sqlite");
    let mut s = sqlite::SqliteStore::open(&path).unwrap();
    let mut r = record_of(&report("2026-12-01T00:00:00Z", 100.0, None), true).unwrap();
    let id = s.record(&r).unwrap();
    // the same run again (its final record after a checkpoint) replaces the row
    r.row.partial = false;
    r.row.tps = 120.0;
    assert_eq!(s.record(&r).unwrap(), id);
    let other = record_of(&report("2026-12-02T00:00:00Z", 90.0, None), false).unwrap();
    let id2 = s.record(&other).unwrap();
    assert_ne!(id, id2);
    let runs = s.runs().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].tps, 120.0);
    assert!(!runs[0].partial);
    assert_eq!(runs[1].kinds, other.row.kinds);
    let stored: Value = serde_json::from_str(&s.report(id2).unwrap().unwrap()).unwrap();
    assert_eq!(stored["summary"]["tps"], 90.0);
    assert_eq!(s.report(999).unwrap(), None);
    drop(s);
    // reopening keeps everything
    assert_eq!(
        sqlite::SqliteStore::open(&path)
            .unwrap()
            .runs()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn a_file_that_is_not_a_stormbench_history_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "my notes, not a database\n".repeat(100)).unwrap();
    let e = sqlite::SqliteStore::open(&text).err().unwrap();
    assert!(e.contains("is not a stormbench history"), "{e}");
    assert_eq!(
        std::fs::read_to_string(&text).unwrap(),
        "my notes, not a database\n".repeat(100)
    );
    // another program's SQLite database
    let theirs = dir.path().join("app.db");
    let c = rusqlite::Connection::open(&theirs).unwrap();
    c.execute_batch("CREATE TABLE t (x int); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(c);
    let before = std::fs::read(&theirs).unwrap();
    let e = sqlite::SqliteStore::open(&theirs).err().unwrap();
    assert!(e.contains("is not a stormbench history"), "{e}");
    assert_eq!(std::fs::read(&theirs).unwrap(), before);
    // a directory
    let e = sqlite::SqliteStore::open(dir.path()).err().unwrap();
    assert!(e.contains("not a regular file"), "{e}");
}
