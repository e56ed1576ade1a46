//! The generators that read the row (template, pick, derived, parent), and the problems
//! the newer generators report.

use super::*;
use crate::workloads::declarative::value::OutKind;

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
            resumes: Vec::new(),
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
        resumes: Vec::new(),
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
        resumes: Vec::new(),
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

/// A foreign key into a table loaded with no rows draws keys that name nothing (before: the
/// loaded column and the statement's key were all `1`, a row that does not exist); only
/// drawing the keys the run inserts (`new_rows: 1.0`) is meaningful there.
#[test]
fn a_foreign_key_into_an_empty_table_is_refused() {
    let empty = GOOD.replace("rows_per_scale: 10", "rows: 0");
    let e = errors(&empty);
    assert!(
        e.contains("transactions[0].statements[0].params[0].foreign_key: table 't_accounts' is loaded with no rows, so a key drawn from its range names no row"),
        "{e}"
    );
    let e = errors(&empty.replace(
        "params: [{foreign_key: t_accounts}]",
        "params: [{foreign_key: {table: t_accounts, new_rows: 0.5}}]",
    ));
    assert!(e.contains("is loaded with no rows"), "{e}");
    // every draw a key the run inserted: accepted (an insert records them)
    let with_inserts = empty
        .replace(
            "{foreign_key: t_accounts}",
            "{foreign_key: {table: t_accounts, new_rows: 1.0}}",
        )
        .replace(
            "transactions:\n",
            "transactions:\n  - name: open\n    statements:\n      - sql: INSERT INTO t_accounts (balance) VALUES (0) RETURNING id\n        inserts: t_accounts\n",
        );
    compile(&with_inserts).unwrap_or_else(|e| panic!("{e:?}"));
}
