//! Shared helpers for integration tests. Every test runs against a real PostgreSQL: the
//! test cluster that `scripts/pg-test-cluster.sh` starts (see `scripts/test.sh`), or an
//! embedded cluster the test starts itself.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Connection facts of the test cluster.
pub struct Pg {
    pub host: String,
    pub port: String,
    pub user: String,
    pub bindir: PathBuf,
    /// The test cluster's CA certificate when it has TLS (STORMBENCH_TEST_PGSSLROOTCERT).
    pub sslrootcert: Option<PathBuf>,
}

fn need(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: these tests need a real PostgreSQL. Run scripts/test.sh, or \
             start one with `scripts/pg-test-cluster.sh start` and \
             `eval \"$(scripts/pg-test-cluster.sh env)\"`"
        )
    })
}

/// The test cluster; panics with instructions when it is not configured.
pub fn pg() -> Pg {
    Pg {
        host: need("STORMBENCH_TEST_PGHOST"),
        port: need("STORMBENCH_TEST_PGPORT"),
        user: need("STORMBENCH_TEST_PGUSER"),
        bindir: PathBuf::from(need("STORMBENCH_TEST_PGBINDIR")),
        sslrootcert: std::env::var_os("STORMBENCH_TEST_PGSSLROOTCERT").map(PathBuf::from),
    }
}

impl Pg {
    /// Runs SQL with psql as the superuser in `db`; panics on failure.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bindir.join("psql"))
            .args([
                "-h", &self.host, "-p", &self.port, "-U", &self.user, "-d", db,
            ])
            .args(["-v", "ON_ERROR_STOP=1", "-qAtc", sql])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A fresh, empty database named `sbt_<name>` (dropped first if it exists).
    pub fn fresh_db(&self, name: &str) -> String {
        let db = format!("sbt_{name}");
        self.psql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        );
        self.psql("postgres", &format!("CREATE DATABASE {db}"));
        db
    }

    /// Waits until `sql` (a count) gives `n` in `db`; fails saying `what` after 20 s.
    pub fn wait_count(&self, db: &str, what: &str, sql: &str, n: u32) {
        let t0 = Instant::now();
        while self.psql(db, sql).parse::<u32>().unwrap() != n {
            assert!(t0.elapsed() < Duration::from_secs(20), "{what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Another session of `db` (application name `lock_holder`) that runs `sql` in a
    /// transaction, then sleeps `secs` seconds holding the locks it took; returns once it
    /// sleeps, so the locks are held.
    pub fn lock_holder(&self, db: &str, sql: &str, secs: u32) -> Child {
        let child = spawn(
            Command::new(self.bindir.join("psql"))
                .args([
                    "-h", &self.host, "-p", &self.port, "-U", &self.user, "-d", db,
                ])
                .env("PGAPPNAME", "lock_holder")
                .args([
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-c",
                    &format!("BEGIN; {sql}; SELECT pg_sleep({secs}); COMMIT;"),
                ]),
        );
        self.wait_count(
            db,
            "the lock holder did not take its locks",
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND application_name = 'lock_holder' AND wait_event = 'PgSleep'",
            1,
        );
        child
    }

    /// Ends a [`Pg::lock_holder`]'s session at once (its transaction rolls back, the locks
    /// go) instead of waiting out its sleep.
    pub fn release(&self, db: &str, holder: Child) {
        self.psql(
            db,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'lock_holder'",
        );
        let _ = wait_at_most(holder, Duration::from_secs(10));
    }

    /// A stormbench command pointed at `db` on the test cluster.
    pub fn stormbench(&self, db: &str) -> Command {
        let mut c = stormbench();
        c.args([
            "--host", &self.host, "--port", &self.port, "-u", &self.user, "--dbname", db,
        ]);
        c
    }
}

/// The stormbench binary, with no ambient STORMBENCH_DB_* settings.
pub fn stormbench() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_stormbench"));
    for var in [
        "STORMBENCH_DB_HOST",
        "STORMBENCH_DB_PORT",
        "STORMBENCH_DB_NAME",
        "STORMBENCH_DB_USER",
        "STORMBENCH_DB_PASSWORD",
        "STORMBENCH_DB_SSLMODE",
        // the developer's own libpq settings stay out of the tests
        "PGHOST",
        "PGPORT",
        "PGDATABASE",
        "PGUSER",
        "PGPASSWORD",
        "PGSSLMODE",
        "PGSSLROOTCERT",
        "PGSSLCERT",
        "PGSSLKEY",
        "PGAPPNAME",
        "PGCONNECT_TIMEOUT",
        "PGSERVICE",
        "PGSERVICEFILE",
        "PGPASSFILE",
    ] {
        c.env_remove(var);
    }
    c.env_remove("RUST_BACKTRACE");
    // the developer's results history stays out of the tests
    c.env("STORMBENCH_HISTORY", "off");
    c
}

/// A stormbench command pointed at the `postgres` database of an embedded cluster the
/// test started itself (loopback, superuser `stormbench`).
pub fn stormbench_on_port(port: &str) -> Command {
    let mut c = stormbench();
    c.args([
        "--host",
        "127.0.0.1",
        "--port",
        port,
        "-u",
        "stormbench",
        "--dbname",
        "postgres",
    ]);
    c
}

/// A temp dir for output files.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Stdout + stderr as text.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

/// Asserts a failed run ended cleanly: the expected exit code, no panic, no backtrace, an
/// `Error:` line.
pub fn assert_clean_failure(o: &Output, code: i32) -> String {
    let err = assert_verdict(o, code);
    assert!(
        !err.contains("stack backtrace"),
        "backtrace in stderr:\n{err}"
    );
    assert!(err.contains("Error:"), "no Error: line in stderr:\n{err}");
    err
}

/// Asserts a run completed with the verdict `code` (3, 5, 6: no `Error:` line, its
/// reports written): the code, no panic. Returns its stderr.
pub fn assert_verdict(o: &Output, code: i32) -> String {
    let (out, err) = text(o);
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout:\n{out}\nstderr:\n{err}"
    );
    assert!(!err.contains("panicked"), "panic in stderr:\n{err}");
    err
}

/// Reads a JSON report.
pub fn read_json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

/// Validates a report against the checked-in JSON schema; panics with every violation.
pub fn validate_report_schema(report: &serde_json::Value) {
    let schema_path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/report.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).expect("schema file"))
            .expect("schema is JSON");
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("report.schema.json", schema)
        .expect("schema resource");
    let idx = compiler
        .compile("report.schema.json", &mut schemas)
        .expect("schema compiles");
    if let Err(e) = schemas.validate(report, idx) {
        panic!("report does not match schema/report.schema.json:\n{e:#}");
    }
}

/// Runs `c` and asserts it succeeded (stdout and stderr in the failure message).
pub fn ok(c: &mut Command) -> Output {
    let o = c.output().expect("stormbench runs");
    assert!(o.status.success(), "{}: {:?}", o.status, text(&o));
    o
}

/// Runs `c` and asserts it ended cleanly with `code` (see [`assert_clean_failure`]);
/// returns its stderr.
pub fn fails(c: &mut Command, code: i32) -> String {
    assert_clean_failure(&c.output().expect("stormbench runs"), code)
}

impl Pg {
    /// A fresh database `sbt_<name>` with `workload` set up (`--setup --no-run`).
    pub fn loaded(&self, name: &str, workload: &str) -> String {
        let db = self.fresh_db(name);
        ok(self
            .stormbench(&db)
            .args(["-w", workload, "--setup", "--no-run", "-q"]));
        db
    }
}

/// The drivers that carry transactions; tests that run a workload run it on each.
pub const DRIVERS: [&str; 2] = ["wire", "tokio-postgres"];

/// Runs `workload` on `db` for `secs` seconds on every driver in [`DRIVERS`] and returns
/// each report, checked: it names the driver, validates against the schema, and counts
/// transactions.
pub fn on_each_driver(db: &str, workload: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let pg = pg();
    let dir = tempdir();
    DRIVERS
        .iter()
        .map(|driver| {
            let json = dir.path().join(format!("{driver}.json"));
            ok(pg
                .stormbench(db)
                .args(["-w", workload, "--driver", driver, "-q", "--json"])
                .arg(&json)
                .args(extra));
            let r = read_json(&json);
            validate_report_schema(&r);
            assert_eq!(r["connections"]["driver"], *driver, "{workload}");
            assert!(
                r["summary"]["transactions"].as_u64().unwrap_or(0) > 0,
                "{workload} on {driver}: no transaction: {}",
                r["summary"]
            );
            r
        })
        .collect()
}

/// A workload figure of a report (`workload.metrics`) by name.
pub fn figure(report: &serde_json::Value, name: &str) -> Option<f64> {
    report["workload"]["metrics"]
        .as_array()?
        .iter()
        .find(|m| m["name"] == name)
        .and_then(|m| m["value"].as_f64())
}

/// The same, failing the test with the report's figures when it has none of that name.
pub fn figure_of(report: &serde_json::Value, name: &str) -> f64 {
    figure(report, name).unwrap_or_else(|| panic!("no {name}: {}", report["workload"]["metrics"]))
}

/// Waits until `child` writes a stderr line starting with `prefix` (a fixed pause after the
/// spawn races a slow start on a busy machine); the thread returned reads the rest of its
/// stderr and hands back all of it. Panics when no such line shows within `limit`.
pub fn wait_for_stderr_line(
    child: &mut std::process::Child,
    prefix: &'static str,
    limit: std::time::Duration,
) -> std::thread::JoinHandle<String> {
    use std::io::BufRead as _;
    let stderr = child.stderr.take().expect("stderr piped");
    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.starts_with(prefix) {
                let _ = seen_tx.send(());
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    seen_rx
        .recv_timeout(limit)
        .unwrap_or_else(|_| panic!("no stderr line starting with {prefix:?} within {limit:?}"));
    reader
}

/// Counts stormbench's sessions of the current database waiting for another session's lock.
pub const STORMBENCH_LOCK_WAITS: &str = "SELECT count(*) FROM pg_stat_activity \
     WHERE datname = current_database() AND application_name = 'stormbench' \
     AND wait_event_type = 'Lock'";

/// Starts `c` in the background, its output captured.
pub fn spawn(c: &mut Command) -> Child {
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts")
}

/// Sends `sig` to `child`.
pub fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

/// Sends `sig` to each of `pids` (a test cluster's server processes), gone ones ignored.
pub fn signal_all(pids: &[i32], sig: i32) {
    for &p in pids {
        // SAFETY: kill(2) with a valid signal on processes of a cluster the test runs.
        unsafe { libc::kill(p, sig) };
    }
}

/// Waits for `child` at most `limit`; kills it and fails the test when it takes longer.
pub fn wait_at_most(mut child: Child, limit: Duration) -> (Output, Duration) {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return (child.wait_with_output().unwrap(), t0.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let o = child.wait_with_output().unwrap();
    panic!(
        "still running after {limit:?}:\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
