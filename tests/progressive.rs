//! Progressive sweeps against the real test cluster.

mod common;

use std::time::Duration;

use common::*;

fn sweep_config(dir: &std::path::Path, bands: u32, band_s: u32) -> std::path::PathBuf {
    let cfg = dir.join("sweep.yaml");
    std::fs::write(
        &cfg,
        format!(
            "workload: simple_read\nprogressive:\n  enabled: true\n  strategy: linear\n  min_workers: 1\n  max_workers: 4\n  \
             bands: {bands}\n  band_duration: {band_s}s\n  warmup: 1s\n  cooldown: 0s\n"
        ),
    )
    .unwrap();
    cfg
}

#[test]
fn three_band_sweep_writes_bands_and_analysis() {
    let pg = pg();
    let db = pg.fresh_db("sweep");
    let dir = tempdir();
    let cfg = sweep_config(dir.path(), 3, 2);
    let (json, csv, html) = (
        dir.path().join("s.json"),
        dir.path().join("s.csv"),
        dir.path().join("s.html"),
    );
    let o = ok(pg
        .stormbench(&db)
        .arg("--config")
        .arg(&cfg)
        .args(["--setup", "--json"])
        .arg(&json)
        .arg("--csv")
        .arg(&csv)
        .arg("--html")
        .arg(&html));
    let (out, _) = text(&o);
    assert!(
        out.contains("stormbench Progressive Scaling") && out.contains("Recommendation:"),
        "{out}"
    );
    assert!(
        out.contains("USL:") && out.contains("Knee:") && out.contains("M/M/c"),
        "{out}"
    );
    let r = read_json(&json);
    assert_eq!(r["kind"], "progressive");
    assert_eq!(r["status"], "completed");
    let bands = r["bands"].as_array().unwrap();
    assert_eq!(bands.len(), 3);
    let conns: Vec<u64> = bands
        .iter()
        .map(|b| b["connections"].as_u64().unwrap())
        .collect();
    assert_eq!(conns, [1, 3, 4]);
    for b in bands {
        assert!(b["tps"].as_f64().unwrap() > 0.0);
        assert!(
            (b["measured_s"].as_f64().unwrap() - 2.0).abs() < 0.2,
            "warm-up excluded: {}",
            b["measured_s"]
        );
        let p50 = b["latency"]["p50_ms"].as_f64().unwrap();
        let p99 = b["latency"]["p99_ms"].as_f64().unwrap();
        assert!(p50 > 0.0 && p50 <= p99);
        // percentiles come from the band's own merged histogram
        let h = stormbench::report::decode_histogram(b["histogram"].as_str().unwrap()).unwrap();
        assert_eq!(h.len(), b["transactions"].as_u64().unwrap());
    }
    let q = &r["analysis"]["queueing"][0];
    assert!(q["measured_latency_ms"].as_f64().unwrap() > 0.0, "{q}");
    let a = &r["analysis"];
    assert_eq!(a["steps"].as_array().unwrap().len(), 3);
    assert!(a["steps"][1]["marginal_tps"].is_number());
    assert!(a["usl"]["r2"].is_number(), "{}", a["usl"]);
    assert!(a["curves"].as_array().unwrap().len() >= 3);
    assert_eq!(a["queueing"].as_array().unwrap().len(), 3);
    assert!(a["recommendation"]["reason"]
        .as_str()
        .unwrap()
        .contains("of the peak"));
    let overhead = (r["wall_s"].as_f64().unwrap() - r["planned_s"].as_f64().unwrap()) / 3.0;
    assert!(overhead < 2.0, "sweep overhead {overhead:.2}s per band");
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv_text.lines().count(), 4, "{csv_text}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("USL fit"));
}

#[test]
fn interrupted_sweep_keeps_finished_bands() {
    let pg = pg();
    let db = pg.fresh_db("sweepint");
    let dir = tempdir();
    let cfg = sweep_config(dir.path(), 4, 3);
    let json = dir.path().join("s.json");
    ok(pg
        .stormbench(&db)
        .arg("--config")
        .arg(&cfg)
        .args(["--setup", "--no-run"]));
    let child = spawn(
        pg.stormbench(&db)
            .arg("--config")
            .arg(&cfg)
            .arg("--json")
            .arg(&json),
    );
    // wait until two bands are in the file, then interrupt the third mid-band
    let mut finished = 0;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(200));
        if let Ok(text) = std::fs::read_to_string(&json) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                finished = v["bands"].as_array().map(|b| b.len()).unwrap_or(0);
                if finished >= 2 {
                    break;
                }
            }
        }
    }
    assert_eq!(
        finished, 2,
        "two bands should have been written while the sweep ran"
    );
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let o = child.wait_with_output().unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(130), "{out}\n{err}");
    let r = read_json(&json);
    assert_eq!(r["status"], "interrupted");
    let bands = r["bands"].as_array().unwrap();
    assert_eq!(
        bands.len(),
        2,
        "the band in flight is dropped, the finished ones stay"
    );
    assert!(bands.iter().all(|b| b["tps"].as_f64().unwrap() > 0.0));
    assert!(r["analysis"]["steps"].as_array().unwrap().len() == 2);
}

#[test]
fn stop_rule_ends_the_sweep() {
    let pg = pg();
    let db = pg.fresh_db("sweepstop");
    let dir = tempdir();
    let cfg = dir.path().join("stop.yaml");
    std::fs::write(
        &cfg,
        "workload: simple_read\nprogressive:\n  enabled: true\n  min_workers: 1\n  max_workers: 8\n  bands: 4\n  \
         band_duration: 1s\n  warmup: 0s\n  stop_when: { p99_ms: 0.001 }\n",
    )
    .unwrap();
    let json = dir.path().join("s.json");
    let o = ok(pg
        .stormbench(&db)
        .arg("--config")
        .arg(&cfg)
        .args(["--setup", "--json"])
        .arg(&json));
    let (out, _) = text(&o);
    let r = read_json(&json);
    assert_eq!(r["status"], "stopped");
    assert_eq!(r["bands"].as_array().unwrap().len(), 1);
    assert!(
        r["stopped_by"]
            .as_str()
            .unwrap()
            .contains("exceeds 0.001 ms"),
        "{}",
        r["stopped_by"]
    );
    assert!(out.contains("stopped early"), "{out}");
}

/// A sweep in which no band had a transaction succeed is no measurement: exit 3, each band
/// quoting an error (before: exit 0 with fits and a recommendation of nothing).
#[test]
fn a_sweep_in_which_nothing_succeeds_exits_3() {
    let pg = pg();
    let dir = tempdir();
    let wl = dir.path().join("always_fails");
    std::fs::create_dir(&wl).unwrap();
    std::fs::write(
        wl.join("workload.yaml"),
        "description: every transaction divides by zero\ntransactions:\n  - name: bad\n    statements:\n      - sql: SELECT 1 / 0\n",
    )
    .unwrap();
    let cfg = dir.path().join("sweep.yaml");
    std::fs::write(
        &cfg,
        "workload: always_fails\nworkloads_path: .\nprogressive:\n  enabled: true\n  strategy: linear\n  \
         min_workers: 1\n  max_workers: 2\n  bands: 2\n  band_duration: 1s\n  warmup: 0s\n  cooldown: 0s\n",
    )
    .unwrap();
    let json = dir.path().join("s.json");
    let o = pg
        .stormbench("postgres")
        .current_dir(dir.path())
        .arg("--config")
        .arg(&cfg)
        .args(["-q", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let err = assert_verdict(&o, 3);
    assert!(
        err.contains("exit code 3: no transaction succeeded in any of the 2 bands")
            && err.contains("band 1 (1 workers): no transaction succeeded")
            && err.contains("division by zero"),
        "{err}"
    );
    // the report of what ran is written
    let r = read_json(&json);
    assert_eq!(r["bands"].as_array().map(Vec::len), Some(2), "{r}");
}
