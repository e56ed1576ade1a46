//! The `trace_replay` workload against the real test cluster: every statement of the trace
//! runs, in session order, at the trace's timing; failing templates are counted by
//! SQLSTATE and the run goes on.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::{fails, ok, pg, read_json, tempdir, text, validate_report_schema, DRIVERS};

const SESSIONS: usize = 6;
const PER_SESSION: usize = 30;
/// Gap between a session's statements in the trace.
const GAP_MS: f64 = 20.0;

/// A trace in the `trace generate` format: sessions that overlap in time, each inserting
/// its sequence numbers; session 0 wraps its inserts in a transaction, session 1 runs a
/// statement against a missing table every tenth statement.
fn write_trace(path: &Path) -> (usize, usize) {
    let mut lines = Vec::new();
    let mut inserts = 0;
    let mut failing = 0;
    for s in 0..SESSIONS {
        let start = s as f64 * 7.0;
        let mut at = start;
        let mut push = |sql: String, at: &mut f64| {
            lines.push((*at, s, sql));
            *at += GAP_MS;
        };
        if s == 0 {
            push("BEGIN".into(), &mut at);
        }
        for seq in 1..=PER_SESSION {
            push(
                format!("INSERT INTO replay_log (session, seq) VALUES ('s{s}', {seq})"),
                &mut at,
            );
            inserts += 1;
            if s == 1 && seq % 10 == 0 {
                push(
                    format!("SELECT * FROM no_such_table WHERE id = {seq}"),
                    &mut at,
                );
                failing += 1;
            }
        }
        if s == 0 {
            push("COMMIT".into(), &mut at);
        }
    }
    // a trace file is in time order, sessions interleaved
    lines.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = String::new();
    for (at, s, sql) in lines {
        let rec = serde_json::json!({
            "session": s, "ts_ms": at, "template_id": 0, "sql": sql, "query_type": "INSERT"
        });
        let _ = writeln!(out, "{rec}");
    }
    std::fs::write(path, out).unwrap();
    (inserts, failing)
}

fn config(dir: &Path, trace: &Path, extra: &str) -> std::path::PathBuf {
    let cfg = dir.join("replay.yaml");
    std::fs::write(
        &cfg,
        format!(
            "workload: trace_replay\nworkers: {SESSIONS}\nduration: 60s\nsummary_interval: 0s\n\
             trace:\n  file: {}\n{extra}",
            trace.display()
        ),
    )
    .unwrap();
    cfg
}

fn setup(db: &str) {
    pg().psql(
        db,
        "CREATE TABLE replay_log (id bigserial PRIMARY KEY, session text NOT NULL, \
         seq int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())",
    );
}

/// Sequence numbers per session in execution order.
fn executed(db: &str) -> Vec<(String, Vec<usize>)> {
    let rows = pg().psql(
        db,
        "SELECT session, string_agg(seq::text, ',' ORDER BY id) FROM replay_log GROUP BY session ORDER BY session",
    );
    rows.lines()
        .map(|l| {
            let (s, seqs) = l.split_once('|').unwrap();
            (
                s.to_string(),
                seqs.split(',').map(|x| x.parse().unwrap()).collect(),
            )
        })
        .collect()
}

/// Runs stormbench against `db` with `args`; asserts it exits 0 and returns its stdout.
fn run_ok(db: &str, args: &[&str]) -> String {
    text(&ok(pg().stormbench(db).args(args))).0
}

#[test]
fn replay_runs_every_statement_in_session_order_at_trace_speed() {
    let db = pg().fresh_db("replay_order");
    setup(&db);
    let dir = tempdir();
    let trace = dir.path().join("trace.jsonl");
    let (inserts, failing) = write_trace(&trace);
    let json = dir.path().join("report.json");
    let html = dir.path().join("report.html");
    let cfg = config(dir.path(), &trace, "  replay:\n    speed: 1.0\n");
    let out = run_ok(
        &db,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
    );
    assert!(out.contains("Pacing (trace timing at speed 1)"), "{out}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("Start lag against the workload's own timing"),
        "the HTML report shows the replay lag"
    );

    let got = executed(&db);
    assert_eq!(got.len(), SESSIONS, "{got:?}");
    for (session, seqs) in &got {
        let want: Vec<usize> = (1..=PER_SESSION).collect();
        assert_eq!(
            seqs, &want,
            "session {session} ran out of order or not at all"
        );
    }

    // session 0's inserts ran inside its BEGIN ... COMMIT, so in one transaction
    assert_eq!(
        pg().psql(
            &db,
            "SELECT count(DISTINCT xmin::text) FROM replay_log WHERE session = 's0'"
        ),
        "1"
    );

    let r = read_json(&json);
    validate_report_schema(&r);
    let total = inserts + failing + 2; // BEGIN and COMMIT
    assert_eq!(
        r["summary"]["transactions"].as_u64(),
        Some(total as u64 - failing as u64)
    );
    assert_eq!(
        r["errors"]["total"].as_u64(),
        Some(failing as u64),
        "{}",
        r["errors"]
    );
    assert_eq!(
        r["errors"]["by_sqlstate"]["42P01"].as_u64(),
        Some(failing as u64),
        "{}",
        r["errors"]
    );
    // sent as recorded (simple protocol), every insert counted its row: nothing to warn
    // of (the failing statement never succeeded, so it is not judged)
    assert!(r["workload"].get("warnings").is_none(), "{}", r["workload"]);
    // the trace spans (PER_SESSION + 3) gaps after the last session's start; at speed 1 the
    // replay takes at least that long
    let span_s = (PER_SESSION as f64 + 2.0) * GAP_MS / 1000.0;
    let measured = r["measured_s"].as_f64().unwrap();
    assert!(
        measured >= span_s * 0.95,
        "measured {measured}s, trace span {span_s}s"
    );
    let lag = &r["pacing"]["lag"];
    assert_eq!(r["pacing"]["speed"].as_f64(), Some(1.0));
    assert_eq!(lag["count"].as_u64(), Some(total as u64), "{lag}");
    assert!(lag["p99_ms"].as_f64().unwrap() >= 0.0);
    let kinds = r["workload"]["kinds"].as_array().unwrap();
    assert!(
        kinds[0]
            .as_str()
            .unwrap()
            .starts_with("t1 INSERT INTO replay_log (session, seq) VALUES ($1, $2)"),
        "{kinds:?}"
    );
    // statements of a session start no earlier than their place in the trace
    let first_to_last = pg().psql(
        &db,
        "SELECT extract(epoch FROM max(at) - min(at)) FROM replay_log WHERE session = 's5'",
    );
    let s5: f64 = first_to_last.parse().unwrap();
    let want = (PER_SESSION - 1) as f64 * GAP_MS / 1000.0;
    assert!(
        s5 >= want * 0.95,
        "session s5 took {s5}s, trace says {want}s"
    );
}

#[test]
fn replay_at_speed_zero_runs_as_fast_as_possible_and_can_loop() {
    let db = pg().fresh_db("replay_fast");
    setup(&db);
    let dir = tempdir();
    let trace = dir.path().join("trace.jsonl");
    let (inserts, _) = write_trace(&trace);
    let json = dir.path().join("report.json");
    let cfg = config(dir.path(), &trace, "  replay:\n    speed: 0\n");
    run_ok(
        &db,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ],
    );
    let r = read_json(&json);
    assert!(r["pacing"].is_null(), "{}", r["pacing"]);
    assert_eq!(
        pg().psql(&db, "SELECT count(*) FROM replay_log"),
        inserts.to_string()
    );
    for (session, seqs) in executed(&db) {
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "session {session}: {seqs:?}"
        );
    }

    // loop: the trace starts over until the duration is up
    pg().psql(&db, "TRUNCATE replay_log");
    let cfg = config(
        dir.path(),
        &trace,
        "  replay:\n    speed: 4\n    loop: true\n",
    );
    run_ok(&db, &["--config", cfg.to_str().unwrap(), "-d", "1500ms"]);
    let n: usize = pg()
        .psql(&db, "SELECT count(*) FROM replay_log")
        .parse()
        .unwrap();
    assert!(
        n > inserts,
        "a looping replay ran {n} inserts, one pass is {inserts}"
    );
}

#[test]
fn replay_config_mistakes_are_clear_errors() {
    let dir = tempdir();
    let trace = dir.path().join("trace.jsonl");
    write_trace(&trace);
    let cases: [(&str, &[&str], &str); 4] = [
        (
            "",
            &["--connections", "2"],
            "connections: this workload keeps one connection per worker",
        ),
        (
            "",
            &["--rate", "100"],
            "rate: the trace sets its own timing",
        ),
        (
            "  replay:\n    speeed: 2\n",
            &[],
            "trace.replay.speeed: unknown key",
        ),
        (
            "",
            &["--progressive"],
            "progressive: a sweep varies workers",
        ),
    ];
    for (extra, args, want) in cases {
        let cfg = config(dir.path(), &trace, extra);
        let err = fails(
            pg().stormbench("postgres")
                .args(["--config", cfg.to_str().unwrap()])
                .args(args),
            2,
        );
        assert!(err.contains(want), "{args:?}: {err}");
    }
    // a trace as `trace generate` writes it looks like a stormbench output, but it is this
    // run's input: no report goes over it
    let generated = dir.path().join("generated.jsonl");
    let line = "{\"session\":0,\"ts_ms\":0.000,\"template_id\":0,\"sql\":\"SELECT 1\",\"query_type\":\"SELECT\"}\n";
    std::fs::write(&generated, line).unwrap();
    let cfg = config(dir.path(), &generated, "");
    let err = fails(
        pg().stormbench("postgres")
            .args(["--config", cfg.to_str().unwrap(), "--json"])
            .arg(&generated),
        2,
    );
    assert!(err.contains("an input of this run"), "{err}");
    assert_eq!(std::fs::read_to_string(&generated).unwrap(), line);
    let cfg = dir.path().join("missing.yaml");
    std::fs::write(
        &cfg,
        "workload: trace_replay\ntrace: { file: /nonexistent/trace.jsonl }\n",
    )
    .unwrap();
    let err = fails(
        pg().stormbench("postgres")
            .args(["--config", cfg.to_str().unwrap()]),
        2,
    );
    assert!(
        err.contains("trace.file: cannot open /nonexistent/trace.jsonl"),
        "{err}"
    );
    // a device would be read for ever
    std::fs::write(&cfg, "workload: trace_replay\ntrace: { file: /dev/zero }\n").unwrap();
    let err = fails(
        pg().stormbench("postgres")
            .args(["--config", cfg.to_str().unwrap()]),
        2,
    );
    assert!(err.contains("trace.file: /dev/zero is a device"), "{err}");
}

#[test]
fn example_log_replays_on_the_schema_of_the_workload_it_came_from() {
    let db = pg().fresh_db("replay_example");
    let dir = tempdir();
    let log = concat!(env!("CARGO_MANIFEST_DIR"), "/workloads/trace/example.log");
    let cfg = config(
        dir.path(),
        Path::new(log),
        "  schema_from: simple\n  replay:\n    speed: 0\n",
    );
    let cfg = cfg.to_str().unwrap();
    // --setup creates and loads simple's tables, under simple's marker
    run_ok(
        &db,
        &["--config", cfg, "--setup", "--no-run", "--workers", "8"],
    );
    assert_eq!(
        pg().psql(&db, "SELECT count(*) FROM simple_accounts"),
        "100000"
    );
    assert_eq!(
        pg().psql(&db, "SELECT workload FROM stormbench_meta"),
        "simple"
    );
    let json = dir.path().join("report.json");
    run_ok(
        &db,
        &[
            "--config",
            cfg,
            "--workers",
            "8",
            "--json",
            json.to_str().unwrap(),
        ],
    );
    let r = read_json(&json);
    assert_eq!(
        r["summary"]["transactions"].as_u64(),
        Some(2002),
        "{}",
        r["errors"]
    );
    assert_eq!(r["errors"]["total"].as_u64(), Some(0), "{}", r["errors"]);
    run_ok(&db, &["--config", cfg, "--workers", "8", "--cleanup"]);
    assert_eq!(
        pg().psql(&db, "SELECT to_regclass('simple_accounts') IS NULL"),
        "t"
    );
}

#[test]
fn schema_from_can_name_a_declarative_workload() {
    let db = pg().fresh_db("replay_declarative");
    let dir = tempdir();
    let trace = dir.path().join("bank.jsonl");
    let mut lines = String::new();
    for i in 0..20 {
        let rec = serde_json::json!({
            "session": i % 2, "ts_ms": i as f64, "template_id": 0, "query_type": "SELECT",
            "sql": format!("SELECT balance FROM bank_accounts WHERE id = {}", i + 1)
        });
        let _ = writeln!(lines, "{rec}");
    }
    std::fs::write(&trace, lines).unwrap();
    let cfg = config(dir.path(), &trace, "  schema_from: example_bank\n");
    let json = dir.path().join("report.json");
    run_ok(
        &db,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--setup",
            "--json",
            json.to_str().unwrap(),
        ],
    );
    assert_eq!(
        pg().psql(&db, "SELECT workload FROM stormbench_meta"),
        "example_bank"
    );
    let r = read_json(&json);
    assert_eq!(
        r["summary"]["transactions"].as_u64(),
        Some(20),
        "{}",
        r["errors"]
    );
}

#[test]
fn prepared_protocol_binds_literals_and_falls_back_where_a_template_cannot_be_prepared() {
    for driver in DRIVERS {
        prepared_protocol_on(driver);
    }
}

fn prepared_protocol_on(driver: &str) {
    let db = pg().fresh_db(&format!("replay_prepared_{}", driver.replace('-', "_")));
    setup(&db);
    pg().psql(&db, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    let dir = tempdir();
    let trace = dir.path().join("trace.jsonl");
    // lower-case statements: the prepared path sends the normalized (upper-case) template,
    // so pg_stat_statements tells which path ran
    let mut lines = String::new();
    let mut at = 0.0;
    let mut push = |session: usize, sql: String| {
        let rec = serde_json::json!({
            "session": session, "ts_ms": at, "template_id": 0, "sql": sql, "query_type": "OTHER"
        });
        let _ = writeln!(lines, "{rec}");
        at += 1.0;
    };
    push(0, "begin".into());
    // a typed literal cannot become `date $1`: the first preparation fails inside the
    // session's transaction, which must survive it
    push(0, "select date '2024-01-02' + 1".into());
    for seq in 1..=PER_SESSION {
        for s in 0..3 {
            push(
                s,
                format!("insert into replay_log (session, seq) values ('s{s}', {seq})"),
            );
        }
    }
    push(0, "select date '2024-01-02' + 2".into());
    push(0, "commit".into());
    // a lookup whose values the data does not have, twice: named in the report
    push(1, "select seq from replay_log where seq = 100000".into());
    push(2, "select seq from replay_log where seq = 100001".into());
    std::fs::write(&trace, lines).unwrap();
    let json = dir.path().join("report.json");
    let cfg = config(
        dir.path(),
        &trace,
        "  replay:\n    speed: 0\n    protocol: prepared\n",
    );
    run_ok(
        &db,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--workers",
            "3",
            "--driver",
            driver,
            "--json",
            json.to_str().unwrap(),
        ],
    );
    let r = read_json(&json);
    assert_eq!(r["connections"]["driver"], driver);
    assert_eq!(
        r["errors"]["total"].as_u64(),
        Some(0),
        "{driver}: {}",
        r["errors"]
    );
    assert_eq!(
        r["summary"]["transactions"].as_u64(),
        Some(3 * PER_SESSION as u64 + 6)
    );
    assert_eq!(
        r["workload"]["warnings"],
        serde_json::json!(["trace statements of the form `SELECT seq FROM replay_log WHERE seq = $1` returned or changed no row in any of their executions: the trace's values do not reach the data it runs on (check trace.schema_from and its scale against the database the trace was recorded on)"]),
        "{driver}"
    );
    for (session, seqs) in executed(&db) {
        let want: Vec<usize> = (1..=PER_SESSION).collect();
        assert_eq!(seqs, want, "session {session}");
    }
    assert_eq!(
        pg().psql(
            &db,
            "SELECT count(DISTINCT xmin::text) FROM replay_log WHERE session = 's0'"
        ),
        "1",
        "session 0's transaction survived the failed preparation"
    );
    let calls = pg().psql(
        &db,
        "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid \
         WHERE d.datname = current_database() AND query = 'INSERT INTO replay_log (session, seq) VALUES ($1, $2)'",
    );
    assert_eq!(
        calls,
        (3 * PER_SESSION).to_string(),
        "inserts sent prepared"
    );
}

/// A trace recorded elsewhere may hold DROP, TRUNCATE, ALTER or CREATE OR REPLACE: replaying
/// it would change objects stormbench did not create, so such a trace is refused (naming a
/// statement and the setting that allows it) and the user's table is left alone; with
/// `trace.replay.allow_destructive: true` it replays as recorded.
#[test]
fn a_trace_that_would_drop_a_users_table_is_refused_unless_allowed() {
    let pg = pg();
    let db = pg.fresh_db("replay_destructive");
    pg.psql(
        &db,
        "CREATE TABLE precious (id int); INSERT INTO precious VALUES (1)",
    );
    let dir = tempdir();
    let trace = dir.path().join("trace.jsonl");
    let line = |at: u32, sql: &str| {
        serde_json::json!({"session": 0, "ts_ms": at, "template_id": at, "sql": sql}).to_string()
    };
    std::fs::write(
        &trace,
        [
            line(0, "SELECT count(*) FROM precious"),
            // hidden behind a read in one simple-protocol string
            line(1, "SELECT 1; TRUNCATE precious"),
            line(2, "DROP TABLE precious"),
            // inside a DO block (the template keeps its body as a placeholder)
            line(3, "DO $$ BEGIN DROP TABLE precious; END $$"),
        ]
        .join("\n"),
    )
    .unwrap();
    let cfg = config(dir.path(), &trace, "  replay:\n    speed: 0\n");
    let err = fails(
        pg.stormbench(&db)
            .args(["--config", cfg.to_str().unwrap(), "--workers", "1"]),
        2,
    );
    assert!(
        err.contains("3 statements would drop, empty, change or replace existing objects")
            && err.contains("trace.replay.allow_destructive: true"),
        "{err}"
    );
    assert_eq!(pg.psql(&db, "SELECT count(*) FROM precious"), "1");
    let cfg = config(
        dir.path(),
        &trace,
        "  replay:\n    speed: 0\n    allow_destructive: true\n",
    );
    ok(pg
        .stormbench(&db)
        .args(["--config", cfg.to_str().unwrap(), "--workers", "1"]));
    assert_eq!(pg.psql(&db, "SELECT to_regclass('precious') IS NULL"), "t");
    // what acts on other sessions, the server's statistics or roles is refused even then
    for sql in [
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE false",
        "SELECT pg_stat_reset()",
        "CREATE ROLE replayed_role",
        "DO $body$ BEGIN PERFORM pg_stat_reset(); END $body$",
    ] {
        std::fs::write(&trace, [line(0, "SELECT 1"), line(1, sql)].join("\n")).unwrap();
        let err = fails(
            pg.stormbench(&db)
                .args(["--config", cfg.to_str().unwrap(), "--workers", "1"]),
            2,
        );
        assert!(
            err.contains("1 statement would act beyond the run's own objects")
                && err.contains("remove it from the trace"),
            "{sql}: {err}"
        );
    }
    assert_eq!(
        pg.psql(
            &db,
            "SELECT count(*) FROM pg_roles WHERE rolname = 'replayed_role'"
        ),
        "0"
    );
}
