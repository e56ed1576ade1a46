//! Report files: JSON, HTML and the CSV time series (written through `output`).

use std::path::Path;

use anyhow::Context as _;

use super::Report;

/// Writes the JSON report.
pub fn write_json(r: &Report, path: &Path) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec_pretty(r).context("serializing the report")?;
    super::output::write_output(path, &bytes)
}

/// Writes the self-contained HTML report.
pub fn write_html(r: &Report, path: &Path) -> anyhow::Result<()> {
    super::output::write_output(path, super::html::render(r).as_bytes())
}

/// Writes the time series as CSV: one row per interval, a count column per kind.
pub fn write_csv(r: &Report, path: &Path) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "interval",
        "t_s",
        "transactions",
        "errors",
        "retries",
        "tps",
        "qps",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "max_ms",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(r.workload.kinds.iter().map(|k| format!("{k}_transactions")));
    w.write_record(&header)?;
    for p in &r.time_series {
        let mut row = vec![
            p.interval.to_string(),
            format!("{:.3}", p.t_s),
            p.transactions.to_string(),
            p.errors.to_string(),
            p.retries.to_string(),
            format!("{:.3}", p.tps),
            format!("{:.3}", p.qps),
            format!("{:.3}", p.p50_ms),
            format!("{:.3}", p.p95_ms),
            format!("{:.3}", p.p99_ms),
            format!("{:.3}", p.max_ms),
        ];
        row.extend(p.by_kind.iter().map(u64::to_string));
        w.write_record(&row)?;
    }
    let bytes = w.into_inner().context("writing CSV")?;
    super::output::write_output(path, &bytes)
}
