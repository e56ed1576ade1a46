//! Deltas over the run and per interval, built from the collector's samples.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{Collected, CounterReset, Gap, Sample, StatementRow, TableVacuum};

/// One statement's activity during the run.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct StatementDelta {
    /// Query id.
    pub(crate) queryid: i64,
    /// Normalized text (first 300 characters).
    pub(crate) query: String,
    /// Calls during the run.
    pub(crate) calls: i64,
    /// Execution time during the run, ms.
    pub(crate) total_exec_time_ms: f64,
    /// Mean execution time, ms.
    pub(crate) mean_exec_time_ms: f64,
    /// Rows during the run.
    pub(crate) rows: i64,
}

/// Activity between two samples, per second.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct IntervalStats {
    /// End of the interval, seconds since the start of measurement.
    pub(crate) t_s: f64,
    /// Commits per second (server-side, all clients).
    pub(crate) commits_per_s: f64,
    /// Rollbacks per second.
    pub(crate) rollbacks_per_s: f64,
    /// Shared-buffer hit ratio of the interval, percent (`null` without block accesses).
    pub(crate) cache_hit_ratio: Option<f64>,
    /// WAL bytes per second (`null` without `pg_stat_wal`).
    pub(crate) wal_bytes_per_s: Option<f64>,
    /// Rows inserted + updated + deleted per second.
    pub(crate) rows_written_per_s: f64,
    /// Client connections running a statement at the end of the interval.
    pub(crate) active_connections: i64,
    /// Lock requests waiting at the end of the interval.
    pub(crate) locks_waiting: i64,
    /// Autovacuum workers running at the end of the interval.
    pub(crate) autovacuum_running: i64,
}

/// Deltas over the whole measured phase.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct RunDeltas {
    /// Seconds between the first and last sample.
    pub(crate) span_s: f64,
    pub(crate) commits: i64,
    pub(crate) rollbacks: i64,
    /// Commits per second.
    pub(crate) commits_per_s: f64,
    /// Blocks read.
    pub(crate) blks_read: i64,
    /// Blocks hit.
    pub(crate) blks_hit: i64,
    /// Hit ratio, percent (`null` without block accesses).
    pub(crate) cache_hit_ratio: Option<f64>,
    /// Rows returned.
    pub(crate) tup_returned: i64,
    /// Rows fetched.
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
    pub(crate) deadlocks: i64,
    /// Recovery conflicts.
    pub(crate) conflicts: i64,
    /// Scheduled checkpoints (`null` when not readable).
    pub(crate) checkpoints_timed: Option<i64>,
    /// Checkpoints asked for rather than timed (`null` when not readable).
    pub(crate) checkpoints_requested: Option<i64>,
    /// Buffers written by checkpoints.
    pub(crate) buffers_checkpoint: Option<i64>,
    /// Buffers written by the background writer.
    pub(crate) buffers_clean: Option<i64>,
    /// WAL records (`null` without `pg_stat_wal`).
    pub(crate) wal_records: Option<i64>,
    /// Full-page images.
    pub(crate) wal_fpi: Option<i64>,
    pub(crate) wal_bytes: Option<i64>,
    /// WAL bytes per second.
    pub(crate) wal_bytes_per_s: Option<f64>,
    /// `pg_stat_io` reads (`null` before 16).
    pub(crate) io_reads: Option<i64>,
    /// `pg_stat_io` writes.
    pub(crate) io_writes: Option<i64>,
    /// `pg_stat_io` extends.
    pub(crate) io_extends: Option<i64>,
    /// `pg_stat_io` fsyncs.
    pub(crate) io_fsyncs: Option<i64>,
}

/// Connection peaks over the samples.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct ConnectionPeaks {
    /// Most connections running a statement.
    pub(crate) max_active: i64,
    /// Most idle connections.
    pub(crate) max_idle: i64,
    /// Most connections idle in a transaction.
    pub(crate) max_idle_in_transaction: i64,
    /// Most client connections.
    pub(crate) max_total: i64,
    /// The server's `max_connections`.
    pub(crate) max_connections: i64,
}

/// Autovacuum during the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct Autovacuum {
    /// Most autovacuum workers running at once.
    pub(crate) max_running: i64,
    /// The workload's tables at the end.
    pub(crate) tables: Vec<TableVacuum>,
}

/// The report section of the server statistics.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct DbStatsReport {
    /// `server_version_num`.
    pub(crate) server_version_num: u32,
    /// Views by name: whether this server has them.
    pub(crate) available: BTreeMap<String, bool>,
    /// Samples taken.
    pub(crate) samples: usize,
    /// Deltas over the measured phase.
    pub(crate) run: RunDeltas,
    /// Connection peaks.
    pub(crate) connections: ConnectionPeaks,
    /// Wait events seen on active client backends: sample counts by `type:event`.
    pub(crate) waits: BTreeMap<String, i64>,
    /// Most lock requests waiting at once.
    pub(crate) locks_waiting_max: i64,
    pub(crate) autovacuum: Autovacuum,
    /// Per interval.
    pub(crate) intervals: Vec<IntervalStats>,
    /// Top statements by execution time during the run.
    pub(crate) top_statements: Vec<StatementDelta>,
    /// Why there are no statements, when there are none.
    pub(crate) statements_note: Option<String>,
    /// The first and last raw samples.
    pub(crate) snapshots: Vec<Sample>,
    /// Stretches the collector could not sample (server unreachable or silent); no
    /// interval spans one, and the run deltas count only what was sampled on either side.
    pub(crate) gaps: Vec<Gap>,
    /// Views whose counters were reset during the run (the deltas count on from the reset).
    #[serde(default)]
    pub(crate) counter_resets: Vec<CounterReset>,
}

fn ratio(hit: i64, read: i64) -> Option<f64> {
    let all = hit + read;
    (all > 0).then(|| 100.0 * hit as f64 / all as f64)
}

fn per_s(v: i64, secs: f64) -> f64 {
    if secs > 0.0 {
        v as f64 / secs
    } else {
        0.0
    }
}

fn interval(a: &Sample, b: &Sample) -> IntervalStats {
    let dt = b.t_s - a.t_s;
    let (da, db) = (&a.database, &b.database);
    let written = (db.tup_inserted - da.tup_inserted)
        + (db.tup_updated - da.tup_updated)
        + (db.tup_deleted - da.tup_deleted);
    IntervalStats {
        t_s: b.t_s,
        commits_per_s: per_s(db.xact_commit - da.xact_commit, dt),
        rollbacks_per_s: per_s(db.xact_rollback - da.xact_rollback, dt),
        cache_hit_ratio: ratio(db.blks_hit - da.blks_hit, db.blks_read - da.blks_read),
        wal_bytes_per_s: a
            .wal
            .zip(b.wal)
            .map(|(x, y)| per_s(y.wal_bytes - x.wal_bytes, dt)),
        rows_written_per_s: per_s(written, dt),
        active_connections: b.connections.active,
        locks_waiting: b.locks_waiting,
        autovacuum_running: b.autovacuum_running,
    }
}

fn run_deltas(a: &Sample, b: &Sample) -> RunDeltas {
    let span = b.t_s - a.t_s;
    let (da, db) = (&a.database, &b.database);
    let ck = a.checkpoints.zip(b.checkpoints);
    let wal = a.wal.zip(b.wal);
    let io = a.io.zip(b.io);
    RunDeltas {
        span_s: span,
        commits: db.xact_commit - da.xact_commit,
        rollbacks: db.xact_rollback - da.xact_rollback,
        commits_per_s: per_s(db.xact_commit - da.xact_commit, span),
        blks_read: db.blks_read - da.blks_read,
        blks_hit: db.blks_hit - da.blks_hit,
        cache_hit_ratio: ratio(db.blks_hit - da.blks_hit, db.blks_read - da.blks_read),
        tup_returned: db.tup_returned - da.tup_returned,
        tup_fetched: db.tup_fetched - da.tup_fetched,
        tup_inserted: db.tup_inserted - da.tup_inserted,
        tup_updated: db.tup_updated - da.tup_updated,
        tup_deleted: db.tup_deleted - da.tup_deleted,
        temp_files: db.temp_files - da.temp_files,
        temp_bytes: db.temp_bytes - da.temp_bytes,
        deadlocks: db.deadlocks - da.deadlocks,
        conflicts: db.conflicts - da.conflicts,
        checkpoints_timed: ck.map(|(x, y)| y.checkpoints_timed - x.checkpoints_timed),
        checkpoints_requested: ck.map(|(x, y)| y.checkpoints_requested - x.checkpoints_requested),
        buffers_checkpoint: ck.map(|(x, y)| y.buffers_checkpoint - x.buffers_checkpoint),
        buffers_clean: ck.map(|(x, y)| y.buffers_clean - x.buffers_clean),
        wal_records: wal.map(|(x, y)| y.wal_records - x.wal_records),
        wal_fpi: wal.map(|(x, y)| y.wal_fpi - x.wal_fpi),
        wal_bytes: wal.map(|(x, y)| y.wal_bytes - x.wal_bytes),
        wal_bytes_per_s: wal.map(|(x, y)| per_s(y.wal_bytes - x.wal_bytes, span)),
        io_reads: io.map(|(x, y)| y.reads - x.reads),
        io_writes: io.map(|(x, y)| y.writes - x.writes),
        io_extends: io.map(|(x, y)| y.extends - x.extends),
        io_fsyncs: io.map(|(x, y)| y.fsyncs - x.fsyncs),
    }
}

/// The top `n` statements by execution time between two snapshots.
pub(crate) fn statement_deltas(
    before: &[StatementRow],
    after: &[StatementRow],
    n: usize,
) -> Vec<StatementDelta> {
    let base: HashMap<i64, &StatementRow> = before.iter().map(|r| (r.queryid, r)).collect();
    let mut out: Vec<StatementDelta> = after
        .iter()
        .filter_map(|r| {
            let (calls, time, rows) = match base.get(&r.queryid) {
                // fewer calls than at the start: its entry was reset (or evicted and
                // counted afresh) during the run; what it counted since is what is known
                Some(b) if r.calls >= b.calls => (
                    r.calls - b.calls,
                    r.total_exec_time_ms - b.total_exec_time_ms,
                    r.rows - b.rows,
                ),
                _ => (r.calls, r.total_exec_time_ms, r.rows),
            };
            (calls > 0).then(|| StatementDelta {
                queryid: r.queryid,
                query: r.query.chars().take(300).collect(),
                calls,
                total_exec_time_ms: time,
                mean_exec_time_ms: time / calls as f64,
                rows,
            })
        })
        .collect();
    out.sort_by(|a, b| b.total_exec_time_ms.total_cmp(&a.total_exec_time_ms));
    out.truncate(n);
    out
}

impl DbStatsReport {
    /// Builds the section from a finished collection (`None` with fewer than two samples,
    /// unless a gap explains why there is only one).
    pub(crate) fn build(c: Collected) -> Option<DbStatsReport> {
        let first = c.samples.first()?;
        let last = c
            .samples
            .last()
            .filter(|_| c.samples.len() > 1 || !c.gaps.is_empty())?;
        let v = c.views;
        let available = [
            ("pg_stat_database", true),
            (
                "pg_stat_bgwriter",
                first.checkpoints.is_some() || v.checkpointer,
            ),
            ("pg_stat_checkpointer", v.checkpointer),
            ("pg_stat_io", v.io),
            ("pg_stat_wal", v.wal),
            ("pg_stat_statements", c.statements.is_ok()),
        ]
        .into_iter()
        .map(|(k, b)| (k.to_string(), b))
        .collect();
        let mut waits = BTreeMap::new();
        for s in &c.samples {
            for (k, n) in &s.waits {
                *waits.entry(k.clone()).or_default() += n;
            }
        }
        let peak = |f: fn(&Sample) -> i64| c.samples.iter().map(f).max().unwrap_or(0);
        let (top, note) = match c.statements {
            Ok(v) => (v, None),
            Err(why) => (Vec::new(), Some(why)),
        };
        Some(DbStatsReport {
            server_version_num: v.version_num,
            available,
            samples: c.samples.len(),
            run: run_deltas(first, last),
            connections: ConnectionPeaks {
                max_active: peak(|s| s.connections.active),
                max_idle: peak(|s| s.connections.idle),
                max_idle_in_transaction: peak(|s| s.connections.idle_in_transaction),
                max_total: peak(|s| s.connections.total),
                max_connections: last.connections.max_connections,
            },
            waits,
            locks_waiting_max: peak(|s| s.locks_waiting),
            autovacuum: Autovacuum {
                max_running: peak(|s| s.autovacuum_running),
                tables: c.tables,
            },
            intervals: c
                .samples
                .windows(2)
                .filter(|w| {
                    !c.gaps
                        .iter()
                        .any(|g| g.from_s >= w[0].t_s && g.to_s <= w[1].t_s)
                })
                .map(|w| interval(&w[0], &w[1]))
                .collect(),
            top_statements: top,
            statements_note: note,
            snapshots: vec![first.clone(), last.clone()],
            gaps: c.gaps,
            counter_resets: c.resets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::{DbCounters, Views, WalCounters};

    fn sample(t: f64, commits: i64, hit: i64, read: i64, wal: i64) -> Sample {
        Sample {
            t_s: t,
            database: DbCounters {
                xact_commit: commits,
                blks_hit: hit,
                blks_read: read,
                ..Default::default()
            },
            wal: Some(WalCounters {
                wal_bytes: wal,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_gap_with_a_counter_reset_is_joined_not_subtracted() {
        // 500 commits before a restart, counters reset, 300 after it
        let before = [sample(0.0, 100, 0, 0, 0), sample(1.0, 600, 0, 0, 0)];
        let raw_after = [sample(5.0, 10, 0, 0, 0), sample(6.0, 310, 0, 0, 0)];
        let mut samples = before.to_vec();
        let join = (raw_after[0].clone(), before[1].clone());
        for mut s in raw_after {
            s.shift(&join.0, &join.1);
            samples.push(s);
        }
        let c = Collected {
            views: Views::of(150_000),
            samples,
            tables: vec![],
            statements: Err("not requested".into()),
            resets: vec![],
            gaps: vec![Gap {
                from_s: 1.0,
                to_s: 5.0,
                reason: "connection lost".into(),
            }],
        };
        let r = DbStatsReport::build(c).unwrap();
        assert_eq!(r.run.commits, 800);
        // no interval spans the gap
        assert_eq!(r.intervals.len(), 2);
        assert!(r.intervals.iter().all(|i| i.commits_per_s >= 300.0));
        assert_eq!(r.gaps.len(), 1);
    }

    #[test]
    fn counters_reset_without_a_gap_count_on_from_the_reset() {
        let mut joiner = crate::collect::Joiner::default();
        let mut samples: Vec<Sample> = Vec::new();
        // raw (commits, wal bytes): pg_stat_reset() before t=2, pg_stat_reset_shared('wal')
        // before t=4, a restart in the gap before t=5
        for (t, commits, wal, after_gap) in [
            (0.0, 1000, 5000, false),
            (1.0, 2000, 6000, false),
            (2.0, 300, 7000, false),
            (3.0, 1300, 8000, false),
            (4.0, 2300, 100, false),
            (5.0, 50, 40, true),
            (6.0, 1050, 1040, false),
        ] {
            let s = joiner.joined(sample(t, commits, 0, 0, wal), samples.last(), after_gap);
            samples.push(s);
        }
        let joined: Vec<(i64, i64)> = samples
            .iter()
            .map(|s| (s.database.xact_commit, s.wal.unwrap().wal_bytes))
            .collect();
        assert_eq!(
            joined,
            [
                (1000, 5000),
                (2000, 6000),
                (2300, 7000),
                (3300, 8000),
                (4300, 8100),
                (4300, 8100),
                (5300, 9100)
            ]
        );
        let views: Vec<(f64, &str)> = joiner
            .resets
            .iter()
            .map(|r| (r.t_s, r.view.as_str()))
            .collect();
        assert_eq!(views, [(2.0, "pg_stat_database"), (4.0, "pg_stat_wal")]);
        let c = Collected {
            views: Views::of(150_000),
            samples,
            tables: vec![],
            statements: Err("not requested".into()),
            gaps: vec![],
            resets: joiner.resets,
        };
        let r = DbStatsReport::build(c).unwrap();
        assert_eq!(r.run.commits, 4300);
        assert_eq!(r.run.wal_bytes, Some(4100));
        assert!(r.intervals.iter().all(|i| i.commits_per_s >= 0.0));
        assert_eq!(r.counter_resets.len(), 2);
    }

    #[test]
    fn deltas_and_rates() {
        let c = Collected {
            views: Views::of(150_000),
            samples: vec![
                sample(0.0, 100, 1000, 0, 5000),
                sample(1.0, 600, 1900, 100, 6000),
                sample(2.0, 1100, 2800, 100, 9000),
            ],
            tables: vec![],
            statements: Err("not requested".into()),
            gaps: vec![],
            resets: vec![],
        };
        let r = DbStatsReport::build(c).unwrap();
        assert_eq!(r.run.commits, 1000);
        assert_eq!(r.run.commits_per_s, 500.0);
        assert_eq!(r.run.cache_hit_ratio, Some(100.0 * 1800.0 / 1900.0));
        assert_eq!(r.run.wal_bytes_per_s, Some(2000.0));
        assert_eq!(r.intervals.len(), 2);
        assert_eq!(r.intervals[0].cache_hit_ratio, Some(90.0));
        assert_eq!(r.intervals[1].wal_bytes_per_s, Some(3000.0));
        assert!(!r.available["pg_stat_io"]);
        assert!(!r.available["pg_stat_checkpointer"]);
        assert_eq!(r.statements_note.as_deref(), Some("not requested"));
    }

    #[test]
    fn version_decides_the_views() {
        assert!(!Views::of(130_000).wal);
        assert!(Views::of(150_000).wal && !Views::of(150_000).io);
        assert!(Views::of(160_000).io && !Views::of(160_000).checkpointer);
        assert!(Views::of(180_000).checkpointer);
    }

    #[test]
    fn statement_deltas_rank_by_time_in_the_run() {
        let row = |id, calls, t, rows| StatementRow {
            queryid: id,
            query: format!("q{id}"),
            calls,
            total_exec_time_ms: t,
            rows,
        };
        let before = vec![row(1, 10, 100.0, 10), row(2, 5, 5.0, 5)];
        let after = vec![
            row(1, 12, 102.0, 12),
            row(2, 105, 55.0, 105),
            row(3, 1, 1.0, 1),
        ];
        let d = statement_deltas(&before, &after, 2);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].queryid, 2);
        assert_eq!(d[0].calls, 100);
        assert_eq!(d[0].mean_exec_time_ms, 0.5);
        assert_eq!(d[1].queryid, 1);
        // pg_stat_statements_reset() during the run: counted from the reset, never negative
        let after_reset = vec![row(1, 3, 6.0, 3)];
        let d = statement_deltas(&before, &after_reset, 2);
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].calls, d[0].total_exec_time_ms, d[0].rows),
            (3, 6.0, 3)
        );
    }
}
