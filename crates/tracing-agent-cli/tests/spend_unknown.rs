//! A spend that is partly or wholly unknown reads as such: never as a plain amount.

mod common;

use common::cli;

/// Three runs, by hand: every call priced; one of two calls unpriced (the `stop` says
/// so); an older writer's log whose `stop` says 0.0 for a call that had no price.
const LOG: &str = concat!(
    r#"{"run_id":"priced","kind":"llm_result","ts_ms":1732442400000,"step_id":1,"tool":null,"args_sha":null,"duration_ms":null,"status":null,"error":null,"stop_reason":null,"usage":{"input_tokens":1000,"output_tokens":100,"spend_usd":0.0035},"model":"gpt-4o"}"#,
    "\n",
    r#"{"run_id":"priced","kind":"stop","ts_ms":1732442401000,"step_id":null,"tool":null,"args_sha":null,"duration_ms":1000,"status":null,"error":null,"stop_reason":"completed","usage":{"steps":1,"tool_calls":0,"tool_errors":0,"llm_calls":1,"input_tokens":1000,"output_tokens":100,"cached_input_tokens":0,"reasoning_tokens":0,"spend_usd":0.0035,"unpriced_llm_calls":0}}"#,
    "\n",
    r#"{"run_id":"partial","kind":"stop","ts_ms":1732442402000,"step_id":null,"tool":null,"args_sha":null,"duration_ms":1000,"status":null,"error":null,"stop_reason":"completed","usage":{"steps":2,"tool_calls":0,"tool_errors":0,"llm_calls":2,"input_tokens":2000,"output_tokens":200,"cached_input_tokens":0,"reasoning_tokens":0,"spend_usd":0.004,"unpriced_llm_calls":1}}"#,
    "\n",
    r#"{"run_id":"older","kind":"llm_result","ts_ms":1732442403000,"step_id":1,"tool":null,"args_sha":null,"duration_ms":null,"status":null,"error":null,"stop_reason":null,"usage":{"input_tokens":500,"output_tokens":50,"spend_usd":null},"model":"llama-3-70b"}"#,
    "\n",
    r#"{"run_id":"older","kind":"stop","ts_ms":1732442404000,"step_id":null,"tool":null,"args_sha":null,"duration_ms":1000,"status":null,"error":null,"stop_reason":"completed","usage":{"steps":1,"tool_calls":0,"tool_errors":0,"llm_calls":1,"input_tokens":500,"output_tokens":50,"spend_usd":0.0}}"#,
    "\n",
);

#[test]
fn runs_marks_a_partial_spend_as_a_lower_bound_and_an_unknown_one_as_unknown() {
    let out = cli(&["runs", "-"], LOG);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let spend_of = |run: &str| {
        let line = out.stdout.lines().find(|l| l.starts_with(run)).unwrap();
        line.split_whitespace()
            .nth(line.split_whitespace().count() - 2)
            .unwrap()
            .to_owned()
    };
    assert_eq!(spend_of("priced"), "$0.0035");
    assert_eq!(spend_of("partial"), ">=$0.0040");
    assert_eq!(spend_of("older"), "unknown");

    let json = cli(&["runs", "--json", "-"], LOG);
    let unpriced: Vec<(String, u64)> = json
        .stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["run_id"].as_str().unwrap().to_owned(),
                v["unpriced_llm_calls"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        unpriced,
        [
            ("older".to_owned(), 1),
            ("partial".to_owned(), 1),
            ("priced".to_owned(), 0)
        ]
    );
}

#[test]
fn show_says_how_many_calls_had_no_price() {
    let out = cli(&["show", "partial", "-"], LOG);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("; >=$0.0040 (1 LLM call without a price)"),
        "{}",
        out.stdout
    );
}
