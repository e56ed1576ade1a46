//! Generators: their distributions (chi-square and Kolmogorov-Smirnov), ranges and
//! bounds.

use super::super::value::OutKind;
use super::*;
use statrs::distribution::{ChiSquared, ContinuousCDF, Exp, LogNormal, Normal};

const N: usize = 100_000;

fn gen(yaml: &str, tables: &[TableRange]) -> Gen {
    let v: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
    let mut errors = Vec::new();
    let mut ctx = Ctx {
        dir: std::path::Path::new("."),
        tables,
        sequences: 0,
        columns: None,
        column_gens: &[],
        parents: &[],
    };
    let g = gen::parse(&v, "g", &mut ctx, &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    g.unwrap()
}

pub(super) fn state(seed: u64) -> State {
    State {
        rng: crate::core::rng(seed, 0),
        seqs: vec![0; 4],
        worker: 0,
        row: None,
        cols: Vec::new(),
        cluster: 0,
        seed: 1,
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
        ..Default::default()
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
    let Value::Vector(x) = v.sample(&mut st) else {
        panic!()
    };
    assert!(
        x.len() == 4 && x.iter().all(|v| (0.0..=1.0).contains(v)),
        "{x:?}"
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
    write_row(t, 9, 0, 5, &mut a);
    write_row(t, 9, 0, 5, &mut b);
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
        dir: std::path::Path::new("."),
        tables: &[],
        sequences: 0,
        columns: None,
        column_gens: &[],
        parents: &[],
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
        e.contains("schema.create: zero.sql is not a regular file"),
        "{e}"
    );
    // a pipe nobody writes is refused, not waited on
    std::fs::write(
        dir.join(FILE_NAME),
        GOOD.replace("create: schema.sql", "create: pipe.sql"),
    )
    .unwrap();
    assert!(std::process::Command::new("mkfifo")
        .arg(dir.join("pipe.sql"))
        .status()
        .unwrap()
        .success());
    let e = spec::load(&dir, 1).unwrap_err().join("\n");
    assert!(e.contains("pipe.sql is not a regular file"), "{e}");
    // a file larger than the limit
    std::fs::write(
        dir.join(FILE_NAME),
        GOOD.replace("create: schema.sql", "create: big.sql"),
    )
    .unwrap();
    std::fs::write(dir.join("big.sql"), "-- x\n".repeat(300_000)).unwrap();
    let e = spec::load(&dir, 1).unwrap_err().join("\n");
    assert!(
        e.contains("schema.create: big.sql is larger than 1 MiB"),
        "{e}"
    );
}

#[test]
fn clustered_vectors_carry_their_cluster_to_labels() {
    let v = gen(
        "{vector: {dimensions: 16, clusters: 40, spread: 0.2, skew: 1.0, seed: 7}}",
        &[],
    );
    let label = gen("{cluster_of: {buckets: 10, mislabel: 0.1}}", &[]);
    let mut st = state(5);
    let mut agree = 0usize;
    let mut per_cluster = [0usize; 40];
    for _ in 0..N {
        let Value::Vector(x) = v.sample(&mut st) else {
            panic!("not a vector")
        };
        assert_eq!(x.len(), 16);
        let c = st.cluster;
        per_cluster[c as usize] += 1;
        let Value::Int(l) = label.sample(&mut st) else {
            panic!("not an integer")
        };
        assert!((1..=10).contains(&l));
        agree += usize::from(l == i64::from(c % 10) + 1);
    }
    // 90% keep their cluster's label, and a tenth of the mislabelled land on it anyway
    let share = agree as f64 / N as f64;
    assert!((share - 0.91).abs() < 0.005, "{share}");
    // skew 1: cluster 0 is drawn about twice as often as cluster 1
    let ratio = per_cluster[0] as f64 / per_cluster[1] as f64;
    assert!((ratio - 2.0).abs() < 0.1, "{ratio}");
}

#[test]
fn file_vectors_follow_the_row_when_loading_and_stay_in_range_at_run_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    for r in 0..10u32 {
        bytes.extend_from_slice(&2i32.to_le_bytes());
        bytes.extend_from_slice(&(r as f32).to_le_bytes());
        bytes.extend_from_slice(&(-(r as f32)).to_le_bytes());
    }
    std::fs::write(dir.path().join("v.fvecs"), bytes).unwrap();
    let v: serde_yaml::Value =
        serde_yaml::from_str("{vector: {file: v.fvecs, first_row: 2, rows: 5}}").unwrap();
    let mut errors = Vec::new();
    let mut ctx = Ctx {
        dir: dir.path(),
        tables: &[],
        sequences: 0,
        columns: None,
        column_gens: &[],
        parents: &[],
    };
    let g = gen::parse(&v, "g", &mut ctx, &mut errors).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    let mut st = state(1);
    let first = |v: Value| match v {
        Value::Vector(x) => x[0],
        _ => panic!("not a vector"),
    };
    // loading: row n is file row 2 + (n - 1) % 5
    for (n, want) in [(1u64, 2.0f32), (5, 6.0), (6, 2.0)] {
        st.row = Some(n);
        assert_eq!(first(g.sample(&mut st)), want);
    }
    st.row = None;
    for _ in 0..1000 {
        let x = first(g.sample(&mut st));
        assert!((2.0..=6.0).contains(&x), "{x}");
    }
    // beyond the file, and a dimension that disagrees, are refused
    for (yaml, msg) in [
        (
            "{vector: {file: v.fvecs, first_row: 8, rows: 5}}",
            "rows 8..13 are not all in v.fvecs",
        ),
        (
            "{vector: {file: v.fvecs, dimensions: 3}}",
            "holds vectors of 2 dimensions",
        ),
        ("{vector: {file: nope.npy}}", "g.vector.file: vector file"),
    ] {
        let v: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
        let mut errors = Vec::new();
        gen::parse(&v, "g", &mut ctx, &mut errors);
        assert!(errors.join(" ").contains(msg), "{yaml}: {errors:?}");
    }
}

// ---------------------------------------------------------------------------------------
// lognormal, recent-skewed times, scrambled zipfians, text, and the row generators
// (template, pick, derived)

#[test]
fn lognormal_floats_pass_ks() {
    for (yaml, mu) in [
        ("{lognormal: {mu: 1.5, sigma: 0.6, type: float}}", 1.5),
        (
            "{lognormal: {median: 20, sigma: 0.6, type: float}}",
            20f64.ln(),
        ),
    ] {
        let g = gen(yaml, &[]);
        let mut xs = floats(&g);
        let law = LogNormal::new(mu, 0.6).unwrap();
        let (d, crit) = ks(&mut xs, |x| law.cdf(x));
        assert!(d < crit, "{yaml}: D = {d}, critical {crit}");
    }
}

#[test]
fn lognormal_integers_pass_chi_square_within_their_range() {
    let g = gen(
        "{lognormal: {median: 20, sigma: 0.5, min: 5, max: 60}}",
        &[],
    );
    let law = LogNormal::new(20f64.ln(), 0.5).unwrap();
    // integers are rounded draws, redrawn outside [min, max]: k has the mass of
    // [k - 0.5, k + 0.5) within [4.5, 60.5)
    let inside = law.cdf(60.5) - law.cdf(4.5);
    let expected: Vec<f64> = (5..=60)
        .map(|k| (law.cdf(k as f64 + 0.5) - law.cdf(k as f64 - 0.5)) / inside)
        .collect();
    let mut counts = vec![0u64; 56];
    for v in ints(&g) {
        assert!((5..=60).contains(&v), "{v}");
        counts[(v - 5) as usize] += 1;
    }
    let p = chi_square_p(&counts, &expected);
    assert!(p > 0.001, "p = {p}, {counts:?}");
}

/// Seconds since the epoch of a generated timestamp.
fn epoch_seconds(v: Value) -> i64 {
    let Value::Text(t) = v else { panic!("{v:?}") };
    chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S+00")
        .unwrap()
        .and_utc()
        .timestamp()
}

#[test]
fn recent_timestamps_follow_the_truncated_exponential() {
    let g = gen(
        "{timestamp: {from: \"2024-01-01\", to: \"2025-01-01\", skew: recent, half_life: 30d}}",
        &[],
    );
    let (from, to) = (1_704_067_200i64, 1_735_689_600i64);
    let rate = std::f64::consts::LN_2 / (30.0 * 86_400.0);
    let mass = 1.0 - (-rate * (to - from + 1) as f64).exp();
    let mut st = state(21);
    let mut ages: Vec<f64> = (0..N)
        .map(|_| {
            let s = epoch_seconds(g.sample(&mut st));
            assert!((from..=to).contains(&s), "{s}");
            (to - s) as f64
        })
        .collect();
    // about half the times are within one half-life of 'to'
    let recent = ages.iter().filter(|a| **a < 30.0 * 86_400.0).count() as f64 / N as f64;
    assert!((recent - 0.5).abs() < 0.01, "{recent}");
    let (d, crit) = ks(&mut ages, |a| (1.0 - (-rate * a).exp()) / mass);
    assert!(d < crit, "D = {d}, critical {crit}");
}

#[test]
fn recent_dates_pass_chi_square() {
    let g = gen(
        "{date: {from: \"2024-01-01\", to: \"2024-01-31\", skew: recent, half_life: 5d}}",
        &[],
    );
    let rate = std::f64::consts::LN_2 / 5.0;
    let mass = 1.0 - (-rate * 31.0).exp();
    let expected: Vec<f64> = (0..31)
        .map(|k| ((-rate * k as f64).exp() - (-rate * (k + 1) as f64).exp()) / mass)
        .collect();
    let mut counts = vec![0u64; 31];
    let mut st = state(22);
    for _ in 0..N {
        let Value::Text(d) = g.sample(&mut st) else {
            panic!()
        };
        let day: u32 = d.strip_prefix("2024-01-").unwrap().parse().unwrap();
        counts[(31 - day) as usize] += 1;
    }
    let p = chi_square_p(&counts, &expected);
    assert!(p > 0.001, "p = {p}, {counts:?}");
    // the newest day is the densest, the oldest still drawn
    assert!(counts[0] > counts[1] && counts[30] > 0, "{counts:?}");
}

#[test]
fn scrambled_zipfian_keeps_the_frequencies_and_spreads_the_hot_keys() {
    let (n, theta) = (1000usize, 0.99f64);
    let plain = gen("{zipfian: {min: 1, max: 1000, theta: 0.99}}", &[]);
    let scrambled = gen(
        "{zipfian: {min: 1, max: 1000, theta: 0.99, scramble: true}}",
        &[],
    );
    let Gen::Int(gen::NumDist::Zipf {
        scramble: Some(perm),
        ..
    }) = &scrambled
    else {
        panic!("not a scrambled zipfian")
    };
    // the same draws, mapped through the permutation
    let (a, b) = (ints(&plain), ints(&scrambled));
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(*y, perm.apply(*x as u64 - 1) as i64 + 1);
    }
    let mut counts = vec![0u64; n];
    for v in &b {
        assert!((1..=n as i64).contains(v));
        counts[(*v - 1) as usize] += 1;
    }
    let (hot, top) = counts
        .iter()
        .enumerate()
        .max_by_key(|(_, c)| **c)
        .map(|(i, c)| (i as u64 + 1, *c))
        .unwrap();
    let z: f64 = (1..=n).map(|k| (k as f64).powf(-theta)).sum();
    let p1 = top as f64 / N as f64;
    assert!(
        (p1 - 1.0 / z).abs() < 0.005,
        "p(hottest) = {p1}, rank 1: {}",
        1.0 / z
    );
    assert_eq!(hot, perm.apply(0) + 1);
    // the ten hottest keys are not the ten lowest
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|i| std::cmp::Reverse(counts[*i]));
    assert!(
        order[..10].iter().filter(|i| **i < 10).count() <= 2,
        "{:?}",
        &order[..10]
    );
    // another seed, another permutation
    let other = gen(
        "{zipfian: {min: 1, max: 1000, theta: 0.99, scramble: true, seed: 5}}",
        &[],
    );
    assert_ne!(ints(&other)[..100], b[..100]);
}

#[test]
fn scrambled_foreign_keys_into_one_table_share_their_hot_key() {
    let tables = [
        TableRange {
            name: "title".into(),
            rows: 10_000,
            sequences: vec![("id".into(), 1000, 10)],
            ..Default::default()
        },
        TableRange {
            name: "person".into(),
            rows: 10_000,
            sequences: vec![("id".into(), 1000, 10)],
            ..Default::default()
        },
    ];
    let hottest = |yaml: &str| {
        let g = gen(yaml, &tables);
        let mut counts = std::collections::HashMap::new();
        for v in ints(&g) {
            assert!((v - 1000) % 10 == 0 && (1000..101_000).contains(&v), "{v}");
            *counts.entry(v).or_insert(0u64) += 1;
        }
        counts.into_iter().max_by_key(|(_, c)| *c).unwrap()
    };
    let (a, ca) = hottest(
        "{foreign_key: {table: title, distribution: zipfian, theta: 0.99, scramble: true}}",
    );
    let (b, _) =
        hottest("{foreign_key: {table: title, distribution: zipfian, theta: 0.8, scramble: true}}");
    let (c, _) = hottest(
        "{foreign_key: {table: person, distribution: zipfian, theta: 0.99, scramble: true}}",
    );
    let (plain, cp) = hottest("{foreign_key: {table: title, distribution: zipfian, theta: 0.99}}");
    assert_eq!(
        a, b,
        "two foreign keys into title disagree on the hottest row"
    );
    assert_eq!(plain, 1000, "unscrambled, the first row is the hottest");
    assert_ne!(a, 1000, "scrambled, the hottest row is not the first");
    assert_ne!(a, c, "another table has other hot rows");
    // the hottest row is as hot as rank 1 unscrambled
    let (pa, pp) = (ca as f64 / N as f64, cp as f64 / N as f64);
    assert!((pa - pp).abs() < 0.006, "{pa} vs {pp}");
}

/// Least-squares slope of ln(count) over ln(rank), ranks `1..=k`.
fn rank_slope(counts: &[u64], k: usize) -> f64 {
    let pts: Vec<(f64, f64)> = (0..k)
        .map(|i| (((i + 1) as f64).ln(), (counts[i] as f64).ln()))
        .collect();
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / k as f64;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / k as f64;
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    sxy / sxx
}

#[test]
fn text_words_follow_zipf_over_a_fixed_vocabulary() {
    for theta in [1.0f64, 0.5] {
        let g = gen(
            &format!("{{text: {{words: 10, vocabulary: 1000, theta: {theta}, seed: 3}}}}"),
            &[],
        );
        let Gen::Text { vocabulary, .. } = &g else {
            panic!("not text")
        };
        let rank: std::collections::HashMap<&str, usize> = (0..vocabulary.len())
            .map(|i| (vocabulary.word(i), i))
            .collect();
        assert_eq!(rank.len(), 1000, "words are distinct");
        let mut counts = vec![0u64; 1000];
        let (mut with_first, mut with_500th) = (0usize, 0usize);
        let mut st = state(23);
        // 10,000 texts of 10 words: 100,000 words
        for _ in 0..N / 10 {
            let Value::Text(t) = g.sample(&mut st) else {
                panic!()
            };
            let words: Vec<&str> = t.split(' ').collect();
            assert_eq!(words.len(), 10, "{t}");
            for w in &words {
                counts[rank[w]] += 1;
            }
            with_first += usize::from(words.contains(&vocabulary.word(0)));
            with_500th += usize::from(words.contains(&vocabulary.word(499)));
        }
        let weights: Vec<f64> = (1..=1000).map(|k| (k as f64).powf(-theta)).collect();
        let total: f64 = weights.iter().sum();
        // ranks 1..=50 one by one, the rest together
        let mut observed = counts[..50].to_vec();
        observed.push(counts[50..].iter().sum());
        let mut expected: Vec<f64> = weights[..50].iter().map(|w| w / total).collect();
        expected.push(weights[50..].iter().sum::<f64>() / total);
        let p = chi_square_p(&observed, &expected);
        assert!(p > 0.001, "theta {theta}: p = {p}");
        let slope = rank_slope(&counts, 100);
        assert!((slope + theta).abs() < 0.05, "theta {theta}: slope {slope}");
        // common words are in most rows, rare ones in few
        let share = with_first as f64 / (N / 10) as f64;
        let want = 1.0 - (1.0 - weights[0] / total).powi(10);
        assert!(
            (share - want).abs() < 0.015,
            "theta {theta}: {share} vs {want}"
        );
        assert!(with_500th < with_first / 10, "{with_500th} vs {with_first}");
    }
}

#[test]
fn text_vocabularies_are_pronounceable_and_fixed_by_their_seed() {
    let words = |yaml: &str| {
        let Gen::Text { vocabulary, .. } = gen(yaml, &[]) else {
            panic!("not text")
        };
        (0..vocabulary.len())
            .map(|i| vocabulary.word(i).to_string())
            .collect::<Vec<_>>()
    };
    let a = words("{text: {vocabulary: 20000}}");
    assert_eq!(a, words("{text: {vocabulary: 20000, seed: 0}}"));
    assert_eq!(
        a[..5000],
        words("{text: {}}"),
        "a vocabulary's first words do not depend on its size"
    );
    let b = words("{text: {vocabulary: 20000, seed: 1}}");
    assert!(a.iter().zip(&b).filter(|(x, y)| x == y).count() < 100);
    let distinct: std::collections::HashSet<&String> = a.iter().collect();
    assert_eq!(distinct.len(), a.len());
    for w in &a {
        assert!(
            !w.is_empty() && w.bytes().all(|c| c.is_ascii_lowercase()),
            "{w}"
        );
        assert!(w.bytes().any(|c| b"aeiou".contains(&c)), "{w}");
        assert!(
            !["the", "and", "were", "here", "some"].contains(&w.as_str()),
            "{w}"
        );
    }
    // frequent words are short
    assert!(a[..50].iter().all(|w| w.len() <= 6), "{:?}", &a[..50]);
    let mean = |ws: &[String]| ws.iter().map(|w| w.len()).sum::<usize>() as f64 / ws.len() as f64;
    assert!(mean(&a[..50]) < mean(&a[10_000..]), "rare words are longer");
    // counts: a range, a mapping, one number
    let mut st = state(24);
    for (yaml, lo, hi) in [
        ("{text: {words: 2..4}}", 2, 4),
        ("{text: {words: \"0..=3\"}}", 0, 3),
        ("{text: {words: {min: 5, max: 6}}}", 5, 6),
        ("{text: {}}", 5, 20),
    ] {
        let g = gen(yaml, &[]);
        for _ in 0..200 {
            let Value::Text(t) = g.sample(&mut st) else {
                panic!()
            };
            let k = t.split_whitespace().count();
            assert!((lo..=hi).contains(&k), "{yaml}: {t}");
            assert!(t.len() as u64 <= g.max_bytes());
        }
    }
}

/// The generators of a data table's columns, compiled in order as a data table's are (each
/// sees the earlier ones).
fn row_gens(columns: &[(&str, &str)]) -> Vec<Gen> {
    let mut names: Vec<String> = Vec::new();
    let mut gens: Vec<Gen> = Vec::new();
    for (name, yaml) in columns {
        let v: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
        let mut errors = Vec::new();
        let mut ctx = Ctx {
            dir: std::path::Path::new("."),
            tables: &[],
            sequences: 0,
            columns: Some(&names),
            column_gens: &gens,
            parents: &[],
        };
        let g = gen::parse(&v, &format!("c.{name}"), &mut ctx, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        names.push(name.to_string());
        gens.push(g.unwrap());
    }
    gens
}

/// The problems of the last of `columns`, the others compiled before it.
fn row_errors(columns: &[(&str, &str)]) -> String {
    let (last, earlier) = columns.split_last().unwrap();
    let gens = row_gens(earlier);
    let names: Vec<String> = earlier.iter().map(|(n, _)| n.to_string()).collect();
    let v: serde_yaml::Value = serde_yaml::from_str(last.1).unwrap();
    let mut errors = Vec::new();
    let mut ctx = Ctx {
        dir: std::path::Path::new("."),
        tables: &[],
        sequences: 0,
        columns: Some(&names),
        column_gens: &gens,
        parents: &[],
    };
    let g = gen::parse(&v, &format!("c.{}", last.0), &mut ctx, &mut errors);
    assert!(g.is_none(), "{} should be refused", last.1);
    errors.join("\n")
}

/// `n` rows of `gens`, each column seeing the earlier values of its row, as loading does.
fn rows(gens: &[Gen], n: usize, seed: u64) -> Vec<Vec<Value>> {
    let mut st = state(seed);
    (0..n)
        .map(|r| {
            st.row = Some(r as u64 + 1);
            st.cols.clear();
            for g in gens {
                let v = g.sample(&mut st);
                st.cols.push(v);
            }
            std::mem::take(&mut st.cols)
        })
        .collect()
}

#[test]
fn templates_put_earlier_columns_in_their_text() {
    let gens = row_gens(&[
        ("first", "{fake: first_name}"),
        ("last", "{fake: last_name}"),
        ("n", "{uniform: {min: 1, max: 9}}"),
        ("m", "{uniform: {min: 1, max: 3}, null_ratio: 0.5}"),
        (
            "label",
            "{template: \"{last}, {first} (#{n}) [{m}] {not a column} {} {\"}",
        ),
    ]);
    assert_eq!(gens[4].out_kind(), OutKind::Text);
    assert!(gens[4].reads_row());
    let mut nulls = 0u64;
    for row in rows(&gens, N, 25) {
        let text = |v: &Value| match v {
            Value::Text(t) => t.clone(),
            Value::Int(i) => i.to_string(),
            Value::Null => String::new(),
            other => panic!("{other:?}"),
        };
        let want = format!(
            "{}, {} (#{}) [{}] {{not a column}} {{}} {{",
            text(&row[1]),
            text(&row[0]),
            text(&row[2]),
            text(&row[3])
        );
        assert_eq!(row[4], Value::Text(want));
        nulls += u64::from(row[3] == Value::Null);
    }
    let p = chi_square_p(&[nulls, N as u64 - nulls], &[0.5, 0.5]);
    assert!(p > 0.001, "p = {p}, {nulls} NULLs");
    // the bound counts the text and the columns it names
    assert!(gens[4].max_bytes() >= gens[0].max_bytes() + gens[1].max_bytes() + 20);
}

#[test]
fn loaded_rows_keep_their_values_for_templates_and_nested_copies() {
    let yaml = GOOD.replace(
        "      balance: {uniform: {min: 0, max: 100}}\n",
        "      balance: {uniform: {min: 0, max: 100}}\n      label: {template: \"acct {id}: {balance}\"}\n      doc: {json: {of: {same_as: id}}}\n",
    );
    let s = compile(&yaml).unwrap();
    let t = &s.data[0];
    assert!(t.same_as, "the loader must keep the row's values");
    let mut b = BytesMut::new();
    write_row(t, 9, 0, 5, &mut b);
    let line = std::str::from_utf8(&b).unwrap();
    let cols: Vec<&str> = line.trim_end().split('\t').collect();
    assert_eq!(cols[2], format!("acct 5: {}", cols[1]));
    assert_eq!(cols[3], "{\"of\":5}");
    // a copy inside json or behind null_ratio alone also keeps the row's values
    let yaml = GOOD.replace(
        "      balance: {uniform: {min: 0, max: 100}}\n",
        "      balance: {uniform: {min: 0, max: 100}}\n      doc: {json: {of: {same_as: id}}}\n      copy: {same_as: balance, null_ratio: 0.5}\n",
    );
    let s = compile(&yaml).unwrap();
    let t = &s.data[0];
    assert!(t.same_as);
    let mut copied = 0;
    for row in 1..=200 {
        let mut b = BytesMut::new();
        write_row(t, 9, 0, row, &mut b);
        let line = std::str::from_utf8(&b).unwrap();
        let cols: Vec<&str> = line.trim_end().split('\t').collect();
        assert_eq!(cols[2], format!("{{\"of\":{row}}}"));
        if cols[3] != "\\N" {
            assert_eq!(cols[3], cols[1]);
            copied += 1;
        }
    }
    assert!((60..=140).contains(&copied), "{copied}");
}

#[test]
fn pick_draws_from_the_generator_the_earlier_value_names() {
    let gens = row_gens(&[
        ("kind", "{choice: [1, 2, 3, 4]}"),
        (
            "info",
            "{pick: {by: kind, values: {1: {constant: one}, 2: {uniform: {min: 1, max: 10}}, '3': {choice: {values: [a, b], weights: [3, 1]}}}, default: {constant: other}}}",
        ),
        ("genre", "{choice: [drama, comedy], null_ratio: 0.1}"),
        (
            "mood",
            "{pick: {by: genre, values: {drama: {choice: [sad]}, comedy: {choice: [glad]}}}}",
        ),
    ]);
    assert_eq!(gens[1].out_kind(), OutKind::Any, "mixed kinds");
    assert_eq!(gens[3].out_kind(), OutKind::Text);
    let mut kinds = [0u64; 4];
    let mut uniform = [0u64; 10];
    let mut ab = [0u64; 2];
    for row in rows(&gens, N, 26) {
        let Value::Int(k) = row[0] else { panic!() };
        kinds[(k - 1) as usize] += 1;
        match (k, &row[1]) {
            (1, Value::Text(t)) => assert_eq!(t, "one"),
            (2, Value::Int(v)) => uniform[(*v - 1) as usize] += 1,
            (3, Value::Text(t)) => ab[usize::from(t == "b")] += 1,
            (4, Value::Text(t)) => assert_eq!(t, "other"),
            other => panic!("{other:?}"),
        }
        let want = match &row[2] {
            Value::Text(g) if g == "drama" => Value::Text("sad".into()),
            Value::Text(_) => Value::Text("glad".into()),
            _ => Value::Null,
        };
        assert_eq!(row[3], want, "no default: NULL when nothing matches");
    }
    for (obs, exp, what) in [
        (&kinds[..], vec![0.25; 4], "kinds"),
        (&uniform[..], vec![0.1; 10], "the uniform branch"),
        (&ab[..], vec![0.75, 0.25], "the choice branch"),
    ] {
        let p = chi_square_p(obs, &exp);
        assert!(p > 0.001, "{what}: p = {p}, {obs:?}");
    }
}

#[test]
fn derived_columns_apply_multiply_add_and_modulo() {
    let gens = row_gens(&[
        ("x", "{uniform: {min: -500, max: 1000}}"),
        (
            "y",
            "{derived: {column: x, multiply: 3, add: 7, modulo: 10}}",
        ),
        (
            "f",
            "{uniform: {min: 0, max: 1, type: float}, null_ratio: 0.3}",
        ),
        ("g", "{derived: {column: f, multiply: 100, add: 0.5}}"),
        ("h", "{derived: {column: x, multiply: 0.5}}"),
    ]);
    assert_eq!(gens[1].out_kind(), OutKind::Int);
    assert_eq!(gens[3].out_kind(), OutKind::Float);
    assert_eq!(gens[4].out_kind(), OutKind::Float);
    // (3x + 7) mod 10 over x uniform in -500..=1000
    let mut expected = vec![0f64; 10];
    for x in -500i64..=1000 {
        expected[(3 * x + 7).rem_euclid(10) as usize] += 1.0 / 1501.0;
    }
    let mut counts = vec![0u64; 10];
    let mut nulls = 0u64;
    for row in rows(&gens, N, 27) {
        let Value::Int(x) = row[0] else { panic!() };
        assert_eq!(row[1], Value::Int((3 * x + 7).rem_euclid(10)));
        counts[(3 * x + 7).rem_euclid(10) as usize] += 1;
        match (&row[2], &row[3]) {
            (Value::Float(f), Value::Float(g)) => assert_eq!(*g, f * 100.0 + 0.5),
            (Value::Null, Value::Null) => nulls += 1,
            other => panic!("{other:?}"),
        }
        assert_eq!(row[4], Value::Float(x as f64 * 0.5));
    }
    let p = chi_square_p(&counts, &expected);
    assert!(p > 0.001, "p = {p}, {counts:?}");
    let p = chi_square_p(&[nulls, N as u64 - nulls], &[0.3, 0.7]);
    assert!(p > 0.001, "p = {p}, {nulls} NULLs");
    // past the 64-bit range: NULL, not a wrapped number
    let gens = row_gens(&[
        ("x", "{constant: 9223372036854775807}"),
        ("y", "{derived: {column: x, add: 1}}"),
        ("z", "{derived: {column: x, add: 1, modulo: 1000}}"),
    ]);
    let row = &rows(&gens, 1, 1)[0];
    assert_eq!(row[1], Value::Null);
    assert_eq!(row[2], Value::Int(808));
}

#[test]
fn bad_new_generators_say_what_to_fix() {
    for (yaml, want) in [
        ("{lognormal: {sigma: 1}}", "g.lognormal.mu: missing; lognormal needs mu"),
        (
            "{lognormal: {mu: 1, median: 3, sigma: 1}}",
            "g.lognormal: give mu or median (median = e^mu), not both",
        ),
        ("{lognormal: {median: -2, sigma: 1}}", "g.lognormal.median: must be a positive number (got -2)"),
        ("{lognormal: {mu: 1}}", "g.lognormal.sigma: missing"),
        ("{lognormal: {mu: 1, sigma: -1}}", "g.lognormal.sigma: must be a positive number (got -1)"),
        ("{lognormal: {mu: .nan, sigma: 1}}", "g.lognormal.mu: must be a finite number"),
        ("{lognormal: {mu: 1, sigma: 1, mean: 3}}", "g.lognormal.mean: not used by lognormal; remove it"),
        ("{gaussian: {mean: 1, stddev: 1, sigma: 3}}", "g.gaussian.sigma: not used by gaussian; remove it"),
        (
            "{timestamp: {from: 2024-01-01, to: now, skew: recent}}",
            "g.timestamp.half_life: missing; skew: recent needs",
        ),
        (
            "{date: {from: 2024-01-01, to: now, half_life: 30d}}",
            "g.date.half_life: only applies with skew: recent; add skew: recent or remove half_life",
        ),
        (
            "{timestamp: {from: 2024-01-01, to: now, skew: recent, half_life: soon}}",
            "g.timestamp.half_life: 'soon' is not a positive duration",
        ),
        ("{timestamp: {from: 2024-01-01, to: now, skew: old}}", "g.timestamp.skew: unknown variant `old`"),
        (
            "{zipfian: {min: 1, max: 10, seed: 3}}",
            "g.zipfian.seed: only applies with scramble: true",
        ),
        (
            "{uniform: {min: 1, max: 10, scramble: true}}",
            "g.uniform.scramble: not used by uniform; remove it",
        ),
        ("{text: {words: \"3..x\"}}", "g.text.words: expected a count (8), a range (5..20) or {min: 5, max: 20}"),
        ("{text: {words: 9..3}}", "g.text.words: min (9) is greater than max (3)"),
        ("{text: {words: {min: 3}}}", "g.text.words: give both min and max"),
        ("{text: {words: 200000}}", "g.text.words: at most 100000 words (got 200000)"),
        ("{text: {vocabulary: 0}}", "g.text.vocabulary: must be between 1 and 1000000 words (got 0)"),
        ("{text: {theta: -1}}", "g.text.theta: must be between 0"),
        ("{text: {size: 3}}", "g.text.size: unknown key 'size'"),
        // outside data tables, nothing reads a row
        ("{template: \"{a} {b}\"}", "g.template: template only applies to data columns"),
        ("{pick: {by: a, values: {1: {constant: x}}}}", "g.pick: pick only applies to data columns"),
        ("{derived: {column: a, add: 1}}", "g.derived: derived only applies to data columns"),
    ] {
        let e = gen_errors(yaml);
        assert!(e.contains(want), "{yaml}: want {want:?} in {e}");
        assert_eq!(e.lines().count(), 1, "{yaml}: one problem, one line: {e}");
    }
    let fk = [TableRange {
        name: "t".into(),
        rows: 10,
        sequences: vec![("id".into(), 1, 1)],
        ..Default::default()
    }];
    let v: serde_yaml::Value =
        serde_yaml::from_str("{foreign_key: {table: t, scramble: true}}").unwrap();
    let mut errors = Vec::new();
    let mut ctx = Ctx {
        dir: std::path::Path::new("."),
        tables: &fk,
        sequences: 0,
        columns: None,
        column_gens: &[],
        parents: &[],
    };
    assert!(gen::parse(&v, "g", &mut ctx, &mut errors).is_none());
    assert_eq!(
        errors,
        ["g.foreign_key.scramble: only applies to distribution: zipfian (a uniform draw has no hot keys to spread)"]
    );
    // in a data table
    let earlier = [("id", "{sequence: {}}"), ("name", "{fake: name}")];
    for (yaml, want) in [
        ("{template: \"{nope}, {name}\"}", "c.x.template: no earlier column 'nope' in this table; columns before this one: id, name"),
        ("{template: 3}", "c.x.template: expected text naming earlier columns in single braces"),
        ("{pick: {by: nope, values: {1: {constant: a}}}}", "c.x.pick.by: no earlier column 'nope'"),
        ("{pick: {values: {1: {constant: a}}}}", "c.x.pick.by: missing; name the earlier column"),
        ("{pick: {by: id, values: {}}}", "c.x.pick.values: give at least one VALUE: generator"),
        (
            "{pick: {by: id, values: {1: {constant: a}, '1': {constant: b}}}}",
            "c.x.pick.values.1: given twice (keys are compared as text: 3 and '3' are the same); keep one",
        ),
        ("{pick: {by: id, values: {1: {unifrom: {}}}}}", "c.x.pick.values.1.unifrom: unknown generator 'unifrom'"),
        ("{pick: {by: id, values: {~: {constant: a}}}}", "c.x.pick.values: keys must be numbers, text or booleans"),
        ("{derived: {column: id, modulo: 0}}", "c.x.derived.modulo: must be positive (got 0)"),
        ("{derived: {column: id, add: .nan}}", "c.x.derived.add: must be a finite number"),
        ("{derived: {column: nope}}", "c.x.derived.column: no earlier column 'nope'"),
        ("{derived: {add: 1}}", "c.x.derived.column: missing; name the earlier numeric column"),
        ("{derived: {column: name, add: 1}}", "c.x.derived.column: 'name' holds text values; derived needs a numeric column"),
    ] {
        let mut cols = earlier.to_vec();
        cols.push(("x", yaml));
        let e = row_errors(&cols);
        assert!(e.contains(want), "{yaml}: want {want:?} in {e}");
    }
}

#[test]
fn a_parent_column_is_the_referenced_row_s_own_value() {
    // products with a price that reads an earlier column, lines that take it from them
    let yaml = GOOD.replace(
        "      balance: {uniform: {min: 0, max: 100}}\n",
        "      balance: {uniform: {min: 0, max: 100}}\n  - table: t_log\n    rows: 300\n    columns:\n      _acct: {foreign_key: {table: t_accounts, distribution: zipfian, theta: 0.9, scramble: true}}\n      x: {parent: {key: _acct, column: balance}}\n",
    );
    let s = compile(&yaml).unwrap();
    let (accounts, lines) = (&s.data[0], &s.data[1]);
    let row = |t: &spec::DataTable, index: usize, id: u64| {
        let mut b = BytesMut::new();
        write_row(t, 42, index, id, &mut b);
        String::from_utf8(b.to_vec()).unwrap()
    };
    let balances: Vec<String> = (1..=accounts.rows)
        .map(|id| {
            row(accounts, 0, id)
                .trim_end()
                .split('\t')
                .nth(1)
                .unwrap()
                .to_string()
        })
        .collect();
    // each line's x is the balance of the account its hidden key drew: regenerate the
    // line with the key kept to check
    let mut matched = 0;
    for id in 1..=lines.rows {
        let mut st = super::super::gen::row_state(42, 1, id, true, 2);
        let key = lines.columns[0].sample(&mut st);
        st.cols.push(key.clone());
        let x = lines.columns[1].sample(&mut st);
        let value::Value::Int(k) = key else {
            panic!("{key:?}")
        };
        let loaded = row(lines, 1, id);
        assert_eq!(loaded.trim_end(), format!("{}", balances[k as usize - 1]));
        assert_eq!(format!("{}", balances[k as usize - 1]), {
            let mut b = BytesMut::new();
            x.write_copy(&mut b);
            String::from_utf8(b.to_vec()).unwrap()
        });
        matched += 1;
    }
    assert_eq!(matched, 300);
    for (col, want) in [
        (
            "{parent: {key: _acct}}",
            "give key (an earlier foreign-key column of this row) and column",
        ),
        (
            "{parent: {key: nope, column: balance}}",
            "parent.key: no earlier column 'nope'",
        ),
        (
            "{parent: {key: _acct, column: nope}}",
            "parent.column: table 't_accounts' has no column 'nope'; its columns: id, balance",
        ),
    ] {
        let e = errors(&yaml.replace("{parent: {key: _acct, column: balance}}", col));
        assert!(e.contains(want), "{col}: want {want:?} in {e}");
    }
    let e = errors(&yaml.replace(
        "_acct: {foreign_key: {table: t_accounts, distribution: zipfian, theta: 0.9, scramble: true}}",
        "_acct: {uniform: {min: 1, max: 20}}",
    ));
    assert!(
        e.contains("parent.key: '_acct' is not a foreign_key column"),
        "{e}"
    );
}
