//! What stormbench may drop: the objects its own set-up created, recorded by OID.
//!
//! A set-up lists the database's top-level objects (relations, routines, types, schemas
//! outside the system schemas, not members of an extension) before and after creating a
//! workload's schema; the new ones are the workload's and go into the marker. Dropping
//! drops exactly those, found again by OID and name, without CASCADE, so a user's own
//! objects (same-named tables, a view on a workload table) are never touched.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::core::Conn;

/// A kind of database object stormbench can record and drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ObjectKind {
    /// `CREATE TABLE` (plain or partitioned).
    Table,
    /// `CREATE VIEW`.
    View,
    /// `CREATE MATERIALIZED VIEW`.
    MaterializedView,
    /// `CREATE SEQUENCE` (not one owned by a column).
    Sequence,
    /// `CREATE FOREIGN TABLE`.
    ForeignTable,
    /// `CREATE FUNCTION`.
    Function,
    /// `CREATE PROCEDURE`.
    Procedure,
    /// `CREATE AGGREGATE`.
    Aggregate,
    /// `CREATE TYPE` (enum, range, composite).
    Type,
    /// `CREATE DOMAIN`.
    Domain,
    /// `CREATE SCHEMA`.
    Schema,
}

impl ObjectKind {
    fn from_catalog(catalog: &str, kind: &str) -> Option<Self> {
        Some(match (catalog, kind) {
            ("class", "r" | "p") => ObjectKind::Table,
            ("class", "v") => ObjectKind::View,
            ("class", "m") => ObjectKind::MaterializedView,
            ("class", "S") => ObjectKind::Sequence,
            ("class", "f") => ObjectKind::ForeignTable,
            ("proc", "f" | "w") => ObjectKind::Function,
            ("proc", "p") => ObjectKind::Procedure,
            ("proc", "a") => ObjectKind::Aggregate,
            ("type", "d") => ObjectKind::Domain,
            ("type", _) => ObjectKind::Type,
            ("schema", _) => ObjectKind::Schema,
            _ => return None,
        })
    }

    /// `DROP <keyword>`.
    fn drop_keyword(self) -> &'static str {
        match self {
            ObjectKind::Table => "TABLE",
            ObjectKind::View => "VIEW",
            ObjectKind::MaterializedView => "MATERIALIZED VIEW",
            ObjectKind::Sequence => "SEQUENCE",
            ObjectKind::ForeignTable => "FOREIGN TABLE",
            ObjectKind::Function => "FUNCTION",
            ObjectKind::Procedure => "PROCEDURE",
            ObjectKind::Aggregate => "AGGREGATE",
            ObjectKind::Type => "TYPE",
            ObjectKind::Domain => "DOMAIN",
            ObjectKind::Schema => "SCHEMA",
        }
    }

    /// The catalog it is listed from, as [`OBJECTS_SQL`] and [`DDL_LOCKED_SQL`] name it.
    fn catalog(self) -> &'static str {
        match self {
            ObjectKind::Function | ObjectKind::Procedure | ObjectKind::Aggregate => "proc",
            ObjectKind::Type | ObjectKind::Domain => "type",
            ObjectKind::Schema => "schema",
            _ => "class",
        }
    }

    /// Whether it is a relation (in `pg_class`, locked by DDL on it).
    fn is_relation(self) -> bool {
        matches!(
            self,
            ObjectKind::Table
                | ObjectKind::View
                | ObjectKind::MaterializedView
                | ObjectKind::Sequence
                | ObjectKind::ForeignTable
        )
    }

    /// Drop order: dependents before what they depend on.
    fn drop_rank(self) -> u8 {
        match self {
            ObjectKind::View | ObjectKind::MaterializedView => 0,
            ObjectKind::ForeignTable => 1,
            ObjectKind::Table => 2,
            ObjectKind::Sequence => 3,
            ObjectKind::Aggregate => 4,
            ObjectKind::Function | ObjectKind::Procedure => 5,
            ObjectKind::Domain | ObjectKind::Type => 6,
            ObjectKind::Schema => 7,
        }
    }
}

/// One object a set-up created.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct OwnedObject {
    /// What it is.
    pub(crate) kind: ObjectKind,
    /// Its OID when it was created.
    pub(crate) oid: u32,
    /// Its schema-qualified name (with the argument types of a routine), quoted as SQL.
    pub(crate) name: String,
}

/// The top-level user objects of a database at one moment, with their names.
#[derive(Debug, Clone, Default)]
pub(crate) struct Snapshot {
    /// Each one's name, and the transaction that last wrote its catalog row (another one
    /// later means it was changed since, by any transaction, subtransactions included).
    seen: HashMap<(ObjectKind, u32), (String, u32)>,
    /// The domain constraints and casts there were, as [`TYPE_RULES_SQL`] lists them.
    rules: HashSet<(u32, u32, u32)>,
}

/// The domain constraints and casts of the database: `(type, row, xmin)`, the type being
/// the domain or either side of the cast. Adding or dropping one changes no row of
/// `pg_type`.
const TYPE_RULES_SQL: &str = "SELECT contypid::int8, oid::int8, xmin::text FROM pg_constraint
WHERE contypid <> 0
UNION ALL SELECT castsource::int8, oid::int8, xmin::text FROM pg_cast
UNION ALL SELECT casttarget::int8, oid::int8, xmin::text FROM pg_cast";

async fn type_rules(conn: &Conn) -> Result<HashSet<(u32, u32, u32)>, tokio_postgres::Error> {
    Ok(conn
        .query(TYPE_RULES_SQL, &[])
        .await?
        .iter()
        .map(|r| {
            (
                r.get::<_, i64>(0) as u32,
                r.get::<_, i64>(1) as u32,
                r.get::<_, &str>(2).parse().unwrap_or(0),
            )
        })
        .collect())
}

/// Lists top-level user objects: `(catalog, oid, kind letter, quoted name, xmin)`.
const OBJECTS_SQL: &str = "
WITH ns AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
), ext AS (
    SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
)
SELECT 'class', c.oid::int8, c.relkind::text, format('%I.%I', ns.nspname, c.relname), c.xmin::text
FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
UNION ALL
SELECT 'proc', p.oid::int8, p.prokind::text,
       format('%I.%I(%s)', ns.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
       p.xmin::text
FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
UNION ALL
SELECT 'type', t.oid::int8, t.typtype::text, format('%I.%I', ns.nspname, t.typname), t.xmin::text
FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
WHERE (t.typtype IN ('e', 'd', 'r')
       OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
  AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
UNION ALL
SELECT 'schema', ns.oid::int8, 'n', format('%I', ns.nspname), n.xmin::text
FROM ns JOIN pg_namespace n ON n.oid = ns.oid
WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_namespace'::regclass AND ext.objid = ns.oid)";

struct Row {
    object: OwnedObject,
    /// The transaction that last wrote its catalog row (the low 32 bits, as the row has it).
    xmin: u32,
}

async fn objects(conn: &Conn) -> Result<Vec<Row>, tokio_postgres::Error> {
    let rows = conn.query(OBJECTS_SQL, &[]).await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let catalog: &str = r.get(0);
            let kind = ObjectKind::from_catalog(catalog, r.get(2))?;
            Some(Row {
                object: OwnedObject {
                    kind,
                    oid: r.get::<_, i64>(1) as u32,
                    name: r.get(3),
                },
                xmin: r.get::<_, &str>(4).parse().unwrap_or(0),
            })
        })
        .collect())
}

impl Snapshot {
    /// The objects there are now.
    pub(crate) async fn take(conn: &Conn) -> Result<Snapshot, tokio_postgres::Error> {
        let mut snap = Snapshot {
            rules: type_rules(conn).await?,
            ..Snapshot::default()
        };
        for r in objects(conn).await? {
            let key = (r.object.kind, r.object.oid);
            snap.seen.insert(key, (r.object.name, r.xmin));
        }
        Ok(snap)
    }

    /// Objects there now that were not there at the snapshot.
    pub(crate) async fn created_since(
        &self,
        conn: &Conn,
    ) -> Result<Vec<OwnedObject>, tokio_postgres::Error> {
        Ok(objects(conn)
            .await?
            .into_iter()
            .filter(|r| !self.seen.contains_key(&(r.object.kind, r.object.oid)))
            .map(|r| r.object)
            .collect())
    }

    /// What the current transaction did to the objects since the snapshot, from one listing.
    pub(crate) async fn changes(&self, conn: &Conn) -> Result<Changes, tokio_postgres::Error> {
        // types given or stripped of a domain constraint or a cast
        let retyped: HashSet<u32> = type_rules(conn)
            .await?
            .symmetric_difference(&self.rules)
            .map(|&(ty, _, _)| ty)
            .collect();
        let now = objects(conn).await?;
        let still: HashSet<(ObjectKind, u32)> =
            now.iter().map(|r| (r.object.kind, r.object.oid)).collect();
        let mut out = Changes {
            dropped: self
                .seen
                .iter()
                .filter(|(key, _)| !still.contains(key))
                .map(|(&(kind, oid), (name, _))| OwnedObject {
                    kind,
                    oid,
                    name: name.clone(),
                })
                .collect(),
            ..Changes::default()
        };
        let written = rows_written(conn).await?;
        let ddl = ddl_locked(conn).await?;
        for r in now {
            let relation = r.object.kind.is_relation();
            let Some(&(_, xmin)) = self.seen.get(&(r.object.kind, r.object.oid)) else {
                out.created.push(r.object);
                continue;
            };
            if xmin != r.xmin
                || (r.object.kind.catalog() == "type" && retyped.contains(&r.object.oid))
            {
                out.rewritten.push(r.object);
            } else if relation && ddl.sequenced.contains(&r.object.oid) {
                out.sequenced.push(r.object);
            } else if relation && written.contains(&r.object.oid) {
                out.written.push(r.object);
            } else if ddl
                .locked
                .contains(&(r.object.kind.catalog(), r.object.oid))
            {
                out.locked.push(r.object);
            }
        }
        Ok(out)
    }
}

/// Tables whose rows the current transaction inserted, updated or deleted so far, by OID
/// (the server's counts for the transaction, its open savepoints included). Without
/// `track_counts` the server keeps no counts: a warning says the check cannot be made.
async fn rows_written(conn: &Conn) -> Result<HashSet<u32>, tokio_postgres::Error> {
    let rows = conn
        .query(
            "SELECT relid::int8 FROM pg_stat_xact_user_tables \
             WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 \
             UNION ALL SELECT -1 WHERE NOT current_setting('track_counts')::bool",
            &[],
        )
        .await?;
    let mut out = HashSet::new();
    for r in rows {
        match r.get::<_, i64>(0) {
            -1 => log::warn!(
                "track_counts is off on this server: stormbench cannot check that the set-up \
                 writes rows only into its own tables"
            ),
            oid => {
                out.insert(oid as u32);
            }
        }
    }
    Ok(out)
}

/// What a transaction did to the objects there at a [`Snapshot`].
#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// There at the snapshot, gone now (as their kind, OID and name then).
    pub(crate) dropped: Vec<OwnedObject>,
    /// There at the snapshot, their catalog row rewritten since (replaced, altered,
    /// truncated, renamed; by this transaction, one of its subtransactions or, seldom,
    /// another session meanwhile), or, for a type, given or stripped of a domain
    /// constraint or a cast.
    pub(crate) rewritten: Vec<OwnedObject>,
    /// There now, not at the snapshot.
    pub(crate) created: Vec<OwnedObject>,
    /// Tables there at the snapshot, not rewritten, whose rows this transaction inserted,
    /// updated or deleted.
    pub(crate) written: Vec<OwnedObject>,
    /// Sequences there at the snapshot, not rewritten, that this transaction set or
    /// advanced (`setval`, `nextval`), and tables whose columns own such a sequence (serial,
    /// identity): unlike everything else here, not undone by a rollback.
    pub(crate) sequenced: Vec<OwnedObject>,
    /// Objects there at the snapshot, none of the above, that this transaction locked as
    /// only DDL does (an index, trigger, foreign key, child or partition added to a
    /// relation; a comment or security label set on any of them).
    pub(crate) locked: Vec<OwnedObject>,
}

/// Objects the current session holds a lock on that only DDL or `TRUNCATE` takes
/// (`SHARE UPDATE EXCLUSIVE` and stronger), and sequences it used (`nextval` and `setval`
/// take `ROW EXCLUSIVE` on them), as `(oid, used sequence, catalog)`. A lock on an index
/// counts as one on its table (`ALTER INDEX` locks the index alone), and one on a sequence
/// owned by a column (serial, identity) as one on the column's table, and one on a composite
/// type's relation (`ALTER TYPE ... ADD ATTRIBUTE`) as one on the type. Schemas, routines and
/// types are locked as objects: `COMMENT ON` and `SECURITY LABEL ON` one take `SHARE UPDATE
/// EXCLUSIVE` on it and change no row of its catalog.
const DDL_LOCKED_SQL: &str = "SELECT DISTINCT
       CASE WHEN c.relkind = 'c' THEN c.reltype
            ELSE COALESCE(i.indrelid, d.refobjid, l.relation) END::int8,
       c.relkind = 'S' AND l.mode = 'RowExclusiveLock',
       CASE WHEN c.relkind = 'c' THEN 'type' ELSE 'class' END
FROM pg_locks l
LEFT JOIN pg_index i ON i.indexrelid = l.relation
LEFT JOIN pg_class c ON c.oid = l.relation
LEFT JOIN pg_depend d ON c.relkind = 'S' AND d.classid = 'pg_class'::regclass
     AND d.objid = l.relation AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.database = (
    SELECT oid FROM pg_database WHERE datname = current_database())
  AND (l.mode IN ('ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock',
                  'ExclusiveLock', 'AccessExclusiveLock')
       OR (c.relkind = 'S' AND l.mode = 'RowExclusiveLock'))
UNION
SELECT l.objid::int8, false,
       CASE l.classid WHEN 'pg_namespace'::regclass THEN 'schema'
                      WHEN 'pg_proc'::regclass THEN 'proc' ELSE 'type' END
FROM pg_locks l
WHERE l.pid = pg_backend_pid() AND l.locktype = 'object' AND l.database = (
    SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid IN ('pg_namespace'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass)
  AND l.mode IN ('ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock',
                 'ExclusiveLock', 'AccessExclusiveLock')";

/// What [`DDL_LOCKED_SQL`] found: objects locked as only DDL does (by catalog and OID), and
/// relations whose sequence was used.
struct DdlLocked {
    locked: HashSet<(&'static str, u32)>,
    sequenced: HashSet<u32>,
}

async fn ddl_locked(conn: &Conn) -> Result<DdlLocked, tokio_postgres::Error> {
    let rows = conn.query(DDL_LOCKED_SQL, &[]).await?;
    let mut out = DdlLocked {
        locked: HashSet::new(),
        sequenced: HashSet::new(),
    };
    for r in rows {
        let oid = r.get::<_, i64>(0) as u32;
        if r.get::<_, Option<bool>>(1) == Some(true) {
            out.sequenced.insert(oid);
            continue;
        }
        let catalog = match r.get::<_, &str>(2) {
            "schema" => "schema",
            "proc" => "proc",
            "type" => "type",
            _ => "class",
        };
        out.locked.insert((catalog, oid));
    }
    Ok(out)
}

/// Runs statements that may drop, empty or change objects outside a set-up's own
/// transaction (a workload's `after_load`) so that they touch only what stormbench
/// created: each runs in a transaction of its own, which is rolled back when it dropped,
/// rewrote, wrote rows of or took a DDL lock on an object that is not the set-up's.
#[derive(Debug)]
pub(crate) struct Guard {
    /// Objects there when the guard was made that the set-up did not record.
    theirs: HashMap<(ObjectKind, u32), String>,
}

/// Whether one guarded statement ran.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Guarded {
    /// It ran and was committed.
    Ran,
    /// It was rolled back: it would have dropped or changed these objects (names).
    Refused(Vec<String>),
    /// It set or advanced the sequences of these objects (names), which no rollback undoes;
    /// the rest of it was rolled back.
    SetSequences(Vec<String>),
}

impl Guard {
    /// A guard over every object there now except `recorded` (the set-up's).
    pub(crate) async fn new(
        conn: &Conn,
        recorded: &[OwnedObject],
    ) -> Result<Guard, tokio_postgres::Error> {
        let ours: HashSet<(ObjectKind, u32)> = recorded.iter().map(|o| (o.kind, o.oid)).collect();
        Ok(Guard {
            theirs: objects(conn)
                .await?
                .into_iter()
                .map(|r| ((r.object.kind, r.object.oid), r.object.name))
                .filter(|(key, _)| !ours.contains(key))
                .collect(),
        })
    }

    /// Runs `stmt` in a transaction of its own on `conn` (no transaction open).
    pub(crate) async fn run(
        &self,
        conn: &Conn,
        stmt: &str,
    ) -> Result<Guarded, tokio_postgres::Error> {
        conn.batch_execute("BEGIN").await?;
        let checked = self.touched_by(conn, stmt).await;
        let (touched, sequenced) = match checked {
            Ok(t) => t,
            Err(e) => {
                let _ = conn.batch_execute("ROLLBACK").await;
                return Err(e);
            }
        };
        if touched.is_empty() && sequenced.is_empty() {
            conn.batch_execute("COMMIT").await?;
            return Ok(Guarded::Ran);
        }
        conn.batch_execute("ROLLBACK").await?;
        Ok(if sequenced.is_empty() {
            Guarded::Refused(touched)
        } else {
            Guarded::SetSequences(sequenced)
        })
    }

    /// The name of the relation `name` (as SQL writes it; an index stands for its table, a
    /// sequence owned by a column for the column's table) when it is one the set-up did not
    /// create.
    pub(crate) async fn theirs_named(
        &self,
        conn: &Conn,
        name: &str,
    ) -> Result<Option<String>, tokio_postgres::Error> {
        let row = conn
            .query_one(
                "SELECT COALESCE((SELECT indrelid FROM pg_index WHERE indexrelid = to_regclass($1)),
                                 (SELECT refobjid FROM pg_depend
                                  WHERE classid = 'pg_class'::regclass AND objid = to_regclass($1)
                                    AND refclassid = 'pg_class'::regclass AND deptype IN ('a', 'i')
                                  LIMIT 1),
                                 to_regclass($1))::oid::int8",
                &[&name],
            )
            .await?;
        Ok(row.get::<_, Option<i64>>(0).and_then(|oid| {
            self.theirs
                .iter()
                .find(|((kind, o), _)| *o == oid as u32 && kind.is_relation())
                .map(|(_, n)| n.clone())
        }))
    }

    /// The names of the relations not the set-up's whose sequences `stmt` names to `setval`
    /// or `nextval` (a sequence owned by a column stands for its table).
    pub(crate) async fn sequences_of_theirs(
        &self,
        conn: &Conn,
        stmt: &str,
    ) -> Result<Vec<String>, tokio_postgres::Error> {
        let mut theirs = Vec::new();
        for name in crate::core::script::sequences_set(stmt) {
            theirs.extend(self.theirs_named(conn, &name).await?);
        }
        Ok(theirs)
    }

    /// The first statement of `sql` that names a sequence not the set-up's to `setval` or
    /// `nextval`, with the names [`Self::sequences_of_theirs`] gives for it.
    pub(crate) async fn first_sequence_of_theirs<'s>(
        &self,
        conn: &Conn,
        sql: &'s str,
    ) -> Result<
        Option<(crate::core::script::ScriptStatement<'s>, Vec<String>)>,
        tokio_postgres::Error,
    > {
        for stmt in crate::core::script::split(sql) {
            let theirs = self.sequences_of_theirs(conn, stmt.text).await?;
            if !theirs.is_empty() {
                return Ok(Some((stmt, theirs)));
            }
        }
        Ok(None)
    }

    /// Inside the transaction: runs `stmt`, returns the names of the objects not the
    /// set-up's that it dropped, rewrote, wrote rows of or locked as DDL does, and of those
    /// whose sequence it set or advanced.
    async fn touched_by(
        &self,
        conn: &Conn,
        stmt: &str,
    ) -> Result<(Vec<String>, Vec<String>), tokio_postgres::Error> {
        let before = Snapshot::take(conn).await?;
        conn.batch_execute(stmt).await?;
        let changes = before.changes(conn).await?;
        let theirs = |objects: Vec<OwnedObject>| {
            let mut names: Vec<String> = objects
                .into_iter()
                .filter_map(|o| self.theirs.get(&(o.kind, o.oid)).cloned())
                .collect();
            names.sort();
            names.dedup();
            names
        };
        let touched = changes
            .dropped
            .into_iter()
            .chain(changes.rewritten)
            .chain(changes.written)
            .chain(changes.locked)
            .collect();
        Ok((theirs(touched), theirs(changes.sequenced)))
    }
}

/// Which of `tables` exist in the schema new tables would be created in
/// (`current_schema()`), as quoted names.
pub(crate) async fn existing_tables(
    conn: &Conn,
    tables: &[&str],
) -> Result<Vec<String>, tokio_postgres::Error> {
    let names: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
    let rows = conn
        .query(
            "SELECT format('%I.%I', n.nspname, c.relname)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relname = ANY($1)
             ORDER BY array_position($1, c.relname::text)",
            &[&names],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// What dropping recorded objects did.
#[derive(Debug, Default)]
pub(crate) struct Dropped {
    /// Objects dropped.
    pub(crate) dropped: Vec<String>,
    /// Recorded objects already gone.
    pub(crate) gone: usize,
    /// Recorded objects left in place because their OID now has another name (renamed,
    /// or the OID was reused), as "recorded name (now current name)".
    pub(crate) left: Vec<String>,
}

/// Drops exactly `objects` that still exist under their recorded OID and name, in an order
/// that drops dependents first, in one transaction. `cascade` also drops what the user
/// built on them; without it, such a dependency is an error naming it.
pub(crate) async fn drop_owned(
    conn: &Conn,
    objects: &[OwnedObject],
    cascade: bool,
) -> Result<Dropped, tokio_postgres::Error> {
    let mut out = Dropped::default();
    let current = objects_by_oid(conn).await?;
    let mut by_kind: Vec<(ObjectKind, Vec<String>)> = Vec::new();
    for o in objects {
        match current.iter().find(|c| c.kind == o.kind && c.oid == o.oid) {
            None => out.gone += 1,
            Some(c) if c.name != o.name => out.left.push(format!("{} (now {})", o.name, c.name)),
            Some(c) => match by_kind.iter_mut().find(|(k, _)| *k == c.kind) {
                Some((_, names)) => names.push(c.name.clone()),
                None => by_kind.push((c.kind, vec![c.name.clone()])),
            },
        }
    }
    by_kind.sort_by_key(|(k, _)| k.drop_rank());
    let mut sql = String::from("BEGIN;\n");
    for (kind, names) in &by_kind {
        sql.push_str(&format!(
            "DROP {} IF EXISTS {}{};\n",
            kind.drop_keyword(),
            names.join(", "),
            if cascade { " CASCADE" } else { "" }
        ));
        out.dropped.extend(names.iter().cloned());
    }
    sql.push_str("COMMIT;");
    if !by_kind.is_empty() {
        if let Err(e) = conn.batch_execute(&sql).await {
            let _ = conn.batch_execute("ROLLBACK").await;
            return Err(e);
        }
    }
    Ok(out)
}

async fn objects_by_oid(conn: &Conn) -> Result<Vec<OwnedObject>, tokio_postgres::Error> {
    Ok(objects(conn).await?.into_iter().map(|r| r.object).collect())
}

/// Holds the set-up lock of a database: one stormbench sets up (or cleans up) a database
/// at a time. Released by [`SetupLock::release`] or when the connection closes.
#[derive(Debug)]
pub(crate) struct SetupLock(());

/// Advisory lock key of the set-up lock (the bytes of "stormbnc").
const SETUP_LOCK_KEY: i64 = 0x73746f726d626e63;

impl SetupLock {
    /// Takes the lock on `conn`'s session; `Ok(None)` when another session holds it.
    pub(crate) async fn try_take(conn: &Conn) -> Result<Option<SetupLock>, tokio_postgres::Error> {
        let got: bool = conn
            .query_one("SELECT pg_try_advisory_lock($1)", &[&SETUP_LOCK_KEY])
            .await?
            .get(0);
        Ok(got.then_some(SetupLock(())))
    }

    /// Releases the lock.
    pub(crate) async fn release(self, conn: &Conn) {
        let _ = conn
            .query_one("SELECT pg_advisory_unlock($1)", &[&SETUP_LOCK_KEY])
            .await;
    }

    /// Who holds the lock: `pid` and `application_name` of the session, if visible.
    pub(crate) async fn holder(conn: &Conn) -> Option<String> {
        let row = conn
            .query_opt(
                "SELECT l.pid::text || coalesce(' (' || nullif(a.application_name, '') || coalesce(', from ' || a.client_addr::text, '') || ')', '')
                 FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND ((l.classid::int8 << 32) | l.objid::int8) = $1
                 LIMIT 1",
                &[&SETUP_LOCK_KEY],
            )
            .await
            .ok()??;
        Some(row.get(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_and_order() {
        assert_eq!(
            ObjectKind::from_catalog("class", "r"),
            Some(ObjectKind::Table)
        );
        assert_eq!(ObjectKind::from_catalog("class", "i"), None);
        assert_eq!(
            ObjectKind::from_catalog("proc", "p"),
            Some(ObjectKind::Procedure)
        );
        assert!(ObjectKind::View.drop_rank() < ObjectKind::Table.drop_rank());
        assert!(ObjectKind::Table.drop_rank() < ObjectKind::Function.drop_rank());
        assert!(ObjectKind::Type.drop_rank() < ObjectKind::Schema.drop_rank());
    }

    #[test]
    fn objects_round_trip_through_json() {
        let o = OwnedObject {
            kind: ObjectKind::MaterializedView,
            oid: 16384,
            name: "public.\"Mixed\"".into(),
        };
        let j = serde_json::to_string(&o).unwrap();
        assert!(j.contains("materialized_view"));
        assert_eq!(serde_json::from_str::<OwnedObject>(&j).unwrap(), o);
    }
}
