//! Parallel COPY loading: a row range split over several pooled connections, each
//! streaming text-format rows in large chunks.

use bytes::{Bytes, BytesMut};
use futures_util::SinkExt;

use super::{Pool, SchemaError};

/// Bytes buffered before a chunk is sent.
const CHUNK_BYTES: usize = 256 * 1024;

/// Loads rows `1..=rows` with `copy_sql` (`COPY t (...) FROM STDIN`), split into
/// `parallelism` contiguous ranges loaded concurrently. `write_row(id, buf)` appends one
/// text-format line (tab-separated, newline-terminated) for row `id`.
pub async fn parallel_copy(
    pool: &Pool,
    copy_sql: &'static str,
    rows: u64,
    parallelism: usize,
    write_row: fn(u64, &mut BytesMut),
) -> Result<u64, SchemaError> {
    let parts = (parallelism.max(1) as u64).min(rows.max(1));
    let per = rows.div_ceil(parts);
    let loaders = (0..parts).map(|p| {
        let first = p * per + 1;
        let last = ((p + 1) * per).min(rows);
        copy_range(pool, copy_sql, first, last, write_row)
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
    copy_sql: &'static str,
    first: u64,
    last: u64,
    write_row: fn(u64, &mut BytesMut),
) -> Result<u64, SchemaError> {
    if first > last {
        return Ok(0);
    }
    let conn = pool
        .get()
        .await
        .map_err(|e| SchemaError::Pool(format!("loading data: {e}")))?;
    let sink = conn
        .copy_in::<_, Bytes>(copy_sql)
        .await
        .map_err(SchemaError::db(copy_sql))?;
    futures_util::pin_mut!(sink);
    let mut buf = BytesMut::with_capacity(CHUNK_BYTES + 1024);
    for id in first..=last {
        write_row(id, &mut buf);
        if buf.len() >= CHUNK_BYTES {
            sink.send(buf.split().freeze())
                .await
                .map_err(SchemaError::db(copy_sql))?;
        }
    }
    if !buf.is_empty() {
        sink.send(buf.split().freeze())
            .await
            .map_err(SchemaError::db(copy_sql))?;
    }
    let n = sink.finish().await.map_err(SchemaError::db(copy_sql))?;
    Ok(n)
}
