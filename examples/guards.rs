//! The seed's incident, twice. A flaky `http.get`, a tool layer that retries it, and an
//! agent that turns every failure into another query with the same arguments.
//!
//! - Without guards, the agent goes round until its own turn cap (25 here, so that the
//!   example ends): 5x the tool calls of a good run, and the spend with them.
//! - With limits (loop detection, a tool-call and a spend budget) and `Run::retry`
//!   (full jitter, 3 attempts), the third identical failing call is refused before its
//!   body runs, the run stops with `loop_detected`, and the `guard` event says why.
//!
//! ```text
//! cargo run --example guards
//! tracing-agent show <RUN_ID> <the events file it prints>
//! ```

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tracing_agent::{
    agent_tool, record_llm, AgentLayer, ErrorClass, Limits, LlmUsage, Refused, Retry, Run, RunMeta,
    StopReason, Stopped,
};
use tracing_subscriber::prelude::*;

#[derive(Debug, ErrorClass)]
enum HttpError {
    /// Upstream answered 503.
    Unavailable,
    /// A guard refused the call before it ran.
    Refused(Refused),
}

impl From<Refused> for HttpError {
    fn from(refused: Refused) -> Self {
        HttpError::Refused(refused)
    }
}

static CALLS: AtomicU32 = AtomicU32::new(0);

/// The upstream is down for this query: every call fails the same way.
#[agent_tool(name = "http.get", timeout = "2s")]
async fn http_get(url: String) -> Result<String, HttpError> {
    CALLS.fetch_add(1, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(2)).await;
    if url.contains("orders") {
        Err(HttpError::Unavailable)
    } else {
        Ok(format!("200 OK from {url}"))
    }
}

/// One turn of the "model": it reads the last error and asks for the same page again.
fn think(turn: u32) {
    record_llm(LlmUsage::new(
        "gpt-4o-2024-08-06",
        1_800 + 200 * u64::from(turn),
        150,
    ));
}

/// The agent: up to `max_turns` turns of think, then fetch with retries.
async fn agent(run: &Run, max_turns: u32, retry: &Retry) -> StopReason {
    for turn in 0..max_turns {
        if let Err(reason) = run.check() {
            return reason;
        }
        think(turn);
        match run
            .retry(retry, || {
                http_get("https://api.example.com/orders/42".into())
            })
            .await
        {
            Ok(_) => return StopReason::Completed,
            Err(HttpError::Refused(refused)) => return refused.reason(),
            Err(HttpError::Unavailable) => continue, // "let me try that again"
        }
    }
    StopReason::MaxSteps
}

fn describe(label: &str, stopped: &Stopped) {
    println!(
        "{label}: run {} stopped with {}: {} tool calls ({} failed), {} LLM calls, {} tokens, ${:.4}",
        stopped.run_id,
        stopped.stop_reason,
        stopped.usage.tool_calls,
        stopped.usage.tool_errors,
        stopped.usage.llm_calls,
        stopped.usage.input_tokens + stopped.usage.output_tokens,
        stopped.usage.spend_usd.unwrap_or(0.0),
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let events = std::env::temp_dir().join("tracing-agent-guards-example.jsonl");
    let file = std::fs::File::create(&events)?;
    let (layer, flush) = AgentLayer::from_config_str(
        "pricing:\n  gpt-4o-2024-08-06:\n    input_usd_per_million: 2.5\n    output_usd_per_million: 10\n",
    )?;
    let (layer, file_flush) = layer.with_background_writer(file, Default::default());
    drop(flush);
    tracing_subscriber::registry().with(layer).init();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;

    // The incident: the tool layer retries 8 times, without jitter, and nothing stops it.
    let no_jitter = Retry::new()
        .max_attempts(8)
        .min_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(1));
    let run = Run::start(RunMeta::new("support-agent").prompt_version("v12"));
    let reason = rt.block_on(run.instrument(agent(&run, 25, &no_jitter)));
    let unguarded = run.stop(reason);
    describe("without guards", &unguarded);

    // The same agent with guards and jittered retries.
    let limits = Limits::new()
        .loop_repeats(3)
        .max_tool_calls(30)
        .max_spend_usd(0.50)
        .max_duration(Duration::from_secs(60));
    let jittered = Retry::new()
        .max_attempts(3)
        .min_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(20));
    let run = Run::start(
        RunMeta::new("support-agent")
            .prompt_version("v12")
            .limits(limits),
    );
    let reason = rt.block_on(async {
        match run.guard(agent(&run, 25, &jittered)).await {
            Ok(reason) => reason,
            Err(tripped) => tripped,
        }
    });
    let guarded = run.stop(reason);
    describe("with guards   ", &guarded);

    drop(file_flush);
    let text = std::fs::read_to_string(&events)?;
    for line in text
        .lines()
        .filter(|line| line.contains("\"kind\":\"guard\""))
    {
        println!("the guard event: {line}");
    }
    println!(
        "http.get bodies run: {}; events in {}",
        CALLS.load(Ordering::Relaxed),
        events.display()
    );
    Ok(())
}
