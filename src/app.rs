//! Orchestration: config -> plan -> (embedded cluster) -> connect -> schema -> run ->
//! reports -> exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context as _};
use tokio_util::sync::CancellationToken;

use crate::cli::{Cli, Command, RunArgs};
use crate::collect::{CollectOptions, Collector, DbStatsReport, Published};
use crate::config::{self, Arrival, ConfigError, RunPlan, Stop};
use crate::core::{CheckResult, Conn, LoadProgress, LoadStats, Registry, Workload};
use crate::db::embedded::{EmbeddedCluster, EmbeddedOptions};
use crate::db::{marker, Connector, Target, FINAL_QUERY_TIMEOUT, QUERY_TIMEOUT};
use crate::exec::{self, Display, ExecOptions};
use crate::export::Exporter;
use crate::report::{self, Report, ReportInput, WorkloadReport};
use crate::schema::{self, Cleaned, Found, SchemaAction};

/// Why stormbench stopped, as a process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The run (or setup/cleanup) completed.
    Ok = 0,
    /// A fatal error: could not connect, set up or write results.
    Failure = 1,
    /// Bad configuration or command line.
    Usage = 2,
    /// The run completed but no transaction succeeded.
    NothingSucceeded = 3,
    /// A consistency check of the data failed.
    CheckFailed = 4,
    /// The run completed, but the server was unreachable or not answering for part of it
    /// (an outage), or transactions were left unanswered at the end.
    Outage = 5,
    /// Interrupted by SIGINT/SIGTERM; results so far were reported.
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// A failure with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Anything else.
    #[error("{0:#}")]
    Fatal(#[from] anyhow::Error),
    /// Interrupted before anything was measured.
    #[error("interrupted during {0}; nothing was measured")]
    Interrupted(&'static str),
    /// A bad command-line value found after parsing.
    #[error("{0}")]
    Usage(String),
}

impl AppError {
    /// Exit code for this error.
    pub fn exit(&self) -> Exit {
        match self {
            AppError::Config(_) => Exit::Usage,
            AppError::Fatal(_) => Exit::Failure,
            AppError::Interrupted(_) => Exit::Interrupted,
            AppError::Usage(_) => Exit::Usage,
        }
    }
}

/// Entry point: parses nothing itself, returns the exit code.
pub fn run(cli: Cli) -> Result<Exit, AppError> {
    if let Some(Command::Trace(cmd)) = &cli.command {
        return crate::trace::run(cmd);
    }
    if let Some(Command::CheckWorkload(args)) = &cli.command {
        return crate::check::run(args, &cli.run);
    }
    let registry = registry(&cli.run)?;
    if let Some(Command::List) = cli.command {
        print!("{}", list(&registry));
        return Ok(Exit::Ok);
    }
    let plan = plan(&cli.run, &registry)?;
    let inputs = run_inputs(&cli.run, &registry, &plan);
    init_logging(&plan.log_level);
    for w in &plan.warnings {
        log::warn!("{w}");
    }
    // The control runtime (signals, aggregation, reports); workers get their own threads.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let out = rt.block_on(execute(plan, &cli.run, &inputs));
    // a blocking task still running (an embedded cluster's initdb after an interrupt) is
    // not waited for: the cluster's watchdog cleans up after it
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    out
}

/// The built-in workloads plus the declarative ones found in the workloads path
/// (`--workloads-path`, else the config's `workloads_path`, else `./workloads`). A folder
/// named explicitly must exist; a name taken twice is an error naming both.
pub fn registry(args: &RunArgs) -> Result<Registry, ConfigError> {
    let source_name = args.target.config.as_ref().map(|p| p.display().to_string());
    let fail = |problems| ConfigError {
        source_name: source_name.clone(),
        problems,
    };
    let text = args
        .target
        .config
        .as_ref()
        .and_then(|p| config::read_config(p).ok().map(|t| (p.clone(), t)));
    let (paths, explicit) = config::workloads_paths(
        text.as_ref().map(|(p, t)| (p.as_path(), t.as_str())),
        &args.workloads_path,
    )
    .map_err(fail)?;
    let mut missing = Vec::new();
    let paths: Vec<PathBuf> = paths
        .into_iter()
        .filter(|p| {
            let ok = p.is_dir();
            if !ok && explicit {
                missing.push(format!(
                    "workloads_path: folder {} does not exist; create it or fix the path (relative paths in a config file are relative to the file's folder)",
                    p.display()
                ));
            }
            ok
        })
        .collect();
    if !missing.is_empty() {
        return Err(fail(missing));
    }
    let found = crate::workloads::declarative::discover(&paths).map_err(fail)?;
    let mut registry = crate::workloads::registry();
    registry.extend(found).map_err(fail)?;
    Ok(registry)
}

/// The files a run reads, which no output may overwrite: the config file and the files of
/// a declarative workload's folder.
fn run_inputs(args: &RunArgs, registry: &Registry, plan: &RunPlan) -> Vec<PathBuf> {
    let mut inputs: Vec<PathBuf> = args.target.config.iter().cloned().collect();
    let source = registry
        .entries()
        .iter()
        .find(|e| e.name == plan.workload)
        .and_then(|e| e.source.clone());
    // a declarative workload's source is its workload.yaml; its SQL files sit beside it
    if let Some(dir) = source.as_deref().and_then(std::path::Path::parent) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            inputs.extend(entries.flatten().map(|e| e.path()));
        }
    }
    inputs
}

/// Loads, overrides and validates the config.
pub fn plan(args: &RunArgs, registry: &Registry) -> Result<RunPlan, ConfigError> {
    let mut loaded = match &args.target.config {
        Some(path) => config::load_file(path, registry)?,
        None => config::LoadedConfig::default(),
    };
    let source_name = args.target.config.as_ref().map(|p| p.display().to_string());
    let env_errors = config::apply_env(&mut loaded.raw, |k| std::env::var(k).ok());
    config::apply_overrides(&mut loaded.raw, &args.overrides());
    let mut problems = env_errors;
    match config::validate(&loaded, registry) {
        Ok(plan) if problems.is_empty() => Ok(plan),
        Ok(_) => Err(ConfigError {
            source_name,
            problems,
        }),
        Err(mut es) => {
            problems.append(&mut es);
            Err(ConfigError {
                source_name,
                problems,
            })
        }
    }
}

fn init_logging(level: &str) {
    let _ = env_logger::Builder::new()
        .parse_filters(&format!("{level},tokio_postgres=warn,deadpool=warn"))
        .format_timestamp_millis()
        .target(env_logger::Target::Stderr)
        .try_init();
}

/// The registry as `stormbench list` prints it.
pub fn list(registry: &Registry) -> String {
    let mut out = String::from("Workloads (workload: NAME, mode: MODE, or workload: NAME_MODE):\n");
    for e in registry.entries() {
        out.push_str(&format!(
            "\n  {}\n    {}\n    modes: {} (default {})\n    scale: {}\n",
            e.name,
            e.description,
            e.modes.join(", "),
            e.modes[0],
            e.scale_meaning
        ));
        if let Some(src) = &e.source {
            out.push_str(&format!("    declarative: {}\n", src.display()));
        }
    }
    out
}

fn schema_action(args: &RunArgs) -> SchemaAction {
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

/// Ctrl-C and SIGTERM cancel the returned token; a second one ends the process at once
/// (exit 130), even if writing the report is stuck. The signals are watched on a thread of
/// their own, so a busy or blocked control runtime cannot delay them.
fn interrupt_token() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("stormbench-signals".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return;
                }
            };
            rt.block_on(async move {
                let mut signals = match Signals::new() {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                signals.next().await;
                log::warn!(
                    "interrupted: stopping and writing the report (interrupt again to exit at once)"
                );
                t.cancel();
                signals.next().await;
                eprintln!("interrupted twice: exiting now");
                std::process::exit(Exit::Interrupted as i32);
            });
        });
    match spawned.map_err(|e| e.to_string()).and_then(|_| {
        ready_rx
            .recv()
            .unwrap_or_else(|_| Err("the signal thread ended".into()))
    }) {
        Ok(()) => {}
        Err(e) => log::warn!("cannot listen for Ctrl-C and SIGTERM: {e}"),
    }
    token
}

/// SIGINT and SIGTERM as one stream.
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    async fn next(&mut self) {
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
    }
}

/// stormbench's own waits on the server, each bounded and each ended by an interrupt.
#[derive(Clone, Copy)]
pub(crate) struct Waits<'a> {
    /// Ctrl-C / SIGTERM.
    pub interrupt: &'a CancellationToken,
    /// The server, for liveness probes during long steps.
    pub target: &'a Target,
}

impl Waits<'_> {
    /// A short step (server facts, the marker, statistics): at most `limit`.
    pub async fn quick<T, E: Into<AppError>>(
        &self,
        what: &'static str,
        limit: std::time::Duration,
        step: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, AppError> {
        self.interruptible(what, async {
            match tokio::time::timeout(limit, step).await {
                Ok(r) => r.map_err(Into::into),
                Err(_) => Err(anyhow!(
                    "{what}: the server did not answer within {}s; is it overloaded, frozen or unreachable?",
                    limit.as_secs()
                )
                .into()),
            }
        })
        .await
    }

    /// A step bounded by its own timeout (a connection start-up): ended by an interrupt.
    pub async fn interruptible<T, E: Into<AppError>>(
        &self,
        what: &'static str,
        step: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, AppError> {
        tokio::select! {
            r = step => r.map_err(Into::into),
            _ = self.interrupt.cancelled() => Err(AppError::Interrupted(what)),
        }
    }

    /// A long step (loading, index builds, checks): as long as the server answers a
    /// liveness probe.
    pub async fn long<T, E: Into<AppError>>(
        &self,
        what: &'static str,
        step: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, AppError> {
        self.interruptible(what, async {
            tokio::select! {
                r = step => r.map_err(Into::into),
                why = crate::db::unresponsive(self.target) => Err(anyhow!("{what}: {why}").into()),
            }
        })
        .await
    }
}

/// Runs the plan; the embedded cluster (if any) lives exactly as long as this function.
async fn execute(plan: RunPlan, args: &RunArgs, inputs: &[PathBuf]) -> Result<Exit, AppError> {
    let interrupt = interrupt_token();
    let action = schema_action(args);
    let outputs: Vec<(&str, &std::path::Path)> = [
        ("--json", plan.json.as_deref()),
        ("--csv", plan.csv.as_deref()),
        ("--html", plan.html.as_deref()),
    ]
    .into_iter()
    .filter_map(|(opt, p)| p.map(|p| (opt, p)))
    .collect();
    report::check_outputs(&outputs, inputs).map_err(|e| AppError::Usage(format!("{e:#}")))?;
    let cluster = start_embedded(&plan, &interrupt).await?;
    let target = Target::from_plan(&plan.database, cluster.as_ref());
    let waits = Waits {
        interrupt: &interrupt,
        target: &target,
    };
    // connect_once is bounded by the connect timeout itself
    let admin = waits
        .interruptible("connecting", async {
            target.connect_once().await.map_err(|e| anyhow!(e))
        })
        .await?;
    let server = waits
        .quick("reading server settings", QUERY_TIMEOUT, async {
            crate::db::server_info(&admin).await.map_err(|e| anyhow!(e))
        })
        .await?;
    log::info!(
        "connected to {} (PostgreSQL {})",
        target.display,
        server.version
    );
    let workload = plan.target().workload.clone();
    let name = workload.schema_name().unwrap_or(&plan.workload).to_string();
    if cluster.is_some() && plan.collect.as_ref().is_some_and(|c| c.statements) {
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

    if action == SchemaAction::Cleanup {
        let cleaned = waits
            .long(
                "clean-up",
                schema::locked(
                    &admin,
                    schema::cleanup(&admin, workload.as_ref(), &name, args.force_drop),
                ),
            )
            .await?;
        match cleaned {
            Cleaned::Dropped(objects) => println!(
                "dropped the {name} schema from {} ({} objects: {})",
                target.display,
                objects.len(),
                objects.join(", ")
            ),
            Cleaned::Nothing => println!(
                "nothing to clean up: no {name} schema set up by stormbench in {}",
                target.display
            ),
        }
        return Ok(Exit::Ok);
    }
    waits
        .quick(
            "checking the workload's requirements",
            QUERY_TIMEOUT,
            async {
                workload
                    .preflight(&admin, server.version_num)
                    .await
                    .map_err(|problems| {
                        anyhow!(
                            "the {name} workload cannot run on this server:\n  {}",
                            problems.join("\n  ")
                        )
                    })
            },
        )
        .await?;
    if args.check {
        let checks = run_checks(waits, &admin, workload.as_ref()).await?;
        print!("{}", report::render_checks(&checks));
        return Ok(checks_exit(&checks, Exit::Ok));
    }
    let prepared = waits
        .long(
            "schema set-up",
            prepare_schema(
                &plan,
                action,
                cluster.is_some(),
                &admin,
                &target,
                workload.as_ref(),
                args,
            ),
        )
        .await?;
    if args.no_run {
        println!(
            "schema for {name} is ready at scale {} on {}",
            plan.scale, target.display
        );
        return Ok(Exit::Ok);
    }
    let display = Display::auto(args.quiet);
    let exporter = match plan.prometheus {
        Some(addr) => {
            let published = plan.collect.as_ref().map(|_| Published::default());
            let e = Exporter::start(addr, &plan, workload.kinds(), published)
                .await
                .map_err(|e| anyhow!(e))?;
            display.line(&format!(
                "serving Prometheus metrics at http://{}/metrics",
                e.addr()
            ));
            Some(e)
        }
        None => None,
    };

    display.line(&match &plan.progressive {
        Some(sweep) => describe_sweep(&plan, sweep),
        None => format!(
            "running {} (mode {}) {} with {} workers over {} connections",
            plan.workload,
            plan.mode,
            describe_stop(&plan.stop),
            plan.workers,
            plan.connections
        ),
    });
    let mut opts = exec_options(&plan);
    opts.driver = waits
        .interruptible("probing the driver", async {
            Ok::<_, AppError>(exec::resolve_driver(workload.as_ref(), &target, plan.driver).await)
        })
        .await?;
    if let Some(sweep) = &plan.progressive {
        return crate::scaling::run::sweep(
            &plan,
            &opts,
            sweep,
            &target,
            &admin,
            workload,
            server,
            prepared,
            &interrupt,
            &display,
            exporter.as_ref(),
        )
        .await;
    }
    let Measured {
        result,
        server_xacts,
        database_stats,
    } = measure(
        &plan,
        &target,
        &admin,
        &workload,
        &opts,
        &interrupt,
        &display,
        exporter.as_ref(),
        true,
    )
    .await?;
    // a failure of the checks keeps the run's figures: the report is written first
    let (checks, check_error) = if workload.check_after_run() && !result.interrupted {
        match run_checks(waits, &admin, workload.as_ref()).await {
            Ok(c) => (Some(c), None),
            Err(e) => (None, Some(e)),
        }
    } else {
        (None, None)
    };
    let report = Report::build(
        &result,
        ReportInput {
            config: plan.to_report_json(),
            database: target.display.clone(),
            server,
            workload: WorkloadReport::new(&plan, workload.as_ref(), prepared.marker, prepared.load),
            pool_size: plan.connections,
            connection_mode: workload
                .connection_mode()
                .unwrap_or(plan.connection_mode)
                .as_str(),
            target_tps: match plan.arrival {
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
    print!("{}", report::render_console(&report));
    // off the control runtime: a stuck write (a FIFO nobody reads) must not stop a second
    // Ctrl-C from ending the process
    let report = std::sync::Arc::new(report);
    let written = {
        let (report, plan) = (report.clone(), plan.clone());
        tokio::task::spawn_blocking(move || write_outputs(&report, &plan)).await
    };
    written.map_err(|e| anyhow!("writing the reports: {e}"))??;
    if let Some(e) = check_error {
        return Err(e);
    }
    if let Some(first) = report.health.internal_errors.first() {
        return Err(anyhow!(
            "the run failed: an internal error stopped it ({first}); this is a bug in stormbench, please report it; the report covers what ran before"
        )
        .into());
    }
    let exit = if result.interrupted {
        Exit::Interrupted
    } else if report.summary.transactions == 0 {
        Exit::NothingSucceeded
    } else if report.health.had_outage() {
        Exit::Outage
    } else {
        Exit::Ok
    };
    Ok(match &report.checks {
        Some(c) => checks_exit(c, exit),
        None => exit,
    })
}

/// One measured run with its server-side figures.
pub(crate) struct Measured {
    /// What the workers measured.
    pub result: exec::RunResult,
    /// Server commits + rollbacks over the measured phase.
    pub server_xacts: Option<u64>,
    /// pg_stat collection, when on.
    pub database_stats: Option<DbStatsReport>,
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
    display: &Display,
    exporter: Option<&Exporter>,
    first: bool,
) -> Result<Measured, AppError> {
    // server-side counts need the backends' statistics flushed; a band of a sweep does not
    // report them unless it collects
    let settle = plan.collect.is_some() || plan.progressive.is_none();
    let published = exporter.and_then(|e| e.published());
    let waits = Waits { interrupt, target };
    let collector = match &plan.collect {
        Some(c) => Some(
            waits
                .quick(
                    "starting the statistics collector",
                    QUERY_TIMEOUT,
                    start_collector(target, c, workload.as_ref(), published),
                )
                .await?,
        ),
        None => None,
    };
    let (measuring_tx, measuring_rx) = tokio::sync::oneshot::channel();
    let stop_collecting = CancellationToken::new();
    let run = async {
        let r = exec::run(
            workload.clone(),
            target,
            opts,
            interrupt.clone(),
            display,
            exec::Hooks {
                measuring: Some(measuring_tx),
                observer: exporter.map(|e| e.observer()),
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
    let observe = async {
        // an interrupt during the warm-up ends the run before measurement starts
        tokio::select! {
            r = measuring_rx => if r.is_err() { return (None, None) },
            _ = stop_collecting.cancelled() => return (None, None),
        }
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
    };
    let (result, (xacts_before, collected)) = tokio::join!(run, observe);
    let result = match result {
        Ok(r) => r,
        Err(_) if interrupt.is_cancelled() => return Err(AppError::Interrupted("connecting")),
        Err(e) => return Err(anyhow!(e).into()),
    };
    let server_xacts = match xacts_before {
        Some(before) => within(FINAL_QUERY_TIMEOUT, server_xacts(admin))
            .await
            .flatten()
            .map(|after| after.saturating_sub(before)),
        None => None,
    };
    let database_stats = collected.and_then(DbStatsReport::build);
    if first && plan.collect.as_ref().is_some_and(|c| c.statements) {
        if let Some(Some(note)) = database_stats.as_ref().map(|d| &d.statements_note) {
            log::warn!("{note}; the run went on without statement statistics");
        }
    }
    Ok(Measured {
        result,
        server_xacts,
        database_stats,
    })
}

/// `fut`'s output if it comes within `limit`.
async fn within<T>(
    limit: std::time::Duration,
    fut: impl std::future::Future<Output = T>,
) -> Option<T> {
    tokio::time::timeout(limit, fut).await.ok()
}

/// Exit 4 when a check failed, otherwise `otherwise`.
pub(crate) fn checks_exit(checks: &[CheckResult], otherwise: Exit) -> Exit {
    if checks.iter().any(|c| !c.passed) {
        Exit::CheckFailed
    } else {
        otherwise
    }
}

async fn start_collector(
    target: &Target,
    c: &crate::config::CollectPlan,
    workload: &dyn Workload,
    published: Option<Published>,
) -> Result<Collector, AppError> {
    let conn = target.connect_once().await.map_err(|e| anyhow!(e))?;
    let opts = CollectOptions {
        interval: c.interval.0,
        statements: c.statements,
        top_statements: c.top_statements,
        tables: workload.tables().iter().map(|t| t.to_string()).collect(),
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

/// Commits + rollbacks of the current database so far (`None` if unreadable).
async fn server_xacts(admin: &Conn) -> Option<u64> {
    admin
        .query_one(
            "SELECT (xact_commit + xact_rollback)::bigint FROM pg_stat_database WHERE datname = current_database()",
            &[],
        )
        .await
        .ok()
        .map(|r| r.get::<_, i64>(0) as u64)
}

pub(crate) fn exec_options(plan: &RunPlan) -> ExecOptions {
    ExecOptions {
        workers: plan.workers,
        connections: plan.connections,
        stop: plan.stop,
        warmup: plan.warmup.0,
        arrival: plan.arrival,
        think_time: plan.think_time.0,
        max_tries: plan.max_tries,
        seed: plan.seed,
        sample_interval: plan.sample_interval.0,
        summary_interval: plan.summary_interval.map(|d| d.0),
        connection_mode: plan.connection_mode,
        driver: plan.driver,
        threads: plan.threads,
    }
}

/// Writes every requested file; one failing does not stop the others.
fn write_outputs(r: &Report, plan: &RunPlan) -> Result<(), AppError> {
    type Writer = fn(&Report, &std::path::Path) -> anyhow::Result<()>;
    let files: [(Option<&PathBuf>, Writer); 3] = [
        (plan.json.as_ref(), report::write_json),
        (plan.csv.as_ref(), report::write_csv),
        (plan.html.as_ref(), report::write_html),
    ];
    let mut first_error = None;
    for (path, write) in files {
        if let Some(p) = path {
            match write(r, p) {
                Ok(()) => log::info!("wrote {}", p.display()),
                Err(e) => {
                    eprintln!("Error: {e:#}");
                    first_error.get_or_insert(e);
                }
            }
        }
    }
    match first_error {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

async fn start_embedded(
    plan: &RunPlan,
    interrupt: &CancellationToken,
) -> Result<Option<EmbeddedCluster>, AppError> {
    if !plan.database.embedded {
        return Ok(None);
    }
    let opts = EmbeddedOptions {
        settings: vec![(
            "max_connections".into(),
            (plan.connections + 20).max(200).to_string(),
        )],
        version: None,
        bindir: plan.database.bindir.clone(),
    };
    eprintln!("starting an embedded PostgreSQL cluster (removed when stormbench exits)");
    let start = tokio::task::spawn_blocking(move || EmbeddedCluster::start(&opts));
    // an interrupt does not wait for initdb: the cluster's watchdog removes what the
    // start-up leaves when the process exits
    let cluster = tokio::select! {
        c = start => c.context("embedded cluster start-up task failed")?.map_err(|e| anyhow!(e))?,
        _ = interrupt.cancelled() => return Err(AppError::Interrupted("embedded cluster start-up")),
    };
    Ok(Some(cluster))
}

/// What schema preparation found or did.
pub(crate) struct Prepared {
    /// The marker found or written.
    pub marker: Option<marker::Marker>,
    /// The load done now, if any.
    pub load: Option<LoadStats>,
}

async fn prepare_schema(
    plan: &RunPlan,
    action: SchemaAction,
    embedded: bool,
    admin: &Conn,
    target: &Target,
    workload: &dyn Workload,
    args: &RunArgs,
) -> Result<Prepared, AppError> {
    let name = workload.schema_name().unwrap_or(&plan.workload);
    if !workload.needs_schema() {
        return Ok(Prepared {
            marker: None,
            load: None,
        });
    }
    match schema::inspect(admin, workload, name, plan.scale, action, embedded).await? {
        Found::Ready(m) => {
            log::info!("{name} schema present at scale {}", plan.scale);
            return Ok(Prepared {
                marker: Some(m),
                load: None,
            });
        }
        Found::MustLoad => {}
    }
    let load = schema::locked(admin, async {
        // a pool just for loading, sized for parallel COPY
        let loader =
            Connector::new(target, plan.connections.clamp(1, 8), None).map_err(|e| anyhow!(e))?;
        load(plan, admin, &loader, workload, args).await
    })
    .await?;
    let marker = marker::read(admin, name)
        .await
        .context("reading the marker")?;
    Ok(Prepared {
        marker,
        load: Some(load),
    })
}

async fn load(
    plan: &RunPlan,
    admin: &Conn,
    connector: &Connector,
    workload: &dyn Workload,
    args: &RunArgs,
) -> anyhow::Result<LoadStats> {
    let name = workload.schema_name().unwrap_or(&plan.workload);
    let quiet = args.quiet;
    // -q: the figures are in the report; nothing on stderr but errors
    let say = |line: String| {
        if !quiet {
            eprintln!("{line}");
        }
    };
    say(format!("loading {name} at scale {} ...", plan.scale));
    let before_load = schema::recreate(admin, workload, name, plan.scale, args.force_drop).await?;
    let progress = LoadProgress::default();
    let stats = show_load_progress(workload.load(&connector.pool, &progress), &progress, quiet)
        .await
        .map_err(|e| anyhow!(e))?;
    schema::finish(admin, name, &before_load).await?;
    for t in &stats.tables {
        say(format!(
            "  {}: {} rows in {:.1}s ({:.0} rows/s)",
            t.table,
            t.rows,
            t.elapsed_s,
            t.rows as f64 / t.elapsed_s.max(1e-9)
        ));
    }
    say(format!(
        "  total: {:.1}s including keys and indexes",
        stats.elapsed_s
    ));
    Ok(stats)
}

/// Drives the load while showing its progress: a bar on a terminal, a line every 5 s
/// otherwise, nothing when `quiet`.
async fn show_load_progress<T>(
    load: impl std::future::Future<Output = T>,
    progress: &LoadProgress,
    quiet: bool,
) -> T {
    use std::io::IsTerminal;
    use std::sync::atomic::Ordering::Relaxed;
    if quiet {
        return load.await;
    }
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "  [{elapsed_precise}] [{bar:30}] {pos}/{len} rows ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b
    });
    let every = if bar.is_some() { 200 } else { 5000 };
    let mut load = std::pin::pin!(load);
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(every));
    tick.tick().await;
    let out = loop {
        tokio::select! {
            out = &mut load => break out,
            _ = tick.tick() => {
                let (done, total) = (progress.done.load(Relaxed), progress.total.load(Relaxed));
                match &bar {
                    Some(b) => {
                        b.set_length(total);
                        b.set_position(done);
                    }
                    None => eprintln!("  loaded {done} of {total} rows"),
                }
            }
        }
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    out
}

/// What a sweep will run, in one line: its bands, their lengths and the whole time.
pub fn describe_sweep(plan: &RunPlan, sweep: &crate::config::ProgressivePlan) -> String {
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
pub fn describe_stop(stop: &Stop) -> String {
    match stop {
        Stop::Duration(d) => format!("for {d}"),
        Stop::Transactions { count, limit: None } => format!("for {count} transactions"),
        Stop::Transactions {
            count,
            limit: Some(d),
        } => format!("for {count} transactions or {d}"),
    }
}
