//! One schema for every kind: the eleven core keys, always, in order, then extensions.

mod common;

use common::{capture, keys_in_order, CORE_KEYS};
use tracing_agent::{agent_tool, record_llm, LlmUsage, Run, RunMeta, StopReason};

#[derive(Debug)]
struct Failure;

#[agent_tool(version = "7")]
fn flaky(fail: bool) -> Result<u8, Failure> {
    if fail {
        Err(Failure)
    } else {
        Ok(1)
    }
}

fn expected(extensions: &[&str]) -> Vec<String> {
    CORE_KEYS
        .iter()
        .chain(extensions)
        .map(|k| k.to_string())
        .collect()
}

#[test]
fn every_kind_has_the_core_keys_in_order_then_its_extensions() {
    let (_, cap) = capture(|| {
        let run = Run::start(RunMeta::new("a").model("m"));
        run.in_scope(|| {
            record_llm(LlmUsage::new("m", 1, 2).spend_usd(0.5));
            let _ = flaky(false);
            let _ = flaky(true);
        });
        run.stop(StopReason::Completed);
    });
    let text = cap.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(keys_in_order(lines[0]), expected(&["meta"]), "run_start");
    assert_eq!(keys_in_order(lines[1]), expected(&["model"]), "llm_result");
    assert_eq!(
        keys_in_order(lines[2]),
        expected(&["result_sha", "tool_version"]),
        "tool_result ok"
    );
    assert_eq!(
        keys_in_order(lines[3]),
        expected(&["tool_version"]),
        "tool_result error"
    );
    assert_eq!(keys_in_order(lines[4]), expected(&[]), "stop");

    let events = cap.events();
    for event in &events {
        assert!(
            event["ts_ms"].as_u64().unwrap() > 1_600_000_000_000,
            "ts_ms is epoch ms"
        );
    }
    let (start, llm, ok, err, stop) = (&events[0], &events[1], &events[2], &events[3], &events[4]);
    for (event, nulls) in [
        (
            start,
            &[
                "step_id",
                "tool",
                "args_sha",
                "duration_ms",
                "status",
                "error",
                "stop_reason",
                "usage",
            ][..],
        ),
        (
            llm,
            &[
                "tool",
                "args_sha",
                "status",
                "error",
                "stop_reason",
                "duration_ms",
            ][..],
        ),
        (ok, &["error", "stop_reason", "usage"][..]),
        (err, &["stop_reason", "usage"][..]),
        (
            stop,
            &["step_id", "tool", "args_sha", "status", "error"][..],
        ),
    ] {
        for key in nulls {
            assert!(event[key].is_null(), "{key} should be null in {event}");
        }
    }
    assert_eq!(ok["status"], "ok");
    assert_eq!(err["status"], "error");
    assert_eq!(err["error"], "Failure");
    assert_eq!(stop["usage"]["tool_errors"], 1);
}

#[test]
fn meta_with_control_characters_stays_on_one_line() {
    let (_, cap) = capture(|| {
        Run::start(RunMeta::new("evil\n{\"kind\":\"stop\"}\r\u{2029}").prompt_version("v\t1\u{0}"))
            .stop(StopReason::Other("odd\nreason".into()));
    });
    let text = cap.text();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(!text.contains('\u{2029}'));
    let events = cap.events();
    assert_eq!(
        events[0]["meta"]["agent"],
        "evil\n{\"kind\":\"stop\"}\r\u{2029}"
    );
    assert_eq!(events[0]["meta"]["prompt_version"], "v\t1\u{0}");
    assert_eq!(events[1]["stop_reason"], "odd\nreason");
}

#[agent_tool]
fn slow(millis: u64) -> u64 {
    std::thread::sleep(std::time::Duration::from_millis(millis));
    millis
}

fn wall_ms() -> u64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(since.as_millis()).unwrap()
}

/// `ts_ms` is the system clock carried forward by the counter that times durations: for a
/// short run on one thread (one reading of the system clock), its events are in order,
/// within the wall-clock time around the run, and agree with their `duration_ms`.
#[test]
fn a_runs_timestamps_are_ordered_and_agree_with_its_durations() {
    let before = wall_ms();
    let (_, cap) = capture(|| {
        let run = Run::start(RunMeta::new("a"));
        run.in_scope(|| {
            slow(15);
            slow(25);
        });
        std::thread::sleep(std::time::Duration::from_millis(5));
        run.stop(StopReason::Completed);
    });
    let after = wall_ms();
    let events = cap.events();
    assert_eq!(events.len(), 4);
    let ts: Vec<u64> = events
        .iter()
        .map(|e| e["ts_ms"].as_u64().unwrap())
        .collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "in order: {ts:?}");
    assert!(
        before <= ts[0] && ts[3] <= after,
        "{before} <= {ts:?} <= {after}"
    );

    let (start, first, second, stop) = (&events[0], &events[1], &events[2], &events[3]);
    let duration = |e: &serde_json::Value| e["duration_ms"].as_u64().unwrap();
    // Whole milliseconds of the same clock: a difference can round one up, never more.
    let run_span = ts[3] - ts[0];
    assert!(
        (duration(stop)..=duration(stop) + 1).contains(&run_span),
        "stop at +{run_span} ms after a run of {} ms",
        duration(stop)
    );
    assert!(duration(first) >= 15 && duration(second) >= 25);
    assert!(ts[1] - ts[0] + 1 >= duration(first), "{start} / {first}");
    assert!(ts[2] - ts[1] + 1 >= duration(second), "{first} / {second}");
}
