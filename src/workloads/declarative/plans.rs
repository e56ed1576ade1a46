//! Plan quality of a workload's queries: the planner's q-error (over the nodes of a plan,
//! the largest of estimated/actual and actual/estimated rows) from `EXPLAIN (ANALYZE,
//! FORMAT JSON)`, and whether a query's plan changed between the start and the end of a
//! run (compared by shape: node types, relations and indexes, in tree order).

use serde_json::Value as J;

/// The q-error of an analysed plan (`EXPLAIN (ANALYZE, FORMAT JSON)` output): the largest
/// over the executed nodes of max(est/act, act/est), both counted per loop and at least 1.
pub(crate) fn q_error(explain: &J) -> Option<f64> {
    let root = explain.get(0)?.get("Plan")?;
    let mut worst: Option<f64> = None;
    walk(root, &mut |n| {
        let loops = n.get("Actual Loops").and_then(J::as_f64).unwrap_or(0.0);
        if loops <= 0.0 {
            return; // never executed: no actual rows to compare
        }
        let (Some(est), Some(act)) = (
            n.get("Plan Rows").and_then(J::as_f64),
            n.get("Actual Rows").and_then(J::as_f64),
        ) else {
            return;
        };
        let (est, act) = (est.max(1.0), act.max(1.0));
        let q = (est / act).max(act / est);
        worst = Some(worst.map_or(q, |w| w.max(q)));
    });
    worst
}

/// The rows an analysed query produced: the root's, or for a plain aggregate at the root
/// (`SELECT min(..) ...` without GROUP BY, always one row) the rows it aggregated, so a
/// query that found nothing counts as empty.
pub(crate) fn produced(explain: &J) -> Option<f64> {
    let root = explain.get(0)?.get("Plan")?;
    let plain_aggregate = root.get("Node Type").and_then(J::as_str) == Some("Aggregate")
        && root.get("Strategy").and_then(J::as_str) == Some("Plain");
    let n = if plain_aggregate {
        root.get("Plans")?.get(0)?
    } else {
        root
    };
    let rows = n.get("Actual Rows").and_then(J::as_f64)?;
    let loops = n.get("Actual Loops").and_then(J::as_f64).unwrap_or(1.0);
    Some(rows * loops)
}

/// The plan's shape: node type, relation and index of every node, in tree order.
pub(crate) fn shape(explain: &J) -> Option<String> {
    let root = explain.get(0)?.get("Plan")?;
    let mut out = String::new();
    shape_of(root, &mut out);
    Some(out)
}

fn shape_of(n: &J, out: &mut String) {
    out.push('(');
    for key in [
        "Node Type",
        "Join Type",
        "Relation Name",
        "Index Name",
        "Strategy",
    ] {
        if let Some(v) = n.get(key).and_then(J::as_str) {
            out.push_str(v);
            out.push(' ');
        }
    }
    for c in n.get("Plans").and_then(J::as_array).into_iter().flatten() {
        shape_of(c, out);
    }
    out.push(')');
}

fn walk(n: &J, f: &mut impl FnMut(&J)) {
    f(n);
    for c in n.get("Plans").and_then(J::as_array).into_iter().flatten() {
        walk(c, f);
    }
}

/// The median of `v` (empty: `None`).
pub(crate) fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_error_takes_the_worst_executed_node_both_ways() {
        let plan: J = serde_json::from_str(
            r#"[{"Plan": {"Node Type": "Hash Join", "Join Type": "Inner", "Plan Rows": 10, "Actual Rows": 1000, "Actual Loops": 1,
                 "Plans": [
                   {"Node Type": "Seq Scan", "Relation Name": "title", "Plan Rows": 500, "Actual Rows": 50, "Actual Loops": 1},
                   {"Node Type": "Index Scan", "Relation Name": "cast_info", "Index Name": "ci_movie", "Plan Rows": 3, "Actual Rows": 0, "Actual Loops": 0}
                 ]}}]"#,
        )
        .unwrap();
        // 1000 actual against 10 estimated: 100; the scan 500/50 = 10; the index scan never ran
        assert_eq!(q_error(&plan), Some(100.0));
        assert_eq!(
            shape(&plan).unwrap(),
            "(Hash Join Inner (Seq Scan title )(Index Scan cast_info ci_movie ))"
        );
        let zero: J = serde_json::from_str(
            r#"[{"Plan": {"Node Type": "Result", "Plan Rows": 1, "Actual Rows": 0, "Actual Loops": 1}}]"#,
        )
        .unwrap();
        assert_eq!(q_error(&zero), Some(1.0));
        assert_eq!(produced(&plan), Some(1000.0));
        assert_eq!(produced(&zero), Some(0.0));
        let agg: J = serde_json::from_str(
            r#"[{"Plan": {"Node Type": "Aggregate", "Strategy": "Plain", "Plan Rows": 1, "Actual Rows": 1, "Actual Loops": 1,
                 "Plans": [{"Node Type": "Nested Loop", "Plan Rows": 5, "Actual Rows": 0, "Actual Loops": 1}]}}]"#,
        )
        .unwrap();
        // min() over nothing is one row of NULLs: empty
        assert_eq!(produced(&agg), Some(0.0));
        assert_eq!(q_error(&J::Null), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(Vec::new()), None);
    }
}
