//! The trace pipeline through the real binary: learn on log fixtures of every format and on a
//! real server log, generate, validate (a faithful trace passes, a distorted one fails), and
//! bad input ends with a one-line error.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stormbench"))
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
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
    let dir = tempfile::tempdir().unwrap();
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
    let dir = tempfile::tempdir().unwrap();
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
        "--html",
        html.to_str().unwrap(),
    ])
}

#[test]
fn round_trip_on_the_example_log_passes() {
    let dir = tempfile::tempdir().unwrap();
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
        let csv_text = std::fs::read_to_string(&csv).unwrap();
        assert!(csv_text.starts_with("session,ts_ms,template_id,query_type,sql\n"));
        assert_eq!(csv_text.lines().count(), 50_001);
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
    let dir = tempfile::tempdir().unwrap();
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
    let dir = tempfile::tempdir().unwrap();
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
    let e = run(&["trace", "learn", "-i", empty.to_str().unwrap(), "-o", m]);
    assert_one_line_error(&e, 1, "no statements found");
}

#[test]
fn csvlog_with_broken_quoting_counts_the_broken_records() {
    let dir = tempfile::tempdir().unwrap();
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
    let dir = tempfile::tempdir().unwrap();
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
