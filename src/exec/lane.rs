//! The client threads: how workers and connections are split over them, and each
//! thread's runtime, pool and workers, set up before the clock starts.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::driver::Connections;
use super::stop::LaneStop;
use super::{worker, RunShared, END_GRACE};
use crate::core::{self, Workload};
use crate::db::wire::WireConfig;
use crate::db::{DbError, PgConnector, Target, WireConnector};
use crate::stats::{AtStop, Chunk};

/// How the workers and connections are split over client threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lane {
    /// Its place in the plan (which of the run's live counters its workers bump).
    pub(crate) index: usize,
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
            index: i,
            first_worker: base + first * stride,
            stride,
            workers: w,
            connections: c,
        });
        first += w;
    }
    out
}

/// The client threads started, with the channels the run reads them through.
pub(super) struct Started {
    /// Per lane, where the run's shared state goes once the clock starts.
    pub(super) starts: Vec<oneshot::Sender<Arc<RunShared>>>,
    pub(super) threads: Vec<std::thread::JoinHandle<()>>,
    /// The workers' chunks.
    pub(super) chunks: mpsc::UnboundedReceiver<Chunk>,
    /// One message per lane: its pool is filled, or why it could not be.
    pub(super) ready: mpsc::UnboundedReceiver<Result<(), DbError>>,
}

/// Starts a client thread per lane of `plan`; each fills its pool, then waits for the
/// run's shared state before its workers start.
pub(super) fn spawn_lanes(
    plan: &[Lane],
    workload: &Arc<dyn Workload>,
    target: &Target,
    seed: u64,
    wire: Option<WireConfig>,
    stop: &CancellationToken,
) -> Result<Started, DbError> {
    let (tx, rx) = mpsc::unbounded_channel::<Chunk>();
    let (ready_tx, ready_rx) = mpsc::unbounded_channel::<Result<(), DbError>>();
    let mut starts = Vec::new();
    let mut threads = Vec::new();
    for (i, lane) in plan.iter().copied().enumerate() {
        let (start_tx, start) = oneshot::channel::<Arc<RunShared>>();
        starts.push(start_tx);
        let ctx = LaneCtx {
            lane,
            workload: workload.clone(),
            target: target.clone(),
            seed,
            wire: wire.clone(),
            stop: stop.clone(),
            out: tx.clone(),
            ready: ready_tx.clone(),
            start,
        };
        threads.push(spawn_lane(i, ctx)?);
    }
    drop((tx, ready_tx));
    Ok(Started {
        starts,
        threads,
        chunks: rx,
        ready: ready_rx,
    })
}

/// Starts client thread `i` on its lane.
fn spawn_lane(i: usize, ctx: LaneCtx) -> Result<std::thread::JoinHandle<()>, DbError> {
    std::thread::Builder::new()
        .name(format!("stormbench-client-{i}"))
        .spawn(move || run_lane(ctx))
        .map_err(|e| DbError::Connect(format!("cannot start a client thread: {e}")))
}

/// Waits until every lane has its connections (or one failed, or the run was
/// interrupted).
pub(super) async fn all_ready(
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
pub(super) async fn join_threads(
    threads: Vec<std::thread::JoinHandle<()>>,
    shared: &RunShared,
) -> usize {
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
    // the workers check the stop signal at every transaction: they read the lane's flag,
    // which follows the run's token
    let lane_stop = LaneStop::new(lane.workers);
    let follower = lane_stop.follow(stop.clone());
    let mut handles = Vec::with_capacity(lane.workers);
    for (slot, id) in (0..lane.workers).map(|k| (k, lane.first_worker + k * lane.stride)) {
        let group = shared.group_of(id);
        let w = worker::Worker {
            id,
            group,
            gen: workload.group_worker(group, id, core::derive_seed(seed, id as u64)),
            rng: core::rng(seed, 1 << 32 | id as u64),
            driver: driver.clone(),
            shared: shared.clone(),
            stop: lane_stop.slot(slot),
            out: out.clone(),
            sticky,
            lane: lane.index,
        };
        let (shared, stop) = (shared.clone(), stop.clone());
        handles.push(tokio::spawn(async move {
            use futures_util::FutureExt as _;
            let run = std::panic::AssertUnwindSafe(w.run()).catch_unwind();
            if let Err(payload) = run.await {
                // an internal error: the run (not only this lane) stops and is reported
                // as failed
                shared.record_panic(&format!("worker {id}"), &*payload);
                shared.live[lane.index]
                    .finished
                    .fetch_add(1, Ordering::Relaxed);
                stop.cancel();
            }
        }));
    }
    drop(out);
    for h in handles {
        let _ = h.await;
    }
    follower.abort();
    let at = driver.settle_abandoned().await;
    if at != AtStop::default() {
        if let Ok(mut a) = shared.at_stop.lock() {
            a.add(at);
        }
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
