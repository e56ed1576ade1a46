//! Statements left running on the server when a run stops.
//!
//! A run stops at its deadline or on Ctrl-C without waiting for the transactions in flight:
//! their futures are dropped mid-exchange. Closing the socket does not stop the server: a
//! backend running a statement, or waiting for a lock, notices the closed socket only when
//! it next reads or writes, so a waiting write could still run after stormbench has gone,
//! or a long query go on loading the server into the next band of a sweep. Such a
//! connection is given a short grace to finish its exchange; what is still running after
//! it gets a CancelRequest, as `psql`'s Ctrl-C sends.

use std::time::Duration;

use bytes::BytesMut;
use postgres_protocol::message::frontend;
use tokio::time::timeout;

use super::auth::open_stream;
use super::config::WireConfig;
use super::conn::{CancelKey, WireConn};
use super::error::WireError;
use crate::types::SslMode;

/// How a statement left running at the stop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settled {
    /// Its exchange finished within the grace: nothing was left running.
    Finished,
    /// It was still running; a cancel request went out and the statement ended.
    Cancelled,
    /// It was still running and no end was seen within the wait after the cancel request
    /// (or the request could not be sent): the server may still be running it.
    Unconfirmed,
}

impl WireConn {
    /// Whether a transaction's future was dropped mid-exchange: the server may still be
    /// running its statement.
    pub(crate) fn abandoned(&self) -> bool {
        self.busy && !self.broken
    }

    /// Lets an abandoned exchange finish within `grace`; cancels it if it does not, and
    /// waits up to `wait` for it to end. The connection is closed afterwards.
    pub(crate) async fn settle(
        mut self,
        cfg: &WireConfig,
        grace: Duration,
        wait: Duration,
    ) -> Settled {
        if !self.abandoned() {
            return Settled::Finished;
        }
        // ended by itself: an error of its own, or a lost connection, is an end too
        if timeout(grace, self.finish_exchange(None, None))
            .await
            .is_ok()
        {
            return Settled::Finished;
        }
        let Some(key) = self.key else {
            return Settled::Unconfirmed;
        };
        let sent = timeout(wait, send_cancel(cfg, key)).await;
        if !matches!(sent, Ok(Ok(()))) {
            return Settled::Unconfirmed;
        }
        match timeout(wait, self.finish_exchange(None, None)).await {
            Ok(_) => Settled::Cancelled,
            Err(_) => Settled::Unconfirmed,
        }
    }
}

/// Sends a CancelRequest for `key` on a connection of its own (with TLS as the run's
/// connections have it: the key is a secret) and waits for the server to close it.
async fn send_cancel(cfg: &WireConfig, key: CancelKey) -> Result<(), WireError> {
    // under `allow` the connection may have been in the clear; the server takes a cancel
    // request in the clear whatever its pg_hba.conf says
    let mode = match cfg.sslmode {
        SslMode::Allow => SslMode::Disable,
        m => m,
    };
    let mut stream = open_stream(cfg, mode).await?;
    let mut b = BytesMut::with_capacity(16);
    frontend::cancel_request(key.pid, key.secret, &mut b);
    stream.write_all(&b).await?;
    // the server answers nothing and closes the connection once it has passed it on
    let mut rest = BytesMut::with_capacity(64);
    while stream.read_buf(&mut rest).await? > 0 {
        rest.clear();
    }
    Ok(())
}
