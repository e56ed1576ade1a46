//! The connection settings of the `database:` section: libpq's layers (URL, service, PG*
//! environment, password file) and the TLS files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::conninfo::{self, ConnParams};
use super::plan::DatabasePlan;
use super::raw::RawDatabase;
use super::validate::{dur_in, MAX_CONNECT_TIMEOUT};
use super::Dur;
use crate::types::SslMode;

/// The connection settings of a `database:` section, adding any problem to `errors`.
///
/// Precedence, highest first: flags (`--url`'s parts below the other flags), the file's
/// keys, the file's `database.url`, `STORMBENCH_DB_*`, the service (`service` or
/// `PGSERVICE`), the PG* environment, the defaults; the password, when none
/// of these gives one, from the password file. An embedded cluster reads none of the
/// user's libpq settings.
pub fn database_plan(
    db: &RawDatabase,
    env: &dyn Fn(&str) -> Option<String>,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> DatabasePlan {
    let embedded = db.embedded.unwrap_or(false);
    check_keys(db, embedded, errors, warnings);
    let p = if embedded {
        let mut p = ConnParams::from_raw(db);
        p.fill_from(&db.env);
        p
    } else {
        libpq_layers(db, env, errors)
    };
    let host = p.host.clone().unwrap_or_else(|| "localhost".into());
    let port = p.port.unwrap_or(5432);
    let dbname = p.dbname.clone().unwrap_or_else(|| "postgres".into());
    let username = p
        .user
        .clone()
        .or_else(|| env("USER"))
        .unwrap_or_else(|| "postgres".into());
    let mut password = p.password.clone();
    let mut passfile = None;
    if password.is_none() && !embedded {
        if let Some(file) = conninfo::pgpass_path(p.passfile.as_deref(), env) {
            match conninfo::pgpass_lookup(&file, &host, port, &dbname, &username) {
                Ok(Some(pw)) => {
                    password = Some(pw);
                    passfile = Some(file);
                }
                Ok(None) => {}
                Err(w) => warnings.push(w),
            }
        }
    }
    let files = tls_files(&p, embedded, env);
    let sslmode = match (p.sslmode, files.system_roots) {
        (None, true) => SslMode::VerifyFull,
        (Some(m), true) if m != SslMode::VerifyFull => {
            errors.push(format!(
                "database.sslrootcert: system verifies the server with the system's \
                 certificate authorities, which only sslmode verify-full does (got {}); set \
                 database.sslmode: verify-full",
                m.name()
            ));
            m
        }
        // libpq's rule: require with a root certificate at hand verifies the chain
        (Some(SslMode::Require), _) if files.rootcert.is_some() => SslMode::VerifyCa,
        (Some(m), _) => m,
        (None, _) if embedded => SslMode::Disable,
        (None, _) => SslMode::Prefer,
    };
    DatabasePlan {
        embedded,
        bindir: db.bindir.clone(),
        host,
        port,
        dbname,
        username,
        password,
        passfile,
        sslmode,
        sslrootcert: files.rootcert,
        sslcert: files.cert,
        sslkey: files.key,
        application_name: p.application_name,
        connect_timeout: connect_timeout(p.connect_timeout, errors),
        isolation: db.isolation,
        read_only: false,
    }
}

/// The problems of the section's own keys: an empty host, database or user, port 0, and a
/// server named in the environment that an embedded run would not measure.
fn check_keys(
    db: &RawDatabase,
    embedded: bool,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    if embedded && db.host.is_some() {
        // the shipped configs keep a host next to `embedded` so that removing one line
        // points them at a server; saying so on every run would be noise
        log::debug!("database.host is ignored: database.embedded is true");
    }
    if embedded && (db.env.host.is_some() || db.env.port.is_some()) {
        // a server named in the environment, as a cron job's would be, is not measured
        warnings.push(
            "STORMBENCH_DB_HOST or STORMBENCH_DB_PORT is set, but this run uses a throwaway \
             embedded cluster (database.embedded: true in the config), not that server; to \
             measure it, name it with --host or --url, or remove `embedded` from the config"
                .into(),
        );
    }
    for (key, v) in [
        ("host", &db.host),
        ("dbname", &db.dbname),
        ("username", &db.username),
    ] {
        if v.as_ref().is_some_and(|v| v.trim().is_empty()) {
            errors.push(format!(
                "database.{key}: must not be empty; give it, or leave the key out for the default"
            ));
        }
    }
    if db.port == Some(0) {
        errors.push("database.port: must be between 1 and 65535 (got 0)".into());
    }
}

/// `database.connect_timeout`, default 10 s. Zero, which libpq reads as no limit, is
/// refused: every wait on the server is bounded (and a zero limit failed every connect
/// as "the server did not answer").
fn connect_timeout(given: Option<Dur>, errors: &mut Vec<String>) -> Dur {
    let d = given.unwrap_or(Dur(Duration::from_secs(10)));
    if d.0.is_zero() {
        errors.push(
            "database.connect_timeout: must be above 0 (libpq reads 0 as no limit; stormbench bounds every wait on the server): give e.g. 10s"
                .into(),
        );
        return d;
    }
    dur_in(
        errors,
        "database.connect_timeout",
        d,
        Duration::ZERO,
        MAX_CONNECT_TIMEOUT,
    )
}

/// The certificate files, with libpq's defaults in `~/.postgresql/` (`root.crt`,
/// `postgresql.crt`, `postgresql.key`) where those files exist.
struct Files {
    rootcert: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    /// `sslrootcert: system`.
    system_roots: bool,
}

fn tls_files(p: &ConnParams, embedded: bool, env: &dyn Fn(&str) -> Option<String>) -> Files {
    let dir = env("HOME")
        .filter(|h| !h.is_empty() && !embedded)
        .map(|h| PathBuf::from(h).join(".postgresql"));
    let default = |name: &str| dir.as_ref().map(|d| d.join(name)).filter(|f| f.is_file());
    let home = |f: &Option<PathBuf>| f.as_deref().map(|f| conninfo::expand_home(f, env));
    let cert = home(&p.sslcert).or_else(|| default("postgresql.crt"));
    let key = match (home(&p.sslkey), &cert) {
        (Some(k), _) => Some(k),
        (None, Some(_)) => default("postgresql.key"),
        (None, None) => None,
    };
    Files {
        system_roots: p.sslrootcert.as_deref() == Some(Path::new("system")),
        rootcert: home(&p.sslrootcert).or_else(|| default("root.crt")),
        cert,
        key,
    }
}

/// The explicit settings filled from `database.url`, the service and the PG* environment.
fn libpq_layers(
    db: &RawDatabase,
    env: &dyn Fn(&str) -> Option<String>,
    errors: &mut Vec<String>,
) -> ConnParams {
    let mut p = ConnParams::from_raw(db);
    if let Some(url) = &db.url {
        match ConnParams::parse(url.expose()) {
            Ok(u) => p.fill_from(&u),
            Err(e) => errors.push(format!("database.url: {e}")),
        }
    }
    p.fill_from(&db.env);
    let pg_env = ConnParams::from_env(env, errors);
    let service = match (&p.service, &pg_env.service) {
        (Some(s), _) => Some(("database.service", s.clone())),
        (None, Some(s)) => Some(("PGSERVICE", s.clone())),
        (None, None) => None,
    };
    if let Some((key, name)) = service {
        match conninfo::service(&name, env) {
            Ok(svc) => p.fill_from(&svc),
            Err(e) => errors.push(format!("{key}: {e}")),
        }
    }
    p.fill_from(&pg_env);
    p
}
