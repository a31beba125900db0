//! Durable outputs: a file, a rolled directory, and the background queue in front of
//! them, lossless by default and lossy on request.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tracing_agent::config::{Queue, WhenFull};
use tracing_agent::{agent_tool, AgentLayer, Run, RunMeta, StopReason};
use tracing_subscriber::prelude::*;

#[agent_tool]
fn work(n: u64) -> u64 {
    n + 1
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tracing-agent-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn lines_of(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Runs `runs` runs of `calls` tool calls on each of `threads` threads.
fn drive(layer: AgentLayer, threads: u64, runs: u64, calls: u64) {
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let dispatch = dispatch.clone();
            scope.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for _ in 0..runs {
                        let run = Run::start(RunMeta::new("sink-test"));
                        run.in_scope(|| {
                            (0..calls).for_each(|n| {
                                work(n);
                            })
                        });
                        run.stop(StopReason::Completed);
                    }
                })
            });
        }
    });
}

#[test]
fn a_file_output_appends_whole_lines_and_the_guard_flushes_them() {
    let dir = temp_dir("file");
    let path = dir.join("nested/events.jsonl");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "{\"kept\":\"from before\"}\n").unwrap();
    let yaml = format!(
        "logging:\n  output:\n    to: file\n    path: {}\n",
        path.display()
    );
    let (layer, guard) = AgentLayer::from_config_str(&yaml).unwrap();
    drive(layer, 2, 10, 3);
    drop(guard);
    let lines = lines_of(&path);
    assert_eq!(lines[0]["kept"], "from before", "appended, not truncated");
    // Per run: run_start, 3 tool_results, stop.
    assert_eq!(lines.len(), 1 + 2 * 10 * 5);
    assert_eq!(lines.iter().filter(|l| l["kind"] == "stop").count(), 20);
}

/// A writer that takes `delay` per write: a slow disk.
#[derive(Clone)]
struct SlowWriter {
    lines: Arc<Mutex<Vec<u8>>>,
    delay: Duration,
}

impl Write for SlowWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::thread::sleep(self.delay);
        self.lines.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn count_lines(buffer: &Mutex<Vec<u8>>) -> usize {
    let bytes = buffer.lock().unwrap();
    let text = std::str::from_utf8(&bytes).unwrap();
    for line in text.lines() {
        serde_json::from_str::<Value>(line).expect("every line whole");
    }
    text.lines().count()
}

#[test]
fn a_full_queue_makes_producers_wait_and_loses_nothing() {
    let slow = SlowWriter {
        lines: Arc::default(),
        delay: Duration::from_micros(200),
    };
    let queue = Queue {
        capacity: std::num::NonZeroUsize::new(4).unwrap(),
        when_full: WhenFull::Block,
        ..Queue::default()
    };
    let (layer, guard) = AgentLayer::new().with_background_writer(slow.clone(), queue);
    let stats = layer.stats();
    drive(layer, 2, 20, 5);
    drop(guard);
    let expected = 2 * 20 * (5 + 2);
    assert_eq!(count_lines(&slow.lines), expected);
    assert_eq!(stats.dropped(), 0);
    assert_eq!(stats.failed(), 0);
    assert_eq!(stats.written(), expected as u64);
}

#[test]
fn lossy_mode_drops_when_full_and_counts_every_drop() {
    let slow = SlowWriter {
        lines: Arc::default(),
        delay: Duration::from_millis(2),
    };
    let queue = Queue {
        capacity: std::num::NonZeroUsize::new(1).unwrap(),
        when_full: WhenFull::Drop,
        ..Queue::default()
    };
    let (layer, guard) = AgentLayer::new().with_background_writer(slow.clone(), queue);
    let stats = layer.stats();
    drive(layer, 2, 10, 5);
    drop(guard);
    let total = 2 * 10 * (5 + 2);
    let on_disk = count_lines(&slow.lines) as u64;
    assert!(
        stats.dropped() > 0,
        "a 2 ms writer behind a one-event queue must drop"
    );
    assert_eq!(
        on_disk + stats.dropped(),
        total,
        "every event is written or counted"
    );
}

struct BrokenDisk;
impl Write for BrokenDisk {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("No space left on device"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn background_write_failures_are_counted_and_the_agent_goes_on() {
    let (layer, guard) = AgentLayer::new().with_background_writer(BrokenDisk, Queue::default());
    let stats = layer.stats();
    drive(layer, 1, 3, 2);
    drop(guard);
    assert_eq!(stats.failed(), 3 * 4);
}

#[test]
fn rolling_output_writes_todays_file_and_keeps_logs_days_files() {
    let dir = temp_dir("rolling");
    // Forty days of old files, as a long-running deployment leaves them.
    for day in 1..=40 {
        let name = format!(
            "events.2025-{:02}-{:02}.jsonl",
            1 + (day - 1) / 28,
            1 + (day - 1) % 28
        );
        std::fs::write(dir.join(name), "{}\n").unwrap();
    }
    std::fs::write(dir.join("unrelated.txt"), "not ours\n").unwrap();
    let yaml = format!(
        "logging:\n  output:\n    to: rolling\n    directory: {}\n    file_prefix: events\nretention:\n  logs_days: 5\n",
        dir.display()
    );
    let (layer, guard) = AgentLayer::from_config_str(&yaml).unwrap();
    drive(layer, 1, 2, 1);
    drop(guard);
    let mut ours: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("events."))
        .collect();
    ours.sort();
    assert_eq!(ours.len(), 5, "retention keeps logs_days files: {ours:?}");
    let today = ours.last().unwrap();
    assert!(
        today.starts_with("events.2026") || today > &"events.2026".to_owned(),
        "{today}"
    );
    let events = lines_of(&dir.join(today));
    assert_eq!(events.len(), 2 * 3);
    assert!(
        dir.join("unrelated.txt").exists(),
        "only our own files are pruned"
    );
}

#[test]
fn dropping_the_guard_waits_for_a_slow_writer_to_drain_the_queue() {
    // 700 events at 2 ms each: longer than tracing-appender's own one-second flush.
    let slow = SlowWriter {
        lines: Arc::default(),
        delay: Duration::from_millis(2),
    };
    let queue = Queue {
        capacity: std::num::NonZeroUsize::new(1000).unwrap(),
        when_full: WhenFull::Block,
        ..Queue::default()
    };
    let (layer, guard) = AgentLayer::new().with_background_writer(slow.clone(), queue);
    let stats = layer.stats();
    drive(layer, 1, 100, 5);
    drop(guard);
    assert_eq!(count_lines(&slow.lines), 100 * 7);
    assert_eq!(stats.failed(), 0);
}
