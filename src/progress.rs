//! Every progress bar and status line stormbench draws: an indicatif bar when stderr is a
//! terminal, plain lines otherwise, nothing when quiet. The run, the data load and the
//! trace reader all draw through this module, so they look and behave alike.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A live bar on stderr (stderr is a terminal).
    Bar,
    /// Plain lines on stderr (a log file, a pipe, cron).
    Plain,
    /// Nothing.
    Quiet,
}

impl Mode {
    /// A bar on a terminal, plain lines otherwise; `quiet` shows nothing.
    pub(crate) fn detect(quiet: bool) -> Mode {
        if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Plain
        }
    }
}

/// What a bar counts, which picks its layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Seconds of a timed run.
    Seconds,
    /// Transactions of a run with a transaction budget.
    Transactions,
    /// Rows of a data load (with rate and time left).
    Rows,
    /// Bytes of a file being read.
    Bytes,
}

impl Unit {
    fn template(self) -> &'static str {
        match self {
            Unit::Seconds => "{spinner} [{elapsed_precise}] [{bar:30}] {pos}/{len}s {msg}",
            Unit::Transactions => "{spinner} [{elapsed_precise}] [{bar:30}] {pos}/{len} tx {msg}",
            Unit::Rows => {
                "  [{elapsed_precise}] [{bar:30}] {pos}/{len} rows ({per_sec}, eta {eta})"
            }
            Unit::Bytes => "  [{elapsed_precise}] [{bar:30}] {bytes}/{total_bytes} {msg}",
        }
    }
}

/// A bar of `len` units, or a hidden one when `mode` is not [`Mode::Bar`].
pub(crate) fn bar(mode: Mode, len: u64, unit: Unit) -> ProgressBar {
    if mode != Mode::Bar {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len);
    let style = ProgressStyle::with_template(unit.template())
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    b.set_style(style);
    b
}

/// Status lines and at most one live bar, shared by the tasks of a command: lines are
/// printed above the bar so the two never tear each other.
pub(crate) struct Progress {
    bar: Mutex<Option<ProgressBar>>,
    mode: Mode,
}

impl Progress {
    /// Shows progress as `mode` says.
    pub(crate) fn new(mode: Mode) -> Self {
        Progress {
            bar: Mutex::new(None),
            mode,
        }
    }

    /// A bar on a terminal, plain lines otherwise; `quiet` prints nothing.
    pub(crate) fn auto(quiet: bool) -> Self {
        Progress::new(Mode::detect(quiet))
    }

    /// How progress is shown.
    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    /// Prints one line above the bar (or to stderr).
    pub(crate) fn line(&self, s: &str) {
        match self.mode {
            Mode::Quiet => {}
            Mode::Plain => errln!("{s}"),
            Mode::Bar => match self.current() {
                Some(b) => b.println(s),
                None => errln!("{s}"),
            },
        }
    }

    /// Starts the live bar (replacing any other); nothing unless the mode is a bar.
    pub(crate) fn start(&self, len: u64, unit: Unit) {
        if self.mode != Mode::Bar {
            return;
        }
        let b = bar(self.mode, len.max(1), unit);
        b.enable_steady_tick(Duration::from_millis(200));
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(old) = slot.replace(b) {
                old.finish_and_clear();
            }
        }
    }

    /// Moves the live bar, if there is one.
    pub(crate) fn set(&self, pos: u64, msg: String) {
        if let Some(b) = self.current() {
            b.set_position(pos);
            b.set_message(msg);
        }
    }

    /// Removes the live bar.
    pub(crate) fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(b) = slot.take() {
                b.finish_and_clear();
            }
        }
    }

    fn current(&self) -> Option<ProgressBar> {
        self.bar.lock().ok().and_then(|b| b.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layout_is_a_valid_template() {
        for u in [Unit::Seconds, Unit::Transactions, Unit::Rows, Unit::Bytes] {
            assert!(ProgressStyle::with_template(u.template()).is_ok(), "{u:?}");
        }
    }

    #[test]
    fn quiet_and_plain_draw_no_bar() {
        for mode in [Mode::Quiet, Mode::Plain] {
            let p = Progress::new(mode);
            p.start(10, Unit::Seconds);
            assert!(p.current().is_none());
            assert!(bar(mode, 10, Unit::Rows).is_hidden());
        }
    }

    #[test]
    fn a_bar_is_replaced_and_removed() {
        let p = Progress::new(Mode::Bar);
        p.start(10, Unit::Seconds);
        p.set(3, "3 ok".into());
        assert_eq!(p.current().map(|b| b.position()), Some(3));
        p.start(5, Unit::Transactions);
        assert_eq!(p.current().map(|b| b.length()), Some(Some(5)));
        p.finish();
        assert!(p.current().is_none());
    }
}
