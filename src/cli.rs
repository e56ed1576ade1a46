//! The command line: `stormbench [OPTIONS]` runs a workload (flags override the YAML),
//! `stormbench list` prints the registry.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{Dur, Overrides, Secret};
use crate::core::Driver;

/// PostgreSQL load tester: one YAML file picks a workload and runs it across many workers.
#[derive(Debug, Parser)]
#[command(name = "stormbench", version, about, long_about = None)]
pub struct Cli {
    /// A subcommand; without one, stormbench runs the configured workload.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    /// Run options.
    #[command(flatten)]
    pub run: RunArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List the workloads in the registry, their modes and what scale means.
    List,
    /// Learn a workload model from PostgreSQL logs, generate traces, validate them.
    #[command(subcommand)]
    Trace(TraceCommand),
    /// Validate a declarative workload folder without running it; when a database is
    /// reachable, also create its schema, load sample rows and prepare every statement
    /// there, inside a transaction that is rolled back.
    CheckWorkload(CheckWorkloadArgs),
    /// Compare two runs' JSON reports: throughput and latency per transaction kind, with a
    /// significance verdict.
    Compare(CompareArgs),
    /// List the runs the results history holds and their trends; record reports in it.
    History(HistoryArgs),
    /// Join the JSON reports of a run's shards (--shard) into one report: exact, from
    /// their stored histograms and counts.
    Merge(MergeArgs),
}

/// Options of `merge`.
#[derive(Debug, Args)]
pub(crate) struct MergeArgs {
    /// The shards' JSON reports.
    #[arg(value_name = "SHARD.json", num_args = 1.., required = true)]
    pub(crate) reports: Vec<PathBuf>,
    /// The files to write: the merged report as JSON, its time series as CSV, and an HTML
    /// page.
    #[command(flatten)]
    pub(crate) files: DocFiles,
}

/// Options of `history`.
#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// The history to read: a SQLite file, a postgres:// URI (default: --history,
    /// STORMBENCH_HISTORY, else ~/.local/share/stormbench/history.sqlite).
    #[arg(long, value_name = "STORE")]
    pub(crate) store: Option<String>,
    /// Only runs of this workload.
    #[arg(short = 'w', long)]
    pub(crate) workload: Option<String>,
    /// Only runs of this mode.
    #[arg(long)]
    pub(crate) mode: Option<String>,
    /// Only runs at this scale.
    #[arg(long)]
    pub(crate) scale: Option<i64>,
    /// At most this many runs, the newest.
    #[arg(long, default_value_t = 50)]
    pub(crate) limit: usize,
    /// Record these JSON reports in the history first (runs made with history off, or
    /// on another machine).
    #[arg(long, value_name = "REPORT.json")]
    pub(crate) import: Vec<PathBuf>,
    /// The files to write: the runs and trends as JSON, the runs as CSV (one row per run
    /// and kind), an HTML page of throughput and p99 over time per workload and kind.
    #[command(flatten)]
    pub(crate) files: DocFiles,
}

/// Where a subcommand writes its document besides the console.
#[derive(Debug, Args)]
pub(crate) struct DocFiles {
    /// Write it as JSON.
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
    /// Write it as CSV.
    #[arg(long, value_name = "FILE")]
    pub(crate) csv: Option<PathBuf>,
    /// Write it as a self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    pub(crate) html: Option<PathBuf>,
}

/// Options of `compare`.
#[derive(Debug, Args)]
pub(crate) struct CompareArgs {
    /// The base run's JSON report and the new run's (only the new one with --baseline).
    #[arg(value_name = "BASE.json NEW.json", num_args = 1..=2, required = true)]
    pub(crate) reports: Vec<PathBuf>,
    /// Take the base from the results history: last (the newest complete run of the same
    /// workload, mode and scale), last-pass (the newest that met its objectives) or a run
    /// number from `stormbench history`.
    #[arg(long, value_name = "WHICH")]
    pub(crate) baseline: Option<String>,
    /// The history --baseline reads (default: STORMBENCH_HISTORY, else
    /// ~/.local/share/stormbench/history.sqlite).
    #[arg(long, value_name = "STORE")]
    pub(crate) store: Option<String>,
    /// Exit with code 7 when the new run regressed by more than this (e.g. 5%); also the
    /// threshold of the verdict (default 5%).
    #[arg(long, value_name = "PERCENT")]
    pub(crate) fail_on_regression: Option<String>,
    /// The files to write: the comparison as JSON, as CSV (one row per transaction kind)
    /// and as an HTML page.
    #[command(flatten)]
    pub(crate) files: DocFiles,
}

/// Options of `check-workload`.
#[derive(Debug, Args)]
pub(crate) struct CheckWorkloadArgs {
    /// The workload folder (the one holding workload.yaml).
    #[arg(value_name = "DIR")]
    pub(crate) dir: PathBuf,
    /// Scale to compile at (row counts, foreign-key ranges).
    #[arg(long, default_value_t = 1)]
    pub(crate) scale: u64,
    /// Only the static checks: do not connect to a database.
    #[arg(long)]
    pub(crate) offline: bool,
    /// The database to prepare the statements on (falls back to the same flags given
    /// before the subcommand).
    #[command(flatten)]
    pub(crate) target: TargetArgs,
}

/// The config file and the connection flags that override its `database:` section; a run
/// and `check-workload` share them.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct TargetArgs {
    /// Config file (YAML); `-` reads it from standard input.
    #[arg(short = 'c', long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Connection URI (postgresql://user@host:port/dbname?sslmode=...) or libpq key=value
    /// string; the other connection flags override its parts. Keep passwords out of it.
    #[arg(long, value_name = "URI")]
    pub(crate) url: Option<String>,
    /// Database host.
    #[arg(long)]
    pub(crate) host: Option<String>,
    /// Database port.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) port: Option<u16>,
    /// Database name.
    #[arg(long)]
    pub(crate) dbname: Option<String>,
    /// Database role (the password comes from the config or STORMBENCH_DB_PASSWORD).
    #[arg(short = 'u', long)]
    pub(crate) username: Option<String>,
}

impl TargetArgs {
    /// Each flag as given here, else as given in `fallback`.
    pub(crate) fn or(&self, fallback: &TargetArgs) -> TargetArgs {
        TargetArgs {
            config: self.config.clone().or_else(|| fallback.config.clone()),
            url: self.url.clone().or_else(|| fallback.url.clone()),
            host: self.host.clone().or_else(|| fallback.host.clone()),
            port: self.port.or(fallback.port),
            dbname: self.dbname.clone().or_else(|| fallback.dbname.clone()),
            username: self.username.clone().or_else(|| fallback.username.clone()),
        }
    }
}

/// `stormbench trace ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum TraceCommand {
    /// Learn a model (templates, Markov chain, parameters, think times) from a log.
    Learn(TraceLearnArgs),
    /// Generate a synthetic trace (JSON Lines) from a model.
    Generate(TraceGenerateArgs),
    /// Compare a generated trace with the original workload statistically.
    Validate(TraceValidateArgs),
}

/// Options of `trace learn`.
#[derive(Debug, Args)]
pub(crate) struct TraceLearnArgs {
    /// The log file.
    #[arg(short = 'i', long, value_name = "FILE")]
    pub(crate) input: PathBuf,
    /// stderr | csvlog | jsonlog | plain (default: detected from the name and content).
    #[arg(short = 'f', long)]
    pub(crate) format: Option<String>,
    /// Markov order of the template chain (1 or 2).
    #[arg(long, default_value_t = 1)]
    pub(crate) order: u64,
    /// Write the model (JSON) here.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub(crate) out: PathBuf,
}

/// Options of `trace generate`.
#[derive(Debug, Args)]
pub(crate) struct TraceGenerateArgs {
    /// The model written by `trace learn`.
    #[arg(short = 'm', long, value_name = "FILE")]
    pub(crate) model: PathBuf,
    /// Statements to generate, at least (the sessions in progress then run to their end);
    /// 1 to 1,000,000,000.
    #[arg(short = 'n', long, default_value_t = 100_000)]
    pub(crate) statements: u64,
    /// Concurrent sessions, 1 to 1,000,000 (default: as many as the log had, at most 1000).
    #[arg(long)]
    pub(crate) sessions: Option<u64>,
    /// RNG seed.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Write the trace (JSON Lines) here.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// Also write the trace as CSV here.
    #[arg(long, value_name = "FILE")]
    pub(crate) csv: Option<PathBuf>,
}

/// Options of `trace validate`.
#[derive(Debug, Args)]
pub(crate) struct TraceValidateArgs {
    /// The original: a log (any `trace learn` format) or a trace (JSON Lines).
    #[arg(long, value_name = "FILE")]
    pub(crate) original: PathBuf,
    /// Format of the original (default: detected).
    #[arg(short = 'f', long)]
    pub(crate) format: Option<String>,
    /// The generated trace (JSON Lines).
    #[arg(long, value_name = "FILE")]
    pub(crate) generated: PathBuf,
    /// Significance level of the tests.
    #[arg(long, default_value_t = 0.05)]
    pub(crate) alpha: f64,
    /// Write the report as JSON here.
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
    /// Write the tests as CSV here (one row per test).
    #[arg(long, value_name = "FILE")]
    pub(crate) csv: Option<PathBuf>,
    /// Write the report as self-contained HTML here.
    #[arg(long, value_name = "FILE")]
    pub(crate) html: Option<PathBuf>,
}

/// Options of a run; each overrides the config file.
#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// Config file and connection flags.
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    /// Measured run time, e.g. 30s, 5m.
    #[arg(short = 'd', long, value_parser = Dur::parse)]
    pub(crate) duration: Option<Dur>,
    /// Workload name, or name_mode (e.g. simple_read).
    #[arg(short = 'w', long)]
    pub(crate) workload: Option<String>,
    /// Workload mode.
    #[arg(long)]
    pub(crate) mode: Option<String>,
    /// Concurrent workers.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) workers: Option<u64>,
    /// Connections in the pool.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) connections: Option<u64>,
    /// Scale factor.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) scale: Option<u64>,
    /// Summary line interval, e.g. 10s.
    #[arg(short = 's', long, value_parser = Dur::parse)]
    pub(crate) summary_interval: Option<Dur>,
    /// No periodic summary lines.
    #[arg(long)]
    pub(crate) no_summary: bool,
    /// Open loop: global target rate in transactions per second.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) rate: Option<f64>,
    /// Run seed.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) seed: Option<u64>,
    /// Stop after this many measured transactions.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) transactions: Option<u64>,
    /// Warm-up excluded from results, e.g. 10s.
    #[arg(long, value_parser = Dur::parse)]
    pub(crate) warmup: Option<Dur>,
    /// Write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
    /// Write the time series as CSV here.
    #[arg(long, value_name = "FILE")]
    pub(crate) csv: Option<PathBuf>,
    /// error | warn | info | debug | trace.
    #[arg(long)]
    pub(crate) log_level: Option<String>,
    /// Run against a throwaway local PostgreSQL cluster.
    #[arg(long)]
    pub(crate) embedded: bool,
    /// Client runtime threads.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) threads: Option<u64>,
    /// Client library for the transactions: auto (the lean wire driver where the workload
    /// supports it), wire, or tokio-postgres.
    #[arg(long, value_parser = parse_driver)]
    pub(crate) driver: Option<Driver>,
    /// Create the schema and load data if missing (idempotent), then run.
    #[arg(long)]
    pub(crate) setup: bool,
    /// Drop, recreate and load the schema, then run.
    #[arg(short = 'r', long, conflicts_with = "setup")]
    pub(crate) rebuild: bool,
    /// Drop the workload's schema and exit.
    #[arg(long, conflicts_with_all = ["setup", "rebuild"])]
    pub(crate) cleanup: bool,
    /// With --setup, --rebuild or --cleanup: also drop tables of the workload's names that
    /// stormbench did not create (and objects built on its own tables). Without it,
    /// stormbench drops only what its set-up recorded creating.
    #[arg(long)]
    pub(crate) force_drop: bool,
    /// Run the progressive connection-scaling sweep of the `progressive:` section.
    #[arg(long)]
    pub(crate) progressive: bool,
    /// A service-level objective over the config's `slo:` (repeatable): p99_ms=50,
    /// max_error_pct=1, min_tps=1000, KIND.p99_ms=80, breach_budget_pct=1, max_lag_ms=20.
    #[arg(long, value_name = "KEY=VALUE")]
    pub(crate) slo: Vec<String>,
    /// Sample pg_stat_* views during the run (database, checkpoints, WAL, connections,
    /// waits, locks, autovacuum).
    #[arg(long)]
    pub(crate) collect_pg_stats: bool,
    /// Report the top statements of the run from pg_stat_statements (implies
    /// --collect-pg-stats).
    #[arg(long)]
    pub(crate) pg_stat_statements: bool,
    /// Serve Prometheus metrics at http://ADDR/metrics during the run.
    #[arg(long, value_name = "ADDR")]
    pub(crate) prometheus: Option<String>,
    /// Write a self-contained HTML report here.
    #[arg(long, value_name = "FILE")]
    pub(crate) html: Option<PathBuf>,
    /// Record the run in this results history: a SQLite file, a postgres:// URI, or off
    /// (default: the config's history, STORMBENCH_HISTORY, else
    /// ~/.local/share/stormbench/history.sqlite).
    #[arg(long, value_name = "STORE")]
    pub(crate) history: Option<String>,
    /// Run the workload's consistency checks (e.g. TPC-C conditions 1-4) and exit.
    #[arg(long, conflicts_with_all = ["cleanup", "no_run"])]
    pub(crate) check: bool,
    /// With --setup or --rebuild: prepare the schema and exit without running.
    #[arg(long)]
    pub(crate) no_run: bool,
    /// Print only the final report (no progress, no summary lines).
    #[arg(short = 'q', long)]
    pub(crate) quiet: bool,
    /// Folder of declarative workloads (repeatable); replaces the config's
    /// workloads_path (default ./workloads).
    #[arg(long, value_name = "DIR")]
    pub(crate) workloads_path: Vec<PathBuf>,
    /// Run shard INDEX of COUNT (from 0) of a run split over several processes
    /// (default: STORMBENCH_SHARD).
    #[arg(long, value_name = "INDEX/COUNT")]
    pub(crate) shard: Option<String>,
    /// Run one of COUNT shards, the index from JOB_COMPLETION_INDEX (a Kubernetes Indexed
    /// Job).
    #[arg(long, value_name = "COUNT")]
    pub(crate) shards: Option<u64>,
    /// Start measuring at this instant (RFC 3339), so shards measure the same interval.
    #[arg(long, value_name = "TIME", conflicts_with = "barrier")]
    pub(crate) start_at: Option<String>,
    /// Start when every shard has joined the barrier NAME in the database.
    #[arg(long, value_name = "NAME")]
    pub(crate) barrier: Option<String>,
    /// Longest wait at the barrier (default 10m).
    #[arg(long, value_name = "DURATION", value_parser = Dur::parse)]
    pub(crate) barrier_timeout: Option<Dur>,
    /// Longest wait of shards other than 0 for shard 0's set-up (default 30m).
    #[arg(long, value_name = "DURATION", value_parser = Dur::parse)]
    pub(crate) setup_wait: Option<Dur>,
}

impl RunArgs {
    /// The config overrides these flags make.
    pub(crate) fn overrides(&self) -> Overrides {
        Overrides {
            duration: self.duration,
            workload: self.workload.clone(),
            mode: self.mode.clone(),
            workers: self.workers,
            connections: self.connections,
            url: self.target.url.clone().map(Secret::new),
            host: self.target.host.clone(),
            port: self.target.port,
            dbname: self.target.dbname.clone(),
            username: self.target.username.clone(),
            scale: self.scale,
            summary_interval: self.summary_interval,
            no_summary: self.no_summary,
            rate: self.rate,
            seed: self.seed,
            transactions: self.transactions,
            warmup: self.warmup,
            json: self.json.clone(),
            csv: self.csv.clone(),
            log_level: self.log_level.clone(),
            embedded: self.embedded,
            threads: self.threads,
            driver: self.driver,
            collect_pg_stats: self.collect_pg_stats,
            pg_stat_statements: self.pg_stat_statements,
            prometheus: self.prometheus.clone(),
            html: self.html.clone(),
            progressive: self.progressive,
            slo: self.slo.clone(),
            history: self.history.clone().map(Secret::new),
            shard: self.shard.clone(),
            shards: self.shards,
            start_at: self.start_at.clone(),
            barrier: self.barrier.clone(),
            barrier_timeout: self.barrier_timeout,
            setup_wait: self.setup_wait,
        }
    }
}

fn parse_driver(s: &str) -> Result<Driver, String> {
    match s {
        "auto" => Ok(Driver::Auto),
        "wire" => Ok(Driver::Wire),
        "tokio-postgres" => Ok(Driver::TokioPostgres),
        other => Err(format!(
            "unknown driver '{other}'; use auto, wire or tokio-postgres"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_become_overrides() {
        let cli = Cli::parse_from([
            "stormbench",
            "-c",
            "x.yaml",
            "-d",
            "5m",
            "-w",
            "simple_read",
            "--workers",
            "8",
            "--no-summary",
            "-u",
            "bob",
        ]);
        let o = cli.run.overrides();
        assert_eq!(o.duration.unwrap().0.as_secs(), 300);
        assert_eq!(o.workload.as_deref(), Some("simple_read"));
        assert_eq!(o.workers, Some(8));
        assert!(o.no_summary);
        assert_eq!(o.username.as_deref(), Some("bob"));
    }

    #[test]
    fn bad_duration_flag_is_rejected() {
        assert!(Cli::try_parse_from(["stormbench", "-d", "soon"]).is_err());
    }

    #[test]
    fn a_negative_number_is_a_bad_value_of_its_flag() {
        // not "unexpected argument '-1'": the message names the flag and the value
        for (flag, v) in [("--seed", "-1"), ("--workers", "-5"), ("--port", "-1")] {
            let e = Cli::try_parse_from(["stormbench", flag, v]).unwrap_err();
            let text = e.to_string();
            assert!(
                text.contains(&format!("invalid value '{v}' for '{flag}")),
                "{text}"
            );
        }
        // a negative rate parses, for validation to refuse with its range
        let cli = Cli::try_parse_from(["stormbench", "--rate", "-5"]).unwrap();
        assert_eq!(cli.run.rate, Some(-5.0));
        // a flag after a numeric flag is still a missing value, not the number
        let e = Cli::try_parse_from(["stormbench", "--seed", "--json", "x"]).unwrap_err();
        assert!(
            e.to_string().contains("a value is required for '--seed"),
            "{e}"
        );
    }
}
