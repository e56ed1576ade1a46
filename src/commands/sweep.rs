//! Runs the bands one after another, writing the files after each.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::config::{Arrival, ProgressivePlan, RunPlan, Stop};
use crate::core::{Conn, Workload};
use crate::db::{ServerInfo, Target};
use crate::error::{AppError, Exit};
use crate::exec::{ExecOptions, RunResult};
use crate::export::Exporter;
use crate::pipeline::{measure, MeasuredRun, SchemaReady};
use crate::progress::Progress;
use crate::report::{Document as _, Format, Latency, WorkloadReport};
use crate::scaling::output::{ScalingReport, SweepStatus, SCHEMA_VERSION};
use crate::scaling::{analyze, Band};

pub(super) fn band_of(index: usize, workers: usize, connections: usize, m: MeasuredRun) -> Band {
    let r: RunResult = m.result;
    let t = &r.totals;
    let secs = r.measured.as_secs_f64();
    let ok = t.ok();
    let failed = t.failed();
    if ok == 0 && failed > 0 {
        // a band's report keeps counts only: say here what the errors were
        let first = t.error_samples.values().flatten().next();
        log::warn!(
            "band {} ({workers} workers): no transaction succeeded, {failed} failed{}",
            index + 1,
            first.map_or(String::new(), |e| format!(", e.g. {e}"))
        );
    }
    for f in &m.findings {
        log::warn!("band {} ({workers} workers): {f}", index + 1);
    }
    let overall = t.overall_latency();
    Band {
        index,
        workers,
        connections,
        measured_s: secs,
        transactions: ok,
        failed,
        error_rate: if ok + failed == 0 {
            0.0
        } else {
            failed as f64 / (ok + failed) as f64
        },
        tps: if secs > 0.0 { ok as f64 / secs } else { 0.0 },
        qps: if secs > 0.0 {
            t.queries() as f64 / secs
        } else {
            0.0
        },
        latency: Latency::of(&overall),
        service: Latency::of(&t.overall_service()),
        pool_wait: Latency::of(&t.pool_wait),
        retries: t.retries(),
        histogram: crate::report::encode_histogram(&overall),
        database_stats: m.database_stats,
        figures: m.figures,
    }
}

/// Writes a sweep's files (progressive or of a parameter); `last` is the final write (the
/// HTML, and streams such as `/dev/stdout`, which get the report once rather than after
/// every band).
pub(super) fn write_files(
    r: &impl crate::report::Document,
    plan: &RunPlan,
    last: bool,
) -> Result<(), AppError> {
    let now = |p: &&std::path::Path| last || !crate::report::is_stream(p);
    for (format, path) in [
        (Format::Json, plan.json.as_deref().filter(now)),
        (Format::Csv, plan.csv.as_deref().filter(now)),
        (Format::Html, plan.html.as_deref().filter(|_| last)),
    ] {
        if let Some(p) = path {
            crate::report::document::write(r, format, p)?;
        }
    }
    Ok(())
}

/// Why a band ends the sweep, if it breaks the stop rule.
fn breaks_rule(b: &Band, s: &ProgressivePlan) -> Option<String> {
    if let Some(l) = s.stop_when.p99_ms.filter(|l| b.latency.p99_ms > *l) {
        return Some(format!(
            "band {} ({} connections) p99 {:.2} ms exceeds {l} ms",
            b.index + 1,
            b.connections,
            b.latency.p99_ms
        ));
    }
    if let Some(l) = s.stop_when.error_rate.filter(|l| b.error_rate > *l) {
        return Some(format!(
            "band {} ({} connections) error rate {:.4} exceeds {l}",
            b.index + 1,
            b.connections,
            b.error_rate
        ));
    }
    None
}

/// Runs the sweep and prints the analysis; an interrupt keeps every finished band.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn sweep(
    plan: &RunPlan,
    base: &ExecOptions,
    sweep: &ProgressivePlan,
    target: &Target,
    admin: &Conn,
    workload: Arc<dyn Workload>,
    server: ServerInfo,
    prepared: SchemaReady,
    interrupt: &CancellationToken,
    view: &Progress,
    exporter: Option<&Exporter>,
) -> Result<Exit, AppError> {
    let mut report = new_report(plan, sweep, target, workload.as_ref(), server, prepared);
    let started = std::time::Instant::now();
    let n = sweep.levels.len();
    for (i, (workers, connections)) in sweep.levels.iter().copied().enumerate() {
        view.line(&format!(
            "band {}/{n}: {workers} workers over {connections} connections, {} after {} warm-up",
            i + 1,
            sweep.band_duration,
            sweep.warmup
        ));
        if let Some(e) = exporter {
            e.set_band(workers, connections);
        }
        let opts = band_options(base, sweep, workers, connections);
        let m = measure(
            plan,
            target,
            admin,
            &workload,
            &opts,
            interrupt,
            view,
            exporter,
            i == 0,
            None,
        )
        .await;
        let m = match m {
            Ok(m) if !m.result.interrupted => m,
            Ok(_) | Err(AppError::Interrupted(_)) => {
                report.status = SweepStatus::Interrupted;
                break;
            }
            Err(e) => return Err(e),
        };
        let band = band_of(i, workers, connections, m);
        view.line(&format!(
            "  band {}: {:.1} tps, p99 {:.3} ms, {} failed",
            i + 1,
            band.tps,
            band.latency.p99_ms,
            band.failed
        ));
        let stop = breaks_rule(&band, sweep);
        report.bands.push(band);
        report.planned_s += (sweep.band_duration.0 + sweep.warmup.0).as_secs_f64()
            + if i > 0 {
                sweep.cooldown.0.as_secs_f64()
            } else {
                0.0
            };
        report.wall_s = started.elapsed().as_secs_f64();
        write_files(&report, plan, false)?;
        if let Some(why) = stop {
            report.status = SweepStatus::Stopped;
            report.stopped_by = Some(why);
            break;
        }
        if i + 1 < n && !sweep.cooldown.0.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(sweep.cooldown.0) => {}
                _ = interrupt.cancelled() => {
                    report.status = SweepStatus::Interrupted;
                    break;
                }
            }
        }
    }
    if report.status == SweepStatus::Running {
        report.status = SweepStatus::Completed;
    }
    report.wall_s = started.elapsed().as_secs_f64();
    let closed = matches!(plan.exec.arrival, Arrival::Closed);
    report.analysis = Some(analyze(&report.bands, &sweep.stop_when, closed));
    out!("{}", report.console());
    write_files(&report, plan, true)?;
    Ok(sweep_exit(report.status, &report.bands))
}

/// The exit code of a finished sweep: interrupted, or 3 when no band had a transaction
/// succeed (its fits and recommendation are then of nothing; before, such a sweep exited 0).
pub(super) fn sweep_exit<'a>(
    status: SweepStatus,
    bands: impl IntoIterator<Item = &'a Band>,
) -> Exit {
    if status == SweepStatus::Interrupted {
        return Exit::Interrupted;
    }
    let (mut ok, mut failed, mut ran) = (0, 0, 0);
    for b in bands {
        ok += b.transactions;
        failed += b.failed;
        ran += 1;
    }
    if ran > 0 && ok == 0 {
        errln!(
            "exit code 3: no transaction succeeded in any of the {ran} bands ({failed} failed; each band's warning quotes an error)"
        );
        return Exit::NothingSucceeded;
    }
    Exit::Ok
}

/// The sweep's report before its first band.
fn new_report(
    plan: &RunPlan,
    sweep: &ProgressivePlan,
    target: &Target,
    workload: &dyn Workload,
    server: ServerInfo,
    prepared: SchemaReady,
) -> ScalingReport {
    ScalingReport {
        schema_version: SCHEMA_VERSION,
        kind: "progressive".into(),
        tool: crate::report::tool_name(),
        status: SweepStatus::Running,
        stopped_by: None,
        started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        database: target.display.clone(),
        server,
        config: plan.to_report_json(),
        workload: WorkloadReport::new(plan, workload, prepared.marker, prepared.load),
        plan: sweep.clone(),
        bands: Vec::new(),
        wall_s: 0.0,
        planned_s: 0.0,
        analysis: None,
    }
}

/// The engine's options of one band: its workers and connections, the band's duration
/// and warm-up, no periodic summary.
fn band_options(
    base: &ExecOptions,
    sweep: &ProgressivePlan,
    workers: usize,
    connections: usize,
) -> ExecOptions {
    ExecOptions {
        workers,
        connections,
        stop: Stop::Duration(sweep.band_duration),
        warmup: sweep.warmup,
        summary_interval: None,
        ..base.clone()
    }
}
