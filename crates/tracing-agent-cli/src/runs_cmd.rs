//! `tracing-agent runs`: one line per run, newest first.
//!
//! Streams: each event is folded into its run's [`RunSummary`] and dropped, so memory
//! grows with the number of runs, not with the size of the log.

use std::io::{BufWriter, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;

use crate::error::CliError;
use crate::input;
use crate::render::{self, Align, Cell, BAD, GOOD, NOTE, PLAIN};
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
            serde_json::to_writer(&mut out, &run.json()).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    } else if !runs.is_empty() {
        write_table(&mut out, "", &runs)?;
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

/// The table of runs, one line each; also the sub-runs of `show`.
pub(crate) fn write_table(
    out: &mut impl Write,
    indent: &str,
    runs: &[RunSummary],
) -> std::io::Result<()> {
    use Align::{Left, Right};
    render::write_rows(
        out,
        indent,
        &[
            Left, Left, Left, Left, Left, Right, Right, Right, Right, Left,
        ],
        &[
            "RUN_ID",
            "STARTED",
            "AGENT",
            "MODEL",
            "PROMPT",
            "TOOL_CALLS",
            "ERRORS",
            "DURATION",
            "SPEND",
            "STOP_REASON",
        ],
        runs,
        |run| {
            let errors = run.tool_errors();
            vec![
                Cell::plain(&*run.run_id),
                Cell::plain(render::timestamp(run.started_ms())),
                Cell::plain(render::or_dash(run.agent())),
                Cell::plain(render::or_dash(run.model())),
                Cell::plain(render::or_dash(run.prompt_version())),
                Cell::plain(run.tool_calls().to_string()),
                Cell::new(errors.to_string(), if errors > 0 { BAD } else { PLAIN }),
                Cell::plain(run.duration_ms().map_or("-".to_owned(), render::duration)),
                Cell::plain(run.spend_usd().map_or("-".to_owned(), render::spend)),
                stop_reason_cell(run.stop_reason()),
            ]
        },
    )
}

/// Green for `completed`, red for any other reason, yellow for a run not (yet) stopped.
pub(crate) fn stop_reason_cell(reason: Option<&str>) -> Cell {
    match reason {
        None => Cell::new("-", NOTE),
        Some("completed") => Cell::new("completed", GOOD),
        Some(reason) => Cell::new(reason, BAD),
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
