//! Statistical comparison of an original workload with a generated trace: chi-square tests on
//! query types and templates, two-sample Kolmogorov-Smirnov tests on think times, session
//! lengths and numeric parameters, the autocorrelation of arrival counts and the distance
//! between transition matrices, folded into one similarity score.
//!
//! A test without the data to decide (no degrees of freedom, too few samples) is "not
//! testable": it neither passes nor fails. The verdict is FAIL when a testable test fails,
//! INCONCLUSIVE when no test is testable, PASS otherwise.
//!
//! Score: the mean over the testable tests of `1 - effect`, where the effect size is in
//! [0, 1]: Cramér's V for chi-square tests, the KS distance D, half the largest ACF difference,
//! and the weighted total-variation distance of transition rows. 1 means indistinguishable.

use std::collections::HashMap;

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::model::{sessions, think_times, transition_counts, Stmt};
use super::normalize::{ParamKind, QueryType};

/// A test's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    /// Passed at alpha (or under the threshold).
    Pass,
    /// Failed.
    Fail,
    /// Not enough data to decide: no degrees of freedom or too few samples.
    NotTestable,
}

impl Status {
    /// The upper-case name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::NotTestable => "NOT TESTABLE",
        }
    }
}

/// The overall outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    /// At least one test was testable and none failed.
    Pass,
    /// A testable test failed.
    Fail,
    /// No test was testable: nothing was shown either way.
    Inconclusive,
}

impl Verdict {
    /// The upper-case name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Inconclusive => "INCONCLUSIVE",
        }
    }
}

/// Fewest values on each side for a KS test.
pub(crate) const MIN_KS_SAMPLES: usize = 5;
/// Fewest numeric values on each side for a parameter's KS test.
pub(crate) const MIN_PARAM_SAMPLES: usize = 20;
/// Fewest transitions (statements plus session ends) on each side for the transition test.
pub(crate) const MIN_TRANSITIONS: u64 = 20;
/// Fewest arrival-count bins on each side for the autocorrelation test.
pub(crate) const MIN_ACF_BINS: usize = 11;

/// One test's outcome.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TestResult {
    /// What is compared.
    pub(crate) name: String,
    /// chi-square | ks | acf | tv.
    pub(crate) kind: &'static str,
    /// The test statistic (chi-square, D, max |ΔACF|, TV distance); none when not testable.
    pub(crate) statistic: Option<f64>,
    /// p-value, for hypothesis tests that could be run.
    pub(crate) p_value: Option<f64>,
    /// Pass threshold on the statistic, for tests without a p-value.
    pub(crate) threshold: Option<f64>,
    /// Effect size in [0, 1] used by the score; none when not testable.
    pub(crate) effect: Option<f64>,
    /// Sample sizes (original, generated).
    pub(crate) n: (u64, u64),
    /// Pass, fail or not testable.
    pub(crate) status: Status,
    /// `status` is pass.
    pub(crate) pass: bool,
    /// Why the test is not testable.
    pub(crate) note: Option<String>,
}

impl TestResult {
    fn decided(name: String, kind: &'static str, statistic: f64, effect: f64) -> TestResult {
        TestResult {
            name,
            kind,
            statistic: Some(statistic),
            p_value: None,
            threshold: None,
            effect: Some(effect),
            n: (0, 0),
            status: Status::Fail,
            pass: false,
            note: None,
        }
    }

    fn passes(mut self, pass: bool) -> TestResult {
        self.status = if pass { Status::Pass } else { Status::Fail };
        self.pass = pass;
        self
    }

    fn not_testable(name: String, kind: &'static str, n: (u64, u64), note: String) -> TestResult {
        TestResult {
            name,
            kind,
            statistic: None,
            p_value: None,
            threshold: None,
            effect: None,
            n,
            status: Status::NotTestable,
            pass: false,
            note: Some(note),
        }
    }
}

/// Distributions kept for the charts.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Series {
    /// Query-type shares in `QueryType::ALL` order.
    pub(crate) query_types: Vec<f64>,
    /// Template shares by original rank (top 30).
    pub(crate) templates: Vec<f64>,
    /// Think-time quantiles (ms) at 1%..99%.
    pub(crate) think_quantiles_ms: Vec<f64>,
    /// Session-length quantiles at 1%..99%.
    pub(crate) session_quantiles: Vec<f64>,
    /// ACF of arrival counts, lags 1..5.
    pub(crate) acf: Vec<f64>,
}

/// The validation report.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Validation {
    /// `stormbench x.y.z`.
    pub(crate) tool: String,
    /// Significance level.
    pub(crate) alpha: f64,
    /// Statements in the original and the generated trace.
    pub(crate) statements: (u64, u64),
    /// Sessions in each.
    pub(crate) sessions: (u64, u64),
    /// Arrival-count bin width used for the ACF, in ms.
    pub(crate) acf_bin_ms: f64,
    /// All tests.
    pub(crate) tests: Vec<TestResult>,
    /// Composite similarity in [0, 1] over the testable tests (see the module doc); none
    /// when no test was testable.
    pub(crate) score: Option<f64>,
    /// Tests that were not testable.
    pub(crate) not_testable: usize,
    /// Pass, fail or inconclusive (see the module doc).
    pub(crate) verdict: Verdict,
    /// `verdict` is pass.
    pub(crate) passed: bool,
    /// Original distributions for the charts.
    pub(crate) original: Series,
    /// Generated distributions for the charts.
    pub(crate) generated: Series,
}

/// Two-sample Kolmogorov-Smirnov statistic D.
pub(crate) fn ks_statistic(a: &mut [f64], b: &mut [f64]) -> f64 {
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / n - j as f64 / m).abs());
    }
    d
}

/// Asymptotic p-value of D for sample sizes n and m (Kolmogorov distribution with the
/// Stephens small-sample correction).
pub(crate) fn ks_p_value(d: f64, n: usize, m: usize) -> f64 {
    if n == 0 || m == 0 {
        return 1.0;
    }
    let ne = (n * m) as f64 / (n + m) as f64;
    let lambda = (ne.sqrt() + 0.12 + 0.11 / ne.sqrt()) * d;
    if lambda < 0.2 {
        return 1.0;
    }
    let mut sum = 0.0;
    for k in 1..=100 {
        let kf = k as f64;
        let term = (-2.0 * kf * kf * lambda * lambda).exp();
        sum += if k % 2 == 1 { term } else { -term };
        if term < 1e-12 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// Chi-square test of homogeneity on two count vectors over the same categories; categories
/// with an expected count under 5 are pooled. Returns (chi2, df, p, Cramér's V); with df = 0
/// (an empty side, or one category left) there is no test and p is 1.
pub(crate) fn chi_square(a: &[u64], b: &[u64]) -> (f64, usize, f64, f64) {
    let (na, nb) = (a.iter().sum::<u64>() as f64, b.iter().sum::<u64>() as f64);
    let n = na + nb;
    if na == 0.0 || nb == 0.0 {
        return (0.0, 0, 1.0, if na == nb { 0.0 } else { 1.0 });
    }
    let mut cats: Vec<(f64, f64)> = Vec::new();
    let mut pooled = (0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let col = (x + y) as f64;
        if col * na.min(nb) / n < 5.0 {
            pooled.0 += x as f64;
            pooled.1 += y as f64;
        } else {
            cats.push((x as f64, y as f64));
        }
    }
    if pooled.0 + pooled.1 > 0.0 {
        cats.push(pooled);
    }
    let mut chi2 = 0.0;
    for (x, y) in &cats {
        let col = x + y;
        for (obs, row) in [(x, na), (y, nb)] {
            let e = row * col / n;
            if e > 0.0 {
                chi2 += (obs - e).powi(2) / e;
            }
        }
    }
    let df = cats.len().saturating_sub(1);
    let p = match ChiSquared::new(df as f64) {
        Ok(d) if df > 0 => 1.0 - d.cdf(chi2),
        _ => 1.0,
    };
    (chi2, df, p, (chi2 / n).sqrt().min(1.0))
}

/// Autocorrelation of a series at lags 1..=max_lag.
pub(crate) fn acf(x: &[f64], max_lag: usize) -> Vec<f64> {
    let n = x.len();
    let mean = x.iter().sum::<f64>() / n.max(1) as f64;
    let var: f64 = x.iter().map(|v| (v - mean).powi(2)).sum();
    (1..=max_lag)
        .map(|k| {
            if var == 0.0 || k >= n {
                return 0.0;
            }
            let c: f64 = (0..n - k).map(|i| (x[i] - mean) * (x[i + k] - mean)).sum();
            c / var
        })
        .collect()
}

/// Arrival counts per bin of `bin_ms`, leaving out a generated trace's drain (its sessions
/// running to their end after the statements asked for, at a falling rate).
fn arrival_counts(stmts: &[Stmt], bin_ms: f64) -> Vec<f64> {
    let ts: Vec<f64> = stmts
        .iter()
        .filter(|s| !s.drain)
        .filter_map(|s| s.ts_ms)
        .collect();
    let (Some(lo), Some(hi)) = (
        ts.iter().copied().reduce(f64::min),
        ts.iter().copied().reduce(f64::max),
    ) else {
        return Vec::new();
    };
    let bins = (((hi - lo) / bin_ms) as usize + 1).min(10_000_000);
    let mut counts = vec![0.0; bins];
    for t in ts {
        let k = (((t - lo) / bin_ms) as usize).min(bins - 1);
        counts[k] += 1.0;
    }
    // The last bin is usually partial.
    if counts.len() > 2 {
        counts.pop();
    }
    counts
}

fn span_ms(stmts: &[Stmt]) -> f64 {
    let ts = stmts.iter().filter_map(|s| s.ts_ms);
    let (lo, hi) = ts.fold((f64::MAX, f64::MIN), |(l, h), t| (l.min(t), h.max(t)));
    (hi - lo).max(0.0)
}

/// Mean total-variation distance between order-1 transition rows, weighted by the original
/// row counts, and the transitions on each side.
fn transition_tv(a: &[Vec<&Stmt>], b: &[Vec<&Stmt>]) -> (f64, (u64, u64)) {
    let (ra, rb) = (transition_counts(a, 1), transition_counts(b, 1));
    let total_of = |r: &HashMap<Vec<i64>, HashMap<i64, u64>>| {
        r.values().flat_map(|row| row.values()).sum::<u64>()
    };
    let n = (total_of(&ra), total_of(&rb));
    let mut weighted = 0.0;
    let mut total = 0.0;
    for (from, row) in &ra {
        let na: u64 = row.values().sum();
        let empty = HashMap::new();
        let other = rb.get(from).unwrap_or(&empty);
        let nb: u64 = other.values().sum();
        let mut keys: Vec<&i64> = row.keys().chain(other.keys()).collect();
        keys.sort();
        keys.dedup();
        let tv: f64 = if nb == 0 {
            1.0
        } else {
            keys.iter()
                .map(|k| {
                    let pa = *row.get(k).unwrap_or(&0) as f64 / na as f64;
                    let pb = *other.get(k).unwrap_or(&0) as f64 / nb as f64;
                    (pa - pb).abs()
                })
                .sum::<f64>()
                / 2.0
        };
        weighted += tv * na as f64;
        total += na as f64;
    }
    let tv = if total == 0.0 { 0.0 } else { weighted / total };
    (tv, n)
}

fn quantiles(v: &mut [f64]) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return Vec::new();
    }
    (1..100).map(|q| v[q * (v.len() - 1) / 100]).collect()
}

/// A two-sample KS test; not testable with fewer than `min` values on a side.
fn ks_test(name: String, mut a: Vec<f64>, mut b: Vec<f64>, min: usize, alpha: f64) -> TestResult {
    let n = (a.len() as u64, b.len() as u64);
    if a.len() < min || b.len() < min {
        let note = format!("fewer than {min} values on a side");
        return TestResult::not_testable(name, "ks", n, note);
    }
    let d = ks_statistic(&mut a, &mut b);
    let p = ks_p_value(d, a.len(), b.len());
    TestResult {
        p_value: Some(p),
        n,
        ..TestResult::decided(name, "ks", d, d)
    }
    .passes(p >= alpha)
}

fn chi_test(name: &str, a: &[u64], b: &[u64], alpha: f64) -> TestResult {
    let (chi2, df, p, v) = chi_square(a, b);
    let n = (a.iter().sum(), b.iter().sum());
    if df == 0 {
        let note = if n.0 == 0 || n.1 == 0 {
            "one side has no statements".to_string()
        } else {
            "a single category once those with an expected count under 5 are pooled: \
             no degrees of freedom"
                .to_string()
        };
        return TestResult::not_testable(name.to_string(), "chi-square", n, note);
    }
    TestResult {
        p_value: Some(p),
        n,
        ..TestResult::decided(name.to_string(), "chi-square", chi2, v)
    }
    .passes(p >= alpha)
}

fn type_counts(stmts: &[Stmt], types: &[QueryType]) -> Vec<u64> {
    let mut c = vec![0u64; QueryType::ALL.len()];
    for s in stmts {
        let k = QueryType::ALL.iter().position(|q| *q == types[s.template]);
        c[k.unwrap_or(4)] += 1;
    }
    c
}

fn template_counts(stmts: &[Stmt], n: usize) -> Vec<u64> {
    let mut c = vec![0u64; n];
    for s in stmts {
        c[s.template] += 1;
    }
    c
}

fn numeric_values(stmts: &[Stmt], template: usize, slot: usize) -> Vec<f64> {
    stmts
        .iter()
        .filter(|s| s.template == template)
        .filter_map(|s| s.params.get(slot))
        .filter(|p| matches!(p.kind, ParamKind::Num | ParamKind::Str))
        .filter_map(|p| p.text.trim().parse::<f64>().ok())
        .collect()
}

/// Numeric-parameter KS tests for the five most frequent original templates.
fn param_tests(o: &[Stmt], g: &[Stmt], oc: &[u64], tpl: &[String], alpha: f64) -> Vec<TestResult> {
    let mut ranked: Vec<usize> = (0..oc.len()).collect();
    ranked.sort_by(|a, b| oc[*b].cmp(&oc[*a]));
    let mut out = Vec::new();
    for &t in ranked.iter().take(5) {
        let slots = o
            .iter()
            .find(|s| s.template == t)
            .map_or(0, |s| s.params.len());
        for slot in 0..slots {
            let (a, b) = (numeric_values(o, t, slot), numeric_values(g, t, slot));
            // A slot without numbers on either side is not a numeric parameter.
            if a.is_empty() && b.is_empty() {
                continue;
            }
            let name = format!("param ${} of template {t}: {}", slot + 1, short(&tpl[t]));
            out.push(ks_test(name, a, b, MIN_PARAM_SAMPLES, alpha));
        }
    }
    out
}

fn short(s: &str) -> String {
    let mut t: String = s.chars().take(60).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    t
}

fn series(stmts: &[Stmt], types: &[QueryType], rank: &[usize], bin_ms: f64) -> Series {
    let n = stmts.len().max(1) as f64;
    let tc = template_counts(stmts, types.len());
    let sess = sessions(stmts);
    Series {
        query_types: type_counts(stmts, types)
            .iter()
            .map(|c| *c as f64 / n)
            .collect(),
        templates: rank.iter().take(30).map(|t| tc[*t] as f64 / n).collect(),
        think_quantiles_ms: quantiles(&mut think_times(&sess)),
        session_quantiles: quantiles(&mut sess.iter().map(|s| s.len() as f64).collect::<Vec<_>>()),
        acf: acf(&arrival_counts(stmts, bin_ms), 5),
    }
}

/// Compares two normalized statement lists that share one template table.
pub(crate) fn validate(o: &[Stmt], g: &[Stmt], templates: &[String], alpha: f64) -> Validation {
    let types: Vec<QueryType> = templates.iter().map(|t| QueryType::of(t)).collect();
    let (so, sg) = (sessions(o), sessions(g));
    let mut tests = vec![
        chi_test(
            "query types",
            &type_counts(o, &types),
            &type_counts(g, &types),
            alpha,
        ),
        chi_test(
            "template frequencies",
            &template_counts(o, types.len()),
            &template_counts(g, types.len()),
            alpha,
        ),
    ];
    tests.push(ks_test(
        "think time (ms)".into(),
        think_times(&so),
        think_times(&sg),
        MIN_KS_SAMPLES,
        alpha,
    ));
    let lengths = |s: &[Vec<&Stmt>]| s.iter().map(|x| x.len() as f64).collect::<Vec<_>>();
    tests.push(ks_test(
        "session length".into(),
        lengths(&so),
        lengths(&sg),
        MIN_KS_SAMPLES,
        alpha,
    ));
    let oc = template_counts(o, types.len());
    tests.extend(param_tests(o, g, &oc, templates, alpha));
    let bin_ms = (span_ms(o) / 50.0).clamp(100.0, 1000.0);
    let (ao, ag) = (arrival_counts(o, bin_ms), arrival_counts(g, bin_ms));
    tests.push(acf_test(&ao, &ag));
    tests.push(tv_test(&so, &sg));
    let mut rank: Vec<usize> = (0..oc.len()).collect();
    rank.sort_by(|a, b| oc[*b].cmp(&oc[*a]));
    let effects: Vec<f64> = tests.iter().filter_map(|t| t.effect).collect();
    let score = (!effects.is_empty()).then(|| {
        effects.iter().map(|e| 1.0 - e.clamp(0.0, 1.0)).sum::<f64>() / effects.len() as f64
    });
    let count = |s: Status| tests.iter().filter(|t| t.status == s).count();
    let verdict = if count(Status::Fail) > 0 {
        Verdict::Fail
    } else if count(Status::Pass) == 0 {
        Verdict::Inconclusive
    } else {
        Verdict::Pass
    };
    Validation {
        tool: crate::report::tool_name(),
        alpha,
        statements: (o.len() as u64, g.len() as u64),
        sessions: (so.len() as u64, sg.len() as u64),
        acf_bin_ms: bin_ms,
        not_testable: count(Status::NotTestable),
        verdict,
        passed: verdict == Verdict::Pass,
        tests,
        score,
        original: series(o, &types, &rank, bin_ms),
        generated: series(g, &types, &rank, bin_ms),
    }
}

/// Largest accepted weighted TV distance between transition matrices.
pub(crate) const TV_THRESHOLD: f64 = 0.1;

/// The transition test; not testable with fewer than [`MIN_TRANSITIONS`] on a side.
fn tv_test(so: &[Vec<&Stmt>], sg: &[Vec<&Stmt>]) -> TestResult {
    let name = "transition matrix (weighted mean TV distance)".to_string();
    let (tv, n) = transition_tv(so, sg);
    if n.0 < MIN_TRANSITIONS || n.1 < MIN_TRANSITIONS {
        let note = format!("fewer than {MIN_TRANSITIONS} transitions on a side");
        return TestResult::not_testable(name, "tv", n, note);
    }
    TestResult {
        threshold: Some(TV_THRESHOLD),
        n,
        ..TestResult::decided(name, "tv", tv, tv)
    }
    .passes(tv <= TV_THRESHOLD)
}

/// ACF comparison: max |ΔACF| over lags 1..5 against 2.5 standard errors of the difference
/// (at least 0.1); not testable with fewer than [`MIN_ACF_BINS`] bins on a side.
fn acf_test(ao: &[f64], ag: &[f64]) -> TestResult {
    let name = "arrival-count autocorrelation (lags 1-5)".to_string();
    let n = (ao.len() as u64, ag.len() as u64);
    if ao.len() < MIN_ACF_BINS || ag.len() < MIN_ACF_BINS {
        let note = format!("fewer than {MIN_ACF_BINS} arrival-count bins on a side");
        return TestResult::not_testable(name, "acf", n, note);
    }
    let (a, b) = (acf(ao, 5), acf(ag, 5));
    let d = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    let se = (1.0 / ao.len() as f64 + 1.0 / ag.len() as f64).sqrt();
    let threshold = (2.5 * se).max(0.1);
    TestResult {
        threshold: Some(threshold),
        n,
        ..TestResult::decided(name, "acf", d, d / 2.0)
    }
    .passes(d <= threshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ks_detects_shift_and_accepts_same() {
        let a: Vec<f64> = (0..2000).map(|i| (i as f64 * 0.618).fract()).collect();
        let b: Vec<f64> = (0..3000).map(|i| (i as f64 * 0.414).fract()).collect();
        let (mut a1, mut b1) = (a.clone(), b.clone());
        let d = ks_statistic(&mut a1, &mut b1);
        assert!(ks_p_value(d, 2000, 3000) > 0.05, "d={d}");
        let mut c: Vec<f64> = b.iter().map(|x| x * 1.3).collect();
        let d2 = ks_statistic(&mut a1, &mut c);
        assert!(ks_p_value(d2, 2000, 3000) < 0.001);
        // Known value: Q_KS(1.36) ≈ 0.049.
        assert!((ks_p_value(1.36 / 100.0, 20_000, 20_000) - 0.049).abs() < 0.01);
    }

    #[test]
    fn chi_square_homogeneity() {
        let (_, df, p, _) = chi_square(&[100, 200, 300], &[1000, 2000, 3000]);
        assert_eq!(df, 2);
        assert!(p > 0.99);
        let (_, _, p2, v) = chi_square(&[300, 200, 100], &[1000, 2000, 3000]);
        assert!(p2 < 1e-6 && v > 0.1);
    }

    #[test]
    fn acf_of_alternating_series() {
        let x: Vec<f64> = (0..100).map(|i| (i % 2) as f64).collect();
        let r = acf(&x, 2);
        assert!(r[0] < -0.9 && r[1] > 0.9);
    }

    fn stmts(
        spec: &[(&str, f64, &str)],
        interner: &mut crate::trace::model::Interner,
    ) -> Vec<Stmt> {
        spec.iter()
            .map(|(s, t, sql)| interner.stmt(s.to_string(), Some(*t), sql))
            .collect()
    }

    fn find<'a>(v: &'a Validation, name: &str) -> &'a TestResult {
        v.tests.iter().find(|t| t.name == name).unwrap()
    }

    #[test]
    fn tests_without_the_data_to_decide_are_not_testable() {
        let mut i = crate::trace::model::Interner::default();
        let spec = [
            ("a", 0.0, "SELECT 1"),
            ("a", 1.0, "SELECT 2"),
            ("a", 2.0, "SELECT 3"),
        ];
        let o = stmts(&spec, &mut i);
        let g = stmts(&spec, &mut i);
        let v = validate(&o, &g, &i.templates, 0.05);
        // One query type and one template: no degrees of freedom. One session, two think
        // times, four transitions, no arrival bins: too few samples.
        for name in [
            "query types",
            "template frequencies",
            "think time (ms)",
            "session length",
            "transition matrix (weighted mean TV distance)",
            "arrival-count autocorrelation (lags 1-5)",
        ] {
            let t = find(&v, name);
            assert_eq!(t.status, Status::NotTestable, "{name}: {t:?}");
            assert!(!t.pass && t.p_value.is_none() && t.note.is_some(), "{t:?}");
        }
        assert_eq!(v.verdict, Verdict::Inconclusive);
        assert!(!v.passed && v.score.is_none());
        assert_eq!(v.not_testable, v.tests.len());
        let text = crate::trace::report::console(&v);
        assert!(
            text.contains("NOT TESTABLE") && text.contains("INCONCLUSIVE"),
            "{text}"
        );
        assert!(!text.contains("PASS"), "{text}");
    }

    #[test]
    fn verdict_passes_on_testable_tests_and_fails_on_any_failure() {
        let mut i = crate::trace::model::Interner::default();
        let mut spec = Vec::new();
        for k in 0..400 {
            let sql = ["SELECT 1", "UPDATE t SET a = 1", "DELETE FROM t"][k % 3];
            spec.push(((k % 8).to_string(), k as f64 * 10.0, sql));
        }
        let as_ref: Vec<(&str, f64, &str)> =
            spec.iter().map(|(s, t, q)| (s.as_str(), *t, *q)).collect();
        let o = stmts(&as_ref, &mut i);
        let g = stmts(&as_ref, &mut i);
        let v = validate(&o, &g, &i.templates, 0.05);
        assert_eq!(
            v.verdict,
            Verdict::Pass,
            "{}",
            crate::trace::report::console(&v)
        );
        assert!(v.score.unwrap() > 0.99);
        // Only DELETEs on the generated side.
        let only: Vec<(&str, f64, &str)> = as_ref
            .iter()
            .map(|(s, t, _)| (*s, *t, "DELETE FROM t"))
            .collect();
        let g2 = stmts(&only, &mut i);
        let v = validate(&o, &g2, &i.templates, 0.05);
        assert_eq!(find(&v, "query types").status, Status::Fail);
        assert_eq!(v.verdict, Verdict::Fail);
    }
}
