//! Where events go: one JSON line per event, written through any
//! [`MakeWriter`](tracing_subscriber::fmt::MakeWriter), never panicking into the agent.

use std::cell::RefCell;
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use serde::Serialize;
use tracing_subscriber::fmt::MakeWriter;

use crate::schema::Event;

/// Counters of what the sink wrote and what it could not.
///
/// Get a handle with [`AgentLayer::stats`](crate::AgentLayer::stats) before installing
/// the layer; the counts keep updating after it is installed.
#[derive(Debug, Default)]
pub struct SinkStats {
    written: AtomicU64,
    failed: AtomicU64,
    reported: AtomicBool,
}

impl SinkStats {
    /// Events written whole.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Events lost because the writer failed (an I/O error, or a writer that panicked).
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
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
}

impl Emitter {
    pub(crate) fn new<W>(make_writer: W) -> Self
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        Emitter {
            writer: Box::new(MakeWriterLines(make_writer)),
            stats: Arc::default(),
        }
    }

    pub(crate) fn stats(&self) -> &Arc<SinkStats> {
        &self.stats
    }

    /// Writes one event as one line. Failures are counted and reported once on stderr.
    pub(crate) fn emit(&self, event: &Event<'_>) {
        with_line_buffer(|line| {
            line.clear();
            if crate::line::write_event_line(line, event).is_err() {
                // Only a bug in the schema types could get here; count it rather than panic.
                self.fail(&io::Error::other("event could not be serialized"));
                return;
            }
            match catch_unwind(AssertUnwindSafe(|| self.writer.write_line(line))) {
                Ok(Ok(())) => {
                    self.stats.written.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Err(error)) => self.fail(&error),
                Err(_) => self.fail(&io::Error::other("the writer panicked")),
            }
        });
    }

    fn fail(&self, error: &io::Error) {
        self.stats.failed.fetch_add(1, Ordering::Relaxed);
        if !self.stats.reported.swap(true, Ordering::Relaxed) {
            // Once only: a full disk must not turn into a flood on stderr. Later failures
            // are in `SinkStats::failed`.
            let _ = writeln!(
                io::stderr(),
                "tracing-agent: could not write an event ({error}); further failures are counted, not reported"
            );
        }
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

/// Writes `value` as JSON followed by `\n`. Besides JSON's own escapes, U+2028 and
/// U+2029 are escaped: some line readers (JavaScript, Python's `splitlines`) break on
/// them, and one event must always be exactly one line.
// Events go through `line::write_event_line`; this stays as the reference it is tested
// against.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn write_json_line<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> serde_json::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(&mut *out, LineSafe);
    value.serialize(&mut serializer)?;
    out.push(b'\n');
    Ok(())
}

struct LineSafe;

impl serde_json::ser::Formatter for LineSafe {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(['\u{2028}', '\u{2029}']) {
            writer.write_all(&rest.as_bytes()[..at])?;
            let separator = &rest[at..at + 3];
            writer.write_all(if separator == "\u{2028}" {
                b"\\u2028"
            } else {
                b"\\u2029"
            })?;
            rest = &rest[at + 3..];
        }
        writer.write_all(rest.as_bytes())
    }
}
