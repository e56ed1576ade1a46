//! The wire driver: a lean PostgreSQL connection for the measured hot path.
//!
//! The worker owns the socket and speaks the extended query protocol itself: one write
//! (Bind, Execute, Sync) and one read per statement, no connection task, no channel and
//! no allocation per message. Messages are encoded and parsed by `postgres-protocol`,
//! parameters by `postgres-types` (`ToSql`, binary format), authentication (trust,
//! password, md5, SCRAM-SHA-256) by `postgres-protocol` too. It does no TLS: when the
//! server wants TLS the connection fails with [`WireError::is_tls_required`], and a run
//! with `driver: auto` falls back to tokio-postgres. Everything else (schema set-up,
//! loading, statistics, workloads without wire support) always uses tokio-postgres.

mod auth;
mod config;
mod conn;
mod error;
mod frame;
mod pool;

pub use config::WireConfig;
pub use conn::{Executed, WireConn, WireStmt};
pub use error::WireError;
pub use pool::{WireManager, WirePool, WireStatements};
