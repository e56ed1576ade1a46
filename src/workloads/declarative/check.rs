//! What `check-workload` checks against a database: requirements, then inside one
//! transaction that is rolled back at the end, a throwaway schema first on the
//! `search_path`, the workload's schema files, a few sample rows of every data table through
//! COPY, and every statement and check prepared, with its parameters checked against the
//! generators bound to them. Nothing is left behind: DDL is transactional in PostgreSQL,
//! transaction control in schema files is refused when the workload is read, and the
//! prepared statements die with the connection.

use bytes::{Bytes, BytesMut};
use futures_util::SinkExt as _;

use super as decl;
use super::spec::{Param, Spec};
use super::value::OutKind;
use crate::core::{db_message, Conn};

/// Sample rows loaded per data table.
pub(crate) const SAMPLE_ROWS: u64 = 100;

/// Every database-side problem: requirements, schema, sample rows, statements.
pub(crate) async fn against_database(spec: &Spec, conn: &Conn) -> Vec<String> {
    let version = match crate::db::server_info(conn).await {
        Ok(s) => s.version_num,
        Err(e) => return vec![format!("reading the server version: {e}")],
    };
    let problems = decl::check_requires(spec, conn, version).await;
    if !problems.is_empty() {
        return problems;
    }
    if let Err(e) = conn.batch_execute("BEGIN").await {
        return vec![format!("BEGIN: {}", db_message(&e))];
    }
    let problems = in_transaction(spec, conn).await;
    let _ = conn.batch_execute("ROLLBACK").await;
    problems
}

async fn in_transaction(spec: &Spec, conn: &Conn) -> Vec<String> {
    let file = spec.file.display().to_string();
    let schema = format!("stormbench_check_{}", std::process::id());
    if let Err(e) = conn
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; SET LOCAL search_path TO {schema}, public"
        ))
        .await
    {
        return vec![format!("creating a throwaway schema: {}", db_message(&e))];
    }
    if let Err(e) = decl::create_schema(spec, conn).await {
        return vec![format!("{file}: schema.create: {e}")];
    }
    let mut problems = Vec::new();
    for (i, t) in spec.data.iter().enumerate() {
        if let Err(e) = sample_copy(spec, i, conn).await {
            problems.push(format!(
                "{file}: data[{i}] ({}): loading sample rows failed: {}; check each column's generator against the column's type",
                t.name,
                db_message(&e)
            ));
            // the transaction is aborted; nothing more can be checked
            return problems;
        }
    }
    for t in &spec.transactions {
        for s in &t.statements {
            let _ = conn.batch_execute("SAVEPOINT sb_check").await;
            match conn.prepare(&s.sql).await {
                Ok(st) => {
                    for (k, p) in s.params.iter().enumerate() {
                        let kind = match p {
                            Param::Gen(g) => g.out_kind(),
                            Param::Var(v) => t.vars[*v].out_kind(),
                            Param::Returned(_) => OutKind::Any,
                        };
                        if let Some(ty) = st.params().get(k) {
                            if let Some(m) = kind.incompatible(ty) {
                                problems.push(format!(
                                    "{file}: {}.params[{k}] (${}): {m}",
                                    s.path,
                                    k + 1
                                ));
                            }
                        }
                    }
                    for (col, _) in &s.captures {
                        if !st.columns().iter().any(|c| c.name() == col) {
                            problems.push(format!(
                                "{file}: {}: a later statement uses returned: {}.{col}, but this statement returns no column '{col}'; add it to RETURNING or the select list",
                                s.path,
                                s.label.rsplit('.').next().unwrap_or_default()
                            ));
                        }
                    }
                }
                Err(e) => {
                    problems.push(format!("{file}: {}.sql: {}", s.path, db_message(&e)));
                    let _ = conn.batch_execute("ROLLBACK TO SAVEPOINT sb_check").await;
                }
            }
        }
    }
    for (i, (name, sql)) in spec.checks.iter().enumerate() {
        let _ = conn.batch_execute("SAVEPOINT sb_check").await;
        if let Err(e) = conn.prepare(sql).await {
            problems.push(format!("{file}: checks[{i}] ({name}): {}", db_message(&e)));
            let _ = conn.batch_execute("ROLLBACK TO SAVEPOINT sb_check").await;
        }
    }
    problems
}

/// COPYs the first rows of data table `i` (what loading would send).
async fn sample_copy(spec: &Spec, i: usize, conn: &Conn) -> Result<u64, tokio_postgres::Error> {
    let t = &spec.data[i];
    let sink = conn.copy_in::<_, Bytes>(&t.copy_sql).await?;
    futures_util::pin_mut!(sink);
    let mut buf = BytesMut::new();
    for id in 1..=t.rows.min(SAMPLE_ROWS) {
        decl::write_sample_row(t, i, id, &mut buf);
    }
    sink.send(buf.freeze()).await?;
    sink.finish().await
}
