//! Never hang, never lie: against real servers, a silent listener, a frozen server, an
//! interrupt in every phase, a server restart, a worker bug and a full server each end the
//! run in bounded time with a report that says what happened and an exit code that means it.

mod common;

use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::fs::FileTypeExt as _;
use std::process::Command;
use std::time::Duration;

use common::*;
use stormbench::db::embedded::{EmbeddedCluster, EmbeddedOptions};

/// A TCP port that accepts connections and never says a word.
fn silent_listener() -> u16 {
    listener(false)
}

/// A TCP port that agrees to TLS (answers the SSLRequest with `S`) and then never says
/// another word: the client waits in its TLS handshake.
fn silent_tls_listener() -> u16 {
    listener(true)
}

fn listener(agree_to_tls: bool) -> u16 {
    use std::io::Read as _;
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut s in l.incoming().flatten() {
            let mut request = [0u8; 8];
            if agree_to_tls && s.read_exact(&mut request).is_ok() {
                let _ = s.write_all(b"S");
            }
            held.push(s);
        }
    });
    port
}

/// A TCP port where another service answers: a line of its own protocol, then a close.
fn foreign_listener(banner: &'static [u8]) -> u16 {
    use std::io::Read as _;
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut request = [0u8; 8];
            let _ = s.read(&mut request);
            let _ = s.write_all(banner);
        }
    });
    port
}

/// Runs stormbench on the config `yaml` (written as NAME.yaml in `dir`), expecting a clean
/// failure with exit 1 within 15 s: its error and how long it took.
fn failed_run(dir: &std::path::Path, name: &str, yaml: String) -> (String, Duration) {
    let cfg = dir.join(format!("{name}.yaml"));
    std::fs::write(&cfg, yaml).unwrap();
    let child = spawn(stormbench().arg("-c").arg(&cfg));
    let (o, took) = wait_at_most(child, Duration::from_secs(15));
    (assert_clean_failure(&o, 1), took)
}

#[test]
fn another_service_on_the_port_is_named_as_such() {
    let dir = tempdir();
    for (what, banner) in [
        (
            "http",
            &b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n"[..],
        ),
        ("silent close", &b""[..]),
        ("ssh", &b"SSH-2.0-OpenSSH_9.2\r\n"[..]),
    ] {
        let port = foreign_listener(banner);
        for driver in ["wire", "tokio-postgres"] {
            let (err, _) = failed_run(
                dir.path(),
                &format!("{port}-{driver}"),
                format!("database:\n  host: 127.0.0.1\n  port: {port}\n  connect_timeout: 5s\nworkload: simple_read\ndriver: {driver}\nduration: 1s\n"),
            );
            assert!(
                err.contains("another protocol than PostgreSQL's")
                    && err.contains("check database.host and database.port"),
                "{what} {driver}: {err}"
            );
        }
    }
}

#[test]
fn a_silent_server_fails_the_connect_within_connect_timeout() {
    let port = silent_listener();
    let dir = tempdir();
    let (err, took) = failed_run(
        dir.path(),
        "c",
        format!("database:\n  host: 127.0.0.1\n  port: {port}\n  connect_timeout: 2s\n  sslmode: disable\nworkload: noop\nduration: 1s\n"),
    );
    assert!(
        err.contains("did not complete the start-up within 2s"),
        "{err}"
    );
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

#[test]
fn a_silent_tls_handshake_fails_the_connect_within_connect_timeout() {
    let port = silent_tls_listener();
    let dir = tempdir();
    for (sslmode, driver) in [
        ("require", "wire"),
        ("prefer", "wire"),
        ("require", "tokio-postgres"),
    ] {
        let (err, took) = failed_run(
            dir.path(),
            &format!("{sslmode}-{driver}"),
            format!("database:\n  host: 127.0.0.1\n  port: {port}\n  connect_timeout: 2s\n  sslmode: {sslmode}\nworkload: simple_read\ndriver: {driver}\nduration: 1s\n"),
        );
        assert!(
            err.contains("did not complete the start-up within 2s"),
            "{sslmode} {driver}: {err}"
        );
        assert!(
            took < Duration::from_secs(8),
            "{sslmode} {driver}: took {took:?}"
        );
    }
}

#[test]
fn ctrl_c_ends_a_connect_to_a_silent_server() {
    let port = silent_listener();
    let child = spawn(stormbench().args([
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "-w",
        "noop",
        "-d",
        "1s",
    ]));
    std::thread::sleep(Duration::from_secs(1));
    signal(&child, libc::SIGINT);
    let (o, took) = wait_at_most(child, Duration::from_secs(5));
    assert_eq!(o.status.code(), Some(130), "{:?}", text(&o));
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

#[test]
fn ctrl_c_during_warm_up_stops_at_once() {
    let pg = pg();
    let mut child = spawn(
        pg.stormbench("stormbench_test")
            .args(["-w", "noop", "--warmup", "30s", "-d", "5s"]),
    );
    // the interrupt lands in the warm-up however long the start took
    let _stderr = wait_for_stderr_line(&mut child, "warm-up 30s", Duration::from_secs(30));
    signal(&child, libc::SIGINT);
    let (o, took) = wait_at_most(child, Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(130), "{:?}", text(&o));
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

/// A hang-up (the terminal or SSH session gone) stops a run like Ctrl-C and keeps what it
/// measured; a second hang-up right after it (terminal and shell both send one) does not
/// turn into "exit at once".
#[test]
fn a_hang_up_stops_the_run_and_keeps_its_report() {
    let pg = pg();
    let dir = tempdir();
    let json = dir.path().join("r.json");
    let mut c = pg.stormbench("stormbench_test");
    c.args([
        "-w",
        "noop",
        "-d",
        "60s",
        "--summary-interval",
        "1s",
        "--json",
    ])
    .arg(&json);
    // as from a terminal, whatever this test runner inherited (it may run under nohup)
    hang_ups(&mut c, libc::SIG_DFL);
    let mut child = spawn(&mut c);
    let _stderr = wait_for_stderr_line(&mut child, "[", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(2));
    signal(&child, libc::SIGHUP);
    std::thread::sleep(Duration::from_millis(10));
    signal(&child, libc::SIGHUP);
    let (o, took) = wait_at_most(child, Duration::from_secs(20));
    assert_eq!(o.status.code(), Some(130), "{:?}", text(&o));
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let r = read_json(&json);
    assert_eq!(r["status"], "interrupted");
    assert!(
        r["summary"]["transactions"].as_u64().unwrap() > 0,
        "{}",
        r["summary"]
    );
}

/// Starts `c` with SIGHUP's disposition set to `how` (SIG_DFL or SIG_IGN).
fn hang_ups(c: &mut Command, how: libc::sighandler_t) {
    use std::os::unix::process::CommandExt as _;
    // SAFETY: signal(2) is async-signal-safe, as pre_exec requires.
    unsafe {
        c.pre_exec(move || {
            libc::signal(libc::SIGHUP, how);
            Ok(())
        });
    }
}

/// Started with hang-ups ignored (`nohup`), a run keeps ignoring them and ends as planned.
#[test]
fn under_nohup_a_hang_up_is_ignored() {
    let pg = pg();
    let mut c = pg.stormbench("stormbench_test");
    c.args(["-w", "noop", "-d", "4s", "--summary-interval", "1s"]);
    hang_ups(&mut c, libc::SIG_IGN);
    let mut child = spawn(&mut c);
    let _stderr = wait_for_stderr_line(&mut child, "[", Duration::from_secs(30));
    signal(&child, libc::SIGHUP);
    let (o, took) = wait_at_most(child, Duration::from_secs(30));
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(took > Duration::from_secs(2), "took {took:?}");
    assert!(text(&o).0.contains("status completed"), "{:?}", text(&o));
}

#[test]
fn ctrl_c_during_a_sweep_band_warm_up_stops_at_once() {
    let pg = pg();
    let dir = tempdir();
    let cfg = dir.path().join("sweep.yaml");
    std::fs::write(
        &cfg,
        "workload: noop\nprogressive:\n  enabled: true\n  min_workers: 1\n  max_workers: 2\n  bands: 2\n  band_duration: 5s\n  warmup: 30s\n",
    )
    .unwrap();
    let json = dir.path().join("s.json");
    let mut child = spawn(
        pg.stormbench("stormbench_test")
            .arg("-c")
            .arg(&cfg)
            .arg("--json")
            .arg(&json),
    );
    // the signal lands in the first band's warm-up however long the start took
    let stderr = wait_for_stderr_line(&mut child, "warm-up 30s", Duration::from_secs(30));
    signal(&child, libc::SIGTERM);
    let (o, took) = wait_at_most(child, Duration::from_secs(10));
    let out = text(&o).0;
    let err = stderr.join().unwrap();
    assert_eq!(o.status.code(), Some(130), "{out}\n{err}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(
        err.contains("progressive sweep: 2 bands of 5s after 30s warm-up"),
        "{err}"
    );
}

/// A FIFO in `dir` that nothing will read.
fn unread_fifo(dir: &std::path::Path) -> std::path::PathBuf {
    let fifo = dir.join("nobody-reads.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    fifo
}

#[test]
fn a_second_ctrl_c_exits_even_when_the_report_write_is_stuck() {
    let pg = pg();
    let dir = tempdir();
    // nobody ever reads this FIFO: opening it for the report waits
    let fifo = unread_fifo(dir.path());
    let child = spawn(
        pg.stormbench("stormbench_test")
            .args(["-w", "noop", "-d", "1s", "-q", "--json"])
            .arg(&fifo),
    );
    std::thread::sleep(Duration::from_secs(4));
    let o = interrupted_twice(child);
    assert!(
        text(&o).0.contains("Load Test Results"),
        "the console report came first"
    );
}

/// Interrupts `child` twice, 300 ms apart; checks it exits 130 within 2 s of the second.
fn interrupted_twice(child: std::process::Child) -> std::process::Output {
    signal(&child, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, libc::SIGINT);
    let (o, took) = wait_at_most(child, Duration::from_secs(5));
    assert_eq!(o.status.code(), Some(130), "{:?}", text(&o));
    assert!(took < Duration::from_secs(2), "took {took:?}");
    o
}

/// A second Ctrl-C while a report file is being written (held open here by an injected
/// delay before it is put in place) exits at once and leaves no temporary file beside it.
#[test]
fn a_second_ctrl_c_while_a_report_is_written_leaves_no_temporary_file() {
    let pg = pg();
    let dir = tempdir();
    let child = spawn(
        pg.stormbench("stormbench_test")
            .env("STORMBENCH_FAULT", "slow_output_s:60")
            .args(["-w", "noop", "-d", "1s", "-q", "--json"])
            .arg(dir.path().join("r.json")),
    );
    let names = || -> Vec<String> {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let t0 = std::time::Instant::now();
    // (the writability probe made before the run is not it)
    while !names().iter().any(|n| n.ends_with(".tmp")) {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "no report was started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    interrupted_twice(child);
    assert!(names().is_empty(), "left behind: {:?}", names());
}

/// A FIFO nobody reads gets a bounded wait for its reader, not a run that never ends: the
/// run exits 1 naming the FIFO (once), and its other report files are written.
#[test]
fn a_fifo_nobody_reads_is_given_up_on() {
    let pg = pg();
    let dir = tempdir();
    let fifo = unread_fifo(dir.path());
    let csv = dir.path().join("r.csv");
    let child = spawn(
        pg.stormbench("stormbench_test")
            .args(["-w", "noop", "-d", "1s", "-q", "--json"])
            .arg(&fifo)
            .arg("--csv")
            .arg(&csv),
    );
    let (o, took) = wait_at_most(child, Duration::from_secs(40));
    let err = assert_clean_failure(&o, 1);
    assert!(err.contains("nothing read the FIFO"), "{err}");
    assert_eq!(err.matches("nobody-reads.fifo").count(), 1, "{err}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
    assert!(std::fs::metadata(&csv).unwrap().len() > 0);
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

/// A results history on a server that never answers: the run's report is written, the
/// recording gives up within its connect timeout, and Ctrl-C while it waits ends it at
/// once; `stormbench history` against it is bounded the same way.
#[test]
fn a_silent_history_server_neither_holds_a_run_nor_survives_ctrl_c() {
    let pg = pg();
    let port = silent_listener();
    let store = format!("postgresql://u@127.0.0.1:{port}/db?connect_timeout=2");
    let dir = tempdir();
    let json = dir.path().join("r.json");
    let run = |store: &str| {
        spawn(
            pg.stormbench("stormbench_test")
                .args(["-w", "noop", "-d", "1s", "-q", "--history", store, "--json"])
                .arg(&json),
        )
    };
    let (o, took) = wait_at_most(run(&store), Duration::from_secs(20));
    let (_, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("not recorded in the history") && err.contains("within 2s"),
        "{err}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(json.exists());
    // with a long connect timeout, Ctrl-C while the recording waits ends it
    let patient = format!("postgresql://u@127.0.0.1:{port}/db?connect_timeout=60");
    let child = run(&patient);
    std::thread::sleep(Duration::from_secs(4));
    signal(&child, libc::SIGINT);
    let (o, took) = wait_at_most(child, Duration::from_secs(10));
    let (_, err) = text(&o);
    assert!(
        err.contains("interrupted while writing to the history"),
        "{err}"
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
    let (o, _) = wait_at_most(
        spawn(stormbench().args(["history", "--store", &store])),
        Duration::from_secs(10),
    );
    assert_clean_failure(&o, 2);
}

#[test]
fn a_worker_bug_fails_the_run_and_keeps_the_report() {
    let pg = pg();
    let dir = tempdir();
    let json = dir.path().join("r.json");
    let err = fails(
        pg.stormbench("stormbench_test")
            .args(["-w", "noop", "-d", "3s", "--workers", "4", "-q", "--json"])
            .arg(&json)
            .env("STORMBENCH_FAULT", "panic_after:200"),
        1,
    );
    assert!(
        err.contains("internal error") && err.contains("injected fault"),
        "{err}"
    );
    let r = read_json(&json);
    validate_report_schema(&r);
    assert_eq!(r["status"], "failed");
    assert!(r["health"]["internal_errors"][0]
        .as_str()
        .unwrap()
        .contains("worker 0"));
    assert!(r["summary"]["transactions"].as_u64().unwrap() > 0);
}

/// The postmaster and every backend of a cluster, for SIGSTOP / SIGCONT.
fn server_pids(cluster: &EmbeddedCluster) -> Vec<i32> {
    let pid_file = std::fs::read_to_string(cluster.data_dir().join("postmaster.pid")).unwrap();
    let postmaster: i32 = pid_file.lines().next().unwrap().trim().parse().unwrap();
    let children = Command::new("pgrep")
        .args(["-P", &postmaster.to_string()])
        .output()
        .unwrap();
    let mut pids = vec![postmaster];
    pids.extend(
        String::from_utf8_lossy(&children.stdout)
            .lines()
            .filter_map(|l| l.trim().parse::<i32>().ok()),
    );
    pids
}

/// A cluster's processes stopped (SIGSTOP) until this is dropped, also when the test fails
/// while the server is frozen: the cluster then goes on and is shut down, not left frozen.
struct Frozen(Vec<i32>);

impl Frozen {
    fn new(cluster: &EmbeddedCluster) -> Frozen {
        let pids = server_pids(cluster);
        signal_all(&pids, libc::SIGSTOP);
        Frozen(pids)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        signal_all(&self.0, libc::SIGCONT);
    }
}

fn embedded() -> EmbeddedCluster {
    let opts = EmbeddedOptions {
        bindir: std::env::var_os("STORMBENCH_TEST_PGBINDIR").map(Into::into),
        ..Default::default()
    };
    EmbeddedCluster::start(&opts).expect("embedded cluster starts")
}

#[test]
fn a_frozen_server_ends_the_run_by_its_deadline_with_the_report_written() {
    let cluster = embedded();
    let port = cluster.port().to_string();
    ok(stormbench_on_port(&port).args(["-w", "simple", "--setup", "--no-run", "-q"]));
    let dir = tempdir();
    let json = dir.path().join("r.json");
    let child = spawn(
        stormbench_on_port(&port)
            .args([
                "-w",
                "simple_read",
                "-d",
                "5s",
                "--workers",
                "4",
                "--collect-pg-stats",
                "--json",
            ])
            .arg(&json),
    );
    std::thread::sleep(Duration::from_millis(1500));
    let frozen = Frozen::new(&cluster);
    let (o, took) = wait_at_most(child, Duration::from_secs(40));
    drop(frozen);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(5), "{out}\n{err}");
    assert!(took < Duration::from_secs(25), "took {took:?}");
    assert!(out.contains("still waiting for the server"), "{out}");
    let r = read_json(&json);
    validate_report_schema(&r);
    let h = &r["health"];
    assert!(h["unanswered"].as_u64().unwrap() >= 1, "{h}");
    assert!(h["outage_s"].as_f64().unwrap() >= 1.0, "{h}");
    assert!(h["availability"].as_f64().unwrap() < 100.0, "{h}");
    // the four statements in flight were still running after the grace; the frozen server
    // could not take the cancel requests, which gave up within their bound
    assert_eq!(h["in_flight_at_stop"]["unconfirmed"], 4, "{h}");
    assert!(
        out.contains("4 not seen to end after a cancel request"),
        "{out}"
    );
    let gaps = r["database_stats"]["gaps"]
        .as_array()
        .expect("collector gaps");
    assert!(!gaps.is_empty(), "{}", r["database_stats"]);
}

#[test]
fn a_server_frozen_during_check_workload_ends_the_check() {
    let cluster = embedded();
    let port = cluster.port().to_string();
    let dir = tempdir();
    let wl = dir.path().join("slowcheck");
    std::fs::create_dir_all(&wl).unwrap();
    std::fs::write(
        wl.join("workload.yaml"),
        "description: a check that takes a while\nschema: {create: schema.sql}\ndata:\n  - table: sc_items\n    rows: 10\n    columns:\n      id: {sequence: {}}\ntransactions:\n  - name: read\n    statements:\n      - sql: SELECT id FROM sc_items WHERE id = $1\n        params: [{foreign_key: sc_items}]\n",
    )
    .unwrap();
    std::fs::write(
        wl.join("schema.sql"),
        "CREATE TABLE sc_items (id bigint);\nSELECT pg_sleep(8);\n",
    )
    .unwrap();
    let child = spawn(stormbench_on_port(&port).arg("check-workload").arg(&wl));
    std::thread::sleep(Duration::from_millis(2000));
    let frozen = Frozen::new(&cluster);
    let (o, took) = wait_at_most(child, Duration::from_secs(60));
    drop(frozen);
    let err = assert_clean_failure(&o, 1);
    assert!(took < Duration::from_secs(40), "took {took:?}");
    assert!(
        err.contains("the server stopped answering") && err.contains("the check stopped"),
        "{err}"
    );
}

#[test]
fn a_full_server_during_a_load_says_too_many_clients() {
    let opts = EmbeddedOptions {
        bindir: std::env::var_os("STORMBENCH_TEST_PGBINDIR").map(Into::into),
        settings: vec![
            ("max_connections".into(), "4".into()),
            ("superuser_reserved_connections".into(), "0".into()),
            ("reserved_connections".into(), "0".into()),
        ],
        ..Default::default()
    };
    let opts = match EmbeddedCluster::start(&opts) {
        Ok(c) => Ok(c),
        // PostgreSQL 15 has no reserved_connections
        Err(_) => EmbeddedCluster::start(&EmbeddedOptions {
            settings: opts.settings[..2].to_vec(),
            ..opts
        }),
    };
    let cluster = opts.expect("embedded cluster starts");
    let err = fails(
        stormbench_on_port(&cluster.port().to_string()).args([
            "-w",
            "simple",
            "--setup",
            "--no-run",
            "-q",
            "--connections",
            "8",
        ]),
        1,
    );
    assert!(
        err.contains("too many clients")
            && err.contains("53300")
            && err.contains("max_connections"),
        "{err}"
    );
    assert!(!err.contains("loading data: loading data"), "{err}");
    let _ = std::io::stdout().flush();
}

#[test]
fn progressive_without_a_section_says_what_it_will_run() {
    let pg = pg();
    let child = spawn(pg.stormbench("stormbench_test").args([
        "-w",
        "noop",
        "--progressive",
        "-d",
        "2s",
        "--workers",
        "2",
    ]));
    std::thread::sleep(Duration::from_secs(2));
    signal(&child, libc::SIGINT);
    let (o, _) = wait_at_most(child, Duration::from_secs(10));
    let (_, err) = text(&o);
    assert!(
        err.contains("as a progressive sweep:")
            && err.contains("in all")
            && err.contains("do not apply to a sweep")
            && !err.contains("for 2s with 2 workers"),
        "{err}"
    );
}
