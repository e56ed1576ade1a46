//! TLS on the wire driver and through the binary: encryption with SCRAM, certificate
//! verification and its one-line failures, prefer without TLS on the server.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::*;
use crate::{rt, setup_simple};
use stormbench::config::SslMode;
use stormbench::db::embedded::{EmbeddedCluster, EmbeddedOptions};
use stormbench::db::wire::{WireConfig, WireConn};

const TLS_ROLE: &str = "stormbench_tls";
const TLS_PW: &str = "stormbench-tls-pw";

/// The test cluster's CA certificate.
fn rootcert() -> PathBuf {
    pg().sslrootcert.expect(
        "STORMBENCH_TEST_PGSSLROOTCERT is not set: the test cluster has no TLS; run \
         scripts/pg-test-cluster.sh start (it adds TLS) and eval its env again",
    )
}

/// The TLS-only role on `host` with `mode` and root certificates `ca`.
fn tls_config(host: &str, mode: SslMode, ca: Option<PathBuf>) -> WireConfig {
    let mut c = tokio_postgres::Config::new();
    c.host(host)
        .port(pg().port.parse().unwrap())
        .user(TLS_ROLE)
        .password(TLS_PW)
        .dbname("stormbench_test")
        .connect_timeout(Duration::from_secs(5));
    WireConfig::new(&c, mode).with_sslrootcert(ca)
}

/// Whether this connection is encrypted, as the server sees it.
async fn encrypted(c: &mut WireConn) -> bool {
    let st = c
        .prepare("SELECT 1 FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl")
        .await
        .unwrap();
    c.execute(&st, &[]).await.unwrap().rows == 1
}

/// A certificate authority the test cluster never heard of, in `dir`.
fn other_ca(dir: &Path) -> PathBuf {
    let crt = dir.join("other-ca.crt");
    let o = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048", "-days", "1",
        ])
        .args(["-subj", "/CN=another CA", "-keyout"])
        .arg(dir.join("other-ca.key"))
        .arg("-out")
        .arg(&crt)
        .output()
        .expect("openssl runs (scripts/test.sh installs it)");
    assert!(o.status.success(), "{:?}", text(&o));
    crt
}

#[test]
fn require_and_verification_encrypt_with_scram_over_tls() {
    rt().block_on(async {
        // the role is accepted over TLS only (hostssl), with SCRAM (channel-bound when
        // the server offers SCRAM-SHA-256-PLUS)
        for (mode, ca) in [
            (SslMode::Require, None),
            (SslMode::Prefer, None),
            (SslMode::VerifyCa, Some(rootcert())),
            (SslMode::VerifyFull, Some(rootcert())),
        ] {
            for host in ["127.0.0.1", "localhost"] {
                let mut c = WireConn::connect(&tls_config(host, mode, ca.clone()))
                    .await
                    .unwrap_or_else(|e| panic!("{mode:?} to {host}: {e}"));
                assert!(encrypted(&mut c).await, "{mode:?} to {host}");
                let st = c.prepare("SELECT $1::int8").await.unwrap();
                assert_eq!(c.execute(&st, &[&7i64]).await.unwrap().rows, 1);
                c.close().await;
            }
        }
        // disable never asks for TLS, so the TLS-only role is turned away
        let e = WireConn::connect(&tls_config("127.0.0.1", SslMode::Disable, None))
            .await
            .unwrap_err();
        assert_eq!(e.code().unwrap().code(), "28000", "{e}");
    });
}

#[test]
fn verification_failures_are_one_line_errors_naming_the_fix() {
    let dir = tempdir();
    let wrong = other_ca(dir.path());
    rt().block_on(async {
        for mode in [SslMode::VerifyCa, SslMode::VerifyFull] {
            let e = WireConn::connect(&tls_config("127.0.0.1", mode, Some(wrong.clone())))
                .await
                .unwrap_err();
            let m = e.to_string();
            assert!(e.is_tls(), "{m}");
            assert!(m.contains("TLS handshake with 127.0.0.1 failed"), "{m}");
            assert!(m.contains("database.sslrootcert"), "{m}");
            assert!(!m.contains('\n') && !m.contains(TLS_PW), "{m}");
        }
        // a root certificate file that is not there
        let missing = dir.path().join("missing.crt");
        let e = WireConn::connect(&tls_config(
            "127.0.0.1",
            SslMode::VerifyFull,
            Some(missing.clone()),
        ))
        .await
        .unwrap_err();
        assert!(
            e.to_string().starts_with(&format!(
                "cannot read database.sslrootcert {}",
                missing.display()
            )),
            "{e}"
        );
        // a host name the certificate does not name (127.0.0.1 and localhost only):
        // verify-full refuses, verify-ca does not look at names
        if let Some(alias) = loopback_alias() {
            let e = WireConn::connect(&tls_config(&alias, SslMode::VerifyFull, Some(rootcert())))
                .await
                .unwrap_err();
            assert!(e.is_tls(), "{e}");
            assert!(e.to_string().contains("names the host"), "{e}");
            let mut c = WireConn::connect(&tls_config(&alias, SslMode::VerifyCa, Some(rootcert())))
                .await
                .expect("verify-ca ignores the host name");
            assert!(encrypted(&mut c).await);
        } else {
            eprintln!("no other name for 127.0.0.1 in /etc/hosts: host name check not tested");
        }
    });
}

/// A name other than localhost that /etc/hosts gives 127.0.0.1.
fn loopback_alias() -> Option<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").ok()?;
    hosts
        .lines()
        .filter_map(|l| {
            let mut f = l.split('#').next()?.split_whitespace();
            (f.next()? == "127.0.0.1").then(|| f.map(str::to_string).collect::<Vec<_>>())
        })
        .flatten()
        .find(|n| n != "localhost" && !n.starts_with("localhost."))
}

#[test]
fn prefer_goes_on_in_the_clear_when_the_server_has_no_tls() {
    // an embedded cluster has no TLS
    let cluster = EmbeddedCluster::start(&EmbeddedOptions {
        bindir: Some(pg().bindir),
        ..Default::default()
    })
    .expect("embedded cluster starts");
    let mut c = tokio_postgres::Config::new();
    c.host(cluster.host())
        .port(cluster.port())
        .user(cluster.user())
        .dbname(cluster.dbname())
        .connect_timeout(Duration::from_secs(5));
    rt().block_on(async {
        let mut conn = WireConn::connect(&WireConfig::new(&c, SslMode::Prefer))
            .await
            .expect("prefer without TLS on the server");
        assert!(!encrypted(&mut conn).await);
        for mode in [SslMode::Require, SslMode::VerifyFull] {
            let e = WireConn::connect(&WireConfig::new(&c, mode))
                .await
                .unwrap_err();
            assert!(e.is_tls(), "{e}");
            assert!(
                e.to_string()
                    .contains("the server does not accept TLS connections"),
                "{e}"
            );
            assert!(
                e.to_string().contains("set database.sslmode: prefer"),
                "{e}"
            );
        }
        WireConn::connect(&WireConfig::new(&c, SslMode::Disable))
            .await
            .expect("disable");
    });
    // through the binary, on either driver: one line naming both fixes, no second hint
    let url = format!(
        "postgresql://{}@{}:{}/{}?sslmode=require",
        cluster.user(),
        cluster.host(),
        cluster.port(),
        cluster.dbname()
    );
    for driver in DRIVERS {
        let o = stormbench()
            .args(["--url", &url, "-w", "noop", "-d", "1s", "--driver", driver])
            .output()
            .expect("stormbench runs");
        let err = assert_clean_failure(&o, 1);
        assert!(err.contains("turn ssl on in the server"), "{driver}: {err}");
        assert_eq!(
            err.matches("database.sslmode: prefer").count(),
            1,
            "{driver}: {err}"
        );
        assert!(
            !err.contains("check the database section"),
            "{driver}: {err}"
        );
    }
}

#[test]
fn runs_on_the_wire_driver_over_tls() {
    let pg = pg();
    let db = pg.fresh_db("wire_tls");
    setup_simple(&db);
    pg.psql(
        &db,
        &format!(
            "GRANT ALL ON ALL TABLES IN SCHEMA public TO {TLS_ROLE}; \
             GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {TLS_ROLE}"
        ),
    );
    let dir = tempdir();
    for (mode, extra) in [
        ("require", String::new()),
        (
            "verify-full",
            format!(", sslrootcert: '{}'", rootcert().display()),
        ),
    ] {
        let cfg = dir.path().join(format!("{mode}.yaml"));
        std::fs::write(
            &cfg,
            format!(
                "database: {{ host: {}, port: {}, username: {TLS_ROLE}, password: {TLS_PW}, dbname: {db}, sslmode: {mode}{extra} }}\nworkload: simple_read\nscale: 1\nduration: 2s\nworkers: 2\nconnections: 2\ndriver: wire\n",
                pg.host, pg.port
            ),
        )
        .unwrap();
        let json = dir.path().join(format!("{mode}.json"));
        let o = ok(stormbench()
            .args(["--config"])
            .arg(&cfg)
            .args(["--no-summary", "--json"])
            .arg(&json));
        let (out, err) = text(&o);
        assert!(!out.contains(TLS_PW) && !err.contains(TLS_PW));
        let r = read_json(&json);
        assert_eq!(r["connections"]["driver"], "wire");
        assert_eq!(r["summary"]["failed"], 0, "{}", r["errors"]);
        assert!(r["summary"]["transactions"].as_u64().unwrap() > 100);
    }
}

/// libpq's rule, kept on both drivers: `require` with a root certificate verifies the
/// chain, so a certificate from another authority is refused (as libpq refuses it) and the
/// message says how to encrypt without verifying.
#[test]
fn require_with_a_root_certificate_verifies_the_chain() {
    let pg = pg();
    let dir = tempdir();
    let wrong = other_ca(dir.path());
    // the TLS-only role at `host` with `mode` and root certificate `ca`, on `driver`
    let run = |host: &str, mode: &str, ca: &Path, driver: &str| {
        let url = format!(
            "postgresql://{TLS_ROLE}@{host}:{}/stormbench_test?sslmode={mode}&sslrootcert={}",
            pg.port,
            ca.display()
        );
        stormbench()
            .args(["--url", &url, "-w", "noop", "-d", "1s", "--no-summary"])
            .args(["--driver", driver])
            .env("PGPASSWORD", TLS_PW)
            .output()
            .expect("stormbench runs")
    };
    for driver in ["wire", "tokio-postgres"] {
        let ok = run(&pg.host, "require", &rootcert(), driver);
        assert!(ok.status.success(), "{driver}: {:?}", text(&ok));
        let err = assert_clean_failure(&run(&pg.host, "require", &wrong, driver), 1);
        assert!(err.contains("sslrootcert"), "{driver}: {err}");
        assert!(!err.contains(TLS_PW), "{driver}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{driver}: {err}");
        assert!(err.contains("give no root certificate"), "{driver}: {err}");
        // verify-full by a name the certificate does not carry says so
        if let Some(alias) = loopback_alias() {
            let err = assert_clean_failure(&run(&alias, "verify-full", &rootcert(), driver), 1);
            assert!(
                err.contains("does not name database.host"),
                "{driver}: {err}"
            );
        }
    }
}
