//! The wire driver: a lean PostgreSQL connection for the measured hot path.
//!
//! The worker owns the socket and speaks the extended query protocol itself: one write
//! (Bind, Execute, Sync) and one read per statement, no connection task, no channel and
//! no allocation per message. Messages are encoded and parsed by `postgres-protocol`,
//! parameters by `postgres-types` (`ToSql`, binary format), authentication (trust,
//! password, md5, SCRAM-SHA-256, and SCRAM-SHA-256-PLUS channel binding over TLS) by
//! `postgres-protocol` too. TLS follows libpq's sslmode (disable, prefer, require,
//! verify-ca, verify-full) with `native-tls`; a plain connection pays nothing for it.
//! Everything else (schema set-up, loading, statistics, workloads without wire support)
//! always uses tokio-postgres.
//!
//! This module imports nothing from the crate but `crate::types`.

mod auth;
mod config;
mod conn;
mod error;
mod frame;
mod pool;
mod rows;
mod tls;
mod tx;

pub use config::WireConfig;
pub use conn::{Executed, WireConn, WireStmt};
pub use error::WireError;
pub use pool::{WireManager, WirePool, WireStatements};
pub use rows::{Numeric, Rows};
pub use tls::tls_connector;
pub use tx::{Step, TxStatus};
