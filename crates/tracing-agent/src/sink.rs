//! Where events go: one JSON line per event, written through any
//! [`MakeWriter`](tracing_subscriber::fmt::MakeWriter), never panicking into the agent.

use std::cell::RefCell;
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tracing_subscriber::fmt::MakeWriter;

use crate::metrics::Metrics;
use crate::schema::Event;
use crate::settings::Settings;

/// Counters of what the sink wrote and what it could not.
///
/// Get a handle with [`AgentLayer::stats`](crate::AgentLayer::stats) before installing
/// the layer; the counts keep updating after it is installed.
#[derive(Debug, Default)]
pub struct SinkStats {
    written: AtomicU64,
    failed: AtomicU64,
    reported: AtomicBool,
    /// The background writer's count of events dropped from a full queue (lossy mode).
    dropped: std::sync::OnceLock<tracing_appender::non_blocking::ErrorCounter>,
    dropped_reported: AtomicBool,
    /// Lines the background writer has finished with (written or failed).
    settled: AtomicU64,
    /// Drops already added to `agent_events_dropped_total`.
    dropped_in_metrics: AtomicU64,
    /// Whether losses go to `agent_events_dropped_total` (metrics are on).
    losses_in_metrics: AtomicBool,
}

impl SinkStats {
    /// Events handed whole to the writer (with a background writer: queued for it).
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Events lost because the writer failed (an I/O error, or a writer that panicked).
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Events dropped because the background queue was full (only with `when_full: drop`).
    pub fn dropped(&self) -> u64 {
        self.dropped
            .get()
            .map_or(0, |counter| counter.dropped_lines() as u64)
    }

    pub(crate) fn watch_dropped(&self, counter: tracing_appender::non_blocking::ErrorCounter) {
        let _ = self.dropped.set(counter);
    }

    /// The background writer finished with one line.
    pub(crate) fn settle(&self) {
        self.settled.fetch_add(1, Ordering::Relaxed);
    }

    /// Lines handed to the background writer that it has not finished with yet.
    pub(crate) fn unsettled(&self) -> u64 {
        let expected = self.written().saturating_sub(self.dropped());
        expected.saturating_sub(self.settled.load(Ordering::Relaxed))
    }

    /// Counts `count` events lost at shutdown (still queued when the flush timed out).
    pub(crate) fn lose(&self, count: u64) {
        self.failed.fetch_add(count, Ordering::Relaxed);
        if self.losses_in_metrics.load(Ordering::Relaxed) {
            crate::metrics::events_lost(count);
        }
    }

    pub(crate) fn count_losses_in_metrics(&self, on: bool) {
        self.losses_in_metrics.store(on, Ordering::Relaxed);
    }

    /// Counts an event the producer could not hand over. With a background writer that
    /// means its thread is gone, which is worth saying.
    fn fail_to_hand_over(&self, error: &io::Error) {
        let hint = if self.dropped.get().is_some() {
            "; the background writer has stopped: was the FlushGuard dropped early?"
        } else {
            ""
        };
        self.fail_with(error, hint);
    }

    /// Counts a failed write and reports the first one on stderr.
    pub(crate) fn fail(&self, error: &io::Error) {
        self.fail_with(error, "");
    }

    fn fail_with(&self, error: &io::Error, hint: &str) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        if self.losses_in_metrics.load(Ordering::Relaxed) {
            crate::metrics::events_lost(1);
        }
        if !self.reported.swap(true, Ordering::Relaxed) {
            // Once only: a full disk must not turn into a flood on stderr. Later failures
            // are in `SinkStats::failed`.
            let _ = writeln!(
                io::stderr(),
                "tracing-agent: could not write an event ({error}{hint}); further failures are counted, not reported"
            );
        }
    }

    /// Notices drops of the lossy queue (counted by its producer side, which we do not
    /// see): adds new ones to the metric, reports the first on stderr.
    fn check_dropped(&self) {
        if self.dropped.get().is_none() {
            return;
        }
        let dropped = self.dropped();
        let seen = self.dropped_in_metrics.swap(dropped, Ordering::Relaxed);
        if dropped > seen && self.losses_in_metrics.load(Ordering::Relaxed) {
            crate::metrics::events_lost(dropped - seen);
        }
        if dropped > 0 && !self.dropped_reported.swap(true, Ordering::Relaxed) {
            let _ = writeln!(
                io::stderr(),
                "tracing-agent: the event queue was full and an event was dropped (when_full: drop); further drops are counted, not reported"
            );
        }
    }
}

/// A writer erased to one object-safe call, so `AgentLayer` needs no type parameter.
trait LineWriter: Send + Sync {
    fn write_line(&self, line: &[u8]) -> io::Result<()>;
}

struct MakeWriterLines<W>(W);

impl<W> LineWriter for MakeWriterLines<W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync,
{
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        let mut writer = self.0.make_writer();
        // One `write_all` per event: a line-buffered or appending writer then never
        // interleaves two events.
        writer.write_all(line)?;
        writer.flush()
    }
}

/// Serializes events to lines and hands them to the writer.
pub(crate) struct Emitter {
    writer: Box<dyn LineWriter>,
    stats: Arc<SinkStats>,
    settings: Arc<Settings>,
    pub(crate) metrics: Metrics,
}

impl Emitter {
    pub(crate) fn new<W>(
        make_writer: W,
        settings: Arc<Settings>,
        stats: Arc<SinkStats>,
        metrics: Metrics,
    ) -> Self
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        Emitter {
            writer: Box::new(MakeWriterLines(make_writer)),
            stats,
            settings,
            metrics,
        }
    }

    pub(crate) fn stats(&self) -> &Arc<SinkStats> {
        &self.stats
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    pub(crate) fn shared_settings(&self) -> &Arc<Settings> {
        &self.settings
    }

    /// Writes one event as one line. Failures are counted and reported once on stderr.
    pub(crate) fn emit(&self, event: &mut Event<'_>) {
        self.settings.mask(event);
        with_line_buffer(|line| {
            line.clear();
            if crate::line::write_event_line(line, &*event).is_err() {
                // Only a bug in the schema types could get here; count it rather than panic.
                self.stats
                    .fail(&io::Error::other("event could not be serialized"));
                return;
            }
            match catch_unwind(AssertUnwindSafe(|| self.writer.write_line(line))) {
                Ok(Ok(())) => {
                    self.stats.written.fetch_add(1, Ordering::Relaxed);
                    self.stats.check_dropped();
                }
                Ok(Err(error)) => self.stats.fail_to_hand_over(&error),
                Err(_) => self.stats.fail(&io::Error::other("the writer panicked")),
            }
        });
    }
}

fn with_line_buffer(mut f: impl FnMut(&mut Vec<u8>)) {
    thread_local! {
        static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    let reused = LINE
        .try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut buffer) => {
                f(&mut buffer);
                if buffer.capacity() > 64 * 1024 {
                    // One huge event must not pin its buffer for the thread's lifetime.
                    *buffer = Vec::new();
                }
                true
            }
            Err(_) => false,
        })
        .unwrap_or(false);
    if !reused {
        // Re-entered (a writer that itself emits an event) or the thread is exiting.
        f(&mut Vec::new());
    }
}
