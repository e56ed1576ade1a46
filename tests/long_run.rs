//! A long run in small: a high rate, fine sampling and a short full-resolution window, so
//! the time series merges its older intervals while the run goes on. Its memory stays
//! flat and nothing measured is lost in the merging.

mod common;

use common::*;

#[test]
fn a_high_rate_run_keeps_its_memory_flat_and_its_series_bounded() {
    let pg = pg();
    let dir = tempdir();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(
        &cfg,
        "sample_interval: 100ms\ntime_series_full_resolution: 5s\ncheckpoint_interval: 0s\n",
    )
    .unwrap();
    let json = dir.path().join("r.json");
    ok(pg
        .stormbench("stormbench_test")
        .arg("-c")
        .arg(&cfg)
        .args(["-w", "noop", "-d", "40s", "--workers", "2", "-q", "--json"])
        .arg(&json));
    let r = read_json(&json);
    validate_report_schema(&r);
    let series = r["time_series"].as_array().unwrap();
    // 400 intervals of 100 ms held in at most twice the 50 of the window
    assert!(series.len() <= 101, "{} points", series.len());
    assert!(series.len() >= 50, "{} points", series.len());
    let len_s: f64 = series.iter().map(|p| p["len_s"].as_f64().unwrap()).sum();
    let measured = r["measured_s"].as_f64().unwrap();
    assert!(
        (len_s - measured).abs() <= 0.2,
        "{len_s} s of points, {measured} s measured"
    );
    assert!(
        series[0]["len_s"].as_f64().unwrap() > 0.1,
        "the oldest are merged"
    );
    assert_eq!(
        series.last().unwrap()["len_s"],
        0.1,
        "the newest are as measured"
    );
    let in_series: u64 = series
        .iter()
        .map(|p| p["transactions"].as_u64().unwrap())
        .sum();
    let total = r["summary"]["transactions"].as_u64().unwrap();
    assert!(
        in_series <= total && in_series as f64 >= total as f64 * 0.99,
        "{in_series} in the series, {total} in the run"
    );
    let client = &r["health"]["client"];
    let (first, last, max) = (
        client["rss_mb_first"].as_f64().unwrap(),
        client["rss_mb_last"].as_f64().unwrap(),
        client["rss_mb_max"].as_f64().unwrap(),
    );
    assert!(
        last <= first * 1.10 && max <= first * 1.10,
        "resident memory grew: first {first} MiB, max {max} MiB, last {last} MiB"
    );
}
