//! The per-interval time series kept for reports, built from worker chunks as they arrive.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Chunk, Totals};

/// One point of the time series.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct IntervalPoint {
    /// Interval index.
    pub(crate) interval: u32,
    /// Seconds from the start of measurement to the end of the interval.
    pub(crate) t_s: f64,
    /// Length of the interval, s: the sample interval, or more for a point that merges
    /// several (the part of a long run older than `time_series_full_resolution`).
    pub(crate) len_s: f64,
    /// Successful transactions.
    pub(crate) transactions: u64,
    /// Failed transactions.
    pub(crate) errors: u64,
    pub(crate) retries: u64,
    /// Transactions per second.
    pub(crate) tps: f64,
    /// Statements per second.
    pub(crate) qps: f64,
    /// Latency percentiles of the interval, ms.
    pub(crate) p50_ms: f64,
    /// 95th percentile, ms.
    pub(crate) p95_ms: f64,
    /// 99th percentile, ms.
    pub(crate) p99_ms: f64,
    /// Maximum, ms.
    pub(crate) max_ms: f64,
    /// Successful transactions per kind (workload order).
    pub(crate) by_kind: Vec<u64>,
    /// Latency per kind (workload order): p50, p95 and p99 of the interval, ms (zeros for
    /// a kind without transactions in it).
    pub(crate) kind_ms: Vec<[f64; 3]>,
    /// Failures to reach the server (connection refused, lost or timed out).
    pub(crate) connection_errors: u64,
    /// A transaction waited for the server during the whole interval.
    pub(crate) stalled: bool,
    /// No transaction succeeded while the server could not be reached or did not answer
    /// (connection errors, or a transaction waiting the whole interval): an outage.
    pub(crate) outage: bool,
    /// Seconds of the interval in outage (all of it or none, but for a merged point).
    pub(crate) outage_s: f64,
    /// stormbench's own resident memory at the end of the interval, MiB (`None`: not
    /// sampled).
    pub(crate) client_rss_mb: Option<f64>,
    /// stormbench's open file descriptors (sockets included) at the end of the interval.
    pub(crate) client_fds: Option<u64>,
    /// Of those, sockets: stormbench's connections to the server (and its Prometheus
    /// endpoint).
    pub(crate) client_sockets: Option<u64>,
}

/// Hands memory freed after a large, passing allocation (a checkpoint's report) back to
/// the system, so resident memory follows what is live rather than the largest peak.
pub(crate) fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the system; no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// stormbench's own footprint: resident memory (MiB), open file descriptors and sockets
/// among them, from `/proc/self` (`None` where there is no such file system).
pub(crate) fn client_footprint() -> (Option<f64>, Option<u64>, Option<u64>) {
    let rss = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            let pages: f64 = s.split_whitespace().nth(1)?.parse().ok()?;
            // SAFETY: sysconf with a valid name has no preconditions.
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            (page > 0).then(|| pages * page as f64 / (1024.0 * 1024.0))
        });
    let (fds, sockets) = match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => {
            let (mut fds, mut sockets) = (0, 0);
            for e in dir.flatten() {
                fds += 1;
                if std::fs::read_link(e.path())
                    .is_ok_and(|t| t.as_os_str().as_encoded_bytes().starts_with(b"socket:"))
                {
                    sockets += 1;
                }
            }
            (Some(fds), Some(sockets))
        }
        Err(_) => (None, None),
    };
    (rss, fds, sockets)
}

impl IntervalPoint {
    fn update_outage(&mut self) {
        self.outage = self.transactions == 0 && (self.connection_errors > 0 || self.stalled);
        if self.outage {
            self.outage_s = self.len_s;
        }
    }

    /// `self` and the point right after it as one: counts and seconds added; p50 and p95
    /// averaged weighted by transactions; p99 and max the larger of the two (so an
    /// objective judged on merged points is never judged too kindly).
    fn merge(self, b: IntervalPoint) -> IntervalPoint {
        let len_s = self.len_s + b.len_s;
        let transactions = self.transactions + b.transactions;
        let weighted = |x: f64, y: f64| {
            if transactions == 0 {
                x.max(y)
            } else {
                (x * self.transactions as f64 + y * b.transactions as f64) / transactions as f64
            }
        };
        IntervalPoint {
            interval: self.interval,
            t_s: b.t_s,
            len_s,
            transactions,
            errors: self.errors + b.errors,
            retries: self.retries + b.retries,
            tps: transactions as f64 / len_s,
            qps: (self.qps * self.len_s + b.qps * b.len_s) / len_s,
            p50_ms: weighted(self.p50_ms, b.p50_ms),
            p95_ms: weighted(self.p95_ms, b.p95_ms),
            p99_ms: self.p99_ms.max(b.p99_ms),
            max_ms: self.max_ms.max(b.max_ms),
            kind_ms: self
                .kind_ms
                .iter()
                .zip(&b.kind_ms)
                .zip(self.by_kind.iter().zip(&b.by_kind))
                .map(|((x, y), (&nx, &ny))| {
                    let w = |a: f64, c: f64| {
                        if nx + ny == 0 {
                            a.max(c)
                        } else {
                            (a * nx as f64 + c * ny as f64) / (nx + ny) as f64
                        }
                    };
                    [w(x[0], y[0]), w(x[1], y[1]), x[2].max(y[2])]
                })
                .collect(),
            by_kind: self
                .by_kind
                .iter()
                .zip(&b.by_kind)
                .map(|(x, y)| x + y)
                .collect(),
            connection_errors: self.connection_errors + b.connection_errors,
            stalled: self.stalled || b.stalled,
            outage: self.outage && b.outage,
            outage_s: self.outage_s + b.outage_s,
            // the peak of the merged intervals: a leak still shows
            client_rss_mb: max_of(self.client_rss_mb, b.client_rss_mb),
            client_fds: max_of(self.client_fds, b.client_fds),
            client_sockets: max_of(self.client_sockets, b.client_sockets),
        }
    }
}

fn max_of<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y > x { y } else { x }),
        (x, y) => x.or(y),
    }
}

/// Points kept at full resolution unless the config says otherwise: an hour of 1 s
/// intervals.
pub(crate) const FULL_RESOLUTION_POINTS: usize = 3600;

/// Intervals still open for late chunks, then finalized into points.
#[derive(Debug)]
pub(crate) struct Series {
    kinds: Vec<String>,
    interval_s: f64,
    open: BTreeMap<u32, Totals>,
    points: Vec<IntervalPoint>,
    /// Intervals marked stalled before they were finalized.
    stalled: std::collections::BTreeSet<u32>,
    /// The newest points kept as they are; older ones are merged pairwise whenever they
    /// outnumber these, so the series never holds more than about twice as many.
    full_resolution: usize,
}

impl Series {
    /// A series of `interval_s`-second intervals over the named kinds.
    pub(crate) fn new(kinds: &[&str], interval_s: f64) -> Self {
        Series {
            kinds: kinds.iter().map(|s| s.to_string()).collect(),
            interval_s,
            open: BTreeMap::new(),
            points: Vec::new(),
            stalled: Default::default(),
            full_resolution: FULL_RESOLUTION_POINTS,
        }
    }

    /// Keeps the newest `points` (at least 2) at full resolution.
    pub(crate) fn with_full_resolution(mut self, points: usize) -> Self {
        self.full_resolution = points.max(2);
        self
    }

    /// Merges the points older than the full-resolution window pairwise once they
    /// outnumber it.
    fn compact(&mut self) {
        let old = self.points.len().saturating_sub(self.full_resolution);
        if old <= self.full_resolution {
            return;
        }
        let mut merged = Vec::with_capacity(old / 2 + 1 + self.full_resolution);
        let mut aged = self.points.drain(..old);
        while let Some(a) = aged.next() {
            merged.push(match aged.next() {
                Some(b) => a.merge(b),
                None => a,
            });
        }
        drop(aged);
        merged.append(&mut self.points);
        self.points = merged;
    }

    /// Adds a chunk to its interval (a chunk for an already finalized interval is dropped
    /// from the series; run totals still count it).
    pub(crate) fn absorb(&mut self, c: &Chunk) {
        if self.points.last().is_some_and(|p| c.interval <= p.interval) {
            return;
        }
        let kinds: Vec<&str> = self.kinds.iter().map(String::as_str).collect();
        self.open
            .entry(c.interval)
            .or_insert_with(|| Totals::new(&kinds))
            .absorb(c);
    }

    /// Marks intervals `first..=last` as stalled (a transaction waited through each),
    /// finalized ones included.
    pub(crate) fn mark_stalled(&mut self, first: u32, last: u32) {
        for p in self
            .points
            .iter_mut()
            .filter(|p| (first..=last).contains(&p.interval))
        {
            p.stalled = true;
            p.update_outage();
        }
        let next = self.points.last().map_or(0, |p| p.interval + 1);
        // bounded: a stall is at most the run's intervals long
        for i in first.max(next)..=last {
            self.stalled.insert(i);
        }
    }

    /// Finalizes every interval before `interval` (exclusive), filling empty ones.
    pub(crate) fn finalize_before(&mut self, interval: u32) -> Vec<IntervalPoint> {
        let mut out = Vec::new();
        let first = self.points.last().map(|p| p.interval + 1).unwrap_or(0);
        for i in first..interval {
            let t = self.open.remove(&i);
            let mut p = self.point(i, t.as_ref());
            p.stalled = self.stalled.remove(&i);
            p.update_outage();
            out.push(p.clone());
            self.points.push(p);
        }
        self.compact();
        out
    }

    fn point(&self, i: u32, t: Option<&Totals>) -> IntervalPoint {
        let secs = self.interval_s;
        let (ok, err, retries, queries, by_kind, h) = match t {
            Some(t) => (
                t.ok(),
                t.failed(),
                t.retries(),
                t.queries(),
                t.kinds.iter().map(|k| k.ok()).collect(),
                Some(t.overall_latency()),
            ),
            None => (0, 0, 0, 0, vec![0; self.kinds.len()], None),
        };
        let kind_ms = match t {
            Some(t) => t
                .kinds
                .iter()
                .map(|k| {
                    let q = |p: f64| {
                        if k.latency.is_empty() {
                            0.0
                        } else {
                            k.latency.value_at_quantile(p) as f64 / 1000.0
                        }
                    };
                    [q(0.5), q(0.95), q(0.99)]
                })
                .collect(),
            None => vec![[0.0; 3]; self.kinds.len()],
        };
        let connection_errors =
            t.map_or(0, |t| t.errors_of(crate::core::ErrorClass::ConnectionLost));
        let q = |p: f64| {
            h.as_ref()
                .filter(|h| !h.is_empty())
                .map(|h| h.value_at_quantile(p) as f64 / 1000.0)
                .unwrap_or(0.0)
        };
        IntervalPoint {
            interval: i,
            t_s: (i + 1) as f64 * secs,
            len_s: secs,
            transactions: ok,
            errors: err,
            retries,
            tps: ok as f64 / secs,
            qps: queries as f64 / secs,
            p50_ms: q(0.5),
            p95_ms: q(0.95),
            p99_ms: q(0.99),
            max_ms: h.as_ref().map(|h| h.max() as f64 / 1000.0).unwrap_or(0.0),
            by_kind,
            kind_ms,
            connection_errors,
            stalled: false,
            outage: false,
            outage_s: 0.0,
            client_rss_mb: None,
            client_fds: None,
            client_sockets: None,
        }
    }

    /// Records stormbench's footprint on the last finalized interval.
    pub(crate) fn annotate_last(&mut self, footprint: (Option<f64>, Option<u64>, Option<u64>)) {
        if let Some(p) = self.points.last_mut() {
            (p.client_rss_mb, p.client_fds, p.client_sockets) = footprint;
        }
    }

    /// All finalized points.
    pub(crate) fn points(&self) -> &[IntervalPoint] {
        &self.points
    }

    /// Finalizes everything still open, including intervals up to `last` inclusive.
    pub(crate) fn finish(&mut self, last: u32) -> Vec<IntervalPoint> {
        let end = self
            .open
            .keys()
            .next_back()
            .map(|k| k + 1)
            .unwrap_or(0)
            .max(last + 1);
        self.finalize_before(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_per_interval_and_gaps_are_filled() {
        let mut s = Series::new(&["a"], 1.0);
        let mut c0 = Chunk::new(1, 0);
        c0.kinds[0].committed = 5;
        c0.kinds[0].latency.record(1000);
        let mut c2 = Chunk::new(1, 2);
        c2.kinds[0].committed = 7;
        s.absorb(&c0);
        s.absorb(&c2);
        let pts = s.finalize_before(3);
        assert_eq!(pts.len(), 3);
        assert_eq!(pts[0].transactions, 5);
        assert_eq!(pts[1].transactions, 0);
        assert_eq!(pts[2].transactions, 7);
        assert!((pts[0].p50_ms - 1.0).abs() < 0.01);
        // a late chunk for a finalized interval does not reopen it
        s.absorb(&c0);
        assert!(s.finish(2).is_empty());
        assert_eq!(s.points().len(), 3);
    }

    #[test]
    fn points_older_than_the_window_are_merged_and_nothing_is_lost() {
        let mut s = Series::new(&["a", "b"], 1.0).with_full_resolution(8);
        for i in 0..100u32 {
            let mut c = Chunk::new(2, i);
            c.kinds[0].committed = 10;
            c.kinds[1].committed = 1;
            c.kinds[0].latency.record(1000 + u64::from(i) * 10);
            s.absorb(&c);
            s.finalize_before(i + 1);
            assert!(s.points().len() <= 2 * 8 + 1, "{} points", s.points().len());
        }
        let pts = s.points();
        // the newest are as they came
        let last = &pts[pts.len() - 1];
        assert_eq!((last.interval, last.len_s, last.t_s), (99, 1.0, 100.0));
        assert!(pts[pts.len() - 8..].iter().all(|p| p.len_s == 1.0));
        // older ones are wider, oldest widest, and together cover every second
        assert!(pts[0].len_s > 1.0);
        assert_eq!(pts.iter().map(|p| p.len_s).sum::<f64>(), 100.0);
        for w in pts.windows(2) {
            assert!(
                (w[1].t_s - w[1].len_s - w[0].t_s).abs() < 1e-9,
                "contiguous"
            );
        }
        assert_eq!(pts.iter().map(|p| p.transactions).sum::<u64>(), 1100);
        assert_eq!(pts.iter().map(|p| p.by_kind[1]).sum::<u64>(), 100);
        let p0 = &pts[0];
        assert!((p0.tps - 11.0).abs() < 1e-9, "rates stay per second");
        // p99 of a merged point is the worst of its parts
        let later = &pts[1];
        assert!(later.p99_ms >= p0.p99_ms);
    }

    #[test]
    fn merged_outage_seconds_add_up() {
        let mut s = Series::new(&["a"], 1.0).with_full_resolution(2);
        for i in 0..12u32 {
            let mut c = Chunk::new(1, i);
            if (3..7).contains(&i) {
                c.kinds[0]
                    .errors
                    .count(crate::core::ErrorClass::ConnectionLost);
            } else {
                c.kinds[0].committed = 1;
            }
            s.absorb(&c);
            s.finalize_before(i + 1);
        }
        assert_eq!(s.points().iter().map(|p| p.outage_s).sum::<f64>(), 4.0);
    }
}
