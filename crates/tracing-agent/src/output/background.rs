//! The background writer: a bounded `crossbeam-channel` queue drained by a thread of our
//! own, with bounded waits for producers and flushes on demand (see the module above for
//! why not `tracing-appender`'s).

use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, SendTimeoutError, Sender, TrySendError};

use super::lines::write_whole;
use super::say;
use crate::config::{Queue, WhenFull, MAX_QUEUE_CAPACITY};
use crate::sink::{Handed, LineWriter, SinkStats};

/// A flush that did not finish in time: the writer is stuck or slower than the timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unflushed {
    /// Events still queued when the time was up.
    pub queued: u64,
    /// How long the flush waited.
    pub waited: Duration,
}

impl std::fmt::Display for Unflushed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} events were still queued after waiting {:?} for the writer",
            self.queued, self.waited
        )
    }
}

impl std::error::Error for Unflushed {}

fn registry() -> &'static Mutex<Vec<Weak<Background>>> {
    static LIVE: OnceLock<Mutex<Vec<Weak<Background>>>> = OnceLock::new();
    LIVE.get_or_init(Mutex::default)
}

/// Flushes every live background writer of the process until `deadline`; returns how
/// many events were still queued when the time was up.
pub(super) fn flush_all(deadline: Instant, timeout: Duration) -> u64 {
    let live: Vec<Arc<Background>> = {
        let mut all = registry().lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|weak| weak.strong_count() > 0);
        all.iter().filter_map(Weak::upgrade).collect()
    };
    let mut queued = 0;
    for background in live {
        if let Err(unflushed) = background.flush(deadline, timeout) {
            queued += unflushed.queued;
        }
    }
    queued
}

enum Msg {
    Line(Vec<u8>),
    /// Answered once every line queued before it is settled.
    Flush(Sender<()>),
}

/// The producer side of a background writer: what the layer writes to.
pub(super) struct Background {
    queue: Sender<Msg>,
    config: Queue,
    stats: Arc<SinkStats>,
    /// A producer waited `block_timeout` in vain: drop until the writer takes one again.
    stuck: AtomicBool,
    stuck_said: AtomicBool,
    guard_dropped: AtomicBool,
    orphan_said: AtomicBool,
}

impl Background {
    /// Waits until what was queued before the call is settled, until `deadline`.
    pub(super) fn flush(&self, deadline: Instant, timeout: Duration) -> Result<(), Unflushed> {
        let unflushed = || Unflushed {
            queued: self.stats.queued(),
            waited: timeout,
        };
        let (reply, replied) = crossbeam_channel::bounded(1);
        match self.queue.send_deadline(Msg::Flush(reply), deadline) {
            Ok(()) => {}
            Err(SendTimeoutError::Timeout(_)) => return Err(unflushed()),
            // The writer thread is gone: nothing queued can be written any more.
            Err(SendTimeoutError::Disconnected(_)) => return Ok(()),
        }
        match replied.recv_deadline(deadline) {
            Ok(()) => Ok(()),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => Err(unflushed()),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Ok(()),
        }
    }

    /// The guard is gone: nothing will wait for the queue at exit.
    pub(super) fn guard_dropped(&self) {
        self.guard_dropped.store(true, Ordering::Relaxed);
    }

    pub(super) fn stats(&self) -> &SinkStats {
        &self.stats
    }

    fn dropped(&self) -> io::Result<Handed> {
        self.stats.unqueue();
        self.stats.drop_one(self.stuck_said.load(Ordering::Relaxed));
        Ok(Handed::Queued)
    }
}

impl LineWriter for Background {
    fn write_line(&self, line: &[u8]) -> io::Result<Handed> {
        if self.guard_dropped.load(Ordering::Relaxed)
            && !self.orphan_said.swap(true, Ordering::Relaxed)
        {
            say("an event was written after its FlushGuard was dropped: it is written, but nothing waits for the queue at exit (was the guard bound to `_`? keep it as `_guard` until the end of main, or call tracing_agent::flush before exiting)");
        }
        self.stats.enqueue();
        let message = Msg::Line(line.to_vec());
        let sent = match self.config.when_full {
            WhenFull::Drop => self.queue.try_send(message).map_err(|e| match e {
                TrySendError::Full(_) => None,
                TrySendError::Disconnected(_) => Some(()),
            }),
            WhenFull::Block if self.stuck.load(Ordering::Relaxed) => {
                match self.queue.try_send(message) {
                    Ok(()) => {
                        self.stuck.store(false, Ordering::Relaxed);
                        Ok(())
                    }
                    Err(TrySendError::Full(_)) => Err(None),
                    Err(TrySendError::Disconnected(_)) => Err(Some(())),
                }
            }
            WhenFull::Block => match self.queue.send_timeout(message, self.config.block_timeout) {
                Ok(()) => Ok(()),
                Err(SendTimeoutError::Timeout(_)) => {
                    self.stuck.store(true, Ordering::Relaxed);
                    if !self.stuck_said.swap(true, Ordering::Relaxed) {
                        say(&format!(
                                "the event writer took nothing for {:?} (logging.queue.block_timeout): events are dropped and counted until it takes them again; further stalls are not reported",
                                self.config.block_timeout
                            ));
                    }
                    Err(None)
                }
                Err(SendTimeoutError::Disconnected(_)) => Err(Some(())),
            },
        };
        match sent {
            Ok(()) => Ok(Handed::Queued),
            Err(None) => self.dropped(),
            Err(Some(())) => {
                self.stats.unqueue();
                Err(io::Error::other("the background writer thread has stopped"))
            }
        }
    }
}

/// The layer's side of a background writer: its `Arc` keeps the writer going.
struct Producer(Arc<Background>);

impl LineWriter for Producer {
    fn write_line(&self, line: &[u8]) -> io::Result<Handed> {
        self.0.write_line(line)
    }
}

/// Starts the writer thread for `writer` behind a queue of `queue.capacity` events (at
/// most [`MAX_QUEUE_CAPACITY`]): the layer's side, and the guard's.
pub(super) fn start<W: Write + Send + 'static>(
    writer: W,
    queue: Queue,
    stats: &Arc<SinkStats>,
) -> (Box<dyn LineWriter>, Arc<Background>) {
    let (sender, receiver) =
        crossbeam_channel::bounded(queue.capacity.get().min(MAX_QUEUE_CAPACITY));
    let worker_stats = Arc::clone(stats);
    let spawned = std::thread::Builder::new()
        .name("tracing-agent-writer".into())
        .spawn(move || work(receiver, writer, &worker_stats));
    if let Err(error) = spawned {
        // The receiver is gone with the closure: every event fails, counted and said.
        say(&format!("could not start the writer thread: {error}"));
    }
    let background = Arc::new(Background {
        queue: sender,
        config: queue,
        stats: Arc::clone(stats),
        stuck: AtomicBool::new(false),
        stuck_said: AtomicBool::new(false),
        guard_dropped: AtomicBool::new(false),
        orphan_said: AtomicBool::new(false),
    });
    registry()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Arc::downgrade(&background));
    (Box::new(Producer(Arc::clone(&background))), background)
}

fn work<W: Write>(queue: Receiver<Msg>, mut writer: W, stats: &SinkStats) {
    let mut torn = false;
    for message in queue {
        match message {
            Msg::Line(line) => {
                let written = write_caught(&mut writer, &line, &mut torn, stats);
                stats.settle(written);
            }
            Msg::Flush(reply) => {
                flush_caught(&mut writer, stats);
                let _ = reply.send(());
            }
        }
    }
    flush_caught(&mut writer, stats);
}

/// Writes one line, counting a failure (an error or a panic) instead of returning it.
fn write_caught(writer: &mut dyn Write, line: &[u8], torn: &mut bool, stats: &SinkStats) -> bool {
    match catch_unwind(AssertUnwindSafe(|| write_whole(writer, line, torn))) {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            stats.fail(&error);
            false
        }
        Err(_) => {
            stats.fail(&io::Error::other("the writer panicked"));
            false
        }
    }
}

fn flush_caught(writer: &mut dyn Write, stats: &SinkStats) {
    match catch_unwind(AssertUnwindSafe(|| writer.flush())) {
        Ok(Ok(())) => {}
        Ok(Err(error)) => stats.fail(&error),
        Err(_) => stats.fail(&io::Error::other("the writer panicked")),
    }
}
