//! Comparing two runs' reports: throughput per transaction kind judged on per-interval
//! rates with the standard error corrected for autocorrelation, latency percentiles read
//! from the full HDR histograms both reports store.

use serde::Serialize;
use serde_json::Value;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::decode_histogram;

/// A report read back from its JSON, with what comparing needs.
pub(crate) struct RunFacts {
    pub(crate) workload: String,
    pub(crate) mode: String,
    pub(crate) scale: u64,
    pub(crate) tool: String,
    pub(crate) server: String,
    /// Per kind: name, per-interval rates (transactions per second).
    pub(crate) kinds: Vec<(String, Vec<f64>)>,
    /// Per kind: the latency histogram (µs).
    pub(crate) latency: Vec<Option<hdrhistogram::Histogram<u64>>>,
}

impl RunFacts {
    /// Reads the parts of a report that comparing needs; the error says what is missing.
    pub(crate) fn from_json(v: &Value) -> Result<RunFacts, String> {
        let s = |p: &str| {
            v.pointer(p)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("it has no {p}; is it a stormbench run report?"))
        };
        let names: Vec<String> = v
            .pointer("/transactions")
            .and_then(Value::as_array)
            .ok_or("it has no /transactions; is it a stormbench run report?")?
            .iter()
            .filter_map(|k| k["name"].as_str().map(str::to_string))
            .collect();
        let series = v
            .pointer("/time_series")
            .and_then(Value::as_array)
            .ok_or("it has no /time_series")?;
        let mut kinds: Vec<(String, Vec<f64>)> =
            names.iter().map(|n| (n.clone(), Vec::new())).collect();
        let mut prev_t = 0.0;
        for p in series {
            let t = p["t_s"].as_f64().unwrap_or(prev_t);
            let dt = t - prev_t;
            prev_t = t;
            if dt <= 0.0 {
                continue;
            }
            let counts = p["by_kind"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            for (i, (_, rates)) in kinds.iter_mut().enumerate() {
                let c = counts.get(i).and_then(Value::as_f64).unwrap_or(0.0);
                rates.push(c / dt);
            }
        }
        let latency = names
            .iter()
            .map(|n| {
                v.pointer("/histograms/latency")
                    .and_then(|h| h.get(n))
                    .and_then(Value::as_str)
                    .and_then(decode_histogram)
            })
            .collect();
        Ok(RunFacts {
            workload: s("/workload/name")?,
            mode: s("/workload/mode")?,
            scale: v
                .pointer("/workload/scale")
                .and_then(Value::as_u64)
                .ok_or("it has no /workload/scale")?,
            tool: s("/tool").unwrap_or_default(),
            server: s("/server/version").unwrap_or_default(),
            kinds,
            latency,
        })
    }
}

/// Mean, variance and effective sample size of an autocorrelated series: n (1 - r1) /
/// (1 + r1) with r1 the lag-1 autocorrelation (AR(1)), at least 2 and at most n.
pub(crate) fn effective_stats(x: &[f64]) -> (f64, f64, f64) {
    let n = x.len() as f64;
    if x.len() < 2 {
        return (x.first().copied().unwrap_or(0.0), 0.0, n);
    }
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let c0: f64 = x.iter().map(|v| (v - mean).powi(2)).sum();
    let c1: f64 = x.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum();
    let r1 = if c0 > 0.0 {
        (c1 / c0).clamp(-0.99, 0.99)
    } else {
        0.0
    };
    let n_eff = (n * (1.0 - r1) / (1.0 + r1)).clamp(2.0, n);
    (mean, var, n_eff)
}

/// Welch's test on two autocorrelated series (means of per-interval rates), with each
/// variance over its effective sample size: (mean of a, mean of b, two-sided p-value).
pub(crate) fn welch(a: &[f64], b: &[f64]) -> (f64, f64, f64) {
    let (ma, va, na) = effective_stats(a);
    let (mb, vb, nb) = effective_stats(b);
    (ma, mb, welch_p(ma, va, na, mb, vb, nb))
}

fn welch_p(ma: f64, va: f64, na: f64, mb: f64, vb: f64, nb: f64) -> f64 {
    let (sa, sb) = (va / na, vb / nb);
    let se = (sa + sb).sqrt();
    if se == 0.0 || !se.is_finite() {
        return if ma == mb { 1.0 } else { 0.0 };
    }
    let t = (mb - ma) / se;
    let df = (sa + sb).powi(2) / (sa * sa / (na - 1.0).max(1.0) + sb * sb / (nb - 1.0).max(1.0));
    match StudentsT::new(0.0, 1.0, df.max(1.0)) {
        Ok(d) => 2.0 * (1.0 - d.cdf(t.abs())),
        Err(_) => 1.0,
    }
}

/// One transaction kind, base against new.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct KindComparison {
    pub(crate) kind: String,
    pub(crate) base_tps: f64,
    pub(crate) new_tps: f64,
    /// Relative change of throughput, percent.
    pub(crate) tps_change_pct: f64,
    /// Two-sided p-value of the throughput difference (autocorrelation-corrected).
    pub(crate) tps_p_value: f64,
    /// p50, p95, p99, p99.9 of base and new, ms, and their relative changes, percent.
    pub(crate) latency: Vec<PercentileComparison>,
    /// faster | slower | no significant change.
    pub(crate) throughput_verdict: String,
    /// Whether this kind regressed beyond the threshold.
    pub(crate) regressed: bool,
    /// Per-interval rates of base and new (for the HTML chart).
    #[serde(skip)]
    pub(crate) rates: [Vec<f64>; 2],
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct PercentileComparison {
    pub(crate) percentile: String,
    pub(crate) base_ms: f64,
    pub(crate) new_ms: f64,
    pub(crate) change_pct: f64,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Comparison {
    /// `stormbench x.y.z`.
    pub(crate) tool: String,
    pub(crate) workload: String,
    pub(crate) mode: String,
    pub(crate) scale: u64,
    /// Significance level of the throughput test.
    pub(crate) alpha: f64,
    /// A change smaller than this, percent, is not called a regression.
    pub(crate) threshold_pct: f64,
    pub(crate) kinds: Vec<KindComparison>,
    /// Version differences worth knowing.
    pub(crate) warnings: Vec<String>,
    /// One line: what changed.
    pub(crate) verdict: String,
    pub(crate) regressed: bool,
}

fn change(a: f64, b: f64) -> f64 {
    if a == 0.0 {
        if b == 0.0 {
            0.0
        } else {
            100.0
        }
    } else {
        (b / a - 1.0) * 100.0
    }
}

/// Compares `base` and `new`; refuses runs of different workloads, modes or scales.
pub(crate) fn compare(
    base: &RunFacts,
    new: &RunFacts,
    alpha: f64,
    threshold_pct: f64,
) -> Result<Comparison, String> {
    for (what, a, b) in [
        ("workload", &base.workload, &new.workload),
        ("mode", &base.mode, &new.mode),
    ] {
        if a != b {
            return Err(format!(
                "the runs are of different {what}s ({a} and {b}); compare runs of the same workload, mode and scale"
            ));
        }
    }
    if base.scale != new.scale {
        return Err(format!(
            "the runs are at different scales ({} and {}); compare runs of the same workload, mode and scale",
            base.scale, new.scale
        ));
    }
    let mut warnings = Vec::new();
    if base.tool != new.tool {
        warnings.push(format!(
            "stormbench versions differ: {} and {}",
            base.tool, new.tool
        ));
    }
    if base.server != new.server {
        warnings.push(format!(
            "server versions differ: {} and {}",
            base.server, new.server
        ));
    }
    let mut kinds = Vec::new();
    for (i, (name, a)) in base.kinds.iter().enumerate() {
        let Some(j) = new.kinds.iter().position(|(n, _)| n == name) else {
            warnings.push(format!("kind {name} is only in the base run"));
            continue;
        };
        let b = &new.kinds[j].1;
        let (ma, mb, p) = welch(a, b);
        let tps_change = change(ma, mb);
        let significant = p < alpha;
        let throughput_verdict = match (significant, tps_change < 0.0) {
            (false, _) => "no significant change",
            (true, true) => "slower",
            (true, false) => "faster",
        }
        .to_string();
        let mut latency = Vec::new();
        if let (Some(Some(ha)), Some(Some(hb))) = (base.latency.get(i), new.latency.get(j)) {
            for (label, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("p99.9", 0.999)] {
                let (x, y) = (
                    ha.value_at_quantile(q) as f64 / 1000.0,
                    hb.value_at_quantile(q) as f64 / 1000.0,
                );
                latency.push(PercentileComparison {
                    percentile: label.into(),
                    base_ms: x,
                    new_ms: y,
                    change_pct: change(x, y),
                });
            }
        }
        let p99_worse = latency
            .iter()
            .find(|l| l.percentile == "p99")
            .is_some_and(|l| l.change_pct > threshold_pct);
        let regressed = (significant && tps_change < -threshold_pct) || p99_worse;
        kinds.push(KindComparison {
            kind: name.clone(),
            base_tps: ma,
            new_tps: mb,
            tps_change_pct: tps_change,
            tps_p_value: p,
            latency,
            throughput_verdict,
            regressed,
            rates: [a.clone(), b.clone()],
        });
    }
    let regressed = kinds.iter().any(|k| k.regressed);
    let verdict = if regressed {
        let which: Vec<&str> = kinds
            .iter()
            .filter(|k| k.regressed)
            .map(|k| k.kind.as_str())
            .collect();
        format!(
            "REGRESSION in {} (beyond {threshold_pct}%)",
            which.join(", ")
        )
    } else if kinds
        .iter()
        .any(|k| k.throughput_verdict != "no significant change")
    {
        "changed, within the threshold".to_string()
    } else {
        "no significant change".to_string()
    };
    Ok(Comparison {
        tool: format!("stormbench {}", env!("CARGO_PKG_VERSION")),
        workload: base.workload.clone(),
        mode: base.mode.clone(),
        scale: base.scale,
        alpha,
        threshold_pct,
        kinds,
        warnings,
        verdict,
        regressed,
    })
}

impl super::Document for Comparison {
    fn console(&self) -> String {
        self.render()
    }

    fn table(&self) -> super::document::Table {
        let mut header: Vec<String> = [
            "kind",
            "base_tps",
            "new_tps",
            "tps_change_pct",
            "tps_p_value",
            "throughput",
            "regressed",
        ]
        .map(String::from)
        .to_vec();
        for p in ["p50", "p95", "p99", "p99.9"] {
            header.extend([
                format!("base_{p}_ms"),
                format!("new_{p}_ms"),
                format!("{p}_change_pct"),
            ]);
        }
        let rows = self
            .kinds
            .iter()
            .map(|k| {
                let mut row = vec![
                    k.kind.clone(),
                    format!("{:.3}", k.base_tps),
                    format!("{:.3}", k.new_tps),
                    format!("{:.3}", k.tps_change_pct),
                    format!("{:.6}", k.tps_p_value),
                    k.throughput_verdict.clone(),
                    k.regressed.to_string(),
                ];
                for l in &k.latency {
                    row.extend([
                        format!("{:.3}", l.base_ms),
                        format!("{:.3}", l.new_ms),
                        format!("{:.3}", l.change_pct),
                    ]);
                }
                row.resize(header.len(), String::new());
                row
            })
            .collect();
        super::document::Table { header, rows }
    }

    fn html(&self) -> String {
        use super::kit::{chart, esc, page_end, page_start, Line};
        use std::fmt::Write as _;
        let mut out = page_start(&format!("compare {}", self.workload));
        let _ = write!(
            out,
            "<h1>stormbench compare</h1><p>{} (mode {}, scale {}), base against new; threshold {}%, significance level {}</p><h2>Verdict: <span class=\"{}\">{}</span></h2>",
            esc(&self.workload),
            esc(&self.mode),
            self.scale,
            self.threshold_pct,
            self.alpha,
            if self.regressed { "fail" } else { "pass" },
            esc(&self.verdict)
        );
        for w in &self.warnings {
            let _ = write!(out, "<p class=\"fail\">{}</p>", esc(w));
        }
        out.push_str("<table><tr><th>kind</th><th>base TPS</th><th>new TPS</th><th>change</th><th>p</th><th>throughput</th><th>p50 base / new</th><th>p99 base / new</th><th>p99.9 base / new</th></tr>");
        for k in &self.kinds {
            let pct = |name: &str| {
                k.latency
                    .iter()
                    .find(|l| l.percentile == name)
                    .map(|l| {
                        format!(
                            "{:.3} / {:.3} ms ({:+.1}%)",
                            l.base_ms, l.new_ms, l.change_pct
                        )
                    })
                    .unwrap_or_default()
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:+.1}%</td><td>{:.4}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&k.kind),
                k.base_tps,
                k.new_tps,
                k.tps_change_pct,
                k.tps_p_value,
                if k.regressed { "fail" } else { "pass" },
                esc(&k.throughput_verdict),
                pct("p50"),
                pct("p99"),
                pct("p99.9")
            );
        }
        out.push_str("</table>");
        for k in &self.kinds {
            let line = |label: &str, r: &[f64]| {
                Line::new(
                    label,
                    r.iter()
                        .enumerate()
                        .map(|(i, v)| ((i + 1) as f64, *v))
                        .collect(),
                )
            };
            out.push_str(&chart(
                &format!("{}: throughput per interval", k.kind),
                "interval",
                "transactions/s",
                &[line("base", &k.rates[0]), line("new", &k.rates[1])],
            ));
        }
        let _ = write!(out, "<p class=\"empty\">{}</p>", esc(&self.tool));
        page_end(&mut out);
        out
    }
}

impl Comparison {
    /// The console table.
    pub(crate) fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut out = format!(
            "Compare: {} (mode {}, scale {}), base -> new\n",
            self.workload, self.mode, self.scale
        );
        for w in &self.warnings {
            let _ = writeln!(out, "WARNING: {w}");
        }
        let _ = writeln!(
            out,
            "{:<16} {:>10} {:>10} {:>8} {:>8}  {:<22} {:>9} {:>9} {:>8}",
            "kind",
            "base tps",
            "new tps",
            "change",
            "p",
            "throughput",
            "base p99",
            "new p99",
            "change"
        );
        for k in &self.kinds {
            let p99 = k.latency.iter().find(|l| l.percentile == "p99");
            let _ = writeln!(
                out,
                "{:<16} {:>10.1} {:>10.1} {:>+7.1}% {:>8.4}  {:<22} {:>9} {:>9} {:>8}",
                k.kind,
                k.base_tps,
                k.new_tps,
                k.tps_change_pct,
                k.tps_p_value,
                k.throughput_verdict,
                p99.map(|l| format!("{:.3}", l.base_ms)).unwrap_or_default(),
                p99.map(|l| format!("{:.3}", l.new_ms)).unwrap_or_default(),
                p99.map(|l| format!("{:+.1}%", l.change_pct))
                    .unwrap_or_default(),
            );
        }
        let _ = writeln!(out, "Verdict: {}", self.verdict);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autocorrelation_shrinks_the_sample() {
        let iid: Vec<f64> = (0..100).map(|i| ((i * 7919) % 13) as f64).collect();
        let (_, _, n_iid) = effective_stats(&iid);
        let trending: Vec<f64> = (0..100).map(|i| (i / 10) as f64).collect();
        let (_, _, n_trend) = effective_stats(&trending);
        assert!(n_iid > 50.0, "{n_iid}");
        assert!(n_trend < 10.0, "{n_trend}");
    }

    #[test]
    fn welch_sees_a_shift_and_not_noise() {
        let a: Vec<f64> = (0..60).map(|i| 1000.0 + ((i * 37) % 11) as f64).collect();
        let same: Vec<f64> = (0..60).map(|i| 1000.0 + ((i * 53) % 11) as f64).collect();
        let slower: Vec<f64> = a.iter().map(|v| v * 0.9).collect();
        assert!(welch(&a, &same).2 > 0.05);
        assert!(welch(&a, &slower).2 < 0.001);
        assert_eq!(welch(&a, &a).2, 1.0);
    }
}
