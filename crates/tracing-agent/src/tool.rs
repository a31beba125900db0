//! The runtime half of `#[agent_tool]`: one [`ToolCall`] per call, from the moment the
//! call starts (step id, args hash) to the one `tool_result` event it writes.
//!
//! The macro keeps its expansion to three calls into this module (`begin`, then `ok`
//! or `err`), so that later features (replaying recorded results, guards) have one
//! place to live.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use tracing::Span;

use crate::clock::{self, millis, Instant};
use crate::hash::{self, ArgsHasher, Sha24};
use crate::layer::Hooks;
use crate::metrics::ToolKeys;
use crate::redact::REDACTED;
use crate::run::RunState;
use crate::schema::{Event, EventKind, Status};
use crate::settings::Settings;
use crate::sink::Emitter;

/// What the macro knows about a tool at compile time, in one `static` per tool.
#[derive(Debug)]
pub struct ToolInfo {
    /// The tool's name (`name = ".."`, or the fn's name).
    pub name: &'static str,
    /// `version = ".."`, if given.
    pub version: Option<&'static str>,
    metric_keys: ToolKeys,
}

impl ToolInfo {
    /// The tool `name`, at `version`.
    pub const fn new(name: &'static str, version: Option<&'static str>) -> Self {
        ToolInfo {
            name,
            version,
            metric_keys: ToolKeys::new(),
        }
    }
}

/// One tool call in progress. Dropped without an outcome, it reports `panic` (when its
/// thread is unwinding) or `cancelled` (an async call whose future was dropped).
pub struct ToolCall {
    // Inline, not boxed (no allocation per call), and never moved once `begin` has
    // returned it (see `ok`).
    live: Option<Live>,
}

/// Present only when an `AgentLayer` will write the call: the disabled path carries
/// nothing but an empty span.
struct Live {
    info: &'static ToolInfo,
    writer: Writer,
    step_id: Option<u64>,
    parent_step_id: Option<u64>,
    args: Finished,
    started: Instant,
}

/// Which layer writes the call and which run counts it.
enum Writer {
    /// In a run whose events this same layer writes: reached through the run, a call
    /// clones one `Arc` instead of two.
    Run(Arc<RunState>),
    /// Outside any run, or in a run started under another layer.
    Layer(Arc<Emitter>, Option<Arc<RunState>>),
}

impl Writer {
    fn new(emitter: &Arc<Emitter>, run: Option<Arc<RunState>>) -> Writer {
        match run {
            Some(run)
                if run
                    .emitter
                    .as_ref()
                    .is_some_and(|e| Arc::ptr_eq(e, emitter)) =>
            {
                Writer::Run(run)
            }
            run => Writer::Layer(Arc::clone(emitter), run),
        }
    }

    /// Always `Some` (`Run` is only made for a run with this emitter); an `Option` so
    /// that nothing here can panic.
    fn emitter(&self) -> Option<&Emitter> {
        match self {
            Writer::Run(run) => run.emitter.as_deref(),
            Writer::Layer(emitter, _) => Some(emitter),
        }
    }

    fn run(&self) -> Option<&RunState> {
        match self {
            Writer::Run(run) => Some(run),
            Writer::Layer(_, run) => run.as_deref(),
        }
    }
}

/// What the layer wants from the arguments: their canonical hash (none when
/// `store_args_hash` is off; keyed when a hash key is set) and, with `store_args`, a
/// redacted copy.
pub struct ToolArgs {
    hasher: Option<ArgsHasher>,
    stored: Option<serde_json::Map<String, Value>>,
}

/// The arguments, done.
struct Finished {
    digest: Option<Sha24>,
    error: Option<String>,
    stored: Option<Value>,
}

impl ToolArgs {
    fn new(settings: &Settings) -> Self {
        ToolArgs {
            hasher: settings.store_args_hash.then(ArgsHasher::new),
            stored: settings.store_args.then(serde_json::Map::new),
        }
    }

    /// One parameter, fed in name order.
    pub fn arg<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) {
        self.feed(name, value, false);
    }

    /// One parameter marked `redact(..)`: hashed as usual, stored as `"[REDACTED]"`.
    pub fn redacted_arg<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) {
        self.feed(name, value, true);
    }

    fn feed<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T, redact: bool) {
        if let Some(hasher) = &mut self.hasher {
            hasher.arg(name, value);
        }
        if let Some(stored) = &mut self.stored {
            let value = if redact {
                Value::String(REDACTED.to_owned())
            } else {
                // `serde_json` is lenient where the hash is strict (integer map keys become
                // strings): what is stored is for reading, the hash is for joining.
                serde_json::to_value(value).unwrap_or(Value::Null)
            };
            stored.insert(name.to_owned(), value);
        }
    }

    fn finish(self, settings: &Settings) -> Finished {
        let hashed = self.hasher.map(|hasher| match &settings.hash_key {
            None => hasher.finish(),
            Some(key) => key.finish(hasher),
        });
        let (digest, error) = match hashed {
            None => (None, None),
            Some(Ok(sha)) => (Some(sha), None),
            Some(Err(e)) => (None, Some(e.message_without_data().to_owned())),
        };
        let stored = self.stored.map(|map| {
            let mut value = Value::Object(map);
            settings.redactor.redact(None, &mut value);
            value
        });
        Finished {
            digest,
            error,
            stored,
        }
    }
}

/// The hash of a returned value, under the layer's settings.
fn result_digest<T: Serialize + ?Sized>(settings: &Settings, value: &T) -> Result<Sha24, String> {
    match &settings.hash_key {
        None => hash::sha24(value).map_err(|e| e.message_without_data().to_owned()),
        Some(key) => hash::canonical_json(value)
            .map(|canonical| key.sha24(canonical.as_bytes()))
            .map_err(|e| e.message_without_data().to_owned()),
    }
}

enum Outcome<'a> {
    // By reference: a digest copied through the enum right after it was written cost a
    // store-forwarding stall on every call.
    Ok(Option<&'a Result<Sha24, String>>),
    Err(&'a str),
}

impl ToolCall {
    /// Starts a call in `span` (an `execute_tool` span made by the generated code):
    /// finds its run, assigns its step id, hashes its arguments with `hash_args`.
    /// Nothing is looked up or hashed unless an `AgentLayer` is installed and the span
    /// is enabled.
    ///
    /// The span stays with the caller, which runs the body in it: moving it into the
    /// call cost a disabled call a store-forwarding stall, more than all its other work.
    pub fn begin(
        span: &Span,
        info: &'static ToolInfo,
        feed_args: impl FnOnce(&mut ToolArgs),
    ) -> Self {
        if span.is_disabled() {
            return ToolCall { live: None };
        }
        let found = span
            .with_subscriber(|(id, dispatch)| {
                let hooks = dispatch.downcast_ref::<Hooks>()?;
                let found = hooks.start_step(dispatch, id);
                let writer = Writer::new(&hooks.emitter, found.run);
                Some((writer, found.step, found.parent_step))
            })
            .flatten();
        let Some((writer, step_id, parent_step_id)) = found else {
            return ToolCall { live: None };
        };
        if let Some(step_id) = step_id {
            span.record("step_id", step_id);
        }
        let Some(settings) = writer.emitter().map(Emitter::settings) else {
            return ToolCall { live: None };
        };
        let mut args = ToolArgs::new(settings);
        feed_args(&mut args);
        let args = args.finish(settings);
        let live = Live {
            info,
            writer,
            step_id,
            parent_step_id,
            args,
            started: clock::now(),
        };
        ToolCall { live: Some(live) }
    }

    // The outcome calls take the call by `&mut` and finish it in place: a `ToolCall` moved
    // by value into a call is a `memcpy` of its 150 bytes, which on the disabled path cost
    // as much as all the rest. Finishing cannot panic (the writer and the metrics recorder
    // run under `catch_unwind`), so a finished call is never reported twice; a `Serialize`
    // impl that panics while the result is hashed leaves the call to `drop`, as `panic`.

    /// The call returned `value` (an `Ok` value, or a non-`Result` return).
    #[inline]
    pub fn ok<T: Serialize + ?Sized>(&mut self, value: &T) {
        if let Some(live) = &self.live {
            let digest = live
                .writer
                .emitter()
                .map(|emitter| result_digest(emitter.settings(), value));
            live.finish(Outcome::Ok(digest.as_ref()));
            self.live = None;
        }
    }

    /// The call returned, and its value is not hashed (`skip_result`).
    #[inline]
    pub fn ok_unhashed(&mut self) {
        if let Some(live) = &self.live {
            live.finish(Outcome::Ok(None));
            self.live = None;
        }
    }

    /// The call returned an error of class `class`.
    #[inline]
    pub fn err(&mut self, class: Cow<'static, str>) {
        if let Some(live) = &self.live {
            live.finish(Outcome::Err(&class));
            self.live = None;
        }
    }
}

impl Drop for ToolCall {
    #[inline]
    fn drop(&mut self) {
        if let Some(live) = &self.live {
            let class = if std::thread::panicking() {
                "panic"
            } else {
                "cancelled"
            };
            live.finish(Outcome::Err(class));
        }
    }
}

impl Live {
    fn finish(&self, outcome: Outcome<'_>) {
        let ended = clock::now();
        let elapsed = ended.saturating_duration_since(self.started);
        let (status, error, result) = match outcome {
            Outcome::Ok(result) => (Status::Ok, None, result),
            Outcome::Err(class) => (Status::Error, Some(class), None),
        };
        let Some(emitter) = self.writer.emitter() else {
            return;
        };
        let run = self.writer.run();
        if let Some(run) = run {
            run.count_tool(status == Status::Error);
        }
        let result_error = match &result {
            Some(Err(error)) => Some(error.as_str()),
            _ => None,
        };
        let hash_error = describe_hash_errors(self.args.error.as_deref(), result_error);
        let mut event = Event::new(
            EventKind::ToolResult,
            run.map(|run| run.run_id.as_str()),
            clock::unix_ms_at(ended),
        );
        event.step_id = self.step_id;
        event.tool = Some(self.info.name);
        event.args_sha = self.args.digest.as_ref();
        event.duration_ms = Some(millis(elapsed));
        event.status = Some(status);
        event.error = error;
        event.parent_step_id = self.parent_step_id;
        event.result_sha = match &result {
            Some(Ok(digest)) => Some(digest),
            _ => None,
        };
        event.tool_version = self.info.version;
        event.args = self.args.stored.as_ref();
        event.hash_error = hash_error.as_deref();
        emitter.emit(&mut event);
        crate::metrics::tool_ended(
            &emitter.metrics,
            self.info.name,
            &self.info.metric_keys,
            error,
            elapsed,
        );
    }
}

fn describe_hash_errors(args: Option<&str>, result: Option<&str>) -> Option<String> {
    match (args, result) {
        (None, None) => None,
        (Some(a), None) => Some(format!("args: {a}")),
        (None, Some(r)) => Some(format!("result: {r}")),
        (Some(a), Some(r)) => Some(format!("args: {a}; result: {r}")),
    }
}
