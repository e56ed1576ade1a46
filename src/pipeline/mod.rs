//! The measured-run pipeline every running command shares: the embedded cluster and schema
//! step, bounded waits on the server, one measured run with its server-side figures, and
//! the report files.

mod measure;
mod setup;
mod start;
mod waits;

pub(crate) use measure::{checks_exit, measure, run_checks, write_outputs, MeasuredRun};
pub(crate) use setup::{prepare_schema, start_embedded, SchemaReady, SchemaStep};
pub(crate) use start::wait_for_setup;
pub(crate) use waits::{interrupt_token, interrupt_token_saying, within, Waits};

use crate::config::{RunPlan, Stop};

/// What a sweep will run, in one line: its bands, their lengths and the whole time.
pub(crate) fn describe_sweep(plan: &RunPlan, sweep: &crate::config::ProgressivePlan) -> String {
    let bands = sweep.levels.len();
    let per_band = sweep.band_duration.0.saturating_add(sweep.warmup.0);
    let total = per_band.saturating_mul(bands as u32).saturating_add(
        sweep
            .cooldown
            .0
            .saturating_mul(bands.saturating_sub(1) as u32),
    );
    let workers: Vec<String> = sweep.levels.iter().map(|(w, _)| w.to_string()).collect();
    format!(
        "running {} (mode {}) as a progressive sweep: {bands} bands of {} after {} warm-up each ({} cool-down between), workers {}; about {} in all (the duration and workers settings do not apply to a sweep)",
        plan.workload,
        plan.mode,
        sweep.band_duration,
        sweep.warmup,
        sweep.cooldown,
        workers.join(", "),
        crate::config::Dur(total)
    )
}

/// Stop rule description for messages.
pub(crate) fn describe_stop(stop: &Stop) -> String {
    match stop {
        Stop::Duration(d) => format!("for {d}"),
        Stop::Transactions { count, limit: None } => format!("for {count} transactions"),
        Stop::Transactions {
            count,
            limit: Some(d),
        } => format!("for {count} transactions or {d}"),
    }
}
