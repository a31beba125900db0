//! The one event schema: tool results, LLM calls, run starts and stops share it, so
//! they join on `run_id`/`step_id` with a single query.
//!
//! The layer writes borrowed events; [`EventRecord`] is the same schema owned, for
//! reading logs back (see [`read`](crate::read)). A test in `read` writes an event with
//! every field set and destructures what it reads back, so the two cannot drift apart.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Unexpected};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::hash::Sha24;

/// Version of the event schema, written into every `run_start` event's `meta`.
pub const SCHEMA_VERSION: u32 = 1;

/// What an event records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// First event of a run: the versions of agent, model, prompt and tools.
    RunStart,
    /// One tool call, written when it ends.
    ToolResult,
    /// One LLM call, written by [`record_llm`](crate::record_llm).
    LlmResult,
    /// Last event of a run: why it stopped and what it used.
    Stop,
    /// A guard tripped: the limit, its value, and the tool call that hit it.
    Guard,
    /// A budget passed 80% of its limit (once per budget and run).
    BudgetWarning,
}

/// Outcome of a tool call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The tool returned (an `Ok`, or any non-`Result` value).
    Ok,
    /// The tool returned an `Err`, panicked, or was cancelled.
    Error,
}

/// Token usage of one LLM call, as written in an `llm_result` event.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub(crate) struct LlmTokens {
    pub input_tokens: u64,
    pub output_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_input_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    /// `null` when the call gave no cost and its model has no price: unknown, never 0.
    pub spend_usd: Option<f64>,
}

#[derive(Clone, Copy, Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Usage<'a> {
    Llm(LlmTokens),
    Run(&'a RunUsage),
}

/// The `meta` object of a `run_start` event.
#[derive(Debug, Serialize)]
pub(crate) struct Meta<'a> {
    pub agent: &'a str,
    pub model: Option<&'a str>,
    pub prompt_version: Option<&'a str>,
    pub tools_version: Option<&'a str>,
    pub parent_run_id: Option<&'a str>,
    pub schema_version: u32,
}

/// A limit's value, or how much of it was used: a count (steps, calls, tokens,
/// milliseconds) or an amount in USD.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Amount {
    /// A whole number.
    Count(u64),
    /// US dollars.
    Usd(f64),
}

/// One line of output. The first eleven keys are always present, in this order, `null`
/// where they do not apply; extension keys follow only where they apply.
#[derive(Debug, Serialize)]
pub(crate) struct Event<'a> {
    pub run_id: Option<&'a str>,
    pub kind: EventKind,
    pub ts_ms: u64,
    pub step_id: Option<u64>,
    pub tool: Option<&'a str>,
    pub args_sha: Option<&'a Sha24>,
    pub duration_ms: Option<u64>,
    pub status: Option<Status>,
    pub error: Option<&'a str>,
    #[serde(serialize_with = "stop_reason_or_null")]
    pub stop_reason: Option<&'a StopReason>,
    pub usage: Option<Usage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_step_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_sha: Option<&'a Sha24>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_error: Option<&'a str>,
    /// On `guard` and `budget_warning` events: the limit's name (`max_tool_calls`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'a str>,
    /// On a `tool_result` made by `Run::retry`: which attempt, from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// On a `tool_result`: the id the model gave the call (`gen_ai.tool.call.id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<&'a str>,
    /// On an `llm_result`: who served the call (`gen_ai.provider.name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<&'a str>,
    /// On an `llm_result`: the model that answered, where it differs from the one asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_model: Option<&'a str>,
    /// On an `llm_result`: why the model stopped generating, one reason per choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reasons: Option<&'a [String]>,
}

fn stop_reason_or_null<S: Serializer>(
    reason: &Option<&StopReason>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match reason {
        Some(reason) => serializer.serialize_str(reason.as_str()),
        None => serializer.serialize_none(),
    }
}

impl<'a> Event<'a> {
    /// An event of `kind` at `ts_ms` with every optional key `null`.
    pub fn new(kind: EventKind, run_id: Option<&'a str>, ts_ms: u64) -> Self {
        Event {
            run_id,
            kind,
            ts_ms,
            step_id: None,
            tool: None,
            args_sha: None,
            duration_ms: None,
            status: None,
            error: None,
            stop_reason: None,
            usage: None,
            parent_step_id: None,
            result_sha: None,
            tool_version: None,
            model: None,
            meta: None,
            args: None,
            hash_error: None,
            guard: None,
            limit: None,
            used: None,
            detail: None,
            attempt: None,
            tool_call_id: None,
            provider: None,
            response_model: None,
            finish_reasons: None,
        }
    }
}

/// Why a run stopped. Serialized in `snake_case`; [`Other`](StopReason::Other) as its
/// bare string.
///
/// ```
/// use tracing_agent::StopReason;
/// assert_eq!(StopReason::LoopDetected.as_str(), "loop_detected");
/// assert_eq!("tool_timeout".parse::<StopReason>().unwrap(), StopReason::ToolTimeout);
/// assert_eq!(StopReason::Other("handed_off".into()).to_string(), "handed_off");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StopReason {
    /// The agent finished its task.
    Completed,
    /// The step budget ran out.
    MaxSteps,
    /// The tool-call budget ran out.
    MaxToolCalls,
    /// The token budget ran out.
    TokenBudget,
    /// The spend budget ran out.
    SpendBudget,
    /// The wall-time budget ran out.
    TimeBudget,
    /// The same tool was called with the same arguments again and again.
    LoopDetected,
    /// A tool timed out.
    ToolTimeout,
    /// A tool failed and the agent gave up.
    ToolError,
    /// A policy denied an action.
    Denied,
    /// A kill switch ended the run.
    Killed,
    /// The caller cancelled the run.
    Cancelled,
    /// The agent itself failed.
    Error,
    /// The run's thread panicked before `stop` (written by the drop guard).
    Panic,
    /// The run was dropped without `stop` (written by the drop guard).
    Dropped,
    /// A reason of the caller's own.
    Other(String),
}

const NAMED_REASONS: [(StopReason, &str); 15] = [
    (StopReason::Completed, "completed"),
    (StopReason::MaxSteps, "max_steps"),
    (StopReason::MaxToolCalls, "max_tool_calls"),
    (StopReason::TokenBudget, "token_budget"),
    (StopReason::SpendBudget, "spend_budget"),
    (StopReason::TimeBudget, "time_budget"),
    (StopReason::LoopDetected, "loop_detected"),
    (StopReason::ToolTimeout, "tool_timeout"),
    (StopReason::ToolError, "tool_error"),
    (StopReason::Denied, "denied"),
    (StopReason::Killed, "killed"),
    (StopReason::Cancelled, "cancelled"),
    (StopReason::Error, "error"),
    (StopReason::Panic, "panic"),
    (StopReason::Dropped, "dropped"),
];

impl StopReason {
    /// The serialized name.
    pub fn as_str(&self) -> &str {
        match self {
            StopReason::Other(reason) => reason,
            named => NAMED_REASONS
                .iter()
                .find(|(reason, _)| reason == named)
                .map_or("", |(_, name)| name),
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StopReason {
    type Err = std::convert::Infallible;

    /// Never fails: a name that is not one of the named reasons is [`StopReason::Other`].
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Ok(NAMED_REASONS
            .iter()
            .find(|(_, known)| *known == name)
            .map_or_else(|| StopReason::Other(name.to_owned()), |(r, _)| r.clone()))
    }
}

impl Serialize for StopReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for StopReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(name.parse().unwrap_or_else(|never| match never {}))
    }
}

/// What a run used, as written in its `stop` event and returned in [`Stopped`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunUsage {
    /// Steps: tool calls plus LLM calls.
    pub steps: u64,
    /// Tool calls that ended (ok or not).
    pub tool_calls: u64,
    /// Tool calls that ended in an error, a panic or a cancellation.
    pub tool_errors: u64,
    /// LLM calls: [`LlmCall`](crate::LlmCall)s and [`record_llm`](crate::record_llm)s.
    pub llm_calls: u64,
    /// Input tokens over all LLM calls, cached ones included.
    pub input_tokens: u64,
    /// Output tokens over all LLM calls, reasoning ones included.
    pub output_tokens: u64,
    /// Input tokens read from the provider's cache.
    #[serde(default)]
    pub cached_input_tokens: u64,
    /// Output tokens spent reasoning.
    #[serde(default)]
    pub reasoning_tokens: u64,
    /// Spend in USD over the LLM calls whose cost is known; `None` when there were LLM
    /// calls and not one had a known cost. With [`unpriced_llm_calls`] above zero the
    /// amount is partial: a lower bound.
    ///
    /// [`unpriced_llm_calls`]: RunUsage::unpriced_llm_calls
    pub spend_usd: Option<f64>,
    /// LLM calls that used tokens but gave no cost, for a model without a price.
    #[serde(default)]
    pub unpriced_llm_calls: u64,
}

impl RunUsage {
    /// Whether the whole run's spend is known: every LLM call had a cost or a price.
    pub fn spend_is_complete(&self) -> bool {
        self.unpriced_llm_calls == 0
    }
}

/// The end of a run, returned to the caller (and on to the UI) by
/// [`Run::stop`](crate::Run::stop).
///
/// Serializes to `{"status":"stopped","run_id":..,"stop_reason":..,"usage":{..}}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Stopped {
    /// The run's id.
    pub run_id: String,
    /// Why it stopped.
    pub stop_reason: StopReason,
    /// What it used.
    pub usage: RunUsage,
}

impl Serialize for Stopped {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Stopped", 4)?;
        s.serialize_field("status", "stopped")?;
        s.serialize_field("run_id", &self.run_id)?;
        s.serialize_field("stop_reason", &self.stop_reason)?;
        s.serialize_field("usage", &self.usage)?;
        s.end()
    }
}

/// One event as read back from a log: the owned twin of what the layer writes, with the
/// same keys in the same order.
///
/// Tolerant where the schema is: a key that may be `null` may also be absent, and keys
/// it does not know are ignored, so logs of newer writers stay readable. Strict about
/// types: a line whose `step_id` is a string is not an event to trust. Serializing a
/// record writes the keys the layer writes, in its order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventRecord {
    /// The run the event belongs to; `None` for a tool call outside any run.
    pub run_id: Option<String>,
    /// What the event records.
    pub kind: EventKind,
    /// When it was written, in Unix milliseconds.
    pub ts_ms: u64,
    /// The step within the run: tool and LLM calls.
    pub step_id: Option<u64>,
    /// The tool's name.
    pub tool: Option<String>,
    /// The hash of the tool's arguments.
    pub args_sha: Option<String>,
    /// How long the call (or, in a `stop`, the run) took.
    pub duration_ms: Option<u64>,
    /// Whether the tool call succeeded.
    pub status: Option<Status>,
    /// The error class of a failed tool call.
    pub error: Option<String>,
    /// Why the run stopped (`stop` events).
    pub stop_reason: Option<StopReason>,
    /// Tokens and spend of an LLM call, or everything a run used (`stop` events).
    pub usage: Option<RecordUsage>,
    /// The step of the tool call this one was made inside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_step_id: Option<u64>,
    /// The hash of the tool's return value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_sha: Option<String>,
    /// The tool's version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_version: Option<String>,
    /// The model of an LLM call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The versions a run started with (`run_start` events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<RecordMeta>,
    /// The redacted arguments, written only with `store_args`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<RecordArgs>,
    /// Why the arguments could not be hashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_error: Option<String>,
    /// The limit a `guard` or `budget_warning` event is about (`max_tool_calls`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<String>,
    /// That limit's value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<Amount>,
    /// How much of it was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used: Option<Amount>,
    /// What tripped the guard, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Which attempt of a retried tool call, from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// The id the model gave a tool call (`gen_ai.tool.call.id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Who served an LLM call (`gen_ai.provider.name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The model that answered an LLM call, where it differs from the one asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_model: Option<String>,
    /// Why the model stopped generating, one reason per choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reasons: Option<Vec<String>>,
}

/// The `usage` of an `llm_result` (tokens and spend) or of a `stop` (all of these).
///
/// One type for both shapes, so a wrong type in either is caught while parsing and the
/// error names the field. Serialized as the layer writes it: the run's counts only when
/// there are any, the tokens and spend always.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordUsage {
    /// Steps of the run: tool calls plus LLM calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<u64>,
    /// Tool calls of the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<u64>,
    /// Failed tool calls of the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_errors: Option<u64>,
    /// LLM calls of the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm_calls: Option<u64>,
    /// Input tokens.
    pub input_tokens: Option<u64>,
    /// Output tokens.
    pub output_tokens: Option<u64>,
    /// Cached input tokens (part of `input_tokens`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_input_tokens: Option<u64>,
    /// Reasoning tokens (part of `output_tokens`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    /// Spend in USD; `None` when the call had no price (unknown, not free).
    pub spend_usd: Option<f64>,
    /// In a `stop`: the run's LLM calls whose cost is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unpriced_llm_calls: Option<u64>,
}

/// The `meta` of a `run_start`: the versions the run started with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordMeta {
    /// The agent's name.
    pub agent: Option<String>,
    /// The model the run was started with.
    pub model: Option<String>,
    /// The prompt's version.
    pub prompt_version: Option<String>,
    /// The tools' version.
    pub tools_version: Option<String>,
    /// The run that started this one, for a sub-agent.
    pub parent_run_id: Option<String>,
    /// The [`SCHEMA_VERSION`] of the writer.
    pub schema_version: Option<u64>,
}

/// The stored `args` of a tool call: a JSON object, kept as the text it was written as.
///
/// Text rather than a parsed value because the writer puts no bound on how deep
/// arguments nest, while a parser into [`Value`] stops at 128 levels to protect its
/// stack; the text is checked to be JSON without recursing, costs one allocation, and
/// is re-emitted verbatim.
#[derive(Clone, Debug, Serialize)]
#[serde(transparent)]
pub struct RecordArgs(Box<RawValue>);

impl RecordArgs {
    /// The JSON text of the object, exactly as written.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The object parsed, for arguments that nest at most 128 levels deep.
    pub fn to_value(&self) -> serde_json::Result<Value> {
        serde_json::from_str(self.0.get())
    }
}

impl PartialEq for RecordArgs {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl<'de> Deserialize<'de> for RecordArgs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        if raw.get().starts_with('{') {
            return Ok(RecordArgs(raw));
        }
        // The error an object-typed field gives, so the reason a line is skipped reads
        // like that of any other field. Only an array can be deep, and it needs no parse.
        let value = match raw.get().as_bytes().first() {
            Some(b'[') => None,
            _ => serde_json::from_str::<Value>(raw.get()).ok(),
        };
        let unexpected = match &value {
            None => Unexpected::Seq,
            Some(Value::Null) => Unexpected::Unit,
            Some(Value::Bool(b)) => Unexpected::Bool(*b),
            Some(Value::Number(n)) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(n), ..) => Unexpected::Unsigned(n),
                (_, Some(n), _) => Unexpected::Signed(n),
                (.., n) => Unexpected::Float(n.unwrap_or(f64::NAN)),
            },
            Some(Value::String(s)) => Unexpected::Str(s),
            Some(Value::Array(_)) => Unexpected::Seq,
            Some(Value::Object(_)) => Unexpected::Map,
        };
        Err(de::Error::invalid_type(unexpected, &"a map"))
    }
}
