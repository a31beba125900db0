//! Replay end to end: outcomes recorded through the layer into a real store on disk,
//! a recording loaded back from the written log, runs replayed against it, and the
//! report and events checked against what the agent did.

mod common;

use std::cell::Cell;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tracing_agent::replay::{DivergenceCode, Recording, ReplayError, Retention, SnapshotStore};
use tracing_agent::{agent_tool, AgentLayer, Refused, Run, RunMeta, StopReason, Stopped};
use tracing_subscriber::prelude::*;

use common::Capture;

// --- The tools: each body counts its runs on this thread, so a test sees whether it ran.

thread_local! {
    static BODIES: Cell<u32> = const { Cell::new(0) };
    static TICKET: Cell<u64> = const { Cell::new(0) };
}

fn ran() {
    BODIES.with(|b| b.set(b.get() + 1));
}

fn bodies() -> u32 {
    BODIES.with(Cell::get)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Customer {
    id: u64,
    email: String,
}

#[derive(Debug, Serialize, Deserialize, tracing_agent::ErrorClass)]
enum ToolError {
    NotFound,
    #[serde(skip)]
    Refused(Refused),
}

impl From<Refused> for ToolError {
    fn from(refused: Refused) -> Self {
        ToolError::Refused(refused)
    }
}

#[agent_tool(name = "crm.lookup")]
fn lookup(customer: u64) -> Result<Customer, ToolError> {
    ran();
    match customer {
        7 => Ok(Customer {
            id: 7,
            email: "ada@example.com".into(),
        }),
        8 => Ok(Customer {
            id: 8,
            email: "bob@example.com".into(),
        }),
        _ => Err(ToolError::NotFound),
    }
}

#[agent_tool(writes)]
fn send_email(to: &str, body: &str) -> Result<u64, ToolError> {
    ran();
    Ok(1000 + to.len() as u64 + body.len() as u64)
}

#[agent_tool]
fn next_ticket() -> Result<u64, ToolError> {
    ran();
    Ok(TICKET.with(|t| {
        t.set(t.get() + 1);
        t.get()
    }))
}

/// Serializable, but its `&'static str` cannot be deserialized into an owned value.
#[derive(Debug, Serialize)]
struct Borrowed {
    name: &'static str,
}

#[agent_tool]
fn borrowed() -> Result<Borrowed, ToolError> {
    ran();
    Ok(Borrowed { name: "static" })
}

#[derive(Debug, tracing_agent::ErrorClass)]
enum OpaqueError {
    Failed,
    Refused,
}

impl From<Refused> for OpaqueError {
    fn from(_: Refused) -> Self {
        OpaqueError::Refused
    }
}

#[agent_tool]
fn opaque_error(fail: bool) -> Result<u32, OpaqueError> {
    ran();
    if fail {
        Err(OpaqueError::Failed)
    } else {
        Ok(5)
    }
}

#[agent_tool(no_record)]
fn read_secret(name: &str) -> Result<String, ToolError> {
    ran();
    Ok(format!("secret-of-{name}"))
}

#[agent_tool]
fn plain(n: u32) -> u32 {
    ran();
    n * 2
}

// --- Harness.

struct Env {
    _dir: tempfile::TempDir,
    store: SnapshotStore,
    log: PathBuf,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::open(dir.path().join("snapshots")).unwrap();
    let log = dir.path().join("events.jsonl");
    Env {
        _dir: dir,
        store,
        log,
    }
}

/// Runs `agent` in a run of `meta` under a layer recording into `store` (when given),
/// appends the events to `log`, and returns the run's end and its events.
fn run_agent(
    store: Option<&SnapshotStore>,
    log: &Path,
    meta: RunMeta,
    agent: impl FnOnce(),
) -> (Stopped, Vec<Value>) {
    let capture = Capture::default();
    let mut layer = AgentLayer::new().with_writer(capture.clone());
    if let Some(store) = store {
        layer = layer.with_snapshots(store.clone());
    }
    let subscriber = tracing_subscriber::registry().with(layer);
    let stopped = tracing::subscriber::with_default(subscriber, || {
        let run = Run::start(meta);
        run.in_scope(agent);
        run.stop(StopReason::Completed)
    });
    if let Some(store) = store {
        assert!(store.flush(Duration::from_secs(10)), "snapshots flushed");
        assert_eq!(store.lost(), 0);
    }
    let mut text = fs::read_to_string(log).unwrap_or_default();
    text.push_str(&capture.text());
    fs::write(log, text).unwrap();
    (stopped, capture.events())
}

fn tool_results(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["kind"] == "tool_result")
        .collect()
}

fn snapshot_files(store: &SnapshotStore) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for shard in fs::read_dir(store.root().join("v1/sha256")).unwrap() {
        for file in fs::read_dir(shard.unwrap().path()).unwrap() {
            files.push(file.unwrap().path());
        }
    }
    files.sort();
    files
}

fn codes(stopped: &Stopped) -> Vec<(DivergenceCode, Option<u64>, Option<u64>, String)> {
    stopped
        .replay
        .as_ref()
        .expect("a replayed run has a report")
        .divergences()
        .iter()
        .map(|d| {
            (
                d.code(),
                d.recorded_step(),
                d.replayed_step(),
                d.tool().to_owned(),
            )
        })
        .collect()
}

/// The seed's story, as the agent: look the customer up, email them.
fn support_agent(customer: u64) -> Result<u64, ToolError> {
    let found = lookup(customer)?;
    send_email(&found.email, "Your refund is on its way")
}

// --- Recording.

#[test]
fn outcomes_are_stored_by_the_hash_of_their_content_and_joined_by_result_sha() {
    let env = env();
    let (_, events) = run_agent(Some(&env.store), &env.log, RunMeta::new("agent"), || {
        support_agent(7).unwrap();
        assert!(matches!(lookup(99), Err(ToolError::NotFound)));
        assert_eq!(plain(21), 42);
    });
    let results = tool_results(&events);
    assert_eq!(results.len(), 4);
    // Written by hand: the canonical JSON of each outcome (sorted keys, no spaces).
    let expected = [
        r#"{"email":"ada@example.com","id":7}"#,
        "1040",
        r#""NotFound""#,
        "42",
    ];
    for (event, content) in results.iter().zip(expected) {
        let key = event["replay"]["snapshot"]
            .as_str()
            .expect("a snapshot key");
        let sha = format!("{:x}", Sha256::digest(content.as_bytes()));
        assert_eq!(key, sha, "named by the SHA-256 of its content: {event}");
        let path = env.store.root().join("v1/sha256").join(&key[..2]).join(key);
        assert_eq!(fs::read_to_string(&path).unwrap(), content);
        if event["status"] == "ok" {
            // Unkeyed, result_sha is the first 24 digits of the same hash: the join.
            assert_eq!(event["result_sha"].as_str().unwrap(), &key[..24]);
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in snapshot_files(&env.store) {
            let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", file.display());
            let dir_mode = fs::metadata(file.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(dir_mode, 0o700);
        }
    }
    // Nothing half-written is left behind under any name.
    assert!(snapshot_files(&env.store).iter().all(|f| !f
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with(".tmp")));
}

#[test]
fn identical_outcomes_are_stored_once() {
    let env = env();
    let (_, events) = run_agent(Some(&env.store), &env.log, RunMeta::new("agent"), || {
        for _ in 0..5 {
            lookup(7).unwrap();
        }
        plain(3);
    });
    let keys: Vec<&str> = tool_results(&events)
        .iter()
        .map(|e| e["replay"]["snapshot"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 6);
    assert!(keys[..5].iter().all(|k| *k == keys[0]));
    assert_eq!(snapshot_files(&env.store).len(), 2);
    // Recording reuses its hash for result_sha: the same as without a store.
    let (_, unrecorded) = run_agent(None, &env.log, RunMeta::new("agent"), || {
        lookup(7).unwrap();
        plain(3);
    });
    let result_shas = |events: &[Value]| -> Vec<Value> {
        tool_results(events)
            .iter()
            .map(|e| e["result_sha"].clone())
            .collect()
    };
    let recorded = result_shas(&events);
    assert_eq!(
        result_shas(&unrecorded),
        [recorded[0].clone(), recorded[5].clone()]
    );
}

#[test]
fn outcomes_that_cannot_be_restored_are_marked_unreplayable() {
    let env = env();
    let (_, events) = run_agent(Some(&env.store), &env.log, RunMeta::new("agent"), || {
        borrowed().unwrap();
        opaque_error(false).unwrap();
        opaque_error(true).unwrap_err();
        read_secret("stripe").unwrap();
    });
    let notes: Vec<(Option<&str>, Option<&str>)> = tool_results(&events)
        .iter()
        .map(|e| {
            (
                e["replay"]["snapshot"].as_str().map(|_| "snapshot"),
                e["replay"]["unreplayable"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        notes,
        [
            (
                None,
                Some("its return type cannot be restored (it needs serde's Serialize and DeserializeOwned)")
            ),
            (Some("snapshot"), None),
            (
                None,
                Some("its error type cannot be restored (it needs serde's Serialize and DeserializeOwned)")
            ),
            (
                None,
                Some("the tool opted out of recording (`#[agent_tool(no_record)]`)")
            ),
        ]
    );
    // The secret is nowhere in the store.
    for file in snapshot_files(&env.store) {
        assert!(!fs::read_to_string(file).unwrap().contains("secret-of"));
    }
}

#[test]
fn without_a_store_nothing_is_noted() {
    let env = env();
    let (_, events) = run_agent(None, &env.log, RunMeta::new("agent"), || {
        lookup(7).unwrap();
    });
    assert!(tool_results(&events)[0].get("replay").is_none());
}

// --- Replaying.

fn recorded(env: &Env, agent: impl FnOnce()) -> String {
    let (stopped, _) = run_agent(
        Some(&env.store),
        &env.log,
        RunMeta::new("support-agent").prompt_version("v12"),
        agent,
    );
    stopped.run_id
}

#[test]
fn a_replay_serves_recorded_outcomes_and_runs_no_tool_body() {
    let env = env();
    let (first, first_events) = run_agent(
        Some(&env.store),
        &env.log,
        RunMeta::new("support-agent").prompt_version("v12"),
        || {
            assert_eq!(support_agent(7).unwrap(), 1040);
            assert_eq!(plain(4), 8);
        },
    );
    let run_id = first.run_id;
    let recording = Recording::load(&env.store, &[&env.log], &run_id[..13]).unwrap();
    assert_eq!(recording.run_id(), run_id);
    let before = bodies();
    let mut answers = None;
    let (stopped, events) = run_agent(
        None,
        &env.log,
        RunMeta::new("support-agent")
            .prompt_version("v13")
            .replay(recording),
        || answers = Some((support_agent(7).unwrap(), plain(4))),
    );
    assert_eq!(bodies(), before, "no tool body ran");
    assert_eq!(answers, Some((1040, 8)));
    let report = stopped.replay.as_ref().unwrap();
    assert!(report.is_match(), "{report}");
    assert_eq!((report.served, report.live, report.refused), (3, 0, 0));
    assert_eq!(report.recorded_run, run_id);
    let start = &events[0];
    assert_eq!(start["replay"]["of_run"], run_id.as_str());
    assert_eq!(start["replay"]["matcher"], 1);
    let recorded_keys: Vec<Value> = tool_results(&first_events)
        .iter()
        .map(|e| e["replay"]["snapshot"].clone())
        .collect();
    for (result, key) in tool_results(&events).iter().zip(&recorded_keys) {
        assert_eq!(result["replay"]["call"], "served", "{result}");
        assert_eq!(&result["replay"]["snapshot"], key, "names what answered it");
    }
    // A replayed run is a recording in its turn.
    let again = Recording::load(&env.store, &[&env.log], &stopped.run_id).unwrap();
    assert_eq!(again.snapshots().len(), 3);
}

#[test]
fn identical_calls_are_served_in_recorded_order() {
    let env = env();
    let mut first = Vec::new();
    let run_id = recorded(&env, || {
        first = (0..3).map(|_| next_ticket().unwrap()).collect();
    });
    let recording = Recording::load(&env.store, &[&env.log], &run_id).unwrap();
    let before = bodies();
    let mut again = Vec::new();
    let (stopped, _) = run_agent(None, &env.log, RunMeta::new("a").replay(recording), || {
        again = (0..3).map(|_| next_ticket().unwrap()).collect();
    });
    assert_eq!(bodies(), before);
    assert_eq!(again, first);
    assert!(codes(&stopped).is_empty());
}

#[test]
fn a_call_the_recording_cannot_answer_is_refused_with_its_divergence() {
    let env = env();
    let run_id = recorded(&env, || {
        support_agent(7).unwrap();
    });
    let recording = Recording::load(&env.store, &[&env.log], &run_id).unwrap();
    let before = bodies();
    let mut refusals = Vec::new();
    let (stopped, events) = run_agent(None, &env.log, RunMeta::new("a").replay(recording), || {
        // Same lookup; then the email goes to another address: args_mismatch.
        let found = lookup(7).unwrap();
        match send_email(&found.email, "a different body") {
            Err(ToolError::Refused(r)) => refusals.push(r.class()),
            other => panic!("not refused: {other:?}"),
        }
        // A tool the recording never called: extra.
        match next_ticket() {
            Err(ToolError::Refused(r)) => refusals.push(r.class()),
            other => panic!("not refused: {other:?}"),
        }
    });
    assert_eq!(bodies(), before, "neither refused body ran");
    assert_eq!(
        refusals,
        ["refused:replay_args_mismatch", "refused:replay_extra"]
    );
    let results = tool_results(&events);
    let email = results[1];
    assert_eq!(email["tool"], "send_email");
    assert_eq!(email["status"], "error");
    assert_eq!(email["error"], "refused:replay_args_mismatch");
    assert!(email["args_sha"].is_string(), "diff needs the args_sha");
    assert_eq!(email["replay"]["call"], "refused");
    assert_eq!(email["replay"]["divergence"], "args_mismatch");
    assert_eq!(
        codes(&stopped),
        [
            (
                DivergenceCode::ArgsMismatch,
                Some(2),
                Some(2),
                "send_email".into()
            ),
            (DivergenceCode::Extra, None, Some(3), "next_ticket".into()),
        ]
    );
    let report = stopped.replay.as_ref().unwrap();
    let extra = &report.divergences()[1];
    assert!(
        extra
            .hint()
            .unwrap()
            .starts_with("recorded step 2 called send_email with args_sha "),
        "{:?}",
        extra.hint()
    );
    let text = report.to_string();
    assert!(text.contains("args_mismatch"), "{text}");
    let json = serde_json::to_value(&stopped).unwrap();
    assert_eq!(
        json["replay"]["alignment"]["divergences"][0]["code"],
        "args_mismatch"
    );
}

#[test]
fn the_live_allowlist_runs_the_tool_and_compares_its_outcome() {
    let env = env();
    let run_id = recorded(&env, || {
        lookup(7).unwrap();
        next_ticket().unwrap();
    });
    let recording = Recording::load(&env.store, &[&env.log], &run_id)
        .unwrap()
        .allow_live(["next_ticket"]);
    let before = bodies();
    // The ticket counter moved on, so the live call returns another value.
    let (stopped, events) = run_agent(None, &env.log, RunMeta::new("a").replay(recording), || {
        lookup(7).unwrap();
        next_ticket().unwrap();
    });
    assert_eq!(bodies(), before + 1, "only the allowed tool ran");
    let how: Vec<&str> = tool_results(&events)
        .iter()
        .map(|e| e["replay"]["call"].as_str().unwrap())
        .collect();
    assert_eq!(how, ["served", "live"]);
    assert_eq!(
        codes(&stopped),
        [(
            DivergenceCode::OutcomeMismatch,
            Some(2),
            Some(2),
            "next_ticket".into()
        )]
    );
}

#[test]
fn the_report_aligns_everything_with_every_code() {
    let env = env();
    let run_id = recorded(&env, || {
        lookup(7).unwrap(); // 1: served
        plain(1); // 2: replaced by another tool: tool_mismatch
        plain(2); // 3: reordered with 4
        next_ticket().unwrap(); // 4
        read_secret("x").unwrap(); // 5: opted out: unreplayable
        lookup(8).unwrap(); // 6: never called: missing
    });
    let recording = Recording::load(&env.store, &[&env.log], &run_id)
        .unwrap()
        .allow_live(["crm.lookup"]);
    let (stopped, _) = run_agent(None, &env.log, RunMeta::new("a").replay(recording), || {
        lookup(7).unwrap(); // live, same outcome
        send_email("x@example.com", "y").unwrap_err(); // tool_mismatch with plain(1)
        next_ticket().unwrap();
        plain(2);
        read_secret("x").unwrap_err();
        lookup(99).unwrap_err(); // live; an extra (no recorded lookup(99))
    });
    let got = codes(&stopped);
    let kinds: Vec<DivergenceCode> = got.iter().map(|c| c.0).collect();
    assert_eq!(
        kinds,
        [
            DivergenceCode::ToolMismatch,
            DivergenceCode::Reordered,
            DivergenceCode::Unreplayable,
            DivergenceCode::ArgsMismatch,
        ],
        "{}",
        stopped.replay.as_ref().unwrap()
    );
    // lookup(99) against the recorded lookup(8): the same tool, other arguments.
    assert_eq!(
        got[3],
        (
            DivergenceCode::ArgsMismatch,
            Some(6),
            Some(6),
            "crm.lookup".into()
        )
    );
    assert_eq!(got[0].1, Some(2));
    let report = stopped.replay.as_ref().unwrap();
    assert_eq!(report.alignment.rows.len(), 6, "every call of both sides");
    assert_eq!(report.stop_reason, "completed");
}

#[test]
fn a_recorded_call_never_made_is_missing() {
    let env = env();
    let run_id = recorded(&env, || {
        lookup(7).unwrap();
        lookup(8).unwrap();
    });
    let recording = Recording::load(&env.store, &[&env.log], &run_id).unwrap();
    let (stopped, _) = run_agent(None, &env.log, RunMeta::new("a").replay(recording), || {
        lookup(7).unwrap();
    });
    assert_eq!(
        codes(&stopped),
        [(DivergenceCode::Missing, Some(2), None, "crm.lookup".into())]
    );
}

/// Runs `f` on a new thread inside the current run (its span and subscriber).
fn on_another_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let span = tracing::Span::current();
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    std::thread::spawn(move || tracing::dispatcher::with_default(&dispatch, || span.in_scope(f)))
        .join()
        .unwrap()
}

#[test]
fn concurrent_calls_are_matched_by_arguments_and_occurrence() {
    let env = env();
    let run_id = recorded(&env, || {
        for customer in [7, 8] {
            on_another_thread(move || lookup(customer).unwrap());
        }
    });
    let recording = Recording::load(&env.store, &[&env.log], &run_id).unwrap();
    let mut emails = Vec::new();
    let (stopped, events) = run_agent(None, &env.log, RunMeta::new("a").replay(recording), || {
        // The other order: each call still gets its own recorded answer.
        for customer in [8, 7] {
            let found = on_another_thread(move || (lookup(customer).unwrap(), bodies()));
            assert_eq!(found.1, 0, "the body did not run on that thread");
            emails.push(found.0.email);
        }
    });
    assert_eq!(emails, ["bob@example.com", "ada@example.com"]);
    let how: Vec<&Value> = tool_results(&events)
        .iter()
        .map(|e| &e["replay"]["call"])
        .collect();
    assert_eq!(how, ["served", "served"]);
    assert_eq!(
        codes(&stopped),
        [(
            DivergenceCode::Reordered,
            Some(1),
            Some(2),
            "crm.lookup".into()
        )]
    );
}

#[test]
fn a_replay_writes_into_its_store_only_when_asked() {
    let env = env();
    let run_id = recorded(&env, || {
        next_ticket().unwrap();
    });
    let before = snapshot_files(&env.store).len();
    let load = || {
        Recording::load(&env.store, &[&env.log], &run_id)
            .unwrap()
            .allow_live(["next_ticket"])
    };
    run_agent(
        Some(&env.store),
        &env.log,
        RunMeta::new("a").replay(load()),
        || {
            next_ticket().unwrap();
        },
    );
    assert_eq!(snapshot_files(&env.store).len(), before);
    run_agent(
        Some(&env.store),
        &env.log,
        RunMeta::new("a").replay(load().record_live_calls(true)),
        || {
            next_ticket().unwrap();
        },
    );
    assert_eq!(snapshot_files(&env.store).len(), before + 1);
}

// --- Loading: every fault named.

#[test]
fn unknown_ambiguous_and_incomplete_runs_are_errors() {
    let env = env();
    let log = &env.log;
    fs::write(
        log,
        concat!(
            r#"{"run_id":"run-aa1","kind":"run_start","ts_ms":1,"meta":{"agent":"a"}}"#,
            "\n",
            r#"{"run_id":"run-aa2","kind":"run_start","ts_ms":1,"meta":{"agent":"a"}}"#,
            "\n",
            r#"{"run_id":"run-bb","kind":"tool_result","ts_ms":1,"step_id":1,"tool":"t","status":"ok"}"#,
            "\n",
        ),
    )
    .unwrap();
    let error = |run: &str| Recording::load(&env.store, &[log], run).unwrap_err();
    assert!(matches!(error("zzz"), ReplayError::UnknownRun { .. }));
    let ambiguous = error("run-aa");
    assert_eq!(
        ambiguous.to_string(),
        "\"run-aa\" starts several run ids: run-aa1, run-aa2; give more of the id"
    );
    let incomplete = error("run-bb");
    assert!(
        incomplete
            .to_string()
            .starts_with("run run-bb has no run_start in "),
        "{incomplete}"
    );
    assert!(Recording::load(&env.store, &[log], "run-aa1").is_ok());
    let missing_log = Recording::load(&env.store, &[env.store.root().join("nope")], "x");
    assert!(matches!(missing_log, Err(ReplayError::Io { .. })));
}

fn log_with_snapshot(log: &Path, key: &str) {
    fs::write(
        log,
        format!(
            "{}\n{}\n",
            r#"{"run_id":"r1","kind":"run_start","ts_ms":1,"meta":{"agent":"a"}}"#,
            format_args!(
                r#"{{"run_id":"r1","kind":"tool_result","ts_ms":2,"step_id":4,"tool":"t","status":"ok","replay":{{"snapshot":"{key}"}}}}"#
            )
        ),
    )
    .unwrap();
}

#[test]
fn a_corrupt_or_missing_snapshot_fails_the_preflight_naming_the_step() {
    let env = env();
    let key = env.store.put(br#"{"id":7}"#).unwrap();
    log_with_snapshot(&env.log, &key);
    assert!(Recording::load(&env.store, &[&env.log], "r1").is_ok());

    let path = env
        .store
        .root()
        .join("v1/sha256")
        .join(&key[..2])
        .join(&key);
    fs::write(&path, br#"{"id":8}"#).unwrap();
    let corrupt = Recording::load(&env.store, &[&env.log], "r1").unwrap_err();
    assert!(matches!(
        corrupt,
        ReplayError::Corrupt { step: Some(4), .. }
    ));
    assert!(
        corrupt.to_string().contains("(recorded step 4) is corrupt"),
        "{corrupt}"
    );

    fs::remove_file(&path).unwrap();
    let missing = Recording::load(&env.store, &[&env.log], "r1").unwrap_err();
    assert_eq!(
        missing.to_string(),
        format!("snapshot {key} (recorded step 4) is not in the store")
    );

    // A key that is not a key never becomes a path.
    log_with_snapshot(&env.log, "../../../../etc/passwd");
    let bad = Recording::load(&env.store, &[&env.log], "r1").unwrap_err();
    assert!(matches!(bad, ReplayError::BadKey(_)), "{bad}");
}

// --- The store.

#[test]
fn concurrent_writers_corrupt_nothing() {
    let env = env();
    let root = env.store.root().to_path_buf();
    std::thread::scope(|scope| {
        for writer in 0..2 {
            let root = root.clone();
            scope.spawn(move || {
                // Separate handles, as two processes would have.
                let store = SnapshotStore::open(&root).unwrap();
                for i in 0..100u32 {
                    // Half shared by both writers, half each writer's own.
                    let content = if i % 2 == 0 {
                        format!("{{\"shared\":{i}}}")
                    } else {
                        format!("{{\"writer\":{writer},\"i\":{i}}}")
                    };
                    let key = store.put(content.as_bytes()).unwrap();
                    assert_eq!(store.get(&key).unwrap(), content.as_bytes());
                }
            });
        }
    });
    let verified = env.store.verify().unwrap();
    assert_eq!(verified.intact, 50 + 2 * 50);
    assert!(verified.damaged.is_empty() && verified.strays.is_empty());
}

#[test]
fn encrypted_snapshots_need_their_key() {
    let env = env();
    // Set for this test only, under a name no other test uses.
    std::env::set_var("REPLAY_TEST_KEY_A", "11".repeat(32));
    std::env::set_var("REPLAY_TEST_KEY_B", "22".repeat(32));
    std::env::set_var("REPLAY_TEST_KEY_BAD", "not hex");
    let sealed = env.store.clone().with_key_env("REPLAY_TEST_KEY_A").unwrap();
    let content = br#"{"email":"ada@example.com"}"#;
    let key = sealed.put(content).unwrap();
    assert_ne!(
        key,
        format!("{:x}", Sha256::digest(content)),
        "the name is keyed"
    );
    let path = env
        .store
        .root()
        .join("v1/sha256")
        .join(&key[..2])
        .join(&key);
    let on_disk = fs::read(&path).unwrap();
    assert!(on_disk.starts_with(b"TAS1"));
    assert!(!String::from_utf8_lossy(&on_disk).contains("ada@example.com"));
    assert_eq!(sealed.get(&key).unwrap(), content);

    let no_key = env.store.get(&key).unwrap_err();
    assert!(
        matches!(no_key, ReplayError::Undecryptable { .. }),
        "{no_key}"
    );
    let other = env.store.clone().with_key_env("REPLAY_TEST_KEY_B").unwrap();
    assert!(matches!(
        other.get(&key),
        Err(ReplayError::Undecryptable { .. })
    ));
    let bad = env.store.clone().with_key_env("REPLAY_TEST_KEY_BAD");
    assert!(matches!(bad, Err(ReplayError::Key(_))));
    assert!(matches!(
        env.store.clone().with_key_env("REPLAY_TEST_KEY_UNSET"),
        Err(ReplayError::Key(_))
    ));
    // One flipped byte of ciphertext: the tag does not verify.
    let mut altered = on_disk.clone();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    fs::write(&path, altered).unwrap();
    assert!(matches!(
        sealed.get(&key),
        Err(ReplayError::Undecryptable { .. })
    ));
}

fn age_by_days(store: &SnapshotStore, key: &str, days: u64) {
    let path = store.root().join("v1/sha256").join(&key[..2]).join(key);
    let then = SystemTime::now() - Duration::from_secs(days * 24 * 3600);
    fs::File::options()
        .append(true)
        .open(path)
        .unwrap()
        .set_modified(then)
        .unwrap();
}

#[test]
fn retention_expires_snapshots_and_pins_keep_them() {
    let env = env();
    let store = env.store.clone().with_retention(Retention {
        days: 14,
        grace_days: 3,
    });
    let key = store.put(br#"{"id":7}"#).unwrap();
    log_with_snapshot(&env.log, &key);
    age_by_days(&store, &key, 15);
    let expired = Recording::load(&store, &[&env.log], "r1").unwrap_err();
    assert!(
        matches!(
            expired,
            ReplayError::Expired {
                step: Some(4),
                age_days: 15,
                retention_days: 14,
                ..
            }
        ),
        "{expired}"
    );
    // gc inside the grace period keeps it.
    let collected = store.gc(SystemTime::now()).unwrap();
    assert_eq!((collected.in_grace, collected.deleted), (1, 0));

    // Pinned: loads, and survives gc past the grace period.
    let pin = store
        .pin("INC-113", &["r1".into()], std::slice::from_ref(&key))
        .unwrap();
    assert_eq!(pin.snapshots, std::slice::from_ref(&key));
    assert!(Recording::load(&store, &[&env.log], "r1").is_ok());
    let later = SystemTime::now() + Duration::from_secs(10 * 24 * 3600);
    assert_eq!(store.gc(later).unwrap().pinned, 1);
    assert!(store.contains(&key).unwrap());

    // Unpinned: past the grace period it goes; a fresh one stays.
    let fresh = store.put(br#"{"id":8}"#).unwrap();
    assert!(store.unpin("INC-113").unwrap());
    let collected = store
        .gc(SystemTime::now() + Duration::from_secs(3 * 24 * 3600))
        .unwrap();
    assert_eq!((collected.deleted, collected.live), (1, 1));
    assert!(!store.contains(&key).unwrap());
    assert!(store.contains(&fresh).unwrap());
    assert!(store.pin("../escape", &[], &[]).is_err());
}

// --- The config.

#[test]
fn the_config_turns_recording_on_and_checks_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("snapshots");
    let log = dir.path().join("events.jsonl");
    let yaml = format!(
        "logging:\n  durability: write_through\n  output:\n    to: file\n    path: {}\nretention:\n  tool_snapshot_days: 7\nreplay:\n  record: true\n  store: {}\n",
        log.display(),
        store_dir.display()
    );
    let (layer, guard) = AgentLayer::from_config_str(&yaml).unwrap();
    let store = layer.snapshots().expect("recording is on");
    assert_eq!(
        store.retention().map(|r| (r.days, r.grace_days)),
        Some((7, 3))
    );
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let run = Run::start(RunMeta::new("agent"));
        run.in_scope(|| lookup(7).unwrap());
        run.stop(StopReason::Completed);
    });
    drop(guard);
    assert!(store.flush(Duration::from_secs(10)));
    let text = fs::read_to_string(&log).unwrap();
    let result: Value = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["kind"] == "tool_result")
        .unwrap();
    let key = result["replay"]["snapshot"].as_str().unwrap();
    assert_eq!(
        store.get(key).unwrap(),
        br#"{"email":"ada@example.com","id":7}"#
    );

    let error = AgentLayer::from_config_str("replay:\n  record: true\n").unwrap_err();
    assert_eq!(
        error.message(),
        "replay: `record: true` needs `store: DIR`, the snapshot store's directory"
    );
    let error = AgentLayer::from_config_str("replay:\n  recrod: true\n").unwrap_err();
    assert!(
        error.message().contains("unknown field `recrod`"),
        "{error}"
    );
}

// --- Model responses: the function that calls the model is a tool like any other.

thread_local! {
    static MODEL_CALLS: Cell<u32> = const { Cell::new(0) };
}

/// Stands in for the model: its answer depends on the prompt.
#[agent_tool(name = "llm.chat")]
fn chat(prompt: &str) -> Result<String, ToolError> {
    MODEL_CALLS.with(|c| c.set(c.get() + 1));
    Ok(if prompt.contains("order's customer") {
        "email customer 4242".into()
    } else {
        "email customer 1815".into()
    })
}

#[test]
fn model_responses_replay_recorded_or_live() {
    let env = env();
    let mut recorded_answer = String::new();
    let run_id = recorded(&env, || {
        recorded_answer = chat("v12: email the customer you find").unwrap();
    });
    let calls = || MODEL_CALLS.with(Cell::get);

    // Exactly: the recorded response, no model call.
    let before = calls();
    let recording = Recording::load(&env.store, &[&env.log], &run_id).unwrap();
    let mut answer = String::new();
    let (stopped, _) = run_agent(None, &env.log, RunMeta::new("a").replay(recording), || {
        answer = chat("v12: email the customer you find").unwrap();
    });
    assert_eq!(
        (answer.as_str(), calls()),
        (recorded_answer.as_str(), before)
    );
    assert!(codes(&stopped).is_empty());

    // With the model live, to test a prompt fix: the new prompt reaches the model.
    let recording = Recording::load(&env.store, &[&env.log], &run_id)
        .unwrap()
        .allow_live(["llm.chat"]);
    let (stopped, _) = run_agent(None, &env.log, RunMeta::new("a").replay(recording), || {
        answer = chat("v13: email the order's customer").unwrap();
    });
    assert_eq!(
        (answer.as_str(), calls()),
        ("email customer 4242", before + 1)
    );
    assert_eq!(
        codes(&stopped),
        [(
            DivergenceCode::ArgsMismatch,
            Some(1),
            Some(1),
            "llm.chat".into()
        )]
    );
}

#[test]
fn a_snapshot_the_store_cannot_take_is_counted_and_the_replay_says_so() {
    let env = env();
    // A file where the snapshot's shard directory must go: the write fails.
    let content = r#"{"email":"ada@example.com","id":7}"#;
    let key = format!("{:x}", Sha256::digest(content.as_bytes()));
    fs::write(
        env.store.root().join("v1/sha256").join(&key[..2]),
        b"in the way",
    )
    .unwrap();
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(
        AgentLayer::new()
            .with_writer(capture.clone())
            .with_snapshots(env.store.clone()),
    );
    let run_id = tracing::subscriber::with_default(subscriber, || {
        let run = Run::start(RunMeta::new("agent"));
        run.in_scope(|| lookup(7).unwrap());
        run.stop(StopReason::Completed).run_id
    });
    assert!(env.store.flush(Duration::from_secs(10)));
    assert_eq!(env.store.lost(), 1, "counted, not silent");
    fs::write(&env.log, capture.text()).unwrap();
    // While the obstruction stands, reading says what is in the way.
    let error = Recording::load(&env.store, &[&env.log], &run_id).unwrap_err();
    assert!(
        error.to_string().starts_with("reading snapshot ") && error.to_string().contains(&key),
        "{error}"
    );
    // Without it, the snapshot is plainly missing, at the step that needs it.
    fs::remove_file(env.store.root().join("v1/sha256").join(&key[..2])).unwrap();
    let error = Recording::load(&env.store, &[&env.log], &run_id).unwrap_err();
    assert!(
        matches!(error, ReplayError::Missing { step: Some(1), .. }),
        "{error}"
    );
}

#[test]
fn temporary_files_of_a_crashed_writer_are_strays_until_gc_removes_them() {
    let env = env();
    let key = env.store.put(b"1").unwrap();
    let shard = env.store.root().join("v1/sha256").join(&key[..2]);
    let torn = shard.join(".tmp-crashed");
    fs::write(&torn, b"{\"half").unwrap();
    let verified = env.store.verify().unwrap();
    assert_eq!(
        (verified.intact, verified.strays.clone()),
        (1, vec![torn.clone()])
    );
    // Young: a writer may still be at work.
    assert_eq!(
        env.store.gc(SystemTime::now()).unwrap().temporaries_removed,
        0
    );
    let later = SystemTime::now() + Duration::from_secs(2 * 3600);
    assert_eq!(env.store.gc(later).unwrap().temporaries_removed, 1);
    assert!(!torn.exists() && env.store.contains(&key).unwrap());
}

#[agent_tool]
fn outer(customer: u64) -> Result<String, ToolError> {
    ran();
    Ok(lookup(customer)?.email)
}

#[test]
fn calls_recorded_inside_a_served_call_are_not_missing() {
    let env = env();
    let run_id = recorded(&env, || {
        outer(7).unwrap();
        plain(1);
    });
    let recording = Recording::load(&env.store, &[&env.log], &run_id).unwrap();
    assert_eq!(
        recording.calls().count(),
        3,
        "outer, the lookup inside it, plain"
    );
    let before = bodies();
    let mut email = String::new();
    let (stopped, _) = run_agent(None, &env.log, RunMeta::new("a").replay(recording), || {
        email = outer(7).unwrap();
        plain(1);
    });
    assert_eq!((email.as_str(), bodies()), ("ada@example.com", before));
    let report = stopped.replay.as_ref().unwrap();
    assert!(report.is_match(), "{report}");
    assert_eq!((report.served, report.inside_served), (2, 1));
}

// --- Two processes recording into one store.

/// Runs the ignored test `name` in a child process with `REPLAY_CHILD=name`.
fn child(name: &str, envs: &[(&str, &str)]) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            name,
            "--nocapture",
            "--test-threads=1",
        ])
        .env("REPLAY_CHILD", name)
        .envs(envs.iter().copied())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits for `child` at most `limit`, killing it (and failing) if it takes longer.
fn wait_bounded(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("recording child still running after {limit:?}, killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
#[ignore = "child of two_processes_recording_into_one_store_corrupt_nothing"]
fn recording_child() {
    if std::env::var("REPLAY_CHILD").ok().as_deref() != Some("recording_child") {
        return;
    }
    let store = SnapshotStore::open(std::env::var("STORE").unwrap()).unwrap();
    let log = PathBuf::from(std::env::var("LOG").unwrap());
    let salt: u32 = std::env::var("SALT").unwrap().parse().unwrap();
    run_agent(Some(&store), &log, RunMeta::new("agent"), || {
        for n in 0..200u32 {
            // Half the outcomes are shared with the other process, half its own.
            plain(if n % 2 == 0 { n } else { 1000 * salt + n });
        }
    });
}

#[test]
fn two_processes_recording_into_one_store_corrupt_nothing() {
    let env = env();
    let store = env.store.root().to_str().unwrap().to_owned();
    let logs: Vec<PathBuf> = (1..=2)
        .map(|salt| {
            env.store
                .root()
                .with_file_name(format!("child-{salt}.jsonl"))
        })
        .collect();
    let mut children: Vec<_> = logs
        .iter()
        .zip(["1", "2"])
        .map(|(log, salt)| {
            child(
                "recording_child",
                &[
                    ("STORE", &store),
                    ("LOG", log.to_str().unwrap()),
                    ("SALT", salt),
                ],
            )
        })
        .collect();
    for process in &mut children {
        assert!(wait_bounded(process, Duration::from_secs(120)).success());
    }
    let verified = env.store.verify().unwrap();
    // 100 shared outcomes, 100 of each process's own.
    assert_eq!(verified.intact, 300, "{verified:?}");
    assert!(verified.damaged.is_empty() && verified.strays.is_empty());
    for log in &logs {
        let text = fs::read_to_string(log).unwrap();
        let run_id = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|e| e["kind"] == "run_start")
            .unwrap()["run_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let recording = Recording::load(&env.store, &[log], &run_id).unwrap();
        assert_eq!(recording.calls().count(), 200);
    }
}
