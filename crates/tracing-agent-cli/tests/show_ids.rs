//! `show` finds a run by any unique part of its id: UUID v7 ids of one minute share
//! their first 13 characters, and concurrent ones their first 27, so the end of an id
//! is what tells them apart.

mod common;

use common::cli;

fn stop(run: &str, ts: u64) -> String {
    format!(
        r#"{{"run_id":"{run}","kind":"stop","ts_ms":{ts},"duration_ms":5,"stop_reason":"completed"}}"#
    ) + "\n"
}

/// Two concurrent runs (27 characters in common) and one whose id is part of a
/// longer one's.
fn log() -> String {
    [
        stop("0193a5e0-7c4a-7b11-9d2e-5f6a7b8c9d01", 1_732_442_400_000),
        stop("0193a5e0-7c4a-7b11-9d2e-5f6a7b8c9e77", 1_732_442_400_001),
        stop("job-12345678", 1_732_442_400_002),
        stop("job-12345678-retry", 1_732_442_400_003),
    ]
    .concat()
}

fn shown(out: &common::Run) -> &str {
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    out.stdout.lines().next().unwrap()
}

#[test]
fn show_finds_a_run_by_the_end_or_the_middle_of_its_id() {
    let log = log();
    let out = cli(&["show", "7b8c9e77", "-"], &log);
    assert_eq!(
        shown(&out),
        "run_id          0193a5e0-7c4a-7b11-9d2e-5f6a7b8c9e77"
    );
    let out = cli(&["show", "2e-5f6a7b8c9d", "-"], &log);
    assert_eq!(
        shown(&out),
        "run_id          0193a5e0-7c4a-7b11-9d2e-5f6a7b8c9d01"
    );
    // The prefix still works as before.
    let out = cli(&["show", "0193a5e0-7c4a-7b11-9d2e-5f6a7b8c9d", "-"], &log);
    assert_eq!(
        shown(&out),
        "run_id          0193a5e0-7c4a-7b11-9d2e-5f6a7b8c9d01"
    );
}

#[test]
fn show_a_whole_id_wins_over_the_longer_ids_that_contain_it() {
    let out = cli(&["show", "job-12345678", "-"], &log());
    assert_eq!(shown(&out), "run_id          job-12345678");
    assert_eq!(out.stderr, "");
}

#[test]
fn show_a_part_in_several_ids_lists_them() {
    let out = cli(&["show", "12345678", "-"], &log());
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "\
tracing-agent show: error: 2 runs have ids containing \"12345678\"; give more of the id:
  job-12345678        2024-11-24T09:59:59Z  -
  job-12345678-retry  2024-11-24T09:59:59Z  -
"
    );
}

#[test]
fn show_a_part_of_an_id_in_no_run_and_a_short_one_are_errors() {
    let out = cli(&["show", "9e78", "-"], &log());
    assert_eq!(out.code, Some(2));
    assert_eq!(
        out.stderr,
        "tracing-agent show: error: no run has the id \"9e78\", and a part of an id must have at least 8 characters\n"
    );
    let out = cli(&["show", "7b8c9e78", "-"], &log());
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr,
        "tracing-agent show: error: no run id contains \"7b8c9e78\"\n"
    );
}
