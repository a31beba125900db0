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

/// Counters of what became of every event: at any moment, every event the layer made is
/// in exactly one of `written`, `queued`, `dropped` and `failed`.
///
/// Get a handle with [`AgentLayer::stats`](crate::AgentLayer::stats) before installing
/// the layer; the counts keep updating after it is installed.
///
/// ```
/// let layer = tracing_agent::AgentLayer::new().with_writer(std::io::sink);
/// let stats = layer.stats();
/// assert_eq!((stats.written(), stats.queued(), stats.dropped(), stats.failed()), (0, 0, 0, 0));
/// ```
#[derive(Debug, Default)]
pub struct SinkStats {
    written: AtomicU64,
    failed: AtomicU64,
    reported: AtomicBool,
    dropped: AtomicU64,
    dropped_reported: AtomicBool,
    queued: AtomicU64,
    /// Whether losses go to `agent_events_dropped_total` (metrics are on).
    losses_in_metrics: AtomicBool,
}

impl SinkStats {
    /// Events the writer accepted whole: written to the file, pipe or writer (with a
    /// background writer: by its thread, not merely queued for it). Written means handed
    /// to the operating system, not `fsync`ed.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Events lost because the writer failed (an I/O error, or a writer that panicked).
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Events dropped unwritten: the background queue was full (`when_full: drop`), or the
    /// writer was stuck for longer than `block_timeout` (`when_full: block`).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Events in the background queue now, not yet written nor failed: what a crash
    /// would lose. Always 0 with a writer on the calling thread.
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    /// The background writer finished with one queued line; `written` says how.
    pub(crate) fn settle(&self, written: bool) {
        if written {
            self.written.fetch_add(1, Ordering::Relaxed);
        }
        self.queued.fetch_sub(1, Ordering::Relaxed);
    }

    /// One more line in the queue; counted before it is sent, so that `queued` never
    /// goes below zero when the writer takes it at once.
    pub(crate) fn enqueue(&self) {
        self.queued.fetch_add(1, Ordering::Relaxed);
    }

    /// A line counted by [`enqueue`](Self::enqueue) that never made it into the queue.
    pub(crate) fn unqueue(&self) {
        self.queued.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn count_losses_in_metrics(&self, on: bool) {
        self.losses_in_metrics.store(on, Ordering::Relaxed);
    }

    /// Counts an event the producer could not hand over. With a background writer that
    /// means its thread is gone, which is worth saying.
    fn fail_to_hand_over(&self, error: &io::Error) {
        self.fail(error);
    }

    /// Counts a failed write and reports the first one on stderr.
    pub(crate) fn fail(&self, error: &io::Error) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        if self.losses_in_metrics.load(Ordering::Relaxed) {
            crate::metrics::events_lost(1);
        }
        if !self.reported.swap(true, Ordering::Relaxed) {
            // Once only: a full disk must not turn into a flood on stderr. Later failures
            // are in `SinkStats::failed`.
            let _ = writeln!(
                io::stderr(),
                "tracing-agent: could not write an event ({error}); further failures are counted, not reported"
            );
        }
    }

    /// Counts an event dropped unwritten; the first drop is reported on stderr unless
    /// `said` reports it already (a stuck writer says so itself).
    pub(crate) fn drop_one(&self, said: bool) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        if self.losses_in_metrics.load(Ordering::Relaxed) {
            crate::metrics::events_lost(1);
        }
        if !self.dropped_reported.swap(true, Ordering::Relaxed) && !said {
            let _ = writeln!(
                io::stderr(),
                "tracing-agent: the event queue was full and an event was dropped (when_full: drop); further drops are counted, not reported"
            );
        }
    }
}

/// What became of a line handed to a [`LineWriter`].
pub(crate) enum Handed {
    /// Written whole.
    Written,
    /// In the background queue (counted there) or dropped from it (counted there too).
    Queued,
}

/// A writer erased to one object-safe call, so `AgentLayer` needs no type parameter.
pub(crate) trait LineWriter: Send + Sync {
    fn write_line(&self, line: &[u8]) -> io::Result<Handed>;
}

struct MakeWriterLines<W>(W);

impl<W> LineWriter for MakeWriterLines<W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync,
{
    fn write_line(&self, line: &[u8]) -> io::Result<Handed> {
        let mut writer = self.0.make_writer();
        // One `write_all` per event: a line-buffered or appending writer then never
        // interleaves two events.
        writer.write_all(line)?;
        writer.flush()?;
        Ok(Handed::Written)
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
    /// An emitter writing through `make_writer` on the calling thread.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn new<W>(
        make_writer: W,
        settings: Arc<Settings>,
        stats: Arc<SinkStats>,
        metrics: Metrics,
    ) -> Self
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        Emitter::with_lines(Emitter::lines_of(make_writer), settings, stats, metrics)
    }

    /// `make_writer` as a line writer, writing on the calling thread.
    pub(crate) fn lines_of<W>(make_writer: W) -> Box<dyn LineWriter>
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        Box::new(MakeWriterLines(make_writer))
    }

    /// An emitter writing through `writer` (a background queue or a durable target).
    pub(crate) fn with_lines(
        writer: Box<dyn LineWriter>,
        settings: Arc<Settings>,
        stats: Arc<SinkStats>,
        metrics: Metrics,
    ) -> Self {
        Emitter {
            writer,
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
                Ok(Ok(Handed::Written)) => {
                    self.stats.written.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Ok(Handed::Queued)) => {}
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
