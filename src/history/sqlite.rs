//! The history in a single SQLite file. The file carries stormbench's application id, so
//! a file that is some other program's database (or not a database at all) is refused
//! rather than written into.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension as _};

use super::{KindRow, Record, RunRow, COLUMNS};

/// `PRAGMA application_id` of a stormbench history ("SBH1").
const APPLICATION_ID: i32 = 0x5342_4831;

/// How long a write waits for another process holding the file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS stormbench_runs (
    id INTEGER PRIMARY KEY,
    run_key TEXT NOT NULL UNIQUE,
    recorded_at TEXT NOT NULL,
    started_at TEXT NOT NULL,
    status TEXT NOT NULL,
    partial INTEGER NOT NULL,
    workload TEXT NOT NULL,
    mode TEXT NOT NULL,
    scale INTEGER NOT NULL,
    config_hash TEXT NOT NULL,
    tool TEXT NOT NULL,
    server_version TEXT NOT NULL,
    database TEXT NOT NULL,
    measured_s REAL NOT NULL,
    transactions INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    tps REAL NOT NULL,
    p50_ms REAL NOT NULL,
    p95_ms REAL NOT NULL,
    p99_ms REAL NOT NULL,
    max_ms REAL NOT NULL,
    slo_passed INTEGER,
    slo_p99_ms REAL,
    kinds TEXT NOT NULL,
    report TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS stormbench_runs_by_workload
    ON stormbench_runs (workload, mode, scale, started_at);
";

pub(crate) struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens the history file, creating it (and its directory) when missing.
    pub(crate) fn open(path: &Path) -> Result<SqliteStore, String> {
        let fail = |why: String| format!("history {}: {why}", path.display());
        match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => {
                return Err(fail(
                    "is not a regular file; give a file path for history (or history: off)".into(),
                ))
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        fail(format!("cannot create its directory: {e}; check the path"))
                    })?;
                }
            }
            Err(e) => return Err(fail(e.to_string())),
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| fail(format!("cannot open it: {e}")))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| fail(e.to_string()))?;
        let not_ours = || {
            fail(
                "is not a stormbench history (another program's file); give another path \
                 for history"
                    .into(),
            )
        };
        let id: i32 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|_| not_ours())?;
        if id != APPLICATION_ID {
            // a file of ours is stamped when it is created: a file without the stamp
            // may only be taken when it is empty
            let tables: i64 = conn
                .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
                .map_err(|_| not_ours())?;
            if id != 0 || tables != 0 {
                return Err(not_ours());
            }
            conn.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID};"))
                .map_err(|e| fail(e.to_string()))?;
        }
        // a small page cache: a soak's process keeps the file open for a day
        conn.execute_batch("PRAGMA cache_size = -512;")
            .map_err(|e| fail(e.to_string()))?;
        conn.execute_batch(SCHEMA)
            .map_err(|e| fail(format!("cannot create its table: {e}")))?;
        Ok(SqliteStore {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn fail(&self, e: rusqlite::Error) -> String {
        format!("history {}: {e}", self.path.display())
    }

    pub(crate) fn record(&mut self, r: &Record) -> Result<i64, String> {
        let w = &r.row;
        let kinds = serde_json::to_string(&w.kinds).map_err(|e| e.to_string())?;
        let now = chrono::Utc::now().to_rfc3339();
        self.conn
            .query_row(
                "INSERT INTO stormbench_runs (run_key, recorded_at, started_at, status, \
                 partial, workload, mode, scale, config_hash, tool, server_version, database, \
                 measured_s, transactions, failed, tps, p50_ms, p95_ms, p99_ms, max_ms, \
                 slo_passed, slo_p99_ms, kinds, report) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
                 ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, \
                 ?24) ON CONFLICT (run_key) DO UPDATE SET recorded_at = excluded.recorded_at, \
                 status = excluded.status, partial = excluded.partial, measured_s = \
                 excluded.measured_s, transactions = excluded.transactions, failed = \
                 excluded.failed, tps = excluded.tps, p50_ms = excluded.p50_ms, p95_ms = \
                 excluded.p95_ms, p99_ms = excluded.p99_ms, max_ms = excluded.max_ms, \
                 slo_passed = excluded.slo_passed, kinds = excluded.kinds, report = \
                 excluded.report RETURNING id",
                params![
                    w.run_key,
                    now,
                    w.started_at,
                    w.status,
                    w.partial,
                    w.workload,
                    w.mode,
                    w.scale,
                    w.config_hash,
                    w.tool,
                    w.server_version,
                    w.database,
                    w.measured_s,
                    w.transactions,
                    w.failed,
                    w.tps,
                    w.p50_ms,
                    w.p95_ms,
                    w.p99_ms,
                    w.max_ms,
                    w.slo_passed,
                    w.slo_p99_ms,
                    kinds,
                    r.report
                ],
                |row| row.get(0),
            )
            .map_err(|e| self.fail(e))
    }

    pub(crate) fn runs(&mut self) -> Result<Vec<RunRow>, String> {
        let sql = format!("SELECT {COLUMNS} FROM stormbench_runs ORDER BY started_at, id");
        let mut st = self.conn.prepare(&sql).map_err(|e| self.fail(e))?;
        let rows = st
            .query_map([], |r| {
                let kinds: String = r.get(22)?;
                Ok(RunRow {
                    id: r.get(0)?,
                    run_key: r.get(1)?,
                    started_at: r.get(2)?,
                    status: r.get(3)?,
                    partial: r.get(4)?,
                    workload: r.get(5)?,
                    mode: r.get(6)?,
                    scale: r.get(7)?,
                    config_hash: r.get(8)?,
                    tool: r.get(9)?,
                    server_version: r.get(10)?,
                    database: r.get(11)?,
                    measured_s: r.get(12)?,
                    transactions: r.get(13)?,
                    failed: r.get(14)?,
                    tps: r.get(15)?,
                    p50_ms: r.get(16)?,
                    p95_ms: r.get(17)?,
                    p99_ms: r.get(18)?,
                    max_ms: r.get(19)?,
                    slo_passed: r.get(20)?,
                    slo_p99_ms: r.get(21)?,
                    kinds: serde_json::from_str::<Vec<KindRow>>(&kinds).unwrap_or_default(),
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>());
        drop(st);
        rows.map_err(|e| self.fail(e))
    }

    pub(crate) fn report(&mut self, id: i64) -> Result<Option<String>, String> {
        self.conn
            .query_row(
                "SELECT report FROM stormbench_runs WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.fail(e))
    }
}
