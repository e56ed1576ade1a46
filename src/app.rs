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
use crate::db::{marker, Connector, Target};
use crate::exec::{self, Display, ExecOptions};
use crate::export::Exporter;
use crate::report::{self, Report, ReportInput, WorkloadReport};

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

/// What to do with the schema before (or instead of) running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SchemaAction {
    /// Require an existing schema (an embedded cluster is always set up).
    Existing,
    /// Create and load if missing.
    Setup,
    /// Drop, recreate, load.
    Rebuild,
    /// Drop and exit.
    Cleanup,
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
    init_logging(&plan.log_level);
    for w in &plan.warnings {
        log::warn!("{w}");
    }
    // The control runtime (signals, aggregation, reports); workers get their own threads.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(execute(plan, &cli.run))
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

/// Ctrl-C and SIGTERM cancel the returned token.
fn interrupt_token() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(_) => {
                        let _ = ctrl_c.await;
                        t.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        log::warn!("interrupted: stopping workers and writing the report");
        t.cancel();
    });
    token
}

/// Runs the plan; the embedded cluster (if any) lives exactly as long as this function.
async fn execute(plan: RunPlan, args: &RunArgs) -> Result<Exit, AppError> {
    let interrupt = interrupt_token();
    let action = schema_action(args);
    for path in plan
        .json
        .iter()
        .chain(plan.csv.iter())
        .chain(plan.html.iter())
    {
        report::check_writable(path)?;
    }
    let cluster = start_embedded(&plan, &interrupt).await?;
    let target = Target::from_plan(&plan.database, cluster.as_ref());
    let admin = target.connect_once().await.map_err(|e| anyhow!(e))?;
    let server = crate::db::server_info(&admin)
        .await
        .map_err(|e| anyhow!(e))?;
    log::info!(
        "connected to {} (PostgreSQL {})",
        target.display,
        server.version
    );
    let workload = plan.target().workload.clone();
    let name = workload.schema_name().unwrap_or(&plan.workload).to_string();
    if cluster.is_some() && plan.collect.as_ref().is_some_and(|c| c.statements) {
        // a throwaway cluster preloads the library when it exists; the extension is ours to add
        let _ = admin
            .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .await;
    }

    if action == SchemaAction::Cleanup {
        cleanup(&admin, workload.as_ref(), &name).await?;
        println!("dropped the {name} schema from {}", target.display);
        return Ok(Exit::Ok);
    }
    if let Err(problems) = workload.preflight(&admin, server.version_num).await {
        return Err(anyhow!(
            "the {name} workload cannot run on this server:\n  {}",
            problems.join("\n  ")
        )
        .into());
    }
    if args.check {
        let checks = run_checks(&admin, workload.as_ref()).await?;
        print!("{}", report::render_checks(&checks));
        return Ok(checks_exit(&checks, Exit::Ok));
    }
    let prepared = tokio::select! {
        r = prepare_schema(&plan, action, cluster.is_some(), &admin, &target, workload.as_ref(), args.quiet) => r?,
        _ = interrupt.cancelled() => return Err(AppError::Interrupted("schema setup")),
    };
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

    display.line(&format!(
        "running {} (mode {}) {} with {} workers over {} connections",
        plan.workload,
        plan.mode,
        describe_stop(&plan.stop),
        plan.workers,
        plan.connections
    ));
    let mut opts = exec_options(&plan);
    opts.driver = exec::resolve_driver(workload.as_ref(), &target, plan.driver).await;
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
    let checks = if workload.check_after_run() && !result.interrupted {
        Some(run_checks(&admin, workload.as_ref()).await?)
    } else {
        None
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
    write_outputs(&report, &plan)?;
    let exit = if result.interrupted {
        Exit::Interrupted
    } else if report.summary.transactions == 0 && report.summary.failed > 0 {
        Exit::NothingSucceeded
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
    let collector = match &plan.collect {
        Some(c) => Some(start_collector(target, c, workload.as_ref(), published).await?),
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
        if measuring_rx.await.is_err() {
            return (None, None);
        }
        let before = server_xacts(admin).await;
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
        Some(before) => server_xacts(admin)
            .await
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
    Ok(Collector::new(conn, opts, published).await)
}

pub(crate) async fn run_checks(
    admin: &Conn,
    workload: &dyn Workload,
) -> Result<Vec<CheckResult>, AppError> {
    let checks = workload
        .check(admin)
        .await
        .context("running the consistency checks")?;
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
    let cluster = start
        .await
        .context("embedded cluster start-up task failed")?
        .map_err(|e| anyhow!(e))?;
    if interrupt.is_cancelled() {
        return Err(AppError::Interrupted("embedded cluster start-up"));
    }
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
    quiet: bool,
) -> Result<Prepared, AppError> {
    let name = workload.schema_name().unwrap_or(&plan.workload);
    if !workload.needs_schema() {
        return Ok(Prepared {
            marker: None,
            load: None,
        });
    }
    let found = marker::read(admin, name)
        .await
        .context("reading the stormbench_meta marker table")?;
    let must_load = match (action, &found) {
        (SchemaAction::Rebuild, _) => true,
        (_, Some(m)) if m.scale == plan.scale => false,
        (_, Some(m)) => {
            return Err(anyhow!(
                "the {name} schema was loaded at scale {} but this run asks for scale {}; run with --rebuild to reload at scale {}, or set scale: {}",
                m.scale, plan.scale, plan.scale, m.scale
            )
            .into())
        }
        (SchemaAction::Setup, None) => true,
        (_, None) if embedded => true,
        (_, None) => {
            return Err(anyhow!(
                "no {name} schema found in this database; run once with --setup to create and load it (scale {})",
                plan.scale
            )
            .into())
        }
    };
    if !must_load {
        log::info!("{name} schema present at scale {}", plan.scale);
        return Ok(Prepared {
            marker: found,
            load: None,
        });
    }
    // a pool just for loading, sized for parallel COPY
    let loader =
        Connector::new(target, plan.connections.clamp(1, 8), None).map_err(|e| anyhow!(e))?;
    let load = load(plan, admin, &loader, workload, quiet).await?;
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
    quiet: bool,
) -> Result<LoadStats, AppError> {
    let name = workload.schema_name().unwrap_or(&plan.workload);
    // -q: the figures are in the report; nothing on stderr but errors
    let say = |line: String| {
        if !quiet {
            eprintln!("{line}");
        }
    };
    say(format!("loading {name} at scale {} ...", plan.scale));
    marker::remove(admin, name)
        .await
        .context("clearing the marker")?;
    workload
        .drop_schema(admin)
        .await
        .context("dropping the old schema")?;
    workload
        .create_schema(admin)
        .await
        .context("creating the schema")?;
    let progress = LoadProgress::default();
    let stats = show_load_progress(workload.load(&connector.pool, &progress), &progress, quiet)
        .await
        .context("loading data")?;
    marker::write(admin, name, plan.scale)
        .await
        .context("writing the marker")?;
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

async fn cleanup(admin: &Conn, workload: &dyn Workload, name: &str) -> Result<(), AppError> {
    workload
        .drop_schema(admin)
        .await
        .context("dropping the schema")?;
    marker::remove(admin, name)
        .await
        .context("clearing the marker")?;
    Ok(())
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
