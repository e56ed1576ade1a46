//! Connecting the way PostgreSQL users do, against the real test cluster: a connection URI,
//! the PG* environment, the precedence of every layer, the password file and the service
//! file. The password role needs its password (scram-sha-256), so a run that succeeds as
//! that role proves the password reached the server; no output may contain it.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use common::*;

const PW_ROLE: &str = "stormbench_pw";
const PW: &str = "stormbench-secret-pw";
const DB: &str = "stormbench_test";

/// A one-second `noop` run (it connects and authenticates every worker) with a JSON report.
fn run(c: &mut Command, dir: &Path) -> (Output, Option<serde_json::Value>) {
    let json = dir.join("r.json");
    let _ = std::fs::remove_file(&json);
    let o = c
        .args(["-w", "noop", "-d", "1s", "--workers", "2", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    for s in [&out, &err] {
        assert!(!s.contains(PW), "the password leaked: {s}");
    }
    let report = std::fs::read_to_string(&json).ok();
    if let Some(r) = &report {
        assert!(!r.contains(PW), "the password leaked into the report");
    }
    (o, report.map(|r| serde_json::from_str(&r).unwrap()))
}

/// Runs and expects success as the password role in the test database.
fn connects(c: &mut Command, dir: &Path) -> serde_json::Value {
    let (o, r) = run(c, dir);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    let r = r.expect("a report");
    let db = &r["config"]["database"];
    assert_eq!(db["dbname"], DB, "{db}");
    assert_eq!(db["username"], PW_ROLE, "{db}");
    r
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_uri_with_every_part() {
    let pg = pg();
    let dir = tempdir();
    let url = format!(
        "postgresql://{PW_ROLE}:{}@{}:{}/{DB}?sslmode=disable&application_name=sb%20uri&connect_timeout=7",
        PW.replace('-', "%2D"),
        pg.host,
        pg.port
    );
    let r = connects(stormbench().args(["--url", &url]), dir.path());
    let db = &r["config"]["database"];
    assert_eq!(db["application_name"], "sb uri");
    assert_eq!(db["sslmode"], "disable");
    assert_eq!(db["password"], "********");
    // the same in the config file, and in libpq's key/value form
    let cfg = write(
        dir.path(),
        "c.yaml",
        &format!(
            "database:\n  url: \"host={} port={} dbname={DB} user={PW_ROLE} password='{PW}' sslmode=disable\"\n",
            pg.host, pg.port
        ),
    );
    connects(stormbench().arg("-c").arg(&cfg), dir.path());
}

#[test]
fn a_password_in_url_is_warned_about_and_a_bad_url_named() {
    let pg = pg();
    let dir = tempdir();
    let url = format!("postgresql://{PW_ROLE}:{PW}@{}:{}/{DB}", pg.host, pg.port);
    let (o, _) = run(stormbench().args(["--url", &url]), dir.path());
    let (_, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("--url carries a password"), "{err}");

    let bad = format!("postgresql://{PW_ROLE}:{PW}@{}:notaport/{DB}", pg.host);
    let (o, _) = run(stormbench().args(["--url", &bad]), dir.path());
    let err = assert_clean_failure(&o, 2);
    assert!(
        err.contains("--url: the URI's port is not a port number"),
        "{err}"
    );
}

#[test]
fn pg_variables_alone() {
    let pg = pg();
    let dir = tempdir();
    connects(
        stormbench()
            .env("PGHOST", &pg.host)
            .env("PGPORT", &pg.port)
            .env("PGUSER", PW_ROLE)
            .env("PGPASSWORD", PW)
            .env("PGDATABASE", DB)
            .env("PGSSLMODE", "disable")
            .env("PGAPPNAME", "from-env"),
        dir.path(),
    );
}

/// Each layer over the one below: the winning layer names the real database, the losing
/// one a database that does not exist.
#[test]
fn precedence_of_every_layer() {
    let pg = pg();
    let dir = tempdir();
    let base = |c: &mut Command| {
        c.env("PGHOST", &pg.host)
            .env("PGPORT", &pg.port)
            .env("PGUSER", PW_ROLE)
            .env("PGPASSWORD", PW)
            .env("PGSSLMODE", "disable");
    };
    let file = |name: &str, body: &str| write(dir.path(), name, &format!("database:\n{body}"));

    // the file over PG*
    let cfg = file("a.yaml", &format!("  dbname: {DB}\n"));
    let mut c = stormbench();
    base(&mut c);
    connects(
        c.env("PGDATABASE", "sbt_nosuch_pg").arg("-c").arg(&cfg),
        dir.path(),
    );

    // the file's keys over the file's url
    let cfg = file(
        "b.yaml",
        &format!("  url: postgresql:///sbt_nosuch_url\n  dbname: {DB}\n"),
    );
    let mut c = stormbench();
    base(&mut c);
    connects(c.arg("-c").arg(&cfg), dir.path());

    // the file's url over PG*
    let cfg = file("c.yaml", &format!("  url: postgresql:///{DB}\n"));
    let mut c = stormbench();
    base(&mut c);
    connects(
        c.env("PGDATABASE", "sbt_nosuch_pg").arg("-c").arg(&cfg),
        dir.path(),
    );

    // the file over STORMBENCH_*
    let cfg = file("d.yaml", &format!("  dbname: {DB}\n"));
    let mut c = stormbench();
    base(&mut c);
    connects(
        c.env("STORMBENCH_DB_NAME", "sbt_nosuch_env")
            .arg("-c")
            .arg(&cfg),
        dir.path(),
    );

    // the file's url over STORMBENCH_*
    let cfg = file("e.yaml", &format!("  url: postgresql:///{DB}\n"));
    let mut c = stormbench();
    base(&mut c);
    connects(
        c.env("STORMBENCH_DB_NAME", "sbt_nosuch_env")
            .arg("-c")
            .arg(&cfg),
        dir.path(),
    );

    // STORMBENCH_* over PG*
    let mut c = stormbench();
    base(&mut c);
    connects(
        c.env("PGDATABASE", "sbt_nosuch_pg")
            .env("STORMBENCH_DB_NAME", DB),
        dir.path(),
    );

    // --url over the file
    let cfg = file("f.yaml", "  dbname: sbt_nosuch_file\n");
    let mut c = stormbench();
    base(&mut c);
    connects(
        c.arg("-c")
            .arg(&cfg)
            .args(["--url", &format!("postgresql:///{DB}")]),
        dir.path(),
    );

    // a flag over --url
    let mut c = stormbench();
    base(&mut c);
    connects(
        c.args(["--url", "postgresql:///sbt_nosuch_url", "--dbname", DB]),
        dir.path(),
    );
}

#[test]
fn the_password_file_as_libpq_reads_it() {
    let pg = pg();
    let dir = tempdir();
    let pass = write(
        dir.path(),
        "pgpass",
        &format!(
            "# other servers first\nelsewhere:5432:*:*:wrong\n*:{}:*:{PW_ROLE}:{PW}\n",
            pg.port
        ),
    );
    std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let target = |c: &mut Command| {
        c.env("PGPASSFILE", &pass).args([
            "--host", &pg.host, "--port", &pg.port, "--dbname", DB, "-u", PW_ROLE,
        ]);
    };
    let mut c = stormbench();
    target(&mut c);
    let r = connects(c.env("PGSSLMODE", "disable"), dir.path());
    assert_eq!(
        r["config"]["database"]["passfile"],
        pass.display().to_string()
    );

    // readable by others: ignored with libpq's warning, and the server refuses the login
    std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut c = stormbench();
    target(&mut c);
    let (o, _) = run(c.env("PGSSLMODE", "disable"), dir.path());
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("group or world access") && err.contains("0600"),
        "{err}"
    );
}

#[test]
fn a_service_from_the_service_file() {
    let pg = pg();
    let dir = tempdir();
    let services = write(
        dir.path(),
        "pg_service.conf",
        &format!(
            "[elsewhere]\nhost=192.0.2.1\n\n[bench]\nhost={}\nport={}\ndbname={DB}\nuser={PW_ROLE}\nsslmode=disable\n",
            pg.host, pg.port
        ),
    );
    let cfg = write(dir.path(), "s.yaml", "database:\n  service: bench\n");
    connects(
        stormbench()
            .env("PGSERVICEFILE", &services)
            .env("PGPASSWORD", PW)
            .env("PGDATABASE", "sbt_nosuch_pg")
            .arg("-c")
            .arg(&cfg),
        dir.path(),
    );
    // PGSERVICE names it too
    connects(
        stormbench()
            .env("PGSERVICEFILE", &services)
            .env("PGSERVICE", "bench")
            .env("PGPASSWORD", PW),
        dir.path(),
    );
    // an unknown service: a one-line error naming it and the files looked in
    let (o, _) = run(
        stormbench()
            .env("PGSERVICEFILE", &services)
            .env("PGSERVICE", "nosuch"),
        dir.path(),
    );
    let err = assert_clean_failure(&o, 2);
    assert!(err.contains("service 'nosuch' is not defined"), "{err}");
}

/// A test-cluster setting `scripts/pg-test-cluster.sh env` prints; missing means the
/// cluster was not made by that script, which is an error, not a reason to skip.
fn cluster_file(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: start the test cluster with scripts/pg-test-cluster.sh (scripts/test.sh does)")
    })
}

/// A config for `user` over TLS with `sslmode` and extra `database:` lines.
fn tls_config(
    dir: &Path,
    name: &str,
    user: &str,
    sslmode: &str,
    extra: &str,
) -> std::path::PathBuf {
    let pg = pg();
    write(
        dir,
        name,
        &format!(
            "database:\n  host: {}\n  port: {}\n  dbname: {DB}\n  username: {user}\n  sslmode: {sslmode}\n{extra}",
            pg.host, pg.port
        ),
    )
}

/// Runs `cfg` on each driver; each must end as bad configuration (exit 2). Returns the
/// error line per driver.
fn config_errors(cfg: &Path, dir: &Path) -> Vec<(&'static str, String)> {
    DRIVERS
        .iter()
        .map(|&driver| {
            let (o, _) = run(
                stormbench().arg("-c").arg(cfg).args(["--driver", driver]),
                dir,
            );
            (driver, assert_clean_failure(&o, 2))
        })
        .collect()
}

#[test]
fn client_certificate_authentication_on_both_drivers() {
    let dir = tempdir();
    let (ca, cert, key) = (
        cluster_file("STORMBENCH_TEST_PGSSLROOTCERT"),
        cluster_file("STORMBENCH_TEST_PGSSLCERT"),
        cluster_file("STORMBENCH_TEST_PGSSLKEY"),
    );
    let files = format!("  sslrootcert: {ca}\n  sslcert: {cert}\n  sslkey: {key}\n");
    let cfg = tls_config(
        dir.path(),
        "cert.yaml",
        "stormbench_cert",
        "verify-full",
        &files,
    );
    for driver in DRIVERS {
        let (o, r) = run(
            stormbench().arg("-c").arg(&cfg).args(["--driver", driver]),
            dir.path(),
        );
        let (out, err) = text(&o);
        assert!(o.status.success(), "{driver}: {out}\n{err}");
        let r = r.unwrap();
        assert_eq!(r["config"]["database"]["sslcert"], cert.as_str());
        assert_eq!(r["connections"]["driver"], driver);
    }
    // the same from PGSSLCERT / PGSSLKEY
    let cfg = tls_config(
        dir.path(),
        "cert-env.yaml",
        "stormbench_cert",
        "verify-full",
        &format!("  sslrootcert: {ca}\n"),
    );
    let (o, _) = run(
        stormbench()
            .arg("-c")
            .arg(&cfg)
            .env("PGSSLCERT", &cert)
            .env("PGSSLKEY", &key),
        dir.path(),
    );
    assert!(o.status.success(), "{:?}", text(&o));

    // a key others can read: refused before connecting as bad configuration, with libpq's
    // rule and the fix
    let open_key = dir.path().join("open.key");
    std::fs::copy(&key, &open_key).unwrap();
    std::fs::set_permissions(&open_key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let cfg = tls_config(
        dir.path(),
        "open.yaml",
        "stormbench_cert",
        "require",
        &format!("  sslcert: {cert}\n  sslkey: {}\n", open_key.display()),
    );
    for (driver, err) in config_errors(&cfg, dir.path()) {
        assert!(
            err.contains("has group or world access") && err.contains("chmod 600"),
            "{driver}: {err}"
        );
    }
    // a certificate without its key: named
    let cfg = tls_config(
        dir.path(),
        "nokey.yaml",
        "stormbench_cert",
        "require",
        &format!("  sslcert: {cert}\n"),
    );
    let (o, _) = run(stormbench().arg("-c").arg(&cfg), dir.path());
    let err = assert_clean_failure(&o, 2);
    assert!(
        err.contains("sslcert is set without database.sslkey"),
        "{err}"
    );
    // no certificate: the server refuses the role
    let cfg = tls_config(dir.path(), "none.yaml", "stormbench_cert", "require", "");
    let (o, _) = run(stormbench().arg("-c").arg(&cfg), dir.path());
    assert!(!o.status.success());
}

#[test]
fn allow_goes_to_tls_only_when_the_server_refuses_the_clear() {
    let dir = tempdir();
    // stormbench_tls may only log in over TLS; stormbench_pw over either
    for (user, pw) in [("stormbench_tls", "stormbench-tls-pw"), (PW_ROLE, PW)] {
        let cfg = tls_config(dir.path(), "allow.yaml", user, "allow", "");
        for driver in DRIVERS {
            let o = stormbench()
                .arg("-c")
                .arg(&cfg)
                .args(["--driver", driver, "-w", "noop", "-d", "1s"])
                .env("PGPASSWORD", pw)
                .output()
                .unwrap();
            let (out, err) = text(&o);
            assert!(o.status.success(), "{user} {driver}: {out}\n{err}");
            assert!(!out.contains(pw) && !err.contains(pw));
        }
    }
}

#[test]
fn sslrootcert_system_asks_for_verify_full() {
    let dir = tempdir();
    let cfg = tls_config(
        dir.path(),
        "sys.yaml",
        PW_ROLE,
        "require",
        "  sslrootcert: system\n",
    );
    let (o, _) = run(stormbench().arg("-c").arg(&cfg), dir.path());
    let err = assert_clean_failure(&o, 2);
    assert!(
        err.contains("database.sslrootcert: system") && err.contains("verify-full"),
        "{err}"
    );
}

/// A root certificate file stormbench cannot use is bad configuration (exit 2), named with
/// the file before anything connects, on both drivers and in check-workload.
#[test]
fn an_unusable_root_certificate_file_is_bad_configuration() {
    let dir = tempdir();
    let not_pem = write(dir.path(), "not.pem", "this is no certificate\n");
    let cases = [
        (dir.path().display().to_string(), "not a regular file"),
        (
            dir.path().join("missing.crt").display().to_string(),
            "cannot read database.sslrootcert",
        ),
        (not_pem.display().to_string(), "holds no PEM certificate"),
    ];
    for (file, says) in &cases {
        let cfg = tls_config(
            dir.path(),
            "root.yaml",
            PW_ROLE,
            "verify-ca",
            &format!("  sslrootcert: '{file}'\n"),
        );
        for (driver, err) in config_errors(&cfg, dir.path()) {
            assert!(
                err.contains(says) && err.contains(file.as_str()),
                "{driver}: {err}"
            );
        }
        let o = stormbench()
            .arg("check-workload")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/example_bank"))
            .arg("-c")
            .arg(&cfg)
            .env("PGPASSWORD", PW)
            .output()
            .expect("stormbench runs");
        let err = assert_clean_failure(&o, 2);
        assert!(err.contains(says), "check-workload: {err}");
    }
}

/// A config file that asks for the throwaway cluster, run with a server named on the
/// command line: the run measures that server (before, the flags were ignored and the
/// report described a throwaway cluster the user did not ask for).
#[test]
fn a_server_named_on_the_command_line_sets_aside_the_files_embedded_cluster() {
    let pg = pg();
    let dir = tempdir();
    let cfg = write(
        dir.path(),
        "e.yaml",
        "database:\n  embedded: true\n  host: localhost\n  sslmode: disable\n",
    );
    let r = connects(
        stormbench()
            .arg("-c")
            .arg(&cfg)
            .args([
                "--host", &pg.host, "--port", &pg.port, "-u", PW_ROLE, "--dbname", DB,
            ])
            .env("STORMBENCH_DB_PASSWORD", PW),
        dir.path(),
    );
    assert_eq!(
        r["config"]["database"]["embedded"], false,
        "{}",
        r["config"]
    );
    assert_eq!(r["config"]["database"]["port"].to_string(), pg.port);
    let (o, _) = run(
        stormbench()
            .arg("-c")
            .arg(&cfg)
            .args(["--embedded", "--host", &pg.host]),
        dir.path(),
    );
    let err = assert_clean_failure(&o, 2);
    assert!(
        err.contains(
            "--embedded runs a throwaway local cluster, --host/--port/--url name a server"
        ),
        "{err}"
    );
}
