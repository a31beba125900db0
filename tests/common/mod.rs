//! Shared by the integration tests: a writer that keeps what the layer writes.
#![allow(dead_code)]

use std::io;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tracing_agent::AgentLayer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

/// A writer on a full disk: every write fails.
pub struct FullDisk;

impl io::Write for FullDisk {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("no space left on device"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An in-memory `MakeWriter`; clones share the buffer.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

pub struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = CaptureWriter;
    fn make_writer(&'a self) -> Self::Writer {
        CaptureWriter(Arc::clone(&self.0))
    }
}

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("output is UTF-8")
    }

    /// Every line, parsed; fails the test on a line that is not one JSON object.
    pub fn events(&self) -> Vec<Value> {
        let text = self.text();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "last line unterminated: {text:?}"
        );
        text.lines()
            .map(|line| {
                let value: Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
                assert!(value.is_object(), "not an object: {line}");
                value
            })
            .collect()
    }

    pub fn of_kind(&self, kind: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["kind"] == kind)
            .collect()
    }
}

/// A registry with only an `AgentLayer` writing into a fresh `Capture`.
pub fn agent_subscriber() -> (impl tracing::Subscriber + Send + Sync, Capture) {
    let capture = Capture::default();
    let subscriber =
        tracing_subscriber::registry().with(AgentLayer::new().with_writer(capture.clone()));
    (subscriber, capture)
}

/// Runs `f` with only an `AgentLayer` installed (on this thread) and returns what it wrote.
pub fn capture<T>(f: impl FnOnce() -> T) -> (T, Capture) {
    let (subscriber, capture) = agent_subscriber();
    let value = tracing::subscriber::with_default(subscriber, f);
    (value, capture)
}

/// The top-level keys of a JSON line, in the order written.
pub fn keys_in_order(line: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl<'de> serde::de::Visitor<'de> for Visitor {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some(key) = map.next_key::<String>()? {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        keys.push(key);
                    }
                    Ok(Keys(keys))
                }
            }
            deserializer.deserialize_map(Visitor)
        }
    }
    serde_json::from_str::<Keys>(line).unwrap().0
}

pub const CORE_KEYS: [&str; 11] = [
    "run_id",
    "kind",
    "ts_ms",
    "step_id",
    "tool",
    "args_sha",
    "duration_ms",
    "status",
    "error",
    "stop_reason",
    "usage",
];

/// A four-worker runtime, for tests that race runs and calls across threads.
pub fn multi_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

pub fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
