//! `AgentFields` keeps `fmt`'s text lines short: every line inside a run still says its
//! `run_id` (and, inside a tool, its `tool` and `step_id`), the run's versions are said
//! once on its `run started` line, and the OpenTelemetry attributes are not repeated.

mod common;

use std::io;
use std::sync::{Arc, Mutex};

use tracing_agent::{agent_tool, AgentFields, AgentLayer, Run, RunMeta, StopReason};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

#[agent_tool(name = "crm.lookup")]
fn lookup(id: u64) -> u64 {
    tracing::info!(region = "eu-west", "customer found");
    id
}

#[derive(Clone, Default)]
struct Text(Arc<Mutex<Vec<u8>>>);

impl io::Write for Text {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Text {
    type Writer = Text;
    fn make_writer(&'a self) -> Text {
        self.clone()
    }
}

/// The text lines of one small run, with `AgentFields` or `fmt`'s default.
fn lines(agent_fields: bool) -> Vec<String> {
    let text = Text::default();
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .without_time()
        .with_writer(text.clone());
    let run = || {
        let run = Run::start(
            RunMeta::new("support-agent")
                .model("gpt-4o-2024-08-06")
                .prompt_version("v12")
                .tools_version("2024-10-01")
                .run_id("req-7f3a"),
        );
        run.in_scope(|| {
            lookup(4217);
            // A field recorded later and left out adds nothing, not even a space.
            tracing_agent::ToolCallId::new("call_1").in_scope(|| lookup(1));
            let span = tracing::info_span!("plan", gen_ai_like = "kept", attempt = 2);
            span.in_scope(|| tracing::warn!(otel.name = "a user's own field", "thinking"));
        });
        run.stop(StopReason::Completed);
    };
    let layer = AgentLayer::new().with_writer(io::sink);
    if agent_fields {
        let subscriber = tracing_subscriber::registry()
            .with(fmt.fmt_fields(AgentFields::default()))
            .with(layer);
        tracing::subscriber::with_default(subscriber, run);
    } else {
        let subscriber = tracing_subscriber::registry().with(fmt).with(layer);
        tracing::subscriber::with_default(subscriber, run);
    }
    let text = String::from_utf8(text.0.lock().unwrap().clone()).unwrap();
    text.lines().map(|l| l.trim_start().to_owned()).collect()
}

#[test]
fn lines_keep_the_run_and_step_and_say_the_versions_once() {
    let lines = lines(true);
    assert_eq!(
        lines,
        [
            "INFO invoke_agent{run_id=req-7f3a}: tracing_agent::run: run started agent=support-agent model=\"gpt-4o-2024-08-06\" prompt=\"v12\" tools=\"2024-10-01\"",
            "INFO invoke_agent{run_id=req-7f3a}:execute_tool{tool=\"crm.lookup\" step_id=1}: fmt_lines: customer found region=\"eu-west\"",
            "INFO invoke_agent{run_id=req-7f3a}:execute_tool{tool=\"crm.lookup\" step_id=2}: fmt_lines: customer found region=\"eu-west\"",
            // A user's span keeps its fields; an event field named like one of ours is
            // left out (said in `AgentFields`' docs).
            "WARN invoke_agent{run_id=req-7f3a}:plan{gen_ai_like=\"kept\" attempt=2}: fmt_lines: thinking",
        ]
    );
}

#[test]
fn the_default_fields_repeat_the_run_s_attributes_on_every_line() {
    let default = lines(false);
    let tool_line = default
        .iter()
        .find(|l| l.contains("customer found"))
        .unwrap();
    assert!(
        tool_line.contains("gen_ai.agent.name=support-agent"),
        "{tool_line}"
    );
    assert!(tool_line.contains("otel.name"), "{tool_line}");
    let short = lines(true);
    let short_tool_line = short.iter().find(|l| l.contains("customer found")).unwrap();
    assert!(
        short_tool_line.len() * 2 < tool_line.len(),
        "{short_tool_line}\n{tool_line}"
    );
}
