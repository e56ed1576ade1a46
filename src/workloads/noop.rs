//! `noop`: transactions that do nothing and touch no table. It measures stormbench itself:
//! scheduling, connection hand-out and the recording path, without a server round trip.

use std::sync::Arc;

use crate::core::{
    BoxFuture, Session, TxError, TxKind, TxOutcome, WorkerTx, Workload, WorkloadInfo,
    WorkloadParams,
};

/// The registry entry.
pub(crate) fn info() -> WorkloadInfo {
    WorkloadInfo::builtin(
        "noop",
        "does nothing per transaction: measures the client's own overhead",
        &["default"],
        "unused",
        build,
    )
}

struct Noop {
    /// Debug builds only: a worker panics after this many transactions
    /// (`STORMBENCH_FAULT=panic_after:N`), so tests can check how a run survives a bug.
    panic_after: Option<u64>,
}

fn build(p: &WorkloadParams) -> Result<Arc<dyn Workload>, Vec<String>> {
    if !p.section.is_null() {
        return Err(vec![
            "noop: takes no settings; remove the noop section".into()
        ]);
    }
    Ok(Arc::new(Noop {
        panic_after: crate::fault::injected("panic_after"),
    }))
}

impl Workload for Noop {
    fn kinds(&self) -> &[&'static str] {
        &["noop"]
    }

    fn tables(&self) -> &[&'static str] {
        &[]
    }

    fn writes(&self) -> bool {
        false
    }

    fn needs_schema(&self) -> bool {
        false
    }

    fn worker(&self, worker_id: usize, _seed: u64) -> Box<dyn WorkerTx> {
        Box::new(NoopWorker {
            // one worker is enough to fail the run
            panic_after: self.panic_after.filter(|_| worker_id == 0),
            done: 0,
        })
    }
}

struct NoopWorker {
    panic_after: Option<u64>,
    done: u64,
}

impl WorkerTx for NoopWorker {
    fn next_kind(&mut self) -> TxKind {
        0
    }

    fn run<'a>(
        &'a mut self,
        _kind: TxKind,
        _session: &'a mut dyn Session,
    ) -> BoxFuture<'a, Result<TxOutcome, TxError>> {
        self.done += 1;
        if self.panic_after.is_some_and(|n| self.done > n) {
            panic!("injected fault after {} transactions", self.done - 1);
        }
        Box::pin(async {
            // Yield so a closed loop of no-ops still lets other tasks (the aggregator,
            // the deadline timer) run.
            tokio::task::yield_now().await;
            Ok(TxOutcome::committed(0))
        })
    }
}
