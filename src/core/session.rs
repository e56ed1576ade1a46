//! The one statement API: every workload writes each transaction once, against a
//! [`Session`]; the engine hands it whichever driver carries the run. Nothing here names a
//! driver.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use postgres_types::{ToSql, Type};
use tokio_postgres::error::SqlState;

use super::{BoxFuture, ErrorClass};
use crate::rows::{Rows, RowsError};

/// Parameters of one statement, in order.
pub type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// One column of a statement's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    /// Its name (as the select list or RETURNING gives it).
    pub(crate) name: String,
    /// Its type.
    pub(crate) ty: Type,
}

/// A statement prepared on one connection: what it takes and returns, and the driver's
/// own handle. Cheap to clone.
#[derive(Clone)]
pub struct Stmt(Arc<StmtInner>);

struct StmtInner {
    /// Shared with the driver's own cache, so a statement's use reaches the driver's
    /// handle in one step.
    handle: Arc<dyn Any + Send + Sync>,
    params: Vec<Type>,
    columns: Vec<Column>,
    types: Vec<Type>,
}

impl fmt::Debug for Stmt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stmt")
            .field("params", &self.0.params)
            .field("columns", &self.0.columns)
            .finish_non_exhaustive()
    }
}

impl Stmt {
    /// Wraps a driver's prepared statement.
    pub(crate) fn new<T: Any + Send + Sync>(
        handle: Arc<T>,
        params: Vec<Type>,
        columns: Vec<Column>,
    ) -> Self {
        let types = columns.iter().map(|c| c.ty.clone()).collect();
        Stmt(Arc::new(StmtInner {
            handle,
            params,
            columns,
            types,
        }))
    }

    /// The driver's handle, when it is of type `T` (a driver only ever sees its own).
    #[inline]
    pub(crate) fn handle<T: Any>(&self) -> Option<&T> {
        self.0.handle.downcast_ref()
    }

    /// The index of the result column named `name`.
    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        self.0.columns.iter().position(|c| c.name == name)
    }

    /// The result column types, for [`Rows::reset`].
    #[inline]
    pub(crate) fn column_types(&self) -> &[Type] {
        &self.0.types
    }
}

/// A transaction's failure, from any driver: its class, the server's SQLSTATE if it sent
/// one, and the error itself (formatted only when it is kept for the report).
pub struct TxError {
    class: ErrorClass,
    code: Option<SqlState>,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl TxError {
    /// An error of `class` with the server's `code`, if any.
    pub(crate) fn new(
        class: ErrorClass,
        code: Option<SqlState>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        TxError {
            class,
            code,
            source: source.into(),
        }
    }

    /// A failure of the workload itself (a row it needed was not there, a value it could
    /// not read): class `Other`, no SQLSTATE.
    pub(crate) fn workload(message: impl Into<String>) -> Self {
        TxError::new(ErrorClass::Other, None, message.into())
    }

    /// What kind of failure it is (retried, counted).
    #[inline]
    pub(crate) fn class(&self) -> ErrorClass {
        self.class
    }

    /// The server's SQLSTATE, when the server reported the error.
    #[inline]
    pub(crate) fn code(&self) -> Option<&SqlState> {
        self.code.as_ref()
    }
}

impl fmt::Debug for TxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TxError")
            .field("class", &self.class)
            .field("code", &self.code.as_ref().map(SqlState::code))
            .field("error", &self.source.to_string())
            .finish()
    }
}

impl fmt::Display for TxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::error_chain(&*self.source))
    }
}

impl From<RowsError> for TxError {
    fn from(e: RowsError) -> Self {
        TxError::new(ErrorClass::Other, None, e)
    }
}

/// One statement of a pipeline.
pub struct Step<'a> {
    /// The statement.
    pub(crate) stmt: &'a Stmt,
    /// Its parameters.
    pub(crate) params: Params<'a>,
}

impl<'a> Step<'a> {
    /// `stmt` with `params`.
    #[inline]
    pub(crate) fn new(stmt: &'a Stmt, params: Params<'a>) -> Self {
        Step { stmt, params }
    }
}

/// A connection as a workload sees it. Each method is one round trip (a pipeline is one
/// round trip for all its statements). A failed statement inside an explicit transaction
/// leaves it aborted: the workload ends it with ROLLBACK (or COMMIT, which rolls back).
pub trait Session: Send {
    /// A number unique to this connection in the process (for per-connection caches such
    /// as [`Statements`]).
    fn id(&self) -> u64;

    /// Prepares `sql` (parameter types inferred by the server).
    fn prepare<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<Stmt, TxError>>;

    /// Runs a statement, discarding its rows; returns the command tag's count.
    fn execute<'a>(
        &'a mut self,
        stmt: &'a Stmt,
        params: Params<'a>,
    ) -> BoxFuture<'a, Result<u64, TxError>>;

    /// Runs a statement and keeps its rows in `rows` (replacing what it held).
    fn query<'a>(
        &'a mut self,
        stmt: &'a Stmt,
        params: Params<'a>,
        rows: &'a mut Rows,
    ) -> BoxFuture<'a, Result<(), TxError>>;

    /// Sends every step, then one Sync, and reads the results in order: step `i`'s rows go
    /// to `out[i]` (which must be as long as `steps`). After a failed step the server
    /// skips the rest; the first error is returned and the connection stays usable.
    fn pipeline<'a>(
        &'a mut self,
        steps: &'a [Step<'a>],
        out: &'a mut [Rows],
    ) -> BoxFuture<'a, Result<(), TxError>>;

    /// Runs SQL text with the simple query protocol (several statements allowed, no
    /// parameters); returns the last command tag's count.
    fn simple_query<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<u64, TxError>>;

    /// Runs `COPY ... FROM STDIN` (`sql`) with `data` (COPY text) as its input, in one
    /// round trip; returns the rows copied.
    fn copy_in<'a>(
        &'a mut self,
        sql: &'a str,
        data: &'a [u8],
    ) -> BoxFuture<'a, Result<u64, TxError>>;
}

/// A worker's prepared statements on the connection it last used: a plain indexed lookup
/// per statement. A different connection starts over, so each statement is prepared once
/// per connection and never shared between connections.
#[derive(Debug)]
pub struct Statements {
    sql: Arc<[Arc<str>]>,
    conn: Option<u64>,
    prepared: Vec<Option<Stmt>>,
}

impl Statements {
    /// A set over `sql`; statement `i` is `sql[i]`.
    pub(crate) fn new<S: AsRef<str>>(sql: &[S]) -> Self {
        Statements {
            sql: sql.iter().map(|s| Arc::from(s.as_ref())).collect(),
            conn: None,
            prepared: vec![None; sql.len()],
        }
    }

    /// Statement `i`, prepared on `s`.
    #[inline]
    pub(crate) async fn get(&mut self, s: &mut dyn Session, i: usize) -> Result<&Stmt, TxError> {
        if self.conn != Some(s.id()) {
            self.conn = Some(s.id());
            self.prepared.iter_mut().for_each(|p| *p = None);
        }
        if self.prepared[i].is_none() {
            let p = s.prepare(&self.sql[i]).await?;
            self.prepared[i] = Some(p);
        }
        Ok(self.prepared[i].as_ref().expect("prepared above"))
    }

    /// Prepares statements `ids` on `s` (those not yet prepared there), so that [`at`]
    /// can lend them without waiting.
    ///
    /// [`at`]: Statements::at
    #[inline]
    pub(crate) async fn ready(
        &mut self,
        s: &mut dyn Session,
        ids: &[usize],
    ) -> Result<(), TxError> {
        if self.conn == Some(s.id()) && ids.iter().all(|&i| self.prepared[i].is_some()) {
            return Ok(());
        }
        for &i in ids {
            self.get(s, i).await?;
        }
        Ok(())
    }

    /// Statement `i`, made ready by [`ready`](Statements::ready) on the current connection.
    #[inline]
    pub(crate) fn at(&self, i: usize) -> &Stmt {
        self.prepared[i]
            .as_ref()
            .expect("Statements::ready prepares a statement before it is lent")
    }
}
