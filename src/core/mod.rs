//! The small, stable API every workload codes against: the `Workload` trait, transaction
//! kinds and outcomes, error classes, seeded random numbers, key distributions and the
//! registry of built-in workloads.

pub(crate) mod dist;
pub(crate) mod error;
pub(crate) mod load;
pub(crate) mod measure;
pub(crate) mod registry;
pub(crate) mod script;
pub(crate) mod seen;
pub(crate) mod session;

use std::future::Future;
use std::pin::Pin;

pub use crate::rows::{Numeric, Rows};
pub(crate) use dist::{name_key, KeyChooser, KeyDistribution, Permutation, Zipfian};
pub use error::{classify, ErrorClass, ErrorCounts};
pub use registry::{Registry, WorkloadInfo};
pub use session::{Params, Session, Statements, Step, Stmt, TxError};

/// A pinned, boxed, `Send` future, the return type of the workload trait's async methods.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A pooled or transient connection with a per-connection prepared-statement cache
/// (`prepare_cached`). Statements are never shared between connections.
pub(crate) type Conn = deadpool_postgres::ClientWrapper;

/// A connection pool sized by the run's `connections`.
pub(crate) type Pool = deadpool_postgres::Pool;

/// Index of a transaction kind within [`Workload::kinds`].
pub(crate) type TxKind = usize;

/// How a transaction ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TxOutcome {
    /// Committed; `queries` statements were sent.
    Committed {
        /// Statements sent in this transaction.
        queries: u32,
    },
    /// Rolled back on purpose by the workload (e.g. TPC-C's invalid item); counts as a success.
    RolledBack {
        /// Statements sent in this transaction.
        queries: u32,
    },
}

impl TxOutcome {
    /// A committed transaction of `queries` statements.
    pub(crate) fn committed(queries: u32) -> Self {
        TxOutcome::Committed { queries }
    }

    /// Statements sent in this transaction.
    pub(crate) fn queries(&self) -> u32 {
        match *self {
            TxOutcome::Committed { queries } | TxOutcome::RolledBack { queries } => queries,
        }
    }
}

/// How a transaction reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ConnectionMode {
    /// Pooled connections, reused across transactions.
    Persistent,
    /// A new connection for every transaction, closed afterwards.
    Transient,
    /// Each transaction picks persistent or transient with equal probability.
    Mixed,
}

impl ConnectionMode {
    /// The config spelling of the mode.
    pub(crate) const fn as_str(&self) -> &'static str {
        match self {
            ConnectionMode::Persistent => "persistent",
            ConnectionMode::Transient => "transient",
            ConnectionMode::Mixed => "mixed",
        }
    }
}

/// Which client library carries the workers' transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Driver {
    /// The wire driver (every workload runs on it).
    #[default]
    Auto,
    /// The lean wire driver.
    Wire,
    /// tokio-postgres, kept to compare against (set-up, loading and statistics always
    /// use it).
    TokioPostgres,
}

impl Driver {
    /// The config spelling.
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            Driver::Auto => "auto",
            Driver::Wire => "wire",
            Driver::TokioPostgres => "tokio-postgres",
        }
    }
}

/// What a workload is built from: the chosen mode, the scale and its own config section.
#[derive(Debug, Clone)]
pub(crate) struct WorkloadParams {
    /// Mode name, one of the workload's `modes`.
    pub(crate) mode: String,
    /// Scale factor; its meaning is the workload's (`WorkloadInfo::scale_meaning`).
    pub(crate) scale: u64,
    /// The workload's own YAML section (`simple: {...}`), `Null` when absent.
    pub(crate) section: serde_yaml::Value,
    /// Run seed, for data generation that must be repeatable.
    pub(crate) seed: u64,
    /// Workers of the run (a workload that splits fixed work, like a trace's sessions,
    /// over the workers needs it).
    pub(crate) workers: usize,
    /// The registry the workload was found in (built-in and declarative workloads), for a
    /// workload that builds another one (trace replay's `schema_from`).
    pub(crate) registry: Registry,
}

/// Errors of schema management and data loading.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SchemaError {
    /// A statement failed. The server's error is in the message already, so it is not the
    /// error's source (a report of the chain would say it twice).
    #[error("{what}: {}", db_message(.error))]
    Db {
        /// What was being done, on one line.
        what: String,
        /// The server's error.
        error: tokio_postgres::Error,
    },
    /// Getting a connection from the pool failed.
    #[error("{0}")]
    Pool(String),
    /// The workload's SQL asks for something stormbench will not do.
    #[error("{0}")]
    Refused(String),
}

/// The server's message (with SQLSTATE) or the driver's error, on one line.
pub(crate) fn db_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) if d.code() == &tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE => format!(
            "{} (SQLSTATE {}): another session holds a lock this step needs; end that session \
             (see pg_stat_activity and pg_blocking_pids) or try again",
            d.message(),
            d.code().code()
        ),
        Some(d) => format!("{} (SQLSTATE {})", d.message(), d.code().code()),
        None => error_chain(e),
    }
}

/// Runs a query a workload gives for a check or a measure (simple protocol) with the
/// session's transactions read-only: such a query only reads, and the server refuses a
/// write hidden in one (a data-modifying `WITH`, a function that writes, a `DROP`).
pub(crate) async fn read_only_query(
    conn: &Conn,
    sql: &str,
) -> Result<Vec<tokio_postgres::SimpleQueryMessage>, tokio_postgres::Error> {
    conn.batch_execute("SET default_transaction_read_only = on")
        .await?;
    let out = conn.simple_query(sql).await;
    let reset = conn
        .batch_execute("RESET default_transaction_read_only")
        .await;
    let out = out?;
    reset?;
    Ok(out)
}

/// Whether the server refused a write in a read-only transaction.
pub(crate) fn refused_as_a_write(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION)
}

/// An error and its sources on one line (a source already quoted is not repeated).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        let m = x.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        src = x.source();
    }
    s
}

/// Runs a SQL file statement by statement (statements end at a `;` outside quotes and
/// comments), outside any transaction block, so files may hold VACUUM or CREATE INDEX
/// CONCURRENTLY. A failure names the statement and its line.
pub(crate) async fn run_script(conn: &Conn, sql: &str, what: &str) -> Result<(), SchemaError> {
    for stmt in script::split(sql) {
        conn.batch_execute(stmt.text)
            .await
            .map_err(SchemaError::db(format!(
                "{what}, line {} ({})",
                stmt.line,
                stmt.head()
            )))?;
    }
    Ok(())
}

impl SchemaError {
    /// A failure to get a pooled connection while `what`, on one line with the server's
    /// SQLSTATE and what to do about it.
    pub(crate) fn pool(what: &str, e: &deadpool_postgres::PoolError) -> SchemaError {
        use deadpool_postgres::PoolError;
        let msg = match e {
            PoolError::Backend(pg) => match pg.code().map(|c| c.code()) {
                Some("53300") => format!(
                    "{what}: too many clients (SQLSTATE 53300): the server has no free connection slot for another loading connection; lower connections (loading uses up to 8) or raise max_connections"
                ),
                Some(_) => format!("{what}: {}", db_message(pg)),
                None => format!("{what}: cannot connect: {}", error_chain(pg)),
            },
            PoolError::Timeout(_) => format!(
                "{what}: connecting timed out; is the server overloaded or unreachable?"
            ),
            other => format!("{what}: {other}"),
        };
        SchemaError::Pool(msg)
    }

    /// Wraps a database error with what was being done.
    pub(crate) fn db(what: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> SchemaError {
        // a statement's text as `what` (a COPY command) may span lines; the message is one
        let what = what.into().split_whitespace().collect::<Vec<_>>().join(" ");
        move |error| SchemaError::Db { what, error }
    }
}

/// A workload: its schema, its loader, and per-worker transaction generators.
///
/// Implementations hold only immutable, shareable state; everything mutable lives in the
/// [`WorkerTx`] each worker gets from [`Workload::worker`].
pub(crate) trait Workload: Send + Sync {
    /// Transaction kinds, in a fixed order; a [`TxKind`] indexes this slice.
    fn kinds(&self) -> &[&'static str];

    /// Tables this workload owns (dropped by cleanup, checked by setup).
    fn tables(&self) -> &[&'static str];

    /// The name the schema marker is kept under: the workload's own by default; a workload
    /// that runs on another one's schema (trace replay with `trace.schema_from`) gives that
    /// one's, so either can set the schema up for the other.
    fn schema_name(&self) -> Option<&str> {
        None
    }

    /// The workload's parameters its loaded schema depends on, as `name=value, ...`
    /// (empty: none). Kept in the schema marker; a run asking for others must rebuild.
    fn schema_params(&self) -> String {
        String::new()
    }

    /// Server settings every session of the run starts with (`name`, `value`), e.g. an
    /// index's search parameter.
    fn settings(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Whether the workload has a schema to set up (and a marker to check).
    fn needs_schema(&self) -> bool {
        true
    }

    /// Whether the measured transactions may change data (`safety.read_only` refuses such
    /// a run, the other guards check where it runs). Conservative by default.
    fn writes(&self) -> bool {
        true
    }

    /// Overrides the run's `connection_mode` (the `connection` workload's modes do).
    fn connection_mode(&self) -> Option<ConnectionMode> {
        None
    }

    /// The workload's schema as SQL files and the rows to load per COPY table, for the
    /// default [`Workload::create_schema`], [`Workload::load`] and [`Workload::drop_schema`].
    fn sql_schema(&self) -> Option<(&'static load::SqlSchema, Vec<u64>)> {
        None
    }

    /// Creates the schema (tables, no secondary indexes needed by loading yet).
    fn create_schema<'a>(&'a self, conn: &'a Conn) -> BoxFuture<'a, Result<(), SchemaError>> {
        Box::pin(async move {
            match self.sql_schema() {
                Some((s, _)) => s.create(conn).await,
                None => Ok(()),
            }
        })
    }

    /// Loads data for the scale with COPY, in parallel over the pool where it helps,
    /// then builds indexes.
    fn load<'a>(
        &'a self,
        pool: &'a Pool,
        progress: &'a LoadProgress,
    ) -> BoxFuture<'a, Result<LoadStats, SchemaError>> {
        Box::pin(async move {
            match self.sql_schema() {
                Some((s, rows)) => s.load(pool, &rows, progress).await,
                None => Ok(LoadStats::default()),
            }
        })
    }

    /// Drops the workload's objects by name, whoever created them: used only for a marker
    /// written before stormbench recorded what it created, and for `--force-drop`.
    fn drop_schema<'a>(&'a self, conn: &'a Conn) -> BoxFuture<'a, Result<(), SchemaError>> {
        Box::pin(async move {
            match self.sql_schema() {
                Some((s, _)) => s.drop(conn).await,
                None => Ok(()),
            }
        })
    }

    /// SQL the workload's author gave for cleaning up (a declarative workload's `cleanup`
    /// files), run before stormbench drops the objects its set-up recorded; only run where
    /// the marker shows this workload was set up.
    fn cleanup_script(&self) -> Option<String> {
        None
    }

    /// Checks what the workload needs from the server (minimum version, extensions)
    /// before anything is created, loaded or run; each problem is one line saying what
    /// to do. `server_version_num` is the server's `server_version_num`.
    fn preflight<'a>(
        &'a self,
        _conn: &'a Conn,
        _server_version_num: u32,
    ) -> BoxFuture<'a, Result<(), Vec<String>>> {
        Box::pin(async { Ok(()) })
    }

    /// Consistency checks of the data (e.g. TPC-C's conditions 1-4); empty when the
    /// workload has none. `--check` runs them; a failed one makes the exit code 4.
    fn check<'a>(
        &'a self,
        _conn: &'a Conn,
    ) -> BoxFuture<'a, Result<Vec<CheckResult>, SchemaError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Whether [`Workload::prepare_run`] has work to do (else no session is opened for it).
    fn prepares_run(&self) -> bool {
        false
    }

    /// Reads what the next run's workers start from, on a session of the run's target just
    /// before each run (and each band of a sweep), before any worker is made: e.g. where
    /// run-time key sequences resume. Every wait is bounded; problems come back as
    /// warnings and the run goes on.
    fn prepare_run<'a>(&'a self, _conn: &'a Conn) -> BoxFuture<'a, Vec<String>> {
        Box::pin(async { Vec::new() })
    }

    /// Figures the workload takes itself on a session of the run's target, just before the
    /// run (`before`: remember what to compare with; its figures are dropped) and after it
    /// (e.g. the planner's estimates against the rows a query really produced).
    fn inspect<'a>(&'a self, _conn: &'a Conn, _before: bool) -> BoxFuture<'a, Vec<Metric>> {
        Box::pin(async { Vec::new() })
    }

    /// Whether [`Workload::inspect`] has anything to do (so no session is opened for it
    /// otherwise).
    fn inspects(&self) -> bool {
        false
    }

    /// Measures: SQL whose numeric results become figures of the report.
    fn measures(&self) -> &[measure::Measure] {
        &[]
    }

    /// Whether [`Workload::check`] also runs after every run (a workload setting).
    fn check_after_run(&self) -> bool {
        false
    }

    /// Workload-specific figures for the report (e.g. tpmC), from the run's counts.
    fn metrics(&self, _run: &RunCounts) -> Vec<Metric> {
        Vec::new()
    }

    /// Whether the workload brings its own timing ([`WorkerTx::next_start`]), and what it
    /// is; the report then gives the start lag against it.
    fn pacing(&self) -> Option<Pacing> {
        None
    }

    /// Whether a worker's transactions depend on session state left by earlier ones (an
    /// open transaction, a `SET`), so each worker must keep its own connection: the run
    /// then needs `connections >= workers`.
    fn session_bound(&self) -> bool {
        false
    }

    /// How many partitions of the data worker ids map onto, worker `w` working on
    /// partition `w % n` (TPC-C: its home warehouse); `None` when workers share all data.
    /// Shard `i` of `k` runs workers `i, i + k, ...`, so its partitions are its own only
    /// when `k` divides `n`.
    fn worker_partitions(&self) -> Option<u64> {
        None
    }

    /// Files the workload reads from outside its own folder (the trace a replay runs): a
    /// report is never written over them.
    fn input_files(&self) -> Vec<std::path::PathBuf> {
        Vec::new()
    }

    /// Things the user should know about the run as configured (e.g. too few workers for
    /// a trace's sessions); logged as warnings before it starts.
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }

    /// What the measured run just ended showed that makes its figures suspect (a statement
    /// that never returned or changed a row), since the last call; called once more when
    /// the warm-up ends, its answer dropped, so that only measured executions are judged.
    fn findings(&self) -> Vec<String> {
        Vec::new()
    }

    /// Per-worker state: RNG, key chooser, parameters. `seed` is derived from the run seed
    /// and the worker id, so a run can be repeated.
    fn worker(&self, worker_id: usize, seed: u64) -> Box<dyn WorkerTx>;

    /// Worker groups of the mode: each runs its own mix with its own workers and arrival
    /// (e.g. inserts at a fixed rate beside searches in a closed loop). Empty: one group,
    /// the run's workers and arrival.
    fn groups(&self) -> Vec<Group> {
        Vec::new()
    }

    /// The generator of a worker of group `group` (an index into [`Workload::groups`]).
    fn group_worker(&self, group: usize, worker_id: usize, seed: u64) -> Box<dyn WorkerTx> {
        let _ = group;
        self.worker(worker_id, seed)
    }
}

/// A worker group as the workload declares it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Group {
    pub(crate) name: String,
    /// Workers; `None`: the run's `workers`.
    pub(crate) workers: Option<usize>,
    /// Open-loop rate; `None`: the run's arrival.
    pub(crate) rate: Option<f64>,
    /// The kinds the group runs (index into [`Workload::kinds`]).
    pub(crate) kinds: Vec<TxKind>,
}

/// Rows loaded per table and how long it took.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct LoadStats {
    /// Per table, in load order.
    pub(crate) tables: Vec<TableLoad>,
    /// Named steps after loading (e.g. building an index), each timed on its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) steps: Vec<StepTime>,
    /// Figures measured once the load was done (e.g. an index's size).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) figures: Vec<Metric>,
    /// Wall time of the whole load (keys and indexes included), seconds.
    pub(crate) elapsed_s: f64,
}

/// One timed step of a load.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct StepTime {
    /// The step's name.
    pub(crate) name: String,
    /// Its wall time, seconds.
    pub(crate) elapsed_s: f64,
}

/// One table's load.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct TableLoad {
    /// Table name.
    pub(crate) table: String,
    /// Rows loaded.
    pub(crate) rows: u64,
    /// Seconds spent loading it (tables loaded concurrently overlap).
    pub(crate) elapsed_s: f64,
}

/// One worker's transaction generator.
pub(crate) trait WorkerTx: Send {
    /// Picks the next transaction kind (weighted by the mode).
    fn next_kind(&mut self) -> TxKind;

    /// Runs one transaction of `kind` on `session`. Errors are returned untouched; the
    /// engine classifies them, retries serialization failures and deadlocks, and counts
    /// the rest.
    fn run<'a>(
        &'a mut self,
        kind: TxKind,
        session: &'a mut dyn Session,
    ) -> BoxFuture<'a, Result<TxOutcome, TxError>>;

    /// When the next transaction is due. The default leaves it to the run's schedule
    /// (closed loop or `rate`); a workload with its own timing returns instants relative
    /// to the start of the run, and [`NextStart::Finished`] when it has nothing left.
    fn next_start(&mut self) -> NextStart {
        NextStart::Schedule
    }

    /// A pause after a transaction of `kind` (e.g. TPC-C keying + think time), on top of
    /// the run's `think_time`; not part of any latency.
    fn pause_after(&mut self, _kind: TxKind) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

/// When a worker's next transaction is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NextStart {
    /// As the run's schedule says (closed loop, or the `rate` arrivals).
    Schedule,
    /// At this offset from the start of the run (warm-up included).
    At(std::time::Duration),
    /// The worker has nothing more to run.
    Finished,
}

/// A workload's own timing, for the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Pacing {
    /// Where the timing comes from, e.g. "trace".
    pub(crate) source: String,
    /// Speed factor against the source's timing (1.0 = real time, 0 = as fast as possible).
    pub(crate) speed: f64,
}

/// One consistency check's outcome.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct CheckResult {
    /// Short name, e.g. "condition 1: W_YTD = sum(D_YTD)".
    pub(crate) name: String,
    /// Whether it held.
    pub(crate) passed: bool,
    /// What was found (counts of violating rows, an example).
    pub(crate) detail: String,
}

/// A workload-specific figure for the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Metric {
    /// Name, e.g. "tpmC".
    pub(crate) name: String,
    pub(crate) value: f64,
    /// Unit, e.g. "transactions/min".
    pub(crate) unit: String,
    /// One line on what it counts.
    pub(crate) description: String,
}

/// Counts of a finished run, for [`Workload::metrics`].
#[derive(Debug, Clone, Default)]
pub(crate) struct RunCounts {
    /// Measured seconds.
    pub(crate) measured_s: f64,
    /// Per kind (workload order): committed transactions.
    pub(crate) committed: Vec<u64>,
    /// Per kind: transactions rolled back on purpose.
    pub(crate) rolled_back: Vec<u64>,
    /// Per kind: failed transactions.
    pub(crate) failed: Vec<u64>,
    /// Per kind: the summed execution time of its transactions, seconds.
    pub(crate) service_s: Vec<f64>,
    /// Commits + rollbacks of the database during measurement, from `pg_stat_database`
    /// (all clients, not only stormbench); `None` when it could not be read.
    pub(crate) server_xacts: Option<u64>,
}

/// Progress of a data load: rows done against rows expected, drawn by the caller.
#[derive(Debug, Default)]
pub(crate) struct LoadProgress {
    /// Rows expected in all.
    pub(crate) total: std::sync::atomic::AtomicU64,
    /// Rows loaded so far.
    pub(crate) done: std::sync::atomic::AtomicU64,
}

impl LoadProgress {
    /// Adds to the expected rows.
    pub(crate) fn expect(&self, rows: u64) {
        self.total
            .fetch_add(rows, std::sync::atomic::Ordering::Relaxed);
    }

    /// Counts loaded rows.
    pub(crate) fn add(&self, rows: u64) {
        self.done
            .fetch_add(rows, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A number as an error message shows a value the user gave: as written when it is of a
/// usual size, in exponent form when it is huge or tiny (`1e300`, not 301 digits).
pub(crate) struct Shown(pub(crate) f64);

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = self.0.abs();
        if !self.0.is_finite() || a == 0.0 || (1e-6..1e15).contains(&a) {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{:e}", self.0)
        }
    }
}

/// A `'static` copy of `s`, shared by every caller asking for the same text. Workloads
/// defined at run time use it for their kind and table names, which the engine keeps as
/// `&'static str`; each distinct text is allocated once per process.
pub(crate) fn intern(s: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static SEEN: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(found) = seen.get(s) {
        return found;
    }
    let leaked: &'static str = Box::leak(s.to_string().into_boxed_str());
    seen.insert(leaked);
    leaked
}

/// Derives a well-mixed 64-bit seed from a run seed and a stream id (SplitMix64).
pub(crate) fn derive_seed(run_seed: u64, stream: u64) -> u64 {
    let mut z = run_seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seeded RNG every worker uses.
pub(crate) type Rng = rand::rngs::SmallRng;

/// A worker RNG seeded from a run seed and a stream id.
pub(crate) fn rng(run_seed: u64, stream: u64) -> Rng {
    use rand::SeedableRng;
    Rng::seed_from_u64(derive_seed(run_seed, stream))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng as _;

    #[test]
    fn seeds_are_repeatable_and_distinct() {
        let a: u64 = rng(42, 1).gen();
        let b: u64 = rng(42, 1).gen();
        let c: u64 = rng(42, 2).gen();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(derive_seed(1, 0), derive_seed(2, 0));
    }

    #[test]
    fn numbers_in_messages_stay_short() {
        let shown = |v: f64| Shown(v).to_string();
        assert_eq!(shown(0.5), "0.5");
        assert_eq!(shown(-5.0), "-5");
        assert_eq!(shown(0.0), "0");
        assert_eq!(shown(10_000_000.0), "10000000");
        assert_eq!(shown(1e300), "1e300");
        assert_eq!(shown(-1e300), "-1e300");
        assert_eq!(shown(1e-300), "1e-300");
        assert_eq!(shown(f64::NAN), "NaN");
        assert_eq!(shown(f64::INFINITY), "inf");
    }

    #[test]
    fn interned_text_is_shared() {
        let a = intern(&String::from("kind_x"));
        let b = intern("kind_x");
        assert!(std::ptr::eq(a, b));
    }
}
