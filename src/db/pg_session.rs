//! tokio-postgres as a [`Session`]: the fallback driver (`driver: tokio-postgres`), kept to
//! compare against the wire driver. Statements run through tokio-postgres's own
//! pipelining; rows are copied cell by cell into [`Rows`].

use std::sync::atomic::{AtomicU64, Ordering};

use std::time::Duration;

use futures_util::future::join_all;
use tokio::time::timeout;
use tokio_postgres::Statement;

use crate::core::session::{Column, Params, Session, Step, Stmt, TxError};
use crate::core::{classify, BoxFuture};
use crate::db::wire::Settled;
use crate::rows::{RawCell, Rows};

/// A tokio-postgres connection with a number unique in the process.
pub(crate) struct PgSession {
    /// The connection (with deadpool's statement cache).
    pub(crate) client: deadpool_postgres::ClientWrapper,
    id: u64,
    /// A statement was sent and its answer not yet taken: still set when the session is
    /// offered back, the transaction's future was dropped mid-statement (the run stopped).
    busy: bool,
}

/// Runs `f` with `busy` set, cleared when it ends (not when it is dropped midway).
async fn marked<T>(busy: &mut bool, f: impl std::future::Future<Output = T>) -> T {
    *busy = true;
    let r = f.await;
    *busy = false;
    r
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl PgSession {
    /// Wraps a connection.
    pub(crate) fn new(client: deadpool_postgres::ClientWrapper) -> Self {
        PgSession {
            client,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            busy: false,
        }
    }

    /// Whether a transaction's future was dropped mid-statement: the server may still be
    /// running it.
    pub(crate) fn abandoned(&self) -> bool {
        self.busy && !self.client.is_closed()
    }

    /// Whether the connection has closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

impl PgSession {
    /// Lets an abandoned statement finish within `grace`; cancels it if it does not, and
    /// waits up to `wait` for it to end. Its end is seen through an empty query sent
    /// behind it: tokio-postgres answers requests in order.
    pub(crate) async fn settle(
        self,
        tls: Option<&postgres_native_tls::MakeTlsConnector>,
        grace: Duration,
        wait: Duration,
    ) -> Settled {
        if !self.abandoned() {
            return Settled::Finished;
        }
        if timeout(grace, self.client.simple_query("")).await.is_ok() {
            return Settled::Finished;
        }
        if super::send_cancel(&self.client.cancel_token(), tls, wait)
            .await
            .is_err()
        {
            return Settled::Unconfirmed;
        }
        match timeout(wait, self.client.simple_query("")).await {
            Ok(_) => Settled::Cancelled,
            Err(_) => Settled::Unconfirmed,
        }
    }
}

/// A tokio-postgres error as a transaction error.
pub(crate) fn tx_error(e: tokio_postgres::Error) -> TxError {
    TxError::new(classify(&e), e.code().cloned(), e)
}

fn statement(s: &Stmt) -> &Statement {
    s.handle::<Statement>()
        .expect("a statement prepared by the tokio-postgres driver")
}

async fn query_into(
    client: &tokio_postgres::Client,
    stmt: &Stmt,
    params: Params<'_>,
    rows: &mut Rows,
) -> Result<(), TxError> {
    use futures_util::TryStreamExt as _;
    rows.reset(stmt.column_types());
    let stream = client
        .query_raw(statement(stmt), params.iter().copied())
        .await
        .map_err(tx_error)?;
    let mut stream = std::pin::pin!(stream);
    while let Some(r) = stream.try_next().await.map_err(tx_error)? {
        let cells = (0..r.len())
            .map(|i| r.try_get::<_, Option<RawCell>>(i).map(|c| c.map(|c| c.0)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(tx_error)?;
        rows.push_row(cells)?;
    }
    // the command tag's count: an UPDATE without RETURNING changes rows it returns none of
    rows.set_affected(stream.rows_affected().unwrap_or(0));
    Ok(())
}

impl Session for PgSession {
    #[inline]
    fn id(&self) -> u64 {
        self.id
    }

    fn prepare<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<Stmt, TxError>> {
        let client = &self.client;
        Box::pin(marked(&mut self.busy, async move {
            let st = client.prepare_cached(sql).await.map_err(tx_error)?;
            let params = st.params().to_vec();
            let columns = st
                .columns()
                .iter()
                .map(|c| Column {
                    name: c.name().to_string(),
                    ty: c.type_().clone(),
                })
                .collect();
            Ok(Stmt::new(std::sync::Arc::new(st), params, columns))
        }))
    }

    fn execute<'a>(
        &'a mut self,
        stmt: &'a Stmt,
        params: Params<'a>,
    ) -> BoxFuture<'a, Result<u64, TxError>> {
        let client = &self.client;
        Box::pin(marked(&mut self.busy, async move {
            client
                .execute(statement(stmt), params)
                .await
                .map_err(tx_error)
        }))
    }

    fn query<'a>(
        &'a mut self,
        stmt: &'a Stmt,
        params: Params<'a>,
        rows: &'a mut Rows,
    ) -> BoxFuture<'a, Result<(), TxError>> {
        Box::pin(marked(
            &mut self.busy,
            query_into(&self.client, stmt, params, rows),
        ))
    }

    fn pipeline<'a>(
        &'a mut self,
        steps: &'a [Step<'a>],
        out: &'a mut [Rows],
    ) -> BoxFuture<'a, Result<(), TxError>> {
        let client: &tokio_postgres::Client = &self.client;
        Box::pin(marked(&mut self.busy, async move {
            assert_eq!(steps.len(), out.len(), "one Rows per pipeline step");
            let results = join_all(
                steps
                    .iter()
                    .zip(out.iter_mut())
                    .map(|(s, rows)| query_into(client, s.stmt, s.params, rows)),
            )
            .await;
            results.into_iter().collect()
        }))
    }

    fn simple_query<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<u64, TxError>> {
        let client = &self.client;
        Box::pin(marked(&mut self.busy, async move {
            let msgs = client.simple_query(sql).await.map_err(tx_error)?;
            Ok(msgs
                .iter()
                .rev()
                .find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::CommandComplete(n) => Some(*n),
                    _ => None,
                })
                .unwrap_or(0))
        }))
    }

    fn copy_in<'a>(
        &'a mut self,
        sql: &'a str,
        data: &'a [u8],
    ) -> BoxFuture<'a, Result<u64, TxError>> {
        let client = &self.client;
        Box::pin(marked(&mut self.busy, async move {
            use futures_util::SinkExt as _;
            let sink = client
                .copy_in::<_, bytes::Bytes>(sql)
                .await
                .map_err(tx_error)?;
            let mut sink = std::pin::pin!(sink);
            sink.send(bytes::Bytes::copy_from_slice(data))
                .await
                .map_err(tx_error)?;
            sink.as_mut().finish().await.map_err(tx_error)
        }))
    }
}
