//! A run: one agent invocation, from `run_start` to exactly one `stop`.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tracing::field::Empty;
use tracing::instrument::Instrumented;
use tracing::{Instrument, Span};

use crate::clock;
use crate::guard::{Limits, Remaining};
use crate::output::Unflushed;
use crate::replay::{Recording, Session};
use crate::run_state::{self, RunState};
use crate::schema::{Meta, RunUsage, StopReason, Stopped, SCHEMA_VERSION};
use crate::scope::Hooks;

mod current;
mod guarded;
mod retry;

pub use current::{current, Current};
pub use guarded::Guarded;
pub use retry::Retry;

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
    limits: Limits,
    replay: Option<Recording>,
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

    /// The run's budgets and policies (see [`Limits`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Replays `recording`: each tool call is answered with the recorded outcome of the
    /// matching recorded call and its body does not run; a call the recording cannot
    /// answer is refused, unless [`Recording::allow_live`] names its tool. The report is
    /// in [`Stopped::replay`]. See [`crate::replay`].
    pub fn replay(mut self, recording: Recording) -> Self {
        self.replay = Some(recording);
        self
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
            // Through `OneLine`: a newline in either cannot forge a line of `fmt`'s text
            // output, and an ordinary id still reads `run_id=req-7f3a`, as people grep.
            run_id = %OneLine(&run_id),
            gen_ai.agent.name = %OneLine(&meta.agent),
            gen_ai.operation.name = "invoke_agent",
            gen_ai.request.model = meta.model.as_deref(),
            prompt_version = meta.prompt_version.as_deref(),
            tools_version = meta.tools_version.as_deref(),
            stop_reason = Empty,
            gen_ai.usage.input_tokens = Empty,
            gen_ai.usage.output_tokens = Empty,
            // OpenTelemetry's span name (the kind is `tracing-opentelemetry`'s default,
            // internal, as the convention asks), and what a run that did not complete
            // records: `error.type`, error status.
            otel.name = %format_args!("invoke_agent {}", OneLine(&meta.agent)),
            error.type = Empty,
            otel.status_code = Empty,
            // A draft of the GenAI convention (README, OpenTelemetry): why the agent
            // loop ended.
            gen_ai.agent.finish_reason = Empty,
        );
        // Found through the span's own dispatcher: the `AgentLayer` that will write this
        // run's events, and the run this one is nested in, if any.
        let hooked = span
            .with_subscriber(|(id, dispatch)| {
                let hooks = dispatch.downcast_ref::<Hooks>()?;
                let configured = hooks.emitter().settings().limits_for(&meta.agent).cloned();
                Some((
                    Arc::clone(hooks.emitter()),
                    hooks.find(dispatch, id).run,
                    configured,
                ))
            })
            .flatten();
        // The run's versions, once, for text logs: `AgentFields` leaves them off the
        // span's part of every later line.
        tracing::info!(
            target: "tracing_agent::run",
            parent: &span,
            // Not the span's own names, which `AgentFields` leaves out.
            agent = %OneLine(&meta.agent),
            model = meta.model.as_deref(),
            prompt = meta.prompt_version.as_deref(),
            tools = meta.tools_version.as_deref(),
            "run started"
        );
        let (emitter, parent_run, configured) = match hooked {
            Some((emitter, parent_run, configured)) => (Some(emitter), parent_run, configured),
            // No `AgentLayer` installed (or the span is filtered out): the run still
            // counts what reaches it and keeps its limits, but writes nothing.
            None => {
                if span.is_disabled() {
                    warn_if_filtered_out();
                }
                if !meta.limits.is_empty() {
                    warn_tools_unguarded(&meta.agent);
                }
                (None, None, None)
            }
        };
        let limits = match &configured {
            Some(base) => meta.limits.clone().or(base),
            None => meta.limits.clone(),
        };
        let mut state = RunState::new(run_id, &meta.agent, clock::now(), emitter, limits);
        if let Some(recording) = meta.replay.clone() {
            state = state.replaying(Session::new(recording));
        }
        let state = Arc::new(state);
        run_state::register_open(&state);
        static ON_SIGNAL: std::sync::Once = std::sync::Once::new();
        ON_SIGNAL.call_once(|| crate::output::before_signal_flush(cancel_open_runs));
        if state.emitter().is_some() {
            span.with_subscriber(|(id, dispatch)| {
                if let Some(hooks) = dispatch.downcast_ref::<Hooks>() {
                    hooks.attach_run(dispatch, id, Arc::clone(&state));
                }
            });
            state.write_start(Meta {
                agent: &meta.agent,
                model: meta.model.as_deref(),
                prompt_version: meta.prompt_version.as_deref(),
                tools_version: meta.tools_version.as_deref(),
                parent_run_id: parent_run.as_ref().map(|p| p.run_id()),
                schema_version: SCHEMA_VERSION,
            });
        }
        Run { span, state }
    }

    /// The run's id (`meta.run_id`, or a generated UUID v7).
    pub fn run_id(&self) -> &str {
        self.state.run_id()
    }

    /// The run's `invoke_agent` span, e.g. to make it the parent of a spawned task's span.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Runs `f` inside the run.
    pub fn in_scope<T>(&self, f: impl FnOnce() -> T) -> T {
        self.span.in_scope(f)
    }

    /// Runs `future` inside the run, across every `.await`: the async twin of
    /// [`in_scope`](Run::in_scope).
    ///
    /// [`instrument`](Run::instrument) does the same, but where `tracing::Instrument` is
    /// imported its by-value `instrument(span)` shadows ours; `scope` has no such twin.
    ///
    /// ```
    /// use tracing::Instrument as _; // imported, as it usually is
    /// use tracing_agent::{Run, RunMeta, StopReason};
    /// let run = Run::start(RunMeta::new("support-agent"));
    /// let answer = run.scope(async { 40 + 2 });
    /// # let answer = std::pin::pin!(answer)
    /// #     .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    /// # use std::future::Future as _;
    /// # assert_eq!(answer, std::task::Poll::Ready(42));
    /// run.stop(StopReason::Completed);
    /// ```
    pub fn scope<F: Future>(&self, future: F) -> Instrumented<F> {
        future.instrument(self.span.clone())
    }

    /// Runs `future` inside the run, across every `.await`. With `tracing::Instrument`
    /// in scope, call [`scope`](Run::scope) instead (or write `Run::instrument(&run, fut)`).
    pub fn instrument<F: Future>(&self, future: F) -> Instrumented<F> {
        future.instrument(self.span.clone())
    }

    /// `Ok` while no guard has tripped; `Err` with the reason once one has (a budget
    /// spent, a loop, the kill switch, the deadline passed). Call it before each LLM call
    /// and at each turn of the agent's loop: it also trips the run when the deadline has
    /// passed, the kill switch names it, or no step is left for another call.
    ///
    /// ```
    /// use tracing_agent::{Limits, Run, RunMeta, StopReason};
    /// let run = Run::start(RunMeta::new("agent").limits(Limits::new().max_steps(0)));
    /// assert_eq!(run.check(), Err(StopReason::MaxSteps));
    /// assert_eq!(run.stop(StopReason::Completed).stop_reason, StopReason::MaxSteps);
    /// ```
    pub fn check(&self) -> Result<(), StopReason> {
        self.state.check()
    }

    /// Runs `future` inside the run (as [`instrument`](Run::instrument) does) and ends it
    /// early when a guard trips: at the time budget's deadline, on a kill, or when any
    /// check fails; the future is then dropped (cancelling what it awaited) and the
    /// reason returned. Works on any executor: the deadline is a timer thread's, not a
    /// runtime's.
    pub fn guard<F: Future>(&self, future: F) -> Guarded<F> {
        Guarded::new(self.span.clone(), Arc::clone(&self.state), future)
    }

    /// What the run has used so far (the same counts its `stop` event will carry).
    pub fn usage(&self) -> RunUsage {
        self.state.usage()
    }

    /// What is left of each budget, for an agent that wants to wrap up in time.
    pub fn remaining(&self) -> Remaining {
        self.state.remaining()
    }

    /// Ends the run: writes its one `stop` event and returns what was recorded. When the
    /// run had already ended (a guard stopped it from inside a tool call), nothing more
    /// is written and the recorded reason, not `reason`, is returned.
    pub fn stop(self, reason: StopReason) -> Stopped {
        self.finish(reason)
    }

    fn finish(&self, reason: StopReason) -> Stopped {
        let stopped = self.state.stop(reason);
        let span = &self.span;
        span.record("stop_reason", stopped.stop_reason.as_str());
        span.record(
            "gen_ai.usage.input_tokens",
            crate::scope::otel_int(stopped.usage.input_tokens),
        );
        span.record(
            "gen_ai.usage.output_tokens",
            crate::scope::otel_int(stopped.usage.output_tokens),
        );
        if stopped.stop_reason != StopReason::Completed {
            // The GenAI convention: a run that ends with anything but `completed` failed.
            span.record("error.type", stopped.stop_reason.as_str());
            span.record("otel.status_code", "error");
        }
        span.record(
            "gen_ai.agent.finish_reason",
            draft_finish_reason(&stopped.stop_reason),
        );
        stopped
    }
}

/// The draft `gen_ai.agent.finish_reason` (semantic-conventions-genai PR #238, values
/// from issue #171 and PR #267) for a stop reason: the README's table. A reason with no
/// counterpart among the draft's values is written as our own, as the draft allows.
pub(crate) fn draft_finish_reason(reason: &StopReason) -> &str {
    match reason {
        StopReason::Completed => "completed",
        StopReason::MaxSteps | StopReason::MaxToolCalls => "max_iterations",
        StopReason::TokenBudget => "max_tokens",
        StopReason::TimeBudget => "time_budget",
        StopReason::SpendBudget => "spend_budget",
        StopReason::LoopDetected | StopReason::Denied | StopReason::Killed => "guardrail",
        StopReason::ToolTimeout | StopReason::ToolError => "tool_failure",
        StopReason::Cancelled => "cancelled",
        StopReason::Error | StopReason::Panic | StopReason::Dropped => "error",
        StopReason::Other(reason) => reason,
    }
}

/// Ends every run still open in the process with `dropped`, writing its `stop`, then
/// waits for every queued event to be written, at most `timeout`. Call it before
/// `std::process::exit` (which runs no destructor, so neither `Run`'s nor the
/// `FlushGuard`'s), or at the end of `main` when a run may still be open: one kept in a
/// `static`, leaked, or held by a task that never finished.
///
/// ```no_run
/// tracing_agent::shutdown(std::time::Duration::from_secs(5)).ok();
/// std::process::exit(2);
/// ```
pub fn shutdown(timeout: std::time::Duration) -> Result<(), Unflushed> {
    run_state::stop_open_runs(&StopReason::Dropped);
    crate::output::flush(timeout)
}

/// What `flush_on_signals` does first: the process is ending at the operator's request,
/// so the runs still open are written as `cancelled`.
fn cancel_open_runs() {
    run_state::stop_open_runs(&StopReason::Cancelled);
}

/// Shows a value as it is, but with control characters and line separators escaped
/// (`\n`, `\u{2028}`), so that text formatters print it on the line it belongs to.
struct OneLine<'a>(&'a str);

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let breaks_lines = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
        if !self.0.contains(breaks_lines) {
            return f.write_str(self.0);
        }
        for c in self.0.chars() {
            if breaks_lines(c) {
                write!(f, "{}", c.escape_default())?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
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

/// A run with limits that no `AgentLayer` sees: its tool calls cannot find it, so they
/// cannot be refused. Said once, since the guards would otherwise fail open in silence.
fn warn_tools_unguarded(agent: &str) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "tracing-agent: run of `{agent}` has limits, but no AgentLayer sees its span (none is \
             installed, or a filter disabled target tracing_agent::run): its tool calls cannot be \
             refused; Run::check and Run::guard still enforce the limits"
        );
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if !self.state.is_stopped() {
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
            .field("run_id", &self.state.run_id())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::prelude::*;

    use super::{Run, RunMeta};
    use crate::schema::StopReason;
    use crate::testing::Lines;
    use crate::AgentLayer;

    /// A guard that trips inside a tool call stops the run through its state; the
    /// handle's own `stop` then writes nothing more and reports the guard's reason.
    #[test]
    fn stop_returns_what_the_state_recorded() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::registry().with(
            AgentLayer::new()
                .with_writer(move || writer.clone())
                .with_metrics(crate::metrics::Metrics::off()),
        );
        let stopped = tracing::subscriber::with_default(subscriber, || {
            let run = Run::start(RunMeta::new("agent"));
            let by_guard = run.state.stop(StopReason::LoopDetected);
            assert_eq!(by_guard.stop_reason, StopReason::LoopDetected);
            run.stop(StopReason::Completed)
        });
        assert_eq!(stopped.stop_reason, StopReason::LoopDetected);
        assert_eq!(lines.stop_reasons(), ["loop_detected"]);
    }
}
