//! Runs the bands one after another, writing the files after each.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::config::{Arrival, ProgressivePlan, RunPlan, Stop};
use crate::core::{Conn, Workload};
use crate::db::{ServerInfo, Target};
use crate::error::{AppError, Exit};
use crate::exec::{Display, ExecOptions, RunResult};
use crate::export::Exporter;
use crate::pipeline::{measure, Measured, Prepared};
use crate::report::{Latency, WorkloadReport};
use crate::scaling::output::{self, ScalingReport, SCHEMA_VERSION};
use crate::scaling::{analyze, Band};

fn band_of(index: usize, workers: usize, connections: usize, m: Measured) -> Band {
    let r: RunResult = m.result;
    let t = &r.totals;
    let secs = r.measured.as_secs_f64();
    let ok = t.ok();
    let failed = t.failed();
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
    }
}

/// Writes the sweep's files; `last` is the final write (the HTML, and streams such as
/// `/dev/stdout`, which get the report once rather than after every band).
fn write_files(r: &ScalingReport, plan: &RunPlan, last: bool) -> Result<(), AppError> {
    let now = |p: &std::path::Path| last || !crate::report::is_stream(p);
    if let Some(p) = plan.json.as_deref().filter(|p| now(p)) {
        output::write_json(r, p)?;
    }
    if let Some(p) = plan.csv.as_deref().filter(|p| now(p)) {
        output::write_csv(r, p)?;
    }
    if let (true, Some(p)) = (last, &plan.html) {
        output::write_html(r, p)?;
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
    prepared: Prepared,
    interrupt: &CancellationToken,
    display: &Display,
    exporter: Option<&Exporter>,
) -> Result<Exit, AppError> {
    let mut report = new_report(plan, sweep, target, workload.as_ref(), server, prepared);
    let started = std::time::Instant::now();
    let n = sweep.levels.len();
    for (i, (workers, connections)) in sweep.levels.iter().copied().enumerate() {
        display.line(&format!(
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
            display,
            exporter,
            i == 0,
        )
        .await;
        let m = match m {
            Ok(m) if !m.result.interrupted => m,
            Ok(_) | Err(AppError::Interrupted(_)) => {
                report.status = "interrupted".into();
                break;
            }
            Err(e) => return Err(e),
        };
        let band = band_of(i, workers, connections, m);
        display.line(&format!(
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
            report.status = "stopped".into();
            report.stopped_by = Some(why);
            break;
        }
        if i + 1 < n && !sweep.cooldown.0.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(sweep.cooldown.0) => {}
                _ = interrupt.cancelled() => {
                    report.status = "interrupted".into();
                    break;
                }
            }
        }
    }
    if report.status == "running" {
        report.status = "completed".into();
    }
    report.wall_s = started.elapsed().as_secs_f64();
    let closed = matches!(plan.exec.arrival, Arrival::Closed);
    report.analysis = Some(analyze(&report.bands, &sweep.stop_when, closed));
    print!("{}", output::render_console(&report));
    write_files(&report, plan, true)?;
    Ok(if report.status == "interrupted" {
        Exit::Interrupted
    } else {
        Exit::Ok
    })
}

/// The sweep's report before its first band.
fn new_report(
    plan: &RunPlan,
    sweep: &ProgressivePlan,
    target: &Target,
    workload: &dyn Workload,
    server: ServerInfo,
    prepared: Prepared,
) -> ScalingReport {
    ScalingReport {
        schema_version: SCHEMA_VERSION,
        kind: "progressive".into(),
        tool: format!("stormbench {}", env!("CARGO_PKG_VERSION")),
        status: "running".into(),
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
