//! Which runs a command keeps: the filter options, defined once for every command that
//! takes them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;

use crate::summary::RunSummary;

/// The options that select runs.
#[derive(Args, Debug)]
pub(crate) struct Filters {
    /// Only runs that started at or after this: a duration back from now (`2h`, `30m`,
    /// `1day`, `1h 30m`) or a UTC time (`2024-11-24T10:00:00Z`).
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    since: Option<Since>,

    /// Only runs that stopped for this reason (repeat for any of several); `-` for runs
    /// without a stop event.
    #[arg(long, value_name = "REASON")]
    stop_reason: Vec<String>,

    /// Only runs of this agent (repeat for any of several).
    #[arg(long, value_name = "NAME")]
    agent: Vec<String>,

    /// Only runs that called this tool (repeat for any of several).
    #[arg(long, value_name = "NAME")]
    tool: Vec<String>,
}

#[derive(Clone, Copy, Debug)]
enum Since {
    Ago(Duration),
    At(SystemTime),
}

fn parse_since(text: &str) -> Result<Since, String> {
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
    fn cutoff_ms(self, now: SystemTime) -> u64 {
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
        }
    }
}

/// [`Filters`] fixed in time.
pub(crate) struct Filter<'a> {
    filters: &'a Filters,
    cutoff_ms: Option<u64>,
}

impl Filter<'_> {
    /// Whether `run` passes every filter.
    pub(crate) fn keeps(&self, run: &RunSummary) -> bool {
        let Filters {
            since: _,
            stop_reason,
            agent,
            tool,
        } = self.filters;
        let any = |wanted: &[String], value: Option<&str>| {
            wanted.is_empty() || value.is_some_and(|v| wanted.iter().any(|w| w == v))
        };
        self.cutoff_ms
            .is_none_or(|cutoff| run.started_ms() >= cutoff)
            && any(stop_reason, Some(run.stop_reason().unwrap_or("-")))
            && any(agent, run.agent())
            && (tool.is_empty() || tool.iter().any(|tool| run.called(tool)))
    }
}

impl Filter<'_> {
    /// Whether `run`, whose `run_start` was just read, can already be left out: its agent
    /// and start time are known and one of them fails its filter. What depends on later
    /// events (stop reason, tools) is decided at the run's stop.
    pub(crate) fn rejects_at_start(&self, run: &RunSummary) -> bool {
        let agent = &self.filters.agent;
        self.cutoff_ms
            .is_some_and(|cutoff| run.started_ms() < cutoff)
            || (!agent.is_empty() && !run.agent().is_some_and(|a| agent.iter().any(|w| w == a)))
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
