//! Which runs a command keeps: the filter options, defined once for every command that
//! takes them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;
use tracing_agent::StopReason;

use crate::summary::RunSummary;

/// The options that select runs.
#[derive(Args, Debug)]
pub(crate) struct Filters {
    /// Only runs that started at or after this: a duration back from now (`2h`, `30m`,
    /// `1day`, `1h 30m`) or a UTC time (`2024-11-24T10:00:00Z`).
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    since: Option<Since>,

    /// Only runs that started before this, in the syntax of `--since`: with it, `--since
    /// 2h --until 1h` is the hour before the last one.
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    until: Option<Since>,

    /// Only runs that stopped for this reason (repeat for any of several); `-` for runs
    /// without a stop event. A reason the library does not name is warned about, and
    /// still looked for: callers may stop runs for reasons of their own.
    #[arg(long, value_name = "REASON")]
    stop_reason: Vec<String>,

    /// Only runs that did not complete: stopped for any reason but `completed`, or
    /// without a stop event (still running, or their process died).
    #[arg(long)]
    failed: bool,

    /// Only runs of this agent (repeat for any of several).
    #[arg(long, value_name = "NAME")]
    agent: Vec<String>,

    /// Only runs of this model (repeat for any of several): the model of the run's
    /// run_start, or of its first LLM call when the run_start has none or is not in the
    /// input.
    #[arg(long, value_name = "MODEL")]
    model: Vec<String>,

    /// Only runs of this prompt version (repeat for any of several).
    #[arg(long, value_name = "VERSION")]
    prompt_version: Vec<String>,

    /// Only runs that called this tool (repeat for any of several).
    #[arg(long, value_name = "NAME")]
    tool: Vec<String>,

    /// Only runs with a tool call that failed with this error class (repeat for any of
    /// several), as `show` prints it after `error`: `Timeout`, `refused:loop_detected`.
    #[arg(long, value_name = "CLASS")]
    error: Vec<String>,
}

/// The stop reasons the library names, for the warning about one it does not.
const NAMED_REASONS: [StopReason; 15] = [
    StopReason::Completed,
    StopReason::MaxSteps,
    StopReason::MaxToolCalls,
    StopReason::TokenBudget,
    StopReason::SpendBudget,
    StopReason::TimeBudget,
    StopReason::LoopDetected,
    StopReason::ToolTimeout,
    StopReason::ToolError,
    StopReason::Denied,
    StopReason::Killed,
    StopReason::Cancelled,
    StopReason::Error,
    StopReason::Panic,
    StopReason::Dropped,
];

/// Never called: it stops compiling when the library names a new reason, so that
/// [`NAMED_REASONS`] is brought up to date with it.
fn _every_named_reason_is_listed(reason: &StopReason) {
    match reason {
        StopReason::Completed
        | StopReason::MaxSteps
        | StopReason::MaxToolCalls
        | StopReason::TokenBudget
        | StopReason::SpendBudget
        | StopReason::TimeBudget
        | StopReason::LoopDetected
        | StopReason::ToolTimeout
        | StopReason::ToolError
        | StopReason::Denied
        | StopReason::Killed
        | StopReason::Cancelled
        | StopReason::Error
        | StopReason::Panic
        | StopReason::Dropped
        | StopReason::Other(_) => {}
    }
}

/// A point in time given on the command line: back from now, or a UTC time.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Since {
    Ago(Duration),
    At(SystemTime),
}

pub(crate) fn parse_since(text: &str) -> Result<Since, String> {
    if let Ok(ago) = humantime::parse_duration(text) {
        return Ok(Since::Ago(ago));
    }
    if let Ok(at) = humantime::parse_rfc3339_weak(text) {
        return Ok(Since::At(at));
    }
    Err(
        "expected a duration back from now (2h, 30m, 1day, 1h 30m) or a UTC time \
         (2024-11-24T10:00:00Z)"
            .to_owned(),
    )
}

impl Since {
    /// The earliest start kept, in Unix milliseconds.
    pub(crate) fn cutoff_ms(self, now: SystemTime) -> u64 {
        let at = match self {
            Since::Ago(ago) => now.checked_sub(ago).unwrap_or(UNIX_EPOCH),
            Since::At(at) => at,
        };
        at.duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

impl Filters {
    /// The filters as of `now` (which `--since 2h` counts back from).
    pub(crate) fn at(&self, now: SystemTime) -> Filter<'_> {
        Filter {
            filters: self,
            cutoff_ms: self.since.map(|since| since.cutoff_ms(now)),
            until_ms: self.until.map(|until| until.cutoff_ms(now)),
        }
    }

    /// What the user is told before any run is read: each `--stop-reason` the library
    /// does not name, since a typo there would otherwise be a silent empty answer.
    pub(crate) fn warnings(&self) -> Vec<String> {
        let known = || {
            NAMED_REASONS
                .iter()
                .map(StopReason::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        };
        self.stop_reason
            .iter()
            .filter(|reason| {
                *reason != "-" && matches!(reason.parse::<StopReason>(), Ok(StopReason::Other(_)))
            })
            .map(|reason| {
                format!(
                    "--stop-reason \"{reason}\" is not a stop reason of the library (those are {}, and - for no stop); runs that stopped for a reason of their own by that name are still listed",
                    known()
                )
            })
            .collect()
    }
}

/// [`Filters`] fixed in time.
pub(crate) struct Filter<'a> {
    filters: &'a Filters,
    cutoff_ms: Option<u64>,
    /// The first start left out by `--until`, in Unix milliseconds.
    until_ms: Option<u64>,
}

/// Whether `value` is one of `wanted`, or nothing is wanted.
fn any(wanted: &[String], value: Option<&str>) -> bool {
    wanted.is_empty() || value.is_some_and(|v| wanted.iter().any(|w| w == v))
}

impl Filter<'_> {
    /// Whether `run` passes every filter.
    pub(crate) fn keeps(&self, run: &RunSummary) -> bool {
        let Filters {
            since: _,
            until: _,
            stop_reason,
            failed,
            agent,
            model,
            prompt_version,
            tool,
            error,
        } = self.filters;
        self.in_time(run.started_ms())
            && any(stop_reason, Some(run.stop_reason().unwrap_or("-")))
            && (!failed || run.stop_reason() != Some("completed"))
            && any(agent, run.agent())
            && any(model, run.model())
            && any(prompt_version, run.prompt_version())
            && (tool.is_empty() || tool.iter().any(|tool| run.called(tool)))
            && (error.is_empty() || error.iter().any(|class| run.failed_with(class)))
    }

    fn in_time(&self, started_ms: u64) -> bool {
        self.cutoff_ms.is_none_or(|cutoff| started_ms >= cutoff)
            && self.until_ms.is_none_or(|until| started_ms < until)
    }
}

impl Filter<'_> {
    /// Whether `run`, whose `run_start` was just read, can already be left out: what the
    /// run_start says (start time, agent, prompt version, and the model when it names
    /// one) is final, and one of them fails its filter. What depends on later events
    /// (stop reason, tools, errors, a model taken from an LLM call) is decided at the
    /// run's stop.
    pub(crate) fn rejects_at_start(&self, run: &RunSummary) -> bool {
        let Filters {
            agent,
            model,
            prompt_version,
            ..
        } = self.filters;
        !self.in_time(run.started_ms())
            || !any(agent, run.agent())
            || !any(prompt_version, run.prompt_version())
            // With a run_start read, a model once known is the run's for good.
            || run.model().is_some_and(|m| !any(model, Some(m)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_duration_or_a_utc_time() {
        let now = UNIX_EPOCH + Duration::from_secs(10_000);
        let ago = parse_since("2h 30m").unwrap();
        assert_eq!(ago.cutoff_ms(now), 1_000_000);
        let at = parse_since("2024-11-24T10:00:00Z").unwrap();
        assert_eq!(at.cutoff_ms(now), 1_732_442_400_000);
        // Further back than the epoch is everything, not an error.
        assert_eq!(parse_since("100y").unwrap().cutoff_ms(now), 0);
        assert!(parse_since("yesterday").is_err());
        assert!(parse_since("2024-11-24T10:00:00+02:00").is_err());
    }
}
