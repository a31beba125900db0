//! LLM calls: `record_llm` counts tokens and spend toward the current run.

use std::time::Duration;

use crate::clock::{self, millis};
use crate::schema::{Event, EventKind, LlmTokens, Usage};
use crate::scope::Hooks;

/// Usage of one LLM call.
///
/// ```
/// use tracing_agent::LlmUsage;
/// let usage = LlmUsage::new("gpt-4o-2024-08-06", 1200, 350)
///     .spend_usd(0.0042)
///     .duration(std::time::Duration::from_millis(900));
/// tracing_agent::record_llm(usage);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LlmUsage {
    model: String,
    input_tokens: u64,
    output_tokens: u64,
    spend_usd: Option<f64>,
    duration: Option<Duration>,
}

impl LlmUsage {
    /// A call to `model` that read `input_tokens` and wrote `output_tokens`.
    pub fn new(model: impl Into<String>, input_tokens: u64, output_tokens: u64) -> Self {
        LlmUsage {
            model: model.into(),
            input_tokens,
            output_tokens,
            spend_usd: None,
            duration: None,
        }
    }

    /// What the call cost, in USD. A value that is not finite or is negative is ignored
    /// (as if not given).
    pub fn spend_usd(mut self, usd: f64) -> Self {
        self.spend_usd = Some(usd);
        self
    }

    /// How long the call took.
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = Some(duration);
        self
    }
}

/// Records one LLM call in the current run: an `llm_result` event with its own step id,
/// counted in the run's usage, and a `tracing` event with the OpenTelemetry GenAI
/// usage fields for the other layers. Outside a run, the event has `run_id: null`.
pub fn record_llm(usage: LlmUsage) {
    let step = tracing::dispatcher::get_default(|dispatch| {
        let hooks = dispatch.downcast_ref::<Hooks>()?;
        let current = dispatch.current_span();
        let found = current
            .id()
            .map(|id| hooks.find(dispatch, id))
            .unwrap_or_default();
        let step_id = found.run.as_ref().map(|run| run.next_step());
        // A caller that gives tokens but no cost gets the configured price. A cost that is
        // not a finite amount >= 0 is ignored: one NaN would poison the run's total.
        let given = usage.spend_usd.filter(|usd| usd.is_finite() && *usd >= 0.0);
        let spend_usd = given.or_else(|| {
            let price = hooks.emitter().settings().price(&usage.model)?;
            Some(price.spend_usd(usage.input_tokens, usage.output_tokens))
        });
        let mut event = Event::new(
            EventKind::LlmResult,
            found.run.as_ref().map(|run| run.run_id()),
            clock::unix_ms_at(clock::now()),
        );
        event.step_id = step_id;
        event.model = Some(&usage.model);
        event.usage = Some(Usage::Llm(LlmTokens {
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            spend_usd,
        }));
        event.duration_ms = usage.duration.map(millis);
        event.parent_step_id = found.parent_step;
        hooks.emitter().emit(&mut event);
        // Counted after its event is written, so that a budget this call takes over
        // writes its `guard` event after the call that tripped it.
        if let Some(run) = &found.run {
            run.count_llm(
                &usage.model,
                step_id,
                usage.input_tokens,
                usage.output_tokens,
                spend_usd,
            );
        }
        crate::metrics::llm_recorded(
            &hooks.emitter().metrics,
            found.run.as_ref().map(|run| run.agent()),
            &usage.model,
            usage.input_tokens,
            usage.output_tokens,
        );
        step_id
    });
    tracing::event!(
        target: "tracing_agent::llm",
        tracing::Level::INFO,
        gen_ai.operation.name = "chat",
        gen_ai.request.model = %usage.model,
        gen_ai.usage.input_tokens = usage.input_tokens,
        gen_ai.usage.output_tokens = usage.output_tokens,
        step_id = step,
        "llm call"
    );
}
