//! A client thread's stop signal, read by its workers at every transaction without a lock.
//!
//! The run stops on a `CancellationToken` (deadline, interrupt, a worker's panic), whose
//! state sits behind a mutex that every check and every poll of its future takes. A
//! worker looks at the stop signal once per transaction and polls it whenever it waits for
//! the server, so each lane follows the run's token with one flag and one waker slot per
//! worker: a check is an atomic load, a wait registers the worker's waker in its own slot.
//! Setting the flag before waking every slot, and registering before reading the flag,
//! means a worker blocked on a silent server is always woken.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};

use futures_util::task::AtomicWaker;
use tokio_util::sync::CancellationToken;

/// One lane's stop flag and its workers' waker slots.
pub(crate) struct LaneStop {
    stopped: AtomicBool,
    wakers: Box<[AtomicWaker]>,
}

impl LaneStop {
    /// A signal for `workers` workers, not set.
    pub(crate) fn new(workers: usize) -> Arc<Self> {
        Arc::new(Self {
            stopped: AtomicBool::new(false),
            wakers: (0..workers).map(|_| AtomicWaker::new()).collect(),
        })
    }

    /// Worker `slot`'s handle (`slot` < the `workers` it was made for).
    pub(crate) fn slot(self: &Arc<Self>, slot: usize) -> StopSlot {
        assert!(slot < self.wakers.len(), "stop slot {slot} out of range");
        StopSlot {
            lane: self.clone(),
            slot,
        }
    }

    /// Sets the flag and wakes every worker waiting on it.
    pub(crate) fn set(&self) {
        self.stopped.store(true, Ordering::Release);
        for w in self.wakers.iter() {
            w.wake();
        }
    }

    /// Sets the flag when `token` is cancelled, from a task on the current runtime; abort
    /// the task once the workers have ended.
    pub(crate) fn follow(
        self: &Arc<Self>,
        token: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let lane = self.clone();
        tokio::spawn(async move {
            token.cancelled().await;
            lane.set();
        })
    }
}

/// A worker's view of its lane's stop signal.
#[derive(Clone)]
pub(crate) struct StopSlot {
    lane: Arc<LaneStop>,
    slot: usize,
}

impl StopSlot {
    /// Whether the run was stopped.
    pub(crate) fn is_set(&self) -> bool {
        self.lane.stopped.load(Ordering::Acquire)
    }

    /// Ready once the run is stopped. Only one task may wait on a slot at a time (its
    /// worker): a later registration replaces an earlier one.
    ///
    /// The worker polls one such future whenever its transaction waits for the server,
    /// always from the same task: the waker is registered on the first poll and again
    /// only when the task's waker changed, so a later poll reads the flag alone instead
    /// of reaching the lane's waker slots.
    pub(crate) fn wait(&self) -> impl Future<Output = ()> + '_ {
        let mut registered: Option<Waker> = None;
        std::future::poll_fn(move |cx| {
            if !registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                // register first, then read: a `set` between the two still finds it
                self.lane.wakers[self.slot].register(cx.waker());
                registered = Some(cx.waker().clone());
            }
            if self.is_set() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_waiting_worker_is_woken_when_the_token_it_follows_is_cancelled() {
        let token = CancellationToken::new();
        let lane = LaneStop::new(3);
        let follower = lane.follow(token.clone());
        let waiters: Vec<_> = (0..3)
            .map(|i| {
                let s = lane.slot(i);
                tokio::spawn(async move {
                    assert!(!s.is_set());
                    s.wait().await;
                    assert!(s.is_set());
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(waiters.iter().all(|w| !w.is_finished()));
        token.cancel();
        for w in waiters {
            tokio::time::timeout(Duration::from_secs(1), w)
                .await
                .expect("a waiting worker was not woken")
                .unwrap();
        }
        follower.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_polled_again_by_another_task_is_woken_there() {
        // registered once by a first task, then polled by a second one: the second is
        // the one woken
        let lane = LaneStop::new(1);
        let s = lane.slot(0);
        let mut wait = Box::pin(async move { s.wait().await });
        let first = futures_util::poll!(wait.as_mut());
        assert!(first.is_pending());
        let waiter = tokio::spawn(wait);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!waiter.is_finished());
        lane.set();
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .expect("the task polling the wait now was not woken")
            .unwrap();
    }

    #[tokio::test]
    async fn a_wait_begun_after_the_stop_ends_at_once() {
        let lane = LaneStop::new(1);
        lane.set();
        let s = lane.slot(0);
        tokio::time::timeout(Duration::from_millis(100), s.wait())
            .await
            .expect("the stop was missed");
    }

    #[test]
    fn a_stop_set_from_another_thread_wakes_a_parked_worker() {
        // the lane's thread sleeps in its runtime with nothing else to do; the run's
        // token is cancelled on another thread
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let lane = LaneStop::new(1);
        let s = lane.slot(0);
        let setter = {
            let lane = lane.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                lane.set();
            })
        };
        let woken =
            rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), s.wait()).await });
        assert!(woken.is_ok(), "the stop set on another thread was missed");
        setter.join().unwrap();
    }
}
