//! The spans as an OpenTelemetry trace UI receives them: `tracing-opentelemetry` next to
//! `AgentLayer`, exported by the SDK's in-memory exporter. A failed tool call must look
//! failed, a run that did not complete must too, names must tell tools and agents apart,
//! and integers must arrive as integers.

mod common;

use std::io;

use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_agent::{
    agent_tool, record_llm, AgentLayer, ErrorClass, Limits, LlmCall, LlmRequest, LlmUsage, Refused,
    Run, RunMeta, StopReason, ToolCallId,
};
use tracing_subscriber::prelude::*;

#[derive(Debug, ErrorClass)]
enum HttpError {
    RateLimited,
    #[allow(dead_code)]
    Refused(Refused),
}

impl From<Refused> for HttpError {
    fn from(refused: Refused) -> Self {
        HttpError::Refused(refused)
    }
}

#[agent_tool(name = "http.get")]
fn http_get(fail: bool) -> Result<u32, HttpError> {
    if fail {
        Err(HttpError::RateLimited)
    } else {
        Ok(200)
    }
}

#[agent_tool(name = "explode")]
fn explode() -> u32 {
    panic!("the tool failed hard")
}

#[agent_tool(name = "slow")]
async fn slow() -> u32 {
    std::future::pending::<()>().await;
    0
}

/// Runs `f` under `tracing-opentelemetry` and `AgentLayer`; the spans exported.
fn exported<T>(f: impl FnOnce() -> T) -> (T, Vec<SpanData>) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
        .with(AgentLayer::new().with_writer(io::sink));
    let value = tracing::subscriber::with_default(subscriber, f);
    provider.force_flush().unwrap();
    (value, exporter.get_finished_spans().unwrap())
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|s| s.name == name).collect()
}

#[test]
fn tool_spans_are_named_for_their_tool_and_failures_look_failed() {
    let rt = common::current_thread_runtime();
    let (_, spans) = exported(|| {
        let run = Run::start(RunMeta::new("support-agent"));
        run.in_scope(|| {
            http_get(false).unwrap();
            http_get(true).unwrap_err();
            let panicked = std::panic::catch_unwind(explode);
            assert!(panicked.is_err());
        });
        // Dropped before it finishes: cancelled.
        rt.block_on(run.instrument(async {
            let slow = std::pin::pin!(slow());
            let _ = futures_poll_once(slow);
        }));
        run.stop(StopReason::Completed);
    });
    let tools = named(&spans, "execute_tool http.get");
    assert_eq!(
        tools.len(),
        2,
        "{:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    let (ok, failed) = (tools[0], tools[1]);
    assert_eq!(ok.span_kind, SpanKind::Internal);
    assert_eq!(ok.status, Status::Unset);
    assert!(attribute(ok, "error.type").is_none());
    assert_eq!(failed.status, Status::error(""));
    assert_eq!(
        attribute(failed, "error.type"),
        Some(&Value::from("RateLimited"))
    );
    assert_eq!(
        attribute(failed, "step_id"),
        Some(&Value::I64(2)),
        "an integer"
    );
    assert_eq!(
        attribute(failed, "gen_ai.tool.name"),
        Some(&Value::from("http.get"))
    );

    let panicked = named(&spans, "execute_tool explode");
    assert_eq!(panicked[0].status, Status::error(""));
    assert_eq!(
        attribute(panicked[0], "error.type"),
        Some(&Value::from("panic"))
    );
    let cancelled = named(&spans, "execute_tool slow");
    assert_eq!(cancelled[0].status, Status::error(""));
    assert_eq!(
        attribute(cancelled[0], "error.type"),
        Some(&Value::from("cancelled"))
    );

    // Every tool span is a child of the run's, in its trace.
    let run = named(&spans, "invoke_agent support-agent")[0];
    assert_eq!(run.span_kind, SpanKind::Internal);
    assert_eq!(run.status, Status::Unset, "completed");
    for tool in tools.iter().chain(&panicked).chain(&cancelled) {
        assert_eq!(tool.parent_span_id, run.span_context.span_id());
        assert_eq!(tool.span_context.trace_id(), run.span_context.trace_id());
    }
}

/// Polls a future once, as a caller that gives up on it would.
fn futures_poll_once<F: std::future::Future>(future: std::pin::Pin<&mut F>) -> bool {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    future.poll(&mut cx).is_ready()
}

/// Every stop reason: `completed` is the only success; the rest set `error.type` to the
/// reason and the error status; the draft finish reason follows the README's table.
#[test]
fn every_stop_reason_sets_status_error_type_and_the_draft_finish_reason() {
    // The README's mapping, written out by hand.
    let cases = [
        (StopReason::Completed, "completed"),
        (StopReason::MaxSteps, "max_iterations"),
        (StopReason::MaxToolCalls, "max_iterations"),
        (StopReason::TokenBudget, "max_tokens"),
        (StopReason::SpendBudget, "spend_budget"),
        (StopReason::TimeBudget, "time_budget"),
        (StopReason::LoopDetected, "guardrail"),
        (StopReason::Denied, "guardrail"),
        (StopReason::Killed, "guardrail"),
        (StopReason::ToolTimeout, "tool_failure"),
        (StopReason::ToolError, "tool_failure"),
        (StopReason::Cancelled, "cancelled"),
        (StopReason::Error, "error"),
        (StopReason::Panic, "error"),
        (StopReason::Dropped, "error"),
        (StopReason::Other("handed_off".into()), "handed_off"),
    ];
    for (reason, finish_reason) in cases {
        let (_, spans) = exported(|| {
            let run = Run::start(RunMeta::new("agent"));
            run.stop(reason.clone())
        });
        let run = named(&spans, "invoke_agent agent")[0];
        assert_eq!(run.span_kind, SpanKind::Internal, "{reason}");
        if reason == StopReason::Completed {
            assert_eq!(run.status, Status::Unset);
            assert_eq!(attribute(run, "error.type"), None);
        } else {
            assert_eq!(run.status, Status::error(""), "{reason}");
            assert_eq!(
                attribute(run, "error.type"),
                Some(&Value::from(reason.as_str().to_owned())),
                "{reason}"
            );
        }
        assert_eq!(
            attribute(run, "gen_ai.agent.finish_reason"),
            Some(&Value::from(finish_reason.to_owned())),
            "{reason}"
        );
        assert_eq!(
            attribute(run, "stop_reason"),
            Some(&Value::from(reason.as_str().to_owned()))
        );
    }
}

/// An LLM call is a `chat {model}` span under the run, with the GenAI attributes typed
/// as the convention types them; a failed one looks failed.
#[test]
fn an_llm_call_is_a_chat_span_with_typed_usage_and_cost() {
    let (_, spans) = exported(|| {
        let run = Run::start(RunMeta::new("agent"));
        run.in_scope(|| {
            let call = LlmCall::start(LlmRequest::new("openai", "gpt-4o"));
            call.finish(
                LlmUsage::new("gpt-4o-2024-08-06", 1200, 80)
                    .cached_input_tokens(1024)
                    .reasoning_tokens(0)
                    .finish_reasons(["stop", "length"])
                    .spend_usd(0.0031),
            );
            LlmCall::start(
                LlmRequest::new("anthropic", "claude-sonnet-4").operation("generate_content"),
            )
            .fail("RateLimited");
        });
        run.stop(StopReason::Completed);
    });
    let run = named(&spans, "invoke_agent agent")[0];
    let chat = named(&spans, "chat gpt-4o")[0];
    assert_eq!(chat.span_kind, SpanKind::Internal);
    assert_eq!(chat.parent_span_id, run.span_context.span_id());
    assert_eq!(chat.status, Status::Unset);
    let expected = [
        ("gen_ai.operation.name", Value::from("chat")),
        ("gen_ai.provider.name", Value::from("openai")),
        ("gen_ai.request.model", Value::from("gpt-4o")),
        ("gen_ai.response.model", Value::from("gpt-4o-2024-08-06")),
        ("gen_ai.response.finish_reasons", Value::from("stop,length")),
        ("gen_ai.usage.input_tokens", Value::I64(1200)),
        ("gen_ai.usage.output_tokens", Value::I64(80)),
        ("gen_ai.usage.cache_read.input_tokens", Value::I64(1024)),
        ("gen_ai.usage.reasoning.output_tokens", Value::I64(0)),
        ("gen_ai.usage.cost.amount", Value::F64(0.0031)),
        ("gen_ai.usage.cost.currency", Value::from("USD")),
        ("gen_ai.usage.cost.source", Value::from("provider")),
        ("step_id", Value::I64(1)),
    ];
    for (key, value) in &expected {
        assert_eq!(attribute(chat, key), Some(value), "{key}");
    }
    assert_eq!(attribute(chat, "error.type"), None);
    let failed = named(&spans, "generate_content claude-sonnet-4")[0];
    assert_eq!(failed.status, Status::error(""));
    assert_eq!(
        attribute(failed, "error.type"),
        Some(&Value::from("RateLimited"))
    );
    assert_eq!(
        attribute(failed, "gen_ai.usage.cost.amount"),
        None,
        "unknown, not 0"
    );
}

/// The model's id for a tool call reaches the tool's span.
#[test]
fn a_tool_call_id_is_the_span_s_gen_ai_tool_call_id() {
    let (_, spans) = exported(|| {
        let run = Run::start(RunMeta::new("agent"));
        run.in_scope(|| ToolCallId::new("call_8Hq2").in_scope(|| http_get(false).unwrap()));
        run.stop(StopReason::Completed);
    });
    let tool = named(&spans, "execute_tool http.get")[0];
    assert_eq!(
        attribute(tool, "gen_ai.tool.call.id"),
        Some(&Value::from("call_8Hq2"))
    );
}

#[test]
fn a_guard_trip_is_the_runs_error_and_token_counts_are_integers() {
    let (_, spans) = exported(|| {
        let run = Run::start(RunMeta::new("guarded").limits(Limits::new().max_tool_calls(1)));
        run.in_scope(|| {
            record_llm(LlmUsage::new("m", 6000, 250));
            http_get(false).unwrap();
            assert!(http_get(false).is_err(), "refused");
        });
        run.stop(StopReason::Completed)
    });
    let run = named(&spans, "invoke_agent guarded")[0];
    assert_eq!(run.status, Status::error(""));
    assert_eq!(
        attribute(run, "error.type"),
        Some(&Value::from("max_tool_calls"))
    );
    assert_eq!(
        attribute(run, "gen_ai.usage.input_tokens"),
        Some(&Value::I64(6000)),
        "an integer, not \"6000\""
    );
    assert_eq!(
        attribute(run, "gen_ai.usage.output_tokens"),
        Some(&Value::I64(250))
    );
    let refused = named(&spans, "execute_tool http.get")[1];
    assert_eq!(
        attribute(refused, "error.type"),
        Some(&Value::from("refused:max_tool_calls"))
    );
}

#[test]
fn a_sub_agent_run_is_inside_its_parents_trace() {
    let (_, spans) = exported(|| {
        let parent = Run::start(RunMeta::new("support-agent"));
        parent.in_scope(|| {
            let child = Run::start(RunMeta::new("research-agent"));
            child.in_scope(|| http_get(false).unwrap());
            child.stop(StopReason::Completed);
        });
        parent.stop(StopReason::Completed);
    });
    let parent = named(&spans, "invoke_agent support-agent")[0];
    let child = named(&spans, "invoke_agent research-agent")[0];
    let tool = named(&spans, "execute_tool http.get")[0];
    assert_eq!(child.parent_span_id, parent.span_context.span_id());
    assert_eq!(tool.parent_span_id, child.span_context.span_id());
    let trace = parent.span_context.trace_id();
    assert!([child, tool]
        .iter()
        .all(|s| s.span_context.trace_id() == trace));
}
