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
    let o = quickstart()
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
        .arg(&csv)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
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
    let child = quickstart()
        .args(["--config", "config/connection.yaml", "-d", "60s", "--json"])
        .arg(&json)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // wait for the run to start (cluster up, data loaded)
    std::thread::sleep(Duration::from_secs(6));
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let o = child.wait_with_output().unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(130), "{out}\n{err}");
    assert_eq!(read_json(&json)["status"], "interrupted");
    assert_port_closed(embedded_port(&out));
}
