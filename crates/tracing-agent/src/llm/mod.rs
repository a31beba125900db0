//! LLM calls: [`LlmCall`] scopes and times one, [`record_llm`] records one from its
//! numbers. Either writes an `llm_result` event with its own step, counts its tokens and
//! spend toward the run, and says when a cost is unknown rather than taking it as zero.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::clock::{self, millis};
use crate::run_state::{RunState, Spend};
use crate::schema::{Event, EventKind, LlmTokens, Status, Usage};
use crate::scope::Hooks;
use crate::settings::Settings;
use crate::sink::Emitter;

mod call;
mod usage;

pub use call::{LlmCall, LlmRequest};
pub use usage::LlmUsage;

/// Records one LLM call in the current run: an `llm_result` event with its own step id,
/// counted in the run's usage, and a `tracing` event with the OpenTelemetry GenAI
/// usage fields for the other layers. Outside a run, the event has `run_id: null`.
///
/// For a call the code makes itself, [`LlmCall`] also times it, gives it a span and
/// records its failure; `record_llm` is for callers that only have the numbers.
pub fn record_llm(usage: LlmUsage) {
    let step = tracing::dispatcher::get_default(|dispatch| {
        let hooks = dispatch.downcast_ref::<Hooks>()?;
        let current = dispatch.current_span();
        let found = current
            .id()
            .map(|id| hooks.find(dispatch, id))
            .unwrap_or_default();
        let step_id = found.run.as_ref().map(|run| run.next_step());
        let ended = Ended {
            run: found.run.as_ref(),
            step_id,
            parent_step_id: found.parent_step,
            provider: usage.provider.as_deref(),
            model: &usage.model,
            outcome: Ok(&usage),
            status: None,
            duration_ms: usage.duration.map(millis),
        };
        ended.write(hooks.emitter());
        step_id
    });
    tracing::event!(
        target: "tracing_agent::llm",
        tracing::Level::INFO,
        gen_ai.operation.name = "chat",
        gen_ai.request.model = %usage.model,
        // For text logs: `AgentFields` leaves the convention's model name out.
        model = %usage.model,
        gen_ai.usage.input_tokens = usage.input_tokens,
        gen_ai.usage.output_tokens = usage.output_tokens,
        step_id = step,
        "llm call"
    );
}

/// One LLM call that ended, ready to be written and counted.
struct Ended<'a> {
    run: Option<&'a Arc<RunState>>,
    step_id: Option<u64>,
    parent_step_id: Option<u64>,
    provider: Option<&'a str>,
    /// The model asked for.
    model: &'a str,
    /// What the call used, or the class of its failure.
    outcome: Result<&'a LlmUsage, &'a str>,
    /// `None` for `record_llm`, which is not told whether the call succeeded.
    status: Option<Status>,
    duration_ms: Option<u64>,
}

/// How a known spend was found, for `gen_ai.usage.cost.source`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CostSource {
    /// Given by the caller, as the provider reported it.
    Provider,
    /// Computed here from the configured price.
    Local,
}

impl CostSource {
    fn as_str(self) -> &'static str {
        match self {
            CostSource::Provider => "provider",
            CostSource::Local => "local",
        }
    }
}

impl Ended<'_> {
    /// Writes the `llm_result` event, then counts the call toward its run and the
    /// metrics. Returns the spend, for the call's span.
    fn write(&self, emitter: &Emitter) -> (Spend, Option<CostSource>) {
        let (spend, source) = match self.outcome {
            Ok(usage) => spend_of(emitter.settings(), usage),
            Err(_) => (Spend::None, None),
        };
        let mut event = Event::new(
            EventKind::LlmResult,
            self.run.map(|run| run.run_id()),
            clock::unix_ms_at(clock::now()),
        );
        event.step_id = self.step_id;
        event.model = Some(self.model);
        event.provider = self.provider;
        event.duration_ms = self.duration_ms;
        event.status = self.status;
        event.parent_step_id = self.parent_step_id;
        match self.outcome {
            Ok(usage) => {
                event.usage = Some(Usage::Llm(LlmTokens {
                    input_tokens: usage.input_tokens,
                    output_tokens: usage.output_tokens,
                    cached_input_tokens: usage.cached_input_tokens,
                    reasoning_tokens: usage.reasoning_tokens,
                    spend_usd: spend.usd(),
                }));
                event.response_model = Some(usage.model.as_str()).filter(|m| *m != self.model);
                event.finish_reasons = usage.finish_reasons.as_deref();
            }
            Err(class) => event.error = Some(class),
        }
        emitter.emit(&mut event);
        let tokens = self.outcome.map(LlmUsage::tokens).unwrap_or_default();
        // Counted after its event is written, so that a budget this call takes over
        // writes its `guard` event after the call that tripped it.
        if let Some(run) = self.run {
            run.count_llm(self.model, self.step_id, &tokens, spend);
        }
        crate::metrics::llm_recorded(
            &emitter.metrics,
            self.run.map(|run| run.agent()),
            self.model,
            tokens.input,
            tokens.output,
        );
        (spend, source)
    }
}

/// What is known of a call's cost: the caller's figure, else the configured price of
/// the model that answered, else unknown (said once per process, naming the model).
fn spend_of(settings: &Settings, usage: &LlmUsage) -> (Spend, Option<CostSource>) {
    // A cost that is not a finite amount >= 0 is ignored: one NaN would poison the
    // run's total.
    if let Some(usd) = usage.spend_usd.filter(|usd| usd.is_finite() && *usd >= 0.0) {
        return (Spend::Known(usd), Some(CostSource::Provider));
    }
    let tokens = usage.tokens();
    if let Some(price) = settings.price(&usage.model) {
        return (
            Spend::Known(price.spend_usd(&tokens)),
            Some(CostSource::Local),
        );
    }
    if tokens.input == 0 && tokens.output == 0 {
        return (Spend::None, None);
    }
    warn_unpriced(&usage.model);
    (Spend::Unpriced, None)
}

/// The first call of a model without a price: its cost is written as unknown, and the
/// spend of its runs as partial; nothing else would tell the operator why.
fn warn_unpriced(model: &str) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "tracing-agent: model `{}` has no price and its calls give no cost: their spend_usd \
             is null and their runs' spend is partial (unpriced_llm_calls); add the model under \
             `pricing:` in the config, or pass LlmUsage::spend_usd (said once)",
            model.escape_debug()
        );
    }
}
