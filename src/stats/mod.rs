//! Measurements: per-worker recorders (owned by one worker, no locks), the chunks workers
//! hand over each sample interval, and the exact merge into run totals and a time series.

mod recorder;
mod series;

pub(crate) use recorder::{new_histogram, Recorder};
pub(crate) use series::{client_footprint, release_free_memory, IntervalPoint, Series};

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::core::{ErrorClass, ErrorCounts};

/// Distinct error messages kept per class.
pub(crate) const ERROR_SAMPLES_PER_CLASS: usize = 5;

/// Connection types a transaction can run on, for the persistent/transient comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnType {
    /// A pooled connection.
    Persistent = 0,
    /// A connection opened for this transaction.
    Transient = 1,
}

/// What one worker saw of one transaction kind during one interval.
#[derive(Debug, Default)]
pub(crate) struct KindStats {
    /// Latency of the transactions whose execution time is their latency (started when
    /// due on a connection in hand, as in a closed loop on kept connections), µs: one
    /// record counts for both, which saves a histogram per transaction.
    pub(crate) latency_as_service: Recorder,
    /// End-to-end latency from the intended start of the others, µs.
    pub(crate) latency: Recorder,
    /// Their execution time on the connection, µs.
    pub(crate) service: Recorder,
    /// Committed transactions.
    pub(crate) committed: u64,
    /// Transactions the workload rolled back on purpose.
    pub(crate) rolled_back: u64,
    /// Statements sent by successful transactions.
    pub(crate) queries: u64,
    /// Retries after serialization failures or deadlocks.
    pub(crate) retries: u64,
    /// Failed transactions by class.
    pub(crate) errors: ErrorCounts,
    /// Failed transactions of class `Other`, by SQLSTATE (or "none" without one).
    pub(crate) other_codes: Vec<(String, u64)>,
}

/// Per connection type: count and latency, for the persistent/transient comparison.
#[derive(Debug, Default)]
pub(crate) struct ConnStats {
    /// Successful transactions.
    pub(crate) ok: u64,
    /// Failed transactions.
    pub(crate) failed: u64,
    /// Latency of successful transactions, µs.
    pub(crate) latency: Recorder,
}

/// One error, kept as a sample for the report.
#[derive(Debug, Clone)]
pub(crate) struct ErrorSample {
    pub(crate) class: ErrorClass,
    /// Transaction kind index.
    pub(crate) kind: usize,
    /// The error text as the server or driver gave it.
    pub(crate) message: String,
}

/// A transaction still waiting for the server when the run ended (the run stopped waiting).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Unanswered {
    /// Worker id.
    pub(crate) worker: usize,
    /// Transaction kind index.
    pub(crate) kind: usize,
    /// How long it had waited, µs.
    pub(crate) waited_us: u64,
}

/// Statements the server was still running when the run stopped (its deadline, Ctrl-C)
/// and stormbench stopped waiting for them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct AtStop {
    /// Ended within the short grace given after the stop.
    pub(crate) finished: u64,
    /// Still running after it: cancelled, and seen to end.
    pub(crate) cancelled: u64,
    /// Still running after it, and no end seen after the cancel request (or the request
    /// could not be sent): the server may still be running them.
    pub(crate) unconfirmed: u64,
}

impl AtStop {
    /// Adds `other`'s counts.
    pub(crate) fn add(&mut self, other: AtStop) {
        self.finished += other.finished;
        self.cancelled += other.cancelled;
        self.unconfirmed += other.unconfirmed;
    }
}

/// Unanswered transactions kept for the report (all are counted).
pub(crate) const UNANSWERED_KEPT: usize = 64;

/// One worker's measurements for one sample interval; sent to the aggregator whole.
#[derive(Debug, Default)]
pub(crate) struct Chunk {
    /// Sample interval index since the start of measurement.
    pub(crate) interval: u32,
    /// Per transaction kind.
    pub(crate) kinds: Vec<KindStats>,
    /// Time waiting for a pooled connection, µs.
    pub(crate) pool_wait: Recorder,
    /// Open loop: time between intended and actual start, µs.
    pub(crate) lag: Recorder,
    /// Transient connections: time to open a connection, µs.
    pub(crate) connect: Recorder,
    /// Connections this worker opened itself (transient).
    pub(crate) connections_opened: u64,
    /// By [`ConnType`].
    pub(crate) by_conn: [ConnStats; 2],
    /// A few error messages (capped per worker and interval).
    pub(crate) samples: Vec<ErrorSample>,
    /// Intervals (first, last, inclusive) during the whole of which one of this worker's
    /// transactions waited for the server.
    pub(crate) stalled: Vec<(u32, u32)>,
    /// Transactions abandoned unanswered at the end of the run.
    pub(crate) unanswered: Vec<Unanswered>,
}

impl Chunk {
    /// An empty chunk for `kinds` transaction kinds.
    pub(crate) fn new(kinds: usize, interval: u32) -> Self {
        Chunk {
            interval,
            kinds: (0..kinds).map(|_| KindStats::default()).collect(),
            ..Default::default()
        }
    }

    /// Whether nothing was recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.kinds
            .iter()
            .all(|k| k.committed + k.rolled_back + k.errors.total() + k.retries == 0)
            && self.connections_opened == 0
            && self.pool_wait.is_empty()
            && self.stalled.is_empty()
            && self.unanswered.is_empty()
    }

    /// Counts an error and keeps its message if few of its class were kept yet.
    pub(crate) fn record_error(
        &mut self,
        kind: usize,
        class: ErrorClass,
        code: Option<&str>,
        msg: impl FnOnce() -> String,
    ) {
        let k = &mut self.kinds[kind];
        k.errors.count(class);
        if class == ErrorClass::Other {
            let code = code.unwrap_or("none");
            match k.other_codes.iter_mut().find(|(c, _)| c == code) {
                Some((_, n)) => *n += 1,
                None => k.other_codes.push((code.to_string(), 1)),
            }
        }
        if self.samples.iter().filter(|s| s.class == class).count() < 2 {
            self.samples.push(ErrorSample {
                class,
                kind,
                message: msg(),
            });
        }
    }
}

/// Run totals of one transaction kind (exact HDR merges).
#[derive(Debug, Clone)]
pub(crate) struct KindTotals {
    /// Kind name.
    pub(crate) name: String,
    /// Latency from intended start, µs.
    pub(crate) latency: Histogram<u64>,
    /// Execution time, µs.
    pub(crate) service: Histogram<u64>,
    pub(crate) committed: u64,
    /// Rolled back on purpose.
    pub(crate) rolled_back: u64,
    /// Statements.
    pub(crate) queries: u64,
    pub(crate) retries: u64,
    /// Errors by class.
    pub(crate) errors: ErrorCounts,
    /// `Other` errors by SQLSTATE.
    pub(crate) other_codes: BTreeMap<String, u64>,
}

impl KindTotals {
    fn new(name: &str) -> Self {
        KindTotals {
            name: name.to_string(),
            latency: new_histogram(),
            service: new_histogram(),
            committed: 0,
            rolled_back: 0,
            queries: 0,
            retries: 0,
            errors: ErrorCounts::default(),
            other_codes: BTreeMap::new(),
        }
    }

    /// Successful transactions (committed + intentional rollbacks).
    pub(crate) fn ok(&self) -> u64 {
        self.committed + self.rolled_back
    }

    /// Failed transactions.
    pub(crate) fn failed(&self) -> u64 {
        self.errors.total()
    }

    fn absorb(&mut self, k: &KindStats) {
        k.latency_as_service.merge_into(&mut self.latency);
        k.latency_as_service.merge_into(&mut self.service);
        k.latency.merge_into(&mut self.latency);
        k.service.merge_into(&mut self.service);
        self.committed += k.committed;
        self.rolled_back += k.rolled_back;
        self.queries += k.queries;
        self.retries += k.retries;
        self.errors.add(&k.errors);
        for (code, n) in &k.other_codes {
            *self.other_codes.entry(code.clone()).or_default() += n;
        }
    }
}

/// Run totals per connection type.
#[derive(Debug, Clone)]
pub(crate) struct ConnTotals {
    /// Successful transactions.
    pub(crate) ok: u64,
    /// Failed transactions.
    pub(crate) failed: u64,
    /// Latency of successful ones, µs.
    pub(crate) latency: Histogram<u64>,
}

impl Default for ConnTotals {
    fn default() -> Self {
        ConnTotals {
            ok: 0,
            failed: 0,
            latency: new_histogram(),
        }
    }
}

/// Exact totals of a run (or of one interval): every chunk merged.
#[derive(Debug, Clone)]
pub(crate) struct Totals {
    /// Per kind, in the workload's order.
    pub(crate) kinds: Vec<KindTotals>,
    /// Pool wait, µs.
    pub(crate) pool_wait: Histogram<u64>,
    /// Schedule lag, µs.
    pub(crate) lag: Histogram<u64>,
    /// Connection setup time, µs.
    pub(crate) connect: Histogram<u64>,
    /// Connections opened by workers (transient).
    pub(crate) connections_opened: u64,
    /// By connection type.
    pub(crate) by_conn: [ConnTotals; 2],
    /// Distinct error messages per class, capped at [`ERROR_SAMPLES_PER_CLASS`].
    pub(crate) error_samples: BTreeMap<ErrorClass, Vec<String>>,
    /// Transactions abandoned unanswered at the end, longest waits first (at most
    /// [`UNANSWERED_KEPT`] kept).
    pub(crate) unanswered: Vec<Unanswered>,
    /// All transactions abandoned unanswered at the end.
    pub(crate) unanswered_count: u64,
}

impl Totals {
    /// Empty totals for the named kinds.
    pub(crate) fn new(kinds: &[&str]) -> Self {
        Totals {
            kinds: kinds.iter().map(|k| KindTotals::new(k)).collect(),
            pool_wait: new_histogram(),
            lag: new_histogram(),
            connect: new_histogram(),
            connections_opened: 0,
            by_conn: Default::default(),
            error_samples: BTreeMap::new(),
            unanswered: Vec::new(),
            unanswered_count: 0,
        }
    }

    fn keep_unanswered(&mut self, more: &[Unanswered]) {
        self.unanswered_count += more.len() as u64;
        self.unanswered.extend_from_slice(more);
        self.unanswered
            .sort_by(|a, b| b.waited_us.cmp(&a.waited_us).then(a.worker.cmp(&b.worker)));
        self.unanswered.truncate(UNANSWERED_KEPT);
    }

    /// Merges one chunk exactly.
    pub(crate) fn absorb(&mut self, c: &Chunk) {
        for (t, k) in self.kinds.iter_mut().zip(&c.kinds) {
            t.absorb(k);
        }
        c.pool_wait.merge_into(&mut self.pool_wait);
        c.lag.merge_into(&mut self.lag);
        c.connect.merge_into(&mut self.connect);
        self.connections_opened += c.connections_opened;
        for (t, s) in self.by_conn.iter_mut().zip(&c.by_conn) {
            t.ok += s.ok;
            t.failed += s.failed;
            s.latency.merge_into(&mut t.latency);
        }
        if !c.unanswered.is_empty() {
            self.keep_unanswered(&c.unanswered);
        }
        for s in &c.samples {
            let kind = self
                .kinds
                .get(s.kind)
                .map(|k| k.name.as_str())
                .unwrap_or("?");
            let msg = format!("{kind}: {}", s.message);
            let kept = self.error_samples.entry(s.class).or_default();
            if kept.len() < ERROR_SAMPLES_PER_CLASS && !kept.contains(&msg) {
                kept.push(msg);
            }
        }
    }

    /// Latency of all kinds together, µs.
    pub(crate) fn overall_latency(&self) -> Histogram<u64> {
        let mut h = new_histogram();
        for k in &self.kinds {
            let _ = h.add(&k.latency);
        }
        h
    }

    /// Execution time of all kinds together, µs.
    pub(crate) fn overall_service(&self) -> Histogram<u64> {
        let mut h = new_histogram();
        for k in &self.kinds {
            let _ = h.add(&k.service);
        }
        h
    }

    /// Successful transactions.
    pub(crate) fn ok(&self) -> u64 {
        self.kinds.iter().map(KindTotals::ok).sum()
    }

    /// Failed transactions.
    pub(crate) fn failed(&self) -> u64 {
        self.kinds.iter().map(KindTotals::failed).sum()
    }

    /// Statements of successful transactions.
    pub(crate) fn queries(&self) -> u64 {
        self.kinds.iter().map(|k| k.queries).sum()
    }

    pub(crate) fn retries(&self) -> u64 {
        self.kinds.iter().map(|k| k.retries).sum()
    }

    /// Errors of one class over all kinds.
    pub(crate) fn errors_of(&self, class: ErrorClass) -> u64 {
        self.kinds.iter().map(|k| k.errors[class]).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk_with(values: &[u64], kind: usize) -> Chunk {
        let mut c = Chunk::new(2, 0);
        for v in values {
            c.kinds[kind].latency.record(*v);
            c.kinds[kind].committed += 1;
        }
        c
    }

    #[test]
    fn merge_is_exact_not_averaged() {
        // worker A: 1000 fast transactions; worker B: 10 slow ones.
        let a = chunk_with(&[100; 1000], 0);
        let b = chunk_with(&[50_000; 10], 0);
        let mut t = Totals::new(&["read", "write"]);
        t.absorb(&a);
        t.absorb(&b);
        let h = &t.kinds[0].latency;
        assert_eq!(h.len(), 1010);
        // p99 of the merged distribution is the fast value: 1010*0.99 = 999.9 < 1000 fast
        assert_eq!(
            h.value_at_quantile(0.99),
            h.equivalent_range(100) + h.lowest_equivalent(100) - 1
        );
        // p99.5 lands in the slow tail, which an average of per-worker p99s would hide
        assert!(h.value_at_quantile(0.995) >= 49_950);
        assert_eq!(t.ok(), 1010);
    }

    #[test]
    fn latency_recorded_as_service_counts_for_both() {
        let mut c = Chunk::new(1, 0);
        // two transactions started when due on a kept connection
        c.kinds[0].latency_as_service.record(100);
        c.kinds[0].latency_as_service.record(200);
        // one that waited 900 µs for the pool
        c.kinds[0].latency.record(1000);
        c.kinds[0].service.record(100);
        c.kinds[0].committed = 3;
        let mut t = Totals::new(&["read"]);
        t.absorb(&c);
        let k = &t.kinds[0];
        assert_eq!((k.latency.len(), k.service.len()), (3, 3));
        assert!(k.latency.equivalent(k.latency.max(), 1000));
        assert_eq!(k.latency.count_at(200), 1);
        assert_eq!(k.service.count_at(100), 2);
        assert_eq!(k.service.count_at(200), 1);
        assert_eq!(k.service.count_at(1000), 0);
    }

    #[test]
    fn recorder_switches_to_histogram_without_losing_samples() {
        let mut r = Recorder::default();
        for i in 0..10_000u64 {
            r.record(i);
        }
        let mut h = new_histogram();
        r.merge_into(&mut h);
        assert_eq!(h.len(), 10_000);
        assert_eq!(h.max(), h.highest_equivalent(9_999));
    }

    #[test]
    fn error_samples_are_capped_and_distinct() {
        let mut t = Totals::new(&["a"]);
        for i in 0..20 {
            let mut c = Chunk::new(1, 0);
            c.record_error(0, ErrorClass::Other, Some("42P01"), || {
                format!("msg {}", i % 7)
            });
            c.record_error(0, ErrorClass::Other, Some("42P01"), || "same".into());
            t.absorb(&c);
        }
        assert_eq!(t.kinds[0].errors[ErrorClass::Other], 40);
        assert_eq!(t.kinds[0].other_codes["42P01"], 40);
        assert_eq!(
            t.error_samples[&ErrorClass::Other].len(),
            ERROR_SAMPLES_PER_CLASS
        );
    }
}
