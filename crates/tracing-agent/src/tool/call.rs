//! One tool call in progress: begun by the generated code, finished by exactly one
//! outcome (or by `Drop`, as a panic or a cancellation), written as one event.

use std::borrow::Cow;

use serde::Serialize;
use tracing::Span;

use super::args::{describe_hash_errors, result_digest, Finished, ToolArgs};
use super::gate::Decision;
use super::info::ToolInfo;
use super::writer::Writer;
use crate::clock::{self, millis, Instant};
use crate::guard::{digest_fingerprint, text_fingerprint, Refused};
use crate::hash::Sha24;
use crate::run_state::{Admission, RunState};
use crate::schema::{Event, EventKind, Status};
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
                Some((writer, found.step, found.parent_step))
            })
            .flatten();
        let Some((writer, step_id, parent_step_id)) = found else {
            return ToolCall { live: None, span };
        };
        if let Some(step_id) = step_id {
            // As i64: OpenTelemetry's attributes have no unsigned integer, and a `u64`
            // reaches `tracing-opentelemetry` as text.
            span.record("step_id", i64::try_from(step_id).unwrap_or(i64::MAX));
        }
        let Some(settings) = writer.emitter().map(Emitter::settings) else {
            return ToolCall { live: None, span };
        };
        let guard_hash = writer.run().is_some_and(RunState::needs_args_hash);
        let mut args = ToolArgs::new(settings, guard_hash);
        feed_args(&mut args);
        let args = args.finish(settings);
        let started = clock::now();
        let refused = writer.run().and_then(|run| {
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
        match self.live.as_mut().and_then(|live| live.refused.take()) {
            None => Decision::Run,
            Some(refused) => Decision::Refuse(refused),
        }
    }

    /// The call was refused and its body did not run: written as an error of the
    /// refusal's class (`refused:<reason>`, or `timeout`).
    pub fn refused(&mut self, refused: &Refused) {
        if let Some(live) = &self.live {
            live.finish(self.span, Outcome::Err(&refused.class()));
            self.live = None;
        }
    }

    // The outcome calls finish the call in place. Finishing cannot panic (the writer and
    // the metrics recorder run under `catch_unwind`, and so does hashing the result: a
    // `Serialize` impl that panics there is a `hash_error`, and the caller still gets its
    // value), so a finished call is never reported twice.

    /// The call returned `value` (an `Ok` value, or a non-`Result` return).
    #[inline]
    pub fn ok<T: Serialize + ?Sized>(&mut self, value: &T) {
        if let Some(live) = &self.live {
            let digest = live
                .writer
                .emitter()
                .map(|emitter| result_digest(emitter.settings(), value));
            live.finish(self.span, Outcome::Ok(digest.as_ref()));
            self.live = None;
        }
    }

    /// The call returned, and its value is not hashed (`skip_result`).
    #[inline]
    pub fn ok_unhashed(&mut self) {
        if let Some(live) = &self.live {
            live.finish(self.span, Outcome::Ok(None));
            self.live = None;
        }
    }

    /// The call returned an error of class `class`.
    #[inline]
    pub fn err(&mut self, class: Cow<'static, str>) {
        if let Some(live) = &self.live {
            live.finish(self.span, Outcome::Err(&class));
            self.live = None;
        }
    }
}

impl Drop for ToolCall<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Some(live) = &self.live {
            let class = if std::thread::panicking() {
                "panic"
            } else {
                "cancelled"
            };
            live.finish(self.span, Outcome::Err(class));
        }
    }
}

impl Live {
    fn finish(&self, span: &Span, outcome: Outcome<'_>) {
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
