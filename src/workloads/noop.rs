//! `noop`: transactions that do nothing and touch no table. It measures stormbench itself:
//! scheduling, connection hand-out and the recording path, without a server round trip.

use std::sync::Arc;

use crate::core::{
    BoxFuture, Conn, TxKind, TxOutcome, WorkerTx, Workload, WorkloadInfo, WorkloadParams,
};

/// The registry entry.
pub fn info() -> WorkloadInfo {
    WorkloadInfo::builtin(
        "noop",
        "does nothing per transaction: measures the client's own overhead",
        &["default"],
        "unused",
        build,
    )
}

struct Noop;

fn build(p: &WorkloadParams) -> Result<Arc<dyn Workload>, Vec<String>> {
    if !p.section.is_null() {
        return Err(vec![
            "noop: takes no settings; remove the noop section".into()
        ]);
    }
    Ok(Arc::new(Noop))
}

impl Workload for Noop {
    fn kinds(&self) -> &[&'static str] {
        &["noop"]
    }

    fn tables(&self) -> &[&'static str] {
        &[]
    }

    fn needs_schema(&self) -> bool {
        false
    }

    fn worker(&self, _worker_id: usize, _seed: u64) -> Box<dyn WorkerTx> {
        Box::new(NoopWorker)
    }
}

struct NoopWorker;

impl WorkerTx for NoopWorker {
    fn next_kind(&mut self) -> TxKind {
        0
    }

    fn run<'a>(
        &'a mut self,
        _kind: TxKind,
        _conn: &'a mut Conn,
    ) -> BoxFuture<'a, Result<TxOutcome, tokio_postgres::Error>> {
        Box::pin(async {
            // Yield so a closed loop of no-ops still lets other tasks (the aggregator,
            // the deadline timer) run.
            tokio::task::yield_now().await;
            Ok(TxOutcome::committed(0))
        })
    }
}
