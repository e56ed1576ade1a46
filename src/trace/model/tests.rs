use super::*;

fn ev(session: &str, ts: f64, sql: &str) -> Event {
    Event {
        session: session.into(),
        ts_ms: Some(ts),
        duration_ms: Some(0.5),
        sql: sql.into(),
    }
}

#[test]
fn learns_templates_chain_and_slots() {
    let mut events = Vec::new();
    for i in 0..200 {
        let s = format!("s{}", i % 4);
        let t = i as f64 * 10.0;
        events.push(ev(&s, t, &format!("SELECT * FROM a WHERE id = {i}")));
        events.push(ev(
            &s,
            t + 1.0,
            &format!("UPDATE a SET x = 'v{}' WHERE k = 1", i % 3),
        ));
    }
    let m = learn(events, 1);
    m.check().unwrap();
    assert_eq!(m.templates.len(), 2);
    assert_eq!(m.templates[0].query_type, QueryType::Select);
    assert!(matches!(
        m.templates[0].slots[0],
        SlotModel::Numeric { integer: true, .. }
    ));
    match &m.templates[1].slots[0] {
        SlotModel::Categorical { values, .. } => assert_eq!(values.len(), 3),
        other => panic!("{other:?}"),
    }
    let row0 = m.transitions.iter().find(|r| r.from == [0]).unwrap();
    assert_eq!(row0.to, vec![(1, 200)]);
    assert_eq!(m.sessions, 4);
    assert_eq!(m.session_length.quantiles, vec![100.0; 4]);
    let m2 = learn(vec![ev("a", 0.0, "SELECT 1"), ev("a", 1.0, "SELECT 2")], 2);
    assert!(m2.transitions.iter().any(|r| r.from == [0, 0]));
}

#[test]
fn empirical_quantiles_interpolate() {
    let e = Empirical::from_samples((0..10_000).map(f64::from).collect());
    assert_eq!(e.quantiles.len(), QUANTILES);
    assert!((e.sample(0.5) - 4999.5).abs() < 10.0);
    assert_eq!(e.sample(0.0), 0.0);
}

#[test]
fn a_placeholder_without_a_slot_model_is_refused() {
    let mut m = learn(vec![ev("a", 0.0, "SELECT * FROM t WHERE id = 1")], 1);
    m.check().unwrap();
    m.templates[0].slots.clear();
    let e = m.check().unwrap_err();
    assert!(
        e.contains("template 0 (SELECT * FROM t WHERE id = $1) has placeholder $1"),
        "{e}"
    );
    let mut m = learn(vec![ev("a", 0.0, "SELECT 1")], 1);
    m.templates[0].sql = "SELECT $1, $2".into();
    assert!(m.check().unwrap_err().contains("placeholder $2"));
    m.templates[0].sql = "SELECT $0".into();
    assert!(m.check().unwrap_err().contains("placeholder $0"));
    let m = learn(vec![ev("a", 0.0, "SELECT \"a$1\", \"b\"\"$2\" FROM t")], 1);
    m.check().unwrap();
    assert_eq!(placeholders(&m.templates[0].sql).count(), 0);
}

#[test]
fn slots_and_samples_are_bounded() {
    let n = SLOTS_MAX * 2 + 3;
    let values: Vec<String> = (0..n).map(|i| format!("'v{}'", i % 7)).collect();
    let sql = format!("INSERT INTO t VALUES ({})", values.join(", "));
    let m = learn(vec![ev("a", 0.0, &sql), ev("a", 1.0, &sql)], 1);
    m.check().unwrap();
    let t = &m.templates[0];
    assert_eq!((t.slots.len(), t.cyclic_slots), (SLOTS_MAX, true));
    assert_eq!(t.slot_of(n), Some((n - 1) % SLOTS_MAX));
    // Slot 1 saw the values of placeholders 1, 2521 and 5041: v0, v0, v0.
    match &t.slots[0] {
        SlotModel::Categorical { values, weights } => {
            assert_eq!(
                (values.as_slice(), weights.as_slice()),
                (&["'v0'".to_string()][..], &[6][..])
            );
        }
        other => panic!("{other:?}"),
    }
    let mut rng = SmallRng::seed_from_u64(1);
    let mut r = Reservoir::default();
    for i in 0..(SAMPLE_MAX as u64 + 1000) {
        r.add(i as f64, &mut rng);
    }
    assert_eq!(r.values.len(), SAMPLE_MAX);
    assert!(r.sampled());
    // A uniform sample of 0..n has its median near n / 2.
    let e = Empirical::from_samples(r.values);
    let mid = (SAMPLE_MAX as f64 + 1000.0) / 2.0;
    assert!(
        (e.sample(0.5) - mid).abs() < mid * 0.01,
        "{}",
        e.sample(0.5)
    );
}

#[test]
fn distinct_values_per_slot_are_capped_and_said_so() {
    let events = (0..POOL_MAX + 10)
        .map(|i| ev("a", i as f64, &format!("SELECT * FROM t WHERE s = 'x{i}'")))
        .collect();
    let m = learn(events, 1);
    match &m.templates[0].slots[0] {
        SlotModel::Pool { values, capped } => {
            assert_eq!((values.len(), *capped), (POOL_MAX, true))
        }
        other => panic!("{other:?}"),
    }
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["limits"]["distinct_values_per_slot"], POOL_MAX);
    assert_eq!(json["limits"]["max_statement_bytes"], MAX_STATEMENT_BYTES);
}

#[test]
fn placeholders_without_a_logged_value_become_null() {
    let m = learn(
        vec![
            ev("a", 0.0, "SELECT * FROM t WHERE a = $1 AND b = $2"),
            ev("a", 1.0, "SELECT * FROM t WHERE a = $1 AND b = 5"),
        ],
        1,
    );
    m.check().unwrap();
    let t = &m.templates[0];
    let values = |k: usize| match &t.slots[k] {
        SlotModel::Categorical { values, .. } => values.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(values(0), ["NULL"]);
    assert_eq!(values(1), ["5"], "the unbound value is not counted");
}

#[test]
fn overflowing_weights_and_wild_lengths_are_refused() {
    let mut m = learn(vec![ev("a", 0.0, "SELECT 1"), ev("a", 1.0, "SELECT 1")], 1);
    m.check().unwrap();
    m.templates[0].slots[0] = SlotModel::Categorical {
        values: vec!["1".into(), "2".into()],
        weights: vec![u64::MAX, 1],
    };
    assert!(m.check().unwrap_err().contains("weights"));
    let mut m = learn(vec![ev("a", 0.0, "SELECT 1")], 1);
    m.session_length.quantiles = vec![1.0, 1e12];
    assert!(m.check().unwrap_err().contains("session_length"));
}
