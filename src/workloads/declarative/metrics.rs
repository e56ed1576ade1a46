//! A declarative workload's own figures: its rollback rate, its suite's passes, and the
//! plan quality of the queries it explains.

use std::time::Duration;

use super::{plans, Declarative};
use crate::core::{Conn, Metric};

impl Declarative {
    /// The rollback rate of the transactions that may roll back on purpose (`rollback_if`):
    /// rolled back against committed + rolled back.
    pub(super) fn rollback_rate(&self, run: &crate::core::RunCounts) -> Vec<crate::core::Metric> {
        let txs = &self.spec().transactions;
        let kinds: Vec<usize> = (0..txs.len())
            .filter(|&k| {
                let r = &txs[k].rollback;
                !r.sqlstates.is_empty() || r.check.is_some()
            })
            .collect();
        if kinds.is_empty() {
            return Vec::new();
        }
        let get = |v: &[u64], k: usize| v.get(k).copied().unwrap_or(0);
        let rolled: u64 = kinds.iter().map(|&k| get(&run.rolled_back, k)).sum();
        let done: u64 = kinds
            .iter()
            .map(|&k| get(&run.committed, k) + get(&run.rolled_back, k))
            .sum();
        let names: Vec<&str> = kinds.iter().map(|&k| txs[k].name.as_str()).collect();
        vec![crate::core::Metric {
            name: "rollback rate".into(),
            value: if done > 0 {
                rolled as f64 * 100.0 / done as f64
            } else {
                0.0
            },
            unit: "%".into(),
            description: format!(
                "of {} ({rolled} of {done}), rolled back on purpose (rollback_if)",
                names.join(", ")
            ),
        }]
    }

    /// The suite's passes and time per pass.
    pub(super) fn suite_metrics(&self, run: &crate::core::RunCounts) -> Vec<crate::core::Metric> {
        let Some(s) = &self.suite else {
            return Vec::new();
        };
        let ran = |k: usize| {
            run.committed.get(k).copied().unwrap_or(0)
                + run.rolled_back.get(k).copied().unwrap_or(0)
                + run.failed.get(k).copied().unwrap_or(0)
        };
        let passes = s.order.iter().map(|k| ran(*k)).min().unwrap_or(0);
        let total: f64 = s
            .order
            .iter()
            .map(|k| run.service_s.get(*k).copied().unwrap_or(0.0))
            .sum();
        vec![
            crate::core::Metric {
                name: "suite passes".into(),
                value: passes as f64,
                unit: "passes".into(),
                description: format!(
                    "complete passes of the {} transactions of the suite (of {} asked)",
                    s.order.len(),
                    s.passes
                ),
            },
            crate::core::Metric {
                name: "suite time per pass".into(),
                value: if passes > 0 {
                    total / passes as f64
                } else {
                    total
                },
                unit: "s".into(),
                description: "the suite's transactions' execution time summed, per pass".into(),
            },
        ]
    }
}

/// How long the plan-quality pass lets one query run (as `statement_timeout`).
const PLAN_LIMIT: Duration = Duration::from_secs(5 * 60);

fn figure(name: String, value: f64, unit: &str, description: String) -> Metric {
    Metric {
        name,
        value,
        unit: unit.into(),
        description,
    }
}

/// What explaining one query gave.
enum Explained {
    Plan(serde_json::Value),
    /// The query could not be explained (a warning was logged).
    Failed,
    /// The server did not answer in time (a warning was logged).
    Silent,
}

impl Declarative {
    /// Before the run: each explained query's plan shape. After it: its q-error (from
    /// EXPLAIN ANALYZE, which runs it once more) and whether its plan changed; a query
    /// that cannot be explained is a warning.
    pub(super) async fn plan_quality(&self, conn: &Conn, before: bool) -> Vec<Metric> {
        // the server stops each query at the limit; the client waits a little longer, so
        // a server that stops answering altogether ends the pass too
        let bound = PLAN_LIMIT + Duration::from_secs(15);
        if !set_plan_limit(conn).await {
            return Vec::new();
        }
        let mut quality = Quality::default();
        // the server stopped answering: the session is left as it is
        let mut silent = false;
        for &k in &self.explain {
            let tx = &self.spec().transactions[k];
            let Some(stmt) = tx.statements.first() else {
                continue;
            };
            let plan = match explain(conn, &tx.name, &stmt.sql, before, bound).await {
                Explained::Plan(p) => p,
                Explained::Failed => continue,
                Explained::Silent => {
                    silent = true;
                    break;
                }
            };
            let shape = plans::shape(&plan).unwrap_or_default();
            let mut shapes = self.shapes.lock().unwrap_or_else(|e| e.into_inner());
            if before {
                shapes.retain(|(x, _)| *x != k);
                shapes.push((k, shape));
                continue;
            }
            let was = shapes
                .iter()
                .find(|(x, _)| *x == k)
                .map(|(_, s)| s.as_str());
            quality.add(&tx.name, &plan, &shape, was);
        }
        let out = quality.finish();
        if !silent {
            let quick = crate::db::QUERY_TIMEOUT;
            let _ =
                tokio::time::timeout(quick, conn.batch_execute("RESET statement_timeout")).await;
        }
        out
    }
}

/// Sets the session's `statement_timeout` to [`PLAN_LIMIT`]; false (with a warning) when
/// the server did not answer.
async fn set_plan_limit(conn: &Conn) -> bool {
    let set = format!("SET statement_timeout = '{}s'", PLAN_LIMIT.as_secs());
    if tokio::time::timeout(crate::db::QUERY_TIMEOUT, conn.batch_execute(&set))
        .await
        .is_err()
    {
        log::warn!(
            "the server did not answer within {:?}; plan quality is not reported",
            crate::db::QUERY_TIMEOUT
        );
        return false;
    }
    true
}

/// EXPLAINs the query `sql` of transaction `name` (with ANALYZE after the run), waiting
/// at most `bound`.
async fn explain(conn: &Conn, name: &str, sql: &str, before: bool, bound: Duration) -> Explained {
    let options = if before {
        "FORMAT JSON"
    } else {
        // rows are all a q-error needs: no per-node clock reads slowing it down
        "ANALYZE, TIMING OFF, FORMAT JSON"
    };
    let explained = tokio::time::timeout(
        bound,
        conn.query_one(&format!("EXPLAIN ({options}) {sql}"), &[]),
    )
    .await;
    let Ok(explained) = explained else {
        log::warn!(
            "plan of {name}: the server did not answer within {bound:?}; the plan quality of it and the queries after it is not reported"
        );
        return Explained::Silent;
    };
    match explained.and_then(|r| r.try_get::<_, serde_json::Value>(0)) {
        Ok(p) => Explained::Plan(p),
        Err(e) => {
            log::warn!(
                "plan of {name}: {}; its plan quality is not reported",
                crate::core::db_message(&e)
            );
            Explained::Failed
        }
    }
}

/// The after-run figures of the explained queries, gathered query by query.
#[derive(Default)]
struct Quality {
    out: Vec<Metric>,
    /// The q-error of each query that has one.
    errors: Vec<f64>,
    changed: usize,
    with_rows: usize,
}

impl Quality {
    /// Adds the figures of transaction `name`'s query: its q-error, and whether its plan
    /// `shape` differs from the one before the run (`was`, if known).
    fn add(&mut self, name: &str, plan: &serde_json::Value, shape: &str, was: Option<&str>) {
        self.with_rows += usize::from(plans::produced(plan).is_some_and(|r| r > 0.0));
        if let Some(q) = plans::q_error(plan) {
            self.errors.push(q);
            self.out.push(figure(
                format!("q_error.{name}"),
                q,
                "",
                "the planner's worst row estimate against the rows produced (1 = exact)".into(),
            ));
        }
        if let Some(was) = was {
            let c = was != shape;
            self.changed += usize::from(c);
            self.out.push(figure(
                format!("plan_changed.{name}"),
                f64::from(u8::from(c)),
                "",
                "1 when the plan's shape differs from the one before the run".into(),
            ));
        }
    }

    /// The figures, led by the summary over the queries when any has a q-error.
    fn finish(self) -> Vec<Metric> {
        let Quality {
            mut out,
            errors,
            changed,
            with_rows,
        } = self;
        if errors.is_empty() {
            return out;
        }
        let n = errors.len();
        let worst = errors.iter().copied().fold(1.0, f64::max);
        if let Some(m) = plans::median(errors) {
            out.insert(
                0,
                figure(
                    "q_error median".into(),
                    m,
                    "",
                    format!("median q-error over {n} queries"),
                ),
            );
        }
        out.insert(
            1.min(out.len()),
            figure(
                "q_error max".into(),
                worst,
                "",
                format!("worst q-error over {n} queries"),
            ),
        );
        out.insert(
            2.min(out.len()),
            figure(
                "queries with rows".into(),
                with_rows as f64,
                "queries",
                format!("queries of the {n} that produced rows (for min()/count() without GROUP BY: rows to aggregate)"),
            ),
        );
        out.insert(
            3.min(out.len()),
            figure(
                "plans changed".into(),
                changed as f64,
                "queries",
                "queries whose plan shape changed during the run".into(),
            ),
        );
        out
    }
}

impl Declarative {
    /// One warning per statement that ran since the last call and never returned or
    /// changed a row.
    pub(super) fn untouched(&self) -> Vec<String> {
        let labels: Vec<&str> = self
            .spec()
            .transactions
            .iter()
            .flat_map(|t| t.statements.iter())
            .map(|s| s.label.as_str())
            .collect();
        self.shared
            .seen
            .take_untouched()
            .into_iter()
            .map(|i| {
                format!(
                    "statement {} returned or changed no row in any of its executions: check that its parameters reach the loaded data (a key range past the rows loaded, a value no row has) and that its tables are not empty",
                    labels[i]
                )
            })
            .collect()
    }
}
