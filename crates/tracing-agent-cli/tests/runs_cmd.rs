//! `tracing-agent runs`, run as a user runs it, on the hand-written fixture logs.
//!
//! tests/fixtures/agent.log holds: a run whose run_start was rotated away
//! (req-7f3a91c2, its start is in older.log), a tool call outside any run, a run
//! (…9d01) with a sub-agent run (…0a12) and nested steps, a run that gave up after a
//! failing tool (…c923), a run without a stop event (…e034), and six lines that are
//! not events: a plain log line, a JSON array, an object without "kind", a wrong-typed
//! step_id, an unknown kind and a torn last line.

mod common;

use common::{cli, cli_env, strip_ansi, AGENT_LOG, AGENT_LOG_WARNING, OLDER_LOG};

const RUNS_AGENT_LOG: &str = "\
RUN_ID                                STARTED               AGENT           MODEL                   PROMPT  TOOL_CALLS  ERRORS  DURATION    SPEND  STOP_REASON
0193a5e1-2fa1-7c44-9e5f-a6b7c8d9e034  2024-11-24T10:02:00Z  billing-agent   gpt-4o-mini-2024-07-18  b2               2       0         -  unknown  -
0193a5e1-2f90-7a33-8c4d-e5f6a7b8c923  2024-11-24T10:01:00Z  support-agent   gpt-4o-2024-08-06       v13              3       2      1.3s  $0.0031  tool_error
0193a5e0-8d13-7e02-a4b5-c6d7e8f90a12  2024-11-24T10:00:01Z  research-agent  gpt-4o-mini-2024-07-18  r3               1       0     900ms  $0.0003  completed
0193a5e0-7c4a-7b11-9d2e-5f6a7b8c9d01  2024-11-24T10:00:00Z  support-agent   gpt-4o-2024-08-06       v12              5       0      3.3s  $0.0143  completed
req-7f3a91c2                          2024-11-24T09:56:35Z  -               -                       -                4       0     1m35s  $0.0090  completed
";

#[test]
fn lists_every_run_newest_first_and_warns_once_about_the_bad_lines() {
    let out = cli(&["runs", AGENT_LOG], "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, RUNS_AGENT_LOG);
    assert_eq!(
        out.stderr,
        format!("tracing-agent runs: {AGENT_LOG_WARNING}")
    );
}

#[test]
fn colors_only_when_forced_and_never_with_no_color() {
    // Piped stdout: plain (the test above). CLICOLOR_FORCE stands in for a terminal.
    let forced = cli_env(&["runs", AGENT_LOG], "", &[("CLICOLOR_FORCE", "1")]);
    assert!(
        forced.stdout.contains("\x1b[31mtool_error"),
        "{}",
        forced.stdout
    );
    assert!(
        forced.stdout.contains("\x1b[32mcompleted"),
        "{}",
        forced.stdout
    );
    assert_eq!(strip_ansi(&forced.stdout), RUNS_AGENT_LOG);

    let no_color = cli_env(
        &["runs", AGENT_LOG],
        "",
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    );
    assert_eq!(no_color.stdout, RUNS_AGENT_LOG);
}

/// A run given on stdin: denied by a policy, no LLM call.
const STDIN_RUN: &str = r#"{"run_id":"0193a5e2-0b1c-7d2e-8f3a-4b5c6d7e8f90","kind":"run_start","ts_ms":1732442580000,"step_id":null,"tool":null,"args_sha":null,"duration_ms":null,"status":null,"error":null,"stop_reason":null,"usage":null,"meta":{"agent":"triage-agent","model":"claude-3-5-haiku-20241022","prompt_version":"t1","tools_version":"2024-10-01","parent_run_id":null,"schema_version":1}}
{"run_id":"0193a5e2-0b1c-7d2e-8f3a-4b5c6d7e8f90","kind":"tool_result","ts_ms":1732442580240,"step_id":1,"tool":"ticket.close","args_sha":"44136fa355b3678a1146ad16","duration_ms":5,"status":"error","error":"PolicyDenied","stop_reason":null,"usage":null}
{"run_id":"0193a5e2-0b1c-7d2e-8f3a-4b5c6d7e8f90","kind":"stop","ts_ms":1732442580250,"step_id":null,"tool":null,"args_sha":null,"duration_ms":250,"status":null,"error":null,"stop_reason":"denied","usage":{"steps":1,"tool_calls":1,"tool_errors":1,"llm_calls":0,"input_tokens":0,"output_tokens":0,"spend_usd":0.0}}
"#;

#[test]
fn merges_two_files_and_stdin_into_one_log() {
    let out = cli(&["runs", OLDER_LOG, AGENT_LOG, "-"], STDIN_RUN);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // req-7f3a91c2 now has its versions and true start from older.log's run_start.
    assert_eq!(
        out.stdout,
        "\
RUN_ID                                STARTED               AGENT           MODEL                      PROMPT  TOOL_CALLS  ERRORS  DURATION    SPEND  STOP_REASON
0193a5e2-0b1c-7d2e-8f3a-4b5c6d7e8f90  2024-11-24T10:03:00Z  triage-agent    claude-3-5-haiku-20241022  t1               1       1     250ms  $0.0000  denied
0193a5e1-2fa1-7c44-9e5f-a6b7c8d9e034  2024-11-24T10:02:00Z  billing-agent   gpt-4o-mini-2024-07-18     b2               2       0         -  unknown  -
0193a5e1-2f90-7a33-8c4d-e5f6a7b8c923  2024-11-24T10:01:00Z  support-agent   gpt-4o-2024-08-06          v13              3       2      1.3s  $0.0031  tool_error
0193a5e0-8d13-7e02-a4b5-c6d7e8f90a12  2024-11-24T10:00:01Z  research-agent  gpt-4o-mini-2024-07-18     r3               1       0     900ms  $0.0003  completed
0193a5e0-7c4a-7b11-9d2e-5f6a7b8c9d01  2024-11-24T10:00:00Z  support-agent   gpt-4o-2024-08-06          v12              5       0      3.3s  $0.0143  completed
req-7f3a91c2                          2024-11-24T09:56:35Z  support-agent   gpt-4o-2024-08-06          v12              4       0     1m35s  $0.0090  completed
0193a5d9-4b21-7d55-8e66-f7a8b9c0d145  2024-11-24T09:50:00Z  support-agent   gpt-4o-2024-08-06          v11              1       0     400ms  $0.0000  completed
"
    );
    assert_eq!(
        out.stderr,
        format!("tracing-agent runs: {AGENT_LOG_WARNING}")
    );
}

#[test]
fn a_log_of_good_events_gives_no_warning() {
    let out = cli(&["runs", OLDER_LOG], "");
    assert_eq!(out.code, Some(0));
    assert_eq!(out.stderr, "");
    assert_eq!(out.stdout.lines().count(), 3, "{}", out.stdout);
}

#[test]
fn json_is_one_object_per_run_with_every_key_always_there() {
    let out = cli(&["runs", "--json", AGENT_LOG], "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let expected = [
        r#"{"run_id":"0193a5e1-2fa1-7c44-9e5f-a6b7c8d9e034","started":"2024-11-24T10:02:00Z","started_ms":1732442520000,"agent":"billing-agent","model":"gpt-4o-mini-2024-07-18","prompt_version":"b2","tools_version":"2024-10-01","parent_run_id":null,"steps":3,"tool_calls":2,"tool_errors":0,"llm_calls":1,"input_tokens":500,"output_tokens":80,"spend_usd":null,"unpriced_llm_calls":1,"duration_ms":null,"stop_reason":null,"tools":["invoice.get","ledger.read"],"has_run_start":true}"#,
        r#"{"run_id":"0193a5e1-2f90-7a33-8c4d-e5f6a7b8c923","started":"2024-11-24T10:01:00Z","started_ms":1732442460000,"agent":"support-agent","model":"gpt-4o-2024-08-06","prompt_version":"v13","tools_version":"2024-10-01","parent_run_id":null,"steps":4,"tool_calls":3,"tool_errors":2,"llm_calls":1,"input_tokens":900,"output_tokens":200,"spend_usd":0.0031,"unpriced_llm_calls":0,"duration_ms":1300,"stop_reason":"tool_error","tools":["crm.note","http.get"],"has_run_start":true}"#,
        r#"{"run_id":"0193a5e0-8d13-7e02-a4b5-c6d7e8f90a12","started":"2024-11-24T10:00:01Z","started_ms":1732442401050,"agent":"research-agent","model":"gpt-4o-mini-2024-07-18","prompt_version":"r3","tools_version":"2024-10-01","parent_run_id":"0193a5e0-7c4a-7b11-9d2e-5f6a7b8c9d01","steps":2,"tool_calls":1,"tool_errors":0,"llm_calls":1,"input_tokens":800,"output_tokens":120,"spend_usd":0.0003,"unpriced_llm_calls":0,"duration_ms":900,"stop_reason":"completed","tools":["web.search"],"has_run_start":true}"#,
        r#"{"run_id":"0193a5e0-7c4a-7b11-9d2e-5f6a7b8c9d01","started":"2024-11-24T10:00:00Z","started_ms":1732442400000,"agent":"support-agent","model":"gpt-4o-2024-08-06","prompt_version":"v12","tools_version":"2024-10-01","parent_run_id":null,"steps":7,"tool_calls":5,"tool_errors":0,"llm_calls":2,"input_tokens":3600,"output_tokens":760,"spend_usd":0.0143,"unpriced_llm_calls":0,"duration_ms":3310,"stop_reason":"completed","tools":["crm.lookup","research","send_email","send_reply","template.render"],"has_run_start":true}"#,
        r#"{"run_id":"req-7f3a91c2","started":"2024-11-24T09:56:35Z","started_ms":1732442195000,"agent":null,"model":null,"prompt_version":null,"tools_version":null,"parent_run_id":null,"steps":6,"tool_calls":4,"tool_errors":0,"llm_calls":2,"input_tokens":2000,"output_tokens":500,"spend_usd":0.009,"unpriced_llm_calls":0,"duration_ms":95100,"stop_reason":"completed","tools":["send_email"],"has_run_start":false}"#,
    ];
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), expected);
}

/// The run ids `runs --json ARGS agent.log` lists, in order.
fn listed(args: &[&str]) -> Vec<String> {
    let mut argv = vec!["runs", "--json"];
    argv.extend_from_slice(args);
    argv.push(AGENT_LOG);
    let out = cli(&argv, "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    out.stdout
        .lines()
        .map(|line| {
            let run: serde_json::Value = serde_json::from_str(line).unwrap();
            run["run_id"].as_str().unwrap().to_owned()
        })
        .collect()
}

const R1: &str = "0193a5e0-7c4a-7b11-9d2e-5f6a7b8c9d01";
const R2: &str = "0193a5e0-8d13-7e02-a4b5-c6d7e8f90a12";
const R3: &str = "0193a5e1-2f90-7a33-8c4d-e5f6a7b8c923";
const R4: &str = "0193a5e1-2fa1-7c44-9e5f-a6b7c8d9e034";
const R5: &str = "req-7f3a91c2";

#[test]
fn since_a_time_keeps_runs_started_at_or_after_it() {
    assert_eq!(listed(&["--since", "2024-11-24T10:01:00Z"]), [R4, R3]);
    // The space form, without a zone, is UTC too; R2 started at 10:00:01.050.
    assert_eq!(listed(&["--since", "2024-11-24 10:00:01"]), [R4, R3, R2]);
    // R5 has no run_start here: its start is its stop's time less its duration.
    assert_eq!(
        listed(&["--since", "2024-11-24T09:56:35Z"]),
        [R4, R3, R2, R1, R5]
    );
    assert_eq!(
        listed(&["--since", "2024-11-24T09:56:36Z"]),
        [R4, R3, R2, R1]
    );
}

#[test]
fn since_a_duration_counts_back_from_now() {
    // The fixture is from 2024: within the last 100000 days, but not the last hour.
    assert_eq!(listed(&["--since", "100000days"]), [R4, R3, R2, R1, R5]);
    let out = cli(&["runs", "--since", "1h", AGENT_LOG], "");
    assert_eq!(out.code, Some(0));
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .ends_with("tracing-agent runs: warning: no runs match the filters (5 in the input)\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn stop_reason_filter_and_dash_for_runs_without_stop() {
    assert_eq!(listed(&["--stop-reason", "tool_error"]), [R3]);
    assert_eq!(listed(&["--stop-reason", "-"]), [R4]);
    assert_eq!(
        listed(&["--stop-reason", "completed", "--stop-reason", "tool_error"]),
        [R3, R2, R1, R5]
    );
    assert_eq!(
        listed(&["--stop-reason", "max_steps"]),
        Vec::<String>::new()
    );
}

#[test]
fn agent_filter_needs_the_run_start() {
    assert_eq!(listed(&["--agent", "support-agent"]), [R3, R1]);
    assert_eq!(
        listed(&["--agent", "billing-agent", "--agent", "research-agent"]),
        [R4, R2]
    );
}

#[test]
fn tool_filter_keeps_runs_that_called_it() {
    assert_eq!(listed(&["--tool", "send_email"]), [R1, R5]);
    // The tool outside any run is no run.
    assert_eq!(listed(&["--tool", "healthcheck"]), Vec::<String>::new());
    assert_eq!(
        listed(&["--tool", "send_email", "--agent", "support-agent"]),
        [R1]
    );
}

#[test]
fn a_bad_since_is_a_usage_error_that_says_what_is_accepted() {
    let out = cli(&["runs", "--since", "yesterday", AGENT_LOG], "");
    assert_eq!(out.code, Some(2));
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("'yesterday'"), "{}", out.stderr);
    assert!(
        out.stderr.contains("expected a duration back from now (2h, 30m, 1day, 1h 30m) or a UTC time (2024-11-24T10:00:00Z)"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unreadable_file_is_an_error_naming_it_before_any_output() {
    let out = cli(&["runs", AGENT_LOG, "tests/fixtures/missing.log"], "");
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "tracing-agent runs: error: cannot open tests/fixtures/missing.log: No such file or directory (os error 2)\n"
    );

    let out = cli(&["runs", "tests/fixtures"], "");
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr,
        "tracing-agent runs: error: cannot read tests/fixtures: Is a directory (os error 21)\n"
    );
}

#[test]
fn a_torn_last_line_on_stdin_is_skipped_and_said_so() {
    let stdin = format!(
        "{}{}",
        STDIN_RUN.lines().next().unwrap(),
        "\n{\"run_id\":\"0193a5e2-0b1c-7d2e-8f3a-4b5c6d7e8f90\",\"kind\":\"sto"
    );
    let out = cli(&["runs", "-"], &stdin);
    assert_eq!(out.code, Some(0));
    assert_eq!(
        out.stderr,
        "tracing-agent runs: warning: skipped 1 line that is not an event:\n  <stdin>:2: torn last line (no newline at the end)\n"
    );
    assert_eq!(
        out.stdout,
        "\
RUN_ID                                STARTED               AGENT         MODEL                      PROMPT  TOOL_CALLS  ERRORS  DURATION  SPEND  STOP_REASON
0193a5e2-0b1c-7d2e-8f3a-4b5c6d7e8f90  2024-11-24T10:03:00Z  triage-agent  claude-3-5-haiku-20241022  t1               0       0         -      -  -
"
    );
}

#[test]
fn no_file_is_a_usage_error() {
    let out = cli(&["runs"], "");
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("<FILE>..."), "{}", out.stderr);
}
