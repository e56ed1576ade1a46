//! The driver's errors: the server's, a lost connection, and the driver's own.

use std::fmt;
use std::io;

use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend;
use tokio_postgres::error::SqlState;

use crate::types::SslMode;

#[derive(Debug)]
pub struct WireError(pub(super) Box<ErrorKind>);

#[derive(Debug)]
pub(super) enum ErrorKind {
    /// An ErrorResponse.
    Db {
        severity: String,
        code: SqlState,
        message: String,
        detail: Option<String>,
    },
    /// Socket error (refused, reset, ...).
    Io(io::Error),
    /// The server closed the connection.
    Closed,
    /// No answer in time while connecting.
    Timeout,
    /// sslmode requires TLS and the server does not offer it.
    TlsRefused(SslMode),
    /// TLS could not be set up (trust store, handshake, certificate verification).
    Tls(String),
    /// An authentication method this driver cannot answer, or no password for one.
    Auth(String),
    /// A parameter could not be encoded for its type.
    Encode(String),
    /// The server sent something the protocol does not allow here.
    Protocol(String),
}

impl WireError {
    pub(super) fn new(kind: ErrorKind) -> Self {
        WireError(Box::new(kind))
    }

    pub(super) fn protocol(what: impl Into<String>) -> Self {
        Self::new(ErrorKind::Protocol(what.into()))
    }

    /// The connection is gone (socket error, closed by the server, or no answer in time
    /// while connecting): the server's errors and the driver's own are not.
    pub(crate) fn is_connection_lost(&self) -> bool {
        matches!(
            &*self.0,
            ErrorKind::Io(_) | ErrorKind::Closed | ErrorKind::Timeout
        )
    }

    /// The SQLSTATE of a server error.
    pub fn code(&self) -> Option<&SqlState> {
        match &*self.0 {
            ErrorKind::Db { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The server's message alone (no severity or code), for connection messages.
    pub(crate) fn db_message(&self) -> Option<&str> {
        match &*self.0 {
            ErrorKind::Db { message, .. } => Some(message),
            _ => None,
        }
    }

    /// TLS failed: refused by the server, or its certificate not trusted.
    pub fn is_tls(&self) -> bool {
        matches!(&*self.0, ErrorKind::TlsRefused(_) | ErrorKind::Tls(_))
    }
}

#[cfg(test)]
impl WireError {
    /// A failed TLS handshake with this message, for tests of the messages built on one.
    pub(crate) fn tls_failure(message: &str) -> Self {
        Self::new(ErrorKind::Tls(message.into()))
    }

    /// A server that does not offer TLS to a connection in `mode`, for the same tests.
    pub(crate) fn tls_refused(mode: SslMode) -> Self {
        Self::new(ErrorKind::TlsRefused(mode))
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            ErrorKind::Db {
                severity,
                code,
                message,
                detail,
            } => {
                write!(f, "{severity}: {message} (SQLSTATE {})", code.code())?;
                if let Some(d) = detail {
                    write!(f, "; {d}")?;
                }
                Ok(())
            }
            ErrorKind::Io(e) => write!(f, "{e}"),
            ErrorKind::Closed => f.write_str("connection closed by the server"),
            ErrorKind::Timeout => f.write_str("timed out"),
            ErrorKind::TlsRefused(mode) => write!(
                f,
                "the server does not accept TLS connections and database.sslmode is {}; {}",
                mode.name(),
                super::tls::NO_TLS
            ),
            ErrorKind::Auth(m) | ErrorKind::Tls(m) | ErrorKind::Encode(m) => f.write_str(m),
            ErrorKind::Protocol(m) => write!(f, "protocol error: {m}"),
        }
    }
}

impl std::error::Error for WireError {}

impl From<io::Error> for WireError {
    fn from(e: io::Error) -> Self {
        WireError::new(ErrorKind::Io(e))
    }
}

pub(super) fn db_error(body: &backend::ErrorResponseBody) -> WireError {
    let mut severity = String::new();
    let mut code = String::new();
    let mut message = String::new();
    let mut detail = None;
    let mut fields = body.fields();
    while let Ok(Some(f)) = fields.next() {
        let text = || String::from_utf8_lossy(f.value_bytes()).into_owned();
        match f.type_() {
            b'V' => severity = text(),
            b'S' if severity.is_empty() => severity = text(),
            b'C' => code = text(),
            b'M' => message = text(),
            b'D' => detail = Some(text()),
            _ => {}
        }
    }
    WireError::new(ErrorKind::Db {
        severity,
        code: SqlState::from_code(&code),
        message,
        detail,
    })
}
