//! The clocks behind `duration_ms` and `ts_ms`.
//!
//! A tool call reads the clock twice (start and end), which through `clock_gettime` was
//! a tenth of its whole cost. `quanta` reads the CPU's time-stamp counter instead where
//! the CPU reports an invariant one, and the OS's monotonic clock where it does not.
//!
//! Wall-clock time (`ts_ms`) is the system clock read at most once a second per thread,
//! advanced in between by that same counter: within a second the counter's rate error
//! (measured at up to 70 ppm after `quanta`'s short calibration) stays under 0.1 ms, and
//! clock adjustments, NTP slewing and suspends show up within a second.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) use quanta::Instant;

/// One clock for the process, held here rather than through `quanta::Instant::now`: that
/// reads a thread-local (for `quanta`'s mock clocks), which panics once the thread's
/// locals are gone, and a run or tool call may be dropped that late, by a thread-local
/// runtime. A user's mock clock then does not skew our durations either.
static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();

fn clock() -> &'static quanta::Clock {
    CLOCK.get_or_init(quanta::Clock::new)
}

/// The monotonic time now.
#[inline]
pub(crate) fn now() -> Instant {
    clock().now()
}

/// Sets the clock up when the layer is built, so that the agent's first tool call does
/// not wait for it: `quanta` calibrates the counter once per process, spinning on the
/// calling thread for at least 500 rounds (under a millisecond here, at most 200 ms).
pub(crate) fn calibrate() {
    clock();
}

/// How long a thread trusts the counter to carry the system clock forward.
const REANCHOR_AFTER: Duration = Duration::from_secs(1);

thread_local! {
    /// The last time this thread read the system clock: the counter's reading then, and
    /// the system time since the Unix epoch. No destructor, so it is readable even while
    /// the thread's locals are being torn down.
    static ANCHOR: Cell<Option<(Instant, Duration)>> = const { Cell::new(None) };
}

/// The wall-clock time of `at` (a [`now`] reading just taken), in milliseconds since the
/// Unix epoch.
pub(crate) fn unix_ms_at(at: Instant) -> u64 {
    let since_epoch = ANCHOR.with(|anchor| {
        let carried = anchor.get().and_then(|(base, unix)| {
            let elapsed = at.checked_duration_since(base)?;
            (elapsed < REANCHOR_AFTER).then_some(unix + elapsed)
        });
        carried.unwrap_or_else(|| {
            let unix = since_epoch();
            anchor.set(Some((at, unix)));
            unix
        })
    });
    millis(since_epoch)
}

/// The system time since the Unix epoch; zero if the clock is before it (never panics).
pub(crate) fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Whole milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wall_ms() -> u64 {
        millis(since_epoch())
    }

    #[test]
    fn timestamps_follow_the_system_clock_and_never_run_backwards_within_a_second() {
        let before = wall_ms();
        let stamps: Vec<u64> = (0..2_000).map(|_| unix_ms_at(now())).collect();
        let after = wall_ms();
        assert!(stamps.windows(2).all(|w| w[0] <= w[1]));
        assert!(before <= stamps[0] && stamps[stamps.len() - 1] <= after);
    }

    #[test]
    fn the_system_clock_is_read_again_once_the_anchor_is_a_second_old() {
        let first = now();
        unix_ms_at(first);
        let anchored = ANCHOR.with(Cell::get).map(|(base, _)| base);
        assert_eq!(anchored, Some(first));
        unix_ms_at(first + Duration::from_millis(999));
        assert_eq!(ANCHOR.with(Cell::get).map(|(base, _)| base), Some(first));
        let later = first + REANCHOR_AFTER;
        unix_ms_at(later);
        assert_eq!(ANCHOR.with(Cell::get).map(|(base, _)| base), Some(later));
        // An instant before the anchor (another thread's, say) never counts backwards
        // from it: the system clock is read instead.
        unix_ms_at(first);
        assert_eq!(ANCHOR.with(Cell::get).map(|(base, _)| base), Some(first));
    }
}
