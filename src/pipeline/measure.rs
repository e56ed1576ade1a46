//! One measured run with its server-side figures (transaction counts, pg_stat collection),
//! the consistency checks and the report files.

use anyhow::{anyhow, Context as _};
use tokio_util::sync::CancellationToken;

use crate::collect::{CollectOptions, Collected, Collector, DbStatsReport, Published};
use crate::config::RunPlan;
use crate::core::measure::{self, MeasureSeries, When};
use crate::core::{CheckResult, Conn, Workload};
use crate::db::{Target, FINAL_QUERY_TIMEOUT, QUERY_TIMEOUT};
use crate::error::{AppError, Exit};
use crate::exec::{self, ExecOptions};
use crate::export::Exporter;
use crate::progress::Progress;
use crate::report::{self, Format, Report};

use super::{within, Waits};

/// One measured run with its server-side figures.
pub(crate) struct MeasuredRun {
    /// What the workers measured.
    pub(crate) result: exec::RunResult,
    /// Server commits + rollbacks over the measured phase.
    pub(crate) server_xacts: Option<u64>,
    /// pg_stat collection, when on.
    pub(crate) database_stats: Option<DbStatsReport>,
    /// The workload's measures taken after the run.
    pub(crate) figures: Vec<crate::core::Metric>,
    /// The workload's interval measures over the run.
    pub(crate) measure_series: Vec<MeasureSeries>,
    /// What the run showed that makes its figures suspect ([`Workload::findings`]).
    pub(crate) findings: Vec<String>,
}

/// Runs once with `opts`, sampling the server alongside when collection is on.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn measure(
    plan: &RunPlan,
    target: &Target,
    admin: &Conn,
    workload: &std::sync::Arc<dyn Workload>,
    opts: &ExecOptions,
    interrupt: &CancellationToken,
    view: &Progress,
    exporter: Option<&Exporter>,
    first: bool,
    checkpoint: Option<exec::Checkpoint>,
) -> Result<MeasuredRun, AppError> {
    // server-side counts need the backends' statistics flushed; a band of a sweep does not
    // report them unless it collects
    let settle = plan.collect.is_some() || plan.progressive.is_none();
    let collector =
        collector_for(plan, target, workload.as_ref(), opts, exporter, interrupt).await?;
    before_run(target, workload.as_ref(), interrupt).await;
    let (measuring_tx, measuring_rx) = tokio::sync::oneshot::channel();
    let stop_collecting = CancellationToken::new();
    let run = async {
        let r = exec::run(
            workload.clone(),
            target,
            opts,
            interrupt.clone(),
            view,
            exec::Hooks {
                measuring: Some(measuring_tx),
                observer: exporter.map(|e| e.observer()),
                checkpoint,
                gate: if first {
                    super::start::gate(plan, target)
                } else {
                    None
                },
            },
        )
        .await;
        if settle {
            // backends flush their statistics when they end or go idle
            tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        }
        stop_collecting.cancel();
        r
    };
    // server-side figures start when the warm-up ends and end after the run
    let (measuring_tx2, measuring_rx2) = tokio::sync::watch::channel(false);
    let observe = observe_server(
        measuring_rx,
        measuring_tx2,
        &stop_collecting,
        admin,
        collector,
    );
    let warmed = forget_warm_up(workload.as_ref(), opts, measuring_rx2.clone());
    let intervals = interval_measures(target, workload.measures(), measuring_rx2, &stop_collecting);
    let (result, (xacts_before, collected), measure_series, ()) =
        tokio::join!(run, observe, intervals, warmed);
    let result = match result {
        Ok(r) => r,
        Err(_) if interrupt.is_cancelled() => return Err(AppError::Interrupted("connecting")),
        Err(e) => return Err(anyhow!(e).into()),
    };
    let server_xacts = match xacts_before {
        Some(before) => server_xacts_since(target, admin, before).await,
        None => None,
    };
    let database_stats = collected.and_then(DbStatsReport::build);
    if first && plan.collect.as_ref().is_some_and(|c| c.statements) {
        if let Some(Some(note)) = database_stats.as_ref().map(|d| &d.statements_note) {
            log::warn!("{note}; the run went on without statement statistics");
        }
    }
    let figures = workload_figures(target, workload.as_ref(), interrupt, result.interrupted).await;
    Ok(MeasuredRun {
        result,
        server_xacts,
        database_stats,
        figures,
        measure_series,
        findings: workload.findings(),
    })
}

/// What the workload does on the server before its workers start: reads the plans it
/// compares with after the run, and sets where the workers start (e.g. key sequences past
/// the rows earlier runs inserted). Either ends at an interrupt, or does not start after one.
async fn before_run(target: &Target, workload: &dyn Workload, interrupt: &CancellationToken) {
    if workload.inspects() {
        interrupt
            .run_until_cancelled(inspect(target, workload, true))
            .await;
    }
    if workload.prepares_run() {
        interrupt
            .run_until_cancelled(prepare_run(target, workload))
            .await;
    }
}

/// When the warm-up ends, forgets what the workload noted of it, so that its findings
/// judge the measured executions alone (a statement that found rows only while warming up,
/// a queue drained then, is named). Ends when the warm-up does, or when measurement never
/// starts (`measuring` dropped).
async fn forget_warm_up(
    workload: &dyn Workload,
    opts: &ExecOptions,
    mut measuring: tokio::sync::watch::Receiver<bool>,
) {
    if opts.warmup.0.is_zero() {
        return;
    }
    if measuring.wait_for(|started| *started).await.is_ok() {
        drop(workload.findings());
    }
}

/// The statistics collector, started when collection is on.
async fn collector_for(
    plan: &RunPlan,
    target: &Target,
    workload: &dyn Workload,
    opts: &ExecOptions,
    exporter: Option<&Exporter>,
    interrupt: &CancellationToken,
) -> Result<Option<Collector>, AppError> {
    let published = exporter.and_then(|e| e.published());
    let waits = Waits {
        interrupt,
        target,
        session: None,
    };
    let collector = match &plan.collect {
        Some(c) => Some(
            waits
                .quick(
                    "starting the statistics collector",
                    QUERY_TIMEOUT,
                    start_collector(target, c, workload, published, opts.full_resolution.0),
                )
                .await?,
        ),
        None => None,
    };
    Ok(collector)
}

/// The server's side of the measured phase, from `measuring` (the end of the warm-up,
/// passed on to `measured`) until `stop_collecting`: its transaction count at the start,
/// and the collector's samples.
async fn observe_server(
    measuring: tokio::sync::oneshot::Receiver<()>,
    measured: tokio::sync::watch::Sender<bool>,
    stop_collecting: &CancellationToken,
    admin: &Conn,
    collector: Option<Collector>,
) -> (Option<XactCount>, Option<Collected>) {
    // an interrupt during the warm-up ends the run before measurement starts
    tokio::select! {
        r = measuring => if r.is_err() { return (None, None) },
        _ = stop_collecting.cancelled() => return (None, None),
    }
    let _ = measured.send(true);
    let before = tokio::select! {
        x = within(QUERY_TIMEOUT, server_xacts(admin)) => x.flatten(),
        _ = stop_collecting.cancelled() => None,
    };
    let collected = match collector {
        Some(c) => Some(
            c.run(tokio::time::Instant::now(), stop_collecting.clone())
                .await,
        ),
        None => None,
    };
    (before, collected)
}

/// The workload's own figures after the run: its after-run measures and its plan
/// inspection (skipped when the run was interrupted).
async fn workload_figures(
    target: &Target,
    workload: &dyn Workload,
    interrupt: &CancellationToken,
    run_interrupted: bool,
) -> Vec<crate::core::Metric> {
    // the workload's own figures, when it has measures: bounded, and an interrupt skips them
    // on a session of the run's target, so the measure sees the run's settings
    let after_run = workload.measures().iter().any(|m| m.when == When::AfterRun);
    let mut figures = if interrupt.is_cancelled() || !after_run {
        Vec::new()
    } else {
        tokio::select! {
            f = after_run_measures(target, workload.measures()) => f,
            _ = interrupt.cancelled() => Vec::new(),
        }
    };
    if workload.inspects() && !interrupt.is_cancelled() && !run_interrupted {
        tokio::select! {
            f = inspect(target, workload, false) => figures.extend(f),
            _ = interrupt.cancelled() => log::warn!("interrupted: the workload's plan figures were not taken"),
        }
    }
    figures
}

/// The workload's own inspection on a new session of `target`.
async fn inspect(
    target: &Target,
    workload: &dyn Workload,
    before: bool,
) -> Vec<crate::core::Metric> {
    match target.connect_once().await {
        Ok(conn) => workload.inspect(&conn, before).await,
        Err(e) => {
            log::warn!("the workload's plan figures were not taken: {e}");
            Vec::new()
        }
    }
}

/// The workload's preparation of the next run on a new session of `target`; its problems
/// are logged as warnings.
async fn prepare_run(target: &Target, workload: &dyn Workload) {
    match target.connect_once().await {
        Ok(conn) => {
            for w in workload.prepare_run(&conn).await {
                log::warn!("{w}");
            }
        }
        Err(e) => log::warn!("the run's start positions were not read: {e}"),
    }
}

/// The after-run measures on a new session of `target`.
async fn after_run_measures(
    target: &Target,
    measures: &[measure::Measure],
) -> Vec<crate::core::Metric> {
    match target.connect_once().await {
        Ok(conn) => measure::take_all(&conn, measures, When::AfterRun, QUERY_TIMEOUT).await,
        Err(e) => {
            log::warn!("the workload's measures were not taken: {e}");
            Vec::new()
        }
    }
}

/// Takes the interval measures on a connection of their own from the end of the warm-up
/// until `stop`, each every its period; a failing one is logged once and dropped.
async fn interval_measures(
    target: &Target,
    measures: &[measure::Measure],
    mut measuring: tokio::sync::watch::Receiver<bool>,
    stop: &CancellationToken,
) -> Vec<MeasureSeries> {
    let mut due: Vec<&measure::Measure> = measures
        .iter()
        .filter(|m| m.when == When::Interval)
        .collect();
    let mut series = Vec::new();
    if due.is_empty() {
        return series;
    }
    tokio::select! {
        r = measuring.wait_for(|m| *m) => if r.is_err() { return series },
        _ = stop.cancelled() => return series,
    }
    let conn = tokio::select! {
        c = target.connect_once() => match c {
            Ok(c) => c,
            Err(e) => {
                log::warn!("the workload's interval measures were not taken: {e}");
                return series;
            }
        },
        _ = stop.cancelled() => return series,
    };
    let start = tokio::time::Instant::now();
    let mut next: Vec<tokio::time::Instant> = due.iter().map(|m| start + m.every).collect();
    loop {
        let Some((i, at)) = next.iter().copied().enumerate().min_by_key(|(_, t)| *t) else {
            return series;
        };
        tokio::select! {
            _ = tokio::time::sleep_until(at) => {}
            _ = stop.cancelled() => return series,
        }
        let m = due[i];
        // bounded by the query timeout, and by the run
        let taken = tokio::select! {
            r = measure::take(&conn, m, QUERY_TIMEOUT) => Some(r),
            _ = stop.cancelled() => None,
        };
        match taken {
            Some(Ok(figures)) => {
                let t_s = at.saturating_duration_since(start).as_secs_f64();
                measure::record(&mut series, t_s, figures);
                next[i] = at + m.every;
                while next[i] <= tokio::time::Instant::now() {
                    next[i] += m.every;
                }
            }
            Some(Err(e)) => {
                log::warn!("{e}; the measure is not taken again in this run");
                due.remove(i);
                next.remove(i);
            }
            None => return series,
        }
    }
}

/// Exit 4 when a check failed, otherwise `otherwise`.
pub(crate) fn checks_exit(checks: &[CheckResult], otherwise: Exit) -> Exit {
    if checks.iter().any(|c| !c.passed) {
        Exit::CheckFailed
    } else {
        otherwise
    }
}

pub(crate) async fn start_collector(
    target: &Target,
    c: &crate::config::CollectPlan,
    workload: &dyn Workload,
    published: Option<Published>,
    full_resolution: std::time::Duration,
) -> Result<Collector, AppError> {
    let conn = target.connect_once().await.map_err(|e| anyhow!(e))?;
    let opts = CollectOptions {
        interval: c.interval.0,
        statements: c.statements,
        top_statements: c.top_statements,
        tables: workload.tables().iter().map(|t| t.to_string()).collect(),
        // the run's full-resolution window, in samples
        keep: (full_resolution.as_secs_f64() / c.interval.0.as_secs_f64().max(1e-3)).ceil()
            as usize,
    };
    Ok(Collector::new(conn, target.clone(), opts, published).await)
}

pub(crate) async fn run_checks(
    waits: Waits<'_>,
    admin: &Conn,
    workload: &dyn Workload,
) -> Result<Vec<CheckResult>, AppError> {
    let checks = waits
        .long("running the consistency checks", async {
            let mut fresh = None;
            let admin = crate::db::reopened(waits.target, admin, &mut fresh)
                .await
                .map_err(|e| anyhow!(e))?;
            workload
                .check(admin)
                .await
                .context("running the consistency checks")
        })
        .await?;
    if checks.is_empty() {
        log::warn!("this workload has no consistency checks");
    }
    Ok(checks)
}

/// Commits + rollbacks of the current database so far, with when its counters were last
/// reset (`None` if unreadable).
pub(crate) async fn server_xacts(admin: &Conn) -> Option<XactCount> {
    admin
        .query_one(
            "SELECT (xact_commit + xact_rollback)::bigint, stats_reset::text \
             FROM pg_stat_database WHERE datname = current_database()",
            &[],
        )
        .await
        .ok()
        .map(|r| XactCount {
            xacts: r.get::<_, i64>(0) as u64,
            reset: r.get(1),
        })
}

/// The server's transactions since `before`, read over the admin connection (reopened if
/// the run lost it) within the final queries' bound; `None` if unreadable or reset.
async fn server_xacts_since(target: &Target, admin: &Conn, before: XactCount) -> Option<u64> {
    within(FINAL_QUERY_TIMEOUT, async {
        let mut fresh = None;
        let admin = crate::db::reopened(target, admin, &mut fresh).await.ok()?;
        server_xacts(admin).await
    })
    .await
    .flatten()
    .and_then(|after| before.until(&after))
}

/// The database's transaction count at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XactCount {
    xacts: u64,
    /// `stats_reset` of `pg_stat_database`.
    reset: Option<String>,
}

impl XactCount {
    /// Transactions from `self` to `after`; `None` (with a warning) when the counters
    /// were reset between the two, which would make the difference meaningless.
    fn until(&self, after: &XactCount) -> Option<u64> {
        if after.reset != self.reset || after.xacts < self.xacts {
            log::warn!(
                "pg_stat_database was reset during the run (pg_stat_reset()); the server's own \
                 transaction count is left out of the report"
            );
            return None;
        }
        Some(after.xacts - self.xacts)
    }
}

/// Writes every requested file; one failing does not stop the others.
pub(crate) fn write_outputs(r: &Report, plan: &RunPlan) -> Result<(), AppError> {
    let files = [
        (Format::Json, plan.json.as_deref()),
        (Format::Csv, plan.csv.as_deref()),
        (Format::Html, plan.html.as_deref()),
    ];
    Ok(report::write_each(r, files)?)
}
