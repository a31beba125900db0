//! Metrics for dashboards and alerts, recorded through the [`metrics`](https://docs.rs/metrics)
//! facade so that any exporter (Prometheus, OpenTelemetry, StatsD, ...) receives them.
//!
//! [`AgentLayer`](crate::AgentLayer) records them when a run stops, a tool call ends, an LLM
//! call is recorded and an event cannot be written. Without an installed recorder the facade
//! drops them; with the `prometheus` feature, `install_prometheus` installs one that serves
//! `/metrics`, with a histogram's buckets for every histogram.
//!
//! | series | kind | labels | on when |
//! |---|---|---|---|
//! | `agent_tool_calls` | histogram: tool calls per run, at its stop | `agent` | [`Tracked::ToolCallsPerRun`] |
//! | `agent_run_latency_ms` | histogram: run wall time, ms | `agent` | [`Tracked::LatencyP95`] |
//! | `agent_stop_total` | counter | `agent`, `stop_reason` | [`Tracked::StopReason`] |
//! | `agent_spend_per_run_usd` | histogram: spend per run (runs whose every LLM call had a known cost, `unpriced_llm_calls: 0`) | `agent` | [`Tracked::SpendPerRun`] |
//! | `agent_tokens_per_request` | histogram: input + output tokens per LLM call | `agent` (inside a run) | [`Tracked::TokensPerRequest`] |
//! | `agent_tool_duration_ms` | histogram: tool call wall time, ms | `tool`, `status` | always |
//! | `agent_tool_errors_total` | counter | `tool`, `error` | always |
//! | `agent_events_dropped_total` | counter: events the writer lost | — | always |
//! | `agent_guard_trips_total` | counter: limits that tripped, calls a policy refused | `agent`, `guard` | always |
//!
//! "Always" means unless metrics are [`Metrics::off`]. With [`Metrics::gen_ai`], the
//! OpenTelemetry GenAI convention's `gen_ai.execute_tool.duration`,
//! `gen_ai.client.token.usage` and `gen_ai.invoke_agent.duration` are recorded as well.
//!
//! Labels stay low-cardinality: never a run id, arguments or messages. A custom stop reason
//! or error class that is not a short identifier (`[A-Za-z0-9_.:-]`, at most 64 bytes) is
//! written as `other`, so a reason built from user data cannot explode the series count.
//!
//! ```
//! use tracing_agent::metrics::{Metrics, Tracked};
//! use tracing_agent::AgentLayer;
//!
//! // As a config's `metrics.track: ["tool_calls_per_run", "stop_reason"]` would say:
//! let tracked = ["tool_calls_per_run", "stop_reason"]
//!     .iter()
//!     .map(|name| name.parse::<Tracked>())
//!     .collect::<Result<Vec<_>, _>>()
//!     .unwrap();
//! let layer = AgentLayer::new().with_metrics(Metrics::new().track(tracked).gen_ai(true));
//! # let _ = layer;
//! ```

use std::fmt;
use std::str::FromStr;

mod buckets;
#[cfg(feature = "prometheus")]
mod prometheus;
mod record;

pub use buckets::HISTOGRAM_BUCKETS;
#[cfg(feature = "prometheus")]
pub use prometheus::{install_prometheus, prometheus_builder, MetricsError};
pub(crate) use record::{
    events_lost, guard_tripped, llm_recorded, run_stopped, tool_ended, ToolKeys,
};

/// A run-level series that `metrics.track` can switch on, by its config name.
///
/// ```
/// use tracing_agent::metrics::Tracked;
/// let tracked: Tracked = "latency_p95".parse().unwrap();
/// assert_eq!(tracked, Tracked::LatencyP95);
/// assert_eq!(tracked.metric_name(), "agent_run_latency_ms");
/// assert!("p99".parse::<Tracked>().unwrap_err().to_string().contains("latency_p95"));
/// ```
// Deserialize is derived (not built on `FromStr`) so a YAML error points at the bad
// element's own line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tracked {
    /// `tokens_per_request`: `agent_tokens_per_request`.
    TokensPerRequest,
    /// `tool_calls_per_run`: `agent_tool_calls`.
    ToolCallsPerRun,
    /// `latency_p95`: `agent_run_latency_ms` (a histogram: any quantile, not only p95).
    LatencyP95,
    /// `spend_per_run`: `agent_spend_per_run_usd`.
    SpendPerRun,
    /// `stop_reason`: `agent_stop_total`.
    StopReason,
}

impl Tracked {
    /// Every trackable series, in the config's order.
    pub const ALL: [Tracked; 5] = [
        Tracked::TokensPerRequest,
        Tracked::ToolCallsPerRun,
        Tracked::LatencyP95,
        Tracked::SpendPerRun,
        Tracked::StopReason,
    ];

    /// The name in the config's `metrics.track`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tracked::TokensPerRequest => "tokens_per_request",
            Tracked::ToolCallsPerRun => "tool_calls_per_run",
            Tracked::LatencyP95 => "latency_p95",
            Tracked::SpendPerRun => "spend_per_run",
            Tracked::StopReason => "stop_reason",
        }
    }

    /// The metric it records.
    pub fn metric_name(self) -> &'static str {
        match self {
            Tracked::TokensPerRequest => record::TOKENS_PER_REQUEST,
            Tracked::ToolCallsPerRun => record::TOOL_CALLS,
            Tracked::LatencyP95 => record::RUN_LATENCY_MS,
            Tracked::SpendPerRun => record::SPEND_PER_RUN_USD,
            Tracked::StopReason => record::STOP_TOTAL,
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Tracked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tracked {
    type Err = UnknownTracked;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Tracked::ALL
            .into_iter()
            .find(|tracked| tracked.as_str() == name)
            .ok_or_else(|| UnknownTracked {
                name: name.to_owned(),
            })
    }
}

impl serde::Serialize for Tracked {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A name in `metrics.track` that is not one of [`Tracked`]'s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownTracked {
    name: String,
}

impl UnknownTracked {
    /// The name that was given.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for UnknownTracked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown metric {:?} in metrics.track; expected one of: ",
            self.name
        )?;
        for (i, tracked) in Tracked::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(tracked.as_str())?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownTracked {}

/// Which metrics [`AgentLayer`](crate::AgentLayer) records; give it with
/// [`AgentLayer::with_metrics`](crate::AgentLayer::with_metrics).
///
/// The default tracks all five [`Tracked`] series plus the tool-level and dropped-event
/// series, and leaves the GenAI convention's metrics off.
///
/// ```
/// use tracing_agent::metrics::{Metrics, Tracked};
/// let metrics = Metrics::new().track([Tracked::StopReason]).gen_ai(true);
/// assert!(metrics.tracks(Tracked::StopReason));
/// assert!(!metrics.tracks(Tracked::LatencyP95));
/// assert!(metrics.records_gen_ai());
/// assert!(!Metrics::off().is_on());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metrics {
    on: bool,
    tracked: u8,
    gen_ai: bool,
}

impl Metrics {
    /// All five tracked series, the tool-level and dropped-event series; no GenAI metrics.
    pub fn new() -> Self {
        Metrics {
            on: true,
            tracked: Tracked::ALL.iter().fold(0, |bits, t| bits | t.bit()),
            gen_ai: false,
        }
    }

    /// Records nothing at all.
    pub fn off() -> Self {
        Metrics {
            on: false,
            tracked: 0,
            gen_ai: false,
        }
    }

    /// Tracks exactly these run-level series (the tool-level and dropped-event series stay
    /// on); an empty list tracks none of them.
    pub fn track(mut self, tracked: impl IntoIterator<Item = Tracked>) -> Self {
        self.tracked = tracked.into_iter().fold(0, |bits, t| bits | t.bit());
        self
    }

    /// Also records the OpenTelemetry GenAI convention's metrics (off by default).
    pub fn gen_ai(mut self, on: bool) -> Self {
        self.gen_ai = on;
        self
    }

    /// Whether anything is recorded.
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// Whether `tracked` is recorded.
    pub fn tracks(&self, tracked: Tracked) -> bool {
        self.on && self.tracked & tracked.bit() != 0
    }

    /// Whether the GenAI convention's metrics are recorded.
    pub fn records_gen_ai(&self) -> bool {
        self.on && self.gen_ai
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Registers a description and unit for every metric with the installed recorder (which
/// shows them as `# HELP` lines, for instance). `install_prometheus` calls it; call it
/// yourself after installing another exporter.
pub fn describe() {
    record::describe();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_names_round_trip_and_unknown_names_list_the_valid_ones() {
        let names = [
            "tokens_per_request",
            "tool_calls_per_run",
            "latency_p95",
            "spend_per_run",
            "stop_reason",
        ];
        for (name, tracked) in names.iter().zip(Tracked::ALL) {
            assert_eq!(name.parse::<Tracked>(), Ok(tracked));
            assert_eq!(tracked.as_str(), *name);
        }
        let error = "latency_p99".parse::<Tracked>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown metric \"latency_p99\" in metrics.track; expected one of: \
             tokens_per_request, tool_calls_per_run, latency_p95, spend_per_run, stop_reason"
        );
        assert_eq!(error.name(), "latency_p99");
    }

    #[test]
    fn tracked_deserializes_from_config_names() {
        let tracked: Vec<Tracked> =
            serde_json::from_str(r#"["stop_reason", "latency_p95"]"#).unwrap();
        assert_eq!(tracked, [Tracked::StopReason, Tracked::LatencyP95]);
        let error = serde_json::from_str::<Vec<Tracked>>(r#"["p95"]"#).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("`p95`") && text.contains("latency_p95"),
            "{text}"
        );
    }

    #[test]
    fn the_default_tracks_all_five_and_no_gen_ai() {
        let metrics = Metrics::default();
        assert!(metrics.is_on());
        assert!(Tracked::ALL.iter().all(|t| metrics.tracks(*t)));
        assert!(!metrics.records_gen_ai());
    }

    #[test]
    fn off_switches_everything_off_even_what_was_asked_for() {
        let metrics = Metrics {
            on: false,
            ..Metrics::new().gen_ai(true)
        };
        assert!(Tracked::ALL.iter().all(|t| !metrics.tracks(*t)));
        assert!(!metrics.records_gen_ai());
        assert!(!Metrics::off().is_on());
    }

    #[test]
    fn track_replaces_the_set() {
        let metrics = Metrics::new().track([Tracked::SpendPerRun, Tracked::SpendPerRun]);
        let on: Vec<Tracked> = Tracked::ALL
            .into_iter()
            .filter(|t| metrics.tracks(*t))
            .collect();
        assert_eq!(on, [Tracked::SpendPerRun]);
        assert!(Metrics::new().track([]).is_on());
    }
}
