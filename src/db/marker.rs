//! The schema marker: one row per loaded workload recording its scale and the stormbench
//! version that loaded it, so a run against a schema built at another scale says so.

use crate::core::Conn;

/// What the marker says about a loaded workload.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Marker {
    /// Workload name.
    pub workload: String,
    /// Scale it was loaded at.
    pub scale: u64,
    /// stormbench version that loaded it.
    pub version: String,
    /// When it was loaded (RFC 3339).
    pub loaded_at: String,
}

const CREATE: &str = "CREATE TABLE IF NOT EXISTS stormbench_meta (
    workload text PRIMARY KEY,
    scale bigint NOT NULL,
    stormbench_version text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
)";

/// Reads the marker of `workload`; `None` when the workload was never loaded here.
pub async fn read(conn: &Conn, workload: &str) -> Result<Option<Marker>, tokio_postgres::Error> {
    let exists: bool = conn
        .query_one("SELECT to_regclass('stormbench_meta') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let row = conn
        .query_opt(
            "SELECT workload, scale, stormbench_version, to_char(loaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM stormbench_meta WHERE workload = $1",
            &[&workload],
        )
        .await?;
    Ok(row.map(|r| Marker {
        workload: r.get(0),
        scale: r.get::<_, i64>(1) as u64,
        version: r.get(2),
        loaded_at: r.get(3),
    }))
}

/// Records that `workload` is loaded at `scale`.
pub async fn write(conn: &Conn, workload: &str, scale: u64) -> Result<(), tokio_postgres::Error> {
    conn.batch_execute(CREATE).await?;
    conn.execute(
        "INSERT INTO stormbench_meta (workload, scale, stormbench_version) VALUES ($1, $2, $3)
         ON CONFLICT (workload) DO UPDATE SET scale = EXCLUDED.scale,
             stormbench_version = EXCLUDED.stormbench_version, loaded_at = now()",
        &[&workload, &(scale as i64), &env!("CARGO_PKG_VERSION")],
    )
    .await?;
    Ok(())
}

/// Forgets `workload` (after its schema was dropped); drops the table when it is empty.
pub async fn remove(conn: &Conn, workload: &str) -> Result<(), tokio_postgres::Error> {
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
