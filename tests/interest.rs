//! `AgentLayer` beside the user's layers: it neither switches their callsites off nor
//! keeps alive the ones their filters switched off (which would make every such
//! `debug!` a slow one), and its own spans work whatever their filters say.

mod common;

use common::Capture;
use tracing::level_filters::LevelFilter;
use tracing::{Dispatch, Level, Metadata, Subscriber};
use tracing_agent::{agent_tool, AgentLayer, Run, RunMeta, StopReason};
use tracing_subscriber::fmt::format::{DefaultFields, Format};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

fn debug_event() -> &'static Metadata<'static> {
    use tracing::callsite::Callsite;
    tracing::callsite! {
        name: "a debug event",
        kind: tracing::metadata::Kind::EVENT,
        level: Level::DEBUG,
        fields: []
    }
    .metadata()
}

type FmtLayer<S> = tracing_subscriber::fmt::Layer<S, DefaultFields, Format, Capture>;

fn fmt_into<S>(capture: &Capture) -> FmtLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(capture.clone())
}

#[agent_tool]
fn lookup(customer_id: u64) -> u64 {
    tracing::debug!("looking up");
    tracing::warn!("slow backend");
    customer_id
}

fn run_agent() {
    let run = Run::start(RunMeta::new("t"));
    run.in_scope(|| lookup(4217));
    run.stop(StopReason::Completed);
}

#[test]
fn a_callsite_the_users_per_layer_filter_rejects_stays_never() {
    let logs = Capture::default();
    let without =
        tracing_subscriber::registry().with(fmt_into(&logs).with_filter(EnvFilter::new("info")));
    assert!(without.register_callsite(debug_event()).is_never());
    assert_eq!(without.max_level_hint(), Some(LevelFilter::INFO));

    let with = tracing_subscriber::registry()
        .with(fmt_into(&logs).with_filter(EnvFilter::new("info")))
        .with(AgentLayer::new().with_writer(std::io::sink));
    assert!(with.register_callsite(debug_event()).is_never());
    assert_eq!(with.max_level_hint(), Some(LevelFilter::INFO));
}

#[test]
fn agent_spans_work_under_a_per_layer_filter_that_rejects_them() {
    let logs = Capture::default();
    let events = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(fmt_into(&logs).with_filter(EnvFilter::new("warn")))
        .with(AgentLayer::new().with_writer(events.clone()));
    tracing::subscriber::with_default(subscriber, run_agent);
    let tool = &events.of_kind("tool_result")[0];
    assert_eq!(tool["tool"], "lookup");
    assert_eq!(tool["step_id"], 1);
    assert!(logs.text().contains("slow backend"), "{}", logs.text());
    assert!(!logs.text().contains("looking up"), "{}", logs.text());
}

#[test]
fn nothing_is_switched_off_for_an_unfiltered_layer() {
    let logs = Capture::default();
    let events = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(fmt_into(&logs))
        .with(AgentLayer::new().with_writer(events.clone()));
    // "Sometimes" rather than "always": with a per-layer filter anywhere in the stack,
    // `tracing-subscriber` asks each call; it stays on for the `fmt` layer.
    assert!(!subscriber.register_callsite(debug_event()).is_never());
    assert_eq!(subscriber.max_level_hint(), None, "every level stays on");
    tracing::dispatcher::with_default(&Dispatch::new(subscriber), run_agent);
    assert!(logs.text().contains("looking up"), "{}", logs.text());
    assert_eq!(events.of_kind("tool_result").len(), 1);
}

#[test]
fn a_global_filter_still_decides_for_everyone() {
    let logs = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(EnvFilter::new("info"))
        .with(fmt_into(&logs))
        .with(AgentLayer::new().with_writer(std::io::sink));
    assert!(subscriber.register_callsite(debug_event()).is_never());
}
