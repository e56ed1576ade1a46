//! One worker: takes arrival slots, gets a connection, runs transactions with retries,
//! and records into its client thread's stats. No locks, no formatting on the success path.

use std::cell::RefCell;
use std::marker::PhantomData;
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

/// One client thread's measurements for the current sample interval, recorded by all
/// of its workers (which run on that thread, one at a time, each client thread having a
/// runtime of its own): a transaction records into memory the last one touched, instead of
/// into a chunk of its own worker's that hundreds of other workers' chunks have pushed out
/// of the cache since. Kept by the thread ([`Recording::install`]), borrowed only between
/// awaits; what is left is sent when it is taken down.
pub(crate) struct Recording {
    chunk: Chunk,
    chunk_end: Instant,
    /// Per kind, the longest transaction the thread's workers saw succeed: a transaction
    /// that is long for a stall but usual for its kind (an analytical query) is not one.
    longest: Vec<Duration>,
    timing: Timing,
    kinds: usize,
    /// Where chunks go.
    out: UnboundedSender<Chunk>,
}

thread_local! {
    /// The recording of the client thread this runs on, while its workers run.
    static RECORDING: RefCell<Option<Recording>> = const { RefCell::new(None) };
}

/// The current thread's recording, installed until dropped (which sends what is left).
/// Not `Send`: it is dropped on the thread it was installed on.
pub(crate) struct Installed(PhantomData<*const ()>);

impl Drop for Installed {
    fn drop(&mut self) {
        // taken out first: the last chunk is sent outside the borrow
        let rec = RECORDING.with_borrow_mut(Option::take);
        drop(rec);
    }
}

/// Runs `f` on the current thread's recording.
#[inline]
fn with_recording<R>(f: impl FnOnce(&mut Recording) -> R) -> R {
    RECORDING.with_borrow_mut(|r| {
        f(r.as_mut()
            .expect("workers run on a client thread whose recording is installed"))
    })
}

impl Recording {
    /// Installs the current thread's recording, for `kinds` transaction kinds, sending
    /// chunks to `out`; the workers spawned on this thread record into it.
    pub(crate) fn install(kinds: usize, timing: Timing, out: UnboundedSender<Chunk>) -> Installed {
        let rec = Recording {
            chunk: Chunk::new(kinds, 0),
            chunk_end: timing.measure_start + timing.sample_interval,
            longest: vec![Duration::ZERO; kinds],
            timing,
            kinds,
            out,
        };
        let old = RECORDING.with_borrow_mut(|r| r.replace(rec));
        drop(old);
        Installed(PhantomData)
    }

    /// Starts the chunk of the interval holding `at`, sending the current one if it holds
    /// anything.
    fn roll(&mut self, at: Instant) {
        let t = &self.timing;
        let idx = interval_of(t, at);
        let done = std::mem::replace(&mut self.chunk, Chunk::new(self.kinds, idx));
        self.chunk_end = t.measure_start + t.sample_interval * (idx + 1);
        if !done.is_empty() {
            let _ = self.out.send(done);
        }
    }

    /// At `now`, moves on to the current interval if the chunk's has ended (sending it).
    fn catch_up(&mut self, now: Instant) {
        if now >= self.chunk_end {
            self.roll(now);
        }
    }
}

/// Sends the current thread's chunk as its interval ends, so that it reaches the
/// aggregator in time while every worker sleeps (a slow open-loop rate, think time), and
/// is never sent early: a worker going to sleep past the end of the interval cannot send
/// it, as the thread's other workers may still end transactions in it. Runs on the thread
/// beside its workers until aborted.
pub(crate) async fn send_on_time() {
    loop {
        let end = with_recording(|r| r.chunk_end);
        sleep_until(end).await;
        with_recording(|r| r.catch_up(Instant::now()));
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        let chunk = std::mem::take(&mut self.chunk);
        if !chunk.is_empty() {
            let _ = self.out.send(chunk);
        }
    }
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
                    if at > Instant::now() && !self.sleep_until(at).await {
                        break;
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
                    with_recording(|rec| self.abandon(rec, kind, started));
                    break;
                }
            };
            let ended = Instant::now();
            let failed_connect = lost(&attempt.result);
            with_recording(|rec| {
                self.record(rec, kind, conn_type, intended, started, ended, attempt)
            });
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
                if !self.sleep_until(wake).await {
                    break;
                }
            }
        }
        drop(held);
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
            rec.roll(ended);
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
        let now = Instant::now();
        let timing = Timing {
            run_start: now,
            measure_start: now,
            deadline: None,
            sample_interval: Duration::from_secs(1),
        };
        let (out, _chunks) = tokio::sync::mpsc::unbounded_channel();
        let _installed = Recording::install(2, timing, out);
        with_recording(|rec| {
            rec.longest = vec![Duration::from_millis(2), Duration::from_millis(1500)];
            let s = Duration::from_secs;
            // a point read that takes 3 s: the server stopped answering
            assert!(rec.stalled(0, s(3), s(1)));
            // an analytical query that takes 2 s when it has taken 1.5 s before: usual
            assert!(!rec.stalled(1, s(2), s(1)));
            assert!(rec.stalled(1, s(4), s(1)));
            // nothing of the kind succeeded yet: only past ten seconds
            rec.longest = vec![Duration::ZERO; 2];
            let fresh = &rec;
            assert!(!fresh.stalled(0, s(5), s(1)));
            assert!(fresh.stalled(0, s(11), s(1)));
        });
    }
}

#[cfg(test)]
mod send_tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_threads_chunk_goes_out_when_its_interval_ends_and_not_before() {
        let now = Instant::now();
        let timing = Timing {
            run_start: now,
            measure_start: now,
            deadline: None,
            sample_interval: Duration::from_secs(1),
        };
        let (out, mut chunks) = tokio::sync::mpsc::unbounded_channel();
        let installed = Recording::install(1, timing, out);
        let sender = tokio::spawn(send_on_time());
        with_recording(|r| r.chunk.kinds[0].committed += 1);
        // every worker asleep past the end of the interval: nothing is sent before it ends
        tokio::time::sleep(Duration::from_millis(999)).await;
        assert!(chunks.try_recv().is_err(), "sent before its interval ended");
        with_recording(|r| r.chunk.kinds[0].committed += 1);
        tokio::time::sleep(Duration::from_millis(2)).await;
        let c = chunks.try_recv().expect("sent as its interval ended");
        assert_eq!((c.interval, c.kinds[0].committed), (0, 2));
        // an empty interval sends nothing; the next one's goes out with the next interval
        tokio::time::sleep(Duration::from_secs(1)).await;
        with_recording(|r| r.chunk.kinds[0].committed += 5);
        assert!(chunks.try_recv().is_err(), "an empty chunk was sent");
        tokio::time::sleep(Duration::from_secs(1)).await;
        let c = chunks.try_recv().expect("the third interval's chunk");
        assert_eq!((c.interval, c.kinds[0].committed), (2, 5));
        // what is left goes out when the recording is taken down
        with_recording(|r| r.chunk.kinds[0].committed += 7);
        sender.abort();
        drop(installed);
        let c = chunks.try_recv().expect("the last chunk");
        assert_eq!((c.interval, c.kinds[0].committed), (3, 7));
        assert!(chunks.recv().await.is_none(), "the sender went with the recording");
    }
}
