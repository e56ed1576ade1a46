//! A sweep over a workload parameter (e.g. an index's `ef_search`): one band per value,
//! and the curve of a workload figure (e.g. recall) against throughput, read at chosen
//! levels of the figure the way ann-benchmarks reads its plots: the best throughput among
//! the bands that reach the level.

use std::fmt::Write as _;

use serde::Serialize;

use super::output::SweepStatus;
use super::Band;
use crate::db::ServerInfo;
use crate::report::kit::{chart, esc, page_end, page_start, Line};
use crate::report::{figure, Document, Table, WorkloadReport};

/// Version of the parameter sweep report layout.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// Everything a parameter sweep produced so far.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ParamSweepReport {
    pub(crate) schema_version: u32,
    /// Always "parameter".
    pub(crate) kind: String,
    pub(crate) tool: String,
    pub(crate) status: SweepStatus,
    pub(crate) started_at: String,
    pub(crate) database: String,
    pub(crate) server: ServerInfo,
    pub(crate) config: serde_json::Value,
    pub(crate) workload: WorkloadReport,
    /// The parameter swept.
    pub(crate) param: String,
    /// The figure the curve is read by.
    pub(crate) figure: String,
    /// Finished bands, in the order run.
    pub(crate) bands: Vec<ParamBand>,
    /// The curve read at each level, once the sweep is over.
    pub(crate) curve: Vec<CurvePoint>,
    pub(crate) wall_s: f64,
}

/// One band: the parameter's value and what the band measured.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ParamBand {
    pub(crate) value: String,
    #[serde(flatten)]
    pub(crate) band: Band,
}

impl ParamBand {
    /// The band's value of `name`, when measured.
    pub(crate) fn figure(&self, name: &str) -> Option<f64> {
        self.band
            .figures
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value)
    }
}

/// The best band at or above one level of the figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct CurvePoint {
    /// The level.
    pub(crate) at: f64,
    /// The band's parameter value; `None` when no band reached the level.
    pub(crate) value: Option<String>,
    /// The figure that band measured.
    pub(crate) figure: Option<f64>,
    pub(crate) tps: Option<f64>,
    pub(crate) qps: Option<f64>,
    pub(crate) p99_ms: Option<f64>,
}

/// For each level, the band of highest throughput whose figure reaches it.
pub(crate) fn read_curve(bands: &[ParamBand], figure: &str, at: &[f64]) -> Vec<CurvePoint> {
    at.iter()
        .map(|&level| {
            let best = bands
                .iter()
                .filter_map(|b| b.figure(figure).map(|f| (b, f)))
                .filter(|(_, f)| *f >= level)
                .max_by(|a, b| a.0.band.tps.total_cmp(&b.0.band.tps));
            match best {
                Some((b, f)) => CurvePoint {
                    at: level,
                    value: Some(b.value.clone()),
                    figure: Some(f),
                    tps: Some(b.band.tps),
                    qps: Some(b.band.qps),
                    p99_ms: Some(b.band.latency.p99_ms),
                },
                None => CurvePoint {
                    at: level,
                    value: None,
                    figure: None,
                    tps: None,
                    qps: None,
                    p99_ms: None,
                },
            }
        })
        .collect()
}

/// Names of every figure the bands measured, in first-seen order.
fn figure_names(r: &ParamSweepReport) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for b in &r.bands {
        for f in &b.band.figures {
            if !out.contains(&f.name) {
                out.push(f.name.clone());
            }
        }
    }
    out
}

impl Document for ParamSweepReport {
    fn console(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n{} (mode {}): sweep of {} ({}), {} bands in {:.0}s",
            self.workload.name,
            self.workload.mode,
            self.param,
            self.status.as_str(),
            self.bands.len(),
            self.wall_s
        );
        let names = figure_names(self);
        let _ = write!(
            out,
            "  {:>12} {:>12} {:>10} {:>10} {:>8}",
            self.param, "TPS", "p50 ms", "p99 ms", "failed"
        );
        for n in &names {
            let _ = write!(out, " {n:>14}");
        }
        out.push('\n');
        for b in &self.bands {
            let _ = write!(
                out,
                "  {:>12} {:>12.1} {:>10.3} {:>10.3} {:>8}",
                b.value, b.band.tps, b.band.latency.p50_ms, b.band.latency.p99_ms, b.band.failed
            );
            for n in &names {
                let v = b.figure(n).map(figure).unwrap_or_else(|| "-".into());
                let _ = write!(out, " {v:>14}");
            }
            out.push('\n');
        }
        for c in &self.curve {
            match (&c.value, c.tps, c.p99_ms) {
                (Some(v), Some(tps), Some(p99)) => {
                    let _ = writeln!(
                        out,
                        "  at {} >= {}: {tps:.1} TPS, p99 {p99:.3} ms ({} {v}, {} {})",
                        self.figure,
                        c.at,
                        self.param,
                        self.figure,
                        c.figure.map(figure).unwrap_or_default()
                    );
                }
                _ => {
                    let _ = writeln!(out, "  at {} >= {}: no band reached it", self.figure, c.at);
                }
            }
        }
        out
    }

    fn table(&self) -> Table {
        let names = figure_names(self);
        let mut header: Vec<String> = [
            "band",
            "param",
            "value",
            "measured_s",
            "transactions",
            "failed",
            "tps",
            "qps",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "max_ms",
        ]
        .map(String::from)
        .to_vec();
        header.extend(names.iter().cloned());
        let rows = self
            .bands
            .iter()
            .map(|b| {
                let mut row = vec![
                    b.band.index.to_string(),
                    self.param.clone(),
                    b.value.clone(),
                    format!("{:.3}", b.band.measured_s),
                    b.band.transactions.to_string(),
                    b.band.failed.to_string(),
                    format!("{:.3}", b.band.tps),
                    format!("{:.3}", b.band.qps),
                    format!("{:.3}", b.band.latency.p50_ms),
                    format!("{:.3}", b.band.latency.p95_ms),
                    format!("{:.3}", b.band.latency.p99_ms),
                    format!("{:.3}", b.band.latency.max_ms),
                ];
                row.extend(
                    names
                        .iter()
                        .map(|n| b.figure(n).map(|v| v.to_string()).unwrap_or_default()),
                );
                row
            })
            .collect();
        Table { header, rows }
    }

    fn html(&self) -> String {
        let mut out = page_start(&format!("{} sweep of {}", self.workload.name, self.param));
        let _ = write!(
            out,
            "<h1>{} (mode {}): {} sweep</h1><p>{} bands, status {}, {}</p>",
            esc(&self.workload.name),
            esc(&self.workload.mode),
            esc(&self.param),
            self.bands.len(),
            self.status.as_str(),
            esc(&self.database)
        );
        let pts: Vec<(f64, f64)> = self
            .bands
            .iter()
            .filter_map(|b| b.figure(&self.figure).map(|f| (f, b.band.tps)))
            .collect();
        if !pts.is_empty() {
            out.push_str(&chart(
                &format!("{} against throughput", self.figure),
                &self.figure,
                "transactions/s",
                &[Line::new(format!("bands of {}", self.param), pts)],
            ));
        }
        let by_value: Vec<(f64, f64)> = self
            .bands
            .iter()
            .filter_map(|b| {
                b.value
                    .parse::<f64>()
                    .ok()
                    .map(|v| (v, b.band.latency.p99_ms))
            })
            .collect();
        if !by_value.is_empty() {
            out.push_str(&chart(
                &format!("p99 latency against {}", self.param),
                &self.param,
                "ms",
                &[Line::new("p99", by_value)],
            ));
        }
        let names = figure_names(self);
        let _ = write!(
            out,
            "<table><tr><th>{}</th><th>TPS</th><th>p50 ms</th><th>p99 ms</th><th>failed</th>",
            esc(&self.param)
        );
        for n in &names {
            let _ = write!(out, "<th>{}</th>", esc(n));
        }
        out.push_str("</tr>");
        for b in &self.bands {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{:.1}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td>",
                esc(&b.value),
                b.band.tps,
                b.band.latency.p50_ms,
                b.band.latency.p99_ms,
                b.band.failed
            );
            for n in &names {
                let _ = write!(
                    out,
                    "<td>{}</td>",
                    b.figure(n).map(figure).unwrap_or_else(|| "-".into())
                );
            }
            out.push_str("</tr>");
        }
        out.push_str("</table><h2>Read off the curve</h2><ul>");
        for c in &self.curve {
            let _ = match (&c.value, c.tps, c.p99_ms) {
                (Some(v), Some(t), Some(p)) => write!(
                    out,
                    "<li>{} &ge; {}: {t:.1} TPS, p99 {p:.3} ms ({} {})</li>",
                    esc(&self.figure),
                    c.at,
                    esc(&self.param),
                    esc(v)
                ),
                _ => write!(
                    out,
                    "<li>{} &ge; {}: no band reached it</li>",
                    esc(&self.figure),
                    c.at
                ),
            };
        }
        out.push_str("</ul>");
        page_end(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Metric;

    fn band(value: &str, tps: f64, recall: f64) -> ParamBand {
        let mut b = crate::scaling::analysis::tests::band(0, 1, tps, 1000.0 / tps);
        b.figures = vec![Metric {
            name: "recall".into(),
            value: recall,
            unit: String::new(),
            description: String::new(),
        }];
        ParamBand {
            value: value.into(),
            band: b,
        }
    }

    #[test]
    fn the_curve_takes_the_fastest_band_that_reaches_each_level() {
        let bands = vec![
            band("10", 5000.0, 0.80),
            band("40", 3000.0, 0.93),
            band("80", 2500.0, 0.97),
            band("160", 1000.0, 0.99),
            // slower and no better: never chosen
            band("320", 900.0, 0.99),
        ];
        let c = read_curve(&bands, "recall", &[0.9, 0.95, 0.99, 0.999]);
        assert_eq!(c[0].value.as_deref(), Some("40"));
        assert_eq!(c[0].tps, Some(3000.0));
        assert_eq!(c[1].value.as_deref(), Some("80"));
        assert_eq!(c[2].value.as_deref(), Some("160"));
        assert_eq!(c[3].value, None);
        assert_eq!(read_curve(&bands, "nope", &[0.5])[0].value, None);
    }
}
