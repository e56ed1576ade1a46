//! The wire driver: a lean PostgreSQL connection for the measured hot path.
//!
//! The worker owns the socket and speaks the extended query protocol itself: one write
//! (Bind, Execute, Sync) and one read per statement, no connection task, no channel and
//! no allocation per message. Messages are encoded and parsed by `postgres-protocol`,
//! parameters by `postgres-types` (`ToSql`, in the format each value asks for), rows
//! into [`crate::rows::Rows`], authentication (trust,
//! password, md5, SCRAM-SHA-256, and SCRAM-SHA-256-PLUS channel binding over TLS) by
//! `postgres-protocol` too. TLS follows libpq's sslmode (disable, prefer, require,
//! verify-ca, verify-full) with `native-tls`; a plain connection pays nothing for it.
//! Schema set-up, loading, checks and statistics use tokio-postgres.
//!
//! This module imports nothing from the crate but the low modules `crate::types` and
//! `crate::rows`.

mod auth;
mod cancel;
mod config;
mod conn;
mod error;
mod frame;
mod pool;
mod tls;
mod tx;

pub use crate::rows::{Numeric, Rows};
pub(crate) use cancel::Settled;
pub use config::WireConfig;
pub use conn::{Executed, WireConn, WireStmt};
pub use error::WireError;
pub(crate) use pool::{WireManager, WirePool};
pub use tls::TlsFiles;
pub(crate) use tls::{tls_connector, NOT_VERIFIED, NO_TLS};
pub use tx::{Step, TxStatus};
