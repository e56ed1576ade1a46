//! A progressive sweep: its bands between the bounds, and their checks.

use std::time::Duration;

use super::plan::ProgressivePlan;
use super::raw::{RawProgressive, StopWhen, Strategy};
use super::validate::{dur_in, in_range, MAX_CONNECTIONS, MAX_INTERVAL, MAX_RUN_TIME, MAX_WORKERS};
use super::Dur;

/// Band levels of a strategy between `min` and `max` workers.
pub fn levels(
    strategy: Strategy,
    min: u64,
    max: u64,
    bands: Option<u64>,
    step: Option<u64>,
) -> Vec<u64> {
    let mut v: Vec<u64> = match strategy {
        Strategy::Linear => match (step, bands) {
            (Some(s), _) => (0..)
                .map(|i| min + i * s.max(1))
                .take_while(|w| *w <= max)
                .collect(),
            (None, b) => {
                let b = b.unwrap_or(5).max(2);
                (0..b)
                    .map(|i| min + ((max - min) as f64 * i as f64 / (b - 1) as f64).round() as u64)
                    .collect()
            }
        },
        Strategy::Exponential => std::iter::successors(Some(min), |w| w.checked_mul(2))
            .take_while(|w| *w <= max)
            .collect(),
        Strategy::Fibonacci => {
            let mut fib = vec![min];
            let (mut a, mut b) = (1u64, 2u64);
            while b <= max {
                if b > min {
                    fib.push(b);
                }
                (a, b) = (b, a + b);
            }
            fib
        }
    };
    if v.last() != Some(&max) && max > min {
        v.push(max);
    }
    v.dedup();
    v
}

pub(super) fn progressive_plan(
    p: &RawProgressive,
    errors: &mut Vec<String>,
) -> Option<ProgressivePlan> {
    if !p.enabled.unwrap_or(false) {
        return None;
    }
    let before = errors.len();
    let strategy = p.strategy.unwrap_or(Strategy::Linear);
    let min = in_range(
        errors,
        "progressive.min_workers",
        p.min_workers.unwrap_or(1),
        1,
        MAX_WORKERS,
    );
    let max = in_range(
        errors,
        "progressive.max_workers",
        p.max_workers.unwrap_or(min.max(1) * 16),
        1,
        MAX_WORKERS,
    );
    if max < min {
        errors.push(format!("progressive.max_workers: {max} is below min_workers {min}; raise max_workers or lower min_workers"));
    }
    if p.bands.is_some() && p.step.is_some() {
        errors.push("progressive.step: give either bands or step, not both".into());
    }
    if strategy != Strategy::Linear && (p.bands.is_some() || p.step.is_some()) {
        errors.push("progressive.bands: bands and step apply to strategy linear only".into());
    }
    if p.bands.is_some_and(|b| b < 2) {
        errors.push("progressive.bands: a sweep needs at least 2 bands".into());
    }
    if p.step == Some(0) {
        errors.push("progressive.step: must be at least 1".into());
    }
    let band_duration = dur_in(
        errors,
        "progressive.band_duration",
        p.band_duration.unwrap_or(Dur(Duration::from_secs(30))),
        Duration::from_millis(500),
        MAX_RUN_TIME,
    );
    let warmup = dur_in(
        errors,
        "progressive.warmup",
        p.warmup.unwrap_or(Dur(Duration::from_secs(5))),
        Duration::ZERO,
        MAX_RUN_TIME,
    );
    let cooldown = dur_in(
        errors,
        "progressive.cooldown",
        p.cooldown.unwrap_or(Dur(Duration::ZERO)),
        Duration::ZERO,
        MAX_INTERVAL,
    );
    stop_when_rule(p.stop_when, errors);
    if errors.len() > before {
        return None;
    }
    let workers = levels(strategy, min, max.max(min), p.bands, p.step);
    if workers.len() < 2 {
        errors.push(format!("progressive: the plan has {} band(s) between {min} and {max} workers; widen the range or add bands", workers.len()));
        return None;
    }
    let conns = band_connections(p, &workers, min, max, errors)?;
    Some(ProgressivePlan {
        strategy,
        levels: workers
            .iter()
            .zip(&conns)
            .map(|(w, c)| (*w as usize, *c as usize))
            .collect(),
        band_duration,
        warmup,
        cooldown,
        stop_when: p.stop_when.unwrap_or_default(),
    })
}

/// `progressive.stop_when`: a positive p99 bound, an error rate within 0..1.
fn stop_when_rule(stop_when: Option<StopWhen>, errors: &mut Vec<String>) {
    if let Some(s) = stop_when {
        if s.p99_ms.is_some_and(|x| !x.is_finite() || x <= 0.0) {
            errors.push(
                "progressive.stop_when.p99_ms: must be a positive, finite number of milliseconds"
                    .into(),
            );
        }
        if s.error_rate.is_some_and(|x| !(0.0..=1.0).contains(&x)) {
            errors.push(
                "progressive.stop_when.error_rate: must be between 0 and 1 (e.g. 0.01 for 1%)"
                    .into(),
            );
        }
    }
}

/// Connections of each band: tied to workers, or spread between `min_connections` and
/// `max_connections` as workers are between their bounds.
fn band_connections(
    p: &RawProgressive,
    workers: &[u64],
    min: u64,
    max: u64,
    errors: &mut Vec<String>,
) -> Option<Vec<u64>> {
    let conns: Vec<u64> = match (p.min_connections, p.max_connections) {
        (None, None) => workers.to_vec(),
        (lo, hi) => {
            let lo = lo.unwrap_or(1).max(1);
            let hi = hi.unwrap_or(lo).max(lo);
            if hi > MAX_CONNECTIONS {
                errors.push(format!(
                    "progressive.max_connections: must be at most {MAX_CONNECTIONS}"
                ));
                return None;
            }
            workers
                .iter()
                .map(|w| {
                    let f = if max > min {
                        (w - min) as f64 / (max - min) as f64
                    } else {
                        1.0
                    };
                    lo + ((hi - lo) as f64 * f).round() as u64
                })
                .collect()
        }
    };
    if conns.iter().any(|c| *c > MAX_CONNECTIONS) {
        errors.push(format!("progressive: connections tied to workers exceed {MAX_CONNECTIONS}; set progressive.max_connections"));
        return None;
    }
    Some(conns)
}
