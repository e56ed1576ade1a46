//! Parsing and validation of `workload.yaml` (a bad file for each rule), and the
//! generators' distributions checked statistically.

use super::gen::{Ctx, Gen, State, TableRange, MAX_ROW_BYTES, MAX_STRING_LENGTH};
use super::*;
use statrs::distribution::{ChiSquared, ContinuousCDF, Exp, Normal};

/// A workload folder in a temp dir with `yaml` and some SQL files.
fn folder(name: &str, yaml: &str) -> tempfile::TempDir {
    let d = tempfile::Builder::new().prefix("sbdecl").tempdir().unwrap();
    let dir = d.path().join(name);
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join(FILE_NAME), yaml).unwrap();
    std::fs::write(
        dir.join("schema.sql"),
        "CREATE TABLE IF NOT EXISTS t_accounts (id bigint, balance bigint);\nCREATE TABLE t_log (x int);\n",
    )
    .unwrap();
    d
}

fn compile(yaml: &str) -> Result<Spec, Vec<String>> {
    let d = folder("wl", yaml);
    spec::load(&d.path().join("wl"), 2)
}

fn errors(yaml: &str) -> String {
    compile(yaml).expect_err("should be rejected").join("\n")
}

const GOOD: &str = r#"
description: test
schema: {create: schema.sql}
data:
  - table: t_accounts
    rows_per_scale: 10
    columns:
      id: {sequence: {}}
      balance: {uniform: {min: 0, max: 100}}
transactions:
  - name: read
    statements:
      - sql: SELECT balance FROM t_accounts WHERE id = $1
        params: [{foreign_key: t_accounts}]
  - name: move
    isolation: repeatable_read
    vars:
      amount: {uniform: {min: 1, max: 10}}
    statements:
      - name: debit
        sql: UPDATE t_accounts SET balance = balance - $2 WHERE id = $1 RETURNING id
        params: [{foreign_key: t_accounts}, {var: amount}]
      - sql: INSERT INTO t_log (x) VALUES ($1 + $2 * 0)
        params: [{returned: debit.id}, {var: amount}]
modes:
  read: {read: 1}
  mixed: {read: 3, move: 1}
"#;

#[test]
fn a_good_file_compiles() {
    let s = compile(GOOD).unwrap();
    assert_eq!(s.name, "wl");
    assert_eq!(s.data[0].rows, 20, "rows_per_scale x scale");
    assert_eq!(
        s.data[0].copy_sql,
        "COPY t_accounts (id, balance) FROM STDIN"
    );
    assert_eq!(s.tables, vec!["t_accounts", "t_log"]);
    assert_eq!(s.mode_names(), vec!["read", "mixed"]);
    assert_eq!(s.weights("mixed").unwrap(), &[3.0, 1.0]);
    let mv = &s.transactions[1];
    assert_eq!(
        mv.begin.as_deref(),
        Some("BEGIN ISOLATION LEVEL REPEATABLE READ")
    );
    assert!(
        s.transactions[0].begin.is_none(),
        "one statement: autocommit"
    );
    assert_eq!(mv.statements[0].captures, vec![("id".to_string(), 0)]);
    assert!(matches!(
        mv.statements[1].params[0],
        spec::Param::Returned(0)
    ));
    assert!(matches!(mv.statements[1].params[1], spec::Param::Var(0)));
}

#[test]
fn unknown_keys_are_rejected_with_their_path() {
    let e = errors(&GOOD.replace("description: test", "description: test\nwieghts: 1"));
    assert!(
        e.contains("workload.yaml: wieghts: unknown key 'wieghts'"),
        "{e}"
    );
    let e = errors(&GOOD.replace("isolation: repeatable_read", "isolaton: repeatable_read"));
    assert!(e.contains("transactions[1].isolaton: unknown key"), "{e}");
    let e = errors(&GOOD.replace(
        "{uniform: {min: 0, max: 100}}",
        "{uniform: {min: 0, maks: 100}}",
    ));
    assert!(
        e.contains("data[0].columns.balance.uniform.maks: unknown key"),
        "{e}"
    );
}

#[test]
fn parameter_count_must_match_the_statement() {
    let e = errors(&GOOD.replace(
        "params: [{foreign_key: t_accounts}]",
        "params: [{foreign_key: t_accounts}, {uniform: {min: 1, max: 2}}]",
    ));
    assert!(
        e.contains("transactions[0].statements[0].params: the SQL uses 1 parameter ($1..$1) but params lists 2"),
        "{e}"
    );
    let e = errors(&GOOD.replace("WHERE id = $1", "WHERE id = $2"));
    assert!(e.contains("but params lists 1"), "{e}");
}

#[test]
fn generators_must_reference_existing_tables() {
    let e = errors(&GOOD.replace(
        "params: [{foreign_key: t_accounts}]",
        "params: [{foreign_key: t_acounts}]",
    ));
    assert!(
        e.contains("transactions[0].statements[0].params[0].foreign_key.table: no table 't_acounts' in data")
            && e.contains("tables in data: t_accounts"),
        "{e}"
    );
}

#[test]
fn modes_must_name_known_transactions() {
    let e = errors(&GOOD.replace("mixed: {read: 3, move: 1}", "mixed: {read: 3, mvoe: 1}"));
    assert!(
        e.contains("modes.mixed.mvoe: unknown transaction 'mvoe'; transactions: read, move"),
        "{e}"
    );
    let e = errors(&GOOD.replace("read: {read: 1}", "read: {read: 0}"));
    assert!(
        e.contains("modes.read: no transaction has a positive weight"),
        "{e}"
    );
}

#[test]
fn references_must_resolve() {
    let e = errors(&GOOD.replace(
        "{var: amount}]\n      - sql: INSERT",
        "{var: amont}]\n      - sql: INSERT",
    ));
    assert!(e.contains(".params[1].var: no variable 'amont'"), "{e}");
    let e = errors(&GOOD.replace("returned: debit.id", "returned: credit.id"));
    assert!(e.contains("no earlier statement named 'credit'"), "{e}");
    let e = errors(&GOOD.replace("returned: debit.id", "returned: debit"));
    assert!(e.contains("must be STATEMENT.COLUMN"), "{e}");
}

#[test]
fn bad_generators_say_what_to_fix() {
    let bad = |g: &str| errors(&GOOD.replace("{uniform: {min: 0, max: 100}}", g));
    assert!(bad("{unifrom: {min: 0, max: 1}}").contains("unknown generator 'unifrom'"));
    assert!(bad("{uniform: {min: 5, max: 1}}").contains("max (1) is less than min (5)"));
    assert!(bad("{gaussian: {mean: 5}}").contains("gaussian.stddev: missing"));
    assert!(bad("{choice: {values: [a, b], weights: [1]}}").contains("1 weights for 2 values"));
    assert!(bad("{choice: [a, 1]}").contains("mixes"));
    assert!(bad("{timestamp: {from: yesterday, to: now}}").contains("'yesterday' is not a date"));
    assert!(bad("{vector: {dimensions: 3}}").contains("add vector (the pgvector extension)"));
    assert!(bad("{same_as: nope}").contains("no earlier column 'nope'"));
    assert!(
        bad("{uniform: {min: 0, max: 1}, zipfian: {min: 0, max: 1}}")
            .contains("more than one generator")
    );
    assert!(bad("42").contains("expected a generator"));
}

#[test]
fn files_and_sql_problems_are_reported() {
    let e = errors(&GOOD.replace("create: schema.sql", "create: [schema.sql, missing.sql]"));
    assert!(
        e.contains("schema.create[1]: cannot read missing.sql"),
        "{e}"
    );
    let e = errors(&GOOD.replace("schema: {create: schema.sql}\n", ""));
    assert!(
        e.contains("schema.create: missing; data needs tables"),
        "{e}"
    );
    let e = errors("transactions: []\n");
    assert!(
        e.contains("transactions: give at least one transaction"),
        "{e}"
    );
    let e = errors("[1, 2]");
    assert!(e.contains("must be a YAML mapping"), "{e}");
    let e = errors("a: [");
    assert!(e.contains("YAML syntax"), "{e}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let yaml = GOOD
        .replace("description: test", "description: test\nbogus: 1")
        .replace("mixed: {read: 3, move: 1}", "mixed: {nope: 1}")
        .replace("WHERE id = $1", "WHERE id = $1 AND $2 > 0");
    let es = compile(&yaml).err().unwrap();
    assert!(es.len() >= 3, "{es:#?}");
    assert!(es.iter().all(|e| e.contains("workload.yaml: ")), "{es:#?}");
}

#[test]
fn weights_without_modes_make_a_default_mode() {
    let yaml = GOOD
        .split("modes:")
        .next()
        .unwrap()
        .replace("  - name: move\n", "  - name: move\n    weight: 3\n");
    let s = compile(&yaml).unwrap();
    assert_eq!(s.modes, vec![("default".to_string(), vec![1.0, 3.0])]);
    let e = errors(&GOOD.replace("  - name: move\n", "  - name: move\n    weight: 3\n"));
    assert!(
        e.contains("transactions[1].weight: only used when there are no modes"),
        "{e}"
    );
}

#[test]
fn schema_files_get_the_scale() {
    let d = folder("wl", &GOOD.replace("create: schema.sql", "create: s2.sql"));
    std::fs::write(
        d.path().join("wl/s2.sql"),
        "CREATE TABLE t_accounts (id bigint CHECK (id <= {{rows.t_accounts}}), s int DEFAULT {{scale}});",
    )
    .unwrap();
    let s = spec::load(&d.path().join("wl"), 3).unwrap();
    assert!(
        s.create[0].1.contains("id <= 30), s int DEFAULT 3"),
        "{}",
        s.create[0].1
    );
}

#[test]
fn discovery_ignores_folders_without_workload_yaml_and_names_clashes() {
    let d = folder("mine", GOOD);
    std::fs::create_dir(d.path().join("sql_only")).unwrap();
    let found = discover(&[d.path().to_path_buf()]).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, "mine");
    assert_eq!(found[0].modes, vec!["read", "mixed"]);
    let mut reg = crate::workloads::registry();
    reg.extend(found).unwrap();
    assert!(reg.resolve("mine_mixed", None).is_ok());

    let spelled = folder("simple_read", GOOD);
    let found = discover(&[spelled.path().to_path_buf()]).unwrap();
    let e = crate::workloads::registry()
        .extend(found)
        .unwrap_err()
        .join("");
    assert!(
        e.contains("clashes with workload 'simple' in mode 'read' (built-in)"),
        "{e}"
    );

    let clash = folder("simple", GOOD);
    let found = discover(&[clash.path().to_path_buf()]).unwrap();
    let e = crate::workloads::registry()
        .extend(found)
        .unwrap_err()
        .join("");
    assert!(
        e.contains("workload 'simple' in")
            && e.contains("clashes with the built-in workload 'simple'"),
        "{e}"
    );
}

#[test]
fn an_invalid_workload_is_listed_and_fails_to_build_with_its_problems() {
    let d = folder("broken", &GOOD.replace("WHERE id = $1", "WHERE id = $3"));
    let found = discover(&[d.path().to_path_buf()]).unwrap();
    assert!(
        found[0].description.starts_with("INVALID (2 problems"),
        "{}",
        found[0].description
    );
    let p = WorkloadParams {
        mode: "read".into(),
        scale: 1,
        section: serde_yaml::Value::Null,
        seed: 1,
        workers: 1,
        registry: Default::default(),
    };
    let e = (found[0].build)(&p).err().unwrap().join("");
    assert!(e.contains("params lists 1"), "{e}");
}

#[test]
fn modes_drive_the_transaction_mix() {
    let s = compile(GOOD).unwrap();
    let w = Declarative::new(s, "mixed", 1).unwrap();
    assert_eq!(w.kinds(), &["read", "move"]);
    let mut g = w.worker(0, 7);
    let n = 100_000;
    let reads = (0..n).filter(|_| g.next_kind() == 0).count();
    assert!((reads as f64 / n as f64 - 0.75).abs() < 0.01, "{reads}");
    let s = compile(GOOD).unwrap();
    assert!(Declarative::new(s, "nope", 1).is_err());
}

// ---------------------------------------------------------------------------------------
// Generators, statistically (100,000 draws each)

const N: usize = 100_000;

fn gen(yaml: &str, tables: &[TableRange]) -> Gen {
    let v: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
    let mut errors = Vec::new();
    let mut ctx = Ctx {
        tables,
        sequences: 0,
        columns: None,
    };
    let g = gen::parse(&v, "g", &mut ctx, &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    g.unwrap()
}

fn state(seed: u64) -> State {
    State {
        rng: crate::core::rng(seed, 0),
        seqs: vec![0; 4],
        worker: 0,
        row: None,
        cols: Vec::new(),
    }
}

fn ints(g: &Gen) -> Vec<i64> {
    let mut st = state(11);
    (0..N)
        .map(|_| match g.sample(&mut st) {
            Value::Int(v) => v,
            other => panic!("{other:?}"),
        })
        .collect()
}

fn floats(g: &Gen) -> Vec<f64> {
    let mut st = state(12);
    (0..N)
        .map(|_| match g.sample(&mut st) {
            Value::Float(v) => v,
            other => panic!("{other:?}"),
        })
        .collect()
}

/// Pearson's chi-square test of observed counts against expected probabilities; returns
/// the p-value.
fn chi_square_p(observed: &[u64], expected_p: &[f64]) -> f64 {
    let n: u64 = observed.iter().sum();
    let stat: f64 = observed
        .iter()
        .zip(expected_p)
        .map(|(o, p)| {
            let e = p * n as f64;
            (*o as f64 - e).powi(2) / e
        })
        .sum();
    let df = (observed.len() - 1) as f64;
    1.0 - ChiSquared::new(df).unwrap().cdf(stat)
}

/// One-sample Kolmogorov-Smirnov statistic D against `cdf`, with the asymptotic critical
/// value at alpha = 0.001.
fn ks(xs: &mut [f64], cdf: impl Fn(f64) -> f64) -> (f64, f64) {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = xs.len() as f64;
    let d = xs
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let f = cdf(*x);
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max);
    (d, 1.95 / n.sqrt())
}

#[test]
fn uniform_integers_pass_chi_square() {
    let g = gen("{uniform: {min: 1, max: 20}}", &[]);
    let mut counts = vec![0u64; 20];
    for v in ints(&g) {
        assert!((1..=20).contains(&v));
        counts[(v - 1) as usize] += 1;
    }
    let p = chi_square_p(&counts, &[1.0 / 20.0; 20]);
    assert!(p > 0.001, "p = {p}, {counts:?}");
}

#[test]
fn choice_follows_its_weights() {
    let g = gen(
        "{choice: {values: [1, 2, 3, 4], weights: [5, 3, 1.5, 0.5]}}",
        &[],
    );
    let mut counts = vec![0u64; 4];
    for v in ints(&g) {
        counts[(v - 1) as usize] += 1;
    }
    let p = chi_square_p(&counts, &[0.5, 0.3, 0.15, 0.05]);
    assert!(p > 0.001, "p = {p}, {counts:?}");
}

#[test]
fn zipfian_integers_follow_the_power_law() {
    let (n, theta) = (10usize, 0.8f64);
    let g = gen(
        &format!("{{zipfian: {{min: 1, max: {n}, theta: {theta}}}}}"),
        &[],
    );
    let mut counts = vec![0u64; n];
    for v in ints(&g) {
        counts[(v - 1) as usize] += 1;
    }
    // the YCSB algorithm approximates 1/k^theta: check the shape, not a tight fit
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    let z: f64 = (1..=n).map(|k| (k as f64).powf(-theta)).sum();
    let p1 = counts[0] as f64 / N as f64;
    assert!(
        (p1 - 1.0 / z).abs() < 0.02,
        "p(1) = {p1}, expected {}",
        1.0 / z
    );
}

#[test]
fn uniform_floats_pass_ks() {
    let g = gen("{uniform: {min: -2, max: 6, type: float}}", &[]);
    let mut xs = floats(&g);
    let (d, crit) = ks(&mut xs, |x| ((x + 2.0) / 8.0).clamp(0.0, 1.0));
    assert!(d < crit, "D = {d}, critical {crit}");
}

#[test]
fn gaussian_floats_pass_ks() {
    let g = gen("{gaussian: {mean: 50, stddev: 10, type: float}}", &[]);
    let mut xs = floats(&g);
    let normal = Normal::new(50.0, 10.0).unwrap();
    let (d, crit) = ks(&mut xs, |x| normal.cdf(x));
    assert!(d < crit, "D = {d}, critical {crit}");
}

#[test]
fn exponential_floats_pass_ks() {
    let g = gen("{exponential: {mean: 4, type: float}}", &[]);
    let mut xs = floats(&g);
    let exp = Exp::new(0.25).unwrap();
    let (d, crit) = ks(&mut xs, |x| exp.cdf(x));
    assert!(d < crit, "D = {d}, critical {crit}");
}

#[test]
fn gaussian_integers_stay_in_range_and_center() {
    let g = gen(
        "{gaussian: {mean: 100, stddev: 15, min: 60, max: 140}}",
        &[],
    );
    let xs = ints(&g);
    assert!(xs.iter().all(|x| (60..=140).contains(x)));
    let mean = xs.iter().sum::<i64>() as f64 / N as f64;
    assert!((mean - 100.0).abs() < 0.3, "{mean}");
}

#[test]
fn floats_round_to_decimals() {
    let g = gen(
        "{uniform: {min: 0, max: 100, type: float, decimals: 2}}",
        &[],
    );
    let mut st = state(1);
    for _ in 0..1000 {
        let Value::Float(x) = g.sample(&mut st) else {
            panic!()
        };
        assert!(((x * 100.0).round() - x * 100.0).abs() < 1e-6, "{x}");
    }
}

#[test]
fn foreign_keys_cover_the_referenced_range_uniformly() {
    let tables = [TableRange {
        name: "t".into(),
        rows: 50,
        sequences: vec![("id".into(), 1000, 10)],
    }];
    let g = gen("{foreign_key: t}", &tables);
    let mut counts = vec![0u64; 50];
    for v in ints(&g) {
        assert!((v - 1000) % 10 == 0 && (1000..1500).contains(&v), "{v}");
        counts[((v - 1000) / 10) as usize] += 1;
    }
    let p = chi_square_p(&counts, &[1.0 / 50.0; 50]);
    assert!(p > 0.001, "p = {p}");
}

#[test]
fn booleans_and_nulls_follow_their_ratios() {
    let g = gen("{boolean: {true_ratio: 0.3}, null_ratio: 0.2}", &[]);
    let mut st = state(3);
    let (mut t, mut f, mut n) = (0u64, 0u64, 0u64);
    for _ in 0..N {
        match g.sample(&mut st) {
            Value::Bool(true) => t += 1,
            Value::Bool(false) => f += 1,
            Value::Null => n += 1,
            other => panic!("{other:?}"),
        }
    }
    let p = chi_square_p(&[t, f, n], &[0.8 * 0.3, 0.8 * 0.7, 0.2]);
    assert!(p > 0.001, "p = {p} {t} {f} {n}");
}

#[test]
fn timestamps_and_dates_stay_in_range() {
    let g = gen(
        "{timestamp: {from: \"2024-01-01\", to: \"2024-01-02 00:00:00\"}}",
        &[],
    );
    let d = gen("{date: {from: \"2024-02-27\", to: \"2024-03-01\"}}", &[]);
    let mut st = state(4);
    for _ in 0..1000 {
        let Value::Text(t) = g.sample(&mut st) else {
            panic!()
        };
        assert!(
            t.starts_with("2024-01-01 ") || t == "2024-01-02 00:00:00+00",
            "{t}"
        );
        let Value::Text(x) = d.sample(&mut st) else {
            panic!()
        };
        assert!(
            ["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01"].contains(&x.as_str()),
            "{x}"
        );
    }
}

#[test]
fn text_generators_produce_what_they_say() {
    let mut st = state(5);
    let email = gen("{fake: email}", &[]);
    let Value::Text(e) = email.sample(&mut st) else {
        panic!()
    };
    assert!(e.contains('@'), "{e}");
    let sentence = gen("{fake: {kind: sentence, min: 3, max: 5}}", &[]);
    let Value::Text(s) = sentence.sample(&mut st) else {
        panic!()
    };
    let words = s.split_whitespace().count();
    assert!((3..=5).contains(&words), "{s}");
    let uuid = gen("{uuid: {}}", &[]);
    let Value::Text(u) = uuid.sample(&mut st) else {
        panic!()
    };
    assert_eq!(u.len(), 36);
    assert_eq!(&u[14..15], "4");
    let s = gen("{string: {min_length: 5, max_length: 5}}", &[]);
    let Value::Text(x) = s.sample(&mut st) else {
        panic!()
    };
    assert!(x.len() == 5 && x.chars().all(|c| c.is_ascii_alphanumeric()));
    let v = gen("{vector: {dimensions: 4, min: 0, max: 1}}", &[]);
    let Value::Text(x) = v.sample(&mut st) else {
        panic!()
    };
    assert!(
        x.starts_with('[') && x.ends_with(']') && x.split(',').count() == 4,
        "{x}"
    );
    let a = gen(
        "{array: {of: {choice: [\"a b\", 'c\"d']}, min_length: 2, max_length: 2}}",
        &[],
    );
    let Value::Text(x) = a.sample(&mut st) else {
        panic!()
    };
    assert!(x.starts_with("{\"") && x.ends_with("\"}"), "{x}");
}

#[test]
fn json_nests_objects_and_arrays() {
    let g = gen(
        "{json: {id: {sequence: {}}, name: {fake: first_name}, tags: {array: {of: {fake: word}, min_length: 2, max_length: 2}}, inner: {json: {ok: {boolean: {}}}}}}",
        &[],
    );
    let mut st = state(6);
    let Value::Text(j) = g.sample(&mut st) else {
        panic!()
    };
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert!(v["id"].is_i64() && v["name"].is_string(), "{j}");
    assert_eq!(v["tags"].as_array().unwrap().len(), 2, "{j}");
    assert!(v["inner"]["ok"].is_boolean(), "{j}");
}

#[test]
fn run_time_sequences_are_unique_across_workers() {
    let g = gen("{sequence: {start: 100}}", &[]);
    let mut seen = std::collections::HashSet::new();
    for w in 0..4 {
        let mut st = state(w);
        st.worker = w as i64;
        for _ in 0..1000 {
            let Value::Int(v) = g.sample(&mut st) else {
                panic!()
            };
            assert!(v >= 100 && seen.insert(v), "{v}");
        }
    }
}

#[test]
fn loaded_rows_are_repeatable_copy_text() {
    let s = compile(GOOD).unwrap();
    let t = &s.data[0];
    let mut a = BytesMut::new();
    let mut b = BytesMut::new();
    write_row(t, 9, 5, &mut a);
    write_row(t, 9, 5, &mut b);
    assert_eq!(a, b);
    let line = std::str::from_utf8(&a).unwrap();
    let cols: Vec<&str> = line.trim_end().split('\t').collect();
    assert_eq!(cols[0], "5", "sequence follows the row");
    assert!(cols[1].parse::<i64>().is_ok());
}

/// The problems of one generator compiled alone.
fn gen_errors(yaml: &str) -> String {
    let v: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
    let mut errors = Vec::new();
    let mut ctx = Ctx {
        tables: &[],
        sequences: 0,
        columns: None,
    };
    let g = gen::parse(&v, "g", &mut ctx, &mut errors);
    assert!(g.is_none(), "{yaml} should be refused");
    errors.join("\n")
}

#[test]
fn generator_sizes_are_bounded() {
    let e = gen_errors("{string: {max_length: 1000000000}}");
    assert!(
        e.contains("g.string.max_length: must be at most 1000000 (got 1000000000)"),
        "{e}"
    );
    let e = gen_errors("{string: {min_length: 2000000}}");
    assert!(e.contains("max_length: must be at most 1000000"), "{e}");
    let e = gen_errors("{array: {of: {uuid: {}}, max_length: 100000000}}");
    assert!(
        e.contains("g.array.max_length: must be at most 10000 (got 100000000)"),
        "{e}"
    );
    let e = gen_errors("{fake: {kind: paragraph, min: 1, max: 18446744073709551615}}");
    assert!(e.contains("g.fake.max: must be at most 1000"), "{e}");
    // each length within its limit, but they multiply when arrays nest
    let e = gen_errors(
        "{array: {of: {array: {of: {string: {max_length: 100000}}, max_length: 10000}}, max_length: 10000}}",
    );
    assert!(
        e.contains("g.array.of.array: one value can reach") && e.contains("limit of 16 MiB"),
        "{e}"
    );
    let e = gen_errors("{json: {a: {string: {max_length: 1000000}}, b: {array: {of: {string: {max_length: 1000000}}, max_length: 10}}}}");
    assert!(e.contains("g.json.b.array: one value can reach"), "{e}");
    // the limits themselves compile and generate
    let g = gen("{string: {min_length: 1000000, max_length: 1000000}}", &[]);
    assert!(matches!(g.sample(&mut state(1)), Value::Text(s) if s.len() == MAX_STRING_LENGTH));
}

#[test]
fn rows_and_transactions_are_bounded() {
    let big = "{string: {max_length: 1000000}}";
    let mut cols = String::new();
    let n = (MAX_ROW_BYTES / 1_000_000) as usize + 1;
    for i in 0..n {
        cols.push_str(&format!("      c{i}: {big}\n"));
    }
    let yaml = GOOD.replace(
        "      balance: {uniform: {min: 0, max: 100}}\n",
        &format!("      balance: {{uniform: {{min: 0, max: 100}}}}\n{cols}"),
    );
    let e = errors(&yaml);
    assert!(e.contains("data[0]: one row can reach"), "{e}");
    let params: Vec<&str> = vec![big; n];
    let placeholders: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    let yaml = GOOD.replace(
        "      - sql: SELECT balance FROM t_accounts WHERE id = $1\n        params: [{foreign_key: t_accounts}]",
        &format!(
            "      - sql: SELECT concat({})\n        params: [{}]",
            placeholders.join(", "),
            params.join(", ")
        ),
    );
    let e = errors(&yaml);
    assert!(
        e.contains("transactions[0]: the values drawn for one transaction can reach"),
        "{e}"
    );
    let e = errors(&GOOD.replace("rows_per_scale: 10", "rows: 2000000000000"));
    assert!(
        e.contains(
            "data[0]: 2000000000000 rows at scale 2 is above the limit of 1000000000000 rows"
        ),
        "{e}"
    );
}

#[test]
fn non_finite_and_out_of_range_bounds_are_refused() {
    for (g, want) in [
        (
            "{uniform: {min: .nan, max: 10}}",
            "g.uniform.min: must be a finite number (got NaN)",
        ),
        (
            "{uniform: {min: 0, max: .inf}}",
            "g.uniform.max: must be a finite number (got inf)",
        ),
        (
            "{uniform: {min: -.inf, max: 1, type: float}}",
            "g.uniform.min: must be a finite number",
        ),
        (
            "{zipfian: {min: 1, max: .inf}}",
            "g.zipfian.max: must be a finite number",
        ),
        (
            "{gaussian: {mean: .nan, stddev: 1}}",
            "g.gaussian.mean: must be a finite number",
        ),
        (
            "{gaussian: {mean: 0, stddev: .inf}}",
            "g.gaussian.stddev: must be a finite number",
        ),
        (
            "{exponential: {mean: .inf}}",
            "g.exponential.mean: must be a finite number",
        ),
        (
            "{vector: {dimensions: 3, min: .nan}}",
            "g.vector.min: must be a finite number",
        ),
        (
            "{vector: {dimensions: 3, min: 1, max: 0}}",
            "g.vector: max (0) is less than min (1)",
        ),
        (
            "{uniform: {min: -1e19, max: 0}}",
            "g.uniform.min: -10000000000000000000 is beyond the 64-bit integer range",
        ),
        (
            "{uniform: {min: 0, max: 9223372036854775808}}",
            "g.uniform.max: 9223372036854776000 is beyond the 64-bit integer range",
        ),
        (
            "{timestamp: {from: now-300000y, to: now}}",
            "g.timestamp.from: 'now-300000y' is outside the years 1 to 9999",
        ),
        (
            "{date: {from: 2020-01-01, to: now+100000000y}}",
            "g.date.to: 'now+100000000y' is outside the years 1 to 9999",
        ),
    ] {
        let e = gen_errors(g);
        assert!(e.contains(want), "{g}: want {want:?} in {e}");
    }
    // a float generator may go beyond the integer range
    let g = gen("{uniform: {min: -1e19, max: 1e19, type: float}}", &[]);
    assert!(matches!(g.sample(&mut state(1)), Value::Float(x) if x.abs() <= 1e19));
}

#[test]
fn a_loaded_sequence_that_leaves_its_column_type_is_refused() {
    // t_accounts.id is bigint: 20 rows from near the top overflow the generator itself
    let e = errors(&GOOD.replace(
        "id: {sequence: {}}",
        "id: {sequence: {start: 9223372036854775800}}",
    ));
    assert!(
        e.contains("data[0].columns.id.sequence: reaches 9223372036854775819 at row 20 of 20 (start 9223372036854775800, step 1), beyond the bigint limit 9223372036854775807"),
        "{e}"
    );
    let e = errors(&GOOD.replace(
        "id: {sequence: {}}",
        "id: {sequence: {start: -5, step: -922337203685477580}}",
    ));
    assert!(
        e.contains("beyond the bigint limit -9223372036854775808"),
        "{e}"
    );
    // t_log.x is int: the limit is the column's, found in the schema file
    let log =
        "  - table: t_log\n    rows: 20\n    columns:\n      x: {sequence: {start: 2147483640}}\n";
    let yaml = GOOD.replace("transactions:\n", &format!("{log}transactions:\n"));
    let e = errors(&yaml);
    assert!(
        e.contains("data[1].columns.x.sequence: reaches 2147483659 at row 20 of 20 (start 2147483640, step 1), beyond the integer limit 2147483647"),
        "{e}"
    );
    // the largest start that fits is accepted
    assert!(compile(&yaml.replace("2147483640", "2147483628")).is_ok());
}

#[test]
fn a_run_time_sequence_past_bigint_fails_its_transaction_instead_of_wrapping() {
    let g = gen("{sequence: {start: 9223372036854775000, step: 1000}}", &[]);
    let mut st = state(1);
    assert_eq!(g.sample(&mut st), Value::Int(9_223_372_036_854_775_000));
    // the next value of worker 0 is start + step * 65,536
    let Value::Missing(msg) = g.sample(&mut st) else {
        panic!("wrapped around instead of failing")
    };
    assert!(
        msg.contains("g.sequence: the sequence passed the bigint range"),
        "{msg}"
    );
    let mut b = BytesMut::new();
    use tokio_postgres::types::{ToSql as _, Type};
    let Err(e) = Value::Missing(msg).to_sql_checked(&Type::INT8, &mut b) else {
        panic!("bound a missing value")
    };
    assert!(e.to_string().contains("bigint range"), "{e}");
}

#[test]
fn oversized_and_deep_workload_files_are_refused() {
    let d = folder("wl", GOOD);
    let dir = d.path().join("wl");
    std::fs::write(dir.join(FILE_NAME), "# pad\n".repeat(200_000)).unwrap();
    let e = spec::load(&dir, 1).unwrap_err().join("\n");
    assert!(e.contains("workload.yaml: larger than 1 MiB"), "{e}");
    // listing a workload that does not compile reads its modes through the same limits
    std::fs::write(
        dir.join(FILE_NAME),
        "modes: ".to_string() + &"{a: ".repeat(100_000),
    )
    .unwrap();
    let t0 = std::time::Instant::now();
    let e = spec::load(&dir, 1).unwrap_err().join("\n");
    assert!(e.contains("line 1: nesting deeper than 64 levels"), "{e}");
    assert_eq!(info(&dir).modes, vec!["default"]);
    assert!(t0.elapsed() < std::time::Duration::from_secs(5));
    // a SQL file that never ends
    std::fs::write(
        dir.join(FILE_NAME),
        GOOD.replace("create: schema.sql", "create: zero.sql"),
    )
    .unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.sql")).unwrap();
    let e = spec::load(&dir, 1).unwrap_err().join("\n");
    assert!(
        e.contains("schema.create: zero.sql is larger than 1 MiB"),
        "{e}"
    );
}
