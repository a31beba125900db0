//! The tokio pattern of `examples/tokio_main.rs` loses nothing at exit: the events that
//! tasks still running write as the runtime drops them reach the file. Run in a child
//! process, since it installs a global subscriber and exits.

use std::process::Command;

use serde_json::Value;

#[test]
fn tasks_still_running_at_exit_write_their_cancelled_calls_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "child_tokio_main", "--nocapture"])
        .env("TOKIO_MAIN_EVENTS", &path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = std::fs::read_to_string(&path).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = |kind: &str| events.iter().filter(|e| e["kind"] == kind).count();
    assert_eq!(count("run_start"), 3, "{text}");
    let calls: Vec<_> = events
        .iter()
        .filter(|e| e["kind"] == "tool_result")
        .collect();
    assert_eq!(calls.len(), 3, "{text}");
    assert!(calls.iter().all(|c| c["error"] == "cancelled"), "{text}");
    let stops: Vec<_> = events.iter().filter(|e| e["kind"] == "stop").collect();
    assert_eq!(stops.len(), 3, "{text}");
    assert!(
        stops.iter().all(|s| s["stop_reason"] == "dropped"),
        "{text}"
    );
}

#[path = "../examples/tokio_main.rs"]
#[allow(dead_code)]
mod example;

#[test]
#[ignore = "run by tasks_still_running_at_exit_write_their_cancelled_calls_and_stops"]
fn child_tokio_main() {
    // The example's own `main`, as a user runs it.
    let path = std::env::var("TOKIO_MAIN_EVENTS").unwrap();
    example::main_with(&path).unwrap();
}
