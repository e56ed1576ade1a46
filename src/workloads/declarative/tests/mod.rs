//! Parsing and validation of `workload.yaml` (a bad file for each rule), and the
//! generators' distributions checked statistically.

use super::gen::{Ctx, Gen, State, TableRange, MAX_ROW_BYTES, MAX_STRING_LENGTH};
use super::value::Value;
use super::*;

mod generators;

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
fn weights_that_add_up_past_a_number_are_refused() {
    // each weight is finite; their sum is not, and no share of it could be drawn
    let e = errors(&GOOD.replace(
        "mixed: {read: 3, move: 1}",
        "mixed: {read: 1e308, move: 1e308}",
    ));
    assert!(
        e.contains("modes.mixed: the weights add up to more than a number holds"),
        "{e}"
    );
    let e = errors(
        &GOOD
            .split("modes:")
            .next()
            .unwrap()
            .replace("  - name: read\n", "  - name: read\n    weight: 1.5e308\n")
            .replace("  - name: move\n", "  - name: move\n    weight: 1.5e308\n"),
    );
    assert!(
        e.contains("transactions: the weights add up to more than a number holds"),
        "{e}"
    );
    let e = errors(&GOOD.replace(
        "balance: {uniform: {min: 0, max: 100}}",
        "balance: {choice: {values: [1, 2], weights: [1e308, 1e308]}}",
    ));
    assert!(
        e.contains(
            "balance.choice.weights: must be non-negative with a positive sum that a number holds"
        ),
        "{e}"
    );
}

#[test]
fn an_empty_statement_is_refused() {
    // the server runs it as nothing: a run would count transactions that did no work
    for sql in ["''", "'-- SELECT 1'", "'/* x */ ;'"] {
        let e = errors(&GOOD.replace(
            "sql: SELECT balance FROM t_accounts WHERE id = $1\n        params: [{foreign_key: t_accounts}]",
            &format!("sql: {sql}"),
        ));
        assert!(
            e.contains("transactions[0].statements[0].sql: the statement is empty (only blanks or comments)"),
            "{sql}: {e}"
        );
    }
    let d = folder(
        "wl",
        &GOOD.replace(
            "sql: SELECT balance FROM t_accounts WHERE id = $1\n        params: [{foreign_key: t_accounts}]",
            "file: read.sql",
        ),
    );
    std::fs::write(d.path().join("wl/read.sql"), "-- to be written\n").unwrap();
    let e = spec::load(&d.path().join("wl"), 2).unwrap_err().join("\n");
    assert!(
        e.contains("transactions[0].statements[0].file (read.sql): the statement is empty"),
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
    for (g, want) in [
        (
            "{lognormal: {sigma: 1}}",
            "data[0].columns.balance.lognormal.mu: missing; lognormal needs mu (the mean of ln x) or median",
        ),
        (
            "{timestamp: {from: 2024-01-01, to: now, skew: recent}}",
            "data[0].columns.balance.timestamp.half_life: missing; skew: recent needs",
        ),
        (
            "{foreign_key: {table: t_accounts, scramble: true}}",
            "data[0].columns.balance.foreign_key.scramble: only applies to distribution: zipfian",
        ),
        (
            "{text: {words: 3..x}}",
            "data[0].columns.balance.text.words: expected a count (8), a range (5..20) or {min: 5, max: 20}",
        ),
        (
            "{template: \"{nope}, {id}\"}",
            "data[0].columns.balance.template: no earlier column 'nope' in this table; columns before this one: id",
        ),
        (
            "{pick: {by: id, values: {}}}",
            "data[0].columns.balance.pick.values: give at least one VALUE: generator",
        ),
        (
            "{derived: {column: id, modulo: 0}}",
            "data[0].columns.balance.derived.modulo: must be positive (got 0)",
        ),
    ] {
        let e = bad(g);
        assert!(e.contains(want), "{g}: want {want:?} in {e}");
    }
    let e = errors(&GOOD.replace(
        "params: [{foreign_key: t_accounts}]",
        "params: [{template: \"{id}\"}]",
    ));
    assert!(
        e.contains("transactions[0].statements[0].params[0].template: template only applies to data columns"),
        "{e}"
    );
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
    assert_eq!(found[0].modes(), vec!["read", "mixed"]);
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
        found[0].description().starts_with("INVALID (2 problems"),
        "{}",
        found[0].description()
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

#[test]
fn parameters_are_substituted_everywhere_and_rebuild_ones_mark_the_schema() {
    let yaml = GOOD
        .replace("description: test", "description: test\nparams:\n  width: {default: 10, min: 1, max: 100, rebuild: true}\n  lim:\n    default: small\n    choices: {small: {n: 5}, big: {n: 50}}\nsettings:\n  work_mem: \"{{width}}MB\"")
        .replace("max: 100}}\ntransactions", "max: {{width}}}}\ntransactions")
        .replace("WHERE id = $1\n", "WHERE id = $1 LIMIT {{lim.n}}\n");
    let d = folder("wl", &yaml);
    let dir = d.path().join("wl");
    let s = spec::load(&dir, 1).unwrap();
    assert!(
        s.transactions[0].statements[0].sql.ends_with("LIMIT 5"),
        "{}",
        s.transactions[0].statements[0].sql
    );
    assert_eq!(
        s.settings,
        vec![("work_mem".to_string(), "10MB".to_string())]
    );
    let over: serde_yaml::Mapping = serde_yaml::from_str("{width: 20, lim: big}").unwrap();
    let s = spec::load_with(&dir, 1, &over).unwrap();
    assert!(s.transactions[0].statements[0].sql.ends_with("LIMIT 50"));
    let w = Declarative::new(s, "read", 1).unwrap();
    assert_eq!(w.schema_params(), "width=20");
    assert_eq!(
        w.settings(),
        vec![("work_mem".to_string(), "20MB".to_string())]
    );
    // values out of range or not a choice are the config's errors, named by the section
    let over: serde_yaml::Mapping = serde_yaml::from_str("{width: 0, lim: huge}").unwrap();
    let e = spec::load_with(&dir, 1, &over).unwrap_err().join("\n");
    assert!(e.contains("wl.width: 0 is outside 1..100"), "{e}");
    assert!(e.contains("wl.lim: 'huge' is not one of small, big"), "{e}");
    assert!(!e.contains("workload.yaml"), "{e}");
    // an unknown variable in the file names itself
    let e = errors(&GOOD.replace("WHERE id = $1\n", "WHERE id = {{nope}}\n"));
    assert!(e.contains("unknown variable {{nope}}"), "{e}");
}

#[test]
fn worker_groups_compile_and_bad_ones_say_what_to_fix() {
    let yaml = GOOD.replace(
        "  mixed: {read: 3, move: 1}",
        "  mixed: {read: 3, move: 1}\n  both:\n    groups:\n      readers: {mode: read, workers: 3}\n      movers: {weights: {move: 1}, rate: 50}",
    );
    let s = compile(&yaml).unwrap();
    let w = Declarative::new(s, "both", 1).unwrap();
    let g = w.groups();
    assert_eq!(g.len(), 2);
    assert_eq!(
        (g[0].name.as_str(), g[0].workers, g[0].rate),
        ("readers", Some(3), None)
    );
    assert_eq!(
        (g[1].name.as_str(), g[1].workers, g[1].rate),
        ("movers", None, Some(50.0))
    );
    assert_eq!(g[1].kinds, vec![1]);
    // a worker of each group draws only its group's kinds
    let mut movers = w.group_worker(1, 5, 1);
    assert!((0..1000).all(|_| movers.next_kind() == 1));
    let mut readers = w.group_worker(0, 0, 1);
    assert!((0..1000).all(|_| readers.next_kind() == 0));
    for (bad, msg) in [
        (
            "readers: {mode: nope}",
            "'nope' is not a mode without groups",
        ),
        (
            "readers: {weights: {read: 1}, workers: 0}",
            "workers: a whole number from 1 to 100000",
        ),
        (
            "readers: {weights: {read: 1}, rate: -5}",
            "rate: transactions per second",
        ),
        (
            "readers: {weights: {read: 1}, color: red}",
            "unknown key 'color'",
        ),
        (
            "readers: {workers: 2}",
            "give weights (transaction: weight) or mode",
        ),
    ] {
        let yaml = GOOD.replace(
            "  mixed: {read: 3, move: 1}",
            &format!("  mixed: {{read: 3, move: 1}}\n  both:\n    groups:\n      {bad}"),
        );
        let e = errors(&yaml);
        assert!(e.contains(msg), "{bad}: {e}");
    }
}

#[test]
fn steps_measures_settings_and_copy_are_checked() {
    let yaml = GOOD.replace(
        "schema: {create: schema.sql}",
        "schema:\n  create: schema.sql\n  after_load:\n    - {name: build, sql: CREATE INDEX i ON t_accounts (balance)}\n    - {name: build, sql: ANALYZE}\nmeasures:\n  - {name: n, sql: SELECT 1, when: later}\n  - {name: m, sql: SELECT 1, every: 5s}\n  - {name: o, sql: SELECT 1, modes: [nope]}\nsettings:\n  Bad Name: 1",
    );
    let e = errors(&yaml);
    for msg in [
        "two steps are named 'build'",
        "measures[0].when: 'later' is not after_run, after_load or interval",
        "measures[1].every: only an interval measure has a period",
        "measures[2].modes: unknown mode 'nope'",
        "settings.Bad Name: a setting's name",
    ] {
        assert!(e.contains(msg), "{msg}: {e}");
    }
    let yaml = GOOD.replace(
        "  - name: read\n",
        "  - name: bulk\n    copy: {table: t_log, rows: 0, columns: {x: {same_as: x}}}\n  - name: read\n",
    );
    let e = errors(&yaml);
    assert!(e.contains("rows per COPY"), "{e}");
    let yaml = GOOD.replace(
        "  - name: read\n",
        "  - name: bulk\n    copy: {table: t_log, rows: 10, columns: {x: {uniform: {min: 1, max: 9}}}}\n  - name: read\n",
    );
    let s = compile(&yaml).unwrap();
    let c = s.transactions[0].copy.as_ref().unwrap();
    assert_eq!(c.sql, "COPY t_log (x) FROM STDIN");
    assert_eq!(c.rows, 10);
}

// ---------------------------------------------------------------------------------------
// Generators, statistically (100,000 draws each)

#[test]
fn foreign_keys_reach_rows_the_run_inserted_once_recorded() {
    let yaml = GOOD
        .replace(
            "params: [{foreign_key: t_accounts}]\n  - name: move",
            "params: [{foreign_key: {table: t_accounts, new_rows: 0.5}}]\n  - name: move",
        )
        .replace(
            "RETURNING id\n",
            "RETURNING id\n        inserts: t_accounts\n",
        );
    let s = compile(&yaml).unwrap();
    let debit = &s.transactions[1].statements[0];
    // the key is captured once, shared with the later statement's `returned`
    assert_eq!(debit.captures, vec![("id".to_string(), 0)]);
    let (slot, keys) = debit.inserts.clone().expect("inserts compiled");
    assert_eq!(slot, 0);
    let spec::Param::Gen(g) = &s.transactions[0].statements[0].params[0] else {
        panic!("a generator")
    };
    let mut st = generators::state(3);
    let draw = |st: &mut State| match g.sample(st) {
        value::Value::Int(v) => v,
        other => panic!("{other:?}"),
    };
    // before any row is recorded, every draw is a loaded key
    assert!((0..1000)
        .map(|_| draw(&mut st))
        .all(|k| (1..=20).contains(&k)));
    for k in 1_000_000..1_000_010 {
        keys.add(k);
    }
    let n = 100_000;
    let new = (0..n).filter(|_| draw(&mut st) >= 1_000_000).count();
    let share = new as f64 / n as f64;
    assert!((share - 0.5).abs() < 0.01, "share of new keys {share}");
    // only the latest keys are kept
    for k in 0..super::gen::NEW_KEYS_KEPT as i64 * 2 {
        keys.add(2_000_000 + k);
    }
    let kept = (0..n)
        .map(|_| draw(&mut st))
        .filter(|k| *k >= 1_000_000)
        .min()
        .unwrap();
    assert!(
        kept >= 2_000_000 + super::gen::NEW_KEYS_KEPT as i64,
        "{kept}"
    );
}

#[test]
fn new_rows_need_a_statement_that_records_them() {
    let drawn = GOOD.replace(
        "params: [{foreign_key: t_accounts}]\n  - name: move",
        "params: [{foreign_key: {table: t_accounts, new_rows: 0.2}}]\n  - name: move",
    );
    let e = errors(&drawn);
    assert!(
        e.contains("transactions[0].statements[0].params[0].foreign_key.new_rows: no statement records the rows it inserts into 't_accounts'; add inserts: t_accounts"),
        "{e}"
    );
    for (inserts, want) in [
        ("inserts: t_nope", ".inserts: no table 't_nope' in data"),
        (
            "inserts: {table: t_accounts, colum: id}",
            ".inserts: unknown field 'colum'",
        ),
        ("inserts: {key: id}", ".inserts: give the table"),
        (
            "inserts: [t_accounts]",
            ".inserts: give a data table's name",
        ),
    ] {
        let e = errors(&GOOD.replace(
            "RETURNING id\n",
            &format!("RETURNING id\n        {inserts}\n"),
        ));
        assert!(e.contains(want), "{inserts}: want {want:?} in {e}");
    }
    let e = errors(&GOOD.replace(
        "params: [{foreign_key: t_accounts}]\n  - name: move",
        "params: [{foreign_key: {table: t_accounts, new_rows: 1.5}}]\n  - name: move",
    ));
    assert!(
        e.contains("new_rows: a share between 0 and 1 of the draws (got 1.5)"),
        "{e}"
    );
    let e = errors(&GOOD.replace(
        "balance: {uniform: {min: 0, max: 100}}",
        "balance: {foreign_key: {table: t_accounts, new_rows: 0.1}}",
    ));
    assert!(
        e.contains("data[0].columns.balance.foreign_key.new_rows: only in transactions"),
        "{e}"
    );
}

#[test]
fn sequences_bound_to_a_column_resume_past_its_keys_and_copy_columns_are_bound_by_themselves() {
    let yaml = format!(
        "{GOOD}\n{}",
        r#"
  - name: add
    statements:
      - sql: INSERT INTO t_log (x) VALUES ($1)
        params: [{sequence: {start: 100, step: 2, after: public.t_log.x}}]
  - name: bulk
    copy:
      table: t_accounts
      rows: 5
      columns:
        id: {sequence: {start: 1000}}
        balance: {sequence: {after: t_log.x}}
"#
    )
    .replace(
        "modes:\n  read: {read: 1}\n  mixed: {read: 3, move: 1}\n",
        "",
    );
    let s = compile(&format!(
        "{}\nmodes:\n  m: {{add: 1, bulk: 1}}\n",
        yaml.trim_end()
    ))
    .unwrap();
    let bound: Vec<(i64, i64, &str, &str)> = s
        .resumes
        .iter()
        .map(|r| (r.start, r.step, r.table.as_str(), r.column.as_str()))
        .collect();
    assert_eq!(
        bound,
        [
            (100, 2, "public.t_log", "x"),
            (1000, 1, "t_accounts", "id"),
            (1, 1, "t_log", "x"),
        ]
    );
    // each its own counter; the data table's sequence came first
    let slots: Vec<usize> = s.resumes.iter().map(|r| r.slot).collect();
    assert_eq!(slots, [1, 2, 3]);

    for (after, want) in [
        ("t_log", "'t_log' must be TABLE.COLUMN"),
        ("T_log.x", "'T_log.x' must be TABLE.COLUMN"),
        ("t_log.x;drop", "must be TABLE.COLUMN"),
    ] {
        let e = errors(&GOOD.replace(
            "params: [{foreign_key: t_accounts}]\n  - name: move",
            &format!("params: [{{sequence: {{after: '{after}'}}}}]\n  - name: move"),
        ));
        assert!(
            e.contains(&format!(
                "transactions[0].statements[0].params[0].sequence.after: {want}"
            )) || e.contains(want),
            "{after}: want {want:?} in {e}"
        );
    }
    let e = errors(&GOOD.replace(
        "id: {sequence: {}}",
        "id: {sequence: {after: t_accounts.id}}",
    ));
    assert!(
        e.contains("data[0].columns.id.sequence.after: only in transactions"),
        "{e}"
    );
}

#[test]
fn modes_read_without_compiling_are_the_compiled_modes() {
    // a run resolves its workload's mode from the file as written, then builds it: both
    // must name the same modes, in the same order, for every workload shipped
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads");
    let found = super::discover(&[root]).unwrap();
    assert!(
        found.len() >= 3,
        "shipped declarative workloads: {}",
        found.len()
    );
    for info in found {
        let dir = info
            .source
            .as_ref()
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf();
        let compiled = spec::load(&dir, 1)
            .unwrap_or_else(|e| panic!("{} does not compile: {e:?}", dir.display()));
        assert_eq!(info.modes(), compiled.mode_names(), "{}", dir.display());
    }
    let written = spec::mode_names("description: x\ntransactions: []\n");
    assert_eq!(written, vec!["default"]);
    assert_eq!(compile(GOOD).unwrap().mode_names(), spec::mode_names(GOOD));
}

#[test]
fn a_query_folder_holds_one_query_per_file_and_nothing_that_drops() {
    let d = folder(
        "wl",
        &format!("{GOOD}transactions_from: {{folder: queries}}\n"),
    );
    let q = d.path().join("wl").join("queries");
    std::fs::create_dir(&q).unwrap();
    for (file, sql) in [
        (
            "1a.sql",
            "-- the first\nSELECT count(*) FROM t_accounts;\n-- end\n",
        ),
        (
            "schema.sql",
            "CREATE TABLE title (id int);\nCREATE TABLE name (id int);\n",
        ),
        ("drop.sql", "/* tidy up */ DROP TABLE t_accounts;"),
        ("empty.sql", "truncate t_log"),
        ("comment.sql", "-- SELECT 1;\n/* nothing */ ;\n"),
    ] {
        std::fs::write(q.join(file), sql).unwrap();
    }
    let e = spec::load(&d.path().join("wl"), 2)
        .expect_err("should be rejected")
        .join("\n");
    assert!(
        e.contains("schema.sql") && e.contains("holds 2 statements") && e.contains("move it out"),
        "{e}"
    );
    assert!(
        e.contains("drop.sql") && e.contains("is a DROP (DROP TABLE t_accounts)"),
        "{e}"
    );
    assert!(
        e.contains("empty.sql") && e.contains("is a TRUNCATE"),
        "{e}"
    );
    assert!(
        e.contains("comment.sql") && e.contains("holds only comments: no query to run"),
        "{e}"
    );
    assert!(!e.contains("1a.sql"), "{e}");
    for bad in ["schema.sql", "drop.sql", "empty.sql", "comment.sql"] {
        std::fs::remove_file(q.join(bad)).unwrap();
    }
    let spec = spec::load(&d.path().join("wl"), 2).unwrap();
    assert!(spec.transactions.iter().any(|t| t.name == "q1a"));
}
