//! `tracing-agent stats`: the seed's drift signals per time bucket and overall, from
//! the event logs alone.
//!
//! Runs are put in the bucket of their start (UTC hours or days); a run is folded into
//! its bucket at its stop and forgotten (see [`crate::aggregate`]).

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::time::SystemTime;

use clap::{Args, ValueEnum};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::aggregate::{share, Aggregate, Collector, FinishedRun};
use crate::error::CliError;
use crate::filter::{Filter, Filters};
use crate::input::Inputs;
use crate::render::{self, Align, Cell, Table};

/// More empty buckets than this between the first run and the last are not listed one
/// by one (a log with one run in 1970 and one today): the buckets with runs still are.
const MOST_EMPTY_BUCKETS: u64 = 10_000;

/// The arguments of `stats`.
#[derive(Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    inputs: Inputs,

    #[command(flatten)]
    filters: Filters,

    /// The time buckets, in UTC.
    #[arg(long, value_enum, default_value_t = By::Day)]
    by: By,

    /// Separate statistics for each agent, model or prompt version.
    #[arg(long, value_enum, value_name = "WHAT")]
    per: Option<Per>,

    /// One JSON object per bucket and line (then one for all of them), every key always
    /// there.
    #[arg(long)]
    json: bool,
}

/// The length of a time bucket.
#[derive(Clone, Copy, Debug, ValueEnum, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum By {
    Hour,
    Day,
}

impl By {
    fn ms(self) -> u64 {
        match self {
            By::Hour => 3_600_000,
            By::Day => 86_400_000,
        }
    }
}

/// What runs are grouped by, besides time.
#[derive(Clone, Copy, Debug, ValueEnum, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Per {
    Agent,
    Model,
    PromptVersion,
}

impl Per {
    fn of(self, run: &FinishedRun) -> Option<String> {
        let summary = &run.summary;
        let value = match self {
            Per::Agent => summary.agent(),
            Per::Model => summary.model(),
            Per::PromptVersion => summary.prompt_version(),
        };
        value.map(str::to_owned)
    }
}

/// Runs by group: by bucket start, and all of the group's runs.
type Buckets = BTreeMap<Option<String>, (BTreeMap<u64, Aggregate>, Aggregate)>;

pub(crate) fn run(
    args: &StatsArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CliError> {
    for warning in args.filters.warnings() {
        render::warning(err, "stats", &warning);
    }
    let filter = args.filters.at(SystemTime::now());
    let mut buckets = Buckets::new();
    let mut collector = Collector::default();
    let mut total_runs = 0u64;
    let mut fold = |run: FinishedRun, buckets: &mut Buckets| {
        total_runs += 1;
        fold_into(buckets, run, &filter, args);
    };
    let skipped = args.inputs.read_events(|event| {
        if let Some(run) = collector.add(event) {
            fold(run, &mut buckets);
        }
    })?;
    let (rest, counts) = collector.finish();
    for run in rest {
        fold(run, &mut buckets);
    }
    for warning in skipped.warnings().into_iter().chain(counts.warning()) {
        render::warning(err, "stats", &warning);
    }
    if buckets.is_empty() {
        return Err(match total_runs {
            0 => CliError::failure("no runs in the input"),
            n => CliError::failure(format!("no runs match the filters ({n} in the input)")),
        });
    }

    let mut out = BufWriter::new(out);
    for (group, (by_start, overall)) in &mut buckets {
        let filled = fill_gaps(by_start, args.by);
        if filled.is_none() {
            render::warning(
                err,
                "stats",
                &format!(
                    "more than {MOST_EMPTY_BUCKETS} empty buckets between the first run and the last; only buckets with runs are shown"
                ),
            );
        }
        if args.json {
            for (start, aggregate) in by_start.iter_mut() {
                let line = bucket_json(args, group.as_deref(), Some(*start), aggregate);
                serde_json::to_writer(&mut out, &line).map_err(std::io::Error::from)?;
                writeln!(out)?;
            }
            let line = bucket_json(args, group.as_deref(), None, overall);
            serde_json::to_writer(&mut out, &line).map_err(std::io::Error::from)?;
            writeln!(out)?;
        } else {
            write_text(&mut out, args, group.as_deref(), by_start, overall)?;
        }
    }
    out.flush()?;
    Ok(())
}

fn fold_into(buckets: &mut Buckets, run: FinishedRun, filter: &Filter<'_>, args: &StatsArgs) {
    if !filter.keeps(&run.summary) {
        return;
    }
    // A run of an unknown agent, model or version is in the group "", not left out.
    let group = args.per.map(|per| per.of(&run).unwrap_or_default());
    let start = run.summary.started_ms() / args.by.ms() * args.by.ms();
    let (by_start, overall) = buckets.entry(group).or_default();
    by_start.entry(start).or_default().add(&run);
    overall.add(&run);
}

/// Adds the empty buckets between the first and the last; `None` (and nothing added)
/// when there are too many.
fn fill_gaps(by_start: &mut BTreeMap<u64, Aggregate>, by: By) -> Option<()> {
    let (Some(first), Some(last)) = (
        by_start.keys().next().copied(),
        by_start.keys().next_back().copied(),
    ) else {
        return Some(());
    };
    if (last - first) / by.ms() > MOST_EMPTY_BUCKETS {
        return None;
    }
    let mut start = first;
    while start < last {
        by_start.entry(start).or_default();
        start += by.ms();
    }
    Some(())
}

/// A statistic that may be unknown (no value to compute it from), as JSON.
fn num(value: Option<f64>) -> Value {
    value.map_or(Value::Null, |v| json!(v))
}

/// One bucket (or, with `start` `None`, all of them) as `--json` writes it.
fn bucket_json(
    args: &StatsArgs,
    group: Option<&str>,
    start: Option<u64>,
    a: &mut Aggregate,
) -> Value {
    let mut stop_reasons = Map::new();
    let with_stop = a.runs_with_stop();
    for (reason, count) in &a.stop_reasons {
        stop_reasons.insert(
            reason.clone(),
            json!({"count": count, "share": num(share(*count, with_stop))}),
        );
    }
    let runs = a.runs;
    let tools: Vec<Value> = a
        .tools
        .iter_mut()
        .map(|(name, tool)| {
            let errors: Map<String, Value> = tool
                .errors
                .iter()
                .map(|(class, count)| {
                    (
                        class.to_string(),
                        json!({"count": count, "rate": num(share(*count, tool.calls))}),
                    )
                })
                .collect();
            json!({
                "tool": &**name,
                "calls": tool.calls,
                "calls_per_run": num(share(tool.calls, runs)),
                "retries": tool.retries,
                "retries_per_run": num(share(tool.retries, runs)),
                "errors": tool.failed(),
                "error_rate": num(share(tool.failed(), tool.calls)),
                "error_classes": errors,
                "duration_ms": {
                    "p50": num(tool.duration_ms.quantile(0.5)),
                    "p95": num(tool.duration_ms.quantile(0.95)),
                },
            })
        })
        .collect();
    json!({
        "bucket": start.map(render::timestamp),
        "bucket_start_ms": start,
        "by": if start.is_some() { Some(args.by) } else { None },
        "per": args.per,
        "group": group,
        "runs": runs,
        "runs_without_start": a.runs_without_start,
        "runs_without_stop": a.runs_without_stop,
        "tool_calls_per_run": {
            "mean": num(a.tool_calls_per_run.mean()),
            "p50": num(a.tool_calls_per_run.quantile(0.5)),
            "p95": num(a.tool_calls_per_run.quantile(0.95)),
        },
        "latency_ms": {
            "runs": a.latency_ms.count(),
            "p50": num(a.latency_ms.quantile(0.5)),
            "p95": num(a.latency_ms.quantile(0.95)),
            "p99": num(a.latency_ms.quantile(0.99)),
        },
        "tokens_per_llm_call": {
            "calls": a.tokens_per_llm_call.count(),
            "p95": num(a.tokens_per_llm_call.quantile(0.95)),
        },
        "spend_usd_per_run": {
            "runs": a.spend_usd_per_run.count(),
            "mean": num(a.spend_usd_per_run.mean()),
            "p95": num(a.spend_usd_per_run.quantile(0.95)),
            "unknown_share": num(a.unknown_spend_share()),
        },
        "success_rate": num(a.success_rate()),
        "stop_reasons": stop_reasons,
        "tools": tools,
        "quantiles_exact": a.quantiles_exact(),
    })
}

fn opt(value: Option<f64>, show: impl Fn(f64) -> String) -> String {
    value.map_or_else(|| "-".to_owned(), show)
}

fn ms(value: Option<f64>) -> String {
    opt(value, |v| render::duration(v.round() as u64))
}

fn percent(value: Option<f64>) -> String {
    opt(value, |v| format!("{:.1}%", v * 100.0))
}

fn number(value: Option<f64>) -> String {
    opt(value, |v| {
        if v.fract() == 0.0 && v.abs() < 1e15 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        }
    })
}

fn usd(value: Option<f64>) -> String {
    opt(value, render::spend)
}

/// The bucket column: the bucket's start, or `all`.
fn bucket_name(start: Option<u64>, by: By) -> String {
    match start {
        None => "all".to_owned(),
        Some(start) => {
            let text = render::timestamp(start);
            match by {
                By::Day => text.get(..10).unwrap_or(&text).to_owned(),
                By::Hour => text
                    .get(..13)
                    .map_or(text.clone(), |hour| format!("{hour}h")),
            }
        }
    }
}

fn write_text(
    out: &mut impl Write,
    args: &StatsArgs,
    group: Option<&str>,
    by_start: &mut BTreeMap<u64, Aggregate>,
    overall: &mut Aggregate,
) -> std::io::Result<()> {
    if let (Some(per), Some(group)) = (args.per, group) {
        let what = match per {
            Per::Agent => "agent",
            Per::Model => "model",
            Per::PromptVersion => "prompt version",
        };
        let name = if group.is_empty() { "(unknown)" } else { group };
        writeln!(
            out,
            "{}",
            Cell::new(format!("{what} {name}"), render::HEADER).styled()
        )?;
    }
    let mut table = Table::new([vec![Align::Left], vec![Align::Right; 13]].concat());
    table.header(&[
        "bucket",
        "runs",
        "calls/run",
        "p50",
        "p95",
        "latency p50",
        "p95",
        "p99",
        "tokens/call p95",
        "spend/run",
        "p95",
        "cost unknown",
        "completed",
        "no stop",
    ]);
    let mut rows: Vec<(Option<u64>, &mut Aggregate)> =
        by_start.iter_mut().map(|(s, a)| (Some(*s), a)).collect();
    rows.push((None, overall));
    for (start, a) in &mut rows {
        let style = if start.is_none() {
            render::HEADER
        } else {
            render::PLAIN
        };
        let cells = vec![
            bucket_name(*start, args.by),
            a.runs.to_string(),
            opt(a.tool_calls_per_run.mean(), |v| format!("{v:.1}")),
            number(a.tool_calls_per_run.quantile(0.5)),
            number(a.tool_calls_per_run.quantile(0.95)),
            ms(a.latency_ms.quantile(0.5)),
            ms(a.latency_ms.quantile(0.95)),
            ms(a.latency_ms.quantile(0.99)),
            number(a.tokens_per_llm_call.quantile(0.95)),
            usd(a.spend_usd_per_run.mean()),
            usd(a.spend_usd_per_run.quantile(0.95)),
            percent(a.unknown_spend_share()),
            percent(a.success_rate()),
            a.runs_without_stop.to_string(),
        ];
        table.row(
            cells
                .into_iter()
                .map(|text| Cell::new(text, style))
                .collect(),
        );
    }
    for line in table.lines("") {
        writeln!(out, "{line}")?;
    }

    // Stop reasons: one column per reason seen anywhere, shares of the runs with a stop.
    let reasons: Vec<String> = rows
        .last()
        .map(|(_, a)| a.stop_reasons.keys().cloned().collect())
        .unwrap_or_default();
    if !reasons.is_empty() {
        writeln!(out)?;
        let mut table = Table::new([vec![Align::Left], vec![Align::Right; reasons.len()]].concat());
        let header: Vec<&str> = std::iter::once("stop reasons")
            .chain(reasons.iter().map(String::as_str))
            .collect();
        table.header(&header);
        for (start, a) in &rows {
            let style = if start.is_none() {
                render::HEADER
            } else {
                render::PLAIN
            };
            let mut cells = vec![Cell::new(bucket_name(*start, args.by), style)];
            for reason in &reasons {
                let count = a.stopped(reason);
                let text = match share(count, a.runs_with_stop()) {
                    Some(s) if count > 0 => format!("{count} ({:.1}%)", s * 100.0),
                    _ => "-".to_owned(),
                };
                cells.push(Cell::new(text, style));
            }
            table.row(cells);
        }
        for line in table.lines("") {
            writeln!(out, "{line}")?;
        }
    }

    // Tools, over all buckets.
    let overall = &mut rows.last_mut().expect("the overall row").1;
    if !overall.tools.is_empty() {
        writeln!(out)?;
        let mut table = Table::new(vec![
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Left,
            Align::Right,
            Align::Right,
        ]);
        table.header(&[
            "tool (all)",
            "calls",
            "calls/run",
            "retries",
            "errors",
            "error classes",
            "p50",
            "p95",
        ]);
        let runs = overall.runs;
        for (name, tool) in overall.tools.iter_mut() {
            let classes: Vec<String> = tool
                .errors
                .iter()
                .map(|(class, count)| format!("{class} {}", percent(share(*count, tool.calls))))
                .collect();
            table.row(vec![
                Cell::plain(&**name),
                Cell::plain(tool.calls.to_string()),
                Cell::plain(opt(share(tool.calls, runs), |v| format!("{v:.2}"))),
                Cell::plain(tool.retries.to_string()),
                Cell::plain(percent(share(tool.failed(), tool.calls))),
                Cell::plain(if classes.is_empty() {
                    "-".to_owned()
                } else {
                    classes.join(", ")
                }),
                Cell::plain(ms(tool.duration_ms.quantile(0.5))),
                Cell::plain(ms(tool.duration_ms.quantile(0.95))),
            ]);
        }
        for line in table.lines("") {
            writeln!(out, "{line}")?;
        }
    }
    if !overall.quantiles_exact() {
        writeln!(
            out,
            "{}",
            Cell::new(
                format!(
                    "quantiles of more than {} values are from a sketch, within {}% of the true value",
                    crate::quantile::EXACT_LIMIT,
                    crate::quantile::SKETCH_ALPHA * 100.0
                ),
                render::DIM
            )
            .styled()
        )?;
    }
    writeln!(out)?;
    Ok(())
}
