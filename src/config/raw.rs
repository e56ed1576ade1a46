//! The config file's sections as written: every field optional, unknown keys refused.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::slo::RawSlo;
use super::Dur;
use crate::core::{ConnectionMode, Driver};
use crate::types::{Isolation, SslMode};

/// A password: never printed, never serialized in clear.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl<'de> Deserialize<'de> for Secret {
    /// Text only. A YAML number or boolean has lost its spelling (`0x1F`, `1.50`), so it
    /// is refused with a message that does not quote it.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Secret;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a password (text)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Secret, E> {
                Ok(Secret(v))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Secret, E> {
                Err(E::custom(NOT_TEXT))
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Secret, E> {
                Err(E::custom(NOT_TEXT))
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Secret, E> {
                Err(E::custom(NOT_TEXT))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Secret, E> {
                Err(E::custom(NOT_TEXT))
            }
        }
        d.deserialize_any(V)
    }
}

const NOT_TEXT: &str = "YAML reads this password as a number or a boolean, which may not keep its exact characters; quote it (password: '...') or pass it as ${VAR}";

impl Secret {
    /// Wraps a password.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The clear text, only for handing to the driver.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"********\"")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("********")
    }
}

/// How transactions arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArrivalKind {
    /// Evenly spaced at the target rate.
    Uniform,
    /// Exponentially distributed gaps (a Poisson process) at the target rate.
    Poisson,
}

/// The `database:` section as written.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDatabase {
    /// A libpq connection URI or key/value string; the keys below override its parts.
    /// Held as a secret: it may carry a password.
    pub url: Option<Secret>,
    /// A service of the libpq service file (`pg_service.conf`).
    pub service: Option<String>,
    /// Server host name or IP, or a Unix-socket directory.
    pub host: Option<String>,
    /// Server port.
    pub port: Option<u16>,
    /// Database name.
    pub dbname: Option<String>,
    /// Role name.
    pub username: Option<String>,
    /// Password (redacted in every output).
    pub password: Option<Secret>,
    /// disable | prefer | require | verify-ca | verify-full.
    pub sslmode: Option<SslMode>,
    /// PEM file of the certificate authorities that verify-ca and verify-full trust
    /// (instead of the system's).
    pub sslrootcert: Option<PathBuf>,
    /// Client certificate (PEM) for certificate authentication.
    pub sslcert: Option<PathBuf>,
    /// The client certificate's private key (PEM; readable by its owner only).
    pub sslkey: Option<PathBuf>,
    /// The password file (default `~/.pgpass`).
    pub passfile: Option<PathBuf>,
    /// `application_name` the server shows in pg_stat_activity (default `stormbench`).
    pub application_name: Option<String>,
    /// Start a throwaway local cluster instead of connecting to a server.
    pub embedded: Option<bool>,
    /// Directory of the server binaries for `embedded` (otherwise discovered).
    pub bindir: Option<PathBuf>,
    /// Give up connecting after this long.
    pub connect_timeout: Option<Dur>,
    /// Default isolation of every connection (read_committed | repeatable_read | serializable).
    pub isolation: Option<Isolation>,
    /// What the `STORMBENCH_DB_*` variables give: below these keys and `url`, above the
    /// service and the PG* environment.
    #[serde(skip)]
    pub(crate) env: super::conninfo::ConnParams,
}

/// Guards checked before set-up, rebuild, clean-up and any workload that writes.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSafety {
    /// Host patterns (`*` and `?` wildcards) that destructive steps may touch.
    pub allowed_hosts: Option<Vec<String>>,
    /// Database-name pattern (`*` and `?` wildcards) that destructive steps may touch.
    pub database_pattern: Option<String>,
    /// Refuse set-up, rebuild, clean-up and every workload mode that writes; every
    /// connection runs with `default_transaction_read_only = on`.
    pub read_only: Option<bool>,
}

/// Output files.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawOutput {
    /// JSON report path.
    pub json: Option<PathBuf>,
    /// CSV time-series path.
    pub csv: Option<PathBuf>,
    /// Self-contained HTML report path.
    pub html: Option<PathBuf>,
}

/// How band concurrency grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Evenly spaced levels (`bands` of them, or every `step`).
    Linear,
    /// Doubling from `min_workers`.
    Exponential,
    /// Fibonacci numbers between the bounds.
    Fibonacci,
}

/// `progressive.stop_when`: end the sweep once a band breaks a bound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StopWhen {
    /// p99 latency bound, ms.
    pub p99_ms: Option<f64>,
    /// Error-rate bound, 0..1.
    pub error_rate: Option<f64>,
}

/// `progressive:` section.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawProgressive {
    /// Run the sweep (also `--progressive`).
    pub enabled: Option<bool>,
    /// linear | exponential | fibonacci.
    pub strategy: Option<Strategy>,
    /// Workers of the first band.
    pub min_workers: Option<u64>,
    /// Workers of the last band.
    pub max_workers: Option<u64>,
    /// Number of bands (linear).
    pub bands: Option<u64>,
    /// Workers added per band (linear, instead of bands).
    pub step: Option<u64>,
    /// Connections of the first band (default: tied to workers).
    pub min_connections: Option<u64>,
    /// Connections of the last band.
    pub max_connections: Option<u64>,
    /// Measured time per band.
    pub band_duration: Option<Dur>,
    /// Warm-up per band.
    pub warmup: Option<Dur>,
    /// Pause between bands.
    pub cooldown: Option<Dur>,
    /// Stop rule.
    pub stop_when: Option<StopWhen>,
}

/// `metrics:` section.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawMetrics {
    /// Prometheus endpoint.
    pub prometheus: RawPrometheus,
}

/// `metrics.prometheus:`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPrometheus {
    /// Serve `/metrics` during the run.
    pub enabled: Option<bool>,
    /// Listen address, e.g. "127.0.0.1:9187".
    pub listen: Option<String>,
}

/// The top level of a config file as written (workload sections are split off first).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    /// Connection settings.
    pub database: RawDatabase,
    /// Workload name, or `name_mode`.
    pub workload: Option<String>,
    /// Workload mode.
    pub mode: Option<String>,
    /// Scale factor (its meaning is the workload's).
    pub scale: Option<u64>,
    /// Measured run time (after warm-up).
    pub duration: Option<Dur>,
    /// Warm-up time, excluded from results.
    pub warmup: Option<Dur>,
    /// Stop after this many measured transactions instead of a duration.
    pub transactions: Option<u64>,
    /// Concurrent workers (tokio tasks).
    pub workers: Option<u64>,
    /// Pool size.
    pub connections: Option<u64>,
    /// Global target rate in transactions per second (open loop).
    pub rate: Option<f64>,
    /// Arrival process for `rate`.
    pub arrival: Option<ArrivalKind>,
    /// Pause after each transaction (closed loop).
    pub think_time: Option<Dur>,
    /// Tries per transaction for serialization failures and deadlocks (1 = no retry).
    pub max_tries: Option<u32>,
    /// Run seed.
    pub seed: Option<u64>,
    /// Interval of the summary line.
    pub summary_interval: Option<Dur>,
    /// Interval of the time series kept for reports.
    pub sample_interval: Option<Dur>,
    /// The newest stretch of the time series kept at full resolution (default 1h).
    pub time_series_full_resolution: Option<Dur>,
    /// How often a run writes its report and history row so far (`0s`: never).
    pub checkpoint_interval: Option<Dur>,
    /// persistent | transient | mixed.
    pub(crate) connection_mode: Option<ConnectionMode>,
    /// auto | wire | tokio-postgres.
    pub(crate) driver: Option<Driver>,
    /// Client runtime threads (default: number of CPUs).
    pub threads: Option<u64>,
    /// Report files.
    pub output: RawOutput,
    /// Sample pg_stat_* views during the run.
    pub collect_pg_stats: Option<bool>,
    /// Sampling interval of the collector.
    pub stats_interval: Option<Dur>,
    /// Diff pg_stat_statements over the run (implies collect_pg_stats).
    #[serde(alias = "pg_stats_statements")]
    pub pg_stat_statements: Option<bool>,
    /// How many statements to report.
    pub top_statements: Option<u64>,
    /// Live metrics export.
    pub metrics: RawMetrics,
    /// Progressive connection-scaling sweep.
    pub progressive: RawProgressive,
    /// A sweep over a parameter of the workload (bands of one value each).
    pub sweep: RawSweep,
    /// Guards against pointing destructive steps at the wrong database.
    pub safety: RawSafety,
    /// Service-level objectives the run must keep.
    pub slo: RawSlo,
    /// Where the run is recorded: a SQLite file, a `postgres://` URI, or `off`.
    pub history: Option<super::store::RawHistory>,
    /// A run split over several processes: this one's shard, a coordinated start.
    pub distributed: super::distributed::RawDistributed,
    /// error | warn | info | debug | trace.
    pub log_level: Option<String>,
    /// Folders holding declarative workloads (one sub-folder with a `workload.yaml` each).
    pub workloads_path: Option<PathList>,
}

/// `sweep:` a parameter of the workload over values, one band each.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSweep {
    /// The workload parameter (e.g. ef_search).
    pub param: Option<String>,
    /// Its values, one band each, in order.
    pub values: Vec<serde_yaml::Value>,
    /// Measured time of each band (default: the run's duration).
    pub band_duration: Option<Dur>,
    /// Warm-up of each band (default: the run's warm-up).
    pub warmup: Option<Dur>,
    /// The workload figure the curve is read by (default: `recall`, when measured).
    pub figure: Option<String>,
    /// Levels of that figure to read throughput and p99 at (default 0.9, 0.95, 0.99).
    pub at: Vec<f64>,
}

/// One path or a list of paths.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum PathList {
    /// One path.
    One(PathBuf),
    /// Several.
    Many(Vec<PathBuf>),
}

impl PathList {
    /// The paths, in order.
    pub fn to_vec(&self) -> Vec<PathBuf> {
        match self {
            PathList::One(p) => vec![p.clone()],
            PathList::Many(v) => v.clone(),
        }
    }
}
