//! The clocks behind `duration_ms` and `ts_ms`.
//!
//! A tool call reads the clock twice (start and end), on the hot path, so the cheapest
//! monotonic clock is worth having: `quanta` reads the CPU's time-stamp counter where the
//! CPU reports an invariant one, and the OS's monotonic clock where it does not.
//!
//! Wall-clock time (`ts_ms`) is the system clock read at most once a second per thread,
//! advanced in between by that same counter: over a second the counter's rate error stays
//! far below a millisecond (README, Limits worth knowing), and clock adjustments, NTP
//! slewing and suspends show up within a second.

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

/// A step back smaller than this is the counter's drift showing at a re-reading, not the
/// system clock being set back: such steps are held, so a thread's timestamps never run
/// backwards for it. Larger ones are real and are written as they are.
const HOLD_BELOW: Duration = Duration::from_millis(2);

#[derive(Clone, Copy)]
struct Anchor {
    /// The counter's reading when the system clock was read.
    base: Instant,
    /// That system time, since the Unix epoch.
    unix: Duration,
    /// The latest timestamp this thread gave out.
    latest: Duration,
}

thread_local! {
    /// This thread's anchor. No destructor, so it stays readable while the thread's
    /// locals are torn down (and `try_with` falls back to the system clock regardless).
    static ANCHOR: Cell<Option<Anchor>> = const { Cell::new(None) };
}

/// The wall-clock time of `at` (a [`now`] reading on this thread), in milliseconds since
/// the Unix epoch.
pub(crate) fn unix_ms_at(at: Instant) -> u64 {
    let since_epoch = ANCHOR
        .try_with(|cell| {
            let anchor = cell.get();
            let carried = anchor.and_then(|a| {
                let elapsed = at.checked_duration_since(a.base)?;
                (elapsed < REANCHOR_AFTER).then_some(a.unix + elapsed)
            });
            let (mut anchor, time) = match (anchor, carried) {
                (Some(anchor), Some(time)) => (anchor, time),
                _ => reanchor(at, anchor),
            };
            let time = if time < anchor.latest && anchor.latest - time < HOLD_BELOW {
                anchor.latest
            } else {
                time
            };
            anchor.latest = time;
            cell.set(Some(anchor));
            time
        })
        .unwrap_or_else(|_| since_epoch());
    millis(since_epoch)
}

/// Reads the system clock again, paired with a fresh counter reading (`at` may be a while
/// old: a run's start is read before its span is made), and gives the time of `at` on it.
#[cold]
fn reanchor(at: Instant, previous: Option<Anchor>) -> (Anchor, Duration) {
    let base = now();
    let unix = since_epoch();
    let time = unix.saturating_sub(base.saturating_duration_since(at));
    let latest = previous.map_or(Duration::ZERO, |a| a.latest);
    (Anchor { base, unix, latest }, time)
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

    fn anchor_base() -> Option<Instant> {
        ANCHOR.with(Cell::get).map(|a| a.base)
    }

    #[test]
    fn timestamps_follow_the_system_clock_and_never_run_backwards() {
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
        let anchored = anchor_base().unwrap();
        assert!(anchored >= first, "anchored on a fresh reading");
        unix_ms_at(anchored + Duration::from_millis(999));
        assert_eq!(anchor_base(), Some(anchored), "carried forward");
        let later = anchored + REANCHOR_AFTER;
        unix_ms_at(later);
        assert!(anchor_base().unwrap() > anchored, "read again");
    }

    #[test]
    fn a_small_step_back_is_held_and_a_large_one_is_written() {
        let at = now();
        let start = unix_ms_at(at);
        // Pretend the counter ran 1 ms fast, then that the clock was set back 5 s.
        ANCHOR.with(|cell| {
            let mut anchor = cell.get().unwrap();
            anchor.latest += Duration::from_millis(1);
            cell.set(Some(anchor));
        });
        assert!(unix_ms_at(now()) > start, "held at the latest");
        ANCHOR.with(|cell| {
            let mut anchor = cell.get().unwrap();
            anchor.latest += Duration::from_secs(5);
            cell.set(Some(anchor));
        });
        let stepped = unix_ms_at(now());
        assert!(
            stepped < start + 1_000,
            "a real step back shows: {stepped} vs {start}"
        );
    }
}
