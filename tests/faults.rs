//! Bad input and faults: every one ends with a clear message and a meaningful exit code,
//! never a panic; a run survives the server going away and coming back.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use stormbench::db::embedded::{EmbeddedCluster, EmbeddedOptions};

#[test]
fn connection_refused() {
    // a loopback port nothing listens on
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = fails(
        stormbench().args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "-u",
            "x",
            "-d",
            "1s",
        ]),
        1,
    );
    assert!(err.contains("cannot connect to 127.0.0.1"), "{err}");
    assert!(
        err.contains("refused") && err.contains("database.port"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line expected:\n{err}");
}

#[test]
fn wrong_password_is_reported_without_echoing_it() {
    let pg = pg();
    let secret = "not-the-right-pw-8472";
    let o = stormbench()
        .args([
            "--host",
            &pg.host,
            "--port",
            &pg.port,
            "-u",
            "stormbench_pw",
            "--dbname",
            "stormbench_test",
        ])
        .args(["-w", "simple", "-d", "1s"])
        .env("STORMBENCH_DB_PASSWORD", secret)
        .output()
        .unwrap();
    let err = assert_clean_failure(&o, 1);
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(err.contains("database.password"), "{err}");
    let (out, _) = text(&o);
    assert!(!err.contains(secret) && !out.contains(secret));
}

#[test]
fn right_password_works_and_stays_out_of_reports() {
    let pg = pg();
    let secret = "stormbench-secret-pw";
    let dir = tempdir();
    let cfg = dir.path().join("pw.yaml");
    std::fs::write(
        &cfg,
        format!(
            "database:\n  host: {}\n  port: {}\n  username: stormbench_pw\n  dbname: stormbench_test\n  password: ${{SB_TEST_PW}}\n  sslmode: disable\nworkload: noop\nduration: 1s\n",
            pg.host, pg.port
        ),
    )
    .unwrap();
    let json = dir.path().join("r.json");
    let o = ok(stormbench()
        .arg("--config")
        .arg(&cfg)
        .arg("--json")
        .arg(&json)
        .args(["--log-level", "debug"])
        .env("SB_TEST_PW", secret));
    let (out, err) = text(&o);
    let report = std::fs::read_to_string(&json).unwrap();
    for (what, s) in [("stdout", &out), ("stderr", &err), ("report", &report)] {
        assert!(!s.contains(secret), "password leaked into {what}");
    }
    assert!(report.contains("********"));
}

#[test]
fn missing_database() {
    let pg = pg();
    let err = fails(pg.stormbench("sbt_no_such_database").args(["-d", "1s"]), 1);
    assert!(
        err.contains("does not exist") && err.contains("database.dbname"),
        "{err}"
    );
}

#[test]
fn config_errors_are_all_reported_with_exit_code_2() {
    let dir = tempdir();
    let cfg = dir.path().join("bad.yaml");
    std::fs::write(
        &cfg,
        "workload: nosuch\nworkers: -1\nduration: soon\ndatabase:\n  prot: 1\n",
    )
    .unwrap();
    let err = fails(stormbench().arg("--config").arg(&cfg), 2);
    for needle in [
        "workload: unknown workload 'nosuch'; available:",
        "workers:",
        "duration: invalid duration 'soon'",
        "database.prot: unknown key",
    ] {
        assert!(err.contains(needle), "{needle} missing:\n{err}");
    }
    let err = fails(
        stormbench().args(["--config", "/nonexistent/stormbench.yaml"]),
        2,
    );
    assert!(
        err.contains("cannot read config file") && err.contains("--config"),
        "{err}"
    );
    let o = stormbench().args(["-d", "banana"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!text(&o).1.contains("panicked"));
}

#[test]
fn embedded_with_a_bad_bindir_says_what_to_fix() {
    let err = fails(
        stormbench()
            .args(["--embedded", "-d", "1s"])
            .env("STORMBENCH_PG_BINDIR", "/nonexistent/bin"),
        1,
    );
    assert!(
        err.contains("/nonexistent/bin") && err.contains("STORMBENCH_PG_BINDIR"),
        "{err}"
    );
}

fn send_signal(child: &std::process::Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    let rc = unsafe { libc::kill(child.id() as i32, sig) };
    assert_eq!(rc, 0);
}

/// Waits until `child` says on stderr that its run started; the rest of its stderr is read
/// by the thread returned.
fn wait_for_the_run(child: &mut std::process::Child) -> std::thread::JoinHandle<String> {
    wait_for_stderr_line(child, "running ", Duration::from_secs(30))
}

#[test]
fn interrupt_reports_what_ran_and_exits_130() {
    let pg = pg();
    let db = pg.loaded("interrupt", "simple");
    let dir = tempdir();
    let json = dir.path().join("r.json");
    let mut child = spawn(
        pg.stormbench(&db)
            .args(["-w", "simple", "-d", "60s", "--workers", "8", "--json"])
            .arg(&json),
    );
    let stderr = wait_for_the_run(&mut child);
    std::thread::sleep(Duration::from_secs(2));
    let sent = Instant::now();
    send_signal(&child, libc::SIGINT);
    let o = child.wait_with_output().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "took {:?} to stop",
        sent.elapsed()
    );
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let err = stderr.join().unwrap();
    assert_eq!(o.status.code(), Some(130), "{out}\n{err}");
    assert!(out.contains("status interrupted"), "{out}");
    let r = read_json(&json);
    assert_eq!(r["status"], "interrupted");
    assert!(r["summary"]["transactions"].as_u64().unwrap() > 0);
    // the time until the interrupt, not the planned 60 s
    let measured = r["measured_s"].as_f64().unwrap();
    assert!(
        (0.5..4.5).contains(&measured),
        "measured {measured}s: {err}"
    );
}

#[test]
fn sigterm_also_stops_cleanly() {
    let pg = pg();
    let dir = tempdir();
    let json = dir.path().join("r.json");
    let mut child = pg
        .stormbench("stormbench_test")
        .args(["-w", "noop", "-d", "60s", "--no-summary", "--json"])
        .arg(&json)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = wait_for_the_run(&mut child);
    std::thread::sleep(Duration::from_secs(1));
    send_signal(&child, libc::SIGTERM);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr.join().unwrap());
    assert_eq!(read_json(&json)["status"], "interrupted");
}

#[test]
fn server_restart_mid_run_is_survived_on_the_wire_driver() {
    server_restart_mid_run_is_survived("wire");
}

#[test]
fn server_restart_mid_run_is_survived_on_tokio_postgres() {
    server_restart_mid_run_is_survived("tokio-postgres");
}

/// stormbench's sessions on the embedded cluster at `port` (0 when it cannot tell).
fn client_sessions(port: &str) -> usize {
    let psql =
        std::path::Path::new(&std::env::var_os("STORMBENCH_TEST_PGBINDIR").unwrap_or_default())
            .join("psql");
    std::process::Command::new(psql)
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-U",
            "stormbench",
            "-d",
            "postgres",
            "-qAtc",
        ])
        .arg("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'stormbench'")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0)
}

fn server_restart_mid_run_is_survived(driver: &str) {
    let opts = EmbeddedOptions {
        bindir: std::env::var_os("STORMBENCH_TEST_PGBINDIR").map(Into::into),
        ..Default::default()
    };
    let mut cluster = EmbeddedCluster::start(&opts).expect("embedded cluster starts");
    let port = cluster.port().to_string();
    let base = || stormbench_on_port(&port);
    ok(base().args(["-w", "simple", "--setup", "--no-run"]));
    let dir = tempdir();
    let json = dir.path().join("r.json");
    let child = spawn(
        base()
            .args([
                "-w",
                "simple",
                "--mode",
                "read",
                "-d",
                "9s",
                "--workers",
                "4",
                "-s",
                "1s",
                "--driver",
                driver,
                "--collect-pg-stats",
                "--json",
            ])
            .arg(&json),
    );
    // the run is under way once its four workers are connected (a fixed pause from the
    // spawn raced a slow start on a busy machine: the server went before stormbench came)
    let until = Instant::now() + Duration::from_secs(30);
    while client_sessions(&port) < 4 {
        assert!(
            Instant::now() < until,
            "the workers did not connect within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    cluster.stop_server().expect("server stops");
    std::thread::sleep(Duration::from_secs(2));
    cluster.start_server().expect("server starts again");
    let o = child.wait_with_output().unwrap();
    let (out, err) = text(&o);
    // an outage is not a healthy run: exit 5, and the report says how long it lasted
    assert_eq!(o.status.code(), Some(5), "{out}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.contains("unreachable or not answering"), "{out}");
    let r = read_json(&json);
    validate_report_schema(&r);
    let h = &r["health"];
    let outage = h["outage_s"].as_f64().unwrap();
    assert!((0.9..5.0).contains(&outage), "outage {outage}s: {h}");
    assert!(h["not_attempted"].as_u64().unwrap() > 0, "{h}");
    // the restart is one outage window: where it started, how long, what it cost
    let windows = h["outage_windows"].as_array().unwrap();
    assert_eq!(windows.len(), h["outages"].as_array().unwrap().len(), "{h}");
    let lost: u64 = windows
        .iter()
        .map(|w| w["transactions_lost"].as_u64().unwrap())
        .sum();
    // each window rounds its own estimate
    let total = h["not_attempted"].as_u64().unwrap();
    assert!(lost.abs_diff(total) <= windows.len() as u64, "{h}");
    let start = windows[0]["start_s"].as_f64().unwrap();
    assert!(
        (0.5..5.0).contains(&start),
        "outage starting at {start}s: {h}"
    );
    let success = r["summary"]["success_rate"].as_f64().unwrap();
    assert!(
        success < h["availability"].as_f64().unwrap() + 5.0,
        "success rate {success} hides the outage: {h}"
    );
    // the collector reconnected and marked the gap
    let stats = &r["database_stats"];
    let gaps = stats["gaps"].as_array().expect("gaps");
    assert_eq!(gaps.len(), 1, "{stats}");
    let resumed = gaps[0]["to_s"].as_f64().unwrap();
    let last = stats["snapshots"][1]["t_s"].as_f64().unwrap();
    assert!(last > resumed, "samples after the restart: {stats}");
    assert_eq!(r["connections"]["driver"], driver);
    let lost = r["errors"]["by_class"]["connection_lost"]
        .as_u64()
        .unwrap_or(0);
    assert!(lost > 0, "expected connection_lost errors: {}", r["errors"]);
    assert!(out.contains("connection_lost"), "{out}");
    // transactions completed after the restart: the last seconds of the series
    let series = r["time_series"].as_array().unwrap();
    let tail: u64 = series[series.len() - 2..]
        .iter()
        .map(|p| p["transactions"].as_u64().unwrap())
        .sum();
    assert!(tail > 0, "no transactions after the restart: {series:?}");
}

#[test]
fn unwritable_report_path_fails_before_running() {
    let dir = tempdir();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "x").unwrap();
    // a directory cannot be created below a regular file
    let err = fails(
        stormbench()
            .args(["--host", "127.0.0.1", "--port", "1", "-d", "1s", "--json"])
            .arg(blocker.join("report.json")),
        2,
    );
    assert!(
        err.contains("cannot create directory") && err.contains("output path"),
        "{err}"
    );
    assert!(
        !err.contains("cannot connect"),
        "must fail before connecting: {err}"
    );
}

/// A copy of `example_bank` that checks its data after every run, in a temp folder.
fn bank_checked_after_run() -> tempfile::TempDir {
    let dir = tempdir();
    let wl = dir.path().join("bank_checked");
    std::fs::create_dir(&wl).unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/example_bank");
    for f in std::fs::read_dir(&src).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, wl.join(f.file_name().unwrap())).unwrap();
    }
    let yaml = std::fs::read_to_string(wl.join("workload.yaml")).unwrap();
    std::fs::write(
        wl.join("workload.yaml"),
        format!("check_after_run: true\n{yaml}"),
    )
    .unwrap();
    dir
}

#[test]
fn stormbenchs_idle_session_closed_during_the_run_keeps_the_runs_figures_and_checks() {
    let pg = pg();
    let dir = bank_checked_after_run();
    let run = |db: &str, role: &str, setup: bool| {
        let json = dir.path().join(format!("{db}.json"));
        let mut c = stormbench();
        c.args([
            "--host", &pg.host, "--port", &pg.port, "-u", role, "--dbname", db,
        ])
        .args(["-w", "bank_checked", "-d", "5s", "--workers", "2", "--json"])
        .arg(&json)
        .arg("--workloads-path")
        .arg(dir.path());
        if setup {
            c.arg("--setup");
        }
        (c, json)
    };
    let assert_whole = |o: &std::process::Output, json: &std::path::Path, case: &str| {
        let (out, err) = text(o);
        assert!(o.status.success(), "{case}: {out}\n{err}");
        let r = read_json(json);
        assert!(
            r["summary"]["server_transactions"].as_u64().unwrap() > 0,
            "{case}: {}",
            r["summary"]
        );
        assert!(out.contains("Consistency Checks:"), "{case}: {out}");
    };
    // a role whose idle sessions the server ends after 2 s: stormbench's own session,
    // idle while the workers run, is kept
    let db = pg.fresh_db("idle_role");
    pg.psql(
        &db,
        "DROP ROLE IF EXISTS sb_idle_reaped; CREATE ROLE sb_idle_reaped LOGIN SUPERUSER; \
         ALTER ROLE sb_idle_reaped SET idle_session_timeout = '2s'",
    );
    let (mut c, json) = run(&db, "sb_idle_reaped", true);
    assert_whole(&c.output().unwrap(), &json, "idle_session_timeout");
    // an administrator ends it (the run's first session) in the middle of the run: another
    // is opened for what comes after
    let db = pg.fresh_db("idle_killed");
    let (mut setup, _) = run(&db, &pg.user, true);
    ok(setup.arg("--no-run"));
    let (mut c, json) = run(&db, &pg.user, false);
    let child = spawn(&mut c);
    std::thread::sleep(Duration::from_secs(3));
    let ended = pg.psql(
        &db,
        "SELECT count(pg_terminate_backend(pid)) FROM (SELECT pid FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'stormbench' \
         ORDER BY backend_start LIMIT 1) first",
    );
    assert_eq!(ended, "1");
    let o = child.wait_with_output().unwrap();
    assert_whole(&o, &json, "terminated");
    assert!(
        text(&o).1.contains("own session to the server was closed"),
        "{}",
        text(&o).1
    );
}

#[test]
fn a_roles_statement_timeout_does_not_cut_a_load_and_server_refusals_are_one_line() {
    let pg = pg();
    let as_role = |db: &str, role: &str| {
        let mut c = stormbench();
        c.args([
            "--host", &pg.host, "--port", &pg.port, "-u", role, "--dbname", db,
        ]);
        c
    };
    // a limit meant for an application's queries: the bulk load runs without it
    let db = pg.fresh_db("role_timeout");
    pg.psql(
        &db,
        "DROP ROLE IF EXISTS sb_short_statements; \
         CREATE ROLE sb_short_statements LOGIN SUPERUSER; \
         ALTER ROLE sb_short_statements SET statement_timeout = '100ms'",
    );
    ok(as_role(&db, "sb_short_statements").args([
        "-w",
        "simple_read",
        "--setup",
        "--scale",
        "5",
        "--no-run",
        "-q",
    ]));
    // a role that may not write (a replica's, say): the server's refusal, said once
    let db = pg.fresh_db("role_read_only");
    pg.psql(
        &db,
        "DROP ROLE IF EXISTS sb_read_only; CREATE ROLE sb_read_only LOGIN SUPERUSER; \
         ALTER ROLE sb_read_only SET default_transaction_read_only = on",
    );
    let err = fails(
        as_role(&db, "sb_read_only").args(["-w", "simple_read", "--setup", "--no-run", "-q"]),
        1,
    );
    assert_eq!(
        err.trim(),
        "Error: creating the simple schema: cannot execute CREATE TABLE in a read-only \
         transaction (SQLSTATE 25006)"
    );
}
