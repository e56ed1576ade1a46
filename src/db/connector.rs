//! The connections a run's transactions use, one connector per driver: a pool of
//! persistent connections, opened up front, and transient connections opened for one
//! transaction each (at most `connections` at once).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool::managed::{self, Metrics, RecycleResult};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::pg_session::PgSession;
use super::{connect_raw, connect_timeout, wire, ConnectError, DbError, Target};

/// Makes and recycles [`PgSession`]s for deadpool, through deadpool-postgres's manager.
pub(crate) struct PgManager(deadpool_postgres::Manager);

impl managed::Manager for PgManager {
    type Type = PgSession;
    type Error = tokio_postgres::Error;

    async fn create(&self) -> Result<PgSession, tokio_postgres::Error> {
        Ok(PgSession::new(self.0.create().await?))
    }

    async fn recycle(&self, s: &mut PgSession, m: &Metrics) -> RecycleResult<Self::Error> {
        self.0.recycle(&mut s.client, m).await
    }
}

/// A pool of [`PgSession`]s.
pub(crate) type PgPool = managed::Pool<PgManager>;

/// One transient-connection slot per pooled connection.
async fn slot(slots: &Arc<Semaphore>) -> OwnedSemaphorePermit {
    slots
        .clone()
        .acquire_owned()
        .await
        .expect("the semaphore is never closed")
}

/// Opens every connection of `pool` at once; the first failure is the error.
async fn fill<M: managed::Manager>(
    pool: &managed::Pool<M>,
    message: impl Fn(&managed::PoolError<M::Error>) -> String,
) -> Result<(), DbError> {
    let size = pool.status().max_size;
    let objs = futures_util::future::join_all((0..size).map(|_| pool.get())).await;
    match objs.iter().find_map(|o| o.as_ref().err()) {
        Some(e) => Err(DbError::Connect(message(e))),
        None => Ok(()),
    }
}

/// The transient connections handed over to `list` and the pooled ones taken out of
/// `pool` whose transaction was dropped mid-statement (`abandoned`).
fn take_abandoned<M: managed::Manager>(
    list: &Mutex<Vec<M::Type>>,
    pool: &managed::Pool<M>,
    abandoned: fn(&M::Type) -> bool,
) -> Vec<M::Type> {
    let mut conns = list
        .lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default();
    conns.extend(pool.retain(|c, _| !abandoned(c)).removed);
    conns
}

fn build<M: managed::Manager>(
    m: M,
    size: usize,
    timeout: Duration,
) -> Result<managed::Pool<M>, DbError> {
    managed::Pool::builder(m)
        .max_size(size)
        .runtime(deadpool::Runtime::Tokio1)
        .create_timeout(Some(timeout))
        .build()
        .map_err(|e| DbError::Connect(format!("cannot build the connection pool: {e}")))
}

/// tokio-postgres connections for a run.
pub(crate) struct PgConnector {
    /// The `connections` persistent connections.
    pub(crate) pool: PgPool,
    pg: tokio_postgres::Config,
    /// TLS for the run's connections (also for cancel requests).
    pub(crate) tls: Option<postgres_native_tls::MakeTlsConnector>,
    slots: Arc<Semaphore>,
    /// Transient sessions dropped mid-statement (see [`PgConnector::take_abandoned`]).
    abandoned: Arc<Mutex<Vec<PgSession>>>,
}

/// A tokio-postgres connection opened for one transaction; closed gracefully with
/// [`PgTransient::close`].
pub(crate) struct PgTransient {
    /// The connection; taken only by `close` and `drop`.
    session: Option<PgSession>,
    task: Option<tokio::task::JoinHandle<()>>,
    _permit: OwnedSemaphorePermit,
    abandoned: Arc<Mutex<Vec<PgSession>>>,
}

impl PgTransient {
    /// Sends Terminate and waits (briefly) for the connection task to end, so the server
    /// sees a clean disconnect.
    pub(crate) async fn close(mut self) {
        drop(self.session.take());
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
        }
    }

    /// The connection.
    pub(crate) fn session(&self) -> &PgSession {
        self.session
            .as_ref()
            .expect("present until closed or dropped")
    }

    /// The connection.
    pub(crate) fn session_mut(&mut self) -> &mut PgSession {
        self.session
            .as_mut()
            .expect("present until closed or dropped")
    }
}

impl Drop for PgTransient {
    /// A transaction dropped mid-statement (the run stopped) leaves its session to the
    /// connector (its connection task runs on, detached), so what it left running on the
    /// server can be seen to.
    fn drop(&mut self) {
        if let Some(s) = self.session.take().filter(|s| s.abandoned()) {
            if let Ok(mut list) = self.abandoned.lock() {
                list.push(s);
            }
        }
    }
}

impl PgConnector {
    /// A pool of `size` connections (opened by [`PgConnector::fill`]).
    pub(crate) fn new(target: &Target, size: usize) -> Result<Self, DbError> {
        let (pg, tls) = target.pg_connect_args()?;
        Ok(PgConnector {
            pool: build(
                PgManager(target.manager()?),
                size,
                connect_timeout(&target.pg),
            )?,
            pg,
            tls,
            slots: Arc::new(Semaphore::new(size)),
            abandoned: Arc::default(),
        })
    }

    /// Opens every pooled connection up front so the run does not measure connection setup.
    pub(crate) async fn fill(&self, target: &Target) -> Result<(), DbError> {
        fill(&self.pool, |e| {
            super::pool_message(e, target, |e| super::pg_connect_error_message(e, target))
        })
        .await
    }

    /// Opens a new connection for one transaction (at most `connections` at once).
    pub(crate) async fn transient(&self) -> Result<PgTransient, ConnectError> {
        let permit = slot(&self.slots).await;
        let (client, task) = connect_raw(&self.pg, self.tls.as_ref()).await?;
        // The wrapper aborts the task it is given when dropped; give it a finished one and
        // keep the real connection task, so close() can let the Terminate message through.
        Ok(PgTransient {
            session: Some(PgSession::new(deadpool_postgres::ClientWrapper::new(
                client,
                tokio::spawn(async {}),
            ))),
            task: Some(task),
            _permit: permit,
            abandoned: self.abandoned.clone(),
        })
    }

    /// The sessions, pooled or transient, whose transaction was dropped mid-statement
    /// (when the run stopped), taken out of the pool; called once the workers are done.
    pub(crate) fn take_abandoned(&self) -> Vec<PgSession> {
        take_abandoned(&self.abandoned, &self.pool, PgSession::abandoned)
    }
}

/// Wire-driver connections for a run.
pub(crate) struct WireConnector {
    /// The `connections` persistent connections.
    pub(crate) pool: wire::WirePool,
    /// The connection settings (also for cancel requests).
    pub(crate) cfg: wire::WireConfig,
    slots: Arc<Semaphore>,
    /// Transient connections dropped mid-exchange (see [`WireConnector::take_abandoned`]).
    abandoned: Abandoned,
}

type Abandoned = Arc<Mutex<Vec<wire::WireConn>>>;

/// A wire connection opened for one transaction.
pub(crate) struct WireTransient {
    /// The connection; taken only by `close` and `drop`.
    conn: Option<wire::WireConn>,
    _permit: OwnedSemaphorePermit,
    abandoned: Abandoned,
}

impl WireTransient {
    /// Sends Terminate and closes.
    pub(crate) async fn close(mut self) {
        if let Some(c) = self.conn.take() {
            c.close().await;
        }
    }

    /// The connection.
    pub(crate) fn conn(&self) -> &wire::WireConn {
        self.conn.as_ref().expect("present until closed or dropped")
    }

    /// The connection.
    pub(crate) fn conn_mut(&mut self) -> &mut wire::WireConn {
        self.conn.as_mut().expect("present until closed or dropped")
    }
}

impl Drop for WireTransient {
    /// A transaction dropped mid-exchange (the run stopped) leaves its connection to
    /// the connector, so what it left running on the server can be seen to.
    fn drop(&mut self) {
        if let Some(c) = self.conn.take().filter(|c| c.abandoned()) {
            if let Ok(mut list) = self.abandoned.lock() {
                list.push(c);
            }
        }
    }
}

impl WireConnector {
    /// A pool of `size` connections (opened by [`WireConnector::fill`]).
    pub(crate) fn new(
        target: &Target,
        size: usize,
        cfg: wire::WireConfig,
    ) -> Result<Self, DbError> {
        Ok(WireConnector {
            pool: build(
                wire::WireManager::new(cfg.clone()),
                size,
                connect_timeout(&target.pg),
            )?,
            cfg,
            slots: Arc::new(Semaphore::new(size)),
            abandoned: Abandoned::default(),
        })
    }

    /// Opens every pooled connection up front.
    pub(crate) async fn fill(&self, target: &Target) -> Result<(), DbError> {
        fill(&self.pool, |e| super::wire_pool_error_message(e, target)).await
    }

    /// Opens a new connection for one transaction (at most `connections` at once).
    pub(crate) async fn transient(&self) -> Result<WireTransient, wire::WireError> {
        let permit = slot(&self.slots).await;
        Ok(WireTransient {
            conn: Some(wire::WireConn::connect(&self.cfg).await?),
            _permit: permit,
            abandoned: self.abandoned.clone(),
        })
    }

    /// The connections, pooled or transient, whose transaction was dropped mid-exchange
    /// (when the run stopped), taken out of the pool; called once the workers are done.
    pub(crate) fn take_abandoned(&self) -> Vec<wire::WireConn> {
        take_abandoned(&self.abandoned, &self.pool, wire::WireConn::abandoned)
    }
}
