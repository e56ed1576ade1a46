//! The history in a PostgreSQL table, for a team sharing one. The table is created when
//! missing and marked with a comment; a table of the same name without the mark is
//! someone else's and is refused.

use std::future::Future;
use std::time::Duration;

use super::{KindRow, Record, RunRow, COLUMNS};
use crate::config::{RawDatabase, Secret};
use crate::core::Conn;
use crate::db::Target;

const TABLE: &str = "stormbench_history";
const MARK: &str = "stormbench results history, layout 1";

/// Every statement on the history's server is bounded by this: longer than the session's
/// own lock bound ([`crate::db::LOCK_WAIT`]), so a lock another session holds on the table
/// is named by the server's error rather than a bare time-out.
const STATEMENT_WAIT: Duration = Duration::from_secs(40);

pub(crate) struct PgStore {
    conn: Conn,
    display: String,
}

impl PgStore {
    /// Connects (the connection string read as libpq reads it, with the PG* environment,
    /// services and the password file below it) and creates the table when missing.
    pub(crate) async fn open(url: &Secret) -> Result<PgStore, String> {
        let env = |k: &str| std::env::var(k).ok();
        let raw = RawDatabase {
            url: Some(url.clone()),
            ..RawDatabase::default()
        };
        let (mut errors, mut warnings) = (Vec::new(), Vec::new());
        let plan = crate::config::database_plan(&raw, &env, &mut errors, &mut warnings);
        for w in warnings {
            log::warn!("history: {w}");
        }
        if let Some(e) = errors.first() {
            return Err(format!("history: {e}"));
        }
        let target = Target::from_plan(&plan, None);
        let display = format!("history {}", target.display);
        let conn = target.connect_once().await.map_err(|e| {
            format!(
                "{display}: {e} (this is the history's server, named by --history, \
                     history: or STORMBENCH_HISTORY)"
            )
        })?;
        let s = PgStore { conn, display };
        // a write queued behind another session's lock must not land after stormbench is
        // gone (interrupted, timed out or killed)
        s.bounded(
            "setting up its session",
            crate::db::bound_lock_waits(&s.conn),
        )
        .await?;
        s.create().await?;
        Ok(s)
    }

    async fn bounded<T>(
        &self,
        what: &str,
        f: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, String> {
        match tokio::time::timeout(STATEMENT_WAIT, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(format!(
                "{}: {what}: {}",
                self.display,
                crate::core::db_message(&e)
            )),
            Err(_) => Err(format!(
                "{}: {what}: no answer within {} s; check the server",
                self.display,
                STATEMENT_WAIT.as_secs()
            )),
        }
    }

    async fn create(&self) -> Result<(), String> {
        let c = &self.conn;
        let exists = self
            .bounded(
                "looking for its table",
                c.query_one(
                    "SELECT to_regclass($1) IS NOT NULL, \
                     obj_description(to_regclass($1), 'pg_class')",
                    &[&TABLE],
                ),
            )
            .await?;
        let (found, comment): (bool, Option<String>) = (exists.get(0), exists.get(1));
        if found {
            if comment.as_deref() != Some(MARK) {
                return Err(format!(
                    "{}: a table {TABLE} exists that stormbench did not create; give another \
                     database or schema for history",
                    self.display
                ));
            }
            return Ok(());
        }
        let ddl = format!(
            "CREATE TABLE IF NOT EXISTS {TABLE} (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                run_key text NOT NULL UNIQUE,
                recorded_at timestamptz NOT NULL DEFAULT now(),
                started_at text NOT NULL,
                status text NOT NULL,
                partial boolean NOT NULL,
                workload text NOT NULL,
                mode text NOT NULL,
                scale bigint NOT NULL,
                config_hash text NOT NULL,
                tool text NOT NULL,
                server_version text NOT NULL,
                database text NOT NULL,
                measured_s double precision NOT NULL,
                transactions bigint NOT NULL,
                failed bigint NOT NULL,
                tps double precision NOT NULL,
                p50_ms double precision NOT NULL,
                p95_ms double precision NOT NULL,
                p99_ms double precision NOT NULL,
                max_ms double precision NOT NULL,
                slo_passed boolean,
                slo_p99_ms double precision,
                kinds jsonb NOT NULL,
                report jsonb NOT NULL
            );
            CREATE INDEX IF NOT EXISTS {TABLE}_by_workload
                ON {TABLE} (workload, mode, scale, started_at);
            COMMENT ON TABLE {TABLE} IS '{MARK}';"
        );
        self.bounded("creating its table", c.batch_execute(&ddl))
            .await
    }

    pub(crate) async fn record(&mut self, r: &Record) -> Result<i64, String> {
        let w = &r.row;
        let kinds = serde_json::to_string(&w.kinds).map_err(|e| e.to_string())?;
        let sql = format!(
            "INSERT INTO {TABLE} (run_key, started_at, status, partial, workload, mode, scale, \
             config_hash, tool, server_version, database, measured_s, transactions, failed, \
             tps, p50_ms, p95_ms, p99_ms, max_ms, slo_passed, slo_p99_ms, kinds, report) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, $19, $20, $21, $22::text::jsonb, $23::text::jsonb) ON CONFLICT (run_key) DO UPDATE SET \
             recorded_at = now(), status = excluded.status, partial = excluded.partial, \
             measured_s = excluded.measured_s, transactions = excluded.transactions, \
             failed = excluded.failed, tps = excluded.tps, p50_ms = excluded.p50_ms, \
             p95_ms = excluded.p95_ms, p99_ms = excluded.p99_ms, max_ms = excluded.max_ms, \
             slo_passed = excluded.slo_passed, kinds = excluded.kinds, \
             report = excluded.report RETURNING id"
        );
        let row = self
            .bounded(
                "recording the run",
                self.conn.query_one(
                    &sql,
                    &[
                        &w.run_key,
                        &w.started_at,
                        &w.status,
                        &w.partial,
                        &w.workload,
                        &w.mode,
                        &w.scale,
                        &w.config_hash,
                        &w.tool,
                        &w.server_version,
                        &w.database,
                        &w.measured_s,
                        &w.transactions,
                        &w.failed,
                        &w.tps,
                        &w.p50_ms,
                        &w.p95_ms,
                        &w.p99_ms,
                        &w.max_ms,
                        &w.slo_passed,
                        &w.slo_p99_ms,
                        &kinds,
                        &r.report,
                    ],
                ),
            )
            .await?;
        Ok(row.get(0))
    }

    pub(crate) async fn runs(&mut self) -> Result<Vec<RunRow>, String> {
        let sql = format!("SELECT {COLUMNS} FROM {TABLE} ORDER BY started_at, id");
        let rows = self
            .bounded("reading the runs", self.conn.query(&sql, &[]))
            .await?;
        Ok(rows
            .iter()
            .map(|r| RunRow {
                id: r.get(0),
                run_key: r.get(1),
                started_at: r.get(2),
                status: r.get(3),
                partial: r.get(4),
                workload: r.get(5),
                mode: r.get(6),
                scale: r.get(7),
                config_hash: r.get(8),
                tool: r.get(9),
                server_version: r.get(10),
                database: r.get(11),
                measured_s: r.get(12),
                transactions: r.get(13),
                failed: r.get(14),
                tps: r.get(15),
                p50_ms: r.get(16),
                p95_ms: r.get(17),
                p99_ms: r.get(18),
                max_ms: r.get(19),
                slo_passed: r.get(20),
                slo_p99_ms: r.get(21),
                kinds: serde_json::from_value::<Vec<KindRow>>(r.get(22)).unwrap_or_default(),
            })
            .collect())
    }

    pub(crate) async fn report(&mut self, id: i64) -> Result<Option<String>, String> {
        let sql = format!("SELECT report::text FROM {TABLE} WHERE id = $1");
        let row = self
            .bounded("reading a report", self.conn.query_opt(&sql, &[&id]))
            .await?;
        Ok(row.map(|r| r.get(0)))
    }
}
