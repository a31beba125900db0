//! # tracing-agent
//!
//! Operable LLM agents on top of [`tracing`]: annotate tool functions with
//! [`#[agent_tool]`](agent_tool), install [`AgentLayer`] beside your other layers, start
//! a [`Run`] per agent run. Every tool call then writes one JSON event (tool, args hash,
//! result hash, duration, status, error class), every run one `run_start` and exactly
//! one `stop` event, all in one schema, and every `tracing` log inside a run carries
//! `run_id` and `step_id`. The layer also records the drift signals (tool calls per run,
//! run latency, stop reasons, tokens, spend, tool errors) as [`metrics`] for Prometheus and
//! other exporters.
//!
//! ```
//! use tracing_agent::{agent_tool, AgentLayer, LlmUsage, Run, RunMeta, StopReason};
//! use tracing_subscriber::prelude::*;
//!
//! #[derive(Debug, tracing_agent::ErrorClass)]
//! enum EmailError { RateLimited }
//!
//! #[agent_tool]
//! fn send_email(to: &str, subject: &str) -> Result<u64, EmailError> {
//!     tracing::info!("sending"); // carries run_id and step_id
//!     Ok(42)
//! }
//!
//! let subscriber = tracing_subscriber::registry()
//!     .with(tracing_subscriber::fmt::layer())
//!     .with(AgentLayer::new());
//! tracing::subscriber::with_default(subscriber, || {
//!     let run = Run::start(RunMeta::new("support-agent").model("gpt-4o-2024-08-06"));
//!     run.in_scope(|| {
//!         tracing_agent::record_llm(LlmUsage::new("gpt-4o-2024-08-06", 1200, 350));
//!         send_email("customer@example.com", "Your order").ok();
//!     });
//!     let stopped = run.stop(StopReason::Completed);
//!     assert_eq!(stopped.usage.tool_calls, 1);
//! });
//! ```

// The layers, bottom to top, one group each: a module uses only modules of the groups
// above its own (ARCHITECTURE.md; `tests/architecture.rs` checks it).

// Leaves: nothing of this crate below them.
mod clock;
mod error_class;
mod fmt_fields;
pub mod hash;
mod interest;
mod redact;

// The event: its data; then the line that writes it and the reader that reads it back.
pub mod schema;

mod line;
pub mod read;

// What a run may do: limits, their per-run budgets, the kill switch.
mod guard;

// What the layer is told: which metrics, the config file, and what both compile to.
pub mod metrics;

pub mod config;

mod settings;

// Where lines go.
mod sink;

mod output;

// Per-run and per-span state.
mod run_state;

mod scope;

// The handles users touch.
mod llm;
mod run;
mod tool;

// Where everything is wired together.
mod layer;

pub use error_class::ErrorClass;
pub use fmt_fields::AgentFields;
pub use guard::{KillFileWatch, KillSwitch, Limits, Refused, Remaining};
pub use layer::AgentLayer;
pub use llm::{record_llm, LlmCall, LlmRequest, LlmUsage};
pub use output::{flush, flush_on_signals, FlushGuard, Unflushed, CHECK_PATH_EVERY, FLUSH_TIMEOUT};
pub use redact::REDACTED;
pub use run::{current, shutdown, Current, Guarded, Retry, Run, RunMeta};
pub use schema::{EventKind, EventRecord, RunUsage, Status, StopReason, Stopped, SCHEMA_VERSION};
pub use sink::SinkStats;
pub use tool::{ToolCallId, WithToolCallId};
pub use tracing_agent_macros::{agent_tool, ErrorClass};

/// Used by the code `#[agent_tool]` generates; not a public API. Versioned with the
/// expansion: a macro crate that expands to another version fails to compile with a
/// name that says so, rather than with a type error deep in generated code.
#[doc(hidden)]
pub mod __private_v1 {
    pub use crate::error_class::{ClassFromTrait, ClassFromTypeName, Classify};
    pub use crate::tool::{
        timed_out, within, Decision, Elapsed, Refuse, RefuseInPlace, RunAnyway, TimeoutResult,
        ToolArgs, ToolCall, ToolInfo, Within,
    };
    pub use tracing;

    /// A parameter `#[agent_tool]` hashes into `args_sha`.
    #[diagnostic::on_unimplemented(
        message = "`#[agent_tool]` cannot hash parameter `{Name}`: its type `{Self}` does not implement `serde::Serialize`",
        label = "`{Name}` is hashed into args_sha, so its type must implement `serde::Serialize`",
        note = "leave it out of the hash with `#[agent_tool(skip({Name}))]`, or derive `serde::Serialize` for it"
    )]
    pub trait ToolArg<Name>: serde::Serialize {}
    impl<T: serde::Serialize + ?Sized, Name> ToolArg<Name> for T {}

    /// A tool's return value, hashed into `result_sha`.
    #[diagnostic::on_unimplemented(
        message = "`#[agent_tool]` cannot hash the result: `{Self}` does not implement `serde::Serialize`",
        label = "hashed into result_sha, so it must implement `serde::Serialize`",
        note = "leave it out with `#[agent_tool(skip_result)]`, or derive `serde::Serialize` for it"
    )]
    pub trait ToolResult: serde::Serialize {}
    impl<T: serde::Serialize + ?Sized> ToolResult for T {}

    /// Type-checks a parameter against [`ToolArg`], naming it in the error.
    #[inline(always)]
    pub fn arg<Name, T: ToolArg<Name> + ?Sized>(
        args: &mut ToolArgs,
        name: &'static str,
        value: &T,
    ) {
        args.arg(name, value);
    }

    /// A `redact(..)` parameter: hashed, but stored as `"[REDACTED]"`.
    #[inline(always)]
    pub fn redacted_arg<Name, T: ToolArg<Name> + ?Sized>(
        args: &mut ToolArgs,
        name: &'static str,
        value: &T,
    ) {
        args.redacted_arg(name, value);
    }

    /// Runs a sync tool's body.
    #[inline(always)]
    pub fn call_once<R>(body: impl FnOnce() -> R) -> R {
        body()
    }

    /// Type-checks a result against [`ToolResult`].
    #[inline(always)]
    pub fn result<T: ToolResult + ?Sized>(call: &mut ToolCall<'_>, value: &T) {
        call.ok(value);
    }
}

#[cfg(test)]
mod testing;
