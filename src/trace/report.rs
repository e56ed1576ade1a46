//! Validation output: a console table and a self-contained HTML report with SVG charts.

use std::fmt::Write as _;

use super::normalize::QueryType;
use super::validate::{Status, TestResult, Validation, Verdict};
use crate::report::kit::{chart, esc, page_end, page_start, Line};
use crate::report::{Document, Table};

fn p_text(t: &TestResult) -> String {
    match (t.p_value, t.threshold, &t.note) {
        (Some(p), _, _) => format!("p = {p:.4}"),
        (None, Some(th), _) => format!("limit {th:.3}"),
        (None, None, Some(note)) => note.clone(),
        _ => String::new(),
    }
}

fn stat_text(t: &TestResult) -> String {
    t.statistic
        .map_or_else(|| "-".to_string(), |x| format!("{x:.4}"))
}

/// The verdict in words: how many tests failed, passed and were not testable.
pub(crate) fn verdict_text(v: &Validation) -> String {
    let count = |s: Status| v.tests.iter().filter(|t| t.status == s).count();
    let (pass, fail, nt) = (
        count(Status::Pass),
        count(Status::Fail),
        count(Status::NotTestable),
    );
    let what = match v.verdict {
        Verdict::Pass => format!("all {pass} testable tests passed"),
        Verdict::Fail => format!("{fail} of {} testable tests failed", pass + fail),
        Verdict::Inconclusive => "no test had the data to decide".to_string(),
    };
    format!("{}: {what}, {nt} not testable", v.verdict.name())
}

fn score_text(v: &Validation) -> String {
    v.score
        .map_or_else(|| "-".to_string(), |x| format!("{x:.3}"))
}

/// The console summary: one line per test, then the score and the verdict.
pub(crate) fn console(v: &Validation) -> String {
    let mut s = String::new();
    for t in &v.tests {
        let _ = writeln!(
            s,
            "{:<12} {:<10} {:<60} stat {:>10}  {}",
            t.status.name(),
            t.kind,
            t.name,
            stat_text(t),
            p_text(t)
        );
    }
    let _ = writeln!(
        s,
        "similarity score {}; {} (alpha {})",
        score_text(v),
        verdict_text(v),
        v.alpha
    );
    s
}

fn line(label: &str, ys: &[f64], x_of: impl Fn(usize) -> f64) -> Line {
    Line::new(
        label.to_string(),
        ys.iter().enumerate().map(|(i, y)| (x_of(i), *y)).collect(),
    )
}

/// Quantile curves as CDF lines: x = value, y = cumulative share.
fn cdf_lines(o: &[f64], g: &[f64]) -> Vec<Line> {
    let cdf = |label: &str, q: &[f64]| {
        Line::new(
            label.to_string(),
            q.iter()
                .enumerate()
                .map(|(i, x)| (*x, (i + 1) as f64 / 100.0))
                .collect(),
        )
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
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}, {}</td><td>{}</td></tr>",
            esc(&t.name),
            t.kind,
            stat_text(t),
            esc(&p_text(t)),
            t.n.0,
            t.n.1,
            match t.status {
                Status::Pass => "pass",
                Status::Fail => "<b>FAIL</b>",
                Status::NotTestable => "<i>not testable</i>",
            }
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
pub(crate) fn render(v: &Validation) -> String {
    let mut s = page_start("trace validation");
    let _ = write!(
        s,
        "<h1>Trace validation</h1>\
         <p>Similarity score <b>{}</b> (mean of 1 - effect size over the testable tests); <b>{}</b> \
         at alpha {}. A test without the data to decide is not testable: it neither passes nor \
         fails. Original: {} statements in {} sessions; generated: {} statements in {} sessions.</p>",
        score_text(v),
        esc(&verdict_text(v)),
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
    page_end(&mut s);
    s
}

fn cell(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

impl Document for Validation {
    fn console(&self) -> String {
        console(self)
    }

    fn html(&self) -> String {
        render(self)
    }

    /// One row per test.
    fn table(&self) -> Table {
        let header = [
            "test",
            "kind",
            "status",
            "statistic",
            "p_value",
            "threshold",
            "effect",
            "n_original",
            "n_generated",
            "note",
        ]
        .map(String::from)
        .to_vec();
        let rows = self
            .tests
            .iter()
            .map(|t| {
                vec![
                    t.name.clone(),
                    t.kind.to_string(),
                    t.status.name().to_string(),
                    cell(t.statistic),
                    cell(t.p_value),
                    cell(t.threshold),
                    cell(t.effect),
                    t.n.0.to_string(),
                    t.n.1.to_string(),
                    t.note.clone().unwrap_or_default(),
                ]
            })
            .collect();
        Table { header, rows }
    }
}
