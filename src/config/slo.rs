//! Service-level objectives (`slo:`): the limits a run must keep for its exit code to say
//! the database still meets them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Latency, error and throughput limits, for the whole run or one transaction kind.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Objectives {
    /// Median latency at most this, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    /// 95th percentile at most this, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
    /// 99th percentile at most this, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
    /// 99.9th percentile at most this, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p999_ms: Option<f64>,
    /// Slowest transaction at most this, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<f64>,
    /// Failed transactions at most this share of those attempted, percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_error_pct: Option<f64>,
    /// Successful transactions per second at least this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_tps: Option<f64>,
}

/// The `slo:` section: the objectives of the whole run, two run-wide limits, and
/// objectives per transaction kind. The run's objectives are spelled out again rather than
/// a flattened [`Objectives`]: serde cannot combine `flatten` with `deny_unknown_fields`,
/// and an unknown key under `slo:` must stay an error naming it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSlo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p999_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_error_pct: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_tps: Option<f64>,
    /// Largest lag of a transaction's start behind its schedule (open loop), ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_lag_ms: Option<f64>,
    /// Share of sample intervals allowed to break a latency objective of the whole run,
    /// percent; when set, p50/p95/p99/max of the run are judged interval by interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breach_budget_pct: Option<f64>,
    /// Most workload warnings the run may carry (a statement that never returned or changed
    /// a row); 0: a run whose statements found nothing breaks its objectives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_workload_warnings: Option<f64>,
    /// Objectives per transaction kind.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub kinds: BTreeMap<String, Objectives>,
}

impl RawSlo {
    /// Whether any objective is set.
    pub fn is_empty(&self) -> bool {
        *self == RawSlo::default()
    }

    /// The objectives of the whole run.
    pub fn run(&self) -> Objectives {
        Objectives {
            p50_ms: self.p50_ms,
            p95_ms: self.p95_ms,
            p99_ms: self.p99_ms,
            p999_ms: self.p999_ms,
            max_ms: self.max_ms,
            max_error_pct: self.max_error_pct,
            min_tps: self.min_tps,
        }
    }

    fn slot(&mut self, key: &str) -> Option<&mut Option<f64>> {
        Some(match key {
            "p50_ms" => &mut self.p50_ms,
            "p95_ms" => &mut self.p95_ms,
            "p99_ms" => &mut self.p99_ms,
            "p999_ms" => &mut self.p999_ms,
            "max_ms" => &mut self.max_ms,
            "max_error_pct" => &mut self.max_error_pct,
            "min_tps" => &mut self.min_tps,
            "max_lag_ms" => &mut self.max_lag_ms,
            "breach_budget_pct" => &mut self.breach_budget_pct,
            "max_workload_warnings" => &mut self.max_workload_warnings,
            _ => return None,
        })
    }
}

const OBJECTIVES: &str = "p50_ms, p95_ms, p99_ms, p999_ms, max_ms, max_error_pct, min_tps";

impl Objectives {
    fn slot(&mut self, key: &str) -> Option<&mut Option<f64>> {
        Some(match key {
            "p50_ms" => &mut self.p50_ms,
            "p95_ms" => &mut self.p95_ms,
            "p99_ms" => &mut self.p99_ms,
            "p999_ms" => &mut self.p999_ms,
            "max_ms" => &mut self.max_ms,
            "max_error_pct" => &mut self.max_error_pct,
            "min_tps" => &mut self.min_tps,
            _ => return None,
        })
    }

    /// Each objective set, as (name, limit), in a fixed order.
    pub fn set(&self) -> Vec<(&'static str, f64)> {
        [
            ("p50_ms", self.p50_ms),
            ("p95_ms", self.p95_ms),
            ("p99_ms", self.p99_ms),
            ("p999_ms", self.p999_ms),
            ("max_ms", self.max_ms),
            ("max_error_pct", self.max_error_pct),
            ("min_tps", self.min_tps),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }
}

/// Applies one `--slo KEY=VALUE` (`p99_ms=50`, `new_order.p99_ms=80`, `max_lag_ms=20`,
/// `breach_budget_pct=1`).
pub(crate) fn apply_flag(slo: &mut RawSlo, flag: &str) -> Result<(), String> {
    let (key, value) = flag
        .split_once('=')
        .ok_or_else(|| format!("--slo {flag}: write KEY=VALUE, e.g. --slo p99_ms=50"))?;
    let v: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("--slo {flag}: '{value}' is not a number"))?;
    let key = key.trim();
    let slot = match key.rsplit_once('.') {
        Some((kind, k)) => slo.kinds.entry(kind.to_string()).or_default().slot(k),
        None => slo.slot(key),
    };
    match slot {
        Some(s) => {
            *s = Some(v);
            Ok(())
        }
        None => Err(format!(
            "--slo {flag}: unknown objective '{key}'; use one of {OBJECTIVES}, max_lag_ms, \
             breach_budget_pct, max_workload_warnings, or KIND.objective"
        )),
    }
}

/// Checks the limits: each a finite number in its range; kinds that exist; a lag limit only
/// in an open loop.
pub(crate) fn validate(slo: &RawSlo, kinds: &[&str], open_loop: bool, errors: &mut Vec<String>) {
    let mut limits: Vec<(String, f64)> = slo
        .run()
        .set()
        .into_iter()
        .map(|(k, v)| (format!("slo.{k}"), v))
        .collect();
    for (kind, o) in &slo.kinds {
        if !kinds.contains(&kind.as_str()) {
            errors.push(format!(
                "slo.kinds.{kind}: the workload has no transaction kind '{kind}'; its kinds are {}",
                kinds.join(", ")
            ));
        }
        limits.extend(
            o.set()
                .into_iter()
                .map(|(k, v)| (format!("slo.kinds.{kind}.{k}"), v)),
        );
    }
    if let Some(v) = slo.max_lag_ms {
        limits.push(("slo.max_lag_ms".into(), v));
        if !open_loop {
            errors.push(
                "slo.max_lag_ms: schedule lag exists only in an open loop; set rate, or remove \
                 max_lag_ms"
                    .into(),
            );
        }
    }
    if let Some(v) = slo.breach_budget_pct {
        limits.push(("slo.breach_budget_pct".into(), v));
    }
    if let Some(v) = slo.max_workload_warnings {
        limits.push(("slo.max_workload_warnings".into(), v));
    }
    for (path, v) in limits {
        let pct = path.ends_with("_pct");
        if !v.is_finite() || v < 0.0 || (pct && v > 100.0) {
            errors.push(format!(
                "{path}: must be {} (got {})",
                if pct {
                    "a percentage from 0 to 100"
                } else {
                    "a number of 0 or more"
                },
                crate::core::Shown(v)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_set_run_and_kind_objectives() {
        let mut s = RawSlo::default();
        apply_flag(&mut s, "p99_ms=50").unwrap();
        apply_flag(&mut s, "new_order.p99_ms = 80").unwrap();
        apply_flag(&mut s, "breach_budget_pct=1").unwrap();
        apply_flag(&mut s, "max_workload_warnings=0").unwrap();
        assert_eq!(s.max_workload_warnings, Some(0.0));
        assert_eq!(s.p99_ms, Some(50.0));
        assert_eq!(s.kinds["new_order"].p99_ms, Some(80.0));
        assert_eq!(s.breach_budget_pct, Some(1.0));
        assert!(apply_flag(&mut s, "p98_ms=1")
            .unwrap_err()
            .contains("unknown objective 'p98_ms'"));
        assert!(apply_flag(&mut s, "p99_ms")
            .unwrap_err()
            .contains("KEY=VALUE"));
        assert!(apply_flag(&mut s, "p99_ms=fast")
            .unwrap_err()
            .contains("not a number"));
    }

    #[test]
    fn limits_are_checked() {
        let mut s = RawSlo {
            max_error_pct: Some(150.0),
            p99_ms: Some(-1.0),
            max_workload_warnings: Some(f64::NAN),
            ..Default::default()
        };
        s.kinds.insert("nosuch".into(), Objectives::default());
        s.max_lag_ms = Some(5.0);
        let mut errors = Vec::new();
        validate(&s, &["read", "write"], false, &mut errors);
        let all = errors.join("\n");
        assert!(
            all.contains("slo.p99_ms: must be a number of 0 or more"),
            "{all}"
        );
        assert!(
            all.contains("slo.max_error_pct: must be a percentage"),
            "{all}"
        );
        assert!(
            all.contains("slo.max_workload_warnings: must be a number of 0 or more"),
            "{all}"
        );
        assert!(
            all.contains("slo.kinds.nosuch: the workload has no transaction kind"),
            "{all}"
        );
        assert!(
            all.contains("slo.max_lag_ms: schedule lag exists only in an open loop"),
            "{all}"
        );
    }
}
