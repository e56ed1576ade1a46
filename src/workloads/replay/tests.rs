use super::*;
use crate::trace::parse::Event;

fn ev(session: &str, ts_ms: Option<f64>, sql: &str) -> Event {
    Event {
        session: session.into(),
        ts_ms,
        duration_ms: None,
        sql: sql.into(),
    }
}

fn sample() -> Trace {
    load(
        vec![
            ev("a", Some(1000.0), "BEGIN"),
            ev("b", Some(1000.5), "SELECT 1"),
            ev("a", Some(1001.0), "SELECT * FROM t WHERE id = 1"),
            ev("a", Some(1002.0), "COPY t FROM STDIN"),
            ev("c", Some(1010.0), "SELECT * FROM t WHERE id = 2"),
            ev("a", Some(1003.0), "COMMIT"),
            ev("b", None, "SELECT * FROM t WHERE id = 3"),
        ],
        2,
        Protocol::Prepared,
    )
}

#[test]
fn sessions_keep_their_order_and_offsets() {
    let t = sample();
    assert_eq!(t.skipped, 1);
    assert_eq!(t.sessions.len(), 3);
    let sqls: Vec<Vec<&str>> = t
        .sessions
        .iter()
        .map(|r| t.stmts[r.clone()].iter().map(|s| &*s.sql).collect())
        .collect();
    assert_eq!(
        sqls,
        vec![
            vec!["BEGIN", "SELECT * FROM t WHERE id = 1", "COMMIT"],
            vec!["SELECT 1", "SELECT * FROM t WHERE id = 3"],
            vec!["SELECT * FROM t WHERE id = 2"],
        ]
    );
    let offsets: Vec<u64> = t.stmts.iter().map(|s| s.offset_us).collect();
    // the untimed statement goes right after its session's previous one
    assert_eq!(offsets, vec![0, 1000, 3000, 500, 500, 10_000]);
    assert_eq!(t.span_us, 10_000);
    assert_eq!(t.stmts[0].control, Control::Begin);
    assert_eq!(t.stmts[2].control, Control::End);
    // protocol prepared: literals kept for binding; transaction control sent as is
    assert!(t.stmts[0].bound.is_none());
    let (tpl, params) = (&t.stmts[1].tpl, t.stmts[1].bound.as_ref().unwrap());
    assert_eq!(
        &*t.templates[*tpl as usize],
        "SELECT * FROM t WHERE id = $1"
    );
    assert_eq!(params.iter().map(|p| &**p).collect::<Vec<_>>(), vec!["1"]);
}

#[test]
fn most_frequent_templates_get_their_own_kind() {
    let t = sample();
    // "SELECT * FROM t WHERE id = $1" occurs 3 times: rank 1
    assert!(
        t.kinds[0].starts_with("t1 SELECT * FROM t WHERE id = $1"),
        "{:?}",
        t.kinds
    );
    assert_eq!(t.kinds.len(), 3);
    assert_eq!(t.kinds[2], "other templates");
    assert_eq!(t.stmts[1].kind, 0);
    assert_eq!(
        t.stmts[3].kind, 2,
        "SELECT 1 is neither of the two most frequent"
    );
}

#[test]
fn sessions_go_to_the_worker_free_first() {
    let t = sample();
    let (plan, needed) = assign(&t, 2);
    // a (0..3 ms) and b (0.5 ms) overlap; c starts at 10 ms, when both are free
    assert_eq!(needed, 2);
    assert_eq!(plan.iter().map(Vec::len).sum::<usize>(), 3);
    assert_ne!(plan[0].contains(&1), plan[0].contains(&0));
    let (one, _) = assign(&t, 1);
    assert_eq!(one, vec![vec![0, 1, 2]]);
}

#[test]
fn cursor_walks_sessions_then_finishes_or_loops() {
    let t = Arc::new(sample());
    let mut w = ReplayWorker::new(t.clone(), Arc::from(vec![0, 2]), 2.0, false);
    let mut starts = Vec::new();
    while let NextStart::At(d) = w.next_start() {
        starts.push((w.current, d.as_micros() as u64));
    }
    assert_eq!(starts, vec![(0, 0), (1, 500), (2, 1500), (5, 5000)]);
    assert_eq!(w.next_start(), NextStart::Finished);
    w.repeat = true;
    w.next_session = 2;
    assert_eq!(w.next_start(), NextStart::At(Duration::from_micros(5500)));
    assert_eq!(w.lap, 1);
    w.speed = 0.0;
    assert_eq!(w.next_start(), NextStart::Schedule);
}

#[test]
fn bad_sections_are_reported_with_their_paths() {
    // every problem of a `trace:` section, one per line
    let errors = |yaml: &str| {
        let p = WorkloadParams {
            mode: "replay".into(),
            scale: 1,
            section: serde_yaml::from_str(yaml).unwrap(),
            seed: 1,
            workers: 2,
            registry: crate::workloads::registry(),
        };
        build(&p).err().unwrap().join("\n")
    };
    let e = errors("replay: { speed: -1, templates: 0 }");
    assert!(e.contains("trace.replay.speed: must be between"), "{e}");
    assert!(e.contains("trace.replay.templates:"), "{e}");
    assert!(e.contains("trace.file: missing"), "{e}");
    let e = errors("file: /nonexistent/trace.jsonl");
    assert!(
        e.starts_with("trace.file: cannot open /nonexistent/trace.jsonl"),
        "{e}"
    );
    let e = errors("file: no-such-dir/trace.jsonl");
    assert!(
        e.contains("no-such-dir/trace.jsonl") && e.contains("read from the working directory"),
        "{e}"
    );
    let e = errors("{ file: x, schema_from: trace }");
    assert!(
        e.contains("trace.schema_from: unknown workload 'trace'; use one whose schema the trace runs on: simple, tpcc"),
        "{e}"
    );
    let e = errors("{ file: x, schema_from: noop }");
    assert!(e.contains("workload 'noop' has no schema"), "{e}");
    let e = errors("{ file: x, replay: { protocol: binary } }");
    assert!(
        e.contains("trace.replay.protocol: unknown variant `binary`"),
        "{e}"
    );
    let e = errors("{ file: x, replay: { sped: 1 } }");
    assert!(e.contains("trace.replay.sped: unknown key"), "{e}");
    // a trace of nothing but empty statements replayed as transactions that did no work
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    let line = |ts: u32, sql: &str| {
        format!("{{\"session\": 0, \"ts_ms\": {ts}, \"template_id\": 0, \"sql\": \"{sql}\"}}\n")
    };
    std::fs::write(&trace, line(0, "-- ping") + &line(5, ";")).unwrap();
    let e = errors(&format!("file: {}", trace.display()));
    assert!(
        e.contains("holds only empty statements (blanks or comments)"),
        "{e}"
    );
    // beside the workload's SQL, an empty statement is recorded behaviour and is replayed
    std::fs::write(&trace, line(0, "-- ping") + &line(5, "SELECT 1")).unwrap();
    let p = WorkloadParams {
        mode: "replay".into(),
        scale: 1,
        section: serde_yaml::from_str(&format!("file: {}", trace.display())).unwrap(),
        seed: 1,
        workers: 2,
        registry: crate::workloads::registry(),
    };
    assert!(build(&p).is_ok());
}
