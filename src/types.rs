//! Plain settings shared by the configuration, the drivers and the workloads; this module
//! imports nothing from the crate, so any layer may use it.

use serde::{Deserialize, Serialize};

/// TLS use, as libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    /// Never use TLS.
    Disable,
    /// Connect without TLS; when the server refuses that, connect again with TLS.
    Allow,
    /// Use TLS when the server offers it, without verifying the certificate.
    #[default]
    Prefer,
    /// Require TLS, without verifying the certificate.
    Require,
    /// Require TLS and verify the certificate chain, not the host name.
    VerifyCa,
    /// Require TLS and verify the certificate chain and host name.
    VerifyFull,
}

impl SslMode {
    /// The name libpq and the config use.
    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// A transaction isolation level (PostgreSQL runs READ UNCOMMITTED as READ COMMITTED, so
/// it is not offered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// READ COMMITTED (PostgreSQL's default).
    #[default]
    ReadCommitted,
    /// REPEATABLE READ: concurrent updates of a row fail with 40001.
    RepeatableRead,
    Serializable,
}

impl Isolation {
    /// The value of `default_transaction_isolation`.
    pub(crate) fn setting(&self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "read committed",
            Isolation::RepeatableRead => "repeatable read",
            Isolation::Serializable => "serializable",
        }
    }

    /// The clause after `BEGIN`, e.g. `ISOLATION LEVEL SERIALIZABLE`.
    pub(crate) fn clause(&self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "ISOLATION LEVEL READ COMMITTED",
            Isolation::RepeatableRead => "ISOLATION LEVEL REPEATABLE READ",
            Isolation::Serializable => "ISOLATION LEVEL SERIALIZABLE",
        }
    }
}
