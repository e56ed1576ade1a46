//! `tpcc`: the TPC-C benchmark (specification 5.11): nine tables loaded per warehouse, the
//! five transactions at the standard mix, consistency conditions 1-4, tpmC and NOPM.
//!
//! Modules: `gen` (random data and constants), `load` (the parallel COPY loader), `tx` (the
//! transactions), `check` (the consistency conditions), `sql` (the SQL files' blocks).

mod check;
pub(crate) mod gen;
pub(crate) mod load;
mod sql;
pub(crate) mod tx;

use std::sync::Arc;

use rand::Rng as _;
use serde::Deserialize;

use super::check_range;
use crate::core::registry::parse_section_lenient;
use crate::core::{
    rng, BoxFuture, CheckResult, Conn, LoadProgress, LoadStats, Metric, Pool, RunCounts,
    SchemaError, WorkerTx, Workload, WorkloadInfo, WorkloadParams,
};
use crate::types::Isolation;
use tx::{Execution, Shared, Terminal, KINDS, NEW_ORDER};

const SCHEMA_SQL: &str = include_str!("../../../workloads/tpcc/schema.sql");
const PROCEDURES_SQL: &str = include_str!("../../../workloads/tpcc/procedures.sql");
const DROP_SQL: &str = include_str!("../../../workloads/tpcc/drop.sql");

const TABLES: &[&str] = &[
    "warehouse",
    "district",
    "customer",
    "history",
    "new_order",
    "orders",
    "order_line",
    "item",
    "stock",
];

/// The standard mix (clause 5.2.3), in kind order.
const STANDARD_MIX: [f64; 5] = [45.0, 43.0, 4.0, 4.0, 4.0];

/// The registry entry.
pub(crate) fn info() -> WorkloadInfo {
    WorkloadInfo::builtin(
        "tpcc",
        "TPC-C: New-Order, Payment, Order-Status, Delivery, Stock-Level on 9 tables; tpmC, NOPM, consistency checks",
        &["default"],
        "warehouses (about 100 MB of data each; scale 10 = 10 warehouses, 5 million order lines)",
        build,
    )
}

/// The `tpcc:` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Section {
    /// client (prepared statements) | procedures (PL/pgSQL functions).
    mode: Option<Execution>,
    /// read_committed | repeatable_read | serializable.
    isolation: Option<Isolation>,
    /// Keying and think times of clause 5.2.5 after each transaction.
    think_times: Option<bool>,
    /// Run the consistency checks after every run.
    check: Option<bool>,
    /// Relative weights of the kinds; when given, kinds left out get 0.
    weights: Option<Weights>,
}

/// `tpcc.weights`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Weights {
    new_order: Option<f64>,
    payment: Option<f64>,
    order_status: Option<f64>,
    delivery: Option<f64>,
    stock_level: Option<f64>,
}

impl Weights {
    fn values(&self) -> [f64; 5] {
        [
            self.new_order,
            self.payment,
            self.order_status,
            self.delivery,
            self.stock_level,
        ]
        .map(|w| w.unwrap_or(0.0))
    }
}

/// The built workload.
pub(crate) struct Tpcc {
    shared: Arc<Shared>,
    warehouses: u64,
    seed: u64,
    check_after_run: bool,
}

fn build(p: &WorkloadParams) -> Result<Arc<dyn Workload>, Vec<String>> {
    let (s, mut errors): (Section, _) = parse_section_lenient(&p.section, "tpcc");
    let weights = s.weights.as_ref().map_or(STANDARD_MIX, Weights::values);
    for (kind, w) in KINDS.iter().zip(weights) {
        check_range(&mut errors, &format!("tpcc.weights.{kind}"), w, 0.0, 1e6);
    }
    if weights.iter().sum::<f64>() <= 0.0 {
        errors.push(
            "tpcc.weights: at least one weight must be above 0 (the standard mix is new_order: 45, payment: 43, order_status: 4, delivery: 4, stock_level: 4)".into(),
        );
    }
    if p.scale > i32::MAX as u64 / 10 {
        errors.push(format!(
            "scale: {} warehouses is more than tpcc supports",
            p.scale
        ));
    }
    let sql = tx::statement_sql().map_err(|e| vec![format!("tpcc: {e}")]);
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut c = rng(p.seed, 0xC0C0);
    let shared = Shared {
        warehouses: p.scale.max(1) as i32,
        cumulative: cumulative(weights),
        isolation: s.isolation.unwrap_or_default(),
        execution: s.mode.unwrap_or_default(),
        think_times: s.think_times.unwrap_or(false),
        c_last: gen::c_run_last(&mut c),
        c_id: c.gen_range(0..=1023),
        c_item: c.gen_range(0..=8191),
        last_names: gen::last_names(),
        sql: sql?,
    };
    Ok(Arc::new(Tpcc {
        shared: Arc::new(shared),
        warehouses: p.scale.max(1),
        seed: p.seed,
        check_after_run: s.check.unwrap_or(false),
    }))
}

/// Cumulative shares of `weights` (which sum to more than 0); the last is exactly 1.
fn cumulative(weights: [f64; 5]) -> [f64; 5] {
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    let mut out = weights.map(|w| {
        acc += w / total;
        acc
    });
    out[4] = 1.0;
    out
}

impl Workload for Tpcc {
    fn kinds(&self) -> &[&'static str] {
        KINDS
    }

    fn tables(&self) -> &[&'static str] {
        TABLES
    }

    fn create_schema<'a>(&'a self, conn: &'a Conn) -> BoxFuture<'a, Result<(), SchemaError>> {
        Box::pin(async move {
            conn.batch_execute(SCHEMA_SQL)
                .await
                .map_err(SchemaError::db("creating the tpcc tables"))?;
            conn.batch_execute(PROCEDURES_SQL)
                .await
                .map_err(SchemaError::db("creating the tpcc functions"))
        })
    }

    fn load<'a>(
        &'a self,
        pool: &'a Pool,
        progress: &'a LoadProgress,
    ) -> BoxFuture<'a, Result<LoadStats, SchemaError>> {
        Box::pin(async move {
            let ctx = load::LoadCtx::new(self.seed, self.warehouses);
            load::load_all(pool, &ctx, progress).await
        })
    }

    fn drop_schema<'a>(&'a self, conn: &'a Conn) -> BoxFuture<'a, Result<(), SchemaError>> {
        Box::pin(async move {
            conn.batch_execute(DROP_SQL)
                .await
                .map_err(SchemaError::db("dropping the tpcc schema"))
        })
    }

    fn check<'a>(&'a self, conn: &'a Conn) -> BoxFuture<'a, Result<Vec<CheckResult>, SchemaError>> {
        Box::pin(check::run(conn))
    }

    fn check_after_run(&self) -> bool {
        self.check_after_run
    }

    fn metrics(&self, run: &RunCounts) -> Vec<Metric> {
        metrics(run)
    }

    fn worker_partitions(&self) -> Option<u64> {
        Some(self.warehouses)
    }

    fn worker(&self, worker_id: usize, seed: u64) -> Box<dyn WorkerTx> {
        Box::new(Terminal::new(
            self.shared.clone(),
            worker_id,
            rng(seed, worker_id as u64),
        ))
    }
}

/// tpmC, NOPM, TPM and the rollback rate of a run.
fn metrics(run: &RunCounts) -> Vec<Metric> {
    let minutes = run.measured_s.max(1e-9) / 60.0;
    let at = |v: &[u64], k: usize| v.get(k).copied().unwrap_or(0);
    let committed_no = at(&run.committed, NEW_ORDER);
    let rolled_back_no = at(&run.rolled_back, NEW_ORDER);
    let done: u64 = run.committed.iter().sum::<u64>() + run.rolled_back.iter().sum::<u64>();
    let rolled_back: u64 = run.rolled_back.iter().sum();
    let metric = |name: &str, value: f64, unit: &str, description: &str| Metric {
        name: name.into(),
        value,
        unit: unit.into(),
        description: description.into(),
    };
    let mut out = vec![
        metric(
            "tpmC",
            (committed_no + rolled_back_no) as f64 / minutes,
            "transactions/min",
            "New-Order transactions completed per minute (committed or rolled back on purpose)",
        ),
        metric(
            "NOPM",
            committed_no as f64 / minutes,
            "orders/min",
            "new orders per minute: committed New-Orders (HammerDB's NOPM)",
        ),
    ];
    if let Some(x) = run.server_xacts {
        out.push(metric(
            "TPM",
            x as f64 / minutes,
            "transactions/min",
            "commits + rollbacks of the database per minute (pg_stat_database, all clients)",
        ));
    }
    out.push(metric(
        "rollback rate",
        100.0 * rolled_back as f64 / done.max(1) as f64,
        "%",
        "transactions rolled back on purpose (New-Order's unused item, 1% of New-Orders)",
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(section: &str) -> WorkloadParams {
        WorkloadParams {
            mode: "default".into(),
            scale: 2,
            section: serde_yaml::from_str(section).unwrap_or(serde_yaml::Value::Null),
            seed: 11,
            workers: 1,
            registry: Default::default(),
        }
    }

    #[test]
    fn defaults_are_the_standard_mix_read_committed_client_side() {
        let w = build(&params("")).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(!w.check_after_run());
        assert_eq!(w.kinds(), KINDS);
        let c = cumulative(STANDARD_MIX);
        for (got, want) in c.iter().zip([0.45, 0.88, 0.92, 0.96, 1.0]) {
            assert!((got - want).abs() < 1e-12, "{c:?}");
        }
    }

    #[test]
    fn weights_given_leave_the_rest_at_zero() {
        let w = build(&params("weights: { delivery: 1 }\ncheck: true"))
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(w.check_after_run());
        let mut t = w.worker(0, 1);
        assert!((0..1000).all(|_| t.next_kind() == tx::DELIVERY));
    }

    #[test]
    fn bad_section_reports_every_problem_with_its_path() {
        let errs = build(&params(
            "isolation: snapshot\nmode: server\nweights: { new_order: -1, bogus: 2 }\nthink: 1",
        ))
        .err()
        .unwrap_or_default();
        let all = errs.join("\n");
        assert!(all.contains("tpcc.isolation:"), "{all}");
        assert!(all.contains("tpcc.mode:"), "{all}");
        assert!(all.contains("tpcc.weights.bogus: unknown key"), "{all}");
        assert!(all.contains("tpcc.think: unknown key"), "{all}");
        assert!(
            all.contains("tpcc.weights.new_order: must be between"),
            "{all}"
        );
        let errs = build(&params("weights: { payment: 0 }"))
            .err()
            .unwrap_or_default();
        assert!(
            errs.join("\n").contains("tpcc.weights: at least one"),
            "{errs:?}"
        );
    }

    #[test]
    fn c_run_depends_on_the_seed_and_obeys_the_delta_rule() {
        let seen: std::collections::HashSet<u64> = (0..50)
            .map(|seed| gen::c_run_last(&mut rng(seed, 0xC0C0)))
            .inspect(|c| assert!(gen::valid_c_run(gen::C_LOAD_LAST, *c), "{c}"))
            .collect();
        assert!(seen.len() > 5);
    }

    #[test]
    fn metrics_count_new_orders_per_minute() {
        let run = RunCounts {
            measured_s: 30.0,
            committed: vec![990, 900, 40, 40, 40],
            rolled_back: vec![10, 0, 0, 0, 0],
            failed: vec![0; 5],
            service_s: vec![0.0; 5],
            server_xacts: Some(3000),
        };
        let m = metrics(&run);
        let get = |n: &str| m.iter().find(|x| x.name == n).map(|x| x.value);
        assert_eq!(get("tpmC"), Some(2000.0));
        assert_eq!(get("NOPM"), Some(1980.0));
        assert_eq!(get("TPM"), Some(6000.0));
        let rate = get("rollback rate").unwrap_or(0.0);
        assert!((rate - 100.0 * 10.0 / 2020.0).abs() < 1e-9);
        let none = metrics(&RunCounts::default());
        assert!(none.iter().all(|x| x.name != "TPM" && x.value == 0.0));
    }
}
