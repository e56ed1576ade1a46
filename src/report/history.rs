//! The results history as a report: the runs, and per workload, mode, scale and kind the
//! trend (the newest run against the median of the runs before it), as console text,
//! JSON, CSV and an HTML page of throughput and p99 over time with the p99 objective.

use std::fmt::Write as _;

use serde::Serialize;

use super::document::{Document, Table};
use super::kit::{chart, esc, human, page_end, page_start, Line};
use crate::history::RunRow;

/// One kind's trend over the runs of one workload, mode and scale.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Trend {
    /// `workload/mode/scale`.
    pub(crate) group: String,
    pub(crate) kind: String,
    /// Complete runs counted.
    pub(crate) runs: usize,
    /// The newest run's throughput and p99.
    pub(crate) last_tps: f64,
    pub(crate) last_p99_ms: f64,
    /// Medians over the runs before the newest (`None` with a single run).
    pub(crate) median_tps: Option<f64>,
    pub(crate) median_p99_ms: Option<f64>,
    /// Newest against that median, percent.
    pub(crate) tps_change_pct: Option<f64>,
    pub(crate) p99_change_pct: Option<f64>,
    /// Runs that met their objectives, of those that had any.
    pub(crate) slo_passed: usize,
    pub(crate) slo_judged: usize,
}

/// `stormbench history`'s report: the kept runs and, per workload, mode, scale and kind,
/// their trend; written as console text, JSON, CSV or HTML.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct HistoryReport {
    /// `stormbench x.y.z`.
    pub(crate) tool: String,
    /// Where the history is kept (no password).
    pub(crate) store: String,
    /// The runs, oldest first.
    pub(crate) runs: Vec<RunRow>,
    pub(crate) trends: Vec<Trend>,
}

fn group_of(r: &RunRow) -> String {
    format!("{}/{}/{}", r.workload, r.mode, r.scale)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn change(new: f64, base: Option<f64>) -> Option<f64> {
    base.filter(|b| *b > 0.0).map(|b| 100.0 * (new - b) / b)
}

/// The groups of `runs` in order of first appearance, each with its complete runs.
fn groups(runs: &[RunRow]) -> Vec<(String, Vec<&RunRow>)> {
    let mut out: Vec<(String, Vec<&RunRow>)> = Vec::new();
    for r in runs
        .iter()
        .filter(|r| !r.partial && r.status == "completed")
    {
        let g = group_of(r);
        match out.iter_mut().find(|(name, _)| *name == g) {
            Some((_, rs)) => rs.push(r),
            None => out.push((g, vec![r])),
        }
    }
    out
}

impl HistoryReport {
    /// The report of `runs` (oldest first): trends count complete runs only.
    pub(crate) fn new(store: String, runs: Vec<RunRow>) -> Self {
        let mut trends = Vec::new();
        for (group, rs) in groups(&runs) {
            let mut kinds: Vec<&str> = Vec::new();
            for r in &rs {
                for k in &r.kinds {
                    if !kinds.contains(&k.kind.as_str()) {
                        kinds.push(&k.kind);
                    }
                }
            }
            for kind in kinds {
                let points: Vec<(f64, f64)> = rs
                    .iter()
                    .filter_map(|r| r.kinds.iter().find(|k| k.kind == kind))
                    .map(|k| (k.tps, k.p99_ms))
                    .collect();
                let Some((&(last_tps, last_p99), before)) = points.split_last() else {
                    continue;
                };
                let median_tps = median(before.iter().map(|p| p.0).collect());
                let median_p99 = median(before.iter().map(|p| p.1).collect());
                trends.push(Trend {
                    group: group.clone(),
                    kind: kind.to_string(),
                    runs: points.len(),
                    last_tps,
                    last_p99_ms: last_p99,
                    median_tps,
                    median_p99_ms: median_p99,
                    tps_change_pct: change(last_tps, median_tps),
                    p99_change_pct: change(last_p99, median_p99),
                    slo_passed: rs.iter().filter(|r| r.slo_passed == Some(true)).count(),
                    slo_judged: rs.iter().filter(|r| r.slo_passed.is_some()).count(),
                });
            }
        }
        HistoryReport {
            tool: super::tool_name(),
            store,
            runs,
            trends,
        }
    }
}

fn slo_word(r: &RunRow) -> &'static str {
    match r.slo_passed {
        Some(true) => "pass",
        Some(false) => "FAIL",
        None => "-",
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |p| format!("{p:+.1}%"))
}

/// Start time as `2026-12-01 03:00:00` (RFC 3339 cut at the second).
fn when(s: &str) -> String {
    s.get(..19).unwrap_or(s).replace('T', " ")
}

impl Document for HistoryReport {
    fn console(&self) -> String {
        let mut out = format!("history {}: {} runs shown\n", self.store, self.runs.len());
        if self.runs.is_empty() {
            out.push_str("  (no runs recorded that match)\n");
            return out;
        }
        let _ = writeln!(
            out,
            "  {:>5}  {:<19}  {:<28}  {:<11}  {:>9}  {:>9}  {:>7}  SLO",
            "id", "started (UTC)", "workload/mode/scale", "status", "TPS", "p99 ms", "failed"
        );
        for r in &self.runs {
            let status = if r.partial {
                format!("{} (partial)", r.status)
            } else {
                r.status.clone()
            };
            let _ = writeln!(
                out,
                "  {:>5}  {:<19}  {:<28}  {:<11}  {:>9}  {:>9}  {:>7}  {}",
                r.id,
                when(&r.started_at),
                group_of(r),
                status,
                human(r.tps),
                format!("{:.2}", r.p99_ms),
                r.failed,
                slo_word(r)
            );
        }
        if !self.trends.is_empty() {
            out.push_str(
                "trends (complete runs; the newest against the median of those before it):\n",
            );
            for t in &self.trends {
                let _ = writeln!(
                    out,
                    "  {} {}: {} runs, TPS {} ({}), p99 {:.2} ms ({}){}",
                    t.group,
                    t.kind,
                    t.runs,
                    human(t.last_tps),
                    pct(t.tps_change_pct),
                    t.last_p99_ms,
                    pct(t.p99_change_pct),
                    if t.slo_judged > 0 {
                        format!(", objectives met {}/{}", t.slo_passed, t.slo_judged)
                    } else {
                        String::new()
                    }
                );
            }
        }
        out
    }

    fn table(&self) -> Table {
        let header = [
            "id",
            "started_at",
            "workload",
            "mode",
            "scale",
            "status",
            "partial",
            "config_hash",
            "kind",
            "transactions",
            "tps",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "slo_passed",
        ]
        .map(String::from)
        .to_vec();
        let mut rows = Vec::new();
        for r in &self.runs {
            for k in &r.kinds {
                rows.push(vec![
                    r.id.to_string(),
                    r.started_at.clone(),
                    r.workload.clone(),
                    r.mode.clone(),
                    r.scale.to_string(),
                    r.status.clone(),
                    r.partial.to_string(),
                    r.config_hash.clone(),
                    k.kind.clone(),
                    k.transactions.to_string(),
                    k.tps.to_string(),
                    k.p50_ms.to_string(),
                    k.p95_ms.to_string(),
                    k.p99_ms.to_string(),
                    r.slo_passed.map(|p| p.to_string()).unwrap_or_default(),
                ]);
            }
        }
        Table { header, rows }
    }

    fn html(&self) -> String {
        let mut out = page_start("history");
        let _ = write!(
            out,
            "<h1>stormbench history</h1><p>{}: {} runs</p>",
            esc(&self.store),
            self.runs.len()
        );
        for (group, rs) in groups(&self.runs) {
            let t0 = chrono::DateTime::parse_from_rfc3339(&rs[0].started_at).ok();
            let days = |r: &RunRow| {
                let t = chrono::DateTime::parse_from_rfc3339(&r.started_at).ok();
                match (t0, t) {
                    (Some(a), Some(b)) => (b - a).num_seconds() as f64 / 86_400.0,
                    _ => 0.0,
                }
            };
            let _ = write!(out, "<h2>{}</h2>", esc(&group));
            let kinds: Vec<String> = self
                .trends
                .iter()
                .filter(|t| t.group == group)
                .map(|t| t.kind.clone())
                .collect();
            let series = |f: fn(&crate::history::KindRow) -> f64| -> Vec<Line> {
                kinds
                    .iter()
                    .map(|kind| {
                        Line::new(
                            kind.clone(),
                            rs.iter()
                                .filter_map(|r| {
                                    r.kinds
                                        .iter()
                                        .find(|k| k.kind == *kind)
                                        .map(|k| (days(r), f(k)))
                                })
                                .collect(),
                        )
                    })
                    .collect()
            };
            let x_desc = format!("days since {} UTC", when(&rs[0].started_at));
            out.push_str(&chart(
                "throughput per run",
                &x_desc,
                "transactions/s",
                &series(|k| k.tps),
            ));
            let mut p99 = series(|k| k.p99_ms);
            if let Some(limit) = rs.iter().rev().find_map(|r| r.slo_p99_ms) {
                let (first, last) = (days(rs[0]), days(rs[rs.len() - 1]));
                p99.push(Line::new(
                    format!("p99 objective {limit} ms"),
                    vec![(first, limit), (last.max(first + 1e-6), limit)],
                ));
            }
            out.push_str(&chart("p99 latency per run", &x_desc, "ms", &p99));
        }
        out.push_str("<table><tr><th>id</th><th>started (UTC)</th><th>workload/mode/scale</th><th>status</th><th>TPS</th><th>p99 ms</th><th>failed</th><th>SLO</th></tr>");
        for r in self.runs.iter().rev() {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{:.2}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                r.id,
                esc(&when(&r.started_at)),
                esc(&group_of(r)),
                esc(&r.status),
                if r.partial { " (partial)" } else { "" },
                human(r.tps),
                r.p99_ms,
                r.failed,
                if r.slo_passed == Some(false) { "fail" } else { "pass" },
                slo_word(r)
            );
        }
        out.push_str("</table>");
        page_end(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::KindRow;

    fn run(id: i64, tps: f64, p99: f64, slo: Option<bool>) -> RunRow {
        RunRow {
            id,
            run_key: format!("k{id}"),
            started_at: format!("2026-12-0{id}T03:00:00+00:00"),
            status: "completed".into(),
            partial: false,
            workload: "simple".into(),
            mode: "read".into(),
            scale: 1,
            config_hash: "h".into(),
            tool: "stormbench".into(),
            server_version: "16".into(),
            database: "db".into(),
            measured_s: 60.0,
            transactions: 100,
            failed: 0,
            tps,
            p50_ms: 1.0,
            p95_ms: 2.0,
            p99_ms: p99,
            max_ms: 9.0,
            slo_passed: slo,
            slo_p99_ms: slo.map(|_| 5.0),
            kinds: vec![KindRow {
                kind: "read".into(),
                transactions: 100,
                tps,
                p50_ms: 1.0,
                p95_ms: 2.0,
                p99_ms: p99,
            }],
        }
    }

    #[test]
    fn the_trend_is_the_newest_run_against_the_median_before_it() {
        let mut partial = run(4, 1.0, 99.0, None);
        partial.partial = true;
        let h = HistoryReport::new(
            "h.sqlite".into(),
            vec![
                run(1, 100.0, 2.0, Some(true)),
                run(2, 110.0, 4.0, Some(true)),
                run(3, 90.0, 3.0, Some(false)),
                partial,
                run(5, 99.0, 6.0, Some(false)),
            ],
        );
        assert_eq!(h.trends.len(), 1);
        let t = &h.trends[0];
        assert_eq!(t.runs, 4, "the partial run is not counted");
        assert_eq!(t.median_tps, Some(100.0));
        assert_eq!(t.tps_change_pct, Some(-1.0));
        assert_eq!(t.median_p99_ms, Some(3.0));
        assert_eq!(t.p99_change_pct, Some(100.0));
        assert_eq!((t.slo_passed, t.slo_judged), (2, 4));
        let text = h.console();
        assert!(text.contains("(partial)"), "{text}");
        assert!(text.contains("simple/read/1 read: 4 runs"), "{text}");
        let page = h.html();
        assert!(
            page.contains("p99 objective 5 ms"),
            "the objective is drawn"
        );
        assert_eq!(h.table().rows.len(), 5);
    }
}
