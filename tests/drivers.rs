//! Every built-in workload runs on both drivers, with the same outcome: transactions
//! committed, none failed, the driver named in the report.

mod common;

use common::*;

/// Runs `workload` (set up first) on both drivers and expects no failed transaction.
fn clean_on_both(name: &str, workload: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let db = pg().loaded(name, workload);
    let reports = on_each_driver(&db, workload, extra);
    for r in &reports {
        assert_eq!(
            r["summary"]["failed"], 0,
            "{workload} on {}: {}",
            r["connections"]["driver"], r["errors"]
        );
    }
    reports
}

#[test]
fn simple_mixed_runs_on_both_drivers() {
    clean_on_both(
        "drv_simple",
        "simple_mixed",
        &["-d", "2s", "--workers", "4"],
    );
}

#[test]
fn connection_overhead_runs_on_both_drivers() {
    let reports = clean_on_both(
        "drv_conn",
        "connection_transient",
        &["-d", "2s", "--workers", "2"],
    );
    for r in reports {
        assert!(
            r["connections"]["opened"].as_u64().unwrap_or(0) > 0,
            "{}",
            r["connections"]
        );
    }
}

#[test]
fn tpcc_runs_on_both_drivers_with_its_consistency_checks() {
    for execution in ["client", "procedures"] {
        let db = pg().loaded(&format!("drv_tpcc_{execution}"), "tpcc");
        let cfg = tempdir();
        let path = cfg.path().join("tpcc.yaml");
        std::fs::write(
            &path,
            format!("workload: tpcc\ntpcc:\n  mode: {execution}\n  check: true\n"),
        )
        .unwrap();
        for r in on_each_driver(
            &db,
            "tpcc",
            &[
                "--config",
                path.to_str().unwrap(),
                "-d",
                "3s",
                "--workers",
                "4",
            ],
        ) {
            assert_eq!(r["summary"]["failed"], 0, "{execution}: {}", r["errors"]);
            let kinds = r["transactions"].as_array().unwrap();
            let new_orders = kinds.iter().find(|k| k["name"] == "new_order").unwrap();
            assert!(new_orders["committed"].as_u64().unwrap() > 0, "{execution}");
            let checks = r["checks"].as_array().expect("check: true ran the checks");
            assert!(
                checks.iter().all(|c| c["passed"] == true),
                "{execution}: {checks:?}"
            );
        }
    }
}

#[test]
fn a_declarative_workload_runs_on_both_drivers() {
    let reports = clean_on_both(
        "drv_bank",
        "example_bank_mixed",
        &["-d", "2s", "--workers", "4"],
    );
    for r in reports {
        // transfers read a balance back with RETURNING and pass it on: every kind ran
        for k in r["transactions"].as_array().unwrap() {
            assert!(k["transactions"].as_u64().unwrap() > 0, "{k}");
        }
    }
}
