//! Runs a parameter sweep: one band per value of a workload parameter, each with the
//! workload built for that value and sessions started with its settings; the files are
//! rewritten after every band, and the curve is read once the sweep is over.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::config::{ParamSweepPlan, RunPlan, Stop};
use crate::core::{Conn, Workload};
use crate::db::{ServerInfo, Target};
use crate::error::{AppError, Exit};
use crate::exec::ExecOptions;
use crate::pipeline::{measure, SchemaReady};
use crate::progress::Progress;
use crate::report::{Document as _, WorkloadReport};
use crate::scaling::output::SweepStatus;
use crate::scaling::params::{read_curve, ParamBand, ParamSweepReport, SCHEMA_VERSION};
use crate::scaling::Band;

/// What the sweep runs against.
pub(crate) struct SweepCtx<'a> {
    pub(crate) plan: &'a RunPlan,
    pub(crate) base: &'a ExecOptions,
    pub(crate) target: &'a Target,
    pub(crate) admin: &'a Conn,
    pub(crate) workload: Arc<dyn Workload>,
    pub(crate) server: ServerInfo,
    pub(crate) interrupt: &'a CancellationToken,
    pub(crate) view: &'a Progress,
}

/// Runs every band of `sweep`; an interrupt keeps the finished bands.
pub(crate) async fn run(
    c: SweepCtx<'_>,
    sweep: &ParamSweepPlan,
    prepared: SchemaReady,
) -> Result<Exit, AppError> {
    let plan = c.plan;
    let mut report = new_report(&c, sweep, prepared);
    let started = std::time::Instant::now();
    let n = sweep.values.len();
    let opts = ExecOptions {
        stop: Stop::Duration(sweep.band_duration),
        warmup: sweep.warmup,
        summary_interval: None,
        ..c.base.clone()
    };
    for (i, (value, workload)) in sweep.values.iter().zip(&sweep.workloads).enumerate() {
        c.view.line(&format!(
            "band {}/{n}: {} = {value}, {} after {} warm-up",
            i + 1,
            sweep.param,
            sweep.band_duration,
            sweep.warmup
        ));
        // the band's sessions start with its own settings (a later -c wins)
        let target = c.target.with_settings(&workload.settings());
        let m = measure(
            plan,
            &target,
            c.admin,
            workload,
            &opts,
            c.interrupt,
            c.view,
            None,
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
        let band = super::sweep::band_of(i, opts.workers, opts.connections, m);
        show_band(c.view, i, &band);
        report.bands.push(ParamBand {
            value: value.clone(),
            band,
        });
        report.wall_s = started.elapsed().as_secs_f64();
        super::sweep::write_files(&report, plan, false)?;
    }
    if report.status == SweepStatus::Running {
        report.status = SweepStatus::Completed;
    }
    report.wall_s = started.elapsed().as_secs_f64();
    report.curve = read_curve(&report.bands, &sweep.figure, &sweep.at);
    warn_if_unmeasured(&report, sweep);
    out!("{}", report.console());
    super::sweep::write_files(&report, plan, true)?;
    Ok(super::sweep::sweep_exit(
        report.status,
        report.bands.iter().map(|b| &b.band),
    ))
}

/// The sweep's report before its first band.
fn new_report(c: &SweepCtx<'_>, sweep: &ParamSweepPlan, prepared: SchemaReady) -> ParamSweepReport {
    ParamSweepReport {
        schema_version: SCHEMA_VERSION,
        kind: "parameter".into(),
        tool: crate::report::tool_name(),
        status: SweepStatus::Running,
        started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        database: c.target.display.clone(),
        server: c.server.clone(),
        config: c.plan.to_report_json(),
        workload: WorkloadReport::new(c.plan, c.workload.as_ref(), prepared.marker, prepared.load),
        param: sweep.param.clone(),
        figure: sweep.figure.clone(),
        bands: Vec::new(),
        curve: Vec::new(),
        wall_s: 0.0,
    }
}

/// The band's line: its throughput, p99, failures and figures.
fn show_band(view: &Progress, i: usize, band: &Band) {
    let shown = band
        .figures
        .iter()
        .map(|f| format!(", {} {}", f.name, crate::report::figure(f.value)))
        .collect::<String>();
    view.line(&format!(
        "  band {}: {:.1} tps, p99 {:.3} ms, {} failed{shown}",
        i + 1,
        band.tps,
        band.latency.p99_ms,
        band.failed
    ));
}

/// Warns when no band measured the figure the curve is read from.
fn warn_if_unmeasured(report: &ParamSweepReport, sweep: &ParamSweepPlan) {
    if !report.bands.is_empty()
        && report
            .bands
            .iter()
            .all(|b| b.figure(&sweep.figure).is_none())
    {
        log::warn!(
            "sweep.figure: no band measured '{}'; figures measured: {}; the curve is empty",
            sweep.figure,
            report.bands[0]
                .band
                .figures
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}
