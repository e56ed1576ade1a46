use super::*;

/// Options for tests: the test cluster's bin dir when the test env names one.
fn test_opts() -> EmbeddedOptions {
    EmbeddedOptions {
        bindir: std::env::var_os("STORMBENCH_TEST_PGBINDIR").map(PathBuf::from),
        ..EmbeddedOptions::default()
    }
}

/// Starts a cluster or fails the test with the reason.
fn start_or_fail(opts: &EmbeddedOptions) -> EmbeddedCluster {
    EmbeddedCluster::start(opts).unwrap_or_else(|e| {
        panic!("embedded cluster did not start (these tests need PostgreSQL server binaries): {e}")
    })
}

/// Runs one query with the bin dir's psql and returns its trimmed output.
fn psql(cluster: &EmbeddedCluster, sql: &str) -> String {
    let psql = cluster.bindir().join("psql");
    let output = Command::new(&psql)
        .args(["-h", cluster.host(), "-p", &cluster.port().to_string()])
        .args([
            "-U",
            cluster.user(),
            "-d",
            cluster.dbname(),
            "-X",
            "-Atc",
            sql,
        ])
        .env("PGCONNECT_TIMEOUT", "5")
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", psql.display()));
    assert!(
        output.status.success(),
        "psql failed: {}",
        output_text(&output)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// True if a TCP connection to the cluster's port succeeds.
fn port_open(cluster: &EmbeddedCluster) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, cluster.port()));
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
}

#[test]
fn start_query_restart_and_drop() {
    let mut cluster = start_or_fail(&test_opts());
    assert_eq!(cluster.host(), "127.0.0.1");
    assert_eq!(cluster.user(), "stormbench");
    assert_eq!(cluster.dbname(), "postgres");
    assert!(cluster.port() > 0);
    assert!(port_open(&cluster), "port {} is not open", cluster.port());
    assert_eq!(psql(&cluster, "select 1"), "1");
    assert_eq!(psql(&cluster, "show max_connections"), "200");
    assert_eq!(psql(&cluster, "show fsync"), "on");
    assert_eq!(psql(&cluster, "show listen_addresses"), "127.0.0.1");
    let version_num: u32 = psql(&cluster, "show server_version_num")
        .parse()
        .expect("numeric server_version_num");
    assert_eq!(cluster.server_version_major(), version_num / 10000);
    if has_pg_stat_statements(cluster.bindir()) {
        assert_eq!(
            psql(&cluster, "show shared_preload_libraries"),
            "pg_stat_statements"
        );
    }

    let port = cluster.port();
    let data_dir = cluster.data_dir().to_path_buf();
    cluster.stop_server().expect("stop_server");
    assert!(!port_open(&cluster), "port still open after stop_server");
    assert!(
        data_dir.join("PG_VERSION").is_file(),
        "data dir was removed"
    );
    cluster
        .stop_server()
        .expect("second stop_server is a no-op");

    cluster.start_server().expect("start_server");
    assert_eq!(cluster.port(), port);
    assert_eq!(psql(&cluster, "select 2"), "2");

    drop(cluster);
    assert!(!data_dir.exists(), "drop left {}", data_dir.display());
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err());
}

#[test]
fn settings_override_defaults() {
    let mut opts = test_opts();
    opts.settings = vec![
        ("max_connections".into(), "250".into()),
        ("cluster_name".into(), "it's a test".into()),
    ];
    let cluster = start_or_fail(&opts);
    assert_eq!(psql(&cluster, "show max_connections"), "250");
    assert_eq!(psql(&cluster, "show cluster_name"), "it's a test");
}

#[test]
fn bad_setting_value_reports_server_log_and_cleans_up() {
    let mut opts = test_opts();
    opts.settings = vec![("max_connections".into(), "lots".into())];
    let err = EmbeddedCluster::start(&opts).expect_err("start must fail");
    let msg = err.to_string();
    assert!(matches!(err, EmbeddedError::Start(_)), "unexpected: {msg}");
    assert!(msg.contains("max_connections"), "no log tail in: {msg}");
    assert!(!msg.contains('\n'), "message is not one line: {msg}");
}

#[test]
fn bogus_explicit_bindir_gives_clear_error() {
    let opts = EmbeddedOptions {
        bindir: Some(PathBuf::from("/nonexistent/stormbench/bin")),
        ..EmbeddedOptions::default()
    };
    let err = find_bindir(&opts).expect_err("bogus bindir must fail");
    let msg = err.to_string();
    assert!(
        matches!(err, EmbeddedError::BadBindir(_)),
        "unexpected: {msg}"
    );
    assert!(msg.contains("/nonexistent/stormbench/bin"), "{msg}");
    assert!(msg.contains("initdb, pg_ctl, postgres"), "{msg}");
    assert!(!msg.contains('\n'));
    assert!(matches!(
        EmbeddedCluster::start(&opts),
        Err(EmbeddedError::BadBindir(_))
    ));
}

#[test]
fn discovery_finds_binaries_and_checks_version() {
    let dir = find_bindir(&EmbeddedOptions::default())
        .unwrap_or_else(|e| panic!("discovery found no server binaries (install postgresql): {e}"));
    assert!(has_server_binaries(&dir));
    let major = binary_version(&dir).expect("postgres --version");
    let same = EmbeddedOptions {
        version: Some(major),
        ..EmbeddedOptions::default()
    };
    assert!(find_bindir(&same).is_ok());
    let missing = EmbeddedOptions {
        version: Some(1),
        ..EmbeddedOptions::default()
    };
    let err = find_bindir(&missing).expect_err("version 1 does not exist");
    assert!(
        matches!(err, EmbeddedError::VersionNotFound { wanted: 1, .. }),
        "{err}"
    );
}

#[test]
fn managed_and_malformed_settings_are_rejected() {
    for (name, value) in [("port", "5432"), ("bad name", "1"), ("work_mem", "1\n2")] {
        let opts = EmbeddedOptions {
            settings: vec![(name.into(), value.into())],
            ..EmbeddedOptions::default()
        };
        let err = EmbeddedCluster::start(&opts).expect_err("must be rejected");
        assert!(
            matches!(err, EmbeddedError::InvalidSetting { .. }),
            "{name}: {err}"
        );
    }
}

#[test]
fn helpers() {
    assert_eq!(
        parse_version_output("postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)\n"),
        Some(15)
    );
    assert_eq!(
        parse_version_output("postgres (PostgreSQL) 17beta1"),
        Some(17)
    );
    assert_eq!(parse_version_output("garbage"), None);
    assert_eq!(conf_line("a", r"it's C:\x"), "a = 'it''s C:\\\\x'\n");
    assert_eq!(one_line("a\n\n b \n"), "a | b");
    assert_eq!(one_line(" \n"), "no output");
    assert_eq!(tail_lines("1\n2\n\n3\n", 2), "2\n3");
    let joined = shell_join(OsStr::new("/bin/x"), &[OsStr::new("it's")]);
    assert_eq!(joined, OsString::from("'/bin/x' 'it'\\''s'"));
    assert!(port_in_use(
        "LOG:  could not bind IPv4 address \"127.0.0.1\": Address already in use"
    ));
}
