//! `after_load` files: run statement by statement outside a transaction, each statement
//! but maintenance checked to drop, change or write rows of only the workload's own objects.

use crate::core::{script, Conn, SchemaError};
use crate::db::owned;

/// The guard of `after_load`: every object there now that the set-up of `name` did not
/// record is the user's (or another workload's).
pub(super) async fn guard(conn: &Conn, name: &str) -> Result<owned::Guard, SchemaError> {
    let what = format!("{name} after_load: listing the database's objects");
    let recorded = crate::db::marker::read(conn, name)
        .await
        .map_err(SchemaError::db(what.clone()))?
        .and_then(|m| m.objects)
        .unwrap_or_default();
    owned::Guard::new(conn, &recorded)
        .await
        .map_err(SchemaError::db(what))
}

/// Runs an `after_load` file statement by statement (outside a transaction: it may build
/// indexes concurrently or vacuum). Each statement but maintenance (`ANALYZE`, `VACUUM`)
/// runs in a transaction of its own, rolled back and refused if it dropped, changed or
/// wrote rows of an object the set-up did not create; one that cannot run in a transaction
/// (`CREATE INDEX CONCURRENTLY`, `CLUSTER` of every clustered table) runs outside one
/// unless it drops, empties or changes objects, or builds indexes on or rewrites a table
/// the set-up did not create; so does maintenance (`VACUUM FULL` rewrites).
pub(super) async fn run(
    conn: &Conn,
    guard: &owned::Guard,
    sql: &str,
    what: &str,
) -> Result<(), SchemaError> {
    for stmt in script::split(sql) {
        let at = || format!("{what}, line {} ({})", stmt.line, stmt.head());
        if script::maintenance(stmt.text) {
            // `VACUUM FULL` rewrites what it names, outside any transaction
            refuse_rebuild_of_theirs(conn, guard, stmt.text, &at()).await?;
            conn.batch_execute(stmt.text)
                .await
                .map_err(SchemaError::db(at()))?;
            continue;
        }
        refuse_sequences_of_theirs(conn, guard, stmt.text, &at()).await?;
        match guard.run(conn, stmt.text).await {
            Ok(owned::Guarded::Ran) => {}
            Ok(owned::Guarded::SetSequences(names)) => {
                return Err(SchemaError::Refused(set_sequences(&at(), &names)))
            }
            Ok(owned::Guarded::Refused(names)) => {
                return Err(SchemaError::Refused(format!(
                    "{}: it would drop or change {}, which stormbench did not create; it was \
                     rolled back and the set-up stopped. Remove the statement, or drop or \
                     change {} yourself",
                    at(),
                    names.join(", "),
                    if names.len() == 1 { "it" } else { "them" }
                )))
            }
            Err(e)
                if e.code() == Some(&tokio_postgres::error::SqlState::ACTIVE_SQL_TRANSACTION) =>
            {
                // refused before it did anything: such a statement builds or vacuums
                if script::destructive(stmt.text).is_some() {
                    return Err(SchemaError::Refused(format!(
                        "{}: cannot run inside a transaction block, where stormbench checks \
                         that a DROP, TRUNCATE, ALTER or CREATE OR REPLACE touches only its own \
                         objects; make it a statement that can (DROP INDEX without CONCURRENTLY)",
                        at()
                    )));
                }
                refuse_rebuild_of_theirs(conn, guard, stmt.text, &at()).await?;
                conn.batch_execute(stmt.text)
                    .await
                    .map_err(SchemaError::db(at()))?;
            }
            Err(e) => return Err(SchemaError::db(at())(e)),
        }
    }
    Ok(())
}

/// Refuses, before it runs, a statement that names a sequence the set-up did not create
/// (or one owned by a column of such a table) to `setval` or `nextval`: a sequence's value
/// is not rolled back with the statement's transaction.
pub(super) async fn refuse_sequences_of_theirs(
    conn: &Conn,
    guard: &owned::Guard,
    stmt: &str,
    at: &str,
) -> Result<(), SchemaError> {
    let theirs = guard
        .sequences_of_theirs(conn, stmt)
        .await
        .map_err(SchemaError::db(at.to_string()))?;
    if theirs.is_empty() {
        return Ok(());
    }
    Err(sequences_refused(at, &theirs))
}

/// The refusal of the statement at `at`, which names the sequences of `theirs`.
fn sequences_refused(at: &str, theirs: &[String]) -> SchemaError {
    SchemaError::Refused(format!(
        "{} and the set-up stopped. Name the workload's own sequence",
        sequences_not_set(at, theirs)
    ))
}

/// What a statement at `at` naming the user's sequences `theirs` would have done, and that
/// it did not.
pub(super) fn sequences_not_set(at: &str, theirs: &[String]) -> String {
    format!(
        "{at}: would set or advance the sequence of {}, which stormbench did not create (a \
         sequence's value is not rolled back); it was not run",
        theirs.join(", ")
    )
}

/// Schema files (`(file, text)`, of workload `name`): refuses, before any of them runs, a
/// statement naming to `setval` or `nextval` a sequence that was there before the set-up (a
/// rollback would not undo it). The schema's own sequences do not exist yet, so they are
/// never among them.
pub(super) async fn refuse_sequences_in_schema(
    conn: &Conn,
    name: &str,
    files: &[(String, String)],
) -> Result<(), SchemaError> {
    if files
        .iter()
        .all(|(_, text)| script::sequences_set(text).is_empty())
    {
        return Ok(());
    }
    let guard = owned::Guard::new(conn, &[])
        .await
        .map_err(SchemaError::db(format!(
            "{name}: listing the database's objects"
        )))?;
    for (file, text) in files {
        let what = format!("{name} schema file {file}");
        let found = guard
            .first_sequence_of_theirs(conn, text)
            .await
            .map_err(SchemaError::db(what.clone()))?;
        if let Some((stmt, theirs)) = found {
            let at = format!("{what}, line {} ({})", stmt.line, stmt.head());
            return Err(sequences_refused(&at, &theirs));
        }
    }
    Ok(())
}

/// The refusal of a statement that set or advanced the sequences of `names` in a way not
/// seen before it ran (through a function or an expression).
pub(crate) fn set_sequences(at: &str, names: &[String]) -> String {
    format!(
        "{at}: set or advanced the sequence of {}, which stormbench did not create; the rest \
         of it was rolled back, but a sequence's value is not: check it (SELECT last_value \
         FROM the sequence) and set it back if needed. The set-up stopped; remove the \
         statement",
        names.join(", ")
    )
}

/// Refuses, before it runs, a statement outside a transaction that would build or
/// rebuild indexes on, or rewrite, a table (or index) the set-up did not create, or every
/// table of a schema or of the database.
async fn refuse_rebuild_of_theirs(
    conn: &Conn,
    guard: &owned::Guard,
    stmt: &str,
    at: &str,
) -> Result<(), SchemaError> {
    match rebuild_of_theirs(conn, guard, stmt, at).await? {
        None => Ok(()),
        Some(what) => Err(SchemaError::Refused(format!(
            "{at}: would {what}, which stormbench did not create; it was not run and the \
             set-up stopped. Remove the statement, or name only the workload's own tables"
        ))),
    }
}

/// What a statement outside a transaction would do to tables (or indexes) `guard` does
/// not count as the set-up's, or to every table of a schema or of the database: `build or
/// rebuild indexes on public.t`, `rewrite every table of the database`; `None` when it
/// builds on, or rewrites, only the workload's own.
pub(super) async fn rebuild_of_theirs(
    conn: &Conn,
    guard: &owned::Guard,
    stmt: &str,
    at: &str,
) -> Result<Option<String>, SchemaError> {
    let Some(rebuild) = script::builds_on(stmt) else {
        return Ok(None);
    };
    let whose = match rebuild.on {
        script::BuildsOn::Many(what) => vec![what.to_string()],
        script::BuildsOn::Relations(names) => {
            let mut theirs = Vec::new();
            for name in names {
                let found = guard
                    .theirs_named(conn, name)
                    .await
                    .map_err(SchemaError::db(at.to_string()))?;
                theirs.extend(found);
            }
            theirs
        }
    };
    Ok((!whose.is_empty()).then(|| format!("{} {}", rebuild.action, whose.join(", "))))
}
