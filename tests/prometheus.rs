//! A real Prometheus scrapes the example agent (`examples/metrics_agent.rs`) every second,
//! on loopback, and answers the three queries through its HTTP API; the rules
//! file loads into it, and every dashboard query evaluates.
//!
//! Needs `prometheus` on PATH (`.ci/run` installs Debian's package). Without it the test
//! is skipped with a message, except in CI (`CI=true`), where it fails.

mod external;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use external::Process;
use serde_json::Value;

const TOOL_CALLS_P95: &str =
    "histogram_quantile(0.95, sum(rate(agent_tool_calls_bucket[5m])) by (le))";
const STOP_REASONS: &str = "sum(rate(agent_stop_total[10m])) by (stop_reason)";
const LATENCY_P95: &str =
    "histogram_quantile(0.95, sum(rate(agent_run_latency_ms_bucket[5m])) by (le))";

/// How long Prometheus gets to come up and to have scraped enough for `rate`.
const STARTUP: Duration = Duration::from_secs(60);
const EVERY: Duration = Duration::from_millis(250);

#[test]
fn the_three_queries_work_against_a_real_prometheus() {
    let Some(prometheus) = external::require("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let agent_bin = example_binary("metrics_agent");
    let http = external::http();

    let (agent, agent_addr) = start_agent(&agent_bin, dir.path());
    let (prometheus, prometheus_addr) = start_prometheus(&prometheus, dir.path(), agent_addr);
    let api = format!("http://{prometheus_addr}/api/v1");
    let fail =
        |what: &str| -> ! { panic!("{what}\n{}\n{}", agent.log_tail(), prometheus.log_tail()) };

    // The target is up: Prometheus reaches the agent's /metrics.
    let up = external::poll(STARTUP, EVERY, || {
        let value = vector(&http, &api, "up{job=\"agent\"}")?;
        (value.first()?.1 == 1.0).then_some(())
    });
    if up.is_none() {
        fail("the agent's target never came up");
    }

    // Tool calls per run, p95: the example makes 1 to 6 tool calls per run.
    let tool_calls = poll_value(&http, &api, TOOL_CALLS_P95)
        .unwrap_or_else(|| fail("no value for the tool calls query"));
    assert!(
        tool_calls > 0.0 && tool_calls <= 6.0,
        "{TOOL_CALLS_P95} = {tool_calls}, not within the example's 1..=6 tool calls per run"
    );

    // Stop reasons: one series per reason, all from the example's set, completed among
    // them (about 87% of its runs).
    let reasons = external::poll(STARTUP, EVERY, || {
        let series = vector(&http, &api, STOP_REASONS)?;
        let finite = series.iter().all(|(_, v)| v.is_finite() && *v > 0.0);
        (finite
            && series
                .iter()
                .any(|(labels, _)| labels["stop_reason"] == "completed"))
        .then_some(series)
    })
    .unwrap_or_else(|| fail("no completed series for the stop reasons query"));
    for (labels, rate) in &reasons {
        let reason = labels["stop_reason"].as_str().unwrap_or_default();
        assert!(
            ["completed", "loop_detected", "tool_timeout", "max_steps"].contains(&reason),
            "unexpected stop_reason {labels} = {rate}"
        );
        let keys: Vec<&String> = labels.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["stop_reason"],
            "by (stop_reason) keeps only that label"
        );
    }

    // Latency p95, in ms: every run makes at least one LLM call of 20 ms or more, and
    // none takes a second.
    let latency = poll_value(&http, &api, LATENCY_P95)
        .unwrap_or_else(|| fail("no value for the latency query"));
    assert!(
        (20.0..=1000.0).contains(&latency),
        "{LATENCY_P95} = {latency} ms, not a plausible p95 for the example's runs"
    );

    eprintln!(
        "tool calls per run p95 = {tool_calls}, latency p95 = {latency} ms, stop reasons = {:?}",
        reasons
            .iter()
            .map(|(labels, rate)| format!(
                "{}: {rate:.3}/s",
                labels["stop_reason"].as_str().unwrap_or("?")
            ))
            .collect::<Vec<_>>()
    );
    assert_low_cardinality_labels(&http, &api);
    assert_rules_loaded(&http, &api);
    assert_dashboard_queries_evaluate(&http, &api);
}

/// Every `agent_*` series in Prometheus has only the documented labels: no run id, no
/// arguments.
fn assert_low_cardinality_labels(http: &ureq::Agent, api: &str) {
    let body = api_get(
        http,
        &format!("{api}/series"),
        &[("match[]", "{__name__=~\"agent_.+\"}")],
    )
    .expect("the series API answers");
    let allowed: BTreeSet<&str> = [
        "__name__",
        "instance",
        "job",
        "agent",
        "le",
        "stop_reason",
        "tool",
        "status",
        "error",
    ]
    .into();
    let series = body["data"].as_array().expect("series");
    assert!(!series.is_empty());
    for labels in series {
        for key in labels.as_object().unwrap().keys() {
            assert!(allowed.contains(key.as_str()), "label {key} on {labels}");
        }
    }
}

/// The rules file is loaded and its four alerts evaluate without error.
fn assert_rules_loaded(http: &ureq::Agent, api: &str) {
    let healthy = external::poll(STARTUP, EVERY, || {
        let body = api_get(http, &format!("{api}/rules"), &[("type", "alert")])?;
        let rules: Vec<&Value> = body["data"]["groups"]
            .as_array()?
            .iter()
            .flat_map(|g| g["rules"].as_array().into_iter().flatten())
            .collect();
        let ok = rules.len() == 4 && rules.iter().all(|r| r["health"] == "ok");
        ok.then_some(())
    });
    assert!(
        healthy.is_some(),
        "the four alerting rules never evaluated as ok"
    );
}

/// Every query of the Grafana dashboard parses and evaluates (with `$agent` as all).
fn assert_dashboard_queries_evaluate(http: &ureq::Agent, api: &str) {
    let path = external::repo().join("ops/grafana/dashboard.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap().replace("$agent", ".*");
            let body = api_get(http, &format!("{api}/query"), &[("query", &expr)])
                .unwrap_or_else(|| panic!("no answer for {expr}"));
            assert_eq!(
                body["status"], "success",
                "{}: {expr}: {body}",
                panel["title"]
            );
        }
    }
}

/// Starts the example agent on a free loopback port, retrying if the port was taken.
fn start_agent(binary: &Path, dir: &Path) -> (Process, SocketAddr) {
    for attempt in 0..3 {
        let addr = external::free_loopback_addr();
        let mut command = Command::new(binary);
        command.args(["--listen", &addr.to_string(), "--interval-ms", "50"]);
        let log = dir.join(format!("agent-{attempt}.log"));
        let mut agent = Process::start("metrics_agent", command, log);
        let http = external::http();
        let serving = external::poll(Duration::from_secs(30), EVERY, || {
            if agent.exited() {
                return Some(false);
            }
            let (status, body) = external::get(&http, &format!("http://{addr}/metrics"), &[])?;
            (status == 200 && body.contains("agent_stop_total")).then_some(true)
        });
        match serving {
            Some(true) => return (agent, addr),
            Some(false) if agent.log_tail().contains("in use") => continue,
            _ => panic!(
                "the agent does not serve /metrics on {addr}\n{}",
                agent.log_tail()
            ),
        }
    }
    panic!("no free port for the agent after 3 attempts");
}

/// Starts Prometheus scraping `target` every second, with rules.yml, data in `dir`.
fn start_prometheus(binary: &Path, dir: &Path, target: SocketAddr) -> (Process, SocketAddr) {
    let rules = external::repo().join("ops/prometheus/rules.yml");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {rules:?}\n\
             scrape_configs:\n  - job_name: agent\n    static_configs:\n      - targets: ['{target}']\n",
        ),
    )
    .unwrap();
    for attempt in 0..3 {
        let addr = external::free_loopback_addr();
        let mut command = Command::new(binary);
        command.args([
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", dir.join("data").display()),
            format!("--web.listen-address={addr}"),
            "--storage.tsdb.retention.time=1h".to_owned(),
        ]);
        let log = dir.join(format!("prometheus-{attempt}.log"));
        let mut prometheus = Process::start("prometheus", command, log);
        let http = external::http();
        let ready = external::poll(STARTUP, EVERY, || {
            if prometheus.exited() {
                return Some(false);
            }
            let (status, _) = external::get(&http, &format!("http://{addr}/-/ready"), &[])?;
            (status == 200).then_some(true)
        });
        match ready {
            Some(true) => return (prometheus, addr),
            Some(false) if prometheus.log_tail().contains("in use") => continue,
            _ => panic!(
                "prometheus never became ready on {addr}\n{}",
                prometheus.log_tail()
            ),
        }
    }
    panic!("no free port for prometheus after 3 attempts");
}

/// `GET` a Prometheus API endpoint; its JSON body if it answered with success.
fn api_get(http: &ureq::Agent, url: &str, query: &[(&str, &str)]) -> Option<Value> {
    let (status, body) = external::get(http, url, query)?;
    let body: Value = serde_json::from_str(&body).ok()?;
    (status == 200 && body["status"] == "success").then_some(body)
}

/// An instant query's result: each series' labels and value.
fn vector(http: &ureq::Agent, api: &str, query: &str) -> Option<Vec<(Value, f64)>> {
    let body = api_get(http, &format!("{api}/query"), &[("query", query)])?;
    assert_eq!(body["data"]["resultType"], "vector", "{query}");
    body["data"]["result"]
        .as_array()?
        .iter()
        .map(|sample| {
            let value = sample["value"][1].as_str()?.parse::<f64>().ok()?;
            Some((sample["metric"].clone(), value))
        })
        .collect()
}

/// Polls `query` until it returns exactly one finite value.
fn poll_value(http: &ureq::Agent, api: &str, query: &str) -> Option<f64> {
    external::poll(STARTUP, EVERY, || {
        match vector(http, api, query)?.as_slice() {
            [(_, value)] if value.is_finite() => Some(*value),
            _ => None,
        }
    })
}

/// The example's executable, next to this test's (`cargo test` builds examples); built
/// with cargo when only this test was built (`cargo test --test prometheus`).
fn example_binary(name: &str) -> PathBuf {
    let test_exe = std::env::current_exe().expect("the test's path");
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let binary = profile_dir.join("examples").join(name);
    if !binary.is_file() {
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .current_dir(external::repo())
            .args(["build", "--example", name]);
        if profile_dir.ends_with("release") {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("cargo runs");
        assert!(status.success(), "cargo build --example {name} failed");
    }
    assert!(binary.is_file(), "no {}", binary.display());
    binary
}
