//! Running the real binary as a user would, from the crate's directory so that the
//! fixtures' paths in its messages are the short relative ones.

#![allow(dead_code)] // each test file uses a different part

use std::io::Write;
use std::process::{Command, Output, Stdio};

pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// `tracing-agent ARGS` with `stdin`, stdout and stderr piped (so not terminals), the
/// color variables of the caller's environment removed and `env` set.
pub fn cli_env(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tracing-agent"));
    command
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("the binary runs");
    let mut input = child.stdin.take().unwrap();
    // A command that fails early may not read its stdin; that is not this test's error.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code(),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

pub fn cli(args: &[&str], stdin: &str) -> Run {
    cli_env(args, stdin, &[])
}

/// Removes ANSI SGR sequences (`ESC [ ... m`), to compare colored output with plain.
pub fn strip_ansi(text: &str) -> String {
    let mut plain = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

pub const AGENT_LOG: &str = "tests/fixtures/agent.log";
pub const OLDER_LOG: &str = "tests/fixtures/older.log";

/// The one warning about agent.log's six bad lines (the sixth, the torn last line, is
/// only counted: five are named).
pub const AGENT_LOG_WARNING: &str = "\
warning: skipped 6 lines that are not events:
  tests/fixtures/agent.log:6: not JSON: trailing characters at column 5
  tests/fixtures/agent.log:10: a JSON array, not an object
  tests/fixtures/agent.log:15: an object without \"kind\"
  tests/fixtures/agent.log:23: \"step_id\": invalid type: string \"3\", expected u64
  tests/fixtures/agent.log:29: unknown kind \"heartbeat\"
  ... and 1 more
";

/// The ids `runs --json ARGS -` lists for `log`, and its stderr.
pub fn runs_json_ids(args: &[&str], log: &str) -> (Vec<String>, String) {
    let mut all = vec!["runs", "--json"];
    all.extend_from_slice(args);
    all.push("-");
    let out = cli(&all, log);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let ids = out
        .stdout
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["run_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    (ids, out.stderr)
}

/// Whether this runs in CI (`CI=true`), where a missing tool is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "no"))
}

/// A test that needs a tool outside Rust and did not find it: in CI it fails (`.ci/run`
/// installs the tool); elsewhere it says `SKIPPED` on the process's stderr (the harness
/// captures `eprintln!` of passing tests, and a skip must be seen) and passes.
pub fn skip(why: &str) {
    assert!(!in_ci(), "CI=true and {why}");
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {}: {why}",
        std::thread::current().name().unwrap_or("test")
    );
}

/// The path of the workspace's example `name`, built first if it is not there.
pub fn example_binary(name: &str) -> std::path::PathBuf {
    use std::path::Path;
    let test_exe = std::env::current_exe().expect("the test's path");
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let binary = profile_dir.join("examples").join(name);
    if !binary.is_file() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut cargo = Command::new(env!("CARGO"));
        cargo.current_dir(repo).args(["build", "--example", name]);
        if profile_dir.ends_with("release") {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("cargo runs");
        assert!(status.success(), "cargo build --example {name} failed");
    }
    assert!(binary.is_file(), "no {}", binary.display());
    binary
}
