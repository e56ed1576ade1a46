//! The schema marker: one row per workload set up in a database, recording its scale, the
//! stormbench version that loaded it, whether the load finished, and the objects the set-up
//! created (by OID), which are the only objects stormbench will ever drop there.

use super::owned::OwnedObject;
use crate::core::Conn;

/// Whether a workload's load finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LoadState {
    /// Created, and data loading started; not usable by a run.
    Loading,
    /// Loaded completely.
    Ready,
}

/// What the marker says about a loaded workload.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Marker {
    /// Workload name.
    pub(crate) workload: String,
    /// Scale it was loaded at.
    pub(crate) scale: u64,
    /// stormbench version that loaded it.
    pub(crate) version: String,
    /// When it was loaded (RFC 3339).
    pub(crate) loaded_at: String,
    /// Whether the load finished.
    pub(crate) state: LoadState,
    /// Objects the set-up created; `None` for a marker written before stormbench recorded
    /// them (its workload's own tables are then taken as stormbench's).
    #[serde(skip)]
    pub(crate) objects: Option<Vec<OwnedObject>>,
    /// The workload's parameters the schema depends on (`name=value, ...`), empty when
    /// it has none (or the marker predates them).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) params: String,
}

const CREATE: &str = "CREATE TABLE IF NOT EXISTS stormbench_meta (
    workload text PRIMARY KEY,
    scale bigint NOT NULL,
    stormbench_version text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    state text NOT NULL DEFAULT 'ready',
    objects jsonb
);
ALTER TABLE stormbench_meta ADD COLUMN IF NOT EXISTS state text NOT NULL DEFAULT 'ready';
ALTER TABLE stormbench_meta ADD COLUMN IF NOT EXISTS objects jsonb;
ALTER TABLE stormbench_meta ADD COLUMN IF NOT EXISTS params text";

/// Reads the marker of `workload`; `None` when the workload was never set up here.
pub(crate) async fn read(
    conn: &Conn,
    workload: &str,
) -> Result<Option<Marker>, tokio_postgres::Error> {
    let exists: bool = conn
        .query_one("SELECT to_regclass('stormbench_meta') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        return Ok(None);
    }
    // to_jsonb: a marker table written by an older stormbench lacks the newer columns
    let row = conn
        .query_opt(
            "SELECT m.workload, m.scale, m.stormbench_version,
                    to_char(m.loaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                    to_jsonb(m) ->> 'state', (to_jsonb(m) -> 'objects')::text,
                    to_jsonb(m) ->> 'params'
             FROM stormbench_meta m WHERE m.workload = $1",
            &[&workload],
        )
        .await?;
    Ok(row.map(|r| Marker {
        workload: r.get(0),
        scale: r.get::<_, i64>(1) as u64,
        version: r.get(2),
        loaded_at: r.get(3),
        state: match r.get::<_, Option<&str>>(4) {
            Some("loading") => LoadState::Loading,
            _ => LoadState::Ready,
        },
        objects: r
            .get::<_, Option<&str>>(5)
            .and_then(|j| serde_json::from_str(j).ok()),
        params: r.get::<_, Option<String>>(6).unwrap_or_default(),
    }))
}

/// Records that `workload` is being loaded at `scale` with the schema parameters
/// `params` and created `objects`.
pub(crate) async fn begin_load(
    conn: &Conn,
    workload: &str,
    scale: u64,
    params: &str,
    objects: &[OwnedObject],
) -> Result<(), tokio_postgres::Error> {
    let objects = serde_json::to_string(objects).unwrap_or_else(|_| "[]".into());
    conn.batch_execute(CREATE).await?;
    conn.execute(
        "INSERT INTO stormbench_meta (workload, scale, stormbench_version, state, objects, params)
         VALUES ($1, $2, $3, 'loading', $4::text::jsonb, $5)
         ON CONFLICT (workload) DO UPDATE SET scale = EXCLUDED.scale,
             stormbench_version = EXCLUDED.stormbench_version, loaded_at = now(),
             state = 'loading', objects = EXCLUDED.objects, params = EXCLUDED.params",
        &[
            &workload,
            &(scale as i64),
            &env!("CARGO_PKG_VERSION"),
            &objects,
            &params,
        ],
    )
    .await?;
    Ok(())
}

/// Records that the load of `workload` finished, adding `more` objects it created.
pub(crate) async fn finish_load(
    conn: &Conn,
    workload: &str,
    more: &[OwnedObject],
) -> Result<(), tokio_postgres::Error> {
    let more = serde_json::to_string(more).unwrap_or_else(|_| "[]".into());
    conn.execute(
        "UPDATE stormbench_meta SET state = 'ready', loaded_at = now(),
             objects = coalesce(objects, '[]'::jsonb) || $2::text::jsonb
         WHERE workload = $1",
        &[&workload, &more],
    )
    .await?;
    Ok(())
}

/// Forgets `workload` (after its schema was dropped); drops the table when it is empty.
pub(crate) async fn remove(conn: &Conn, workload: &str) -> Result<(), tokio_postgres::Error> {
    let exists: bool = conn
        .query_one("SELECT to_regclass('stormbench_meta') IS NOT NULL", &[])
        .await?
        .get(0);
    if exists {
        conn.execute(
            "DELETE FROM stormbench_meta WHERE workload = $1",
            &[&workload],
        )
        .await?;
        conn.batch_execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM stormbench_meta) THEN DROP TABLE stormbench_meta; END IF; END $$",
        )
        .await?;
    }
    Ok(())
}
