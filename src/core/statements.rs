//! A worker's own handle on the prepared statements of the connection it is using: a plain
//! indexed lookup instead of the pool's shared, locked, hashed cache on every transaction.

use std::sync::{Arc, Weak};

use deadpool_postgres::StatementCache;
use tokio_postgres::Statement;

use super::Conn;

/// The statements of one workload, prepared on the connection last used. Statements are
/// never shared across connections: a different connection starts over (falling back to
/// the connection's own cache, so each statement is still prepared once per connection).
#[derive(Debug)]
pub struct Statements {
    sql: &'static [&'static str],
    owner: ConnTag,
    prepared: Vec<Option<Statement>>,
}

/// Which connection a worker's per-connection state (prepared statements) belongs to.
#[derive(Debug, Default)]
pub struct ConnTag {
    /// A weak reference keeps the connection's allocation alive, so a new connection can
    /// never reuse its address and be mistaken for it.
    last: Weak<StatementCache>,
}

impl ConnTag {
    /// Whether `conn` is another connection than the one seen last (it is remembered).
    #[inline]
    pub fn switched(&mut self, conn: &Conn) -> bool {
        if std::ptr::eq(self.last.as_ptr(), Arc::as_ptr(&conn.statement_cache)) {
            return false;
        }
        self.last = Arc::downgrade(&conn.statement_cache);
        true
    }
}

impl Statements {
    /// A set over `sql`; statement `i` is `sql[i]`.
    pub fn new(sql: &'static [&'static str]) -> Self {
        Statements {
            sql,
            owner: ConnTag::default(),
            prepared: vec![None; sql.len()],
        }
    }

    /// Statement `i`, prepared on `conn`.
    #[inline]
    pub async fn get(&mut self, conn: &Conn, i: usize) -> Result<Statement, tokio_postgres::Error> {
        if self.owner.switched(conn) {
            self.prepared.iter_mut().for_each(|s| *s = None);
        }
        if let Some(s) = &self.prepared[i] {
            return Ok(s.clone());
        }
        let s = conn.prepare_cached(self.sql[i]).await?;
        self.prepared[i] = Some(s.clone());
        Ok(s)
    }
}
