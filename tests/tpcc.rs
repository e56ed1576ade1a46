//! The tpcc workload against the real test cluster: the loaded data follows the
//! specification, each transaction has its effects, mixed runs (client-side, server-side,
//! repeatable read) keep consistency conditions 1-4, and a corrupted district fails them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use serde_json::Value;

/// A config file selecting tpcc with `section` as its `tpcc:` section.
fn config(dir: &Path, name: &str, section: &str) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    let text = format!(
        "workload: tpcc\nscale: 1\nworkers: 8\nconnections: 8\nmax_tries: 5\nseed: 3\ntpcc:\n{section}\n"
    );
    std::fs::write(&path, text).expect("config written");
    path
}

fn ok(o: &Output) -> (String, String) {
    let (out, err) = text(o);
    assert!(
        o.status.success(),
        "exit {:?}\n{out}\n{err}",
        o.status.code()
    );
    (out, err)
}

fn num(pg: &Pg, db: &str, sql: &str) -> f64 {
    let v = pg.psql(db, sql);
    v.parse()
        .unwrap_or_else(|_| panic!("{sql}: not a number: {v}"))
}

fn int(pg: &Pg, db: &str, sql: &str) -> i64 {
    num(pg, db, sql) as i64
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// Loads scale 1 into a fresh database.
fn loaded_db(pg: &Pg, name: &str) -> String {
    let db = pg.fresh_db(name);
    let o = pg
        .stormbench(&db)
        .args(["-w", "tpcc", "--rebuild", "--no-run", "--connections", "4"])
        .output()
        .expect("stormbench runs");
    let (_, err) = ok(&o);
    assert!(
        err.contains("order_line:") && err.contains("rows/s"),
        "{err}"
    );
    db
}

/// Runs 200 transactions of one kind; returns the JSON report's entry for that kind.
fn run_only(pg: &Pg, db: &str, dir: &Path, kind: &str) -> Value {
    let cfg = config(dir, kind, &format!("  weights: {{ {kind}: 1 }}"));
    let json = dir.join(format!("{kind}.json"));
    let o = pg
        .stormbench(db)
        .arg("-c")
        .arg(&cfg)
        .args(["--transactions", "200", "--warmup", "0s", "-q", "--json"])
        .arg(&json)
        .output()
        .expect("stormbench runs");
    ok(&o);
    let r = read_json(&json);
    let kinds = r["transactions"].as_array().cloned().unwrap_or_default();
    let entry = kinds
        .iter()
        .find(|k| k["name"] == kind)
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(u(&entry["failed"]), 0, "{}", r["errors"]);
    assert_eq!(
        u(&entry["committed"]) + u(&entry["rolled_back"]),
        200,
        "{entry}"
    );
    for other in kinds.iter().filter(|k| k["name"] != kind) {
        assert_eq!(u(&other["transactions"]), 0, "{other}");
    }
    entry
}

fn check(pg: &Pg, db: &str) -> Output {
    pg.stormbench(db)
        .args(["-w", "tpcc", "--check"])
        .output()
        .expect("stormbench runs")
}

fn assert_checks_pass(pg: &Pg, db: &str) {
    let o = check(pg, db);
    let (out, _) = ok(&o);
    assert_eq!(out.matches("[PASS] condition").count(), 4, "{out}");
}

fn assert_load_counts(pg: &Pg, db: &str) {
    for (table, rows) in [
        ("warehouse", 1),
        ("district", 10),
        ("customer", 30_000),
        ("history", 30_000),
        ("item", 100_000),
        ("stock", 100_000),
        ("orders", 30_000),
        ("new_order", 9_000),
    ] {
        assert_eq!(
            int(pg, db, &format!("SELECT count(*) FROM {table}")),
            rows,
            "{table}"
        );
    }
    let lines = int(pg, db, "SELECT count(*) FROM order_line");
    assert_eq!(lines, int(pg, db, "SELECT sum(o_ol_cnt) FROM orders"));
    assert!((285_000..315_000).contains(&lines), "{lines} order lines");
}

fn assert_load_invariants(pg: &Pg, db: &str) {
    let share = |sql: &str| num(pg, db, sql);
    let original = share("SELECT avg((i_data LIKE '%ORIGINAL%')::int) FROM item");
    assert!(
        (0.09..0.11).contains(&original),
        "i_data ORIGINAL {original}"
    );
    let original = share("SELECT avg((s_data LIKE '%ORIGINAL%')::int) FROM stock");
    assert!(
        (0.09..0.11).contains(&original),
        "s_data ORIGINAL {original}"
    );
    let bad_credit = share("SELECT avg((c_credit = 'BC')::int) FROM customer");
    assert!((0.09..0.11).contains(&bad_credit), "BC {bad_credit}");
    // last names: syllables only; customers 1..1000 of each district use every name once
    let syllables = "^(BAR|OUGHT|ABLE|PRI|PRES|ESE|ANTI|CALLY|ATION|EING){3}$";
    assert_eq!(
        int(
            pg,
            db,
            &format!("SELECT count(*) FROM customer WHERE c_last !~ '{syllables}'")
        ),
        0
    );
    assert_eq!(
        pg.psql(db, "SELECT string_agg(c_last, ',' ORDER BY c_id) FROM customer WHERE c_w_id = 1 AND c_d_id = 4 AND c_id IN (1, 2, 372, 1000)"),
        "BARBARBAR,BARBAROUGHT,PRICALLYOUGHT,EINGEINGEING"
    );
    assert_eq!(
        int(
            pg,
            db,
            "SELECT count(DISTINCT (c_d_id, c_last)) FROM customer WHERE c_id <= 1000"
        ),
        10_000
    );
    // NURand for customers 1001..3000: some names far more frequent than others
    let top = int(pg, db, "SELECT max(n) FROM (SELECT count(*) AS n FROM customer WHERE c_id > 1000 GROUP BY c_last) x");
    assert!(top > 60, "NURand skew expected, top name has {top}");
    assert_eq!(
        pg.psql(db, "SELECT min(d_next_o_id) || ' ' || max(d_next_o_id) || ' ' || sum(d_ytd) || ' ' || max(w_ytd) FROM district, warehouse"),
        "3001 3001 300000.00 300000.00"
    );
    // orders: a permutation of the customers; the last 900 undelivered and new
    assert_eq!(
        int(
            pg,
            db,
            "SELECT count(DISTINCT (o_d_id, o_c_id)) FROM orders"
        ),
        30_000
    );
    assert_eq!(
        int(
            pg,
            db,
            "SELECT count(*) FROM orders WHERE (o_carrier_id IS NULL) <> (o_id > 2100)"
        ),
        0
    );
    assert_eq!(
        pg.psql(
            db,
            "SELECT min(no_o_id) || ' ' || max(no_o_id) FROM new_order"
        ),
        "2101 3000"
    );
    assert_eq!(
        int(pg, db, "SELECT count(*) FROM order_line WHERE (ol_delivery_d IS NULL) <> (ol_o_id > 2100) OR (ol_amount = 0) <> (ol_o_id <= 2100) OR ol_quantity <> 5"),
        0
    );
    assert_eq!(
        int(pg, db, "SELECT count(*) FROM stock WHERE s_quantity NOT BETWEEN 10 AND 100 OR length(s_dist_05) <> 24"),
        0
    );
}

#[test]
fn load_follows_the_spec_and_each_transaction_has_its_effects() {
    let pg = pg();
    let db = loaded_db(&pg, "tpcc_load");
    assert_load_counts(&pg, &db);
    assert_load_invariants(&pg, &db);
    assert_checks_pass(&pg, &db);
    // --setup again finds the schema and loads nothing; another scale is refused
    let o = pg
        .stormbench(&db)
        .args(["-w", "tpcc", "--setup", "--no-run"])
        .output()
        .expect("runs");
    let (_, err) = ok(&o);
    assert!(!err.contains("loading tpcc"), "{err}");
    let o = pg
        .stormbench(&db)
        .args(["-w", "tpcc", "--scale", "2", "-d", "1s"])
        .output()
        .expect("runs");
    let err = assert_clean_failure(&o, 1);
    assert!(
        err.contains("loaded at scale 1") && err.contains("--rebuild"),
        "{err}"
    );

    let dir = tempdir();
    new_order_has_its_effects(&pg, &db, dir.path());
    payment_has_its_effects(&pg, &db, dir.path());
    delivery_has_its_effects(&pg, &db, dir.path());
    run_only(&pg, &db, dir.path(), "order_status");
    run_only(&pg, &db, dir.path(), "stock_level");
    assert_checks_pass(&pg, &db);
}

fn new_order_has_its_effects(pg: &Pg, db: &str, dir: &Path) {
    let next_before = int(pg, db, "SELECT sum(d_next_o_id) FROM district");
    let stock_ytd_before = int(pg, db, "SELECT sum(s_ytd) FROM stock");
    let k = run_only(pg, db, dir, "new_order");
    let committed = u(&k["committed"]) as i64;
    assert!(committed >= 190, "{k}");
    assert_eq!(
        int(pg, db, "SELECT count(*) FROM orders"),
        30_000 + committed
    );
    assert_eq!(
        int(pg, db, "SELECT count(*) FROM new_order"),
        9_000 + committed
    );
    assert_eq!(
        int(pg, db, "SELECT sum(d_next_o_id) FROM district"),
        next_before + committed
    );
    let new_lines = int(
        pg,
        db,
        "SELECT count(*) FROM order_line WHERE ol_o_id > 3000",
    );
    assert_eq!(
        new_lines,
        int(pg, db, "SELECT sum(o_ol_cnt) FROM orders WHERE o_id > 3000")
    );
    assert!(new_lines >= committed * 5, "{new_lines}");
    assert_eq!(
        int(pg, db, "SELECT sum(s_ytd) FROM stock") - stock_ytd_before,
        int(
            pg,
            db,
            "SELECT sum(ol_quantity) FROM order_line WHERE ol_o_id > 3000"
        )
    );
}

fn payment_has_its_effects(pg: &Pg, db: &str, dir: &Path) {
    let w_ytd_before = num(pg, db, "SELECT w_ytd FROM warehouse");
    let paid_before = num(pg, db, "SELECT sum(h_amount) FROM history");
    let k = run_only(pg, db, dir, "payment");
    assert_eq!(u(&k["committed"]), 200, "{k}");
    assert_eq!(int(pg, db, "SELECT count(*) FROM history"), 30_200);
    let paid = num(pg, db, "SELECT sum(h_amount) FROM history") - paid_before;
    let grew = num(pg, db, "SELECT w_ytd FROM warehouse") - w_ytd_before;
    assert!(
        paid > 200.0 && (grew - paid).abs() < 0.005,
        "w_ytd +{grew}, paid {paid}"
    );
    assert_eq!(
        int(pg, db, "SELECT sum(c_payment_cnt) FROM customer"),
        30_200
    );
}

fn delivery_has_its_effects(pg: &Pg, db: &str, dir: &Path) {
    let pending = int(pg, db, "SELECT count(*) FROM new_order");
    let undelivered = int(
        pg,
        db,
        "SELECT count(*) FROM orders WHERE o_carrier_id IS NULL",
    );
    assert_eq!(pending, undelivered);
    let k = run_only(pg, db, dir, "delivery");
    assert_eq!(u(&k["committed"]), 200, "{k}");
    // each delivery delivers the oldest new order of all ten districts
    assert_eq!(
        int(pg, db, "SELECT count(*) FROM new_order"),
        pending - 2_000
    );
    assert_eq!(
        int(
            pg,
            db,
            "SELECT count(*) FROM orders WHERE o_carrier_id IS NULL"
        ),
        undelivered - 2_000
    );
    assert_eq!(
        int(pg, db, "SELECT sum(c_delivery_cnt) FROM customer"),
        2_000
    );
    assert_eq!(
        int(pg, db, "SELECT count(*) FROM order_line l JOIN orders o ON (o_w_id, o_d_id, o_id) = (ol_w_id, ol_d_id, ol_o_id) WHERE o_carrier_id IS NOT NULL AND ol_delivery_d IS NULL"),
        0
    );
}

#[test]
fn mixed_runs_keep_the_data_consistent_and_a_corruption_is_caught() {
    let pg = pg();
    let db = loaded_db(&pg, "tpcc_mixed");
    let dir = tempdir();

    // client-side, the standard mix, checks after the run
    let cfg = config(dir.path(), "mix", "  check: true");
    let json = dir.path().join("mix.json");
    let o = pg
        .stormbench(&db)
        .arg("-c")
        .arg(&cfg)
        .args(["-d", "4s", "--warmup", "1s", "--json"])
        .arg(&json)
        .output()
        .expect("runs");
    let (out, _) = ok(&o);
    assert_eq!(out.matches("[PASS] condition").count(), 4, "{out}");
    for metric in ["tpmC", "NOPM", "TPM", "rollback rate"] {
        assert!(out.contains(metric), "{metric} missing:\n{out}");
    }
    let r = read_json(&json);
    assert_eq!(u(&r["summary"]["failed"]), 0, "{}", r["errors"]);
    let metrics = r["workload"]["metrics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let tpmc = metrics
        .iter()
        .find(|m| m["name"] == "tpmC")
        .and_then(|m| m["value"].as_f64())
        .unwrap_or(0.0);
    let new_orders = &r["transactions"][0];
    let expected = (u(&new_orders["committed"]) + u(&new_orders["rolled_back"])) as f64 * 60.0
        / r["measured_s"].as_f64().unwrap_or(1.0);
    assert!((tpmc - expected).abs() < 1.0, "tpmC {tpmc} vs {expected}");
    for k in r["transactions"].as_array().cloned().unwrap_or_default() {
        assert!(u(&k["transactions"]) > 0, "{k}");
    }

    // server-side functions
    let orders_before = int(&pg, &db, "SELECT count(*) FROM orders");
    let cfg = config(dir.path(), "proc", "  mode: procedures\n  check: true");
    let o = pg
        .stormbench(&db)
        .arg("-c")
        .arg(&cfg)
        .args(["-d", "3s", "--warmup", "0s"])
        .output()
        .expect("runs");
    let (out, _) = ok(&o);
    assert_eq!(out.matches("[PASS] condition").count(), 4, "{out}");
    assert!(int(&pg, &db, "SELECT count(*) FROM orders") > orders_before + 50);

    // repeatable read, 8 terminals on one warehouse: serialization failures, retried
    let cfg = config(dir.path(), "rr", "  isolation: repeatable_read");
    let json = dir.path().join("rr.json");
    let o = pg
        .stormbench(&db)
        .arg("-c")
        .arg(&cfg)
        .args(["-d", "3s", "--warmup", "0s", "-q", "--json"])
        .arg(&json)
        .output()
        .expect("runs");
    ok(&o);
    let r = read_json(&json);
    assert!(u(&r["summary"]["retries"]) > 0, "{}", r["summary"]);
    assert_checks_pass(&pg, &db);

    // one district's D_YTD off by a cent: condition 1 fails, exit 4
    pg.psql(
        &db,
        "UPDATE district SET d_ytd = d_ytd + 0.01 WHERE d_w_id = 1 AND d_id = 3",
    );
    let o = check(&pg, &db);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(4), "{out}\n{err}");
    assert!(
        out.contains("[FAIL] condition 1: W_YTD = sum(D_YTD): 1 of 1 warehouses violate it; first: warehouse 1"),
        "{out}"
    );
    assert_eq!(out.matches("[PASS] condition").count(), 3, "{out}");
}

#[test]
fn a_bad_tpcc_section_is_reported_with_paths() {
    let dir = tempdir();
    let cfg = config(
        dir.path(),
        "bad",
        "  isolation: snapshot\n  weights: { new_order: -1, refund: 3 }\n  think_time: true",
    );
    let o = stormbench().arg("-c").arg(&cfg).output().expect("runs");
    let err = assert_clean_failure(&o, 2);
    for path in [
        "tpcc.isolation:",
        "tpcc.weights.refund: unknown key",
        "tpcc.weights.new_order: must be between",
        "tpcc.think_time: unknown key",
    ] {
        assert!(err.contains(path), "{path} missing:\n{err}");
    }
}
