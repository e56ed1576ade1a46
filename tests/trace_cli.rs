//! The trace pipeline through the real binary: learn on log fixtures of every format and on a
//! real server log, generate, validate (a faithful trace passes, a distorted one fails), and
//! bad input ends with a one-line error.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{read_json, stormbench};
use serde_json::Value;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn run(args: &[&str]) -> Output {
    stormbench().args(args).output().expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    String::from_utf8_lossy(&common::ok(stormbench().args(args)).stdout).into_owned()
}

fn learn(input: &Path, dir: &Path, extra: &[&str]) -> Value {
    let out = dir.join("model.json");
    let mut args = vec![
        "trace",
        "learn",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ok(&args);
    read_json(&out)
}

fn templates(m: &Value) -> Vec<String> {
    m["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["sql"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn stderr_fixture_templates_and_malformed_lines() {
    let dir = common::tempdir();
    let m = learn(&repo("tests/fixtures/trace/stderr.txt"), dir.path(), &[]);
    assert_eq!(m["statements"], 5);
    assert_eq!(m["sessions"], 2);
    let t = templates(&m);
    assert!(t.contains(&"SELECT * FROM orders WHERE customer = $1 AND note = $2".to_string()));
    assert!(t.contains(&"SELECT id FROM items WHERE id IN ($1)".to_string()));
    assert!(t.contains(&"UPDATE orders SET qty = $1 WHERE id = $2".to_string()));
    assert_eq!(m["malformed_count"], 2);
    let lines: Vec<u64> = m["malformed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [6, 13]);
}

#[test]
fn csvlog_jsonlog_and_plain_fixtures() {
    let dir = common::tempdir();
    let m = learn(&repo("tests/fixtures/trace/csvlog.csv"), dir.path(), &[]);
    assert_eq!(m["statements"], 2);
    assert_eq!(templates(&m)[1], "INSERT INTO t (a, b) VALUES ($1, $2)");
    assert_eq!(m["malformed_count"], 1);
    let m = learn(&repo("tests/fixtures/trace/jsonlog.json"), dir.path(), &[]);
    assert_eq!(templates(&m), ["SELECT $1", "DELETE FROM t WHERE id = $1"]);
    assert_eq!(m["templates"][1]["slots"][0]["values"][0], "'9'");
    assert_eq!(m["malformed_count"], 2);
    let m = learn(
        &repo("tests/fixtures/trace/plain.sql"),
        dir.path(),
        &["--format", "plain", "--order", "2"],
    );
    assert_eq!(m["statements"], 4);
    assert_eq!(m["order"], 2);
    assert_eq!(m["templates"][0]["count"], 3);
    // a psql script: statements over several lines, up to each `;`
    let m = learn(&repo("tests/fixtures/trace/script.sql"), dir.path(), &[]);
    assert_eq!(m["statements"], 5, "{m}");
    let t = templates(&m);
    assert!(
        t.iter()
            .any(|s| s == "SELECT id, total FROM orders WHERE id = $1"),
        "{t:?}"
    );
    assert!(
        t.iter()
            .any(|s| s == "UPDATE orders SET note = $1 WHERE id = $2"),
        "{t:?}"
    );
    assert_eq!(m["templates"][1]["count"], 2, "{t:?}");
    assert_eq!(m["malformed_count"], 1);
    assert_eq!(m["malformed"][0]["line"], 16);
    // bytes that are not UTF-8 on the first line are read as on any other (a LATIN1 log)
    let latin1 = dir.path().join("latin1.sql");
    std::fs::write(
        &latin1,
        b"SELECT * FROM t WHERE name = '\xe9t\xe9'\nSELECT 2\n",
    )
    .unwrap();
    let m = learn(&latin1, dir.path(), &[]);
    assert_eq!(m["statements"], 2, "{m}");
}

fn generate(model: &Path, out: &Path, n: &str, extra: &[&str]) {
    let mut args = vec![
        "trace",
        "generate",
        "--model",
        model.to_str().unwrap(),
        "-n",
        n,
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ok(&args);
}

fn validate(original: &Path, generated: &Path, json: &Path, html: &Path) -> Output {
    run(&[
        "trace",
        "validate",
        "--original",
        original.to_str().unwrap(),
        "--generated",
        generated.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--csv",
        json.with_extension("csv").to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ])
}

#[test]
fn round_trip_on_the_example_log_passes() {
    let dir = common::tempdir();
    let log = repo("workloads/trace/example.log");
    for order in ["1", "2"] {
        learn(&log, dir.path(), &["--order", order]);
        let (trace, csv) = (dir.path().join("t.jsonl"), dir.path().join("t.csv"));
        generate(
            &dir.path().join("model.json"),
            &trace,
            "50000",
            &["--csv", csv.to_str().unwrap()],
        );
        let (json, html) = (dir.path().join("v.json"), dir.path().join("v.html"));
        let out = validate(&log, &trace, &json, &html);
        let report = read_json(&json);
        assert!(
            out.status.success(),
            "order {order}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(report["passed"], true);
        assert!(report["score"].as_f64().unwrap() > 0.9);
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(page.contains("<svg") && page.contains("Trace validation"));
        let tests = std::fs::read_to_string(json.with_extension("csv")).unwrap();
        assert!(
            tests.starts_with("test,kind,status,statistic,p_value"),
            "{tests}"
        );
        assert_eq!(
            tests.lines().count(),
            report["tests"].as_array().unwrap().len() + 1
        );
        let csv_text = std::fs::read_to_string(&csv).unwrap();
        assert!(csv_text.starts_with("session,ts_ms,template_id,query_type,sql\n"));
        let written = std::fs::read_to_string(&trace).unwrap().lines().count();
        assert!(written >= 50_000, "{written}");
        assert_eq!(csv_text.lines().count(), written + 1);
    }
}

/// Reorders each session's statements by SQL text (breaking the transition structure) and
/// stretches all times by 3.
fn distort(input: &Path, output: &Path) {
    let text = std::fs::read_to_string(input).unwrap();
    let mut recs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut by_session: std::collections::BTreeMap<u64, Vec<usize>> = Default::default();
    for (i, r) in recs.iter().enumerate() {
        by_session
            .entry(r["session"].as_u64().unwrap())
            .or_default()
            .push(i);
    }
    for idx in by_session.values() {
        let mut sqls: Vec<Value> = idx.iter().map(|&i| recs[i]["sql"].clone()).collect();
        sqls.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        for (&i, s) in idx.iter().zip(sqls) {
            recs[i]["sql"] = s;
        }
    }
    let mut out = String::new();
    for r in &mut recs {
        let ts = r["ts_ms"].as_f64().unwrap() * 3.0;
        r["ts_ms"] = ts.into();
        out.push_str(&r.to_string());
        out.push('\n');
    }
    std::fs::write(output, out).unwrap();
}

#[test]
fn distorted_trace_fails_validation() {
    let dir = common::tempdir();
    let log = repo("workloads/trace/example.log");
    learn(&log, dir.path(), &[]);
    let (trace, bad) = (dir.path().join("t.jsonl"), dir.path().join("bad.jsonl"));
    generate(&dir.path().join("model.json"), &trace, "20000", &[]);
    distort(&trace, &bad);
    let (json, html) = (dir.path().join("v.json"), dir.path().join("v.html"));
    let out = validate(&log, &bad, &json, &html);
    assert_eq!(out.status.code(), Some(1));
    let report = read_json(&json);
    assert_eq!(report["passed"], false);
    let failed: Vec<&str> = report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["pass"] == false)
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert!(failed.contains(&"tv"), "{failed:?}");
    assert!(failed.contains(&"ks"), "{failed:?}");
    let freq = report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "template frequencies")
        .unwrap();
    assert_eq!(freq["pass"], true, "reordering keeps the frequencies");
}

fn assert_one_line_error(out: &Output, code: i32, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(err.starts_with("Error: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(needle), "{err}");
}

#[test]
fn bad_input_gives_one_line_errors() {
    let dir = common::tempdir();
    let out_model = dir.path().join("m.json");
    let m = out_model.to_str().unwrap();
    let missing = run(&[
        "trace",
        "learn",
        "--input",
        "/nonexistent/x.log",
        "--out",
        m,
    ]);
    assert_one_line_error(&missing, 1, "cannot open");
    // a device would be read for ever (one endless line), a directory cannot be: refused
    for (input, what) in [("/dev/zero", "a device"), ("/tmp", "a directory")] {
        let e = run(&["trace", "learn", "--input", input, "--out", m]);
        assert_one_line_error(&e, 1, &format!("{input} is {what}, not a file"));
        let e = run(&[
            "trace",
            "validate",
            "--original",
            input,
            "--generated",
            input,
        ]);
        assert_one_line_error(&e, 1, "not a file");
    }
    let plain = repo("tests/fixtures/trace/plain.sql");
    let p = plain.to_str().unwrap();
    let fmt = run(&["trace", "learn", "-i", p, "-f", "xml", "-o", m]);
    assert_one_line_error(&fmt, 2, "unknown log format 'xml'");
    std::fs::write(&out_model, "{\"version\": 1, \"templates\": [").unwrap();
    let t = dir.path().join("t.jsonl");
    let bad = run(&["trace", "generate", "-m", m, "-o", t.to_str().unwrap()]);
    assert_one_line_error(&bad, 1, "not a stormbench trace model");
    let garbage = dir.path().join("g.jsonl");
    std::fs::write(&garbage, "not json\n").unwrap();
    let g = garbage.to_str().unwrap();
    let v = run(&["trace", "validate", "--original", p, "--generated", g]);
    assert_one_line_error(&v, 1, "line 1: not a trace record");
    let empty = dir.path().join("e.log");
    std::fs::write(&empty, "\n").unwrap();
    let fresh = dir.path().join("fresh.json");
    let e = run(&[
        "trace",
        "learn",
        "-i",
        empty.to_str().unwrap(),
        "-o",
        fresh.to_str().unwrap(),
    ]);
    assert_one_line_error(&e, 1, "no statements found");
    // a server log without a timestamp prefix is read as plain SQL: none of its lines is a
    // statement, and the error says which format to give (before: each line was learned as
    // a statement, `LOG: statement: SELECT $1` among them)
    let bare = dir.path().join("bare.log");
    std::fs::write(
        &bare,
        "LOG:  statement: SELECT 1\nLOG:  statement: SELECT 2\n",
    )
    .unwrap();
    let e = run(&[
        "trace",
        "learn",
        "-i",
        bare.to_str().unwrap(),
        "-o",
        fresh.to_str().unwrap(),
    ]);
    assert_one_line_error(
        &e,
        1,
        "a server log needs --format stderr, csvlog or jsonlog",
    );
    assert!(!fresh.exists(), "no model written");
    // the broken file there is not a model stormbench wrote: never replaced
    let e = run(&["trace", "learn", "-i", p, "-o", m]);
    assert_one_line_error(&e, 2, "not a file stormbench wrote");
}

#[test]
fn csvlog_with_broken_quoting_counts_the_broken_records() {
    let dir = common::tempdir();
    let m = learn(
        &repo("tests/fixtures/trace/csvlog-broken.csv"),
        dir.path(),
        &[],
    );
    assert_eq!(m["statements"], 3);
    assert_eq!(m["malformed_count"], 3);
    let bad: Vec<(u64, String)> = m["malformed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["line"].as_u64().unwrap(),
                b["reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(bad[0].0, 2);
    assert!(bad[0]
        .1
        .contains("quoted field still open where the record of line 3 starts"));
    assert_eq!(bad[1].0, 5);
    assert!(bad[1].1.contains("broken quoting"));
    assert_eq!(bad[2].0, 6);
    assert!(bad[2].1.contains("21 fields"));
    let t = templates(&m);
    assert!(
        t.contains(&"UPDATE users SET n = n + $1 WHERE id = $2".to_string()),
        "{t:?}"
    );
}

#[test]
fn a_real_csvlog_reads_without_malformed_records() {
    // Written by PostgreSQL 15 (26 fields), with a quoted multi-line statement whose second
    // line looks like the start of a record.
    let dir = common::tempdir();
    let m = learn(
        &repo("tests/fixtures/trace/csvlog-pg15.csv"),
        dir.path(),
        &[],
    );
    assert_eq!(m["malformed_count"], 0, "{}", m["malformed"]);
    assert_eq!(m["statements"], 6);
    let t = templates(&m);
    assert!(t.contains(&"SELECT $1 AS a, $2 AS b".to_string()), "{t:?}");
    assert!(t.contains(&"SELECT $1".to_string()), "{t:?}");
    assert_eq!(
        t.len(),
        5,
        "the dollar-quoted statement is one template: {t:?}"
    );
}

#[test]
fn counts_out_of_range_give_one_line_errors() {
    let dir = common::tempdir();
    learn(&repo("workloads/trace/example.log"), dir.path(), &[]);
    let m = dir.path().join("model.json");
    let t = dir.path().join("t.jsonl");
    let (m, t) = (m.to_str().unwrap(), t.to_str().unwrap());
    let gen = |extra: &[&str]| {
        let mut args = vec!["trace", "generate", "-m", m, "-o", t];
        args.extend_from_slice(extra);
        run(&args)
    };
    let out = gen(&["--sessions", "1000000000000"]);
    assert_one_line_error(&out, 2, "use 1 to 1000000 concurrent sessions");
    let out = gen(&["-n", "1000000000000"]);
    assert_one_line_error(&out, 2, "generate 1 to 1000000000 statements");
    let out = gen(&["-n", "0"]);
    assert_one_line_error(&out, 2, "-n 0 is out of range");
    let log = repo("workloads/trace/example.log");
    let out = run(&[
        "trace",
        "learn",
        "-i",
        log.to_str().unwrap(),
        "-o",
        m,
        "--order",
        "3",
    ]);
    assert_one_line_error(
        &out,
        2,
        "--order 3 is out of range: the Markov order is 1 or 2",
    );
}

/// The largest resident set of the children this process waited for, in bytes.
fn children_max_rss() -> u64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
        0
    );
    u64::try_from(usage.ru_maxrss).unwrap() * 1024
}

#[test]
fn a_huge_statement_is_reported_and_memory_stays_bounded() {
    let dir = common::tempdir();
    let pre = "2024-05-01 10:00:00.000 UTC [101] app@db LOG:  statement: ";
    // One 10 MB statement of five million literals between two small ones.
    let mut log = format!("{pre}SELECT 1\n{pre}SELECT 1");
    log.push_str(&",1".repeat(5_000_000));
    log.push_str(&format!("\n{pre}SELECT 2\n"));
    let path = dir.path().join("huge.log");
    std::fs::write(&path, &log).unwrap();
    let m = learn(&path, dir.path(), &[]);
    assert_eq!(m["statements"], 2);
    assert_eq!(m["malformed_count"], 1);
    assert_eq!(m["malformed"][0]["line"], 2);
    let reason = m["malformed"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("longer than 1048576 bytes"), "{reason}");
    let model_bytes = std::fs::metadata(dir.path().join("model.json"))
        .unwrap()
        .len();
    assert!(model_bytes < 100_000, "{model_bytes}");
    // Statements just under the limit, 400,000 literals each: the slots stop at the limit.
    let mut log = String::new();
    for k in 0..3 {
        log.push_str(&format!("{pre}INSERT INTO t VALUES ({k}"));
        log.push_str(&",1".repeat(399_999));
        log.push_str(")\n");
    }
    std::fs::write(&path, &log).unwrap();
    let m = learn(&path, dir.path(), &[]);
    assert_eq!(m["statements"], 3);
    let t = &m["templates"][0];
    assert_eq!(t["slots"].as_array().unwrap().len(), 2520);
    assert_eq!(t["cyclic_slots"], true);
    assert_eq!(m["limits"]["slots_per_template"], 2520);
    let model_bytes = std::fs::metadata(dir.path().join("model.json"))
        .unwrap()
        .len();
    // The template text itself (about 3.3 MB of placeholders) plus 2520 small slots.
    assert!(model_bytes < 5_000_000, "{model_bytes}");
    let trace = dir.path().join("t.jsonl");
    generate(&dir.path().join("model.json"), &trace, "3", &[]);
    let first = std::fs::read_to_string(&trace).unwrap();
    assert!(!first.contains('$'), "every placeholder is bound");
    // Every learn and generate of this test binary (the 10 MB one included) stayed small.
    let rss = children_max_rss();
    assert!(rss < 256 << 20, "peak RSS {rss} bytes");
}

#[test]
fn a_model_with_a_placeholder_but_no_parameter_model_is_refused() {
    let dir = common::tempdir();
    let mut m = learn(&repo("workloads/trace/example.log"), dir.path(), &[]);
    let k = m["templates"]
        .as_array()
        .unwrap()
        .iter()
        .position(|t| t["sql"].as_str().unwrap().contains("$1"))
        .unwrap();
    m["templates"][k]["slots"] = serde_json::json!([]);
    let path = dir.path().join("model.json");
    std::fs::write(&path, m.to_string()).unwrap();
    let t = dir.path().join("t.jsonl");
    let out = run(&[
        "trace",
        "generate",
        "-m",
        path.to_str().unwrap(),
        "-o",
        t.to_str().unwrap(),
    ]);
    assert_one_line_error(&out, 1, &format!("template {k} ("));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("has placeholder $1 but no parameter model"),
        "{err}"
    );
    assert!(!t.exists() || std::fs::read_to_string(&t).unwrap().is_empty());
}

#[test]
fn learn_generate_validate_agree_on_session_length() {
    let dir = common::tempdir();
    let log = repo("workloads/trace/example.log");
    learn(&log, dir.path(), &[]);
    let model = dir.path().join("model.json");
    // 2000 statements over the log's 9 sessions of about 220: cutting the sessions in
    // progress at 2000 would leave nine short ones.
    for seed in ["1", "2", "3"] {
        let trace = dir.path().join("t.jsonl");
        let out = ok(&[
            "trace",
            "generate",
            "--model",
            model.to_str().unwrap(),
            "-n",
            "2000",
            "--seed",
            seed,
            "--out",
            trace.to_str().unwrap(),
        ]);
        assert!(
            out.contains("(2000 asked; the sessions in progress then ran to their end)"),
            "{out}"
        );
        let (json, html) = (dir.path().join("v.json"), dir.path().join("v.html"));
        let v = validate(&log, &trace, &json, &html);
        let report = read_json(&json);
        let stdout = String::from_utf8_lossy(&v.stdout);
        let length = report["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "session length")
            .unwrap();
        assert_eq!(length["status"], "pass", "seed {seed}: {stdout}");
        assert_eq!(report["verdict"], "pass", "seed {seed}: {stdout}");
    }
}

#[test]
fn tests_without_the_data_to_decide_are_not_testable_and_never_pass() {
    let dir = common::tempdir();
    let plain = repo("tests/fixtures/trace/plain.sql");
    learn(&plain, dir.path(), &["--format", "plain"]);
    let trace = dir.path().join("t.jsonl");
    generate(&dir.path().join("model.json"), &trace, "4", &[]);
    let (json, html) = (dir.path().join("v.json"), dir.path().join("v.html"));
    let out = run(&[
        "trace",
        "validate",
        "--original",
        plain.to_str().unwrap(),
        "--format",
        "plain",
        "--generated",
        trace.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let report = read_json(&json);
    assert_eq!(report["verdict"], "inconclusive");
    assert_eq!(report["passed"], false);
    assert_eq!(report["score"], Value::Null);
    for t in report["tests"].as_array().unwrap() {
        assert_eq!(t["status"], "not_testable", "{t}");
        assert_eq!(t["pass"], false, "{t}");
        assert_eq!(t["p_value"], Value::Null, "{t}");
    }
    let query_types = &report["tests"][0];
    assert!(query_types["note"]
        .as_str()
        .unwrap()
        .contains("no degrees of freedom"));
    assert!(
        stdout.contains("NOT TESTABLE") && stdout.contains("INCONCLUSIVE"),
        "{stdout}"
    );
    assert!(!stdout.contains("PASS"), "{stdout}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("not testable") && page.contains("INCONCLUSIVE"));
}

#[test]
fn trace_outputs_never_clobber_inputs_each_other_or_foreign_files() {
    let dir = common::tempdir();
    let log = dir.path().join("server.log");
    std::fs::copy(repo("workloads/trace/example.log"), &log).unwrap();
    let before = std::fs::read(&log).unwrap();
    let log_s = log.to_str().unwrap();
    // the model over the log it learns from
    let out = run(&["trace", "learn", "--input", log_s, "-o", log_s]);
    assert_one_line_error(&out, 2, "input of this run");
    assert_eq!(std::fs::read(&log).unwrap(), before);
    // a model is rewritten in place, and only a model
    let model = dir.path().join("m.json");
    let model_s = model.to_str().unwrap();
    ok(&["trace", "learn", "--input", log_s, "-o", model_s]);
    ok(&["trace", "learn", "--input", log_s, "-o", model_s]);
    let notes = dir.path().join("notes.json");
    std::fs::write(&notes, "{\"mine\": 1}").unwrap();
    let out = run(&[
        "trace",
        "learn",
        "--input",
        log_s,
        "-o",
        notes.to_str().unwrap(),
    ]);
    assert_one_line_error(&out, 2, "not a file stormbench wrote");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "{\"mine\": 1}");
    // one path for both outputs
    let same = dir.path().join("t.out");
    let same_s = same.to_str().unwrap();
    let out = run(&[
        "trace", "generate", "-m", model_s, "-n", "10", "--out", same_s, "--csv", same_s,
    ]);
    assert_one_line_error(&out, 2, "same file");
    // a generated trace to standard output, and again over its own earlier file
    let printed = ok(&[
        "trace",
        "generate",
        "-m",
        model_s,
        "-n",
        "10",
        "--out",
        "/dev/stdout",
    ]);
    assert!(
        printed
            .lines()
            .filter(|l| l.starts_with("{\"session\":"))
            .count()
            >= 10,
        "{printed}"
    );
    let trace = dir.path().join("t.jsonl");
    let trace_s = trace.to_str().unwrap();
    ok(&[
        "trace", "generate", "-m", model_s, "-n", "10", "--out", trace_s,
    ]);
    ok(&[
        "trace", "generate", "-m", model_s, "-n", "20", "--out", trace_s,
    ]);
}

/// Ctrl-C during a long generation stops it within moments: exit 130, one line naming the
/// output, and nothing left in the folder (no trace, no temporary file), whether or not a
/// CSV copy was asked for.
#[test]
fn ctrl_c_stops_a_generation_and_leaves_no_files() {
    let dir = common::tempdir();
    let model = dir.path().join("model.json");
    learn(&repo("tests/fixtures/trace/stderr.txt"), dir.path(), &[]);
    let out = dir.path().join("t.jsonl");
    let csv = dir.path().join("t.csv");
    let mut c = stormbench();
    c.args(["trace", "generate", "-n", "1000000000", "--model"])
        .arg(&model)
        .arg("--out")
        .arg(&out)
        .arg("--csv")
        .arg(&csv);
    let child = common::spawn(&mut c);
    // until the temporary files are being written
    let t0 = std::time::Instant::now();
    while std::fs::read_dir(dir.path()).unwrap().count() < 3 {
        assert!(t0.elapsed().as_secs() < 30, "the generation did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    common::signal(&child, libc::SIGINT);
    let (o, took) = common::wait_at_most(child, std::time::Duration::from_secs(20));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(took.as_secs() < 5, "took {took:?}");
    assert!(
        err.contains("interrupted while writing") && err.contains("t.jsonl"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["model.json"], "left behind: {left:?}");
}

#[test]
fn logs_come_from_pipes_standard_input_and_gzip_files() {
    use std::io::Write as _;
    let dir = common::tempdir();
    for fixture in ["stderr.txt", "csvlog.csv", "jsonlog.json"] {
        let path = repo(&format!("tests/fixtures/trace/{fixture}"));
        let want = learn(&path, dir.path(), &[]);
        let text = std::fs::read(&path).unwrap();
        // read once from standard input, as `-` and as /dev/stdin (the format detected from
        // the content, since there is no name to go by)
        for input in ["-", "/dev/stdin"] {
            let out = dir.path().join("piped.json");
            let mut child = stormbench()
                .args(["trace", "learn", "--input", input, "--out"])
                .arg(&out)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(&text).unwrap();
            let o = child.wait_with_output().unwrap();
            assert!(o.status.success(), "{fixture} from {input}: {o:?}");
            let got = read_json(&out);
            assert_eq!(templates(&got), templates(&want), "{fixture} from {input}");
            assert_eq!(got["statements"], want["statements"]);
        }
        // a rotated, compressed log
        let gz = dir.path().join(format!("{fixture}.gz"));
        let mut enc =
            flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), Default::default());
        enc.write_all(&text).unwrap();
        enc.finish().unwrap();
        let got = learn(&gz, dir.path(), &[]);
        assert_eq!(templates(&got), templates(&want), "{fixture}.gz");
        assert_eq!(got["statements"], want["statements"]);
    }
    // a damaged compressed log is a one-line error
    let bad = dir.path().join("bad.log.gz");
    std::fs::write(&bad, [0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]).unwrap();
    let o = run(&[
        "trace",
        "learn",
        "--input",
        bad.to_str().unwrap(),
        "--out",
        "/tmp/x",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot read") && err.lines().count() == 1,
        "{err}"
    );
}
