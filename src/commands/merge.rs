//! `stormbench merge SHARD.json...`: one report from the reports of a run's shards.

use std::sync::Arc;

use super::history::read_report;
use crate::cli::{MergeArgs, RunArgs};
use crate::core::{Pacing, RunCounts, Workload, WorkloadParams};
use crate::error::{AppError, Exit};
use crate::report::merge::{merge, whole_config, MergedReport};
use crate::report::{self, Document as _, GroupReport, Report, ReportInput, WorkloadReport};

/// The workload of the reports, built again from the registry, for its own figures (e.g.
/// tpmC) over the merged counts; `None` (said) when it cannot be built here.
fn rebuild(first: &Report, run_workers: usize, parent: &RunArgs) -> Option<Arc<dyn Workload>> {
    let w = &first.workload;
    let why = |e: String| {
        errln!(
            "Warning: the {} workload's own figures (e.g. tpmC) are left out: {e}",
            w.name
        );
    };
    let registry = match super::registry(parent, None) {
        Ok(r) => r,
        Err(e) => {
            why(e.to_string());
            return None;
        }
    };
    let resolved = match registry.resolve(&w.name, Some(&w.mode)) {
        Ok(r) => r,
        Err(_) => {
            why(format!(
                "the workload '{}' is not known here (for a declarative workload, give \
                 --workloads-path with its folder)",
                w.name
            ));
            return None;
        }
    };
    let section = first
        .config
        .get("workload_section")
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    let params = WorkloadParams {
        mode: w.mode.clone(),
        scale: w.scale,
        section: serde_yaml::to_value(&section).unwrap_or(serde_yaml::Value::Null),
        seed: first
            .config
            .get("seed")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(1),
        workers: run_workers,
        registry: registry.clone(),
    };
    match (resolved.info.build)(&params) {
        Ok(w) => Some(w),
        Err(e) => {
            why(e.join("; "));
            None
        }
    }
}

/// The merged run's worker groups, with the shards' rates summed.
fn groups(
    first: &Report,
    merged: &crate::report::merge::Merged,
    report: &Report,
) -> Vec<GroupReport> {
    first
        .workload
        .groups
        .iter()
        .map(|g| {
            let plan = crate::config::GroupPlan {
                name: g.name.clone(),
                workers: g.workers,
                arrival: match merged.group_rates.get(&g.name).copied().flatten() {
                    Some(rate_tps) => crate::config::Arrival::Open {
                        rate_tps,
                        process: crate::config::ArrivalKind::Uniform,
                    },
                    None => crate::config::Arrival::Closed,
                },
                kinds: g
                    .kinds
                    .iter()
                    .filter_map(|k| first.workload.kinds.iter().position(|x| x == k))
                    .collect(),
            };
            GroupReport::of(&[plan], &report.transactions, report.measured_s)
                .pop()
                .unwrap_or_else(|| g.clone())
        })
        .collect()
}

/// The table of shards printed after the merged report.
fn shard_lines(m: &MergedReport) -> String {
    let mut out = format!(
        "\nShards: {} of {} merged ({} workers of {})\n",
        m.shards.len(),
        m.count,
        m.shards.iter().map(|s| s.workers).sum::<usize>(),
        m.run_workers
    );
    out.push_str("  shard  workers  start+ms   measured_s  transactions      tps     p99_ms  failed  status\n");
    for s in &m.shards {
        out.push_str(&format!(
            "  {:>5}  {:>7}  {:>8.1}  {:>11.1}  {:>12}  {:>7.1}  {:>9.3}  {:>6}  {}\n",
            s.index,
            s.workers,
            s.start_offset_ms,
            s.measured_s,
            s.transactions,
            s.tps,
            s.p99_ms,
            s.failed,
            s.status
        ));
    }
    for w in &m.warnings {
        out.push_str(&format!("  warning: {w}\n"));
    }
    out
}

/// Merges the reports, prints the result and writes its files; the exit code is a run's
/// (an SLO broken by the whole run is code 6).
pub(crate) fn run(args: &MergeArgs, parent: &RunArgs) -> Result<Exit, AppError> {
    args.files.check(&args.reports)?;
    let mut runs = Vec::new();
    for p in &args.reports {
        let v = read_report(p, "merge")?;
        let r: Report = serde_json::from_value(v).map_err(|e| {
            AppError::Usage(format!(
                "cannot merge {}: not a stormbench run report of this version ({e})",
                p.display()
            ))
        })?;
        runs.push((p.display().to_string(), r));
    }
    let started = std::time::Instant::now();
    let m = merge(runs).map_err(|e| AppError::Usage(format!("cannot merge: {e}")))?;
    for w in &m.merged.warnings {
        errln!("Warning: {w}");
    }
    let first = &m.first;
    let workload = rebuild(first, m.merged.run_workers, parent);
    let metrics = |counts: &RunCounts| {
        workload
            .as_ref()
            .map(|w| w.metrics(counts))
            .unwrap_or_default()
    };
    let mut report = Report::build(
        &m.result,
        ReportInput {
            config: whole_config(&first.config, &m.merged, m.pool_size, m.target_tps),
            database: first.database.clone(),
            server: first.server.clone(),
            workload: WorkloadReport {
                metrics: Vec::new(),
                measure_series: Vec::new(),
                groups: Vec::new(),
                ..first.workload.clone()
            },
            pool_size: m.pool_size,
            connection_mode: &first.connections.mode,
            target_tps: m.target_tps,
            pacing: first.pacing.as_ref().map(|p| Pacing {
                source: p.source.clone(),
                speed: p.speed,
            }),
            server_xacts: m.server_xacts,
            checks: first.checks.clone(),
            database_stats: first.database_stats.clone(),
            metrics: &metrics,
        },
    );
    // the workload's measures (SQL on the database every shard shares) are the first
    // shard's; its figures from counts were computed again above
    if workload.is_some() {
        let from_counts: Vec<String> = metrics(&RunCounts::default())
            .into_iter()
            .map(|m| m.name)
            .collect();
        let measures = first
            .workload
            .metrics
            .iter()
            .filter(|x| !from_counts.contains(&x.name))
            .cloned()
            .collect();
        report
            .workload
            .add_measures(measures, first.workload.measure_series.clone());
    }
    report.workload.groups = groups(first, &m, &report);
    report.slo = first
        .config
        .get("slo")
        .filter(|v| !v.is_null())
        .and_then(|v| serde_json::from_value::<crate::config::RawSlo>(v.clone()).ok())
        .map(|slo| report::slo::evaluate(&slo, &report));
    report.merged = Some(m.merged.clone());
    if m.partial {
        report.status = "partial".into();
    }
    out!("{}", report.console());
    out!("{}", shard_lines(&m.merged));
    args.files.write(&report)?;
    log::debug!("merged in {:.3} s", started.elapsed().as_secs_f64());
    super::run::exit_code(&report, report.status == "interrupted")
}
