//! The connection pool and a worker's prepared statements.

use std::sync::Arc;

use super::config::WireConfig;
use super::conn::{WireConn, WireStmt};
use super::error::WireError;

/// Pooled wire connections.
pub type WirePool = deadpool::managed::Pool<WireManager>;

/// Creates and recycles wire connections for the pool.
#[derive(Debug)]
pub struct WireManager {
    cfg: WireConfig,
}

impl WireManager {
    /// A manager for `cfg`.
    pub fn new(cfg: WireConfig) -> Self {
        WireManager { cfg }
    }

    /// Its connection settings.
    pub fn config(&self) -> &WireConfig {
        &self.cfg
    }
}

impl deadpool::managed::Manager for WireManager {
    type Type = WireConn;
    type Error = WireError;

    async fn create(&self) -> Result<WireConn, WireError> {
        WireConn::connect(&self.cfg).await
    }

    async fn recycle(
        &self,
        conn: &mut WireConn,
        _: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<WireError> {
        if conn.is_broken() {
            Err(deadpool::managed::RecycleError::message(
                "connection lost or abandoned mid-exchange",
            ))
        } else {
            Ok(())
        }
    }
}

/// A worker's prepared statements on the wire connection it last used (as
/// the core `Statements` for tokio-postgres).
#[derive(Debug)]
pub struct WireStatements {
    sql: &'static [&'static str],
    conn: u64,
    prepared: Vec<Option<Arc<WireStmt>>>,
}

impl WireStatements {
    /// A set over `sql`; statement `i` is `sql[i]`.
    pub fn new(sql: &'static [&'static str]) -> Self {
        WireStatements {
            sql,
            conn: 0,
            prepared: vec![None; sql.len()],
        }
    }

    /// Statement `i`, prepared on `conn`.
    #[inline]
    pub async fn get(&mut self, conn: &mut WireConn, i: usize) -> Result<&WireStmt, WireError> {
        if self.conn != conn.id() {
            self.conn = conn.id();
            self.prepared.iter_mut().for_each(|s| *s = None);
        }
        if self.prepared[i].is_none() {
            self.prepared[i] = Some(conn.prepare_cached(self.sql[i]).await?);
        }
        Ok(self.prepared[i].as_deref().expect("prepared above"))
    }
}
