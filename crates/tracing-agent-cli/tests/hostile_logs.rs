//! Logs written to hurt the reader: times past year 9999, counters that overflow, values
//! that would forge rows or drive the terminal. A log is data, and anyone may write one.

mod common;

use common::{cli, cli_env};

fn start(run_id: &str, ts_ms: u64, agent: &str, model: &str) -> String {
    serde_json::json!({
        "run_id": run_id, "kind": "run_start", "ts_ms": ts_ms,
        "meta": {"agent": agent, "model": model, "prompt_version": "p1",
                 "tools_version": null, "parent_run_id": null, "schema_version": 1}
    })
    .to_string()
}

fn llm(run_id: &str, ts_ms: u64, input: u64, output: u64) -> String {
    serde_json::json!({
        "run_id": run_id, "kind": "llm_result", "ts_ms": ts_ms, "step_id": 1,
        "model": "m", "usage": {"input_tokens": input, "output_tokens": output}
    })
    .to_string()
}

#[test]
fn a_time_past_year_9999_does_not_take_the_listing_with_it() {
    let log = [
        start("run-far-future", u64::MAX, "a", "m"),
        start("run-ok", 1_732_442_400_000, "b", "m"),
    ]
    .join("\n");
    let out = cli(&["runs", "-"], &log);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("run-ok"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains(&format!("run-far-future  ts_ms={}", u64::MAX)),
        "{}",
        out.stdout
    );
    let show = cli(&["show", "run-far-future", "-"], &log);
    assert_eq!(show.code, Some(0), "{}", show.stderr);
    let json = cli(&["runs", "--json", "-"], &log);
    assert_eq!(json.code, Some(0), "{}", json.stderr);
}

#[test]
fn token_counts_saturate_instead_of_wrapping_or_panicking() {
    let log = [
        start("r", 1_000, "a", "m"),
        llm("r", 1_001, u64::MAX, 1),
        llm("r", 1_002, 2, u64::MAX),
        llm("r", 1_003, 3, 3),
    ]
    .join("\n");
    let out = cli(&["runs", "--json", "-"], &log);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let run: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(run["input_tokens"], u64::MAX);
    assert_eq!(run["output_tokens"], u64::MAX);
    let show = cli(&["show", "r", "-"], &log);
    assert_eq!(show.code, Some(0), "{}", show.stderr);
    assert!(
        show.stdout
            .contains(&format!("{} input + {} output tokens", u64::MAX, u64::MAX)),
        "{}",
        show.stdout
    );
}

/// Bytes a terminal acts on: set the title, clear the screen, reorder the text.
const HOSTILE: [&str; 5] = [
    "\x1b]0;pwned\x07",
    "\x1b[2J",
    "\u{9b}2J",
    "\u{202e}",
    "\x7f",
];

fn hostile_log() -> String {
    let forged_row = "\nforged-run  2024-11-24T10:00:00Z  admin";
    [
        start(
            &format!("r1{forged_row}"),
            1_732_442_400_000,
            &format!("agent{}", HOSTILE[0]),
            &format!("model{}{}", HOSTILE[1], HOSTILE[2]),
        ),
        serde_json::json!({
            "run_id": format!("r1{forged_row}"), "kind": "tool_result",
            "ts_ms": 1_732_442_400_001u64, "step_id": 1,
            "tool": format!("tool{}", HOSTILE[3]), "status": "error",
            "error": format!("Class{}", HOSTILE[4]), "tool_version": "\x1b[2J",
            "hash_error": "args: \x1b]0;t\x07", "args": {"k": "\u{85}\u{202e}\x1b[2J"},
        })
        .to_string(),
    ]
    .join("\n")
}

fn assert_inert(output: &str) {
    for bad in HOSTILE {
        assert!(
            !output.contains(bad),
            "{bad:?} reached the terminal: {output:?}"
        );
    }
    // Our own colors are the only escapes left.
    let without_colors = common::strip_ansi(output);
    assert!(!without_colors.contains('\x1b'), "{output:?}");
    assert!(!without_colors.contains('\u{85}'), "{output:?}");
}

#[test]
fn values_that_would_forge_rows_or_drive_the_terminal_are_shown_escaped() {
    let log = hostile_log();
    // CLICOLOR_FORCE: the output is what a terminal gets (no escape stripping).
    let env = [("CLICOLOR_FORCE", "1")];
    let out = cli_env(&["runs", "-"], &log, &env);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_inert(&out.stdout);
    assert_eq!(
        out.stdout.lines().count(),
        2,
        "header and one row: {}",
        out.stdout
    );
    assert!(!out
        .stdout
        .lines()
        .any(|l| common::strip_ansi(l).starts_with("forged-run")));
    assert!(out.stdout.contains(r"r1\u{a}forged-run"), "{}", out.stdout);
    assert!(
        out.stdout.contains(r"agent\u{1b}]0;pwned\u{7}"),
        "{}",
        out.stdout
    );

    let show = cli_env(
        &["show", "r1\nforged-run  2024-11-24T10:00:00Z  admin", "-"],
        &log,
        &env,
    );
    assert_eq!(show.code, Some(0), "{}", show.stderr);
    assert_inert(&show.stdout);
    assert!(show.stdout.contains(r"tool\u{202e}"), "{}", show.stdout);

    // Errors that repeat a value from the command line or the log.
    let missing = cli_env(&["show", "nothing\x1b]0;x\x07here", "-"], &log, &env);
    assert_eq!(missing.code, Some(1));
    assert_inert(&missing.stderr);
}

/// Input that never ends a line (`/dev/zero`), bounded here: a little over the 16 MiB
/// line limit, then one real run.
fn zeros_then(log: &str) -> String {
    let mut input = "\0".repeat(17 << 20);
    input.push('\n');
    input.push_str(log);
    input
}

#[test]
fn a_runaway_line_ends_with_a_clear_warning_and_the_rest_is_read() {
    let log = start("after-zeros", 1_732_442_400_000, "a", "m");
    let out = cli(&["runs", "-"], &zeros_then(&log));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("after-zeros"), "{}", out.stdout);
    assert!(
        out.stderr.contains("<stdin>:1: longer than 16 MiB"),
        "{}",
        out.stderr
    );

    let hash = cli(&["hash"], &zeros_then("{}\n"));
    assert_eq!(hash.code, Some(1));
    assert_eq!(hash.stdout, "\n44136fa355b3678a1146ad16\n");
    assert_eq!(
        hash.stderr,
        "tracing-agent hash: line 1: longer than 16 MiB, not read\n"
    );
}
