//! Server statistics sampled during a run on their own task and connection (never in the
//! workers' path): `pg_stat_database`, background writer / checkpointer, `pg_stat_io`,
//! `pg_stat_wal`, connections, wait events, lock waits, autovacuum, and
//! `pg_stat_statements` deltas. Views a server version lacks are reported as not
//! available, never as errors.

mod queries;
mod report;

pub use report::{DbStatsReport, IntervalStats, StatementDelta};

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::core::Conn;

/// Counters of `pg_stat_database` for the run's database.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct DbCounters {
    /// Commits.
    pub xact_commit: i64,
    /// Rollbacks.
    pub xact_rollback: i64,
    /// Blocks read from disk (or the OS cache).
    pub blks_read: i64,
    /// Blocks found in shared buffers.
    pub blks_hit: i64,
    /// Rows returned by scans.
    pub tup_returned: i64,
    /// Rows fetched by index scans.
    pub tup_fetched: i64,
    /// Rows inserted.
    pub tup_inserted: i64,
    /// Rows updated.
    pub tup_updated: i64,
    /// Rows deleted.
    pub tup_deleted: i64,
    /// Temporary files.
    pub temp_files: i64,
    /// Temporary bytes.
    pub temp_bytes: i64,
    /// Deadlocks detected.
    pub deadlocks: i64,
    /// Queries canceled by recovery conflicts.
    pub conflicts: i64,
}

/// Checkpoints and background writes (`pg_stat_bgwriter` up to 16, plus
/// `pg_stat_checkpointer` from 17).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct CheckpointCounters {
    /// Scheduled checkpoints.
    pub checkpoints_timed: i64,
    /// Requested checkpoints.
    pub checkpoints_requested: i64,
    /// Buffers written by checkpoints.
    pub buffers_checkpoint: i64,
    /// Buffers written by the background writer.
    pub buffers_clean: i64,
    /// Times the background writer stopped for writing too many buffers.
    pub maxwritten_clean: i64,
}

/// `pg_stat_io` summed over backends, objects and contexts (16 and later).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct IoCounters {
    /// Read operations.
    pub reads: i64,
    /// Write operations.
    pub writes: i64,
    /// Relation extensions.
    pub extends: i64,
    /// Shared buffer hits.
    pub hits: i64,
    /// Buffer evictions.
    pub evictions: i64,
    /// fsync calls.
    pub fsyncs: i64,
}

/// `pg_stat_wal`.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct WalCounters {
    /// WAL records.
    pub wal_records: i64,
    /// Full-page images.
    pub wal_fpi: i64,
    /// WAL bytes.
    pub wal_bytes: i64,
}

/// Client connections by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Connections {
    /// Running a statement.
    pub active: i64,
    /// Idle.
    pub idle: i64,
    /// Idle inside a transaction.
    pub idle_in_transaction: i64,
    /// All client backends.
    pub total: i64,
    /// The server's `max_connections`.
    pub max_connections: i64,
}

/// One table's vacuum state.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TableVacuum {
    /// Table.
    pub table: String,
    /// Live rows (estimate).
    pub live_tuples: i64,
    /// Dead rows (estimate).
    pub dead_tuples: i64,
    /// Autovacuum runs so far.
    pub autovacuum_count: i64,
    /// Last autovacuum, RFC 3339, if any.
    pub last_autovacuum: Option<String>,
}

/// One sample of everything the collector reads.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Sample {
    /// Seconds since the start of measurement.
    pub t_s: f64,
    /// Database counters.
    pub database: DbCounters,
    /// Checkpoints / background writer (`None` when not readable).
    pub checkpoints: Option<CheckpointCounters>,
    /// `pg_stat_io` (`None` before 16).
    pub io: Option<IoCounters>,
    /// `pg_stat_wal` (`None` before 14).
    pub wal: Option<WalCounters>,
    /// Connections by state.
    pub connections: Connections,
    /// Active client backends waiting, by `wait_event_type:wait_event`.
    pub waits: BTreeMap<String, i64>,
    /// Lock requests not granted.
    pub locks_waiting: i64,
    /// Autovacuum workers running.
    pub autovacuum_running: i64,
}

/// A `pg_stat_statements` row at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementRow {
    /// Query id.
    pub queryid: i64,
    /// Normalized text.
    pub query: String,
    /// Calls.
    pub calls: i64,
    /// Total execution time, ms.
    pub total_exec_time_ms: f64,
    /// Rows.
    pub rows: i64,
}

/// What the collector was asked to do.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Sampling interval.
    pub interval: Duration,
    /// Diff `pg_stat_statements` between start and end.
    pub statements: bool,
    /// How many statements to report.
    pub top_statements: usize,
    /// Tables of the workload (dead tuples, last autovacuum).
    pub tables: Vec<String>,
}

/// Which views the server has, decided once from its version.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Views {
    /// `server_version_num`.
    pub version_num: u32,
    /// `pg_stat_wal` (14+).
    pub wal: bool,
    /// `pg_stat_io` (16+).
    pub io: bool,
    /// `pg_stat_checkpointer` (17+), else checkpoints are in `pg_stat_bgwriter`.
    pub checkpointer: bool,
}

impl Views {
    /// The views of a server version.
    pub fn of(version_num: u32) -> Self {
        Views {
            version_num,
            wal: version_num >= 140_000,
            io: version_num >= 160_000,
            checkpointer: version_num >= 170_000,
        }
    }
}

/// Live pg_stat figures for other parts (the Prometheus exporter) to read.
pub type Published = std::sync::Arc<std::sync::Mutex<Option<Sample>>>;

/// What a finished collection hands to the report.
#[derive(Debug, Clone)]
pub struct Collected {
    /// Views the server has.
    pub views: Views,
    /// Samples in time order (the first at the start of measurement).
    pub samples: Vec<Sample>,
    /// Per-table vacuum state at the end.
    pub tables: Vec<TableVacuum>,
    /// `pg_stat_statements` deltas, or why there are none.
    pub statements: Result<Vec<StatementDelta>, String>,
}

/// The collector: one connection, sampling on its own task.
pub struct Collector {
    conn: Conn,
    views: Views,
    opts: CollectOptions,
    statements_at_start: Option<Result<Vec<StatementRow>, String>>,
    publish: Option<Published>,
}

impl Collector {
    /// A collector over its own connection.
    pub async fn new(conn: Conn, opts: CollectOptions, publish: Option<Published>) -> Self {
        let version_num = conn
            .query_one("SELECT current_setting('server_version_num')::int", &[])
            .await
            .map(|r| r.get::<_, i32>(0) as u32)
            .unwrap_or(0);
        Collector {
            conn,
            views: Views::of(version_num),
            opts,
            statements_at_start: None,
            publish,
        }
    }

    /// Samples from `start` (the start of measurement) every interval until `stop`, then
    /// once more, and returns everything with the deltas.
    pub async fn run(mut self, start: Instant, stop: CancellationToken) -> Collected {
        let mut samples = Vec::new();
        if self.opts.statements {
            self.statements_at_start = Some(queries::statements(&self.conn).await);
        }
        let mut next = start;
        loop {
            match queries::sample(&self.conn, &self.views, start).await {
                Ok(s) => {
                    if let Some(p) = &self.publish {
                        if let Ok(mut slot) = p.lock() {
                            *slot = Some(s.clone());
                        }
                    }
                    samples.push(s);
                }
                Err(e) => log::warn!("pg_stat sample failed: {}", crate::core::db_message(&e)),
            }
            if stop.is_cancelled() {
                break;
            }
            next += self.opts.interval;
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = stop.cancelled() => {}
            }
        }
        let tables = queries::tables(&self.conn, &self.opts.tables)
            .await
            .unwrap_or_default();
        let statements = match self.statements_at_start.take() {
            None => Err("not requested (set pg_stat_statements: true)".to_string()),
            Some(Err(why)) => Err(why),
            Some(Ok(before)) => match queries::statements(&self.conn).await {
                Ok(after) => Ok(report::statement_deltas(
                    &before,
                    &after,
                    self.opts.top_statements,
                )),
                Err(why) => Err(why),
            },
        };
        Collected {
            views: self.views,
            samples,
            tables,
            statements,
        }
    }
}
