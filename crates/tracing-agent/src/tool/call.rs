//! One tool call in progress: begun by the generated code, finished by exactly one
//! outcome (or by `Drop`, as a panic or a cancellation), written as one event.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Serialize;
use tracing::Span;

use super::args::{describe_hash_errors, result_digest, Finished, ToolArgs};
use super::gate::Decision;
use super::info::ToolInfo;
use super::writer::Writer;
use crate::clock::{self, millis, Instant};
use crate::divergence::{CallSummary, DivergenceCode};
use crate::guard::{digest_fingerprint, text_fingerprint, Refused};
use crate::hash::Sha24;
use crate::replay::{Answer, Session, SnapshotStore, Verdict};
use crate::run_state::{Admission, RunState};
use crate::schema::{Event, EventKind, ReplayNote, Status};
use crate::scope::Hooks;
use crate::sink::Emitter;

/// One tool call in progress. Dropped without an outcome, it reports `panic` (when its
/// thread is unwinding) or `cancelled` (an async call whose future was dropped).
pub struct ToolCall<'a> {
    // Inline, not boxed (no allocation per call), and never moved once `begin` has
    // returned it: the outcome calls finish it in place through `&mut self`.
    live: Option<Live>,
    /// The call's span, borrowed from the generated code (which keeps it): a failed call
    /// marks it, for OpenTelemetry, without a clone of the span on every call.
    span: &'a Span,
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
    /// The gate's refusal, until the generated code takes it with `decision`.
    refused: Option<Refused>,
    /// Set by `Run::retry`: which attempt this call is.
    attempt: Option<u32>,
    /// Set by `ToolCallId`: the id the model gave this call.
    tool_call_id: Option<Box<str>>,
    /// Recording and replay of this call; `None` (one word, no allocation) when neither
    /// is on.
    replay: Option<Box<ReplayPart>>,
}

/// What recording and replay know of one call.
struct ReplayPart {
    /// Where the outcome is recorded; `None` in a replay (unless it records live calls).
    store: Option<SnapshotStore>,
    /// The replayed run's matcher.
    session: Option<Arc<Session>>,
    /// The recorded answer, until the generated code takes it with `decision`.
    answer: Option<Answer>,
    /// What the event's `replay` key says.
    note: ReplayNote,
    /// The serialized outcome, handed to the recorder (under `note.snapshot`) when the
    /// call ends.
    pending: Option<Vec<u8>>,
    /// The outcome's `result_sha`, when the snapshot's name already holds it (unkeyed
    /// hashes, unencrypted store): the value is serialized and hashed once, not twice.
    result: Option<Sha24>,
}

enum Outcome<'a> {
    // By reference, so the digest is read where it was written rather than copied again.
    Ok(Option<&'a Result<Sha24, String>>),
    Err(&'a str),
}

impl<'a> ToolCall<'a> {
    /// Starts a call in `span` (an `execute_tool` span made by the generated code):
    /// finds its run, assigns its step id, hashes its arguments with `feed_args`.
    /// Nothing is looked up or hashed unless an `AgentLayer` is installed and the span
    /// is enabled.
    ///
    /// The span stays with the caller, which runs the body in it, so that a disabled
    /// call moves nothing but this small value.
    pub fn begin(
        span: &'a Span,
        info: &'static ToolInfo,
        feed_args: impl FnOnce(&mut ToolArgs),
    ) -> Self {
        if span.is_disabled() {
            return ToolCall { live: None, span };
        }
        let found = span
            .with_subscriber(|(id, dispatch)| {
                let hooks = dispatch.downcast_ref::<Hooks>()?;
                let found = hooks.start_step(dispatch, id);
                let writer = Writer::new(hooks.emitter(), found.run);
                let store = hooks.snapshots().cloned();
                Some((writer, found.step, found.parent_step, store))
            })
            .flatten();
        let Some((writer, step_id, parent_step_id, store)) = found else {
            return ToolCall { live: None, span };
        };
        if let Some(step_id) = step_id {
            span.record("step_id", crate::scope::otel_int(step_id));
        }
        let Some(settings) = writer.emitter().map(Emitter::settings) else {
            return ToolCall { live: None, span };
        };
        let guard_hash = writer.run().is_some_and(RunState::needs_args_hash);
        let mut args = ToolArgs::new(settings, guard_hash);
        feed_args(&mut args);
        let args = args.finish(settings);
        let started = clock::now();
        let mut refused = writer.run().and_then(|run| {
            let admission = Admission {
                call: info.call_key(),
                step: step_id,
            };
            run.admit_tool(admission, info.writes, args.digest.as_ref(), started)
        });
        let tool_call_id = crate::scope::take_tool_call_id();
        if let Some(id) = &tool_call_id {
            span.record("gen_ai.tool.call.id", &**id);
        }
        let session = writer.run().and_then(RunState::replay).cloned();
        let replay = (store.is_some() || session.is_some())
            .then(|| Box::new(ReplayPart::new(store, session, info, &args, &mut refused)));
        let live = Live {
            info,
            writer,
            step_id,
            parent_step_id,
            args,
            started,
            refused,
            attempt: crate::scope::take_attempt(),
            tool_call_id,
            replay,
        };
        ToolCall {
            live: Some(live),
            span,
        }
    }

    /// What the generated code does with this call: run its body, or return the gate's
    /// refusal. Without a layer, or outside a run, every call runs.
    #[inline]
    pub fn decision(&mut self) -> Decision {
        let Some(live) = self.live.as_mut() else {
            return Decision::Run;
        };
        if let Some(refused) = live.refused.take() {
            return Decision::Refuse(refused);
        }
        match live.replay.as_mut().and_then(|part| part.answer.take()) {
            Some(answer) => Decision::Answer(answer),
            None => Decision::Run,
        }
    }

    /// The call was refused and its body did not run: written as an error of the
    /// refusal's class (`refused:<reason>`, or `timeout`).
    pub fn refused(&mut self, refused: &Refused) {
        if let Some(live) = &mut self.live {
            if let Some(part) = live.replay.as_mut().filter(|p| p.session.is_some()) {
                part.note.call = Some("refused".into());
            }
            live.finish(self.span, Outcome::Err(&refused.class()));
            self.live = None;
        }
    }

    /// Whether this call's outcome is to be recorded: a store is set, and the call is
    /// not answered from a recording.
    #[inline]
    pub fn records(&self) -> bool {
        self.live
            .as_ref()
            .and_then(|live| live.replay.as_ref())
            .is_some_and(|part| part.store.is_some())
    }

    /// Records `value` (an `Ok` value, an `Err` value, or a plain return) as this call's
    /// outcome: serialized on this thread (the value is borrowed), written to the store
    /// by its background thread when the call ends.
    // Out of line: the generated code calls it only when recording, and inlined it would
    // grow every tool's function (and its disabled path) by a serializer.
    #[inline(never)]
    pub fn snapshot<T: Serialize + ?Sized>(&mut self, value: &T) {
        let Some(live) = self.live.as_mut() else {
            return;
        };
        let unkeyed = live
            .writer
            .emitter()
            .is_some_and(|emitter| emitter.settings().hash_key.is_none());
        let Some(part) = live.replay.as_mut() else {
            return;
        };
        let Some(store) = &part.store else {
            return;
        };
        // A `Serialize` impl that panics is the program's own code: recorded as a reason,
        // and the call goes on.
        let canonical = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::hash::canonical_json(value)
        }));
        match canonical {
            Ok(Ok(text)) => {
                let content = text.into_bytes();
                let key = store.key_of(&content);
                if unkeyed && !store.is_encrypted() {
                    // The same bytes `result_sha` hashes, by the same SHA-256.
                    part.result = Sha24::from_hex_prefix(&key);
                }
                part.note.snapshot = Some(key);
                part.pending = Some(content);
            }
            Ok(Err(error)) => {
                part.note.unreplayable = Some(format!(
                    "its value cannot be recorded: {}",
                    error.message_without_data()
                ));
            }
            Err(_) => {
                part.note.unreplayable =
                    Some("its value cannot be recorded: a `Serialize` impl panicked".into());
            }
        }
    }

    /// The outcome is not recorded, for the reason `why` (written in the event's
    /// `replay.unreplayable`, so a replay says why it cannot serve the call).
    #[cold]
    #[inline(never)]
    pub fn unreplayable(&mut self, why: &'static str) {
        if let Some(part) = self.live.as_mut().and_then(|live| live.replay.as_mut()) {
            if part.store.is_some() || part.session.is_none() {
                part.note.unreplayable = Some(why.to_owned());
            }
        }
    }

    /// The recorded answer cannot be restored into the tool's return type: the refusal
    /// to return instead (or, where the type cannot carry one, the body runs live).
    #[cold]
    #[inline(never)]
    pub fn cannot_answer(&mut self, why: &str) -> Refused {
        let tool = self.live.as_ref().map_or("", |live| live.info.name);
        if let Some(part) = self.live.as_mut().and_then(|live| live.replay.as_mut()) {
            part.note.call = Some("live".into());
            part.note.divergence = Some(DivergenceCode::Unreplayable);
        }
        crate::replay::cannot_restore(tool, why)
    }

    // The outcome calls finish the call in place. Finishing cannot panic (the writer and
    // the metrics recorder run under `catch_unwind`, and so does hashing the result: a
    // `Serialize` impl that panics there is a `hash_error`, and the caller still gets its
    // value), so a finished call is never reported twice.

    /// The call returned `value` (an `Ok` value, or a non-`Result` return).
    #[inline]
    pub fn ok<T: Serialize + ?Sized>(&mut self, value: &T) {
        if let Some(live) = &mut self.live {
            let hashed = live.replay.as_mut().and_then(|part| part.result.take());
            let digest = match hashed {
                Some(sha) => Some(Ok(sha)),
                None => live
                    .writer
                    .emitter()
                    .map(|emitter| result_digest(emitter.settings(), value)),
            };
            live.finish(self.span, Outcome::Ok(digest.as_ref()));
            self.live = None;
        }
    }

    /// The call returned, and its value is not hashed (`skip_result`).
    #[inline]
    pub fn ok_unhashed(&mut self) {
        if let Some(live) = &mut self.live {
            live.finish(self.span, Outcome::Ok(None));
            self.live = None;
        }
    }

    /// The call returned an error of class `class`.
    #[inline]
    pub fn err(&mut self, class: Cow<'static, str>) {
        if let Some(live) = &mut self.live {
            live.finish(self.span, Outcome::Err(&class));
            self.live = None;
        }
    }
}

impl Drop for ToolCall<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(live) = &mut self.live {
            let class = if std::thread::panicking() {
                "panic"
            } else {
                "cancelled"
            };
            live.finish(self.span, Outcome::Err(class));
        }
    }
}

impl ReplayPart {
    /// Recording and replay for a call of `info` with `args`; in a replay, asks the
    /// matcher, which may answer the call, let it run, or refuse it (into `refused`).
    fn new(
        store: Option<SnapshotStore>,
        session: Option<Arc<Session>>,
        info: &ToolInfo,
        args: &Finished,
        refused: &mut Option<Refused>,
    ) -> Self {
        let mut part = ReplayPart {
            store,
            session,
            answer: None,
            note: ReplayNote::default(),
            pending: None,
            result: None,
        };
        let Some(session) = &part.session else {
            return part;
        };
        // Live until shown otherwise: a refusal the return type cannot carry runs the body.
        part.note.call = Some("live".into());
        if refused.is_none() {
            let args_sha = args.digest.as_ref().map(Sha24::as_str);
            match session.decide(info.name, args_sha) {
                Verdict::Serve(answer) => {
                    // The snapshot that answered: a replayed run can be replayed in turn.
                    part.note.snapshot = answer.snapshot().map(str::to_owned);
                    part.answer = Some(answer);
                    part.note.call = Some("served".into());
                }
                Verdict::Live => {}
                Verdict::Refuse(refusal, code) => {
                    *refused = Some(refusal);
                    part.note.divergence = Some(code);
                }
            }
        }
        let records_live = session.recording().records_live_calls();
        if !records_live || part.answer.is_some() {
            // A replay does not write into the store it reads from unless asked.
            part.store = None;
        }
        part
    }
}

impl Live {
    fn finish(&mut self, span: &Span, outcome: Outcome<'_>) {
        let ended = clock::now();
        let elapsed = ended.saturating_duration_since(self.started);
        let (status, error, result) = match outcome {
            Outcome::Ok(result) => (Status::Ok, None, result),
            Outcome::Err(class) => (Status::Error, Some(class), None),
        };
        if let Some(class) = error {
            // The GenAI convention's failed call: its class as `error.type`, error status.
            span.record("error.type", class);
            span.record("otel.status_code", "error");
        }
        let Some(emitter) = self.writer.emitter() else {
            return;
        };
        let run = self.writer.run();
        if let Some(run) = run {
            run.count_tool(status == Status::Error);
            if run.needs_args_hash() {
                let outcome = match (&result, error) {
                    (Some(Ok(digest)), _) => digest_fingerprint(digest),
                    (_, Some(class)) => text_fingerprint(class),
                    // Unhashed (`skip_result`): unknown, never taken for progress.
                    _ => 0,
                };
                run.tool_ended(self.info.call_key(), self.args.digest.as_ref(), outcome);
            }
        }
        let result_error = match &result {
            Some(Err(error)) => Some(error.as_str()),
            _ => None,
        };
        let hash_error = describe_hash_errors(self.args.error.as_deref(), result_error);
        let mut event = Event::new(
            EventKind::ToolResult,
            run.map(|run| run.run_id()),
            clock::unix_ms_at(ended),
        );
        event.step_id = self.step_id;
        event.tool = Some(self.info.name);
        event.args_sha = self.args.digest.as_ref().filter(|_| self.args.in_event);
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
        event.attempt = self.attempt;
        event.tool_call_id = self.tool_call_id.as_deref();
        let part = self.replay.as_deref_mut();
        event.replay = part
            .as_ref()
            .map(|part| &part.note)
            .filter(|note| **note != ReplayNote::default());
        emitter.emit(&mut event);
        if let Some(part) = part {
            if let (Some(store), Some(content)) = (&part.store, part.pending.take()) {
                if let Some(key) = part.note.snapshot.take() {
                    store.recorder().submit(key, content);
                }
            }
            if let Some(session) = &part.session {
                session.finished(CallSummary {
                    step: self.step_id,
                    tool: self.info.name.to_owned(),
                    args_sha: self.args.digest.as_ref().map(|sha| sha.as_str().to_owned()),
                    error: error.map(str::to_owned),
                    result_sha: match &result {
                        Some(Ok(digest)) => Some(digest.as_str().to_owned()),
                        _ => None,
                    },
                    replay: part.note.call.clone(),
                });
            }
        }
        crate::metrics::tool_ended(
            &emitter.metrics,
            self.info.name,
            &self.info.metric_keys,
            error,
            elapsed,
        );
    }
}
