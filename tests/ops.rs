//! The files under `ops/`: the Prometheus rules load and pass their `promtool` unit tests,
//! every alert has tests where it fires and where it does not, and the Grafana dashboard
//! is importable and queries only series the library exports.

mod common;

use common::FullDisk;

mod external;

use std::collections::BTreeSet;

use serde_json::Value;
use tracing_agent::metrics::Metrics;
use tracing_agent::{agent_tool, AgentLayer, ErrorClass, LlmUsage, Run, RunMeta, StopReason};
use tracing_subscriber::prelude::*;

fn read(path: &str) -> String {
    std::fs::read_to_string(external::repo().join(path))
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

#[test]
fn the_rules_file_loads() {
    let Some(promtool) = external::require("promtool") else {
        return;
    };
    let out = external::run_ok(
        &promtool,
        &["check", "rules", "ops/prometheus/rules.yml"],
        external::repo(),
    );
    assert!(out.contains("SUCCESS: 4 rules found"), "{out}");
}

#[test]
fn the_rules_pass_their_unit_tests() {
    let Some(promtool) = external::require("promtool") else {
        return;
    };
    let out = external::run_ok(
        &promtool,
        &["test", "rules", "rules_test.yml"],
        &external::repo().join("ops/prometheus"),
    );
    assert!(out.contains("SUCCESS"), "{out}");
}

/// The names after `- alert:` in rules.yml.
fn alert_names() -> Vec<String> {
    read("ops/prometheus/rules.yml")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert:"))
        .map(|name| name.trim().to_owned())
        .collect()
}

#[test]
fn every_alert_is_tested_where_it_fires_and_where_it_does_not() {
    let alerts = alert_names();
    assert_eq!(
        alerts,
        [
            "AgentToolCallsPerRunDrift",
            "AgentLoopDetectedAboveBaseline",
            "AgentToolTimeoutSpike",
            "AgentRunLatencyP95Drift",
        ]
    );
    let tests = read("ops/prometheus/rules_test.yml");
    // One `alert_rule_test` case per `- eval_time:` block.
    let cases: Vec<&str> = tests.split("- eval_time:").skip(1).collect();
    for alert in &alerts {
        let of_alert: Vec<&&str> = cases
            .iter()
            .filter(|case| case.contains(&format!("alertname: {alert}\n")))
            .collect();
        assert!(
            of_alert.iter().any(|case| case.contains("exp_alerts: []")),
            "{alert}: no case where it must stay silent"
        );
        assert!(
            of_alert.iter().any(|case| case.contains("exp_labels:")),
            "{alert}: no case where it must fire"
        );
    }
}

#[test]
fn every_alert_tells_the_on_call_what_it_means() {
    let rules = read("ops/prometheus/rules.yml");
    let blocks: Vec<&str> = rules.split("- alert:").skip(1).collect();
    assert_eq!(blocks.len(), 4);
    for block in blocks {
        assert!(block.contains("summary:"), "{block}");
        assert!(block.contains("description:"), "{block}");
    }
    let timeout = rules
        .split("- alert: AgentToolTimeoutSpike")
        .nth(1)
        .unwrap();
    assert!(timeout.contains("upstream issues,\n            not model weirdness"));
}

#[derive(Debug, ErrorClass)]
enum HttpError {
    TimedOut,
}

#[agent_tool(name = "http.get")]
fn http_get(url: &str) -> Result<String, HttpError> {
    let _ = url;
    Err(HttpError::TimedOut)
}

/// The sample names a Prometheus scrape shows after a run that touches every series
/// (a failing tool, an LLM call with spend, a writer that loses events).
fn exported_names() -> BTreeSet<String> {
    let recorder = tracing_agent::metrics::prometheus_builder()
        .unwrap()
        .build_recorder();
    let handle = recorder.handle();
    let subscriber = tracing_subscriber::registry().with(
        AgentLayer::new()
            .with_writer(|| FullDisk)
            .with_metrics(Metrics::new().gen_ai(true)),
    );
    metrics::with_local_recorder(&recorder, || {
        tracing::subscriber::with_default(subscriber, || {
            let run = Run::start(RunMeta::new("a"));
            run.in_scope(|| {
                http_get("u").unwrap_err();
                tracing_agent::record_llm(LlmUsage::new("m", 10, 5).spend_usd(0.01));
            });
            run.stop(StopReason::ToolTimeout);
        })
    });
    handle
        .render()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l[..l.find(['{', ' ']).unwrap()].to_owned())
        .collect()
}

/// The metric names a PromQL expression mentions: identifiers of this crate's families.
fn metric_names(expr: &str) -> Vec<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|word| word.starts_with("agent_") || word.starts_with("gen_ai_"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_rules_query_only_exported_series() {
    let exported = exported_names();
    let rules = read("ops/prometheus/rules.yml");
    let names = metric_names(&rules);
    assert!(names.len() >= 4, "{names:?}");
    for name in names {
        assert!(
            exported.contains(&name),
            "rules.yml queries {name}, not exported: {exported:?}"
        );
    }
}

fn dashboard() -> Value {
    serde_json::from_str(&read("ops/grafana/dashboard.json"))
        .unwrap_or_else(|e| panic!("ops/grafana/dashboard.json is not JSON: {e}"))
}

/// Every panel, rows' nested panels included.
fn panels(dashboard: &Value) -> Vec<&Value> {
    let mut all = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        all.push(panel);
        if let Some(nested) = panel["panels"].as_array() {
            all.extend(nested);
        }
    }
    all
}

#[test]
fn the_dashboard_has_a_prometheus_datasource_variable_used_everywhere() {
    let dashboard = dashboard();
    let variables = dashboard["templating"]["list"]
        .as_array()
        .expect("templating");
    let datasource = variables
        .iter()
        .find(|v| v["type"] == "datasource")
        .expect("a datasource variable");
    assert_eq!(datasource["query"], "prometheus");
    assert_eq!(datasource["name"], "datasource");
    assert!(dashboard["uid"].is_string() && dashboard["title"].is_string());
    for panel in panels(&dashboard) {
        if panel["type"] == "row" {
            continue;
        }
        assert_eq!(
            panel["datasource"]["uid"], "${datasource}",
            "{}",
            panel["title"]
        );
        for target in panel["targets"].as_array().expect("targets") {
            assert_eq!(
                target["datasource"]["uid"], "${datasource}",
                "{}",
                panel["title"]
            );
        }
    }
}

#[test]
fn the_dashboard_has_the_issues_panels() {
    let dashboard = dashboard();
    let titles: Vec<&str> = panels(&dashboard)
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    for wanted in [
        "Tool calls per run (p95)",
        "Stop reasons",
        "Run latency (p95)",
        "Spend per run",
        "Tokens per request",
        "Tool error rate by tool",
    ] {
        assert!(
            titles.contains(&wanted),
            "no panel {wanted:?} in {titles:?}"
        );
    }
}

#[test]
fn every_dashboard_query_uses_exported_series() {
    let exported = exported_names();
    let dashboard = dashboard();
    for panel in panels(&dashboard) {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("expr");
            let names = metric_names(expr);
            assert!(!names.is_empty(), "{}: {expr}", panel["title"]);
            for name in names {
                assert!(
                    exported.contains(&name),
                    "panel {}: {name} is not exported ({exported:?})",
                    panel["title"]
                );
            }
        }
    }
}

#[test]
fn the_exported_names_include_the_issues_list() {
    // Hand-written from the issue: what users' queries expect.
    let exported = exported_names();
    for name in [
        "agent_tool_calls_bucket",
        "agent_run_latency_ms_bucket",
        "agent_stop_total",
        "agent_tokens_per_request_bucket",
        "agent_spend_per_run_usd_bucket",
        "agent_tool_duration_ms_bucket",
        "agent_tool_errors_total",
        "agent_events_dropped_total",
        "gen_ai_execute_tool_duration_bucket",
        "gen_ai_client_token_usage_bucket",
        "gen_ai_invoke_agent_duration_bucket",
    ] {
        assert!(exported.contains(name), "{name} missing from {exported:?}");
    }
}
