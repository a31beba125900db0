//! The team's reference vectors: hashes computed by the Python reference implementation.
//!
//! `tests/fixtures/args_sha.jsonl` is an in-repo copy of `shared/vectors/args_sha.jsonl`, so
//! the tests never depend on a directory outside the repository.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use tracing_agent::hash::{sha24, sha24_of_json_text, ArgsHasher};

const EXPECTED_LINES: usize = 200;

#[derive(Deserialize)]
struct Vector {
    args_json: String,
    args_sha: String,
}

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/args_sha.jsonl")
}

/// `(line number, vector)` for every line of the fixture.
fn vectors() -> Vec<(usize, Vector)> {
    let text = std::fs::read_to_string(fixture_path()).expect("read tests/fixtures/args_sha.jsonl");
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let vector = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("args_sha.jsonl line {}: {e}", i + 1));
            (i + 1, vector)
        })
        .collect()
}

#[test]
fn every_vector_hashes_like_python_from_text() {
    let vectors = vectors();
    let mut mismatches = Vec::new();
    for (line, vector) in &vectors {
        match sha24_of_json_text(&vector.args_json) {
            Ok(sha) if sha.as_str() == vector.args_sha => {}
            Ok(sha) => mismatches.push(format!(
                "line {line}: got {sha}, want {} for {}",
                vector.args_sha, vector.args_json
            )),
            Err(e) => mismatches.push(format!("line {line}: {e} in {}", vector.args_json)),
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} vectors mismatch:\n{}",
        mismatches.len(),
        vectors.len(),
        mismatches.join("\n")
    );
    assert_eq!(vectors.len(), EXPECTED_LINES);
}

/// Number tokens (outside strings) in document order.
fn number_tokens(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    i += if c == b'\\' { 2 } else { 1 };
                    if c == b'"' {
                        break;
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = bytes.get(i) {
                    i += 1;
                }
                tokens.push(&text[start..i]);
            }
            _ => i += 1,
        }
    }
    tokens
}

/// Whether `serde_json::Value` (without `arbitrary_precision` / `float_roundtrip`) holds
/// this token exactly as Python would: integers must stay integers (so no big ints and no
/// `-0`, which serde_json turns into `-0.0`), floats must parse to the correctly rounded f64.
fn serde_json_is_exact(token: &str) -> bool {
    let is_float = token.contains(['.', 'e', 'E']);
    match serde_json::from_str::<Value>(token) {
        Ok(Value::Number(n)) if !is_float => n.is_i64() || n.is_u64(),
        Ok(Value::Number(n)) => {
            n.as_f64().map(f64::to_bits) == token.parse::<f64>().ok().map(f64::to_bits)
        }
        _ => false,
    }
}

/// The same vectors through the `Serialize` path: serde_json parses the text and
/// [`sha24`] hashes the `Value`, wherever serde_json can represent the text exactly.
#[test]
fn serialize_path_matches_vectors_serde_json_represents_exactly() {
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for (line, vector) in vectors() {
        // Rejects NaN / Infinity tokens and lone surrogates.
        let Ok(value) = serde_json::from_str::<Value>(&vector.args_json) else {
            continue;
        };
        if !number_tokens(&vector.args_json)
            .into_iter()
            .all(serde_json_is_exact)
        {
            continue;
        }
        checked += 1;
        match sha24(&value) {
            Ok(sha) if sha.as_str() == vector.args_sha => {}
            other => mismatches.push(format!(
                "line {line}: got {other:?}, want {}",
                vector.args_sha
            )),
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(
        checked > 100,
        "only {checked} vectors were representable by serde_json"
    );
}

/// Top-level objects fed parameter by parameter reproduce the reference too.
#[test]
fn args_hasher_matches_object_vectors() {
    let mut checked = 0;
    for (line, vector) in vectors() {
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&vector.args_json) else {
            continue;
        };
        if !number_tokens(&vector.args_json)
            .into_iter()
            .all(serde_json_is_exact)
        {
            continue;
        }
        let mut hasher = ArgsHasher::new();
        // serde_json's map iterates in byte order, the order ArgsHasher requires.
        for (name, value) in &map {
            let name: &'static str = Box::leak(name.clone().into_boxed_str());
            hasher.arg(name, value);
        }
        let sha = hasher.finish().unwrap();
        assert_eq!(sha.as_str(), vector.args_sha, "line {line}");
        checked += 1;
    }
    assert!(checked > 100, "only {checked} object vectors checked");
}

/// If the team's shared copy is present (beside the repository), the in-repo fixture must
/// not have drifted from it.
#[test]
fn fixture_matches_shared_copy_when_present() {
    let shared =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/args_sha.jsonl");
    if let Ok(shared) = std::fs::read(&shared) {
        let ours = std::fs::read(fixture_path()).unwrap();
        assert!(
            ours == shared,
            "tests/fixtures/args_sha.jsonl differs from shared/vectors/args_sha.jsonl: copy it again"
        );
    }
}
