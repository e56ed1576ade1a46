//! Validation output: a console table and a self-contained HTML report with SVG charts.

use std::fmt::Write as _;

use super::normalize::QueryType;
use super::validate::{TestResult, Validation};
use crate::report::html::{chart, esc, Line, STYLE};

fn p_text(t: &TestResult) -> String {
    match (t.p_value, t.threshold) {
        (Some(p), _) => format!("p = {p:.4}"),
        (None, Some(th)) => format!("limit {th:.3}"),
        _ => String::new(),
    }
}

/// The console summary: one line per test, then the score.
pub fn console(v: &Validation) -> String {
    let mut s = String::new();
    for t in &v.tests {
        let _ = writeln!(
            s,
            "{:<4} {:<10} {:<60} stat {:>10.4}  {}",
            if t.pass { "PASS" } else { "FAIL" },
            t.kind,
            t.name,
            t.statistic,
            p_text(t)
        );
    }
    let _ = writeln!(
        s,
        "similarity score {:.3}; {} (alpha {})",
        v.score,
        if v.passed {
            "all tests passed"
        } else {
            "some tests failed"
        },
        v.alpha
    );
    s
}

fn line(label: &str, ys: &[f64], x_of: impl Fn(usize) -> f64) -> Line {
    Line {
        label: label.to_string(),
        points: ys.iter().enumerate().map(|(i, y)| (x_of(i), *y)).collect(),
    }
}

/// Quantile curves as CDF lines: x = value, y = cumulative share.
fn cdf_lines(o: &[f64], g: &[f64]) -> Vec<Line> {
    let cdf = |label: &str, q: &[f64]| Line {
        label: label.to_string(),
        points: q
            .iter()
            .enumerate()
            .map(|(i, x)| (*x, (i + 1) as f64 / 100.0))
            .collect(),
    };
    vec![cdf("original", o), cdf("generated", g)]
}

fn tests_table(v: &Validation) -> String {
    let mut s = String::from(
        "<table><tr><th>test</th><th>kind</th><th>statistic</th><th>p / limit</th>\
         <th>n (orig, gen)</th><th>result</th></tr>",
    );
    for t in &v.tests {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{:.4}</td><td>{}</td><td>{}, {}</td><td>{}</td></tr>",
            esc(&t.name),
            t.kind,
            t.statistic,
            p_text(t),
            t.n.0,
            t.n.1,
            if t.pass { "pass" } else { "<b>FAIL</b>" }
        );
    }
    s.push_str("</table>");
    s
}

fn top_templates(v: &Validation) -> String {
    let mut s = String::from(
        "<table><tr><th>rank</th><th>original share</th><th>generated share</th></tr>",
    );
    for (i, (o, g)) in v
        .original
        .templates
        .iter()
        .zip(&v.generated.templates)
        .enumerate()
    {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{:.4}</td><td>{:.4}</td></tr>",
            i + 1,
            o,
            g
        );
    }
    s.push_str("</table>");
    s
}

/// The HTML report.
pub fn render(v: &Validation) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>stormbench trace validation</title>\
         <style>{STYLE}</style></head><body><h1>Trace validation</h1>\
         <p>Similarity score <b>{:.3}</b> (mean of 1 - effect size over all tests); {} at alpha {}.\
         Original: {} statements in {} sessions; generated: {} statements in {} sessions.</p>",
        v.score,
        if v.passed { "all tests passed" } else { "some tests failed" },
        v.alpha,
        v.statements.0,
        v.sessions.0,
        v.statements.1,
        v.sessions.1
    );
    s.push_str(&tests_table(v));
    let qt_names: Vec<&str> = QueryType::ALL.iter().map(|q| q.name()).collect();
    let _ = write!(s, "<h2>Query types</h2><p>x: {}</p>", qt_names.join(", "));
    s.push_str(&chart(
        "Query-type share",
        "query type (index)",
        "share",
        &[
            line("original", &v.original.query_types, |i| i as f64),
            line("generated", &v.generated.query_types, |i| i as f64),
        ],
    ));
    s.push_str("<h2>Templates</h2>");
    s.push_str(&chart(
        "Template share by original rank",
        "rank",
        "share",
        &[
            line("original", &v.original.templates, |i| (i + 1) as f64),
            line("generated", &v.generated.templates, |i| (i + 1) as f64),
        ],
    ));
    s.push_str(&top_templates(v));
    s.push_str("<h2>Think time</h2>");
    s.push_str(&chart(
        "Think time CDF",
        "ms",
        "cumulative share",
        &cdf_lines(
            &v.original.think_quantiles_ms,
            &v.generated.think_quantiles_ms,
        ),
    ));
    s.push_str("<h2>Session length</h2>");
    s.push_str(&chart(
        "Session length CDF",
        "statements",
        "cumulative share",
        &cdf_lines(
            &v.original.session_quantiles,
            &v.generated.session_quantiles,
        ),
    ));
    let _ = write!(
        s,
        "<h2>Arrival autocorrelation</h2><p>Bins of {:.1} ms.</p>",
        v.acf_bin_ms
    );
    let shift = |a: &[f64]| a.iter().map(|x| x + 1.0).collect::<Vec<_>>();
    s.push_str(&chart(
        "ACF of arrival counts + 1",
        "lag",
        "ACF + 1",
        &[
            line("original", &shift(&v.original.acf), |i| (i + 1) as f64),
            line("generated", &shift(&v.generated.acf), |i| (i + 1) as f64),
        ],
    ));
    s.push_str("</body></html>\n");
    s
}
