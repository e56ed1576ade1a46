//! TLS: the connector for an sslmode, and the SSLRequest exchange that starts it.

use std::path::Path;

use bytes::BytesMut;
use postgres_protocol::message::frontend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::config::WireConfig;
use super::error::{ErrorKind, WireError};
use super::frame::Stream;
use crate::types::SslMode;

/// A TLS connector as libpq's modes: prefer and require encrypt without verifying (and
/// load no trust store), verify-ca verifies the chain, verify-full the chain and the host
/// name. `rootcert`, a PEM file of one or more certificates, replaces the system's roots.
pub(crate) fn tls_connector(
    mode: SslMode,
    rootcert: Option<&Path>,
) -> Result<native_tls::TlsConnector, String> {
    let mut b = native_tls::TlsConnector::builder();
    match mode {
        SslMode::Disable | SslMode::Prefer | SslMode::Require => {
            b.danger_accept_invalid_certs(true)
                .danger_accept_invalid_hostnames(true)
                .disable_built_in_roots(true);
        }
        SslMode::VerifyCa => {
            b.danger_accept_invalid_hostnames(true);
        }
        SslMode::VerifyFull => {}
    }
    if let (Some(path), SslMode::VerifyCa | SslMode::VerifyFull) = (rootcert, mode) {
        let pem = read_pem(path)?;
        let certs = native_tls::Certificate::stack_from_pem(&pem).map_err(|e| {
            format!(
                "database.sslrootcert {} holds no PEM certificate ({e}); give a CA certificate file",
                path.display()
            )
        })?;
        if certs.is_empty() {
            return Err(format!(
                "database.sslrootcert {} holds no PEM certificate; give a CA certificate file",
                path.display()
            ));
        }
        b.disable_built_in_roots(true);
        for c in certs {
            b.add_root_certificate(c);
        }
    }
    b.build().map_err(|e| format!("cannot set up TLS: {e}"))
}

/// Asks the server for TLS (SSLRequest) on a fresh TCP connection and, when it agrees,
/// does the handshake; prefer goes on in the clear when the server declines.
pub(super) async fn negotiate(
    mut tcp: TcpStream,
    host: &str,
    cfg: &WireConfig,
) -> Result<Stream, WireError> {
    let mut req = BytesMut::with_capacity(8);
    frontend::ssl_request(&mut req);
    tcp.write_all(&req).await?;
    // exactly one byte: anything the server sent past it belongs to the handshake
    let answer = tcp.read_u8().await?;
    match answer {
        b'S' => {
            let connector = cfg.tls()?;
            let tls = connector.connect(host, tcp).await.map_err(|e| {
                WireError::new(ErrorKind::Tls(format!(
                    "TLS handshake with {host} failed: {e}; {}",
                    match cfg.sslmode {
                        SslMode::VerifyFull =>
                            "check database.sslrootcert and that the certificate names the host, \
                             or set database.sslmode: verify-ca or require",
                        SslMode::VerifyCa =>
                            "check database.sslrootcert, or set database.sslmode: require",
                        _ => "check the server's TLS settings, or set database.sslmode: disable",
                    }
                )))
            })?;
            Ok(Stream::Tls(Box::new(tls)))
        }
        b'N' if cfg.sslmode == SslMode::Prefer => Ok(Stream::Tcp(tcp)),
        b'N' => Err(WireError::new(ErrorKind::TlsRefused(cfg.sslmode))),
        other => Err(WireError::protocol(format!(
            "unexpected answer '{}' to the TLS request",
            other as char
        ))),
    }
}

/// Root certificate files larger than this are refused (a CA bundle is a few hundred KiB).
const MAX_PEM_BYTES: u64 = 4 << 20;

/// Reads a root certificate file: a regular file (or a link to one) of at most
/// [`MAX_PEM_BYTES`]; a FIFO, a device or a directory is refused before it is opened, so
/// it can neither block nor feed bytes without end.
fn read_pem(path: &std::path::Path) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let fail = |why: String| {
        format!(
            "cannot read database.sslrootcert {}: {why}; give the path of a PEM file",
            path.display()
        )
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail("not a regular file".into()));
    }
    let mut pem = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_PEM_BYTES + 1).read_to_end(&mut pem))
        .map_err(|e| fail(e.to_string()))?;
    if pem.len() as u64 > MAX_PEM_BYTES {
        return Err(fail(format!("larger than {} MiB", MAX_PEM_BYTES >> 20)));
    }
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_a_directory_or_a_huge_file_is_not_a_root_certificate() {
        for p in ["/dev/zero", "/tmp", "/nonexistent/ca.pem"] {
            let e = read_pem(std::path::Path::new(p)).unwrap_err();
            assert!(e.contains(p) && e.contains("PEM file"), "{e}");
        }
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.pem");
        std::fs::write(&big, vec![b'A'; (MAX_PEM_BYTES + 1) as usize]).unwrap();
        assert!(read_pem(&big).unwrap_err().contains("larger than"));
        let link = dir.path().join("link.pem");
        std::fs::write(dir.path().join("ca.pem"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("ca.pem"), &link).unwrap();
        assert_eq!(read_pem(&link).unwrap(), b"x");
    }
}
