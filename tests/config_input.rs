//! Hostile but fair input to the config loader and to `check-workload`, end to end: every
//! case ends with a clear error and exit code 2 before anything is run, or, for passwords,
//! with a real login on the test cluster.

mod common;

use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{assert_clean_failure, pg, spawn, stormbench, tempdir, text};

/// Runs `cmd`, killing it after `limit`: a case that would hang or eat memory fails
/// instead of stalling the suite.
fn output_within(mut cmd: Command, limit: Duration) -> Output {
    let mut child = spawn(&mut cmd);
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!("still running after {limit:?}; stderr:\n{}", text(&o).1);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn durations_beyond_their_limit_are_refused_before_connecting() {
    let pg = pg();
    let mut c = pg.stormbench("stormbench_test");
    c.args(["-w", "noop", "-d", "100000000000s", "--warmup", "0s"]);
    let err = assert_clean_failure(&output_within(c, Duration::from_secs(60)), 2);
    assert!(
        err.contains("duration: must be at most 365 days (got "),
        "{err}"
    );

    let dir = tempdir();
    let cfg = dir.path().join("think.yaml");
    std::fs::write(
        &cfg,
        "workload: noop\nthink_time: 18446744073709551615\nsample_interval: 100000000000s\n",
    )
    .unwrap();
    let mut c = pg.stormbench("stormbench_test");
    c.arg("--config").arg(&cfg).args(["-d", "1s"]);
    let err = assert_clean_failure(&output_within(c, Duration::from_secs(60)), 2);
    assert!(err.contains("think_time: must be at most 1 hour"), "{err}");
    assert!(
        err.contains("sample_interval: must be at most 1 day"),
        "{err}"
    );
}

/// Runs `cmd` with `input` piped to its standard input, within `limit`.
fn output_with_stdin(mut cmd: Command, input: &str, limit: Duration) -> Output {
    use std::io::Write as _;
    cmd.stdin(Stdio::piped());
    let mut child = spawn(&mut cmd);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!("still running after {limit:?}; stderr:\n{}", text(&o).1);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_config_piped_on_standard_input_runs() {
    let pg = pg();
    let dir = tempdir();
    let json = dir.path().join("report.json");
    let mut c = pg.stormbench("stormbench_test");
    c.args(["--config", "-", "--json"]).arg(&json);
    let o = output_with_stdin(
        c,
        "workload: noop\nworkers: 3\nduration: 1s\nwarmup: 0s\n",
        Duration::from_secs(120),
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    let report = common::read_json(&json);
    assert_eq!(report["config"]["workers"], 3);
    assert_eq!(report["config"]["workload"], "noop");

    // problems name standard input as their source
    let c = {
        let mut c = stormbench();
        c.args(["--config", "-"]);
        c
    };
    let err = assert_clean_failure(
        &output_with_stdin(c, "workers: 0\n", Duration::from_secs(60)),
        2,
    );
    assert!(
        err.contains("invalid configuration in standard input"),
        "{err}"
    );
    assert!(err.contains("workers: must be between 1 and"), "{err}");
    let c = {
        let mut c = stormbench();
        c.args(["--config", "-"]);
        c
    };
    let err = assert_clean_failure(
        &output_with_stdin(c, "# nothing\n", Duration::from_secs(60)),
        2,
    );
    assert!(err.contains("config file standard input is empty"), "{err}");
}

#[test]
fn an_empty_config_file_is_refused() {
    let dir = tempdir();
    for (name, body) in [
        ("empty.yaml", ""),
        (
            "comments.yaml",
            "# nothing here yet\n\n   \n# database: {host: db}\n",
        ),
        ("marker.yaml", "---\n"),
    ] {
        let cfg = dir.path().join(name);
        std::fs::write(&cfg, body).unwrap();
        let o = output_within(
            {
                let mut c = stormbench();
                c.arg("--config").arg(&cfg);
                c
            },
            Duration::from_secs(60),
        );
        let err = assert_clean_failure(&o, 2);
        assert!(
            err.contains(&format!("config file {} is empty", cfg.display())),
            "{name}: {err}"
        );
    }
}

#[test]
fn a_config_that_never_ends_is_refused() {
    let mut c = stormbench();
    c.args(["--config", "/dev/zero"]);
    let err = assert_clean_failure(&output_within(c, Duration::from_secs(60)), 2);
    assert!(
        err.contains("config file /dev/zero is larger than 1 MiB"),
        "{err}"
    );
}

#[test]
fn deeply_nested_config_is_refused_quickly() {
    let dir = tempdir();
    let cfg = dir.path().join("deep.yaml");
    std::fs::write(&cfg, "workload: ".to_string() + &"{a: ".repeat(200_000)).unwrap();
    let mut c = stormbench();
    c.arg("--config").arg(&cfg);
    let err = assert_clean_failure(&output_within(c, Duration::from_secs(20)), 2);
    assert!(
        err.contains("line 1: nesting deeper than 64 levels"),
        "{err}"
    );
}

/// Tests that change the password of the test cluster's password role run one at a time
/// and put the documented password back, whatever happens.
static PASSWORD_ROLE: Mutex<()> = Mutex::new(());
const PW_ROLE: &str = "stormbench_pw";
const PW_ROLE_PASSWORD: &str = "stormbench-secret-pw";

struct RestorePassword<'a>(&'a common::Pg);

impl Drop for RestorePassword<'_> {
    fn drop(&mut self) {
        self.0.psql(
            "postgres",
            &format!("ALTER ROLE {PW_ROLE} PASSWORD '{PW_ROLE_PASSWORD}'"),
        );
    }
}

fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[test]
fn passwords_from_variables_reach_the_server_exactly() {
    let _one = PASSWORD_ROLE.lock().unwrap_or_else(|e| e.into_inner());
    let pg = pg();
    let _restore = RestorePassword(&pg);
    let dir = tempdir();
    let cfg = dir.path().join("pw.yaml");
    std::fs::write(
        &cfg,
        format!(
            "database:\n  host: {}\n  port: {}\n  username: {PW_ROLE}\n  dbname: stormbench_test\n  password: ${{SB_CFG_PW}}\n  sslmode: disable\nworkload: noop\nduration: 1s\n",
            pg.host, pg.port
        ),
    )
    .unwrap();
    // each one broke the old text substitution: a number was rejected (and printed), ` #`
    // cut the password at a "comment", `: ` and a leading `*` broke the YAML
    for secret in [
        "20240131",
        "pa ss #word",
        "*star: colon",
        "'quoted\" {flow: [x]}",
    ] {
        pg.psql(
            "postgres",
            &format!("ALTER ROLE {PW_ROLE} PASSWORD {}", sql_literal(secret)),
        );
        let mut c = stormbench();
        c.arg("--config").arg(&cfg).env("SB_CFG_PW", secret);
        let o = output_within(c, Duration::from_secs(120));
        let (out, err) = text(&o);
        assert!(o.status.success(), "{secret:?}:\n{out}\n{err}");
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "password {secret:?} printed"
        );
        // the same password, wrong: refused by the server, and not printed
        let mut c = stormbench();
        c.arg("--config")
            .arg(&cfg)
            .env("SB_CFG_PW", format!("{secret}x"));
        let o = output_within(c, Duration::from_secs(120));
        let err = assert_clean_failure(&o, 1);
        assert!(err.contains("password authentication failed"), "{err}");
        assert!(!err.contains(secret), "password {secret:?} printed: {err}");
    }
}

#[test]
fn a_variable_cannot_inject_configuration() {
    let pg = pg();
    let dir = tempdir();
    let cfg = dir.path().join("inject.yaml");
    std::fs::write(
        &cfg,
        format!(
            "database:\n  host: {}\n  port: {}\n  username: {}\n  dbname: ${{SB_CFG_DB}}\nworkload: noop\nduration: 1s\n",
            pg.host, pg.port, pg.user
        ),
    )
    .unwrap();
    // as text this added `sslmode: require` (the test cluster has no TLS, so the run
    // failed on TLS); as a value it is just a database name that does not exist
    let mut c = stormbench();
    c.arg("--config")
        .arg(&cfg)
        .env("SB_CFG_DB", "stormbench_test\n  sslmode: require");
    let err = assert_clean_failure(&output_within(c, Duration::from_secs(60)), 1);
    assert!(err.contains("does not exist"), "{err}");
    assert!(!err.to_lowercase().contains("tls"), "{err}");
}

#[test]
fn a_password_typed_as_a_number_in_the_file_is_refused_without_printing_it() {
    let dir = tempdir();
    let cfg = dir.path().join("num.yaml");
    std::fs::write(&cfg, "database:\n  password: 48151623\nworkload: noop\n").unwrap();
    let mut c = stormbench();
    c.arg("--config").arg(&cfg);
    let err = assert_clean_failure(&output_within(c, Duration::from_secs(60)), 2);
    assert!(
        err.contains("database.password: YAML reads this password as a number"),
        "{err}"
    );
    assert!(!err.contains("48151623"), "{err}");
    std::fs::write(
        &cfg,
        "database:\n  password: 99999999999999999999999\nworkload: noop\n",
    )
    .unwrap();
    let mut c = stormbench();
    c.arg("--config").arg(&cfg);
    let err = assert_clean_failure(&output_within(c, Duration::from_secs(60)), 2);
    assert!(!err.contains("99999999999999999999999"), "{err}");
}

/// Runs `check-workload --offline` with `args`; returns stderr after checking exit code 2
/// and no panic.
fn check_offline_fails(dir: &std::path::Path, args: &[&str]) -> String {
    let mut c = stormbench();
    c.arg("check-workload").arg(dir).arg("--offline").args(args);
    let o = output_within(c, Duration::from_secs(60));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "stdout:\n{out}\nstderr:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn check_workload_offline_refuses_scale_zero_and_non_finite_bounds() {
    let bank = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/example_bank");
    let err = check_offline_fails(&bank, &["--scale", "0"]);
    assert!(
        err.contains("--scale: must be between 1 and 4294967295 (got 0)"),
        "{err}"
    );

    let root = tempdir();
    let dir = root.path().join("nan_bounds");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("workload.yaml"),
        "transactions:\n  - name: t\n    statements:\n      - sql: SELECT $1::float8, $2::int, $3::int\n        params: [{uniform: {min: .nan, max: 1, type: float}}, {gaussian: {mean: .inf, stddev: 1}}, {sequence: {}}]\n",
    )
    .unwrap();
    let err = check_offline_fails(&dir, &[]);
    for want in [
        "transactions[0].statements[0].params[0].uniform.min: must be a finite number (got NaN)",
        "transactions[0].statements[0].params[1].gaussian.mean: must be a finite number (got inf)",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
}
