//! A run: one agent invocation, from `run_start` to exactly one `stop`.

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tracing::field::Empty;
use tracing::instrument::Instrumented;
use tracing::{Instrument, Span};

use crate::clock::{self, millis, Instant};
use crate::layer::Hooks;
use crate::schema::{Event, EventKind, Meta, Usage, SCHEMA_VERSION};
use crate::sink::Emitter;

/// What was running: the agent and the versions of its model, prompt and tools.
///
/// ```
/// use tracing_agent::RunMeta;
/// let meta = RunMeta::new("support-agent")
///     .model("gpt-4o-2024-08-06")
///     .prompt_version("v12")
///     .tools_version("2024-10-01")
///     .run_id("req-7f3a"); // optional: your own request id instead of a UUID v7
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunMeta {
    agent: String,
    model: Option<String>,
    prompt_version: Option<String>,
    tools_version: Option<String>,
    run_id: Option<String>,
}

impl RunMeta {
    /// Metadata for a run of the agent named `agent`.
    pub fn new(agent: impl Into<String>) -> Self {
        RunMeta {
            agent: agent.into(),
            ..RunMeta::default()
        }
    }

    /// The model the run uses, e.g. `gpt-4o-2024-08-06`.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// The version of the prompt.
    pub fn prompt_version(mut self, version: impl Into<String>) -> Self {
        self.prompt_version = Some(version.into());
        self
    }

    /// The version of the tool set.
    pub fn tools_version(mut self, version: impl Into<String>) -> Self {
        self.tools_version = Some(version.into());
        self
    }

    /// Use this id (a request id, say) instead of a generated time-ordered UUID v7.
    pub fn run_id(mut self, run_id: impl Into<String>) -> Self {
        self.run_id = Some(run_id.into());
        self
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
    /// LLM calls recorded with [`record_llm`](crate::record_llm).
    pub llm_calls: u64,
    /// Input tokens over all LLM calls.
    pub input_tokens: u64,
    /// Output tokens over all LLM calls.
    pub output_tokens: u64,
    /// Spend in USD over all LLM calls that gave one.
    pub spend_usd: f64,
}

/// The end of a run, returned to the caller (and on to the UI) by [`Run::stop`].
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

/// Per-run state, shared by the [`Run`] handle and the run span's extensions, so that
/// tools find their run through the span they run in. Bounded: counters only.
pub(crate) struct RunState {
    pub(crate) run_id: String,
    started: Instant,
    next_step: AtomicU64,
    tool_calls: AtomicU64,
    tool_errors: AtomicU64,
    llm_calls: AtomicU64,
    input_tokens: AtomicU64,
    output_tokens: AtomicU64,
    spend_usd_bits: AtomicU64,
    stopped: AtomicBool,
    pub(crate) emitter: Option<Arc<Emitter>>,
    pub(crate) agent: Arc<str>,
}

impl RunState {
    /// The next step id: 1-based, unique within the run even across threads.
    pub(crate) fn next_step(&self) -> u64 {
        self.next_step.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn count_tool(&self, failed: bool) {
        self.tool_calls.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.tool_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn count_llm(&self, input_tokens: u64, output_tokens: u64, spend: Option<f64>) {
        self.llm_calls.fetch_add(1, Ordering::Relaxed);
        self.input_tokens.fetch_add(input_tokens, Ordering::Relaxed);
        self.output_tokens
            .fetch_add(output_tokens, Ordering::Relaxed);
        if let Some(spend) = spend {
            // An f64 sum kept as bits: no lock on the hot path.
            let _ =
                self.spend_usd_bits
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                        Some((f64::from_bits(bits) + spend).to_bits())
                    });
        }
    }

    fn usage(&self) -> RunUsage {
        RunUsage {
            steps: self.next_step.load(Ordering::Relaxed),
            tool_calls: self.tool_calls.load(Ordering::Relaxed),
            tool_errors: self.tool_errors.load(Ordering::Relaxed),
            llm_calls: self.llm_calls.load(Ordering::Relaxed),
            input_tokens: self.input_tokens.load(Ordering::Relaxed),
            output_tokens: self.output_tokens.load(Ordering::Relaxed),
            spend_usd: f64::from_bits(self.spend_usd_bits.load(Ordering::Relaxed)),
        }
    }
}

/// One agent run. Start it, run the agent inside it, stop it.
///
/// Tools called inside [`in_scope`](Run::in_scope) or [`instrument`](Run::instrument)
/// (or any span under the run's span, e.g. a task spawned with `.in_current_span()`)
/// belong to the run. A run dropped without [`stop`](Run::stop) still writes its stop
/// event: `panic` when its thread is unwinding, `dropped` otherwise.
///
/// ```
/// use tracing_agent::{Run, RunMeta, StopReason};
/// let run = Run::start(RunMeta::new("support-agent").model("gpt-4o-2024-08-06"));
/// let answer = run.in_scope(|| 40 + 2);
/// let stopped = run.stop(StopReason::Completed);
/// assert_eq!(stopped.stop_reason, StopReason::Completed);
/// # let _ = answer;
/// ```
pub struct Run {
    span: Span,
    state: Arc<RunState>,
}

impl Run {
    /// Starts a run: opens its `invoke_agent` span and writes its `run_start` event.
    /// A run started inside another run is its own run, with `parent_run_id` in its meta.
    pub fn start(meta: RunMeta) -> Run {
        let run_id = meta
            .run_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let span = tracing::info_span!(
            target: "tracing_agent::run",
            "invoke_agent",
            run_id = %run_id,
            gen_ai.agent.name = %meta.agent,
            gen_ai.operation.name = "invoke_agent",
            gen_ai.request.model = meta.model.as_deref(),
            prompt_version = meta.prompt_version.as_deref(),
            tools_version = meta.tools_version.as_deref(),
            stop_reason = Empty,
            gen_ai.usage.input_tokens = Empty,
            gen_ai.usage.output_tokens = Empty,
        );
        // Found through the span's own dispatcher: the `AgentLayer` that will write this
        // run's events, and the run this one is nested in, if any.
        let hooked = span
            .with_subscriber(|(id, dispatch)| {
                let hooks = dispatch.downcast_ref::<Hooks>()?;
                Some((Arc::clone(&hooks.emitter), hooks.find(dispatch, id).run))
            })
            .flatten();
        let (emitter, parent_run) = match hooked {
            Some((emitter, parent_run)) => (Some(emitter), parent_run),
            // No `AgentLayer` installed (or the span is filtered out): the run still
            // counts what reaches it, but writes nothing.
            None => {
                if span.is_disabled() {
                    warn_if_filtered_out();
                }
                (None, None)
            }
        };
        let state = Arc::new(RunState {
            run_id,
            started: clock::now(),
            next_step: AtomicU64::new(0),
            tool_calls: AtomicU64::new(0),
            tool_errors: AtomicU64::new(0),
            llm_calls: AtomicU64::new(0),
            input_tokens: AtomicU64::new(0),
            output_tokens: AtomicU64::new(0),
            spend_usd_bits: AtomicU64::new(0f64.to_bits()),
            stopped: AtomicBool::new(false),
            emitter,
            agent: Arc::from(meta.agent.as_str()),
        });
        if let Some(emitter) = &state.emitter {
            span.with_subscriber(|(id, dispatch)| {
                if let Some(hooks) = dispatch.downcast_ref::<Hooks>() {
                    hooks.attach_run(dispatch, id, Arc::clone(&state));
                }
            });
            let mut event = Event::new(
                EventKind::RunStart,
                Some(&state.run_id),
                clock::unix_ms_at(state.started),
            );
            event.meta = Some(Meta {
                agent: &meta.agent,
                model: meta.model.as_deref(),
                prompt_version: meta.prompt_version.as_deref(),
                tools_version: meta.tools_version.as_deref(),
                parent_run_id: parent_run.as_ref().map(|p| p.run_id.as_str()),
                schema_version: SCHEMA_VERSION,
            });
            emitter.emit(&mut event);
        }
        Run { span, state }
    }

    /// The run's id (`meta.run_id`, or a generated UUID v7).
    pub fn run_id(&self) -> &str {
        &self.state.run_id
    }

    /// The run's `invoke_agent` span, e.g. to make it the parent of a spawned task's span.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Runs `f` inside the run.
    pub fn in_scope<T>(&self, f: impl FnOnce() -> T) -> T {
        self.span.in_scope(f)
    }

    /// Runs `future` inside the run, across every `.await`.
    pub fn instrument<F: Future>(&self, future: F) -> Instrumented<F> {
        future.instrument(self.span.clone())
    }

    /// Ends the run: writes its one `stop` event and returns what to tell the caller.
    pub fn stop(self, reason: StopReason) -> Stopped {
        self.finish(reason)
    }

    fn finish(&self, reason: StopReason) -> Stopped {
        let usage = self.state.usage();
        if !self.state.stopped.swap(true, Ordering::AcqRel) {
            self.span.record("stop_reason", reason.as_str());
            self.span
                .record("gen_ai.usage.input_tokens", usage.input_tokens);
            self.span
                .record("gen_ai.usage.output_tokens", usage.output_tokens);
            if let Some(emitter) = &self.state.emitter {
                let ended = clock::now();
                let elapsed = ended.saturating_duration_since(self.state.started);
                let mut event = Event::new(
                    EventKind::Stop,
                    Some(&self.state.run_id),
                    clock::unix_ms_at(ended),
                );
                event.stop_reason = Some(&reason);
                event.duration_ms = Some(millis(elapsed));
                event.usage = Some(Usage::Run(&usage));
                emitter.emit(&mut event);
                crate::metrics::run_stopped(
                    &emitter.metrics,
                    &self.state.agent,
                    &reason,
                    &usage,
                    elapsed,
                );
            }
        }
        Stopped {
            run_id: self.state.run_id.clone(),
            stop_reason: reason,
            usage,
        }
    }
}

/// An `AgentLayer` is installed but a filter disabled the run's span, so the layer will
/// see nothing: say so once, since nothing else would.
fn warn_if_filtered_out() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    let installed = tracing::dispatcher::get_default(|d| d.downcast_ref::<Hooks>().is_some());
    if installed && !WARNED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "tracing-agent: a filter disabled the run's span (target tracing_agent::run, level INFO), \
             so AgentLayer writes nothing for it; let `tracing_agent::run=info,tracing_agent::tool=info` \
             through the global filter"
        );
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if !self.state.stopped.load(Ordering::Acquire) {
            let reason = if std::thread::panicking() {
                StopReason::Panic
            } else {
                StopReason::Dropped
            };
            self.finish(reason);
        }
    }
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("run_id", &self.state.run_id)
            .finish_non_exhaustive()
    }
}
