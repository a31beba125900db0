//! "It emailed the wrong customer": record a run, then replay it with the fixed prompt
//! without sending a single email, and see where the new run departs from the old one.
//!
//! 1. Prompt v12 runs live: it searches the CRM for "Ada", takes the first hit, and
//!    emails the wrong Ada. Every tool outcome is recorded into a snapshot store.
//! 2. Prompt v13 (the fix: take the customer whose order it is) is replayed against
//!    that recording: the search is answered from the store, no tool body runs, and the
//!    email to a different address, which the recording cannot answer, is refused.
//! 3. The report shows the step where `send_email`'s arguments change.
//!
//! ```text
//! cargo run --example replay
//! ```

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};
use tracing_agent::replay::{Recording, SnapshotStore};
use tracing_agent::{agent_tool, AgentLayer, ErrorClass, Refused, Run, RunMeta, StopReason};
use tracing_subscriber::prelude::*;

/// Tool bodies that actually ran: the replay must leave it unchanged.
static BODIES_RUN: AtomicU32 = AtomicU32::new(0);

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Customer {
    id: u64,
    name: String,
    email: String,
}

#[derive(Debug, Serialize, Deserialize, ErrorClass)]
enum ToolError {
    Unreachable,
    /// A guard or the replay refused the call; never recorded, never restored.
    #[serde(skip)]
    Refused(Refused),
}

impl From<Refused> for ToolError {
    fn from(refused: Refused) -> Self {
        ToolError::Refused(refused)
    }
}

#[agent_tool(name = "crm.search")]
async fn search(name: String) -> Result<Vec<Customer>, ToolError> {
    BODIES_RUN.fetch_add(1, Ordering::Relaxed);
    let ada = |id, email: &str| Customer {
        id,
        name: "Ada Lovelace".into(),
        email: email.into(),
    };
    if name.is_empty() {
        return Err(ToolError::Unreachable);
    }
    Ok(vec![
        ada(1815, "ada@analytical-engines.example"),
        ada(4242, "ada.lovelace@customer.example"),
    ])
}

#[agent_tool(writes)]
fn send_email(to: &str, subject: &str) -> Result<String, ToolError> {
    BODIES_RUN.fetch_add(1, Ordering::Relaxed);
    Ok(format!("queued <{subject}> for {to}"))
}

/// The agent: what the "model" decides depends on the prompt version.
async fn support_agent(prompt_version: &str, order_customer: u64) -> Result<String, ToolError> {
    let hits = search("Ada".into()).await?;
    let chosen = match prompt_version {
        // v12: "email the customer you find" — the first Ada.
        "v12" => &hits[0],
        // v13: "email the customer whose order it is".
        _ => hits
            .iter()
            .find(|c| c.id == order_customer)
            .unwrap_or(&hits[0]),
    };
    send_email(&chosen.email, "Your refund for order 77")
}

async fn run_once(
    log: &Path,
    store: Option<&SnapshotStore>,
    prompt: &str,
    meta: RunMeta,
) -> (tracing_agent::Stopped, Result<String, ToolError>) {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("the log opens");
    let mut layer = AgentLayer::new().with_writer(std::sync::Mutex::new(file));
    if let Some(store) = store {
        layer = layer.with_snapshots(store.clone());
    }
    let _default = tracing_subscriber::registry().with(layer).set_default();
    let run = Run::start(meta.prompt_version(prompt));
    let answer = run.instrument(support_agent(prompt, 4242)).await;
    (run.stop(StopReason::Completed), answer)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("tracing-agent-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let log = dir.join("events.jsonl");
    let store = SnapshotStore::open(dir.join("snapshots"))?;

    // 1. The incident: prompt v12, live, recorded.
    let (recorded, answer) =
        run_once(&log, Some(&store), "v12", RunMeta::new("support-agent")).await;
    println!("recorded run {} (prompt v12): {answer:?}", recorded.run_id);
    if !store.flush(std::time::Duration::from_secs(5)) {
        return Err("the snapshots were not written in time".into());
    }

    // 2. The fix, replayed: the same agent code, the recorded outcomes.
    let recording = Recording::load(&store, &[&log], &recorded.run_id)?;
    let bodies_before = BODIES_RUN.load(Ordering::Relaxed);
    let (replayed, answer) = run_once(
        &log,
        None,
        "v13",
        RunMeta::new("support-agent").replay(recording),
    )
    .await;
    let ran = BODIES_RUN.load(Ordering::Relaxed) - bodies_before;
    match &answer {
        Err(ToolError::Refused(refused)) => println!("replayed run (prompt v13): {refused}"),
        other => println!("replayed run (prompt v13): {other:?}"),
    }
    println!("tool bodies run during the replay: {ran}");
    assert_eq!(ran, 0, "a replay runs no tool body");

    // 3. Where the runs part.
    let report = replayed
        .replay
        .as_ref()
        .expect("a replayed run has a report");
    println!();
    print!("{report}");
    for d in report.divergences() {
        println!(
            "=> {} at recorded step {:?}: {} ({} -> {})",
            d.code(),
            d.recorded_step(),
            d.tool(),
            d.recorded_args_sha().unwrap_or("-"),
            d.replayed_args_sha().unwrap_or("-"),
        );
    }
    println!();
    println!(
        "the same from the logs alone: tracing-agent diff {} {} {}",
        recorded.run_id,
        replayed.run_id,
        log.display()
    );
    if std::env::var_os("KEEP").is_none() {
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}
