//! What one LLM call used, as the caller reports it.

use std::time::Duration;

use crate::config::Tokens;

/// Usage of one LLM call: tokens, and its cost when the provider reports one.
///
/// `input_tokens` counts every prompt token (cached ones included) and `output_tokens`
/// every generated one (reasoning ones included), as OpenAI and Anthropic report them;
/// the cached and reasoning counts say which part of those was which.
///
/// ```
/// use tracing_agent::LlmUsage;
/// let usage = LlmUsage::new("gpt-4o-2024-08-06", 1200, 350)
///     .cached_input_tokens(1024)
///     .finish_reasons(["stop"])
///     .spend_usd(0.0042)
///     .duration(std::time::Duration::from_millis(900));
/// tracing_agent::record_llm(usage);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LlmUsage {
    pub(crate) model: String,
    pub(crate) input_tokens: u64,
    pub(crate) output_tokens: u64,
    pub(crate) cached_input_tokens: Option<u64>,
    pub(crate) reasoning_tokens: Option<u64>,
    pub(crate) spend_usd: Option<f64>,
    pub(crate) duration: Option<Duration>,
    pub(crate) provider: Option<String>,
    pub(crate) finish_reasons: Option<Vec<String>>,
}

impl LlmUsage {
    /// A call answered by `model` that read `input_tokens` and wrote `output_tokens`.
    pub fn new(model: impl Into<String>, input_tokens: u64, output_tokens: u64) -> Self {
        LlmUsage {
            model: model.into(),
            input_tokens,
            output_tokens,
            cached_input_tokens: None,
            reasoning_tokens: None,
            spend_usd: None,
            duration: None,
            provider: None,
            finish_reasons: None,
        }
    }

    /// How many of the input tokens were read from the provider's cache (billed at the
    /// price's cached rate).
    pub fn cached_input_tokens(mut self, tokens: u64) -> Self {
        self.cached_input_tokens = Some(tokens);
        self
    }

    /// How many of the output tokens were spent reasoning (billed at the price's
    /// reasoning rate).
    pub fn reasoning_tokens(mut self, tokens: u64) -> Self {
        self.reasoning_tokens = Some(tokens);
        self
    }

    /// What the call cost, in USD, as the provider reported it. Without it the configured
    /// price is used; without either the cost is unknown (`spend_usd: null`), never 0. A
    /// value that is not finite or is negative is ignored (as if not given).
    pub fn spend_usd(mut self, usd: f64) -> Self {
        self.spend_usd = Some(usd);
        self
    }

    /// How long the call took ([`LlmCall`](crate::LlmCall) times its own calls).
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = Some(duration);
        self
    }

    /// Who served the call (`openai`, `anthropic`, ...), for [`record_llm`](crate::record_llm);
    /// an [`LlmCall`](crate::LlmCall) has it from its request.
    pub fn provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = Some(provider.into());
        self
    }

    /// Why the model stopped generating (`stop`, `length`, `tool_calls`, ...), one
    /// reason per choice, as the provider reports them.
    pub fn finish_reasons<I, S>(mut self, reasons: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.finish_reasons = Some(reasons.into_iter().map(Into::into).collect());
        self
    }

    pub(crate) fn tokens(&self) -> Tokens {
        Tokens {
            input: self.input_tokens,
            cached_input: self.cached_input_tokens.unwrap_or(0),
            output: self.output_tokens,
            reasoning: self.reasoning_tokens.unwrap_or(0),
        }
    }
}
