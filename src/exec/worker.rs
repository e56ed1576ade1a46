//! One worker: takes arrival slots, gets a connection, runs transactions with retries,
//! and records into stats it owns. No locks, no formatting on the success path.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng as _;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::{sleep_until, Instant};

use super::driver::Connections;
use super::stop::StopSlot;
use super::{RunShared, Timing};
use crate::core::session::TxError;
use crate::core::{ConnectionMode, ErrorClass, NextStart, Rng, TxKind, TxOutcome, WorkerTx};
use crate::stats::{Chunk, ConnType, Unanswered};

/// Pause after a failure to get a connection, so a down server is not hammered.
const CONNECT_BACKOFF: Duration = Duration::from_millis(100);

/// A transaction still waiting this long when the run ends is reported as unanswered.
const UNANSWERED_AFTER: Duration = Duration::from_secs(1);

/// Everything a worker needs, moved into its task.
pub(crate) struct Worker<D: Connections> {
    /// Worker id (unique in the run).
    pub(crate) id: usize,
    /// Its worker group (which arrival schedule it takes slots from).
    pub(crate) group: usize,
    /// The workload's per-worker generator.
    pub(crate) gen: Box<dyn WorkerTx>,
    /// Worker RNG for engine decisions (arrivals, connection type).
    pub(crate) rng: Rng,
    /// Connections.
    pub(crate) driver: Arc<D>,
    /// Shared run state.
    pub(crate) shared: Arc<RunShared>,
    /// Stop signal (deadline or interrupt), its lane's.
    pub(crate) stop: StopSlot,
    /// Where chunks go.
    pub(crate) out: UnboundedSender<Chunk>,
    /// Keep one pooled connection for the whole run (workers <= connections).
    pub(crate) sticky: bool,
    /// Its client thread's place in the plan: the live counters it bumps.
    pub(crate) lane: usize,
}

/// What one transaction attempt (with its retries) produced.
struct Attempt {
    result: Result<TxOutcome, TxError>,
    retries: u32,
    /// When a connection was in hand (end of pool wait / connect).
    conn_at: Instant,
    pool_wait: Option<Duration>,
    connect: Option<Duration>,
}

/// Per-worker recording state.
struct Recording {
    chunk: Chunk,
    chunk_end: Instant,
    /// Per kind, the longest transaction this worker saw succeed: a transaction that is
    /// long for a stall but usual for its kind (an analytical query) is not one.
    longest: Vec<Duration>,
}

/// A transaction of a kind that never succeeded yet counts as stalled only past this.
const FIRST_OF_KIND_STALL: Duration = Duration::from_secs(10);

impl Recording {
    /// Whether a transaction of `kind` that has taken `took` looks like a server that
    /// stopped answering rather than a query that takes this long: longer than `floor`
    /// and than twice the longest of its kind so far (or than [`FIRST_OF_KIND_STALL`]
    /// when none succeeded yet).
    fn stalled(&self, kind: TxKind, took: Duration, floor: Duration) -> bool {
        let usual = match self.longest.get(kind) {
            Some(d) if !d.is_zero() => d.saturating_mul(2),
            _ => FIRST_OF_KIND_STALL,
        };
        took >= floor && took >= usual
    }
}

impl<D: Connections> Worker<D> {
    /// Runs until the stop signal, the deadline or the transaction budget.
    pub(crate) async fn run(mut self) {
        let t: Timing = self.shared.timing;
        let kinds = self.shared.kinds;
        let mut rec = Recording {
            chunk: Chunk::new(kinds, 0),
            chunk_end: t.measure_start + t.sample_interval,
            longest: vec![Duration::ZERO; kinds],
        };
        let mut held: Option<D::Pooled> = None;
        // one stop future for the whole run (a handle of its own, as `self` is borrowed
        // by each attempt)
        let stop = self.stop.clone();
        let mut cancelled = std::pin::pin!(stop.wait());
        loop {
            let due = match self.gen.next_start() {
                NextStart::Finished => break,
                NextStart::At(offset) => Some(super::later(t.run_start, offset)),
                NextStart::Schedule => self.shared.schedules[self.group].next(&mut self.rng),
            };
            let intended = match due {
                None => Instant::now(),
                Some(at) => {
                    if at > Instant::now() {
                        self.flush_if_due(&mut rec, at);
                        if !self.sleep_until(at).await {
                            break;
                        }
                    }
                    at
                }
            };
            if t.deadline.is_some_and(|d| intended >= d) || self.stop.is_set() {
                break;
            }
            if !self.claim(intended, &t) {
                break;
            }
            let kind = self.gen.next_kind();
            let conn_type = self.conn_type();
            // in a closed loop the transaction starts as soon as it is due: the clock read
            // for `intended` serves (a few instructions earlier), one read less per transaction
            let started = if due.is_none() {
                intended
            } else {
                Instant::now()
            };
            // the transaction is polled first: when its answer wakes the worker it ends
            // without the stop signal being looked at (a cancellation still wakes the
            // worker and is seen on that poll)
            let attempt = tokio::select! {
                biased;
                a = self.attempt(kind, conn_type, &mut held, started) => a,
                _ = &mut cancelled => {
                    self.abandon(&mut rec, kind, started);
                    break;
                }
            };
            let ended = Instant::now();
            let failed_connect = lost(&attempt.result);
            self.record(&mut rec, kind, conn_type, intended, started, ended, attempt);
            if failed_connect {
                held = None;
                if !self.sleep_until(Instant::now() + CONNECT_BACKOFF).await {
                    break;
                }
            }
            let pause = self
                .shared
                .think_time
                .saturating_add(self.gen.pause_after(kind));
            if !pause.is_zero() {
                let wake = super::later(Instant::now(), pause);
                self.flush_if_due(&mut rec, wake);
                if !self.sleep_until(wake).await {
                    break;
                }
            }
        }
        drop(held);
        let chunk = std::mem::take(&mut rec.chunk);
        if !chunk.is_empty() {
            let _ = self.out.send(chunk);
        }
        self.shared.live[self.lane]
            .finished
            .fetch_add(1, Ordering::Relaxed);
    }

    /// The run ended while a transaction of `kind`, started at `started`, waited for the
    /// server: it is recorded as unanswered if it had waited long, and the intervals it
    /// waited through as stalled.
    fn abandon(&self, rec: &mut Recording, kind: TxKind, started: Instant) {
        let t = &self.shared.timing;
        let now = Instant::now();
        let end = t.deadline.map_or(now, |d| d.min(now));
        let waited = now.saturating_duration_since(started);
        if !rec.stalled(kind, waited, Duration::ZERO) {
            return; // still within what this kind takes
        }
        if let Some(range) = covered(t, started, end) {
            rec.chunk.stalled.push(range);
        }
        if waited >= UNANSWERED_AFTER {
            rec.chunk.unanswered.push(Unanswered {
                worker: self.id,
                kind,
                waited_us: us(waited),
            });
        }
    }

    /// Sleeps until `at`; false when the run was stopped meanwhile.
    async fn sleep_until(&mut self, at: Instant) -> bool {
        tokio::select! {
            biased;
            _ = self.stop.wait() => false,
            _ = sleep_until(at) => true,
        }
    }

    /// Takes one transaction from the budget of a `transactions:` run; false when spent.
    fn claim(&self, intended: Instant, t: &Timing) -> bool {
        match self.shared.budget {
            None => true,
            Some(limit) if intended >= t.measure_start => {
                let n = self.shared.claimed.fetch_add(1, Ordering::Relaxed);
                if n + 1 >= limit {
                    // the last one: everyone else stops when it is done
                    self.shared.budget_spent.store(true, Ordering::Relaxed);
                }
                n < limit
            }
            Some(_) => !self.shared.budget_spent.load(Ordering::Relaxed),
        }
    }

    fn conn_type(&mut self) -> ConnType {
        match self.shared.connection_mode {
            ConnectionMode::Persistent => ConnType::Persistent,
            ConnectionMode::Transient => ConnType::Transient,
            ConnectionMode::Mixed => {
                if self.rng.gen::<bool>() {
                    ConnType::Persistent
                } else {
                    ConnType::Transient
                }
            }
        }
    }

    /// Runs `kind` once, started at `started`, retrying serialization failures and
    /// deadlocks up to `max_tries`.
    async fn attempt(
        &mut self,
        kind: TxKind,
        conn_type: ConnType,
        held: &mut Option<D::Pooled>,
        started: Instant,
    ) -> Attempt {
        let max_tries = self.shared.max_tries;
        let mut retries = 0;
        let mut asked = started;
        loop {
            let mut a = match conn_type {
                ConnType::Persistent => self.on_pooled(kind, held, asked).await,
                ConnType::Transient => self.on_transient(kind, asked).await,
            };
            match &a.result {
                Err(f) if f.class().retryable() && retries + 1 < max_tries => {
                    retries += 1;
                    asked = Instant::now();
                }
                _ => {
                    a.retries = retries;
                    return a;
                }
            }
        }
    }

    /// On a pooled connection, asked for at `asked`: the one kept from the last
    /// transaction (used where it is held: moving it out and back would copy the
    /// connection twice per transaction), or the pool's.
    async fn on_pooled(
        &mut self,
        kind: TxKind,
        held: &mut Option<D::Pooled>,
        asked: Instant,
    ) -> Attempt {
        if let Some(conn) = held.as_mut() {
            let result = self.gen.run(kind, &mut **conn).await;
            if lost(&result) || !D::reusable(conn) {
                *held = None;
            }
            return Attempt::pooled(result, asked, asked, false);
        }
        let mut conn = match self.driver.get().await {
            Ok(c) => c,
            Err(e) => return Attempt::failed(e, asked),
        };
        let conn_at = Instant::now();
        let result = self.gen.run(kind, &mut *conn).await;
        if self.sticky && !lost(&result) && D::reusable(&conn) {
            *held = Some(conn);
        }
        Attempt::pooled(result, asked, conn_at, true)
    }

    /// On a connection opened (from `asked`) for this transaction and closed after it.
    async fn on_transient(&mut self, kind: TxKind, asked: Instant) -> Attempt {
        let mut conn = match self.driver.open().await {
            Ok(c) => c,
            Err(e) => return Attempt::failed(e, asked),
        };
        let conn_at = Instant::now();
        let result = self.gen.run(kind, &mut *conn).await;
        D::close(conn).await;
        Attempt::transient(result, asked, conn_at)
    }

    /// Hands the current chunk over if its interval ends before `until`.
    fn flush_if_due(&self, rec: &mut Recording, until: Instant) {
        if until >= rec.chunk_end && !rec.chunk.is_empty() {
            let t = &self.shared.timing;
            let idx = interval_of(t, rec.chunk_end);
            let done = std::mem::replace(&mut rec.chunk, Chunk::new(self.shared.kinds, idx));
            rec.chunk_end = t.measure_start + t.sample_interval * (idx + 1);
            let _ = self.out.send(done);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        rec: &mut Recording,
        kind: TxKind,
        conn_type: ConnType,
        intended: Instant,
        started: Instant,
        ended: Instant,
        a: Attempt,
    ) {
        let live = &self.shared.live[self.lane];
        let ok = a.result.is_ok();
        if ok {
            live.ok.fetch_add(1, Ordering::Relaxed);
        } else {
            live.failed.fetch_add(1, Ordering::Relaxed);
        }
        let t = &self.shared.timing;
        let took = ended.saturating_duration_since(started);
        if rec.stalled(kind, took, t.sample_interval) {
            let end = t.deadline.map_or(ended, |d| d.min(ended));
            if let Some(range) = covered(t, started, end) {
                rec.chunk.stalled.push(range);
            }
        }
        if ok {
            if let Some(l) = rec.longest.get_mut(kind) {
                *l = (*l).max(took);
            }
        }
        if ended < t.measure_start || t.deadline.is_some_and(|d| ended >= d) {
            return; // warm-up, or finished at or after the end of measurement
        }
        if ended >= rec.chunk_end {
            let idx = interval_of(t, ended);
            let done = std::mem::replace(&mut rec.chunk, Chunk::new(self.shared.kinds, idx));
            rec.chunk_end = t.measure_start + t.sample_interval * (idx + 1);
            if !done.is_empty() {
                let _ = self.out.send(done);
            }
        }
        let c = &mut rec.chunk;
        if let Some(w) = a.pool_wait {
            c.pool_wait.record(us(w));
        }
        if let Some(d) = a.connect {
            c.connect.record(us(d));
            c.connections_opened += 1;
        }
        if self.shared.paced || self.shared.schedules[self.group].is_open() {
            c.lag
                .record(us(started.saturating_duration_since(intended)));
        }
        let latency = us(ended - intended);
        let by_conn = &mut c.by_conn[conn_type as usize];
        let k = &mut c.kinds[kind];
        if a.retries > 0 {
            k.retries += u64::from(a.retries);
        }
        match a.result {
            Ok(outcome) => {
                match outcome {
                    TxOutcome::Committed { .. } => k.committed += 1,
                    TxOutcome::RolledBack { .. } => k.rolled_back += 1,
                }
                k.queries += outcome.queries() as u64;
                if a.conn_at == intended {
                    // started when due on a connection in hand: its execution time is
                    // its latency, and one record counts for both
                    k.latency_as_service.record(latency);
                } else {
                    k.latency.record(latency);
                    k.service
                        .record(us(ended.saturating_duration_since(a.conn_at)));
                }
                by_conn.ok += 1;
                if self.shared.connection_mode == ConnectionMode::Mixed {
                    // only a mixed run compares connection types; otherwise this would
                    // duplicate the overall latency
                    by_conn.latency.record(latency);
                }
            }
            Err(f) => {
                by_conn.failed += 1;
                c.record_error(kind, f.class(), f.code().map(|c| c.code()), || {
                    f.to_string()
                });
            }
        }
    }
}

/// Whether a transaction failed because its connection was lost (or could not be had).
fn lost(result: &Result<TxOutcome, TxError>) -> bool {
    matches!(result, Err(f) if f.class() == ErrorClass::ConnectionLost)
}

impl Attempt {
    /// On a pooled connection, in hand at `conn_at`; `waited` when it came from the pool
    /// (a connection kept from the last transaction involved no pool at all).
    fn pooled(
        result: Result<TxOutcome, TxError>,
        asked: Instant,
        conn_at: Instant,
        waited: bool,
    ) -> Attempt {
        Attempt {
            result,
            retries: 0,
            conn_at,
            pool_wait: waited.then(|| conn_at - asked),
            connect: None,
        }
    }

    /// On a connection opened for it between `asked` and `conn_at`.
    fn transient(result: Result<TxOutcome, TxError>, asked: Instant, conn_at: Instant) -> Attempt {
        Attempt {
            result,
            retries: 0,
            conn_at,
            pool_wait: None,
            connect: Some(conn_at - asked),
        }
    }

    fn failed(f: TxError, asked: Instant) -> Attempt {
        let now = Instant::now();
        Attempt {
            result: Err(f),
            retries: 0,
            conn_at: now,
            pool_wait: Some(now - asked),
            connect: None,
        }
    }
}

/// The measured intervals lying wholly inside `from..to`, as (first, last).
fn covered(t: &Timing, from: Instant, to: Instant) -> Option<(u32, u32)> {
    let si = t.sample_interval.as_nanos().max(1);
    let a = from.saturating_duration_since(t.measure_start).as_nanos();
    let b = to.saturating_duration_since(t.measure_start).as_nanos();
    if to <= t.measure_start {
        return None;
    }
    let first = a.div_ceil(si);
    let end = b / si; // intervals before this one end by `to`
    (end > first).then(|| (first as u32, (end - 1) as u32))
}

/// Sample interval index of instant `at` (at >= measure_start).
fn interval_of(t: &Timing, at: Instant) -> u32 {
    let since = at.saturating_duration_since(t.measure_start).as_nanos();
    (since / t.sample_interval.as_nanos().max(1)) as u32
}

#[inline]
fn us(d: Duration) -> u64 {
    d.as_micros() as u64
}

#[cfg(test)]
mod stall_tests {
    use super::*;

    #[test]
    fn a_transaction_usual_for_its_kind_is_not_a_stall() {
        let rec = Recording {
            chunk: Chunk::new(2, 0),
            chunk_end: Instant::now(),
            longest: vec![Duration::from_millis(2), Duration::from_millis(1500)],
        };
        let s = Duration::from_secs;
        // a point read that takes 3 s: the server stopped answering
        assert!(rec.stalled(0, s(3), s(1)));
        // an analytical query that takes 2 s when it has taken 1.5 s before: usual
        assert!(!rec.stalled(1, s(2), s(1)));
        assert!(rec.stalled(1, s(4), s(1)));
        // nothing of the kind succeeded yet: only past ten seconds
        let fresh = Recording {
            longest: vec![Duration::ZERO; 2],
            ..rec
        };
        assert!(!fresh.stalled(0, s(5), s(1)));
        assert!(fresh.stalled(0, s(11), s(1)));
    }
}
