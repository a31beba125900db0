//! The one event schema: tool results, LLM calls, run starts and stops share it, so
//! they join on `run_id`/`step_id` with a single query.

use serde::{Serialize, Serializer};

use crate::hash::Sha24;
use crate::run::{RunUsage, StopReason};

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
        }
    }
}
