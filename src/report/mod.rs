//! The versioned run report: built once from the run's totals, then rendered as JSON (the
//! contract, see `schema/report.schema.json`), a console report and a CSV time series.

pub(crate) mod compare;
mod console;
pub(crate) mod document;
mod health;
pub(crate) mod history;
mod html;
pub(crate) mod kit;
pub(crate) mod merge;
pub(crate) mod output;
mod run_doc;
pub(crate) mod slo;

pub(crate) use console::render_checks;
pub(crate) use document::{write_each, Document, Format, Table};
pub(crate) use health::HealthReport;
pub(crate) use output::{check_outputs, is_stream, OutputWriter};

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::Serialize;

use crate::collect::DbStatsReport;
use crate::core::{CheckResult, ErrorCounts, LoadStats, Metric, Pacing, RunCounts};
use crate::db::marker::Marker;
use crate::db::ServerInfo;
use crate::exec::RunResult;
use crate::stats::{IntervalPoint, KindTotals, Totals};

/// Version of the JSON layout; bumped on any incompatible change.
pub(crate) const SCHEMA_VERSION: u32 = 3;

/// Latency statistics in milliseconds from one exact histogram of microseconds.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub(crate) struct Latency {
    /// Values recorded.
    pub(crate) count: u64,
    /// Mean, ms.
    pub(crate) avg_ms: f64,
    /// Minimum, ms.
    pub(crate) min_ms: f64,
    /// Median, ms.
    pub(crate) p50_ms: f64,
    /// 90th percentile, ms.
    pub(crate) p90_ms: f64,
    /// 95th percentile, ms.
    pub(crate) p95_ms: f64,
    /// 99th percentile, ms.
    pub(crate) p99_ms: f64,
    /// 99.9th percentile, ms.
    pub(crate) p999_ms: f64,
    /// Maximum, ms.
    pub(crate) max_ms: f64,
    /// Standard deviation, ms.
    pub(crate) stddev_ms: f64,
}

impl Latency {
    /// Statistics of a histogram of µs (all zero when empty).
    pub(crate) fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Latency::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        let q = |p: f64| ms(h.value_at_quantile(p));
        Latency {
            count: h.len(),
            avg_ms: h.mean() / 1000.0,
            min_ms: ms(h.min()),
            p50_ms: q(0.50),
            p90_ms: q(0.90),
            p95_ms: q(0.95),
            p99_ms: q(0.99),
            p999_ms: q(0.999),
            max_ms: ms(h.max()),
            stddev_ms: h.stdev() / 1000.0,
        }
    }
}

/// The headline numbers of the run.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct Summary {
    /// Successful transactions (committed + intentional rollbacks).
    pub(crate) transactions: u64,
    pub(crate) committed: u64,
    /// Rolled back on purpose by the workload.
    pub(crate) rolled_back: u64,
    /// Failed transactions.
    pub(crate) failed: u64,
    /// Retries of serialization failures and deadlocks.
    pub(crate) retries: u64,
    /// Statements of successful transactions.
    pub(crate) queries: u64,
    /// Successful transactions per second.
    pub(crate) tps: f64,
    /// Statements per second.
    pub(crate) qps: f64,
    /// Successful / (successful + failed + not attempted during outages), in percent.
    pub(crate) success_rate: f64,
    /// Latency from the intended start (includes pool wait and schedule lag).
    #[serde(flatten)]
    pub(crate) latency: Latency,
    /// Execution time on the connection.
    pub(crate) service: Latency,
    /// Time waiting for a pooled connection.
    pub(crate) pool_wait: Latency,
    /// Commits + rollbacks the server counted for the database during measurement
    /// (`pg_stat_database`, all clients); `null` when unreadable.
    pub(crate) server_transactions: Option<u64>,
}

/// Per transaction kind.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct KindReport {
    /// Kind name.
    pub(crate) name: String,
    /// Successful.
    pub(crate) transactions: u64,
    pub(crate) committed: u64,
    /// Rolled back on purpose.
    pub(crate) rolled_back: u64,
    pub(crate) failed: u64,
    pub(crate) retries: u64,
    /// Statements.
    pub(crate) queries: u64,
    /// Per second.
    pub(crate) tps: f64,
    /// Share of all successful transactions, percent.
    pub(crate) share: f64,
    /// Successful / attempted, percent.
    pub(crate) success_rate: f64,
    #[serde(flatten)]
    pub(crate) latency: Latency,
    /// Execution time.
    pub(crate) service: Latency,
    /// Failures by class.
    pub(crate) errors: BTreeMap<String, u64>,
}

/// Errors of the run.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct ErrorsReport {
    /// Failed transactions.
    pub(crate) total: u64,
    /// By class name.
    pub(crate) by_class: BTreeMap<String, u64>,
    /// `other` errors by SQLSTATE.
    pub(crate) by_sqlstate: BTreeMap<String, u64>,
    /// A few distinct messages per class.
    pub(crate) samples: BTreeMap<String, Vec<String>>,
}

/// Persistent vs transient connections.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct ConnectionsReport {
    /// persistent | transient | mixed.
    pub(crate) mode: String,
    /// The client library that carried the transactions: wire | tokio-postgres.
    pub(crate) driver: String,
    pub(crate) pool_size: usize,
    /// Connections opened during measurement by workers (transient).
    pub(crate) opened: u64,
    /// Transactions over pooled connections.
    pub(crate) persistent: ConnTypeReport,
    /// Transactions over a fresh connection each.
    pub(crate) transient: ConnTypeReport,
    /// Connection setup time (transient).
    pub(crate) connect: Latency,
}

/// One connection type's results.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct ConnTypeReport {
    /// Successful.
    pub(crate) transactions: u64,
    pub(crate) failed: u64,
    /// Per second.
    pub(crate) tps: f64,
    #[serde(flatten)]
    pub(crate) latency: Latency,
}

/// Open-loop schedule results.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct ScheduleReport {
    /// Target rate.
    pub(crate) target_tps: f64,
    /// Achieved rate (successful + failed per second).
    pub(crate) achieved_tps: f64,
    /// Arrival slots due during measurement.
    pub(crate) slots_due: u64,
    /// Slots that did not start before the end (the client fell behind).
    pub(crate) slots_missed: u64,
    /// Lag between intended and actual start.
    pub(crate) lag: Latency,
}

/// A workload's own timing and how well the run kept it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct PacingReport {
    /// Where the timing comes from, e.g. "trace".
    pub(crate) source: String,
    /// Speed factor against it.
    pub(crate) speed: f64,
    /// Lag between each transaction's intended and actual start (for a trace replay,
    /// the replay lag).
    pub(crate) lag: Latency,
}

/// The workload and its data.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct WorkloadReport {
    pub(crate) name: String,
    /// The workload's mode as run (e.g. `read`, `mixed`).
    pub(crate) mode: String,
    pub(crate) scale: u64,
    /// Transaction kinds.
    pub(crate) kinds: Vec<String>,
    /// Schema marker found (or written) before the run.
    pub(crate) marker: Option<Marker>,
    /// Load done by this invocation, if any.
    pub(crate) load: Option<LoadStats>,
    /// Workload-specific figures (e.g. tpmC), and the workload's measures after the run.
    pub(crate) metrics: Vec<Metric>,
    /// The workload's interval measures over the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) measure_series: Vec<crate::core::measure::MeasureSeries>,
    /// Worker groups of the mode, with what each achieved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) groups: Vec<GroupReport>,
    /// What the run showed that makes its figures suspect (a statement that never
    /// returned or changed a row).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) warnings: Vec<String>,
}

/// One worker group of the run.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct GroupReport {
    pub(crate) name: String,
    pub(crate) workers: usize,
    /// Its open-loop rate; `None`: a closed loop.
    pub(crate) target_tps: Option<f64>,
    /// The kinds it runs.
    pub(crate) kinds: Vec<String>,
    /// Successful transactions of its kinds (a kind two groups run counts in both).
    pub(crate) transactions: u64,
    /// Per second.
    pub(crate) tps: f64,
    /// Per hour (for a group of analytical queries, CH-benCHmark's queries per hour).
    pub(crate) per_hour: f64,
    /// Of its successful transactions, those rolled back on purpose (`rollback_if`).
    pub(crate) rolled_back: u64,
    /// Their share of its successful transactions, percent.
    pub(crate) rollback_pct: f64,
}

impl GroupReport {
    /// The run's groups with their figures, from the per-kind results.
    pub(crate) fn of(
        groups: &[crate::config::GroupPlan],
        kinds: &[KindReport],
        measured_s: f64,
    ) -> Vec<GroupReport> {
        groups
            .iter()
            .map(|g| {
                let mine: Vec<&KindReport> = g.kinds.iter().filter_map(|k| kinds.get(*k)).collect();
                let transactions: u64 = mine.iter().map(|k| k.transactions).sum();
                let rolled_back: u64 = mine.iter().map(|k| k.rolled_back).sum();
                let tps = rate(transactions, measured_s);
                GroupReport {
                    name: g.name.clone(),
                    workers: g.workers,
                    target_tps: match g.arrival {
                        crate::config::Arrival::Open { rate_tps, .. } => Some(rate_tps),
                        crate::config::Arrival::Closed => None,
                    },
                    kinds: mine.iter().map(|k| k.name.clone()).collect(),
                    transactions,
                    tps,
                    per_hour: tps * 3600.0,
                    rolled_back,
                    rollback_pct: if transactions > 0 {
                        rolled_back as f64 * 100.0 / transactions as f64
                    } else {
                        0.0
                    },
                }
            })
            .collect()
    }
}

impl WorkloadReport {
    /// Adds the workload's measures: figures after the run, series during it.
    pub(crate) fn add_measures(
        &mut self,
        figures: Vec<Metric>,
        series: Vec<crate::core::measure::MeasureSeries>,
    ) {
        self.metrics.extend(figures);
        self.measure_series = series;
    }

    /// The workload section of a report, before workload metrics are known.
    pub(crate) fn new(
        plan: &crate::config::RunPlan,
        workload: &dyn crate::core::Workload,
        marker: Option<Marker>,
        load: Option<LoadStats>,
    ) -> Self {
        WorkloadReport {
            name: plan.workload.clone(),
            mode: plan.mode.clone(),
            scale: plan.scale,
            kinds: workload.kinds().iter().map(|s| s.to_string()).collect(),
            marker,
            load,
            metrics: Vec::new(),
            measure_series: Vec::new(),
            groups: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// Serialized HDR histograms (V2 deflate, base64), so runs can be merged and compared.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct HistogramsReport {
    /// Format of every value.
    pub(crate) encoding: String,
    /// Unit of recorded values.
    pub(crate) unit: String,
    /// Latency per kind.
    pub(crate) latency: BTreeMap<String, String>,
    /// Execution time per kind.
    pub(crate) service: BTreeMap<String, String>,
    pub(crate) pool_wait: String,
    pub(crate) schedule_lag: String,
    /// Connection setup.
    pub(crate) connect: String,
    /// Latency of successful transactions per connection type, when both ran
    /// (`connection_mode: mixed`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) by_connection: BTreeMap<String, String>,
}

/// `stormbench x.y.z`: the `tool` every JSON document and model names (and what tells
/// them from a user's file, see [`output`]).
pub(crate) fn tool_name() -> String {
    format!("stormbench {}", env!("CARGO_PKG_VERSION"))
}

/// The whole report.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct Report {
    /// Layout version.
    pub(crate) schema_version: u32,
    /// `stormbench x.y.z`.
    pub(crate) tool: String,
    /// completed | interrupted | failed (an internal error stopped workers).
    pub(crate) status: String,
    /// Start of measurement, RFC 3339.
    pub(crate) started_at: String,
    /// Measured seconds.
    pub(crate) measured_s: f64,
    /// Where it ran (no password).
    pub(crate) database: String,
    /// Server version and key settings.
    pub(crate) server: ServerInfo,
    /// Resolved config, password redacted.
    pub(crate) config: serde_json::Value,
    pub(crate) workload: WorkloadReport,
    /// Headline numbers.
    pub(crate) summary: Summary,
    /// Per kind.
    pub(crate) transactions: Vec<KindReport>,
    pub(crate) errors: ErrorsReport,
    pub(crate) connections: ConnectionsReport,
    /// Open loop only.
    pub(crate) schedule: Option<ScheduleReport>,
    /// Workloads with their own timing (trace replay) only: start lag against it.
    pub(crate) pacing: Option<PacingReport>,
    /// Consistency checks run after the run, when the workload asks for them.
    pub(crate) checks: Option<Vec<CheckResult>>,
    /// Server statistics (`collect_pg_stats`), `null` when not collected.
    pub(crate) database_stats: Option<DbStatsReport>,
    /// Outages, unanswered transactions, internal errors.
    pub(crate) health: HealthReport,
    pub(crate) time_series: Vec<IntervalPoint>,
    pub(crate) histograms: HistogramsReport,
    /// The verdict on the run's service-level objectives, when it has any.
    pub(crate) slo: Option<slo::SloReport>,
    /// The shard of a run split over several processes (`stormbench merge` joins them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) shard: Option<ShardReport>,
    /// A report `stormbench merge` made from the reports of a run's shards: which, and
    /// each one's figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) merged: Option<merge::MergedReport>,
}

/// Which part of a run split over several processes a report holds.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct ShardReport {
    /// From 0.
    pub(crate) index: usize,
    /// Shards of the run.
    pub(crate) count: usize,
    /// This shard's workers (ids `index`, `index + count`, ... of the whole run).
    pub(crate) workers: usize,
    /// The whole run's workers.
    pub(crate) run_workers: usize,
    /// How the shards started together: `start_at`, `barrier NAME`, or `none`.
    pub(crate) start: String,
}

/// What the report is built from besides the run result.
pub(crate) struct ReportInput<'a> {
    /// Resolved, redacted config.
    pub(crate) config: serde_json::Value,
    /// Target display.
    pub(crate) database: String,
    /// Server facts.
    pub(crate) server: ServerInfo,
    /// Workload section.
    pub(crate) workload: WorkloadReport,
    pub(crate) pool_size: usize,
    /// Connection mode in effect.
    pub(crate) connection_mode: &'a str,
    /// Open-loop target rate.
    pub(crate) target_tps: Option<f64>,
    /// The workload's own timing, if it has one.
    pub(crate) pacing: Option<Pacing>,
    /// Server-side transaction count during measurement.
    pub(crate) server_xacts: Option<u64>,
    /// Checks run after the run.
    pub(crate) checks: Option<Vec<CheckResult>>,
    /// Server statistics collected during the run.
    pub(crate) database_stats: Option<DbStatsReport>,
    /// The workload's own figures from the run's counts.
    pub(crate) metrics: &'a dyn Fn(&RunCounts) -> Vec<Metric>,
}

/// A workload figure for people: whole numbers as they are, small fractions (a recall
/// of 0.953) with four significant digits, the rest with one decimal.
pub(crate) fn figure(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() < 1e-4 {
        // too small for four decimals, which would say 0
        format!("{v:.1e}")
    } else if v.abs() < 10.0 {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.1}")
    }
}

fn rate(n: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        n as f64 / secs
    } else {
        0.0
    }
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// Serializes a histogram as HdrHistogram V2 deflate, base64.
pub(crate) fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    match V2DeflateSerializer::new().serialize(h, &mut buf) {
        Ok(_) => base64::engine::general_purpose::STANDARD.encode(buf),
        Err(_) => String::new(),
    }
}

/// Decodes a histogram written by [`Report`] (for merging and comparing runs).
pub fn decode_histogram(s: &str) -> Option<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
    hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .ok()
}

fn errors_by_class(errors: &ErrorCounts) -> BTreeMap<String, u64> {
    errors
        .nonzero()
        .map(|(c, n)| (c.as_str().to_string(), n))
        .collect()
}

fn kind_report(k: &KindTotals, secs: f64, all_ok: u64) -> KindReport {
    KindReport {
        name: k.name.clone(),
        transactions: k.ok(),
        committed: k.committed,
        rolled_back: k.rolled_back,
        failed: k.failed(),
        retries: k.retries,
        queries: k.queries,
        tps: rate(k.ok(), secs),
        share: pct(k.ok(), all_ok),
        success_rate: pct(k.ok(), k.ok() + k.failed()),
        latency: Latency::of(&k.latency),
        service: Latency::of(&k.service),
        errors: errors_by_class(&k.errors),
    }
}

impl ErrorsReport {
    fn build(t: &Totals) -> Self {
        let mut class_totals = ErrorCounts::default();
        let mut by_sqlstate = BTreeMap::new();
        for k in &t.kinds {
            class_totals.add(&k.errors);
            for (c, n) in &k.other_codes {
                *by_sqlstate.entry(c.clone()).or_default() += n;
            }
        }
        ErrorsReport {
            total: t.failed(),
            by_class: errors_by_class(&class_totals),
            by_sqlstate,
            samples: t
                .error_samples
                .iter()
                .map(|(c, v)| (c.as_str().to_string(), v.clone()))
                .collect(),
        }
    }
}

impl HistogramsReport {
    /// Every histogram of the run, encoded.
    fn build(t: &Totals) -> Self {
        HistogramsReport {
            encoding: "HdrHistogram V2 deflate, base64".into(),
            unit: "us".into(),
            latency: t
                .kinds
                .iter()
                .map(|k| (k.name.clone(), encode_histogram(&k.latency)))
                .collect(),
            service: t
                .kinds
                .iter()
                .map(|k| (k.name.clone(), encode_histogram(&k.service)))
                .collect(),
            pool_wait: encode_histogram(&t.pool_wait),
            schedule_lag: encode_histogram(&t.lag),
            connect: encode_histogram(&t.connect),
            by_connection: CONN_TYPES
                .iter()
                .zip(&t.by_conn)
                .filter(|(_, c)| !c.latency.is_empty())
                .map(|(name, c)| (name.to_string(), encode_histogram(&c.latency)))
                .collect(),
        }
    }
}

/// The names of the connection types, in `Totals::by_conn`'s order.
pub(crate) const CONN_TYPES: [&str; 2] = [
    crate::core::ConnectionMode::Persistent.as_str(),
    crate::core::ConnectionMode::Transient.as_str(),
];

impl Report {
    /// Builds the report of a run.
    pub(crate) fn build(r: &RunResult, input: ReportInput<'_>) -> Report {
        let t: &Totals = &r.totals;
        let secs = r.measured.as_secs_f64();
        let ok = t.ok();
        let failed = t.failed();
        let overall = t.overall_latency();
        let counts = run_counts(t, secs, input.server_xacts);
        let mut workload = input.workload;
        workload.metrics = (input.metrics)(&counts);
        let health = HealthReport::build(r, secs, input.target_tps);
        Report {
            schema_version: SCHEMA_VERSION,
            tool: crate::report::tool_name(),
            status: run_status(r).into(),
            started_at: r
                .started_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            measured_s: secs,
            database: input.database,
            server: input.server,
            config: input.config,
            workload,
            summary: Summary::build(t, secs, &overall, health.not_attempted, input.server_xacts),
            transactions: t.kinds.iter().map(|k| kind_report(k, secs, ok)).collect(),
            errors: ErrorsReport::build(t),
            connections: ConnectionsReport::build(
                r,
                secs,
                &overall,
                input.connection_mode,
                input.pool_size,
            ),
            schedule: input
                .target_tps
                .map(|target| ScheduleReport::build(r, secs, target, ok + failed)),
            pacing: input.pacing.map(|p| PacingReport {
                source: p.source,
                speed: p.speed,
                lag: Latency::of(&t.lag),
            }),
            checks: input.checks,
            database_stats: input.database_stats,
            health,
            time_series: r.series.clone(),
            histograms: HistogramsReport::build(t),
            slo: None,
            shard: None,
            merged: None,
        }
    }
}

/// completed | interrupted | failed (an internal error stopped workers).
fn run_status(r: &RunResult) -> &'static str {
    if !r.panics.is_empty() {
        "failed"
    } else if r.interrupted {
        "interrupted"
    } else {
        "completed"
    }
}

/// The run's counts per transaction kind, as the workload's own figures take them.
fn run_counts(t: &Totals, secs: f64, server_xacts: Option<u64>) -> RunCounts {
    RunCounts {
        measured_s: secs,
        committed: t.kinds.iter().map(|k| k.committed).collect(),
        rolled_back: t.kinds.iter().map(|k| k.rolled_back).collect(),
        failed: t.kinds.iter().map(|k| k.failed()).collect(),
        service_s: t
            .kinds
            .iter()
            .map(|k| k.service.mean() * k.service.len() as f64 / 1e6)
            .collect(),
        server_xacts,
    }
}

impl Summary {
    /// `not_attempted` (the outages' estimate) counts against the success rate.
    fn build(
        t: &Totals,
        secs: f64,
        overall: &Histogram<u64>,
        not_attempted: u64,
        server_xacts: Option<u64>,
    ) -> Self {
        let ok = t.ok();
        let failed = t.failed();
        Summary {
            transactions: ok,
            committed: t.kinds.iter().map(|k| k.committed).sum(),
            rolled_back: t.kinds.iter().map(|k| k.rolled_back).sum(),
            failed,
            retries: t.retries(),
            queries: t.queries(),
            tps: rate(ok, secs),
            qps: rate(t.queries(), secs),
            success_rate: pct(ok, ok + failed + not_attempted),
            latency: Latency::of(overall),
            service: Latency::of(&t.overall_service()),
            pool_wait: Latency::of(&t.pool_wait),
            server_transactions: server_xacts,
        }
    }
}

impl ConnectionsReport {
    fn build(
        r: &RunResult,
        secs: f64,
        overall: &Histogram<u64>,
        mode: &str,
        pool_size: usize,
    ) -> Self {
        let t = &r.totals;
        let conn = |i: usize| {
            let c = &t.by_conn[i];
            // outside mixed runs only one type ran, and its latency is the overall one
            let h = if c.latency.is_empty() && c.ok > 0 {
                overall
            } else {
                &c.latency
            };
            ConnTypeReport {
                transactions: c.ok,
                failed: c.failed,
                tps: rate(c.ok, secs),
                latency: Latency::of(h),
            }
        };
        ConnectionsReport {
            mode: mode.to_string(),
            driver: r.driver.to_string(),
            pool_size,
            opened: t.connections_opened,
            persistent: conn(0),
            transient: conn(1),
            connect: Latency::of(&t.connect),
        }
    }
}

impl ScheduleReport {
    /// `started`: transactions started (succeeded or failed).
    fn build(r: &RunResult, secs: f64, target: f64, started: u64) -> Self {
        let due = r.slots_due.unwrap_or(started);
        ScheduleReport {
            target_tps: target,
            achieved_tps: rate(started, secs),
            slots_due: due,
            slots_missed: due.saturating_sub(started),
            lag: Latency::of(&r.totals.lag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::new_histogram;

    #[test]
    fn latency_is_in_milliseconds() {
        let mut h = new_histogram();
        for v in 1..=1000u64 {
            h.record(v * 1000).unwrap();
        }
        let l = Latency::of(&h);
        assert_eq!(l.count, 1000);
        assert!((l.p50_ms - 500.0).abs() < 1.0, "{l:?}");
        assert!((l.p99_ms - 990.0).abs() < 1.5, "{l:?}");
        assert!((l.max_ms - 1000.0).abs() < 1.5, "{l:?}");
    }

    #[test]
    fn figures_keep_what_is_not_zero() {
        let shown: Vec<String> = [1000.0, 12.25, 0.01, 0.5, 1e-9, 0.0]
            .into_iter()
            .map(figure)
            .collect();
        assert_eq!(shown, ["1000", "12.2", "0.01", "0.5", "1.0e-9", "0"]);
    }

    #[test]
    fn histograms_round_trip_through_base64() {
        let mut h = new_histogram();
        for v in [5u64, 50, 500, 5000, 50_000] {
            h.record(v).unwrap();
        }
        let back = decode_histogram(&encode_histogram(&h)).unwrap();
        assert_eq!(back.len(), 5);
        assert_eq!(back.value_at_quantile(0.5), h.value_at_quantile(0.5));
    }

    #[test]
    fn empty_latency_is_zero() {
        assert_eq!(Latency::of(&new_histogram()), Latency::default());
    }
}
