//! [`FlushGuard`] and [`flush`]: waiting, with a bound, for what is queued to be written.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::background::{self, Background, Unflushed};
use super::say;
use crate::guard::KillFileWatch;

/// Keep it alive for as long as the agent runs: dropping it flushes every queued event to
/// the output (waiting up to [`FLUSH_TIMEOUT`]), e.g. at the end of `main`.
///
/// Dropping it early does not stop the writer (the layer keeps it going), but nothing
/// then waits for the queue at exit: the first event written after the drop says so on
/// stderr.
///
/// ```no_run
/// # fn main() -> Result<(), tracing_agent::config::ConfigError> {
/// use tracing_subscriber::prelude::*;
/// let (layer, _flush_guard) = tracing_agent::AgentLayer::from_config_file("agent.yaml")?;
/// tracing_subscriber::registry().with(layer).init();
/// // ... run the agent; `_flush_guard` drops at the end of main and flushes.
/// # Ok(()) }
/// ```
#[must_use = "dropping the guard at once means nothing flushes the queue at exit: bind it to a name (`_guard`, not `_`) and keep it until the end of main"]
pub struct FlushGuard {
    background: Option<Arc<Background>>,
    /// The config's `guards.kill_file`, watched while the guard lives.
    kill_file: Option<KillFileWatch>,
}

/// How long dropping a [`FlushGuard`] waits for the queue to drain.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

impl FlushGuard {
    /// Waits until every event queued so far is written (or failed), at most `timeout`.
    /// A writer on the calling thread has nothing to wait for.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tracing_agent::{config::Queue, AgentLayer};
    /// let (layer, guard) = AgentLayer::new().with_background_writer(std::io::sink(), Queue::default());
    /// guard.flush(Duration::from_secs(5)).expect("an idle writer flushes at once");
    /// # drop(layer);
    /// ```
    pub fn flush(&self, timeout: Duration) -> Result<(), Unflushed> {
        match &self.background {
            Some(background) => background.flush(Instant::now() + timeout, timeout),
            None => Ok(()),
        }
    }

    /// Keeps `watch` going until the guard drops.
    pub(crate) fn watching(mut self, watch: Option<KillFileWatch>) -> Self {
        self.kill_file = watch;
        self
    }

    /// A guard with nothing to flush: the events are written on the calling thread.
    pub(crate) fn direct() -> Self {
        FlushGuard {
            background: None,
            kill_file: None,
        }
    }

    /// The guard of the background writer `background`.
    pub(super) fn over(background: Arc<Background>) -> Self {
        FlushGuard {
            background: Some(background),
            kill_file: None,
        }
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        let Some(background) = self.background.take() else {
            return;
        };
        background.guard_dropped();
        if let Err(unflushed) = background.flush(Instant::now() + FLUSH_TIMEOUT, FLUSH_TIMEOUT) {
            // Said on stderr, never stdout: stdout may be the stuck event stream.
            say(&format!(
                "{unflushed}; they are lost if the process exits now"
            ));
        }
        let stats = background.stats();
        let (dropped, failed) = (stats.dropped(), stats.failed());
        if dropped > 0 || failed > 0 {
            say(&format!(
                "{dropped} events dropped (queue full or writer stuck), {failed} failed to write"
            ));
        }
    }
}

impl std::fmt::Debug for FlushGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlushGuard").finish_non_exhaustive()
    }
}

/// Waits until every event queued so far by every live background writer of the process
/// is written, at most `timeout` in all: call it before `std::process::exit`, which runs
/// no destructors and so never drops the [`FlushGuard`].
///
/// ```no_run
/// tracing_agent::flush(std::time::Duration::from_secs(5)).ok();
/// std::process::exit(2);
/// ```
pub fn flush(timeout: Duration) -> Result<(), Unflushed> {
    let queued = background::flush_all(Instant::now() + timeout, timeout);
    if queued == 0 {
        Ok(())
    } else {
        Err(Unflushed {
            queued,
            waited: timeout,
        })
    }
}
