//! What the user sees while a run goes: an indicatif bar when stderr is a terminal, plain
//! summary lines otherwise. Only the ticker draws; workers only bump atomics.

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::{ExecOptions, RunShared};
use crate::config::Stop;
use crate::stats::IntervalPoint;

/// The live display of a run.
pub struct Display {
    bar: Mutex<Option<ProgressBar>>,
    mode: Mode,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Bar,
    Plain,
    Quiet,
}

impl Display {
    /// A bar on a terminal, plain lines otherwise; `quiet` prints nothing.
    pub fn auto(quiet: bool) -> Self {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Plain
        };
        Display {
            bar: Mutex::new(None),
            mode,
        }
    }

    /// Prints one line above the bar (or to stderr).
    pub fn line(&self, s: &str) {
        match self.mode {
            Mode::Quiet => {}
            Mode::Plain => eprintln!("{s}"),
            Mode::Bar => match self.bar.lock().ok().and_then(|b| b.clone()) {
                Some(b) => b.println(s),
                None => eprintln!("{s}"),
            },
        }
    }

    /// Called when workers start.
    pub fn start(&self, opts: &ExecOptions) {
        if !opts.warmup.0.is_zero() {
            self.line(&format!(
                "warm-up {} (excluded from results)",
                humantime::format_duration(opts.warmup.0)
            ));
        }
        if self.mode != Mode::Bar {
            return;
        }
        let (len, unit) = match opts.stop {
            Stop::Duration(d) => (opts.warmup.0.saturating_add(d.0).as_secs().max(1), "s"),
            Stop::Transactions { count, .. } => (count, " tx"),
        };
        let bar = ProgressBar::new(len);
        let style = ProgressStyle::with_template(&format!(
            "{{spinner}} [{{elapsed_precise}}] [{{bar:30}}] {{pos}}/{{len}}{unit} {{msg}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        if let Ok(mut b) = self.bar.lock() {
            *b = Some(bar);
        }
    }

    /// Called on every interval tick.
    pub fn tick(&self, shared: &RunShared) {
        let Ok(guard) = self.bar.lock() else { return };
        let Some(bar) = guard.as_ref() else { return };
        let ok = shared.live.ok.load(Ordering::Relaxed);
        let failed = shared.live.failed.load(Ordering::Relaxed);
        match shared.budget {
            Some(_) => bar.set_position(shared.claimed.load(Ordering::Relaxed)),
            None => bar.set_position(shared.timing.run_start.elapsed().as_secs()),
        }
        bar.set_message(format!("{ok} ok, {failed} failed"));
    }

    /// One summary line for a finished window.
    pub fn summary_line(&self, p: &IntervalPoint, window: Duration) {
        self.line(&format_summary(p, window));
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Ok(mut b) = self.bar.lock() {
            if let Some(bar) = b.take() {
                bar.finish_and_clear();
            }
        }
    }
}

/// `[  10s] tps 1234.5 qps 1234.5 | p50 0.41 p95 0.80 p99 1.20 max 12.30 ms | errors 0 retries 0`
pub fn format_summary(p: &IntervalPoint, window: Duration) -> String {
    format!(
        "[{:>6.0}s] tps {:>9.1}  qps {:>9.1} | lat ms p50 {:>7.2} p95 {:>7.2} p99 {:>7.2} max {:>8.2} | errors {} retries {}  ({}s window)",
        p.t_s,
        p.tps,
        p.qps,
        p.p50_ms,
        p.p95_ms,
        p.p99_ms,
        p.max_ms,
        p.errors,
        p.retries,
        window.as_secs_f64()
    )
}
