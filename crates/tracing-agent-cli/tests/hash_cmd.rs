//! `tracing-agent hash`, run as a user runs it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn hash_cmd(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracing-agent"))
        .arg("hash")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // With a document as argument the command does not read stdin and may exit before
    // this write: a broken pipe here is expected, not a failure.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

// Expected values from the seed's Python reference (json.dumps sort_keys, compact,
// ensure_ascii=False; sha256; first 24 hex digits).
const EMPTY_OBJECT: &str = "44136fa355b3678a1146ad16";
const SEND_EMAIL: &str = "aee843f2b4cfbb67c6993837"; // {"to":"customer@example.com","subject":"Your order"}

#[test]
fn hashes_each_stdin_line_in_order() {
    let out = hash_cmd(
        &[],
        "{}\n{\"to\": \"customer@example.com\", \"subject\": \"Your order\"}\n{\"subject\":\"Your order\",\"to\":\"customer@example.com\"}\n",
    );
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout,
        format!("{EMPTY_OBJECT}\n{SEND_EMAIL}\n{SEND_EMAIL}\n")
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn a_bad_line_keeps_output_aligned_and_fails_at_the_end() {
    let out = hash_cmd(&[], "{}\nnot json\n{\"a\": [1,]}\n{}");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout, format!("{EMPTY_OBJECT}\n\n\n{EMPTY_OBJECT}\n"));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(
        !stderr.contains("line 1:") && !stderr.contains("line 4"),
        "{stderr}"
    );
}

#[test]
fn hashes_the_argument_instead_of_stdin() {
    let out = hash_cmd(
        &["{\"subject\":\"Your order\",\"to\":\"customer@example.com\"}"],
        "ignored\n",
    );
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{SEND_EMAIL}\n")
    );
    let bad = hash_cmd(&["{"], "");
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(String::from_utf8(bad.stdout).unwrap(), "\n");
    assert!(String::from_utf8(bad.stderr).unwrap().contains("argument"));
}

#[test]
fn python_tokens_and_huge_numbers_are_exact() {
    // python3 -c 'import json,hashlib; v=json.loads(T); print(hashlib.sha256(json.dumps(v,
    //   sort_keys=True,separators=(",",":"),ensure_ascii=False).encode()).hexdigest()[:24])'
    let cases = [
        ("[NaN, Infinity, -Infinity]", "b1ec71618b1e885b866bc524"),
        (
            "{\"n\": 123456789012345678901234567890}",
            "03b8f78ef5e8a305f4cda829",
        ),
        (
            "{\"f\": 1e16, \"g\": 1.5e-7, \"h\": 100, \"i\": 100.0, \"z\": -0.0}",
            "4a10560e6ce656279a13931e",
        ),
    ];
    let input: String = cases.iter().map(|(json, _)| format!("{json}\n")).collect();
    let out = hash_cmd(&[], &input);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let got: Vec<&str> = stdout.lines().collect();
    let want: Vec<&str> = cases.iter().map(|(_, sha)| *sha).collect();
    assert_eq!(got, want);
}

#[test]
fn agrees_with_the_reference_vectors() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tracing-agent/tests/fixtures/args_sha.jsonl"
    );
    let text = std::fs::read_to_string(fixture).expect("reference vectors are in the repo");
    let mut input = String::new();
    let mut want = String::new();
    for line in text.lines() {
        let vector: serde_json::Value = serde_json::from_str(line).unwrap();
        input.push_str(vector["args_json"].as_str().unwrap());
        input.push('\n');
        want.push_str(vector["args_sha"].as_str().unwrap());
        want.push('\n');
    }
    let out = hash_cmd(&[], &input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
}

#[test]
fn key_env_gives_the_keyed_hashes_the_layer_writes() {
    // Python: hmac.new(b"k3y-for-tests", canonical, sha256).hexdigest()[:24]
    let output = Command::new(env!("CARGO_BIN_EXE_tracing-agent"))
        .args([
            "hash",
            "--key-env",
            "TA_TEST_KEY",
            r#"{"limit": 5, "query": "refund policy"}"#,
        ])
        .env("TA_TEST_KEY", "k3y-for-tests")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "19c633bf4869bd24360dc339\n"
    );

    let unset = Command::new(env!("CARGO_BIN_EXE_tracing-agent"))
        .args(["hash", "--key-env", "TA_TEST_KEY_UNSET", "{}"])
        .env_remove("TA_TEST_KEY_UNSET")
        .output()
        .unwrap();
    assert_eq!(unset.status.code(), Some(2));
    assert!(unset.stdout.is_empty(), "no unkeyed fallback");
    assert!(String::from_utf8_lossy(&unset.stderr).contains("TA_TEST_KEY_UNSET"));
}
