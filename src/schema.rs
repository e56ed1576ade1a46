//! A workload's schema in a database people care about: set up only where nothing of the
//! user's is in the way, dropped only as far as stormbench can prove it created it.
//!
//! The set-up creates the schema inside one transaction and records the objects it created
//! (by OID) in the marker together with the state `loading`; after the data load the marker
//! says `ready`. A rebuild or a clean-up drops exactly the recorded objects. Tables of the
//! workload's names that stormbench did not create are a refusal naming them, unless the user
//! says `--force-drop`. One set-up at a time per database (an advisory lock).

use anyhow::{anyhow, bail, Context as _};

use crate::core::{Conn, Workload};
use crate::db::marker::{self, LoadState, Marker};
use crate::db::owned::{self, OwnedObject, SetupLock, Snapshot};

/// What to do with the schema before (or instead of) running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SchemaAction {
    /// Require an existing schema (an embedded cluster is always set up).
    Existing,
    /// Create and load if missing.
    Setup,
    /// Drop, recreate, load.
    Rebuild,
    /// Drop and exit.
    Cleanup,
}

/// What the schema step found, and what it has to do.
#[derive(Debug)]
pub(crate) enum Found {
    /// The schema is loaded at the asked scale.
    Ready(Marker),
    /// It must be (re)loaded.
    MustLoad,
}

/// Decides from the marker whether the schema is usable as it is or must be loaded.
/// `fresh` is a throwaway cluster (always set up).
pub(crate) async fn inspect(
    admin: &Conn,
    workload: &dyn Workload,
    name: &str,
    scale: u64,
    action: SchemaAction,
    fresh: bool,
) -> anyhow::Result<Found> {
    let found = marker::read(admin, name)
        .await
        .context("reading the stormbench_meta marker table")?;
    let may_load = fresh || matches!(action, SchemaAction::Setup | SchemaAction::Rebuild);
    match found {
        _ if action == SchemaAction::Rebuild => Ok(Found::MustLoad),
        Some(m) if m.state == LoadState::Loading && may_load => Ok(Found::MustLoad),
        Some(m) if m.state == LoadState::Loading => bail!(
            "the {name} schema is not completely loaded (its load was interrupted, or another stormbench is loading it now); run with --setup to load it again"
        ),
        Some(m) if m.scale == scale && m.params == workload.schema_params() => {
            Ok(Found::Ready(m))
        }
        Some(m) if m.scale == scale => bail!(
            "the {name} schema was loaded with {} but this run asks for {}; run with --rebuild to reload it, or set the parameters as loaded",
            if m.params.is_empty() { "no parameters recorded".to_string() } else { m.params.clone() },
            workload.schema_params()
        ),
        Some(m) => bail!(
            "the {name} schema was loaded at scale {} but this run asks for scale {scale}; run with --rebuild to reload at scale {scale}, or set scale: {}",
            m.scale,
            m.scale
        ),
        None if may_load => Ok(Found::MustLoad),
        None => {
            let existing = owned::existing_tables(admin, workload.tables())
                .await
                .context("looking for the workload's tables")?;
            let note = if existing.is_empty() {
                String::new()
            } else {
                format!(
                    " (tables named {} exist, but stormbench did not create them)",
                    existing.join(", ")
                )
            };
            bail!("no {name} schema set up by stormbench in this database{note}; run once with --setup to create and load it (scale {scale})")
        }
    }
}

/// Whether another stormbench has yet to finish setting up `name` here: no marker, a load
/// not finished, or the set-up lock held (a shard waiting for shard 0's set-up asks).
pub(crate) async fn being_set_up(admin: &Conn, name: &str) -> anyhow::Result<bool> {
    let found = marker::read(admin, name)
        .await
        .context("reading the stormbench_meta marker table")?;
    Ok(match found {
        None => true,
        Some(m) if m.state == LoadState::Loading => true,
        Some(_) => SetupLock::holder(admin).await.is_some(),
    })
}

/// Holds the set-up lock while `step` runs; another stormbench holding it is an error
/// naming its session.
pub(crate) async fn locked<T>(
    admin: &Conn,
    step: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let lock = SetupLock::try_take(admin)
        .await
        .context("taking the set-up lock")?;
    let Some(lock) = lock else {
        let who = SetupLock::holder(admin)
            .await
            .map(|h| format!(" (session {h})"))
            .unwrap_or_default();
        bail!("another stormbench is setting up or cleaning up this database{who}; wait for it to finish, or use another database");
    };
    let out = step.await;
    lock.release(admin).await;
    out
}

/// Drops what an earlier set-up of `name` created (nothing else, unless `force_drop`) and
/// creates the schema afresh in one transaction, recording what it created. Returns a
/// snapshot to tell what the load adds (indexes, views of `after_load`).
pub(crate) async fn recreate(
    admin: &Conn,
    workload: &dyn Workload,
    name: &str,
    scale: u64,
    force_drop: bool,
) -> anyhow::Result<Snapshot> {
    let found = marker::read(admin, name)
        .await
        .context("reading the stormbench_meta marker table")?;
    drop_previous(admin, workload, name, found.as_ref(), force_drop).await?;
    let in_the_way = owned::existing_tables(admin, workload.tables())
        .await
        .context("looking for the workload's tables")?;
    if !in_the_way.is_empty() {
        bail!(
            "refusing to set up {name}: this database already has {} {}, which stormbench did not create (no stormbench_meta record of {}); use another database, or add --force-drop to drop {} first",
            plural(in_the_way.len(), "table", "tables"),
            in_the_way.join(", "),
            plural(in_the_way.len(), "it", "them"),
            plural(in_the_way.len(), "it", "them"),
        );
    }
    admin.batch_execute("BEGIN").await.context("BEGIN")?;
    let created = create_recorded(admin, workload, name, scale, force_drop).await;
    if created.is_err() {
        let _ = admin.batch_execute("ROLLBACK").await;
    }
    created?;
    admin
        .batch_execute("COMMIT")
        .await
        .context("committing the new schema")?;
    Snapshot::take(admin)
        .await
        .context("listing the database's objects")
}

/// Inside the caller's transaction: creates the schema, refuses if that replaced, changed or
/// wrote rows of an object of the user's, or dropped one (unless `force_drop`), records what
/// it created.
async fn create_recorded(
    admin: &Conn,
    workload: &dyn Workload,
    name: &str,
    scale: u64,
    force_drop: bool,
) -> anyhow::Result<()> {
    let before = Snapshot::take(admin)
        .await
        .context("listing the database's objects")?;
    if let Err(e) = workload.create_schema(admin).await {
        if let crate::core::SchemaError::Db { error, .. } = &e {
            if error.code().map(|c| c.code()) == Some("25001") {
                bail!("{e}; a schema file holds a statement that cannot run inside a transaction block (CREATE INDEX CONCURRENTLY, VACUUM, ...): move it to after_load");
            }
        }
        return Err(anyhow!(e));
    }
    let changes = before
        .changes(admin)
        .await
        .context("checking what the schema replaced, dropped and created")?;
    let sequenced: Vec<String> = changes.sequenced.into_iter().map(|o| o.name).collect();
    if !sequenced.is_empty() {
        bail!(
            "refusing to set up {name}: its schema files set or advance the sequence of {}, which stormbench did not create; the rest was rolled back, but a sequence's value is not: check it (SELECT last_value FROM the sequence) and set it back if needed. Remove those statements from the schema files",
            sequenced.join(", ")
        );
    }
    let replaced: Vec<String> = changes.rewritten.into_iter().map(|o| o.name).collect();
    if !replaced.is_empty() {
        bail!(
            "refusing to set up {name}: creating its schema would replace or change {}, which stormbench did not create; nothing was changed. Drop or rename {} yourself, or use another database",
            replaced.join(", "),
            plural(replaced.len(), "it", "them")
        );
    }
    let locked: Vec<String> = changes.locked.into_iter().map(|o| o.name).collect();
    // (with --force-drop a drop the user asked for locks what referenced the dropped table)
    if !locked.is_empty() && !force_drop {
        bail!(
            "refusing to set up {name}: its schema files would change {}, which stormbench did not create (they lock it as only DDL does: an index, trigger, foreign key, child table, partition, comment or security label on it); nothing was changed. Remove those statements from the schema files, or change {} yourself",
            locked.join(", "),
            plural(locked.len(), "it", "them")
        );
    }
    let written: Vec<String> = changes.written.into_iter().map(|o| o.name).collect();
    if !written.is_empty() {
        bail!(
            "refusing to set up {name}: its schema files insert, update or delete rows of {}, which stormbench did not create; nothing was changed. Remove those statements from the schema files, or change {} yourself",
            written.join(", "),
            plural(written.len(), "it", "them")
        );
    }
    if !changes.dropped.is_empty() && !force_drop {
        let names: Vec<String> = changes.dropped.into_iter().map(|o| o.name).collect();
        bail!(
            "refusing to set up {name}: its schema files drop {}, which stormbench did not create; nothing was changed. Remove the DROP from the schema files, drop {} yourself, or add --force-drop",
            names.join(", "),
            plural(names.len(), "it", "them")
        );
    }
    marker::begin_load(
        admin,
        name,
        scale,
        &workload.schema_params(),
        &changes.created,
    )
    .await
    .context("writing the stormbench_meta marker")
}

/// Records the load's end and the objects it added since `before`.
pub(crate) async fn finish(admin: &Conn, name: &str, before: &Snapshot) -> anyhow::Result<()> {
    let more = before
        .created_since(admin)
        .await
        .context("listing what the load created")?;
    marker::finish_load(admin, name, &more)
        .await
        .context("writing the stormbench_meta marker")
}

/// What a clean-up did, for its one-line message.
#[derive(Debug)]
pub(crate) enum Cleaned {
    /// Objects dropped (names).
    Dropped(Vec<String>),
    /// Nothing of this workload was set up here.
    Nothing,
}

/// Drops the workload's schema as far as stormbench created it, and its marker.
pub(crate) async fn cleanup(
    admin: &Conn,
    workload: &dyn Workload,
    name: &str,
    force_drop: bool,
) -> anyhow::Result<Cleaned> {
    let found = marker::read(admin, name)
        .await
        .context("reading the stormbench_meta marker table")?;
    if found.is_none() && !force_drop {
        let existing = owned::existing_tables(admin, workload.tables())
            .await
            .context("looking for the workload's tables")?;
        if existing.is_empty() {
            return Ok(Cleaned::Nothing);
        }
        bail!(
            "no {name} schema set up by stormbench in this database: stormbench did not create {} and will not drop {}; drop {} yourself, or add --force-drop",
            existing.join(", "),
            plural(existing.len(), "it", "them"),
            plural(existing.len(), "it", "them"),
        );
    }
    let dropped = drop_previous(admin, workload, name, found.as_ref(), force_drop).await?;
    Ok(Cleaned::Dropped(dropped))
}

/// Drops what the marker says a set-up created (or, for a marker older than the record of
/// objects, the workload's tables by name; with `force_drop`, those names whatever
/// created them), then the marker.
async fn drop_previous(
    admin: &Conn,
    workload: &dyn Workload,
    name: &str,
    found: Option<&Marker>,
    force_drop: bool,
) -> anyhow::Result<Vec<String>> {
    let mut dropped = Vec::new();
    match found.and_then(|m| m.objects.as_ref()) {
        Some(objects) => {
            if let Some(sql) = workload.cleanup_script() {
                dropped = run_cleanup_files(admin, &sql, name, objects, force_drop).await?;
            }
            dropped.extend(drop_recorded(admin, name, objects, force_drop).await?);
        }
        None if found.is_some() || force_drop => {
            let existing = owned::existing_tables(admin, workload.tables())
                .await
                .context("looking for the workload's tables")?;
            if found.is_none() {
                log::warn!(
                    "--force-drop: dropping {} although stormbench did not create {}",
                    existing.join(", "),
                    plural(existing.len(), "it", "them")
                );
            }
            workload
                .drop_schema(admin)
                .await
                .with_context(|| format!("dropping the {name} schema"))?;
            dropped = existing;
        }
        None => {}
    }
    marker::remove(admin, name)
        .await
        .context("clearing the stormbench_meta marker")?;
    Ok(dropped)
}

/// Runs a workload's clean-up files in one transaction, rolled back (and the clean-up
/// refused) if they would drop an object the set-up did not record: one the user put in
/// the place of a workload table, a view the user built on one. `force_drop` lets them.
/// Returns the names of what they dropped.
async fn run_cleanup_files(
    admin: &Conn,
    sql: &str,
    name: &str,
    recorded: &[OwnedObject],
    force_drop: bool,
) -> anyhow::Result<Vec<String>> {
    // (the files come joined into one script, so a line number would not point into one)
    if let Some((_, cmd)) = crate::core::script::find_transaction_control(sql).first() {
        bail!(
            "the {name} cleanup files hold {cmd}, which ends or nests the transaction the \
             clean-up runs in; remove it"
        );
    }
    refuse_sequences_in_cleanup(admin, sql, name, recorded).await?;
    admin
        .batch_execute("BEGIN")
        .await
        .context("starting the clean-up")?;
    let checked = async {
        let before = Snapshot::take(admin)
            .await
            .context("listing the database's objects")?;
        crate::core::run_script(admin, sql, &format!("{name} cleanup"))
            .await
            .map_err(|e| anyhow!(e))?;
        let changes = before
            .changes(admin)
            .await
            .context("listing the database's objects")?;
        let theirs = |objects: &[OwnedObject]| -> Vec<String> {
            objects
                .iter()
                .filter(|o| !recorded.iter().any(|r| r.kind == o.kind && r.oid == o.oid))
                .map(|o| o.name.clone())
                .collect()
        };
        let foreign = theirs(&changes.dropped);
        if !foreign.is_empty() && !force_drop {
            bail!(
                "the {name} cleanup files would drop {} that stormbench did not create (not \
                 in its set-up's record: put there or replaced after the set-up); nothing was \
                 dropped. Drop {} yourself, or add --force-drop",
                foreign.join(", "),
                plural(foreign.len(), "it", "them"),
            );
        }
        let sequenced = theirs(&changes.sequenced);
        if !sequenced.is_empty() {
            bail!(
                "the {name} cleanup files set or advance the sequence of {}, which stormbench \
                 did not create; nothing was dropped, but a sequence's value is not rolled \
                 back: check it (SELECT last_value FROM the sequence) and set it back if \
                 needed. Remove the statement",
                sequenced.join(", "),
            );
        }
        let mut changed = theirs(&changes.rewritten);
        changed.extend(theirs(&changes.written));
        // (with --force-drop a drop the user asked for locks what referenced the dropped
        // table, as in the set-up)
        if !force_drop {
            changed.extend(theirs(&changes.locked));
        }
        if !changed.is_empty() {
            bail!(
                "the {name} cleanup files would empty or change {}, which stormbench did not \
                 create (a TRUNCATE, ALTER or DELETE of it, or an index, trigger or comment on \
                 it); nothing was dropped. Remove the statement, or change {} yourself",
                changed.join(", "),
                plural(changed.len(), "it", "them"),
            );
        }
        let gone = changes.dropped;
        Ok(gone.into_iter().map(|o| o.name).collect())
    }
    .await;
    let end = if checked.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    let ended = admin.batch_execute(end).await;
    let dropped = checked?;
    ended.context("committing the clean-up")?;
    Ok(dropped)
}

/// Refuses, before the clean-up runs, cleanup files naming to `setval` or `nextval` a
/// sequence the set-up did not record (a rollback would not undo it).
async fn refuse_sequences_in_cleanup(
    admin: &Conn,
    sql: &str,
    name: &str,
    recorded: &[OwnedObject],
) -> anyhow::Result<()> {
    if crate::core::script::sequences_set(sql).is_empty() {
        return Ok(());
    }
    let guard = owned::Guard::new(admin, recorded)
        .await
        .context("listing the database's objects")?;
    let found = guard
        .first_sequence_of_theirs(admin, sql)
        .await
        .context("looking up the sequences the cleanup files name")?;
    if let Some((stmt, theirs)) = found {
        bail!(
            "the {name} cleanup files would set or advance the sequence of {}, which \
             stormbench did not create (a sequence's value is not rolled back); nothing was \
             run. Remove the statement ({})",
            theirs.join(", "),
            stmt.head()
        );
    }
    Ok(())
}

async fn drop_recorded(
    admin: &Conn,
    name: &str,
    objects: &[OwnedObject],
    cascade: bool,
) -> anyhow::Result<Vec<String>> {
    let out = match owned::drop_owned(admin, objects, cascade).await {
        Ok(out) => out,
        Err(e) if e.code().map(|c| c.code()) == Some("2BP01") => {
            let detail = e
                .as_db_error()
                .and_then(|d| d.detail())
                .unwrap_or_default()
                .replace('\n', "; ");
            bail!(
                "cannot drop the {name} schema: objects stormbench did not create depend on it ({detail}); drop those yourself, or add --force-drop to drop them too"
            );
        }
        Err(e) => {
            return Err(anyhow!(
                "dropping the {name} schema: {}",
                crate::core::db_message(&e)
            ))
        }
    };
    for left in &out.left {
        log::warn!("{left} was recorded as created by stormbench but has been renamed since; left in place");
    }
    Ok(out.dropped)
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}
