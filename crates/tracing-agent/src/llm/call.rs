//! One LLM call as a step of its own: a span that times it, and one `llm_result` event
//! when it ends, whether it answered, failed, panicked or was cancelled.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use tracing::field::Empty;
use tracing::instrument::Instrumented;
use tracing::{Instrument, Span};

use super::{CostSource, Ended, LlmUsage};
use crate::clock::{self, millis, Instant};
use crate::run_state::{RunState, Spend};
use crate::schema::Status;
use crate::scope::{otel_int, Hooks};
use crate::sink::Emitter;

/// What is asked of which model, by whom: the start of an [`LlmCall`].
///
/// ```
/// use tracing_agent::LlmRequest;
/// let request = LlmRequest::new("openai", "gpt-4o").operation("chat"); // "chat" is the default
/// # let _ = request;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LlmRequest {
    provider: String,
    model: String,
    operation: Cow<'static, str>,
}

impl LlmRequest {
    /// A `chat` request to `model` served by `provider` (`openai`, `anthropic`,
    /// `aws.bedrock`, ...: the convention's `gen_ai.provider.name`).
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Self {
        LlmRequest {
            provider: provider.into(),
            model: model.into(),
            operation: Cow::Borrowed("chat"),
        }
    }

    /// The operation, when it is not `chat`: `text_completion`, `embeddings`,
    /// `generate_content`, ... (the convention's `gen_ai.operation.name`).
    pub fn operation(mut self, operation: impl Into<Cow<'static, str>>) -> Self {
        self.operation = operation.into();
        self
    }
}

/// One LLM call in progress, a step of the run like a tool call: it takes the run's
/// next `step_id` when it starts, opens a span (`chat gpt-4o` for OpenTelemetry, with
/// the GenAI attributes), and writes one `llm_result` event when it ends, timed.
///
/// End it with [`finish`](LlmCall::finish) (the answer's usage) or
/// [`fail`](LlmCall::fail) (an error class). Dropped without either, it is written as
/// failed: `panic` when its thread is unwinding, `cancelled` otherwise (an async call
/// whose future was dropped), as a tool call is.
///
/// ```
/// use tracing_agent::{LlmCall, LlmRequest, LlmUsage, Run, RunMeta, StopReason};
/// # struct Reply { model: String, prompt_tokens: u64, completion_tokens: u64 }
/// # fn client_chat() -> Result<Reply, String> { Ok(Reply { model: "gpt-4o-2024-08-06".into(), prompt_tokens: 1200, completion_tokens: 80 }) }
/// # use tracing_subscriber::prelude::*;
/// # let layer = tracing_agent::AgentLayer::new().with_writer(std::io::sink);
/// # let _default = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
/// let run = Run::start(RunMeta::new("support-agent"));
/// run.in_scope(|| {
///     let call = LlmCall::start(LlmRequest::new("openai", "gpt-4o"));
///     match call.in_scope(client_chat) {
///         Ok(reply) => call.finish(
///             LlmUsage::new(reply.model, reply.prompt_tokens, reply.completion_tokens)
///                 .finish_reasons(["stop"]),
///         ),
///         Err(_) => call.fail("ApiError"),
///     }
/// });
/// assert_eq!(run.stop(StopReason::Completed).usage.llm_calls, 1);
/// ```
///
/// In async code, run the request inside the call's span with
/// [`scope`](LlmCall::scope): `call.scope(client.chat(req)).await`.
pub struct LlmCall {
    span: Span,
    request: LlmRequest,
    /// Present until the call is finished, and only when an `AgentLayer` writes it.
    live: Option<Live>,
}

struct Live {
    emitter: Arc<Emitter>,
    run: Option<Arc<RunState>>,
    step_id: Option<u64>,
    parent_step_id: Option<u64>,
    started: Instant,
}

impl LlmCall {
    /// Starts the call: opens its span and, inside a run, takes its step id.
    pub fn start(request: LlmRequest) -> LlmCall {
        let span = tracing::info_span!(
            target: "tracing_agent::llm",
            "llm_call",
            step_id = Empty,
            gen_ai.operation.name = %request.operation,
            gen_ai.provider.name = %request.provider,
            gen_ai.request.model = %request.model,
            gen_ai.response.model = Empty,
            gen_ai.response.finish_reasons = Empty,
            gen_ai.usage.input_tokens = Empty,
            gen_ai.usage.output_tokens = Empty,
            gen_ai.usage.cache_read.input_tokens = Empty,
            gen_ai.usage.reasoning.output_tokens = Empty,
            gen_ai.usage.cost.amount = Empty,
            gen_ai.usage.cost.currency = Empty,
            gen_ai.usage.cost.source = Empty,
            otel.name = %format_args!("{} {}", request.operation, request.model),
            error.type = Empty,
            otel.status_code = Empty,
        );
        let live = span
            .with_subscriber(|(id, dispatch)| {
                let hooks = dispatch.downcast_ref::<Hooks>()?;
                let found = hooks.start_step(dispatch, id);
                Some(Live {
                    emitter: Arc::clone(hooks.emitter()),
                    run: found.run,
                    step_id: found.step,
                    parent_step_id: found.parent_step,
                    started: clock::now(),
                })
            })
            .flatten();
        if let Some(step_id) = live.as_ref().and_then(|live| live.step_id) {
            span.record("step_id", otel_int(step_id));
        }
        LlmCall {
            span,
            request,
            live,
        }
    }

    /// The call's span, e.g. to make it the parent of a spawned task's span.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Runs `f` inside the call's span.
    pub fn in_scope<T>(&self, f: impl FnOnce() -> T) -> T {
        self.span.in_scope(f)
    }

    /// Runs `future` inside the call's span, across every `.await`.
    pub fn scope<F: Future>(&self, future: F) -> Instrumented<F> {
        future.instrument(self.span.clone())
    }

    /// The model answered: writes the `llm_result` event with `usage` (whose model is
    /// the one that answered, written as `response_model` where it differs from the
    /// one asked) and the measured duration.
    pub fn finish(mut self, usage: LlmUsage) {
        if let Some(finish_reasons) = &usage.finish_reasons {
            // Text: a `tracing` field cannot carry the convention's string array.
            self.span
                .record("gen_ai.response.finish_reasons", finish_reasons.join(","));
        }
        self.span
            .record("gen_ai.response.model", usage.model.as_str());
        self.span
            .record("gen_ai.usage.input_tokens", otel_int(usage.input_tokens));
        self.span
            .record("gen_ai.usage.output_tokens", otel_int(usage.output_tokens));
        if let Some(cached) = usage.cached_input_tokens {
            self.span
                .record("gen_ai.usage.cache_read.input_tokens", otel_int(cached));
        }
        if let Some(reasoning) = usage.reasoning_tokens {
            self.span
                .record("gen_ai.usage.reasoning.output_tokens", otel_int(reasoning));
        }
        if let Some((spend, source)) = self.end(Ok(&usage)) {
            if let (Spend::Known(usd), Some(source)) = (spend, source) {
                self.span.record("gen_ai.usage.cost.amount", usd);
                self.span.record("gen_ai.usage.cost.currency", "USD");
                self.span
                    .record("gen_ai.usage.cost.source", source.as_str());
            }
        }
    }

    /// The call failed with an error of class `class` (`RateLimited`, `Timeout`, ...:
    /// the class, never the message).
    pub fn fail(mut self, class: impl Into<Cow<'static, str>>) {
        let class = class.into();
        self.mark_failed(&class);
        self.end(Err(&class));
    }

    fn mark_failed(&self, class: &str) {
        // The GenAI convention's failed call: its class as `error.type`, error status.
        self.span.record("error.type", class);
        self.span.record("otel.status_code", "error");
    }

    fn end(&mut self, outcome: Result<&LlmUsage, &str>) -> Option<(Spend, Option<CostSource>)> {
        let live = self.live.take()?;
        let elapsed = clock::now().saturating_duration_since(live.started);
        let ended = Ended {
            run: live.run.as_ref(),
            step_id: live.step_id,
            parent_step_id: live.parent_step_id,
            provider: Some(&self.request.provider),
            model: &self.request.model,
            outcome,
            status: Some(if outcome.is_ok() {
                Status::Ok
            } else {
                Status::Error
            }),
            duration_ms: Some(millis(elapsed)),
        };
        Some(ended.write(&live.emitter))
    }
}

impl Drop for LlmCall {
    fn drop(&mut self) {
        if self.live.is_some() {
            let class = if std::thread::panicking() {
                "panic"
            } else {
                "cancelled"
            };
            self.mark_failed(class);
            self.end(Err(class));
        }
    }
}

impl std::fmt::Debug for LlmCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmCall")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}
