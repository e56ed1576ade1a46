//! Whether each statement ever returned or changed a row: a statement whose every
//! execution touched nothing (its parameters miss the loaded keys, a table left empty)
//! makes a fast, error-free run that measured nothing, so the run says so.

use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

use super::spec::Spec;

/// An execution returned or changed no row.
const EMPTY: u8 = 1;
/// An execution returned or changed at least one row.
const TOUCHED: u8 = 2;

/// Per statement (indexed as the prepared set is: every transaction's statements in
/// order), what its executions' command tags counted. Each flag is set once and then only
/// read, so the workers share the flags' cache lines without writing them.
pub(super) struct RowsSeen {
    flags: Box<[AtomicU8]>,
    /// Whether the statement's command tag counts rows (`SELECT`, `INSERT`, `UPDATE`,
    /// `DELETE`, `MERGE`); a `CALL` or a `SET` counts none and is not judged.
    counted: Box<[bool]>,
}

impl RowsSeen {
    pub(super) fn new(spec: &Spec) -> Self {
        let counted: Box<[bool]> = spec
            .transactions
            .iter()
            .flat_map(|t| t.statements.iter())
            .map(|s| crate::core::script::counts_rows(&s.sql))
            .collect();
        RowsSeen {
            flags: counted.iter().map(|_| AtomicU8::new(0)).collect(),
            counted,
        }
    }

    /// Statement `at` succeeded with `rows` rows returned or changed.
    #[inline]
    pub(super) fn saw(&self, at: usize, rows: u64) {
        let bit = if rows > 0 { TOUCHED } else { EMPTY };
        if let Some(f) = self.flags.get(at) {
            if f.load(Relaxed) & bit == 0 {
                f.fetch_or(bit, Relaxed);
            }
        }
    }

    /// The statements that ran and never returned or changed a row since the last call,
    /// as `(transaction, statement)` indexes; the flags start over.
    pub(super) fn take_untouched(&self, spec: &Spec) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut at = 0;
        for (k, t) in spec.transactions.iter().enumerate() {
            for i in 0..t.statements.len() {
                let f = self.flags[at].swap(0, Relaxed);
                if self.counted[at] && f == EMPTY {
                    out.push((k, i));
                }
                at += 1;
            }
        }
        out
    }
}

impl super::Declarative {
    /// One warning per statement that ran in the last measured run (warm-up included) and
    /// never returned or changed a row.
    pub(super) fn untouched(&self) -> Vec<String> {
        let spec = self.spec();
        self.shared
            .seen
            .take_untouched(spec)
            .into_iter()
            .map(|(k, i)| {
                format!(
                    "statement {} returned or changed no row in any of its executions: check that its parameters reach the loaded data (a key range past the rows loaded, a value no row has) and that its tables are not empty",
                    spec.transactions[k].statements[i].label
                )
            })
            .collect()
    }
}
