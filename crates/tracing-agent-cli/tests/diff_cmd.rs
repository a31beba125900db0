//! `tracing-agent diff` on a hand-written log: a recorded run (`rec-v12`), its replay
//! with a changed prompt (`rep-v13`), and two later runs (`again-1`, `again-2`).

mod common;

use common::cli;
use serde_json::Value;

const LOG: &str = "tests/fixtures/replay.log";

#[test]
fn the_same_calls_in_the_same_order_match_with_exit_0() {
    // again-1's lines are in the file out of step order: the steps decide.
    let out = cli(&["diff", "rec-v12", "again-1", LOG], "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        concat!(
            "diff rec-v12 (2 calls) against again-1 (2 calls)\n",
            "  same             #1 crm.lookup aaaaaaaaaaaa ok                    | #1 crm.lookup aaaaaaaaaaaa ok\n",
            "  same             #2 send_email bbbbbbbbbbbb ok                    | #2 send_email bbbbbbbbbbbb ok\n",
            "the runs match\n"
        )
    );
}

#[test]
fn a_replay_that_changed_an_email_diverges_with_exit_1() {
    let out = cli(&["diff", "rec", "rep", LOG], "");
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "diff rec-v12 (2 calls) against rep-v13 (3 calls)");
    assert_eq!(lines[4], "2 divergences:");
    assert_eq!(
        lines[5],
        "  args_mismatch recorded step 2 / replayed step 2: send_email called with args_sha cccccccccccccccccccccccc where the recording has bbbbbbbbbbbbbbbbbbbbbbbb (nearest: recorded step 2 called send_email with args_sha bbbbbbbbbbbbbbbbbbbbbbbb)"
    );
    assert_eq!(
        lines[6],
        "  extra recorded step - / replayed step 3: ticket.open called with args_sha dddddddddddddddddddddddd, which the recording lacks (nearest: recorded step 2 called send_email with args_sha bbbbbbbbbbbbbbbbbbbbbbbb)"
    );
}

#[test]
fn json_lists_the_alignment_and_every_divergence() {
    let out = cli(&["diff", "--json", "rec-v12", "again-2", LOG], "");
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["run_a"], "rec-v12");
    assert_eq!(json["match"], false);
    let codes: Vec<(&str, &Value, &Value)> = json["divergences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap(),
                &d["recorded_step"],
                &d["replayed_step"],
            )
        })
        .collect();
    // again-2 emails first (and fails), then looks up: the email pair anchors (and its
    // outcome differs), the lookup is out of order.
    assert_eq!(
        codes,
        [
            ("reordered", &Value::from(1), &Value::from(2)),
            ("outcome_mismatch", &Value::from(2), &Value::from(1)),
        ]
    );
    assert_eq!(json["rows"].as_array().unwrap().len(), 2);
}

#[test]
fn unknown_and_ambiguous_runs_exit_2() {
    let out = cli(&["diff", "nope", "rec-v12", LOG], "");
    assert_eq!(out.code, Some(2));
    assert_eq!(
        out.stderr,
        "tracing-agent diff: error: no run id is or starts with \"nope\" in the input\n"
    );
    let out = cli(&["diff", "again", "rec-v12", LOG], "");
    assert_eq!(out.code, Some(2));
    assert_eq!(
        out.stderr,
        "tracing-agent diff: error: \"again\" starts 2 run ids: again-1, again-2; give more of the id\n"
    );
}

#[test]
fn calls_made_inside_a_call_the_replay_served_are_not_missing() {
    // nest-b served resolve_customer, so the lookup nest-a made inside it never ran.
    let out = cli(&["diff", "nest-a", "nest-b", LOG], "");
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.ends_with("the runs match\n"), "{}", out.stdout);
    // Against a run that ran its tools, the nested lookup counts.
    let out = cli(&["diff", "nest-a", "again-1", LOG], "");
    assert_eq!(out.code, Some(1));
}
