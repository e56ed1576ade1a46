//! The run: workers on tokio tasks, the arrival schedule, warm-up, stop on deadline,
//! transaction budget or interrupt, and the aggregator that merges worker chunks into
//! exact totals and a time series while a ticker prints summary lines.

mod driver;
mod progress;
mod schedule;
mod worker;

pub(crate) use progress::format_summary;
pub(crate) use schedule::Schedule;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

pub(crate) use crate::config::ExecOptions;

use crate::config::Stop;
use crate::core::{self, ConnectionMode, Driver, Workload};
use crate::db::wire::WireConfig;
use crate::db::{DbError, PgConnector, Target, WireConnector};
use crate::progress::Progress;
use crate::stats::{Chunk, IntervalPoint, Series, Totals};
use driver::Connections;

/// How long after an interval ends the aggregator waits for late chunks before printing it.
const GRACE: Duration = Duration::from_millis(250);

/// How long after the stop the run waits for workers and client threads to finish.
const END_GRACE: Duration = Duration::from_secs(5);

/// Watches a run from the aggregator, once per sample interval (never from workers).
pub(crate) trait Observer: Send + Sync {
    /// Called after each interval is finalized with the run totals so far and the last
    /// finished interval.
    fn tick(&self, totals: &Totals, last: Option<&IntervalPoint>, shared: &RunShared);
}

/// Optional hooks into a run.
#[derive(Default)]
pub(crate) struct Hooks {
    /// Fired when the warm-up ends.
    pub(crate) measuring: Option<oneshot::Sender<()>>,
    /// Called on every interval tick.
    pub(crate) observer: Option<Arc<dyn Observer>>,
    /// Receives the run so far every few intervals.
    pub(crate) checkpoint: Option<Checkpoint>,
    /// Awaited once every connection is open and before the clock starts (the shards of
    /// a run start together through it); an error ends the run before it starts.
    pub(crate) gate: Option<Gate>,
}

/// What a run waits for before it starts: a coordinated start.
pub(crate) type Gate =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

/// Where and how often a run hands over what it has measured so far (a partial
/// [`RunResult`]), so a crash loses at most one checkpoint interval.
pub(crate) struct Checkpoint {
    /// Every this many sample intervals.
    pub(crate) every: u32,
    pub(crate) tx: mpsc::UnboundedSender<RunResult>,
}

/// Instants that bound the phases of a run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    /// Workers start.
    pub(crate) run_start: Instant,
    /// Warm-up ends, measurement starts.
    pub(crate) measure_start: Instant,
    /// Measurement ends (none for a pure transaction budget).
    pub(crate) deadline: Option<Instant>,
    /// Time-series interval.
    pub(crate) sample_interval: Duration,
}

/// Live counters, bumped by workers, read by the display.
#[derive(Debug, Default)]
pub(crate) struct Live {
    /// Successful transactions (warm-up included).
    pub(crate) ok: AtomicU64,
    /// Failed transactions (warm-up included).
    pub(crate) failed: AtomicU64,
    /// Workers that have stopped.
    pub(crate) finished: AtomicUsize,
}

/// State shared read-only (plus atomics) by all workers.
pub(crate) struct RunShared {
    /// Phase instants.
    pub(crate) timing: Timing,
    /// Number of transaction kinds.
    pub(crate) kinds: usize,
    /// Arrival schedule of each worker group (one without groups).
    pub(crate) schedules: Vec<Schedule>,
    /// The first worker id of each group after the first (ids are contiguous per group).
    pub(crate) group_starts: Vec<usize>,
    /// Live counters.
    pub(crate) live: Live,
    /// Transaction budget, if any.
    pub(crate) budget: Option<u64>,
    /// Transactions claimed from the budget.
    pub(crate) claimed: AtomicU64,
    /// Whether the budget is spent.
    pub(crate) budget_spent: AtomicBool,
    pub(crate) think_time: Duration,
    /// Tries per transaction.
    pub(crate) max_tries: u32,
    pub(crate) connection_mode: ConnectionMode,
    /// Whether the workload brings its own timing (start lag is recorded against it).
    pub(crate) paced: bool,
    /// Internal errors (panics) that stopped a worker or a client thread; touched only
    /// when one happens.
    pub(crate) panics: std::sync::Mutex<Vec<String>>,
    /// Wall-clock start of measurement (fixed once, so every checkpoint of the run and
    /// its end name the same start).
    pub(crate) started_at: chrono::DateTime<chrono::Utc>,
}

impl RunShared {
    /// The group of worker `id`.
    pub(crate) fn group_of(&self, id: usize) -> usize {
        self.group_starts
            .iter()
            .take_while(|first| id >= **first)
            .count()
    }

    fn record_panic(&self, what: &str, payload: &(dyn std::any::Any + Send)) {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        if let Ok(mut p) = self.panics.lock() {
            p.push(format!("{what}: {msg}"));
        }
    }
}

/// The result of one run.
#[derive(Debug)]
pub(crate) struct RunResult {
    /// Exact totals of the measured phase.
    pub(crate) totals: Totals,
    /// Time series.
    pub(crate) series: Vec<IntervalPoint>,
    /// Length of the measured phase.
    pub(crate) measured: Duration,
    /// Whether an interrupt ended the run.
    pub(crate) interrupted: bool,
    /// Wall-clock start of measurement.
    pub(crate) started_at: chrono::DateTime<chrono::Utc>,
    /// Open loop: arrival slots that were due before the end.
    pub(crate) slots_due: Option<u64>,
    /// The driver that carried the transactions: `wire` or `tokio-postgres`.
    pub(crate) driver: &'static str,
    /// Internal errors that stopped workers: a run with any is failed.
    pub(crate) panics: Vec<String>,
    /// Workers that had not stopped within the grace period after the end (stuck in
    /// something the stop could not interrupt); their last interval is missing.
    pub(crate) workers_not_stopped: usize,
    /// stormbench's resident memory after the first interval, MiB (the series merges its
    /// old points, keeping their peak).
    pub(crate) first_rss_mb: Option<f64>,
}

/// How the workers and connections are split over client threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lane {
    /// First worker id.
    pub(crate) first_worker: usize,
    /// Gap between its worker ids (a shard of `n` runs every `n`th worker of the run).
    pub(crate) stride: usize,
    /// Workers on this thread.
    pub(crate) workers: usize,
    /// Pool size on this thread.
    pub(crate) connections: usize,
}

/// Splits workers and connections evenly over at most `threads` lanes (each with at
/// least one worker and one connection). The workers are the run's, or shard `i` of
/// `n`'s: ids `i`, `i + n`, ... of the whole run.
pub(crate) fn lanes(
    workers: usize,
    connections: usize,
    threads: usize,
    shard: Option<crate::config::Shard>,
) -> Vec<Lane> {
    let (base, stride) = shard.map_or((0, 1), |s| (s.index, s.count));
    let n = threads.min(workers).min(connections).max(1);
    let mut out = Vec::with_capacity(n);
    let mut first = 0;
    for i in 0..n {
        let w = workers / n + usize::from(i < workers % n);
        let c = connections / n + usize::from(i < connections % n);
        out.push(Lane {
            first_worker: base + first * stride,
            stride,
            workers: w,
            connections: c,
        });
        first += w;
    }
    out
}

/// Runs the workload and returns what was measured; `measuring` fires when the warm-up
/// ends.
///
/// Workers and connections are split over `threads` client threads, each with its own
/// single-threaded runtime and its own pool (as `pgbench -j` splits clients), so a
/// transaction and its connection never wake each other across threads. An interrupt
/// (the `interrupt` token) stops in-flight work at once; what completed is returned.
pub(crate) async fn run(
    workload: Arc<dyn Workload>,
    target: &Target,
    opts: &ExecOptions,
    interrupt: CancellationToken,
    view: &Progress,
    hooks: Hooks,
) -> Result<RunResult, DbError> {
    let Hooks {
        measuring,
        observer,
        checkpoint,
        gate,
    } = hooks;
    let kinds: Vec<&'static str> = workload.kinds().to_vec();
    // resolved once per invocation by the caller; an `auto` left here is resolved now
    let driver = resolve_driver(opts.driver);
    let wire = (driver == Driver::Wire).then(|| target.wire_config());
    let stop = interrupt.child_token();
    let (tx, rx) = mpsc::unbounded_channel::<Chunk>();
    let plan = lanes(opts.workers, opts.connections, opts.threads, opts.shard);
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<(), DbError>>();
    let mut starts = Vec::new();
    let mut threads = Vec::new();
    for (i, lane) in plan.iter().copied().enumerate() {
        let (start_tx, start) = oneshot::channel::<Arc<RunShared>>();
        starts.push(start_tx);
        let ctx = LaneCtx {
            lane,
            workload: workload.clone(),
            target: target.clone(),
            seed: opts.seed,
            wire: wire.clone(),
            stop: stop.clone(),
            out: tx.clone(),
            ready: ready_tx.clone(),
            start,
        };
        threads.push(spawn_lane(i, ctx)?);
    }
    drop((tx, ready_tx));
    // every lane has its pool filled before the clock starts
    if let Err(e) = all_ready(&mut ready_rx, plan.len(), &interrupt).await {
        stop.cancel();
        return Err(e);
    }
    if let Some(gate) = gate {
        let passed = tokio::select! {
            r = gate => r.map_err(DbError::Connect),
            _ = interrupt.cancelled() => Err(DbError::Connect("interrupted while waiting to start".into())),
        };
        if let Err(e) = passed {
            stop.cancel();
            return Err(e);
        }
    }
    let shared = Arc::new(RunShared::start_now(opts, workload.as_ref(), kinds.len()));
    let Timing {
        measure_start,
        deadline,
        ..
    } = shared.timing;
    for s in starts {
        let _ = s.send(shared.clone());
    }
    let deadline_task = deadline.map(|d| {
        let stop = stop.clone();
        tokio::spawn(async move {
            sleep_until(d).await;
            stop.cancel();
        })
    });
    if let Some(tx) = measuring {
        // tells the caller when warm-up is over (e.g. to snapshot server counters)
        tokio::spawn(async move {
            sleep_until(measure_start).await;
            let _ = tx.send(());
        });
    }
    progress::start(view, opts);
    let agg = aggregate(
        rx,
        &kinds,
        shared.clone(),
        opts,
        view,
        Taps {
            observer: observer.as_deref(),
            checkpoint: checkpoint.as_ref(),
            driver: driver.as_str(),
        },
        &stop,
    )
    .await;
    let threads_left = join_threads(threads, &shared).await;
    let workers_not_stopped = opts.workers
        - shared
            .live
            .finished
            .load(Ordering::Relaxed)
            .min(opts.workers);
    if workers_not_stopped > 0 || threads_left > 0 {
        log::warn!(
            "{workers_not_stopped} workers did not stop within {}s of the end; their last interval is not in the report",
            END_GRACE.as_secs()
        );
    }
    if let Some(t) = deadline_task {
        t.abort();
    }
    view.finish();
    let mut result = RunResult::ended(&shared, agg, interrupt.is_cancelled());
    result.driver = driver.as_str();
    result.workers_not_stopped = workers_not_stopped;
    Ok(result)
}

/// Starts client thread `i` on its lane.
fn spawn_lane(i: usize, ctx: LaneCtx) -> Result<std::thread::JoinHandle<()>, DbError> {
    std::thread::Builder::new()
        .name(format!("stormbench-client-{i}"))
        .spawn(move || run_lane(ctx))
        .map_err(|e| DbError::Connect(format!("cannot start a client thread: {e}")))
}

impl RunResult {
    /// The result of a run that ended now with the aggregator's totals and series.
    fn ended(shared: &RunShared, agg: Aggregate, interrupted: bool) -> Self {
        let Timing {
            measure_start,
            deadline,
            ..
        } = shared.timing;
        let end = Instant::now();
        let measure_end = match deadline {
            Some(d) if !interrupted => d.min(end),
            _ => end,
        };
        RunResult {
            totals: agg.totals,
            series: agg.series,
            first_rss_mb: agg.first_rss_mb,
            measured: measure_end.saturating_duration_since(measure_start),
            interrupted,
            started_at: shared.started_at,
            slots_due: shared
                .schedules
                .iter()
                .filter_map(|s| {
                    s.due_until(measure_end).map(|due| {
                        let warm = s.due_until(measure_start).unwrap_or(0);
                        due.saturating_sub(warm)
                    })
                })
                .reduce(|a, b| a + b),
            driver: "",
            panics: shared.panics.lock().map(|p| p.clone()).unwrap_or_default(),
            workers_not_stopped: 0,
        }
    }
}

/// What the aggregator hands back: exact totals, the time series, the first memory sample.
struct Aggregate {
    totals: Totals,
    series: Vec<IntervalPoint>,
    first_rss_mb: Option<f64>,
}

/// Waits until every lane has its connections (or one failed, or the run was
/// interrupted).
async fn all_ready(
    ready: &mut mpsc::UnboundedReceiver<Result<(), DbError>>,
    lanes: usize,
    interrupt: &CancellationToken,
) -> Result<(), DbError> {
    for _ in 0..lanes {
        let r = tokio::select! {
            r = ready.recv() => r,
            _ = interrupt.cancelled() => None,
        };
        match r {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(e),
            None => return Err(DbError::Connect("interrupted while connecting".into())),
        }
    }
    Ok(())
}

/// Joins the client threads, each within [`END_GRACE`]; a panic is recorded. Returns how
/// many did not end in time.
async fn join_threads(threads: Vec<std::thread::JoinHandle<()>>, shared: &RunShared) -> usize {
    let mut left = 0;
    for (i, t) in threads.into_iter().enumerate() {
        match tokio::time::timeout(END_GRACE, tokio::task::spawn_blocking(move || t.join())).await {
            Ok(Ok(Err(payload))) => shared.record_panic(&format!("client thread {i}"), &*payload),
            Ok(_) => {}
            Err(_) => left += 1,
        }
    }
    left
}

impl RunShared {
    /// The shared state of a run whose workers start now.
    fn start_now(opts: &ExecOptions, workload: &dyn Workload, kinds: usize) -> Self {
        let run_start = Instant::now();
        let measure_start = later(run_start, opts.warmup.0);
        let deadline = match opts.stop {
            Stop::Duration(d) => Some(later(measure_start, d.0)),
            Stop::Transactions { limit, .. } => limit.map(|d| later(measure_start, d.0)),
        };
        RunShared {
            timing: Timing {
                run_start,
                measure_start,
                deadline,
                sample_interval: opts.sample_interval.0,
            },
            kinds,
            schedules: if opts.groups.is_empty() {
                vec![Schedule::new(opts.arrival, run_start)]
            } else {
                opts.groups
                    .iter()
                    .map(|g| Schedule::new(g.arrival, run_start))
                    .collect()
            },
            group_starts: opts
                .groups
                .iter()
                .scan(0, |first, g| {
                    let at = *first;
                    *first += g.workers;
                    Some(at)
                })
                .skip(1)
                .collect(),
            live: Live::default(),
            budget: match opts.stop {
                Stop::Transactions { count, .. } => Some(count),
                Stop::Duration(_) => None,
            },
            claimed: AtomicU64::new(0),
            budget_spent: AtomicBool::new(false),
            think_time: opts.think_time.0,
            max_tries: opts.max_tries,
            connection_mode: workload.connection_mode().unwrap_or(opts.connection_mode),
            paced: workload.pacing().is_some(),
            panics: Default::default(),
            started_at: {
                let now = chrono::Utc::now();
                chrono::Duration::from_std(opts.warmup.0)
                    .ok()
                    .and_then(|w| now.checked_add_signed(w))
                    .unwrap_or(now)
            },
        }
    }
}

/// `at + d`, or a century later when that does not fit (no duration near the type's limit
/// can panic the run).
pub(crate) fn later(at: Instant, d: Duration) -> Instant {
    at.checked_add(d)
        .or_else(|| at.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(at)
}

/// The driver a run uses: `wire` and `tokio-postgres` as given; `auto` is `wire`, which
/// carries every workload (TLS included).
pub(crate) fn resolve_driver(driver: Driver) -> Driver {
    match driver {
        Driver::Auto => Driver::Wire,
        resolved => resolved,
    }
}

/// What one client thread needs.
struct LaneCtx {
    lane: Lane,
    workload: Arc<dyn Workload>,
    target: Target,
    seed: u64,
    wire: Option<WireConfig>,
    stop: CancellationToken,
    out: mpsc::UnboundedSender<Chunk>,
    ready: mpsc::UnboundedSender<Result<(), DbError>>,
    start: oneshot::Receiver<Arc<RunShared>>,
}

/// One client thread: its own runtime, pool and workers.
fn run_lane(ctx: LaneCtx) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ctx.ready.send(Err(DbError::Connect(format!(
                "cannot start a client runtime: {e}"
            ))));
            return;
        }
    };
    rt.block_on(async move {
        let LaneCtx {
            lane,
            workload,
            target,
            seed,
            wire,
            stop,
            out,
            ready,
            start,
        } = ctx;
        match wire {
            Some(cfg) => {
                let c = WireConnector::new(&target, lane.connections, cfg);
                lane_workers(c, &target, lane, &workload, seed, stop, out, ready, start).await
            }
            None => {
                let c = PgConnector::new(&target, lane.connections);
                lane_workers(c, &target, lane, &workload, seed, stop, out, ready, start).await
            }
        }
    });
}

/// Opens a lane's connections on driver `D`, then runs its workers until they stop.
#[allow(clippy::too_many_arguments)]
async fn lane_workers<D: Connections + Fill>(
    connector: Result<D, DbError>,
    target: &Target,
    lane: Lane,
    workload: &Arc<dyn Workload>,
    seed: u64,
    stop: CancellationToken,
    out: mpsc::UnboundedSender<Chunk>,
    ready: mpsc::UnboundedSender<Result<(), DbError>>,
    start: oneshot::Receiver<Arc<RunShared>>,
) {
    let driver = match connector {
        Ok(c) => Arc::new(c),
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let filled = tokio::select! {
        r = driver.fill(target) => r,
        _ = stop.cancelled() => return,
    };
    let ok = filled.is_ok();
    let _ = ready.send(filled);
    if !ok {
        return;
    }
    let Ok(shared) = start.await else { return };
    let sticky = lane.workers <= lane.connections;
    let mut handles = Vec::with_capacity(lane.workers);
    for id in (0..lane.workers).map(|k| lane.first_worker + k * lane.stride) {
        let group = shared.group_of(id);
        let w = worker::Worker {
            id,
            group,
            gen: workload.group_worker(group, id, core::derive_seed(seed, id as u64)),
            rng: core::rng(seed, 1 << 32 | id as u64),
            driver: driver.clone(),
            shared: shared.clone(),
            stop: stop.clone(),
            out: out.clone(),
            sticky,
        };
        let (shared, stop) = (shared.clone(), stop.clone());
        handles.push(tokio::spawn(async move {
            use futures_util::FutureExt as _;
            let run = std::panic::AssertUnwindSafe(w.run()).catch_unwind();
            if let Err(payload) = run.await {
                // an internal error: the run stops and is reported as failed
                shared.record_panic(&format!("worker {id}"), &*payload);
                shared.live.finished.fetch_add(1, Ordering::Relaxed);
                stop.cancel();
            }
        }));
    }
    drop(out);
    for h in handles {
        let _ = h.await;
    }
}

/// Opening a connector's pooled connections before the run starts.
trait Fill {
    async fn fill(&self, target: &Target) -> Result<(), DbError>;
}

impl Fill for PgConnector {
    async fn fill(&self, target: &Target) -> Result<(), DbError> {
        PgConnector::fill(self, target).await
    }
}

impl Fill for WireConnector {
    async fn fill(&self, target: &Target) -> Result<(), DbError> {
        WireConnector::fill(self, target).await
    }
}

/// Who else sees the aggregate as it grows.
struct Taps<'a> {
    observer: Option<&'a dyn Observer>,
    checkpoint: Option<&'a Checkpoint>,
    /// The driver's name, for checkpoints.
    driver: &'static str,
}

/// The run so far, as a result marked neither interrupted nor ended: the totals and the
/// finished intervals up to `tick`.
fn so_far(
    shared: &RunShared,
    totals: &Totals,
    series: &Series,
    tick: u32,
    driver: &'static str,
    first_rss_mb: Option<f64>,
) -> RunResult {
    let t = shared.timing;
    RunResult {
        totals: totals.clone(),
        series: series
            .points()
            .iter()
            .filter(|p| p.interval < tick)
            .cloned()
            .collect(),
        measured: Instant::now().saturating_duration_since(t.measure_start),
        interrupted: false,
        started_at: shared.started_at,
        slots_due: None,
        driver,
        panics: shared.panics.lock().map(|p| p.clone()).unwrap_or_default(),
        workers_not_stopped: 0,
        first_rss_mb,
    }
}

/// Receives chunks until every worker is done; on each interval tick finalizes the series,
/// prints summary lines, and every few ticks hands a checkpoint over.
async fn aggregate(
    mut rx: mpsc::UnboundedReceiver<Chunk>,
    kinds: &[&str],
    shared: Arc<RunShared>,
    opts: &ExecOptions,
    view: &Progress,
    taps: Taps<'_>,
    stop: &CancellationToken,
) -> Aggregate {
    let t = shared.timing;
    let mut first_rss_mb = None;
    let si = t.sample_interval;
    let per_summary = opts
        .summary_interval
        .map(|s| ((s.0.as_secs_f64() / si.as_secs_f64()).round() as u32).max(1));
    let mut totals = Totals::new(kinds);
    let full = (opts.full_resolution.0.as_secs_f64() / si.as_secs_f64()).ceil() as usize;
    let mut series = Series::new(kinds, si.as_secs_f64()).with_full_resolution(full);
    let mut window = Series::new(kinds, si.as_secs_f64() * per_summary.unwrap_or(1) as f64);
    let mut tick = 1u32;
    // once stopped, workers have END_GRACE to hand over their last chunks
    let mut give_up: Option<Instant> = None;
    loop {
        let next_tick = t.measure_start + si * tick + GRACE;
        tokio::select! {
            _ = stop.cancelled(), if give_up.is_none() => {
                give_up = Some(Instant::now() + END_GRACE);
            }
            _ = sleep_until(give_up.unwrap_or(next_tick)), if give_up.is_some() => break,
            c = rx.recv() => match c {
                Some(c) => {
                    totals.absorb(&c);
                    series.absorb(&c);
                    for &(first, last) in &c.stalled {
                        series.mark_stalled(first, last);
                    }
                    if let Some(m) = per_summary {
                        let mut w = c;
                        w.interval /= m;
                        window.absorb(&w);
                    }
                }
                None => break,
            },
            _ = sleep_until(next_tick) => {
                let finished = series.finalize_before(tick);
                if !finished.is_empty() {
                    let footprint = crate::stats::client_footprint();
                    first_rss_mb = first_rss_mb.or(footprint.0);
                    series.annotate_last(footprint);
                }
                if let Some(o) = taps.observer {
                    o.tick(&totals, finished.last(), &shared);
                }
                if let Some(c) = taps.checkpoint {
                    // the first interval is checkpointed at once, so a run that dies early
                    // still leaves its partial report and history row (and the code that
                    // writes them is paged in before memory is judged flat); then every
                    // `every` intervals
                    if (tick == 1 || tick % c.every.max(1) == 0) && give_up.is_none() {
                        let _ = c.tx.send(so_far(&shared, &totals, &series, tick, taps.driver, first_rss_mb));
                    }
                }
                if let Some(m) = per_summary {
                    if tick % m == 0 {
                        for p in window.finalize_before(tick / m) {
                            view.line(&format_summary(&p, window_len(si, m)));
                        }
                    }
                }
                progress::tick(view, &shared);
                tick += 1;
            }
        }
    }
    let last = series.points().last().map(|p| p.interval + 1).unwrap_or(0);
    let measured_intervals = measured_intervals(&t, si);
    if let Some(m) = per_summary {
        // the run ended before the tick of its last complete window
        let end = t.deadline.unwrap_or_else(Instant::now).min(Instant::now());
        let span = end.saturating_duration_since(t.measure_start).as_secs_f64();
        let complete = (span / window_len(si, m).as_secs_f64() + 1e-6).floor() as u32;
        for p in window.finalize_before(complete) {
            view.line(&format_summary(&p, window_len(si, m)));
        }
    }
    series.finish(last.max(measured_intervals).saturating_sub(1));
    Aggregate {
        series: trim_series(series.points(), measured_intervals),
        totals,
        first_rss_mb,
    }
}

fn window_len(si: Duration, m: u32) -> Duration {
    si * m
}

/// Intervals of the measured phase (the last may be partial).
fn measured_intervals(t: &Timing, si: Duration) -> u32 {
    let end = t.deadline.unwrap_or_else(Instant::now).min(Instant::now());
    let span = end.saturating_duration_since(t.measure_start).as_secs_f64();
    // an exact multiple of the interval must not count a further, empty interval
    (span / si.as_secs_f64() - 1e-6).ceil().max(0.0) as u32
}

/// Drops trailing empty intervals past the end of measurement.
fn trim_series(points: &[IntervalPoint], intervals: u32) -> Vec<IntervalPoint> {
    points
        .iter()
        .filter(|p| p.interval < intervals.max(1) || p.transactions + p.errors > 0)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_near_the_limit_do_not_overflow() {
        let now = Instant::now();
        assert!(later(now, Duration::MAX) > now + Duration::from_secs(365 * 86_400));
        assert_eq!(
            later(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
    }

    #[test]
    fn lanes_split_evenly_and_cover_everything() {
        let s = lanes(10, 4, 3, None);
        assert_eq!(s.len(), 3);
        assert_eq!(s.iter().map(|x| x.workers).sum::<usize>(), 10);
        assert_eq!(s.iter().map(|x| x.connections).sum::<usize>(), 4);
        assert_eq!(s[0].first_worker, 0);
        assert_eq!(s[1].first_worker, s[0].workers);
        assert!(s.iter().all(|x| x.workers >= 1 && x.connections >= 1));
        // never more lanes than workers or connections
        assert_eq!(lanes(1, 50, 8, None).len(), 1);
        assert_eq!(lanes(64, 1, 8, None).len(), 1);
        assert_eq!(
            lanes(1000, 50, 2, None),
            vec![
                Lane {
                    first_worker: 0,
                    stride: 1,
                    workers: 500,
                    connections: 25
                },
                Lane {
                    first_worker: 500,
                    stride: 1,
                    workers: 500,
                    connections: 25
                },
            ]
        );
        // shard 1 of 3 of a 10-worker run: its 3 workers 1, 4, 7 over 2 threads
        let s = lanes(3, 3, 2, Some(crate::config::Shard { index: 1, count: 3 }));
        let ids: Vec<usize> = s
            .iter()
            .flat_map(|l| (0..l.workers).map(move |k| l.first_worker + k * l.stride))
            .collect();
        assert_eq!(ids, [1, 4, 7]);
    }
}

#[cfg(test)]
mod null;
#[cfg(test)]
mod null_tests;
