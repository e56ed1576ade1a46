//! The sweep's report as a [`Document`]: JSON and CSV rewritten after every band (so an
//! interrupt or crash loses only the band in flight), an HTML chart, and the console table.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Analysis, Band};
use crate::config::ProgressivePlan;
use crate::db::ServerInfo;
use crate::report::kit::{chart, esc, page_end, page_start, Line};
use crate::report::{Document, Table, WorkloadReport};

/// Version of the sweep report layout.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// Where a sweep is; the report is rewritten after every band, so a reader can find any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SweepStatus {
    /// Bands remain.
    Running,
    /// Every planned band ran.
    Completed,
    /// A band broke the stop rule; later bands did not run.
    Stopped,
    /// Ctrl-C or a signal ended the sweep.
    Interrupted,
}

impl SweepStatus {
    /// The spelling in reports.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SweepStatus::Running => "running",
            SweepStatus::Completed => "completed",
            SweepStatus::Stopped => "stopped",
            SweepStatus::Interrupted => "interrupted",
        }
    }
}

/// Everything a sweep produced so far.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ScalingReport {
    /// Layout version.
    pub(crate) schema_version: u32,
    /// Always "progressive".
    pub(crate) kind: String,
    /// `stormbench x.y.z`.
    pub(crate) tool: String,
    /// Where the sweep is.
    pub(crate) status: SweepStatus,
    /// Why the sweep ended before its last band, if it did.
    pub(crate) stopped_by: Option<String>,
    /// Start, RFC 3339.
    pub(crate) started_at: String,
    /// Target (no password).
    pub(crate) database: String,
    /// Server version and settings.
    pub(crate) server: ServerInfo,
    /// Resolved config, password redacted.
    pub(crate) config: serde_json::Value,
    pub(crate) workload: WorkloadReport,
    /// The planned bands.
    pub(crate) plan: ProgressivePlan,
    /// Finished bands.
    pub(crate) bands: Vec<Band>,
    /// Wall-clock seconds of the sweep so far.
    pub(crate) wall_s: f64,
    /// Seconds of the finished bands' planned time (warm-up + band + cool-down).
    pub(crate) planned_s: f64,
    /// The analysis, once the sweep is over.
    pub(crate) analysis: Option<Analysis>,
}

/// One CSV row per band.
fn band_table(r: &ScalingReport) -> Table {
    let header = [
        "band",
        "workers",
        "connections",
        "measured_s",
        "transactions",
        "failed",
        "error_rate",
        "tps",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "max_ms",
        "service_avg_ms",
        "pool_wait_avg_ms",
    ]
    .map(String::from)
    .to_vec();
    let rows = r
        .bands
        .iter()
        .map(|b| {
            vec![
                b.index.to_string(),
                b.workers.to_string(),
                b.connections.to_string(),
                format!("{:.3}", b.measured_s),
                b.transactions.to_string(),
                b.failed.to_string(),
                format!("{:.6}", b.error_rate),
                format!("{:.3}", b.tps),
                format!("{:.3}", b.latency.p50_ms),
                format!("{:.3}", b.latency.p95_ms),
                format!("{:.3}", b.latency.p99_ms),
                format!("{:.3}", b.latency.max_ms),
                format!("{:.4}", b.service.avg_ms),
                format!("{:.4}", b.pool_wait.avg_ms),
            ]
        })
        .collect();
    Table { header, rows }
}

impl Document for ScalingReport {
    fn console(&self) -> String {
        render_console(self)
    }

    fn table(&self) -> Table {
        band_table(self)
    }

    fn html(&self) -> String {
        render_html(self)
    }
}

/// The HTML page: throughput and p99 against concurrency, the USL curve overlaid.
fn render_html(r: &ScalingReport) -> String {
    let pts = |f: fn(&Band) -> f64| -> Vec<(f64, f64)> {
        r.bands
            .iter()
            .map(|b| (b.connections as f64, f(b)))
            .collect()
    };
    let mut lines = vec![Line::new("measured TPS", pts(|b| b.tps))];
    if let Some(u) = r.analysis.as_ref().and_then(|a| a.usl.as_ref()) {
        let max_n = r.bands.iter().map(|b| b.connections).max().unwrap_or(1) as f64;
        let p = [u.lambda.value, u.sigma.value, u.kappa.value];
        let curve = (0..=100).map(|i| {
            let n = 1.0 + (max_n - 1.0) * i as f64 / 100.0;
            (n, super::fit::usl(&p, n))
        });
        lines.push(Line::new("USL fit", curve.collect()));
    }
    let mut out = page_start("sweep");
    let _ = write!(
        out,
        "<h1>stormbench progressive sweep</h1><p>{} (mode {}) on {} (PostgreSQL {}), {}</p>",
        esc(&r.workload.name),
        esc(&r.workload.mode),
        esc(&r.database),
        esc(&r.server.version),
        r.status.as_str()
    );
    out.push_str(&chart(
        "Throughput against concurrency",
        "connections",
        "transactions/s",
        &lines,
    ));
    out.push_str(&chart(
        "Latency against concurrency",
        "connections",
        "ms",
        &[
            Line::new("p95", pts(|b| b.latency.p95_ms)),
            Line::new("p99", pts(|b| b.latency.p99_ms)),
        ],
    ));
    out.push_str("<pre>");
    out.push_str(&esc(&render_console(r)));
    out.push_str("</pre>");
    page_end(&mut out);
    out
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}"))
        .unwrap_or_else(|| "-".into())
}

/// The fits, the queueing view and the recommendation, under the table of bands.
fn analysis_lines(out: &mut String, r: &ScalingReport, a: &Analysis) {
    match &a.usl {
        Some(u) => {
            let ci = |e: &super::fit::Estimate, d: usize| match (e.ci_low, e.ci_high) {
                (Some(l), Some(h)) => format!("{:.d$} [{:.d$}, {:.d$}]", e.value, l, h),
                _ => format!("{:.d$}", e.value),
            };
            let _ = writeln!(
                out,
                "\nUSL:  sigma (contention) {}, kappa (coherency) {}, lambda {} tps, R² {:.4}",
                ci(&u.sigma, 4),
                ci(&u.kappa, 6),
                ci(&u.lambda, 1),
                u.r2
            );
            match u.peak_concurrency {
                Some(p) => {
                    let _ = writeln!(
                        out,
                        "      predicted peak at {p:.1} connections ({:.0} tps)",
                        u.peak_throughput.unwrap_or(0.0)
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "      no coherency penalty measured: no predicted peak in this range"
                    );
                }
            }
        }
        None => {
            let _ = writeln!(out, "\nUSL:  needs at least 3 bands");
        }
    }
    if let Some(k) = &a.knee {
        let _ = writeln!(
            out,
            "Knee: {:.0} connections ({:.0} tps), strength {:.2} (Kneedle)",
            k.concurrency, k.tps, k.strength
        );
    }
    for c in &a.curves {
        let _ = writeln!(out, "Fit:  {:<12} R² {:>7.4}  {}", c.model, c.r2, c.formula);
    }
    let _ = writeln!(
        out,
        "M/M/c (servers = connections, arrivals = achieved TPS, service = execution time):"
    );
    for (b, q) in r.bands.iter().zip(&a.queueing) {
        let _ = writeln!(
            out,
            "  {:>6} conns: utilization {:.2}, P(wait) {}, wait predicted {} / measured {:.3} ms, latency predicted {} / measured {:.3} ms: {}",
            b.connections, q.utilization, opt(q.p_wait, 3), opt(q.predicted_wait_ms, 3), q.measured_wait_ms,
            opt(q.predicted_latency_ms, 3), q.measured_latency_ms, q.note
        );
    }
    match &a.recommendation {
        Some(rec) => {
            let _ = writeln!(
                out,
                "\nRecommendation: {} connections ({} workers). {}",
                rec.connections, rec.workers, rec.reason
            );
        }
        None => {
            let _ = writeln!(
                out,
                "\nRecommendation: none; no band within 5% of the peak met the stop rule"
            );
        }
    }
}

/// The console table of bands and the analysis.
fn render_console(r: &ScalingReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "============================================================"
    );
    let _ = writeln!(
        out,
        "stormbench Progressive Scaling ({:?}, {} of {} bands, {})",
        r.plan.strategy,
        r.bands.len(),
        r.plan.levels.len(),
        r.status.as_str()
    );
    let _ = writeln!(
        out,
        "============================================================"
    );
    let _ = writeln!(
        out,
        "{:>5} {:>8} {:>6} {:>11} {:>9} {:>9} {:>8} {:>10} {:>12}",
        "band", "workers", "conns", "tps", "p95 ms", "p99 ms", "errors", "pool ms", "dTPS/conn"
    );
    let steps = r.analysis.as_ref().map(|a| &a.steps);
    for (i, b) in r.bands.iter().enumerate() {
        let marginal = steps.and_then(|s| s.get(i)).and_then(|s| s.marginal_tps);
        let _ = writeln!(
            out,
            "{:>5} {:>8} {:>6} {:>11.1} {:>9.3} {:>9.3} {:>8} {:>10.3} {:>12}",
            b.index + 1,
            b.workers,
            b.connections,
            b.tps,
            b.latency.p95_ms,
            b.latency.p99_ms,
            b.failed,
            b.pool_wait.avg_ms,
            opt(marginal, 1)
        );
    }
    let _ = writeln!(
        out,
        "sweep took {:.1}s for {:.1}s of planned band, warm-up and cool-down time ({:.2}s overhead per band)",
        r.wall_s,
        r.planned_s,
        (r.wall_s - r.planned_s) / r.bands.len().max(1) as f64
    );
    if let Some(why) = &r.stopped_by {
        let _ = writeln!(out, "stopped early: {why}");
    }
    if let Some(a) = &r.analysis {
        analysis_lines(&mut out, r, a);
    }
    out
}
