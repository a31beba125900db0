//! `tracing-agent runs`: one line per run, newest first.
//!
//! Streams: each event is folded into its run's [`RunSummary`] and dropped, so memory
//! grows with the number of runs, not with the size of the log.

use std::io::{BufWriter, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;
use serde::Serialize;

use crate::error::CliError;
use crate::input;
use crate::render;
use crate::summary::{RunSummary, Summaries};

#[derive(Args)]
pub(crate) struct RunsArgs {
    /// Event logs to read, in order; `-` is stdin.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,

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

    /// One JSON object per run and line, for jq and other programs.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Since {
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

pub(crate) fn run(args: RunsArgs) -> Result<(), CliError> {
    let cutoff_ms = args.since.map(|since| since.cutoff_ms(SystemTime::now()));
    let inputs = input::open(&args.files)?;
    let mut summaries = Summaries::default();
    let skipped = input::read_events(inputs, |event| summaries.add(&event))?;
    if let Some(warning) = skipped.warning() {
        render::warning("runs", &warning);
    }

    let all = summaries.newest_first();
    let total = all.len();
    let runs: Vec<RunSummary> = all
        .into_iter()
        .filter(|run| keep(run, &args, cutoff_ms))
        .collect();

    let mut out = BufWriter::new(anstream::stdout().lock());
    if args.json {
        for run in &runs {
            serde_json::to_writer(&mut out, &RunJson::of(run)).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    } else if !runs.is_empty() {
        render::run_table(&mut out, "", &runs)?;
    }
    out.flush()?;
    if runs.is_empty() {
        // Said on stderr so that stdout stays empty (and `--json` stays valid).
        let why = match total {
            0 => "no runs in the input".to_owned(),
            n => format!("no runs match the filters ({n} in the input)"),
        };
        render::warning("runs", &why);
    }
    Ok(())
}

fn keep(run: &RunSummary, args: &RunsArgs, cutoff_ms: Option<u64>) -> bool {
    let any = |wanted: &[String], value: Option<&str>| {
        wanted.is_empty() || value.is_some_and(|v| wanted.iter().any(|w| w == v))
    };
    cutoff_ms.is_none_or(|cutoff| run.started_ms() >= cutoff)
        && any(&args.stop_reason, Some(run.stop_reason().unwrap_or("-")))
        && any(&args.agent, run.agent())
        && (args.tool.is_empty() || args.tool.iter().any(|tool| run.called(tool)))
}

/// One run as `runs --json` writes it: every key always there, `null` where unknown, in
/// the order of this struct.
#[derive(Serialize)]
struct RunJson<'a> {
    run_id: &'a str,
    started: String,
    started_ms: u64,
    agent: Option<&'a str>,
    model: Option<&'a str>,
    prompt_version: Option<&'a str>,
    tools_version: Option<&'a str>,
    parent_run_id: Option<&'a str>,
    steps: u64,
    tool_calls: u64,
    tool_errors: u64,
    llm_calls: u64,
    input_tokens: u64,
    output_tokens: u64,
    spend_usd: Option<f64>,
    duration_ms: Option<u64>,
    stop_reason: Option<&'a str>,
    tools: Vec<&'a str>,
    has_run_start: bool,
}

impl<'a> RunJson<'a> {
    fn of(run: &'a RunSummary) -> Self {
        let started_ms = run.started_ms();
        RunJson {
            run_id: &run.run_id,
            started: render::timestamp(started_ms),
            started_ms,
            agent: run.agent(),
            model: run.model(),
            prompt_version: run.prompt_version(),
            tools_version: run.tools_version(),
            parent_run_id: run.parent_run_id(),
            steps: run.steps(),
            tool_calls: run.tool_calls(),
            tool_errors: run.tool_errors(),
            llm_calls: run.llm_calls(),
            input_tokens: run.input_tokens(),
            output_tokens: run.output_tokens(),
            spend_usd: run.spend_usd(),
            duration_ms: run.duration_ms(),
            stop_reason: run.stop_reason(),
            tools: run.tools().collect(),
            has_run_start: run.has_run_start(),
        }
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
