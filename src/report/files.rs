//! Report files: JSON (written whole, then renamed into place) and the CSV time series.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

use super::Report;

/// Writes `bytes` to a temporary name beside `path`, then renames it into place, so a
/// reader never sees half a file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    let tmp = path.with_extension("tmp~");
    let mut f = std::fs::File::create(&tmp).with_context(|| {
        format!(
            "cannot write {}; check the path and permissions",
            path.display()
        )
    })?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Checks, before a run, that a report can be written at `path` (creating its directory),
/// so a bad path fails in a second instead of after the measurement.
pub fn check_writable(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "cannot create directory {} for {}; choose another output path",
                dir.display(),
                path.display()
            )
        })?;
    }
    if path.is_dir() {
        anyhow::bail!(
            "{} is a directory; give a file name for the report",
            path.display()
        );
    }
    let probe = path.with_extension("probe~");
    std::fs::File::create(&probe).with_context(|| {
        format!(
            "cannot write {}; check the path and permissions",
            path.display()
        )
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Writes the JSON report.
pub fn write_json(r: &Report, path: &Path) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec_pretty(r).context("serializing the report")?;
    write_atomically(path, &bytes)
}

/// Writes the self-contained HTML report.
pub fn write_html(r: &Report, path: &Path) -> anyhow::Result<()> {
    write_atomically(path, super::html::render(r).as_bytes())
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
    write_atomically(path, &bytes)
}
