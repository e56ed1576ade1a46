//! A single self-contained HTML report: tables plus SVG charts drawn at report time with
//! plotters. No scripts, fonts or styles are fetched from anywhere.

use std::fmt::Write as _;

use super::kit::{
    chart, chart_with, esc, page_end, page_start, Extras, Line, Shade, BREACH, OUTAGE,
};
use super::{decode_histogram, Latency, Report};

/// Latency by percentile on a "nines" axis: x = -log10(1 - q), so 1 = 90%, 2 = 99%, 3 = 99.9%.
fn percentile_lines(r: &Report) -> Vec<Line> {
    let mut out = Vec::new();
    for (name, encoded) in &r.histograms.latency {
        let Some(h) = decode_histogram(encoded) else {
            continue;
        };
        if h.is_empty() {
            continue;
        }
        let points = (0..=80)
            .map(|i| {
                let x = i as f64 * 0.05; // up to 4 nines
                let q = 1.0 - 10f64.powf(-x);
                (x, h.value_at_quantile(q) as f64 / 1000.0)
            })
            .collect();
        out.push(Line {
            label: name.clone(),
            points,
        });
    }
    out
}

fn series(r: &Report, f: impl Fn(&crate::stats::IntervalPoint) -> f64) -> Vec<(f64, f64)> {
    r.time_series.iter().map(|p| (p.t_s, f(p))).collect()
}

fn latency_row(out: &mut String, name: &str, l: &Latency) {
    let _ = write!(
        out,
        "<tr><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td></tr>",
        esc(name),
        l.count,
        l.avg_ms,
        l.p50_ms,
        l.p90_ms,
        l.p95_ms,
        l.p99_ms,
        l.p999_ms,
        l.max_ms
    );
}

fn opt(v: Option<i64>) -> String {
    v.map(|v| v.to_string())
        .unwrap_or_else(|| "not available".into())
}

/// pg_stat_statements' heaviest statements of the run.
fn top_statements(out: &mut String, d: &crate::collect::DbStatsReport) {
    if !d.top_statements.is_empty() {
        out.push_str("<h3>Top statements during the run</h3><table><tr><th>total ms</th><th>calls</th><th>mean ms</th><th>rows</th><th>query</th></tr>");
        for s in &d.top_statements {
            let _ = write!(
                out,
                "<tr><td>{:.1}</td><td>{}</td><td>{:.3}</td><td>{}</td><td><code>{}</code></td></tr>",
                s.total_exec_time_ms,
                s.calls,
                s.mean_exec_time_ms,
                s.rows,
                esc(&s.query)
            );
        }
        out.push_str("</table>");
    }
}

fn db_charts(out: &mut String, r: &Report) {
    let Some(d) = &r.database_stats else { return };
    let iv = &d.intervals;
    let _ = write!(out, "<h2>Database (server side)</h2><table>");
    let run = &d.run;
    let rows = [
        (
            "commits",
            format!("{} ({:.1}/s)", run.commits, run.commits_per_s),
        ),
        ("rollbacks", run.rollbacks.to_string()),
        (
            "buffer cache hit ratio",
            run.cache_hit_ratio
                .map(|x| format!("{x:.2}%"))
                .unwrap_or("n/a".into()),
        ),
        (
            "WAL bytes",
            run.wal_bytes
                .map(|x| format!("{x} ({:.0}/s)", run.wal_bytes_per_s.unwrap_or(0.0)))
                .unwrap_or("not available".into()),
        ),
        (
            "checkpoints timed / requested",
            format!(
                "{} / {}",
                opt(run.checkpoints_timed),
                opt(run.checkpoints_requested)
            ),
        ),
        ("deadlocks", run.deadlocks.to_string()),
        (
            "temp files",
            format!("{} ({} bytes)", run.temp_files, run.temp_bytes),
        ),
        (
            "peak active connections",
            format!(
                "{} of {}",
                d.connections.max_active, d.connections.max_connections
            ),
        ),
        ("peak lock waits", d.locks_waiting_max.to_string()),
    ];
    for (k, v) in rows {
        let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
    }
    out.push_str("</table>");
    // samples taken after the measured run ended (while workers stopped) describe the
    // shutdown, not the load: drawn, they would show every rate falling to zero at the end
    let end = r.measured_s + 1e-6;
    let pts = |f: fn(&crate::collect::IntervalStats) -> Option<f64>| -> Vec<(f64, f64)> {
        iv.iter()
            .filter(|i| i.t_s <= end)
            .filter_map(|i| f(i).map(|v| (i.t_s, v)))
            .collect()
    };
    out.push_str(&chart(
        "Server commits per second",
        "seconds",
        "commits/s",
        &[Line::new("", pts(|i| Some(i.commits_per_s)))],
    ));
    out.push_str(&chart(
        "Buffer cache hit ratio",
        "seconds",
        "percent",
        &[Line::new("", pts(|i| i.cache_hit_ratio))],
    ));
    out.push_str(&chart(
        "WAL generated",
        "seconds",
        "bytes/s",
        &[Line::new("", pts(|i| i.wal_bytes_per_s))],
    ));
    out.push_str(&chart(
        "Connections and waits",
        "seconds",
        "count",
        &[
            Line::new(
                "active connections",
                pts(|i| Some(i.active_connections as f64)),
            ),
            Line::new("lock waits", pts(|i| Some(i.locks_waiting as f64))),
            Line::new(
                "autovacuum workers",
                pts(|i| Some(i.autovacuum_running as f64)),
            ),
        ],
    ));
    top_statements(out, d);
}

/// The stretches of the run (from, to) whose points `broke` says broke something,
/// contiguous ones joined.
fn stretches(r: &Report, broke: impl Fn(&crate::stats::IntervalPoint) -> bool) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for p in r.time_series.iter().filter(|p| broke(p)) {
        let from = p.t_s - p.len_s;
        match out.last_mut() {
            Some(last) if (last.1 - from).abs() < 1e-9 => last.1 = p.t_s,
            _ => out.push((from, p.t_s)),
        }
    }
    out
}

/// The limit of objective `gate` (`p99_ms`, `new_order.p99_ms`), when the run had it.
fn objective(r: &Report, gate: &str) -> Option<f64> {
    r.slo
        .as_ref()
        .and_then(|s| s.gates.iter().find(|g| g.gate == gate))
        .map(|g| g.limit)
}

/// A level line across the run at `limit`.
fn level(r: &Report, label: &str, limit: f64) -> Option<Line> {
    let (first, last) = (r.time_series.first()?, r.time_series.last()?);
    Some(Line::new(
        label,
        vec![(first.t_s - first.len_s, limit), (last.t_s, limit)],
    ))
}

/// One figure of a time-series point.
type Pick = fn(&crate::stats::IntervalPoint) -> f64;

/// Intervals in which the run's latency objectives judged per interval were broken.
fn breaches(r: &Report) -> Shade {
    let limits: Vec<(f64, Pick)> = [
        ("p50_ms", (|p| p.p50_ms) as Pick),
        ("p95_ms", |p| p.p95_ms),
        ("p99_ms", |p| p.p99_ms),
        ("max_ms", |p| p.max_ms),
    ]
    .into_iter()
    .filter_map(|(g, f)| objective(r, g).map(|l| (l, f)))
    .collect();
    Shade {
        label: "objective broken".into(),
        ranges: stretches(r, |p| {
            p.transactions > 0 && limits.iter().any(|(l, f)| f(p) > *l)
        }),
        color: BREACH,
    }
}

fn outages(r: &Report) -> Shade {
    Shade {
        label: "server out".into(),
        ranges: r
            .health
            .outage_windows
            .iter()
            .map(|w| (w.start_s, w.start_s + w.length_s))
            .collect(),
        color: OUTAGE,
    }
}

/// Throughput, latency percentiles (overall and per kind) and errors over time, with the
/// objectives drawn and the intervals that broke them and the outages shaded, and the
/// latency distribution on a percentile axis.
fn time_charts(out: &mut String, r: &Report) {
    let outage_only = Extras {
        shades: vec![outages(r)],
        nines: false,
    };
    out.push_str(&chart_with(
        "Throughput",
        "seconds",
        "transactions/s",
        &[Line::new("TPS", series(r, |p| p.tps))],
        &outage_only,
    ));
    let mut lines = vec![
        Line::new("p50", series(r, |p| p.p50_ms)),
        Line::new("p95", series(r, |p| p.p95_ms)),
        Line::new("p99", series(r, |p| p.p99_ms)),
    ];
    lines.extend(objective(r, "p99_ms").and_then(|l| level(r, "p99 objective", l)));
    out.push_str(&chart_with(
        "Latency percentiles over time",
        "seconds",
        "ms",
        &lines,
        &Extras {
            shades: vec![breaches(r), outages(r)],
            nines: false,
        },
    ));
    // each kind's own percentiles, with its own p99 objective
    if r.transactions.len() > 1 {
        for (i, k) in r.transactions.iter().enumerate() {
            let pick = |j: usize| {
                move |p: &crate::stats::IntervalPoint| p.kind_ms.get(i).map_or(0.0, |m| m[j])
            };
            let mut lines = vec![
                Line::new("p50", series(r, pick(0))),
                Line::new("p95", series(r, pick(1))),
                Line::new("p99", series(r, pick(2))),
            ];
            let gate = format!("{}.p99_ms", k.name);
            lines.extend(
                objective(r, &gate)
                    .or_else(|| objective(r, "p99_ms"))
                    .and_then(|l| level(r, "p99 objective", l)),
            );
            out.push_str(&chart_with(
                &format!("{}: latency percentiles over time", k.name),
                "seconds",
                "ms",
                &lines,
                &outage_only,
            ));
        }
    }
    out.push_str(&chart_with(
        "Errors over time",
        "seconds",
        "failed transactions/s",
        &[
            Line::new("errors/s", series(r, |p| p.errors as f64 / p.len_s)),
            Line::new("retries/s", series(r, |p| p.retries as f64 / p.len_s)),
        ],
        &outage_only,
    ));
    out.push_str(&chart_with(
        "Latency distribution by percentile",
        "percentile (log scale)",
        "ms",
        &percentile_lines(r),
        &Extras {
            shades: Vec::new(),
            nines: true,
        },
    ));
}

/// Errors by class, with examples.
fn errors_table(out: &mut String, r: &Report) {
    if r.errors.total > 0 {
        out.push_str("<h2>Errors</h2><table><tr><th>class</th><th>count</th></tr>");
        for (c, n) in &r.errors.by_class {
            let _ = write!(out, "<tr><td>{}</td><td>{}</td></tr>", esc(c), n);
        }
        out.push_str("</table>");
        for (c, msgs) in &r.errors.samples {
            for m in msgs {
                let _ = write!(out, "<p class=\"fail\">[{}] {}</p>", esc(c), esc(m));
            }
        }
    }
}

/// The figures a reader looks for first: throughput, p99, failures, the objectives.
fn headline_figures(r: &Report) -> String {
    let s = &r.summary;
    let attempted = s.transactions + s.failed;
    let failed_pct = if attempted == 0 {
        0.0
    } else {
        s.failed as f64 / attempted as f64 * 100.0
    };
    let mut figs = vec![
        ("transactions/s", super::kit::human(s.tps), ""),
        ("p99 latency, ms", super::kit::human(s.latency.p99_ms), ""),
        ("p50 latency, ms", super::kit::human(s.latency.p50_ms), ""),
        (
            "failed",
            format!("{} ({failed_pct:.2}%)", super::kit::human(s.failed as f64)),
            if s.failed > 0 { "fail" } else { "pass" },
        ),
    ];
    if r.health.outage_s > 0.0 {
        figs.push((
            "availability",
            format!("{:.1}%", r.health.availability),
            "fail",
        ));
    }
    if let Some(slo) = &r.slo {
        figs.push((
            "objectives",
            if slo.passed { "met" } else { "broken" }.to_string(),
            if slo.passed { "pass" } else { "fail" },
        ));
    }
    super::kit::headline(&figs)
}

/// The verdict on the service-level objectives, one row per objective.
fn slo_table(out: &mut String, r: &Report) {
    let Some(slo) = &r.slo else { return };
    let _ = write!(
        out,
        "<h2>Service-level objectives: <span class=\"{}\">{}</span></h2>\
         <table><tr><th>objective</th><th>limit</th><th>measured</th><th>verdict</th><th>past the limit</th><th>intervals broken</th></tr>",
        if slo.passed { "pass" } else { "fail" },
        if slo.passed { "met" } else { "broken" }
    );
    for g in &slo.gates {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{:.2}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&g.gate),
            g.limit,
            g.measured,
            if g.passed { "pass" } else { "fail" },
            if g.passed { "PASS" } else { "FAIL" },
            if g.passed { String::new() } else { format!("{:.1}%", g.over_pct) },
            g.breaching_intervals
                .map(|(b, a)| format!("{b} of {a}"))
                .unwrap_or_default()
        );
    }
    out.push_str("</table>");
}

/// Renders the whole report as one HTML document.
/// A merged report's shards, each with its own figures.
fn shards_table(out: &mut String, r: &Report) {
    let Some(m) = &r.merged else { return };
    let _ = write!(
        out,
        "<h2>Shards</h2><p>{} of {} shards merged ({} of the run's {} workers); the totals, \
         kinds and percentiles above are exact (added histograms), the time series' \
         per-interval percentiles are the largest of the shards'.</p><table><tr><th>shard</th>\
         <th>workers</th><th>start +ms</th><th>measured s</th><th>transactions</th><th>TPS</th>\
         <th>p99 ms</th><th>failed</th><th>status</th><th>report</th></tr>",
        m.shards.len(),
        m.count,
        m.shards.iter().map(|s| s.workers).sum::<usize>(),
        m.run_workers
    );
    for s in &m.shards {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td><td>{:.1}</td>\
             <td>{:.3}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            s.index,
            s.workers,
            s.start_offset_ms,
            s.measured_s,
            s.transactions,
            s.tps,
            s.p99_ms,
            s.failed,
            esc(&s.status),
            esc(&s.file)
        );
    }
    out.push_str("</table>");
    for w in &m.warnings {
        let _ = write!(out, "<p class=\"warn\">{}</p>", esc(w));
    }
}

pub(crate) fn render(r: &Report) -> String {
    let s = &r.summary;
    let mut out = page_start(&format!("{} {}", r.workload.name, r.workload.mode));
    let _ = write!(
        out,
        "<h1>stormbench report</h1><p>{} (mode {}, scale {}) on {} (PostgreSQL {}), {} connections ({}, {} driver), {:.1}s measured, {}, started {}</p>",
        esc(&r.workload.name),
        esc(&r.workload.mode),
        r.workload.scale,
        esc(&r.database),
        esc(&r.server.version),
        r.connections.pool_size,
        esc(&r.connections.mode),
        esc(&r.connections.driver),
        r.measured_s,
        esc(&r.status),
        esc(&r.started_at)
    );
    out.push_str(&headline_figures(r));
    let _ = write!(
        out,
        "<h2>Summary</h2><table><tr><th>transactions</th><td>{}</td></tr><tr><th>failed</th><td>{}</td></tr>\
         <tr><th>retries</th><td>{}</td></tr><tr><th>TPS</th><td>{:.1}</td></tr><tr><th>QPS</th><td>{:.1}</td></tr>\
         <tr><th>success rate</th><td>{:.2}%</td></tr></table>",
        s.transactions, s.failed, s.retries, s.tps, s.qps, s.success_rate
    );
    slo_table(&mut out, r);
    shards_table(&mut out, r);
    out.push_str("<h2>Latency (ms, from intended start)</h2><table><tr><th>kind</th><th>count</th><th>avg</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th></tr>");
    latency_row(&mut out, "all", &s.latency);
    for k in &r.transactions {
        latency_row(&mut out, &k.name, &k.latency);
    }
    out.push_str("</table>");
    let start_lag = r
        .schedule
        .as_ref()
        .map(|sc| ("open-loop schedule", &sc.lag))
        .or_else(|| r.pacing.as_ref().map(|p| ("workload's own timing", &p.lag)));
    if let Some((against, lag)) = start_lag {
        let _ = write!(
            out,
            "<h2>Start lag against the {against} (ms)</h2><table><tr><th></th><th>count</th><th>avg</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th></tr>"
        );
        latency_row(&mut out, "start lag", lag);
        out.push_str("</table>");
    }
    let metric = |out: &mut String, prefix: &str, m: &crate::core::Metric| {
        let _ = write!(
            out,
            "<p><b>{prefix}{}</b>: {} {} — {}</p>",
            esc(&m.name),
            crate::report::figure(m.value),
            esc(&m.unit),
            esc(&m.description)
        );
    };
    for w in &r.workload.warnings {
        let _ = write!(out, "<p class=\"warn\">{}</p>", esc(w));
    }
    for m in &r.workload.metrics {
        metric(&mut out, "", m);
    }
    if let Some(load) = &r.workload.load {
        for s in &load.steps {
            let _ = write!(
                out,
                "<p><b>load step {}</b>: {:.2} s</p>",
                esc(&s.name),
                s.elapsed_s
            );
        }
        for m in &load.figures {
            metric(&mut out, "after load: ", m);
        }
    }
    for m in &r.workload.measure_series {
        out.push_str(&chart(
            &format!("{} during the run", m.name),
            "seconds",
            &m.unit,
            &[Line::new(m.name.clone(), m.points.clone())],
        ));
    }
    time_charts(&mut out, r);
    errors_table(&mut out, r);
    db_charts(&mut out, r);
    let config = serde_json::to_string_pretty(&r.config).unwrap_or_default();
    let _ = write!(out, "<h2>Configuration</h2><details><summary>resolved config (password redacted)</summary><pre>{}</pre></details>", esc(&config));
    let _ = write!(out, "<p class=\"empty\">{}</p>", esc(&r.tool));
    page_end(&mut out);
    out
}
