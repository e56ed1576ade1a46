//! Judging a finished run against its service-level objectives (`slo:`).

use serde::Serialize;

use super::{KindReport, Latency, Report};
use crate::config::{Objectives, RawSlo};

/// The verdict on every objective.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct SloReport {
    /// Every objective kept.
    pub(crate) passed: bool,
    /// One line per objective, broken ones first.
    pub(crate) gates: Vec<Gate>,
}

/// One objective and what the run measured against it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct Gate {
    /// `p99_ms`, `new_order.p99_ms`, `max_lag_ms`, ...
    pub(crate) gate: String,
    /// The limit (a ceiling, or for `min_tps` a floor).
    pub(crate) limit: f64,
    /// What the run measured (for an objective judged by interval: the worst interval).
    pub(crate) measured: f64,
    pub(crate) passed: bool,
    /// How far past the limit, percent of it (0 when kept).
    pub(crate) over_pct: f64,
    /// Judged interval by interval (`breach_budget_pct`): intervals that broke it, of all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) breaching_intervals: Option<(u64, u64)>,
}

impl Gate {
    fn ceiling(gate: String, limit: f64, measured: f64) -> Gate {
        let passed = measured <= limit;
        Gate {
            gate,
            limit,
            measured,
            passed,
            over_pct: past(passed, measured - limit, limit),
            breaching_intervals: None,
        }
    }

    fn floor(gate: String, limit: f64, measured: f64) -> Gate {
        let passed = measured >= limit;
        Gate {
            gate,
            limit,
            measured,
            passed,
            over_pct: past(passed, limit - measured, limit),
            breaching_intervals: None,
        }
    }

    /// One line for the console: `p99_ms 63.20 > 50 (+26.4%)`.
    pub(crate) fn line(&self) -> String {
        if self.gate == "max_workload_warnings" {
            let (rel, see) = if self.passed {
                ("<=", "")
            } else {
                (">", " (see Workload Warnings)")
            };
            return format!("{} {} {rel} {}{see}", self.gate, self.measured, self.limit);
        }
        let (rel, unit) = match self.gate.as_str() {
            g if g.ends_with("min_tps") => (if self.passed { ">=" } else { "<" }, " tps"),
            g if g.ends_with("_pct") => (if self.passed { "<=" } else { ">" }, "%"),
            _ => (if self.passed { "<=" } else { ">" }, " ms"),
        };
        let mut s = format!(
            "{} {:.2}{unit} {rel} {}{unit}",
            self.gate, self.measured, self.limit
        );
        if !self.passed {
            s.push_str(&format!(" (by {:.1}%)", self.over_pct));
        }
        if let Some((broken, all)) = self.breaching_intervals {
            s.push_str(&format!("; {broken} of {all} intervals broke it"));
        }
        s
    }
}

/// How far past `limit` a broken objective is, percent of the limit (100 for a limit of 0).
fn past(passed: bool, by: f64, limit: f64) -> f64 {
    match (passed, limit > 0.0) {
        (true, _) => 0.0,
        (false, true) => by / limit * 100.0,
        (false, false) => 100.0,
    }
}

/// Judges `report` against `slo`.
pub(crate) fn evaluate(slo: &RawSlo, report: &Report) -> SloReport {
    let mut gates = Vec::new();
    let run = slo.run();
    match slo.breach_budget_pct {
        Some(budget) => by_interval(&run, budget, report, &mut gates),
        None => latency_gates("", &run, &report.summary.latency, &mut gates),
    }
    // p99.9 has no per-interval figure: with a breach budget it is judged on the whole run
    if slo.breach_budget_pct.is_some() {
        if let Some(limit) = run.p999_ms {
            gates.push(Gate::ceiling(
                "p999_ms".into(),
                limit,
                report.summary.latency.p999_ms,
            ));
        }
    }
    let s = &report.summary;
    rate_gates(
        "",
        &run,
        s.failed,
        s.transactions + s.failed,
        s.tps,
        &mut gates,
    );
    for (kind, o) in &slo.kinds {
        let Some(k) = report.transactions.iter().find(|k| &k.name == kind) else {
            continue;
        };
        kind_gates(kind, o, k, &mut gates);
    }
    if let Some(limit) = slo.max_workload_warnings {
        gates.push(Gate::ceiling(
            "max_workload_warnings".into(),
            limit,
            report.workload.warnings.len() as f64,
        ));
    }
    if let (Some(limit), Some(schedule)) = (slo.max_lag_ms, &report.schedule) {
        gates.push(Gate::ceiling(
            "max_lag_ms".into(),
            limit,
            schedule.lag.max_ms,
        ));
    }
    gates.sort_by_key(|g| g.passed);
    SloReport {
        passed: gates.iter().all(|g| g.passed),
        gates,
    }
}

fn latency_gates(prefix: &str, o: &Objectives, l: &Latency, gates: &mut Vec<Gate>) {
    for (name, limit, measured) in [
        ("p50_ms", o.p50_ms, l.p50_ms),
        ("p95_ms", o.p95_ms, l.p95_ms),
        ("p99_ms", o.p99_ms, l.p99_ms),
        ("p999_ms", o.p999_ms, l.p999_ms),
        ("max_ms", o.max_ms, l.max_ms),
    ] {
        if let Some(limit) = limit {
            gates.push(Gate::ceiling(format!("{prefix}{name}"), limit, measured));
        }
    }
}

fn rate_gates(
    prefix: &str,
    o: &Objectives,
    failed: u64,
    attempted: u64,
    tps: f64,
    gates: &mut Vec<Gate>,
) {
    if let Some(limit) = o.max_error_pct {
        let pct = if attempted == 0 {
            0.0
        } else {
            failed as f64 / attempted as f64 * 100.0
        };
        gates.push(Gate::ceiling(format!("{prefix}max_error_pct"), limit, pct));
    }
    if let Some(limit) = o.min_tps {
        gates.push(Gate::floor(format!("{prefix}min_tps"), limit, tps));
    }
}

fn kind_gates(kind: &str, o: &Objectives, k: &KindReport, gates: &mut Vec<Gate>) {
    let prefix = format!("{kind}.");
    latency_gates(&prefix, o, &k.latency, gates);
    rate_gates(
        &prefix,
        o,
        k.failed,
        k.transactions + k.failed,
        k.tps,
        gates,
    );
}

/// The run's p50/p95/p99/max objectives judged per sample interval: kept when the share
/// of intervals (with transactions) that broke it is within `budget` percent.
fn by_interval(o: &Objectives, budget: f64, report: &Report, gates: &mut Vec<Gate>) {
    let points: Vec<_> = report
        .time_series
        .iter()
        .filter(|p| p.transactions > 0)
        .collect();
    let all = points.len() as u64;
    for (name, limit, pick) in [
        (
            "p50_ms",
            o.p50_ms,
            (|p| p.p50_ms) as fn(&crate::stats::IntervalPoint) -> f64,
        ),
        ("p95_ms", o.p95_ms, |p| p.p95_ms),
        ("p99_ms", o.p99_ms, |p| p.p99_ms),
        ("max_ms", o.max_ms, |p| p.max_ms),
    ] {
        let Some(limit) = limit else { continue };
        let broken = points.iter().filter(|p| pick(p) > limit).count() as u64;
        let worst = points.iter().map(|p| pick(p)).fold(0.0, f64::max);
        // by time: a point that merges older intervals weighs what it spans
        let secs: f64 = points.iter().map(|p| p.len_s).sum();
        let broken_s: f64 = points
            .iter()
            .filter(|p| pick(p) > limit)
            .map(|p| p.len_s)
            .sum();
        let share = if secs > 0.0 {
            broken_s / secs * 100.0
        } else {
            0.0
        };
        let passed = share <= budget;
        gates.push(Gate {
            gate: name.into(),
            limit,
            measured: worst,
            passed,
            over_pct: past(passed, worst - limit, limit),
            breaching_intervals: Some((broken, all)),
        });
    }
}
