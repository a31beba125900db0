//! Exports the agent's spans to an OpenTelemetry collector over OTLP (HTTP, protobuf),
//! next to `AgentLayer`'s events: a support agent whose `crm.lookup` succeeds, whose
//! `http.get` is rate-limited, whose LLM call is a `chat` span, and which hands a
//! question to a research sub-agent whose run is a child of its own.
//!
//! ```sh
//! cargo run --example otlp -- http://localhost:4318/v1/traces
//! ```
//!
//! The spans arrive as `invoke_agent support-agent` > `execute_tool crm.lookup`,
//! `execute_tool http.get` (error, `error.type` `RateLimited`), `chat gpt-4o`,
//! `invoke_agent research-agent` > `execute_tool web.search`.

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_agent::{
    agent_tool, AgentLayer, ErrorClass, LlmCall, LlmRequest, LlmUsage, Run, RunMeta, StopReason,
};
use tracing_subscriber::prelude::*;

#[derive(Debug, ErrorClass)]
enum HttpError {
    RateLimited,
}

#[agent_tool(name = "crm.lookup")]
fn lookup(customer_id: u64) -> String {
    format!("customer-{customer_id}@example.com")
}

#[agent_tool(name = "http.get")]
fn http_get(url: &str) -> Result<String, HttpError> {
    let _ = url;
    Err(HttpError::RateLimited)
}

#[agent_tool(name = "web.search")]
fn web_search(query: &str) -> Vec<String> {
    vec![format!("result for {query}")]
}

/// OTLP's HTTP client: `ureq`, blocking, which the SDK's simple span processor may use
/// since it exports on the calling thread. `opentelemetry-otlp`'s own clients are
/// reqwest's and hyper's; this adapter is the whole of what it needs from one.
#[derive(Debug)]
struct UreqClient(ureq::Agent);

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for UreqClient {
    async fn send_bytes(
        &self,
        request: opentelemetry_http::Request<opentelemetry_http::Bytes>,
    ) -> Result<
        opentelemetry_http::Response<opentelemetry_http::Bytes>,
        opentelemetry_http::HttpError,
    > {
        let (parts, body) = request.into_parts();
        let mut sent = self.0.post(parts.uri.to_string());
        for (name, value) in &parts.headers {
            sent = sent.header(name.as_str(), value.to_str()?);
        }
        let response = sent.send(&body[..])?;
        let status = response.status();
        let body = response.into_body().read_to_vec()?;
        Ok(opentelemetry_http::Response::builder()
            .status(status.as_u16())
            .body(opentelemetry_http::Bytes::from(body))?)
    }
}

fn agent() {
    let run = Run::start(
        RunMeta::new("support-agent")
            .model("gpt-4o")
            .prompt_version("v13"),
    );
    run.in_scope(|| {
        let email = lookup(4217);
        let _ = http_get("https://status.example.com");
        let call = LlmCall::start(LlmRequest::new("openai", "gpt-4o"));
        call.finish(
            LlmUsage::new("gpt-4o-2024-08-06", 1200, 80)
                .finish_reasons(["stop"])
                .spend_usd(0.0038),
        );
        let research = Run::start(RunMeta::new("research-agent"));
        research.in_scope(|| web_search("refund policy"));
        research.stop(StopReason::Completed);
        let _ = email;
    });
    run.stop(StopReason::ToolError);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = std::env::args()
        .nth(1)
        .ok_or("usage: otlp ENDPOINT (e.g. http://localhost:4318/v1/traces)")?;
    main_with(&endpoint)
}

/// `main`, exporting to `endpoint` (`tests/otlp.rs` runs it too).
pub fn main_with(endpoint: &str) -> Result<(), Box<dyn std::error::Error>> {
    let client = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build(),
    );
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(UreqClient(client))
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint)
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter)
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("otlp-example")))
        .with(AgentLayer::new().with_writer(std::io::stdout));
    tracing::subscriber::with_default(subscriber, agent);
    provider.force_flush()?;
    provider.shutdown()?;
    Ok(())
}
