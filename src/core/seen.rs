//! Whether each statement of a workload ever returned or changed a row: a statement
//! whose every execution touched nothing (its parameters miss the loaded keys, a table
//! left empty) makes a fast, error-free run that measured nothing, so the run says so.

use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

/// An execution returned or changed no row.
const EMPTY: u8 = 1;
/// An execution returned or changed at least one row.
const TOUCHED: u8 = 2;

/// Per statement (indexed as the workload chooses), what its executions' command tags
/// counted. Each flag is set once and then only read, so the workers share the flags'
/// cache lines without writing them.
#[derive(Debug)]
pub(crate) struct RowsSeen {
    flags: Box<[AtomicU8]>,
    /// Whether the statement's command tag counts rows ([`super::script::counts_rows`]);
    /// a `CALL` or a `SET` counts none and is not judged.
    counted: Box<[bool]>,
}

impl RowsSeen {
    /// Flags for statements whose SQL is each of `sql` (`None`: not judged).
    pub(crate) fn new<'a>(sql: impl IntoIterator<Item = Option<&'a str>>) -> Self {
        let counted: Box<[bool]> = sql
            .into_iter()
            .map(|s| s.is_some_and(super::script::counts_rows))
            .collect();
        RowsSeen {
            flags: counted.iter().map(|_| AtomicU8::new(0)).collect(),
            counted,
        }
    }

    /// Statement `at` succeeded with `rows` rows returned or changed.
    #[inline]
    pub(crate) fn saw(&self, at: usize, rows: u64) {
        let bit = if rows > 0 { TOUCHED } else { EMPTY };
        if let Some(f) = self.flags.get(at) {
            if f.load(Relaxed) & bit == 0 {
                f.fetch_or(bit, Relaxed);
            }
        }
    }

    /// The statements that ran and never returned or changed a row since the last call;
    /// the flags start over.
    pub(crate) fn take_untouched(&self) -> Vec<usize> {
        self.flags
            .iter()
            .zip(self.counted.iter())
            .enumerate()
            .filter_map(|(i, (f, counted))| (f.swap(0, Relaxed) == EMPTY && *counted).then_some(i))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_only_statements_that_ran_and_never_found_a_row() {
        let seen = RowsSeen::new([
            Some("SELECT 1"),
            Some("UPDATE t SET v = 1"),
            Some("CALL p()"),
            None,
            Some("DELETE FROM t"),
        ]);
        seen.saw(0, 0);
        seen.saw(0, 3);
        seen.saw(1, 0);
        seen.saw(1, 0);
        seen.saw(2, 0);
        seen.saw(3, 0);
        seen.saw(99, 0);
        // statement 4 never ran: nothing to say
        assert_eq!(seen.take_untouched(), [1]);
        // each call judges the executions since the last one
        assert!(seen.take_untouched().is_empty());
        seen.saw(0, 0);
        assert_eq!(seen.take_untouched(), [0]);
    }
}
