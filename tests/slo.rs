//! Service-level objectives on real runs against the test cluster: kept, broken by a lock
//! stall and by failing statements, judged per interval with a breach budget, and set
//! from the command line; each with its exit code, console lines and JSON verdict.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use common::*;

/// The exit code of a run that broke an objective.
const SLO_BROKEN: i32 = 6;

fn config(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn verdict(o: &Output, json: &Path) -> (String, serde_json::Value) {
    let (out, err) = text(o);
    let r = read_json(json);
    validate_report_schema(&r);
    (format!("{out}\n{err}"), r)
}

fn gate<'a>(r: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    r["slo"]["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["gate"] == name)
        .unwrap_or_else(|| panic!("no gate {name} in {}", r["slo"]))
}

#[test]
fn objectives_kept_exit_0_with_the_verdict_in_the_report() {
    let pg = pg();
    let dir = tempdir();
    let cfg = config(
        dir.path(),
        "ok.yaml",
        "slo:\n  p99_ms: 10000\n  max_error_pct: 1\n  min_tps: 1\n  kinds:\n    noop: {p50_ms: 10000}\n",
    );
    let json = dir.path().join("r.json");
    let html = dir.path().join("r.html");
    let o = pg
        .stormbench("stormbench_test")
        .arg("-c")
        .arg(&cfg)
        .args(["-w", "noop", "-d", "2s", "--html"])
        .arg(&html)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let (text, r) = verdict(&o, &json);
    assert_eq!(o.status.code(), Some(0), "{text}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<div class=\"head\">") && page.contains(">met</b>objectives"),
        "headline figures with the verdict"
    );
    assert!(
        page.contains("p99 objective"),
        "the objective drawn on the latency chart"
    );
    assert!(text.contains("SLO: MET (4 objectives kept)"), "{text}");
    assert_eq!(r["slo"]["passed"], true);
    assert_eq!(gate(&r, "noop.p50_ms")["passed"], true);
    assert_eq!(r["config"]["slo"]["p99_ms"], 10000.0);

    // a flag over the file: an objective no run can keep (at a fixed rate a transaction's
    // latency counts from its intended start, so it takes more than 0.1 µs however fast
    // the build)
    let o = pg
        .stormbench("stormbench_test")
        .arg("-c")
        .arg(&cfg)
        .args(["-w", "noop", "-d", "1s", "--rate", "500"])
        .args(["--slo", "p99_ms=0.0001", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let (text, r) = verdict(&o, &json);
    assert_eq!(o.status.code(), Some(SLO_BROKEN), "{text}");
    assert!(text.contains("[FAIL] p99_ms"), "{text}");
    assert_eq!(gate(&r, "p99_ms")["limit"], 0.0001);

    // a bad flag or an unknown kind: a configuration error
    let err = fails(
        pg.stormbench("stormbench_test")
            .args(["-w", "noop", "-d", "1s", "--slo", "p98_ms=5"]),
        2,
    );
    assert!(err.contains("unknown objective 'p98_ms'"), "{err}");
    let err = fails(
        pg.stormbench("stormbench_test").args([
            "-w",
            "noop",
            "-d",
            "1s",
            "--slo",
            "nosuch.p99_ms=5",
        ]),
        2,
    );
    assert!(err.contains("slo.kinds.nosuch"), "{err}");
}

#[test]
fn a_lock_stall_breaks_max_latency_unless_the_breach_budget_allows_it() {
    let pg = pg();
    let db = pg.loaded("slo_stall", "simple");
    let dir = tempdir();
    let strict = config(dir.path(), "strict.yaml", "slo:\n  max_ms: 400\n");
    let budget = config(
        dir.path(),
        "budget.yaml",
        "slo:\n  max_ms: 400\n  breach_budget_pct: 50\n",
    );
    for (cfg, expect) in [(&strict, SLO_BROKEN), (&budget, 0)] {
        let json = dir.path().join("r.json");
        let mut child = spawn(
            pg.stormbench(&db)
                .arg("-c")
                .arg(cfg)
                .args([
                    "-w",
                    "simple_write",
                    "-d",
                    "6s",
                    "--workers",
                    "4",
                    "-s",
                    "1s",
                ])
                .arg("--json")
                .arg(&json),
        );
        // one stall of 0.8 s, every writer waiting for the lock (shorter than a sample
        // interval: a whole interval without an answer would be an outage, exit code 5),
        // once the first second is measured (its summary line is out), however long the
        // start took
        let stderr = wait_for_stderr_line(&mut child, "[", Duration::from_secs(60));
        pg.psql(
            &db,
            "BEGIN; LOCK TABLE simple_accounts IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(0.8); COMMIT;",
        );
        let o = child.wait_with_output().unwrap();
        let (text, r) = verdict(&o, &json);
        let text = format!("{text}\n{}", stderr.join().unwrap());
        assert_eq!(o.status.code(), Some(expect), "{text}");
        let g = gate(&r, "max_ms");
        assert!(g["measured"].as_f64().unwrap() >= 600.0, "{g}");
        if expect == SLO_BROKEN {
            assert_eq!(g["passed"], false);
            assert!(
                text.contains("SLO: BROKEN") && text.contains("[FAIL] max_ms"),
                "{text}"
            );
        } else {
            let [broken, all] = [0, 1].map(|i| g["breaching_intervals"][i].as_u64().unwrap());
            assert!(broken >= 1 && broken * 2 <= all, "{g}");
        }
    }
}

#[test]
fn failing_statements_break_the_error_rate() {
    let pg = pg();
    let dir = tempdir();
    let wl = dir.path().join("wl").join("half_fail");
    std::fs::create_dir_all(&wl).unwrap();
    std::fs::write(
        wl.join("workload.yaml"),
        "description: one kind that always fails\ntransactions:\n  - name: good\n    statements:\n      - sql: SELECT 1\n  - name: bad\n    statements:\n      - sql: SELECT 1 / (random() * 0)::int\n",
    )
    .unwrap();
    let cfg = config(
        dir.path(),
        "err.yaml",
        "slo:\n  max_error_pct: 5\n  kinds:\n    good: {max_error_pct: 0}\n    bad: {max_error_pct: 0}\n",
    );
    let json = dir.path().join("r.json");
    let html = dir.path().join("r.html");
    let o = pg
        .stormbench("stormbench_test")
        .arg("-c")
        .arg(&cfg)
        .arg("--html")
        .arg(&html)
        .arg("--workloads-path")
        .arg(dir.path().join("wl"))
        .args(["-w", "half_fail", "-d", "1s", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let (text, r) = verdict(&o, &json);
    assert_eq!(o.status.code(), Some(SLO_BROKEN), "{text}");
    let run = gate(&r, "max_error_pct");
    let measured = run["measured"].as_f64().unwrap();
    assert!((30.0..70.0).contains(&measured), "{run}");
    assert_eq!(run["passed"], false);
    assert_eq!(gate(&r, "good.max_error_pct")["passed"], true);
    assert_eq!(gate(&r, "bad.max_error_pct")["measured"], 100.0);
    assert!(text.contains("[FAIL] bad.max_error_pct"), "{text}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("Service-level objectives: <span class=\"fail\">broken</span>")
            && page.contains("<td>bad.max_error_pct</td>"),
        "the HTML report shows the verdict"
    );
}

#[test]
fn the_report_samples_stormbench_s_own_footprint() {
    let pg = pg();
    let dir = tempdir();
    let json = dir.path().join("r.json");
    let o = pg
        .stormbench("stormbench_test")
        .args(["-w", "noop", "-d", "3s", "--workers", "8", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let (text, r) = verdict(&o, &json);
    assert!(o.status.success(), "{text}");
    let c = &r["health"]["client"];
    let (first, max) = (
        c["rss_mb_first"].as_f64().unwrap(),
        c["rss_mb_max"].as_f64().unwrap(),
    );
    assert!(first > 1.0 && max >= first && max < 1024.0, "{c}");
    assert!(
        c["fds_max"].as_u64().unwrap() >= 8,
        "8 connections are 8 sockets: {c}"
    );
    let sampled = r["time_series"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["client_rss_mb"].is_number())
        .count();
    assert!(sampled >= 2, "{}", r["time_series"]);
    assert!(text.contains("Client:        stormbench used"), "{text}");
}
