//! What Prometheus scrapes: every histogram as `_bucket` series with the documented bounds
//! (never a summary), counters under the names the dashboards and alerts query.

use std::time::Duration;

use tracing_agent::metrics::Metrics;
use tracing_agent::{agent_tool, AgentLayer, ErrorClass, LlmUsage, Run, RunMeta, StopReason};
use tracing_subscriber::prelude::*;

#[derive(Debug, ErrorClass)]
enum HttpError {
    RateLimited,
}

#[agent_tool(name = "crm.lookup")]
fn lookup(customer_id: u64) -> Result<u64, HttpError> {
    std::thread::sleep(Duration::from_millis(2));
    Ok(customer_id)
}

#[agent_tool(name = "http.get")]
fn http_get(url: &str) -> Result<String, HttpError> {
    let _ = url;
    Err(HttpError::RateLimited)
}

/// The page a Prometheus recorder built by `prometheus_builder` renders after one run.
fn scrape(metrics: Metrics) -> String {
    let recorder = tracing_agent::metrics::prometheus_builder()
        .expect("buckets accepted")
        .build_recorder();
    let handle = recorder.handle();
    let subscriber = tracing_subscriber::registry().with(
        AgentLayer::new()
            .with_writer(std::io::sink)
            .with_metrics(metrics),
    );
    metrics::with_local_recorder(&recorder, || {
        tracing::subscriber::with_default(subscriber, || {
            let run = Run::start(RunMeta::new("support-agent"));
            run.in_scope(|| {
                lookup(1).unwrap();
                lookup(2).unwrap();
                http_get("https://crm.example/").unwrap_err();
                tracing_agent::record_llm(LlmUsage::new("gpt-4o", 1200, 350).spend_usd(0.004));
                tracing_agent::record_llm(LlmUsage::new("gpt-4o", 800, 200).spend_usd(0.0));
            });
            run.stop(StopReason::LoopDetected);
        })
    });
    handle.render()
}

fn assert_lines(page: &str, expected: &[&str]) {
    for line in expected {
        assert!(
            page.lines().any(|l| l == *line),
            "missing line {line:?} in:\n{page}"
        );
    }
}

/// The `le` values of `series`' buckets, in order.
fn bounds(page: &str, series: &str) -> Vec<String> {
    let prefix = format!("{series}_bucket{{");
    page.lines()
        .filter(|l| l.starts_with(&prefix))
        .map(|l| {
            let le = l.split("le=\"").nth(1).expect("an le label");
            le[..le.find('"').unwrap()].to_owned()
        })
        .collect()
}

#[test]
fn the_three_queries_series_are_exported() {
    let page = scrape(Metrics::new());
    assert_lines(
        &page,
        &[
            "# TYPE agent_tool_calls histogram",
            "agent_tool_calls_bucket{agent=\"support-agent\",le=\"2\"} 0",
            "agent_tool_calls_bucket{agent=\"support-agent\",le=\"3\"} 1",
            "agent_tool_calls_bucket{agent=\"support-agent\",le=\"+Inf\"} 1",
            "agent_tool_calls_sum{agent=\"support-agent\"} 3",
            "agent_tool_calls_count{agent=\"support-agent\"} 1",
            "# TYPE agent_stop_total counter",
            "agent_stop_total{agent=\"support-agent\",stop_reason=\"loop_detected\"} 1",
            "# TYPE agent_run_latency_ms histogram",
            "agent_run_latency_ms_bucket{agent=\"support-agent\",le=\"+Inf\"} 1",
            "agent_run_latency_ms_count{agent=\"support-agent\"} 1",
        ],
    );
}

#[test]
fn every_histogram_has_its_documented_buckets() {
    let page = scrape(Metrics::new().gen_ai(true));
    let expected: [(&str, &str); 8] = [
        ("agent_tool_calls", "0 1 2 3 4 5 6 8 10 12 16 20 24 32 48 64 128 +Inf"),
        (
            "agent_run_latency_ms",
            "50 100 250 500 1000 1500 2000 3000 4000 5000 6000 8000 10000 15000 20000 30000 60000 120000 +Inf",
        ),
        (
            "agent_tool_duration_ms",
            // Two label sets (crm.lookup ok, http.get error), each with the same bounds.
            "1 2 5 10 25 50 100 250 500 1000 2500 5000 10000 30000 60000 +Inf",
        ),
        (
            "agent_tokens_per_request",
            "64 128 256 512 1024 2048 4096 8192 16384 32768 65536 131072 262144 +Inf",
        ),
        (
            "agent_spend_per_run_usd",
            "0.0001 0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 +Inf",
        ),
        (
            "gen_ai_execute_tool_duration",
            "0.01 0.02 0.04 0.08 0.16 0.32 0.64 1.28 2.56 5.12 10.24 20.48 40.96 81.92 +Inf",
        ),
        (
            "gen_ai_client_token_usage",
            "1 4 16 64 256 1024 4096 16384 65536 262144 1048576 4194304 16777216 67108864 +Inf",
        ),
        (
            "gen_ai_invoke_agent_duration",
            "0.1 0.2 0.4 0.8 1.6 3.2 6.4 12.8 25.6 51.2 102.4 204.8 409.6 +Inf",
        ),
    ];
    for (series, le) in expected {
        let got = bounds(&page, series);
        assert!(!got.is_empty(), "no {series}_bucket in:\n{page}");
        let one_set: Vec<&str> = le.split(' ').collect();
        for set in got.chunks(one_set.len()) {
            assert_eq!(set, one_set.as_slice(), "{series}");
        }
    }
    assert!(
        !page.contains("quantile="),
        "a summary was exported:\n{page}"
    );
}

#[test]
fn counts_land_in_the_right_buckets() {
    let page = scrape(Metrics::new().gen_ai(true));
    assert_lines(
        &page,
        &[
            // 1550 and 1000 tokens.
            "agent_tokens_per_request_bucket{agent=\"support-agent\",le=\"512\"} 0",
            "agent_tokens_per_request_bucket{agent=\"support-agent\",le=\"1024\"} 1",
            "agent_tokens_per_request_bucket{agent=\"support-agent\",le=\"2048\"} 2",
            "agent_tokens_per_request_sum{agent=\"support-agent\"} 2550",
            // Only the first LLM call reported spend.
            "agent_spend_per_run_usd_bucket{agent=\"support-agent\",le=\"0.0025\"} 0",
            "agent_spend_per_run_usd_bucket{agent=\"support-agent\",le=\"0.005\"} 1",
            "agent_tool_duration_ms_count{tool=\"crm.lookup\",status=\"ok\"} 2",
            "agent_tool_duration_ms_count{tool=\"http.get\",status=\"error\"} 1",
            "agent_tool_errors_total{tool=\"http.get\",error=\"RateLimited\"} 1",
            // The GenAI names, with dots made Prometheus-safe by the exporter.
            "gen_ai_client_token_usage_bucket{gen_ai_operation_name=\"chat\",gen_ai_request_model=\"gpt-4o\",gen_ai_token_type=\"input\",le=\"1024\"} 1",
            "gen_ai_client_token_usage_bucket{gen_ai_operation_name=\"chat\",gen_ai_request_model=\"gpt-4o\",gen_ai_token_type=\"input\",le=\"4096\"} 2",
            "gen_ai_execute_tool_duration_count{gen_ai_tool_name=\"http.get\",error_type=\"RateLimited\"} 1",
            "gen_ai_invoke_agent_duration_count{gen_ai_agent_name=\"support-agent\",error_type=\"loop_detected\"} 1",
        ],
    );
}
