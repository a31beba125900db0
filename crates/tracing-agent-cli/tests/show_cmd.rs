//! `tracing-agent show`, run as a user runs it, on the hand-written fixture logs (see
//! tests/runs_cmd.rs for what they hold).

mod common;

use common::{cli, cli_env, strip_ansi, AGENT_LOG, AGENT_LOG_WARNING, OLDER_LOG};

/// The parent run: an LLM call, a tool, a sub-agent run (started by the `research`
/// tool), a second LLM call, and `send_reply` with two nested calls whose events came
/// before its own; `send_email` stored its redacted args.
const SHOW_R1: &str = "\
run_id          0193a5e0-7c4a-7b11-9d2e-5f6a7b8c9d01
agent           support-agent
model           gpt-4o-2024-08-06
prompt_version  v12
tools_version   2024-10-01
started         2024-11-24T10:00:00Z

STEP  CALL                   DURATION  STATUS  DETAIL
   1  llm gpt-4o-2024-08-06     850ms          1200 in / 350 out tokens, $0.0042
   2  crm.lookup@3              120ms  ok      args_sha b2cd4705677b6b5311a4b635  result_sha e1b8d605404dcf1bb38102d0
   3  research                  920ms  ok      args_sha 7d6e5f4a3b2c1d0e9f8a7b6c  result_sha 1a2b3c4d5e6f708192a3b4c5
   4  llm gpt-4o-2024-08-06         -          2400 in / 410 out tokens, $0.0101
   5  send_reply                 1.3s  ok      args_sha 8f7e6d5c4b3a29180f1e2d3c  result_sha 2b3c4d5e6f708192a3b4c5d6
   6    template.render          15ms  ok      args_sha 3c4d5e6f7a8b9c0d1e2f3a4b  result_sha 9e8d7c6b5a4f3e2d1c0b9a8f
   7    send_email               1.3s  ok      args_sha aee843f2b4cfbb67c6993837  result_sha b7d28efd7e38c7e6c52b21e6
          args {\"subject\":\"Your order\",\"to\":\"[REDACTED]\"}

sub-runs
  RUN_ID                                STARTED               AGENT           MODEL                   PROMPT  TOOL_CALLS  ERRORS  DURATION    SPEND  STOP_REASON
  0193a5e0-8d13-7e02-a4b5-c6d7e8f90a12  2024-11-24T10:00:01Z  research-agent  gpt-4o-mini-2024-07-18  r3               1       0     900ms  $0.0003  completed

stop_reason     completed
duration        3.3s
usage           7 steps: 5 tool calls (0 errors), 2 LLM calls; 3600 input + 760 output tokens; $0.0143
";

#[test]
fn tells_the_whole_story_of_a_run_with_nested_steps_and_a_sub_run() {
    let out = cli(&["show", "0193a5e0-7c4a", AGENT_LOG], "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, SHOW_R1);
    assert_eq!(
        out.stderr,
        format!("tracing-agent show: {AGENT_LOG_WARNING}")
    );
}

#[test]
fn colors_only_when_forced_and_never_with_no_color() {
    let forced = cli_env(
        &["show", "0193a5e0-7c4a", AGENT_LOG],
        "",
        &[("CLICOLOR_FORCE", "1")],
    );
    assert!(forced.stdout.contains("\x1b[32mok"), "{}", forced.stdout);
    assert_eq!(strip_ansi(&forced.stdout), SHOW_R1);
    let no_color = cli_env(
        &["show", "0193a5e0-7c4a", AGENT_LOG],
        "",
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    );
    assert_eq!(no_color.stdout, SHOW_R1);
}

#[test]
fn a_failing_tool_a_skipped_line_and_a_hash_error() {
    // Step 3's line has a string step_id: skipped (and warned about), so the step has
    // no event; the stop still counts it.
    let out = cli(&["show", "0193a5e1-2f90", AGENT_LOG], "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "\
run_id          0193a5e1-2f90-7a33-8c4d-e5f6a7b8c923
agent           support-agent
model           gpt-4o-2024-08-06
prompt_version  v13
tools_version   2024-10-01
started         2024-11-24T10:01:00Z

STEP  CALL                   DURATION  STATUS             DETAIL
   1  llm gpt-4o-2024-08-06     640ms                     900 in / 200 out tokens, $0.0031
   2  http.get                  210ms  error RateLimited  args_sha 50ef56df9e4f1d438129bfa5
   3  (no event)                                          not in the input
   4  crm.note                   30ms  ok                 args_sha -  result_sha c0ffee0123456789abcdef01
        hash_error args: map key is not a string at `fields`

stop_reason     tool_error
duration        1.3s
usage           4 steps: 3 tool calls (2 errors), 1 LLM call; 900 input + 200 output tokens; $0.0031
"
    );
}

#[test]
fn a_run_without_stop_is_shown_as_such_with_its_step_in_flight() {
    // Step 3 started (its child, step 4, ran inside it) but never ended: the process
    // died, tearing the last line.
    let out = cli(&["show", "0193a5e1-2fa1", AGENT_LOG], "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "\
run_id          0193a5e1-2fa1-7c44-9e5f-a6b7c8d9e034
agent           billing-agent
model           gpt-4o-mini-2024-07-18
prompt_version  b2
tools_version   2024-10-01
started         2024-11-24T10:02:00Z

STEP  CALL                        DURATION  STATUS  DETAIL
   1  invoice.get@2                   40ms  ok      args_sha 6a5b4c3d2e1f0a9b8c7d6e5f  result_sha 0f1e2d3c4b5a69788796a5b4
   2  llm gpt-4o-mini-2024-07-18     500ms          500 in / 80 out tokens, cost unknown (no price)
   3  (no event)                                    not in the input: still running, or lost
   4    ledger.read                   60ms  ok      args_sha 1f2e3d4c5b6a79808f9e0d1c  result_sha 2e3d4c5b6a79808f9e0d1c2b

stop_reason     - (no stop event: still running, or its process died; last event at 2024-11-24T10:02:00Z)
usage           so far 3 steps: 2 tool calls (0 errors), 1 LLM call; 500 input + 80 output tokens; spend unknown (1 LLM call without a price)
"
    );
}

#[test]
fn a_sub_run_names_its_parent() {
    let out = cli(&["show", "0193a5e0-8d13", AGENT_LOG], "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "\
run_id          0193a5e0-8d13-7e02-a4b5-c6d7e8f90a12
agent           research-agent
model           gpt-4o-mini-2024-07-18
prompt_version  r3
tools_version   2024-10-01
parent_run_id   0193a5e0-7c4a-7b11-9d2e-5f6a7b8c9d01
started         2024-11-24T10:00:01Z

STEP  CALL                        DURATION  STATUS  DETAIL
   1  llm gpt-4o-mini-2024-07-18     430ms          800 in / 120 out tokens, $0.0003
   2  web.search                     400ms  ok      args_sha 0a1b2c3d4e5f60718293a4b5  result_sha 5f4e3d2c1b0a99887766554f

stop_reason     completed
duration        900ms
usage           2 steps: 1 tool call (0 errors), 1 LLM call; 800 input + 120 output tokens; $0.0003
"
    );
}

#[test]
fn a_run_whose_start_was_rotated_away_and_an_exact_8_character_prefix() {
    let out = cli(&["show", "req-7f3a", AGENT_LOG], "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "\
run_id          req-7f3a91c2
versions        unknown: no run_start event in the input
started         2024-11-24T09:56:35Z (the stop's time less the run's duration)

STEP  CALL        DURATION  STATUS  DETAIL
 1-5  (no event)                    not in the input
   6  send_email     300ms  ok      args_sha f9bdb8adfcdbadbdbba551b6  result_sha b7d28efd7e38c7e6c52b21e6

stop_reason     completed
duration        1m35s
usage           6 steps: 4 tool calls (0 errors), 2 LLM calls; 2000 input + 500 output tokens; $0.0090
"
    );
}

#[test]
fn two_files_make_one_log_and_stdin_counts_as_one() {
    // With older.log, req-7f3a91c2 has its run_start.
    let out = cli(&["show", "req-7f3a91c2", OLDER_LOG, "-"], &read(AGENT_LOG));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.starts_with(
            "\
run_id          req-7f3a91c2
agent           support-agent
model           gpt-4o-2024-08-06
prompt_version  v12
tools_version   2024-10-01
started         2024-11-24T09:56:35Z
"
        ),
        "{}",
        out.stdout
    );
    // The warning now names stdin.
    assert!(
        out.stderr
            .contains("  <stdin>:6: not JSON: trailing characters at column 5\n"),
        "{}",
        out.stderr
    );
}

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn an_ambiguous_prefix_lists_the_candidates() {
    let out = cli(&["show", "0193a5e0", AGENT_LOG], "");
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        format!(
            "tracing-agent show: {AGENT_LOG_WARNING}\
tracing-agent show: error: 2 runs have ids containing \"0193a5e0\"; give more of the id:
  0193a5e0-7c4a-7b11-9d2e-5f6a7b8c9d01  2024-11-24T10:00:00Z  support-agent
  0193a5e0-8d13-7e02-a4b5-c6d7e8f90a12  2024-11-24T10:00:01Z  research-agent
"
        )
    );
}

#[test]
fn a_prefix_shorter_than_8_characters_is_a_usage_error() {
    let out = cli(&["show", "0193a5e", AGENT_LOG], "");
    assert_eq!(out.code, Some(2));
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.ends_with(
            "tracing-agent show: error: no run has the id \"0193a5e\", and a part of an id must have at least 8 characters\n"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_short_run_id_is_found_when_it_is_the_whole_id() {
    let stdin = r#"{"run_id":"r1","kind":"stop","ts_ms":1732442400000,"step_id":null,"tool":null,"args_sha":null,"duration_ms":5,"status":null,"error":null,"stop_reason":"killed","usage":{"steps":0,"tool_calls":0,"tool_errors":0,"llm_calls":0,"input_tokens":0,"output_tokens":0,"spend_usd":0.0}}
"#;
    let out = cli(&["show", "r1", "-"], stdin);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "\
run_id          r1
versions        unknown: no run_start event in the input
started         2024-11-24T09:59:59Z (the stop's time less the run's duration)

(no tool or LLM calls in the input)

stop_reason     killed
duration        5ms
usage           0 steps: 0 tool calls (0 errors), 0 LLM calls; 0 input + 0 output tokens; $0.0000
"
    );
}

#[test]
fn no_matching_run_is_an_error() {
    let out = cli(&["show", "deadbeef", OLDER_LOG], "");
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "tracing-agent show: error: no run id contains \"deadbeef\"\n"
    );
}
