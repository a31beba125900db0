//! The seed's incident, reproduced by `examples/incident.rs` through the real library,
//! then read back by `tracing-agent stats` and `drift` as a user would run them: the
//! numbers land in the seed's ranges, drift flags tool calls per run and latency p95,
//! and names `http.get`, its error classes and its retries, while success barely moves.

#[allow(dead_code)] // its `main` and argument parsing are the example's, not the test's
#[path = "../examples/incident.rs"]
mod incident;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use serde_json::Value;
use tracing_agent_cli::Cli;

/// `tracing-agent ARGS`, in-process: exit status, stdout and stderr.
fn cli(args: &[&str]) -> (ExitCode, String, String) {
    let cli = Cli::try_parse_from(std::iter::once("tracing-agent").chain(args.iter().copied()))
        .expect("the arguments parse");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli.command.run(&mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

/// The overall line of `stats --json` over `file`.
fn overall(file: &Path) -> Value {
    let (code, out, err) = cli(&["stats", "--json", file.to_str().unwrap()]);
    assert_eq!(code, ExitCode::SUCCESS, "{err}");
    assert_eq!(err, "", "the example's logs have no bad line");
    let last = out.lines().last().expect("an overall line");
    serde_json::from_str(last).unwrap()
}

fn number(value: &Value, path: &[&str]) -> f64 {
    let mut at = value;
    for key in path {
        at = &at[key];
    }
    at.as_f64()
        .unwrap_or_else(|| panic!("{path:?} is not a number in {value}"))
}

fn within(what: &str, value: f64, range: std::ops::RangeInclusive<f64>) {
    assert!(
        range.contains(&value),
        "{what}: {value} is outside {range:?}"
    );
}

#[test]
fn the_incident_in_the_seeds_numbers_and_its_root_cause() {
    let dir = tempfile::tempdir().unwrap();
    incident::write_logs(dir.path(), 1, Some(14)).expect("the example runs");
    let baseline_log = dir.path().join("baseline.jsonl");
    let incident_log = dir.path().join("incident.jsonl");

    let baseline = overall(&baseline_log);
    let current = overall(&incident_log);
    assert_eq!(baseline["runs"], 500);
    assert_eq!(current["runs"], 500);
    // The seed: tool calls per run 4.3 -> 11.7, p95 latency 2.1 s -> 8.4 s (4x),
    // spend per run about 2x, success about 91 % throughout.
    within(
        "baseline tool calls per run",
        number(&baseline, &["tool_calls_per_run", "mean"]),
        3.8..=4.8,
    );
    within(
        "incident tool calls per run",
        number(&current, &["tool_calls_per_run", "mean"]),
        10.5..=13.0,
    );
    let p95 = |v: &Value| number(v, &["latency_ms", "p95"]);
    within(
        "latency p95 ratio",
        p95(&current) / p95(&baseline),
        3.0..=5.5,
    );
    let spend = |v: &Value| number(v, &["spend_usd_per_run", "mean"]);
    within(
        "spend per run ratio",
        spend(&current) / spend(&baseline),
        1.7..=2.4,
    );
    within(
        "baseline success",
        number(&baseline, &["success_rate"]),
        0.88..=0.94,
    );
    within(
        "incident success",
        number(&current, &["success_rate"]),
        0.88..=0.94,
    );

    let (code, out, err) = cli(&[
        "drift",
        "--json",
        "--baseline",
        baseline_log.to_str().unwrap(),
        "--current",
        incident_log.to_str().unwrap(),
    ]);
    assert_eq!(code, ExitCode::from(1), "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let drifted: Vec<&str> = report["drifted_signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(drifted.contains(&"tool_calls_per_run"), "{drifted:?}");
    assert!(drifted.contains(&"latency_p95_ms"), "{drifted:?}");
    assert!(!drifted.contains(&"success_rate"), "{drifted:?}");
    let moved: Vec<(String, String)> = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["moved"] == true)
        .map(|s| {
            let what = match s["error_class"].as_str() {
                Some(class) => class.to_owned(),
                None => s["measure"].as_str().unwrap().to_owned(),
            };
            (s["tool"].as_str().unwrap().to_owned(), what)
        })
        .collect();
    // The root cause comes first: http.get's calls, retries and both error classes.
    assert_eq!(moved[0].0, "http.get", "{moved:?}");
    for what in [
        "calls_per_run",
        "retries_per_run",
        "RateLimited",
        "Unavailable",
    ] {
        assert!(
            moved.contains(&("http.get".to_owned(), what.to_owned())),
            "http.get {what} not among {moved:?}"
        );
    }
}

/// The seed's SQL alert, computed here from the spread log: `avg(tool_calls)` per hour
/// of the last 7 days above twice the average of 14 to 7 days ago.
#[test]
fn the_spread_log_fires_the_seeds_alert_in_exactly_the_incident_hours() {
    let dir = tempfile::tempdir().unwrap();
    incident::write_logs(dir.path(), 7, Some(14)).expect("the example runs");
    let spread = std::fs::read_to_string(dir.path().join("spread.jsonl")).unwrap();
    let hours: Vec<String> = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("incident_hours.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(hours.len(), 12);

    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    const HOUR: u64 = 3_600_000;
    const DAY: u64 = 24 * HOUR;
    // Run -> (start, tool calls).
    let mut runs: BTreeMap<String, (Option<u64>, Option<u64>)> = BTreeMap::new();
    for line in spread.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        let run = runs
            .entry(event["run_id"].as_str().unwrap().to_owned())
            .or_default();
        match event["kind"].as_str().unwrap() {
            "run_start" => run.0 = event["ts_ms"].as_u64(),
            "stop" => run.1 = event["usage"]["tool_calls"].as_u64(),
            _ => {}
        }
    }
    let runs: Vec<(u64, u64)> = runs
        .values()
        .map(|(s, c)| (s.unwrap(), c.unwrap()))
        .collect();
    let earlier: Vec<u64> = runs
        .iter()
        .filter(|(start, _)| (now_ms - 14 * DAY..=now_ms - 7 * DAY).contains(start))
        .map(|(_, calls)| *calls)
        .collect();
    let baseline = earlier.iter().sum::<u64>() as f64 / earlier.len() as f64;
    let mut by_hour: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for (start, calls) in &runs {
        if *start > now_ms - 7 * DAY {
            by_hour.entry(start / HOUR * HOUR).or_default().push(*calls);
        }
    }
    let firing: BTreeSet<u64> = by_hour
        .iter()
        .filter(|(_, calls)| calls.iter().sum::<u64>() as f64 / calls.len() as f64 > 2.0 * baseline)
        .map(|(hour, _)| *hour)
        .collect();
    let labels: Vec<String> = firing
        .iter()
        .map(|ms| {
            humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + std::time::Duration::from_millis(*ms),
            )
            .to_string()
        })
        .collect();
    assert_eq!(labels, hours);
    // No hour is empty by accident: every full hour of the 14 days has runs.
    let current_hour = now_ms / HOUR * HOUR;
    let mut runs_per_hour: BTreeMap<u64, u64> = BTreeMap::new();
    for (start, _) in &runs {
        *runs_per_hour.entry(start / HOUR * HOUR).or_default() += 1;
    }
    for ago in 1..=14 * 24 {
        let hour = current_hour - ago * HOUR;
        let count = runs_per_hour.get(&hour).copied().unwrap_or(0);
        assert!(count >= 4, "{ago} hours ago: {count} runs");
    }

    // drift over the one file, with windows: the incident hours against the week before.
    let path = dir.path().join("spread.jsonl");
    let (code, out, err) = cli(&[
        "drift",
        path.to_str().unwrap(),
        "--baseline-since",
        "14days",
        "--baseline-until",
        "7days",
        "--current-since",
        "51h 30m",
        "--current-until",
        "40h 30m",
    ]);
    assert_eq!(code, ExitCode::from(1), "{err}\n{out}");
    assert!(out.contains("http.get"), "{out}");
}
