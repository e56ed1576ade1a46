//! What stacks on the file: the `STORMBENCH_DB_*` environment variables below its keys,
//! the command-line flags above them.

use std::path::PathBuf;
use std::time::Duration;

use super::conninfo::ConnParams;
use super::raw::{RawConfig, Secret};
use super::Dur;
use crate::core::Driver;
use crate::types::SslMode;

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
    /// `--url`: a connection URI or key/value string (may carry a password).
    pub url: Option<Secret>,
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
    pub(crate) driver: Option<Driver>,
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
    /// `--slo KEY=VALUE`, each over the file's `slo:`.
    pub slo: Vec<String>,
    /// `--history STORE` (may carry a password).
    pub history: Option<Secret>,
    /// `--shard INDEX/COUNT`.
    pub shard: Option<String>,
    /// `--shards COUNT` (the index from `JOB_COMPLETION_INDEX`).
    pub shards: Option<u64>,
    /// `--start-at TIME`.
    pub start_at: Option<String>,
    /// `--barrier NAME`.
    pub barrier: Option<String>,
    /// `--barrier-timeout`.
    pub barrier_timeout: Option<Dur>,
    /// `--setup-wait`.
    pub setup_wait: Option<Dur>,
}

/// Reads the `STORMBENCH_DB_*` variables (and `STORMBENCH_PG_BINDIR`) into the layer
/// below the file's `database:` keys and `url` and above the service and the PG*
/// environment.
pub fn apply_env(raw: &mut RawConfig, get: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let mut errors = Vec::new();
    let db = &mut raw.database;
    let layer = &mut db.env;
    layer.host = get("STORMBENCH_DB_HOST");
    if let Some(v) = get("STORMBENCH_DB_PORT") {
        match v.parse() {
            Ok(p) => layer.port = Some(p),
            Err(_) => errors.push(format!(
                "STORMBENCH_DB_PORT: '{v}' is not a port number; set it to e.g. 5432"
            )),
        }
    }
    layer.dbname = get("STORMBENCH_DB_NAME");
    layer.user = get("STORMBENCH_DB_USER");
    layer.password = get("STORMBENCH_DB_PASSWORD").map(Secret::new);
    if let Some(v) = get("STORMBENCH_DB_SSLMODE") {
        match serde_yaml::from_str::<SslMode>(&v) {
            Ok(m) => layer.sslmode = Some(m),
            Err(_) => errors.push(format!(
                "STORMBENCH_DB_SSLMODE: '{v}' is not one of disable, allow, prefer, require, \
                 verify-ca, verify-full"
            )),
        }
    }
    if db.bindir.is_none() {
        db.bindir = get("STORMBENCH_PG_BINDIR").map(PathBuf::from);
    }
    errors
}

/// Applies command-line overrides (the last word); `--url` replaces the file's URI and
/// its parts override the file's keys, the other flags override both. Returns the
/// problems (a `--url` that does not parse).
pub fn apply_overrides(raw: &mut RawConfig, o: &Overrides) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(url) = &o.url {
        match ConnParams::parse(url.expose()) {
            Ok(p) => {
                raw.database.url = None;
                p.override_raw(&mut raw.database);
            }
            Err(e) => errors.push(format!("--url: {e}")),
        }
    }
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
    if let Some(h) = &o.history {
        raw.history = Some(super::store::RawHistory::At(h.clone()));
    }
    set(&mut raw.output.csv, &o.csv);
    set(&mut raw.log_level, &o.log_level);
    set(&mut raw.threads, &o.threads);
    set(&mut raw.driver, &o.driver);
    set(&mut raw.output.html, &o.html);
    let d = &mut raw.distributed;
    if o.shard.is_some() || o.shards.is_some() {
        // a flag replaces the file's choice of shard whole
        d.shard.clone_from(&o.shard);
        d.shards = o.shards;
    }
    if o.start_at.is_some() || o.barrier.is_some() {
        d.start_at.clone_from(&o.start_at);
        d.barrier.clone_from(&o.barrier);
    }
    set(&mut d.barrier_timeout, &o.barrier_timeout);
    set(&mut d.setup_wait, &o.setup_wait);
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
    let names_a_server = o.host.is_some() || o.port.is_some() || o.url.is_some();
    if o.embedded && names_a_server {
        errors.push(
            "--embedded runs a throwaway local cluster, --host/--port/--url name a server: give one or the other"
                .into(),
        );
    } else if o.embedded {
        raw.database.embedded = Some(true);
    } else if names_a_server && raw.database.embedded == Some(true) {
        // the command line names the server: the file's throwaway cluster gives way
        // (before, the flags were ignored and the run measured the throwaway cluster)
        log::info!(
            "--host/--port/--url name the server: the config's database.embedded is set aside"
        );
        raw.database.embedded = Some(false);
    }
    for flag in &o.slo {
        if let Err(e) = super::slo::apply_flag(&mut raw.slo, flag) {
            errors.push(e);
        }
    }
    errors
}
