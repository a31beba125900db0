//! A failing writer never breaks the agent: failures are counted, reported once.

mod common;

use common::FullDisk;

use tracing_agent::{agent_tool, AgentLayer, Run, RunMeta, StopReason};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

struct Panicking;
impl<'a> MakeWriter<'a> for Panicking {
    type Writer = FullDisk;
    fn make_writer(&'a self) -> FullDisk {
        panic!("writer bug")
    }
}

#[agent_tool]
fn work(n: u32) -> u32 {
    n + 1
}

#[test]
fn a_failing_writer_is_counted_and_the_agent_goes_on() {
    let layer = AgentLayer::new().with_writer(|| FullDisk);
    let stats = layer.stats();
    let subscriber = tracing_subscriber::registry().with(layer);
    let stopped = tracing::subscriber::with_default(subscriber, || {
        let run = Run::start(RunMeta::new("t"));
        assert_eq!(run.in_scope(|| work(1) + work(2)), 5);
        run.stop(StopReason::Completed)
    });
    assert_eq!(stopped.usage.tool_calls, 2, "the run kept counting");
    assert_eq!(stats.failed(), 4, "run_start, two tool_results, stop");
    assert_eq!(stats.written(), 0);
}

#[test]
fn a_panicking_writer_never_panics_into_the_agent() {
    let layer = AgentLayer::new().with_writer(Panicking);
    let stats = layer.stats();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let run = Run::start(RunMeta::new("t"));
        assert_eq!(run.in_scope(|| work(1)), 2);
        run.stop(StopReason::Completed);
    });
    assert_eq!(stats.failed(), 3);
}

/// The child of `write_failures_are_reported_once_on_stderr`: many failing writes.
#[test]
#[ignore = "the child process of write_failures_are_reported_once_on_stderr"]
fn failing_writer_child() {
    if std::env::var_os("TRACING_AGENT_FAULTS_CHILD").is_none() {
        return;
    }
    let subscriber =
        tracing_subscriber::registry().with(AgentLayer::new().with_writer(|| FullDisk));
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..50 {
            let run = Run::start(RunMeta::new("t"));
            run.in_scope(|| work(1));
            run.stop(StopReason::Completed);
        }
    });
}

#[test]
fn write_failures_are_reported_once_on_stderr() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "failing_writer_child",
            "--nocapture",
        ])
        .env("TRACING_AGENT_FAULTS_CHILD", "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the agent survived 150 failed writes"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let reports = stderr
        .matches("tracing-agent: could not write an event")
        .count();
    assert_eq!(reports, 1, "{stderr}");
    assert!(stderr.contains("no space left on device"), "{stderr}");
}

/// The child of `a_global_filter_that_hides_runs_is_reported_once`.
#[test]
#[ignore = "the child process of a_global_filter_that_hides_runs_is_reported_once"]
fn filtered_out_child() {
    if std::env::var_os("TRACING_AGENT_FILTER_CHILD").is_none() {
        return;
    }
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::filter::LevelFilter::WARN)
        .with(AgentLayer::new());
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..3 {
            let run = Run::start(RunMeta::new("t"));
            run.in_scope(|| work(1));
            run.stop(StopReason::Completed);
        }
    });
}

#[test]
fn a_global_filter_that_hides_runs_is_reported_once() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "filtered_out_child", "--nocapture"])
        .env("TRACING_AGENT_FILTER_CHILD", "1")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !stdout.contains("\"kind\""),
        "the filter hid every event: {stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.matches("a filter disabled the run's span").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("tracing_agent::run=info"), "{stderr}");
}

thread_local! {
    static KEPT_RUN: std::cell::RefCell<Option<Run>> = const { std::cell::RefCell::new(None) };
}

/// A run kept in a thread-local (as a thread-local runtime would keep a task) is dropped
/// while the thread's locals are torn down: it still writes its stop, and nothing it
/// reads then (clocks, buffers) panics, which there would abort the process.
#[test]
fn a_run_dropped_while_its_thread_exits_still_writes_its_stop() {
    let (subscriber, cap) = common::agent_subscriber();
    let dispatch = tracing::Dispatch::new(subscriber);
    std::thread::spawn(move || {
        // Touched first, so its destructor runs after those of the locals the run's
        // code initializes later.
        KEPT_RUN.with(|_| ());
        let run = tracing::dispatcher::with_default(&dispatch, || {
            let run = Run::start(RunMeta::new("t"));
            run.in_scope(|| work(1));
            run
        });
        KEPT_RUN.with(|kept| *kept.borrow_mut() = Some(run));
    })
    .join()
    .expect("the thread exits cleanly");
    let stops = cap.of_kind("stop");
    assert_eq!(stops.len(), 1, "{}", cap.text());
    assert_eq!(stops[0]["stop_reason"], "dropped");
    assert!(stops[0]["ts_ms"].as_u64().unwrap() > 1_600_000_000_000);
}
