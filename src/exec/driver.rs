//! The engine's one seam for drivers: a worker is generic over [`Connections`], so the hot path
//! is monomorphised per driver and calls no trait object to get a connection. Each driver
//! gives pooled connections, transient ones, and a [`Session`] the workload runs on.

use std::future::Future;
use std::ops::DerefMut;
use std::time::Duration;

use crate::core::session::{Session, TxError};
use crate::core::ErrorClass;
use crate::db::{self, PgConnector, PgTransient, WireConnector, WireTransient};
use crate::stats::AtStop;

/// Where a worker's connections come from.
pub(crate) trait Connections: Send + Sync + 'static {
    /// The connection a workload runs on.
    type Conn: Session + 'static;
    /// A connection lent by the pool, returned when dropped.
    type Pooled: DerefMut<Target = Self::Conn> + Send + 'static;
    /// A connection opened for one transaction.
    type Transient: DerefMut<Target = Self::Conn> + Send + 'static;

    /// A pooled connection (waiting for a free one).
    fn get(&self) -> impl Future<Output = Result<Self::Pooled, TxError>> + Send;

    /// A new connection, for one transaction.
    fn open(&self) -> impl Future<Output = Result<Self::Transient, TxError>> + Send;

    /// Closes a transient connection gracefully.
    fn close(t: Self::Transient) -> impl Future<Output = ()> + Send;

    /// Whether a pooled connection may serve the worker's next transaction (it is neither
    /// lost nor left mid-exchange by an interrupted transaction).
    fn reusable(c: &Self::Pooled) -> bool;

    /// Once the workers are done: sees to the statements that transactions dropped when
    /// the run stopped left running on the server (a short grace, then a cancel request).
    fn settle_abandoned(&self) -> impl Future<Output = AtStop> + Send;
}

/// How long a statement left running at the stop may take to end by itself.
const SETTLE_GRACE: Duration = Duration::from_millis(500);

/// How long a cancel request may take to be sent, and then its statement to end.
const CANCEL_WAIT: Duration = Duration::from_secs(2);

/// How the statements left running at the stop ended, counted.
fn count(ends: Vec<db::wire::Settled>) -> AtStop {
    let mut at = AtStop::default();
    for e in ends {
        match e {
            db::wire::Settled::Finished => at.finished += 1,
            db::wire::Settled::Cancelled => at.cancelled += 1,
            db::wire::Settled::Unconfirmed => at.unconfirmed += 1,
        }
    }
    at
}

/// A failure to get a pooled connection (never retried: the server is unreachable or full).
fn pool_error<E: std::fmt::Display>(
    e: deadpool::managed::PoolError<E>,
    backend: impl FnOnce(E) -> TxError,
) -> TxError {
    match e {
        deadpool::managed::PoolError::Backend(e) => backend(e),
        other => TxError::new(
            ErrorClass::ConnectionLost,
            None,
            format!("getting a pooled connection: {other}"),
        ),
    }
}

impl Connections for WireConnector {
    type Conn = db::wire::WireConn;
    type Pooled = deadpool::managed::Object<db::wire::WireManager>;
    type Transient = WireTransientConn;

    async fn get(&self) -> Result<Self::Pooled, TxError> {
        self.pool
            .get()
            .await
            .map_err(|e| pool_error(e, db::wire_tx_error))
    }

    async fn open(&self) -> Result<Self::Transient, TxError> {
        self.transient()
            .await
            .map(WireTransientConn)
            .map_err(db::wire_tx_error)
    }

    async fn close(t: Self::Transient) {
        t.0.close().await
    }

    fn reusable(c: &Self::Pooled) -> bool {
        !c.is_broken()
    }

    async fn settle_abandoned(&self) -> AtStop {
        let conns = self.take_abandoned();
        count(
            futures_util::future::join_all(
                conns
                    .into_iter()
                    .map(|c| c.settle(&self.cfg, SETTLE_GRACE, CANCEL_WAIT)),
            )
            .await,
        )
    }
}

/// [`WireTransient`] as a connection.
pub(crate) struct WireTransientConn(WireTransient);

impl std::ops::Deref for WireTransientConn {
    type Target = db::wire::WireConn;
    fn deref(&self) -> &Self::Target {
        self.0.conn()
    }
}

impl DerefMut for WireTransientConn {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.0.conn_mut()
    }
}

impl Connections for PgConnector {
    type Conn = db::pg_session::PgSession;
    type Pooled = deadpool::managed::Object<db::PgManager>;
    type Transient = PgTransientConn;

    async fn get(&self) -> Result<Self::Pooled, TxError> {
        self.pool
            .get()
            .await
            .map_err(|e| pool_error(e, db::pg_session::tx_error))
    }

    async fn open(&self) -> Result<Self::Transient, TxError> {
        match self.transient().await {
            Ok(t) => Ok(PgTransientConn(t)),
            Err(db::ConnectError::Pg(e)) => Err(db::pg_session::tx_error(e)),
            Err(e) => Err(TxError::new(
                ErrorClass::ConnectionLost,
                None,
                format!("connecting: {e}"),
            )),
        }
    }

    async fn close(t: Self::Transient) {
        t.0.close().await
    }

    fn reusable(c: &Self::Pooled) -> bool {
        !c.is_closed()
    }

    async fn settle_abandoned(&self) -> AtStop {
        let sessions = self.take_abandoned();
        let tls = self.tls.as_ref();
        count(
            futures_util::future::join_all(
                sessions
                    .into_iter()
                    .map(|s| s.settle(tls, SETTLE_GRACE, CANCEL_WAIT)),
            )
            .await,
        )
    }
}

/// [`PgTransient`] as a connection.
pub(crate) struct PgTransientConn(PgTransient);

impl std::ops::Deref for PgTransientConn {
    type Target = db::pg_session::PgSession;
    fn deref(&self) -> &Self::Target {
        self.0.session()
    }
}

impl DerefMut for PgTransientConn {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.0.session_mut()
    }
}
