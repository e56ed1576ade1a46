//! Consistency conditions 1-4 of clause 3.3.2, as SQL in `workloads/tpcc/checks.sql`.

use tokio_postgres::error::SqlState;

use super::sql;
use crate::core::{CheckResult, Conn, SchemaError};

const CHECKS_SQL: &str = include_str!("../../../workloads/tpcc/checks.sql");

/// (block name, title, what one checked row is).
const CONDITIONS: [(&str, &str, &str); 4] = [
    ("condition_1", "W_YTD = sum(D_YTD)", "warehouses"),
    (
        "condition_2",
        "D_NEXT_O_ID - 1 = max(O_ID) = max(NO_O_ID)",
        "districts",
    ),
    (
        "condition_3",
        "count(NO_O_ID) = max(NO_O_ID) - min(NO_O_ID) + 1",
        "districts with new orders",
    ),
    (
        "condition_4",
        "sum(O_OL_CNT) = count(ORDER_LINE)",
        "districts",
    ),
];

/// Runs the four conditions; a condition that does not hold is a failed [`CheckResult`],
/// not an error.
pub(crate) async fn run(conn: &Conn) -> Result<Vec<CheckResult>, SchemaError> {
    let mut out = Vec::with_capacity(CONDITIONS.len());
    for (i, (block, title, unit)) in CONDITIONS.iter().enumerate() {
        let name = format!("condition {}: {title}", i + 1);
        let query = sql::named(CHECKS_SQL, block)
            .ok_or_else(|| SchemaError::Pool(format!("{name}: no SQL block '{block}'")))?;
        let row = conn.query_one(query, &[]).await.map_err(|e| {
            if e.code() == Some(&SqlState::UNDEFINED_TABLE) {
                SchemaError::Pool(
                    "no tpcc tables in this database; run with --setup to create and load them"
                        .into(),
                )
            } else {
                SchemaError::Db {
                    what: format!("checking {name}"),
                    error: e,
                }
            }
        })?;
        let bad: i64 = row.get(0);
        let total: i64 = row.get(1);
        let example: Option<String> = row.get(2);
        out.push(result(name, bad, total, unit, example));
    }
    Ok(out)
}

fn result(name: String, bad: i64, total: i64, unit: &str, example: Option<String>) -> CheckResult {
    let detail = match example {
        Some(first) if bad > 0 => format!("{bad} of {total} {unit} violate it; first: {first}"),
        _ => format!("{total} {unit} checked"),
    };
    CheckResult {
        name,
        passed: bad == 0,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_condition_has_sql() {
        for (block, _, _) in CONDITIONS {
            assert!(sql::named(CHECKS_SQL, block).is_some(), "{block}");
        }
    }

    #[test]
    fn details_name_the_first_violation() {
        let r = result(
            "c1".into(),
            1,
            2,
            "warehouses",
            Some("warehouse 2: x".into()),
        );
        assert!(!r.passed);
        assert_eq!(
            r.detail,
            "1 of 2 warehouses violate it; first: warehouse 2: x"
        );
        let r = result("c1".into(), 0, 10, "districts", None);
        assert!(r.passed);
        assert_eq!(r.detail, "10 districts checked");
    }
}
