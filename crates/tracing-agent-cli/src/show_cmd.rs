//! `tracing-agent show`: the whole story of one run.
//!
//! Streams: while reading, only the events of runs whose id matches the requested one
//! (one run, unless a part of an id turns out to be in several) and the summaries of their sub-runs
//! are kept; every other event is dropped as soon as it is read. The input is read once,
//! so `-` (stdin) works like a file.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::{Hash, Hasher};
use std::io::{self, BufWriter, Write};

use clap::Args;
use tracing_agent::schema::Amount;
use tracing_agent::{EventKind, EventRecord, Status};

use crate::error::CliError;
use crate::input::Inputs;
use crate::render::{self, Align, Cell, Table, BAD, DIM, GOOD, HEADER, NOTE, PLAIN};
use crate::summary::{RunSummary, Summaries};

/// A part of an id shorter than this is taken only as a whole run id: a few characters
/// are in many ids (UUID v7 ids of runs started close together share their first 13
/// characters, concurrent ones 27).
const MIN_PART: usize = 8;

/// The arguments of `show`.
#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The run: its id, or 8 or more characters of it (from anywhere in it: the end of a
    /// UUID v7 tells runs of one minute apart) if only one run's id contains them.
    #[arg(value_name = "RUN_ID")]
    run: String,

    #[command(flatten)]
    inputs: Inputs,
}

/// Which run ids the request can mean.
struct Selector<'a> {
    text: &'a str,
    /// Whether `text` is long enough to be looked for inside ids.
    partial: bool,
}

impl Selector<'_> {
    fn matches(&self, run_id: &str) -> bool {
        if self.partial {
            run_id.contains(self.text)
        } else {
            run_id == self.text
        }
    }
}

/// How many candidates an ambiguous part of an id lists; the others are only counted.
const CANDIDATES: usize = 20;

/// What is kept while reading: see the module's doc. Bounded whatever the input: the
/// events of the run named whole, and of the `CANDIDATES` smallest ids that contain the
/// text (one of which is the run, when it is the only one); the other candidates are
/// only counted.
#[derive(Default)]
struct Collected {
    exact: Vec<EventRecord>,
    runs: BTreeMap<String, Vec<EventRecord>>,
    /// Every distinct candidate id, as a hash: how many there are, without their text.
    candidates: HashSet<u64>,
    children: Summaries,
}

impl Collected {
    fn add(&mut self, selector: &Selector<'_>, event: &EventRecord) {
        let Some(run_id) = event.run_id.as_deref() else {
            return;
        };
        if event.kind == EventKind::RunStart {
            let parent = event.meta.as_ref().and_then(|m| m.parent_run_id.as_deref());
            if parent.is_some_and(|parent| selector.matches(parent)) {
                self.children.start(run_id, event.ts_ms);
            }
        }
        self.children.add_if_known(event);
        if run_id == selector.text {
            self.exact.push(event.clone());
        } else if selector.matches(run_id) {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            run_id.hash(&mut hasher);
            self.candidates.insert(hasher.finish());
            if let Some(events) = self.runs.get_mut(run_id) {
                events.push(event.clone());
            } else if self.runs.len() < CANDIDATES
                || self
                    .runs
                    .last_key_value()
                    .is_some_and(|(last, _)| run_id < last.as_str())
            {
                // An id pushed out here has `CANDIDATES` smaller ones before it, so it
                // can never come back: its later events are rightly ignored too.
                self.runs.insert(run_id.to_owned(), vec![event.clone()]);
                if self.runs.len() > CANDIDATES {
                    self.runs.pop_last();
                }
            }
        }
    }
}

pub(crate) fn run(
    args: &ShowArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CliError> {
    let selector = Selector {
        text: &args.run,
        partial: args.run.chars().count() >= MIN_PART,
    };
    let mut collected = Collected::default();
    let skipped = args
        .inputs
        .read_events(|event| collected.add(&selector, event))?;
    for warning in skipped.warnings() {
        render::warning(err, "show", &warning);
    }

    let (run_id, events) = resolve(
        &selector,
        collected.exact,
        &mut collected.runs,
        collected.candidates.len(),
    )?;
    if let Some(warning) = shared_id(&run_id, &events) {
        render::warning(err, "show", &warning);
    }
    // Sub-runs in the order they started, as the steps are.
    let children = collected
        .children
        .newest_first()
        .into_iter()
        .rev()
        .filter(|child| child.parent_run_id() == Some(run_id.as_str()))
        .collect::<Vec<_>>();

    let mut out = BufWriter::new(out);
    story(&mut out, &run_id, events, &children)?;
    out.flush()?;
    Ok(())
}

/// The one run the request means, with its events, or an error that says why there is
/// none: `exact` are the events of the run named whole, `runs` the smallest candidates
/// of `candidates` in all.
fn resolve(
    selector: &Selector<'_>,
    exact: Vec<EventRecord>,
    runs: &mut BTreeMap<String, Vec<EventRecord>>,
    candidates: usize,
) -> Result<(String, Vec<EventRecord>), CliError> {
    let text = selector.text;
    // A whole id wins even when it is also part of longer ones.
    if !exact.is_empty() {
        return Ok((text.to_owned(), exact));
    }
    if !selector.partial {
        return Err(CliError::usage(format!(
            "no run has the id \"{text}\", and a part of an id must have at least {MIN_PART} characters"
        )));
    }
    if candidates == 0 {
        return Err(CliError::failure(format!("no run id contains \"{text}\"")));
    }
    if candidates == 1 {
        if let Some((run_id, events)) = runs.pop_first() {
            return Ok((run_id, events));
        }
    }
    let mut table = Table::new(vec![Align::Left]);
    for (run_id, events) in runs.iter() {
        let summary = summarize(events);
        table.row(vec![
            Cell::plain(run_id),
            Cell::plain(
                summary
                    .as_ref()
                    .map_or(String::new(), |run| render::timestamp(run.started_ms())),
            ),
            Cell::plain(render::or_dash(
                summary.as_ref().and_then(|run| run.agent()),
            )),
        ]);
    }
    let mut lines = table.lines("  ");
    let unlisted = candidates.saturating_sub(runs.len());
    if unlisted > 0 {
        lines.push(format!("  ... and {unlisted} more"));
    }
    Err(CliError::failure(format!(
        "{candidates} runs have ids containing \"{text}\"; give more of the id:\n{}",
        lines.join("\n")
    )))
}

/// A warning when the run's events hold two different `run_start`s: two runs were given
/// the same `run_id` (a log given twice repeats one, which says nothing).
fn shared_id(run_id: &str, events: &[EventRecord]) -> Option<String> {
    let mut starts: Vec<&EventRecord> = Vec::new();
    for start in events.iter().filter(|e| e.kind == EventKind::RunStart) {
        if !starts.contains(&start) {
            starts.push(start);
        }
    }
    let distinct = starts.len();
    (distinct > 1).then(|| {
        format!(
            "{distinct} different runs started with the id \"{}\": their events are shown as one run",
            render::printable(run_id)
        )
    })
}

/// The summary of one run's events.
fn summarize(events: &[EventRecord]) -> Option<RunSummary> {
    let mut summaries = Summaries::default();
    events.iter().for_each(|event| {
        summaries.add(event);
    });
    summaries.newest_first().pop()
}

/// Width of the labels of the run's facts, so the two blocks of them line up.
const LABEL: usize = 16;

/// One fact, its value from the log and so made printable.
fn fact(out: &mut impl Write, label: &str, value: &str) -> io::Result<()> {
    fact_styled(out, label, &render::printable(value))
}

/// One fact whose value is already styled, from printable parts.
fn fact_styled(out: &mut impl Write, label: &str, value: &str) -> io::Result<()> {
    writeln!(out, "{HEADER}{label:<LABEL$}{HEADER:#}{value}")
}

fn story(
    out: &mut impl Write,
    run_id: &str,
    mut events: Vec<EventRecord>,
    children: &[RunSummary],
) -> io::Result<()> {
    // A run is found through its events, so it has at least one.
    let Some(summary) = summarize(&events) else {
        return Ok(());
    };

    fact(out, "run_id", run_id)?;
    if summary.has_run_start() {
        for (label, value) in [
            ("agent", summary.agent()),
            ("model", summary.model()),
            ("prompt_version", summary.prompt_version()),
            ("tools_version", summary.tools_version()),
        ] {
            fact(out, label, render::or_dash(value))?;
        }
        if let Some(parent) = summary.parent_run_id() {
            fact(out, "parent_run_id", parent)?;
        }
        if let Some(version) = summary.schema_version().filter(|v| *v != 1) {
            fact(out, "schema_version", &version.to_string())?;
        }
        fact(out, "started", &render::timestamp(summary.started_ms()))?;
    } else {
        fact_styled(
            out,
            "versions",
            &format!("{NOTE}unknown: no run_start event in the input{NOTE:#}"),
        )?;
        let how = if summary.has_stop() {
            "the stop's time less the run's duration"
        } else {
            "its first event in the input"
        };
        let started = render::timestamp(summary.started_ms());
        fact_styled(out, "started", &format!("{started} {DIM}({how}){DIM:#}"))?;
    }

    let guards: Vec<EventRecord> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Guard | EventKind::BudgetWarning))
        .cloned()
        .collect();
    events.retain(|e| matches!(e.kind, EventKind::ToolResult | EventKind::LlmResult));
    // Step ids are taken when a call starts, so this is the order the calls began in,
    // with a nested call right after its parent (whose event was written after it).
    events.sort_by_key(|e| (e.step_id.is_none(), e.step_id, e.ts_ms));
    writeln!(out)?;
    if events.is_empty() {
        writeln!(out, "{DIM}(no tool or LLM calls in the input){DIM:#}")?;
    } else {
        let last_step = if summary.has_stop() {
            summary.steps()
        } else {
            0
        };
        steps(out, &events, last_step, summary.has_stop())?;
    }

    if !children.is_empty() {
        writeln!(out)?;
        writeln!(out, "{HEADER}sub-runs{HEADER:#}")?;
        render::run_table(out, "  ", children)?;
    }

    writeln!(out)?;
    match summary.stop_reason() {
        Some(reason) => {
            let cell = render::stop_reason_cell(Some(reason));
            fact_styled(out, "stop_reason", &cell.styled())?;
            if let Some(ms) = summary.duration_ms() {
                fact(out, "duration", &render::duration(ms))?;
            }
            fact(out, "usage", &usage(&summary))?;
        }
        None => {
            let last = render::timestamp(summary.last_ts_ms());
            fact_styled(
                out,
                "stop_reason",
                &format!(
                    "{NOTE}- (no stop event: still running, or its process died; last event at {last}){NOTE:#}"
                ),
            )?;
            fact(out, "usage", &format!("so far {}", usage(&summary)))?;
        }
    }
    for event in &guards {
        let label = if event.kind == EventKind::Guard {
            "guard"
        } else {
            "budget warning"
        };
        fact(out, label, &guard_detail(event))?;
    }
    Ok(())
}

/// What a `guard` or `budget_warning` event says: the limit, how much of it was used,
/// where, and why.
fn guard_detail(event: &EventRecord) -> String {
    let amount = |amount: Option<&Amount>| match amount {
        Some(Amount::Count(n)) => n.to_string(),
        Some(Amount::Usd(usd)) => render::spend(*usd),
        None => "?".to_owned(),
    };
    let mut text = event.guard.clone().unwrap_or_else(|| "a guard".to_owned());
    if event.limit.is_some() {
        text.push_str(&format!(
            ": {} of {}",
            amount(event.used.as_ref()),
            amount(event.limit.as_ref())
        ));
    }
    match (event.step_id, event.tool.as_deref()) {
        (Some(step), Some(tool)) => text.push_str(&format!(", at step {step} ({tool})")),
        (Some(step), None) => text.push_str(&format!(", at step {step}")),
        _ => {}
    }
    if let Some(detail) = &event.detail {
        text.push_str(": ");
        text.push_str(detail);
    }
    text
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn usage(run: &RunSummary) -> String {
    let mut text = format!(
        "{}: {} ({}), {}; {} input + {} output tokens",
        plural(run.steps(), "step", "steps"),
        plural(run.tool_calls(), "tool call", "tool calls"),
        plural(run.tool_errors(), "error", "errors"),
        plural(run.llm_calls(), "LLM call", "LLM calls"),
        run.input_tokens(),
        run.output_tokens(),
    );
    let unpriced = run.unpriced_llm_calls();
    if run.spend_usd().is_some() || unpriced > 0 {
        text.push_str("; ");
        let spend = render::run_spend(run.spend_usd(), unpriced > 0);
        if spend == "unknown" {
            text.push_str("spend ");
        }
        text.push_str(&spend);
    }
    if unpriced > 0 {
        text.push_str(&format!(
            " ({} without a price)",
            plural(unpriced, "LLM call", "LLM calls")
        ));
    }
    text
}

/// The table of steps, with the redacted args and hash errors on lines of their own,
/// and a row for each run of step ids that has no event.
fn steps(
    out: &mut impl Write,
    events: &[EventRecord],
    last_step: u64,
    stopped: bool,
) -> io::Result<()> {
    let parents: BTreeMap<u64, u64> = events
        .iter()
        .filter_map(|e| Some((e.step_id?, e.parent_step_id?)))
        .collect();
    let depth = |event: &EventRecord| {
        let mut depth = 0;
        let mut parent = event.parent_step_id;
        // Bounded: a log that claims a cycle of parents must not hang us.
        while let Some(step) = parent.filter(|_| depth < 32) {
            depth += 1;
            parent = parents.get(&step).copied();
        }
        depth
    };

    use Align::{Left, Right};
    let mut table = Table::new(vec![Right, Left, Right, Left, Left]);
    table.header(&["STEP", "CALL", "DURATION", "STATUS", "DETAIL"]);
    // Lines printed under a row: (row index, indentation in columns, text).
    let mut extras: Vec<(usize, usize, String)> = Vec::new();
    let seen: BTreeSet<u64> = events.iter().filter_map(|e| e.step_id).collect();
    let last = last_step.max(seen.last().copied().unwrap_or(0));
    let mut next_expected = 1;
    let missing = if stopped {
        "not in the input"
    } else {
        "not in the input: still running, or lost"
    };
    let gap = |table: &mut Table, from: u64, to: u64| {
        if from > to {
            return;
        }
        let steps = if from == to {
            from.to_string()
        } else {
            format!("{from}-{to}")
        };
        table.row(vec![
            Cell::plain(steps),
            Cell::new("(no event)", NOTE),
            Cell::plain(""),
            Cell::plain(""),
            Cell::new(missing, NOTE),
        ]);
    };
    for event in events {
        if let Some(step) = event.step_id {
            gap(&mut table, next_expected, step.saturating_sub(1));
            next_expected = next_expected.max(step.saturating_add(1));
        }
        let indent = "  ".repeat(depth(event));
        let step = event.step_id.map_or("?".to_owned(), |s| s.to_string());
        let duration = event.duration_ms.map_or("-".to_owned(), render::duration);
        let row = match event.kind {
            EventKind::LlmResult => vec![
                Cell::plain(step),
                Cell::plain(format!(
                    "{indent}llm {}",
                    render::or_dash(event.model.as_deref())
                )),
                Cell::plain(duration),
                Cell::plain(""),
                Cell::plain(llm_detail(event)),
            ],
            _ => {
                let version = event.tool_version.as_deref().map(|v| format!("@{v}"));
                let name = render::or_dash(event.tool.as_deref());
                vec![
                    Cell::plain(step),
                    Cell::plain(format!("{indent}{name}{}", version.unwrap_or_default())),
                    Cell::plain(duration),
                    status_cell(event),
                    Cell::plain(tool_detail(event)),
                ]
            }
        };
        let row_index = table.rows();
        table.row(row);
        let column = indent.len() + 2;
        if let Some(args) = &event.args {
            // Compact with keys sorted, as `show` has always printed them; args too deep
            // to parse (which older versions could not read at all) as the log has them.
            let args = match args.to_value() {
                Ok(value) => serde_json::to_string(&value).unwrap_or_default(),
                Err(_) => args.as_str().to_owned(),
            };
            let args = render::printable(&args);
            extras.push((row_index, column, format!("args {args}")));
        }
        if let Some(error) = &event.hash_error {
            let error = render::printable(error);
            extras.push((row_index, column, format!("hash_error {error}")));
        }
    }
    gap(&mut table, next_expected, last);

    // The CALL column starts after the STEP column and its two-space gap.
    let call_column = table.width(0) + 2;
    for (index, line) in table.lines("").into_iter().enumerate() {
        writeln!(out, "{line}")?;
        for (_, column, text) in extras.iter().filter(|(row, ..)| *row == index) {
            let pad = " ".repeat(call_column + column);
            writeln!(out, "{pad}{DIM}{text}{DIM:#}")?;
        }
    }
    Ok(())
}

fn status_cell(event: &EventRecord) -> Cell {
    match (event.status, event.error.as_deref()) {
        (Some(Status::Ok), _) => Cell::new("ok", GOOD),
        (Some(Status::Error), Some(class)) => Cell::new(format!("error {class}"), BAD),
        (Some(Status::Error), None) => Cell::new("error", BAD),
        (None, _) => Cell::new("-", PLAIN),
    }
}

fn tool_detail(event: &EventRecord) -> String {
    let mut detail = format!("args_sha {}", render::or_dash(event.args_sha.as_deref()));
    if let Some(result) = &event.result_sha {
        detail.push_str(&format!("  result_sha {result}"));
    }
    detail
}

fn llm_detail(event: &EventRecord) -> String {
    let usage = event.usage.clone().unwrap_or_default();
    let tokens = |n: Option<u64>| n.map_or("-".to_owned(), |n| n.to_string());
    let mut detail = format!(
        "{} in / {} out tokens",
        tokens(usage.input_tokens),
        tokens(usage.output_tokens)
    );
    match usage.spend_usd {
        Some(spend) => {
            detail.push_str(", ");
            detail.push_str(&render::spend(spend));
        }
        None if usage.input_tokens.unwrap_or(0) > 0 || usage.output_tokens.unwrap_or(0) > 0 => {
            detail.push_str(", cost unknown (no price)");
        }
        None => {}
    }
    detail
}
