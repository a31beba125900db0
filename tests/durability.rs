//! What each durability mode promises, under faults: `process::exit`, SIGTERM, SIGKILL,
//! a full disk (a real 64 KiB tmpfs when the machine lets us mount one, and a writer that
//! fails after N bytes), a torn file, a deleted file, a stuck writer, a stuck stdout, a
//! closed pipe, a panicking writer. Every test is bounded in events, bytes and time.
//!
//! Children are this test binary run again on one ignored test (as `faults.rs` does),
//! chosen by `DURABILITY_CHILD`.

use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tracing_agent::config::{Queue, WhenFull};
use tracing_agent::{agent_tool, AgentLayer, Run, RunMeta, StopReason};
use tracing_subscriber::prelude::*;

#[agent_tool]
fn work(n: u64) -> u64 {
    n + 1
}

/// `runs` runs of `calls` tool calls: `runs * (calls + 2)` events.
fn drive(runs: u64, calls: u64) {
    for _ in 0..runs {
        let run = Run::start(RunMeta::new("durability"));
        run.in_scope(|| {
            (0..calls).for_each(|n| {
                work(n);
            })
        });
        run.stop(StopReason::Completed);
    }
}

fn with_layer(layer: AgentLayer, f: impl FnOnce()) {
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f);
}

/// The lines of `path`, split into those that parse as one JSON object and the others.
fn parse_lines(path: &Path) -> (Vec<Value>, Vec<String>) {
    let text = std::fs::read(path).unwrap();
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for line in text.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(value) if value.is_object() => good.push(value),
            _ => bad.push(String::from_utf8_lossy(line).into_owned()),
        }
    }
    (good, bad)
}

fn file_config(path: &Path, extra: &str) -> String {
    format!(
        "logging:\n  output:\n    to: file\n    path: {}\n{extra}",
        path.display()
    )
}

/// Runs the ignored test `name` in a child process with `DURABILITY_CHILD=name`.
fn child(name: &str, envs: &[(&str, &str)]) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--ignored",
            "--exact",
            name,
            "--nocapture",
            "--test-threads=1",
        ])
        .env("DURABILITY_CHILD", name)
        .envs(envs.iter().copied());
    command
}

fn is_child(name: &str) -> bool {
    std::env::var("DURABILITY_CHILD").is_ok_and(|c| c == name)
}

/// Waits for `child` at most `limit`, killing it (and failing) if it takes longer.
fn wait_bounded(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?}, killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs the child `name` writing to `path`, sends it SIGTERM once it prints `ready`, and
/// checks it died of that signal.
fn terminate_when_ready(name: &str, ready: &str, path: &Path) {
    use std::os::unix::process::ExitStatusExt;
    let mut process = child(name, &[("EVENTS", path.to_str().unwrap())])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The harness prints its own lines first.
    let seen = BufReader::new(process.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .find(|line| line.contains(ready));
    assert!(seen.is_some(), "{name} never got to the signal");
    signal(&process, "TERM");
    let status = wait_bounded(&mut process, Duration::from_secs(30), name);
    assert_eq!(
        status.signal(),
        Some(15),
        "{name} ended by SIGTERM: {status:?}"
    );
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// A file that takes 1 ms a line: the queue is still full when the process ends.
struct SlowFile(std::fs::File);

impl Write for SlowFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        std::thread::sleep(Duration::from_millis(1));
        self.0.write(bytes)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

fn slow_file_layer(path: &Path) -> (AgentLayer, tracing_agent::FlushGuard) {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let queue = Queue {
        capacity: std::num::NonZeroUsize::new(2000).unwrap(),
        ..Queue::default()
    };
    AgentLayer::new().with_background_writer(SlowFile(file), queue)
}

// --- Lost events: process::exit, SIGTERM, SIGKILL ---------------------------------------

#[test]
#[ignore = "child of process_exit_after_flush_loses_nothing"]
fn exit_child() {
    if !is_child("exit_child") {
        return;
    }
    let path = PathBuf::from(std::env::var("EVENTS").unwrap());
    let (layer, guard) = slow_file_layer(&path);
    let stats = layer.stats();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::set_global_default(dispatch).unwrap();
    drive(100, 8); // 1,000 events, 1 s of writing
    assert!(stats.queued() > 0, "the test needs a queue still full here");
    tracing_agent::flush(Duration::from_secs(20)).expect("flushed");
    let code = if stats.written() == 1000 && stats.queued() == 0 {
        0
    } else {
        3
    };
    std::mem::forget(guard); // as `process::exit` would: no destructor runs
    std::process::exit(code);
}

#[test]
fn process_exit_after_flush_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let mut process = child("exit_child", &[("EVENTS", path.to_str().unwrap())])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let status = wait_bounded(&mut process, Duration::from_secs(60), "exit child");
    assert_eq!(status.code(), Some(0), "written() counted what was written");
    let (good, bad) = parse_lines(&path);
    assert_eq!((good.len(), bad.len()), (1000, 0));
    assert_eq!(good.iter().filter(|e| e["kind"] == "stop").count(), 100);
}

#[test]
#[ignore = "child of sigterm_with_the_handler_flushes_then_dies_of_the_signal"]
fn sigterm_child() {
    if !is_child("sigterm_child") {
        return;
    }
    tracing_agent::flush_on_signals().unwrap();
    let path = PathBuf::from(std::env::var("EVENTS").unwrap());
    let (layer, _guard) = slow_file_layer(&path);
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::set_global_default(dispatch).unwrap();
    drive(100, 8);
    println!("emitted");
    io::stdout().flush().unwrap();
    // Waits for the signal; bounded should it never come.
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn sigterm_with_the_handler_flushes_then_dies_of_the_signal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    terminate_when_ready("sigterm_child", "emitted", &path);
    let (good, bad) = parse_lines(&path);
    assert_eq!(
        (good.len(), bad.len()),
        (1000, 0),
        "everything queued was written"
    );
}

#[test]
#[ignore = "child of sigkill_in_write_through_loses_at_most_the_event_in_flight"]
fn sigkill_child() {
    if !is_child("sigkill_child") {
        return;
    }
    let path = PathBuf::from(std::env::var("EVENTS").unwrap());
    let yaml = file_config(&path, "  durability: write_through\n");
    let (layer, _guard) = AgentLayer::from_config_str(&yaml).unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::set_global_default(dispatch).unwrap();
    // Bounded: at most 20,000 runs (80,000 events, ~25 MB) if the kill never comes.
    for done in 1..=20_000u64 {
        drive(1, 2);
        println!("{done}");
    }
}

#[test]
fn sigkill_in_write_through_loses_at_most_the_event_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let mut process = child("sigkill_child", &[("EVENTS", path.to_str().unwrap())])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
    let mut runs_done = 0u64;
    while runs_done < 500 {
        match lines.next() {
            Some(Ok(line)) => runs_done = line.trim().parse().unwrap_or(runs_done),
            _ => break,
        }
    }
    signal(&process, "KILL");
    // What the child said it finished before it died.
    for line in lines.map_while(Result::ok) {
        runs_done = line.trim().parse().unwrap_or(runs_done);
    }
    wait_bounded(&mut process, Duration::from_secs(10), "sigkill child");
    let (good, bad) = parse_lines(&path);
    assert!(bad.len() <= 1, "at most one torn line: {bad:?}");
    let finished = runs_done * 4;
    assert!(
        good.len() as u64 >= finished && good.len() as u64 <= finished + 4,
        "{} whole lines for {runs_done} finished runs",
        good.len()
    );
}

// --- Full disk and torn lines --------------------------------------------------------

#[test]
fn a_file_ending_mid_line_gets_a_newline_before_our_first_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    // What a process killed mid-write, or stopped by a full disk, leaves behind.
    std::fs::write(
        &path,
        "{\"run_id\":\"a\",\"kind\":\"stop\"}\n{\"run_id\":\"torn",
    )
    .unwrap();
    let (layer, guard) = AgentLayer::from_config_str(&file_config(&path, "")).unwrap();
    with_layer(layer, || drive(2, 1));
    drop(guard);
    let (good, bad) = parse_lines(&path);
    assert_eq!(bad, vec!["{\"run_id\":\"torn".to_owned()]);
    assert_eq!(
        good.len(),
        1 + 2 * 3,
        "every event of ours is a line of its own"
    );
}

/// A disk that takes `room` bytes, then fails (a short write, then ENOSPC) until `room`
/// is raised again: a full disk that an operator then frees.
#[derive(Clone, Default)]
struct FillingDisk {
    bytes: Arc<Mutex<Vec<u8>>>,
    room: Arc<AtomicUsize>,
}

impl Write for FillingDisk {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut bytes = self.bytes.lock().unwrap();
        let left = self.room.load(Ordering::SeqCst).saturating_sub(bytes.len());
        if left == 0 {
            return Err(io::Error::from_raw_os_error(28)); // ENOSPC
        }
        let n = buf.len().min(left);
        bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_short_write_on_a_full_disk_never_swallows_the_next_event() {
    let disk = FillingDisk::default();
    disk.room.store(1000, Ordering::SeqCst); // a few events, then the disk is full
    let (layer, guard) = AgentLayer::new().with_background_writer(disk.clone(), Queue::default());
    let stats = layer.stats();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || drive(5, 2));
    guard.flush(Duration::from_secs(10)).unwrap();
    assert!(stats.failed() > 0, "the disk filled up");
    disk.room.store(1 << 20, Ordering::SeqCst); // space freed
    tracing::dispatcher::with_default(&dispatch, || drive(5, 2));
    drop(guard);
    drop(dispatch);
    let text = disk.bytes.lock().unwrap().clone();
    assert!(text.len() < 1 << 20, "bounded");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("out"), &text).unwrap();
    let (good, bad) = parse_lines(&dir.path().join("out"));
    assert_eq!(
        bad.len(),
        1,
        "one torn fragment, alone on its line: {bad:?}"
    );
    assert_eq!(
        good.len() as u64,
        stats.written(),
        "written counts whole lines"
    );
    assert_eq!(
        stats.written() + stats.failed(),
        40,
        "every event accounted for"
    );
    assert_eq!(stats.queued(), 0);
}

/// A tmpfs of 64 KiB, unmounted (and removed) on drop; `None` where mounting is not
/// allowed (not root, or in a container without the capability).
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    fn mount() -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .ok()?
            .success();
        mounted.then_some(SmallDisk(dir))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[test]
fn a_real_full_disk_then_freed_leaves_one_torn_line_and_no_glued_event() {
    let Some(disk) = SmallDisk::mount() else {
        eprintln!("skipped: cannot mount a tmpfs here (FillingDisk covers the logic)");
        return;
    };
    let path = disk.0.path().join("events.jsonl");
    let filler = disk.0.path().join("filler");
    std::fs::write(&filler, vec![b'x'; 16 * 1024]).unwrap();
    // First process: ~250 bytes an event, 1,000 events: far more than 48 KiB.
    let (layer, guard) = AgentLayer::from_config_str(&file_config(&path, "")).unwrap();
    let first = layer.stats();
    with_layer(layer, || drive(250, 2));
    drop(guard);
    assert!(first.failed() > 0, "the disk filled up");
    std::fs::remove_file(&filler).unwrap(); // the operator frees some space
    let (layer, guard) = AgentLayer::from_config_str(&file_config(&path, "")).unwrap();
    let second = layer.stats();
    with_layer(layer, || drive(5, 2));
    drop(guard);
    assert_eq!(second.written(), 20);
    let (good, bad) = parse_lines(&path);
    assert!(bad.len() <= 1, "at most the one torn fragment: {bad:?}");
    assert_eq!(
        good.len() as u64,
        first.written() + 20,
        "no event glued to it"
    );
}

// --- A deleted file ----------------------------------------------------------------------

#[test]
fn a_file_deleted_while_written_is_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let (layer, guard) = AgentLayer::from_config_str(&file_config(&path, "")).unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || drive(1, 1));
    std::thread::sleep(Duration::from_millis(300)); // written (old API: no flush call)
    std::fs::remove_file(&path).unwrap();
    std::thread::sleep(tracing_agent::CHECK_PATH_EVERY + Duration::from_millis(200));
    tracing::dispatcher::with_default(&dispatch, || drive(2, 1));
    drop(guard);
    drop(dispatch);
    assert!(path.exists(), "the file was recreated");
    let (good, bad) = parse_lines(&path);
    assert_eq!((good.len(), bad.len()), (2 * 3, 0));
}

// --- Hangs -------------------------------------------------------------------------------

#[test]
#[ignore = "child of dropping_the_guard_with_stdout_stuck_returns"]
fn stuck_stdout_child() {
    if !is_child("stuck_stdout_child") {
        return;
    }
    let yaml =
        "logging:\n  output:\n    to: stdout\n  queue:\n    capacity: 16\n    when_full: drop\n";
    let (layer, guard) = AgentLayer::from_config_str(yaml).unwrap();
    // ~600 KB for a pipe of 64 KiB that nobody reads, slowly enough for the writer to
    // fill the pipe and block on it for good.
    with_layer(layer, || {
        for _ in 0..400 {
            drive(1, 3);
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    drop(guard);
    eprintln!("guard dropped");
    // Not back to the test harness: it would block printing its verdict on the stuck pipe.
    std::process::exit(0);
}

#[test]
fn dropping_the_guard_with_stdout_stuck_returns() {
    let mut process = child("stuck_stdout_child", &[])
        .stdout(Stdio::piped()) // never read
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_bounded(&mut process, Duration::from_secs(30), "stuck-stdout child");
    let mut stderr = String::new();
    io::Read::read_to_string(&mut process.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("guard dropped"), "{stderr}");
    assert!(stderr.contains("still queued after waiting"), "{stderr}");
}

/// A writer that blocks until released (bounded by the test's own timeout).
#[derive(Clone, Default)]
struct StuckWriter {
    released: Arc<(Mutex<bool>, std::sync::Condvar)>,
    lines: Arc<AtomicUsize>,
}

impl StuckWriter {
    fn release(&self) {
        *self.released.0.lock().unwrap() = true;
        self.released.1.notify_all();
    }
}

impl Write for StuckWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let (lock, condvar) = &*self.released;
        let guard = lock.lock().unwrap();
        let _released = condvar
            .wait_timeout_while(guard, Duration::from_secs(30), |r| !*r)
            .unwrap();
        self.lines.fetch_add(1, Ordering::SeqCst);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_stuck_writer_blocks_the_lossless_agent_at_most_block_timeout() {
    let writer = StuckWriter::default();
    let queue = Queue {
        capacity: std::num::NonZeroUsize::new(4).unwrap(),
        when_full: WhenFull::Block,
        block_timeout: Duration::from_millis(200),
    };
    let (layer, guard) = AgentLayer::new().with_background_writer(writer.clone(), queue);
    let stats = layer.stats();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let agent = std::thread::spawn(move || {
        with_layer(layer, || drive(10, 2)); // 40 events
        done_tx.send(()).unwrap();
    });
    let finished = done_rx.recv_timeout(Duration::from_secs(10));
    writer.release();
    assert!(finished.is_ok(), "the agent was blocked for good");
    agent.join().unwrap();
    guard.flush(Duration::from_secs(10)).unwrap();
    assert!(stats.dropped() > 0);
    assert_eq!(
        stats.written() + stats.dropped(),
        40,
        "every event accounted for"
    );
    assert_eq!(
        stats.written() as usize,
        writer.lines.load(Ordering::SeqCst)
    );
}

// --- Closed pipe, panicking writer ---------------------------------------------------------

#[test]
fn a_closed_pipe_is_counted_and_the_agent_goes_on() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let (layer, guard) = AgentLayer::new().with_background_writer(writer, Queue::default());
    let stats = layer.stats();
    with_layer(layer, || drive(3, 1));
    guard.flush(Duration::from_secs(10)).unwrap();
    assert_eq!((stats.written(), stats.failed(), stats.queued()), (0, 9, 0));
}

/// Panics on its first line, then writes.
#[derive(Clone, Default)]
struct PanicsOnce(Arc<AtomicUsize>);

impl Write for PanicsOnce {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("writer bug");
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_background_writer_that_panics_loses_that_event_only() {
    let (layer, guard) =
        AgentLayer::new().with_background_writer(PanicsOnce::default(), Queue::default());
    let stats = layer.stats();
    with_layer(layer, || drive(3, 1));
    guard.flush(Duration::from_secs(10)).unwrap();
    assert_eq!((stats.written(), stats.failed()), (8, 1));
}

// --- Config bounds and the guard ------------------------------------------------------------

#[test]
fn queue_capacity_is_bounded_with_an_error_naming_key_and_line() {
    for capacity in [
        "0",
        "1048577",
        "100000000",
        "1000000000",
        "100000000000000000000000",
    ] {
        let yaml = format!("logging:\n  queue:\n    capacity: {capacity}\n");
        let error = AgentLayer::from_config_str(&yaml).expect_err(capacity);
        assert!(
            error.message().contains("logging.queue.capacity"),
            "{error}"
        );
        assert_eq!(error.line(), Some(3), "{error}");
    }
    let yaml = "logging:\n  queue:\n    capacity: 1048576\n";
    assert!(AgentLayer::from_config_str(yaml).is_ok());
}

#[test]
fn a_file_prefix_that_leaves_the_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for prefix in ["../../x", "a/b", "..", "", "x\\\\y"] {
        let yaml = format!(
            "logging:\n  output:\n    to: rolling\n    directory: {}\n    file_prefix: \"{prefix}\"\n",
            dir.path().display()
        );
        let error = AgentLayer::from_config_str(&yaml).expect_err(prefix);
        assert!(error.message().contains("file_prefix"), "{error}");
        assert!(error.line().is_some(), "{error}");
    }
}

#[test]
fn a_guard_bound_to_underscore_still_lets_events_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let (layer, _) = AgentLayer::from_config_str(&file_config(&path, "")).unwrap();
    let stats = layer.stats();
    with_layer(layer, || drive(1, 1));
    let deadline = Instant::now() + Duration::from_secs(5);
    while stats.written() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!((stats.written(), stats.failed()), (3, 0));
    assert_eq!(parse_lines(&path).0.len(), 3);
}

#[test]
#[ignore = "child of a_guard_dropped_at_once_is_said_once_on_stderr"]
fn orphan_child() {
    if !is_child("orphan_child") {
        return;
    }
    let path = PathBuf::from(std::env::var("EVENTS").unwrap());
    let (layer, _) = AgentLayer::from_config_str(&file_config(&path, "")).unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::set_global_default(dispatch).unwrap();
    drive(3, 1);
    let flushed = tracing_agent::flush(Duration::from_secs(10));
    std::process::exit(if flushed.is_ok() { 0 } else { 3 });
}

#[test]
fn a_guard_dropped_at_once_is_said_once_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let mut process = child("orphan_child", &[("EVENTS", path.to_str().unwrap())])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_bounded(&mut process, Duration::from_secs(30), "orphan child");
    let mut stderr = String::new();
    io::Read::read_to_string(&mut process.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr.matches("after its FlushGuard was dropped").count(),
        1,
        "{stderr}"
    );
    assert_eq!(parse_lines(&path).0.len(), 9);
}

// --- Open runs at exit: a run in a `static`, a leaked run ------------------------------

/// Starts the two runs nothing will ever stop, under a layer writing to `EVENTS`.
fn start_unstoppable_runs() -> tracing_agent::FlushGuard {
    static KEPT: std::sync::OnceLock<Run> = std::sync::OnceLock::new();
    let path = PathBuf::from(std::env::var("EVENTS").unwrap());
    let (layer, guard) = slow_file_layer(&path);
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::set_global_default(dispatch).unwrap();
    let kept = KEPT.get_or_init(|| Run::start(RunMeta::new("kept").run_id("run-static")));
    kept.in_scope(|| work(1));
    let leaked = Run::start(RunMeta::new("leaked").run_id("run-leaked"));
    leaked.in_scope(|| work(2));
    std::mem::forget(leaked);
    guard
}

#[test]
#[ignore = "child of shutdown_writes_the_stop_of_runs_nothing_stopped"]
fn open_runs_exit_child() {
    if !is_child("open_runs_exit_child") {
        return;
    }
    let guard = start_unstoppable_runs();
    tracing_agent::shutdown(Duration::from_secs(20)).expect("flushed");
    std::mem::forget(guard);
    std::process::exit(0);
}

#[test]
fn shutdown_writes_the_stop_of_runs_nothing_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let mut process = child(
        "open_runs_exit_child",
        &[("EVENTS", path.to_str().unwrap())],
    )
    .stdout(Stdio::null())
    .spawn()
    .unwrap();
    let status = wait_bounded(&mut process, Duration::from_secs(60), "open runs child");
    assert_eq!(status.code(), Some(0));
    let (good, bad) = parse_lines(&path);
    assert!(bad.is_empty(), "{bad:?}");
    let mut stops: Vec<(String, String)> = good
        .iter()
        .filter(|e| e["kind"] == "stop")
        .map(|e| {
            (
                e["run_id"].as_str().unwrap().to_owned(),
                e["stop_reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    stops.sort();
    assert_eq!(
        stops,
        [
            ("run-leaked".to_owned(), "dropped".to_owned()),
            ("run-static".to_owned(), "dropped".to_owned()),
        ]
    );
}

#[test]
#[ignore = "child of a_signal_with_the_handler_writes_the_stop_of_open_runs"]
fn open_runs_signal_child() {
    if !is_child("open_runs_signal_child") {
        return;
    }
    tracing_agent::flush_on_signals().unwrap();
    let _guard = start_unstoppable_runs();
    println!("started");
    io::stdout().flush().unwrap();
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn a_signal_with_the_handler_writes_the_stop_of_open_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    terminate_when_ready("open_runs_signal_child", "started", &path);
    let (good, _) = parse_lines(&path);
    let stops: Vec<&str> = good
        .iter()
        .filter(|e| e["kind"] == "stop")
        .map(|e| e["stop_reason"].as_str().unwrap())
        .collect();
    assert_eq!(stops, ["cancelled", "cancelled"], "{good:?}");
}
