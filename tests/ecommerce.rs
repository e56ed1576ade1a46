//! The `ecommerce` workload (workloads/ecommerce) on the real test cluster: set up small,
//! every mode run with its checks passing, the same products popular in sales, reviews
//! and events, an out-of-stock checkout counted as rolled back (not failed), and htap's
//! two groups keeping their own worker counts.

mod common;

use common::*;

const SMALL: &str = "ecommerce: {products: 2000, customers: 4000, orders: 10000, lines: 25000}";

fn config(dir: &std::path::Path, name: &str, body: &str) -> std::path::PathBuf {
    config_with(dir, name, SMALL, body)
}

fn config_with(dir: &std::path::Path, name: &str, section: &str, body: &str) -> std::path::PathBuf {
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &p,
        format!(
            "workloads_path: [{}/workloads]\nworkload: ecommerce\n{section}\n{body}\n",
            env!("CARGO_MANIFEST_DIR")
        ),
    )
    .unwrap();
    p
}

fn kind<'a>(r: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    r["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == name)
        .unwrap_or_else(|| panic!("no kind {name}"))
}

#[test]
fn every_mode_runs_and_keeps_the_shop_consistent() {
    let pg = pg();
    let db = pg.fresh_db("ecom");
    let dir = tempdir();
    let setup = config(dir.path(), "setup", "mode: shopping");
    ok(pg
        .stormbench(&db)
        .arg("-c")
        .arg(&setup)
        .args(["--setup", "--no-run", "-q"]));
    let q = |sql: &str| pg.psql(&db, sql);
    // the same products are popular in sales, reviews and events, and they are not the
    // first ids
    let top = |table: &str| {
        q(&format!(
            "SELECT product_id FROM {table} GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ))
    };
    let hot = top("ec_order_lines");
    assert_eq!(hot, top("ec_reviews"));
    assert_eq!(hot, top("ec_events"));
    assert_ne!(hot, "1");
    // lines priced from their products, some products out of stock
    assert_eq!(
        q("SELECT count(*) FROM ec_order_lines l JOIN ec_products p ON p.id = l.product_id WHERE l.price <> p.price"),
        "0"
    );
    assert_eq!(
        q("SELECT count(*) FILTER (WHERE on_hand = 0) BETWEEN 20 AND 200 FROM ec_inventory"),
        "t"
    );
    for mode in ["shopping", "browsing", "ordering", "analytics"] {
        let json = dir.path().join(format!("{mode}.json"));
        let cfg = config(
            dir.path(),
            mode,
            &format!("mode: {mode}\nduration: 2s\nworkers: 4"),
        );
        ok(pg
            .stormbench(&db)
            .arg("-c")
            .arg(&cfg)
            .args(["-q", "--json"])
            .arg(&json));
        let r = read_json(&json);
        validate_report_schema(&r);
        assert_eq!(r["summary"]["failed"], 0, "{mode}: {}", r["errors"]);
        assert!(r["summary"]["transactions"].as_u64().unwrap() > 0, "{mode}");
    }
    // customers who registered during the run shop (foreign keys with new_rows)
    assert_ne!(
        q(
            "SELECT (SELECT count(*) FROM ec_cart_items WHERE customer_id >= 1000000000000)
                + (SELECT count(*) FROM ec_orders WHERE customer_id >= 1000000000000)"
        ),
        "0"
    );
    // after the writes of every mode, the checks still hold
    let checks = fails_or_ok_checks(&pg, &db, &setup);
    assert!(
        checks.contains("[PASS] every order total equals the sum of its lines"),
        "{checks}"
    );
    assert!(
        checks.contains("[PASS] stock is never negative"),
        "{checks}"
    );
    assert!(!checks.contains("[FAIL]"), "{checks}");
    htap_gives_the_shop_and_the_analysts_their_own_workers(&pg, &db, dir.path());
    out_of_stock_checkouts_are_rolled_back_not_failed(&pg, &db, dir.path());
}

/// Htap: the shop and the analysts keep their own workers.
fn htap_gives_the_shop_and_the_analysts_their_own_workers(
    pg: &Pg,
    db: &str,
    dir: &std::path::Path,
) {
    let json = dir.join("htap.json");
    let cfg = config_with(
        dir,
        "htap",
        "ecommerce: {products: 2000, customers: 4000, orders: 10000, lines: 25000, groups: {analysts: {workers: 2}}}",
        "mode: htap\nduration: 3s\nworkers: 3",
    );
    ok(pg
        .stormbench(db)
        .arg("-c")
        .arg(&cfg)
        .args(["-q", "--json"])
        .arg(&json));
    let r = read_json(&json);
    validate_report_schema(&r);
    let groups = r["workload"]["groups"].as_array().unwrap();
    assert_eq!(groups[0]["name"], "shop");
    assert_eq!(groups[0]["workers"], 3);
    assert_eq!(groups[1]["name"], "analysts");
    assert_eq!(groups[1]["workers"], 2);
    assert!(groups[0]["tps"].as_f64().unwrap() > groups[1]["tps"].as_f64().unwrap());
    assert!(groups[1]["transactions"].as_u64().unwrap() > 0);
    let per_hour = groups[1]["per_hour"].as_f64().unwrap();
    let tps = groups[1]["tps"].as_f64().unwrap();
    assert!(
        (per_hour - tps * 3600.0).abs() < 1e-6 * per_hour.max(1.0),
        "{}",
        groups[1]
    );
}

/// Out of stock (and no restocking in browsing): every checkout is a deliberate
/// rollback, none a failure.
fn out_of_stock_checkouts_are_rolled_back_not_failed(pg: &Pg, db: &str, dir: &std::path::Path) {
    pg.psql(
        db,
        "UPDATE ec_inventory SET on_hand = 0, initial = initial - on_hand",
    );
    let json = dir.join("empty.json");
    let cfg = config(dir, "empty", "mode: browsing\nduration: 2s\nworkers: 2");
    ok(pg
        .stormbench(db)
        .arg("-c")
        .arg(&cfg)
        .args(["-q", "--json"])
        .arg(&json));
    let r = read_json(&json);
    let c = kind(&r, "checkout");
    assert!(c["transactions"].as_u64().unwrap() > 0, "{c}");
    assert_eq!(c["rolled_back"], c["transactions"], "{c}");
    assert_eq!(c["failed"], 0);
    // the rollback rate is a named figure of the report
    let rate = r["workload"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "rollback rate")
        .unwrap_or_else(|| panic!("{}", r["workload"]["metrics"]))
        .clone();
    assert_eq!(rate["value"], 100.0, "{rate}");
    assert_eq!(rate["unit"], "%");
}

/// The output of `--check` (exit 0 when every check passes, 4 otherwise).
fn fails_or_ok_checks(pg: &Pg, db: &str, cfg: &std::path::Path) -> String {
    let o = pg
        .stormbench(db)
        .arg("-c")
        .arg(cfg)
        .arg("--check")
        .output()
        .unwrap();
    assert!(matches!(o.status.code(), Some(0 | 4)), "{:?}", text(&o));
    text(&o).0
}
