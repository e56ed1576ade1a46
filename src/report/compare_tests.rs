//! Unit tests of the comparison's statistics.

use super::*;

#[test]
fn autocorrelation_shrinks_the_sample() {
    let iid: Vec<f64> = (0..100).map(|i| ((i * 7919) % 13) as f64).collect();
    let (_, _, n_iid) = effective_stats(&iid);
    let trending: Vec<f64> = (0..100).map(|i| (i / 10) as f64).collect();
    let (_, _, n_trend) = effective_stats(&trending);
    assert!(n_iid > 50.0, "{n_iid}");
    assert!(n_trend < 10.0, "{n_trend}");
}

#[test]
fn welch_sees_a_shift_and_not_noise() {
    let a: Vec<f64> = (0..60).map(|i| 1000.0 + ((i * 37) % 11) as f64).collect();
    let same: Vec<f64> = (0..60).map(|i| 1000.0 + ((i * 53) % 11) as f64).collect();
    let slower: Vec<f64> = a.iter().map(|v| v * 0.9).collect();
    assert!(welch(&a, &same).2 > 0.05);
    assert!(welch(&a, &slower).2 < 0.001);
    assert_eq!(welch(&a, &a).2, 1.0);
}

fn facts(rates: Vec<f64>) -> RunFacts {
    RunFacts {
        workload: "w".into(),
        mode: "m".into(),
        scale: 1,
        tool: "t".into(),
        server: "s".into(),
        kinds: vec![("k".into(), rates)],
        latency: vec![None],
        warnings: Vec::new(),
    }
}

/// A run whose statements stopped finding rows looks faster: the comparison says which
/// run's statements found nothing, beside the figures.
#[test]
fn a_warning_of_one_run_only_is_said() {
    let mut base = facts(vec![100.0; 20]);
    let mut new = facts(vec![150.0; 20]);
    let both = "statement a returned or changed no row".to_string();
    let only = "statement b returned or changed no row".to_string();
    base.warnings = vec![both.clone()];
    new.warnings = vec![both, only];
    let c = compare(&base, &new, 0.05, 5.0, None).unwrap();
    assert_eq!(
        c.warnings[0],
        "in the new run only: statement b returned or changed no row"
    );
    assert!(!c.warnings.iter().any(|w| w.contains("statement a")));
}

fn row(tps: f64, p99: f64) -> crate::history::RunRow {
    let v = serde_json::json!({
        "tool": "t", "status": "completed", "started_at": "x",
        "config": {"workload": "w", "mode": "m", "scale": 1},
        "transactions": [{"name": "k", "tps": tps, "latency": {"p99_ms": p99}}],
    });
    crate::history::RunRow::of_report(&v, false).unwrap()
}

#[test]
fn run_to_run_noise_from_the_history_widens_the_test() {
    // two steady runs 2% apart: within-run variation alone calls that significant
    let a: Vec<f64> = (0..30).map(|i| 1000.0 + ((i * 37) % 5) as f64).collect();
    let b: Vec<f64> = a.iter().map(|v| v * 1.02).collect();
    let alone = compare(&facts(a.clone()), &facts(b.clone()), 0.05, 5.0, None).unwrap();
    assert!(alone.kinds[0].tps_p_value < 0.001);
    assert!(alone.noise_note().contains("unknown"));
    // earlier runs of the configuration that differ by about 2% from each other
    let rows: Vec<_> = [990.0, 1010.0, 1000.0, 1025.0, 985.0]
        .iter()
        .map(|t| row(*t, 2.0))
        .collect();
    let refs: Vec<&crate::history::RunRow> = rows.iter().collect();
    let noise = Noise::learn(&refs).unwrap();
    assert_eq!(noise.runs, 5);
    assert!((noise.kinds[0].tps_sd_pct - 1.58).abs() < 0.05, "{noise:?}");
    let c = compare(&facts(a.clone()), &facts(b), 0.05, 5.0, Some(noise.clone())).unwrap();
    assert!(c.kinds[0].tps_p_value > 0.05, "{:?}", c.kinds[0]);
    assert!(c.kinds[0].tps_p_value_within < 0.001);
    assert_eq!(c.kinds[0].throughput_verdict, "no significant change");
    assert!(c.noise_note().contains("over 5 earlier runs"));
    // a 20% drop stands out of that noise
    let slow: Vec<f64> = a.iter().map(|v| v * 0.8).collect();
    let c = compare(&facts(a), &facts(slow), 0.05, 5.0, Some(noise)).unwrap();
    assert!(c.kinds[0].tps_p_value < 0.01, "{:?}", c.kinds[0]);
    assert!(c.regressed);
    // too few runs teach nothing
    assert_eq!(Noise::learn(&refs[..2]), None);
}
