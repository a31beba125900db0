//! `tracing-agent drift` on logs generated here, by a generator independent of the code
//! under test: periods that must drift, periods drawn from one distribution that must
//! not, time windows over one file, exit statuses, the JSON report and bad input.

mod common;

use std::fmt::Write as _;

use common::cli;
use serde_json::Value;

/// How a simulated period behaves.
#[derive(Clone, Copy)]
struct Behaviour {
    /// Tool calls of a run: uniform in this range.
    calls: (u64, u64),
    /// The chance that an `http.get` call fails with `RateLimited`.
    rate_limited: f64,
    /// Run latency in ms: uniform in this range.
    latency: (u64, u64),
    /// The share of runs that complete (the others stop with `tool_error`).
    completed: f64,
}

const CALM: Behaviour = Behaviour {
    calls: (2, 6),
    rate_limited: 0.02,
    latency: (800, 2400),
    completed: 0.91,
};

const STORM: Behaviour = Behaviour {
    calls: (8, 16),
    rate_limited: 0.4,
    latency: (3000, 9000),
    completed: 0.90,
};

/// A small deterministic generator (SplitMix64), so the logs are the same every time.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self, (low, high): (u64, u64)) -> u64 {
        low + self.next() % (high - low + 1)
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// `runs` runs of `behaviour`, starting at `start_ms`, one a minute.
fn log(behaviour: Behaviour, runs: u64, seed: u64, start_ms: u64) -> String {
    let mut dice = Dice(seed);
    let mut text = String::new();
    for n in 0..runs {
        let id = format!("s{seed}-r{n}");
        let start = start_ms + n * 60_000;
        writeln!(
            text,
            r#"{{"run_id":"{id}","kind":"run_start","ts_ms":{start},"meta":{{"agent":"a"}}}}"#
        )
        .unwrap();
        let calls = dice.uniform(behaviour.calls);
        for step in 1..=calls {
            let (tool, failed) = if step % 2 == 0 {
                ("http.get", dice.chance(behaviour.rate_limited))
            } else {
                ("kb.search", false)
            };
            let (status, error) = if failed {
                ("error", "\"RateLimited\"")
            } else {
                ("ok", "null")
            };
            writeln!(
                text,
                r#"{{"run_id":"{id}","kind":"tool_result","ts_ms":{},"step_id":{step},"tool":"{tool}","args_sha":"{:024x}","duration_ms":{},"status":"{status}","error":{error}}}"#,
                start + step * 10,
                dice.next() >> 40,
                dice.uniform((20, 200)),
            )
            .unwrap();
        }
        let latency = dice.uniform(behaviour.latency);
        let reason = if dice.chance(behaviour.completed) {
            "completed"
        } else {
            "tool_error"
        };
        writeln!(
            text,
            r#"{{"run_id":"{id}","kind":"stop","ts_ms":{},"duration_ms":{latency},"stop_reason":"{reason}","usage":{{"tool_calls":{calls},"spend_usd":{}}}}}"#,
            start + latency,
            calls as f64 * 0.001,
        )
        .unwrap();
    }
    text
}

const DAY_MS: u64 = 86_400_000;
/// 2024-11-20T00:00:00Z.
const T0: u64 = 1_732_060_800_000;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn report(stdout: &str) -> Value {
    serde_json::from_str(stdout).expect("drift --json writes one JSON object")
}

fn drifted(report: &Value) -> Vec<String> {
    report["drifted_signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_storm_drifts_and_is_traced_to_its_tool() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = write(&dir, "baseline.jsonl", &log(CALM, 300, 1, T0));
    let current = write(&dir, "current.jsonl", &log(STORM, 300, 2, T0 + 2 * DAY_MS));
    let out = cli(
        &[
            "drift",
            "--json",
            "--baseline",
            &baseline,
            "--current",
            &current,
        ],
        "",
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let report = report(&out.stdout);
    let signals = drifted(&report);
    for signal in ["tool_calls_per_run", "latency_p95_ms", "spend_usd_per_run"] {
        assert!(
            signals.iter().any(|s| s == signal),
            "{signal} not in {signals:?}"
        );
    }
    // Success moved by about one point: significant or not, it did not drift.
    assert!(!signals.iter().any(|s| s == "success_rate"), "{signals:?}");
    let moved: Vec<(String, String, Option<String>)> = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["moved"] == true)
        .map(|s| {
            (
                s["tool"].as_str().unwrap().to_owned(),
                s["measure"].as_str().unwrap().to_owned(),
                s["error_class"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert!(
        moved.contains(&(
            "http.get".into(),
            "error_rate".into(),
            Some("RateLimited".into())
        )),
        "{moved:?}"
    );
    assert!(
        moved.contains(&("http.get".into(), "calls_per_run".into(), None)),
        "{moved:?}"
    );
    // Durations were drawn alike in both periods.
    assert!(
        !moved
            .iter()
            .any(|(_, measure, _)| measure == "duration_p95_ms"),
        "{moved:?}"
    );
    assert_eq!(report["baseline"]["runs"], 300);
    assert_eq!(report["current"]["runs"], 300);
}

#[test]
fn one_distribution_never_drifts() {
    let dir = tempfile::tempdir().unwrap();
    // Ten pairs of periods of the same behaviour, of each kind: no false alarm.
    for seed in 0..10 {
        for behaviour in [CALM, STORM] {
            let baseline = write(&dir, "b.jsonl", &log(behaviour, 300, 100 + seed, T0));
            let current = write(
                &dir,
                "c.jsonl",
                &log(behaviour, 300, 200 + seed, T0 + DAY_MS),
            );
            let out = cli(
                &[
                    "drift",
                    "--json",
                    "--baseline",
                    &baseline,
                    "--current",
                    &current,
                ],
                "",
            );
            assert_eq!(
                out.code,
                Some(0),
                "seed {seed}: {}\n{}",
                out.stderr,
                out.stdout
            );
            let report = report(&out.stdout);
            assert_eq!(report["drifted"], false);
            assert!(drifted(&report).is_empty());
        }
    }
}

#[test]
fn time_windows_over_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let both = format!(
        "{}{}",
        log(CALM, 200, 1, T0),
        log(STORM, 200, 2, T0 + 2 * DAY_MS)
    );
    let path = write(&dir, "both.jsonl", &both);
    let out = cli(
        &[
            "drift",
            &path,
            "--baseline-until",
            "2024-11-21T00:00:00Z",
            "--current-since",
            "2024-11-22T00:00:00Z",
        ],
        "",
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stdout.starts_with(
        "baseline: 200 runs until 2024-11-21T00:00:00Z\ncurrent:  200 runs from 2024-11-22T00:00:00Z\n"
    ), "{}", out.stdout);
    assert!(out.stdout.contains("http.get"), "{}", out.stdout);
    assert!(
        out.stdout.contains("RateLimited (share of calls)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .ends_with("drifted: tool calls per run, latency p95 ms, spend usd per run\n"),
        "{}",
        out.stdout
    );

    // The same windows, both in the calm days: nothing drifted, exit 0.
    let out = cli(
        &[
            "drift",
            &path,
            "--baseline-until",
            "2024-11-20T01:40:00Z",
            "--current-since",
            "2024-11-20T01:40:00Z",
            "--current-until",
            "2024-11-21T00:00:00Z",
        ],
        "",
    );
    assert_eq!(out.code, Some(0), "{}\n{}", out.stderr, out.stdout);
    assert!(out.stdout.ends_with("no drift\n"), "{}", out.stdout);
}

#[test]
fn too_few_runs_are_never_significant() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = write(&dir, "b.jsonl", &log(CALM, 10, 1, T0));
    let current = write(&dir, "c.jsonl", &log(STORM, 10, 2, T0 + DAY_MS));
    let out = cli(
        &[
            "drift",
            "--json",
            "--baseline",
            &baseline,
            "--current",
            &current,
        ],
        "",
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let report = report(&out.stdout);
    assert_eq!(report["enough_runs"], false);
    assert!(report["signals"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["significant"] == false));
    // With the minimum lowered, the same runs drift.
    let out = cli(
        &[
            "drift",
            "--min-runs",
            "10",
            "--baseline",
            &baseline,
            "--current",
            &current,
        ],
        "",
    );
    assert_eq!(out.code, Some(1), "{}", out.stdout);
}

#[test]
fn thresholds_are_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = write(&dir, "b.jsonl", &log(CALM, 300, 1, T0));
    let current = write(&dir, "c.jsonl", &log(STORM, 300, 2, T0 + DAY_MS));
    let out = cli(
        &[
            "drift",
            "--json",
            "--baseline",
            &baseline,
            "--current",
            &current,
            "--tool-calls-ratio",
            "100",
            "--latency-ratio",
            "100",
            "--spend-ratio",
            "100",
        ],
        "",
    );
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    let report = report(&out.stdout);
    let calls = report["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["signal"] == "tool_calls_per_run")
        .unwrap();
    assert_eq!(calls["significant"], true);
    assert_eq!(calls["drifted"], false);
    assert_eq!(calls["threshold"], "ratio >= 100");
}

#[test]
fn the_json_report_has_every_key() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = write(&dir, "b.jsonl", &log(CALM, 50, 1, T0));
    let current = write(&dir, "c.jsonl", &log(CALM, 50, 2, T0 + DAY_MS));
    let out = cli(
        &[
            "drift",
            "--json",
            "--baseline",
            &baseline,
            "--current",
            &current,
        ],
        "",
    );
    let report = report(&out.stdout);
    let keys = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(
        keys(&report),
        [
            "alpha",
            "baseline",
            "current",
            "drifted",
            "drifted_signals",
            "enough_runs",
            "min_runs",
            "signals",
            "sources"
        ]
    );
    assert_eq!(
        keys(&report["baseline"]),
        ["files", "runs", "runs_without_stop", "since", "until"]
    );
    let signal_keys = [
        "baseline",
        "current",
        "drifted",
        "p_value",
        "ratio",
        "signal",
        "significant",
        "test",
        "threshold",
    ];
    for signal in report["signals"].as_array().unwrap() {
        assert_eq!(keys(signal), signal_keys);
    }
    let names: Vec<&str> = report["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["signal"].as_str().unwrap())
        .collect();
    assert_eq!(
        names[..5],
        [
            "tool_calls_per_run",
            "latency_p95_ms",
            "tokens_per_llm_call",
            "spend_usd_per_run",
            "success_rate"
        ]
    );
    let source_keys = [
        "baseline",
        "change",
        "current",
        "error_class",
        "measure",
        "moved",
        "p_value",
        "ratio",
        "significant",
        "test",
        "tool",
    ];
    let sources = report["sources"].as_array().unwrap();
    assert!(!sources.is_empty());
    for source in sources {
        assert_eq!(keys(source), source_keys);
    }
}

#[test]
fn bad_input_exits_2_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(&dir, "good.jsonl", &log(CALM, 40, 1, T0));
    let empty = write(&dir, "empty.jsonl", "");
    let junk = write(&dir, "junk.jsonl", "not an event\n");
    let missing = dir.path().join("missing.jsonl").display().to_string();

    let out = cli(&["drift", "--baseline", &missing, "--current", &good], "");
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains(&format!("cannot open {missing}")),
        "{}",
        out.stderr
    );

    for nothing in [&empty, &junk] {
        let out = cli(&["drift", "--baseline", nothing, "--current", &good], "");
        assert_eq!(out.code, Some(2), "{}", out.stderr);
        assert!(
            out.stderr.contains("no runs in the baseline period"),
            "{}",
            out.stderr
        );
    }

    // A window with no runs names itself.
    let out = cli(
        &[
            "drift",
            &good,
            "--baseline-until",
            "2020-01-01T00:00:00Z",
            "--current-since",
            "2024-11-20T00:00:00Z",
        ],
        "",
    );
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains(
            "no runs in the baseline period between the beginning and 2020-01-01T00:00:00Z"
        ),
        "{}",
        out.stderr
    );

    // Shared files without windows cannot tell the periods apart.
    let out = cli(&["drift", &good], "");
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("needs a window"), "{}", out.stderr);

    let out = cli(
        &[
            "drift",
            "--alpha",
            "2",
            "--baseline",
            &good,
            "--current",
            &good,
        ],
        "",
    );
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("--alpha must be between 0 and 1"),
        "{}",
        out.stderr
    );

    let out = cli(
        &[
            "drift",
            "--baseline",
            &good,
            "--current",
            &good,
            "--no-such-option",
        ],
        "",
    );
    assert_eq!(out.code, Some(2));
}
