//! The null driver: connections that talk to no server, for deterministic tests of the
//! worker loop and the aggregator under tokio's paused clock. Every statement takes a set
//! time; a script says which statements fail, how, and which connections are lost.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_postgres::error::SqlState;

use super::driver::Connections;
use crate::core::session::{Params, Session, Step, Stmt, TxError};
use crate::core::{BoxFuture, ErrorClass};
use crate::rows::Rows;
use crate::stats::AtStop;

/// What the n-th statement of the run (counted over all connections) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Succeeds after the latency.
    Ok,
    /// Fails with this class after the latency (the connection stays usable).
    Fail(ErrorClass),
    /// The connection is lost after the latency.
    Lose,
    /// Never answers.
    Hang,
}

/// Shared by all connections of a null driver.
pub(crate) struct Script {
    /// Time every statement takes.
    pub(crate) latency: Duration,
    /// The fate of statement n (0-based, in the order statements start).
    pub(crate) fate: Box<dyn Fn(u64) -> Fate + Send + Sync>,
    /// Pool gets that fail before one succeeds (a server that is down at first).
    pub(crate) refuse_first: u64,
    /// Statements started so far.
    pub(crate) started: AtomicU64,
    /// Connections opened so far (pooled and transient).
    pub(crate) opened: AtomicU64,
    /// Pool gets refused so far.
    pub(crate) refused: AtomicU64,
    /// Connection ids seen to be lost.
    pub(crate) lost: Mutex<Vec<u64>>,
}

impl Script {
    /// Statements take `latency`; `fate` decides each one.
    pub(crate) fn new(
        latency: Duration,
        fate: impl Fn(u64) -> Fate + Send + Sync + 'static,
    ) -> Self {
        Script {
            latency,
            fate: Box::new(fate),
            refuse_first: 0,
            started: AtomicU64::new(0),
            opened: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            lost: Mutex::new(Vec::new()),
        }
    }
}

/// A connection of the null driver.
pub(crate) struct NullSession {
    id: u64,
    lost: bool,
    script: Arc<Script>,
}

impl NullSession {
    async fn statement(&mut self) -> Result<u64, TxError> {
        if self.lost {
            return Err(lost());
        }
        let n = self.script.started.fetch_add(1, Ordering::Relaxed);
        let fate = (self.script.fate)(n);
        if fate == Fate::Hang {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(self.script.latency).await;
        match fate {
            Fate::Ok | Fate::Hang => Ok(1),
            Fate::Fail(class) => Err(TxError::new(class, code(class), "scripted failure")),
            Fate::Lose => {
                self.lost = true;
                if let Ok(mut l) = self.script.lost.lock() {
                    l.push(self.id);
                }
                Err(lost())
            }
        }
    }
}

fn lost() -> TxError {
    TxError::new(ErrorClass::ConnectionLost, None, "connection lost")
}

fn code(class: ErrorClass) -> Option<SqlState> {
    match class {
        ErrorClass::Serialization => Some(SqlState::T_R_SERIALIZATION_FAILURE),
        ErrorClass::Deadlock => Some(SqlState::T_R_DEADLOCK_DETECTED),
        ErrorClass::UniqueViolation => Some(SqlState::UNIQUE_VIOLATION),
        _ => None,
    }
}

impl Session for NullSession {
    fn id(&self) -> u64 {
        self.id
    }

    fn prepare<'a>(&'a mut self, _sql: &'a str) -> BoxFuture<'a, Result<Stmt, TxError>> {
        Box::pin(async { Ok(Stmt::new(std::sync::Arc::new(()), Vec::new(), Vec::new())) })
    }

    fn execute<'a>(
        &'a mut self,
        _stmt: &'a Stmt,
        _params: Params<'a>,
    ) -> BoxFuture<'a, Result<u64, TxError>> {
        Box::pin(self.statement())
    }

    fn query<'a>(
        &'a mut self,
        _stmt: &'a Stmt,
        _params: Params<'a>,
        rows: &'a mut Rows,
    ) -> BoxFuture<'a, Result<(), TxError>> {
        Box::pin(async move {
            rows.reset(&[]);
            self.statement().await.map(|_| ())
        })
    }

    fn pipeline<'a>(
        &'a mut self,
        steps: &'a [Step<'a>],
        out: &'a mut [Rows],
    ) -> BoxFuture<'a, Result<(), TxError>> {
        Box::pin(async move {
            for r in out.iter_mut().take(steps.len()) {
                r.reset(&[]);
            }
            self.statement().await.map(|_| ())
        })
    }

    fn simple_query<'a>(&'a mut self, _sql: &'a str) -> BoxFuture<'a, Result<u64, TxError>> {
        Box::pin(self.statement())
    }

    fn copy_in<'a>(
        &'a mut self,
        _sql: &'a str,
        _data: &'a [u8],
    ) -> BoxFuture<'a, Result<u64, TxError>> {
        Box::pin(self.statement())
    }
}

/// Connections of the null driver.
pub(crate) struct NullConnections {
    pub(crate) script: Arc<Script>,
}

impl NullConnections {
    fn session(&self) -> NullSession {
        NullSession {
            id: self.script.opened.fetch_add(1, Ordering::Relaxed) + 1,
            lost: false,
            script: self.script.clone(),
        }
    }
}

/// A connection that goes back nowhere (the null driver keeps no pool).
pub(crate) struct Held(NullSession);

impl std::ops::Deref for Held {
    type Target = NullSession;
    fn deref(&self) -> &NullSession {
        &self.0
    }
}

impl std::ops::DerefMut for Held {
    fn deref_mut(&mut self) -> &mut NullSession {
        &mut self.0
    }
}

impl Connections for NullConnections {
    type Conn = NullSession;
    type Pooled = Held;
    type Transient = Held;

    async fn get(&self) -> Result<Held, TxError> {
        if self.script.refused.load(Ordering::Relaxed) < self.script.refuse_first {
            self.script.refused.fetch_add(1, Ordering::Relaxed);
            return Err(TxError::new(
                ErrorClass::ConnectionLost,
                None,
                "connection refused",
            ));
        }
        Ok(Held(self.session()))
    }

    async fn open(&self) -> Result<Held, TxError> {
        self.get().await
    }

    async fn close(_t: Held) {}

    fn reusable(c: &Held) -> bool {
        !c.0.lost
    }

    async fn settle_abandoned(&self) -> AtStop {
        AtStop::default()
    }
}
