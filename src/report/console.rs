//! The console report, in the spirit of StormDB's "Load Test Results".

use std::fmt::Write as _;

use super::{Latency, Report, WorkloadReport};

const RULE: &str = "============================================================";

/// Thousands separators for counts.
fn n(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn latency_row(out: &mut String, label: &str, l: &Latency, w: usize) {
    let _ = writeln!(
        out,
        "  {label:<w$} {:>9} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>9.3}",
        n(l.count),
        l.avg_ms,
        l.p50_ms,
        l.p90_ms,
        l.p95_ms,
        l.p99_ms,
        l.p999_ms,
        l.max_ms
    );
}

fn latency_header(out: &mut String, title: &str, w: usize) {
    let _ = writeln!(out, "\n{title}");
    let _ = writeln!(
        out,
        "  {:<w$} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "", "count", "avg", "p50", "p90", "p95", "p99", "p99.9", "max"
    );
}

/// Outages, unanswered transactions and internal errors, when there were any.
fn health(out: &mut String, r: &Report) {
    let h = &r.health;
    if h.outage_s > 0.0 {
        let periods: Vec<String> = h
            .outages
            .iter()
            .map(|[a, b]| format!("{a:.1}-{b:.1}s"))
            .collect();
        let _ = writeln!(
            out,
            "  WARNING:       the server was unreachable or not answering for {:.1}s of {:.1}s (availability {:.1}%; at {}); about {} transactions could not be attempted",
            h.outage_s,
            r.measured_s,
            h.availability,
            periods.join(", "),
            n(h.not_attempted)
        );
    }
    if h.unanswered > 0 {
        let longest: Vec<String> = h
            .unanswered_longest
            .iter()
            .take(5)
            .map(|u| {
                format!(
                    "worker {} {} {:.1}s",
                    u.worker,
                    u.kind,
                    u.waited_ms / 1000.0
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "  WARNING:       {} transactions were still waiting for the server when the run ended ({})",
            n(h.unanswered),
            longest.join(", ")
        );
    }
    if h.workers_not_stopped > 0 {
        let _ = writeln!(
            out,
            "  WARNING:       {} workers did not stop in time; their last interval is missing",
            h.workers_not_stopped
        );
    }
    let at = &h.in_flight_at_stop;
    if at.cancelled + at.unconfirmed > 0 {
        let _ = writeln!(
            out,
            "  NOTE:          {} statements were still running on the server after the stop: \
             {} cancelled{}",
            n(at.cancelled + at.unconfirmed),
            n(at.cancelled),
            if at.unconfirmed > 0 {
                format!(
                    ", {} not seen to end after a cancel request (the server may still run them)",
                    n(at.unconfirmed)
                )
            } else {
                String::new()
            }
        );
    }
    for e in &h.internal_errors {
        let _ = writeln!(out, "  FAILED:        internal error in {e}");
    }
}

/// The width of the first column: kind names set it (trace replay names kinds by
/// template).
fn kind_width(r: &Report) -> usize {
    r.transactions
        .iter()
        .map(|k| k.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(14)
}

/// Renders the console report.
pub(crate) fn render(r: &Report) -> String {
    let mut out = String::new();
    header(&mut out, r);
    summary(&mut out, r);
    breakdown_and_errors(&mut out, r);
    connection_modes(&mut out, r);
    extras(&mut out, r);
    if let Some(slo) = &r.slo {
        out.push('\n');
        out.push_str(&render_slo(slo));
    }
    let _ = writeln!(out, "{RULE}");
    out
}

/// The service-level objectives: a verdict line, then one line per objective.
pub(crate) fn render_slo(slo: &super::slo::SloReport) -> String {
    let broken = slo.gates.iter().filter(|g| !g.passed).count();
    let mut out = if slo.passed {
        format!("SLO: MET ({} objectives kept)\n", slo.gates.len())
    } else {
        format!(
            "SLO: BROKEN ({broken} of {} objectives broken)\n",
            slo.gates.len()
        )
    };
    for g in &slo.gates {
        let _ = writeln!(
            out,
            "  [{}] {}",
            if g.passed { "PASS" } else { "FAIL" },
            g.line()
        );
    }
    out
}

/// The title and what ran: workload, database, duration, workers, settings.
fn header(out: &mut String, r: &Report) {
    let _ = writeln!(out, "{RULE}\nstormbench Load Test Results\n{RULE}");
    let _ = writeln!(
        out,
        "Workload:      {} (mode {}, scale {})",
        r.workload.name, r.workload.mode, r.workload.scale
    );
    let _ = writeln!(
        out,
        "Database:      {} (PostgreSQL {})",
        r.database, r.server.version
    );
    let cfg = &r.config;
    let _ = writeln!(
        out,
        "Duration:      {:.1}s measured, status {}",
        r.measured_s, r.status
    );
    let _ = writeln!(
        out,
        "Workers:       {} over {} connections ({}, {} driver), {}",
        cfg["workers"],
        r.connections.pool_size,
        r.connections.mode,
        r.connections.driver,
        match &r.schedule {
            Some(sc) => format!("open loop at {} tps", super::figure(sc.target_tps)),
            None if r.pacing.is_some() => "paced by the workload".to_string(),
            None => "closed loop".to_string(),
        }
    );
    let _ = writeln!(
        out,
        "Settings:      warm-up {}, seed {}, max_tries {}, threads {}, think_time {}",
        cfg["warmup"].as_str().unwrap_or("0s"),
        cfg["seed"],
        cfg["max_tries"],
        cfg["threads"],
        cfg["think_time"].as_str().unwrap_or("0s")
    );
}

/// Counts, rates and the latency tables.
fn summary(out: &mut String, r: &Report) {
    let s = &r.summary;
    let _ = writeln!(out, "\nPerformance Summary:");
    let _ = writeln!(
        out,
        "  Transactions:  {} ok ({} committed, {} rolled back), {} failed, {} retries",
        n(s.transactions),
        n(s.committed),
        n(s.rolled_back),
        n(s.failed),
        n(s.retries)
    );
    let _ = writeln!(out, "  Success rate:  {:.2}%", s.success_rate);
    health(out, r);
    let _ = writeln!(out, "  Throughput:    {:.1} TPS   {:.1} QPS", s.tps, s.qps);

    let w = kind_width(r);
    latency_header(out, "Latency from intended start (ms):", w);
    latency_row(out, "all", &s.latency, w);
    for k in &r.transactions {
        if k.transactions + k.failed > 0 {
            latency_row(out, &k.name, &k.latency, w);
        }
    }
    latency_header(out, "Execution time on the connection (ms):", w);
    latency_row(out, "all", &s.service, w);
    if s.pool_wait.count > 0 && s.pool_wait.max_ms > 0.0 {
        latency_row(out, "pool wait", &s.pool_wait, w);
    }
}

/// Per-kind shares and the errors by class, SQLSTATE and example.
fn breakdown_and_errors(out: &mut String, r: &Report) {
    let w = kind_width(r);
    if r.transactions.len() > 1 {
        let _ = writeln!(out, "\nWorkload Breakdown:");
        for k in &r.transactions {
            let _ = writeln!(
                out,
                "  {:<w$} {:>12} ({:>5.1}%)  {:>10.1} TPS  {} failed",
                k.name,
                n(k.transactions),
                k.share,
                k.tps,
                n(k.failed)
            );
        }
    }

    if r.errors.total > 0 {
        let _ = writeln!(out, "\nError Summary:");
        for (class, count) in &r.errors.by_class {
            let _ = writeln!(
                out,
                "  {class:<18} {:>10} ({:.1}%)",
                n(*count),
                100.0 * *count as f64 / r.errors.total as f64
            );
        }
        for (code, count) in &r.errors.by_sqlstate {
            let _ = writeln!(out, "    SQLSTATE {code}: {}", n(*count));
        }
        for (class, msgs) in &r.errors.samples {
            for m in msgs {
                let _ = writeln!(out, "  e.g. [{class}] {m}");
            }
        }
    }
}

/// Persistent against transient connections, when transient ones ran.
fn connection_modes(out: &mut String, r: &Report) {
    let c = &r.connections;
    if c.transient.transactions + c.transient.failed > 0 {
        let _ = writeln!(out, "\nConnection Modes:");
        for (label, t) in [("persistent", &c.persistent), ("transient", &c.transient)] {
            let _ = writeln!(
                out,
                "  {label:<11} {:>10} ok {:>10.1} TPS  p50 {:>8.3}  p95 {:>8.3}  p99 {:>8.3} ms",
                n(t.transactions),
                t.tps,
                t.latency.p50_ms,
                t.latency.p95_ms,
                t.latency.p99_ms
            );
        }
        let _ = writeln!(
            out,
            "  connect     {:>10} opened   avg {:>8.3}  p50 {:>8.3}  p95 {:>8.3}  p99 {:>8.3} ms",
            n(c.opened),
            c.connect.avg_ms,
            c.connect.p50_ms,
            c.connect.p95_ms,
            c.connect.p99_ms
        );
        if c.persistent.transactions > 0 {
            let _ = writeln!(
                out,
                "  overhead    transient p50 is {:.3} ms above persistent ({:.1}x)",
                c.transient.latency.p50_ms - c.persistent.latency.p50_ms,
                c.transient.latency.p50_ms / c.persistent.latency.p50_ms.max(1e-9)
            );
        }
    }
}

/// Server statistics, workload metrics, checks, the open-loop schedule and pacing.
fn extras(out: &mut String, r: &Report) {
    if let Some(d) = &r.database_stats {
        database_section(out, d);
    }

    workload_sections(out, &r.workload);
    if let Some(c) = &r.health.client {
        let _ = writeln!(
            out,
            "\nClient:        stormbench used {:.1} MiB resident after the first interval, {:.1} MiB at most, {:.1} MiB at the end; at most {} open files",
            c.rss_mb_first, c.rss_mb_max, c.rss_mb_last, c.fds_max
        );
    }
    if let Some(x) = r.summary.server_transactions {
        let _ = writeln!(
            out,
            "\nServer:        {} transactions committed or rolled back in this database during the run ({:.1}/s, all clients)",
            n(x),
            x as f64 / r.measured_s.max(1e-9)
        );
    }
    if let Some(checks) = &r.checks {
        out.push('\n');
        out.push_str(&render_checks(checks));
    }

    schedule_sections(out, r);
}

/// The workload's metrics, worker groups and series measured during the run.
fn workload_sections(out: &mut String, w: &WorkloadReport) {
    if !w.warnings.is_empty() {
        let _ = writeln!(out, "\nWorkload Warnings:");
        for line in &w.warnings {
            let _ = writeln!(out, "  {line}");
        }
    }
    if !w.metrics.is_empty() {
        let _ = writeln!(out, "\nWorkload Metrics:");
        let mw = w
            .metrics
            .iter()
            .map(|m| m.name.chars().count())
            .max()
            .unwrap_or(0)
            .max(14);
        for m in &w.metrics {
            let _ = writeln!(
                out,
                "  {:<mw$} {:>14} {:<18} {}",
                m.name,
                crate::report::figure(m.value),
                m.unit,
                m.description
            );
        }
    }
    if !w.groups.is_empty() {
        let _ = writeln!(out, "\nWorker Groups:");
        for g in &w.groups {
            let _ = writeln!(
                out,
                "  {:<16} {:>5} workers  {:<22} {:>10.1} TPS {:>12.0}/h  {:>5.1}% rolled back  ({})",
                g.name,
                g.workers,
                match g.target_tps {
                    Some(t) => format!("open loop at {t}/s"),
                    None => "closed loop".into(),
                },
                g.tps,
                g.per_hour,
                g.rollback_pct,
                g.kinds.join(", ")
            );
        }
    }
    if !w.measure_series.is_empty() {
        let _ = writeln!(out, "\nMeasured During the Run (min / mean / last):");
        for m in &w.measure_series {
            let values: Vec<f64> = m.points.iter().map(|p| p.1).collect();
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
            let last = values.last().copied().unwrap_or(f64::NAN);
            let _ = writeln!(
                out,
                "  {:<24} {} / {} / {} {} over {} samples",
                m.name,
                crate::report::figure(min),
                crate::report::figure(mean),
                crate::report::figure(last),
                m.unit,
                values.len()
            );
        }
    }
}

/// The open-loop schedule and the workload's pacing.
fn schedule_sections(out: &mut String, r: &Report) {
    if let Some(sc) = &r.schedule {
        let _ = writeln!(out, "\nSchedule (open loop):");
        let _ = writeln!(
            out,
            "  target {} tps, achieved {:.1} tps, {} of {} slots missed",
            super::figure(sc.target_tps),
            sc.achieved_tps,
            n(sc.slots_missed),
            n(sc.slots_due)
        );
        let _ = writeln!(
            out,
            "  start lag p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            sc.lag.p50_ms, sc.lag.p99_ms, sc.lag.max_ms
        );
    }
    if let Some(p) = &r.pacing {
        let _ = writeln!(out, "\nPacing ({} timing at speed {}):", p.source, p.speed);
        let _ = writeln!(
            out,
            "  start lag p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            p.lag.p50_ms, p.lag.p99_ms, p.lag.max_ms
        );
    }
}

fn opt_i(v: Option<i64>) -> String {
    v.map(|v| n(v.max(0) as u64))
        .unwrap_or_else(|| "not available".into())
}

/// Human bytes.
fn bytes(v: f64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = v;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

fn database_section(out: &mut String, d: &crate::collect::DbStatsReport) {
    let r = &d.run;
    let _ = writeln!(
        out,
        "\nDatabase Performance (server side, {} samples over {:.1}s):",
        d.samples, r.span_s
    );
    for reset in &d.counter_resets {
        let _ = writeln!(
            out,
            "  Counters reset: {} at {:.1}s (pg_stat_reset or a crash): its figures count on \
             from the reset, without what came between the sample before and the reset",
            reset.view, reset.t_s
        );
    }
    let _ = writeln!(
        out,
        "  Transactions:  {} commits, {} rollbacks ({:.1} commits/s), {} deadlocks",
        n(r.commits.max(0) as u64),
        n(r.rollbacks.max(0) as u64),
        r.commits_per_s,
        n(r.deadlocks.max(0) as u64)
    );
    let _ = writeln!(
        out,
        "  Buffer cache:  {} hit ratio ({} hits, {} reads)",
        r.cache_hit_ratio
            .map(|x| format!("{x:.2}%"))
            .unwrap_or_else(|| "n/a".into()),
        n(r.blks_hit.max(0) as u64),
        n(r.blks_read.max(0) as u64)
    );
    let _ = writeln!(
        out,
        "  Rows:          {} returned, {} fetched, {} inserted, {} updated, {} deleted",
        n(r.tup_returned.max(0) as u64),
        n(r.tup_fetched.max(0) as u64),
        n(r.tup_inserted.max(0) as u64),
        n(r.tup_updated.max(0) as u64),
        n(r.tup_deleted.max(0) as u64)
    );
    match (r.wal_bytes, r.wal_bytes_per_s) {
        (Some(b), Some(ps)) => {
            let _ = writeln!(
                out,
                "  WAL:           {} ({}/s), {} records, {} full-page images",
                bytes(b as f64),
                bytes(ps),
                opt_i(r.wal_records),
                opt_i(r.wal_fpi)
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "  WAL:           not available (pg_stat_wal needs PostgreSQL 14)"
            );
        }
    }
    let _ = writeln!(
        out,
        "  Checkpoints:   {} timed, {} requested, {} buffers written; bgwriter {} buffers",
        opt_i(r.checkpoints_timed),
        opt_i(r.checkpoints_requested),
        opt_i(r.buffers_checkpoint),
        opt_i(r.buffers_clean)
    );
    if r.io_reads.is_some() {
        let _ = writeln!(
            out,
            "  I/O:           {} reads, {} writes, {} extends, {} fsyncs (pg_stat_io)",
            opt_i(r.io_reads),
            opt_i(r.io_writes),
            opt_i(r.io_extends),
            opt_i(r.io_fsyncs)
        );
    }
    if r.temp_files > 0 {
        let _ = writeln!(
            out,
            "  Temp files:    {} ({})",
            n(r.temp_files as u64),
            bytes(r.temp_bytes as f64)
        );
    }
    activity_section(out, d);
}

/// Connections, locks, wait events, tables and the top statements of the run.
fn activity_section(out: &mut String, d: &crate::collect::DbStatsReport) {
    let c = &d.connections;
    let _ = writeln!(
        out,
        "  Connections:   peak {} active, {} idle, {} idle in transaction, {} of max_connections {}",
        c.max_active, c.max_idle, c.max_idle_in_transaction, c.max_total, c.max_connections
    );
    let _ = writeln!(
        out,
        "  Locks:         peak {} waiting; autovacuum: peak {} workers",
        d.locks_waiting_max, d.autovacuum.max_running
    );
    let mut waits: Vec<_> = d.waits.iter().collect();
    waits.sort_by(|a, b| b.1.cmp(a.1));
    if !waits.is_empty() {
        let top: Vec<String> = waits
            .iter()
            .take(5)
            .map(|(k, v)| format!("{k} ({v})"))
            .collect();
        let _ = writeln!(out, "  Wait events:   {}", top.join(", "));
    }
    for t in &d.autovacuum.tables {
        let _ = writeln!(
            out,
            "  Table {:<18} {} live, {} dead, last autovacuum {}",
            t.table,
            n(t.live_tuples.max(0) as u64),
            n(t.dead_tuples.max(0) as u64),
            t.last_autovacuum.as_deref().unwrap_or("never")
        );
    }
    if !d.top_statements.is_empty() {
        let _ = writeln!(out, "  Top statements by execution time during the run:");
        for st in &d.top_statements {
            let q: String = st.query.split_whitespace().collect::<Vec<_>>().join(" ");
            let _ = writeln!(
                out,
                "    {:>10.1} ms {:>10} calls {:>9.3} ms/call {:>10} rows  {}",
                st.total_exec_time_ms,
                n(st.calls.max(0) as u64),
                st.mean_exec_time_ms,
                n(st.rows.max(0) as u64),
                q.chars().take(70).collect::<String>()
            );
        }
    } else if let Some(note) = &d.statements_note {
        let _ = writeln!(out, "  Statements:    {note}");
    }
}

/// The consistency checks as pass/fail lines.
pub(crate) fn render_checks(checks: &[crate::core::CheckResult]) -> String {
    let mut out = String::from("Consistency Checks:\n");
    if checks.is_empty() {
        out.push_str("  (this workload defines none)\n");
    }
    for c in checks {
        let _ = writeln!(
            out,
            "  [{}] {}{}",
            if c.passed { "PASS" } else { "FAIL" },
            c.name,
            if c.detail.is_empty() {
                String::new()
            } else {
                format!(": {}", c.detail)
            }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(n(0), "0");
        assert_eq!(n(999), "999");
        assert_eq!(n(1000), "1,000");
        assert_eq!(n(1234567), "1,234,567");
    }
}
