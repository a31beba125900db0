//! The recording calls `AgentLayer`'s hooks make when a run stops, a tool call ends, an LLM
//! call is recorded and an event is lost. Each is one call from its hook, and a no-op for
//! what its [`Metrics`] leaves out.

use std::fmt;
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ::metrics::{
    counter, describe_counter, describe_histogram, histogram, Key, Label, Level, Metadata,
    SharedString, Unit,
};

use super::{Metrics, Tracked};
use crate::schema::{RunUsage, StopReason};

pub(crate) const TOOL_CALLS: &str = "agent_tool_calls";
pub(crate) const RUN_LATENCY_MS: &str = "agent_run_latency_ms";
pub(crate) const STOP_TOTAL: &str = "agent_stop_total";
pub(crate) const TOKENS_PER_REQUEST: &str = "agent_tokens_per_request";
pub(crate) const SPEND_PER_RUN_USD: &str = "agent_spend_per_run_usd";
pub(crate) const TOOL_DURATION_MS: &str = "agent_tool_duration_ms";
pub(crate) const TOOL_ERRORS_TOTAL: &str = "agent_tool_errors_total";
pub(crate) const EVENTS_DROPPED_TOTAL: &str = "agent_events_dropped_total";
pub(crate) const GUARD_TRIPS_TOTAL: &str = "agent_guard_trips_total";
pub(crate) const GEN_AI_EXECUTE_TOOL_DURATION: &str = "gen_ai.execute_tool.duration";
pub(crate) const GEN_AI_TOKEN_USAGE: &str = "gen_ai.client.token.usage";
pub(crate) const GEN_AI_INVOKE_AGENT_DURATION: &str = "gen_ai.invoke_agent.duration";

/// A run stopped: its tool calls, wall time, stop reason and spend, labelled by agent.
pub(crate) fn run_stopped(
    metrics: &Metrics,
    agent: &Arc<str>,
    reason: &StopReason,
    usage: &RunUsage,
    elapsed: Duration,
) {
    guarded(|| {
        if metrics.tracks(Tracked::ToolCallsPerRun) {
            histogram!(TOOL_CALLS, "agent" => Arc::clone(agent)).record(usage.tool_calls as f64);
        }
        if metrics.tracks(Tracked::LatencyP95) {
            histogram!(RUN_LATENCY_MS, "agent" => Arc::clone(agent))
                .record(elapsed.as_secs_f64() * 1000.0);
        }
        if metrics.tracks(Tracked::StopReason) {
            counter!(STOP_TOTAL, "agent" => Arc::clone(agent), "stop_reason" => reason_label(reason))
                .increment(1);
        }
        // Only a run whose whole spend is known counts, the rule `runs` and `stats` read
        // from its `stop` event: an unpriced call would make it look cheaper than it was,
        // and a run without any spend would add a zero that looks like a free run.
        if metrics.tracks(Tracked::SpendPerRun) && usage.spend_is_complete() {
            if let Some(usd) = usage.spend_usd.filter(|usd| *usd > 0.0) {
                histogram!(SPEND_PER_RUN_USD, "agent" => Arc::clone(agent)).record(usd);
            }
        }
        if metrics.records_gen_ai() {
            // The convention's "terminated with an error": every reason but `completed`.
            let seconds = elapsed.as_secs_f64();
            if *reason == StopReason::Completed {
                histogram!(GEN_AI_INVOKE_AGENT_DURATION, "gen_ai.agent.name" => Arc::clone(agent))
                    .record(seconds);
            } else {
                histogram!(
                    GEN_AI_INVOKE_AGENT_DURATION,
                    "gen_ai.agent.name" => Arc::clone(agent),
                    "error.type" => reason_label(reason)
                )
                .record(seconds);
            }
        }
    });
}

/// A tool's success-path metric keys, built on its first call and kept in the tool's
/// static [`ToolInfo`](crate::__private_v1::ToolInfo): building a labelled key allocates its
/// labels and hashes them, which cost a tool call more than recording the value did.
/// Error paths build theirs per call: their labels carry the error class.
#[derive(Default)]
pub(crate) struct ToolKeys(OnceLock<Keys>);

struct Keys {
    duration_ok: Key,
    gen_ai_duration_ok: Key,
}

impl ToolKeys {
    pub(crate) const fn new() -> Self {
        ToolKeys(OnceLock::new())
    }

    fn get(&self, tool: &'static str) -> &Keys {
        self.0.get_or_init(|| Keys {
            duration_ok: Key::from_parts(
                TOOL_DURATION_MS,
                vec![
                    Label::from_static_parts("tool", tool),
                    Label::from_static_parts("status", "ok"),
                ],
            ),
            gen_ai_duration_ok: Key::from_parts(
                GEN_AI_EXECUTE_TOOL_DURATION,
                vec![Label::from_static_parts("gen_ai.tool.name", tool)],
            ),
        })
    }
}

impl fmt::Debug for ToolKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ToolKeys")
    }
}

/// Runs one recording. A recorder is the user's code: one that panics must not unwind into
/// the agent (nor abort it, when the recording runs in a `drop` during a panic). The panic
/// is caught and said once on stderr, and recording stops for the rest of the process: a
/// broken recorder would otherwise cost every tool call an unwind and a panic message.
fn guarded(record: impl FnOnce()) {
    static BROKEN: AtomicBool = AtomicBool::new(false);
    if BROKEN.load(Ordering::Relaxed) {
        return;
    }
    if catch_unwind(AssertUnwindSafe(record)).is_err() && !BROKEN.swap(true, Ordering::Relaxed) {
        let _ = writeln!(
            io::stderr(),
            "tracing-agent: the metrics recorder panicked; no more metrics are recorded by this process (events are still written)"
        );
    }
}

/// What `histogram!` does, with a key built beforehand.
fn record_histogram(key: &Key, value: f64) {
    static METADATA: Metadata<'static> =
        Metadata::new(module_path!(), Level::INFO, Some(module_path!()));
    ::metrics::with_recorder(|recorder| recorder.register_histogram(key, &METADATA)).record(value);
}

/// A tool call ended, with `error` its class if it failed. No run or agent label: the tool's
/// own series must not multiply by every agent that calls it.
pub(crate) fn tool_ended(
    metrics: &Metrics,
    tool: &'static str,
    keys: &ToolKeys,
    error: Option<&str>,
    elapsed: Duration,
) {
    guarded(|| {
        if !metrics.is_on() {
            return;
        }
        let millis = elapsed.as_secs_f64() * 1000.0;
        match error {
            None => {
                let keys = keys.get(tool);
                record_histogram(&keys.duration_ok, millis);
                if metrics.records_gen_ai() {
                    record_histogram(&keys.gen_ai_duration_ok, elapsed.as_secs_f64());
                }
            }
            Some(class) => {
                let class = bounded_label(class);
                histogram!(TOOL_DURATION_MS, "tool" => tool, "status" => "error").record(millis);
                if metrics.records_gen_ai() {
                    histogram!(
                        GEN_AI_EXECUTE_TOOL_DURATION,
                        "gen_ai.tool.name" => tool,
                        "error.type" => class.clone()
                    )
                    .record(elapsed.as_secs_f64());
                }
                counter!(TOOL_ERRORS_TOTAL, "tool" => tool, "error" => class).increment(1);
            }
        }
    });
}

/// An LLM call was recorded; `agent` is its run's agent, if it ran inside one.
pub(crate) fn llm_recorded(
    metrics: &Metrics,
    agent: Option<&Arc<str>>,
    model: &str,
    input_tokens: u64,
    output_tokens: u64,
) {
    guarded(|| {
        if metrics.tracks(Tracked::TokensPerRequest) {
            let tokens = input_tokens.saturating_add(output_tokens) as f64;
            match agent {
                Some(agent) => {
                    histogram!(TOKENS_PER_REQUEST, "agent" => Arc::clone(agent)).record(tokens)
                }
                None => histogram!(TOKENS_PER_REQUEST).record(tokens),
            }
        }
        if metrics.records_gen_ai() {
            for (kind, tokens) in [("input", input_tokens), ("output", output_tokens)] {
                histogram!(
                    GEN_AI_TOKEN_USAGE,
                    "gen_ai.operation.name" => "chat",
                    "gen_ai.request.model" => model.to_owned(),
                    "gen_ai.token.type" => kind
                )
                .record(tokens as f64);
            }
        }
    });
}

/// A guard acted: a limit tripped (first or later trip of a run) or a policy refused a
/// call. `guard` is the limit's name (`max_tool_calls`, `kill_switch`, `deny_tools`, ...).
/// Recorded whenever metrics are on: a guard acting is never left out.
pub(crate) fn guard_tripped(metrics: &Metrics, agent: &Arc<str>, guard: &'static str) {
    if !metrics.is_on() {
        return;
    }
    guarded(|| {
        counter!(GUARD_TRIPS_TOTAL, "agent" => Arc::clone(agent), "guard" => guard).increment(1);
    });
}

/// The sink lost `count` events (its writer failed or panicked, or a lossy queue was
/// full). The caller checks that metrics are on.
pub(crate) fn events_lost(count: u64) {
    guarded(|| {
        counter!(EVENTS_DROPPED_TOTAL).increment(count);
    });
}

pub(super) fn describe() {
    describe_histogram!(
        TOOL_CALLS,
        Unit::Count,
        "Tool calls per agent run, observed when the run stops."
    );
    describe_histogram!(
        RUN_LATENCY_MS,
        Unit::Milliseconds,
        "Wall time of an agent run, from start to stop."
    );
    describe_counter!(
        STOP_TOTAL,
        Unit::Count,
        "Agent runs stopped, by stop reason."
    );
    describe_histogram!(
        TOKENS_PER_REQUEST,
        Unit::Count,
        "Input plus output tokens of one LLM call."
    );
    describe_histogram!(
        SPEND_PER_RUN_USD,
        "Spend of an agent run in USD, for runs whose every LLM call had a known cost."
    );
    describe_histogram!(
        TOOL_DURATION_MS,
        Unit::Milliseconds,
        "Wall time of a tool call, by tool and status."
    );
    describe_counter!(
        TOOL_ERRORS_TOTAL,
        Unit::Count,
        "Tool calls that failed, by tool and error class."
    );
    describe_counter!(
        EVENTS_DROPPED_TOTAL,
        Unit::Count,
        "Agent events the sink could not write."
    );
    describe_counter!(
        GUARD_TRIPS_TOTAL,
        Unit::Count,
        "Guards that acted, by agent and guard: limits that tripped, calls a policy refused."
    );
    describe_histogram!(
        GEN_AI_EXECUTE_TOOL_DURATION,
        Unit::Seconds,
        "The duration of a single tool execution."
    );
    describe_histogram!(
        GEN_AI_TOKEN_USAGE,
        Unit::Count,
        "Number of input and output tokens used."
    );
    describe_histogram!(
        GEN_AI_INVOKE_AGENT_DURATION,
        Unit::Seconds,
        "The end-to-end duration of a single agent invocation."
    );
}

fn reason_label(reason: &StopReason) -> SharedString {
    match reason {
        StopReason::Other(custom) => bounded_label(custom),
        named => SharedString::from(named.as_str().to_owned()),
    }
}

/// `value` itself if it looks like a name chosen in code, else `other`: a label value built
/// from user data would create a series per user.
fn bounded_label(value: &str) -> SharedString {
    let is_name = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'));
    if is_name {
        SharedString::from(value.to_owned())
    } else {
        SharedString::const_str("other")
    }
}

#[cfg(test)]
mod tests {
    use super::bounded_label;

    #[test]
    fn names_pass_and_anything_like_user_data_becomes_other() {
        for name in ["RateLimited", "TimedOut", "handed_off", "http.429", "a-b:c"] {
            assert_eq!(&*bounded_label(name), name);
        }
        let long = "x".repeat(65);
        for data in [
            "",
            "timeout for user@example.com",
            "ünïcode",
            "a b",
            long.as_str(),
        ] {
            assert_eq!(&*bounded_label(data), "other", "{data:?}");
        }
    }
}
