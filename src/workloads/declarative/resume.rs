//! Run-time sequences that resume past the keys earlier runs inserted: before each run
//! (and each band of a sweep) the column's largest value (smallest for a negative step)
//! is read, and every worker's counter starts where all its values lie beyond it. Without
//! this, a second run against the same tables would insert the first run's keys again.

use std::sync::atomic::{AtomicI64, Ordering};

use super::gen::SEQ_STRIDE;
use crate::core::Conn;

/// A run-time sequence bound to a column: `after: TABLE.COLUMN`, or a sequence column of a
/// `copy:` transaction (bound to the column it fills).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resume {
    /// The sequence's counter slot.
    pub(crate) slot: usize,
    pub(crate) start: i64,
    pub(crate) step: i64,
    pub(crate) table: String,
    pub(crate) column: String,
}

impl Resume {
    /// The query that reads the edge the sequence must pass.
    fn sql(&self) -> String {
        let edge = if self.step < 0 { "min" } else { "max" };
        format!("SELECT {edge}({})::bigint FROM {}", self.column, self.table)
    }

    /// The first counter position whose values (`start + step * (k * SEQ_STRIDE + w)`,
    /// for every worker `w`) lie beyond `edge`; 0 for an empty column. A position past
    /// the bigint range is kept: the sequence then fails its transactions with its
    /// overflow message instead of wrapping.
    pub(crate) fn first_position(&self, edge: Option<i64>) -> i64 {
        let (Some(edge), step) = (edge, i128::from(self.step)) else {
            return 0;
        };
        let (start, edge) = (i128::from(self.start), i128::from(edge));
        let behind = if step > 0 { edge - start } else { start - edge };
        if step == 0 || behind < 0 {
            return 0;
        }
        let k = behind / (step.abs() * i128::from(SEQ_STRIDE)) + 1;
        i64::try_from(k).unwrap_or(i64::MAX)
    }
}

/// Moves every bound sequence past its column's current edge, writing the first counter
/// position of each slot into `positions` (read afresh each run: a rebuilt table starts
/// its sequences over). Each edge is read once however many sequences share it, each
/// query bounded by the quick-query limit; a problem leaves that sequence at its start and
/// is returned as a warning.
pub(crate) async fn read_positions(
    conn: &Conn,
    resumes: &[Resume],
    positions: &[AtomicI64],
) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut edges: Vec<(String, Result<Option<i64>, String>)> = Vec::new();
    for r in resumes {
        let sql = r.sql();
        let edge = match edges.iter().find(|(q, _)| *q == sql) {
            Some((_, e)) => e.clone(),
            None => {
                let e = edge(conn, &sql).await;
                edges.push((sql, e.clone()));
                e
            }
        };
        let position = match edge {
            Ok(edge) => r.first_position(edge),
            Err(e) => {
                warnings.push(format!(
                    "the sequence bound to {}.{} starts at its start: reading the column's edge failed ({e}); the run may insert keys that exist",
                    r.table, r.column
                ));
                0
            }
        };
        if let Some(p) = positions.get(r.slot) {
            p.store(position, Ordering::Relaxed);
        }
    }
    warnings
}

/// The one value `sql` reads, within the quick-query limit.
async fn edge(conn: &Conn, sql: &str) -> Result<Option<i64>, String> {
    let limit = crate::db::QUERY_TIMEOUT;
    match tokio::time::timeout(limit, conn.query_one(sql, &[])).await {
        Err(_) => Err(format!("no answer in {limit:?}")),
        Ok(row) => row
            .and_then(|row| row.try_get(0))
            .map_err(|e| crate::core::db_message(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: i64, step: i64) -> Resume {
        Resume {
            slot: 0,
            start,
            step,
            table: "t".into(),
            column: "id".into(),
        }
    }

    fn value(r: &Resume, k: i64, w: i64) -> i128 {
        i128::from(r.start)
            + i128::from(r.step) * (i128::from(k) * i128::from(SEQ_STRIDE) + i128::from(w))
    }

    #[test]
    fn an_empty_column_or_one_below_the_start_leaves_the_sequence_at_its_start() {
        assert_eq!(r(100, 1).first_position(None), 0);
        assert_eq!(r(100, 1).first_position(Some(99)), 0);
        assert_eq!(r(100, -1).first_position(Some(101)), 0);
    }

    #[test]
    fn every_worker_starts_past_the_edge_and_no_further_than_one_stride() {
        for (start, step, edge) in [
            (1, 1, 1),
            (1, 1, 65_536),
            (1, 1, 65_537),
            (2_000_000_000, 1, 4_454_257_664),
            (1_000, 10, 5_000_000),
            (0, -3, -1_000_000),
        ] {
            let s = r(start, step);
            let k = s.first_position(Some(edge));
            let past = |v: i128| {
                if step > 0 {
                    v > i128::from(edge)
                } else {
                    v < i128::from(edge)
                }
            };
            // worker 0 has the value nearest the edge
            assert!(past(value(&s, k, 0)), "{start} {step} {edge}: {k}");
            assert!(
                k > 0 && !past(value(&s, k - 1, 0)),
                "{start} {step} {edge}: {k} is not the first"
            );
        }
    }

    #[test]
    fn an_edge_near_the_bigint_end_gives_a_position_that_overflows_instead_of_wrapping() {
        let k = r(1, 1).first_position(Some(i64::MAX));
        assert!(k.checked_mul(SEQ_STRIDE).is_none());
    }

    #[test]
    fn the_edge_query_reads_the_maximum_or_for_a_falling_sequence_the_minimum() {
        assert_eq!(r(1, 1).sql(), "SELECT max(id)::bigint FROM t");
        assert_eq!(r(1, -1).sql(), "SELECT min(id)::bigint FROM t");
    }
}
