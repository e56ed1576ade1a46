//! `stormbench` (the default command): one measured run, or a sweep when the plan has one.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::anyhow;
use tokio_util::sync::CancellationToken;

use super::checkpoint::Checkpoints;
use crate::cli::RunArgs;
use crate::collect::Published;
use crate::config::{Arrival, Intent, RunPlan, StoreSpec};
use crate::core::{Conn, ErrorClass, Workload};
use crate::db::{ServerInfo, Target, QUERY_TIMEOUT};
use crate::error::{AppError, Exit};
use crate::exec::{self, ExecOptions};
use crate::export::Exporter;
use crate::history::{Record, Store};
use crate::pipeline::{
    checks_exit, describe_stop, describe_sweep, interrupt_token, measure, prepare_schema,
    run_checks, start_embedded, write_outputs, SchemaReady, SchemaStep, Waits,
};
use crate::progress::Progress;
use crate::report::{self, Document as _, Report, ReportInput, WorkloadReport};
use crate::schema::{self, Cleaned, SchemaAction};

pub(crate) fn schema_action(args: &RunArgs) -> SchemaAction {
    if args.cleanup {
        SchemaAction::Cleanup
    } else if args.rebuild {
        SchemaAction::Rebuild
    } else if args.setup {
        SchemaAction::Setup
    } else {
        SchemaAction::Existing
    }
}

/// The `safety:` guards, before anything connects: a step that changes the schema, or a
/// workload that writes, only where the guards allow it.
fn check_safety(plan: &mut RunPlan, args: &RunArgs) -> Result<(), AppError> {
    let schema_step = match schema_action(args) {
        SchemaAction::Cleanup => Some("--cleanup"),
        SchemaAction::Rebuild => Some("--rebuild"),
        SchemaAction::Setup => Some("--setup"),
        SchemaAction::Existing => None,
    };
    let runs = !(args.check || args.no_run || args.cleanup);
    let intent = Intent {
        schema_step,
        writes: runs && plan.built.workload.writes(),
    };
    let verdict = plan
        .safety
        .check(&plan.database, intent)
        .map_err(AppError::Usage)?;
    for g in &verdict.applied {
        log::info!("safety.{} applies: {}", g.guard, g.detail);
    }
    plan.safety.verdict = Some(verdict);
    Ok(())
}

/// Runs the plan; the embedded cluster (if any) lives exactly as long as this function.
pub(crate) async fn execute(
    plan: RunPlan,
    args: &RunArgs,
    inputs: &[PathBuf],
) -> Result<Exit, AppError> {
    let interrupt = interrupt_token();
    check_outputs(&plan, inputs)?;
    let mut plan = plan;
    check_shard_rebuild(&plan, args)?;
    check_safety(&mut plan, args)?;
    let cluster = start_embedded(&plan, &interrupt).await?;
    let target = Target::from_plan(&plan.database, cluster.as_ref())
        .with_settings(&plan.built.workload.settings());
    // a certificate file that cannot be used is bad configuration, named before connecting
    target
        .check_tls_files()
        .map_err(|e| AppError::Usage(e.to_string()))?;
    let s = connect(&plan, args, &interrupt, &target, cluster.is_some()).await?;
    let mut action = schema_action(args);
    if action == SchemaAction::Cleanup {
        return cleanup(&s).await;
    }
    s.preflight().await?;
    if let Some(shard) = plan.exec.shard {
        // shard 0 sets up; the others wait for it and use what it made
        if action == SchemaAction::Setup && shard.index > 0 {
            crate::pipeline::wait_for_setup(&plan, s.waits(), &s.admin, s.workload.as_ref(), shard)
                .await?;
            action = SchemaAction::Existing;
        }
    }
    if args.check {
        let checks = run_checks(s.waits(), &s.admin, s.workload.as_ref()).await?;
        out!("{}", report::render_checks(&checks));
        return Ok(checks_exit(&checks, Exit::Ok));
    }
    let prepared = set_up_schema(&s, action).await?;
    if args.no_run {
        outln!(
            "schema for {} is ready at scale {} on {}",
            s.name,
            plan.scale,
            target.display
        );
        return Ok(Exit::Ok);
    }
    let view = Progress::auto(args.quiet);
    let exporter = start_exporter(&s, &view).await?;
    view.line(&run_banner(&plan));
    let mut opts = plan.exec.clone();
    opts.driver = exec::resolve_driver(plan.exec.driver);
    if let Some(sweep) = &plan.param_sweep {
        let ctx = super::param_sweep::SweepCtx {
            plan: &plan,
            base: &opts,
            target: &target,
            admin: &s.admin,
            workload: s.workload.clone(),
            server: s.server.clone(),
            interrupt: &interrupt,
            view: &view,
        };
        return super::param_sweep::run(ctx, sweep, prepared).await;
    }
    match &plan.progressive {
        Some(sweep) => {
            super::sweep::sweep(
                &plan,
                &opts,
                sweep,
                &target,
                &s.admin,
                s.workload.clone(),
                s.server.clone(),
                prepared,
                &interrupt,
                &view,
                exporter.as_ref(),
            )
            .await
        }
        None => single(&s, prepared, &opts, &view, exporter.as_ref()).await,
    }
}

/// Refuses `--rebuild` on a shard: the schema is shared by every shard of the run.
fn check_shard_rebuild(plan: &RunPlan, args: &RunArgs) -> Result<(), AppError> {
    if let (Some(shard), SchemaAction::Rebuild) = (plan.exec.shard, schema_action(args)) {
        return Err(AppError::Usage(format!(
            "shard {}: --rebuild drops the schema every shard runs on; rebuild once with \
             --rebuild --no-run (without --shard), then start the shards with --setup",
            shard.label()
        )));
    }
    Ok(())
}

/// Uses, sets up or rebuilds the schema (`action`) before the run.
async fn set_up_schema(s: &Session<'_>, action: SchemaAction) -> Result<SchemaReady, AppError> {
    s.waits()
        .long(
            "schema set-up",
            prepare_schema(
                s.plan,
                SchemaStep {
                    action,
                    embedded: s.embedded,
                    force_drop: s.args.force_drop,
                    quiet: s.args.quiet,
                    server_version_num: s.server.version_num,
                },
                &s.admin,
                s.target,
                s.workload.as_ref(),
            ),
        )
        .await
}

/// The line that says what is about to run.
fn run_banner(plan: &RunPlan) -> String {
    match (&plan.progressive, &plan.param_sweep) {
        (_, Some(p)) => format!(
            "running {} (mode {}) as a sweep of {} over {} ({} bands of {} after {} warm-up each)",
            plan.workload,
            plan.mode,
            p.param,
            p.values.join(", "),
            p.values.len(),
            p.band_duration,
            p.warmup
        ),
        (Some(sweep), None) => describe_sweep(plan, sweep),
        (None, None) => format!(
            "running {} (mode {}) {} with {} workers over {} connections{}",
            plan.workload,
            plan.mode,
            describe_stop(&plan.exec.stop),
            plan.exec.workers,
            plan.exec.connections,
            match plan.exec.shard {
                Some(s) => format!(
                    " as shard {} (of the run's {} workers)",
                    s.label(),
                    plan.distributed.run_workers
                ),
                None => String::new(),
            }
        ),
    }
}

/// Refuses, before anything runs, outputs that cannot or must not be written.
fn check_outputs(plan: &RunPlan, inputs: &[PathBuf]) -> Result<(), AppError> {
    let outputs: Vec<(&str, &std::path::Path)> = [
        ("--json", plan.json.as_deref()),
        ("--csv", plan.csv.as_deref()),
        ("--html", plan.html.as_deref()),
    ]
    .into_iter()
    .filter_map(|(opt, p)| p.map(|p| (opt, p)))
    .collect();
    report::check_outputs(&outputs, inputs).map_err(|e| AppError::Usage(format!("{e:#}")))
}

/// What every step after connecting works with.
struct Session<'a> {
    plan: &'a RunPlan,
    args: &'a RunArgs,
    interrupt: &'a CancellationToken,
    target: &'a Target,
    /// stormbench's own connection (marker, schema steps, checks, server counts).
    admin: Conn,
    server: ServerInfo,
    workload: Arc<dyn Workload>,
    /// The name the schema marker is kept under.
    name: String,
    /// A throwaway cluster (always set up).
    embedded: bool,
}

impl Session<'_> {
    fn waits(&self) -> Waits<'_> {
        Waits {
            interrupt: self.interrupt,
            target: self.target,
            session: Some(&self.admin),
        }
    }

    /// Checks what the workload needs from the server before anything is created or run.
    async fn preflight(&self) -> Result<(), AppError> {
        let (workload, name) = (&self.workload, &self.name);
        self.waits()
            .quick(
                "checking the workload's requirements",
                QUERY_TIMEOUT,
                async {
                    workload
                        .preflight(&self.admin, self.server.version_num)
                        .await
                        .map_err(|problems| {
                            anyhow!(
                                "the {name} workload cannot run on this server:\n  {}",
                                problems.join("\n  ")
                            )
                        })
                },
            )
            .await
    }
}

/// Connects stormbench's own session and reads the server's facts.
async fn connect<'a>(
    plan: &'a RunPlan,
    args: &'a RunArgs,
    interrupt: &'a CancellationToken,
    target: &'a Target,
    embedded: bool,
) -> Result<Session<'a>, AppError> {
    let waits = Waits {
        interrupt,
        target,
        session: None,
    };
    // connect_once is bounded by the connect timeout itself
    let admin = waits
        .interruptible("connecting", async {
            target.connect_once().await.map_err(|e| anyhow!(e))
        })
        .await?;
    let waits = Waits {
        session: Some(&admin),
        ..waits
    };
    let server = waits
        .quick("reading server settings", QUERY_TIMEOUT, async {
            // set-up, clean-up and checks wait for another session's locks a bounded time
            crate::db::bound_lock_waits(&admin)
                .await
                .map_err(|e| anyhow!(crate::core::db_message(&e)))?;
            crate::db::server_info(&admin).await.map_err(|e| anyhow!(e))
        })
        .await?;
    log::info!(
        "connected to {} (PostgreSQL {})",
        target.display,
        server.version
    );
    if embedded && plan.collect.as_ref().is_some_and(|c| c.statements) {
        // a throwaway cluster preloads the library when it exists; the extension is ours to add
        let _ = waits
            .quick("creating pg_stat_statements", QUERY_TIMEOUT, async {
                admin
                    .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                    .await
                    .map_err(|e| anyhow!(e))
            })
            .await;
    }
    let workload = plan.built.workload.clone();
    let name = workload.schema_name().unwrap_or(&plan.workload).to_string();
    Ok(Session {
        plan,
        args,
        interrupt,
        target,
        admin,
        server,
        workload,
        name,
        embedded,
    })
}

/// `--cleanup`: drops what stormbench created of the workload, and says what.
async fn cleanup(s: &Session<'_>) -> Result<Exit, AppError> {
    let (name, display) = (&s.name, &s.target.display);
    let cleaned = s
        .waits()
        .long(
            "clean-up",
            schema::locked(
                &s.admin,
                schema::cleanup(&s.admin, s.workload.as_ref(), name, s.args.force_drop),
            ),
        )
        .await?;
    match cleaned {
        Cleaned::Dropped(objects) => outln!(
            "dropped the {name} schema from {display} ({} objects: {})",
            objects.len(),
            objects.join(", ")
        ),
        Cleaned::Nothing => {
            outln!("nothing to clean up: no {name} schema set up by stormbench in {display}")
        }
    }
    Ok(Exit::Ok)
}

/// The Prometheus endpoint, when the plan asks for one.
async fn start_exporter(s: &Session<'_>, view: &Progress) -> Result<Option<Exporter>, AppError> {
    let Some(addr) = s.plan.prometheus else {
        return Ok(None);
    };
    let published = s.plan.collect.as_ref().map(|_| Published::default());
    let e = Exporter::start(addr, s.plan, s.workload.kinds(), published)
        .await
        .map_err(|e| anyhow!(e))?;
    view.line(&format!(
        "serving Prometheus metrics at http://{}/metrics",
        e.addr()
    ));
    Ok(Some(e))
}

/// One measured run: measure, check if the workload asks, report, and the exit code.
async fn single(
    s: &Session<'_>,
    prepared: SchemaReady,
    opts: &ExecOptions,
    view: &Progress,
    exporter: Option<&Exporter>,
) -> Result<Exit, AppError> {
    let plan = s.plan;
    let (hook, mut checkpoints) = Checkpoints::new(plan, opts, s.interrupt);
    let measuring = measure(
        plan,
        s.target,
        &s.admin,
        &s.workload,
        opts,
        s.interrupt,
        view,
        exporter,
        true,
        hook,
    );
    let writing = async {
        while let Some(partial) = checkpoints.next().await {
            let report = build_report(s, &prepared, &partial, None, None, None, Vec::new());
            checkpoints.write(report).await;
        }
    };
    let (measured, ()) = tokio::join!(measuring, writing);
    let measured = measured?;
    // a failure of the checks keeps the run's figures: the report is written first
    let (checks, check_error) = if s.workload.check_after_run() && !measured.result.interrupted {
        match run_checks(s.waits(), &s.admin, s.workload.as_ref()).await {
            Ok(c) => (Some(c), None),
            Err(e) => (None, Some(e)),
        }
    } else {
        (None, None)
    };
    let interrupted = measured.result.interrupted;
    let mut report = build_report(
        s,
        &prepared,
        &measured.result,
        measured.server_xacts,
        measured.database_stats,
        checks,
        measured.findings,
    );
    report
        .workload
        .add_measures(measured.figures, measured.measure_series);
    out!("{}", report.console());
    // off the control runtime: a stuck write (a FIFO nobody reads) must not stop a second
    // Ctrl-C from ending the process
    let report = Arc::new(report);
    let written = {
        let (report, plan) = (report.clone(), plan.clone());
        tokio::task::spawn_blocking(move || write_outputs(&report, &plan)).await
    };
    written.map_err(|e| anyhow!("writing the reports: {e}"))??;
    record_history(&report, plan, s.args.quiet, s.interrupt).await;
    if let Some(e) = check_error {
        return Err(e);
    }
    exit_code(&report, interrupted)
}

/// Records the finished run in the results history; a history that cannot take it is a
/// warning (the run's figures are already in its report files and on the console).
async fn record_history(
    report: &Report,
    plan: &RunPlan,
    quiet: bool,
    interrupt: &CancellationToken,
) {
    if matches!(plan.history, StoreSpec::Off) {
        return;
    }
    let result = crate::history::unless_interrupted(interrupt, async {
        let text = serde_json::to_string(report).map_err(|e| e.to_string())?;
        let record = Record::from_text(text, false)?;
        match Store::open(&plan.history).await? {
            Some(mut store) => store.record(&record).await.map(Some),
            None => Ok(None),
        }
    })
    .await;
    match result {
        Ok(Some(id)) if !quiet => {
            outln!(
                "recorded as run {id} in the history {}",
                plan.history.display()
            )
        }
        Ok(_) => {}
        Err(e) => log::warn!(
            "the run is not recorded in the history: {e} (its reports are written; \
             `stormbench history --import` records one later)"
        ),
    }
}

fn build_report(
    s: &Session<'_>,
    prepared: &SchemaReady,
    result: &exec::RunResult,
    server_xacts: Option<u64>,
    database_stats: Option<crate::collect::DbStatsReport>,
    checks: Option<Vec<crate::core::CheckResult>>,
    findings: Vec<String>,
) -> Report {
    let (plan, workload) = (s.plan, &s.workload);
    let mut report = Report::build(
        result,
        ReportInput {
            config: plan.to_report_json(),
            database: s.target.display.clone(),
            server: s.server.clone(),
            workload: WorkloadReport::new(
                plan,
                workload.as_ref(),
                prepared.marker.clone(),
                prepared.load.clone(),
            ),
            pool_size: plan.exec.connections,
            connection_mode: workload
                .connection_mode()
                .unwrap_or(plan.exec.connection_mode)
                .as_str(),
            target_tps: match plan.exec.arrival {
                Arrival::Open { rate_tps, .. } => Some(rate_tps),
                Arrival::Closed => None,
            },
            pacing: workload.pacing(),
            server_xacts,
            checks,
            database_stats,
            metrics: &|counts| workload.metrics(counts),
        },
    );
    report.workload.groups =
        crate::report::GroupReport::of(&plan.exec.groups, &report.transactions, report.measured_s);
    // before the objectives: one of them may count these
    report.workload.warnings = findings;
    report.shard = plan.exec.shard.map(|sh| crate::report::ShardReport {
        index: sh.index,
        count: sh.count,
        workers: plan.exec.workers,
        run_workers: plan.distributed.run_workers,
        start: match &plan.distributed.start {
            Some(crate::config::StartRule::At(_)) => "start_at".into(),
            Some(crate::config::StartRule::Barrier { name, .. }) => format!("barrier {name}"),
            None => "none".into(),
        },
    });
    report.slo = plan
        .slo
        .as_ref()
        .map(|slo| report::slo::evaluate(slo, &report));
    report
}

/// Why a run that completed is no measurement: more of its transactions failed with
/// errors no retry fixes (class `other`: a missing table, a permission, a syntax or data
/// error) than succeeded. A user's own `max_error_pct` objective decides instead.
fn mostly_broken(report: &Report) -> Option<String> {
    let own_limit = report.slo.as_ref().is_some_and(|s| {
        s.gates
            .iter()
            .any(|g| g.gate.rsplit('.').next() == Some("max_error_pct"))
    });
    let broken = report
        .errors
        .by_class
        .get(ErrorClass::Other.as_str())
        .copied()
        .unwrap_or(0);
    if own_limit || broken <= report.summary.transactions {
        return None;
    }
    let mut codes: Vec<(&String, &u64)> = report.errors.by_sqlstate.iter().collect();
    codes.sort_by(|a, b| b.1.cmp(a.1));
    let codes = codes
        .iter()
        .take(3)
        .map(|(code, n)| format!("SQLSTATE {code} x{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(format!(
        "exit code 3: {broken} transactions failed with errors no retry fixes ({codes}), more than the {} that succeeded; fix the workload or its schema (slo.max_error_pct sets the share a run may fail)",
        report.summary.transactions
    ))
}

/// The documented exit code of a finished run (an internal error is a failure).
pub(super) fn exit_code(report: &Report, interrupted: bool) -> Result<Exit, AppError> {
    if let Some(first) = report.health.internal_errors.first() {
        return Err(anyhow!(
            "the run failed: an internal error stopped it ({first}); this is a bug in stormbench, please report it; the report covers what ran before"
        )
        .into());
    }
    let exit = if interrupted {
        Exit::Interrupted
    } else if report.summary.transactions == 0 {
        Exit::NothingSucceeded
    } else if report.health.had_outage() {
        Exit::Outage
    } else if let Some(why) = mostly_broken(report) {
        errln!("{why}");
        Exit::NothingSucceeded
    } else {
        Exit::Ok
    };
    let exit = match &report.checks {
        Some(c) => checks_exit(c, exit),
        None => exit,
    };
    Ok(match &report.slo {
        Some(slo) if exit == Exit::Ok && !slo.passed => Exit::SloBroken,
        _ => exit,
    })
}
