//! What the user sees while a run goes, drawn through [`crate::progress`]. Only the
//! ticker draws; workers only bump atomics.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{ExecOptions, RunShared};
use crate::config::Stop;
use crate::progress::{Mode, Progress, Unit};
use crate::stats::IntervalPoint;

/// Called when workers start: says the warm-up is excluded and starts the bar.
pub(crate) fn start(p: &Progress, opts: &ExecOptions) {
    let warmup = opts.warmup.0;
    if !warmup.is_zero() {
        p.line(&format!(
            "warm-up {} (excluded from results)",
            humantime::format_duration(warmup)
        ));
    }
    match opts.stop {
        Stop::Duration(d) => p.start(warmup.saturating_add(d.0).as_secs(), Unit::Seconds),
        Stop::Transactions { count, .. } => p.start(count, Unit::Transactions),
    }
}

/// Called on every interval tick: moves the bar.
pub(crate) fn tick(p: &Progress, shared: &RunShared) {
    if p.mode() != Mode::Bar {
        return;
    }
    let ok = shared.live_sum(|l| l.ok.load(Ordering::Relaxed));
    let failed = shared.live_sum(|l| l.failed.load(Ordering::Relaxed));
    let pos = match shared.budget {
        Some(_) => shared.claimed.load(Ordering::Relaxed),
        None => shared.timing.run_start.elapsed().as_secs(),
    };
    p.set(pos, format!("{ok} ok, {failed} failed"));
}

/// `[  10s] tps 1234.5 qps 1234.5 | p50 0.41 p95 0.80 p99 1.20 max 12.30 ms | errors 0 retries 0`
pub(crate) fn format_summary(p: &IntervalPoint, window: Duration) -> String {
    format!(
        "[{:>6.0}s] tps {:>9.1}  qps {:>9.1} | lat ms p50 {:>7.2} p95 {:>7.2} p99 {:>7.2} max {:>8.2} | errors {} retries {}  ({}s window)",
        p.t_s,
        p.tps,
        p.qps,
        p.p50_ms,
        p.p95_ms,
        p.p99_ms,
        p.max_ms,
        p.errors,
        p.retries,
        window.as_secs_f64()
    )
}
