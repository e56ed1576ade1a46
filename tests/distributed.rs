//! A run split over several processes (`--shard`), against the real test cluster: the
//! shards' workers, seeds and keys are the single run's, split without overlap; TPC-C
//! terminals keep to their shard's warehouses; a barrier starts shards together; `merge`
//! joins their reports exactly; bad input and interrupts end cleanly.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::*;

/// A workload whose every transaction inserts one row keyed by a run-time sequence
/// (worker `w`'s `k`-th key is `k * 65536 + w`) and a random value from the worker's seed.
const WORKLOAD: &str = r#"
description: one insert per transaction
schema:
  create: schema.sql
transactions:
  - name: put
    statements:
      - sql: INSERT INTO sh_keys (k, v) VALUES ($1, $2)
        params: [{sequence: {}}, {uniform: {min: 1, max: 1000000000}}]
  - name: get
    statements:
      - sql: SELECT v FROM sh_keys WHERE k = $1
        params: [{uniform: {min: 0, max: 1000}}]
modes:
  put: {put: 1}
  mixed: {put: 1, get: 3}
"#;

fn workload(root: &Path) -> PathBuf {
    let dir = root.join("sh");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("workload.yaml"), WORKLOAD).unwrap();
    std::fs::write(
        dir.join("schema.sql"),
        "CREATE TABLE sh_keys (k bigint PRIMARY KEY, v bigint NOT NULL);\n",
    )
    .unwrap();
    root.to_path_buf()
}

fn sh(pg: &Pg, db: &str, root: &Path) -> Command {
    let mut c = pg.stormbench(db);
    c.arg("--workloads-path").arg(root).args(["-w", "sh"]);
    c
}

/// `(worker, first value)` of every worker that inserted, from the keys in the table.
fn workers_in(pg: &Pg, db: &str) -> BTreeSet<(i64, i64)> {
    pg.psql(
        db,
        "SELECT k % 65536, v FROM sh_keys WHERE k < 65536 ORDER BY 1",
    )
    .lines()
    .map(|l| {
        let (w, v) = l.split_once('|').unwrap();
        (w.parse().unwrap(), v.parse().unwrap())
    })
    .collect()
}

#[test]
fn shards_run_the_single_runs_workers_and_seeds_without_overlap() {
    let pg = pg();
    let db = pg.fresh_db("shard_keys");
    let dir = tempdir();
    let root = workload(dir.path());
    ok(sh(&pg, &db, &root).args(["--mode", "put", "--setup", "--no-run", "-q"]));
    let run = |extra: &[&str]| {
        ok(sh(&pg, &db, &root)
            .args([
                "--mode",
                "put",
                "--workers",
                "7",
                "--transactions",
                "700",
                "-q",
            ])
            .args(extra));
    };
    run(&[]);
    let single = workers_in(&pg, &db);
    assert_eq!(single.len(), 7, "{single:?}");
    assert_eq!(pg.psql(&db, "SELECT count(*) FROM sh_keys"), "700");
    // three shards, one after the other: each runs its own workers with the single run's
    // seeds, and their budgets add up to the single run's
    let mut union = BTreeSet::new();
    let mut rows = 0;
    for i in 0..3 {
        pg.psql(&db, "DELETE FROM sh_keys");
        let json = dir.path().join(format!("k{i}.json"));
        run(&[
            "--shard",
            &format!("{i}/3"),
            "--json",
            json.to_str().unwrap(),
        ]);
        let mine = workers_in(&pg, &db);
        let ids: BTreeSet<i64> = mine.iter().map(|(w, _)| *w).collect();
        // the sequence starts at 1: worker w's first key is w + 1
        let expected: BTreeSet<i64> = (0..7).filter(|w| w % 3 == i).map(|w| w + 1).collect();
        assert_eq!(ids, expected, "shard {i}");
        assert!(union.is_disjoint(&mine), "shard {i} overlaps: {mine:?}");
        union.extend(mine);
        rows += pg
            .psql(&db, "SELECT count(*) FROM sh_keys")
            .parse::<u64>()
            .unwrap();
        let r = read_json(&json);
        validate_report_schema(&r);
        assert_eq!(r["shard"]["index"], i);
        assert_eq!(r["shard"]["count"], 3);
        assert_eq!(r["shard"]["run_workers"], 7);
        assert_eq!(r["shard"]["workers"], expected.len());
    }
    assert_eq!(
        union, single,
        "the shards' workers and first values are the single run's"
    );
    assert_eq!(rows, 700);
}

/// Starts every command at once and waits for all of them (2 minutes at most each); each
/// must succeed.
fn run_together(commands: Vec<Command>) {
    let children: Vec<Child> = commands.into_iter().map(|mut c| spawn(&mut c)).collect();
    for c in children {
        let o = wait_at_most(c, Duration::from_secs(120)).0;
        assert!(o.status.success(), "{:?}", text(&o));
    }
}

/// `stormbench merge` with the test workload's folder, so its figures are computed again.
fn merge(root: &Path) -> Command {
    let mut c = stormbench();
    c.arg("--workloads-path").arg(root).arg("merge");
    c
}

fn decode(s: &serde_json::Value) -> hdrhistogram::Histogram<u64> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.as_str().unwrap())
        .unwrap();
    hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .unwrap()
}

fn kind<'a>(r: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    r["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == name)
        .unwrap()
}

#[test]
fn a_barrier_starts_shards_together_and_merge_is_exact() {
    let pg = pg();
    let db = pg.fresh_db("shard_merge");
    let dir = tempdir();
    let root = workload(dir.path());
    let files: Vec<PathBuf> = (0..3)
        .map(|i| dir.path().join(format!("s{i}.json")))
        .collect();
    // every shard gets --setup: shard 0 sets up, the others wait for it
    run_together(
        (0..3)
            .map(|i| {
                let mut c = sh(&pg, &db, &root);
                c.args([
                    "--mode",
                    "mixed",
                    "--workers",
                    "6",
                    "--rate",
                    "600",
                    "-d",
                    "3s",
                ])
                .args(["--setup", "--barrier", "merge-test", "-q", "--json"])
                .arg(&files[i])
                .env("STORMBENCH_SHARD", format!("{i}/3"));
                c
            })
            .collect(),
    );
    let shards: Vec<serde_json::Value> = files.iter().map(|f| read_json(f)).collect();
    the_shards_started_together(&shards);
    merge_joins_the_shards_exactly(&root, dir.path(), &files, &shards);
    merge_refuses_what_is_not_one_run(&pg, &db, &root, dir.path(), &files, &shards);
    a_partial_shard_makes_the_merge_partial(&root, dir.path(), &files, &shards);
    a_statement_is_named_only_if_every_shard_names_it(&root, dir.path(), &shards);
}

/// The barrier started the three shards within 50 ms of each other, each with a third of
/// the rate.
fn the_shards_started_together(shards: &[serde_json::Value]) {
    let starts: Vec<chrono::DateTime<chrono::FixedOffset>> = shards
        .iter()
        .map(|r| chrono::DateTime::parse_from_rfc3339(r["started_at"].as_str().unwrap()).unwrap())
        .collect();
    let spread = *starts.iter().max().unwrap() - *starts.iter().min().unwrap();
    assert!(
        spread.num_milliseconds() <= 50,
        "shards started {} ms apart",
        spread.num_milliseconds()
    );
    for r in shards {
        assert_eq!(r["shard"]["start"], "barrier merge-test");
        assert!((r["schedule"]["target_tps"].as_f64().unwrap() - 200.0).abs() < 1e-9);
    }
}

/// Merging the three shards: counts are the shards' sums, percentiles those of their
/// histograms added together, the series joins every interval, and the HTML lists them.
fn merge_joins_the_shards_exactly(
    root: &Path,
    dir: &Path,
    files: &[PathBuf],
    shards: &[serde_json::Value],
) {
    let merged = dir.join("merged.json");
    let html = dir.join("merged.html");
    let o = ok(merge(root)
        .args(files)
        .arg("--json")
        .arg(&merged)
        .arg("--html")
        .arg(&html));
    let (out, err) = text(&o);
    assert!(
        out.contains("Shards: 3 of 3 merged (6 workers of 6)"),
        "{out}"
    );
    assert!(!err.contains("Warning"), "{err}");
    let m = read_json(&merged);
    validate_report_schema(&m);
    assert!(m.get("shard").is_none());
    assert_eq!(m["config"]["workers"], 6);
    assert_eq!(m["merged"]["shards"].as_array().unwrap().len(), 3);
    assert!((m["schedule"]["target_tps"].as_f64().unwrap() - 600.0).abs() < 1e-9);
    // counts: the shards' sums, kind by kind
    for name in ["put", "get"] {
        for field in ["transactions", "committed", "failed", "queries"] {
            let sum: u64 = shards
                .iter()
                .map(|r| kind(r, name)[field].as_u64().unwrap())
                .sum();
            assert_eq!(
                kind(&m, name)[field].as_u64().unwrap(),
                sum,
                "{name} {field}"
            );
        }
        // percentiles: those of the shards' raw histograms added together
        let mut h = decode(&shards[0]["histograms"]["latency"][name]);
        h.auto(true);
        for r in &shards[1..] {
            h.add(decode(&r["histograms"]["latency"][name])).unwrap();
        }
        let k = kind(&m, name);
        assert_eq!(k["count"].as_u64().unwrap(), h.len(), "{name}");
        for (q, field) in [(0.5, "p50_ms"), (0.99, "p99_ms")] {
            let want = h.value_at_quantile(q) as f64 / 1000.0;
            let got = k[field].as_f64().unwrap();
            assert!(
                (got - want).abs() < 1e-3,
                "{name} {field}: {got} against {want}"
            );
        }
        assert_eq!(
            decode(&m["histograms"]["latency"][name]).len(),
            h.len(),
            "{name}: the merged report stores the merged histogram"
        );
    }
    let total: u64 = shards
        .iter()
        .map(|r| r["summary"]["transactions"].as_u64().unwrap())
        .sum();
    assert_eq!(m["summary"]["transactions"].as_u64().unwrap(), total);
    let series_total: u64 = m["time_series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["transactions"].as_u64().unwrap())
        .sum();
    assert_eq!(
        series_total, total,
        "the series joins every shard's intervals"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Shards"), "the HTML lists the shards");
}

/// A missing shard is a warning; reports of another run, a shard twice, a single run's
/// report or a missing file are refused.
fn merge_refuses_what_is_not_one_run(
    pg: &Pg,
    db: &str,
    root: &Path,
    dir: &Path,
    files: &[PathBuf],
    shards: &[serde_json::Value],
) {
    // a missing shard is a warning; reports of another run, or a shard twice, are refused
    let o = ok(merge(root).args(&files[..2]));
    let (out, err) = text(&o);
    assert!(err.contains("shard 2 of 3 missing"), "{err}");
    assert!(
        out.contains("Shards: 2 of 3 merged (4 workers of 6)"),
        "{out}"
    );
    let err = fails(stormbench().arg("merge").arg(&files[0]).arg(&files[0]), 2);
    assert!(err.contains("both shard 0"), "{err}");
    let single = dir.join("single.json");
    ok(sh(pg, db, root)
        .args(["--mode", "put", "-d", "1s", "-q", "--json"])
        .arg(&single));
    let err = fails(stormbench().arg("merge").arg(&files[0]).arg(&single), 2);
    assert!(err.contains("not a shard's report"), "{err}");
    let mut other = shards[1].clone();
    other["workload"]["mode"] = "put".into();
    let other_file = dir.join("other.json");
    std::fs::write(&other_file, other.to_string()).unwrap();
    let err = fails(stormbench().arg("merge").arg(&files[0]).arg(&other_file), 2);
    assert!(
        err.contains("not shards of one run") && err.contains("mode"),
        "{err}"
    );
    let err = fails(stormbench().arg("merge").arg(dir.join("nothing.json")), 2);
    assert!(err.contains("nothing.json"), "{err}");
}

/// A shard's checkpoint in the merge makes the merged report partial.
fn a_partial_shard_makes_the_merge_partial(
    root: &Path,
    dir: &Path,
    files: &[PathBuf],
    shards: &[serde_json::Value],
) {
    // a checkpoint (a shard still running, or killed) makes the merged report partial
    let mut partial = shards[2].clone();
    partial["status"] = "partial".into();
    let partial_file = dir.join("partial.json");
    std::fs::write(&partial_file, partial.to_string()).unwrap();
    let out_file = dir.join("merged-partial.json");
    let o = ok(merge(root)
        .args(&files[..2])
        .arg(&partial_file)
        .arg("--json")
        .arg(&out_file));
    let (_, err) = text(&o);
    assert!(
        err.contains("shard 2 reported only part of its run"),
        "{err}"
    );
    assert_eq!(read_json(&out_file)["status"], "partial");
}

/// A statement is named in the merged warnings only if it is named in every shard.
fn a_statement_is_named_only_if_every_shard_names_it(
    root: &Path,
    dir: &Path,
    shards: &[serde_json::Value],
) {
    // a statement found nothing in the whole run only if it found nothing in every shard
    let warned: Vec<PathBuf> = shards
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut r = r.clone();
            let mut w = vec!["statement put.a returned or changed no row"];
            // the lowest shard's report is the merged one's base: only it names b
            if i == 0 {
                w.push("statement put.b returned or changed no row");
            }
            r["workload"]["warnings"] = w.into();
            let f = dir.join(format!("warned-{i}.json"));
            std::fs::write(&f, r.to_string()).unwrap();
            f
        })
        .collect();
    let out_file = dir.join("merged-warned.json");
    ok(merge(root).args(&warned).arg("--json").arg(&out_file));
    let m = read_json(&out_file);
    validate_report_schema(&m);
    assert_eq!(
        m["workload"]["warnings"],
        serde_json::json!(["statement put.a returned or changed no row"])
    );
}

#[test]
fn merge_is_exact_per_connection_type_in_mixed_connection_mode() {
    let pg = pg();
    let db = pg.fresh_db("shard_mixed_conn");
    let dir = tempdir();
    let root = workload(dir.path());
    ok(sh(&pg, &db, &root).args(["--setup", "--no-run", "-q"]));
    let cfg = dir.path().join("mixed.yaml");
    std::fs::write(&cfg, "connection_mode: mixed\n").unwrap();
    let files: Vec<PathBuf> = (0..2)
        .map(|i| dir.path().join(format!("m{i}.json")))
        .collect();
    run_together(
        (0..2)
            .map(|i| {
                let mut c = sh(&pg, &db, &root);
                c.arg("-c")
                    .arg(&cfg)
                    .args(["--mode", "mixed", "--workers", "4", "--rate", "100"])
                    .args(["-d", "3s", "--barrier", "mixed-conn", "-q", "--json"])
                    .arg(&files[i])
                    .args(["--shard", &format!("{i}/2")]);
                c
            })
            .collect(),
    );
    let shards: Vec<serde_json::Value> = files.iter().map(|f| read_json(f)).collect();
    let merged = dir.path().join("merged.json");
    let o = ok(merge(&root).args(&files).arg("--json").arg(&merged));
    let (_, err) = text(&o);
    assert!(!err.contains("Warning"), "{err}");
    let m = read_json(&merged);
    validate_report_schema(&m);
    for conn in ["persistent", "transient"] {
        let mut h = decode(&shards[0]["histograms"]["by_connection"][conn]);
        h.auto(true);
        h.add(decode(&shards[1]["histograms"]["by_connection"][conn]))
            .unwrap();
        let c = &m["connections"][conn];
        let sum: u64 = shards
            .iter()
            .map(|r| r["connections"][conn]["transactions"].as_u64().unwrap())
            .sum();
        assert!(sum > 0, "{conn}: no transaction");
        assert_eq!(c["transactions"].as_u64().unwrap(), sum, "{conn}");
        assert_eq!(
            h.len(),
            sum,
            "{conn}: one latency per successful transaction"
        );
        for (q, field) in [(0.5, "p50_ms"), (0.99, "p99_ms")] {
            let want = h.value_at_quantile(q) as f64 / 1000.0;
            let got = c[field].as_f64().unwrap();
            assert!(
                (got - want).abs() < 1e-3,
                "{conn} {field}: {got} against {want}"
            );
        }
    }
}

fn orders_by_warehouse(pg: &Pg, db: &str) -> Vec<u64> {
    pg.psql(
        db,
        "SELECT count(*) FROM orders GROUP BY o_w_id ORDER BY o_w_id",
    )
    .lines()
    .map(|l| l.parse().unwrap())
    .collect()
}

#[test]
fn tpcc_shards_keep_their_terminals_on_their_own_warehouses() {
    let pg = pg();
    let db = pg.fresh_db("shard_tpcc");
    let tpcc = |extra: &[&str]| {
        let mut c = pg.stormbench(&db);
        c.args(["-w", "tpcc", "--scale", "6", "-q"]).args(extra);
        c
    };
    ok(&mut tpcc(&["--setup", "--no-run"]));
    // 3 shards of 6 terminals over 6 warehouses, one after the other: shard i's terminals
    // i and i + 3 have home warehouses i + 1 and i + 4, and New-Order writes only there
    for i in 0..3usize {
        let before = orders_by_warehouse(&pg, &db);
        ok(&mut tpcc(&[
            "--workers",
            "6",
            "-d",
            "2s",
            "--shard",
            &format!("{i}/3"),
        ]));
        let after = orders_by_warehouse(&pg, &db);
        let grew: Vec<usize> = (0..6)
            .filter(|w| after[*w] > before[*w])
            .map(|w| w + 1)
            .collect();
        assert_eq!(grew, [i + 1, i + 4], "shard {i}: {before:?} -> {after:?}");
    }
    // a shard count that does not divide the warehouses is said
    let o = ok(&mut tpcc(&["--workers", "8", "-d", "1s", "--shard", "0/4"]));
    let (_, err) = text(&o);
    assert!(
        err.contains("4 shards over 6 partitions") && err.contains("share some"),
        "{err}"
    );
    // what the shards did together keeps TPC-C's consistency conditions
    let out = ok(&mut tpcc(&["--check"]));
    let (out, _) = text(&out);
    assert!(!out.contains("[FAIL]"), "{out}");
    assert!(out.contains("[PASS]"), "{out}");
}

#[test]
fn shards_wait_for_the_set_up_within_their_limit() {
    let pg = pg();
    let db = pg.fresh_db("shard_wait");
    let dir = tempdir();
    let root = workload(dir.path());
    // shard 1 waits for shard 0's set-up, which starts a moment later
    let waiting = spawn(sh(&pg, &db, &root).args([
        "--mode", "put", "-d", "1s", "--shard", "1/2", "--setup", "-q",
    ]));
    std::thread::sleep(Duration::from_millis(1500));
    ok(sh(&pg, &db, &root).args([
        "--mode", "put", "-d", "1s", "--shard", "0/2", "--setup", "-q",
    ]));
    let o = wait_at_most(waiting, Duration::from_secs(60)).0;
    assert!(o.status.success(), "{:?}", text(&o));
    // nobody sets up: the wait ends at its limit with what to do
    let db = pg.fresh_db("shard_wait_none");
    let t0 = Instant::now();
    let err = fails(
        sh(&pg, &db, &root).args([
            "--mode",
            "put",
            "--shard",
            "1/2",
            "--setup",
            "--setup-wait",
            "2s",
        ]),
        1,
    );
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
    assert!(
        err.contains("shard 1/2")
            && err.contains("not set up within 2s")
            && err.contains("shard 0"),
        "{err}"
    );
}

#[test]
fn a_barrier_times_out_and_stops_on_ctrl_c() {
    let pg = pg();
    let db = pg.loaded("shard_barrier", "simple_read");
    // one shard of three: the others never come
    let t0 = Instant::now();
    let err = fails(
        pg.stormbench(&db).args([
            "-w",
            "simple_read",
            "-d",
            "1s",
            "--shard",
            "0/3",
            "--barrier",
            "lonely",
            "--barrier-timeout",
            "2s",
        ]),
        1,
    );
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
    assert!(
        err.contains("barrier lonely: 1 of 3 shards joined within 2s"),
        "{err}"
    );
    // Ctrl-C while waiting at the barrier ends the process at once
    let child = spawn(pg.stormbench(&db).args([
        "-w",
        "simple_read",
        "-d",
        "1s",
        "--shard",
        "0/3",
        "--barrier",
        "waiting",
    ]));
    std::thread::sleep(Duration::from_secs(2));
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let t0 = Instant::now();
    let o = wait_at_most(child, Duration::from_secs(10)).0;
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_barrier_shared_by_two_runs_is_refused() {
    let pg = pg();
    let db = pg.loaded("shard_crowded", "simple_read");
    let shard = |label: &str| {
        let mut c = pg.stormbench(&db);
        c.args(["-w", "simple_read", "-d", "1s", "--shard", label])
            .args(["--barrier", "crowded", "--barrier-timeout", "20s"]);
        c
    };
    // a run of three shards waits at the barrier; one of a run of two comes to the same
    let mut waiting = spawn(&mut shard("0/3"));
    std::thread::sleep(Duration::from_secs(2));
    let err = fails(&mut shard("1/2"), 1);
    assert!(
        err.contains(
            "barrier crowded: a shard of another run is there (shard 0/3, this run has 2 shards)"
        ),
        "{err}"
    );
    let _ = waiting.kill();
    let _ = waiting.wait();
}

#[test]
fn bad_shard_input_is_one_line_each() {
    let pg = pg();
    let db = pg.loaded("shard_bad", "simple_read");
    let run = |args: &[&str]| {
        let mut c = pg.stormbench(&db);
        c.args(["-w", "simple_read", "-d", "1s"]).args(args);
        c
    };
    for (args, code, says) in [
        (&["--shard", "3/3"][..], 2, "must be below 3"),
        (&["--shard", "two"][..], 2, "write INDEX/COUNT"),
        (&["--shards", "3"][..], 2, "JOB_COMPLETION_INDEX"),
        (
            &["--shard", "0/2", "--shards", "3"][..],
            2,
            "does not match",
        ),
        (&["--barrier", "b"][..], 2, "give --shard"),
        (
            &["--shard", "0/2", "--barrier", "no spaces"][..],
            2,
            "barrier: 'no spaces'",
        ),
        (
            &[
                "--shard",
                "0/1000",
                "--workers",
                "1000",
                "--barrier",
                "a-barrier-name-of-forty-characters-long",
            ][..],
            2,
            "too long for 1000 shards (their session names would be cut at 63 bytes); give at most 35 characters",
        ),
        (&["--start-at", "tomorrow"][..], 2, "not an RFC 3339 time"),
        (
            &["--shard", "0/8", "--workers", "4"][..],
            2,
            "8 shards need at least 8 workers",
        ),
        (&["--shard", "1/2", "--rebuild"][..], 2, "rebuild once"),
        (
            &["--shard", "0/2", "--progressive"][..],
            2,
            "runs on one machine",
        ),
    ] {
        let err = fails(&mut run(args), code);
        assert!(err.contains(says), "{args:?}: {err}");
        // the problem on its own line (under "invalid configuration:" for the config's)
        assert!(err.trim().lines().count() <= 2, "{args:?}: {err}");
    }
    // a start in the past starts now, with a warning
    let o = ok(&mut run(&["--start-at", "2020-01-01T00:00:00Z"]));
    let (_, err) = text(&o);
    assert!(err.contains("starting now"), "{err}");
    // and the Kubernetes index works
    let dir = tempdir();
    let json = dir.path().join("k.json");
    ok(
        run(&["--shards", "2", "-q", "--json", json.to_str().unwrap()])
            .env("JOB_COMPLETION_INDEX", "1"),
    );
    assert_eq!(read_json(&json)["shard"]["index"], 1);
}

#[test]
fn the_kubernetes_config_is_a_valid_shard_config() {
    let map: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/deploy/k8s/configmap.yaml"
        ))
        .unwrap(),
    )
    .unwrap();
    let dir = tempdir();
    let cfg = dir.path().join("stormbench.yaml");
    std::fs::write(&cfg, map["data"]["stormbench.yaml"].as_str().unwrap()).unwrap();
    // as the Indexed Job runs it, against a port nobody listens on: the config passes
    // validation, and the run stops at connecting
    let o = stormbench()
        .arg("--config")
        .arg(&cfg)
        .args([
            "--shards",
            "4",
            "--setup",
            "--barrier",
            "stormbench-k8s",
            "--host",
            "127.0.0.1",
            "--port",
            "9",
        ])
        .arg("--json")
        .arg(dir.path().join("shard-3.json"))
        .env("JOB_COMPLETION_INDEX", "3")
        .output()
        .unwrap();
    let err = assert_clean_failure(&o, 1);
    assert!(err.contains("cannot connect"), "{err}");
}
