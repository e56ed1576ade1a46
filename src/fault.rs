//! Faults the integration tests inject into a debug build through
//! `STORMBENCH_FAULT=<name>:<number>`, to check how stormbench survives what a real run
//! cannot be made to do on demand. A release build has none.

/// The number given for fault `name`, in a debug build only.
pub(crate) fn injected(name: &str) -> Option<u64> {
    if !cfg!(debug_assertions) {
        return None;
    }
    std::env::var("STORMBENCH_FAULT")
        .ok()?
        .strip_prefix(name)?
        .strip_prefix(':')?
        .parse()
        .ok()
}
