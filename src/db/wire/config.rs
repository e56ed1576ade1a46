//! Where and how to connect.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio_postgres::config::Host;

use super::error::{ErrorKind, WireError};
use super::tls::TlsFiles;
use crate::types::SslMode;

#[derive(Clone)]
pub struct WireConfig {
    pub(super) endpoint: Endpoint,
    pub(super) user: String,
    pub(super) dbname: String,
    pub(super) password: Option<Vec<u8>>,
    pub(super) options: Option<String>,
    pub(super) application_name: Option<String>,
    pub(super) connect_timeout: Duration,
    pub(super) sslmode: SslMode,
    /// Root certificates, client certificate and key.
    pub(super) files: TlsFiles,
    /// The TLS connector, built on first use and shared by the clones (building one
    /// loads the trust store, which costs more than a connection).
    tls: Arc<OnceLock<Result<tokio_native_tls::TlsConnector, String>>>,
}

#[derive(Clone, Debug)]
pub(super) enum Endpoint {
    Tcp(String, u16),
    Unix(PathBuf),
}

impl fmt::Debug for WireConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireConfig")
            .field("endpoint", &self.endpoint)
            .field("user", &self.user)
            .field("dbname", &self.dbname)
            .field("sslmode", &self.sslmode)
            .finish_non_exhaustive()
    }
}

impl WireConfig {
    /// The first host of a tokio-postgres config (the target has exactly one).
    pub fn new(pg: &tokio_postgres::Config, sslmode: SslMode) -> Self {
        let port = pg.get_ports().first().copied().unwrap_or(5432);
        let endpoint = match pg.get_hosts().first() {
            Some(Host::Unix(dir)) => Endpoint::Unix(dir.join(format!(".s.PGSQL.{port}"))),
            Some(Host::Tcp(h)) => Endpoint::Tcp(h.clone(), port),
            None => Endpoint::Tcp("localhost".into(), port),
        };
        WireConfig {
            endpoint,
            user: pg.get_user().unwrap_or("postgres").to_string(),
            dbname: pg
                .get_dbname()
                .or(pg.get_user())
                .unwrap_or("postgres")
                .to_string(),
            password: pg.get_password().map(<[u8]>::to_vec),
            options: pg.get_options().map(str::to_string),
            application_name: pg.get_application_name().map(str::to_string),
            connect_timeout: pg
                .get_connect_timeout()
                .copied()
                .unwrap_or(Duration::from_secs(10)),
            sslmode,
            files: TlsFiles::default(),
            tls: Arc::default(),
        }
    }

    /// The same with root certificates for verify-ca and verify-full.
    pub fn with_sslrootcert(self, path: Option<PathBuf>) -> Self {
        self.with_tls_files(TlsFiles {
            rootcert: path,
            ..TlsFiles::default()
        })
    }

    /// The same with these certificate files.
    pub fn with_tls_files(mut self, files: TlsFiles) -> Self {
        self.files = files;
        self.tls = Arc::default();
        self
    }

    /// The TLS connector for this sslmode and root certificate file.
    pub(super) fn tls(&self) -> Result<&tokio_native_tls::TlsConnector, WireError> {
        self.tls
            .get_or_init(|| {
                super::tls::tls_connector(self.sslmode, &self.files)
                    .map(tokio_native_tls::TlsConnector::from)
            })
            .as_ref()
            .map_err(|e| WireError::new(ErrorKind::Tls(e.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_never_shows_the_password() {
        let mut pg = tokio_postgres::Config::new();
        pg.host("127.0.0.1")
            .port(5999)
            .user("u")
            .dbname("d")
            .password("hunter2-secret");
        let c = WireConfig::new(&pg, SslMode::Disable);
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("5999"), "{shown}");
    }

    #[test]
    fn unix_hosts_name_the_socket_file() {
        let mut pg = tokio_postgres::Config::new();
        pg.host_path("/run/postgresql").port(5433).user("u");
        let c = WireConfig::new(&pg, SslMode::Prefer);
        match c.endpoint {
            Endpoint::Unix(p) => assert_eq!(p, PathBuf::from("/run/postgresql/.s.PGSQL.5433")),
            other => panic!("{other:?}"),
        }
        assert_eq!(c.dbname, "u");
    }
}
