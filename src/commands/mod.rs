//! One module per subcommand; `run` dispatches.

mod check_workload;
mod checkpoint;
mod compare;
mod history;
mod list;
mod merge;
mod param_sweep;
mod run;
mod sweep;
mod trace;

use std::path::PathBuf;

use anyhow::Context as _;

use crate::cli::{Cli, Command, RunArgs};
use crate::config::{self, ConfigError, ConfigFile, RunPlan};
use crate::core::Registry;
use crate::error::{AppError, Exit};

/// Entry point: parses nothing itself, returns the exit code.
pub fn run(cli: Cli) -> Result<Exit, AppError> {
    if let Some(Command::Trace(cmd)) = &cli.command {
        return trace::run(cmd);
    }
    if let Some(Command::CheckWorkload(args)) = &cli.command {
        return check_workload::run(args, &cli.run);
    }
    if let Some(Command::Compare(args)) = &cli.command {
        return compare::run(args, &cli.run);
    }
    if let Some(Command::History(args)) = &cli.command {
        return history::run(args, &cli.run);
    }
    if let Some(Command::Merge(args)) = &cli.command {
        return merge::run(args, &cli.run);
    }
    let file = config_file(&cli.run)?;
    let registry = registry(&cli.run, file.as_ref())?;
    if let Some(Command::List) = cli.command {
        out!("{}", list::list(&registry));
        return Ok(Exit::Ok);
    }
    let plan = plan(&cli.run, file.as_ref(), &registry)?;
    let inputs = run_inputs(file.as_ref(), &registry, &plan);
    init_logging(&plan.log_level);
    for w in &plan.warnings {
        log::warn!("{w}");
    }
    // The control runtime (signals, aggregation, reports); workers get their own threads.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let out = rt.block_on(run::execute(plan, &cli.run, &inputs));
    // a blocking task still running (an embedded cluster's initdb after an interrupt) is
    // not waited for: the cluster's watchdog cleans up after it
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    out
}

fn init_logging(level: &str) {
    let _ = env_logger::Builder::new()
        .parse_filters(&format!("{level},tokio_postgres=warn,deadpool=warn"))
        .format_timestamp_millis()
        .target(env_logger::Target::Stderr)
        .try_init();
}

/// The config file of `--config` (`-`: standard input), read once; `None` without one.
pub fn config_file(args: &RunArgs) -> Result<Option<ConfigFile>, ConfigError> {
    args.target
        .config
        .as_deref()
        .map(ConfigFile::read)
        .transpose()
}

/// The built-in workloads plus the declarative ones found in the workloads path
/// (`--workloads-path`, else the config's `workloads_path`, else `./workloads`). A folder
/// named explicitly must exist; a name taken twice is an error naming both.
pub fn registry(args: &RunArgs, file: Option<&ConfigFile>) -> Result<Registry, ConfigError> {
    let source_name = file.map(ConfigFile::name);
    let fail = |problems| ConfigError {
        source_name: source_name.clone(),
        problems,
    };
    let (paths, explicit) = config::workloads_paths(file, &args.workloads_path).map_err(fail)?;
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

impl crate::cli::DocFiles {
    /// Refuses, before anything is read, an output that would land on an input or on
    /// another output.
    fn check(&self, inputs: &[PathBuf]) -> Result<(), AppError> {
        let outputs: Vec<(&str, &std::path::Path)> = [
            ("--json", &self.json),
            ("--csv", &self.csv),
            ("--html", &self.html),
        ]
        .into_iter()
        .filter_map(|(o, p)| p.as_deref().map(|p| (o, p)))
        .collect();
        crate::report::check_outputs(&outputs, inputs)
            .map_err(|e| AppError::Usage(format!("{e:#}")))
    }

    /// Writes `doc` to each file given.
    fn write(&self, doc: &impl crate::report::Document) -> Result<(), AppError> {
        use crate::report::Format;
        Ok(crate::report::write_each(
            doc,
            [
                (Format::Json, self.json.as_deref()),
                (Format::Csv, self.csv.as_deref()),
                (Format::Html, self.html.as_deref()),
            ],
        )?)
    }
}

/// Said when a history connection string given as `flag` holds a password.
fn history_password_warning(flag: &str) -> String {
    format!(
        "{flag} carries a password, which other users of this machine can see in the \
         process list; put it in ~/.pgpass or PGPASSWORD"
    )
}

/// Loads, overrides and validates the config.
pub fn plan(
    args: &RunArgs,
    file: Option<&ConfigFile>,
    registry: &Registry,
) -> Result<RunPlan, ConfigError> {
    let mut loaded = match file {
        Some(file) => file.load(registry)?,
        None => config::LoadedConfig::default(),
    };
    let source_name = file.map(ConfigFile::name);
    let mut problems = config::apply_env(&mut loaded.raw, |k| std::env::var(k).ok());
    problems.extend(config::apply_overrides(&mut loaded.raw, &args.overrides()));
    match config::validate(&loaded, registry) {
        Ok(mut plan) if problems.is_empty() => {
            if args
                .target
                .url
                .as_deref()
                .is_some_and(config::url_has_password)
            {
                plan.warnings.push(
                    "--url carries a password, which other users of this machine can see in \
                     the process list; put it in ~/.pgpass, PGPASSWORD or STORMBENCH_DB_PASSWORD"
                        .into(),
                );
            }
            // the flag, when given, is what plan.history holds
            if args.history.is_some() && plan.history.has_password() {
                plan.warnings.push(history_password_warning("--history"));
            }
            Ok(plan)
        }
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

/// The files a run reads, which no output may overwrite: the config file, the files of
/// a declarative workload's folder and those the workload names (a replay's trace).
pub(crate) fn run_inputs(
    file: Option<&ConfigFile>,
    registry: &Registry,
    plan: &RunPlan,
) -> Vec<PathBuf> {
    let mut inputs: Vec<PathBuf> = file
        .filter(|f| !f.is_stdin())
        .map(|f| f.path.clone())
        .into_iter()
        .collect();
    let source = registry
        .entries()
        .iter()
        .find(|e| e.name == plan.workload)
        .and_then(|e| e.source.clone());
    // files the workload reads elsewhere (the trace a replay runs)
    inputs.extend(plan.built.workload.input_files());
    // a declarative workload's source is its workload.yaml; its SQL files sit beside it
    if let Some(dir) = source.as_deref().and_then(std::path::Path::parent) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            inputs.extend(entries.flatten().map(|e| e.path()));
        }
    }
    inputs
}
