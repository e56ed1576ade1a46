//! Built-in workloads, one module each; their SQL lives in the top-level `workloads/<name>/`.

pub(crate) mod connection;
pub(crate) mod declarative;
pub(crate) mod noop;
pub(crate) mod replay;
pub(crate) mod simple;
pub(crate) mod tpcc;

use crate::core::Registry;

/// The registry of built-in workloads.
pub fn registry() -> Registry {
    Registry::new(vec![
        simple::info(),
        tpcc::info(),
        connection::info(),
        replay::info(),
        noop::info(),
    ])
}

/// Checks `lo <= v <= hi` and reports the YAML path when it is not.
pub(crate) fn check_range(errors: &mut Vec<String>, path: &str, v: f64, lo: f64, hi: f64) {
    if !(v.is_finite() && v >= lo && v <= hi) {
        errors.push(format!(
            "{path}: must be between {lo} and {hi} (got {})",
            crate::core::Shown(v)
        ));
    }
}
