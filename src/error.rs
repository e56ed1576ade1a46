//! Why stormbench stopped: the errors every command returns and the documented exit codes.

use std::process::ExitCode;

use crate::config::ConfigError;

/// Why stormbench stopped, as a process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The run (or setup/cleanup) completed.
    Ok = 0,
    /// A fatal error: could not connect, set up or write results.
    Failure = 1,
    /// Bad configuration or command line.
    Usage = 2,
    /// The run completed but no transaction succeeded.
    NothingSucceeded = 3,
    /// A consistency check of the data failed.
    CheckFailed = 4,
    /// The run completed, but the server was unreachable or not answering for part of it
    /// (an outage), or transactions were left unanswered at the end.
    Outage = 5,
    /// The run completed but broke a service-level objective (`slo:`).
    SloBroken = 6,
    /// `compare --fail-on-regression`: the new run regressed beyond the threshold.
    Regression = 7,
    /// Interrupted by SIGINT/SIGTERM; results so far were reported.
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// A failure with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Anything else.
    #[error("{0:#}")]
    Fatal(#[from] anyhow::Error),
    /// Interrupted before anything was measured.
    #[error("interrupted during {0}; nothing was measured")]
    Interrupted(&'static str),
    /// Interrupted while writing an output: the file was not written, and no part of it
    /// was left.
    #[error("interrupted while writing {0}; it was not written")]
    InterruptedWriting(String),
    /// A bad command-line value found after parsing.
    #[error("{0}")]
    Usage(String),
}

impl AppError {
    /// Exit code for this error.
    pub fn exit(&self) -> Exit {
        match self {
            AppError::Config(_) => Exit::Usage,
            AppError::Fatal(_) => Exit::Failure,
            AppError::Interrupted(_) | AppError::InterruptedWriting(_) => Exit::Interrupted,
            AppError::Usage(_) => Exit::Usage,
        }
    }
}
