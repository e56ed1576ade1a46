//! The worker loop and the aggregator on the null driver, under tokio's paused clock:
//! every figure below is exact, not a timing that depends on the machine.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::null::{Fate, NullConnections, Script};
use super::stop::LaneStop;
use super::*;
use crate::config::{Arrival, Dur};
use crate::core::{self, ErrorClass, Session, Statements, TxError, TxKind, TxOutcome, WorkerTx};
use crate::progress::{Mode, Progress};

/// One statement per transaction.
struct Probe {
    stmts: Statements,
}

impl WorkerTx for Probe {
    fn next_kind(&mut self) -> TxKind {
        0
    }

    fn run<'a>(
        &'a mut self,
        _kind: TxKind,
        session: &'a mut dyn Session,
    ) -> core::BoxFuture<'a, Result<TxOutcome, TxError>> {
        Box::pin(async move {
            let st = self.stmts.get(session, 0).await?;
            session.execute(st, &[]).await?;
            Ok(TxOutcome::committed(1))
        })
    }
}

/// How a test run is shaped.
struct Shape {
    workers: usize,
    stop: Stop,
    max_tries: u32,
    /// Cancels the run (as Ctrl-C does) this long after the start.
    interrupt_after: Option<Duration>,
    /// Hands over the run so far every this many sample intervals.
    checkpoint_every: Option<u32>,
}

impl Shape {
    fn timed(workers: usize, secs: u64) -> Self {
        Shape {
            workers,
            stop: Stop::Duration(Dur(Duration::from_secs(secs))),
            max_tries: 1,
            interrupt_after: None,
            checkpoint_every: None,
        }
    }

    fn budget(workers: usize, count: u64) -> Self {
        Shape {
            stop: Stop::Transactions { count, limit: None },
            ..Shape::timed(workers, 0)
        }
    }
}

const SAMPLE: Duration = Duration::from_millis(100);

fn options(shape: &Shape) -> ExecOptions {
    ExecOptions {
        workers: shape.workers,
        connections: shape.workers,
        stop: shape.stop,
        warmup: Dur(Duration::ZERO),
        arrival: Arrival::Closed,
        think_time: Dur(Duration::ZERO),
        max_tries: shape.max_tries,
        seed: 1,
        sample_interval: Dur(SAMPLE),
        full_resolution: Dur(Duration::from_secs(3600)),
        summary_interval: None,
        connection_mode: ConnectionMode::Persistent,
        driver: Driver::Auto,
        threads: 1,
        groups: Vec::new(),
        shard: None,
    }
}

struct Outcome {
    totals: Totals,
    series: Vec<IntervalPoint>,
    /// Virtual time from the start to the aggregator's end.
    took: Duration,
    /// What the checkpoints handed over.
    checkpoints: Vec<RunResult>,
}

/// Runs `shape` on the null driver following `script`, as `exec::run` runs one lane.
async fn run_null(shape: Shape, script: Arc<Script>) -> Outcome {
    let opts = options(&shape);
    let run_start = Instant::now();
    let deadline = match &opts.stop {
        Stop::Duration(d) => Some(run_start + d.0),
        Stop::Transactions { .. } => None,
    };
    let shared = Arc::new(RunShared {
        timing: Timing {
            run_start,
            measure_start: run_start,
            deadline,
            sample_interval: SAMPLE,
        },
        kinds: 1,
        schedules: vec![Schedule::new(Arrival::Closed, run_start)],
        group_starts: Vec::new(),
        live: Box::new([Live::default()]),
        budget: match opts.stop {
            Stop::Transactions { count, .. } => Some(count),
            Stop::Duration(_) => None,
        },
        claimed: AtomicU64::new(0),
        budget_spent: AtomicBool::new(false),
        think_time: Duration::ZERO,
        max_tries: opts.max_tries,
        connection_mode: ConnectionMode::Persistent,
        paced: false,
        panics: Default::default(),
        at_stop: Default::default(),
        started_at: chrono::Utc::now(),
    });
    let stop = CancellationToken::new();
    if let Some(d) = deadline {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(d).await;
            stop.cancel();
        });
    }
    if let Some(after) = shape.interrupt_after {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            stop.cancel();
        });
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let driver = Arc::new(NullConnections { script });
    let lane_stop = LaneStop::new(shape.workers);
    lane_stop.follow(stop.clone());
    for id in 0..shape.workers {
        let w = worker::Worker {
            id,
            group: 0,
            gen: Box::new(Probe {
                stmts: Statements::new(&["SELECT 1"]),
            }),
            rng: core::rng(1, id as u64),
            driver: driver.clone(),
            shared: shared.clone(),
            stop: lane_stop.slot(id),
            out: tx.clone(),
            sticky: true,
            lane: 0,
        };
        tokio::spawn(w.run());
    }
    drop(tx);
    let view = Progress::new(Mode::Quiet);
    let (ctx, mut crx) = mpsc::unbounded_channel();
    let checkpoint = shape
        .checkpoint_every
        .map(|every| Checkpoint { every, tx: ctx });
    let taps = Taps {
        observer: None,
        checkpoint: checkpoint.as_ref(),
        driver: "null",
    };
    let Aggregate { totals, series, .. } =
        aggregate(rx, &["probe"], shared, &opts, &view, taps, &stop).await;
    drop(checkpoint);
    let mut checkpoints = Vec::new();
    while let Some(c) = crx.recv().await {
        checkpoints.push(c);
    }
    Outcome {
        totals,
        series,
        took: run_start.elapsed(),
        checkpoints,
    }
}

fn always(f: Fate) -> impl Fn(u64) -> Fate + Send + Sync {
    move |_| f
}

#[tokio::test(start_paused = true)]
async fn a_timed_run_counts_every_transaction_of_its_window() {
    let script = Arc::new(Script::new(Duration::from_millis(1), always(Fate::Ok)));
    let out = run_null(Shape::timed(2, 1), script).await;
    let ok = out.totals.ok();
    // two workers, 1 ms per transaction, 1 s: 1000 each, give or take the last one
    assert!((1996..=2000).contains(&ok), "{ok}");
    assert_eq!(out.totals.failed(), 0);
    assert_eq!(out.series.len(), 10);
    for p in &out.series {
        assert!((198..=200).contains(&p.transactions), "{p:?}");
    }
    assert!(out.took < Duration::from_secs(2), "{:?}", out.took);
}

#[tokio::test(start_paused = true)]
async fn on_kept_connections_the_execution_time_is_the_latency() {
    let script = Arc::new(Script::new(Duration::from_millis(3), always(Fate::Ok)));
    let out = run_null(Shape::budget(2, 50), script).await;
    let k = &out.totals.kinds[0];
    // a closed loop on connections kept by their workers: no pool wait and no lag, so
    // every transaction's execution time is its latency, recorded once for both
    assert_eq!(k.latency.len(), 50);
    assert_eq!(k.service.len(), 50);
    assert_eq!(k.latency.min(), 3000);
    assert_eq!(k.service.min(), 3000);
    assert_eq!(k.latency.max(), k.service.max());
    // each worker asked the pool once, for its first transaction; the others ran on the
    // connection it kept
    assert_eq!(out.totals.pool_wait.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn checkpoints_hand_over_the_run_so_far_at_their_interval() {
    let script = Arc::new(Script::new(Duration::from_millis(1), always(Fate::Ok)));
    let shape = Shape {
        checkpoint_every: Some(3),
        ..Shape::timed(2, 1)
    };
    let out = run_null(shape, script).await;
    // ticks 1 (the first interval, at once), 3 and 6 of a 10-interval run (tick 9 comes a
    // grace after its interval, when the run has already ended and its final result
    // follows instead)
    assert_eq!(out.checkpoints.len(), 3);
    for (c, intervals) in out.checkpoints.iter().zip([1, 3, 6]) {
        assert_eq!(c.series.len(), intervals, "finished intervals only");
        assert!(!c.interrupted);
        let ok = c.totals.ok();
        let upto: u64 = out.series[..intervals].iter().map(|p| p.transactions).sum();
        // the totals run up to the hand-over (a grace after the interval), as does the
        // measured time they are divided by
        let most = (2000.0 * c.measured.as_secs_f64()) as u64 + 2;
        assert!(ok >= upto && ok <= most, "{ok} against {upto}..{most}");
        assert_eq!(
            c.started_at, out.checkpoints[0].started_at,
            "one start for all"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_transaction_budget_runs_exactly_that_many() {
    let script = Arc::new(Script::new(Duration::from_millis(3), always(Fate::Ok)));
    let out = run_null(Shape::budget(4, 37), script.clone()).await;
    assert_eq!(out.totals.ok(), 37);
    assert_eq!(script.started.load(Ordering::Relaxed), 37);
}

#[tokio::test(start_paused = true)]
async fn serialization_failures_are_retried_up_to_max_tries() {
    // every first attempt fails (one worker: statements alternate fail, ok)
    let fate = |n: u64| {
        if n % 2 == 0 {
            Fate::Fail(ErrorClass::Serialization)
        } else {
            Fate::Ok
        }
    };
    let script = Arc::new(Script::new(Duration::from_millis(1), fate));
    let shape = Shape {
        max_tries: 2,
        ..Shape::budget(1, 50)
    };
    let out = run_null(shape, script).await;
    assert_eq!(out.totals.ok(), 50);
    assert_eq!(out.totals.retries(), 50);
    assert_eq!(out.totals.failed(), 0);

    // with one try, half of them fail, counted under their class
    let script = Arc::new(Script::new(Duration::from_millis(1), fate));
    let out = run_null(Shape::budget(1, 50), script).await;
    assert_eq!(out.totals.ok(), 25);
    assert_eq!(out.totals.failed(), 25);
    assert_eq!(out.totals.retries(), 0);
    assert_eq!(out.totals.kinds[0].errors[ErrorClass::Serialization], 25);
}

#[tokio::test(start_paused = true)]
async fn a_lost_connection_is_replaced_after_a_backoff() {
    let fate = |n: u64| if n % 10 == 9 { Fate::Lose } else { Fate::Ok };
    let script = Arc::new(Script::new(Duration::from_millis(1), fate));
    let out = run_null(Shape::budget(1, 100), script.clone()).await;
    assert_eq!(out.totals.ok(), 90);
    assert_eq!(out.totals.kinds[0].errors[ErrorClass::ConnectionLost], 10);
    // the first connection, and one after each loss but the last (the 100th transaction)
    assert_eq!(script.opened.load(Ordering::Relaxed), 10);
    assert_eq!(script.lost.lock().unwrap().len(), 10);
    // 100 ms of backoff after each loss
    assert!(out.took >= Duration::from_millis(1100), "{:?}", out.took);
}

#[tokio::test(start_paused = true)]
async fn a_refusing_server_is_tried_again_after_a_backoff() {
    let mut script = Script::new(Duration::from_millis(1), always(Fate::Ok));
    script.refuse_first = 3;
    let script = Arc::new(script);
    let out = run_null(Shape::budget(1, 10), script.clone()).await;
    assert_eq!(out.totals.failed(), 3);
    assert_eq!(out.totals.ok(), 7);
    assert_eq!(script.opened.load(Ordering::Relaxed), 1);
    assert!(out.took >= Duration::from_millis(300), "{:?}", out.took);
}

#[tokio::test(start_paused = true)]
async fn an_interrupt_ends_a_transaction_the_server_never_answers() {
    let script = Arc::new(Script::new(Duration::from_millis(1), |n| {
        if n < 5 {
            Fate::Ok
        } else {
            Fate::Hang
        }
    }));
    let shape = Shape {
        interrupt_after: Some(Duration::from_secs(3)),
        ..Shape::timed(1, 60)
    };
    let out = run_null(shape, script).await;
    assert_eq!(out.totals.ok(), 5);
    assert!(out.took < Duration::from_secs(4), "{:?}", out.took);
    let u = &out.totals.unanswered;
    assert_eq!(u.len(), 1, "{u:?}");
    assert!(u[0].waited_us >= 2_900_000, "{u:?}");
    // the intervals it waited through are marked as stalled
    let stalled = out.series.iter().filter(|p| p.stalled).count();
    assert!(stalled >= 25, "{stalled} of {}", out.series.len());
}
