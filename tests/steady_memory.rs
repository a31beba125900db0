//! Steady memory: no per-run state outlives its run.
//!
//! A million runs take a few seconds in release mode and far longer in debug, so the check
//! is ignored by default; run it with
//!
//! ```sh
//! cargo test --release --test steady_memory -- --ignored --nocapture
//! ```
//!
//! Linux only: resident memory is read from `/proc/self/status`.
#![cfg(target_os = "linux")]

use tracing_agent::{agent_tool, AgentLayer, ErrorClass, Run, RunMeta, StopReason};
use tracing_subscriber::prelude::*;

const RUNS: u64 = 1_000_000;
const WARM_UP_RUNS: u64 = 10_000;
/// "Within a few MB": room for allocator noise, far below the leak of even 8 bytes a run.
const ALLOWED_GROWTH_KIB: u64 = 4 * 1024;

#[derive(Debug, ErrorClass)]
enum LookupError {
    NotFound,
}

#[derive(serde::Serialize)]
struct Customer {
    id: u64,
    email: String,
}

#[agent_tool]
fn lookup(customer_id: u64, fields: &[&str]) -> Result<Customer, LookupError> {
    if customer_id % 5 == 4 {
        return Err(LookupError::NotFound);
    }
    Ok(Customer {
        id: customer_id,
        email: format!("customer-{customer_id}@example.com"),
    })
}

#[agent_tool(name = "email.send")]
fn send_email(to: &str, subject: &str) -> u64 {
    (to.len() + subject.len()) as u64
}

/// Resident set size in KiB, from `/proc/self/status`.
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line in /proc/self/status")
}

#[test]
#[ignore = "a million runs: run in release mode with --ignored"]
fn a_million_runs_end_where_ten_thousand_left_resident_memory() {
    let layer = AgentLayer::new().with_writer(std::io::sink);
    let stats = layer.stats();
    let subscriber = tracing_subscriber::registry().with(layer);
    let mut after_warm_up = 0;
    tracing::subscriber::with_default(subscriber, || {
        for run_number in 0..RUNS {
            let run = Run::start(RunMeta::new("steady-agent").model("m").prompt_version("v1"));
            run.in_scope(|| {
                for call in 0..4 {
                    let _ = lookup(run_number * 4 + call, &["email", "name"]);
                }
                send_email("customer@example.com", "About your order");
            });
            run.stop(StopReason::Completed);
            if run_number + 1 == WARM_UP_RUNS {
                after_warm_up = resident_kib();
            }
        }
    });
    let at_end = resident_kib();
    println!(
        "resident: {after_warm_up} KiB after {WARM_UP_RUNS} runs, {at_end} KiB after {RUNS} runs"
    );
    assert_eq!(
        stats.written(),
        RUNS * 7,
        "run_start, 5 tool_results, stop per run"
    );
    assert!(
        at_end <= after_warm_up + ALLOWED_GROWTH_KIB,
        "resident memory grew by {} KiB over {} runs (allowed {ALLOWED_GROWTH_KIB} KiB)",
        at_end.saturating_sub(after_warm_up),
        RUNS - WARM_UP_RUNS
    );
}
