//! `tracing-agent diff`: two runs aligned from their logs alone, with the codes a replay's
//! report uses (the library's `replay::align`): yesterday's run against today's, or a
//! recorded run against its replay. No snapshot store is needed.
//!
//! Streams: only the tool calls of runs whose id starts with one of the two requests are
//! kept while reading.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Write;

use clap::Args;
use serde::Serialize;
use tracing_agent::replay::{align, Alignment, CallSummary, CompareOutcomes};
use tracing_agent::{EventKind, EventRecord, Status};

use crate::error::CliError;
use crate::input::Inputs;

/// How many candidates an ambiguous prefix lists.
const CANDIDATES: usize = 10;

/// The arguments of `diff`.
#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The first run (the recorded one): its id, or a prefix of exactly one run id.
    #[arg(value_name = "RUN_A")]
    run_a: String,

    /// The second run (the replay, or today's run): its id or a unique prefix.
    #[arg(value_name = "RUN_B")]
    run_b: String,

    /// Print one JSON object (the runs, `match`, the full alignment and every
    /// divergence) instead of the table.
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    inputs: Inputs,
}

/// What `--json` prints.
#[derive(Serialize)]
struct DiffJson<'a> {
    run_a: &'a str,
    run_b: &'a str,
    #[serde(rename = "match")]
    matched: bool,
    #[serde(flatten)]
    alignment: &'a Alignment,
}

/// Runs `diff`; `Ok(true)` when the two runs made the same calls with the same outcomes.
pub(crate) fn run(
    args: &DiffArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<bool, CliError> {
    let mut calls: BTreeMap<String, Vec<CallSummary>> = BTreeMap::new();
    // (run, step) -> the step of the tool call it was made inside.
    let mut parents: HashMap<(String, u64), u64> = HashMap::new();
    let mut started: BTreeSet<String> = BTreeSet::new();
    let wanted = |run_id: &str| run_id.starts_with(&args.run_a) || run_id.starts_with(&args.run_b);
    let skipped = args.inputs.read_events(|event: &EventRecord| {
        let Some(run_id) = event.run_id.as_deref().filter(|id| wanted(id)) else {
            return;
        };
        match event.kind {
            EventKind::RunStart => {
                started.insert(run_id.to_owned());
            }
            EventKind::ToolResult => {
                let run_id = run_id.to_owned();
                if let (Some(step), Some(parent)) = (event.step_id, event.parent_step_id) {
                    parents.insert((run_id.clone(), step), parent);
                }
                calls.entry(run_id).or_default().push(summary(event));
            }
            _ => {
                calls.entry(run_id.to_owned()).or_default();
            }
        }
    })?;
    for warning in skipped.warnings() {
        crate::render::warning(err, "diff", &warning);
    }
    let known: BTreeSet<&String> = calls.keys().chain(&started).collect();
    let a = resolve(&known, &args.run_a)?;
    let b = resolve(&known, &args.run_b)?;
    let take = |run: &str| {
        let mut calls = calls.get(run).cloned().unwrap_or_default();
        calls.sort_by_key(|call| call.step);
        calls
    };
    let (calls_a, calls_b) = (take(&a), take(&b));
    let calls_a = without_calls_inside_served(calls_a, &calls_b, |step| {
        parents.get(&(a.clone(), step)).copied()
    });
    let alignment = align(calls_a, calls_b, CompareOutcomes::All);
    if args.json {
        let json = DiffJson {
            run_a: &a,
            run_b: &b,
            matched: alignment.is_match(),
            alignment: &alignment,
        };
        serde_json::to_writer(&mut *out, &json)
            .map_err(|e| CliError::failure(format!("cannot write the output: {e}")))?;
        writeln!(out)?;
    } else {
        write_human(out, &a, &b, &alignment)?;
    }
    Ok(alignment.is_match())
}

/// When `b` is a replay of `a`: the calls `a` made inside a call `b` was served (whose
/// body did not run in `b`) were never made again, so they are left out, as the replay's
/// own report leaves them out. Served calls pair with `a`'s by (tool, args_sha,
/// occurrence), as the alignment pairs them.
fn without_calls_inside_served(
    a: Vec<CallSummary>,
    b: &[CallSummary],
    parent_of: impl Fn(u64) -> Option<u64>,
) -> Vec<CallSummary> {
    let mut occurrences: HashMap<(&str, Option<&str>), Vec<u64>> = HashMap::new();
    for call in &a {
        if let Some(step) = call.step {
            occurrences
                .entry((call.tool.as_str(), call.args_sha.as_deref()))
                .or_default()
                .push(step);
        }
    }
    let mut seen: HashMap<(&str, Option<&str>), usize> = HashMap::new();
    let mut served = HashSet::new();
    for call in b {
        let key = (call.tool.as_str(), call.args_sha.as_deref());
        let nth = seen.entry(key).or_default();
        let step = occurrences.get(&key).and_then(|steps| steps.get(*nth));
        *nth += 1;
        if let (Some(step), Some("served")) = (step, call.replay.as_deref()) {
            served.insert(*step);
        }
    }
    if served.is_empty() {
        return a;
    }
    let inside_served = |call: &CallSummary| {
        let mut at = call.step.and_then(&parent_of);
        // Bounded: a log whose parents form a cycle cannot loop.
        for _ in 0..=a.len() {
            match at {
                None => return false,
                Some(parent) if served.contains(&parent) => return true,
                Some(parent) => at = parent_of(parent),
            }
        }
        false
    };
    let kept: Vec<CallSummary> = a.iter().filter(|c| !inside_served(c)).cloned().collect();
    kept
}

fn summary(event: &EventRecord) -> CallSummary {
    CallSummary {
        step: event.step_id,
        tool: event.tool.clone().unwrap_or_default(),
        args_sha: event.args_sha.clone(),
        error: match event.status {
            Some(Status::Error) => Some(event.error.clone().unwrap_or_default()),
            _ => None,
        },
        result_sha: event.result_sha.clone(),
        replay: event.replay.as_ref().and_then(|note| note.call.clone()),
    }
}

/// The one run whose id is `asked`, or else starts with it.
fn resolve(known: &BTreeSet<&String>, asked: &str) -> Result<String, CliError> {
    if known.iter().any(|id| id.as_str() == asked) {
        return Ok(asked.to_owned());
    }
    let matching: Vec<&&String> = known.iter().filter(|id| id.starts_with(asked)).collect();
    match matching.as_slice() {
        [only] => Ok((**only).clone()),
        [] => Err(CliError::usage(format!(
            "no run id is or starts with {asked:?} in the input"
        ))),
        many => Err(CliError::usage(format!(
            "{asked:?} starts {} run ids: {}; give more of the id",
            many.len(),
            many.iter()
                .take(CANDIDATES)
                .map(|id| id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn write_human(
    out: &mut dyn Write,
    a: &str,
    b: &str,
    alignment: &Alignment,
) -> Result<(), CliError> {
    writeln!(
        out,
        "diff {a} ({} calls) against {b} ({} calls)",
        alignment.recorded.len(),
        alignment.replayed.len()
    )?;
    let mut table = String::new();
    // Writing to a String cannot fail.
    let _ = alignment.write_table(&mut table);
    out.write_all(table.as_bytes())?;
    if alignment.is_match() {
        writeln!(out, "the runs match")?;
    } else {
        writeln!(out, "{} divergences:", alignment.divergences.len())?;
        for divergence in &alignment.divergences {
            writeln!(out, "  {divergence}")?;
        }
    }
    Ok(())
}
