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

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, SendTimeoutError, Sender, TrySendError};
use tracing_appender::rolling::{RollingFileAppender, Rotation};

use crate::config::{ConfigError, Output, Queue, WhenFull, MAX_QUEUE_CAPACITY};
use crate::guard::KillFileWatch;
use crate::sink::{Handed, LineWriter, SinkStats};

/// Keep it alive for as long as the agent runs: dropping it flushes every queued event to
/// the output (waiting up to [`FLUSH_TIMEOUT`]), e.g. at the end of `main`.
///
/// Dropping it early does not stop the writer (the layer keeps it going), but nothing
/// then waits for the queue at exit: the first event written after the drop says so on
/// stderr.
///
/// ```no_run
/// # fn main() -> Result<(), tracing_agent::config::ConfigError> {
/// use tracing_subscriber::prelude::*;
/// let (layer, _flush_guard) = tracing_agent::AgentLayer::from_config_file("agent.yaml")?;
/// tracing_subscriber::registry().with(layer).init();
/// // ... run the agent; `_flush_guard` drops at the end of main and flushes.
/// # Ok(()) }
/// ```
#[must_use = "dropping the guard at once means nothing flushes the queue at exit: bind it to a name (`_guard`, not `_`) and keep it until the end of main"]
pub struct FlushGuard {
    background: Option<Arc<Background>>,
    /// The config's `guards.kill_file`, watched while the guard lives.
    kill_file: Option<KillFileWatch>,
}

/// How long dropping a [`FlushGuard`] waits for the queue to drain.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a file output checks that its path still names the file it writes.
pub const CHECK_PATH_EVERY: Duration = Duration::from_secs(1);

impl FlushGuard {
    /// Waits until every event queued so far is written (or failed), at most `timeout`.
    /// A writer on the calling thread has nothing to wait for.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tracing_agent::{config::Queue, AgentLayer};
    /// let (layer, guard) = AgentLayer::new().with_background_writer(std::io::sink(), Queue::default());
    /// guard.flush(Duration::from_secs(5)).expect("an idle writer flushes at once");
    /// # drop(layer);
    /// ```
    pub fn flush(&self, timeout: Duration) -> Result<(), Unflushed> {
        match &self.background {
            Some(background) => background.flush(Instant::now() + timeout, timeout),
            None => Ok(()),
        }
    }

    /// Keeps `watch` going until the guard drops.
    pub(crate) fn watching(mut self, watch: Option<KillFileWatch>) -> Self {
        self.kill_file = watch;
        self
    }

    /// A guard with nothing to flush: the events are written on the calling thread.
    pub(crate) fn direct() -> Self {
        FlushGuard {
            background: None,
            kill_file: None,
        }
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        let Some(background) = self.background.take() else {
            return;
        };
        background.guard_dropped.store(true, Ordering::Relaxed);
        if let Err(unflushed) = background.flush(Instant::now() + FLUSH_TIMEOUT, FLUSH_TIMEOUT) {
            // Said on stderr, never stdout: stdout may be the stuck event stream.
            say(&format!(
                "{unflushed}; they are lost if the process exits now"
            ));
        }
        let stats = &background.stats;
        let (dropped, failed) = (stats.dropped(), stats.failed());
        if dropped > 0 || failed > 0 {
            say(&format!(
                "{dropped} events dropped (queue full or writer stuck), {failed} failed to write"
            ));
        }
    }
}

impl std::fmt::Debug for FlushGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlushGuard").finish_non_exhaustive()
    }
}

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

/// Waits until every event queued so far by every live background writer of the process
/// is written, at most `timeout` in all: call it before `std::process::exit`, which runs
/// no destructors and so never drops the [`FlushGuard`].
///
/// ```no_run
/// tracing_agent::flush(std::time::Duration::from_secs(5)).ok();
/// std::process::exit(2);
/// ```
pub fn flush(timeout: Duration) -> Result<(), Unflushed> {
    let deadline = Instant::now() + timeout;
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
    if queued == 0 {
        Ok(())
    } else {
        Err(Unflushed {
            queued,
            waited: timeout,
        })
    }
}

/// Flushes on SIGTERM and SIGINT, then lets the signal do what it does by default, so the
/// process ends with the conventional status (killed by that signal; a shell shows
/// 128 + its number). Opt in once at start; later calls do nothing.
///
/// A thread of ours (through `signal-hook`) waits for the signal, calls [`flush`] with
/// [`FLUSH_TIMEOUT`] (saying on stderr what was still queued, if anything), then restores
/// the default action and raises the signal again. It writes no `stop` for runs still
/// open: they show in the log as runs without a stop. Do not use it if the application
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

fn registry() -> &'static Mutex<Vec<Weak<Background>>> {
    static LIVE: OnceLock<Mutex<Vec<Weak<Background>>>> = OnceLock::new();
    LIVE.get_or_init(Mutex::default)
}

/// One line on stderr, never panicking.
fn say(message: &str) {
    let _ = writeln!(io::stderr(), "tracing-agent: {message}");
}

enum Msg {
    Line(Vec<u8>),
    /// Answered once every line queued before it is settled.
    Flush(Sender<()>),
}

/// The producer side of a background writer: what the layer writes to.
struct Background {
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
    fn flush(&self, deadline: Instant, timeout: Duration) -> Result<(), Unflushed> {
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

/// Runs `writer` on a background thread behind a queue of `queue.capacity` events (at
/// most [`MAX_QUEUE_CAPACITY`]). The thread ends once the layer and the guard are gone
/// and the queue is drained.
pub(crate) fn background<W: Write + Send + 'static>(
    writer: W,
    queue: Queue,
    stats: &Arc<SinkStats>,
) -> (Box<dyn LineWriter>, FlushGuard) {
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
    let guard = FlushGuard {
        background: Some(Arc::clone(&background)),
        kill_file: None,
    };
    (Box::new(Producer(background)), guard)
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

/// Writes `line` whole, one `write` when the writer takes it whole. After a line was cut
/// short (`torn`), the next one starts with a newline, so the fragment ends there and
/// the next event stays a line of its own.
fn write_whole(writer: &mut dyn Write, line: &[u8], torn: &mut bool) -> io::Result<()> {
    let bytes: Cow<'_, [u8]> = if *torn {
        let mut terminated = Vec::with_capacity(line.len() + 1);
        terminated.push(b'\n');
        terminated.extend_from_slice(line);
        Cow::Owned(terminated)
    } else {
        Cow::Borrowed(line)
    };
    let mut done = 0;
    while done < bytes.len() {
        match writer.write(&bytes[done..]) {
            Ok(0) => {
                let error = io::Error::new(io::ErrorKind::WriteZero, "the writer took nothing");
                return Err(cut(&bytes, done, torn, error));
            }
            Ok(n) => done += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(cut(&bytes, done, torn, error)),
        }
    }
    *torn = false;
    Ok(())
}

/// Records whether a write that stopped after `done` bytes left the output mid-line.
fn cut(bytes: &[u8], done: usize, torn: &mut bool, error: io::Error) -> io::Error {
    if done > 0 {
        *torn = bytes[done - 1] != b'\n';
    }
    error
}

/// `durability: write_through`: each line written on the calling thread, under a lock so
/// that the torn-line state stays right.
struct Direct {
    target: Mutex<(Box<dyn Write + Send>, bool)>,
}

impl LineWriter for Direct {
    fn write_line(&self, line: &[u8]) -> io::Result<Handed> {
        let mut target = self.target.lock().unwrap_or_else(|e| e.into_inner());
        let (writer, torn) = &mut *target;
        write_whole(writer.as_mut(), line, torn)?;
        Ok(Handed::Written)
    }
}

/// A write-through line writer for `writer`.
pub(crate) fn direct(writer: Box<dyn Write + Send>) -> Box<dyn LineWriter> {
    Box::new(Direct {
        target: Mutex::new((writer, false)),
    })
}

/// Opens what `output` names.
pub(crate) fn open(output: &Output, logs_days: u32) -> Result<Box<dyn Write + Send>, ConfigError> {
    Ok(match output {
        Output::Stdout => standard(io::stdout()),
        Output::Stderr => standard(io::stderr()),
        Output::File { path } => Box::new(FileTarget::open(path)?),
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

/// Stdout or stderr through a duplicate of its descriptor: writing never takes the
/// standard library's lock, so a writer blocked on a full pipe cannot hang a `println!`
/// or our own message on stderr.
#[cfg(unix)]
fn standard<S: std::os::fd::AsFd + Write + Send + 'static>(stream: S) -> Box<dyn Write + Send> {
    match stream.as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(File::from(fd)),
        Err(_) => Box::new(stream),
    }
}

#[cfg(not(unix))]
fn standard<S: Write + Send + 'static>(stream: S) -> Box<dyn Write + Send> {
    Box::new(stream)
}

/// `to: file`: appends, ends a torn last line before writing after it, and reopens the
/// path when the file it names is no longer the one being written.
struct FileTarget {
    path: PathBuf,
    file: File,
    identity: Option<(u64, u64)>,
    checked: Instant,
    reopen_said: bool,
}

impl FileTarget {
    fn open(path: &Path) -> Result<Self, ConfigError> {
        let file = open_append(path).map_err(|error| cannot_open(path, &error))?;
        Ok(FileTarget {
            identity: identity(&file),
            path: path.to_owned(),
            file,
            checked: Instant::now(),
            reopen_said: false,
        })
    }

    /// Reopens the path when it no longer names our file (deleted, or rotated away).
    fn check_path(&mut self) {
        self.checked = Instant::now();
        let current = std::fs::metadata(&self.path)
            .ok()
            .and_then(|m| meta_identity(&m));
        if self.identity.is_none() || current == self.identity {
            return;
        }
        match open_append(&self.path) {
            Ok(file) => {
                if !self.reopen_said {
                    self.reopen_said = true;
                    say(&format!(
                        "{} was deleted or replaced while events were written to it; reopened it (further reopens are not reported)",
                        self.path.display()
                    ));
                }
                self.identity = identity(&file);
                self.file = file;
            }
            Err(error) => {
                // Keep writing the old file (better than nothing); checked again later.
                if !self.reopen_said {
                    self.reopen_said = true;
                    say(&format!(
                        "{} was deleted or replaced and cannot be reopened ({error})",
                        self.path.display()
                    ));
                }
            }
        }
    }
}

impl Write for FileTarget {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.checked.elapsed() >= CHECK_PATH_EVERY {
            self.check_path();
        }
        self.file.write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn identity(file: &File) -> Option<(u64, u64)> {
    file.metadata().ok().and_then(|m| meta_identity(&m))
}

#[cfg(unix)]
fn meta_identity(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn meta_identity(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// Opens `path` for appending; if it ends mid-line (a writer died or ran out of disk
/// mid-event), ends that line first so our first event is not glued to it.
fn open_append(path: &Path) -> io::Result<File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)?;
    if ends_mid_line(&mut file).unwrap_or(false) {
        // Best effort: on a disk still full this fails, and the fragment and our first
        // event share a line, as they would without the check.
        let _ = file.write_all(b"\n");
    }
    Ok(file)
}

fn ends_mid_line(file: &mut File) -> io::Result<bool> {
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

fn cannot_open(path: &Path, error: &io::Error) -> ConfigError {
    ConfigError::new(format!(
        "logging.output.path: cannot open {} for appending: {error}",
        path.display()
    ))
}
