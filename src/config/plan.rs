//! The validated plan: every field usable as is.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::raw::{ArrivalKind, Secret, StopWhen, Strategy};
use super::Dur;
use crate::core::registry::Resolved;
use crate::core::{ConnectionMode, Driver, Workload};
use crate::types::{Isolation, SslMode};

/// A validated sweep.
#[derive(Debug, Clone, Serialize)]
pub struct ProgressivePlan {
    pub strategy: Strategy,
    /// (workers, connections) per band, in order.
    pub levels: Vec<(usize, usize)>,
    /// Measured time per band.
    pub band_duration: Dur,
    /// Warm-up per band.
    pub warmup: Dur,
    /// Pause between bands.
    pub cooldown: Dur,
    /// Stop rule.
    pub stop_when: StopWhen,
}

/// Where the run connects.
#[derive(Debug, Clone, Serialize)]
pub struct DatabasePlan {
    /// Start a throwaway cluster (host/port/user come from it).
    pub embedded: bool,
    /// Server binaries for the embedded cluster.
    pub bindir: Option<PathBuf>,
    pub host: String,
    pub port: u16,
    /// Database.
    pub dbname: String,
    /// Role.
    pub username: String,
    /// Password, redacted when serialized.
    pub password: Option<Secret>,
    /// The password file the password came from, when it came from one.
    pub passfile: Option<PathBuf>,
    /// TLS mode.
    pub sslmode: SslMode,
    /// Root certificates for verify-ca and verify-full (`None`: the system's).
    pub sslrootcert: Option<PathBuf>,
    /// Client certificate for certificate authentication.
    pub sslcert: Option<PathBuf>,
    /// The client certificate's private key.
    pub sslkey: Option<PathBuf>,
    /// What the server shows as `application_name` (`None`: `stormbench`).
    pub application_name: Option<String>,
    pub connect_timeout: Dur,
    /// Default isolation of every connection; `None` keeps the server's setting.
    pub isolation: Option<Isolation>,
    /// Every connection runs with `default_transaction_read_only = on` (`safety.read_only`).
    pub read_only: bool,
}

/// Guards against pointing destructive steps at the wrong database (`safety:`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SafetyPlan {
    /// Host patterns destructive steps may touch (`None`: any).
    pub allowed_hosts: Option<Vec<String>>,
    /// Database-name pattern destructive steps may touch (`None`: any).
    pub database_pattern: Option<String>,
    /// No set-up, clean-up or writing workload; connections read only.
    pub read_only: bool,
    /// What the guards decided for this run, once checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<SafetyVerdict>,
}

/// What the guards decided for one run, as the report records it.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SafetyVerdict {
    /// The destructive step the guards looked at (`--setup`, `--rebuild`, `--cleanup`,
    /// `a workload that writes`); `None` when the run does neither.
    pub step: Option<String>,
    /// Each guard that applied, with what satisfied it.
    pub applied: Vec<AppliedGuard>,
    /// Why the guards did not look at the step (an embedded cluster is stormbench's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exempt: Option<String>,
}

/// One guard that applied to a run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AppliedGuard {
    /// `read_only`, `allowed_hosts` or `database_pattern`.
    pub guard: &'static str,
    /// What satisfied it (`host '10.0.0.5' matches '10.0.0.*'`).
    pub detail: String,
}

/// When the measured phase ends.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// After this long.
    Duration(Dur),
    /// After this many transactions, or the time limit if one was also given.
    Transactions {
        /// Transaction count.
        count: u64,
        /// Optional time limit.
        limit: Option<Dur>,
    },
}

/// Arrival process of the run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Arrival {
    /// Each worker starts its next transaction when the previous one (and think time) ends.
    Closed,
    /// Open loop at a global target rate.
    Open {
        /// Target transactions per second, all workers together.
        rate_tps: f64,
        /// Uniform or Poisson gaps.
        process: ArrivalKind,
    },
}

/// A validated run: every field is usable as is.
#[derive(Debug, Clone, Serialize)]
pub struct RunPlan {
    /// Warnings found while validating, to log once logging is set up.
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// Connection target.
    pub database: DatabasePlan,
    /// Workload name.
    pub workload: String,
    /// Workload mode.
    pub mode: String,
    /// Scale factor.
    pub scale: u64,
    /// The workload's own section as written (`Null` when absent).
    pub workload_section: serde_json::Value,
    /// How the engine runs (flattened into the report's config).
    #[serde(flatten)]
    pub exec: ExecOptions,
    /// JSON report file.
    pub json: Option<PathBuf>,
    /// CSV file.
    pub csv: Option<PathBuf>,
    pub log_level: String,
    /// Server statistics collection, when on.
    pub collect: Option<CollectPlan>,
    /// Prometheus listen address, when on.
    pub prometheus: Option<std::net::SocketAddr>,
    /// HTML report file.
    pub html: Option<PathBuf>,
    /// Progressive sweep, when on.
    pub progressive: Option<ProgressivePlan>,
    /// Parameter sweep, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) param_sweep: Option<ParamSweepPlan>,
    /// The safety guards in force.
    pub safety: SafetyPlan,
    /// Service-level objectives, when any is set.
    pub slo: Option<super::slo::RawSlo>,
    /// Where the run is recorded.
    pub(crate) history: super::store::StoreSpec,
    /// How often the run so far is written and recorded (`None`: never).
    pub checkpoint_interval: Option<Dur>,
    /// The shard this process runs and how the shards start together.
    pub distributed: super::DistributedPlan,
    /// The registry entry and the workload built from it.
    #[serde(skip)]
    pub built: BuiltWorkload,
}

/// What the engine needs to run: the part of the plan it takes as is.
#[derive(Debug, Clone, Serialize)]
pub struct ExecOptions {
    /// Stop rule.
    pub stop: Stop,
    /// Warm-up, excluded from results.
    pub warmup: Dur,
    pub workers: usize,
    /// Pool size.
    pub connections: usize,
    /// Arrival process.
    pub arrival: Arrival,
    /// Think time after each transaction.
    pub think_time: Dur,
    /// Tries per transaction.
    pub max_tries: u32,
    pub seed: u64,
    /// Summary line interval; `None` = no periodic summary.
    pub summary_interval: Option<Dur>,
    /// Time-series interval.
    pub sample_interval: Dur,
    /// The newest stretch of the time series kept at `sample_interval`; older intervals
    /// are merged, so a day-long run's memory stays flat.
    pub full_resolution: Dur,
    pub(crate) connection_mode: ConnectionMode,
    /// Client library for the workers' transactions.
    pub(crate) driver: Driver,
    /// Client threads (each with its own runtime and share of workers and connections).
    pub threads: usize,
    /// Worker groups of the workload's mode, each with its own workers and arrival (their
    /// workers add up to `workers`); empty: one group of every worker.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) groups: Vec<GroupPlan>,
    /// This process's shard of a run split over several: `workers`, `connections`, the
    /// rates and the budget above are already its part; worker ids are the whole run's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) shard: Option<super::Shard>,
}

/// A sweep over a workload parameter: one band per value, each with the workload built
/// with that value.
#[derive(Clone, Serialize)]
pub(crate) struct ParamSweepPlan {
    pub(crate) param: String,
    pub(crate) values: Vec<String>,
    pub(crate) band_duration: Dur,
    pub(crate) warmup: Dur,
    /// The figure the curve is read by.
    pub(crate) figure: String,
    /// Levels of the figure to read throughput and p99 at.
    pub(crate) at: Vec<f64>,
    /// The workload of each band.
    #[serde(skip)]
    pub(crate) workloads: Vec<std::sync::Arc<dyn crate::core::Workload>>,
}

impl std::fmt::Debug for ParamSweepPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParamSweepPlan")
            .field("param", &self.param)
            .field("values", &self.values)
            .finish_non_exhaustive()
    }
}

/// One worker group of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct GroupPlan {
    pub(crate) name: String,
    pub(crate) workers: usize,
    pub(crate) arrival: Arrival,
    /// The kinds it runs.
    pub(crate) kinds: Vec<usize>,
}

/// What the pg_stat collector does.
#[derive(Debug, Clone, Serialize)]
pub struct CollectPlan {
    /// Sampling interval.
    pub interval: Dur,
    /// Diff pg_stat_statements.
    pub statements: bool,
    /// Statements to report.
    pub top_statements: usize,
}

/// The registry entry a plan resolved to, and the workload built from it.
#[derive(Clone)]
pub struct BuiltWorkload {
    /// Registry entry and mode.
    pub(crate) resolved: Resolved,
    /// The workload, built from its section.
    pub(crate) workload: Arc<dyn Workload>,
}

impl std::fmt::Debug for BuiltWorkload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "BuiltWorkload({} {})",
            self.resolved.info.name, self.resolved.mode
        )
    }
}

impl RunPlan {
    /// The resolved config as JSON, password redacted, for embedding in reports.
    pub fn to_report_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}
