//! The README's first command: `stormbench --config config/simple.yaml` against an
//! embedded throwaway cluster, which is gone afterwards, also after an interrupt.

mod common;

use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;

use common::*;

fn embedded_port(report_text: &str) -> u16 {
    let line = report_text
        .lines()
        .find(|l| l.starts_with("Database:"))
        .unwrap_or_else(|| panic!("no Database: line in\n{report_text}"));
    let addr = line.split_whitespace().nth(1).unwrap();
    addr.split(['/', ':']).nth(1).unwrap().parse().unwrap()
}

fn assert_port_closed(port: u16) {
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
        "the embedded server on port {port} is still running"
    );
}

fn quickstart() -> std::process::Command {
    let mut c = stormbench();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    if let Some(b) = std::env::var_os("STORMBENCH_TEST_PGBINDIR") {
        c.env("STORMBENCH_PG_BINDIR", b);
    }
    c
}

#[test]
fn simple_config_runs_on_an_embedded_cluster_and_cleans_up() {
    let dir = tempdir();
    let json = dir.path().join("simple.json");
    let csv = dir.path().join("simple.csv");
    let o = ok(quickstart()
        .args([
            "--config",
            "config/simple.yaml",
            "-d",
            "2s",
            "--warmup",
            "0s",
            "--json",
        ])
        .arg(&json)
        .arg("--csv")
        .arg(&csv));
    let (out, err) = text(&o);
    assert!(
        err.contains("starting an embedded PostgreSQL cluster"),
        "{err}"
    );
    let r = read_json(&json);
    validate_report_schema(&r);
    assert!(r["summary"]["transactions"].as_u64().unwrap() > 0);
    assert_eq!(r["workload"]["load"]["tables"][0]["rows"], 100_000);
    assert!(csv.exists());
    assert_port_closed(embedded_port(&out));
}

#[test]
fn interrupted_embedded_run_still_removes_the_cluster() {
    let dir = tempdir();
    let json = dir.path().join("r.json");
    let child = spawn(
        quickstart()
            .args(["--config", "config/connection.yaml", "-d", "60s", "--json"])
            .arg(&json),
    );
    // wait for the run to start (cluster up, data loaded), then a second of running
    let mut child = child;
    let reader = wait_for_stderr_line(&mut child, "running ", Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(1));
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let o = child.wait_with_output().unwrap();
    let (out, _) = text(&o);
    let err = reader.join().unwrap();
    assert_eq!(o.status.code(), Some(130), "{out}\n{err}");
    assert_eq!(read_json(&json)["status"], "interrupted");
    assert_port_closed(embedded_port(&out));
}

/// The directory of the embedded cluster owned by process `pid` (from its owner file),
/// looked for in `bases`.
fn cluster_dir_of(pid: u32, bases: &[std::path::PathBuf]) -> Option<(std::path::PathBuf, u32)> {
    for base in bases {
        let Ok(entries) = std::fs::read_dir(base) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(owner) = std::fs::read_to_string(e.path().join("owner")) else {
                continue;
            };
            let f: Vec<u32> = owner
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            if f.first() == Some(&pid) {
                return Some((e.path(), f.get(2).copied().unwrap_or(0)));
            }
        }
    }
    None
}

/// A temporary directory of its own for embedded clusters (reachable by the `postgres`
/// user), so concurrent tests do not see each other's clusters.
fn cluster_base() -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("sbt-clusters-")
        .tempdir_in("/tmp")
        .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

/// Starts a long embedded run with its clusters under `base` and waits until its cluster
/// is up; returns the child, the cluster's directory, its port and its watchdog's pid.
fn long_embedded_run(
    base: &std::path::Path,
) -> (std::process::Child, std::path::PathBuf, u16, u32) {
    let mut child = quickstart()
        .env("TMPDIR", base)
        .args(["--embedded", "-w", "noop", "-d", "120s", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..300 {
        if let Some((dir, watchdog)) = cluster_dir_of(child.id(), &[base.to_path_buf()]) {
            let port = std::fs::read_to_string(dir.join("data/postmaster.pid"))
                .ok()
                .and_then(|t| t.lines().nth(3).and_then(|l| l.trim().parse().ok()));
            if let Some(port) = port {
                let addr = format!("127.0.0.1:{port}").parse().unwrap();
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return (child, dir, port, watchdog);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the embedded cluster did not come up");
}

fn sigkill(pid: u32) {
    // SAFETY: kill(2) on a process this test started (or its watchdog).
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let t0 = std::time::Instant::now();
    while !ok() {
        assert!(t0.elapsed() < limit, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn port_open(port: u16) -> bool {
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

#[test]
fn a_killed_stormbench_takes_its_embedded_cluster_along() {
    let base = cluster_base();
    let (mut child, dir, port, watchdog) = long_embedded_run(base.path());
    assert!(watchdog > 0, "a watchdog runs");
    sigkill(child.id());
    let _ = child.wait();
    wait_until("the server stops", Duration::from_secs(20), || {
        !port_open(port)
    });
    wait_until("the directory goes", Duration::from_secs(20), || {
        !dir.exists()
    });
}

#[test]
fn a_killed_stormbench_takes_its_frozen_embedded_cluster_along() {
    let base = cluster_base();
    let (mut child, dir, port, watchdog) = long_embedded_run(base.path());
    assert!(watchdog > 0, "a watchdog runs");
    let data = dir.join("data").canonicalize().unwrap();
    let server = processes_in(&data);
    signal_all(&server, libc::SIGSTOP);
    sigkill(child.id());
    let _ = child.wait();
    // three immediate stops of 10 s each, then the processes are killed
    let t0 = std::time::Instant::now();
    while !alive(&server).is_empty() && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let left = alive(&server);
    // a server left behind goes on, so that the machine is not left with it frozen
    signal_all(&left, libc::SIGCONT);
    assert_eq!(left, Vec::<i32>::new(), "server processes left");
    assert!(!port_open(port));
    wait_until("the directory goes", Duration::from_secs(20), || {
        !dir.exists()
    });
}

#[test]
fn a_cluster_left_by_a_killed_stormbench_is_removed_at_the_next_start() {
    let base = cluster_base();
    let (mut child, dir, port, watchdog) = long_embedded_run(base.path());
    // the worst case: the watchdog dies first, then stormbench
    sigkill(watchdog);
    sigkill(child.id());
    let _ = child.wait();
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        port_open(port) && dir.exists(),
        "the cluster is left behind"
    );
    let o = ok(quickstart().env("TMPDIR", base.path()).args([
        "--embedded",
        "-w",
        "noop",
        "-d",
        "1s",
        "-q",
    ]));
    assert!(
        text(&o).1.contains("left by a stormbench that was killed"),
        "{:?}",
        text(&o)
    );
    assert!(!dir.exists());
    wait_until("the stale server stops", Duration::from_secs(10), || {
        !port_open(port)
    });
}

/// Those of `pids` still alive (not gone, not a zombie): a cluster's processes are named
/// by pid once frozen, since removing its directory changes their working directory.
fn alive(pids: &[i32]) -> Vec<i32> {
    let running = |p: &i32| {
        std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
    };
    pids.iter().copied().filter(running).collect()
}

/// The processes working in directory `data` (a cluster's server processes).
fn processes_in(data: &std::path::Path) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|c| c == data))
        .collect()
}

#[test]
fn ctrl_c_with_a_frozen_embedded_cluster_does_not_wait_out_its_stop() {
    let base = cluster_base();
    let mut child = spawn(quickstart().env("TMPDIR", base.path()).args([
        "--embedded",
        "-w",
        "noop",
        "-d",
        "120s",
    ]));
    // past the start-up (whose interrupt leaves the cluster to the watchdog): running
    let reader = wait_for_stderr_line(&mut child, "running ", Duration::from_secs(60));
    let (dir, _) = cluster_dir_of(child.id(), &[base.path().to_path_buf()]).unwrap();
    let data = dir.join("data").canonicalize().unwrap();
    let pid_file = std::fs::read_to_string(data.join("postmaster.pid")).unwrap();
    let port: u16 = pid_file.lines().nth(3).unwrap().trim().parse().unwrap();
    let server = processes_in(&data);
    assert!(server.len() > 1, "postmaster and children: {server:?}");
    signal_all(&server, libc::SIGSTOP);
    let sent = std::time::Instant::now();
    signal(&child, libc::SIGINT);
    let status = child.wait().unwrap();
    let took = sent.elapsed();
    let err = reader.join().unwrap();
    let left = alive(&server);
    // a server left behind goes on, so that the machine is not left with it frozen
    signal_all(&left, libc::SIGCONT);
    assert_eq!(status.code(), Some(130), "{err}");
    // pg_ctl's own wait would be 60 s
    assert!(took < Duration::from_secs(30), "took {took:?}: {err}");
    assert!(err.contains("processes were killed"), "{err}");
    assert_eq!(left, Vec::<i32>::new(), "server processes left");
    assert!(!port_open(port));
    wait_until("the directory goes", Duration::from_secs(20), || {
        !dir.exists()
    });
}

#[test]
fn ctrl_c_during_the_embedded_start_up_does_not_wait_for_it() {
    let base = cluster_base();
    let child = quickstart()
        .env("TMPDIR", base.path())
        .args(["--embedded", "-w", "noop", "-d", "5s", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // the start-up has begun once its directory shows (stormbench listens for Ctrl-C
    // before it starts the cluster); a moment later initdb is running. A fixed pause
    // instead raced a slow process start on a busy machine.
    wait_until(
        "the embedded start-up begins",
        Duration::from_secs(20),
        || std::fs::read_dir(base.path()).unwrap().next().is_some(),
    );
    std::thread::sleep(Duration::from_millis(200));
    let sent = std::time::Instant::now();
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{:?}", text(&o));
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "took {:?}",
        sent.elapsed()
    );
    wait_until("nothing is left", Duration::from_secs(30), || {
        std::fs::read_dir(base.path()).unwrap().next().is_none()
    });
}
