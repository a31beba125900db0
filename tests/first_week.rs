//! What a first week of use asks for: `#[agent_tool]`'s `level` and `target`, the model's
//! tool-call id on the event, and an async entry point that `tracing::Instrument` does not
//! shadow.

mod common;

use std::sync::{Arc, Mutex};

use common::capture;
use serde_json::json;
// Imported, as almost every async user has it: `Run::scope` must still resolve.
use tracing::Instrument as _;
use tracing::{Level, Metadata, Subscriber};
use tracing_agent::{agent_tool, Run, RunMeta, StopReason, ToolCallId};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

#[agent_tool(name = "crm.lookup", level = "debug", target = "myapp::tools")]
fn lookup(id: u64) -> u64 {
    id
}

#[agent_tool(level = tracing::Level::WARN)]
fn send_email(to: &str) -> bool {
    nested_audit(to)
}

#[agent_tool]
fn nested_audit(to: &str) -> bool {
    !to.is_empty()
}

#[agent_tool]
async fn fetch(url: &str) -> usize {
    url.len()
}

/// Records the level and target of every span it sees, as another layer would.
#[derive(Clone, Default)]
struct SpanMeta(Arc<Mutex<Vec<(String, Level, String)>>>);

impl<S: Subscriber> Layer<S> for SpanMeta {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: Context<'_, S>,
    ) {
        let meta: &Metadata<'_> = attrs.metadata();
        self.0.lock().unwrap().push((
            meta.name().to_owned(),
            *meta.level(),
            meta.target().to_owned(),
        ));
    }
}

#[test]
fn level_and_target_set_the_tool_span_s_and_the_call_is_still_recorded() {
    let seen = SpanMeta::default();
    let capture = common::Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(seen.clone())
        .with(tracing_agent::AgentLayer::new().with_writer(capture.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let run = Run::start(RunMeta::new("agent"));
        run.in_scope(|| {
            lookup(7);
            send_email("ada@example.com");
        });
        run.stop(StopReason::Completed);
    });
    let spans = seen.0.lock().unwrap().clone();
    let tools: Vec<_> = spans
        .iter()
        .filter(|(name, ..)| name == "execute_tool")
        .collect();
    assert_eq!(
        tools
            .iter()
            .map(|(_, level, target)| (*level, target.as_str()))
            .collect::<Vec<_>>(),
        [
            (Level::DEBUG, "myapp::tools"),
            (Level::WARN, "tracing_agent::tool"),
            (Level::INFO, "tracing_agent::tool"),
        ]
    );
    let names: Vec<_> = capture
        .of_kind("tool_result")
        .iter()
        .map(|e| (e["tool"].clone(), e["step_id"].clone()))
        .collect();
    assert_eq!(
        names,
        [
            (json!("crm.lookup"), json!(1)),
            (json!("nested_audit"), json!(3)),
            (json!("send_email"), json!(2)),
        ]
    );
}

/// A filter that lets the tool's target through at its level records it; one that
/// keeps DEBUG out switches that span off, for every layer, as it does any DEBUG span.
#[test]
fn a_debug_tool_follows_the_filters_like_any_debug_span() {
    for (filter, recorded) in [("info,myapp::tools=debug", true), ("info", false)] {
        let capture = common::Capture::default();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::new(filter))
            .with(tracing_agent::AgentLayer::new().with_writer(capture.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let run = Run::start(RunMeta::new("agent"));
            run.in_scope(|| lookup(7));
            run.stop(StopReason::Completed);
        });
        let tools = capture.of_kind("tool_result");
        assert_eq!(tools.len(), usize::from(recorded), "{filter}: {tools:?}");
    }
}

#[test]
fn the_model_s_tool_call_id_is_on_the_call_it_names_only() {
    let rt = common::current_thread_runtime();
    let (_, capture) = capture(|| {
        let run = Run::start(RunMeta::new("agent"));
        run.in_scope(|| {
            ToolCallId::new("call_8Hq2").in_scope(|| send_email("ada@example.com"));
            send_email("bob@example.com");
        });
        rt.block_on(run.scope(async {
            ToolCallId::new("toolu_01A")
                .scope(fetch("https://example.com"))
                .await;
            fetch("https://example.org").await;
        }));
        run.stop(StopReason::Completed);
    });
    let ids: Vec<_> = capture
        .of_kind("tool_result")
        .iter()
        .map(|e| (e["tool"].clone(), e.get("tool_call_id").cloned()))
        .collect();
    assert_eq!(
        ids,
        [
            (json!("nested_audit"), None),
            (json!("send_email"), Some(json!("call_8Hq2"))),
            (json!("nested_audit"), None),
            (json!("send_email"), None),
            (json!("fetch"), Some(json!("toolu_01A"))),
            (json!("fetch"), None),
        ]
    );
}

/// `Run::scope` is found with `tracing::Instrument` imported, and keeps the run around
/// every await: a tool called after an await still belongs to the run.
#[test]
fn run_scope_is_not_shadowed_by_tracing_instrument() {
    let rt = common::current_thread_runtime();
    let (run_id, capture) = capture(|| {
        let run = Run::start(RunMeta::new("agent"));
        rt.block_on(run.scope(async {
            tokio::task::yield_now().await;
            // `tracing::Instrument` in use beside it.
            fetch("https://example.com").in_current_span().await
        }));
        let run_id = run.run_id().to_owned();
        run.stop(StopReason::Completed);
        run_id
    });
    assert_eq!(capture.of_kind("tool_result")[0]["run_id"], run_id.as_str());
}
