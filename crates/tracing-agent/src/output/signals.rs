//! Flushing on SIGTERM and SIGINT, for applications that opt in.

use std::io;
use std::sync::OnceLock;

use super::guard::{flush, FLUSH_TIMEOUT};
use super::say;

/// Run on a signal before the flush: set by the run handles (a layer above this one),
/// which end the runs still open there.
static BEFORE_FLUSH: OnceLock<fn()> = OnceLock::new();

/// Makes the signal handler call `hook` before it flushes.
pub(crate) fn before_signal_flush(hook: fn()) {
    let _ = BEFORE_FLUSH.set(hook);
}

/// Flushes on SIGTERM and SIGINT, then lets the signal do what it does by default, so the
/// process ends with the conventional status (killed by that signal; a shell shows
/// 128 + its number). Opt in once at start; later calls do nothing.
///
/// A thread of ours (through `signal-hook`) waits for the signal, ends every run still
/// open with `cancelled` (writing its `stop`), calls [`flush`] with [`FLUSH_TIMEOUT`]
/// (saying on stderr what was still queued, if anything), then restores the default
/// action and raises the signal again. Do not use it if the application
/// handles these signals itself for a graceful shutdown: call [`flush`] there instead.
///
/// ```no_run
/// tracing_agent::flush_on_signals().expect("signal handlers installed");
/// ```
pub fn flush_on_signals() -> io::Result<()> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ])?;
    std::thread::Builder::new()
        .name("tracing-agent-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                if let Some(hook) = BEFORE_FLUSH.get() {
                    hook();
                }
                if let Err(unflushed) = flush(FLUSH_TIMEOUT) {
                    say(&format!("on signal {signal}: {unflushed}; they are lost"));
                }
                if signal_hook::low_level::emulate_default_handler(signal).is_err() {
                    std::process::exit(128 + signal);
                }
                // The default action of SIGTERM/SIGINT ends the process; should it have
                // been changed under us, end it as the signal asked.
                std::process::exit(128 + signal);
            }
        })?;
    let _ = INSTALLED.set(());
    Ok(())
}
