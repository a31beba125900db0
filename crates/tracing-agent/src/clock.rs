//! The clocks behind `duration_ms` and `ts_ms`.
//!
//! A tool call reads the clock twice (start and end), which through `clock_gettime` was
//! a tenth of its whole cost. `quanta` reads the CPU's time-stamp counter instead where it
//! is invariant (and falls back to the OS's monotonic clock where it is not). Wall-clock
//! time is read once per run: `ts_ms` inside a run is the run's start plus monotonic time
//! (see `RunState::unix_ms_at`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) use quanta::Instant;

/// The monotonic time now.
#[inline]
pub(crate) fn now() -> Instant {
    Instant::now()
}

/// Calibrates the counter (a fraction of a millisecond, once per process) when the layer
/// is built, so that the agent's first tool call does not pay for it.
pub(crate) fn calibrate() {
    let _ = Instant::now();
}

/// The system time since the Unix epoch; zero if the clock is before it (never panics).
pub(crate) fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Milliseconds since the Unix epoch; 0 if the clock is before it.
pub(crate) fn now_ms() -> u64 {
    millis(since_epoch())
}

/// Whole milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
