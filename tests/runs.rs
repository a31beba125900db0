//! Runs: one `run_start`, exactly one `stop`, and everything in between attributed.

mod common;

use std::collections::{HashMap, HashSet};

use common::{agent_subscriber, capture};
use serde_json::{json, Value};
use tracing::instrument::WithSubscriber;
use tracing_agent::{agent_tool, record_llm, LlmUsage, Run, RunMeta, StopReason, Stopped};

#[agent_tool]
fn step(n: u64) -> u64 {
    n * 2
}

#[agent_tool]
async fn async_step(run_no: u64, call: u64) -> u64 {
    tokio::task::yield_now().await;
    tokio::time::sleep(std::time::Duration::from_millis(call % 3)).await;
    run_no + call
}

#[test]
fn run_start_carries_versions_and_stop_carries_usage() {
    let (stopped, cap) = capture(|| {
        let run = Run::start(
            RunMeta::new("support-agent")
                .model("gpt-4o-2024-08-06")
                .prompt_version("v12")
                .tools_version("2024-10-01")
                .run_id("req-42"),
        );
        assert_eq!(run.run_id(), "req-42");
        run.in_scope(|| {
            record_llm(LlmUsage::new("gpt-4o-2024-08-06", 1200, 350).spend_usd(0.0042));
            step(1);
            record_llm(
                LlmUsage::new("gpt-4o-mini", 100, 50)
                    .duration(std::time::Duration::from_millis(250)),
            );
        });
        run.stop(StopReason::Completed)
    });
    let events = cap.events();
    let kinds: Vec<_> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "run_start",
            "llm_result",
            "tool_result",
            "llm_result",
            "stop"
        ]
    );
    for event in &events {
        assert_eq!(event["run_id"], "req-42");
    }
    assert_eq!(
        events[0]["meta"],
        json!({"agent": "support-agent", "model": "gpt-4o-2024-08-06", "prompt_version": "v12",
               "tools_version": "2024-10-01", "parent_run_id": null, "schema_version": 1})
    );
    let llm = &events[1];
    assert_eq!(llm["step_id"], 1);
    assert_eq!(llm["model"], "gpt-4o-2024-08-06");
    assert_eq!(
        llm["usage"],
        json!({"input_tokens": 1200, "output_tokens": 350, "spend_usd": 0.0042})
    );
    assert_eq!(llm["duration_ms"], Value::Null);
    assert_eq!(events[2]["step_id"], 2);
    assert_eq!(events[3]["step_id"], 3);
    assert_eq!(events[3]["duration_ms"], 250);
    assert_eq!(events[3]["usage"]["spend_usd"], Value::Null);

    let stop = &events[4];
    assert_eq!(stop["stop_reason"], "completed");
    assert!(stop["duration_ms"].is_u64());
    // The second LLM call gave no cost and its model has no price: the spend is the
    // first call's, partial, and the run says one call was unpriced.
    let usage = json!({"steps": 3, "tool_calls": 1, "tool_errors": 0, "llm_calls": 2,
                       "input_tokens": 1300, "output_tokens": 400, "cached_input_tokens": 0,
                       "reasoning_tokens": 0, "spend_usd": 0.0042, "unpriced_llm_calls": 1});
    assert_eq!(stop["usage"], usage);
    assert_eq!(
        serde_json::to_value(&stopped).unwrap(),
        json!({"status": "stopped", "run_id": "req-42", "stop_reason": "completed", "usage": usage})
    );
}

#[test]
fn generated_run_ids_are_uuid_v7_and_time_ordered() {
    let (ids, _) = capture(|| {
        (0..50)
            .map(|_| {
                Run::start(RunMeta::new("t"))
                    .stop(StopReason::Completed)
                    .run_id
            })
            .collect::<Vec<_>>()
    });
    for id in &ids {
        let uuid = uuid::Uuid::parse_str(id).unwrap();
        assert_eq!(uuid.get_version_num(), 7, "{id}");
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, ids, "v7 ids sort in creation order");
}

#[test]
fn every_stop_reason_serializes_snake_case_and_other_as_itself() {
    let cases = [
        (StopReason::Completed, "completed"),
        (StopReason::MaxSteps, "max_steps"),
        (StopReason::MaxToolCalls, "max_tool_calls"),
        (StopReason::TokenBudget, "token_budget"),
        (StopReason::SpendBudget, "spend_budget"),
        (StopReason::TimeBudget, "time_budget"),
        (StopReason::LoopDetected, "loop_detected"),
        (StopReason::ToolTimeout, "tool_timeout"),
        (StopReason::ToolError, "tool_error"),
        (StopReason::Denied, "denied"),
        (StopReason::Killed, "killed"),
        (StopReason::Cancelled, "cancelled"),
        (StopReason::Error, "error"),
        (StopReason::Panic, "panic"),
        (StopReason::Dropped, "dropped"),
        (StopReason::Other("handed_off".into()), "handed_off"),
    ];
    for (reason, name) in cases {
        assert_eq!(serde_json::to_value(&reason).unwrap(), json!(name));
        let back: StopReason = serde_json::from_value(json!(name)).unwrap();
        assert_eq!(back, reason);
        let (_, cap) = capture(|| Run::start(RunMeta::new("t")).stop(reason.clone()));
        assert_eq!(cap.of_kind("stop")[0]["stop_reason"], name);
    }
}

#[test]
fn a_run_dropped_without_stop_writes_dropped() {
    let (_, cap) = capture(|| {
        let run = Run::start(RunMeta::new("t"));
        run.in_scope(|| step(1));
        drop(run);
    });
    let stops = cap.of_kind("stop");
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0]["stop_reason"], "dropped");
    assert_eq!(stops[0]["usage"]["tool_calls"], 1);
}

#[test]
fn a_run_unwound_by_a_panic_writes_panic() {
    let (caught, cap) = capture(|| {
        std::panic::catch_unwind(|| {
            let run = Run::start(RunMeta::new("t"));
            run.in_scope(|| panic!("agent crashed"));
        })
    });
    assert!(caught.is_err());
    let stops = cap.of_kind("stop");
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0]["stop_reason"], "panic");
}

#[test]
fn a_nested_run_is_its_own_run_with_a_parent() {
    let (_, cap) = capture(|| {
        let outer = Run::start(RunMeta::new("planner"));
        outer.in_scope(|| {
            step(1);
            let inner = Run::start(RunMeta::new("researcher"));
            inner.in_scope(|| {
                step(2);
                step(3);
            });
            inner.stop(StopReason::Completed);
            step(4);
        });
        outer.stop(StopReason::Completed);
    });
    let starts = cap.of_kind("run_start");
    assert_eq!(starts.len(), 2);
    let outer_id = starts[0]["run_id"].clone();
    let inner_id = starts[1]["run_id"].clone();
    assert_ne!(outer_id, inner_id);
    assert_eq!(starts[0]["meta"]["parent_run_id"], Value::Null);
    assert_eq!(starts[1]["meta"]["parent_run_id"], outer_id);

    let tools = cap.of_kind("tool_result");
    let runs_of: Vec<_> = tools
        .iter()
        .map(|e| (e["run_id"].clone(), e["step_id"].clone()))
        .collect();
    assert_eq!(
        runs_of,
        [
            (outer_id.clone(), json!(1)),
            (inner_id.clone(), json!(1)),
            (inner_id.clone(), json!(2)),
            (outer_id.clone(), json!(2)),
        ]
    );
    let stops = cap.of_kind("stop");
    let usage_of = |id: &Value| {
        stops.iter().find(|s| &s["run_id"] == id).unwrap()["usage"]["tool_calls"].clone()
    };
    assert_eq!(
        usage_of(&inner_id),
        2,
        "the inner run's tools count toward it only"
    );
    assert_eq!(usage_of(&outer_id), 2);
}

#[test]
fn concurrent_tool_calls_in_one_run_get_distinct_steps() {
    let (subscriber, cap) = agent_subscriber();
    let dispatch = tracing::Dispatch::new(subscriber);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(
        async {
            let run = Run::start(RunMeta::new("fan-out"));
            let calls = (0..50).map(|call| {
                let fut = run.instrument(async_step(0, call));
                tokio::spawn(fut.with_current_subscriber())
            });
            for handle in calls.collect::<Vec<_>>() {
                handle.await.unwrap();
            }
            run.stop(StopReason::Completed);
        }
        .with_subscriber(dispatch),
    );
    let tools = cap.of_kind("tool_result");
    assert_eq!(tools.len(), 50);
    let steps: HashSet<u64> = tools
        .iter()
        .map(|e| e["step_id"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, (1..=50).collect(), "each call gets its own step id");
}

#[test]
fn hundreds_of_concurrent_runs_keep_their_events_apart() {
    const RUNS: u64 = 300;
    const CALLS: u64 = 4;
    let (subscriber, cap) = agent_subscriber();
    let dispatch = tracing::Dispatch::new(subscriber);
    let rt = common::multi_thread_runtime();
    let stopped: Vec<Stopped> = rt.block_on(
        async {
            let runs = (0..RUNS).map(|run_no| {
                tokio::spawn(
                    async move {
                        let run =
                            Run::start(RunMeta::new("worker").run_id(format!("run-{run_no}")));
                        run.instrument(async {
                            for call in 0..CALLS {
                                // Each call checks its own attribution through its result.
                                assert_eq!(
                                    async_step(run_no * 1000, call).await,
                                    run_no * 1000 + call
                                );
                                tokio::task::yield_now().await;
                            }
                        })
                        .await;
                        run.stop(StopReason::Completed)
                    }
                    .with_current_subscriber(),
                )
            });
            let mut stopped = Vec::new();
            for handle in runs.collect::<Vec<_>>() {
                stopped.push(handle.await.unwrap());
            }
            stopped
        }
        .with_subscriber(dispatch),
    );
    assert_eq!(stopped.len() as u64, RUNS);

    let events = cap.events();
    let mut per_run: HashMap<String, Vec<&Value>> = HashMap::new();
    for event in &events {
        let run_id = event["run_id"]
            .as_str()
            .expect("every event is in a run")
            .to_owned();
        per_run.entry(run_id).or_default().push(event);
    }
    assert_eq!(per_run.len() as u64, RUNS);
    for (run_id, events) in &per_run {
        let run_no: u64 = run_id.strip_prefix("run-").unwrap().parse().unwrap();
        let stops: Vec<_> = events.iter().filter(|e| e["kind"] == "stop").collect();
        assert_eq!(stops.len(), 1, "exactly one stop for {run_id}");
        assert_eq!(stops[0]["usage"]["tool_calls"], CALLS);
        assert_eq!(events.first().unwrap()["kind"], "run_start");
        assert_eq!(events.last().unwrap()["kind"], "stop");
        let tools: Vec<_> = events
            .iter()
            .filter(|e| e["kind"] == "tool_result")
            .collect();
        assert_eq!(tools.len() as u64, CALLS);
        let mut steps: Vec<u64> = tools
            .iter()
            .map(|e| e["step_id"].as_u64().unwrap())
            .collect();
        steps.sort_unstable();
        assert_eq!(steps, (1..=CALLS).collect::<Vec<_>>());
        // The args hash proves the call with these arguments landed in this run.
        for (call, tool) in (0..CALLS).zip(tools.iter()) {
            let args = json!({"run_no": run_no * 1000, "call": call});
            assert_eq!(
                tool["args_sha"],
                tracing_agent::hash::sha24(&args).unwrap().as_str()
            );
        }
    }
}

#[test]
fn llm_usage_outside_a_run_is_written_without_run_id() {
    let (_, cap) = capture(|| record_llm(LlmUsage::new("m", 1, 2)));
    let events = cap.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["kind"], "llm_result");
    assert_eq!(events[0]["run_id"], Value::Null);
    assert_eq!(events[0]["step_id"], Value::Null);
}

#[test]
fn token_counts_saturate_instead_of_wrapping() {
    let (stopped, _) = capture(|| {
        let run = Run::start(RunMeta::new("tokens"));
        run.in_scope(|| {
            tracing_agent::record_llm(tracing_agent::LlmUsage::new("m", u64::MAX, 1));
            tracing_agent::record_llm(tracing_agent::LlmUsage::new("m", 2, u64::MAX));
            tracing_agent::record_llm(tracing_agent::LlmUsage::new("m", 3, 3));
        });
        run.stop(StopReason::Completed)
    });
    assert_eq!(stopped.usage.input_tokens, u64::MAX);
    assert_eq!(stopped.usage.output_tokens, u64::MAX);
    assert_eq!(stopped.usage.llm_calls, 3);
}
