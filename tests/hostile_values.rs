//! Values that used to change what a program does once the layer is installed: nesting
//! deep enough to overflow the stack, and `Serialize` impls that panic. The layer must
//! leave the program's behaviour alone: the tool runs, the caller gets what the body
//! returned, and the event says what could not be hashed.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use common::{capture, Capture};
use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
use serde_json::Value;
use tracing_agent::config::Config;
use tracing_agent::hash::{sha24, sha24_of_json_text};
use tracing_agent::read::{EventReader, Item};
use tracing_agent::EventKind;
use tracing_agent::{agent_tool, AgentLayer, Run, RunMeta, StopReason};
use tracing_subscriber::prelude::*;

/// A tokio worker's stack (2 MiB) in a debug build, where each level of serde recursion
/// takes about 1.5 KiB; 256 KiB in an optimized one. Either overflows long before
/// `DEEP` levels of an unbounded recursion, and holds the 512 the hashers allow.
const SMALL_STACK: usize = if cfg!(debug_assertions) {
    2 << 20
} else {
    256 << 10
};

/// Far past any limit: without one, this aborts the process.
const DEEP: u32 = 100_000;

/// Runs `f` on a thread with a small stack and returns its value (a test failure, not an
/// abort, if it panics; an overflow still aborts, which is what these tests guard).
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// `levels` nested one-element arrays around `0`, built without recursion.
fn deep_value(levels: u32) -> Value {
    let mut value = Value::from(0);
    for _ in 0..levels {
        value = Value::Array(vec![value]);
    }
    value
}

/// Drops a deep value a level at a time: `Value`'s own drop recurses.
fn drop_deep(mut value: Value) {
    while let Value::Array(mut items) = value {
        value = items.pop().unwrap_or(Value::Null);
    }
}

/// A recursive user type that is deep only when serialized (constant memory): even
/// levels are one-element sequences, odd ones newtype wrappers, which recurse without
/// nesting the JSON.
struct Nest(u32);

impl Serialize for Nest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            0 => serializer.serialize_u32(0),
            n if n % 2 == 1 => serializer.serialize_newtype_struct("Nest", &Nest(n - 1)),
            n => {
                let mut seq = serializer.serialize_seq(Some(1))?;
                seq.serialize_element(&Nest(n - 1))?;
                seq.end()
            }
        }
    }
}

#[agent_tool]
fn measure(doc: &Value) -> Result<usize, std::io::Error> {
    let mut depth = 0;
    let mut at = doc;
    while let Some(inner) = at.as_array().and_then(|items| items.first()) {
        depth += 1;
        at = inner;
    }
    Ok(depth)
}

#[agent_tool]
fn nest_echo(levels: u32, nest: Nest) -> Nest {
    let _ = nest;
    Nest(levels)
}

/// An `AgentLayer` with `store_args` on (so the stored copy, its redaction and its
/// writing see the value too) writing into a `Capture`.
fn store_args_capture<T>(f: impl FnOnce() -> T) -> (T, Capture) {
    let config = Config::from_yaml_str("logging:\n  events:\n    store_args: true\n").unwrap();
    let (layer, guard) = AgentLayer::from_config(&config).unwrap();
    drop(guard);
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(layer.with_writer(capture.clone()));
    let value = tracing::subscriber::with_default(subscriber, f);
    (value, capture)
}

fn the_tool_result(cap: &Capture) -> Value {
    let events = cap.of_kind("tool_result");
    assert_eq!(events.len(), 1, "{events:?}");
    events.into_iter().next().unwrap()
}

#[test]
fn a_deep_json_argument_is_a_hash_error_not_a_stack_overflow() {
    let (depth, event) = on_small_stack(|| {
        let doc = deep_value(DEEP);
        let (depth, cap) = store_args_capture(|| {
            let run = Run::start(RunMeta::new("deep"));
            let depth = run.in_scope(|| measure(&doc));
            run.stop(StopReason::Completed);
            depth
        });
        drop_deep(doc);
        (depth.unwrap(), the_tool_result(&cap))
    });
    assert_eq!(depth, DEEP as usize, "the tool ran on the whole value");
    assert_eq!(event["status"], "ok");
    assert_eq!(event["args_sha"], Value::Null);
    let error = event["hash_error"].as_str().unwrap();
    assert!(
        error.starts_with("args: parameter `doc`: nesting deeper than 512 levels at `doc[0][0]"),
        "{error}"
    );
    assert!(error.len() < 200, "the path is cut short: {error}");
    // Not stored either: copying it would recurse as deep.
    assert_eq!(event["args"]["doc"], Value::Null);
}

#[test]
fn a_deep_recursive_type_as_argument_and_result_is_a_hash_error() {
    let (returned, event) = on_small_stack(|| {
        let (returned, cap) = store_args_capture(|| {
            let run = Run::start(RunMeta::new("deep"));
            let returned = run.in_scope(|| nest_echo(DEEP, Nest(DEEP)));
            run.stop(StopReason::Completed);
            returned
        });
        (returned.0, the_tool_result(&cap))
    });
    assert_eq!(returned, DEEP);
    assert_eq!(event["status"], "ok");
    assert_eq!(event["result_sha"], Value::Null);
    let error = event["hash_error"].as_str().unwrap();
    assert!(
        error.starts_with("args: parameter `nest`: nesting deeper than 512 levels")
            && error.contains("; result: nesting deeper than 512 levels at `$"),
        "{error}"
    );
}

/// `levels` nested arrays around `0`, as text.
fn deep_text(levels: usize) -> String {
    format!("{}0{}", "[".repeat(levels), "]".repeat(levels))
}

#[test]
fn values_just_inside_the_limit_still_hash_are_stored_and_read_back() {
    // 511 arrays inside the arguments object: 512 levels, the most the text hasher takes.
    let (_, cap) = on_small_stack(|| {
        store_args_capture(|| {
            let run = Run::start(RunMeta::new("deep"));
            let doc = deep_value(511);
            let _ = run.in_scope(|| measure(&doc));
            run.stop(StopReason::Completed);
            drop_deep(doc);
        })
    });
    // Deeper than `serde_json`'s parser goes by default: read back through the library's
    // reader (as the CLI does), which keeps `args` as text.
    let text = cap.text();
    let event = EventReader::new(text.as_bytes())
        .filter_map(|item| match item.unwrap() {
            Item::Event(event) if event.kind == EventKind::ToolResult => Some(event),
            _ => None,
        })
        .next()
        .expect("the tool_result reads back as an event");
    assert_eq!(event.hash_error, None);
    let doc = deep_text(511);
    assert_eq!(
        event.args_sha.as_deref(),
        Some(
            sha24_of_json_text(&format!("{{\"doc\":{doc}}}"))
                .unwrap()
                .as_str()
        )
    );
    assert_eq!(event.args.unwrap().as_str(), format!("{{\"doc\":{doc}}}"));
}

#[test]
fn the_serde_hasher_has_the_text_hashers_limit() {
    on_small_stack(|| {
        for levels in [511u32, 512, 513, 2_000] {
            // `levels` arrays around 0.
            let value = deep_value(levels - 1);
            let value = Value::Array(vec![value]);
            let text = deep_text(levels as usize);
            let from_value = sha24(&value);
            let from_text = sha24_of_json_text(&text);
            assert_eq!(from_value.is_ok(), from_text.is_ok(), "{levels} levels");
            assert_eq!(from_value.is_ok(), levels <= 512, "{levels} levels");
            if let (Ok(a), Ok(b)) = (&from_value, &from_text) {
                assert_eq!(a, b);
            }
            drop_deep(value);
        }
        assert!(sha24(&Nest(DEEP)).is_err());
    });
}

/// An argument or result whose `Serialize` impl panics: a bug in the program, but one
/// that without the layer would never run.
struct Explosive;

impl Serialize for Explosive {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("serialize bug")
    }
}

#[agent_tool]
fn takes_explosive(id: u32, payload: &Explosive) -> Result<u32, std::io::Error> {
    let _ = payload;
    Ok(id * 2)
}

#[test]
fn an_argument_whose_serialize_panics_leaves_the_call_alone() {
    for store_args in [false, true] {
        let body = || {
            let run = Run::start(RunMeta::new("p"));
            let returned = catch_unwind(AssertUnwindSafe(|| {
                run.in_scope(|| takes_explosive(21, &Explosive))
            }));
            run.stop(StopReason::Completed);
            returned
        };
        let (returned, cap) = if store_args {
            store_args_capture(body)
        } else {
            capture(body)
        };
        let returned = returned.expect("the caller gets no panic");
        assert_eq!(returned.unwrap(), 42, "the tool ran");
        let event = the_tool_result(&cap);
        assert_eq!(event["status"], "ok");
        assert_eq!(
            event["hash_error"],
            "args: parameter `payload`: a `Serialize` impl panicked"
        );
        assert_eq!(event["args_sha"], Value::Null);
        assert!(!cap.text().contains("serialize bug"));
    }
}
