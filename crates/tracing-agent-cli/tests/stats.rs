//! `tracing-agent stats` on tests/fixtures/stats.log, whose every number below was worked
//! out by hand from the fixture.
//!
//! The fixture: on 2024-11-24, run-a (a 429'd `http.get` retried with the same args, one
//! priced LLM call, completed in 1 s), run-b (`kb.search`, an LLM call and a stop whose
//! cost is unknown: `spend_usd` null, completed in 3 s) and py-c (the seed's Python
//! sample's shape: no run_start, no run duration in its stop, a usage dict of its own:
//! 4 s from its first event to its stop, tool_timeout); nothing on 2024-11-25; on
//! 2024-11-26 run-d (four `kb.search` calls, completed in 2 s) and run-e (an LLM call
//! and no stop yet). A line of another program and a torn last line are skipped.

mod common;

use common::cli;
use serde_json::{json, Value};

const STATS_LOG: &str = "tests/fixtures/stats.log";

const SKIPPED: &str = "tracing-agent stats: warning: skipped 2 lines that are not events:
  tests/fixtures/stats.log:5: not JSON: expected value at column 1
  tests/fixtures/stats.log:21: torn last line (no newline at the end)
";

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

fn day_one() -> Value {
    json!({
        "bucket": "2024-11-24T00:00:00Z", "bucket_start_ms": 1_732_406_400_000u64,
        "by": "day", "per": null, "group": null,
        "runs": 3, "runs_without_start": 1, "runs_without_stop": 0,
        // Tool calls 2, 1, 1: p50 at rank 2 of 3, p95 at rank 3.
        "tool_calls_per_run": {"mean": 4.0 / 3.0, "p50": 1.0, "p95": 2.0},
        // 1 s, 3 s, and py-c's 4 s from its first event to its stop.
        "latency_ms": {"runs": 3, "p50": 3000.0, "p95": 4000.0, "p99": 4000.0},
        "tokens_per_llm_call": {"calls": 2, "p95": 230.0},
        // Only run-a's spend is known.
        "spend_usd_per_run": {"runs": 1, "mean": 0.01, "p95": 0.01, "unknown_share": 2.0 / 3.0},
        "success_rate": 2.0 / 3.0,
        "stop_reasons": {
            "completed": {"count": 2, "share": 2.0 / 3.0},
            "tool_timeout": {"count": 1, "share": 1.0 / 3.0}
        },
        "tools": [
            {"tool": "http.get", "calls": 3, "calls_per_run": 1.0, "retries": 1,
             "retries_per_run": 1.0 / 3.0, "errors": 1, "error_rate": 1.0 / 3.0,
             "error_classes": {"RateLimited": {"count": 1, "rate": 1.0 / 3.0}},
             "duration_ms": {"p50": 200.0, "p95": 300.0}},
            {"tool": "kb.search", "calls": 1, "calls_per_run": 1.0 / 3.0, "retries": 0,
             "retries_per_run": 0.0, "errors": 0, "error_rate": 0.0, "error_classes": {},
             "duration_ms": {"p50": 50.0, "p95": 50.0}}
        ],
        "quantiles_exact": true
    })
}

fn empty_day() -> Value {
    json!({
        "bucket": "2024-11-25T00:00:00Z", "bucket_start_ms": 1_732_492_800_000u64,
        "by": "day", "per": null, "group": null,
        "runs": 0, "runs_without_start": 0, "runs_without_stop": 0,
        "tool_calls_per_run": {"mean": null, "p50": null, "p95": null},
        "latency_ms": {"runs": 0, "p50": null, "p95": null, "p99": null},
        "tokens_per_llm_call": {"calls": 0, "p95": null},
        "spend_usd_per_run": {"runs": 0, "mean": null, "p95": null, "unknown_share": null},
        "success_rate": null,
        "stop_reasons": {},
        "tools": [],
        "quantiles_exact": true
    })
}

fn day_three() -> Value {
    json!({
        "bucket": "2024-11-26T00:00:00Z", "bucket_start_ms": 1_732_579_200_000u64,
        "by": "day", "per": null, "group": null,
        "runs": 2, "runs_without_start": 0, "runs_without_stop": 1,
        // run-d 4, run-e 0 (no stop: counted from its events).
        "tool_calls_per_run": {"mean": 2.0, "p50": 0.0, "p95": 4.0},
        "latency_ms": {"runs": 1, "p50": 2000.0, "p95": 2000.0, "p99": 2000.0},
        "tokens_per_llm_call": {"calls": 1, "p95": 500.0},
        // run-d's stop says 0.05; run-e's LLM call 0.02.
        "spend_usd_per_run": {"runs": 2, "mean": 0.035, "p95": 0.05, "unknown_share": 0.0},
        "success_rate": 1.0,
        "stop_reasons": {"completed": {"count": 1, "share": 1.0}},
        "tools": [
            {"tool": "kb.search", "calls": 4, "calls_per_run": 2.0, "retries": 0,
             "retries_per_run": 0.0, "errors": 0, "error_rate": 0.0, "error_classes": {},
             "duration_ms": {"p50": 20.0, "p95": 40.0}}
        ],
        "quantiles_exact": true
    })
}

fn all_days() -> Value {
    json!({
        "bucket": null, "bucket_start_ms": null, "by": null, "per": null, "group": null,
        "runs": 5, "runs_without_start": 1, "runs_without_stop": 1,
        // 0 1 1 2 4: p50 at rank 3, p95 at rank 5.
        "tool_calls_per_run": {"mean": 1.6, "p50": 1.0, "p95": 4.0},
        "latency_ms": {"runs": 4, "p50": 2000.0, "p95": 4000.0, "p99": 4000.0},
        "tokens_per_llm_call": {"calls": 3, "p95": 500.0},
        "spend_usd_per_run": {"runs": 3, "mean": 0.08 / 3.0, "p95": 0.05, "unknown_share": 0.4},
        "success_rate": 0.75,
        "stop_reasons": {
            "completed": {"count": 3, "share": 0.75},
            "tool_timeout": {"count": 1, "share": 0.25}
        },
        "tools": [
            {"tool": "http.get", "calls": 3, "calls_per_run": 0.6, "retries": 1,
             "retries_per_run": 0.2, "errors": 1, "error_rate": 1.0 / 3.0,
             "error_classes": {"RateLimited": {"count": 1, "rate": 1.0 / 3.0}},
             "duration_ms": {"p50": 200.0, "p95": 300.0}},
            {"tool": "kb.search", "calls": 5, "calls_per_run": 1.0, "retries": 0,
             "retries_per_run": 0.0, "errors": 0, "error_rate": 0.0, "error_classes": {},
             "duration_ms": {"p50": 30.0, "p95": 50.0}}
        ],
        "quantiles_exact": true
    })
}

/// `actual` equals `expected`, numbers compared to 1e-12 (sums of floats).
fn assert_close(actual: &Value, expected: &Value, path: &str) {
    match (actual, expected) {
        (Value::Number(a), Value::Number(e)) => {
            let (a, e) = (a.as_f64().unwrap(), e.as_f64().unwrap());
            assert!(
                (a - e).abs() <= 1e-12 * e.abs().max(1.0),
                "{path}: {a} != {e}"
            );
        }
        (Value::Object(a), Value::Object(e)) => {
            let keys = |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(a), keys(e), "{path}: the keys");
            for (key, value) in e {
                assert_close(&a[key], value, &format!("{path}.{key}"));
            }
        }
        (Value::Array(a), Value::Array(e)) => {
            assert_eq!(a.len(), e.len(), "{path}: the length");
            for (i, (a, e)) in a.iter().zip(e).enumerate() {
                assert_close(a, e, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(actual, expected, "{path}"),
    }
}

#[test]
fn every_statistic_by_day_with_the_empty_day_and_the_overall() {
    let out = cli(&["stats", "--json", STATS_LOG], "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stderr, SKIPPED);
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 4, "{}", out.stdout);
    assert_close(&lines[0], &day_one(), "day 1");
    assert_close(&lines[1], &empty_day(), "day 2");
    assert_close(&lines[2], &day_three(), "day 3");
    assert_close(&lines[3], &all_days(), "all");
}

#[test]
fn by_hour_lists_every_hour_between_the_first_run_and_the_last() {
    let out = cli(&["stats", "--json", "--by", "hour", STATS_LOG], "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lines = json_lines(&out.stdout);
    // 2024-11-24T10 to 2024-11-26T10: 49 hours, then the overall.
    assert_eq!(lines.len(), 50);
    let runs: Vec<u64> = lines.iter().map(|l| l["runs"].as_u64().unwrap()).collect();
    let busy: Vec<usize> = (0..49).filter(|i| runs[*i] > 0).collect();
    // run-a 10h, run-b 11h, py-c 12h on the 24th; run-d 9h, run-e 10h on the 26th.
    assert_eq!(busy, [0, 1, 2, 47, 48]);
    assert_eq!(lines[47]["bucket"], "2024-11-26T09:00:00Z");
    assert_eq!(lines[49]["runs"], 5);
    // The overall line does not depend on the buckets.
    assert_close(&lines[49], &all_days(), "all");
}

#[test]
fn per_agent_splits_the_runs() {
    let out = cli(&["stats", "--json", "--per", "agent", STATS_LOG], "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lines = json_lines(&out.stdout);
    let overall: Vec<(String, u64)> = lines
        .iter()
        .filter(|l| l["bucket"].is_null())
        .map(|l| {
            (
                l["group"].as_str().unwrap().to_owned(),
                l["runs"].as_u64().unwrap(),
            )
        })
        .collect();
    // py-c has no run_start, so no agent: its own group "".
    assert_eq!(
        overall,
        [
            ("".to_owned(), 1),
            ("billing-agent".to_owned(), 1),
            ("support-agent".to_owned(), 3)
        ]
    );
    assert!(lines.iter().all(|l| l["per"] == "agent"));
}

#[test]
fn a_single_run() {
    let log = r#"{"run_id":"solo","kind":"stop","ts_ms":1732442401000,"duration_ms":1500,"stop_reason":"loop_detected","usage":{"tool_calls":7,"spend_usd":0.5}}
"#;
    let out = cli(&["stats", "--json", "-"], log);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 2);
    for line in &lines {
        assert_eq!(line["runs"], 1);
        assert_eq!(
            line["tool_calls_per_run"],
            json!({"mean": 7.0, "p50": 7.0, "p95": 7.0})
        );
        assert_eq!(line["latency_ms"]["p99"], 1500.0);
        assert_eq!(line["success_rate"], 0.0);
        assert_eq!(line["stop_reasons"]["loop_detected"]["share"], 1.0);
        assert_eq!(line["runs_without_start"], 1);
    }
}

#[test]
fn the_table_for_a_person() {
    let out = cli(&["stats", STATS_LOG], "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let expected = "\
bucket      runs  calls/run  p50  p95  latency p50   p95   p99  tokens/call p95  spend/run      p95  cost unknown  completed  no stop
2024-11-24     3        1.3    1    2         3.0s  4.0s  4.0s              230    $0.0100  $0.0100         66.7%      66.7%        0
2024-11-25     0          -    -    -            -     -     -                -          -        -             -          -        0
2024-11-26     2        2.0    0    4         2.0s  2.0s  2.0s              500    $0.0350  $0.0500          0.0%     100.0%        1
all            5        1.6    1    4         2.0s  4.0s  4.0s              500    $0.0267  $0.0500         40.0%      75.0%        1

stop reasons   completed  tool_timeout
2024-11-24     2 (66.7%)     1 (33.3%)
2024-11-25             -             -
2024-11-26    1 (100.0%)             -
all            3 (75.0%)     1 (25.0%)

tool (all)  calls  calls/run  retries  errors  error classes        p50    p95
http.get        3       0.60        1   33.3%  RateLimited 33.3%  200ms  300ms
kb.search       5       1.00        0    0.0%  -                   30ms   50ms

";
    assert_eq!(out.stdout, expected);
}

#[test]
fn bad_input_is_said_and_fails() {
    let missing = cli(&["stats", "tests/fixtures/no-such.log"], "");
    assert_eq!(missing.code, Some(1));
    assert!(
        missing
            .stderr
            .starts_with("tracing-agent stats: error: cannot open tests/fixtures/no-such.log:"),
        "{}",
        missing.stderr
    );
    let junk = cli(&["stats", "-"], "not a log\n");
    assert_eq!(junk.code, Some(1));
    assert!(
        junk.stderr.contains("no runs in the input"),
        "{}",
        junk.stderr
    );
    let filtered = cli(&["stats", "--agent", "nobody", STATS_LOG], "");
    assert_eq!(filtered.code, Some(1));
    assert!(
        filtered
            .stderr
            .contains("no runs match the filters (5 in the input)"),
        "{}",
        filtered.stderr
    );
    assert_eq!(filtered.stdout, "");
    let usage = cli(&["stats", "--by", "week", STATS_LOG], "");
    assert_eq!(usage.code, Some(2));
}

#[test]
fn a_log_rotated_across_files_is_one_log() {
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read_to_string(STATS_LOG).unwrap();
    // Cut after run-a's second tool call: its LLM call and stop are in the newer file.
    let cut = whole
        .find(r#"{"run_id":"run-a","kind":"llm_result""#)
        .unwrap();
    let older = dir.path().join("events.1.jsonl");
    let newer = dir.path().join("events.jsonl");
    std::fs::write(&older, &whole[..cut]).unwrap();
    std::fs::write(&newer, &whole[cut..]).unwrap();
    let (older, newer) = (older.to_str().unwrap(), newer.to_str().unwrap());
    let rotated = cli(&["stats", "--json", older, newer], "");
    assert_eq!(rotated.code, Some(0), "{}", rotated.stderr);
    let lines = json_lines(&rotated.stdout);
    assert_close(&lines[0], &day_one(), "day 1");
    assert_close(&lines[3], &all_days(), "all");

    // Newest first, run-a's stop comes before its first events: they are late, left out
    // and said.
    let reversed = cli(&["stats", "--json", newer, older], "");
    assert_eq!(reversed.code, Some(0), "{}", reversed.stderr);
    assert!(
        reversed.stderr.contains(
            "warning: 3 events came after their run's stop (a rotated file given after a later one?) and were left out; give the files oldest first"
        ),
        "{}",
        reversed.stderr
    );
}

#[test]
fn a_run_with_an_unpriced_llm_call_is_of_unknown_cost() {
    // r1: priced; r2: its stop's spend is a lower bound (one LLM call without a price);
    // r3: an LLM call with tokens and a null spend, and no stop.
    let log = r#"{"run_id":"r1","kind":"stop","ts_ms":1732442401000,"duration_ms":100,"stop_reason":"completed","usage":{"tool_calls":1,"llm_calls":1,"unpriced_llm_calls":0,"spend_usd":0.5}}
{"run_id":"r2","kind":"stop","ts_ms":1732442402000,"duration_ms":100,"stop_reason":"completed","usage":{"tool_calls":1,"llm_calls":2,"unpriced_llm_calls":1,"spend_usd":0.25}}
{"run_id":"r3","kind":"llm_result","ts_ms":1732442403000,"usage":{"input_tokens":10,"output_tokens":5,"spend_usd":null}}
"#;
    let out = cli(&["stats", "--json", "-"], log);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let all = json_lines(&out.stdout).pop().unwrap();
    assert_close(
        &all["spend_usd_per_run"],
        &json!({"runs": 1, "mean": 0.5, "p95": 0.5, "unknown_share": 2.0 / 3.0}),
        "spend",
    );
}
