//! Whether the server and stormbench were there for the whole run: outages, transactions
//! left unanswered, workers that did not stop, stormbench's own footprint.

use serde::Serialize;

use crate::exec::RunResult;
use crate::stats::{AtStop, IntervalPoint};

/// Whether the server was there for the whole run, and whether stormbench was.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct HealthReport {
    /// Share of the measured time outside outages, percent (100 when there was none).
    pub(crate) availability: f64,
    /// Seconds of measurement in outage: intervals in which no transaction succeeded while
    /// the server refused or lost connections or left a transaction waiting throughout.
    pub(crate) outage_s: f64,
    /// Outage periods as `[from_s, to_s]` from the start of measurement.
    pub(crate) outages: Vec<[f64; 2]>,
    /// The same periods with what each cost: start, length and the transactions it kept
    /// from being attempted (estimated as `not_attempted` is).
    pub(crate) outage_windows: Vec<OutageWindow>,
    /// Transactions the outage kept from being attempted: the target rate (open loop), or
    /// the throughput of the healthy intervals (closed loop), over the outage, less what was
    /// attempted in it. An estimate; counted as failures in `summary.success_rate`.
    pub(crate) not_attempted: u64,
    /// Transactions still waiting for the server when the run ended (waiting 1 s or more).
    pub(crate) unanswered: u64,
    /// The longest of them.
    pub(crate) unanswered_longest: Vec<UnansweredReport>,
    /// Workers that had not stopped within the grace period after the end.
    pub(crate) workers_not_stopped: usize,
    /// Statements the server was still running when the run stopped: those
    /// that ended within a short grace, those cancelled after it, and those whose end was
    /// not seen after the cancel request. Absent from reports written before it was added.
    #[serde(default)]
    pub(crate) in_flight_at_stop: AtStop,
    /// Internal errors that stopped workers (a bug in stormbench): the run failed.
    pub(crate) internal_errors: Vec<String>,
    /// stormbench's own footprint over the run (`null` where it could not be sampled).
    pub(crate) client: Option<ClientReport>,
}

/// One outage: when it started, how long it lasted, what it cost.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct OutageWindow {
    /// Seconds from the start of measurement.
    pub(crate) start_s: f64,
    pub(crate) length_s: f64,
    /// Transactions it kept from being attempted (the expected rate over its length, less
    /// what was attempted in it).
    pub(crate) transactions_lost: u64,
    /// Transactions attempted during it (all failed).
    #[serde(skip)]
    attempted: u64,
}

/// stormbench's own resident memory and open files, sampled every interval: a soak's
/// memory must stay flat.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct ClientReport {
    /// Resident memory after the first sampled interval, MiB.
    pub(crate) rss_mb_first: f64,
    /// The largest sample, MiB.
    pub(crate) rss_mb_max: f64,
    /// After the last sampled interval, MiB.
    pub(crate) rss_mb_last: f64,
    /// Most open file descriptors seen (sockets included).
    pub(crate) fds_max: u64,
    /// Most sockets seen: stormbench's connections (a leak of connections shows here).
    pub(crate) sockets_max: u64,
}

impl ClientReport {
    fn of(series: &[IntervalPoint], first: Option<f64>) -> Option<Self> {
        let rss: Vec<f64> = series.iter().filter_map(|p| p.client_rss_mb).collect();
        Some(ClientReport {
            // the series' first point may merge many intervals (keeping their peak)
            rss_mb_first: first.or_else(|| rss.first().copied())?,
            rss_mb_max: rss.iter().copied().fold(0.0, f64::max),
            rss_mb_last: *rss.last()?,
            fds_max: series
                .iter()
                .filter_map(|p| p.client_fds)
                .max()
                .unwrap_or(0),
            sockets_max: series
                .iter()
                .filter_map(|p| p.client_sockets)
                .max()
                .unwrap_or(0),
        })
    }
}

/// A transaction left unanswered at the end.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct UnansweredReport {
    /// Worker id.
    pub(crate) worker: usize,
    /// Transaction kind.
    pub(crate) kind: String,
    /// How long it had waited, ms.
    pub(crate) waited_ms: f64,
}

impl HealthReport {
    pub(super) fn build(r: &RunResult, secs: f64, target_tps: Option<f64>) -> Self {
        let t = &r.totals;
        // the measured part of each point (the last may run past the end)
        let span = |p: &IntervalPoint| {
            let from = p.t_s - p.len_s;
            (from, (secs - from).clamp(0.0, p.len_s))
        };
        let mut windows: Vec<OutageWindow> = Vec::new();
        let (mut outage_s, mut in_outage, mut healthy_s, mut healthy_attempts) =
            (0.0, 0u64, 0.0, 0u64);
        for p in &r.series {
            let (from, l) = span(p);
            // a merged point holds its outage seconds, not where in it they were
            let out = if p.len_s > 0.0 {
                p.outage_s * l / p.len_s
            } else {
                0.0
            };
            if out > 0.0 {
                outage_s += out;
                let attempted = p.transactions + p.errors;
                match windows.last_mut() {
                    Some(w) if (w.start_s + w.length_s - from).abs() < 1e-9 => {
                        w.length_s += out;
                        w.attempted += attempted;
                    }
                    _ => windows.push(OutageWindow {
                        start_s: from,
                        length_s: out,
                        attempted,
                        transactions_lost: 0,
                    }),
                }
                in_outage += attempted;
            }
            if l - out > 0.0 {
                healthy_s += l - out;
                if out == 0.0 {
                    healthy_attempts += p.transactions + p.errors;
                }
            }
        }
        let expected_rate = target_tps.unwrap_or(if healthy_s > 0.0 {
            healthy_attempts as f64 / healthy_s
        } else {
            0.0
        });
        let not_attempted = (expected_rate * outage_s - in_outage as f64)
            .max(0.0)
            .round() as u64;
        for w in &mut windows {
            w.transactions_lost = (expected_rate * w.length_s - w.attempted as f64)
                .max(0.0)
                .round() as u64;
        }
        HealthReport {
            availability: if secs > 0.0 {
                100.0 * (1.0 - outage_s / secs).clamp(0.0, 1.0)
            } else {
                100.0
            },
            outage_s,
            outages: windows
                .iter()
                .map(|w| [w.start_s, w.start_s + w.length_s])
                .collect(),
            outage_windows: windows,
            not_attempted,
            unanswered: t.unanswered_count,
            unanswered_longest: t
                .unanswered
                .iter()
                .take(10)
                .map(|u| UnansweredReport {
                    worker: u.worker,
                    kind: t.kinds.get(u.kind).map_or("?".into(), |k| k.name.clone()),
                    waited_ms: u.waited_us as f64 / 1000.0,
                })
                .collect(),
            workers_not_stopped: r.workers_not_stopped,
            in_flight_at_stop: r.at_stop,
            internal_errors: r.panics.clone(),
            client: ClientReport::of(&r.series, r.first_rss_mb),
        }
    }

    /// Whether the server was out (unreachable or not answering) at some point.
    pub(crate) fn had_outage(&self) -> bool {
        self.outage_s > 0.0 || self.unanswered > 0
    }
}
