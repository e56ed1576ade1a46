//! Database access: connect options and TLS, the pool, transient connections, friendly
//! connection errors, server facts for reports, the schema marker, and the embedded
//! throwaway cluster.

mod connector;
pub mod embedded;
pub(crate) mod marker;
pub(crate) mod owned;
pub(crate) mod pg_session;
pub mod wire;
mod wire_session;

pub(crate) use connector::{PgConnector, PgManager, PgTransient, WireConnector, WireTransient};
pub(crate) use wire_session::tx_error as wire_tx_error;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::config::SslMode as PgSslMode;

use crate::config::{DatabasePlan, SslMode};
use crate::core::error::classify_code;
use crate::core::{Conn, ErrorClass};

/// A resolved connection target (after the embedded cluster, if any, has started).
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// Driver config (holds the password; never printed).
    pub(crate) pg: tokio_postgres::Config,
    /// `host:port/dbname as user`, for messages and reports (no password).
    pub(crate) display: String,
    /// TLS mode.
    pub(crate) sslmode: SslMode,
    /// Root certificates, client certificate and key.
    pub(crate) tls_files: wire::TlsFiles,
    /// With sslmode allow: whether the server refused a connection in the clear, so
    /// tokio-postgres connections use TLS (found by the first [`Target::connect_once`]).
    allow_needs_tls: Arc<OnceLock<bool>>,
}

/// Errors connecting to the server, each a one-line message telling the user what to do.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    /// Could not connect or authenticate.
    #[error("{0}")]
    Connect(String),
    /// TLS setup failed.
    #[error("{0}")]
    Tls(String),
    /// A query failed.
    #[error("{what}: {msg}")]
    Query {
        /// What was being done.
        what: String,
        /// The server's message.
        msg: String,
    },
}

impl Target {
    /// Builds the driver config from a plan; host/port/user may be replaced by an embedded cluster's.
    pub(crate) fn from_plan(
        db: &DatabasePlan,
        embedded: Option<&embedded::EmbeddedCluster>,
    ) -> Self {
        let mut pg = tokio_postgres::Config::new();
        let (host, port, user) = match embedded {
            Some(c) => (c.host().to_string(), c.port(), c.user().to_string()),
            None => (db.host.clone(), db.port, db.username.clone()),
        };
        let dbname = match embedded {
            Some(c) if db.dbname == "postgres" => c.dbname().to_string(),
            _ => db.dbname.clone(),
        };
        pg.host(&host)
            .port(port)
            .user(&user)
            .dbname(&dbname)
            .application_name(db.application_name.as_deref().unwrap_or("stormbench"))
            .connect_timeout(db.connect_timeout.0)
            .keepalives(true);
        let mut options = Vec::new();
        if let Some(level) = db.isolation {
            // a startup option: spaces in the value are escaped with a backslash
            let value = level.setting().replace(' ', "\\ ");
            options.push(format!("-c default_transaction_isolation={value}"));
        }
        if db.read_only && embedded.is_none() {
            options.push("-c default_transaction_read_only=on".to_string());
        }
        if !options.is_empty() {
            pg.options(options.join(" "));
        }
        if let Some(p) = &db.password {
            pg.password(p.expose());
        }
        let sslmode = if embedded.is_some() {
            SslMode::Disable
        } else {
            db.sslmode
        };
        pg.ssl_mode(pg_ssl_mode(sslmode));
        Target {
            display: format!("{host}:{port}/{dbname} as {user}"),
            pg,
            sslmode,
            tls_files: wire::TlsFiles {
                rootcert: db.sslrootcert.clone(),
                cert: db.sslcert.clone(),
                key: db.sslkey.clone(),
            },
            allow_needs_tls: Arc::default(),
        }
    }

    /// This target with server settings for every session it opens (startup options
    /// `-c name=value`, so they hold from the first statement, on every driver).
    pub(crate) fn with_settings(&self, settings: &[(String, String)]) -> Target {
        let mut t = self.clone();
        if settings.is_empty() {
            return t;
        }
        let mut options: Vec<String> =
            t.pg.get_options()
                .map(|o| vec![o.to_string()])
                .unwrap_or_default();
        for (k, v) in settings {
            // a startup option: backslashes and spaces in the value are escaped
            let v = v.replace('\\', "\\\\").replace(' ', "\\ ");
            options.push(format!("-c {k}={v}"));
        }
        t.pg.options(options.join(" "));
        t
    }

    /// The sslmode of tokio-postgres connections: allow is settled by the first
    /// connection (in the clear until then).
    fn pg_sslmode(&self) -> SslMode {
        match self.sslmode {
            SslMode::Allow if self.allow_needs_tls.get() == Some(&true) => SslMode::Require,
            SslMode::Allow => SslMode::Disable,
            m => m,
        }
    }

    /// The tokio-postgres config and TLS connector of the next connection (set-up and a
    /// run's own pool and transient connections alike).
    pub(crate) fn pg_connect_args(
        &self,
    ) -> Result<
        (
            tokio_postgres::Config,
            Option<postgres_native_tls::MakeTlsConnector>,
        ),
        DbError,
    > {
        let mode = self.pg_sslmode();
        let mut pg = self.pg.clone();
        pg.ssl_mode(pg_ssl_mode(mode));
        let tls = match mode {
            SslMode::Disable => None,
            m => Some(tls_connector(m, &self.tls_files)?),
        };
        Ok((pg, tls))
    }

    /// Builds the TLS connector its connections will use, reading the root certificates,
    /// client certificate and key, so that a problem with one of those files is named
    /// (as the bad configuration it is) before anything connects.
    pub(crate) fn check_tls_files(&self) -> Result<(), DbError> {
        match self.sslmode {
            SslMode::Disable => Ok(()),
            m => tls_connector(m, &self.tls_files).map(drop),
        }
    }

    /// The wire driver's settings for this target.
    pub(crate) fn wire_config(&self) -> wire::WireConfig {
        wire::WireConfig::new(&self.pg, self.sslmode).with_tls_files(self.tls_files.clone())
    }

    /// A connection manager with this target's TLS setting.
    pub(crate) fn manager(&self) -> Result<Manager, DbError> {
        let cfg = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        Ok(match self.pg_connect_args()? {
            (pg, None) => Manager::from_config(pg, tokio_postgres::NoTls, cfg),
            (pg, Some(tls)) => Manager::from_config(pg, tls, cfg),
        })
    }

    /// A pool of up to `size` tokio-postgres connections (opened lazily), for set-up and
    /// loading.
    pub(crate) fn pool(&self, size: usize) -> Result<Pool, DbError> {
        Pool::builder(self.manager()?)
            .max_size(size)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(connect_timeout(&self.pg)))
            .build()
            .map_err(|e| DbError::Connect(format!("cannot build the connection pool: {e}")))
    }

    /// Opens one connection outside any pool, turning failures into actionable messages.
    pub(crate) async fn connect_once(&self) -> Result<Conn, DbError> {
        let (pg, tls) = self.pg_connect_args()?;
        let mut first = connect_raw(&pg, tls.as_ref()).await;
        if self.sslmode == SslMode::Allow && self.allow_needs_tls.get().is_none() {
            // allow: a server that refuses the connection in the clear gets one with TLS,
            // and every later tokio-postgres connection follows what worked
            let refused = matches!(&first, Err(ConnectError::Pg(e)) if e.code().is_some());
            let _ = self.allow_needs_tls.set(refused);
            if refused {
                let (pg, tls) = self.pg_connect_args()?;
                first = connect_raw(&pg, tls.as_ref()).await;
            }
        }
        let (client, task) =
            first.map_err(|e| DbError::Connect(connect_error_message(&e, self)))?;
        Ok(deadpool_postgres::ClientWrapper::new(client, task))
    }
}

/// A failed connection attempt.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    /// The driver's error (refused, authentication, TLS, a server error).
    #[error(transparent)]
    Pg(#[from] tokio_postgres::Error),
    /// The server accepted the TCP connection but did not finish the start-up exchange.
    #[error("the server accepted the connection but did not complete the start-up within {}s (connect_timeout): timed out", .0.as_secs_f64())]
    TimedOut(Duration),
}

/// How long a whole connection start-up (TCP, TLS, authentication, parameters) may take.
pub(crate) fn connect_timeout(pg: &tokio_postgres::Config) -> Duration {
    pg.get_connect_timeout()
        .copied()
        .unwrap_or(Duration::from_secs(10))
}

/// Connects (the whole start-up bounded by the connect timeout) and spawns the connection
/// task.
pub(crate) async fn connect_raw(
    pg: &tokio_postgres::Config,
    tls: Option<&postgres_native_tls::MakeTlsConnector>,
) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), ConnectError> {
    let limit = connect_timeout(pg);
    match tokio::time::timeout(limit, connect_unbounded(pg, tls)).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(ConnectError::TimedOut(limit)),
    }
}

async fn connect_unbounded(
    pg: &tokio_postgres::Config,
    tls: Option<&postgres_native_tls::MakeTlsConnector>,
) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), tokio_postgres::Error> {
    Ok(match tls {
        None => {
            let (c, conn) = pg.connect(tokio_postgres::NoTls).await?;
            (
                c,
                tokio::spawn(async move {
                    let _ = conn.await;
                }),
            )
        }
        Some(tls) => {
            let (c, conn) = pg.connect(tls.clone()).await?;
            (
                c,
                tokio::spawn(async move {
                    let _ = conn.await;
                }),
            )
        }
    })
}

/// The TLS connector for a mode and certificate files, built once per process: building
/// one loads the system certificate store, which costs far more than a connection.
pub(crate) fn tls_connector(
    mode: SslMode,
    files: &wire::TlsFiles,
) -> Result<postgres_native_tls::MakeTlsConnector, DbError> {
    type Key = (SslMode, wire::TlsFiles);
    type Built = Result<postgres_native_tls::MakeTlsConnector, String>;
    static BUILT: Mutex<Vec<(Key, Built)>> = Mutex::new(Vec::new());
    // the modes that do not verify share one connector without roots
    let key = match mode {
        SslMode::Disable | SslMode::Allow | SslMode::Prefer | SslMode::Require => (
            SslMode::Require,
            wire::TlsFiles {
                rootcert: None,
                ..files.clone()
            },
        ),
        m => (m, files.clone()),
    };
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, b)) = built.iter().find(|(k, _)| *k == key) {
        return b.clone().map_err(DbError::Tls);
    }
    let b = wire::tls_connector(key.0, &key.1).map(postgres_native_tls::MakeTlsConnector::new);
    built.push((key, b.clone()));
    b.map_err(DbError::Tls)
}

/// tokio-postgres's sslmode for ours (it verifies nothing itself: the connector does).
fn pg_ssl_mode(mode: SslMode) -> PgSslMode {
    match mode {
        SslMode::Disable | SslMode::Allow => PgSslMode::Disable,
        SslMode::Prefer => PgSslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => PgSslMode::Require,
    }
}

/// A one-line message for a failed connection attempt that says what to check.
pub(crate) fn connect_error_message(e: &ConnectError, t: &Target) -> String {
    match e {
        ConnectError::Pg(e) => pg_connect_error_message(e, t),
        ConnectError::TimedOut(_) => connect_message(None, e.to_string(), &t.display),
    }
}

/// A one-line message for a failed tokio-postgres connection attempt.
fn pg_connect_error_message(e: &tokio_postgres::Error, t: &Target) -> String {
    let detail = e
        .as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_else(|| error_chain(e));
    connect_message(e.code().map(|c| c.code()), detail, &t.display)
}

/// `cannot connect to <target>: <detail>; <what to check>`, the hint chosen by the SQLSTATE
/// or the detail.
fn connect_message(code: Option<&str>, detail: String, target: &str) -> String {
    let hint = match code {
        Some("28000") if detail.contains("certificate") => {
            "give the role's client certificate: database.sslcert and database.sslkey (or PGSSLCERT and PGSSLKEY)"
        }
        Some("28P01") | Some("28000") => {
            "check database.username and the password (database.password, STORMBENCH_DB_PASSWORD, PGPASSWORD or ~/.pgpass)"
        }
        Some("3D000") => "create the database (createdb) or set database.dbname",
        Some("53300") => {
            "too many clients: the server has no free connection slots; lower connections (a load uses up to 8) or raise max_connections"
        }
        Some("57P03") => "the server is starting up or shutting down; try again shortly",
        _ if detail.contains("refused") => {
            "is the server running? check database.host and database.port, or use --embedded"
        }
        _ if detail.contains("timed out") || detail.contains("timeout") => {
            "the server did not answer; check database.host, database.port and the network"
        }
        _ if not_postgres(&detail) => {
            "the other end closed the connection or answered in another protocol than PostgreSQL's (another service on that port, or a proxy); check database.host and database.port"
        }
        _ if detail.contains("server does not support TLS") => wire::NO_TLS,
        _ if detail.contains("hostname mismatch") => {
            "the server's certificate does not name database.host: connect by a name it carries, or set database.sslmode: verify-ca"
        }
        _ if detail.contains("certificate verify failed") => wire::NOT_VERIFIED,
        _ => "check the database section of the config",
    };
    format!("cannot connect to {target}: {detail}; {hint}")
}

/// Whether a start-up failure without a SQLSTATE reads as an answer PostgreSQL never gives:
/// bytes that are no message (an HTTP or SSH banner), a close before any answer, a TLS
/// handshake with something that only looked like a yes to the TLS request.
fn not_postgres(detail: &str) -> bool {
    [
        "bytes remaining on stream",
        "early eof",
        "connection closed by the server",
        "wrong version number",
        "protocol error",
        "unexpected message",
        "invalid message",
    ]
    .iter()
    .any(|s| detail.contains(s))
}

pub(crate) use crate::core::error_chain;

/// How the engine counts a wire driver error: the server's by its SQLSTATE, a lost
/// connection as such, the driver's own as other.
pub fn classify_wire(e: &wire::WireError) -> ErrorClass {
    match e.code() {
        Some(code) => classify_code(code),
        None if e.is_connection_lost() => ErrorClass::ConnectionLost,
        None => ErrorClass::Other,
    }
}

/// A one-line message for a wire pool error.
pub(crate) fn wire_pool_error_message(
    e: &deadpool::managed::PoolError<wire::WireError>,
    t: &Target,
) -> String {
    pool_message(e, t, |e| wire_connect_error_message(e, t))
}

/// A one-line message for a failed wire connection attempt.
pub(crate) fn wire_connect_error_message(e: &wire::WireError, t: &Target) -> String {
    wire_connect_message(e, &t.display)
}

fn wire_connect_message(e: &wire::WireError, target: &str) -> String {
    let detail = e
        .db_message()
        .map(str::to_string)
        .unwrap_or_else(|| error_chain(e));
    // the driver's own TLS failures already say what to check, unless the other end only
    // looked like a server agreeing to TLS
    if e.is_tls() && !not_postgres(&detail) {
        return format!("cannot connect to {target}: {detail}");
    }
    connect_message(e.code().map(|c| c.code()), detail, target)
}

/// Either driver's pool error; `backend` words a failed connection attempt.
fn pool_message<E: std::fmt::Display>(
    e: &deadpool::managed::PoolError<E>,
    t: &Target,
    backend: impl FnOnce(&E) -> String,
) -> String {
    match e {
        deadpool::managed::PoolError::Backend(e) => backend(e),
        deadpool::managed::PoolError::Timeout(_) => format!(
            "cannot connect to {}: timed out; check database.host, database.port and the network",
            t.display
        ),
        other => format!("cannot connect to {}: {other}", t.display),
    }
}

/// How long stormbench waits for one of its own short queries (server facts, the marker,
/// statistics) before it gives up on a server that does not answer.
pub(crate) const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long stormbench's own session waits for a lock another session holds (a table to
/// drop, truncate or read) before the step fails saying so, unless the session has a
/// `lock_timeout` of its own (the role's, the database's, a workload setting).
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(30);

/// Bounds `conn`'s lock waits by [`LOCK_WAIT`] where nothing bounds them yet, and (on
/// PostgreSQL 14 and later) has the server check every second that stormbench is still
/// there while a statement runs: a drop queued behind a lock is abandoned when stormbench
/// is gone, even killed, instead of running once the lock goes. The session, idle by design
/// while a run lasts, is kept from an `idle_session_timeout` of the role or the server (as
/// pg_dump keeps its own).
pub(crate) async fn bound_lock_waits(conn: &Conn) -> Result<(), tokio_postgres::Error> {
    conn.batch_execute(&format!(
        "SELECT set_config('lock_timeout', '{}s', false) \
         WHERE current_setting('lock_timeout') = '0'; \
         SELECT set_config('client_connection_check_interval', '1s', false), \
                set_config('idle_session_timeout', '0', false) \
         WHERE current_setting('server_version_num')::int >= 140000",
        LOCK_WAIT.as_secs()
    ))
    .await
}

/// `conn`, or a new session of `target` when the server has closed it (terminated by an
/// administrator or a pooler, a network blip): what stormbench still has to ask after a
/// run must not be lost with its idle session. The new session's lock waits are bounded
/// as the first one's were.
pub(crate) async fn reopened<'a>(
    target: &Target,
    conn: &'a Conn,
    fresh: &'a mut Option<Conn>,
) -> Result<&'a Conn, DbError> {
    if !conn.is_closed() {
        return Ok(conn);
    }
    log::warn!("stormbench's own session to the server was closed during the run; opening another");
    let c = target.connect_once().await?;
    if let Err(e) = bound_lock_waits(&c).await {
        return Err(DbError::Connect(crate::core::db_message(&e)));
    }
    Ok(fresh.insert(c))
}

/// How long a cancel request of stormbench's own statement may take: a server that answers
/// takes one in milliseconds; a frozen one would not act on it, and Ctrl-C must not wait.
const CANCEL_WAIT: Duration = Duration::from_secs(2);

/// Sends a cancel request for the statement `token`'s connection runs (with TLS when
/// `tls` is given), waiting at most `wait` for the server to take it; why it was not sent
/// otherwise.
pub(crate) async fn send_cancel(
    token: &tokio_postgres::CancelToken,
    tls: Option<&postgres_native_tls::MakeTlsConnector>,
    wait: Duration,
) -> Result<(), String> {
    let sent = match tls {
        Some(tls) => tokio::time::timeout(wait, token.cancel_query(tls.clone())).await,
        None => tokio::time::timeout(wait, token.cancel_query(tokio_postgres::NoTls)).await,
    };
    match sent {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(error_chain(&e)),
        Err(_) => Err(format!(
            "the server did not take the request within {}s",
            wait.as_secs()
        )),
    }
}

/// Cancels the statement running on `conn` (none running: nothing happens), waiting at
/// most [`CANCEL_WAIT`] for the server to take the request.
pub(crate) async fn cancel_running(target: &Target, conn: &Conn) {
    let sent = match target.pg_connect_args() {
        Ok((_, tls)) => send_cancel(&conn.cancel_token(), tls.as_ref(), CANCEL_WAIT).await,
        Err(e) => Err(e.to_string()),
    };
    if let Err(why) = sent {
        log::warn!("cannot cancel stormbench's own statement: {why}");
    }
}

/// How long the end of a run waits for its final server figures (transaction counts, the
/// last statistics sample): the grace period past the deadline.
pub(crate) const FINAL_QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// Seconds between liveness probes during a long step.
const PROBE_EVERY: Duration = Duration::from_secs(5);

/// How long a liveness probe may go unanswered.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

/// Resolves, with a message, only when the server stops answering: a probe connection of
/// its own asks `SELECT 1` every few seconds, and an answer that does not come within the
/// probe timeout ends the wait. Long steps (loading, index builds, consistency checks) race
/// against it, so a frozen server or a network partition cannot hold them forever. When no
/// probe connection can be made for another reason (no free slot), it never resolves.
pub(crate) async fn unresponsive(target: &Target) -> String {
    let conn = match target.connect_once().await {
        Ok(c) => c,
        Err(DbError::Connect(m)) if m.contains("timed out") => {
            return format!("the server stopped answering: {m}")
        }
        Err(_) => return std::future::pending().await,
    };
    loop {
        tokio::time::sleep(PROBE_EVERY).await;
        match tokio::time::timeout(PROBE_TIMEOUT, conn.simple_query("SELECT 1")).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return format!("the server stopped answering: {}", error_chain(&e)),
            Err(_) => {
                return format!(
                    "the server stopped answering: a probe query got no answer within {}s",
                    PROBE_TIMEOUT.as_secs()
                )
            }
        }
    }
}

/// Server facts for the report.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct ServerInfo {
    /// `server_version`.
    pub(crate) version: String,
    /// `server_version_num`.
    pub(crate) version_num: u32,
    /// Key settings (name -> value with unit).
    pub(crate) settings: std::collections::BTreeMap<String, String>,
}

/// Settings worth knowing when reading a benchmark result.
const KEY_SETTINGS: &[&str] = &[
    "max_connections",
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "maintenance_work_mem",
    "synchronous_commit",
    "fsync",
    "full_page_writes",
    "wal_level",
    "max_wal_size",
    "checkpoint_timeout",
    "default_transaction_isolation",
    "jit",
    "huge_pages",
    "shared_preload_libraries",
];

/// Reads the server version and key settings.
pub(crate) async fn server_info(conn: &Conn) -> Result<ServerInfo, DbError> {
    let q = |e: tokio_postgres::Error| DbError::Query {
        what: "reading server settings".into(),
        msg: crate::core::db_message(&e),
    };
    let row = conn
        .query_one(
            "SELECT current_setting('server_version'), current_setting('server_version_num')::int",
            &[],
        )
        .await
        .map_err(q)?;
    let names: Vec<String> = KEY_SETTINGS.iter().map(|s| s.to_string()).collect();
    let rows = conn
        .query(
            "SELECT name, setting || coalesce(' ' || unit, '') FROM pg_settings WHERE name = ANY($1) ORDER BY name",
            &[&names],
        )
        .await
        .map_err(q)?;
    Ok(ServerInfo {
        version: row.get(0),
        version_num: row.get::<_, i32>(1) as u32,
        settings: rows.iter().map(|r| (r.get(0), r.get(1))).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tls_failure_gets_one_hint() {
        let at = "db:5432/x as u";
        // tokio-postgres's words: the hint says what to check
        let pg = "error performing TLS handshake: error:0A000086:SSL routines::certificate \
                  verify failed: (self-signed certificate in certificate chain)";
        let m = connect_message(None, pg.into(), at);
        assert!(m.ends_with(wire::NOT_VERIFIED), "{m}");
        let m = connect_message(None, format!("{pg} (hostname mismatch)"), at);
        assert!(m.contains("does not name database.host"), "{m}");
        // the wire driver's messages already name their fix: none is added
        let wire = wire::WireError::tls_failure(&format!(
            "TLS handshake with db failed: certificate verify failed; {}",
            wire::NOT_VERIFIED
        ));
        let m = wire_connect_message(&wire, at);
        assert_eq!(m, format!("cannot connect to {at}: {wire}"));
        assert_eq!(m.matches("sslrootcert").count(), 1, "{m}");
        let refused = wire::WireError::tls_refused(SslMode::Require);
        let m = wire_connect_message(&refused, at);
        assert_eq!(m, format!("cannot connect to {at}: {refused}"));
        assert_eq!(m.matches(wire::NO_TLS).count(), 1, "{m}");
        // tokio-postgres's words for the same get the same advice
        let m = connect_message(
            None,
            "error performing TLS handshake: server does not support TLS".into(),
            at,
        );
        assert!(m.ends_with(wire::NO_TLS), "{m}");
        // an answer that only looked like a yes to the TLS request is still named as such
        let m = wire_connect_message(
            &wire::WireError::tls_failure("TLS handshake with db failed: wrong version number"),
            at,
        );
        assert!(m.contains("another protocol than PostgreSQL's"), "{m}");
    }
}
