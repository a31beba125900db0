//! Durable outputs: a file or a daily-rolled directory, written either by a background
//! thread behind a bounded queue (`durability: queued`, the agent never waits on I/O) or
//! on the calling thread (`durability: write_through`, a SIGKILL loses at most the event
//! in flight).
//!
//! The queue is a `crossbeam-channel` bounded channel drained by our own thread rather
//! than `tracing-appender`'s non-blocking writer, because that one can neither bound a
//! lossless producer's wait (its `send` blocks forever on a stuck writer), nor flush on
//! demand (for `process::exit` and signals), and its guard prints to stdout on shutdown,
//! which hangs when stdout is the stuck event stream.
//!
//! Each event is one `write` on a file opened with `O_APPEND`, so concurrent writers
//! never interleave lines. A line cut short (a full disk) is terminated before the next
//! one, and a file found to end mid-line when opened gets a newline first: a torn
//! fragment stays one junk line of its own and never swallows the next event. A file
//! deleted or replaced under a running writer is noticed (within [`CHECK_PATH_EVERY`])
//! and reopened, once said on stderr.

//!
//! One file per concern: `guard` (the `FlushGuard` and `flush`), `background` (the queue
//! and its writer thread), `lines` (writing whole lines, terminating torn ones, and the
//! write-through writer), `targets` (stdout, stderr, files, rolling directories),
//! `signals` (flushing on SIGTERM and SIGINT).

mod background;
mod guard;
mod lines;
mod signals;
mod targets;

use std::io::{self, Write};
use std::sync::Arc;

pub use background::Unflushed;
pub use guard::{flush, FlushGuard, FLUSH_TIMEOUT};
pub(crate) use signals::before_signal_flush;
pub use signals::flush_on_signals;
pub use targets::CHECK_PATH_EVERY;

pub(crate) use lines::direct;
pub(crate) use targets::open;

use crate::config::Queue;
use crate::sink::{LineWriter, SinkStats};

/// Runs `writer` on a background thread behind a queue of `queue.capacity` events (at
/// most `MAX_QUEUE_CAPACITY`). The thread ends once the layer and the guard are gone and
/// the queue is drained.
pub(crate) fn background<W: Write + Send + 'static>(
    writer: W,
    queue: Queue,
    stats: &Arc<SinkStats>,
) -> (Box<dyn LineWriter>, FlushGuard) {
    let (producer, background) = background::start(writer, queue, stats);
    (producer, FlushGuard::over(background))
}

/// One line on stderr, never panicking.
fn say(message: &str) {
    let _ = writeln!(io::stderr(), "tracing-agent: {message}");
}
