//! A small support agent with three tools. Its unified events go to stdout, one JSON
//! object per line; the ordinary `tracing` logs go to stderr, now carrying `run_id` and
//! `step_id`.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use serde::Serialize;
use tracing_agent::{
    agent_tool, AgentLayer, ErrorClass, LlmCall, LlmRequest, LlmUsage, Run, RunMeta, StopReason,
    ToolCallId,
};
use tracing_subscriber::prelude::*;

/// A CRM client: not hashed (`skip(client)`), and not `Serialize` at all.
struct CrmClient {
    region: &'static str,
}

#[derive(Debug, Serialize)]
struct Customer {
    id: u64,
    name: String,
    email: String,
}

#[derive(Debug, ErrorClass)]
enum CrmError {
    #[allow(dead_code)]
    NotFound,
}

#[derive(Debug, ErrorClass)]
enum HttpError {
    RateLimited { retry_after_s: u64 },
}

#[derive(Debug)]
struct EmailError;

/// Async tool: looks a customer up (pretends to, after a short await).
#[agent_tool(name = "crm.lookup", skip(client), version = "3")]
async fn lookup(client: &CrmClient, customer_id: u64) -> Result<Customer, CrmError> {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    tracing::info!(region = client.region, "customer found");
    Ok(Customer {
        id: customer_id,
        name: "Ada".into(),
        email: "ada@example.com".into(),
    })
}

/// Fails the way the incident's `http.get` did: rate-limited.
#[agent_tool(name = "http.get")]
async fn http_get(url: String) -> Result<String, HttpError> {
    tracing::warn!(%url, "upstream answered 429");
    Err(HttpError::RateLimited { retry_after_s: 2 })
}

/// Sync tool: sends an email (pretends to).
#[agent_tool]
fn send_email(to: &str, subject: &str) -> Result<String, EmailError> {
    tracing::info!(subject, "sending email");
    let _ = to;
    Ok("msg-0001".to_owned())
}

/// The model's turn (pretends to ask it): one LLM call, a timed step of its own.
async fn ask_model() {
    let call = LlmCall::start(LlmRequest::new("openai", "gpt-4o"));
    call.scope(tokio::time::sleep(std::time::Duration::from_millis(20)))
        .await;
    call.finish(
        LlmUsage::new("gpt-4o-2024-08-06", 1200, 350)
            .cached_input_tokens(1024)
            .finish_reasons(["tool_calls"])
            .spend_usd(0.0042),
    );
}

// The events go straight to stdout (no background writer), so `#[tokio::main]` loses
// nothing here; with a file output, see `examples/tokio_main.rs`.
#[tokio::main]
async fn main() {
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .fmt_fields(tracing_agent::AgentFields::default())
                .with_writer(std::io::stderr),
        )
        .with(AgentLayer::new())
        .init();

    let run = Run::start(
        RunMeta::new("support-agent")
            .model("gpt-4o-2024-08-06")
            .prompt_version("v12")
            .tools_version("2024-10-01"),
    );
    let client = CrmClient { region: "eu-west" };
    let outcome = run
        .scope(async {
            ask_model().await;
            let customer = lookup(&client, 4217).await.ok()?;
            let status = http_get("https://status.example.com/orders/4217".into()).await;
            if let Err(HttpError::RateLimited { retry_after_s }) = status {
                tracing::warn!(
                    retry_after_s,
                    "order status unavailable, answering without it"
                );
            }
            // The id the model gave this tool call, for joining to the provider's logs.
            ToolCallId::new("call_8Hq2")
                .in_scope(|| send_email(&customer.email, "About your order"))
                .ok()
        })
        .await;

    let reason = if outcome.is_some() {
        StopReason::Completed
    } else {
        StopReason::ToolError
    };
    let stopped = run.stop(reason);
    eprintln!(
        "stopped: {}",
        serde_json::to_string(&stopped).expect("Stopped serializes")
    );
}
