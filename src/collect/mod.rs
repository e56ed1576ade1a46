//! Server statistics sampled during a run on their own task and connection (never in the
//! workers' path): `pg_stat_database`, background writer / checkpointer, `pg_stat_io`,
//! `pg_stat_wal`, connections, wait events, lock waits, autovacuum, and
//! `pg_stat_statements` deltas. Views a server version lacks are reported as not
//! available, never as errors.

mod queries;
mod report;

pub(crate) use report::{DbStatsReport, IntervalStats, StatementDelta};

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::core::Conn;
use crate::db::Target;

/// Counters of `pg_stat_database` for the run's database.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct DbCounters {
    /// Commits.
    pub(crate) xact_commit: i64,
    /// Rollbacks.
    pub(crate) xact_rollback: i64,
    /// Blocks read from disk (or the OS cache).
    pub(crate) blks_read: i64,
    /// Blocks found in shared buffers.
    pub(crate) blks_hit: i64,
    /// Rows returned by scans.
    pub(crate) tup_returned: i64,
    /// Rows fetched by index scans.
    pub(crate) tup_fetched: i64,
    /// Rows inserted.
    pub(crate) tup_inserted: i64,
    /// Rows updated.
    pub(crate) tup_updated: i64,
    /// Rows deleted.
    pub(crate) tup_deleted: i64,
    /// Temporary files.
    pub(crate) temp_files: i64,
    /// Temporary bytes.
    pub(crate) temp_bytes: i64,
    /// Deadlocks detected.
    pub(crate) deadlocks: i64,
    /// Queries canceled by recovery conflicts.
    pub(crate) conflicts: i64,
}

/// Checkpoints and background writes (`pg_stat_bgwriter` up to 16, plus
/// `pg_stat_checkpointer` from 17).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct CheckpointCounters {
    /// Scheduled checkpoints.
    pub(crate) checkpoints_timed: i64,
    /// Checkpoints asked for (`CHECKPOINT`, `max_wal_size` reached) rather than timed.
    pub(crate) checkpoints_requested: i64,
    /// Buffers written by checkpoints.
    pub(crate) buffers_checkpoint: i64,
    /// Buffers written by the background writer.
    pub(crate) buffers_clean: i64,
    /// Times the background writer stopped for writing too many buffers.
    pub(crate) maxwritten_clean: i64,
}

/// `pg_stat_io` summed over backends, objects and contexts (16 and later).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct IoCounters {
    /// Read operations.
    pub(crate) reads: i64,
    /// Write operations.
    pub(crate) writes: i64,
    /// Relation extensions.
    pub(crate) extends: i64,
    /// Shared buffer hits.
    pub(crate) hits: i64,
    /// Buffer evictions.
    pub(crate) evictions: i64,
    /// fsync calls.
    pub(crate) fsyncs: i64,
}

/// `pg_stat_wal`.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct WalCounters {
    pub(crate) wal_records: i64,
    /// Full-page images.
    pub(crate) wal_fpi: i64,
    pub(crate) wal_bytes: i64,
}

/// Client connections by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Connections {
    /// Running a statement.
    pub(crate) active: i64,
    pub(crate) idle: i64,
    /// Idle inside a transaction.
    pub(crate) idle_in_transaction: i64,
    /// All client backends.
    pub(crate) total: i64,
    /// The server's `max_connections`.
    pub(crate) max_connections: i64,
}

/// Adds `to - from` to each named counter of `self`: a sample taken after a reconnect is
/// shifted by the counters' jump over the gap, so the series stays continuous and a delta
/// across it counts only what was measured on either side.
macro_rules! shift_counters {
    ($t:ty { $($f:ident),* $(,)? }) => {
        impl $t {
            fn shift(&mut self, from: &Self, to: &Self) {
                $(self.$f += to.$f - from.$f;)*
            }

            /// Whether a counter is below its value in `earlier` (they were reset).
            fn went_down(&self, earlier: &Self) -> bool {
                false $(|| self.$f < earlier.$f)*
            }
        }
    };
}

shift_counters!(DbCounters {
    xact_commit,
    xact_rollback,
    blks_read,
    blks_hit,
    tup_returned,
    tup_fetched,
    tup_inserted,
    tup_updated,
    tup_deleted,
    temp_files,
    temp_bytes,
    deadlocks,
    conflicts,
});
shift_counters!(CheckpointCounters {
    checkpoints_timed,
    checkpoints_requested,
    buffers_checkpoint,
    buffers_clean,
    maxwritten_clean,
});
shift_counters!(IoCounters {
    reads,
    writes,
    extends,
    hits,
    evictions,
    fsyncs
});
shift_counters!(WalCounters {
    wal_records,
    wal_fpi,
    wal_bytes
});

impl Sample {
    /// Shifts every counter by `to - from` (see [`shift_counters`]).
    fn shift(&mut self, from: &Sample, to: &Sample) {
        self.database.shift(&from.database, &to.database);
        if let (Some(s), Some(f), Some(t)) =
            (&mut self.checkpoints, &from.checkpoints, &to.checkpoints)
        {
            s.shift(f, t);
        }
        if let (Some(s), Some(f), Some(t)) = (&mut self.io, &from.io, &to.io) {
            s.shift(f, t);
        }
        if let (Some(s), Some(f), Some(t)) = (&mut self.wal, &from.wal, &to.wal) {
            s.shift(f, t);
        }
    }
}

/// Counters found reset between two samples without a gap between them
/// (`pg_stat_reset()`, `pg_stat_reset_shared()`, a crash and restart faster than the sample
/// interval): counting went on from the sample before plus what the one after had counted
/// since the reset, so only what happened between the sample before and the reset is
/// missing.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct CounterReset {
    /// Seconds from the start of measurement to the first sample after the reset.
    pub(crate) t_s: f64,
    /// The view whose counters were reset.
    pub(crate) view: String,
}

/// Keeps the series of samples continuous: after a gap (a restart may have reset the
/// counters) the first sample is joined to the last before it; without a gap, the
/// counters of a view that went down were reset, and that view counts on from the last
/// sample plus what the new one counted since the reset.
#[derive(Debug, Default)]
struct Joiner {
    /// (a raw sample, the joined sample it stands for): later samples are shifted by the
    /// difference, view by view.
    join: Option<(Sample, Sample)>,
    /// The previous sample as read.
    raw_before: Option<Sample>,
    /// Views found reset.
    resets: Vec<CounterReset>,
}

impl Joiner {
    /// `s` as read, joined to the series whose last sample is `last`; `after_gap` when no
    /// sample could be taken since `last`.
    fn joined(&mut self, mut s: Sample, last: Option<&Sample>, after_gap: bool) -> Sample {
        match (last, self.raw_before.take()) {
            (Some(last), _) if after_gap => self.join = Some((s.clone(), last.clone())),
            (Some(last), Some(before)) => {
                for view in self.reset_views(&s, &before, last) {
                    log::warn!(
                        "{view} counters were reset during the run (seen at {:.1}s); the \
                         server figures count on from the reset",
                        s.t_s
                    );
                    self.resets.push(CounterReset {
                        t_s: s.t_s,
                        view: view.to_string(),
                    });
                }
            }
            _ => {}
        }
        self.raw_before = Some(s.clone());
        if let Some((from, to)) = &self.join {
            s.shift(from, to);
        }
        s
    }

    /// The views of `s` whose counters went down since `before` (the previous raw
    /// sample); each is joined to `last` as if its counters had restarted from zero.
    fn reset_views(&mut self, s: &Sample, before: &Sample, last: &Sample) -> Vec<&'static str> {
        let mut reset = Vec::new();
        let mut j = self
            .join
            .take()
            .unwrap_or_else(|| (last.clone(), last.clone()));
        if s.database.went_down(&before.database) {
            (j.0.database, j.1.database) = (DbCounters::default(), last.database);
            reset.push("pg_stat_database");
        }
        if let (Some(n), Some(o)) = (&s.checkpoints, &before.checkpoints) {
            if n.went_down(o) {
                (j.0.checkpoints, j.1.checkpoints) = (Some(Default::default()), last.checkpoints);
                reset.push("pg_stat_bgwriter / pg_stat_checkpointer");
            }
        }
        if let (Some(n), Some(o)) = (&s.io, &before.io) {
            if n.went_down(o) {
                (j.0.io, j.1.io) = (Some(Default::default()), last.io);
                reset.push("pg_stat_io");
            }
        }
        if let (Some(n), Some(o)) = (&s.wal, &before.wal) {
            if n.went_down(o) {
                (j.0.wal, j.1.wal) = (Some(Default::default()), last.wal);
                reset.push("pg_stat_wal");
            }
        }
        self.join = Some(j);
        reset
    }
}

/// A stretch of the run the collector could not sample (the server was unreachable or
/// did not answer); counters across it are joined, so no delta spans it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Gap {
    /// Seconds from the start of measurement to the last good sample before it.
    pub(crate) from_s: f64,
    /// Seconds to the first good sample after it (the end of the run if none came).
    pub(crate) to_s: f64,
    /// What went wrong.
    pub(crate) reason: String,
}

/// One table's vacuum state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct TableVacuum {
    pub(crate) table: String,
    /// Live rows (estimate).
    pub(crate) live_tuples: i64,
    /// Dead rows (estimate).
    pub(crate) dead_tuples: i64,
    /// Autovacuum runs so far.
    pub(crate) autovacuum_count: i64,
    /// Last autovacuum, RFC 3339, if any.
    pub(crate) last_autovacuum: Option<String>,
}

/// One sample of everything the collector reads.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Sample {
    /// Seconds since the start of measurement.
    pub(crate) t_s: f64,
    /// Database counters.
    pub(crate) database: DbCounters,
    /// Checkpoints / background writer (`None` when not readable).
    pub(crate) checkpoints: Option<CheckpointCounters>,
    /// `pg_stat_io` (`None` before 16).
    pub(crate) io: Option<IoCounters>,
    /// `pg_stat_wal` (`None` before 14).
    pub(crate) wal: Option<WalCounters>,
    /// Connections by state.
    pub(crate) connections: Connections,
    /// Active client backends waiting, by `wait_event_type:wait_event`.
    pub(crate) waits: BTreeMap<String, i64>,
    /// Lock requests not granted.
    pub(crate) locks_waiting: i64,
    /// Autovacuum workers running.
    pub(crate) autovacuum_running: i64,
}

/// A `pg_stat_statements` row at one moment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StatementRow {
    /// Query id.
    pub(crate) queryid: i64,
    /// Normalized text.
    pub(crate) query: String,
    pub(crate) calls: i64,
    /// Total execution time, ms.
    pub(crate) total_exec_time_ms: f64,
    pub(crate) rows: i64,
}

/// What the collector was asked to do.
#[derive(Debug, Clone)]
pub(crate) struct CollectOptions {
    /// Sampling interval.
    pub(crate) interval: Duration,
    /// Diff `pg_stat_statements` between start and end.
    pub(crate) statements: bool,
    /// How many statements to report.
    pub(crate) top_statements: usize,
    /// Tables of the workload (dead tuples, last autovacuum).
    pub(crate) tables: Vec<String>,
    /// The newest samples kept as taken; older ones are thinned (every other one dropped
    /// once they outnumber these), so a day-long run's memory stays flat. The samples are
    /// cumulative counters, so the rates between those kept stay exact.
    pub(crate) keep: usize,
}

/// Once the samples outnumber twice `keep`, drops every other one of those older than
/// the newest `keep` (the first sample, the base of the run's deltas, stays).
fn thin(samples: &mut Vec<Sample>, keep: usize) {
    let keep = keep.max(2);
    if samples.len() <= 2 * keep {
        return;
    }
    let old = samples.len() - keep;
    let mut i = 0;
    samples.retain(|_| {
        let k = i;
        i += 1;
        k == 0 || k >= old || k % 2 == 0
    });
}

/// Which views the server has, decided once from its version.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Views {
    /// `server_version_num`.
    pub(crate) version_num: u32,
    /// `pg_stat_wal` (14+).
    pub(crate) wal: bool,
    /// `pg_stat_io` (16+).
    pub(crate) io: bool,
    /// `pg_stat_checkpointer` (17+), else checkpoints are in `pg_stat_bgwriter`.
    pub(crate) checkpointer: bool,
}

impl Views {
    /// The views of a server version.
    pub(crate) fn of(version_num: u32) -> Self {
        Views {
            version_num,
            wal: version_num >= 140_000,
            io: version_num >= 160_000,
            checkpointer: version_num >= 170_000,
        }
    }
}

/// Live pg_stat figures for other parts (the Prometheus exporter) to read.
pub(crate) type Published = std::sync::Arc<std::sync::Mutex<Option<Sample>>>;

/// What a finished collection hands to the report.
#[derive(Debug, Clone)]
pub(crate) struct Collected {
    /// Views the server has.
    pub(crate) views: Views,
    /// Samples in time order (the first at the start of measurement).
    pub(crate) samples: Vec<Sample>,
    /// Per-table vacuum state at the end.
    pub(crate) tables: Vec<TableVacuum>,
    /// `pg_stat_statements` deltas, or why there are none.
    pub(crate) statements: Result<Vec<StatementDelta>, String>,
    /// Stretches without samples.
    pub(crate) gaps: Vec<Gap>,
    /// Counters reset during the run.
    pub(crate) resets: Vec<CounterReset>,
}

/// How long one sample (or the end-of-run queries) may take before the collector gives up
/// on the connection.
const SAMPLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The collector: one connection, sampling on its own task, reconnecting when the server
/// goes away.
pub(crate) struct Collector {
    conn: Option<Conn>,
    target: Target,
    views: Views,
    opts: CollectOptions,
    statements_at_start: Option<Result<Vec<StatementRow>, String>>,
    publish: Option<Published>,
}

impl Collector {
    /// A collector over its own connection; `target` is where it reconnects.
    pub(crate) async fn new(
        conn: Conn,
        target: Target,
        opts: CollectOptions,
        publish: Option<Published>,
    ) -> Self {
        let version_num = conn
            .query_one("SELECT current_setting('server_version_num')::int", &[])
            .await
            .map(|r| r.get::<_, i32>(0) as u32)
            .unwrap_or(0);
        Collector {
            conn: Some(conn),
            target,
            views: Views::of(version_num),
            opts,
            statements_at_start: None,
            publish,
        }
    }

    /// Samples from `start` (the start of measurement) every interval until `stop`, then
    /// once more, and returns everything with the deltas. Every query is bounded; a lost
    /// or silent connection is replaced at the next interval, and the stretch without
    /// samples is recorded as a gap.
    pub(crate) async fn run(mut self, start: Instant, stop: CancellationToken) -> Collected {
        let mut samples: Vec<Sample> = Vec::new();
        let mut gaps: Vec<Gap> = Vec::new();
        // while in a gap: why
        let mut down: Option<String> = None;
        let mut joiner = Joiner::default();
        if self.opts.statements {
            self.statements_at_start = match &self.conn {
                Some(c) => tokio::time::timeout(SAMPLE_TIMEOUT, queries::statements(c))
                    .await
                    .ok(),
                None => None,
            };
        }
        let mut next = start;
        loop {
            if stop.is_cancelled() && down.is_some() {
                // no final sample from a server that is not answering
                break;
            }
            match self.sample_once(start).await {
                Ok(s) => {
                    let after_gap = down.is_some();
                    if let Some(reason) = down.take() {
                        let from_s = samples.last().map_or(0.0, |p| p.t_s);
                        log::warn!(
                            "pg_stat collection resumed after {:.1}s without samples ({reason})",
                            s.t_s - from_s
                        );
                        gaps.push(Gap {
                            from_s,
                            to_s: s.t_s,
                            reason,
                        });
                    }
                    let s = joiner.joined(s, samples.last(), after_gap);
                    if let Some(p) = &self.publish {
                        if let Ok(mut slot) = p.lock() {
                            *slot = Some(s.clone());
                        }
                    }
                    samples.push(s);
                    thin(&mut samples, self.opts.keep);
                }
                Err(why) => {
                    if down.is_none() {
                        log::warn!("pg_stat sample failed: {why}; retrying at the next interval");
                        down = Some(why);
                    }
                }
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
        if let Some(reason) = down {
            let from_s = samples.last().map_or(0.0, |p| p.t_s);
            gaps.push(Gap {
                from_s,
                to_s: Instant::now()
                    .saturating_duration_since(start)
                    .as_secs_f64(),
                reason,
            });
        }
        let (tables, statements) = self.finish().await;
        Collected {
            views: self.views,
            samples,
            tables,
            statements,
            gaps,
            resets: joiner.resets,
        }
    }

    /// One sample on the current connection, reconnecting first if it was lost.
    async fn sample_once(&mut self, start: Instant) -> Result<Sample, String> {
        if self.conn.as_ref().is_none_or(|c| c.is_closed()) {
            self.conn = None;
            let c = tokio::time::timeout(SAMPLE_TIMEOUT, self.target.connect_once())
                .await
                .map_err(|_| "reconnecting timed out".to_string())?
                .map_err(|e| e.to_string())?;
            self.conn = Some(c);
        }
        let conn = self.conn.as_ref().expect("connected above");
        match tokio::time::timeout(SAMPLE_TIMEOUT, queries::sample(conn, &self.views, start)).await
        {
            Ok(Ok(s)) => Ok(s),
            Ok(Err(e)) => {
                if e.is_closed() {
                    self.conn = None;
                }
                Err(crate::core::db_message(&e))
            }
            Err(_) => {
                // a silent server: this connection may never answer again
                self.conn = None;
                Err(format!(
                    "the server did not answer within {}s",
                    SAMPLE_TIMEOUT.as_secs()
                ))
            }
        }
    }

    /// Vacuum state and statement deltas at the end, each bounded.
    async fn finish(&mut self) -> (Vec<TableVacuum>, Result<Vec<StatementDelta>, String>) {
        let Some(conn) = self.conn.as_ref() else {
            let why = "the server was not reachable at the end of the run".to_string();
            let statements = match self.statements_at_start {
                None => Err("not requested (set pg_stat_statements: true)".to_string()),
                Some(_) => Err(why),
            };
            return (Vec::new(), statements);
        };
        let tables = tokio::time::timeout(SAMPLE_TIMEOUT, queries::tables(conn, &self.opts.tables))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let statements = match self.statements_at_start.take() {
            None => Err("not requested (set pg_stat_statements: true)".to_string()),
            Some(Err(why)) => Err(why),
            Some(Ok(before)) => {
                match tokio::time::timeout(SAMPLE_TIMEOUT, queries::statements(conn)).await {
                    Ok(Ok(after)) => Ok(report::statement_deltas(
                        &before,
                        &after,
                        self.opts.top_statements,
                    )),
                    Ok(Err(why)) => Err(why),
                    Err(_) => Err("the server did not answer the final query".to_string()),
                }
            }
        };
        (tables, statements)
    }
}

#[cfg(test)]
mod thin_tests {
    use super::*;

    #[test]
    fn thinning_keeps_the_first_and_the_newest_and_stays_bounded() {
        let mut v: Vec<Sample> = Vec::new();
        for i in 0..10_000 {
            v.push(Sample {
                t_s: i as f64,
                ..Default::default()
            });
            thin(&mut v, 100);
            assert!(v.len() <= 200, "{} samples", v.len());
        }
        assert_eq!(v[0].t_s, 0.0);
        let newest: Vec<f64> = v[v.len() - 100..].iter().map(|s| s.t_s).collect();
        assert_eq!(newest, (9900..10_000).map(f64::from).collect::<Vec<_>>());
        assert!(v.windows(2).all(|w| w[0].t_s < w[1].t_s));
    }
}
