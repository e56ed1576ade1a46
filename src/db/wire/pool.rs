//! The connection pool.

use super::config::WireConfig;
use super::conn::WireConn;
use super::error::WireError;

/// Pooled wire connections.
pub(crate) type WirePool = deadpool::managed::Pool<WireManager>;

/// Creates and recycles wire connections for the pool.
#[derive(Debug)]
pub(crate) struct WireManager {
    cfg: WireConfig,
}

impl WireManager {
    /// A manager for `cfg`.
    pub(crate) fn new(cfg: WireConfig) -> Self {
        WireManager { cfg }
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
