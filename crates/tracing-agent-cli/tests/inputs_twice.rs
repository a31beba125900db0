//! A file given twice on the command line, by the same name or by another name of the
//! same path, is read once, and said.

mod common;

use common::{cli, OLDER_LOG};

/// A run without a stop, whose calls are counted from its events.
const UNSTOPPED: &str = concat!(
    r#"{"run_id":"r-open","kind":"run_start","ts_ms":1732442400000,"meta":{"agent":"a"}}"#,
    "\n",
    r#"{"run_id":"r-open","kind":"tool_result","ts_ms":1732442400010,"step_id":1,"tool":"t","status":"ok"}"#,
    "\n",
);

#[test]
fn the_same_name_twice_is_read_once_and_said() {
    let once = cli(&["runs", OLDER_LOG], "");
    let twice = cli(&["runs", OLDER_LOG, OLDER_LOG], "");
    assert_eq!(twice.code, Some(0), "{}", twice.stderr);
    assert_eq!(twice.stdout, once.stdout);
    assert_eq!(
        twice.stderr,
        "tracing-agent runs: warning: tests/fixtures/older.log is given more than once; it is read once\n"
    );
}

#[test]
fn another_name_of_the_same_file_is_read_once_and_said() {
    let dir = std::env::temp_dir().join(format!("tracing-agent-twice-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("open.log");
    std::fs::write(&path, UNSTOPPED).unwrap();
    let path = path.to_str().unwrap();
    let other = dir.join(".").join("open.log");
    let other = other.to_str().unwrap();

    let out = cli(&["runs", "--json", path, other], "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // Counted from its events: read twice, its one call would be two.
    assert!(out.stdout.contains(r#""tool_calls":1,"#), "{}", out.stdout);
    assert_eq!(
        out.stderr,
        format!(
            "tracing-agent runs: warning: {other} is the same file as {path}; it is read once\n"
        )
    );

    let out = cli(&["show", "r-open", path, other], "");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout
            .lines()
            .filter(|line| line.contains("  t  "))
            .count(),
        1,
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("is the same file as"), "{}", out.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stdin_given_twice_is_read_once_and_said() {
    let out = cli(&["runs", "--json", "-", "-"], UNSTOPPED);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains(r#""tool_calls":1,"#), "{}", out.stdout);
    assert_eq!(
        out.stderr,
        "tracing-agent runs: warning: - is given more than once; it is read once\n"
    );
}
