//! The `runs` filters of a first week of use: `--model`, `--prompt-version`, `--error`,
//! `--failed`, `--until`, `--limit`, and the warning for a stop reason the library does
//! not name.

mod common;

use common::{cli, runs_json_ids as ids};

/// 2024-11-24T10:00:00Z.
const T0: u64 = 1_732_442_400_000;

fn start(run: &str, ts: u64, model: Option<&str>, prompt: &str) -> String {
    let model = model.map_or("null".to_owned(), |m| format!("\"{m}\""));
    format!(
        r#"{{"run_id":"{run}","kind":"run_start","ts_ms":{ts},"meta":{{"agent":"a","model":{model},"prompt_version":"{prompt}","tools_version":null,"parent_run_id":null,"schema_version":1}}}}"#
    ) + "\n"
}

fn tool(run: &str, ts: u64, status: &str, error: &str) -> String {
    format!(
        r#"{{"run_id":"{run}","kind":"tool_result","ts_ms":{ts},"step_id":1,"tool":"t","status":"{status}","error":"{error}"}}"#
    ) + "\n"
}

fn llm(run: &str, ts: u64, model: &str) -> String {
    format!(
        r#"{{"run_id":"{run}","kind":"llm_result","ts_ms":{ts},"step_id":2,"model":"{model}"}}"#
    ) + "\n"
}

fn stop(run: &str, ts: u64, reason: &str) -> String {
    format!(
        r#"{{"run_id":"{run}","kind":"stop","ts_ms":{ts},"duration_ms":10,"stop_reason":"{reason}"}}"#
    ) + "\n"
}

/// Four runs a minute apart, newest last: r-1 completed on m1/p1 despite a `Timeout`;
/// r-2 stopped on `tool_error` (`Http`) on m2/p2; r-3's run_start names no model, its
/// LLM call (written after the start) does, and it has no stop; r-4 has no run_start
/// and stopped for a reason of the caller's own.
fn log() -> String {
    let minute = 60_000;
    [
        start("r-1", T0, Some("m1"), "p1"),
        tool("r-1", T0 + 1, "error", "Timeout"),
        stop("r-1", T0 + 10, "completed"),
        start("r-2", T0 + minute, Some("m2"), "p2"),
        tool("r-2", T0 + minute + 1, "error", "Http"),
        tool("r-2", T0 + minute + 2, "ok", "Timeout"),
        stop("r-2", T0 + minute + 10, "tool_error"),
        start("r-3", T0 + 2 * minute, None, "p1"),
        llm("r-3", T0 + 2 * minute + 1, "m3"),
        tool("r-4", T0 + 3 * minute, "error", "Timeout"),
        stop("r-4", T0 + 3 * minute + 10, "handed_off"),
    ]
    .concat()
}

#[test]
fn runs_model_and_prompt_version_filter_and_repeat() {
    let log = log();
    assert_eq!(ids(&["--model", "m1"], &log).0, ["r-1"]);
    // The model of an LLM call stands in for the one a run_start does not name, though
    // it comes after the run_start.
    assert_eq!(
        ids(&["--model", "m3", "--model", "m1"], &log).0,
        ["r-3", "r-1"]
    );
    assert_eq!(ids(&["--prompt-version", "p1"], &log).0, ["r-3", "r-1"]);
    assert_eq!(
        ids(&["--prompt-version", "p1", "--model", "m1"], &log).0,
        ["r-1"]
    );
    let (none, stderr) = ids(&["--prompt-version", "p9"], &log);
    assert!(none.is_empty());
    assert!(
        stderr.contains("no runs match the filters (4 in the input)"),
        "{stderr}"
    );
}

#[test]
fn runs_error_keeps_runs_with_a_call_that_failed_with_that_class() {
    let log = log();
    // r-2's ok call carries the text "Timeout" but did not fail with it.
    assert_eq!(ids(&["--error", "Timeout"], &log).0, ["r-4", "r-1"]);
    assert_eq!(
        ids(&["--error", "Http", "--error", "Timeout"], &log).0,
        ["r-4", "r-2", "r-1"]
    );
    assert!(ids(&["--error", "timeout"], &log).0.is_empty());
}

#[test]
fn runs_failed_is_every_run_that_did_not_complete_even_without_a_stop() {
    assert_eq!(ids(&["--failed"], &log()).0, ["r-4", "r-3", "r-2"]);
}

#[test]
fn runs_until_ends_the_window_that_since_begins() {
    let log = log();
    // Started before 10:02, not at it.
    assert_eq!(
        ids(&["--until", "2024-11-24T10:02:00Z"], &log).0,
        ["r-2", "r-1"]
    );
    assert_eq!(
        ids(
            &[
                "--since",
                "2024-11-24T10:01:00Z",
                "--until",
                "2024-11-24T10:03:00Z"
            ],
            &log
        )
        .0,
        ["r-3", "r-2"]
    );
    // A duration counts back from now, as for --since: these runs are long past.
    assert_eq!(ids(&["--until", "1h"], &log).0.len(), 4);
    let out = cli(&["runs", "--until", "tomorrow", "-"], &log);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
}

#[test]
fn runs_limit_keeps_the_newest_of_what_the_filters_keep() {
    let log = log();
    assert_eq!(ids(&["--limit", "2"], &log).0, ["r-4", "r-3"]);
    assert_eq!(
        ids(&["--limit", "1", "--prompt-version", "p1"], &log).0,
        ["r-3"]
    );
    assert_eq!(ids(&["--limit", "9"], &log).0.len(), 4);
    let table = cli(&["runs", "--limit", "1", "-"], &log);
    assert_eq!(table.stdout.lines().count(), 2, "{}", table.stdout);
    let out = cli(&["runs", "--limit", "0", "-"], &log);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
}

#[test]
fn runs_an_unknown_stop_reason_is_warned_about_and_still_looked_for() {
    let log = log();
    let (found, stderr) = ids(&["--stop-reason", "handed_off"], &log);
    assert_eq!(found, ["r-4"]);
    assert_eq!(
        stderr,
        "tracing-agent runs: warning: --stop-reason \"handed_off\" is not a stop reason of the library (those are completed, max_steps, max_tool_calls, token_budget, spend_budget, time_budget, loop_detected, tool_timeout, tool_error, denied, killed, cancelled, error, panic, dropped, and - for no stop); runs that stopped for a reason of their own by that name are still listed\n"
    );
    let (found, stderr) = ids(&["--stop-reason", "complete"], &log);
    assert!(found.is_empty());
    assert!(
        stderr.contains("\"complete\" is not a stop reason"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no runs match the filters (4 in the input)"),
        "{stderr}"
    );
    // Named reasons and `-` are not warned about.
    let (found, stderr) = ids(&["--stop-reason", "tool_error", "--stop-reason", "-"], &log);
    assert_eq!(found, ["r-3", "r-2"]);
    assert_eq!(stderr, "");
}

#[test]
fn runs_the_new_filters_decide_early_as_they_would_late() {
    // Each run stops, then (as a log given twice would) its start comes again: a run
    // left out early must stay out, and a kept one stay whole.
    let mut log = String::new();
    let mut expected = Vec::new();
    for n in 0..120u64 {
        let run = format!("run-{n:04}");
        let model = ["m1", "m2", "m3"][(n % 3) as usize];
        let prompt = ["p1", "p2"][(n % 2) as usize];
        let ts = T0 + n * 1000;
        log += &start(&run, ts, (n % 5 != 0).then_some(model), prompt);
        if n % 5 == 0 {
            log += &llm(&run, ts + 1, model);
        }
        let class = ["Timeout", "Http"][(n % 4 / 2) as usize];
        log += &tool(&run, ts + 2, "error", class);
        let reason = if n % 7 == 0 {
            "completed"
        } else {
            "tool_error"
        };
        log += &stop(&run, ts + 10, reason);
        log += &start(&run, ts, (n % 5 != 0).then_some(model), prompt);
        if n % 3 != 2 && n % 2 == 0 && class == "Timeout" && reason != "completed" {
            expected.push(run);
        }
    }
    expected.reverse();
    let (found, _) = ids(
        &[
            "--model",
            "m1",
            "--model",
            "m2",
            "--prompt-version",
            "p1",
            "--error",
            "Timeout",
            "--failed",
        ],
        &log,
    );
    assert!(!expected.is_empty());
    assert_eq!(found, expected);
}
