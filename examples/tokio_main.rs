//! The pattern for a tokio application that loses no event at exit.
//!
//! `#[tokio::main]` drops the runtime (and with it every task still running) after
//! `main`'s body has returned, so after a `FlushGuard` held in that body has flushed:
//! what those tasks write as they are dropped (their tool calls `cancelled`, their runs
//! `dropped`) is queued after the last flush, and lost at exit. Build the runtime by hand
//! instead (it is what `#[tokio::main]` expands to) and keep the guard outside it:
//!
//! 1. shut the runtime down first, with a bound: dropped tasks write their events;
//! 2. `tracing_agent::shutdown`: runs held anywhere else still open get their `stop`,
//!    and the queue is flushed, with a bound;
//! 3. the guard drops last.
//!
//! `cargo run --example tokio_main -- events.jsonl` writes the events to that file: three
//! runs whose tool calls never finish, each with its `cancelled` call and `dropped` stop.

use std::time::Duration;

use tracing_agent::{agent_tool, AgentLayer, Run, RunMeta, StopReason};
use tracing_subscriber::prelude::*;

#[agent_tool(name = "http.get")]
async fn http_get(url: &str) -> usize {
    // A call that is still waiting when the application decides to exit.
    tokio::time::sleep(Duration::from_secs(3600)).await;
    url.len()
}

async fn app() {
    for customer in 0..3 {
        tokio::spawn(async move {
            let run = Run::start(RunMeta::new("support-agent"));
            run.scope(http_get(&format!("https://crm.example/{customer}")))
                .await;
            run.stop(StopReason::Completed);
        });
    }
    // The application's own work ends here, with the three tasks still waiting.
    tokio::time::sleep(Duration::from_millis(100)).await;
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: tokio_main EVENTS_FILE")?;
    main_with(&path)
}

/// `main`, writing the events to `path` (`tests/tokio_main.rs` runs it too).
pub fn main_with(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let config = format!(
        "logging:\n  output:\n    to: file\n    path: {}\n",
        serde_json::to_string(&path)?
    );
    let (layer, guard) = AgentLayer::from_config_str(&config)?;
    tracing_subscriber::registry().with(layer).init();

    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(app());
    // 1. The tasks still running are dropped now, while the writer is flushed after.
    runtime.shutdown_timeout(Duration::from_secs(5));
    // 2. Runs still open elsewhere get their stop; the queue is written, with a bound.
    if let Err(unflushed) = tracing_agent::shutdown(Duration::from_secs(5)) {
        eprintln!("tokio_main: {unflushed}");
    }
    // 3. Last.
    drop(guard);
    Ok(())
}
