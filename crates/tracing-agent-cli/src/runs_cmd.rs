//! `tracing-agent runs`: one line per run, newest first.
//!
//! Streams: each event is folded into its run's [`RunSummary`] and dropped, so memory
//! grows with the number of runs, not with the size of the log.

use std::io::{BufWriter, Write};
use std::time::SystemTime;

use clap::Args;
use serde::Serialize;

use crate::error::CliError;
use crate::filter::Filters;
use crate::input::Inputs;
use crate::render;
use crate::summary::{RunSummary, Summaries};
use tracing_agent::EventKind;

/// The arguments of `runs`.
#[derive(Args, Debug)]
pub struct RunsArgs {
    #[command(flatten)]
    inputs: Inputs,

    #[command(flatten)]
    filters: Filters,

    /// Only the newest N of the runs the filters keep.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    limit: Option<u64>,

    /// One JSON object per run and line, for jq and other programs.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(
    args: &RunsArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CliError> {
    for warning in args.filters.warnings() {
        render::warning(err, "runs", &warning);
    }
    let filter = args.filters.at(SystemTime::now());
    let mut summaries = Summaries::default();
    let skipped = args.inputs.read_events(|event| {
        // A run the filter can already decide against leaves only a hash behind: `runs`
        // over a million runs that a filter mostly rejects holds what it will print.
        let Some(run) = summaries.add(event) else {
            return;
        };
        let decided_against = match event.kind {
            EventKind::RunStart => filter.rejects_at_start(run),
            EventKind::Stop => !filter.keeps(run),
            _ => false,
        };
        if decided_against {
            let run_id = run.run_id.clone();
            summaries.leave_out(&run_id);
        }
    })?;
    for warning in skipped.warnings() {
        render::warning(err, "runs", &warning);
    }

    let left_out = summaries.left_out();
    let all = summaries.newest_first();
    let total = all.len() + left_out;
    let limit = args
        .limit
        .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let runs: Vec<RunSummary> = all
        .into_iter()
        .filter(|run| filter.keeps(run))
        .take(limit)
        .collect();

    let mut out = BufWriter::new(out);
    if args.json {
        for run in &runs {
            serde_json::to_writer(&mut out, &RunJson::of(run)).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    } else if !runs.is_empty() {
        render::run_table(&mut out, "", &runs)?;
    }
    out.flush()?;
    let shared: Vec<&str> = runs
        .iter()
        .filter(|run| run.shared_id())
        .map(|run| &*run.run_id)
        .collect();
    if let Some(first) = shared.first() {
        render::warning(
            err,
            "runs",
            &format!(
                "{} of these ids started more than one run (two run_start events at different times), so each is listed as one run; the first is \"{}\"",
                shared.len(),
                render::printable(first)
            ),
        );
    }
    if runs.is_empty() {
        // Said on stderr so that stdout stays empty (and `--json` stays valid).
        let why = match total {
            0 => "no runs in the input".to_owned(),
            n => format!("no runs match the filters ({n} in the input)"),
        };
        render::warning(err, "runs", &why);
    }
    Ok(())
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
    unpriced_llm_calls: u64,
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
            unpriced_llm_calls: run.unpriced_llm_calls(),
            duration_ms: run.duration_ms(),
            stop_reason: run.stop_reason(),
            tools: run.tools().collect(),
            has_run_start: run.has_run_start(),
        }
    }
}
