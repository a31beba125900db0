//! Durable outputs: a file or a daily-rolled directory, written by a background thread
//! behind a bounded queue, so the agent's threads never wait on disk I/O.
//!
//! The queue and its worker are `tracing-appender`'s non-blocking writer: lossless by
//! default (a full queue makes the producer wait), lossy on request (a full queue drops
//! the event and counts it). Each event is one `write` on a file opened with `O_APPEND`,
//! so concurrent writers and a crash leave at most a torn last line, never an
//! interleaved one.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_appender::rolling::{RollingFileAppender, Rotation};

use crate::config::{ConfigError, Output, Queue, WhenFull};
use crate::guard::KillFileWatch;
use crate::sink::SinkStats;

/// Keep it alive for as long as the agent runs: dropping it flushes every queued event to
/// the output (waiting up to [`FLUSH_TIMEOUT`]), e.g. at the end of `main`.
///
/// ```no_run
/// # fn main() -> Result<(), tracing_agent::config::ConfigError> {
/// use tracing_subscriber::prelude::*;
/// let (layer, _flush_guard) = tracing_agent::AgentLayer::from_config_file("agent.yaml")?;
/// tracing_subscriber::registry().with(layer).init();
/// // ... run the agent; `_flush_guard` drops at the end of main and flushes.
/// # Ok(()) }
/// ```
#[must_use = "dropping the guard at once stops the writer thread: keep it until the end of main"]
pub struct FlushGuard {
    worker: Option<WorkerGuard>,
    stats: Option<Arc<SinkStats>>,
    /// The config's `guards.kill_file`, watched while the guard lives.
    kill_file: Option<KillFileWatch>,
}

/// How long dropping a [`FlushGuard`] waits for the queue to drain.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

impl Drop for FlushGuard {
    fn drop(&mut self) {
        if let Some(stats) = &self.stats {
            // Wait for the writer ourselves: `tracing-appender`'s guard gives up after a
            // second, and when it cannot even queue its shutdown message it prints to
            // stdout, which may be the event stream.
            let deadline = Instant::now() + FLUSH_TIMEOUT;
            while stats.unsettled() > 0 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            let lost = stats.unsettled();
            if lost > 0 {
                stats.lose(lost);
                eprintln!(
                    "tracing-agent: {lost} events were still queued after {FLUSH_TIMEOUT:?} at shutdown and are lost"
                );
            }
        }
        drop(self.worker.take());
        if let Some(stats) = &self.stats {
            let (dropped, failed) = (stats.dropped(), stats.failed());
            if dropped > 0 || failed > 0 {
                eprintln!(
                    "tracing-agent: {dropped} events dropped (queue full), {failed} failed to write"
                );
            }
        }
    }
}

impl FlushGuard {
    /// Keeps `watch` going until the guard drops.
    pub(crate) fn watching(mut self, watch: Option<KillFileWatch>) -> Self {
        self.kill_file = watch;
        self
    }
}

impl std::fmt::Debug for FlushGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlushGuard").finish_non_exhaustive()
    }
}

/// Runs `writer` on a background thread behind a queue of `queue.capacity` events.
pub(crate) fn background<W: Write + Send + 'static>(
    writer: W,
    queue: Queue,
    stats: &Arc<SinkStats>,
) -> (NonBlocking, FlushGuard) {
    let (non_blocking, worker) = NonBlockingBuilder::default()
        .lossy(queue.when_full == WhenFull::Drop)
        .buffered_lines_limit(queue.capacity.get())
        .thread_name("tracing-agent-writer")
        .finish(Counting {
            inner: writer,
            stats: Arc::clone(stats),
        });
    stats.watch_dropped(non_blocking.error_counter());
    let guard = FlushGuard {
        worker: Some(worker),
        stats: Some(Arc::clone(stats)),
        kill_file: None,
    };
    (non_blocking, guard)
}

/// Opens what `output` names. Stdout and stderr go through the queue too.
pub(crate) fn open(output: &Output, logs_days: u32) -> Result<Box<dyn Write + Send>, ConfigError> {
    Ok(match output {
        Output::Stdout => Box::new(io::stdout()),
        Output::Stderr => Box::new(io::stderr()),
        Output::File { path } => Box::new(open_append(path)?),
        Output::Rolling {
            directory,
            file_prefix,
        } => {
            // Created first: the appender's pruning of old files would otherwise report a
            // missing directory on stderr at the first start.
            std::fs::create_dir_all(directory).map_err(|error| {
                ConfigError::new(format!(
                    "logging.output: cannot create the directory {}: {error}",
                    directory.display()
                ))
            })?;
            let appender = RollingFileAppender::builder()
                .rotation(Rotation::DAILY)
                .filename_prefix(file_prefix)
                .filename_suffix("jsonl")
                .max_log_files(logs_days as usize)
                .build(directory)
                .map_err(|error| {
                    ConfigError::new(format!(
                        "logging.output: cannot write rolling files in {}: {error}",
                        directory.display()
                    ))
                })?;
            Box::new(appender)
        }
    })
}

fn open_append(path: &Path) -> Result<File, ConfigError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|error| cannot_open(path, &error))?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|error| cannot_open(path, &error))
}

fn cannot_open(path: &Path, error: &io::Error) -> ConfigError {
    ConfigError::new(format!(
        "logging.output.path: cannot open {} for appending: {error}",
        path.display()
    ))
}

/// Counts write failures on the worker thread (and reports the first), instead of
/// letting the worker print one line per failure.
struct Counting<W> {
    inner: W,
    stats: Arc<SinkStats>,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        // One `write_all` per line: with `O_APPEND`, the line lands whole or (on a crash
        // mid-write) as the file's torn last line.
        if let Err(error) = self.inner.write_all(line) {
            self.stats.fail(&error);
        }
        self.stats.settle();
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Err(error) = self.inner.flush() {
            self.stats.fail(&error);
        }
        Ok(())
    }
}
