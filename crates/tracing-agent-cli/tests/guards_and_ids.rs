//! `show` tells a guard's part of the story; an ambiguous prefix lists a bounded number
//! of candidates; two runs given one id are said, a log given twice is not.

mod common;

use common::{cli, runs_json_ids};

fn start(run: &str, ts: u64, agent: &str) -> String {
    format!(
        r#"{{"run_id":"{run}","kind":"run_start","ts_ms":{ts},"step_id":null,"tool":null,"args_sha":null,"duration_ms":null,"status":null,"error":null,"stop_reason":null,"usage":null,"meta":{{"agent":"{agent}","model":null,"prompt_version":null,"tools_version":null,"parent_run_id":null,"schema_version":1}}}}"#
    ) + "\n"
}

fn stop(run: &str, ts: u64, reason: &str) -> String {
    format!(
        r#"{{"run_id":"{run}","kind":"stop","ts_ms":{ts},"step_id":null,"tool":null,"args_sha":null,"duration_ms":40,"status":null,"error":null,"stop_reason":"{reason}","usage":{{"steps":3,"tool_calls":3,"tool_errors":3,"llm_calls":0,"input_tokens":0,"output_tokens":0,"spend_usd":0.0}}}}"#
    ) + "\n"
}

const GUARDED: &str = concat!(
    r#"{"run_id":"r-guard","kind":"tool_result","ts_ms":1732442400010,"step_id":1,"tool":"http.get","args_sha":"aaaaaaaaaaaaaaaaaaaaaaaa","duration_ms":5,"status":"error","error":"Unavailable","stop_reason":null,"usage":null}"#,
    "\n",
    r#"{"run_id":"r-guard","kind":"budget_warning","ts_ms":1732442400011,"step_id":2,"tool":null,"args_sha":null,"duration_ms":null,"status":null,"error":null,"stop_reason":null,"usage":null,"guard":"max_spend_usd","limit":0.5,"used":0.41}"#,
    "\n",
    r#"{"run_id":"r-guard","kind":"guard","ts_ms":1732442400020,"step_id":3,"tool":"http.get","args_sha":null,"duration_ms":null,"status":null,"error":null,"stop_reason":"loop_detected","usage":null,"guard":"loop_repeats","limit":3,"used":3,"detail":"`http.get` called 3 times in a row with the same arguments and the same outcome"}"#,
    "\n",
    r#"{"run_id":"r-guard","kind":"tool_result","ts_ms":1732442400021,"step_id":3,"tool":"http.get","args_sha":"aaaaaaaaaaaaaaaaaaaaaaaa","duration_ms":0,"status":"error","error":"refused:loop_detected","stop_reason":null,"usage":null}"#,
    "\n",
);

#[test]
fn show_says_which_guard_stopped_the_run_and_what_warned_before() {
    let log = start("r-guard", 1_732_442_400_000, "support-agent")
        + GUARDED
        + &stop("r-guard", 1_732_442_400_040, "loop_detected");
    let out = cli(&["show", "r-guard", "-"], &log);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let facts: Vec<&str> = out
        .stdout
        .lines()
        .filter(|line| line.starts_with("guard") || line.starts_with("budget warning"))
        .collect();
    assert_eq!(
        facts,
        [
            "budget warning  max_spend_usd: $0.4100 of $0.5000, at step 2",
            "guard           loop_repeats: 3 of 3, at step 3 (http.get): `http.get` called 3 times in a row with the same arguments and the same outcome",
        ],
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("refused:loop_detected"),
        "{}",
        out.stdout
    );
}

#[test]
fn an_ambiguous_prefix_lists_twenty_candidates_and_counts_the_rest() {
    let log: String = (0..30)
        .rev()
        .map(|n| start(&format!("run-prefix-{n:03}"), 1_732_442_400_000 + n, "a"))
        .collect();
    let out = cli(&["show", "run-prefix", "-"], &log);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains("30 runs have ids containing \"run-prefix\""),
        "{}",
        out.stderr
    );
    let listed: Vec<&str> = out
        .stderr
        .lines()
        .filter(|line| line.trim_start().starts_with("run-prefix-"))
        .collect();
    assert_eq!(listed.len(), 20, "{}", out.stderr);
    assert!(
        listed[0].contains("run-prefix-000"),
        "the smallest ids first"
    );
    assert!(listed[19].contains("run-prefix-019"));
    assert!(out.stderr.contains("  ... and 10 more"), "{}", out.stderr);
}

#[test]
fn two_runs_given_one_id_are_said_and_a_log_given_twice_is_not() {
    let shared = start("r-twice", 1_732_442_400_000, "a")
        + &stop("r-twice", 1_732_442_400_040, "completed")
        + &start("r-twice", 1_732_442_500_000, "a")
        + &stop("r-twice", 1_732_442_500_040, "completed");
    let out = cli(&["show", "r-twice", "-"], &shared);
    assert!(
        out.stderr
            .contains("2 different runs started with the id \"r-twice\""),
        "{}",
        out.stderr
    );
    let out = cli(&["runs", "-"], &shared);
    assert!(
        out.stderr
            .contains("1 of these ids started more than one run"),
        "{}",
        out.stderr
    );

    let once =
        start("r-once", 1_732_442_400_000, "a") + &stop("r-once", 1_732_442_400_040, "completed");
    let twice = once.clone() + &once;
    let out = cli(&["show", "r-once", "-"], &twice);
    assert!(!out.stderr.contains("different runs"), "{}", out.stderr);
    let out = cli(&["runs", "-"], &twice);
    assert!(!out.stderr.contains("more than one run"), "{}", out.stderr);
}

#[test]
fn runs_a_filter_leaves_out_early_still_count_and_the_kept_ones_are_whole() {
    // 300 runs of three agents; each stops, then (as a log given twice would) its
    // start comes again.
    let mut log = String::new();
    for n in 0..300u64 {
        let agent = ["alpha", "beta", "gamma"][(n % 3) as usize];
        let run = format!("run-{n:04}");
        let reason = if n % 2 == 0 {
            "completed"
        } else {
            "tool_error"
        };
        log += &start(&run, 1_732_442_400_000 + n, agent);
        log += &stop(&run, 1_732_442_400_500 + n, reason);
        log += &start(&run, 1_732_442_400_000 + n, agent);
    }
    let out = cli(&["runs", "--agent", "nobody", "-"], &log);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("no runs match the filters (300 in the input)"),
        "{}",
        out.stderr
    );
    // Left out at its start (agent) or at its stop (stop reason): the rest is listed
    // exactly as without early decisions.
    let (ids, stderr) = runs_json_ids(&["--agent", "beta", "--stop-reason", "completed"], &log);
    let expected: Vec<String> = (0..300u64)
        .rev()
        .filter(|n| n % 3 == 1 && n % 2 == 0)
        .map(|n| format!("run-{n:04}"))
        .collect();
    assert_eq!(ids, expected);
    assert!(!stderr.contains("more than one run"), "{stderr}");
}
