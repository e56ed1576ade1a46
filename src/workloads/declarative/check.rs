//! What `check-workload` checks against a database: requirements, then inside one
//! transaction that is rolled back at the end, a throwaway schema first on the
//! `search_path`, the workload's schema files, a few sample rows of every data table through
//! COPY, and every statement and check prepared, with its parameters checked against the
//! generators bound to them. Nothing is left behind: DDL is transactional in PostgreSQL,
//! transaction control in schema files is refused when the workload is read, and the
//! prepared statements die with the connection. The `after_load` steps run on the sample
//! rows too (those that can run in a transaction). What the schema files or `after_load` did
//! to objects that were there before is reported as a problem, as a set-up would refuse it;
//! a sequence's value is not rolled back: a `setval` or `nextval` of one the user had is
//! refused before it runs when it names the sequence, and reported when an expression
//! reached it.

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
    // what was there before, to tell the user's sequences from the workload's: a sequence's
    // value is the one thing the rollback does not undo
    let before = match crate::db::owned::Snapshot::take(conn).await {
        Ok(s) => s,
        Err(e) => {
            return vec![format!(
                "listing the database's objects: {}",
                db_message(&e)
            )]
        }
    };
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
    problems.extend(after_load(spec, conn, &before).await);
    match before.changes(conn).await {
        Ok(changes) => problems.extend(changes_of_theirs(&file, changes)),
        Err(e) => problems.push(format!(
            "checking what the schema files changed: {}",
            db_message(&e)
        )),
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

/// Runs the `after_load` steps on the sample rows (so that a statement relying on the keys
/// they add prepares as it will in a run), each statement in a savepoint: one that cannot
/// run in a transaction (`CREATE INDEX CONCURRENTLY`, `VACUUM`) is left out, a failing one
/// is a problem.
async fn after_load(spec: &Spec, conn: &Conn, before: &crate::db::owned::Snapshot) -> Vec<String> {
    let file = spec.file.display();
    let mut problems = Vec::new();
    let guard = match after_load_guard(conn, before).await {
        Ok(g) => g,
        Err(problem) => return vec![problem],
    };
    for step in &spec.after_load {
        for stmt in crate::core::script::split(&step.sql) {
            let at = || {
                format!(
                    "{file}: after_load {}, line {} ({})",
                    step.label,
                    stmt.line,
                    stmt.head()
                )
            };
            // what runs outside a transaction in a set-up (maintenance, a concurrent index
            // build) is not run here; what it would build on or rewrite is checked
            let outside = || async {
                match super::after_load::rebuild_of_theirs(conn, &guard, stmt.text, &at()).await {
                    Ok(None) => None,
                    Ok(Some(what)) => Some(format!(
                        "{}: would {what}, which stormbench did not create; a set-up would refuse it",
                        at()
                    )),
                    Err(e) => Some(e.to_string()),
                }
            };
            if crate::core::script::maintenance(stmt.text) {
                problems.extend(outside().await);
                continue;
            }
            // a user's sequence it names is not set: a rollback would not undo it
            match guard.sequences_of_theirs(conn, stmt.text).await {
                Ok(theirs) if theirs.is_empty() => {}
                Ok(theirs) => {
                    problems.push(format!(
                        "{}, and a set-up would refuse it",
                        super::after_load::sequences_not_set(&at(), &theirs)
                    ));
                    continue;
                }
                Err(e) => {
                    problems.push(format!("{}: {}", at(), db_message(&e)));
                    continue;
                }
            }
            let _ = conn.batch_execute("SAVEPOINT sb_after_load").await;
            match conn.batch_execute(stmt.text).await {
                Ok(()) => {}
                Err(e) => {
                    let _ = conn
                        .batch_execute("ROLLBACK TO SAVEPOINT sb_after_load")
                        .await;
                    use tokio_postgres::error::SqlState;
                    let why = match e.code() {
                        Some(&SqlState::ACTIVE_SQL_TRANSACTION) => {
                            problems.extend(outside().await);
                            continue;
                        }
                        Some(&SqlState::QUERY_CANCELED) => format!(
                            "still running after {} s on {SAMPLE_ROWS} sample rows per table, \
                             so it was cancelled: does it work on a table that is not the \
                             workload's?",
                            AFTER_LOAD_LIMIT.as_secs()
                        ),
                        _ => db_message(&e),
                    };
                    problems.push(format!("{}: {why}", at()));
                }
            }
        }
    }
    let _ = conn
        .batch_execute("SET LOCAL statement_timeout TO DEFAULT")
        .await;
    problems
}

/// What `after_load`'s statements run under: a guard that reads what a statement that
/// cannot run here would build on or rewrite as the set-up reads it (anything the check did
/// not create is the user's), and a statement timeout (on the sample rows a statement takes
/// milliseconds; one that runs for seconds works on something bigger, a user's table, and
/// is cut short rather than left to rewrite it). `Err` is the problem to report.
async fn after_load_guard(
    conn: &Conn,
    before: &crate::db::owned::Snapshot,
) -> Result<crate::db::owned::Guard, String> {
    let guard = match before.created_since(conn).await {
        Ok(ours) => crate::db::owned::Guard::new(conn, &ours).await,
        Err(e) => Err(e),
    }
    .map_err(|e| format!("listing the database's objects: {}", db_message(&e)))?;
    conn.batch_execute(&format!(
        "SET LOCAL statement_timeout = {}",
        AFTER_LOAD_LIMIT.as_millis()
    ))
    .await
    .map_err(|e| format!("limiting after_load's statements: {}", db_message(&e)))?;
    Ok(guard)
}

/// How long an `after_load` statement may run on the sample rows.
const AFTER_LOAD_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What the schema files, the sample rows and `after_load` did to objects that were there
/// before (the user's), as problems: what a set-up would refuse, and a sequence's value,
/// which the rollback does not undo.
fn changes_of_theirs(file: &str, changes: crate::db::owned::Changes) -> Vec<String> {
    let names = |objects: Vec<crate::db::owned::OwnedObject>| -> Vec<String> {
        objects.into_iter().map(|o| o.name).collect()
    };
    let mut problems = Vec::new();
    let sequenced = names(changes.sequenced);
    if !sequenced.is_empty() {
        problems.push(format!(
            "{file}: schema: the schema files, the sample rows or after_load set or advanced \
             the sequence of {}, which stormbench did not create; the rest is rolled back, but \
             a sequence's value is not: check it (SELECT last_value FROM the sequence) and set \
             it back if needed",
            sequenced.join(", ")
        ));
    }
    let mut changed = names(changes.dropped);
    changed.extend(names(changes.rewritten));
    changed.extend(names(changes.written));
    changed.extend(names(changes.locked));
    if !changed.is_empty() {
        changed.sort();
        changed.dedup();
        problems.push(format!(
            "{file}: schema: the schema files or after_load would drop, change or write rows \
             of {}, which stormbench did not create (rolled back here; a set-up would refuse \
             them): make them touch only the workload's own objects",
            changed.join(", ")
        ));
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
