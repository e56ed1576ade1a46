//! The Prometheus endpoint, scraped over real HTTP during a run against the test cluster.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;

fn scrape(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain"),
        "{head}"
    );
    Some(body.to_string())
}

/// A local TCP port nothing listens on (just now).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `name{labels} value` lines into a map (comments skipped).
fn parse(body: &str) -> HashMap<String, f64> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

fn sum_of(m: &HashMap<String, f64>, prefix: &str) -> f64 {
    m.iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(_, v)| v)
        .sum()
}

#[test]
fn metrics_are_served_during_the_run_and_counters_grow() {
    let pg = pg();
    let port = free_port();
    let child = spawn(
        pg.stormbench("stormbench_test")
            .args([
                "-w",
                "simple",
                "--setup",
                "-d",
                "7s",
                "--workers",
                "4",
                "--collect-pg-stats",
                "-q",
            ])
            .args(["--prometheus", &format!("127.0.0.1:{port}")]),
    );
    // wait for the endpoint and the first finished interval
    let mut first = None;
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(200));
        if let Some(b) = scrape(port) {
            if sum_of(&parse(&b), "stormbench_transactions_total") > 0.0 {
                first = Some(parse(&b));
                break;
            }
        }
    }
    let first = first.expect("the endpoint served transactions within 10 s");
    // scrape again until an interval more is in (at most 5 s: the run lasts 7)
    let key = "stormbench_latency_seconds_count{kind=\"read\"}";
    let mut second = None;
    for _ in 0..25 {
        std::thread::sleep(Duration::from_millis(200));
        let now = parse(&scrape(port).expect("second scrape"));
        if now.get(key) > first.get(key) {
            second = Some(now);
            break;
        }
    }
    let second = second.expect("the latency histogram grew within 5 s of the first scrape");
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{:?}", text(&o));

    let tx1 = sum_of(&first, "stormbench_transactions_total");
    let tx2 = sum_of(&second, "stormbench_transactions_total");
    assert!(
        tx2 > tx1,
        "transactions counter did not grow: {tx1} -> {tx2}"
    );
    assert!(second[key] > first[key], "latency histogram did not grow");
    assert!(
        second["stormbench_latency_seconds_bucket{kind=\"read\",le=\"10\"}"] >= second[key] * 0.99
    );
    assert_eq!(second["stormbench_workers"], 4.0);
    assert!(second["stormbench_achieved_tps"] > 0.0);
    // pg_stat figures as gauges
    assert!(second["stormbench_pg_xact_commit"] >= first["stormbench_pg_xact_commit"]);
    assert!(second.contains_key("stormbench_pg_wal_bytes"));
    assert!(second.contains_key("stormbench_pg_connections_active"));
    // the endpoint is gone with the run
    assert!(scrape(port).is_none());
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let pg = pg();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = fails(
        pg.stormbench("stormbench_test").args([
            "-w",
            "noop",
            "-d",
            "1s",
            "--prometheus",
            &format!("127.0.0.1:{port}"),
        ]),
        1,
    );
    assert!(
        err.contains("cannot serve Prometheus metrics")
            && err.contains("metrics.prometheus.listen"),
        "{err}"
    );
}

/// CPU seconds (user + system) process `pid` has used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // the fields after the command name, which is in parentheses
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    // SAFETY: sysconf reads a constant of the system
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

#[test]
fn clients_that_connect_and_never_ask_neither_spin_nor_hold_the_endpoint() {
    use std::os::unix::process::CommandExt as _;
    let pg = pg();
    let port = free_port();
    let mut c = pg.stormbench("stormbench_test");
    c.args([
        "-w", "noop", "-d", "20s", "--warmup", "0s", "--rate", "50", "-q",
    ])
    .args(["--prometheus", &format!("127.0.0.1:{port}")]);
    // few file descriptors, so that idle clients can use them all up
    // SAFETY: setrlimit(2) is async-signal-safe, as pre_exec requires
    unsafe {
        c.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 64,
                rlim_max: 64,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = spawn(&mut c);
    let up = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(200));
        scrape(port).is_some()
    });
    assert!(up, "the endpoint did not answer within 10 s");
    // one idle client is let go by the server
    let mut lone = TcpStream::connect(("127.0.0.1", port)).unwrap();
    lone.set_read_timeout(Some(Duration::from_secs(12)))
        .unwrap();
    let t0 = std::time::Instant::now();
    let read = lone.read(&mut [0u8; 64]);
    assert!(
        matches!(read, Ok(0)),
        "an idle client was not disconnected within 12 s: {read:?}"
    );
    assert!(t0.elapsed() < Duration::from_secs(12));
    // more idle clients than it has descriptors: it waits for descriptors, it does not spin
    let idle: Vec<TcpStream> = (0..200)
        .filter_map(|_| {
            TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).ok()
        })
        .collect();
    assert!(
        idle.len() > 64,
        "only {} idle clients connected",
        idle.len()
    );
    std::thread::sleep(Duration::from_secs(1));
    let cpu0 = cpu_seconds(child.id());
    std::thread::sleep(Duration::from_secs(3));
    let used = cpu_seconds(child.id()) - cpu0;
    assert!(used < 1.0, "{used:.2} CPU seconds in 3 s with idle clients");
    drop(idle);
    assert!(
        (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(200));
            scrape(port).is_some()
        }),
        "the endpoint did not answer again within 10 s of the idle clients leaving"
    );
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{:?}", text(&o));
}

#[test]
fn grafana_dashboard_uses_only_exported_metrics() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/grafana/stormbench.json"
    ))
    .unwrap();
    let dash: serde_json::Value = serde_json::from_str(&text).expect("dashboard is JSON");
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/export/mod.rs")).unwrap();
    let mut names = 0;
    for p in dash["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().unwrap() {
            let expr = t["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                if let Some(rest) = word.strip_prefix("stormbench_") {
                    let base = rest.trim_end_matches("_bucket");
                    let exported = source.contains(&format!("\"stormbench_{base}\""))
                        || base
                            .strip_prefix("pg_")
                            .is_some_and(|n| source.contains(&format!("\"{n}\"")));
                    assert!(
                        exported,
                        "dashboard uses stormbench_{rest}, which is not exported"
                    );
                    names += 1;
                }
            }
        }
    }
    assert!(names >= 15, "{names} metric references");
}
