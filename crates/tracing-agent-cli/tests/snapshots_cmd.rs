//! `tracing-agent snapshots` on a real store made with the library: report, verify
//! (finding a damaged snapshot), pin from a log, gc.

mod common;

use std::fs;
use std::time::{Duration, SystemTime};

use common::cli;
use tracing_agent::replay::SnapshotStore;

fn path_of(store: &SnapshotStore, key: &str) -> std::path::PathBuf {
    store.root().join("v1/sha256").join(&key[..2]).join(key)
}

fn age_by_days(store: &SnapshotStore, key: &str, days: u64) {
    let then = SystemTime::now() - Duration::from_secs(days * 24 * 3600);
    fs::File::options()
        .append(true)
        .open(path_of(store, key))
        .unwrap()
        .set_modified(then)
        .unwrap();
}

#[test]
fn report_verify_pin_and_gc() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store = SnapshotStore::open(&root).unwrap();
    let kept = store.put(br#"{"id":7}"#).unwrap();
    let old = store.put(br#"{"id":8}"#).unwrap();
    let fresh = store.put(b"42").unwrap();
    age_by_days(&store, &kept, 30);
    age_by_days(&store, &old, 30);
    let root_arg = root.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["snapshots", "--store", root_arg];
        all.extend_from_slice(args);
        cli(&all, "")
    };

    let out = run(&["report"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "3 snapshots, 18 bytes, 0 encrypted, 2 expired; oldest 30 days; pins: none\n"
    );

    // Pin the run whose log references `kept`.
    let log = dir.path().join("events.jsonl");
    fs::write(
        &log,
        format!(
            "{}\n{}\n",
            r#"{"run_id":"inc-run","kind":"run_start","ts_ms":1,"meta":{"agent":"a"}}"#,
            format_args!(
                r#"{{"run_id":"inc-run","kind":"tool_result","ts_ms":2,"step_id":1,"tool":"t","status":"ok","replay":{{"snapshot":"{kept}"}}}}"#
            )
        ),
    )
    .unwrap();
    let out = run(&["pin", "INC-113", "inc", log.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, "pinned 1 snapshots of run inc-run as INC-113\n");

    let out = run(&["--json", "gc"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let gc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        (&gc["deleted"], &gc["pinned"], &gc["live"]),
        (&1.into(), &1.into(), &1.into())
    );
    assert!(!path_of(&store, &old).exists());
    assert!(path_of(&store, &kept).exists() && path_of(&store, &fresh).exists());

    let out = run(&["verify"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, "2 snapshots intact\n");

    fs::write(path_of(&store, &fresh), b"43").unwrap();
    let out = run(&["verify"]);
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stdout,
        format!(
            "1 snapshots intact\ndamaged: snapshot {fresh} is corrupt: {} does not hash to its name\n",
            path_of(&store, &fresh).display()
        )
    );
}
