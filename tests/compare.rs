//! `stormbench compare` on reports of real runs: a run against itself, a run slowed on
//! purpose (a server-side sleep made longer), runs of different workloads, files that are
//! not reports.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// A declarative workload `sleepy` under `root` whose one kind sleeps `secs` on the server.
fn sleepy(root: &Path, secs: f64) -> PathBuf {
    let dir = root.join("sleepy");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("workload.yaml"),
        format!(
            "description: a server-side sleep\ntransactions:\n  - name: nap\n    statements:\n      - sql: SELECT pg_sleep({secs})\n"
        ),
    )
    .unwrap();
    root.to_path_buf()
}

/// Runs `sleepy` (from `workloads`) for 3 s and returns the report's path.
fn report(dir: &Path, name: &str, workloads: &Path) -> PathBuf {
    let pg = pg();
    let json = dir.join(format!("{name}.json"));
    ok(pg
        .stormbench("stormbench_test")
        .arg("--workloads-path")
        .arg(workloads)
        .args([
            "-w",
            "sleepy",
            "-d",
            "3s",
            "--workers",
            "2",
            "-s",
            "0",
            "--json",
        ])
        .arg(&json));
    json
}

#[test]
fn a_slowed_run_is_a_regression_and_a_run_against_itself_is_not() {
    let dir = tempdir();
    let fast = report(dir.path(), "fast", &sleepy(&dir.path().join("a"), 0.002));
    // ten times the sleep: the slowed run's every percentile lies far above the fast run's
    // even when a busy machine stretches the fast run's tail (another test runs beside it)
    let slow = report(dir.path(), "slow", &sleepy(&dir.path().join("b"), 0.020));

    a_run_against_itself_is_no_change(dir.path(), &fast);
    the_slowed_run_is_a_regression_in_every_report(dir.path(), &fast, &slow);

    // without --fail-on-regression the verdict is printed and the exit code is 0
    let o = stormbench()
        .arg("compare")
        .arg(&fast)
        .arg(&slow)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o).0.contains("REGRESSION"));
    a_damaged_histogram_is_an_error_and_a_missing_one_is_said(dir.path(), &fast, &slow);

    // the reversed pair is faster, not a regression
    let o = stormbench()
        .arg("compare")
        .arg(&slow)
        .arg(&fast)
        .args(["--fail-on-regression", "5%"])
        .output()
        .unwrap();
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("faster"), "{out}");
}

/// The fast run against itself: no significant change, and a warning only the new
/// report has is said beside the figures.
fn a_run_against_itself_is_no_change(dir: &Path, fast: &Path) {
    let o = stormbench()
        .arg("compare")
        .arg(fast)
        .arg(fast)
        .args(["--fail-on-regression", "5%"])
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(out.contains("Verdict: no significant change"), "{out}");
    // a run whose statement found nothing: the comparison says so beside its figures
    let mut warned = read_json(fast);
    warned["workload"]["warnings"] =
        serde_json::json!(["statement nap[0] returned or changed no row"]);
    let warned_file = dir.join("warned.json");
    std::fs::write(&warned_file, warned.to_string()).unwrap();
    let o = ok(stormbench().arg("compare").arg(fast).arg(&warned_file));
    let (out, _) = text(&o);
    assert!(
        out.contains("in the new run only: statement nap[0] returned or changed no row"),
        "{out}"
    );
}

/// Fast against slow with --fail-on-regression: exit 7, the verdict and the changes in
/// the console, JSON, CSV and HTML reports.
fn the_slowed_run_is_a_regression_in_every_report(dir: &Path, fast: &Path, slow: &Path) {
    let json = dir.join("c.json");
    let (csv, html) = (dir.join("c.csv"), dir.join("c.html"));
    let o = stormbench()
        .arg("compare")
        .arg(fast)
        .arg(slow)
        .args(["--fail-on-regression", "5%", "--json"])
        .arg(&json)
        .arg("--csv")
        .arg(&csv)
        .arg("--html")
        .arg(&html)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(7), "{out}\n{err}");
    assert!(out.contains("Verdict: REGRESSION in nap"), "{out}");
    let c = read_json(&json);
    let nap = &c["kinds"][0];
    assert_eq!(nap["throughput_verdict"], "slower");
    assert!(nap["tps_change_pct"].as_f64().unwrap() < -30.0, "{nap}");
    assert!(nap["tps_p_value"].as_f64().unwrap() < 0.01, "{nap}");
    let p50 = &nap["latency"][0];
    assert_eq!(p50["percentile"], "p50");
    assert!(p50["change_pct"].as_f64().unwrap() > 200.0, "{p50}");
    let p99 = &nap["latency"][2];
    assert_eq!(p99["percentile"], "p99");
    assert!(p99["change_pct"].as_f64().unwrap() > 50.0, "{p99}");
    let table = std::fs::read_to_string(&csv).unwrap();
    assert!(
        table.starts_with("kind,base_tps,new_tps,tps_change_pct"),
        "{table}"
    );
    assert!(table.lines().nth(1).unwrap().starts_with("nap,"), "{table}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Verdict: <span class=\"fail\">REGRESSION in nap"));
    assert!(
        page.contains("<svg"),
        "the page charts the throughput per interval"
    );
}

/// A damaged histogram is an error, never a comparison without latency that passes; a
/// missing one (an older stormbench's report) is compared on throughput, and says so.
fn a_damaged_histogram_is_an_error_and_a_missing_one_is_said(dir: &Path, fast: &Path, slow: &Path) {
    // a damaged histogram is an error, never a comparison without latency that passes
    let mut damaged = read_json(slow);
    damaged["histograms"]["latency"]["nap"] = "HISTFAAAAnotahistogram".into();
    let damaged_path = dir.join("damaged.json");
    std::fs::write(&damaged_path, damaged.to_string()).unwrap();
    let err = fails(
        stormbench()
            .arg("compare")
            .arg(fast)
            .arg(&damaged_path)
            .args(["--fail-on-regression", "5%"]),
        2,
    );
    assert!(
        err.contains("histograms.latency.nap is not a readable HDR histogram"),
        "{err}"
    );
    // a report without it (an older stormbench's) is compared on throughput, and says so
    let mut older = read_json(slow);
    older["histograms"]["latency"]
        .as_object_mut()
        .unwrap()
        .remove("nap");
    std::fs::write(&damaged_path, older.to_string()).unwrap();
    let o = stormbench()
        .arg("compare")
        .arg(fast)
        .arg(&damaged_path)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(
        format!("{out}{err}")
            .contains("latency of nap not compared: the new report does not store its histogram"),
        "{out}\n{err}"
    );
}

#[test]
fn different_workloads_and_non_reports_are_refused() {
    let pg = pg();
    let dir = tempdir();
    let noop = dir.path().join("noop.json");
    ok(pg
        .stormbench("stormbench_test")
        .args(["-w", "noop", "-d", "1s", "--json"])
        .arg(&noop));
    let nap = report(dir.path(), "nap", &sleepy(&dir.path().join("a"), 0.001));
    let err = fails(stormbench().arg("compare").arg(&noop).arg(&nap), 2);
    assert!(
        err.contains("different workloads (noop and sleepy)"),
        "{err}"
    );
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "not json").unwrap();
    let err = fails(stormbench().arg("compare").arg(&junk).arg(&nap), 2);
    assert!(err.contains("not JSON"), "{err}");
    let binary = dir.path().join("binary.json");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x80]).unwrap();
    let err = fails(stormbench().arg("compare").arg(&binary).arg(&nap), 2);
    assert!(
        err.contains("not text") && err.contains("give a run's JSON report"),
        "{err}"
    );
    let err = fails(stormbench().arg("compare").arg(dir.path()).arg(&nap), 2);
    assert!(err.contains("not a regular file"), "{err}");
    let err = fails(
        stormbench()
            .arg("compare")
            .arg(&nap)
            .arg(&nap)
            .args(["--fail-on-regression", "lots"]),
        2,
    );
    assert!(err.contains("give a percentage"), "{err}");
    // the output may not replace an input
    let err = fails(
        stormbench()
            .arg("compare")
            .arg(&nap)
            .arg(&noop)
            .arg("--json")
            .arg(&nap),
        2,
    );
    assert!(!err.is_empty());
}
