//! A soak as written: ten minutes at a high open-loop rate with 1 s sampling, against the
//! test cluster. stormbench's resident memory after the first minute must stay within 10%
//! of what it was at that minute, to the last interval.
//!
//! Ten minutes is too long to sit in line with the rest of the suite, so this target is
//! not run by a bare `cargo test`; `scripts/test.sh` runs it beside the others
//! (`cargo test --test soak_ten_minutes`). `STORMBENCH_SOAK_TEST_DURATION` shortens it for
//! a quick look (`90s`, say); the suite runs it whole.

mod common;

use common::*;

#[test]
fn a_ten_minute_run_at_a_high_rate_keeps_its_memory_within_10_percent_after_the_first_minute() {
    let pg = pg();
    let db = pg.loaded("soak_ten_minutes", "simple_read");
    let dir = tempdir();
    let json = dir.path().join("soak.json");
    let cfg = dir.path().join("soak.yaml");
    std::fs::write(&cfg, "sample_interval: 1s\n").unwrap();
    let duration =
        std::env::var("STORMBENCH_SOAK_TEST_DURATION").unwrap_or_else(|_| "10m".to_string());
    let rate = 2000;
    ok(pg
        .stormbench(&db)
        .arg("-c")
        .arg(&cfg)
        .args(["-w", "simple_read", "--workers", "8", "--rate"])
        .arg(rate.to_string())
        .args(["-d", &duration])
        .args(["--history", "off", "-q", "--json"])
        .arg(&json));
    let r = read_json(&json);
    validate_report_schema(&r);

    // every interval kept at full resolution (an hour's window at 1 s)
    let series = r["time_series"].as_array().unwrap();
    let measured = r["measured_s"].as_f64().unwrap();
    assert!(
        series.len() as f64 >= measured - 2.0,
        "{} points for {measured} s",
        series.len()
    );
    assert!(
        series.iter().all(|p| p["len_s"].as_f64() == Some(1.0)),
        "intervals of 1 s"
    );
    // the rate was held: a high rate, not an idle run
    let tps = r["summary"]["tps"].as_f64().unwrap();
    assert!(tps >= rate as f64 * 0.95, "{tps} tps against {rate}");
    assert_eq!(r["summary"]["failed"], 0, "{}", r["summary"]);

    // sampled at the end of every interval but the last, which closes with the run
    let rss: Vec<f64> = series[..series.len() - 1]
        .iter()
        .map(|p| {
            p["client_rss_mb"]
                .as_f64()
                .expect("RSS sampled each interval")
        })
        .collect();
    let at_minute = rss[59.min(rss.len() - 1)];
    let after = &rss[60.min(rss.len() - 1)..];
    let max = after.iter().copied().fold(0.0, f64::max);
    let last = *rss.last().unwrap();
    assert!(
        max <= at_minute * 1.10,
        "resident memory grew after the first minute: {at_minute:.1} MiB at 60 s, \
         {max:.1} MiB at most after it, {last:.1} MiB at the end"
    );
    // what the report says of itself agrees with its series
    let client = &r["health"]["client"];
    assert_eq!(client["rss_mb_last"].as_f64(), Some(last));
    assert!(client["rss_mb_max"].as_f64().unwrap() >= max);
    eprintln!(
        "soak: {} s at {tps:.0} tps, RSS {at_minute:.1} MiB at 60 s, at most {max:.1} MiB after, \
         {last:.1} MiB at the end",
        series.len()
    );
}
