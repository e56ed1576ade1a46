//! The queries behind a sample, per server version.

use std::collections::BTreeMap;

use tokio::time::Instant;
use tokio_postgres::Row;

use super::{
    CheckpointCounters, Connections, DbCounters, IoCounters, Sample, StatementRow, TableVacuum,
    Views, WalCounters,
};
use crate::core::Conn;

type PgResult<T> = Result<T, tokio_postgres::Error>;

const DATABASE: &str = "SELECT xact_commit, xact_rollback, blks_read, blks_hit, tup_returned,
    tup_fetched, tup_inserted, tup_updated, tup_deleted, temp_files, temp_bytes, deadlocks,
    conflicts FROM pg_stat_database WHERE datname = current_database()";

/// Up to 16 checkpoints are counted by the background writer view.
const BGWRITER_16: &str = "SELECT checkpoints_timed, checkpoints_req, buffers_checkpoint,
    buffers_clean, maxwritten_clean FROM pg_stat_bgwriter";

/// From 17 on checkpoints have their own view.
const CHECKPOINTER_17: &str = "SELECT c.num_timed, c.num_requested, c.buffers_written,
    b.buffers_clean, b.maxwritten_clean FROM pg_stat_checkpointer c, pg_stat_bgwriter b";

const IO: &str = "SELECT coalesce(sum(reads), 0)::bigint, coalesce(sum(writes), 0)::bigint,
    coalesce(sum(extends), 0)::bigint, coalesce(sum(hits), 0)::bigint,
    coalesce(sum(evictions), 0)::bigint, coalesce(sum(fsyncs), 0)::bigint FROM pg_stat_io";

const WAL: &str = "SELECT wal_records, wal_fpi, wal_bytes::bigint FROM pg_stat_wal";

const CONNECTIONS: &str = "SELECT count(*) FILTER (WHERE state = 'active'),
    count(*) FILTER (WHERE state = 'idle'),
    count(*) FILTER (WHERE state LIKE 'idle in transaction%'),
    count(*), current_setting('max_connections')::bigint
    FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()";

const WAITS: &str = "SELECT wait_event_type || ':' || wait_event, count(*)
    FROM pg_stat_activity
    WHERE backend_type = 'client backend' AND state = 'active' AND wait_event IS NOT NULL
      AND pid <> pg_backend_pid()
    GROUP BY 1";

const LOCKS_AND_VACUUM: &str = "SELECT (SELECT count(*) FROM pg_locks WHERE NOT granted),
    (SELECT count(*) FROM pg_stat_progress_vacuum)";

const TABLES: &str = "SELECT relname::text, n_live_tup, n_dead_tup, autovacuum_count,
    to_char(last_autovacuum AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
    FROM pg_stat_user_tables WHERE relname = ANY($1) ORDER BY relname";

const STATEMENTS: &str = "SELECT queryid, query, calls, total_exec_time, rows
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND queryid IS NOT NULL";

fn i(r: &Row, idx: usize) -> i64 {
    r.get::<_, Option<i64>>(idx).unwrap_or(0)
}

/// Reads one sample; `start` is the start of measurement.
pub(crate) async fn sample(conn: &Conn, views: &Views, start: Instant) -> PgResult<Sample> {
    let t_s = Instant::now()
        .saturating_duration_since(start)
        .as_secs_f64();
    let d = conn.query_one(DATABASE, &[]).await?;
    let database = DbCounters {
        xact_commit: i(&d, 0),
        xact_rollback: i(&d, 1),
        blks_read: i(&d, 2),
        blks_hit: i(&d, 3),
        tup_returned: i(&d, 4),
        tup_fetched: i(&d, 5),
        tup_inserted: i(&d, 6),
        tup_updated: i(&d, 7),
        tup_deleted: i(&d, 8),
        temp_files: i(&d, 9),
        temp_bytes: i(&d, 10),
        deadlocks: i(&d, 11),
        conflicts: i(&d, 12),
    };
    let c = conn
        .query_one(
            if views.checkpointer {
                CHECKPOINTER_17
            } else {
                BGWRITER_16
            },
            &[],
        )
        .await
        .ok();
    let checkpoints = c.map(|c| CheckpointCounters {
        checkpoints_timed: i(&c, 0),
        checkpoints_requested: i(&c, 1),
        buffers_checkpoint: i(&c, 2),
        buffers_clean: i(&c, 3),
        maxwritten_clean: i(&c, 4),
    });
    let io = if views.io {
        let r = conn.query_one(IO, &[]).await?;
        Some(IoCounters {
            reads: i(&r, 0),
            writes: i(&r, 1),
            extends: i(&r, 2),
            hits: i(&r, 3),
            evictions: i(&r, 4),
            fsyncs: i(&r, 5),
        })
    } else {
        None
    };
    let wal = if views.wal {
        let r = conn.query_one(WAL, &[]).await?;
        Some(WalCounters {
            wal_records: i(&r, 0),
            wal_fpi: i(&r, 1),
            wal_bytes: i(&r, 2),
        })
    } else {
        None
    };
    let k = conn.query_one(CONNECTIONS, &[]).await?;
    let connections = Connections {
        active: i(&k, 0),
        idle: i(&k, 1),
        idle_in_transaction: i(&k, 2),
        total: i(&k, 3),
        max_connections: i(&k, 4),
    };
    let waits: BTreeMap<String, i64> = conn
        .query(WAITS, &[])
        .await?
        .iter()
        .map(|r| (r.get::<_, String>(0), i(r, 1)))
        .collect();
    let lv = conn.query_one(LOCKS_AND_VACUUM, &[]).await?;
    Ok(Sample {
        t_s,
        database,
        checkpoints,
        io,
        wal,
        connections,
        waits,
        locks_waiting: i(&lv, 0),
        autovacuum_running: i(&lv, 1),
    })
}

/// Vacuum state of the named tables.
pub(crate) async fn tables(conn: &Conn, names: &[String]) -> PgResult<Vec<TableVacuum>> {
    Ok(conn
        .query(TABLES, &[&names])
        .await?
        .iter()
        .map(|r| TableVacuum {
            table: r.get(0),
            live_tuples: i(r, 1),
            dead_tuples: i(r, 2),
            autovacuum_count: i(r, 3),
            last_autovacuum: r.get(4),
        })
        .collect())
}

/// The `pg_stat_statements` rows of this database, or why they cannot be read (with what
/// to do about it).
pub async fn statements(conn: &Conn) -> Result<Vec<StatementRow>, String> {
    let installed = conn
        .query_one(
            "SELECT count(*) > 0 FROM pg_extension WHERE extname = 'pg_stat_statements'",
            &[],
        )
        .await
        .map(|r| r.get::<_, bool>(0))
        .unwrap_or(false);
    if !installed {
        return Err("pg_stat_statements is not installed in this database: add \
             shared_preload_libraries = 'pg_stat_statements' to postgresql.conf, restart, and run \
             CREATE EXTENSION pg_stat_statements"
            .to_string());
    }
    match conn.query(STATEMENTS, &[]).await {
        Ok(rows) => Ok(rows
            .iter()
            .map(|r| StatementRow {
                queryid: i(r, 0),
                query: r.get(1),
                calls: i(r, 2),
                total_exec_time_ms: r.get::<_, Option<f64>>(3).unwrap_or(0.0),
                rows: i(r, 4),
            })
            .collect()),
        Err(e) => Err(format!(
            "pg_stat_statements cannot be read ({}); it must be in shared_preload_libraries",
            crate::core::db_message(&e)
        )),
    }
}
