//! Existing `tracing` logs inside a run or tool carry `run_id` and `step_id` through the
//! stock `fmt` layer, text and JSON alike.

mod common;

use common::Capture;
use serde_json::Value;
use tracing_agent::{agent_tool, AgentLayer, Run, RunMeta, StopReason};
use tracing_subscriber::prelude::*;

#[agent_tool]
fn send_email(to: &str) -> u32 {
    tracing::info!(to, "sending email");
    7
}

fn run_agent() -> String {
    let run = Run::start(RunMeta::new("support-agent").run_id("run-abc"));
    run.in_scope(|| {
        tracing::info!("planning");
        send_email("customer@example.com");
    });
    run.stop(StopReason::Completed);
    "run-abc".to_owned()
}

#[test]
fn fmt_text_lines_carry_run_id_and_step_id() {
    let logs = Capture::default();
    let events = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(logs.clone()),
        )
        .with(AgentLayer::new().with_writer(events.clone()));
    tracing::subscriber::with_default(subscriber, run_agent);
    let text = logs.text();
    let planning = text.lines().find(|l| l.contains("planning")).unwrap();
    assert!(planning.contains("run_id=run-abc"), "{planning}");
    let sending = text.lines().find(|l| l.contains("sending email")).unwrap();
    assert!(sending.contains("run_id=run-abc"), "{sending}");
    assert!(sending.contains("step_id=1"), "{sending}");
    assert!(
        sending.contains("gen_ai.tool.name=\"send_email\""),
        "{sending}"
    );
    assert_eq!(events.of_kind("tool_result")[0]["step_id"], 1);
}

#[test]
fn fmt_json_lines_carry_run_id_and_step_id() {
    let logs = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(logs.clone()),
        )
        .with(AgentLayer::new().with_writer(std::io::sink));
    tracing::subscriber::with_default(subscriber, run_agent);
    let lines: Vec<Value> = logs
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let sending = lines
        .iter()
        .find(|l| l["fields"]["message"] == "sending email")
        .unwrap();
    let spans = sending["spans"].as_array().unwrap();
    assert_eq!(spans[0]["name"], "invoke_agent");
    assert_eq!(spans[0]["run_id"], "run-abc");
    assert_eq!(spans[1]["name"], "execute_tool");
    assert_eq!(spans[1]["step_id"], 1);
    assert_eq!(spans[1]["gen_ai.tool.name"], "send_email");
    assert_eq!(sending["span"]["step_id"], 1);
    let planning = lines
        .iter()
        .find(|l| l["fields"]["message"] == "planning")
        .unwrap();
    assert_eq!(planning["span"]["run_id"], "run-abc");
}

#[test]
fn run_span_follows_opentelemetry_genai_names() {
    let logs = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
                .with_writer(logs.clone()),
        )
        .with(AgentLayer::new().with_writer(std::io::sink));
    tracing::subscriber::with_default(subscriber, || {
        let run = Run::start(RunMeta::new("support-agent").model("gpt-4o"));
        run.in_scope(|| tracing_agent::record_llm(tracing_agent::LlmUsage::new("gpt-4o", 10, 5)));
        run.stop(StopReason::Completed);
    });
    let lines: Vec<Value> = logs
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let llm = lines
        .iter()
        .find(|l| l["target"] == "tracing_agent::llm")
        .unwrap();
    assert_eq!(llm["fields"]["gen_ai.usage.input_tokens"], 10);
    assert_eq!(llm["fields"]["gen_ai.usage.output_tokens"], 5);
    let close = lines
        .iter()
        .find(|l| l["span"]["name"] == "invoke_agent" && l["fields"]["message"] == "close")
        .unwrap();
    assert_eq!(close["span"]["gen_ai.agent.name"], "support-agent");
    assert_eq!(close["span"]["gen_ai.request.model"], "gpt-4o");
    assert_eq!(close["span"]["gen_ai.usage.input_tokens"], 10);
    assert_eq!(close["span"]["stop_reason"], "completed");
}
