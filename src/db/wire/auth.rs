//! Start-up and authentication (trust, password, md5, SCRAM-SHA-256).

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use postgres_protocol::authentication::sasl::{self, ScramSha256};
use postgres_protocol::message::{backend, frontend};
use tokio::net::{TcpStream, UnixStream};

use super::config::{Endpoint, WireConfig};
use super::conn::{WireConn, NEXT_ID};
use super::error::{db_error, ErrorKind, WireError};
use super::frame::{Stream, READ_CHUNK};
use super::tls;
use crate::types::SslMode;

/// A socket to the server, with TLS as `mode` asks (the server's answer to the
/// SSLRequest decides for prefer).
pub(super) async fn open_stream(cfg: &WireConfig, mode: SslMode) -> Result<Stream, WireError> {
    Ok(match &cfg.endpoint {
        Endpoint::Tcp(host, port) => {
            let s = TcpStream::connect((host.as_str(), *port)).await?;
            s.set_nodelay(true)?;
            if mode == SslMode::Disable {
                Stream::Tcp(s)
            } else {
                tls::negotiate(s, host, cfg, mode).await?
            }
        }
        Endpoint::Unix(path) => Stream::Unix(UnixStream::connect(path).await?),
    })
}

impl WireConn {
    /// Connects, authenticates and waits until the server is ready for queries.
    pub async fn connect(cfg: &WireConfig) -> Result<WireConn, WireError> {
        let attempts = async {
            if cfg.sslmode != SslMode::Allow {
                return Self::connect_inner(cfg, cfg.sslmode).await;
            }
            // allow: in the clear first; a server that refuses that (pg_hba `hostssl`)
            // gets a second connection with TLS
            match Self::connect_inner(cfg, SslMode::Disable).await {
                Err(e) if e.code().is_some() => Self::connect_inner(cfg, SslMode::Require).await,
                r => r,
            }
        };
        match tokio::time::timeout(cfg.connect_timeout, attempts).await {
            Ok(r) => r,
            Err(_) => Err(WireError::new(ErrorKind::Timeout)),
        }
    }

    async fn connect_inner(cfg: &WireConfig, mode: SslMode) -> Result<WireConn, WireError> {
        let stream = open_stream(cfg, mode).await?;
        let mut c = WireConn {
            stream,
            rbuf: BytesMut::with_capacity(READ_CHUNK),
            wbuf: BytesMut::with_capacity(1024),
            busy: true,
            broken: false,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            cache: HashMap::new(),
            prepared: 0,
            tx_status: b'I',
            key: None,
        };
        let mut params: Vec<(&str, &str)> = vec![
            ("user", &cfg.user),
            ("database", &cfg.dbname),
            ("client_encoding", "UTF8"),
        ];
        if let Some(a) = &cfg.application_name {
            params.push(("application_name", a));
        }
        if let Some(o) = &cfg.options {
            params.push(("options", o));
        }
        frontend::startup_message(params.iter().copied(), &mut c.wbuf)?;
        c.flush().await?;
        c.authenticate(cfg).await?;
        // ParameterStatus, BackendKeyData, notices, then ReadyForQuery
        c.finish_exchange(None, None).await?;
        Ok(c)
    }

    async fn authenticate(&mut self, cfg: &WireConfig) -> Result<(), WireError> {
        let mut scram: Option<ScramSha256> = None;
        loop {
            let m = self.next_message().await?;
            let password = || {
                cfg.password.as_deref().ok_or_else(|| {
                    WireError::new(ErrorKind::Auth(
                        "the server asks for a password and none is set; set database.password \
                         or STORMBENCH_DB_PASSWORD"
                            .into(),
                    ))
                })
            };
            match m {
                backend::Message::AuthenticationOk => return Ok(()),
                backend::Message::AuthenticationCleartextPassword => {
                    frontend::password_message(password()?, &mut self.wbuf)?;
                }
                backend::Message::AuthenticationMd5Password(body) => {
                    let hash = postgres_protocol::authentication::md5_hash(
                        cfg.user.as_bytes(),
                        password()?,
                        body.salt(),
                    );
                    frontend::password_message(hash.as_bytes(), &mut self.wbuf)?;
                }
                backend::Message::AuthenticationSasl(body) => {
                    let mut mechanisms = body.mechanisms();
                    let (mut plain, mut plus) = (false, false);
                    while let Some(m) = mechanisms.next()? {
                        plain |= m == sasl::SCRAM_SHA_256;
                        plus |= m == sasl::SCRAM_SHA_256_PLUS;
                    }
                    // over TLS, bind the exchange to the server's certificate when the
                    // server offers it (SCRAM-SHA-256-PLUS), as libpq does
                    let end_point = self.stream.tls_server_end_point();
                    let (mechanism, binding) = match end_point {
                        Some(h) if plus => (
                            sasl::SCRAM_SHA_256_PLUS,
                            sasl::ChannelBinding::tls_server_end_point(h),
                        ),
                        Some(_) => (sasl::SCRAM_SHA_256, sasl::ChannelBinding::unrequested()),
                        None => (sasl::SCRAM_SHA_256, sasl::ChannelBinding::unsupported()),
                    };
                    if !plain && mechanism != sasl::SCRAM_SHA_256_PLUS {
                        return Err(WireError::new(ErrorKind::Auth(
                            "the server offers no SASL mechanism the wire driver knows \
                             (SCRAM-SHA-256); set driver: tokio-postgres"
                                .into(),
                        )));
                    }
                    let s = ScramSha256::new(password()?, binding);
                    frontend::sasl_initial_response(mechanism, s.message(), &mut self.wbuf)?;
                    scram = Some(s);
                }
                backend::Message::AuthenticationSaslContinue(body) => {
                    let s = scram
                        .as_mut()
                        .ok_or_else(|| WireError::protocol("SASL continue before SASL start"))?;
                    s.update(body.data())?;
                    frontend::sasl_response(s.message(), &mut self.wbuf)?;
                }
                backend::Message::AuthenticationSaslFinal(body) => {
                    let s = scram
                        .as_mut()
                        .ok_or_else(|| WireError::protocol("SASL final before SASL start"))?;
                    s.finish(body.data())?;
                    continue;
                }
                backend::Message::ErrorResponse(body) => return Err(db_error(&body)),
                backend::Message::NoticeResponse(_) => continue,
                _ => {
                    return Err(WireError::new(ErrorKind::Auth(
                        "the server asks for an authentication method the wire driver does not \
                         do (it does trust, password, md5 and SCRAM-SHA-256); set driver: \
                         tokio-postgres"
                            .into(),
                    )))
                }
            }
            self.flush().await?;
        }
    }
}
