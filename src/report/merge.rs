//! One run's report from the reports of its shards (`stormbench merge`), exactly: the
//! stored HDR histograms of every kind are added (never percentiles averaged), counts are
//! summed, and the per-interval series are joined by wall-clock interval. The result is
//! built by [`Report::build`], as a single run's is, so every output of a run comes from it.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::{decode_histogram, Report, ShardReport};
use crate::core::ErrorClass;
use crate::exec::RunResult;
use crate::stats::{AtStop, IntervalPoint, Totals, Unanswered, ERROR_SAMPLES_PER_CLASS};

/// One shard's figures, listed beside the merged total.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ShardLine {
    /// The shard, from 0.
    pub(crate) index: usize,
    /// The report it came from.
    pub(crate) file: String,
    pub(crate) workers: usize,
    /// Start of its measurement, RFC 3339.
    pub(crate) started_at: String,
    /// Its start after the earliest shard's, ms.
    pub(crate) start_offset_ms: f64,
    pub(crate) measured_s: f64,
    pub(crate) transactions: u64,
    pub(crate) failed: u64,
    pub(crate) tps: f64,
    pub(crate) p99_ms: f64,
    /// completed | interrupted | failed.
    pub(crate) status: String,
}

/// What `merge` adds to a report: which shards it joins and each one's figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MergedReport {
    /// Shards of the run.
    pub(crate) count: usize,
    /// The whole run's workers (of every shard, merged or not).
    pub(crate) run_workers: usize,
    /// Shards missing from the merge (their workers' transactions are not in it).
    pub(crate) missing: Vec<usize>,
    /// Largest difference between the shards' starts, ms.
    pub(crate) start_spread_ms: f64,
    pub(crate) shards: Vec<ShardLine>,
    /// What the reader should know (missing shards, starts apart, mixed connections).
    pub(crate) warnings: Vec<String>,
}

/// The merged run, ready for [`Report::build`], with what goes around it.
pub(crate) struct Merged {
    pub(crate) result: RunResult,
    /// The report of the lowest shard: server, config and workload facts come from it.
    pub(crate) first: Report,
    pub(crate) merged: MergedReport,
    /// Open-loop target rate of all shards together.
    pub(crate) target_tps: Option<f64>,
    pub(crate) pool_size: usize,
    /// The most server-side transactions any shard counted (each counted the whole
    /// database over its own measured time).
    pub(crate) server_xacts: Option<u64>,
    /// Each worker group's open-loop rate, all shards together (`None`: closed loop).
    pub(crate) group_rates: BTreeMap<String, Option<f64>>,
    /// A shard's report is a checkpoint (its run still going, or killed).
    pub(crate) partial: bool,
}

fn chrono_of(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| format!("its started_at '{s}' is not a time"))
}

fn histogram(s: Option<&String>, what: &str) -> Result<Histogram<u64>, String> {
    match s {
        Some(s) => {
            decode_histogram(s).ok_or_else(|| format!("its {what} histogram does not decode"))
        }
        None => Err(format!("it has no {what} histogram")),
    }
}

fn add(into: &mut Histogram<u64>, h: &Histogram<u64>) -> Result<(), String> {
    // a decoded histogram has the range of its values; the sum may need more
    into.auto(true);
    into.add(h)
        .map_err(|e| format!("histograms do not add up: {e:?}"))
}

/// The exact totals a report holds: counts and the stored histograms.
fn totals_of(r: &Report) -> Result<Totals, String> {
    let names: Vec<&str> = r.workload.kinds.iter().map(String::as_str).collect();
    let mut t = Totals::new(&names);
    let h = &r.histograms;
    for (kt, k) in t.kinds.iter_mut().zip(&r.transactions) {
        kt.latency = histogram(h.latency.get(&k.name), &format!("{} latency", k.name))?;
        kt.service = histogram(h.service.get(&k.name), &format!("{} service", k.name))?;
        kt.committed = k.committed;
        kt.rolled_back = k.rolled_back;
        kt.queries = k.queries;
        kt.retries = k.retries;
        for (class, n) in &k.errors {
            let c = ErrorClass::from_name(class)
                .ok_or_else(|| format!("its error class '{class}' is unknown"))?;
            kt.errors.count_n(c, *n);
        }
    }
    // `other` errors by SQLSTATE are reported for the run; they go to the first kind,
    // whose sum over kinds is all a report shows
    if let Some(k) = t.kinds.first_mut() {
        k.other_codes = r.errors.by_sqlstate.clone();
    }
    t.pool_wait =
        decode_histogram(&h.pool_wait).ok_or("its pool_wait histogram does not decode")?;
    t.lag =
        decode_histogram(&h.schedule_lag).ok_or("its schedule_lag histogram does not decode")?;
    t.connect = decode_histogram(&h.connect).ok_or("its connect histogram does not decode")?;
    t.connections_opened = r.connections.opened;
    for (c, rep) in t
        .by_conn
        .iter_mut()
        .zip([&r.connections.persistent, &r.connections.transient])
    {
        c.ok = rep.transactions;
        c.failed = rep.failed;
    }
    for (c, name) in t.by_conn.iter_mut().zip(super::CONN_TYPES) {
        if let Some(h) = h.by_connection.get(name) {
            c.latency = decode_histogram(h)
                .ok_or_else(|| format!("its {name} connection histogram does not decode"))?;
        }
    }
    for (class, v) in &r.errors.samples {
        if let Some(c) = ErrorClass::from_name(class) {
            t.error_samples.insert(c, v.clone());
        }
    }
    t.unanswered = r
        .health
        .unanswered_longest
        .iter()
        .map(|u| Unanswered {
            worker: u.worker,
            kind: r
                .workload
                .kinds
                .iter()
                .position(|k| *k == u.kind)
                .unwrap_or(0),
            waited_us: (u.waited_ms * 1000.0) as u64,
        })
        .collect();
    t.unanswered_count = r.health.unanswered;
    Ok(t)
}

/// Adds `t` into `into` (same kinds, in the same order).
fn absorb(into: &mut Totals, t: Totals) -> Result<(), String> {
    for (a, b) in into.kinds.iter_mut().zip(t.kinds) {
        add(&mut a.latency, &b.latency)?;
        add(&mut a.service, &b.service)?;
        a.committed += b.committed;
        a.rolled_back += b.rolled_back;
        a.queries += b.queries;
        a.retries += b.retries;
        a.errors.add(&b.errors);
        for (code, n) in b.other_codes {
            *a.other_codes.entry(code).or_default() += n;
        }
    }
    add(&mut into.pool_wait, &t.pool_wait)?;
    add(&mut into.lag, &t.lag)?;
    add(&mut into.connect, &t.connect)?;
    into.connections_opened += t.connections_opened;
    for (a, b) in into.by_conn.iter_mut().zip(t.by_conn) {
        a.ok += b.ok;
        a.failed += b.failed;
        add(&mut a.latency, &b.latency)?;
    }
    for (c, v) in t.error_samples {
        let kept = into.error_samples.entry(c).or_default();
        for m in v {
            if kept.len() < ERROR_SAMPLES_PER_CLASS && !kept.contains(&m) {
                kept.push(m);
            }
        }
    }
    into.unanswered.extend(t.unanswered);
    into.unanswered
        .sort_by_key(|u| std::cmp::Reverse(u.waited_us));
    into.unanswered.truncate(crate::stats::UNANSWERED_KEPT);
    into.unanswered_count += t.unanswered_count;
    Ok(())
}

/// The sum of the values present (a shard that did not sample adds nothing).
fn sum_present<T: std::ops::Add<Output = T>>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

/// Adds point `p` of a shard into the merged point `m` of the same wall-clock interval:
/// counts summed; interval percentiles the largest of the shards' (an upper bound: a
/// point keeps no histogram; the run's percentiles are exact); an outage only where every
/// shard had one.
fn join_point(m: &mut IntervalPoint, p: &IntervalPoint, first: bool) {
    m.len_s = m.len_s.max(p.len_s);
    m.transactions += p.transactions;
    m.errors += p.errors;
    m.retries += p.retries;
    m.qps += p.qps;
    m.p50_ms = m.p50_ms.max(p.p50_ms);
    m.p95_ms = m.p95_ms.max(p.p95_ms);
    m.p99_ms = m.p99_ms.max(p.p99_ms);
    m.max_ms = m.max_ms.max(p.max_ms);
    for (a, b) in m.by_kind.iter_mut().zip(&p.by_kind) {
        *a += b;
    }
    for (a, b) in m.kind_ms.iter_mut().zip(&p.kind_ms) {
        for (x, y) in a.iter_mut().zip(b) {
            *x = x.max(*y);
        }
    }
    m.connection_errors += p.connection_errors;
    m.stalled |= p.stalled;
    if !first {
        m.outage &= p.outage;
        m.outage_s = m.outage_s.min(p.outage_s);
    }
    m.client_rss_mb = sum_present(m.client_rss_mb, p.client_rss_mb);
    m.client_fds = sum_present(m.client_fds, p.client_fds);
    m.client_sockets = sum_present(m.client_sockets, p.client_sockets);
    m.tps = if m.len_s > 0.0 {
        m.transactions as f64 / m.len_s
    } else {
        0.0
    };
}

/// The sample interval of a report's config (`1s` unless it says otherwise).
fn sample_interval(r: &Report) -> f64 {
    r.config
        .get("sample_interval")
        .and_then(|v| v.as_str())
        .and_then(|s| crate::config::Dur::parse(s).ok())
        .map(|d| d.0.as_secs_f64())
        .filter(|s| *s > 0.0)
        .unwrap_or(1.0)
}

/// The driver name as the run result keeps it.
fn driver_name(s: &str) -> &'static str {
    match s {
        "wire" => "wire",
        "tokio-postgres" => "tokio-postgres",
        _ => "unknown",
    }
}

/// Joins the shard reports `runs` (file name, report) into one run; refuses reports that
/// are not shards of one run.
pub(crate) fn merge(mut runs: Vec<(String, Report)>) -> Result<Merged, String> {
    check_shards(&runs)?;
    runs.sort_by_key(|(_, r)| r.shard.as_ref().map_or(0, |s| s.index));
    let (f0, r0) = &runs[0];
    let s0 = r0
        .shard
        .clone()
        .ok_or_else(|| format!("{f0} has no shard"))?;
    let mut warnings = Vec::new();
    check_distinct(&runs)?;
    check_one_run(&runs, &s0)?;
    let missing = missing_shards(&runs, &s0, &mut warnings);
    let si = sample_interval(r0);
    let starts: Vec<chrono::DateTime<chrono::Utc>> = runs
        .iter()
        .map(|(f, r)| chrono_of(&r.started_at).map_err(|e| format!("{f}: {e}")))
        .collect::<Result<_, _>>()?;
    let earliest = *starts.iter().min().unwrap_or(&starts[0]);
    let spread_ms = starts
        .iter()
        .map(|t| offset_ms(t, earliest))
        .fold(0.0, f64::max);
    if spread_ms > si * 1000.0 {
        warnings.push(format!(
            "the shards started {:.0} ms apart, more than one interval ({si} s): they did not \
             measure the same time (start them with --barrier or --start-at)",
            spread_ms
        ));
    }
    let partial = warn_partial(&runs, &mut warnings);
    warn_mixed_connections(&runs, &mut warnings);
    let result = merged_result(&runs, &starts, earliest, si)?;
    let merged = MergedReport {
        count: s0.count,
        run_workers: s0.run_workers,
        missing,
        start_spread_ms: spread_ms,
        shards: shard_lines(&runs, &starts, earliest),
        warnings,
    };
    let target_tps = runs
        .iter()
        .map(|(_, r)| r.schedule.as_ref().map(|s| s.target_tps))
        .sum::<Option<f64>>();
    let pool_size = runs.iter().map(|(_, r)| r.connections.pool_size).sum();
    let server_xacts = runs
        .iter()
        .filter_map(|(_, r)| r.summary.server_transactions)
        .max();
    let group_rates = group_rates(&runs);
    // a statement found nothing in the whole run only if it found nothing in every shard
    let common: Vec<String> = runs[0]
        .1
        .workload
        .warnings
        .iter()
        .filter(|w| runs.iter().all(|(_, r)| r.workload.warnings.contains(w)))
        .cloned()
        .collect();
    let mut first = runs.swap_remove(0).1;
    first.workload.warnings = common;
    Ok(Merged {
        partial,
        group_rates,
        result,
        first,
        merged,
        target_tps,
        pool_size,
        server_xacts,
    })
}

/// Refuses an empty list, a report that is no shard's and one of another report schema.
fn check_shards(runs: &[(String, Report)]) -> Result<(), String> {
    if runs.is_empty() {
        return Err("no reports to merge".into());
    }
    for (f, r) in runs {
        if r.shard.is_none() {
            return Err(format!(
                "{f} is not a shard's report (it has no shard); merge joins the reports of runs \
                 made with --shard"
            ));
        }
        if r.schema_version != super::SCHEMA_VERSION {
            return Err(format!(
                "{f} has report schema version {}, this stormbench writes {}; merge reports of \
                 one stormbench version",
                r.schema_version,
                super::SCHEMA_VERSION
            ));
        }
    }
    Ok(())
}

/// Refuses a shard given twice (`runs` sorted by shard).
fn check_distinct(runs: &[(String, Report)]) -> Result<(), String> {
    for w in runs.windows(2) {
        let (fa, a) = &w[0];
        let (fb, b) = &w[1];
        if a.shard.as_ref().map(|s| s.index) == b.shard.as_ref().map(|s| s.index) {
            return Err(format!(
                "{fa} and {fb} are both shard {}; give each shard's report once",
                a.shard.as_ref().map_or(0, |s| s.index)
            ));
        }
    }
    Ok(())
}

/// Refuses shards that differ from the first (`runs[0]`, shard `s0`) in what makes them
/// parts of one run.
fn check_one_run(runs: &[(String, Report)], s0: &ShardReport) -> Result<(), String> {
    let (f0, r0) = &runs[0];
    for (f, r) in &runs[1..] {
        let s = r.shard.as_ref().map_or(0, |s| s.count);
        let differs = |what: &str, x: String, y: String| {
            format!("{f0} and {f} are not shards of one run: {what} {x} against {y}")
        };
        if r.workload.name != r0.workload.name {
            return Err(differs(
                "workload",
                r0.workload.name.clone(),
                r.workload.name.clone(),
            ));
        }
        if r.workload.mode != r0.workload.mode {
            return Err(differs(
                "mode",
                r0.workload.mode.clone(),
                r.workload.mode.clone(),
            ));
        }
        if r.workload.scale != r0.workload.scale {
            return Err(differs(
                "scale",
                r0.workload.scale.to_string(),
                r.workload.scale.to_string(),
            ));
        }
        if r.workload.kinds != r0.workload.kinds {
            return Err(differs(
                "kinds",
                r0.workload.kinds.join(","),
                r.workload.kinds.join(","),
            ));
        }
        if s != s0.count {
            return Err(differs("shard count", s0.count.to_string(), s.to_string()));
        }
        let run_workers = r.shard.as_ref().map_or(0, |s| s.run_workers);
        if run_workers != s0.run_workers {
            return Err(differs(
                "workers",
                s0.run_workers.to_string(),
                run_workers.to_string(),
            ));
        }
        // a transaction budget is split between shards; a duration is the same for all
        let duration = |r: &Report| r.config.pointer("/stop/duration").cloned();
        if duration(r) != duration(r0) {
            return Err(differs(
                "duration",
                duration(r0).map_or("none".into(), |v| v.to_string()),
                duration(r).map_or("none".into(), |v| v.to_string()),
            ));
        }
        for key in ["seed", "warmup", "sample_interval"] {
            if r.config.get(key) != r0.config.get(key) {
                return Err(differs(
                    key,
                    r0.config.get(key).map_or("none".into(), |v| v.to_string()),
                    r.config.get(key).map_or("none".into(), |v| v.to_string()),
                ));
            }
        }
    }
    Ok(())
}

/// The shards of the run not in `runs`, with a warning when there are any.
fn missing_shards(
    runs: &[(String, Report)],
    s0: &ShardReport,
    warnings: &mut Vec<String>,
) -> Vec<usize> {
    let present: Vec<usize> = runs
        .iter()
        .filter_map(|(_, r)| r.shard.as_ref().map(|s| s.index))
        .collect();
    let missing: Vec<usize> = (0..s0.count).filter(|i| !present.contains(i)).collect();
    if !missing.is_empty() {
        warnings.push(format!(
            "shard{} {} of {} missing: the merged report holds {} of the run's {} workers",
            if missing.len() == 1 { "" } else { "s" },
            missing
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            s0.count,
            runs.iter()
                .map(|(_, r)| r.shard.as_ref().map_or(0, |s| s.workers))
                .sum::<usize>(),
            s0.run_workers
        ));
    }
    missing
}

/// Start `t` after the earliest shard's, ms.
fn offset_ms(t: &chrono::DateTime<chrono::Utc>, earliest: chrono::DateTime<chrono::Utc>) -> f64 {
    (*t - earliest).num_microseconds().unwrap_or(0) as f64 / 1000.0
}

/// Whether a shard's report is a checkpoint, with a warning naming those that are.
fn warn_partial(runs: &[(String, Report)], warnings: &mut Vec<String>) -> bool {
    let partial: Vec<String> = runs
        .iter()
        .filter(|(_, r)| r.status == "partial")
        .map(|(_, r)| r.shard.as_ref().map_or(0, |s| s.index).to_string())
        .collect();
    if !partial.is_empty() {
        warnings.push(format!(
            "shard {} reported only part of its run (a checkpoint of a run still going, or \
             killed): the merged report is partial",
            partial.join(", ")
        ));
    }
    !partial.is_empty()
}

fn warn_mixed_connections(runs: &[(String, Report)], warnings: &mut Vec<String>) {
    if runs
        .iter()
        .any(|(_, r)| r.connections.mode == "mixed" && r.histograms.by_connection.is_empty())
    {
        warnings.push(
            "connection_mode mixed: a shard's report keeps no histogram per connection type \
             (written by an older stormbench), so the persistent and transient lines show the \
             run's overall latency; the totals and every kind are exact"
                .into(),
        );
    }
}

/// The run of all shards together: exact totals, the series joined by wall-clock interval
/// (`si`: the sample interval, s).
fn merged_result(
    runs: &[(String, Report)],
    starts: &[chrono::DateTime<chrono::Utc>],
    earliest: chrono::DateTime<chrono::Utc>,
    si: f64,
) -> Result<RunResult, String> {
    let r0 = &runs[0].1;
    // totals: exact
    let names: Vec<&str> = r0.workload.kinds.iter().map(String::as_str).collect();
    let mut totals = Totals::new(&names);
    for (f, r) in runs {
        absorb(&mut totals, totals_of(r).map_err(|e| format!("{f}: {e}"))?)
            .map_err(|e| format!("{f}: {e}"))?;
    }
    let measured_s = runs.iter().map(|(_, r)| r.measured_s).fold(0.0, f64::max);
    let panics: Vec<_> = runs
        .iter()
        .flat_map(|(_, r)| r.health.internal_errors.iter().cloned())
        .collect();
    let slots_due = runs
        .iter()
        .map(|(_, r)| r.schedule.as_ref().map(|s| s.slots_due))
        .sum::<Option<u64>>();
    let first_rss = runs
        .iter()
        .map(|(_, r)| r.health.client.as_ref().map(|c| c.rss_mb_first))
        .sum::<Option<f64>>();
    Ok(RunResult {
        totals,
        series: merged_series(runs, starts, earliest, si),
        measured: Duration::from_secs_f64(measured_s.max(0.0)),
        interrupted: runs.iter().any(|(_, r)| r.status == "interrupted"),
        started_at: earliest,
        slots_due,
        driver: driver_name(&r0.connections.driver),
        panics,
        workers_not_stopped: runs.iter().map(|(_, r)| r.health.workers_not_stopped).sum(),
        at_stop: runs.iter().fold(AtStop::default(), |mut a, (_, r)| {
            a.add(r.health.in_flight_at_stop);
            a
        }),
        first_rss_mb: first_rss,
    })
}

/// The shards' series joined by wall-clock interval (`si`: the sample interval, s).
fn merged_series(
    runs: &[(String, Report)],
    starts: &[chrono::DateTime<chrono::Utc>],
    earliest: chrono::DateTime<chrono::Utc>,
    si: f64,
) -> Vec<IntervalPoint> {
    let mut points: BTreeMap<i64, IntervalPoint> = BTreeMap::new();
    for ((_, r), start) in runs.iter().zip(starts) {
        let shift = (offset_ms(start, earliest) / 1000.0 / si).round() as i64;
        for p in &r.time_series {
            let key = i64::from(p.interval) + shift;
            match points.get_mut(&key) {
                Some(m) => join_point(m, p, false),
                None => {
                    let mut m = p.clone();
                    m.interval = key.max(0) as u32;
                    m.t_s = p.t_s + shift as f64 * si;
                    points.insert(key, m);
                }
            }
        }
    }
    points.into_values().collect()
}

fn shard_lines(
    runs: &[(String, Report)],
    starts: &[chrono::DateTime<chrono::Utc>],
    earliest: chrono::DateTime<chrono::Utc>,
) -> Vec<ShardLine> {
    runs.iter()
        .zip(starts)
        .map(|((f, r), start)| ShardLine {
            index: r.shard.as_ref().map_or(0, |s| s.index),
            file: f.clone(),
            workers: r.shard.as_ref().map_or(0, |s| s.workers),
            started_at: r.started_at.clone(),
            start_offset_ms: offset_ms(start, earliest),
            measured_s: r.measured_s,
            transactions: r.summary.transactions,
            failed: r.summary.failed,
            tps: r.summary.tps,
            p99_ms: r.summary.latency.p99_ms,
            status: r.status.clone(),
        })
        .collect()
}

/// Each worker group's open-loop rate, all shards together (`None`: closed loop).
fn group_rates(runs: &[(String, Report)]) -> BTreeMap<String, Option<f64>> {
    let mut group_rates: BTreeMap<String, Option<f64>> = BTreeMap::new();
    for (_, r) in runs {
        for g in &r.workload.groups {
            let e = group_rates.entry(g.name.clone()).or_insert(Some(0.0));
            *e = match (*e, g.target_tps) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
        }
    }
    group_rates
}

/// The config of the whole run from a shard's: its workers, connections, rates and budget
/// are the shards' sums, and it is no shard.
pub(crate) fn whole_config(
    first: &serde_json::Value,
    all: &MergedReport,
    pool: usize,
    rate: Option<f64>,
) -> serde_json::Value {
    let mut c = first.clone();
    if let Some(o) = c.as_object_mut() {
        o.remove("shard");
        o.insert("workers".into(), all.run_workers.into());
        o.insert("connections".into(), pool.into());
        if let (Some(rate), Some(a)) = (rate, o.get_mut("arrival")) {
            if let Some(a) = a.as_object_mut() {
                a.insert("rate_tps".into(), rate.into());
            }
        }
        if let Some(d) = o.get_mut("distributed").and_then(|d| d.as_object_mut()) {
            d.remove("shard");
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(interval: u32, tx: u64, p99: f64, outage: bool) -> IntervalPoint {
        IntervalPoint {
            interval,
            t_s: f64::from(interval + 1),
            len_s: 1.0,
            transactions: tx,
            errors: 1,
            retries: 0,
            tps: tx as f64,
            qps: tx as f64,
            p50_ms: p99 / 2.0,
            p95_ms: p99 * 0.9,
            p99_ms: p99,
            max_ms: p99 * 2.0,
            by_kind: vec![tx],
            kind_ms: vec![[p99 / 2.0, p99 * 0.9, p99]],
            connection_errors: 0,
            stalled: false,
            outage,
            outage_s: if outage { 1.0 } else { 0.0 },
            client_rss_mb: Some(10.0),
            client_fds: Some(20),
            client_sockets: Some(5),
        }
    }

    #[test]
    fn points_add_counts_and_keep_the_largest_percentiles() {
        let mut m = point(3, 100, 5.0, true);
        join_point(&mut m, &point(3, 50, 8.0, false), false);
        assert_eq!(m.transactions, 150);
        assert_eq!(m.errors, 2);
        assert_eq!(m.by_kind, [150]);
        assert_eq!(m.tps, 150.0);
        assert_eq!(m.p99_ms, 8.0);
        assert_eq!(m.kind_ms[0][2], 8.0);
        // the run was out only where every shard was
        assert!(!m.outage);
        assert_eq!(m.outage_s, 0.0);
        assert_eq!(m.client_rss_mb, Some(20.0));
        assert_eq!(m.client_sockets, Some(10));
    }

    #[test]
    fn the_whole_runs_config_sums_the_shards() {
        let first = serde_json::json!({
            "workers": 2, "connections": 2, "shard": {"index": 0, "count": 3},
            "arrival": {"kind": "open", "rate_tps": 200.0},
            "distributed": {"shard": {"index": 0, "count": 3}, "run_workers": 6}
        });
        let all = MergedReport {
            count: 3,
            run_workers: 6,
            missing: Vec::new(),
            start_spread_ms: 0.0,
            shards: Vec::new(),
            warnings: Vec::new(),
        };
        let c = whole_config(&first, &all, 6, Some(600.0));
        assert_eq!(c["workers"], 6);
        assert_eq!(c["connections"], 6);
        assert_eq!(c["arrival"]["rate_tps"], 600.0);
        assert!(c.get("shard").is_none());
        assert!(c["distributed"].get("shard").is_none());
    }
}
