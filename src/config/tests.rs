use super::load::DEFAULT_WORKLOADS_PATH;
use super::progressive::levels;
use super::validate::{MAX_INTERVAL, MAX_RUN_TIME, MAX_THINK_TIME};
use super::*;
use crate::core::ConnectionMode;
use crate::workloads::registry;
use std::path::PathBuf;
use std::time::Duration;

/// Reads and loads a config file, as a run does.
fn load_file(
    path: &std::path::Path,
    reg: &crate::core::Registry,
) -> Result<LoadedConfig, ConfigError> {
    ConfigFile::read(path)?.load(reg)
}

fn plan_of(yaml: &str) -> Result<RunPlan, Vec<String>> {
    let reg = registry();
    let loaded = parse_str(yaml, &reg)?;
    validate(&loaded, &reg)
}

#[test]
fn defaults_are_sensible() {
    let p = plan_of("").unwrap();
    assert_eq!(p.workload, "simple");
    assert_eq!(p.mode, "mixed");
    assert_eq!(p.exec.workers, 4);
    assert_eq!(p.exec.connections, 4);
    assert_eq!(p.exec.stop, Stop::Duration(Dur(Duration::from_secs(60))));
    assert_eq!(p.exec.arrival, Arrival::Closed);
    assert_eq!(p.exec.max_tries, 1);
}

#[test]
fn report_config_keeps_the_engine_settings_at_the_top_level() {
    let p = plan_of("workers: 3\nwarmup: 2s\nrate: 50").unwrap();
    let j = p.to_report_json();
    assert_eq!(j["workers"], 3);
    assert_eq!(j["connections"], 3);
    assert_eq!(j["warmup"], "2s");
    assert_eq!(j["arrival"]["kind"], "open");
    assert_eq!(j["stop"]["duration"], "1m");
    assert!(j.get("exec").is_none() && j.get("built").is_none());
}

#[test]
fn combined_workload_mode_spelling() {
    let p = plan_of("workload: simple_read").unwrap();
    assert_eq!((p.workload.as_str(), p.mode.as_str()), ("simple", "read"));
    let p = plan_of("workload: simple\nmode: write").unwrap();
    assert_eq!(p.mode, "write");
    let e = plan_of("workload: simple_read\nmode: write")
        .unwrap_err()
        .join("\n");
    assert!(e.contains("contradicts"), "{e}");
}

#[test]
fn every_problem_is_reported_at_once_with_its_path() {
    let yaml = "
database:
  hots: x
  port: notaport
workload: tpc
duration: 6x0s
workers: 0
connections: 100000
rate: -5
bogus_key: 1
";
    let errs = plan_of(yaml).unwrap_err();
    let all = errs.join("\n");
    for needle in [
        "database.hots: unknown key 'hots'",
        "database.port:",
        "duration: invalid duration '6x0s'",
        "bogus_key: unknown key",
        "workload: unknown workload 'tpc'; available: simple, simple_mixed",
        "workers: must be between 1 and 100000 (got 0)",
        "connections: must be between 1 and 10000 (got 100000)",
        "rate: must be a positive number",
    ] {
        assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
    }
}

#[test]
fn unset_connections_follow_workers_up_to_the_limit() {
    let p = plan_of("workers: 50000").unwrap();
    assert_eq!((p.exec.workers, p.exec.connections), (50_000, 10_000));
    let p = plan_of("workers: 12").unwrap();
    assert_eq!(p.exec.connections, 12);
    // too many workers is one error, about workers, not also one about connections never set
    let all = plan_of("workers: 200000").unwrap_err().join("\n");
    assert!(
        all.contains("workers: must be between 1 and 100000 (got 200000)"),
        "{all}"
    );
    assert!(!all.contains("connections"), "{all}");
}

#[test]
fn absurd_numbers_are_shown_short() {
    for yaml in [
        "rate: 1e300",
        "simple:\n  zipf_theta: -1e300",
        "slo:\n  max_error_pct: 1e300",
    ] {
        let all = plan_of(yaml).unwrap_err().join("\n");
        assert!(all.contains("e300)"), "{yaml}: {all}");
        assert!(all.lines().all(|l| l.len() < 200), "{yaml}: {all}");
    }
}

#[test]
fn workload_section_errors_join_the_list() {
    let errs = plan_of("workers: 0\nsimple:\n  read_ratio: 2\n  zipf: 1\n").unwrap_err();
    let all = errs.join("\n");
    assert!(all.contains("workers: must be between"), "{all}");
    assert!(
        all.contains("simple.read_ratio: must be between 0 and 1"),
        "{all}"
    );
    assert!(all.contains("simple.zipf: unknown key"), "{all}");
}

#[test]
fn transactions_and_open_loop() {
    let p = plan_of("transactions: 500\nrate: 100\narrival: poisson").unwrap();
    assert_eq!(
        p.exec.stop,
        Stop::Transactions {
            count: 500,
            limit: None
        }
    );
    assert_eq!(
        p.exec.arrival,
        Arrival::Open {
            rate_tps: 100.0,
            process: ArrivalKind::Poisson
        }
    );
    let e = plan_of("arrival: poisson").unwrap_err().join("\n");
    assert!(e.contains("arrival: needs a target rate"), "{e}");
    let e = plan_of("rate: 10\nthink_time: 5ms").unwrap_err().join("\n");
    assert!(e.contains("think_time: only applies to closed-loop"), "{e}");
}

#[test]
fn env_expansion_and_overrides_in_order() {
    std::env::set_var("SB_TEST_DBNAME", "from_env_expansion");
    let reg = registry();
    let mut loaded = parse_str(
        "database:\n  dbname: ${SB_TEST_DBNAME}\n  host: ${SB_TEST_UNSET_HOST:-yaml-host}\n  port: 1\nworkers: 2\n",
        &reg,
    )
    .unwrap();
    assert_eq!(
        loaded.raw.database.dbname.as_deref(),
        Some("from_env_expansion")
    );
    let env = |k: &str| match k {
        "STORMBENCH_DB_HOST" => Some("env-host".to_string()),
        "STORMBENCH_DB_USER" => Some("env-user".to_string()),
        "STORMBENCH_DB_PASSWORD" => Some("s3cret-pw".to_string()),
        _ => None,
    };
    assert!(apply_env(&mut loaded.raw, env).is_empty());
    apply_overrides(
        &mut loaded.raw,
        &Overrides {
            port: Some(6543),
            workers: Some(9),
            ..Default::default()
        },
    );
    let p = validate(&loaded, &reg).unwrap();
    // the file's keys over STORMBENCH_DB_*, which fill what the file leaves open
    assert_eq!(p.database.host, "yaml-host");
    assert_eq!(p.database.username, "env-user");
    assert_eq!(p.database.port, 6543);
    assert_eq!(p.exec.workers, 9);
    let json = p.to_report_json().to_string();
    assert!(!json.contains("s3cret-pw"), "{json}");
    assert!(json.contains("********"), "{json}");
    assert!(!format!("{p:?}").contains("s3cret-pw"));
}

#[test]
fn bad_env_values_are_reported() {
    let mut raw = RawConfig::default();
    let errs = apply_env(&mut raw, |k| match k {
        "STORMBENCH_DB_PORT" => Some("abc".into()),
        "STORMBENCH_DB_SSLMODE" => Some("sometimes".into()),
        _ => None,
    });
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].starts_with("STORMBENCH_DB_PORT"));
}

#[test]
fn unset_variable_is_an_error() {
    let e = plan_of("database:\n  host: ${SB_TEST_DEFINITELY_UNSET}\n").unwrap_err();
    assert!(
        e[0].contains("SB_TEST_DEFINITELY_UNSET is not set"),
        "{e:?}"
    );
}

#[test]
fn a_server_named_on_the_command_line_sets_aside_the_files_embedded_cluster() {
    let reg = registry();
    let file = "database:\n  embedded: true\n  host: localhost\n";
    for o in [
        Overrides {
            host: Some("db.example".into()),
            ..Default::default()
        },
        Overrides {
            port: Some(6543),
            ..Default::default()
        },
        Overrides {
            url: Some(Secret::new("postgresql://db.example:6543/app")),
            ..Default::default()
        },
    ] {
        let mut loaded = parse_str(file, &reg).unwrap();
        assert!(apply_overrides(&mut loaded.raw, &o).is_empty());
        let p = validate(&loaded, &reg).unwrap();
        // before, the flags were ignored and the run measured a throwaway cluster
        assert!(!p.database.embedded, "{o:?}");
    }
    let mut loaded = parse_str("database:\n  host: localhost\n", &reg).unwrap();
    let e = apply_overrides(
        &mut loaded.raw,
        &Overrides {
            embedded: true,
            host: Some("db.example".into()),
            ..Default::default()
        },
    );
    assert!(
        e.len() == 1
            && e[0].contains(
                "--embedded runs a throwaway local cluster, --host/--port/--url name a server"
            ),
        "{e:?}"
    );
    // without a server named, the file's choice stands
    let mut loaded = parse_str(file, &reg).unwrap();
    let o = Overrides {
        dbname: Some("other".into()),
        ..Default::default()
    };
    assert!(apply_overrides(&mut loaded.raw, &o).is_empty());
    assert!(validate(&loaded, &reg).unwrap().database.embedded);
}

#[test]
fn an_empty_database_name_or_user_is_refused() {
    for key in ["host", "dbname", "username"] {
        let e = plan_of(&format!("database:\n  {key}: \"\"\n"))
            .unwrap_err()
            .join("\n");
        assert!(
            e.contains(&format!("database.{key}: must not be empty")),
            "{key}: {e}"
        );
    }
}

#[test]
fn a_connect_timeout_of_zero_is_refused() {
    // it failed every connect at once as "the server did not answer"
    let e = plan_of("database:\n  connect_timeout: 0s\n")
        .unwrap_err()
        .join("\n");
    assert!(
        e.contains("database.connect_timeout: must be above 0 (libpq reads 0 as no limit"),
        "{e}"
    );
    assert!(plan_of("database:\n  connect_timeout: 1s\n").is_ok());
}

#[test]
fn no_summary_and_connection_mode() {
    let reg = registry();
    let mut loaded = parse_str("connection_mode: transient\nsummary_interval: 5s", &reg).unwrap();
    apply_overrides(
        &mut loaded.raw,
        &Overrides {
            no_summary: true,
            ..Default::default()
        },
    );
    let p = validate(&loaded, &reg).unwrap();
    assert_eq!(p.exec.summary_interval, None);
    assert_eq!(p.exec.connection_mode, ConnectionMode::Transient);
    let e = plan_of("connection_mode: sometimes")
        .unwrap_err()
        .join("\n");
    assert!(e.contains("connection_mode:"), "{e}");
}

#[test]
fn shipped_configs_are_valid() {
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/config")).unwrap() {
        let path = entry.unwrap().path();
        // the declarative workloads the file's workloads_path names, as the command line finds them
        let file = ConfigFile::read(&path).unwrap_or_else(|e| panic!("{e}"));
        let (paths, _) = workloads_paths(Some(&file), &[]).unwrap();
        let mut reg = registry();
        reg.extend(crate::workloads::declarative::discover(&paths).unwrap())
            .unwrap();
        let loaded = load_file(&path, &reg).unwrap_or_else(|e| panic!("{e}"));
        validate(&loaded, &reg).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    }
}

#[test]
fn progressive_levels_per_strategy() {
    assert_eq!(
        levels(Strategy::Linear, 1, 10, Some(4), None),
        vec![1, 4, 7, 10]
    );
    assert_eq!(
        levels(Strategy::Linear, 2, 11, None, Some(4)),
        vec![2, 6, 10, 11]
    );
    assert_eq!(
        levels(Strategy::Exponential, 1, 20, None, None),
        vec![1, 2, 4, 8, 16, 20]
    );
    assert_eq!(
        levels(Strategy::Fibonacci, 1, 20, None, None),
        vec![1, 2, 3, 5, 8, 13, 20]
    );
    let p = plan_of("progressive:\n  enabled: true\n  min_workers: 2\n  max_workers: 8\n  bands: 3\n  min_connections: 2\n  max_connections: 4\n").unwrap();
    let pp = p.progressive.unwrap();
    assert_eq!(pp.levels, vec![(2, 2), (5, 3), (8, 4)]);
}

#[test]
fn impossible_progressive_plans_are_rejected() {
    let e = plan_of("progressive:\n  enabled: true\n  min_workers: 10\n  max_workers: 2\n")
        .unwrap_err()
        .join("\n");
    assert!(
        e.contains("progressive.max_workers: 2 is below min_workers 10"),
        "{e}"
    );
    let e = plan_of("progressive:\n  enabled: true\n  bands: 1\n  step: 2\n  stop_when: { p99_ms: -1, error_rate: 3 }\n").unwrap_err().join("\n");
    for needle in [
        "either bands or step",
        "at least 2 bands",
        "p99_ms: must be a positive",
        "error_rate: must be between 0 and 1",
    ] {
        assert!(e.contains(needle), "{needle}: {e}");
    }
    // a bound no band can pass would never stop the sweep
    let e = plan_of("progressive:\n  enabled: true\n  stop_when: { p99_ms: .inf }\n")
        .unwrap_err()
        .join("\n");
    assert!(
        e.contains("p99_ms: must be a positive, finite number"),
        "{e}"
    );
    let e = plan_of("progressive:\n  enabled: true\n  strategy: exponential\n  min_workers: 4\n  max_workers: 4\n").unwrap_err().join("\n");
    assert!(e.contains("band(s) between 4 and 4"), "{e}");
    let e = plan_of("progressive:\n  enabled: true\n  strategy: geometric\n")
        .unwrap_err()
        .join("\n");
    assert!(e.contains("progressive.strategy"), "{e}");
}

#[test]
fn workloads_path_is_relative_to_the_config_file() {
    let file_of = |text: &str| ConfigFile {
        path: PathBuf::from("/etc/bench/run.yaml"),
        text: text.into(),
    };
    let (paths, explicit) =
        workloads_paths(Some(&file_of("workloads_path: [wl, /abs/wl]\n")), &[]).unwrap();
    assert!(explicit);
    assert_eq!(
        paths,
        vec![PathBuf::from("/etc/bench/wl"), PathBuf::from("/abs/wl")]
    );
    let (paths, _) = workloads_paths(Some(&file_of("workloads_path: one\n")), &[]).unwrap();
    assert_eq!(paths, vec![PathBuf::from("/etc/bench/one")]);
    // the command line wins, relative to the working directory
    let (paths, explicit) = workloads_paths(
        Some(&file_of("workloads_path: wl\n")),
        &[PathBuf::from("cli")],
    )
    .unwrap();
    assert!(explicit);
    assert_eq!(paths, vec![PathBuf::from("cli")]);
    // default: ./workloads, not explicit (a missing default folder is no error)
    let (paths, explicit) = workloads_paths(None, &[]).unwrap();
    assert!(!explicit);
    assert_eq!(paths, vec![PathBuf::from(DEFAULT_WORKLOADS_PATH)]);
    let e = workloads_paths(Some(&file_of("workloads_path: {a: 1}\n")), &[]).unwrap_err();
    assert!(
        e[0].starts_with("workloads_path: expected a folder"),
        "{e:?}"
    );
    // the key itself is accepted by the strict top-level parse
    assert!(plan_of("workloads_path: [a, b]\n").is_ok());
}

#[test]
fn every_duration_key_is_bounded_and_the_error_names_key_value_and_limit() {
    let huge = "100000000000s";
    for (yaml, key, limit) in [
        (format!("duration: {huge}"), "duration", "365 days"),
        (format!("warmup: {huge}"), "warmup", "365 days"),
        ("think_time: 2h".to_string(), "think_time", "1 hour"),
        (
            format!("sample_interval: {huge}"),
            "sample_interval",
            "1 day",
        ),
        (
            "summary_interval: 2days".to_string(),
            "summary_interval",
            "1 day",
        ),
        (
            format!("collect_pg_stats: true\nstats_interval: {huge}"),
            "stats_interval",
            "1 day",
        ),
        (
            format!("database:\n  connect_timeout: {huge}"),
            "database.connect_timeout",
            "1 hour",
        ),
        (
            format!("progressive:\n  enabled: true\n  band_duration: {huge}"),
            "progressive.band_duration",
            "365 days",
        ),
        (
            format!("progressive:\n  enabled: true\n  warmup: {huge}"),
            "progressive.warmup",
            "365 days",
        ),
        (
            format!("progressive:\n  enabled: true\n  cooldown: {huge}"),
            "progressive.cooldown",
            "1 day",
        ),
        (
            format!("checkpoint_interval: {huge}"),
            "checkpoint_interval",
            "1 day",
        ),
        (
            format!("time_series_full_resolution: {huge}"),
            "time_series_full_resolution",
            "30 days",
        ),
        // a number of seconds near the limit of the type
        (
            "duration: 18446744073709551615".to_string(),
            "duration",
            "365 days",
        ),
    ] {
        let e = plan_of(&yaml).unwrap_err().join("\n");
        let want = format!("{key}: must be at most {limit} (got ");
        assert!(e.contains(&want), "{yaml}: want {want:?} in {e}");
    }
    // the limits themselves are accepted
    let p = plan_of("duration: 365days\nwarmup: 365days\nthink_time: 1h\nsample_interval: 1day\n")
        .unwrap();
    assert_eq!(p.exec.warmup.0, MAX_RUN_TIME);
    assert_eq!(p.exec.think_time.0, MAX_THINK_TIME);
    assert_eq!(p.exec.sample_interval.0, MAX_INTERVAL);
}

#[test]
fn duration_flags_are_bounded_like_the_keys() {
    let reg = registry();
    let mut loaded = parse_str("workers: 1\n", &reg).unwrap();
    let d = Dur::parse("100000000000s").unwrap();
    apply_overrides(
        &mut loaded.raw,
        &Overrides {
            duration: Some(d),
            warmup: Some(d),
            summary_interval: Some(d),
            ..Default::default()
        },
    );
    let e = validate(&loaded, &reg).unwrap_err().join("\n");
    for key in ["duration", "warmup", "summary_interval"] {
        assert!(e.contains(&format!("{key}: must be at most")), "{key}: {e}");
    }
}

#[test]
fn a_config_file_without_settings_is_an_error() {
    let reg = registry();
    let dir = tempfile::tempdir().unwrap();
    for body in [
        "",
        "\n  \n",
        "# only a comment\n# database: {host: db}\n",
        "---\n",
        "--- # c\n...\n",
        "~\n",
    ] {
        let path = dir.path().join("c.yaml");
        std::fs::write(&path, body).unwrap();
        let e = load_file(&path, &reg).unwrap_err().to_string();
        assert!(
            e.contains(&format!("config file {} is empty", path.display())),
            "{body:?}: {e}"
        );
    }
    let path = dir.path().join("one.yaml");
    std::fs::write(&path, "# a comment\nworkers: 2\n").unwrap();
    assert_eq!(load_file(&path, &reg).unwrap().raw.workers, Some(2));
}

#[test]
fn oversized_and_deep_config_files_are_errors() {
    let reg = registry();
    let e = load_file(std::path::Path::new("/dev/zero"), &reg)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("config file /dev/zero is larger than 1 MiB"),
        "{e}"
    );
    let e = plan_of(&("workers: ".to_string() + &"[".repeat(100) + &"]".repeat(100)))
        .unwrap_err()
        .join("\n");
    assert!(e.contains("line 1: nesting deeper than 64 levels"), "{e}");
    let e = plan_of("a: &x 1\nworkers: *x\n").unwrap_err().join("\n");
    assert!(
        e.contains("line 2: YAML aliases (*name) are not accepted"),
        "{e}"
    );
}

#[test]
fn variables_are_values_never_yaml() {
    let reg = registry();
    std::env::set_var("SB_TEST_INJECT", "x\nsslmode: require");
    std::env::set_var("SB_TEST_PORT_VAR", "5433");
    std::env::set_var("SB_TEST_STAR", "*not_an_alias");
    std::env::set_var("SB_TEST_NUM_DB", "2024");
    let loaded = parse_str(
        "database:\n  dbname: ${SB_TEST_INJECT}\n  port: ${SB_TEST_PORT_VAR}\n  host: ${SB_TEST_STAR}\n  username: ${SB_TEST_NUM_DB}\n",
        &reg,
    )
    .unwrap();
    let db = &loaded.raw.database;
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(db.dbname.as_deref(), Some("x\nsslmode: require"));
    assert_eq!(db.sslmode, None, "nothing injected");
    assert_eq!(
        db.port,
        Some(5433),
        "a whole-value variable follows the key's type"
    );
    assert_eq!(db.host.as_deref(), Some("*not_an_alias"));
    assert_eq!(
        db.username.as_deref(),
        Some("2024"),
        "a text key keeps text"
    );
    // a key is never expanded
    let e = plan_of("${SB_TEST_PORT_VAR}: 1\n").unwrap_err().join("\n");
    assert!(e.contains("${SB_TEST_PORT_VAR}: unknown key"), "{e}");
    // an unset variable is reported with its YAML path
    let e = plan_of("output:\n  json: ${SB_TEST_NOT_SET_ANYWHERE}/r.json\n").unwrap_err();
    assert_eq!(
        e,
        vec!["output.json: environment variable SB_TEST_NOT_SET_ANYWHERE is not set; export it or write ${SB_TEST_NOT_SET_ANYWHERE:-default}"]
    );
}

#[test]
fn passwords_keep_every_character_and_never_show_in_errors() {
    let reg = registry();
    for (i, pw) in [
        "12345",
        "1.50",
        "true",
        "se cret #no comment",
        "a: b",
        "*star",
        "{x: [y]}",
        "two\nlines",
        "!tag",
        "&anchor",
    ]
    .iter()
    .enumerate()
    {
        let var = format!("SB_TEST_PW_{i}");
        std::env::set_var(&var, pw);
        let loaded = parse_str(&format!("database:\n  password: ${{{var}}}\n"), &reg).unwrap();
        assert!(loaded.problems.is_empty(), "{pw:?}: {:?}", loaded.problems);
        let got = loaded.raw.database.password.as_ref().map(Secret::expose);
        assert_eq!(got, Some(*pw));
    }
    // wrong shapes are reported without the value
    for yaml in [
        "database:\n  password: 8675309\n",
        "database:\n  password: 3.25\n",
        "database:\n  password: [hunter2hunter2]\n",
        "database:\n  password: {hunter2hunter2: 1}\n",
        "database:\n  password: 123456789012345678901234567890\n",
    ] {
        let e = plan_of(yaml).unwrap_err().join("\n");
        assert!(
            e.contains("password") || e.contains("64-bit"),
            "{yaml}: {e}"
        );
        for secret in [
            "8675309",
            "3.25",
            "hunter2hunter2",
            "123456789012345678901234567890",
        ] {
            assert!(!e.contains(secret), "{yaml}: {e}");
        }
    }
    // the password given to another key by mistake is masked there too
    std::env::set_var("SB_TEST_PW_TWICE", "correct-horse");
    let e = plan_of("database:\n  password: ${SB_TEST_PW_TWICE}\n  sslmode: ${SB_TEST_PW_TWICE}\n")
        .unwrap_err()
        .join("\n");
    assert!(e.contains("database.sslmode"), "{e}");
    assert!(!e.contains("correct-horse"), "{e}");
}

#[test]
fn every_yaml_file_of_the_repository_passes_the_pre_scan() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["config", "deploy", "workloads"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                    files.push(p);
                }
            }
        }
    }
    assert!(files.len() >= 8, "{files:?}");
    for f in files {
        let text = yaml::read_text(&f).unwrap();
        yaml::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }
}

#[test]
fn every_problem_prints_on_one_line() {
    let reg = registry();
    let problems = parse_str("database:\n  host: \"${SB_NO\\nSUCH}\"\n", &reg).unwrap_err();
    let e = ConfigError {
        source_name: Some("a\nb.yaml".into()),
        problems,
    }
    .to_string();
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 2, "{e}");
    assert_eq!(lines[0], "invalid configuration in a\\nb.yaml:");
    assert!(
        lines[1].starts_with("  database.host: environment variable SB_NO\\nSUCH is not set"),
        "{e}"
    );
}
