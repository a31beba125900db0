//! Canonical hashing against the Python reference on generated documents: a fixed-seed
//! corpus of JSON values (nested objects and arrays, any Unicode, escapes, integers past
//! 64 bits, floats of every magnitude, NaN and infinities) is hashed here, three ways,
//! and by `python3` with `json.loads` and the seed's `json.dumps(sort_keys=True,
//! separators=(",", ":"), ensure_ascii=False)` then SHA-256. Every hash must match.
//!
//! Python ships on the machines this runs on; without it the test says so and passes,
//! except in CI (`CI` set), where a missing reference is a failure.

use std::io::Write;
use std::process::{Command, Stdio};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;
use tracing_agent::hash::{sha24, sha24_of_json_text};

/// Documents in the corpus: enough to meet every shape many times, quick in Python.
const DOCUMENTS: usize = 2_000;

const PYTHON: &str = r#"
import hashlib, json, sys
for line in sys.stdin:
    doc = json.loads(line)
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    print(hashlib.sha256(raw.encode("utf-8")).hexdigest()[:24])
"#;

/// Text as JSON spells it, with what Python and our hasher must escape alike: quotes,
/// backslashes, control characters, U+2028/2029, astral characters, lone ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{0,8}",
        any::<String>(),
        proptest::collection::vec(
            prop_oneof![
                Just('"'),
                Just('\\'),
                Just('\n'),
                Just('\u{0}'),
                Just('\u{1f}'),
                Just('\u{7f}'),
                Just('\u{2028}'),
                Just('é'),
                Just('中'),
                Just('😀'),
                any::<char>(),
            ],
            0..12
        )
        .prop_map(|chars| chars.into_iter().collect()),
    ]
}

/// A number as JSON text: integers of any size, floats of any magnitude, and the three
/// tokens Python accepts beyond JSON.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        "-?[1-9][0-9]{19,40}",
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:?}")),
        (any::<i32>(), -330i32..310).prop_map(|(m, e)| format!("{m}e{e}")),
        Just("NaN".to_owned()),
        Just("Infinity".to_owned()),
        Just("-Infinity".to_owned()),
        Just("-0.0".to_owned()),
    ]
}

/// A JSON document as text, nested up to 5 levels.
fn document() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        number(),
        text().prop_map(|s| serde_json::to_string(&s).unwrap()),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6)
                .prop_map(|items| format!("[{}]", items.join(","))),
            proptest::collection::vec((text(), inner), 0..6).prop_map(|entries| {
                let fields: Vec<String> = entries
                    .into_iter()
                    .map(|(k, v)| format!("{}:{v}", serde_json::to_string(&k).unwrap()))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// A JSON value as serde_json holds it: what a tool's `Serialize` feeds the hasher.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(text(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// `DOCUMENTS` draws of `strategy`, the same every run (a fixed ChaCha seed).
fn corpus<S: Strategy>(strategy: S, seed: u8) -> Vec<S::Value> {
    let config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    (0..DOCUMENTS)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

fn python_hashes(corpus: &[String]) -> Option<Vec<String>> {
    let child = Command::new("python3")
        .args(["-c", PYTHON])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "python3 is needed as the reference: {error}"
            );
            eprintln!("SKIPPED: no python3 ({error})");
            return None;
        }
    };
    let mut stdin = child.stdin.take().unwrap();
    let input = corpus.join("\n") + "\n";
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let hashes: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(hashes.len(), corpus.len());
    Some(hashes)
}

#[test]
fn generated_values_hash_as_python_hashes_their_text() {
    let values = corpus(value(), 7);
    let texts: Vec<String> = values
        .iter()
        .map(|v| serde_json::to_string(v).unwrap())
        .collect();
    let Some(expected) = python_hashes(&texts) else {
        return;
    };
    for ((value, text), python) in values.iter().zip(&texts).zip(&expected) {
        assert_eq!(sha24(value).unwrap().as_str(), python, "as a value: {text}");
        assert_eq!(
            sha24_of_json_text(text).unwrap().as_str(),
            python,
            "as text: {text}"
        );
    }
}

#[test]
fn generated_texts_hash_as_python_hashes_them() {
    // Python's dialect beyond serde_json's: NaN and infinities, integers of any size,
    // exponents of every range, `-0.0`.
    let texts = corpus(document(), 11);
    let Some(expected) = python_hashes(&texts) else {
        return;
    };
    for (text, python) in texts.iter().zip(&expected) {
        let ours = sha24_of_json_text(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(ours.as_str(), python, "{text}");
    }
}
