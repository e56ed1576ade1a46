//! The run: workers on tokio tasks, the arrival schedule, warm-up, stop on deadline,
//! transaction budget or interrupt, and the aggregator that merges worker chunks into
//! exact totals and a time series while a ticker prints summary lines.

mod driver;
mod lane;
mod progress;
mod schedule;
mod stop;
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
use crate::core::{ConnectionMode, Driver, Workload};
use crate::db::{DbError, Target};
use crate::progress::Progress;
use crate::stats::{AtStop, Chunk, IntervalPoint, Series, Totals};
use lane::{all_ready, join_threads, lanes, spawn_lanes, Started};

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

/// Live counters of one client thread, bumped by its workers, summed by the display.
/// Each thread has its own, on cache lines of their own: one counter bumped by every
/// thread at each transaction would move its line (and its neighbours, read by every
/// worker at each transaction) from core to core each time.
#[derive(Debug, Default)]
#[repr(align(128))]
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
    /// Live counters, one per client thread.
    pub(crate) live: Box<[Live]>,
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
    /// Statements left running on the server at the stop, added by each client thread
    /// once its workers are done.
    pub(crate) at_stop: std::sync::Mutex<AtStop>,
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
    /// Statements the server was still running when the run stopped.
    pub(crate) at_stop: AtStop,
    /// stormbench's resident memory after the first interval, MiB (the series merges its
    /// old points, keeping their peak).
    pub(crate) first_rss_mb: Option<f64>,
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
    let plan = lanes(opts.workers, opts.connections, opts.threads, opts.shard);
    let Started {
        starts,
        threads,
        chunks: rx,
        mut ready,
    } = spawn_lanes(&plan, &workload, target, opts.seed, wire, &stop)?;
    // every lane has its pool filled before the clock starts
    if let Err(e) = ready_to_start(&mut ready, plan.len(), &interrupt, gate).await {
        stop.cancel();
        return Err(e);
    }
    let shared = Arc::new(RunShared::start_now(
        opts,
        workload.as_ref(),
        kinds.len(),
        plan.len(),
    ));
    for s in starts {
        let _ = s.send(shared.clone());
    }
    let deadline_task = start_clock(&shared.timing, &stop, measuring);
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
    let workers_not_stopped = workers_not_stopped(opts.workers, &shared, threads_left);
    if let Some(t) = deadline_task {
        t.abort();
    }
    view.finish();
    let mut result = RunResult::ended(&shared, agg, interrupt.is_cancelled());
    result.driver = driver.as_str();
    result.workers_not_stopped = workers_not_stopped;
    Ok(result)
}

/// Waits until every lane has its connections, then for the gate, if any (or until one
/// failed, or the run was interrupted).
async fn ready_to_start(
    ready: &mut mpsc::UnboundedReceiver<Result<(), DbError>>,
    lanes: usize,
    interrupt: &CancellationToken,
    gate: Option<Gate>,
) -> Result<(), DbError> {
    all_ready(ready, lanes, interrupt).await?;
    let Some(gate) = gate else { return Ok(()) };
    tokio::select! {
        r = gate => r.map_err(DbError::Connect),
        _ = interrupt.cancelled() => Err(DbError::Connect("interrupted while waiting to start".into())),
    }
}

/// Starts the clock: stops the run at its deadline (the task returned, if there is one)
/// and tells `measuring` when the warm-up ends.
fn start_clock(
    timing: &Timing,
    stop: &CancellationToken,
    measuring: Option<oneshot::Sender<()>>,
) -> Option<tokio::task::JoinHandle<()>> {
    let Timing {
        measure_start,
        deadline,
        ..
    } = *timing;
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
    deadline_task
}

/// Workers of the run (`workers` in all) that had not stopped when their threads were
/// joined (`threads_left` of which did not end in time); warns when there are any.
fn workers_not_stopped(workers: usize, shared: &RunShared, threads_left: usize) -> usize {
    let finished = shared.live_sum(|l| l.finished.load(Ordering::Relaxed));
    let not_stopped = workers - finished.min(workers);
    if not_stopped > 0 || threads_left > 0 {
        log::warn!(
            "{not_stopped} workers did not stop within {}s of the end; their last interval is not in the report",
            END_GRACE.as_secs()
        );
    }
    not_stopped
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
            at_stop: shared.at_stop.lock().map(|a| *a).unwrap_or_default(),
        }
    }
}

/// What the aggregator hands back: exact totals, the time series, the first memory sample.
struct Aggregate {
    totals: Totals,
    series: Vec<IntervalPoint>,
    first_rss_mb: Option<f64>,
}

impl RunShared {
    /// A live counter summed over the client threads.
    pub(crate) fn live_sum<T: std::iter::Sum>(&self, count: impl Fn(&Live) -> T) -> T {
        self.live.iter().map(count).sum()
    }

    /// The shared state of a run whose workers start now.
    fn start_now(opts: &ExecOptions, workload: &dyn Workload, kinds: usize, lanes: usize) -> Self {
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
            live: (0..lanes).map(|_| Live::default()).collect(),
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
            at_stop: Default::default(),
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
        at_stop: AtStop::default(),
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
    use super::lane::Lane;
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
                    index: 0,
                    first_worker: 0,
                    stride: 1,
                    workers: 500,
                    connections: 25
                },
                Lane {
                    index: 1,
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
