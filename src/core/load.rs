//! Parallel COPY loading: a row range split over several pooled connections, each
//! streaming text-format rows in large chunks.

use bytes::{Bytes, BytesMut};
use futures_util::SinkExt;

use super::{LoadProgress, LoadStats, Pool, SchemaError};

/// Bytes buffered before a chunk is sent.
const CHUNK_BYTES: usize = 256 * 1024;

/// Loads rows `1..=rows` with `copy_sql` (`COPY t (...) FROM STDIN`), split into
/// `parallelism` contiguous ranges loaded concurrently. `write_row(id, buf)` appends one
/// text-format line (tab-separated, newline-terminated) for row `id`.
pub(crate) async fn parallel_copy(
    pool: &Pool,
    copy_sql: &str,
    rows: u64,
    parallelism: usize,
    write_row: &(dyn Fn(u64, &mut BytesMut) + Sync),
    progress: &LoadProgress,
) -> Result<u64, SchemaError> {
    let parts = (parallelism.max(1) as u64).min(rows.max(1));
    let per = rows.div_ceil(parts);
    let loaders = (0..parts).map(|p| {
        let first = p * per + 1;
        let last = ((p + 1) * per).min(rows);
        copy_range(pool, copy_sql, first, last, write_row, progress)
    });
    let results = futures_util::future::join_all(loaders).await;
    let mut total = 0;
    for r in results {
        total += r?;
    }
    Ok(total)
}

async fn copy_range(
    pool: &Pool,
    copy_sql: &str,
    first: u64,
    last: u64,
    write_row: &(dyn Fn(u64, &mut BytesMut) + Sync),
    progress: &LoadProgress,
) -> Result<u64, SchemaError> {
    if first > last {
        return Ok(0);
    }
    let conn = pool
        .get()
        .await
        .map_err(|e| SchemaError::pool("loading data", &e))?;
    let sink = conn
        .copy_in::<_, Bytes>(copy_sql)
        .await
        .map_err(SchemaError::db(copy_sql))?;
    futures_util::pin_mut!(sink);
    let mut buf = BytesMut::with_capacity(CHUNK_BYTES + 1024);
    let mut pending = 0;
    for id in first..=last {
        write_row(id, &mut buf);
        pending += 1;
        if buf.len() >= CHUNK_BYTES {
            sink.send(buf.split().freeze())
                .await
                .map_err(SchemaError::db(copy_sql))?;
            progress.add(pending);
            pending = 0;
        }
    }
    if !buf.is_empty() {
        sink.send(buf.split().freeze())
            .await
            .map_err(SchemaError::db(copy_sql))?;
    }
    let n = sink.finish().await.map_err(SchemaError::db(copy_sql))?;
    progress.add(pending);
    Ok(n)
}

/// A table filled by COPY: its COPY statement and how to write row `id` as COPY text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CopyTable {
    /// Table name (for load figures).
    pub(crate) table: &'static str,
    /// `COPY table (...) FROM STDIN`.
    pub(crate) copy_sql: &'static str,
    /// Appends the text line of row `id`.
    pub(crate) write_row: fn(u64, &mut BytesMut),
}

/// A workload schema kept as SQL files: create, what to run after loading (keys, indexes,
/// VACUUM ANALYZE), drop, and the tables COPY fills.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SqlSchema {
    /// Workload name, for messages.
    pub(crate) name: &'static str,
    /// `CREATE TABLE IF NOT EXISTS ...`.
    pub(crate) create: &'static str,
    /// Run statement by statement after loading (outside a transaction block).
    pub(crate) after_load: &'static str,
    /// `DROP TABLE IF EXISTS ...`.
    pub(crate) drop: &'static str,
    /// Tables filled by COPY, in load order.
    pub(crate) tables: &'static [CopyTable],
}

impl SqlSchema {
    /// Creates the tables.
    pub(crate) async fn create(&self, conn: &super::Conn) -> Result<(), SchemaError> {
        conn.batch_execute(self.create)
            .await
            .map_err(SchemaError::db(format!(
                "creating the {} schema",
                self.name
            )))
    }

    /// Drops the tables.
    pub(crate) async fn drop(&self, conn: &super::Conn) -> Result<(), SchemaError> {
        conn.batch_execute(self.drop)
            .await
            .map_err(SchemaError::db(format!(
                "dropping the {} schema",
                self.name
            )))
    }

    /// Fills `tables[i]` with `rows[i]` rows over up to 8 pooled connections, then runs
    /// `after_load`.
    pub(crate) async fn load(
        &self,
        pool: &Pool,
        rows: &[u64],
        progress: &LoadProgress,
    ) -> Result<LoadStats, SchemaError> {
        let t0 = std::time::Instant::now();
        let parallelism = pool.status().max_size.clamp(1, 8);
        progress.expect(rows.iter().sum());
        let mut loaded = Vec::with_capacity(self.tables.len());
        for (t, n) in self.tables.iter().zip(rows) {
            let started = std::time::Instant::now();
            let done =
                parallel_copy(pool, t.copy_sql, *n, parallelism, &t.write_row, progress).await?;
            loaded.push(super::TableLoad {
                table: t.table.to_string(),
                rows: done,
                elapsed_s: started.elapsed().as_secs_f64(),
            });
        }
        let conn = pool
            .get()
            .await
            .map_err(|e| SchemaError::pool("building indexes", &e))?;
        super::run_script(
            &conn,
            self.after_load,
            &format!("building the {} keys and indexes", self.name),
        )
        .await?;
        Ok(LoadStats {
            tables: loaded,
            elapsed_s: t0.elapsed().as_secs_f64(),
            ..Default::default()
        })
    }
}
