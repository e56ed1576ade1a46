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

/// How server programs are run: as ourselves, or switched to `postgres` when root.
#[derive(Debug, Clone)]
enum Switch {
    /// Run programs directly.
    None,
    /// `runuser -u postgres -- program args...`.
    Runuser(PathBuf),
    /// `su postgres -s /bin/sh -c 'program args...'`.
    Su(PathBuf),
}

/// Builds commands for server programs, switching user when running as root.
#[derive(Debug, Clone)]
struct Runner {
    switch: Switch,
    /// uid/gid of the `postgres` user when running as root.
    owner: Option<(u32, u32)>,
}

impl Runner {
    /// Decides how to run server programs for the current effective user.
    fn detect() -> Result<Self, EmbeddedError> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(Self {
                switch: Switch::None,
                owner: None,
            });
        }
        let owner = lookup_user(OS_USER).ok_or(EmbeddedError::NoPostgresUser)?;
        let switch = if let Some(runuser) = find_program("runuser") {
            Switch::Runuser(runuser)
        } else if let Some(su) = find_program("su") {
            Switch::Su(su)
        } else {
            return Err(EmbeddedError::NoRunAs);
        };
        Ok(Self {
            switch,
            owner: Some(owner),
        })
    }

    /// A command running `program args` (as `postgres` when root) in `cwd`.
    fn command(&self, program: &Path, args: &[&OsStr], cwd: &Path) -> Command {
        let mut cmd = match &self.switch {
            Switch::None => {
                let mut c = Command::new(program);
                c.args(args);
                c
            }
            Switch::Runuser(runuser) => {
                let mut c = Command::new(runuser);
                c.args(["-u", OS_USER, "--"]).arg(program).args(args);
                c
            }
            Switch::Su(su) => {
                let mut c = Command::new(su);
                c.args([OS_USER, "-s", "/bin/sh", "-c"])
                    .arg(shell_join(program.as_os_str(), args));
                c
            }
        };
        cmd.current_dir(cwd).stdin(Stdio::null());
        cmd
    }

    /// `program args` (as `postgres` when root) as one `/bin/sh` command line.
    fn command_line(&self, program: &Path, args: &[&OsStr]) -> OsString {
        let inner = shell_join(program.as_os_str(), args);
        match &self.switch {
            Switch::None => inner,
            Switch::Runuser(runuser) => {
                let mut a: Vec<&OsStr> = vec!["-u".as_ref(), OS_USER.as_ref(), "--".as_ref()];
                a.push(program.as_os_str());
                a.extend_from_slice(args);
                shell_join(runuser.as_os_str(), &a)
            }
            Switch::Su(su) => {
                let a: [&OsStr; 5] = [
                    OS_USER.as_ref(),
                    "-s".as_ref(),
                    "/bin/sh".as_ref(),
                    "-c".as_ref(),
                    inner.as_os_str(),
                ];
                shell_join(su.as_os_str(), &a)
            }
        }
    }

    /// Hands `path` to the `postgres` user when running as root.
    fn chown(&self, path: &Path) -> Result<(), EmbeddedError> {
        let Some((uid, gid)) = self.owner else {
            return Ok(());
        };
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|source| EmbeddedError::Io {
            action: format!("hand {} to the postgres user", path.display()),
            source,
        })
    }
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
        let output = self.pg_ctl_stop("fast")?;
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
        let _ = self.pg_ctl_stop("immediate");
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

    /// `pg_ctl stop -m <mode>`, waiting for the server to exit.
    fn pg_ctl_stop(&self, mode: &str) -> Result<Output, EmbeddedError> {
        let args: [&OsStr; 8] = [
            "-D".as_ref(),
            self.data_dir.as_os_str(),
            "-m".as_ref(),
            mode.as_ref(),
            "-w".as_ref(),
            "-t".as_ref(),
            PG_CTL_TIMEOUT_SECS.as_ref(),
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
            match self.pg_ctl_stop("immediate") {
                Ok(out) if !out.status.success() => {
                    log::warn!(
                        "embedded PostgreSQL did not stop cleanly: {}",
                        one_line(&output_text(&out))
                    );
                }
                Err(e) => log::warn!("{e}"),
                Ok(_) => {}
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

/// Starts the watchdog of the cluster in `root`: a shell that waits for a line on its
/// stdin (a pipe only this process writes) and, unless the line is "done", stops the server
/// and removes `root`. It runs in its own process group, so a terminal's Ctrl-C reaches
/// only stormbench.
fn spawn_watchdog(runner: &Runner, bindir: &Path, root: &Path) -> Option<std::process::Child> {
    let data = root.join("data");
    let stop_args: [&OsStr; 8] = [
        "-D".as_ref(),
        data.as_os_str(),
        "-m".as_ref(),
        "immediate".as_ref(),
        "-w".as_ref(),
        "-t".as_ref(),
        "10".as_ref(),
        "stop".as_ref(),
    ];
    let stop = runner.command_line(&bindir.join("pg_ctl"), &stop_args);
    let pid_file = shell_quote(data.join("postmaster.pid").as_os_str());
    let mut script: Vec<u8> =
        b"read line\n[ \"$line\" = done ] && exit 0\nfor i in 1 2 3 4 5 6 7 8 9 10; do\n  "
            .to_vec();
    script.extend(stop.as_bytes());
    script.extend(b" >/dev/null 2>&1\n  [ -f ");
    script.extend(&pid_file);
    script.extend(b" ] || break\n  sleep 1\ndone\nrm -rf ");
    script.extend(shell_quote(root.as_os_str()));
    script.push(b'\n');
    Command::new("/bin/sh")
        .arg("-c")
        .arg(OsString::from_vec(script))
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .ok()
}

/// Start time of process `pid` in clock ticks since boot (field 22 of `/proc/PID/stat`).
fn process_start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // the command name (field 2) may hold spaces: count from its closing parenthesis
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Records this process as the cluster's owner.
fn write_owner(root: &Path, watchdog: Option<u32>) {
    let pid = std::process::id();
    let start = process_start_time(pid).unwrap_or(0);
    let _ = fs::write(
        root.join(OWNER_FILE),
        format!("{pid} {start} {}\n", watchdog.unwrap_or(0)),
    );
}

/// Whether the process that wrote an owner file is gone (a reused pid has another start
/// time).
fn owner_is_gone(owner: &str) -> bool {
    let mut parts = owner.split_whitespace();
    let (Some(pid), Some(start)) = (
        parts.next().and_then(|p| p.parse::<u32>().ok()),
        parts.next().and_then(|s| s.parse::<u64>().ok()),
    ) else {
        return false;
    };
    match process_start_time(pid) {
        None => true,
        Some(now) => start != 0 && now != start,
    }
}

/// Stops and removes the clusters of stormbench processes that died without cleaning up
/// (and whose watchdog died too). Only directories with an owner file whose owner is gone
/// are touched.
fn remove_stale(runner: &Runner, bindir: &Path) {
    let Ok(entries) = fs::read_dir(tempdir_base(runner)) else {
        return;
    };
    for e in entries.flatten() {
        let dir = e.path();
        let is_ours = e
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(DIR_PREFIX));
        let Ok(owner) = fs::read_to_string(dir.join(OWNER_FILE)) else {
            continue;
        };
        if !is_ours || !owner_is_gone(&owner) {
            continue;
        }
        let data = dir.join("data");
        if data.join("postmaster.pid").exists() {
            let args: [&OsStr; 6] = [
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "immediate".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ];
            let _ = output_of(
                runner.command(&bindir.join("pg_ctl"), &args, Path::new("/")),
                "pg_ctl",
            );
        }
        match fs::remove_dir_all(&dir) {
            Ok(()) => log::warn!(
                "removed the embedded cluster {} left by a stormbench that was killed",
                dir.display()
            ),
            Err(err) => log::warn!(
                "could not remove the stale cluster {}: {err}",
                dir.display()
            ),
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

/// Locate initdb/pg_ctl/postgres: explicit bindir, else on PATH (resolve symlinks), else `pg_config --bindir`, else newest /usr/lib/postgresql/*/bin. Returns bindir.
///
/// With `opts.version` set, the first discovered bin dir of that major
/// version is used instead (an explicit bindir is always used as given).
pub fn find_bindir(opts: &EmbeddedOptions) -> Result<PathBuf, EmbeddedError> {
    if let Some(dir) = &opts.bindir {
        return if has_server_binaries(dir) {
            Ok(dir.clone())
        } else {
            Err(EmbeddedError::BadBindir(dir.clone()))
        };
    }
    let candidates = discover_bindirs();
    match opts.version {
        None => candidates
            .into_iter()
            .next()
            .ok_or(EmbeddedError::NoBinaries),
        Some(wanted) => pick_version(candidates, wanted),
    }
}

/// First candidate whose `postgres --version` has major version `wanted`.
fn pick_version(candidates: Vec<PathBuf>, wanted: u32) -> Result<PathBuf, EmbeddedError> {
    if candidates.is_empty() {
        return Err(EmbeddedError::NoBinaries);
    }
    let mut found = Vec::new();
    for dir in candidates {
        match binary_version(&dir) {
            Some(v) if v == wanted => return Ok(dir),
            Some(v) => found.push(v.to_string()),
            None => found.push(format!("unknown in {}", dir.display())),
        }
    }
    Err(EmbeddedError::VersionNotFound {
        wanted,
        found: found.join(", "),
    })
}

/// All bin dirs with server binaries, in discovery order, without duplicates.
fn discover_bindirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    dirs.extend(bindirs_on_path());
    dirs.extend(pg_config_bindir());
    dirs.extend(versioned_bindirs());
    let mut unique: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        let dir = fs::canonicalize(&dir).unwrap_or(dir);
        if has_server_binaries(&dir) && !unique.contains(&dir) {
            unique.push(dir);
        }
    }
    unique
}

/// Directories of `initdb` found on PATH, with symlinks resolved.
fn bindirs_on_path() -> Vec<PathBuf> {
    let Some(path) = std::env::var_os("PATH") else {
        return Vec::new();
    };
    std::env::split_paths(&path)
        .map(|dir| dir.join("initdb"))
        .filter(|initdb| is_executable(initdb))
        .filter_map(|initdb| fs::canonicalize(initdb).ok())
        .filter_map(|initdb| initdb.parent().map(Path::to_path_buf))
        .collect()
}

/// `pg_config --bindir` of the pg_config on PATH, if any.
fn pg_config_bindir() -> Option<PathBuf> {
    let output = Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let dir = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}

/// `/usr/lib/postgresql/<major>/bin`, newest first.
fn versioned_bindirs() -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(VERSIONED_ROOT) else {
        return Vec::new();
    };
    let mut versions: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((major, e.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|v| std::cmp::Reverse(v.0));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

/// True when `dir` has executable initdb, pg_ctl and postgres.
fn has_server_binaries(dir: &Path) -> bool {
    SERVER_BINARIES
        .iter()
        .all(|name| is_executable(&dir.join(name)))
}

/// True for a regular file (after symlinks) with an execute bit.
fn is_executable(path: &Path) -> bool {
    fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Major version reported by `<dir>/postgres --version`.
fn binary_version(dir: &Path) -> Option<u32> {
    let output = Command::new(dir.join("postgres"))
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    parse_version_output(&String::from_utf8_lossy(&output.stdout))
}

/// Parses "postgres (PostgreSQL) 15.14 (Debian ...)" into 15.
fn parse_version_output(text: &str) -> Option<u32> {
    let rest = text.split("(PostgreSQL)").nth(1)?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// True if the server in `bindir` can load pg_stat_statements.
fn has_pg_stat_statements(bindir: &Path) -> bool {
    const LIB: &str = "pg_stat_statements.so";
    if bindir.join("../lib").join(LIB).is_file() {
        return true;
    }
    // Only this installation's pg_config: another version's module would not load.
    let pg_config = bindir.join("pg_config");
    if !is_executable(&pg_config) {
        return false;
    }
    Command::new(pg_config)
        .arg("--pkglibdir")
        .stdin(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            let dir = String::from_utf8_lossy(&o.stdout).trim().to_string();
            !dir.is_empty() && Path::new(&dir).join(LIB).is_file()
        })
        .unwrap_or(false)
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

/// `program args...` quoted for `/bin/sh -c`.
fn shell_join(program: &OsStr, args: &[&OsStr]) -> OsString {
    let mut out = shell_quote(program);
    for arg in args {
        out.push(b' ');
        out.extend(shell_quote(arg));
    }
    OsString::from_vec(out)
}

/// Single-quotes `s` for the shell (`'` becomes `'\''`).
fn shell_quote(s: &OsStr) -> Vec<u8> {
    let mut out = vec![b'\''];
    for &b in s.as_bytes() {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    out
}

/// First directory on PATH or in the system bin dirs holding executable `name`.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(SYSTEM_BIN_DIRS.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

/// uid/gid of OS user `name` (thread-safe `getpwnam_r`).
fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let cname = CString::new(name).ok()?;
    // SAFETY: passwd is plain data; all-zero is a valid (empty) value.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: all pointers are valid for the call; buf outlives its use and
    // only the integer fields of pwd are read afterwards.
    let rc = unsafe {
        libc::getpwnam_r(
            cname.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() {
        return None;
    }
    Some((pwd.pw_uid, pwd.pw_gid))
}

#[cfg(test)]
mod tests;
