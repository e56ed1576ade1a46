//! Generators: their distributions (chi-square and Kolmogorov-Smirnov), ranges and
//! bounds.

use super::*;
use statrs::distribution::{ChiSquared, ContinuousCDF, Exp, Normal};

mod rows;
mod skewed;

const N: usize = 100_000;

fn gen(yaml: &str, tables: &[TableRange]) -> Gen {
    let v: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
    let mut errors = Vec::new();
    let mut ctx = Ctx {
        dir: std::path::Path::new("."),
        tables,
        sequences: 0,
        resumes: Vec::new(),
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
        resumes: Vec::new(),
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
    assert_eq!(info(&dir).modes(), vec!["default"]);
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
        resumes: Vec::new(),
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
