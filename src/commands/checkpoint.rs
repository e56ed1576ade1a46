//! Checkpoints of a long run: every `checkpoint_interval` the run so far is written as its
//! JSON report (status `partial`) and recorded in the history (marked partial), so a crash,
//! a SIGKILL or a reboot loses at most one interval; the run's end replaces both.

use tokio::sync::mpsc;

use crate::config::{RunPlan, StoreSpec};
use crate::exec::{self, ExecOptions, RunResult};
use crate::history::{unless_interrupted, Record, Store};
use crate::report::{self, Format, Report};
use tokio_util::sync::CancellationToken;

/// The checkpoints of one run.
pub(super) struct Checkpoints<'a> {
    plan: &'a RunPlan,
    interrupt: &'a CancellationToken,
    /// The JSON report's path, when it is a file (a stream is written at the end only).
    json_file: Option<std::path::PathBuf>,
    rx: Option<mpsc::UnboundedReceiver<RunResult>>,
    /// The history would not open: said once, not tried again.
    store_failed: bool,
}

impl<'a> Checkpoints<'a> {
    /// The hook for the run and the checkpoints it feeds; no hook when checkpoints are off
    /// or there is nothing to write them to (no JSON file, no history).
    pub(super) fn new(
        plan: &'a RunPlan,
        opts: &ExecOptions,
        interrupt: &'a CancellationToken,
    ) -> (Option<exec::Checkpoint>, Self) {
        let json_file = plan.json.clone().filter(|p| !report::is_stream(p));
        let history = !matches!(plan.history, StoreSpec::Off);
        let writes = json_file.is_some() || history;
        let mut me = Checkpoints {
            plan,
            interrupt,
            json_file,
            rx: None,
            store_failed: false,
        };
        let Some(every) = plan.checkpoint_interval.filter(|_| writes) else {
            return (None, me);
        };
        let ticks = (every.0.as_secs_f64() / opts.sample_interval.0.as_secs_f64())
            .round()
            .max(1.0) as u32;
        let (tx, rx) = mpsc::unbounded_channel();
        me.rx = Some(rx);
        (Some(exec::Checkpoint { every: ticks, tx }), me)
    }

    /// The next checkpoint of the run; `None` once the run has ended.
    pub(super) async fn next(&mut self) -> Option<RunResult> {
        match &mut self.rx {
            Some(rx) => rx.recv().await,
            None => None,
        }
    }

    /// Writes `report` (the run so far) as a partial report and history row; a failure is
    /// a warning, the run goes on.
    pub(super) async fn write(&mut self, mut report: Report) {
        report.status = "partial".into();
        let mut report = std::sync::Arc::new(report);
        if let Some(path) = self.json_file.clone() {
            let r = report.clone();
            let written = tokio::task::spawn_blocking(move || {
                report::document::write(&*r, Format::Json, &path)
            })
            .await;
            match written {
                Ok(Ok(())) => log::info!("checkpoint written at {} s", report.measured_s.round()),
                Ok(Err(e)) => log::warn!("checkpoint not written: {e:#}"),
                Err(e) => log::warn!("checkpoint not written: {e}"),
            }
        }
        if !self.store_failed && !matches!(self.plan.history, StoreSpec::Off) {
            if let Some(head) = std::sync::Arc::get_mut(&mut report) {
                // the history row of a checkpoint keeps the report's head only: the whole
                // report is in the JSON file and in the final record, and a partial run
                // is never a baseline
                head.time_series = Vec::new();
                head.database_stats = None;
                self.record(head).await;
            }
        }
        drop(report);
        crate::stats::release_free_memory();
    }

    /// Records the head in the history, through a store opened for this checkpoint and
    /// closed after it: a store kept open between checkpoints would hold its page cache
    /// (megabytes for SQLite) for the rest of a day-long run.
    async fn record(&mut self, head: &Report) {
        let plan = self.plan;
        let recorded = unless_interrupted(self.interrupt, async {
            let text = serde_json::to_string(head).map_err(|e| e.to_string())?;
            let record = Record::from_text(text, true)?;
            match Store::open(&plan.history).await? {
                Some(mut s) => s.record(&record).await.map(|_| ()),
                None => Ok(()),
            }
        })
        .await;
        if let Err(e) = recorded {
            log::warn!("checkpoints are not recorded in the history: {e}");
            self.store_failed = true;
        }
    }
}
