//! `stormbench list`: the workload registry.

use crate::core::Registry;

/// The registry as `stormbench list` prints it.
pub(crate) fn list(registry: &Registry) -> String {
    let mut out = String::from("Workloads (workload: NAME, mode: MODE, or workload: NAME_MODE):\n");
    for e in registry.entries() {
        out.push_str(&format!(
            "\n  {}\n    {}\n    modes: {} (default {})\n    scale: {}\n",
            e.name,
            e.description(),
            e.modes().join(", "),
            e.modes()[0],
            e.scale_meaning()
        ));
        if let Some(src) = &e.source {
            out.push_str(&format!("    declarative: {}\n", src.display()));
        }
    }
    out
}
