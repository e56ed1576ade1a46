use std::os::unix::fs::PermissionsExt;

use super::*;

fn pw(p: &ConnParams) -> Option<&str> {
    p.password.as_ref().map(Secret::expose)
}

#[test]
fn a_uri_with_every_part() {
    let p = ConnParams::parse(
        "postgresql://app%40corp:s%3Acret@db.example.com:6543/bench%20db?sslmode=verify-full\
         &sslrootcert=/etc/ca.pem&sslcert=/c.crt&sslkey=/c.key&application_name=nightly\
         &connect_timeout=7&passfile=/p&service=svc",
    )
    .unwrap();
    assert_eq!(p.user.as_deref(), Some("app@corp"));
    assert_eq!(pw(&p), Some("s:cret"));
    assert_eq!(p.host.as_deref(), Some("db.example.com"));
    assert_eq!(p.port, Some(6543));
    assert_eq!(p.dbname.as_deref(), Some("bench db"));
    assert_eq!(p.sslmode, Some(SslMode::VerifyFull));
    assert_eq!(p.sslrootcert.as_deref(), Some(Path::new("/etc/ca.pem")));
    assert_eq!(p.sslcert.as_deref(), Some(Path::new("/c.crt")));
    assert_eq!(p.sslkey.as_deref(), Some(Path::new("/c.key")));
    assert_eq!(p.application_name.as_deref(), Some("nightly"));
    assert_eq!(p.connect_timeout, Some(Dur(Duration::from_secs(7))));
    assert_eq!(p.passfile.as_deref(), Some(Path::new("/p")));
    assert_eq!(p.service.as_deref(), Some("svc"));
}

#[test]
fn short_uris_ipv6_and_socket_directories() {
    let p = ConnParams::parse("postgres://").unwrap();
    assert_eq!(p, ConnParams::default());
    let p = ConnParams::parse("postgres://[::1]:5433/db").unwrap();
    assert_eq!((p.host.as_deref(), p.port), (Some("::1"), Some(5433)));
    let p = ConnParams::parse("postgresql:///db?host=%2Fvar%2Frun%2Fpostgresql").unwrap();
    assert_eq!(p.host.as_deref(), Some("/var/run/postgresql"));
    assert_eq!(p.dbname.as_deref(), Some("db"));
    let p = ConnParams::parse("postgresql://bob@localhost").unwrap();
    assert_eq!(
        (p.user.as_deref(), p.password.is_none()),
        (Some("bob"), true)
    );
}

#[test]
fn key_value_strings_with_quotes_and_escapes() {
    let p = ConnParams::parse(
        r"host=db port = 5433 dbname='my db' user=o\'brien password='it''s' application_name='a\'b'",
    );
    // 'it''s' is two quoted values back to back in libpq too: refused as an unknown key
    assert!(p.is_err());
    let p = ConnParams::parse(
        r"host=db port = 5433 dbname='my db' user=o\'brien password='p w\'x' application_name=x",
    )
    .unwrap();
    assert_eq!(p.host.as_deref(), Some("db"));
    assert_eq!(p.port, Some(5433));
    assert_eq!(p.dbname.as_deref(), Some("my db"));
    assert_eq!(p.user.as_deref(), Some("o'brien"));
    assert_eq!(pw(&p), Some("p w'x"));
}

#[test]
fn errors_name_the_key_and_never_the_password() {
    let secret = "hunter2-secret";
    for s in [
        format!("postgres://u:{secret}@h:notaport/db"),
        format!("postgres://u:{secret}@h/db?nosuch=1"),
        format!("postgres://u:{secret}@h1,h2/db"),
        format!("password={secret} port=0"),
        format!("password='{secret}"),
        format!("password={secret} sslmode=sometimes"),
        format!("mysql://u:{secret}@h/db"),
        format!("postgresql://u:{secret}/db"),
    ] {
        let e = ConnParams::parse(&s).unwrap_err();
        assert!(!e.contains(secret), "{e}");
        assert!(!e.is_empty());
    }
    let e = ConnParams::parse("postgres://h/db?nosuch=1").unwrap_err();
    assert!(e.contains("unknown connection parameter 'nosuch'"), "{e}");
    let e = ConnParams::parse("host=h sslmode=sometimes").unwrap_err();
    assert!(e.contains("sslmode: 'sometimes'"), "{e}");
}

#[test]
fn the_environment_fills_what_is_set_and_reports_bad_values() {
    let env = |k: &str| match k {
        "PGHOST" => Some("envhost".to_string()),
        "PGPORT" => Some("6000".into()),
        "PGUSER" => Some("envuser".into()),
        "PGPASSWORD" => Some("envpw".into()),
        "PGSSLMODE" => Some("require".into()),
        "PGDATABASE" => Some(String::new()),
        "PGCONNECT_TIMEOUT" => Some("soon".into()),
        _ => None,
    };
    let mut errors = Vec::new();
    let p = ConnParams::from_env(&env, &mut errors);
    assert_eq!(p.host.as_deref(), Some("envhost"));
    assert_eq!(p.port, Some(6000));
    assert_eq!(p.dbname, None, "an empty variable is unset");
    assert_eq!(p.sslmode, Some(SslMode::Require));
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("PGCONNECT_TIMEOUT: connect_timeout"),
        "{errors:?}"
    );

    let mut mine = ConnParams::parse("host=mine").unwrap();
    mine.fill_from(&p);
    assert_eq!(mine.host.as_deref(), Some("mine"));
    assert_eq!(mine.user.as_deref(), Some("envuser"));
    assert_eq!(pw(&mine), Some("envpw"));
}

fn write_mode(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn pgpass_lookup_as_libpq() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("pgpass");
    write_mode(
        &f,
        "# comment\n\
         db.example.com:5432:bench:alice:first\n\
         *:*:bench:bob:pw\\:with\\\\colon:and more\n\
         localhost:5433:*:*:local\n\
         *:*:*:carol:fallback\n",
        0o600,
    );
    let look = |h: &str, port, db: &str, u: &str| {
        pgpass_lookup(&f, h, port, db, u)
            .unwrap()
            .map(|s| s.expose().to_string())
    };
    assert_eq!(
        look("db.example.com", 5432, "bench", "alice").as_deref(),
        Some("first")
    );
    assert_eq!(look("db.example.com", 5433, "bench", "alice"), None);
    assert_eq!(
        look("anywhere", 1, "bench", "bob").as_deref(),
        Some("pw:with\\colon:and more")
    );
    assert_eq!(
        look("/var/run/postgresql", 5433, "x", "y").as_deref(),
        Some("local")
    );
    assert_eq!(look("", 5433, "x", "y").as_deref(), Some("local"));
    assert_eq!(look("other", 1, "x", "carol").as_deref(), Some("fallback"));
    assert_eq!(look("other", 1, "x", "dave"), None);

    // readable by others: not used, with libpq's advice
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    let w = pgpass_lookup(&f, "db.example.com", 5432, "bench", "alice").unwrap_err();
    assert!(
        w.contains("group or world access") && w.contains("0600"),
        "{w}"
    );
    assert!(!w.contains("first"));
    // missing: nothing, silently
    assert_eq!(
        pgpass_lookup(&dir.path().join("none"), "h", 1, "d", "u"),
        Ok(None)
    );
    // a directory: a warning
    assert!(pgpass_lookup(dir.path(), "h", 1, "d", "u").is_err());
}

#[test]
fn service_files_user_first_then_system() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("user.conf");
    let sys = dir.path().join("sys");
    std::fs::create_dir(&sys).unwrap();
    std::fs::write(
        &user,
        "# mine\n[bench]\nhost=db1\nport = 6001\ndbname=bench\n\n[other]\nhost=db9\n",
    )
    .unwrap();
    std::fs::write(
        sys.join("pg_service.conf"),
        "[bench]\nhost=sysdb\n[systemonly]\nhost=sysdb2\nuser=svc\nsslmode=require\n",
    )
    .unwrap();
    let (u, s) = (user.display().to_string(), sys.display().to_string());
    let env = move |k: &str| match k {
        "PGSERVICEFILE" => Some(u.clone()),
        "PGSYSCONFDIR" => Some(s.clone()),
        _ => None,
    };
    let p = service("bench", &env).unwrap();
    assert_eq!(
        (p.host.as_deref(), p.port, p.dbname.as_deref()),
        (Some("db1"), Some(6001), Some("bench"))
    );
    let p = service("systemonly", &env).unwrap();
    assert_eq!(p.host.as_deref(), Some("sysdb2"));
    assert_eq!(p.sslmode, Some(SslMode::Require));
    let e = service("nosuch", &env).unwrap_err();
    assert!(e.contains("service 'nosuch' is not defined"), "{e}");

    std::fs::write(&user, "[bad]\nhost=x\nfrobnicate=1\n").unwrap();
    let e = service("bad", &env).unwrap_err();
    assert!(
        e.contains("line 3") && e.contains("unknown connection parameter"),
        "{e}"
    );
}

#[test]
fn the_plan_takes_libpq_file_defaults_and_expands_home() {
    use crate::config::{database_plan, RawDatabase};
    let home = tempfile::tempdir().unwrap();
    let pgdir = home.path().join(".postgresql");
    std::fs::create_dir(&pgdir).unwrap();
    for f in ["postgresql.crt", "postgresql.key", "root.crt"] {
        std::fs::write(pgdir.join(f), "x").unwrap();
    }
    let h = home.path().display().to_string();
    let env = move |k: &str| (k == "HOME").then(|| h.clone());
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    let plan = database_plan(&RawDatabase::default(), &env, &mut errors, &mut warnings);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(plan.sslcert, Some(pgdir.join("postgresql.crt")));
    assert_eq!(plan.sslkey, Some(pgdir.join("postgresql.key")));
    assert_eq!(plan.sslrootcert, Some(pgdir.join("root.crt")));

    let raw = RawDatabase {
        sslkey: Some(PathBuf::from("~/keys/k.pem")),
        sslrootcert: Some(PathBuf::from("system")),
        ..Default::default()
    };
    let plan = database_plan(&raw, &env, &mut errors, &mut warnings);
    assert_eq!(plan.sslkey, Some(home.path().join("keys/k.pem")));
    assert_eq!(
        plan.sslmode,
        SslMode::VerifyFull,
        "system asks for verify-full"
    );

    // require with a root certificate verifies the chain (libpq's rule), whether the file
    // is named or is the default one; prefer and verify-full keep their meaning
    for (mode, rootcert, effective) in [
        (SslMode::Require, None, SslMode::VerifyCa),
        (SslMode::Require, Some("/etc/ca.pem"), SslMode::VerifyCa),
        (SslMode::Prefer, Some("/etc/ca.pem"), SslMode::Prefer),
        (
            SslMode::VerifyFull,
            Some("/etc/ca.pem"),
            SslMode::VerifyFull,
        ),
    ] {
        let raw = RawDatabase {
            sslmode: Some(mode),
            sslrootcert: rootcert.map(PathBuf::from),
            ..Default::default()
        };
        let plan = database_plan(&raw, &env, &mut errors, &mut warnings);
        assert_eq!(plan.sslmode, effective, "{mode:?} with {rootcert:?}");
    }
    let nowhere = |_: &str| None;
    let raw = RawDatabase {
        sslmode: Some(SslMode::Require),
        ..Default::default()
    };
    let plan = database_plan(&raw, &nowhere, &mut errors, &mut warnings);
    assert_eq!(
        plan.sslmode,
        SslMode::Require,
        "no root certificate at hand"
    );
    assert!(errors.is_empty(), "{errors:?}");

    let embedded = RawDatabase {
        embedded: Some(true),
        ..Default::default()
    };
    let plan = database_plan(&embedded, &env, &mut errors, &mut warnings);
    assert_eq!((plan.sslcert, plan.sslrootcert), (None, None));
    assert!(errors.is_empty() && warnings.is_empty());
    // a server named by STORMBENCH_DB_HOST beside `embedded: true` is not measured: said
    let mut named = embedded.clone();
    named.env.host = Some("db1".into());
    let plan = database_plan(&named, &env, &mut errors, &mut warnings);
    assert!(plan.embedded && errors.is_empty());
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("--host or --url"), "{warnings:?}");
}
