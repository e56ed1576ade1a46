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

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use fallible_iterator::FallibleIterator;
use postgres_protocol::authentication::sasl::{self, ScramSha256};
use postgres_protocol::message::{backend, frontend};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type};

use crate::config::SslMode;
use crate::core::error::classify_code;
use crate::core::ErrorClass;

/// Where and how to connect (built from the run's target; holds the password, never printed).
#[derive(Clone)]
pub struct WireConfig {
    endpoint: Endpoint,
    user: String,
    dbname: String,
    password: Option<Vec<u8>>,
    options: Option<String>,
    application_name: Option<String>,
    connect_timeout: Duration,
    sslmode: SslMode,
}

#[derive(Clone, Debug)]
enum Endpoint {
    Tcp(String, u16),
    Unix(PathBuf),
}

impl fmt::Debug for WireConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireConfig")
            .field("endpoint", &self.endpoint)
            .field("user", &self.user)
            .field("dbname", &self.dbname)
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
        }
    }
}

/// A failure of the wire driver: the server's error, or a lost connection.
#[derive(Debug)]
pub struct WireError(Box<ErrorKind>);

#[derive(Debug)]
enum ErrorKind {
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
    /// The server (or sslmode) wants TLS, which this driver does not do.
    TlsRequired,
    /// An authentication method this driver cannot answer, or no password for one.
    Auth(String),
    /// A parameter could not be encoded for its type.
    Encode(String),
    /// The server sent something the protocol does not allow here.
    Protocol(String),
}

impl WireError {
    fn new(kind: ErrorKind) -> Self {
        WireError(Box::new(kind))
    }

    /// The workload has no wire-driver transactions.
    pub fn unsupported() -> Self {
        Self::new(ErrorKind::Encode(
            "this workload does not run on the wire driver; set driver: tokio-postgres".into(),
        ))
    }

    fn protocol(what: impl Into<String>) -> Self {
        Self::new(ErrorKind::Protocol(what.into()))
    }

    /// How the engine counts it.
    pub fn class(&self) -> ErrorClass {
        match &*self.0 {
            ErrorKind::Db { code, .. } => classify_code(code),
            ErrorKind::Io(_) | ErrorKind::Closed | ErrorKind::Timeout => ErrorClass::ConnectionLost,
            _ => ErrorClass::Other,
        }
    }

    /// The SQLSTATE of a server error.
    pub fn code(&self) -> Option<&SqlState> {
        match &*self.0 {
            ErrorKind::Db { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The server's message alone (no severity or code), for connection messages.
    pub fn db_message(&self) -> Option<&str> {
        match &*self.0 {
            ErrorKind::Db { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The server wants TLS (or sslmode requires it): use the tokio-postgres driver.
    pub fn is_tls_required(&self) -> bool {
        matches!(&*self.0, ErrorKind::TlsRequired)
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
            ErrorKind::TlsRequired => f.write_str(
                "the server asks for TLS, which the wire driver does not do; \
                 set driver: tokio-postgres (or database.sslmode: disable)",
            ),
            ErrorKind::Auth(m) | ErrorKind::Encode(m) => f.write_str(m),
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

/// A statement prepared on one connection.
#[derive(Debug)]
pub struct WireStmt {
    name: String,
    params: Vec<Type>,
    columns: usize,
}

impl WireStmt {
    /// Parameter types the server inferred.
    pub fn params(&self) -> &[Type] {
        &self.params
    }

    /// Number of result columns.
    pub fn columns(&self) -> usize {
        self.columns
    }
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    #[inline]
    async fn read_buf(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read_buf(buf).await,
            Stream::Unix(s) => s.read_buf(buf).await,
        }
    }

    #[inline]
    async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.write_all(buf).await,
            Stream::Unix(s) => s.write_all(buf).await,
        }
    }

    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.try_write(buf),
            Stream::Unix(s) => s.try_write(buf),
        }
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Space kept free in the read buffer before each read.
const READ_CHUNK: usize = 8 * 1024;

/// One server connection, owned by one worker at a time.
pub struct WireConn {
    stream: Stream,
    rbuf: BytesMut,
    wbuf: BytesMut,
    /// A request went out and its ReadyForQuery has not been read: if that is still so
    /// when the connection is offered again, the exchange was abandoned midway (the
    /// transaction's future was dropped) and the connection cannot be used.
    busy: bool,
    broken: bool,
    id: u64,
    cache: HashMap<String, Arc<WireStmt>>,
    prepared: u32,
}

impl fmt::Debug for WireConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireConn").field("id", &self.id).finish()
    }
}

/// What a statement returned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Executed {
    /// DataRow messages received.
    pub rows: u64,
    /// The count in the command tag (rows affected or returned).
    pub tag_rows: u64,
}

impl WireConn {
    /// Connects, authenticates and waits until the server is ready for queries.
    pub async fn connect(cfg: &WireConfig) -> Result<WireConn, WireError> {
        match tokio::time::timeout(cfg.connect_timeout, Self::connect_inner(cfg)).await {
            Ok(r) => r,
            Err(_) => Err(WireError::new(ErrorKind::Timeout)),
        }
    }

    async fn connect_inner(cfg: &WireConfig) -> Result<WireConn, WireError> {
        let stream = match &cfg.endpoint {
            Endpoint::Tcp(host, port) => {
                let s = TcpStream::connect((host.as_str(), *port)).await?;
                s.set_nodelay(true)?;
                Stream::Tcp(s)
            }
            Endpoint::Unix(path) => Stream::Unix(UnixStream::connect(path).await?),
        };
        let mut c = WireConn {
            stream,
            rbuf: BytesMut::with_capacity(READ_CHUNK),
            wbuf: BytesMut::with_capacity(1024),
            busy: true,
            broken: false,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            cache: HashMap::new(),
            prepared: 0,
        };
        if matches!(c.stream, Stream::Tcp(_)) && cfg.sslmode != SslMode::Disable {
            // as libpq's prefer: ask, and go on in the clear if the server says no
            frontend::ssl_request(&mut c.wbuf);
            c.flush().await?;
            while c.rbuf.is_empty() {
                c.fill().await?;
            }
            let answer = c.rbuf[0];
            c.rbuf.advance(1);
            if answer != b'N' || cfg.sslmode != SslMode::Prefer {
                return Err(WireError::new(ErrorKind::TlsRequired));
            }
        }
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
        c.finish_exchange(None).await?;
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
                    let mut found = false;
                    while let Some(m) = mechanisms.next()? {
                        found |= m == sasl::SCRAM_SHA_256;
                    }
                    if !found {
                        return Err(WireError::new(ErrorKind::Auth(
                            "the server offers no SASL mechanism the wire driver knows \
                             (SCRAM-SHA-256); set driver: tokio-postgres"
                                .into(),
                        )));
                    }
                    let s = ScramSha256::new(password()?, sasl::ChannelBinding::unsupported());
                    frontend::sasl_initial_response(
                        sasl::SCRAM_SHA_256,
                        s.message(),
                        &mut self.wbuf,
                    )?;
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

    /// A number unique to this connection in the process (for per-connection caches).
    #[inline]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Whether the connection must not be used again (lost, or abandoned mid-exchange).
    pub fn is_broken(&self) -> bool {
        self.broken || self.busy
    }

    /// Prepares `sql` (parameter types inferred by the server).
    pub async fn prepare(&mut self, sql: &str) -> Result<WireStmt, WireError> {
        self.prepared += 1;
        let name = format!("sbw{}", self.prepared);
        self.start()?;
        frontend::parse(&name, sql, std::iter::empty(), &mut self.wbuf)?;
        frontend::describe(b'S', &name, &mut self.wbuf)?;
        frontend::sync(&mut self.wbuf);
        self.flush().await?;
        let mut params = Vec::new();
        let mut columns = 0;
        let mut failed = None;
        loop {
            let (tag, len) = self.next_frame_after(&mut failed).await?;
            match tag {
                b'1' | b'n' => {} // ParseComplete, NoData
                b't' => {
                    let mut m = self.rbuf.split_to(len);
                    if let Some(backend::Message::ParameterDescription(body)) =
                        backend::Message::parse(&mut m)?
                    {
                        let mut oids = body.parameters();
                        while let Some(oid) = oids.next()? {
                            match Type::from_oid(oid) {
                                Some(t) => params.push(t),
                                None if failed.is_none() => {
                                    failed = Some(WireError::new(ErrorKind::Encode(format!(
                                        "parameter ${} has a type (oid {oid}) the wire driver \
                                         cannot encode; set driver: tokio-postgres",
                                        params.len() + 1
                                    ))))
                                }
                                None => {}
                            }
                        }
                    }
                    continue;
                }
                b'T' => {
                    let mut m = self.rbuf.split_to(len);
                    if let Some(backend::Message::RowDescription(body)) =
                        backend::Message::parse(&mut m)?
                    {
                        columns = body.fields().count()?;
                    }
                    continue;
                }
                b'E' => {
                    let e = self.take_error(len)?;
                    failed.get_or_insert(e);
                    continue;
                }
                b'Z' => {
                    self.rbuf.advance(len);
                    self.busy = false;
                    break;
                }
                b'N' | b'S' | b'A' => {}
                other => return Err(self.unexpected(other)),
            }
            self.rbuf.advance(len);
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(WireStmt {
                name,
                params,
                columns,
            }),
        }
    }

    /// The statement for `sql`, prepared once on this connection.
    pub async fn prepare_cached(&mut self, sql: &str) -> Result<Arc<WireStmt>, WireError> {
        if let Some(s) = self.cache.get(sql) {
            return Ok(s.clone());
        }
        let s = Arc::new(self.prepare(sql).await?);
        self.cache.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    /// Runs a prepared statement with `params` (binary format); result rows are counted
    /// and dropped.
    pub async fn execute(
        &mut self,
        stmt: &WireStmt,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Executed, WireError> {
        if params.len() != stmt.params.len() {
            return Err(WireError::new(ErrorKind::Encode(format!(
                "the statement takes {} parameters, {} given",
                stmt.params.len(),
                params.len()
            ))));
        }
        self.start()?;
        let bound = frontend::bind(
            "",
            &stmt.name,
            Some(1),
            params.iter().zip(&stmt.params),
            |(p, ty), buf| match p.to_sql_checked(ty, buf)? {
                IsNull::No => Ok(postgres_protocol::IsNull::No),
                IsNull::Yes => Ok(postgres_protocol::IsNull::Yes),
            },
            Some(1),
            &mut self.wbuf,
        );
        if let Err(e) = bound {
            // nothing was sent: the connection is still in step
            self.wbuf.clear();
            self.busy = false;
            return Err(WireError::new(ErrorKind::Encode(match e {
                frontend::BindError::Conversion(e) => format!("cannot encode a parameter: {e}"),
                frontend::BindError::Serialization(e) => format!("cannot encode a parameter: {e}"),
            })));
        }
        frontend::execute("", 0, &mut self.wbuf)?;
        frontend::sync(&mut self.wbuf);
        self.flush().await?;
        self.finish_exchange(Some(Executed::default())).await
    }

    /// Runs SQL over the simple query protocol (several statements allowed; results dropped).
    pub async fn batch_execute(&mut self, sql: &str) -> Result<Executed, WireError> {
        self.start()?;
        frontend::query(sql, &mut self.wbuf)?;
        self.flush().await?;
        self.finish_exchange(Some(Executed::default())).await
    }

    /// Sends Terminate and closes the socket.
    pub async fn close(mut self) {
        self.wbuf.clear();
        frontend::terminate(&mut self.wbuf);
        let _ = self.flush().await;
        self.broken = true; // nothing more to say on drop
    }

    /// Reads the rest of an exchange up to ReadyForQuery: rows, the command tag, the
    /// first error (the server skips to Sync after one).
    async fn finish_exchange(&mut self, mut out: Option<Executed>) -> Result<Executed, WireError> {
        let mut failed = None;
        loop {
            let (tag, len) = self.next_frame_after(&mut failed).await?;
            match tag {
                b'D' => {
                    if let Some(o) = &mut out {
                        o.rows += 1;
                    }
                }
                b'C' => {
                    if let Some(o) = &mut out {
                        o.tag_rows = tag_rows(&self.rbuf[5..len]);
                    }
                }
                b'Z' => {
                    self.rbuf.advance(len);
                    self.busy = false;
                    return match failed {
                        Some(e) => Err(e),
                        None => Ok(out.unwrap_or_default()),
                    };
                }
                b'E' => {
                    let e = self.take_error(len)?;
                    failed.get_or_insert(e);
                    continue;
                }
                // BindComplete, ParseComplete, CloseComplete, NoData, EmptyQuery,
                // RowDescription (simple protocol), notices, parameter status,
                // notifications, BackendKeyData, PortalSuspended
                b'2' | b'1' | b'3' | b'n' | b'I' | b'T' | b'N' | b'S' | b'A' | b'K' | b's' => {}
                other => return Err(self.unexpected(other)),
            }
            self.rbuf.advance(len);
        }
    }

    /// Marks the start of an exchange.
    #[inline]
    fn start(&mut self) -> Result<(), WireError> {
        if self.is_broken() {
            return Err(WireError::new(ErrorKind::Closed));
        }
        self.busy = true;
        self.wbuf.clear();
        Ok(())
    }

    #[inline]
    async fn flush(&mut self) -> Result<(), WireError> {
        let r = self.stream.write_all(&self.wbuf).await;
        self.wbuf.clear();
        r.map_err(|e| self.lost(e))
    }

    /// Reads more from the socket.
    #[inline]
    async fn fill(&mut self) -> Result<(), WireError> {
        if self.rbuf.capacity() - self.rbuf.len() < READ_CHUNK / 2 {
            self.rbuf.reserve(READ_CHUNK);
        }
        match self.stream.read_buf(&mut self.rbuf).await {
            Ok(0) => {
                self.broken = true;
                Err(WireError::new(ErrorKind::Closed))
            }
            Ok(_) => Ok(()),
            Err(e) => Err(self.lost(e)),
        }
    }

    /// The tag and total length of the next complete message in the read buffer.
    #[inline]
    async fn next_frame(&mut self) -> Result<(u8, usize), WireError> {
        loop {
            if let Some(h) = backend::Header::parse(&self.rbuf)? {
                let total = h.len() as usize + 1;
                if self.rbuf.len() >= total {
                    return Ok((h.tag(), total));
                }
                self.rbuf.reserve(total - self.rbuf.len());
            }
            self.fill().await?;
        }
    }

    /// [`Self::next_frame`] within an exchange that may already have failed: when the
    /// connection then ends (a FATAL error, e.g. the server shutting down, is followed by
    /// EOF), the server's error is the one to report.
    #[inline]
    async fn next_frame_after(
        &mut self,
        failed: &mut Option<WireError>,
    ) -> Result<(u8, usize), WireError> {
        match self.next_frame().await {
            Ok(f) => Ok(f),
            Err(e) => Err(failed.take().unwrap_or(e)),
        }
    }

    /// The next message, parsed (connection set-up only).
    async fn next_message(&mut self) -> Result<backend::Message, WireError> {
        let (_, len) = self.next_frame().await?;
        let mut m = self.rbuf.split_to(len);
        backend::Message::parse(&mut m)?.ok_or_else(|| WireError::protocol("incomplete message"))
    }

    fn take_error(&mut self, len: usize) -> Result<WireError, WireError> {
        let mut m = self.rbuf.split_to(len);
        match backend::Message::parse(&mut m)? {
            Some(backend::Message::ErrorResponse(body)) => Ok(db_error(&body)),
            _ => Err(WireError::protocol("malformed error response")),
        }
    }

    fn unexpected(&mut self, tag: u8) -> WireError {
        self.broken = true;
        WireError::protocol(format!("unexpected message '{}'", tag as char))
    }

    fn lost(&mut self, e: io::Error) -> WireError {
        self.broken = true;
        WireError::new(ErrorKind::Io(e))
    }
}

impl Drop for WireConn {
    fn drop(&mut self) {
        if !self.broken {
            // a clean goodbye, so the server does not log an unexpected EOF; best effort
            let mut b = BytesMut::with_capacity(5);
            frontend::terminate(&mut b);
            let _ = self.stream.try_write(&b);
        }
    }
}

/// The count at the end of a CommandComplete tag (`SELECT 3`, `INSERT 0 1`, `UPDATE 2`).
fn tag_rows(body: &[u8]) -> u64 {
    let tag = body.strip_suffix(&[0]).unwrap_or(body);
    let last = tag.rsplit(|b| *b == b' ').next().unwrap_or_default();
    let mut n: u64 = 0;
    for d in last {
        if !d.is_ascii_digit() {
            return 0;
        }
        n = n * 10 + u64::from(d - b'0');
    }
    n
}

fn db_error(body: &backend::ErrorResponseBody) -> WireError {
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

/// Pooled wire connections.
pub type WirePool = deadpool::managed::Pool<WireManager>;

/// Creates and recycles wire connections for the pool.
#[derive(Debug)]
pub struct WireManager {
    cfg: WireConfig,
}

impl WireManager {
    /// A manager for `cfg`.
    pub fn new(cfg: WireConfig) -> Self {
        WireManager { cfg }
    }

    /// Its connection settings.
    pub fn config(&self) -> &WireConfig {
        &self.cfg
    }
}

impl deadpool::managed::Manager for WireManager {
    type Type = WireConn;
    type Error = WireError;

    async fn create(&self) -> Result<WireConn, WireError> {
        WireConn::connect(&self.cfg).await
    }

    async fn recycle(
        &self,
        conn: &mut WireConn,
        _: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<WireError> {
        if conn.is_broken() {
            Err(deadpool::managed::RecycleError::message(
                "connection lost or abandoned mid-exchange",
            ))
        } else {
            Ok(())
        }
    }
}

/// A worker's prepared statements on the wire connection it last used (as
/// [`crate::core::Statements`] for tokio-postgres).
#[derive(Debug)]
pub struct WireStatements {
    sql: &'static [&'static str],
    conn: u64,
    prepared: Vec<Option<Arc<WireStmt>>>,
}

impl WireStatements {
    /// A set over `sql`; statement `i` is `sql[i]`.
    pub fn new(sql: &'static [&'static str]) -> Self {
        WireStatements {
            sql,
            conn: 0,
            prepared: vec![None; sql.len()],
        }
    }

    /// Statement `i`, prepared on `conn`.
    #[inline]
    pub async fn get(&mut self, conn: &mut WireConn, i: usize) -> Result<&WireStmt, WireError> {
        if self.conn != conn.id() {
            self.conn = conn.id();
            self.prepared.iter_mut().for_each(|s| *s = None);
        }
        if self.prepared[i].is_none() {
            self.prepared[i] = Some(conn.prepare_cached(self.sql[i]).await?);
        }
        Ok(self.prepared[i].as_deref().expect("prepared above"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_tags_give_row_counts() {
        assert_eq!(tag_rows(b"SELECT 3\0"), 3);
        assert_eq!(tag_rows(b"INSERT 0 12\0"), 12);
        assert_eq!(tag_rows(b"UPDATE 0\0"), 0);
        assert_eq!(tag_rows(b"BEGIN\0"), 0);
        assert_eq!(tag_rows(b"\0"), 0);
    }

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
