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
    /// The workload's word on the run (`workload.warnings`: a statement that found no row).
    pub(crate) warnings: Vec<String>,
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
        // a histogram that is there must decode: a damaged one would drop the latency
        // comparison and let a regression through
        let latency = names
            .iter()
            .map(
                |n| match v.pointer("/histograms/latency").and_then(|h| h.get(n)) {
                    None => Ok(None),
                    Some(h) => h
                        .as_str()
                        .and_then(decode_histogram)
                        .map(Some)
                        .ok_or_else(|| {
                            format!(
                                "its histograms.latency.{n} is not a readable HDR histogram (the \
                         report was damaged or edited); compare the run's original report"
                            )
                        }),
                },
            )
            .collect::<Result<_, String>>()?;
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
            warnings: v
                .pointer("/workload/warnings")
                .and_then(Value::as_array)
                .map(|w| {
                    w.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
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
#[cfg(test)]
pub(crate) fn welch(a: &[f64], b: &[f64]) -> (f64, f64, f64) {
    let (ma, va, na) = effective_stats(a);
    let (mb, vb, nb) = effective_stats(b);
    (ma, mb, welch_p(ma, mb, &[(va / na, na), (vb / nb, nb)]))
}

/// Two-sided p-value of `mb - ma` whose variance is the sum of `parts`, each a variance
/// with its sample size (Welch-Satterthwaite degrees of freedom).
fn welch_p(ma: f64, mb: f64, parts: &[(f64, f64)]) -> f64 {
    let var: f64 = parts.iter().map(|(v, _)| v).sum();
    let se = var.sqrt();
    if se == 0.0 || !se.is_finite() {
        return if ma == mb { 1.0 } else { 0.0 };
    }
    let t = (mb - ma) / se;
    let df = var.powi(2)
        / parts
            .iter()
            .map(|(v, n)| v * v / (n - 1.0).max(1.0))
            .sum::<f64>();
    t_p(t, df)
}

fn t_p(t: f64, df: f64) -> f64 {
    match StudentsT::new(0.0, 1.0, df.max(1.0)) {
        Ok(d) => 2.0 * (1.0 - d.cdf(t.abs())),
        Err(_) => 1.0,
    }
}

/// Mean and sample variance.
fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    if x.len() < 2 {
        return (x.first().copied().unwrap_or(0.0), 0.0);
    }
    let m = x.iter().sum::<f64>() / n;
    (
        m,
        x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0),
    )
}

/// How much one run's figures vary from the next under the same configuration, learned
/// from earlier runs in the results history: per kind, the relative standard deviation
/// of whole-run throughput and of p99.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct Noise {
    /// How many earlier runs it was learned from.
    pub(crate) runs: usize,
    pub(crate) kinds: Vec<KindNoise>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct KindNoise {
    pub(crate) kind: String,
    /// Standard deviation of whole-run throughput over its mean, percent.
    pub(crate) tps_sd_pct: f64,
    /// Standard deviation of p99 over its mean, percent.
    pub(crate) p99_sd_pct: f64,
}

/// Fewer earlier runs than this teach nothing about run-to-run noise.
pub(crate) const MIN_NOISE_RUNS: usize = 3;

impl Noise {
    /// The noise in `runs` (whole-run throughput and p99 per kind); `None` with fewer
    /// than [`MIN_NOISE_RUNS`].
    pub(crate) fn learn(runs: &[&crate::history::RunRow]) -> Option<Noise> {
        if runs.len() < MIN_NOISE_RUNS {
            return None;
        }
        let mut names: Vec<&str> = Vec::new();
        for r in runs {
            for k in &r.kinds {
                if !names.contains(&k.kind.as_str()) {
                    names.push(&k.kind);
                }
            }
        }
        let rel_sd = |x: &[f64]| {
            let (m, v) = mean_var(x);
            if m > 0.0 {
                100.0 * v.sqrt() / m
            } else {
                0.0
            }
        };
        let kinds = names
            .into_iter()
            .filter_map(|name| {
                let ks: Vec<_> = runs
                    .iter()
                    .filter_map(|r| r.kinds.iter().find(|k| k.kind == name))
                    .collect();
                (ks.len() >= MIN_NOISE_RUNS).then(|| KindNoise {
                    kind: name.to_string(),
                    tps_sd_pct: rel_sd(&ks.iter().map(|k| k.tps).collect::<Vec<_>>()),
                    p99_sd_pct: rel_sd(&ks.iter().map(|k| k.p99_ms).collect::<Vec<_>>()),
                })
            })
            .collect();
        Some(Noise {
            runs: runs.len(),
            kinds,
        })
    }

    fn of(&self, kind: &str) -> Option<&KindNoise> {
        self.kinds.iter().find(|k| k.kind == kind)
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
    /// Two-sided p-value of the throughput difference: the variation within each run
    /// (autocorrelation-corrected) plus, when the history taught it, between runs.
    pub(crate) tps_p_value: f64,
    /// The p-value from the variation within each run only.
    pub(crate) tps_p_value_within: f64,
    /// For reference, the p-value a plain t-test gives (intervals taken as independent,
    /// no run-to-run noise): what a naive comparison would claim.
    pub(crate) tps_p_value_plain: f64,
    /// Whether p99 moved beyond what run-to-run noise explains (`None` without noise).
    pub(crate) p99_significant: Option<bool>,
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
    /// Run-to-run noise learned from the history (`None`: unknown, and the p-values see
    /// only the variation within each run).
    pub(crate) noise: Option<Noise>,
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
    noise: Option<Noise>,
) -> Result<Comparison, String> {
    check_comparable(base, new)?;
    let mut warnings = version_warnings(base, new);
    // a run whose statements found nothing is fast for that reason: say so beside its figures
    for (which, run, other) in [("base", base, new), ("new", new, base)] {
        for w in run.warnings.iter().filter(|w| !other.warnings.contains(w)) {
            warnings.push(format!("in the {which} run only: {w}"));
        }
    }
    let mut kinds = Vec::new();
    for (i, (name, a)) in base.kinds.iter().enumerate() {
        let Some(j) = new.kinds.iter().position(|(n, _)| n == name) else {
            warnings.push(format!("kind {name} is only in the base run"));
            continue;
        };
        let histograms = match (base.latency.get(i), new.latency.get(j)) {
            (Some(Some(ha)), Some(Some(hb))) => Some((ha, hb)),
            (a, b) => {
                let which = match (
                    a.is_some_and(Option::is_some),
                    b.is_some_and(Option::is_some),
                ) {
                    (false, false) => "neither report stores",
                    (false, true) => "the base report does not store",
                    _ => "the new report does not store",
                };
                warnings.push(format!(
                    "latency of {name} not compared: {which} its histogram (a report of an \
                     older stormbench?)"
                ));
                None
            }
        };
        kinds.push(compare_kind(
            name,
            [a, &new.kinds[j].1],
            histograms,
            alpha,
            threshold_pct,
            noise.as_ref(),
        ));
    }
    let regressed = kinds.iter().any(|k| k.regressed);
    let verdict = verdict(&kinds, regressed, threshold_pct);
    Ok(Comparison {
        tool: crate::report::tool_name(),
        workload: base.workload.clone(),
        mode: base.mode.clone(),
        scale: base.scale,
        alpha,
        threshold_pct,
        kinds,
        warnings,
        noise,
        verdict,
        regressed,
    })
}

/// Refuses runs of different workloads, modes or scales.
fn check_comparable(base: &RunFacts, new: &RunFacts) -> Result<(), String> {
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
    Ok(())
}

fn version_warnings(base: &RunFacts, new: &RunFacts) -> Vec<String> {
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
    warnings
}

/// One kind, from its per-interval rates in base and new (`[a, b]`) and, when both
/// reports store them, its latency histograms (µs).
fn compare_kind(
    name: &str,
    [a, b]: [&Vec<f64>; 2],
    histograms: Option<(&hdrhistogram::Histogram<u64>, &hdrhistogram::Histogram<u64>)>,
    alpha: f64,
    threshold_pct: f64,
    noise: Option<&Noise>,
) -> KindComparison {
    let (ma, va, na) = effective_stats(a);
    let (mb, vb, nb) = effective_stats(b);
    let within = [(va / na, na), (vb / nb, nb)];
    let p_within = welch_p(ma, mb, &within);
    let plain = welch_p(
        ma,
        mb,
        &[
            (va / a.len() as f64, a.len() as f64),
            (vb / b.len() as f64, b.len() as f64),
        ],
    );
    let kind_noise = noise.and_then(|n| n.of(name).map(|k| (n.runs, k)));
    let p = match kind_noise {
        Some((runs, k)) => {
            // each run's mean also carries the between-run variance
            let sd = k.tps_sd_pct / 100.0 * (ma + mb) / 2.0;
            let between = (sd * sd, runs as f64);
            welch_p(ma, mb, &[within[0], within[1], between, between])
        }
        None => p_within,
    };
    let tps_change = change(ma, mb);
    let significant = p < alpha;
    let throughput_verdict = match (significant, tps_change < 0.0) {
        (false, _) => "no significant change",
        (true, true) => "slower",
        (true, false) => "faster",
    }
    .to_string();
    let latency = histograms.map_or_else(Vec::new, |(ha, hb)| latency_percentiles(ha, hb));
    let p99_change = latency
        .iter()
        .find(|l| l.percentile == "p99")
        .map(|l| l.change_pct);
    let p99_significant = p99_beyond_noise(kind_noise, p99_change, alpha);
    let p99_worse = p99_change.is_some_and(|c| c > threshold_pct) && p99_significant != Some(false);
    let regressed = (significant && tps_change < -threshold_pct) || p99_worse;
    KindComparison {
        kind: name.to_string(),
        base_tps: ma,
        new_tps: mb,
        tps_change_pct: tps_change,
        tps_p_value: p,
        tps_p_value_within: p_within,
        tps_p_value_plain: plain,
        p99_significant,
        latency,
        throughput_verdict,
        regressed,
        rates: [a.clone(), b.clone()],
    }
}

/// p50, p95, p99 and p99.9 of both histograms (µs), in ms.
fn latency_percentiles(
    ha: &hdrhistogram::Histogram<u64>,
    hb: &hdrhistogram::Histogram<u64>,
) -> Vec<PercentileComparison> {
    let mut latency = Vec::new();
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
    latency
}

/// Whether p99 moved beyond noise: its change (percent) against the spread of the
/// difference of two runs; `None` without the kind's noise (runs learned from, noise)
/// or without p99.
fn p99_beyond_noise(
    kind_noise: Option<(usize, &KindNoise)>,
    p99_change: Option<f64>,
    alpha: f64,
) -> Option<bool> {
    match (kind_noise, p99_change) {
        (Some((runs, k)), Some(c)) => {
            let se = k.p99_sd_pct * std::f64::consts::SQRT_2;
            Some(if se > 0.0 {
                t_p(c / se, (runs - 1) as f64) < alpha
            } else {
                c != 0.0
            })
        }
        _ => None,
    }
}

/// One line: what changed.
fn verdict(kinds: &[KindComparison], regressed: bool, threshold_pct: f64) -> String {
    if regressed {
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
    }
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
            "tps_p_value_within",
            "tps_p_value_plain",
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
                    format!("{:.6}", k.tps_p_value_within),
                    format!("{:.6}", k.tps_p_value_plain),
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
        let _ = write!(out, "<p>{}</p>", esc(&self.noise_note()));
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
    /// What the p-values account for: the run-to-run noise and where it was learned, or
    /// that it is unknown.
    pub(crate) fn noise_note(&self) -> String {
        match &self.noise {
            Some(n) => {
                let each: Vec<String> = n
                    .kinds
                    .iter()
                    .map(|k| {
                        format!(
                            "{} TPS ±{:.1}%, p99 ±{:.1}%",
                            k.kind, k.tps_sd_pct, k.p99_sd_pct
                        )
                    })
                    .collect();
                format!(
                    "Run-to-run noise (standard deviation over {} earlier runs of this \
                     configuration in the history): {}",
                    n.runs,
                    each.join("; ")
                )
            }
            None => format!(
                "Run-to-run noise unknown (the history holds fewer than {MIN_NOISE_RUNS} \
                 other runs of this configuration): p covers the variation within each run \
                 only, so a small change can be called significant that another pair of \
                 runs would not show"
            ),
        }
    }

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
        let _ = writeln!(out, "{}", self.noise_note());
        let _ = writeln!(out, "Verdict: {}", self.verdict);
        out
    }
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;
