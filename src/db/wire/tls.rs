//! TLS: the connector for an sslmode, and the SSLRequest exchange that starts it.

use std::path::{Path, PathBuf};

use bytes::BytesMut;
use postgres_protocol::message::frontend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::config::WireConfig;
use super::error::{ErrorKind, WireError};
use super::frame::Stream;
use crate::types::SslMode;

/// What to do when the server's certificate chain did not verify (verify-ca, or require
/// with a root certificate at hand).
pub(crate) const NOT_VERIFIED: &str = "the server's certificate did not verify: check \
     database.sslrootcert; to encrypt without verifying, set database.sslmode: require and \
     give no root certificate (with one, given or in ~/.postgresql/root.crt, require \
     verifies the chain as in libpq)";

/// What to do when sslmode asks for TLS and the server does not offer it.
pub(crate) const NO_TLS: &str = "turn ssl on in the server, or set database.sslmode: prefer \
     (TLS when the server offers it) or disable";

/// The certificate files of a TLS connection, as libpq's `sslrootcert`, `sslcert` and
/// `sslkey`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TlsFiles {
    /// PEM root certificates verify-ca and verify-full trust; `system` (or `None`) is the
    /// system's store.
    pub rootcert: Option<PathBuf>,
    /// PEM client certificate (chain) for certificate authentication.
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PEM, PKCS#8); readable by its owner only.
    pub key: Option<PathBuf>,
}

impl TlsFiles {
    /// Whether `sslrootcert` names the system's store.
    pub fn system_roots(&self) -> bool {
        self.rootcert
            .as_deref()
            .is_none_or(|p| p == Path::new("system"))
    }
}

/// A TLS connector as libpq's modes: allow, prefer and require encrypt without verifying
/// (and load no trust store), verify-ca verifies the chain, verify-full the chain and the
/// host name. `files.rootcert`, a PEM file of one or more certificates, replaces the
/// system's roots; `files.cert` and `files.key` present a client certificate.
pub(crate) fn tls_connector(
    mode: SslMode,
    files: &TlsFiles,
) -> Result<native_tls::TlsConnector, String> {
    let mut b = native_tls::TlsConnector::builder();
    let verify = matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull);
    match mode {
        SslMode::Disable | SslMode::Allow | SslMode::Prefer | SslMode::Require => {
            b.danger_accept_invalid_certs(true)
                .danger_accept_invalid_hostnames(true)
                .disable_built_in_roots(true);
        }
        SslMode::VerifyCa => {
            b.danger_accept_invalid_hostnames(true);
        }
        SslMode::VerifyFull => {}
    }
    if let (Some(path), true) = (&files.rootcert, verify && !files.system_roots()) {
        let pem = read_pem(path, "sslrootcert")?;
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
    match (&files.cert, &files.key) {
        (Some(cert), Some(key)) => {
            b.identity(identity(cert, key)?);
        }
        (Some(_), None) => {
            return Err(
                "database.sslcert is set without database.sslkey; give the client \
                        certificate's private key too"
                    .into(),
            )
        }
        (None, Some(_)) => {
            return Err(
                "database.sslkey is set without database.sslcert; give the client \
                        certificate too"
                    .into(),
            )
        }
        (None, None) => {}
    }
    b.build().map_err(|e| {
        format!("cannot set up TLS: {e}; set database.sslmode: disable to connect without TLS")
    })
}

/// The client identity of `sslcert` and `sslkey`, the key checked as libpq checks it.
fn identity(cert: &Path, key: &Path) -> Result<native_tls::Identity, String> {
    let cert_pem = read_pem(cert, "sslcert")?;
    check_key_permissions(key)?;
    let key_pem = read_pem(key, "sslkey")?;
    if !key_pem.starts_with(b"-----BEGIN PRIVATE KEY-----") {
        return Err(format!(
            "database.sslkey {} is not an unencrypted PKCS#8 PEM key (BEGIN PRIVATE KEY); \
             convert it with: openssl pkcs8 -topk8 -nocrypt -in {} -out {}.pk8",
            key.display(),
            key.display(),
            key.display()
        ));
    }
    native_tls::Identity::from_pkcs8(&cert_pem, &key_pem).map_err(|e| {
        format!(
            "database.sslcert {} and database.sslkey {} do not make a client identity ({e}); \
             give the PEM certificate and its private key",
            cert.display(),
            key.display()
        )
    })
}

/// As libpq: a private key owned by the current user may be read by that user only
/// (0600 or less); one owned by root may also be read by its group (0640 or less).
fn check_key_permissions(key: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(key).map_err(|e| {
        format!(
            "cannot read database.sslkey {}: {e}; give the path of the private key",
            key.display()
        )
    })?;
    let mode = meta.mode() & 0o777;
    let too_open = if meta.uid() == 0 {
        mode & 0o037 != 0
    } else {
        mode & 0o077 != 0
    };
    if too_open {
        return Err(format!(
            "private key file {} has group or world access (mode {mode:o}); it must be u=rw \
             (0600) or less if owned by the current user, or u=rw,g=r (0640) or less if owned \
             by root: chmod 600 {}",
            key.display(),
            key.display()
        ));
    }
    Ok(())
}

/// Asks the server for TLS (SSLRequest) on a fresh TCP connection and, when it agrees,
/// does the handshake; prefer goes on in the clear when the server declines.
pub(super) async fn negotiate(
    mut tcp: TcpStream,
    host: &str,
    cfg: &WireConfig,
    mode: SslMode,
) -> Result<Stream, WireError> {
    let mut req = BytesMut::with_capacity(8);
    frontend::ssl_request(&mut req);
    tcp.write_all(&req).await?;
    // exactly one byte: anything the server sent past it belongs to the handshake
    let answer = tcp.read_u8().await?;
    match answer {
        b'S' => {
            let connector = cfg.tls()?;
            let tcp = tokio::io::BufReader::with_capacity(super::frame::READ_CHUNK, tcp);
            let tls = connector.connect(host, tcp).await.map_err(|e| {
                WireError::new(ErrorKind::Tls(format!(
                    "TLS handshake with {host} failed: {e}; {}",
                    match mode {
                        SslMode::VerifyFull =>
                            "check database.sslrootcert and that the certificate names the host, \
                             or set database.sslmode: verify-ca or require",
                        SslMode::VerifyCa => NOT_VERIFIED,
                        _ => "check the server's TLS settings, or set database.sslmode: disable",
                    }
                )))
            })?;
            Ok(Stream::Tls(Box::new(tls)))
        }
        b'N' if mode == SslMode::Prefer => Ok(Stream::Tcp(tcp)),
        b'N' => Err(WireError::new(ErrorKind::TlsRefused(mode))),
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
fn read_pem(path: &Path, key: &str) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let fail = |why: String| {
        format!(
            "cannot read database.{key} {}: {why}; give the path of a PEM file",
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
    fn client_keys_are_checked_as_libpq_checks_them() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("c.crt"), dir.path().join("c.key"));
        std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\n").unwrap();
        std::fs::write(&key, "-----BEGIN RSA PRIVATE KEY-----\n").unwrap();
        let mode = |m| std::fs::set_permissions(&key, std::fs::Permissions::from_mode(m)).unwrap();
        mode(0o600);
        let e = identity(&cert, &key).err().expect("refused");
        assert!(
            e.contains("not an unencrypted PKCS#8 PEM key") && e.contains("openssl pkcs8"),
            "{e}"
        );
        mode(0o604);
        let e = identity(&cert, &key).err().expect("refused");
        assert!(
            e.contains("group or world access") && e.contains("chmod 600"),
            "{e}"
        );
        let e = identity(&cert, &dir.path().join("none.key"))
            .err()
            .expect("refused");
        assert!(e.contains("cannot read database.sslkey"), "{e}");
    }

    #[test]
    fn a_device_a_directory_or_a_huge_file_is_not_a_root_certificate() {
        for p in ["/dev/zero", "/tmp", "/nonexistent/ca.pem"] {
            let e = read_pem(std::path::Path::new(p), "sslrootcert").unwrap_err();
            assert!(e.contains(p) && e.contains("PEM file"), "{e}");
        }
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.pem");
        std::fs::write(&big, vec![b'A'; (MAX_PEM_BYTES + 1) as usize]).unwrap();
        assert!(read_pem(&big, "sslrootcert")
            .unwrap_err()
            .contains("larger than"));
        let link = dir.path().join("link.pem");
        std::fs::write(dir.path().join("ca.pem"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("ca.pem"), &link).unwrap();
        assert_eq!(read_pem(&link, "sslrootcert").unwrap(), b"x");
    }
}
