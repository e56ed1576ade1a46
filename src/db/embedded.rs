//! Embedded throwaway PostgreSQL cluster.
//!
//! Runs the real PostgreSQL server binaries (`initdb`, `pg_ctl`, `postgres`)
//! on a fresh data directory inside a temporary directory. The server listens
//! only on a free 127.0.0.1 port and keeps its unix socket inside the
//! temporary directory, so it never collides with an installed cluster.
//! Dropping the [`EmbeddedCluster`] stops the server and removes everything.
//!
//! PostgreSQL refuses to run as root: when stormbench runs as root, the
//! server programs are run as the `postgres` OS user (via `runuser`, or `su`
//! when `runuser` is missing) and the temporary directory is handed to it.
//!
//! The cluster dies with its parent even when the parent cannot clean up (SIGKILL, the
//! OOM killer): a small watchdog shell, in a process group of its own, holds a pipe from
//! the parent and stops the server and removes the directory when the pipe closes without
//! a "done". An `owner` file in the directory names the parent (pid and start time), so a
//! later start removes clusters whose parent is gone and whose watchdog died too.

mod binaries;
mod runner;
mod watchdog;

pub(crate) use binaries::find_bindir;
use binaries::*;
use runner::*;
use watchdog::*;

use std::ffi::{CString, OsStr, OsString};
use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Address the embedded server listens on.
const HOST: &str = "127.0.0.1";
/// Superuser created by initdb.
const SUPERUSER: &str = "stormbench";
/// Database to connect to.
const DBNAME: &str = "postgres";
/// OS user that runs the server when stormbench runs as root.
const OS_USER: &str = "postgres";
/// Programs a bin dir must contain to run a cluster.
const SERVER_BINARIES: [&str; 3] = ["initdb", "pg_ctl", "postgres"];
/// Where distribution packages (Debian layout) install versioned servers.
const VERSIONED_ROOT: &str = "/usr/lib/postgresql";
/// Fallback directories searched for `runuser` / `su` beyond PATH.
const SYSTEM_BIN_DIRS: [&str; 4] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];
/// How many free ports to try when the chosen port gets taken meanwhile.
const PORT_ATTEMPTS: usize = 5;
/// Seconds pg_ctl waits for start and stop.
const PG_CTL_TIMEOUT_SECS: &str = "60";
/// Seconds the immediate stop of a cluster being dropped (at the end, after Ctrl-C) may
/// take before its processes are killed: a server that does not stop in that time is
/// frozen (stopped, swapped out), and the cluster is a throwaway one.
const DROP_STOP_SECS: &str = "10";
/// Server log lines quoted in a start error.
const LOG_TAIL_LINES: usize = 6;
/// Settings file written into the data dir and included by postgresql.conf.
const CONF_FILE: &str = "stormbench.conf";
/// Settings the cluster manages itself; callers may not override them.
const MANAGED_SETTINGS: [&str; 3] = ["port", "listen_addresses", "unix_socket_directories"];
/// Default `max_connections`, enough for typical load tests.
const DEFAULT_MAX_CONNECTIONS: &str = "200";

/// Options for starting a throwaway cluster.
#[derive(Debug, Clone, Default)]
pub struct EmbeddedOptions {
    /// Extra `-c name=value` server settings (e.g. ("max_connections","200")).
    pub settings: Vec<(String, String)>,
    /// Preferred major version (None = newest found).
    pub version: Option<u32>,
    /// Explicit bin dir overriding discovery (e.g. from config/env STORMBENCH_PG_BINDIR).
    pub bindir: Option<PathBuf>,
}

/// Everything that can go wrong while running an embedded cluster.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// Discovery found no usable server binaries anywhere.
    #[error(
        "no PostgreSQL server binaries found (initdb, pg_ctl, postgres); install the postgresql \
         package (apt-get install postgresql) or set database.host to use an existing server"
    )]
    NoBinaries,
    /// The explicitly configured bin dir lacks the server binaries.
    #[error(
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) in {}; point the PostgreSQL \
         bin dir setting (STORMBENCH_PG_BINDIR) at a directory that has them, or unset it",
        .0.display()
    )]
    BadBindir(PathBuf),
    /// Binaries exist, but none of the requested major version.
    #[error(
        "no PostgreSQL {wanted} server binaries found (found: {found}); install \
         postgresql-{wanted} or remove the version setting"
    )]
    VersionNotFound {
        /// Requested major version.
        wanted: u32,
        /// Major versions that were found, comma separated.
        found: String,
    },
    /// Running as root, but there is no OS user to run the server as.
    #[error(
        "running as root, but there is no `postgres` OS user to run the server as (PostgreSQL \
         refuses to run as root); install the postgresql package, create the user \
         (useradd --system postgres), or run stormbench as a regular user"
    )]
    NoPostgresUser,
    /// Running as root, but no tool to switch to the `postgres` user.
    #[error(
        "running as root, but neither runuser nor su is available to run the server as the \
         postgres user; install util-linux or run stormbench as a regular user"
    )]
    NoRunAs,
    /// A caller-supplied server setting is unusable.
    #[error("invalid server setting `{name}`: {reason}")]
    InvalidSetting {
        /// Setting name as given.
        name: String,
        /// Why it was rejected and what to do.
        reason: String,
    },
    /// The temporary directory could not be created.
    #[error(
        "could not create a temporary directory for the embedded cluster: {0}; set TMPDIR to a \
         writable directory"
    )]
    TempDir(io::Error),
    /// A file operation inside the temporary directory failed.
    #[error(
        "could not {action}: {source}; check free space and permissions of the temporary \
         directory (TMPDIR)"
    )]
    Io {
        /// What was being done.
        action: String,
        /// Underlying error.
        source: io::Error,
    },
    /// A program could not be executed at all.
    #[error("could not run {program}: {source}; check the PostgreSQL installation")]
    Spawn {
        /// Program that failed to run.
        program: String,
        /// Underlying error.
        source: io::Error,
    },
    /// No free loopback port could be reserved.
    #[error(
        "could not find a free port on 127.0.0.1: {0}; check that the loopback interface is up"
    )]
    NoFreePort(io::Error),
    /// initdb exited with an error.
    #[error(
        "initdb failed: {0}; check free space and permissions of the temporary directory (TMPDIR)"
    )]
    Initdb(String),
    /// The server did not come up; carries the last server log lines.
    #[error(
        "the PostgreSQL server did not start: {0}; fix the server settings or the installation"
    )]
    Start(String),
    /// pg_ctl stop failed.
    #[error("could not stop the PostgreSQL server: {0}; stop it with pg_ctl stop -D <data dir>")]
    Stop(String),
}

/// Prefix of the temporary directories of embedded clusters.
const DIR_PREFIX: &str = "stormbench-pg-";
/// File in a cluster's directory naming its parent: "pid start-time watchdog-pid".
const OWNER_FILE: &str = "owner";

/// A running (or stopped) throwaway PostgreSQL cluster; removed on drop.
pub struct EmbeddedCluster {
    /// Stops the server and removes the directory if this process dies without dropping
    /// the cluster.
    watchdog: Option<std::process::Child>,
    tempdir: Option<tempfile::TempDir>,
    root: PathBuf,
    data_dir: PathBuf,
    bindir: PathBuf,
    runner: Runner,
    settings: Vec<(String, String)>,
    preload_pg_stat_statements: bool,
    port: u16,
    version_major: u32,
    /// True while the server may be running (also during a start attempt).
    running: bool,
}

impl std::fmt::Debug for EmbeddedCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedCluster")
            .field("data_dir", &self.data_dir)
            .field("bindir", &self.bindir)
            .field("port", &self.port)
            .field("version_major", &self.version_major)
            .field("running", &self.running)
            .finish()
    }
}

impl EmbeddedCluster {
    /// Finds binaries, initdb into a fresh temp dir, picks a free 127.0.0.1 port, starts the server, waits until it accepts connections.
    pub fn start(opts: &EmbeddedOptions) -> Result<Self, EmbeddedError> {
        validate_settings(&opts.settings)?;
        let bindir = find_bindir(opts)?;
        let runner = Runner::detect()?;
        remove_stale(&runner, &bindir);
        let tempdir = create_tempdir(&runner)?;
        let root = tempdir.path().to_path_buf();
        let watchdog = spawn_watchdog(&runner, &bindir, &root);
        if watchdog.is_none() {
            log::warn!("could not start the embedded cluster's watchdog; if stormbench is killed, a later start removes the cluster");
        }
        write_owner(&root, watchdog.as_ref().map(|w| w.id()));
        let mut cluster = Self {
            watchdog,
            tempdir: Some(tempdir),
            data_dir: root.join("data"),
            root,
            preload_pg_stat_statements: has_pg_stat_statements(&bindir),
            bindir,
            runner,
            settings: opts.settings.clone(),
            port: 0,
            version_major: 0,
            running: false,
        };
        // On any error below, Drop stops a half-started server and removes the dir.
        cluster.initdb()?;
        cluster.version_major = read_pg_version(&cluster.data_dir)?;
        cluster.start_on_free_port()?;
        log::info!(
            "embedded PostgreSQL {} listening on {}:{}",
            cluster.version_major,
            HOST,
            cluster.port
        );
        Ok(cluster)
    }

    /// Host the server listens on: always "127.0.0.1".
    pub fn host(&self) -> &str {
        HOST
    }

    /// TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Superuser created by initdb ("stormbench"); authentication is trust.
    pub fn user(&self) -> &str {
        SUPERUSER
    }

    /// Database to connect to ("postgres").
    pub fn dbname(&self) -> &str {
        DBNAME
    }

    /// Directory holding the server binaries in use.
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    /// The cluster's data directory (inside the temporary directory).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Major version of the running server (e.g. 15).
    pub fn server_version_major(&self) -> u32 {
        self.version_major
    }

    /// Stop the server (fast shutdown), keep the data dir (for fault tests).
    pub fn stop_server(&mut self) -> Result<(), EmbeddedError> {
        if !self.running {
            return Ok(());
        }
        let output = self.pg_ctl_stop("fast", PG_CTL_TIMEOUT_SECS)?;
        if !output.status.success() {
            return Err(EmbeddedError::Stop(one_line(&output_text(&output))));
        }
        self.running = false;
        Ok(())
    }

    /// Start it again on the same port after stop_server.
    pub fn start_server(&mut self) -> Result<(), EmbeddedError> {
        if self.running {
            return Ok(());
        }
        self.start_once().map_err(|failure| failure.error)
    }

    /// Runs initdb into `data_dir`.
    fn initdb(&self) -> Result<(), EmbeddedError> {
        let args: [&OsStr; 9] = [
            "-D".as_ref(),
            self.data_dir.as_os_str(),
            "-U".as_ref(),
            SUPERUSER.as_ref(),
            "--auth=trust".as_ref(),
            "-E".as_ref(),
            "UTF8".as_ref(),
            "--locale=C".as_ref(),
            "--no-sync".as_ref(),
        ];
        let output = self.run("initdb", &args)?;
        if output.status.success() {
            Ok(())
        } else {
            Err(EmbeddedError::Initdb(one_line(&tail_lines(
                &output_text(&output),
                LOG_TAIL_LINES,
            ))))
        }
    }

    /// Starts the server, retrying on a new port if the chosen one got taken.
    fn start_on_free_port(&mut self) -> Result<(), EmbeddedError> {
        let mut last_error = None;
        for attempt in 1..=PORT_ATTEMPTS {
            self.port = free_port()?;
            self.write_conf()?;
            match self.start_once() {
                Ok(()) => return Ok(()),
                Err(failure) if failure.port_in_use => {
                    log::debug!("port {} was taken (attempt {attempt}), retrying", self.port);
                    last_error = Some(failure.error);
                }
                Err(failure) => return Err(failure.error),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            EmbeddedError::Start("no free port could be used on 127.0.0.1".to_string())
        }))
    }

    /// One `pg_ctl start` on the current port, then a TCP check.
    fn start_once(&mut self) -> Result<(), StartFailure> {
        let log_path = self.data_dir.join("server.log");
        let log_offset = fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
        let args: [&OsStr; 9] = [
            "-D".as_ref(),
            self.data_dir.as_os_str(),
            "-w".as_ref(),
            "-t".as_ref(),
            PG_CTL_TIMEOUT_SECS.as_ref(),
            "-l".as_ref(),
            log_path.as_os_str(),
            // Silent: only errors on stdout/stderr.
            "-s".as_ref(),
            "start".as_ref(),
        ];
        let mut cmd = self.command("pg_ctl", &args);
        // Own process group: a terminal Ctrl-C must not reach the server.
        cmd.process_group(0);
        self.running = true;
        let output = output_of(cmd, "pg_ctl").map_err(StartFailure::other)?;
        if output.status.success() {
            return self.check_accepts_tcp();
        }
        let log = read_from(&log_path, log_offset);
        // A half-started server must not linger before a retry.
        let _ = self.pg_ctl_stop("immediate", PG_CTL_TIMEOUT_SECS);
        self.running = false;
        let details = if log.trim().is_empty() {
            output_text(&output)
        } else {
            log.clone()
        };
        Err(StartFailure {
            port_in_use: port_in_use(&log),
            error: EmbeddedError::Start(one_line(&tail_lines(&details, LOG_TAIL_LINES))),
        })
    }

    /// Confirms the server accepts TCP connections on its port.
    fn check_accepts_tcp(&self) -> Result<(), StartFailure> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(_) => Ok(()),
            Err(e) => Err(StartFailure::other(EmbeddedError::Start(format!(
                "server started but does not accept connections on {addr}: {e}"
            )))),
        }
    }

    /// `pg_ctl stop -m <mode>`, waiting up to `timeout` seconds for the server to exit.
    fn pg_ctl_stop(&self, mode: &str, timeout: &str) -> Result<Output, EmbeddedError> {
        let args: [&OsStr; 8] = [
            "-D".as_ref(),
            self.data_dir.as_os_str(),
            "-m".as_ref(),
            mode.as_ref(),
            "-w".as_ref(),
            "-t".as_ref(),
            timeout.as_ref(),
            "stop".as_ref(),
        ];
        self.run("pg_ctl", &args)
    }

    /// Writes the settings file and makes postgresql.conf include it (once).
    fn write_conf(&self) -> Result<(), EmbeddedError> {
        let conf = self.data_dir.join(CONF_FILE);
        write_owned(&self.runner, &conf, &self.conf_text())?;
        let main_conf = self.data_dir.join("postgresql.conf");
        let current = fs::read_to_string(&main_conf).map_err(|source| EmbeddedError::Io {
            action: format!("read {}", main_conf.display()),
            source,
        })?;
        let include = format!("include '{CONF_FILE}'\n");
        if current.contains(&include) {
            return Ok(());
        }
        let text = format!("{current}\n# Settings of the embedded cluster.\n{include}");
        write_owned(&self.runner, &main_conf, &text)
    }

    /// Server settings: managed ones, defaults, then the caller's (last wins).
    fn conf_text(&self) -> String {
        let socket_dir = self.root.to_string_lossy();
        let mut lines = vec![
            conf_line("listen_addresses", HOST),
            conf_line("port", &self.port.to_string()),
            conf_line("unix_socket_directories", &socket_dir),
            conf_line("max_connections", DEFAULT_MAX_CONNECTIONS),
        ];
        if self.preload_pg_stat_statements {
            lines.push(conf_line("shared_preload_libraries", "pg_stat_statements"));
        }
        lines.extend(self.settings.iter().map(|(n, v)| conf_line(n, v)));
        lines.join("")
    }

    /// A command for `bindir/<name>` with the user switch and cwd applied.
    fn command(&self, name: &str, args: &[&OsStr]) -> Command {
        self.runner
            .command(&self.bindir.join(name), args, &self.root)
    }

    /// Runs `bindir/<name>` to completion and captures its output.
    fn run(&self, name: &str, args: &[&OsStr]) -> Result<Output, EmbeddedError> {
        output_of(self.command(name, args), name)
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        if self.running {
            match self.pg_ctl_stop("immediate", DROP_STOP_SECS) {
                Ok(out) if !out.status.success() => {
                    log::warn!(
                        "embedded PostgreSQL did not stop cleanly: {}",
                        one_line(&output_text(&out))
                    );
                }
                Err(e) => log::warn!("{e}"),
                Ok(_) => {}
            }
            // a pid file left by a server already gone names no process to kill
            let killed = if self.data_dir.join("postmaster.pid").exists() {
                watchdog::kill_server(&self.data_dir)
            } else {
                0
            };
            if killed > 0 {
                log::warn!(
                    "embedded PostgreSQL did not stop within {DROP_STOP_SECS} s; its {killed} processes were killed"
                );
            }
            self.running = false;
        }
        if let Some(dir) = self.tempdir.take() {
            let path = dir.path().to_path_buf();
            if let Err(e) = dir.close() {
                log::warn!("could not remove {}: {e}", path.display());
            }
        }
        if let Some(mut w) = self.watchdog.take() {
            use std::io::Write as _;
            if let Some(mut pipe) = w.stdin.take() {
                let _ = pipe.write_all(b"done\n");
            }
            let _ = w.wait();
        }
    }
}

/// A failed start attempt; `port_in_use` means retrying on another port may help.
struct StartFailure {
    port_in_use: bool,
    error: EmbeddedError,
}

impl StartFailure {
    /// A failure that a different port would not fix.
    fn other(error: EmbeddedError) -> Self {
        Self {
            port_in_use: false,
            error,
        }
    }
}

/// Rejects setting names that are malformed or managed by the cluster.
fn validate_settings(settings: &[(String, String)]) -> Result<(), EmbeddedError> {
    for (name, value) in settings {
        let invalid = |reason: &str| EmbeddedError::InvalidSetting {
            name: name.clone(),
            reason: reason.to_string(),
        };
        let well_formed = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if !well_formed {
            return Err(invalid(
                "a name may only contain letters, digits, `_` and `.`; fix the server settings",
            ));
        }
        if MANAGED_SETTINGS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(invalid(
                "it is managed by the embedded cluster; remove it from the server settings",
            ));
        }
        if value.contains(['\n', '\r', '\0']) {
            return Err(invalid(
                "the value must be a single line; fix the server settings",
            ));
        }
    }
    Ok(())
}

/// One postgresql.conf line with a safely quoted value.
fn conf_line(name: &str, value: &str) -> String {
    let quoted = value.replace('\\', "\\\\").replace('\'', "''");
    format!("{name} = '{quoted}'\n")
}

/// Creates the temp dir (reachable by `postgres` when root) and hands it over.
fn create_tempdir(runner: &Runner) -> Result<tempfile::TempDir, EmbeddedError> {
    let base = tempdir_base(runner);
    let dir = tempfile::Builder::new()
        .prefix(DIR_PREFIX)
        .tempdir_in(&base)
        .map_err(EmbeddedError::TempDir)?;
    runner.chown(dir.path())?;
    Ok(dir)
}

/// The system temp dir, or `/tmp` when root's temp dir is not reachable by `postgres`.
fn tempdir_base(runner: &Runner) -> PathBuf {
    let base = std::env::temp_dir();
    if runner.owner.is_none() || traversable_by_others(&base) {
        base
    } else {
        PathBuf::from("/tmp")
    }
}

/// True if every directory from `/` to `dir` can be entered by any user.
fn traversable_by_others(dir: &Path) -> bool {
    dir.ancestors().all(|d| {
        fs::metadata(d)
            .map(|m| m.permissions().mode() & 0o001 != 0)
            .unwrap_or(false)
    })
}

/// Writes `text` to `path` and hands the file to `postgres` when root.
fn write_owned(runner: &Runner, path: &Path, text: &str) -> Result<(), EmbeddedError> {
    fs::write(path, text).map_err(|source| EmbeddedError::Io {
        action: format!("write {}", path.display()),
        source,
    })?;
    runner.chown(path)
}

/// Reads the major version from `<data_dir>/PG_VERSION`.
fn read_pg_version(data_dir: &Path) -> Result<u32, EmbeddedError> {
    let path = data_dir.join("PG_VERSION");
    let text = fs::read_to_string(&path).map_err(|source| EmbeddedError::Io {
        action: format!("read {}", path.display()),
        source,
    })?;
    text.trim().parse().map_err(|_| EmbeddedError::Io {
        action: format!("parse {}", path.display()),
        source: io::Error::new(io::ErrorKind::InvalidData, text.trim().to_string()),
    })
}

/// Reserves a free loopback port by binding port 0 and releasing it.
fn free_port() -> Result<u16, EmbeddedError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|addr| addr.port())
        .map_err(EmbeddedError::NoFreePort)
}

/// True if the server log says the port could not be bound.
fn port_in_use(log: &str) -> bool {
    log.contains("Address already in use") || log.contains("could not bind")
}

/// Runs `cmd` to completion, naming `program` in a spawn error.
fn output_of(mut cmd: Command, program: &str) -> Result<Output, EmbeddedError> {
    cmd.output().map_err(|source| EmbeddedError::Spawn {
        program: program.to_string(),
        source,
    })
}

/// stdout and stderr of a finished program as text.
fn output_text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The file's contents from byte `offset` on (empty if unreadable).
fn read_from(path: &Path, offset: u64) -> String {
    let bytes = fs::read(path).unwrap_or_default();
    let start = usize::try_from(offset).unwrap_or(0).min(bytes.len());
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

/// The last `n` non-empty lines of `text`.
fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Joins the non-empty lines of `text` with " | " so an error stays on one line.
fn one_line(text: &str) -> String {
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ");
    if joined.is_empty() {
        "no output".to_string()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests;
