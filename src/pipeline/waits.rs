//! Interrupts and bounded waits: Ctrl-C / SIGTERM on a thread of their own, and every wait
//! on the server bounded and ended by an interrupt.

use anyhow::anyhow;
use tokio_util::sync::CancellationToken;

use crate::core::Conn;
use crate::db::Target;
use crate::error::{AppError, Exit};

/// Ctrl-C, SIGTERM and SIGHUP cancel the returned token; a second Ctrl-C or SIGTERM ends
/// the process at once (exit 130), even if writing the report is stuck. The signals are
/// watched on a thread of their own, so a busy or blocked control runtime cannot delay them.
pub(crate) fn interrupt_token() -> CancellationToken {
    interrupt_token_saying("stopping; what was measured is reported")
}

/// [`interrupt_token`], the first interrupt logged as `interrupted: <doing>`.
pub(crate) fn interrupt_token_saying(doing: &'static str) -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("stormbench-signals".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return;
                }
            };
            rt.block_on(async move {
                let mut signals = match Signals::new() {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                signals.next().await;
                log::warn!("interrupted: {doing} (interrupt again to exit at once)");
                t.cancel();
                signals.next_interrupt().await;
                errln!("interrupted twice: exiting now");
                crate::report::output::remove_pending();
                std::process::exit(Exit::Interrupted as i32);
            });
        });
    match spawned.map_err(|e| e.to_string()).and_then(|_| {
        ready_rx
            .recv()
            .unwrap_or_else(|_| Err("the signal thread ended".into()))
    }) {
        Ok(()) => {}
        Err(e) => log::warn!("cannot listen for Ctrl-C and SIGTERM: {e}"),
    }
    token
}

/// SIGINT, SIGTERM and SIGHUP as one stream. A hang-up (the terminal or the SSH session
/// gone) stops the run like Ctrl-C, so what was measured is still written; it never counts
/// as the second interrupt, since a hang-up can come twice at once (from the terminal and
/// from the shell) and nobody is left to see a report printed.
///
/// A process started with hang-ups ignored (`nohup`, a daemon manager) keeps ignoring them:
/// the run goes on after the session that started it has gone, as the user asked.
pub(crate) struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    /// `None` when the process was started with SIGHUP ignored.
    hup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: if hangups_ignored() {
                None
            } else {
                Some(signal(SignalKind::hangup())?)
            },
        })
    }

    /// The next interrupt, a hang-up included.
    async fn next(&mut self) {
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
            _ = hangup(&mut self.hup) => {}
        }
    }

    /// The next SIGINT or SIGTERM; hang-ups meanwhile are taken and ignored.
    async fn next_interrupt(&mut self) {
        loop {
            tokio::select! {
                _ = self.int.recv() => return,
                _ = self.term.recv() => return,
                _ = hangup(&mut self.hup) => {}
            }
        }
    }
}

/// The next hang-up (never, when they are ignored).
async fn hangup(hup: &mut Option<tokio::signal::unix::Signal>) {
    match hup {
        Some(h) => {
            h.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// Whether the process was started with SIGHUP ignored (`nohup stormbench ...`).
fn hangups_ignored() -> bool {
    // SAFETY: sigaction(2) with no new action only reads the current one into `old`, a
    // zeroed sigaction (a valid bit pattern for the C struct).
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGHUP, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}

/// stormbench's own waits on the server, each bounded and each ended by an interrupt.
#[derive(Clone, Copy)]
pub(crate) struct Waits<'a> {
    /// Ctrl-C / SIGTERM.
    pub(crate) interrupt: &'a CancellationToken,
    /// The server, for liveness probes during long steps.
    pub(crate) target: &'a Target,
    /// stormbench's own session the steps run on: a step given up on (interrupted, timed
    /// out, the server unresponsive) has its statement cancelled there, so that it cannot
    /// run later (a drop queued behind another session's lock).
    pub(crate) session: Option<&'a Conn>,
}

impl Waits<'_> {
    /// A short step (server facts, the marker, statistics): at most `limit`.
    pub(crate) async fn quick<T, E: Into<AppError>>(
        &self,
        what: &'static str,
        limit: std::time::Duration,
        step: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, AppError> {
        self.interruptible(what, async {
            match tokio::time::timeout(limit, step).await {
                Ok(r) => r.map_err(Into::into),
                Err(_) => Err(self.given_up(anyhow!(
                    "{what}: the server did not answer within {}s; is it overloaded, frozen or unreachable?",
                    limit.as_secs()
                ))
                .await
                .into()),
            }
        })
        .await
    }

    /// `why` a step was given up on, once its statement (if any) has been cancelled.
    async fn given_up(&self, why: anyhow::Error) -> anyhow::Error {
        if let Some(conn) = self.session {
            crate::db::cancel_running(self.target, conn).await;
        }
        why
    }

    /// A step bounded by its own timeout (a connection start-up): ended by an interrupt.
    pub(crate) async fn interruptible<T, E: Into<AppError>>(
        &self,
        what: &'static str,
        step: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, AppError> {
        tokio::select! {
            r = step => r.map_err(Into::into),
            _ = self.interrupt.cancelled() => {
                let _ = self.given_up(anyhow!("interrupted")).await;
                Err(AppError::Interrupted(what))
            }
        }
    }

    /// A long step (loading, index builds, checks): as long as the server answers a
    /// liveness probe.
    pub(crate) async fn long<T, E: Into<AppError>>(
        &self,
        what: &'static str,
        step: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, AppError> {
        self.interruptible(what, async {
            tokio::select! {
                r = step => r.map_err(Into::into),
                why = crate::db::unresponsive(self.target) => {
                    Err(self.given_up(anyhow!("{what}: {why}")).await.into())
                }
            }
        })
        .await
    }
}

/// `fut`'s output if it comes within `limit`.
pub(crate) async fn within<T>(
    limit: std::time::Duration,
    fut: impl std::future::Future<Output = T>,
) -> Option<T> {
    tokio::time::timeout(limit, fut).await.ok()
}
