//! What `AgentLayer` records through the `metrics` facade: exact names, labels and values
//! for a small scripted run, captured with `metrics-util`'s `DebuggingRecorder`.

mod common;

use common::FullDisk;

use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::MetricKind;
use tracing_agent::metrics::{Metrics, Tracked};
use tracing_agent::{agent_tool, AgentLayer, ErrorClass, LlmUsage, Run, RunMeta, StopReason};
use tracing_subscriber::prelude::*;

#[derive(Debug, ErrorClass)]
enum HttpError {
    RateLimited,
}

#[derive(Debug)]
struct Leaky;
impl tracing_agent::ErrorClass for Leaky {
    fn error_class(&self) -> std::borrow::Cow<'static, str> {
        // A class built from user data: must not become a label value.
        "no account for ada@example.com".into()
    }
}

#[agent_tool(name = "crm.lookup")]
fn lookup(customer_id: u64) -> Result<u64, HttpError> {
    std::thread::sleep(Duration::from_millis(10));
    Ok(customer_id)
}

#[agent_tool(name = "http.get")]
fn http_get(url: &str) -> Result<String, HttpError> {
    let _ = url;
    Err(HttpError::RateLimited)
}

#[agent_tool(name = "crm.find")]
fn find(email: &str) -> Result<u64, Leaky> {
    let _ = email;
    Err(Leaky)
}

/// Series as `"<kind> <name>{k=v,..}"`, labels sorted, with their values.
type Series = BTreeMap<String, Value>;

#[derive(Debug, PartialEq)]
enum Value {
    Counter(u64),
    Histogram(Vec<f64>),
}

impl Value {
    fn histogram(&self) -> &[f64] {
        match self {
            Value::Histogram(values) => values,
            other => panic!("not a histogram: {other:?}"),
        }
    }
}

/// Runs `f` with `layer` installed and a `DebuggingRecorder` as the metrics recorder (both
/// on this thread only), and returns every series recorded.
fn record(layer: AgentLayer, f: impl FnOnce()) -> Series {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let subscriber = tracing_subscriber::registry().with(layer);
    metrics::with_local_recorder(&recorder, || {
        tracing::subscriber::with_default(subscriber, f)
    });
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let kind = match key.kind() {
                MetricKind::Counter => "counter",
                MetricKind::Gauge => "gauge",
                MetricKind::Histogram => "histogram",
            };
            let mut labels: Vec<String> = key
                .key()
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            labels.sort();
            let name = format!("{kind} {}{{{}}}", key.key().name(), labels.join(","));
            let value = match value {
                DebugValue::Counter(n) => Value::Counter(n),
                DebugValue::Histogram(values) => {
                    Value::Histogram(values.into_iter().map(|v| v.into_inner()).collect())
                }
                DebugValue::Gauge(g) => panic!("no gauge expected: {name} = {g}"),
            };
            (name, value)
        })
        .collect()
}

/// Two lookups (10 ms each), one rate-limited call, two LLM calls; stopped on a loop.
fn scripted_run() {
    let run = Run::start(RunMeta::new("support-agent").run_id("req-4217-ada"));
    run.in_scope(|| {
        lookup(1).unwrap();
        lookup(2).unwrap();
        http_get("https://crm.example/ada").unwrap_err();
        tracing_agent::record_llm(LlmUsage::new("gpt-4o", 1200, 350).spend_usd(0.004));
        tracing_agent::record_llm(LlmUsage::new("gpt-4o", 800, 200).spend_usd(0.001));
    });
    run.stop(StopReason::LoopDetected);
}

fn keys(series: &Series) -> Vec<&str> {
    series.keys().map(String::as_str).collect()
}

#[test]
fn a_run_records_exactly_these_series() {
    let series = record(AgentLayer::new().with_writer(io::sink), scripted_run);
    assert_eq!(
        keys(&series),
        [
            "counter agent_stop_total{agent=support-agent,stop_reason=loop_detected}",
            "counter agent_tool_errors_total{error=RateLimited,tool=http.get}",
            "histogram agent_run_latency_ms{agent=support-agent}",
            "histogram agent_spend_per_run_usd{agent=support-agent}",
            "histogram agent_tokens_per_request{agent=support-agent}",
            "histogram agent_tool_calls{agent=support-agent}",
            "histogram agent_tool_duration_ms{status=error,tool=http.get}",
            "histogram agent_tool_duration_ms{status=ok,tool=crm.lookup}",
        ]
    );
    let get = |key: &str| &series[key];
    assert_eq!(
        get("counter agent_stop_total{agent=support-agent,stop_reason=loop_detected}"),
        &Value::Counter(1)
    );
    assert_eq!(
        get("counter agent_tool_errors_total{error=RateLimited,tool=http.get}"),
        &Value::Counter(1)
    );
    assert_eq!(
        get("histogram agent_tool_calls{agent=support-agent}"),
        &Value::Histogram(vec![3.0])
    );
    assert_eq!(
        get("histogram agent_tokens_per_request{agent=support-agent}"),
        &Value::Histogram(vec![1550.0, 1000.0])
    );
    let spend = get("histogram agent_spend_per_run_usd{agent=support-agent}").histogram();
    assert_eq!(spend.len(), 1);
    assert!((spend[0] - 0.005).abs() < 1e-12, "{spend:?}");

    // Wall times, in ms: each lookup slept 10 ms, and the run contains both.
    let lookups = get("histogram agent_tool_duration_ms{status=ok,tool=crm.lookup}").histogram();
    assert_eq!(lookups.len(), 2);
    assert!(lookups.iter().all(|ms| *ms >= 10.0), "{lookups:?}");
    let failed = get("histogram agent_tool_duration_ms{status=error,tool=http.get}").histogram();
    assert_eq!(failed.len(), 1);
    let latency = get("histogram agent_run_latency_ms{agent=support-agent}").histogram();
    assert_eq!(latency.len(), 1);
    assert!(
        latency[0] >= lookups.iter().sum::<f64>(),
        "{latency:?} vs {lookups:?}"
    );
}

#[test]
fn no_label_carries_the_run_id_or_arguments() {
    let series = record(
        AgentLayer::new()
            .with_writer(io::sink)
            .with_metrics(Metrics::new().gen_ai(true)),
        scripted_run,
    );
    for key in series.keys() {
        assert!(!key.contains("req-4217"), "run id leaked: {key}");
        assert!(!key.contains("crm.example"), "argument leaked: {key}");
        let tool_level = [
            "agent_tool_duration_ms",
            "agent_tool_errors_total",
            "execute_tool",
        ];
        if tool_level.iter().any(|name| key.contains(name)) {
            assert!(
                !key.contains("support-agent"),
                "agent on a tool series: {key}"
            );
        }
    }
}

#[test]
fn gen_ai_metrics_follow_the_convention_when_switched_on() {
    let series = record(
        AgentLayer::new()
            .with_writer(io::sink)
            .with_metrics(Metrics::new().gen_ai(true)),
        scripted_run,
    );
    let gen_ai: Vec<&str> = keys(&series)
        .into_iter()
        .filter(|k| k.contains("gen_ai."))
        .collect();
    assert_eq!(
        gen_ai,
        [
            "histogram gen_ai.client.token.usage{gen_ai.operation.name=chat,gen_ai.request.model=gpt-4o,gen_ai.token.type=input}",
            "histogram gen_ai.client.token.usage{gen_ai.operation.name=chat,gen_ai.request.model=gpt-4o,gen_ai.token.type=output}",
            "histogram gen_ai.execute_tool.duration{error.type=RateLimited,gen_ai.tool.name=http.get}",
            "histogram gen_ai.execute_tool.duration{gen_ai.tool.name=crm.lookup}",
            "histogram gen_ai.invoke_agent.duration{error.type=loop_detected,gen_ai.agent.name=support-agent}",
        ]
    );
    assert_eq!(
        series["histogram gen_ai.client.token.usage{gen_ai.operation.name=chat,gen_ai.request.model=gpt-4o,gen_ai.token.type=input}"],
        Value::Histogram(vec![1200.0, 800.0])
    );
    assert_eq!(
        series["histogram gen_ai.client.token.usage{gen_ai.operation.name=chat,gen_ai.request.model=gpt-4o,gen_ai.token.type=output}"],
        Value::Histogram(vec![350.0, 200.0])
    );
    // Seconds, not milliseconds: each lookup slept 10 ms.
    let lookups =
        series["histogram gen_ai.execute_tool.duration{gen_ai.tool.name=crm.lookup}"].histogram();
    assert!(
        lookups.iter().all(|s| (0.01..1.0).contains(s)),
        "{lookups:?}"
    );
    // And the project's own series are all still there.
    assert_eq!(series.len(), 8 + 5);
}

#[test]
fn a_completed_run_has_no_error_type() {
    let series = record(
        AgentLayer::new()
            .with_writer(io::sink)
            .with_metrics(Metrics::new().gen_ai(true)),
        || {
            Run::start(RunMeta::new("support-agent")).stop(StopReason::Completed);
        },
    );
    assert!(
        series.contains_key(
            "histogram gen_ai.invoke_agent.duration{gen_ai.agent.name=support-agent}"
        ),
        "{:?}",
        keys(&series)
    );
}

/// What `scripted_run` records when only `stop_reason` and `tokens_per_request` are
/// tracked: those two run-level series, and the tool series that are always on.
const STOP_REASON_AND_TOKENS_ONLY: [&str; 5] = [
    "counter agent_stop_total{agent=support-agent,stop_reason=loop_detected}",
    "counter agent_tool_errors_total{error=RateLimited,tool=http.get}",
    "histogram agent_tokens_per_request{agent=support-agent}",
    "histogram agent_tool_duration_ms{status=error,tool=http.get}",
    "histogram agent_tool_duration_ms{status=ok,tool=crm.lookup}",
];

#[test]
fn track_chooses_the_run_level_series_and_leaves_tool_series_on() {
    let series = record(
        AgentLayer::new()
            .with_writer(io::sink)
            .with_metrics(Metrics::new().track([Tracked::StopReason, Tracked::TokensPerRequest])),
        scripted_run,
    );
    assert_eq!(keys(&series), STOP_REASON_AND_TOKENS_ONLY);
}

#[test]
fn the_config_file_track_list_chooses_the_same_series() {
    let (layer, guard) = AgentLayer::from_config_str(
        "metrics:\n  track: [\"stop_reason\", \"tokens_per_request\"]\nlogging:\n  output: { to: stderr }\n",
    )
    .unwrap();
    drop(guard);
    let series = record(layer.with_writer(io::sink), scripted_run);
    assert_eq!(keys(&series), STOP_REASON_AND_TOKENS_ONLY);
}

#[test]
fn off_records_nothing_even_when_set_before_with_writer() {
    let series = record(
        AgentLayer::new()
            .with_metrics(Metrics::off())
            .with_writer(io::sink),
        scripted_run,
    );
    assert!(series.is_empty(), "{:?}", keys(&series));
}

#[test]
fn a_run_without_spend_records_no_spend() {
    let series = record(AgentLayer::new().with_writer(io::sink), || {
        let run = Run::start(RunMeta::new("a"));
        run.in_scope(|| tracing_agent::record_llm(LlmUsage::new("m", 10, 5)));
        run.stop(StopReason::Completed);
    });
    assert!(
        !series.keys().any(|k| k.contains("spend")),
        "{:?}",
        keys(&series)
    );
    assert_eq!(
        series["histogram agent_tool_calls{agent=a}"],
        Value::Histogram(vec![0.0])
    );
}

#[test]
fn an_llm_call_outside_a_run_has_no_agent_label() {
    let series = record(AgentLayer::new().with_writer(io::sink), || {
        tracing_agent::record_llm(LlmUsage::new("m", 10, 5));
    });
    assert_eq!(
        series.into_iter().collect::<Vec<_>>(),
        [(
            "histogram agent_tokens_per_request{}".to_owned(),
            Value::Histogram(vec![15.0])
        )]
    );
}

#[test]
fn custom_reasons_and_classes_that_look_like_data_become_other() {
    let series = record(AgentLayer::new().with_writer(io::sink), || {
        let run = Run::start(RunMeta::new("a"));
        run.in_scope(|| find("ada@example.com").unwrap_err());
        run.stop(StopReason::Other("gave up on ada@example.com".into()));
        Run::start(RunMeta::new("a")).stop(StopReason::Other("handed_off".into()));
    });
    assert_eq!(
        series["counter agent_stop_total{agent=a,stop_reason=other}"],
        Value::Counter(1)
    );
    assert_eq!(
        series["counter agent_stop_total{agent=a,stop_reason=handed_off}"],
        Value::Counter(1)
    );
    assert_eq!(
        series["counter agent_tool_errors_total{error=other,tool=crm.find}"],
        Value::Counter(1)
    );
}

#[test]
fn a_dropped_run_counts_as_dropped() {
    let series = record(AgentLayer::new().with_writer(io::sink), || {
        drop(Run::start(RunMeta::new("a")));
    });
    assert_eq!(
        series["counter agent_stop_total{agent=a,stop_reason=dropped}"],
        Value::Counter(1)
    );
}

#[test]
fn events_the_writer_loses_are_counted() {
    let layer = AgentLayer::new().with_writer(|| FullDisk);
    let stats = layer.stats();
    let series = record(layer, || {
        let run = Run::start(RunMeta::new("a"));
        run.in_scope(|| lookup(1).unwrap());
        run.stop(StopReason::Completed);
    });
    assert_eq!(stats.failed(), 3, "run_start, tool_result, stop");
    assert_eq!(
        series["counter agent_events_dropped_total{}"],
        Value::Counter(3)
    );
}

#[test]
fn a_writer_that_works_drops_nothing() {
    let (_, capture) = common::capture(|| ());
    let series = record(AgentLayer::new().with_writer(capture.clone()), scripted_run);
    assert!(!series.keys().any(|k| k.contains("dropped")));
    assert_eq!(capture.of_kind("stop").len(), 1);
}

/// A writer that takes 2 ms a line: behind a one-event lossy queue, it makes drops.
struct SlowDisk;
impl io::Write for SlowDisk {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::thread::sleep(std::time::Duration::from_millis(2));
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn events_a_lossy_queue_drops_are_counted() {
    let queue = tracing_agent::config::Queue {
        capacity: std::num::NonZeroUsize::new(1).unwrap(),
        when_full: tracing_agent::config::WhenFull::Drop,
        ..tracing_agent::config::Queue::default()
    };
    let (layer, guard) = AgentLayer::new().with_background_writer(SlowDisk, queue);
    let stats = layer.stats();
    let series = record(layer, || {
        for _ in 0..20 {
            let run = Run::start(RunMeta::new("a"));
            run.in_scope(|| lookup(1).unwrap());
            run.stop(StopReason::Completed);
        }
    });
    drop(guard);
    assert!(stats.dropped() > 0, "a slow writer behind one slot drops");
    assert_eq!(
        series["counter agent_events_dropped_total{}"],
        Value::Counter(stats.dropped())
    );
}
