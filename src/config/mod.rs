//! Configuration: YAML -> raw structs -> overrides (environment, then command line) ->
//! [`validate`] -> a typed [`RunPlan`]. Every problem is reported at once, with its YAML path.

mod duration;
mod env;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::core::registry::{parse_section_lenient, Resolved};
use std::sync::Arc;

use crate::core::{ConnectionMode, Driver, Registry, Workload, WorkloadParams};

pub use crate::types::{Isolation, SslMode};
pub use duration::Dur;
pub use env::{expand as expand_env, expand_str as expand_env_str};

/// Longest `duration` and `warmup`, also of a progressive band: 365 days. Far enough for
/// any soak test, near enough that every deadline computed from it stays representable.
pub const MAX_RUN_TIME: Duration = Duration::from_secs(365 * 86_400);
/// Longest `think_time`: 1 hour.
pub const MAX_THINK_TIME: Duration = Duration::from_secs(3_600);
/// Longest interval (`summary_interval`, `sample_interval`, `stats_interval`,
/// `progressive.cooldown`): 1 day.
pub const MAX_INTERVAL: Duration = Duration::from_secs(86_400);
/// Longest `database.connect_timeout`: 1 hour.
pub const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(3_600);

/// Largest accepted `workers`.
pub const MAX_WORKERS: u64 = 100_000;
/// Largest accepted `connections`.
pub const MAX_CONNECTIONS: u64 = 10_000;

/// A config that could not be used: every problem, one per line, each naming its YAML path.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration{}:\n  {}", source_name.as_deref().map(|s| format!(" in {}", one_line(s))).unwrap_or_default(), problems.iter().map(|p| one_line(p)).collect::<Vec<_>>().join("\n  "))]
pub struct ConfigError {
    /// The file the problems are in, when there is one.
    pub source_name: Option<String>,
    /// One message per problem.
    pub problems: Vec<String>,
}

/// `s` with line breaks written as `\n` and `\r`: a problem quoting a value with a line
/// break (a variable's, a name's) stays one line of the list.
fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains(['\n', '\r']) {
        s.replace('\n', "\\n").replace('\r', "\\r").into()
    } else {
        s.into()
    }
}

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
    /// Server host name or IP.
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
    /// Start a throwaway local cluster instead of connecting to a server.
    pub embedded: Option<bool>,
    /// Directory of the server binaries for `embedded` (otherwise discovered).
    pub bindir: Option<PathBuf>,
    /// Give up connecting after this long.
    pub connect_timeout: Option<Dur>,
    /// Default isolation of every connection (read_committed | repeatable_read | serializable).
    pub isolation: Option<Isolation>,
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

/// A validated sweep.
#[derive(Debug, Clone, Serialize)]
pub struct ProgressivePlan {
    /// Strategy.
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
    /// persistent | transient | mixed.
    pub connection_mode: Option<ConnectionMode>,
    /// auto | wire | tokio-postgres.
    pub driver: Option<Driver>,
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
    /// error | warn | info | debug | trace.
    pub log_level: Option<String>,
    /// Folders holding declarative workloads (one sub-folder with a `workload.yaml` each).
    pub workloads_path: Option<PathList>,
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

/// The default folder of declarative workloads, relative to the working directory.
pub const DEFAULT_WORKLOADS_PATH: &str = "./workloads";

/// Where to look for declarative workloads: `cli` paths when given (relative to the
/// working directory), else the config file's `workloads_path` (relative to the config
/// file's folder), else [`DEFAULT_WORKLOADS_PATH`]. `~/` is the home directory. Returns
/// the folders and whether they were asked for explicitly (a missing explicit folder is
/// an error; a missing default is not).
pub fn workloads_paths(
    config: Option<(&std::path::Path, &str)>,
    cli: &[PathBuf],
) -> Result<(Vec<PathBuf>, bool), Vec<String>> {
    if !cli.is_empty() {
        return Ok((cli.iter().map(|p| expand_home(p)).collect(), true));
    }
    if let Some((file, text)) = config {
        // a file that does not parse is reported by `load_file`; here it has no paths
        let mut value = yaml::parse(text).unwrap_or_default();
        if value.is_mapping() {
            expand_env(&mut value, &|k| std::env::var(k).ok(), &text_key)?;
        }
        if let Some(v) = value.get("workloads_path") {
            let list: PathList = serde_yaml::from_value(v.clone()).map_err(|_| {
                vec!["workloads_path: expected a folder or a list of folders, e.g. [./workloads, ~/my-workloads]".to_string()]
            })?;
            let base = file.parent().unwrap_or(std::path::Path::new("."));
            let paths = list
                .to_vec()
                .iter()
                .map(|p| {
                    let p = expand_home(p);
                    if p.is_absolute() {
                        p
                    } else {
                        base.join(p)
                    }
                })
                .collect();
            return Ok((paths, true));
        }
    }
    Ok((vec![PathBuf::from(DEFAULT_WORKLOADS_PATH)], false))
}

fn expand_home(p: &std::path::Path) -> PathBuf {
    match (p.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => p.to_path_buf(),
    }
}

/// Command-line overrides; `None` leaves the config's value.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `-d/--duration`.
    pub duration: Option<Dur>,
    /// `-w/--workload`.
    pub workload: Option<String>,
    /// `--mode`.
    pub mode: Option<String>,
    /// `--workers`.
    pub workers: Option<u64>,
    /// `--connections`.
    pub connections: Option<u64>,
    /// `--host`.
    pub host: Option<String>,
    /// `--port`.
    pub port: Option<u16>,
    /// `--dbname`.
    pub dbname: Option<String>,
    /// `-u/--username`.
    pub username: Option<String>,
    /// `--scale`.
    pub scale: Option<u64>,
    /// `-s/--summary-interval`.
    pub summary_interval: Option<Dur>,
    /// `--no-summary`.
    pub no_summary: bool,
    /// `--rate`.
    pub rate: Option<f64>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--transactions`.
    pub transactions: Option<u64>,
    /// `--warmup`.
    pub warmup: Option<Dur>,
    /// `--json`.
    pub json: Option<PathBuf>,
    /// `--csv`.
    pub csv: Option<PathBuf>,
    /// `--log-level`.
    pub log_level: Option<String>,
    /// `--embedded`.
    pub embedded: bool,
    /// `--threads`.
    pub threads: Option<u64>,
    /// `--driver`.
    pub driver: Option<Driver>,
    /// `--collect-pg-stats`.
    pub collect_pg_stats: bool,
    /// `--pg-stat-statements`.
    pub pg_stat_statements: bool,
    /// `--prometheus ADDR`.
    pub prometheus: Option<String>,
    /// `--html FILE`.
    pub html: Option<PathBuf>,
    /// `--progressive`.
    pub progressive: bool,
}

/// Where the run connects.
#[derive(Debug, Clone, Serialize)]
pub struct DatabasePlan {
    /// Start a throwaway cluster (host/port/user come from it).
    pub embedded: bool,
    /// Server binaries for the embedded cluster.
    pub bindir: Option<PathBuf>,
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Database.
    pub dbname: String,
    /// Role.
    pub username: String,
    /// Password, redacted when serialized.
    pub password: Option<Secret>,
    /// TLS mode.
    pub sslmode: SslMode,
    /// Root certificates for verify-ca and verify-full (`None`: the system's).
    pub sslrootcert: Option<PathBuf>,
    /// Connect timeout.
    pub connect_timeout: Dur,
    /// Default isolation of every connection; `None` keeps the server's setting.
    pub isolation: Option<Isolation>,
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
    /// Stop rule.
    pub stop: Stop,
    /// Warm-up.
    pub warmup: Dur,
    /// Workers.
    pub workers: usize,
    /// Pool size.
    pub connections: usize,
    /// Arrival process.
    pub arrival: Arrival,
    /// Think time after each transaction.
    pub think_time: Dur,
    /// Tries per transaction.
    pub max_tries: u32,
    /// Seed.
    pub seed: u64,
    /// Summary line interval; `None` = no periodic summary.
    pub summary_interval: Option<Dur>,
    /// Time-series interval.
    pub sample_interval: Dur,
    /// Connection mode.
    pub connection_mode: ConnectionMode,
    /// Client library for the workers' transactions.
    pub driver: Driver,
    /// Runtime threads.
    pub threads: usize,
    /// JSON report file.
    pub json: Option<PathBuf>,
    /// CSV file.
    pub csv: Option<PathBuf>,
    /// Log level.
    pub log_level: String,
    /// Server statistics collection, when on.
    pub collect: Option<CollectPlan>,
    /// Prometheus listen address, when on.
    pub prometheus: Option<std::net::SocketAddr>,
    /// HTML report file.
    pub html: Option<PathBuf>,
    /// Progressive sweep, when on.
    pub progressive: Option<ProgressivePlan>,
    /// The registry entry and the built workload.
    #[serde(skip)]
    pub target: Option<Target>,
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
pub struct Target {
    /// Registry entry and mode.
    pub resolved: Resolved,
    /// The workload, built from its section.
    pub workload: Arc<dyn Workload>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Target({} {})",
            self.resolved.info.name, self.resolved.mode
        )
    }
}

/// A loaded config file: the strict top level plus the workload sections.
#[derive(Debug, Clone, Default)]
pub struct LoadedConfig {
    /// Top-level keys.
    pub raw: RawConfig,
    /// Per-workload sections by workload name.
    pub sections: BTreeMap<String, serde_yaml::Value>,
    /// Problems found while reading the file (reported with those of validation).
    pub problems: Vec<String>,
}

/// Reads a config file: at most [`yaml::MAX_FILE_BYTES`], UTF-8. The message of a failure
/// names the file and what to check.
pub fn read_config(path: &std::path::Path) -> Result<String, String> {
    let name = path.display();
    yaml::read_text(path).map_err(|e| match e {
        yaml::ReadError::TooLarge => format!(
            "config file {name} is larger than {}; a config is a few hundred lines at most, check the path given to --config",
            yaml::limit_text()
        ),
        yaml::ReadError::Io(e) => {
            format!("cannot read config file {name}: {e}; check the path given to --config")
        }
    })
}

/// Reads and parses a config file (with `${VAR}` expansion from the process environment).
/// A file with no settings at all (empty, only comments, a bare `---`) is an error: it
/// would silently run every default against whatever listens on localhost.
pub fn load_file(path: &std::path::Path, registry: &Registry) -> Result<LoadedConfig, ConfigError> {
    let name = path.display().to_string();
    let text = read_config(path).map_err(|p| ConfigError {
        source_name: None,
        problems: vec![p],
    })?;
    let failed = |problems| ConfigError {
        source_name: Some(name.clone()),
        problems,
    };
    let value = yaml::parse(&text).map_err(|e| failed(vec![e]))?;
    if value.is_null() {
        return Err(ConfigError {
            source_name: None,
            problems: vec![format!(
                "config file {name} is empty (no settings, only blank lines or comments); write the settings of the run, at least the database (database: {{host: ..., dbname: ...}})"
            )],
        });
    }
    from_value(value, registry).map_err(failed)
}

/// Parses config text: expands `${VAR}` in the values, splits off workload sections, reads
/// the rest strictly. Returns every problem found. Empty text gives every default.
pub fn parse_str(text: &str, registry: &Registry) -> Result<LoadedConfig, Vec<String>> {
    from_value(yaml::parse(text).map_err(|e| vec![e])?, registry)
}

/// YAML paths of the top level that hold text: a whole-value `${VAR}` there keeps the
/// variable's exact characters instead of being read as a number or a boolean (a
/// password `12345` stays the string `12345`).
const TEXT_KEYS: &[&str] = &[
    "database.host",
    "database.dbname",
    "database.username",
    "database.password",
    "database.bindir",
    "workload",
    "mode",
    "log_level",
    "output.json",
    "output.csv",
    "output.html",
    "metrics.prometheus.listen",
];

fn text_key(path: &str) -> bool {
    TEXT_KEYS.contains(&path) || path == "workloads_path" || path.starts_with("workloads_path[")
}

fn from_value(
    mut value: serde_yaml::Value,
    registry: &Registry,
) -> Result<LoadedConfig, Vec<String>> {
    expand_env(&mut value, &|k| std::env::var(k).ok(), &text_key)?;
    let mut map = match value {
        serde_yaml::Value::Null => serde_yaml::Mapping::new(),
        serde_yaml::Value::Mapping(m) => m,
        _ => {
            return Err(vec![
                "the config must be a YAML mapping of keys (workload: ..., duration: ...)".into(),
            ])
        }
    };
    let mut sections = BTreeMap::new();
    for info in registry.entries() {
        if let Some(v) = map.remove(info.name.as_str()) {
            sections.insert(info.name.to_string(), v);
        }
    }
    let (raw, problems) = parse_section_lenient::<RawConfig>(&serde_yaml::Value::Mapping(map), "");
    Ok(LoadedConfig {
        raw,
        sections,
        problems,
    })
}

/// Applies `STORMBENCH_DB_*` (and `STORMBENCH_PG_BINDIR`) environment variables, between
/// the file and the command line.
pub fn apply_env(raw: &mut RawConfig, get: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let mut errors = Vec::new();
    let db = &mut raw.database;
    if let Some(v) = get("STORMBENCH_DB_HOST") {
        db.host = Some(v);
    }
    if let Some(v) = get("STORMBENCH_DB_PORT") {
        match v.parse() {
            Ok(p) => db.port = Some(p),
            Err(_) => errors.push(format!(
                "STORMBENCH_DB_PORT: '{v}' is not a port number; set it to e.g. 5432"
            )),
        }
    }
    if let Some(v) = get("STORMBENCH_DB_NAME") {
        db.dbname = Some(v);
    }
    if let Some(v) = get("STORMBENCH_DB_USER") {
        db.username = Some(v);
    }
    if let Some(v) = get("STORMBENCH_DB_PASSWORD") {
        db.password = Some(Secret::new(v));
    }
    if let Some(v) = get("STORMBENCH_PG_BINDIR") {
        db.bindir = Some(PathBuf::from(v));
    }
    if let Some(v) = get("STORMBENCH_DB_SSLMODE") {
        match serde_yaml::from_str::<SslMode>(&v) {
            Ok(m) => db.sslmode = Some(m),
            Err(_) => errors.push(format!(
                "STORMBENCH_DB_SSLMODE: '{v}' is not one of disable, prefer, require, verify-ca, verify-full"
            )),
        }
    }
    errors
}

/// Applies command-line overrides (the last word).
pub fn apply_overrides(raw: &mut RawConfig, o: &Overrides) {
    fn set<T: Clone>(dst: &mut Option<T>, src: &Option<T>) {
        if src.is_some() {
            dst.clone_from(src);
        }
    }
    set(&mut raw.duration, &o.duration);
    set(&mut raw.workload, &o.workload);
    set(&mut raw.mode, &o.mode);
    set(&mut raw.workers, &o.workers);
    set(&mut raw.connections, &o.connections);
    set(&mut raw.database.host, &o.host);
    set(&mut raw.database.port, &o.port);
    set(&mut raw.database.dbname, &o.dbname);
    set(&mut raw.database.username, &o.username);
    set(&mut raw.scale, &o.scale);
    set(&mut raw.summary_interval, &o.summary_interval);
    set(&mut raw.rate, &o.rate);
    set(&mut raw.seed, &o.seed);
    set(&mut raw.transactions, &o.transactions);
    set(&mut raw.warmup, &o.warmup);
    set(&mut raw.output.json, &o.json);
    set(&mut raw.output.csv, &o.csv);
    set(&mut raw.log_level, &o.log_level);
    set(&mut raw.threads, &o.threads);
    set(&mut raw.driver, &o.driver);
    set(&mut raw.output.html, &o.html);
    if o.collect_pg_stats {
        raw.collect_pg_stats = Some(true);
    }
    if o.pg_stat_statements {
        raw.pg_stat_statements = Some(true);
    }
    if let Some(addr) = &o.prometheus {
        raw.metrics.prometheus.enabled = Some(true);
        raw.metrics.prometheus.listen = Some(addr.clone());
    }
    if o.progressive {
        raw.progressive.enabled = Some(true);
    }
    if o.no_summary {
        raw.summary_interval = Some(Dur(Duration::ZERO));
    }
    if o.embedded {
        raw.database.embedded = Some(true);
    }
}

fn in_range(errors: &mut Vec<String>, key: &str, v: u64, lo: u64, hi: u64) -> u64 {
    if v < lo || v > hi {
        errors.push(format!("{key}: must be between {lo} and {hi} (got {v})"));
    }
    v.clamp(lo, hi)
}

/// Checks `d` against `min..=max`, pushing an error naming the key, the value and the
/// bound it breaks.
fn dur_in(errors: &mut Vec<String>, key: &str, d: Dur, min: Duration, max: Duration) -> Dur {
    if d.0 < min {
        errors.push(format!(
            "{key}: must be at least {} (got {d})",
            humantime::format_duration(min)
        ));
    } else if d.0 > max {
        errors.push(format!(
            "{key}: must be at most {} (got {d})",
            limit_text(max)
        ));
    }
    d
}

/// A limit as people write it: `365 days`, `1 hour`, else humantime's spelling.
fn limit_text(d: Duration) -> String {
    let s = d.as_secs();
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if d.subsec_nanos() == 0 && s > 0 && s % 86_400 == 0 {
        plural(s / 86_400, "day")
    } else if d.subsec_nanos() == 0 && s > 0 && s % 3_600 == 0 {
        plural(s / 3_600, "hour")
    } else {
        humantime::format_duration(d).to_string()
    }
}

/// Masks the password wherever a message would show it. No message quotes the password
/// key's value; this catches the same text given to another key as well. Shorter
/// passwords are left alone: masking two letters would garble every message.
fn redact(problems: Vec<String>, password: Option<&Secret>) -> Vec<String> {
    match password.map(Secret::expose) {
        Some(p) if p.chars().count() >= 4 => problems
            .into_iter()
            .map(|m| m.replace(p, "********"))
            .collect(),
        _ => problems,
    }
}

/// Checks a loaded config against the registry and returns the typed plan, or every problem.
pub fn validate(cfg: &LoadedConfig, registry: &Registry) -> Result<RunPlan, Vec<String>> {
    let raw = &cfg.raw;
    let mut errors = cfg.problems.clone();

    let workload_name = raw.workload.clone().unwrap_or_else(|| "simple".to_string());
    let resolved = match registry.resolve(&workload_name, raw.mode.as_deref()) {
        Ok(r) => Some(r),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let mut warnings = Vec::new();
    for name in cfg.sections.keys() {
        if resolved.as_ref().is_some_and(|r| r.info.name != *name) {
            warnings.push(format!(
                "config section '{name}' is ignored: the run's workload is '{workload_name}'"
            ));
        }
    }

    let workers = in_range(
        &mut errors,
        "workers",
        raw.workers.unwrap_or(4),
        1,
        MAX_WORKERS,
    ) as usize;
    let connections = in_range(
        &mut errors,
        "connections",
        raw.connections.unwrap_or(workers as u64),
        1,
        MAX_CONNECTIONS,
    ) as usize;
    let scale = in_range(
        &mut errors,
        "scale",
        raw.scale.unwrap_or(1),
        1,
        u32::MAX as u64,
    );
    let max_tries = in_range(
        &mut errors,
        "max_tries",
        raw.max_tries.unwrap_or(1) as u64,
        1,
        1000,
    ) as u32;
    let threads = match raw.threads {
        Some(t) => in_range(&mut errors, "threads", t, 1, 1024) as usize,
        None => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
    };

    let stop = stop_rule(raw, &mut errors);
    let warmup = dur_in(
        &mut errors,
        "warmup",
        raw.warmup.unwrap_or_default(),
        Duration::ZERO,
        MAX_RUN_TIME,
    );
    let arrival = arrival(raw, &mut errors);
    let think_time = dur_in(
        &mut errors,
        "think_time",
        raw.think_time.unwrap_or_default(),
        Duration::ZERO,
        MAX_THINK_TIME,
    );
    if think_time.0 > Duration::ZERO && matches!(arrival, Arrival::Open { .. }) {
        errors
            .push("think_time: only applies to closed-loop runs; remove it or remove rate".into());
    }
    let sample_interval = dur_in(
        &mut errors,
        "sample_interval",
        raw.sample_interval.unwrap_or(Dur(Duration::from_secs(1))),
        Duration::from_millis(100),
        MAX_INTERVAL,
    );
    let summary_interval = match raw.summary_interval {
        Some(d) if d.0.is_zero() => None,
        Some(d) => Some(dur_in(
            &mut errors,
            "summary_interval",
            d,
            Duration::from_millis(100),
            MAX_INTERVAL,
        )),
        None => Some(Dur(Duration::from_secs(10))),
    };

    let database = database_plan(&raw.database, &mut errors);
    let log_level = raw.log_level.clone().unwrap_or_else(|| "warn".into());
    if !["error", "warn", "info", "debug", "trace", "off"].contains(&log_level.as_str()) {
        errors.push(format!(
            "log_level: unknown level '{log_level}'; use error, warn, info, debug, trace or off"
        ));
    }

    let collect = collect_plan(raw, &mut errors);
    let prometheus = prometheus_addr(&raw.metrics.prometheus, &mut errors);
    let progressive = progressive_plan(&raw.progressive, &mut errors);
    let section_yaml = resolved
        .as_ref()
        .and_then(|r| cfg.sections.get(&r.info.name).cloned())
        .unwrap_or(serde_yaml::Value::Null);
    let seed = raw.seed.unwrap_or(1);
    let shape = RunShape {
        workers,
        connections,
        open_loop: matches!(arrival, Arrival::Open { .. }),
        progressive: progressive.is_some(),
        driver: raw.driver.unwrap_or_default(),
    };
    let target = resolved.and_then(|resolved| {
        let params = WorkloadParams {
            mode: resolved.mode.clone(),
            scale,
            section: section_yaml.clone(),
            seed,
            workers,
            registry: registry.clone(),
        };
        match (resolved.info.build)(&params) {
            Ok(workload) => {
                workload_rules(workload.as_ref(), &shape, &mut errors);
                warnings.extend(workload.warnings());
                Some(Target { resolved, workload })
            }
            Err(es) => {
                errors.extend(es);
                None
            }
        }
    });
    if !errors.is_empty() {
        return Err(redact(errors, raw.database.password.as_ref()));
    }
    let Some(target) = target else {
        return Err(vec!["workload: could not be built".into()]);
    };
    let resolved = &target.resolved;
    Ok(RunPlan {
        warnings,
        database,
        workload: resolved.info.name.to_string(),
        mode: resolved.mode.clone(),
        scale,
        workload_section: serde_json::to_value(&section_yaml).unwrap_or(serde_json::Value::Null),
        stop,
        warmup,
        workers,
        connections,
        arrival,
        think_time,
        max_tries,
        seed,
        summary_interval,
        sample_interval,
        connection_mode: raw.connection_mode.unwrap_or(ConnectionMode::Persistent),
        driver: raw.driver.unwrap_or_default(),
        threads,
        json: raw.output.json.clone(),
        csv: raw.output.csv.clone(),
        log_level,
        collect,
        prometheus,
        html: raw.output.html.clone(),
        progressive,
        target: Some(target),
    })
}

fn collect_plan(raw: &RawConfig, errors: &mut Vec<String>) -> Option<CollectPlan> {
    let statements = raw.pg_stat_statements.unwrap_or(false);
    if !(raw.collect_pg_stats.unwrap_or(false) || statements) {
        return None;
    }
    let interval = dur_in(
        errors,
        "stats_interval",
        raw.stats_interval.unwrap_or(Dur(Duration::from_secs(1))),
        Duration::from_millis(100),
        MAX_INTERVAL,
    );
    let top = in_range(
        errors,
        "top_statements",
        raw.top_statements.unwrap_or(10),
        1,
        1000,
    );
    Some(CollectPlan {
        interval,
        statements,
        top_statements: top as usize,
    })
}

/// Band levels of a strategy between `min` and `max` workers.
pub fn levels(
    strategy: Strategy,
    min: u64,
    max: u64,
    bands: Option<u64>,
    step: Option<u64>,
) -> Vec<u64> {
    let mut v: Vec<u64> = match strategy {
        Strategy::Linear => match (step, bands) {
            (Some(s), _) => (0..)
                .map(|i| min + i * s.max(1))
                .take_while(|w| *w <= max)
                .collect(),
            (None, b) => {
                let b = b.unwrap_or(5).max(2);
                (0..b)
                    .map(|i| min + ((max - min) as f64 * i as f64 / (b - 1) as f64).round() as u64)
                    .collect()
            }
        },
        Strategy::Exponential => std::iter::successors(Some(min), |w| w.checked_mul(2))
            .take_while(|w| *w <= max)
            .collect(),
        Strategy::Fibonacci => {
            let mut fib = vec![min];
            let (mut a, mut b) = (1u64, 2u64);
            while b <= max {
                if b > min {
                    fib.push(b);
                }
                (a, b) = (b, a + b);
            }
            fib
        }
    };
    if v.last() != Some(&max) && max > min {
        v.push(max);
    }
    v.dedup();
    v
}

/// What the workload rules below need to know of the run.
struct RunShape {
    workers: usize,
    connections: usize,
    open_loop: bool,
    progressive: bool,
    driver: Driver,
}

/// Rules a built workload puts on the run (its own timing, per-worker sessions).
fn workload_rules(w: &dyn Workload, run: &RunShape, errors: &mut Vec<String>) {
    if run.driver == Driver::Wire && !w.wire() {
        errors.push(
            "driver: this workload does not run on the wire driver (simple and connection do); set driver: auto or tokio-postgres".into(),
        );
    }
    if w.session_bound() && run.connections < run.workers {
        errors.push(format!(
            "connections: this workload keeps one connection per worker (its sessions carry transactions and settings), so connections ({}) must be at least workers ({}); raise connections or lower workers",
            run.connections, run.workers
        ));
    }
    if let Some(p) = w.pacing() {
        if run.open_loop {
            errors.push(format!(
                "rate: the {} sets its own timing (speed {}); remove rate, or set the speed to 0 to run at rate",
                p.source, p.speed
            ));
        }
    }
    if run.progressive && w.session_bound() {
        errors.push(
            "progressive: a sweep varies workers, which would re-split this workload's sessions each band; run it without progressive".into(),
        );
    }
}

fn progressive_plan(p: &RawProgressive, errors: &mut Vec<String>) -> Option<ProgressivePlan> {
    if !p.enabled.unwrap_or(false) {
        return None;
    }
    let before = errors.len();
    let strategy = p.strategy.unwrap_or(Strategy::Linear);
    let min = in_range(
        errors,
        "progressive.min_workers",
        p.min_workers.unwrap_or(1),
        1,
        MAX_WORKERS,
    );
    let max = in_range(
        errors,
        "progressive.max_workers",
        p.max_workers.unwrap_or(min.max(1) * 16),
        1,
        MAX_WORKERS,
    );
    if max < min {
        errors.push(format!("progressive.max_workers: {max} is below min_workers {min}; raise max_workers or lower min_workers"));
    }
    if p.bands.is_some() && p.step.is_some() {
        errors.push("progressive.step: give either bands or step, not both".into());
    }
    if strategy != Strategy::Linear && (p.bands.is_some() || p.step.is_some()) {
        errors.push("progressive.bands: bands and step apply to strategy linear only".into());
    }
    if p.bands.is_some_and(|b| b < 2) {
        errors.push("progressive.bands: a sweep needs at least 2 bands".into());
    }
    if p.step == Some(0) {
        errors.push("progressive.step: must be at least 1".into());
    }
    let band_duration = dur_in(
        errors,
        "progressive.band_duration",
        p.band_duration.unwrap_or(Dur(Duration::from_secs(30))),
        Duration::from_millis(500),
        MAX_RUN_TIME,
    );
    let warmup = dur_in(
        errors,
        "progressive.warmup",
        p.warmup.unwrap_or(Dur(Duration::from_secs(5))),
        Duration::ZERO,
        MAX_RUN_TIME,
    );
    let cooldown = dur_in(
        errors,
        "progressive.cooldown",
        p.cooldown.unwrap_or(Dur(Duration::ZERO)),
        Duration::ZERO,
        MAX_INTERVAL,
    );
    if let Some(s) = p.stop_when {
        if s.p99_ms.is_some_and(|x| x.is_nan() || x <= 0.0) {
            errors.push(
                "progressive.stop_when.p99_ms: must be a positive number of milliseconds".into(),
            );
        }
        if s.error_rate.is_some_and(|x| !(0.0..=1.0).contains(&x)) {
            errors.push(
                "progressive.stop_when.error_rate: must be between 0 and 1 (e.g. 0.01 for 1%)"
                    .into(),
            );
        }
    }
    if errors.len() > before {
        return None;
    }
    let workers = levels(strategy, min, max.max(min), p.bands, p.step);
    if workers.len() < 2 {
        errors.push(format!("progressive: the plan has {} band(s) between {min} and {max} workers; widen the range or add bands", workers.len()));
        return None;
    }
    let conns: Vec<u64> = match (p.min_connections, p.max_connections) {
        (None, None) => workers.clone(),
        (lo, hi) => {
            let lo = lo.unwrap_or(1).max(1);
            let hi = hi.unwrap_or(lo).max(lo);
            if hi > MAX_CONNECTIONS {
                errors.push(format!(
                    "progressive.max_connections: must be at most {MAX_CONNECTIONS}"
                ));
                return None;
            }
            workers
                .iter()
                .map(|w| {
                    let f = if max > min {
                        (w - min) as f64 / (max - min) as f64
                    } else {
                        1.0
                    };
                    lo + ((hi - lo) as f64 * f).round() as u64
                })
                .collect()
        }
    };
    if conns.iter().any(|c| *c > MAX_CONNECTIONS) {
        errors.push(format!("progressive: connections tied to workers exceed {MAX_CONNECTIONS}; set progressive.max_connections"));
        return None;
    }
    Some(ProgressivePlan {
        strategy,
        levels: workers
            .iter()
            .zip(&conns)
            .map(|(w, c)| (*w as usize, *c as usize))
            .collect(),
        band_duration,
        warmup,
        cooldown,
        stop_when: p.stop_when.unwrap_or_default(),
    })
}

fn prometheus_addr(p: &RawPrometheus, errors: &mut Vec<String>) -> Option<std::net::SocketAddr> {
    if !p.enabled.unwrap_or(false) {
        return None;
    }
    let listen = p.listen.as_deref().unwrap_or("127.0.0.1:9187");
    match listen.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            errors.push(format!(
                "metrics.prometheus.listen: '{listen}' is not an address; write it like \"127.0.0.1:9187\""
            ));
            None
        }
    }
}

fn stop_rule(raw: &RawConfig, errors: &mut Vec<String>) -> Stop {
    let duration = raw.duration.map(|d| {
        dur_in(
            errors,
            "duration",
            d,
            Duration::from_millis(100),
            MAX_RUN_TIME,
        )
    });
    match raw.transactions {
        Some(0) => {
            errors.push("transactions: must be at least 1".into());
            Stop::Transactions {
                count: 1,
                limit: duration,
            }
        }
        Some(count) => Stop::Transactions {
            count,
            limit: duration,
        },
        None => Stop::Duration(duration.unwrap_or(Dur(Duration::from_secs(60)))),
    }
}

fn arrival(raw: &RawConfig, errors: &mut Vec<String>) -> Arrival {
    match (raw.rate, raw.arrival) {
        (None, None) => Arrival::Closed,
        (None, Some(_)) => {
            errors.push("arrival: needs a target rate; set rate (transactions per second) or remove arrival".into());
            Arrival::Closed
        }
        (Some(r), a) => {
            if !(r.is_finite() && r > 0.0 && r <= 10_000_000.0) {
                errors.push(format!("rate: must be a positive number of transactions per second up to 10000000 (got {r})"));
            }
            Arrival::Open {
                rate_tps: r,
                process: a.unwrap_or(ArrivalKind::Uniform),
            }
        }
    }
}

/// The connection settings of a `database:` section (with defaults), adding any problem to `errors`.
pub fn database_plan(db: &RawDatabase, errors: &mut Vec<String>) -> DatabasePlan {
    let embedded = db.embedded.unwrap_or(false);
    if embedded && db.host.is_some() {
        // the shipped configs keep a host next to `embedded` so that removing one line
        // points them at a server; saying so on every run would be noise
        log::debug!("database.host is ignored: database.embedded is true");
    }
    if let Some(h) = &db.host {
        if h.trim().is_empty() {
            errors.push("database.host: must not be empty".into());
        }
    }
    if db.port == Some(0) {
        errors.push("database.port: must be between 1 and 65535 (got 0)".into());
    }
    DatabasePlan {
        embedded,
        bindir: db.bindir.clone(),
        host: db.host.clone().unwrap_or_else(|| "localhost".into()),
        port: db.port.unwrap_or(5432),
        dbname: db.dbname.clone().unwrap_or_else(|| "postgres".into()),
        username: db
            .username
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "postgres".into()),
        password: db.password.clone(),
        sslmode: db.sslmode.unwrap_or(if embedded {
            SslMode::Disable
        } else {
            SslMode::Prefer
        }),
        sslrootcert: db.sslrootcert.clone(),
        connect_timeout: dur_in(
            errors,
            "database.connect_timeout",
            db.connect_timeout.unwrap_or(Dur(Duration::from_secs(10))),
            Duration::ZERO,
            MAX_CONNECT_TIMEOUT,
        ),
        isolation: db.isolation,
    }
}

impl RunPlan {
    /// The registry entry and workload this plan runs.
    pub fn target(&self) -> &Target {
        self.target.as_ref().expect("a validated plan has a target")
    }

    /// The resolved config as JSON, password redacted, for embedding in reports.
    pub fn to_report_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests;
