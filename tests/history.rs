//! The results history on both backends (a SQLite file; a table on the test cluster):
//! runs recorded, listed with their trends, picked as a comparison's baseline; stores
//! that are not stormbench's refused and left as they were.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// An objective every `noop` run meets.
const MET: &str = "p99_ms=10000";

/// A short run of the `noop` workload recorded in `store`, with one objective
/// (`p99_ms=10000` is met; `min_tps=1000000000` is not, however fast the build).
fn recorded_run(store: &str, json: &Path, objective: &str, code: i32) {
    let pg = pg();
    let o = pg
        .stormbench("stormbench_test")
        .args(["-w", "noop", "-d", "1s", "--history", store])
        .args(["--slo", objective, "--json"])
        .arg(json)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(code), "{out}\n{err}");
    assert!(out.contains("recorded as run"), "{out}");
}

/// A short `noop` run whose history cannot take it: it succeeds, says why, and keeps its
/// report; returns stdout, stderr and the report's text.
fn unrecorded_run(store: &str, dir: &Path) -> (String, String, String) {
    let json = dir.join("unrecorded.json");
    let o = ok(pg()
        .stormbench("stormbench_test")
        .args(["-w", "noop", "-d", "1s", "--history", store, "--json"])
        .arg(&json));
    let (out, err) = text(&o);
    assert!(
        err.contains("the run is not recorded in the history"),
        "{err}"
    );
    let report = std::fs::read_to_string(&json).expect("the report is written");
    (out, err, report)
}

fn history(store: &str) -> Command {
    let mut c = stormbench();
    c.args(["history", "--store", store]);
    c
}

/// Records a passing run, a failing one and a third; lists them; picks baselines.
fn record_list_and_pick(store: &str, dir: &Path) {
    let json = |n: u32| dir.join(format!("r{n}.json"));
    recorded_run(store, &json(1), MET, 0);
    recorded_run(store, &json(2), "min_tps=1000000000", 6);
    recorded_run(store, &json(3), MET, 0);

    let listing = dir.join("history.json");
    let html = dir.join("history.html");
    let o = ok(history(store)
        .arg("--json")
        .arg(&listing)
        .arg("--html")
        .arg(&html));
    let (out, _) = text(&o);
    assert!(out.contains("3 runs shown"), "{out}");
    assert!(out.contains("objectives met 2/3"), "{out}");
    let h = read_json(&listing);
    let runs = h["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    let ids: Vec<i64> = runs.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(runs[1]["slo_passed"], false);
    assert_eq!(runs[0]["workload"], "noop");
    assert_eq!(runs[0]["kinds"][0]["kind"], "noop");
    assert!(runs[0]["tps"].as_f64().unwrap() > 0.0);
    assert_eq!(h["trends"][0]["runs"], 3);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("p99 objective 10000 ms"));

    // the third run against the history: last is the second, last-pass the first
    for (which, want) in [("last", ids[1]), ("last-pass", ids[0])] {
        let o = ok(stormbench()
            .args(["compare", "--store", store, "--baseline", which])
            .arg(json(3)));
        let (out, _) = text(&o);
        assert!(
            out.contains(&format!("base: run {want} of the history")),
            "{which}: {out}"
        );
        assert!(out.contains("Compare: noop"), "{out}");
    }
    // a run number of the history
    let o = ok(stormbench()
        .args([
            "compare",
            "--store",
            store,
            "--baseline",
            &ids[0].to_string(),
        ])
        .arg(json(2)));
    assert!(text(&o).0.contains(&format!("base: run {} ", ids[0])));
    // filters
    let o = ok(history(store).args(["-w", "tpcc"]));
    assert!(text(&o).0.contains("0 runs shown"));
    let o = ok(history(store).args(["--limit", "1"]));
    assert!(text(&o).0.contains("1 runs shown"));
}

#[test]
fn a_sqlite_history_records_lists_and_gives_baselines() {
    let dir = tempdir();
    let store = dir.path().join("results").join("history.sqlite");
    record_list_and_pick(store.to_str().unwrap(), dir.path());
}

#[test]
fn a_postgres_history_records_lists_and_gives_baselines() {
    let pg = pg();
    let db = pg.fresh_db("history");
    let dir = tempdir();
    let store = format!(
        "postgresql://{}@{}:{}/{db}?sslmode=disable&application_name=sbt-history",
        pg.user, pg.host, pg.port
    );
    record_list_and_pick(&store, dir.path());
    let marked = pg.psql(
        &db,
        "SELECT count(*), obj_description('stormbench_history'::regclass, 'pg_class') \
         FROM stormbench_history",
    );
    assert_eq!(marked, "3|stormbench results history, layout 1");
}

#[test]
fn a_table_of_the_same_name_that_stormbench_did_not_create_is_refused() {
    let pg = pg();
    let db = pg.fresh_db("history_foreign");
    pg.psql(
        &db,
        "CREATE TABLE stormbench_history (note text); INSERT INTO stormbench_history VALUES ('mine')",
    );
    let store = format!(
        "postgresql://{}@{}:{}/{db}?sslmode=disable",
        pg.user, pg.host, pg.port
    );
    let err = fails(&mut history(&store), 2);
    assert!(err.contains("that stormbench did not create"), "{err}");
    // a run still runs, says why it is not recorded, and keeps its report
    unrecorded_run(&store, tempdir().path());
    assert_eq!(pg.psql(&db, "SELECT note FROM stormbench_history"), "mine");
}

#[test]
fn files_that_are_not_a_history_are_refused_and_untouched() {
    let dir = tempdir();
    let notes = dir.path().join("notes.sqlite");
    std::fs::write(&notes, "my notes\n").unwrap();
    let err = fails(&mut history(notes.to_str().unwrap()), 2);
    assert!(err.contains("is not a stormbench history"), "{err}");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes\n");
    let err = fails(&mut history(dir.path().to_str().unwrap()), 2);
    assert!(err.contains("names a directory; give a file name"), "{err}");
}

/// Reading a history that does not exist does not create it: a mistyped `--store` became
/// an empty history file and the listing said "0 runs", as if nothing were recorded.
#[test]
fn reading_a_history_that_does_not_exist_does_not_create_it() {
    let dir = tempdir();
    let typo = dir.path().join("histroy.sqlite");
    let o = ok(&mut history(typo.to_str().unwrap()));
    let err = text(&o).1;
    assert!(
        err.contains("no such file, so no run is recorded there yet"),
        "{err}"
    );
    assert!(!typo.exists());
    // nor through a symlink to nothing
    let link = dir.path().join("link.sqlite");
    std::os::unix::fs::symlink(&typo, &link).unwrap();
    ok(&mut history(link.to_str().unwrap()));
    assert!(!typo.exists());
    // a comparison against its newest run has no base
    let report = dir.path().join("r.json");
    ok(pg()
        .stormbench("postgres")
        .args(["-w", "noop", "-d", "1s", "-q", "--no-summary", "--json"])
        .arg(&report));
    let err = fails(
        stormbench()
            .args(["compare", "--baseline", "last", "--store"])
            .arg(&typo)
            .arg(&report),
        2,
    );
    assert!(
        err.contains("does not exist, so it holds no run to compare with"),
        "{err}"
    );
    assert!(!typo.exists());
}

#[test]
fn the_default_store_import_and_bad_input() {
    let pg = pg();
    let dir = tempdir();
    let data = dir.path().join("data");
    // with no history named, a run is recorded under XDG_DATA_HOME
    let json = dir.path().join("r.json");
    ok(pg
        .stormbench("stormbench_test")
        .env_remove("STORMBENCH_HISTORY")
        .env("XDG_DATA_HOME", &data)
        .args(["-w", "noop", "-d", "1s", "--json"])
        .arg(&json));
    let default = data.join("stormbench").join("history.sqlite");
    assert!(default.is_file(), "the default history is created");
    let o = ok(stormbench()
        .env_remove("STORMBENCH_HISTORY")
        .env("XDG_DATA_HOME", &data)
        .arg("history"));
    assert!(text(&o).0.contains("1 runs shown"));

    // a report recorded later, into another store
    let other = dir.path().join("other.sqlite");
    let o = ok(history(other.to_str().unwrap()).arg("--import").arg(&json));
    let (out, _) = text(&o);
    assert!(
        out.contains("recorded") && out.contains("1 runs shown"),
        "{out}"
    );
    // importing it again replaces the record
    let o = ok(history(other.to_str().unwrap()).arg("--import").arg(&json));
    assert!(text(&o).0.contains("1 runs shown"));

    // bad input: one line each, exit 2
    let err = fails(
        history(other.to_str().unwrap()).arg("--import").arg(&other),
        2,
    );
    assert!(err.contains("cannot import"), "{err}");
    let err = fails(stormbench().args(["history", "--store", " "]), 2);
    assert!(err.contains("--store: is empty"), "{err}");
    let err = fails(
        stormbench()
            .args(["compare", "--baseline", "yesterday", "--store"])
            .arg(&other)
            .arg(&json),
        2,
    );
    assert!(
        err.contains("give last, last-pass or a run number"),
        "{err}"
    );
    let err = fails(
        stormbench()
            .args(["compare", "--baseline", "last", "--store"])
            .arg(&other)
            .arg(&json)
            .arg(&json),
        2,
    );
    assert!(err.contains("give only the new run's report"), "{err}");
    // the only run of its workload has no baseline
    let err = fails(
        stormbench()
            .args(["compare", "--baseline", "last", "--store"])
            .arg(&other)
            .arg(&json),
        2,
    );
    assert!(err.contains("has no other completed run of noop"), "{err}");
    let err = fails(
        pg.stormbench("stormbench_test").args([
            "-w",
            "noop",
            "--history",
            "postgres://h/db?nope=1",
        ]),
        2,
    );
    assert!(
        err.contains("history: unknown connection parameter 'nope'"),
        "{err}"
    );
}

#[test]
fn a_password_in_the_history_uri_is_never_printed() {
    let pg = pg();
    let dir = tempdir();
    let secret = "sbt-history-secret-pw";
    let store = format!(
        "postgresql://nobody_here:{secret}@{}:{}/nosuch?sslmode=disable&connect_timeout=3",
        pg.host, pg.port
    );
    let (out, err, report) = unrecorded_run(&store, dir.path());
    assert!(err.contains("--history carries a password"), "{err}");
    for t in [&out, &err, &report] {
        assert!(!t.contains(secret), "{t}");
    }
    let o = history(&store).output().unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(
        !out.contains(secret) && !err.contains(secret),
        "{out}\n{err}"
    );
}

#[test]
fn compare_learns_run_to_run_noise_from_earlier_runs_of_the_configuration() {
    let dir = tempdir();
    let store = dir.path().join("h.sqlite");
    let store = store.to_str().unwrap();
    let json = |n: u32| dir.path().join(format!("r{n}.json"));
    for n in 1..=5 {
        recorded_run(store, &json(n), MET, 0);
    }
    // a run of another configuration teaches nothing about this one
    ok(pg().stormbench("stormbench_test").args([
        "-w",
        "noop",
        "-d",
        "1s",
        "--workers",
        "3",
        "--history",
        store,
    ]));
    let out_json = dir.path().join("cmp.json");
    let o = ok(stormbench()
        .args(["compare", "--store", store])
        .arg(json(4))
        .arg(json(5))
        .arg("--json")
        .arg(&out_json));
    let (out, _) = text(&o);
    assert!(
        out.contains("Run-to-run noise (standard deviation over 3 earlier runs"),
        "{out}"
    );
    let c = read_json(&out_json);
    assert_eq!(c["noise"]["runs"], 3);
    assert_eq!(c["noise"]["kinds"][0]["kind"], "noop");
    let k = &c["kinds"][0];
    for p in ["tps_p_value", "tps_p_value_within", "tps_p_value_plain"] {
        assert!(k[p].as_f64().is_some(), "{p}: {k}");
    }
    // without a history the comparison says the noise is unknown
    let o = ok(stormbench()
        .args(["compare", "--store", "off"])
        .arg(json(4))
        .arg(json(5)));
    assert!(text(&o).0.contains("Run-to-run noise unknown"));
}

/// A checkpointed run: the report and the history row of the run so far, marked partial,
/// survive a SIGKILL; a run that ends replaces both with its final figures.
#[test]
fn checkpoints_survive_a_sigkill_and_the_end_replaces_them() {
    let pg = pg();
    let dir = tempdir();
    let store = dir.path().join("h.sqlite");
    let store = store.to_str().unwrap();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(&cfg, "checkpoint_interval: 1s\n").unwrap();
    let json = dir.path().join("killed.json");
    let mut child = pg
        .stormbench("stormbench_test")
        .arg("-c")
        .arg(&cfg)
        .args([
            "-w",
            "noop",
            "-d",
            "60s",
            "--history",
            store,
            "-q",
            "--json",
        ])
        .arg(&json)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // wait for a checkpoint that holds at least two seconds of measurement
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let seen = std::fs::read_to_string(&json)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["measured_s"].as_f64());
        if seen.is_some_and(|s| s >= 2.0) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint within 30 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    child.kill().unwrap(); // SIGKILL: nothing of stormbench runs after this
    child.wait().unwrap();
    let r = read_json(&json);
    assert_eq!(r["status"], "partial");
    assert!(r["summary"]["transactions"].as_u64().unwrap() > 0);
    assert!(!r["time_series"].as_array().unwrap().is_empty());
    let listing = dir.path().join("h.json");
    ok(history(store).arg("--json").arg(&listing));
    let runs = read_json(&listing)["runs"].clone();
    assert_eq!(runs.as_array().unwrap().len(), 1);
    assert_eq!(runs[0]["partial"], true);
    assert_eq!(runs[0]["status"], "partial");
    // a partial run is never a baseline
    let err = fails(
        stormbench()
            .args(["compare", "--baseline", "last", "--store", store])
            .arg(&json),
        2,
    );
    assert!(err.contains("has no other completed run"), "{err}");

    // a run that ends: one row, final
    let done = dir.path().join("done.json");
    ok(pg
        .stormbench("stormbench_test")
        .arg("-c")
        .arg(&cfg)
        .args(["-w", "noop", "-d", "4s", "--history", store, "-q", "--json"])
        .arg(&done));
    assert_eq!(read_json(&done)["status"], "completed");
    ok(history(store).arg("--json").arg(&listing));
    let runs = read_json(&listing)["runs"].clone();
    assert_eq!(runs.as_array().unwrap().len(), 2, "{runs}");
    assert_eq!(runs[1]["partial"], false);
    assert_eq!(runs[1]["status"], "completed");
}
