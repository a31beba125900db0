//! `tracing-agent drift`: a baseline period against a current one, signal by signal, with
//! a statistical test for each, and then where the change comes from.
//!
//! A signal has drifted when its change is both statistically significant (p below
//! `--alpha`, with at least `--min-runs` runs a side) and large enough to matter (past its
//! threshold): with thousands of runs a 3 % change is significant and nobody's
//! incident, and with 10 runs a doubling can be luck. Only increases (and a drop of
//! success) are drift: an agent that got cheaper is not an alert.

use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::SystemTime;

use clap::Args;
use serde::Serialize;

use crate::aggregate::{share, Aggregate, Collector, FinishedRun, ToolAggregate};
use crate::error::CliError;
use crate::filter::{parse_since, Since};
use crate::input::Inputs;
use crate::render::{self, Align, Cell, Table};
use crate::significance::{mann_whitney, two_proportions, welch, Moments};

/// The stop reasons the seed watches besides success: loops, upstream timeouts and the
/// budgets.
const WATCHED_STOP_REASONS: [&str; 7] = [
    "loop_detected",
    "tool_timeout",
    "max_steps",
    "max_tool_calls",
    "token_budget",
    "spend_budget",
    "time_budget",
];

/// The arguments of `drift`.
#[derive(Args, Debug)]
pub struct DriftArgs {
    /// Logs holding both periods, told apart by the time windows below.
    #[arg(value_name = "FILE")]
    files: Vec<String>,

    /// Logs of the baseline period (then the FILE arguments, if any, are the current one
    /// unless --current is given too).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    baseline: Vec<String>,

    /// Logs of the current period.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    current: Vec<String>,

    /// Baseline runs started at or after this (`14d`, `2024-11-24T10:00:00Z`).
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    baseline_since: Option<Since>,

    /// Baseline runs started before this.
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    baseline_until: Option<Since>,

    /// Current runs started at or after this.
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    current_since: Option<Since>,

    /// Current runs started before this.
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    current_until: Option<Since>,

    #[command(flatten)]
    thresholds: Thresholds,

    /// One JSON object, every key always there.
    #[arg(long)]
    json: bool,
}

/// When a change is drift: the thresholds and the significance level, shared by
/// `drift` and `report --baseline`.
#[derive(Args, Debug, Clone)]
pub(crate) struct Thresholds {
    /// Tool calls per run (mean) drifted at this ratio of current to baseline (the
    /// seed's 2x).
    #[arg(long, value_name = "RATIO", default_value_t = 2.0)]
    tool_calls_ratio: f64,

    /// Run latency p95 drifted at this ratio (the seed's 2x).
    #[arg(long, value_name = "RATIO", default_value_t = 2.0)]
    latency_ratio: f64,

    /// Tokens per LLM call (mean) drifted at this ratio.
    #[arg(long, value_name = "RATIO", default_value_t = 1.5)]
    tokens_ratio: f64,

    /// Spend per run (mean) drifted at this ratio.
    #[arg(long, value_name = "RATIO", default_value_t = 1.5)]
    spend_ratio: f64,

    /// Success (the share of runs `completed`) drifted when it fell by this much
    /// (0.05: five percentage points).
    #[arg(long, value_name = "SHARE", default_value_t = 0.05)]
    success_drop: f64,

    /// A watched stop reason (loop_detected, tool_timeout, the budgets) drifted at this
    /// ratio of its share of runs.
    #[arg(long, value_name = "RATIO", default_value_t = 2.0)]
    stop_reason_ratio: f64,

    /// A tool's calls or retries per run, error class rate or duration p95 moved at
    /// this ratio.
    #[arg(long, value_name = "RATIO", default_value_t = 1.5)]
    source_ratio: f64,

    /// A change is significant when its p-value is below this.
    #[arg(long, value_name = "P", default_value_t = 0.001)]
    alpha: f64,

    /// Fewer runs than this on either side are not enough to call anything significant.
    #[arg(long, value_name = "N", default_value_t = 30)]
    min_runs: u64,
}

impl Thresholds {
    /// Refuses thresholds that cannot be met or make no sense.
    pub(crate) fn check(&self) -> Result<(), CliError> {
        let t = self;
        for (name, value) in [
            ("--tool-calls-ratio", t.tool_calls_ratio),
            ("--latency-ratio", t.latency_ratio),
            ("--tokens-ratio", t.tokens_ratio),
            ("--spend-ratio", t.spend_ratio),
            ("--stop-reason-ratio", t.stop_reason_ratio),
            ("--source-ratio", t.source_ratio),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(CliError::usage(format!(
                    "{name} must be a positive number, not {value}"
                )));
            }
        }
        if !(t.alpha > 0.0 && t.alpha < 1.0) {
            return Err(CliError::usage(format!(
                "--alpha must be between 0 and 1, not {}",
                t.alpha
            )));
        }
        if !(0.0..=1.0).contains(&t.success_drop) {
            return Err(CliError::usage(format!(
                "--success-drop must be between 0 and 1, not {}",
                t.success_drop
            )));
        }
        Ok(())
    }
}

/// A period: its logs, window, and runs.
struct Period {
    files: Vec<String>,
    since: Option<u64>,
    until: Option<u64>,
    aggregate: Aggregate,
}

impl Period {
    fn keeps(&self, run: &FinishedRun) -> bool {
        let started = run.summary.started_ms();
        self.since.is_none_or(|since| started >= since)
            && self.until.is_none_or(|until| started < until)
    }
}

/// Runs `drift`: 0 when nothing drifted, 1 when something did, 2 on bad input.
pub(crate) fn run(args: &DriftArgs, out: &mut dyn Write, err: &mut dyn Write) -> ExitCode {
    match compare(args, out, err) {
        Ok(drifted) => ExitCode::from(u8::from(drifted)),
        Err(error) if error.code == 0 => ExitCode::SUCCESS,
        Err(error) => {
            render::error(err, "drift", &error.message);
            ExitCode::from(2)
        }
    }
}

fn window(
    since: Option<Since>,
    until: Option<Since>,
    now: SystemTime,
) -> (Option<u64>, Option<u64>) {
    (
        since.map(|s| s.cutoff_ms(now)),
        until.map(|u| u.cutoff_ms(now)),
    )
}

fn periods(args: &DriftArgs) -> Result<(Period, Period), CliError> {
    let now = SystemTime::now();
    let pick = |given: &[String], which: &str, windowed: bool| -> Result<Vec<String>, CliError> {
        if !given.is_empty() {
            return Ok(given.to_vec());
        }
        if args.files.is_empty() {
            return Err(CliError::usage(format!(
                "no logs for the {which} period: give --{which} FILE..., or FILEs with --{which}-since/--{which}-until"
            )));
        }
        if !windowed && args.baseline.is_empty() && args.current.is_empty() {
            return Err(CliError::usage(format!(
                "the same FILEs hold both periods, so the {which} period needs a window: --{which}-since and/or --{which}-until"
            )));
        }
        Ok(args.files.clone())
    };
    let baseline_windowed = args.baseline_since.is_some() || args.baseline_until.is_some();
    let current_windowed = args.current_since.is_some() || args.current_until.is_some();
    let baseline_files = pick(&args.baseline, "baseline", baseline_windowed)?;
    let current_files = pick(&args.current, "current", current_windowed)?;
    let (since, until) = window(args.baseline_since, args.baseline_until, now);
    let baseline = Period {
        files: baseline_files,
        since,
        until,
        aggregate: Aggregate::default(),
    };
    let (since, until) = window(args.current_since, args.current_until, now);
    let current = Period {
        files: current_files,
        since,
        until,
        aggregate: Aggregate::default(),
    };
    args.thresholds.check()?;
    Ok((baseline, current))
}

/// Reads `files` once and folds each run into every period that reads these files and
/// whose window holds it.
fn read(
    files: &[String],
    periods: &mut [&mut Period],
    err: &mut dyn Write,
) -> Result<(), CliError> {
    let inputs = Inputs::of(files.to_vec());
    let mut collector = Collector::default();
    let fold = |run: FinishedRun, periods: &mut [&mut Period]| {
        for period in periods.iter_mut() {
            if period.keeps(&run) {
                period.aggregate.add(&run);
            }
        }
    };
    let skipped = inputs.read_events(|event| {
        if let Some(run) = collector.add(event) {
            fold(run, periods);
        }
    })?;
    let (rest, counts) = collector.finish();
    for run in rest {
        fold(run, periods);
    }
    for warning in skipped.warnings().into_iter().chain(counts.warning()) {
        render::warning(err, "drift", &warning);
    }
    Ok(())
}

/// One drift signal, compared.
#[derive(Serialize, Debug)]
pub(crate) struct Signal {
    pub signal: String,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    pub ratio: Option<f64>,
    pub p_value: f64,
    test: &'static str,
    pub significant: bool,
    pub threshold: String,
    pub drifted: bool,
}

/// One place a change may come from: a tool's calls, retries, an error class, a
/// duration.
#[derive(Serialize, Debug)]
pub(crate) struct Source {
    pub tool: String,
    pub measure: &'static str,
    pub error_class: Option<String>,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    pub ratio: Option<f64>,
    /// Current less baseline, in the measure's unit.
    change: Option<f64>,
    pub p_value: f64,
    test: &'static str,
    significant: bool,
    pub moved: bool,
}

impl Source {
    /// What moved, for a person: `retries per run`, `RateLimited (share of calls)`.
    pub(crate) fn what(&self) -> String {
        match &self.error_class {
            Some(class) => format!("{class} (share of calls)"),
            None => self.measure.replace('_', " "),
        }
    }
}

#[derive(Serialize)]
struct PeriodJson<'a> {
    runs: u64,
    runs_without_stop: u64,
    files: &'a [String],
    since: Option<String>,
    until: Option<String>,
}

impl<'a> PeriodJson<'a> {
    fn of(period: &'a Period) -> Self {
        PeriodJson {
            runs: period.aggregate.runs,
            runs_without_stop: period.aggregate.runs_without_stop,
            files: &period.files,
            since: period.since.map(render::timestamp),
            until: period.until.map(render::timestamp),
        }
    }
}

#[derive(Serialize)]
struct Report<'a> {
    drifted: bool,
    drifted_signals: Vec<&'a str>,
    baseline: PeriodJson<'a>,
    current: PeriodJson<'a>,
    alpha: f64,
    min_runs: u64,
    enough_runs: bool,
    signals: &'a [Signal],
    sources: &'a [Source],
}

fn ratio(baseline: Option<f64>, current: Option<f64>) -> Option<f64> {
    match (baseline, current) {
        (Some(b), Some(c)) if b > 0.0 => Some(c / b),
        (Some(b), Some(c)) if b == 0.0 && c > 0.0 => Some(f64::INFINITY),
        _ => None,
    }
}

fn compare(args: &DriftArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<bool, CliError> {
    let (mut baseline, mut current) = periods(args)?;
    if baseline.files == current.files {
        let files = baseline.files.clone();
        read(&files, &mut [&mut baseline, &mut current], err)?;
    } else {
        let files = baseline.files.clone();
        read(&files, &mut [&mut baseline], err)?;
        let files = current.files.clone();
        read(&files, &mut [&mut current], err)?;
    }
    for (name, period) in [("baseline", &baseline), ("current", &current)] {
        if period.aggregate.runs == 0 {
            let window = match (period.since, period.until) {
                (None, None) => String::new(),
                (since, until) => format!(
                    " between {} and {}",
                    since.map_or("the beginning".to_owned(), render::timestamp),
                    until.map_or("the end".to_owned(), render::timestamp)
                ),
            };
            return Err(CliError::usage(format!(
                "no runs in the {name} period{window} (read {})",
                period.files.join(", ")
            )));
        }
    }

    let Comparison {
        signals,
        sources,
        enough,
    } = compare_aggregates(
        &args.thresholds,
        &mut baseline.aggregate,
        &mut current.aggregate,
    );
    let drifted_signals: Vec<&str> = signals
        .iter()
        .filter(|s| s.drifted)
        .map(|s| s.signal.as_str())
        .collect();
    let drifted = !drifted_signals.is_empty();

    let mut out = BufWriter::new(out);
    if args.json {
        let report = Report {
            drifted,
            drifted_signals: drifted_signals.clone(),
            baseline: PeriodJson::of(&baseline),
            current: PeriodJson::of(&current),
            alpha: args.thresholds.alpha,
            min_runs: args.thresholds.min_runs,
            enough_runs: enough,
            signals: &signals,
            sources: &sources,
        };
        serde_json::to_writer(&mut out, &report).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        write_text(
            &mut out, args, &baseline, &current, &signals, &sources, enough,
        )?;
    }
    out.flush()?;
    Ok(drifted)
}

/// A baseline and a current set of runs compared: every signal, and every place a
/// change may come from (tools first that added the most calls per run).
pub(crate) struct Comparison {
    pub signals: Vec<Signal>,
    pub sources: Vec<Source>,
    /// Whether both sides have `--min-runs` runs: without, nothing is significant.
    pub enough: bool,
}

/// Compares `b` (the baseline) with `c` (the current period) under `thresholds`.
pub(crate) fn compare_aggregates(
    thresholds: &Thresholds,
    b: &mut Aggregate,
    c: &mut Aggregate,
) -> Comparison {
    let enough = b.runs >= thresholds.min_runs && c.runs >= thresholds.min_runs;
    Comparison {
        signals: signals(thresholds, b, c, enough),
        sources: sources(thresholds, b, c, enough),
        enough,
    }
}

fn signals(args: &Thresholds, b: &mut Aggregate, c: &mut Aggregate, enough: bool) -> Vec<Signal> {
    let mut signals = Vec::new();
    let mut distribution = |name: &str,
                            baseline: Option<f64>,
                            current: Option<f64>,
                            samples: (&[f64], &[f64]),
                            threshold: f64| {
        let p_value = mann_whitney(samples.0, samples.1);
        let ratio = ratio(baseline, current);
        let significant = enough && p_value < args.alpha;
        signals.push(Signal {
            signal: name.to_owned(),
            baseline,
            current,
            ratio,
            p_value,
            test: "mann_whitney",
            significant,
            threshold: format!("ratio >= {threshold}"),
            drifted: significant && ratio.is_some_and(|r| r >= threshold),
        });
    };
    distribution(
        "tool_calls_per_run",
        b.tool_calls_per_run.mean(),
        c.tool_calls_per_run.mean(),
        (b.tool_calls_per_run.sample(), c.tool_calls_per_run.sample()),
        args.tool_calls_ratio,
    );
    let (bl, cl) = (b.latency_ms.quantile(0.95), c.latency_ms.quantile(0.95));
    distribution(
        "latency_p95_ms",
        bl,
        cl,
        (b.latency_ms.sample(), c.latency_ms.sample()),
        args.latency_ratio,
    );
    distribution(
        "tokens_per_llm_call",
        b.tokens_per_llm_call.mean(),
        c.tokens_per_llm_call.mean(),
        (
            b.tokens_per_llm_call.sample(),
            c.tokens_per_llm_call.sample(),
        ),
        args.tokens_ratio,
    );
    distribution(
        "spend_usd_per_run",
        b.spend_usd_per_run.mean(),
        c.spend_usd_per_run.mean(),
        (b.spend_usd_per_run.sample(), c.spend_usd_per_run.sample()),
        args.spend_ratio,
    );

    let (bs, cs) = (b.runs_with_stop(), c.runs_with_stop());
    let (bx, cx) = (b.stopped("completed"), c.stopped("completed"));
    let p_value = two_proportions(bx, bs, cx, cs);
    let (baseline, current) = (share(bx, bs), share(cx, cs));
    let significant = enough && p_value < args.alpha;
    signals.push(Signal {
        signal: "success_rate".to_owned(),
        baseline,
        current,
        ratio: ratio(baseline, current),
        p_value,
        test: "two_proportions",
        significant,
        threshold: format!("drop >= {}", args.success_drop),
        drifted: significant
            && matches!((baseline, current), (Some(b), Some(c)) if b - c >= args.success_drop),
    });
    for reason in WATCHED_STOP_REASONS {
        let (bx, cx) = (b.stopped(reason), c.stopped(reason));
        if bx == 0 && cx == 0 {
            continue;
        }
        let p_value = two_proportions(bx, bs, cx, cs);
        let (baseline, current) = (share(bx, bs), share(cx, cs));
        let ratio = ratio(baseline, current);
        let significant = enough && p_value < args.alpha;
        signals.push(Signal {
            signal: format!("stop_reason:{reason}"),
            baseline,
            current,
            ratio,
            p_value,
            test: "two_proportions",
            significant,
            threshold: format!("ratio >= {}", args.stop_reason_ratio),
            drifted: significant && ratio.is_some_and(|r| r >= args.stop_reason_ratio),
        });
    }
    signals
}

/// Mean and sample variance per run of a count summed over `runs` runs, from its sum and
/// sum of squares (runs without any count 0).
fn per_run(sum: u64, squares: f64, runs: u64) -> Moments {
    let n = runs as f64;
    let mean = if runs > 0 { sum as f64 / n } else { 0.0 };
    let variance = if runs > 1 {
        ((squares - n * mean * mean) / (n - 1.0)).max(0.0)
    } else {
        0.0
    };
    Moments {
        count: runs,
        mean,
        variance,
    }
}

fn sources(args: &Thresholds, b: &mut Aggregate, c: &mut Aggregate, enough: bool) -> Vec<Source> {
    let mut names: Vec<std::rc::Rc<str>> = b.tools.keys().chain(c.tools.keys()).cloned().collect();
    names.sort();
    names.dedup();
    let empty = ToolAggregate::default();
    // Per tool, its sources and how much it added to tool calls per run, to list the
    // tools that explain most of the change first.
    let mut by_tool: Vec<(f64, Vec<Source>)> = Vec::new();
    for name in names {
        let mut bt = b.tools.get(&name).cloned().unwrap_or_else(|| empty.clone());
        let mut ct = c.tools.get(&name).cloned().unwrap_or_else(|| empty.clone());
        let mut found = Vec::new();
        let moved = |significant: bool, ratio: Option<f64>, args: &Thresholds| {
            significant && ratio.is_some_and(|r| r >= args.source_ratio)
        };
        for (measure, (bs, bq), (cs, cq)) in [
            (
                "calls_per_run",
                (bt.calls, bt.calls_squared),
                (ct.calls, ct.calls_squared),
            ),
            (
                "retries_per_run",
                (bt.retries, bt.retries_squared),
                (ct.retries, ct.retries_squared),
            ),
        ] {
            if bs == 0 && cs == 0 {
                continue;
            }
            let (bm, cm) = (per_run(bs, bq, b.runs), per_run(cs, cq, c.runs));
            let p_value = welch(bm, cm);
            let significant = enough && p_value < args.alpha;
            let r = ratio(Some(bm.mean), Some(cm.mean));
            found.push(Source {
                tool: name.to_string(),
                measure,
                error_class: None,
                baseline: Some(bm.mean),
                current: Some(cm.mean),
                ratio: r,
                change: Some(cm.mean - bm.mean),
                p_value,
                test: "welch",
                significant,
                moved: moved(significant, r, args),
            });
        }
        let mut classes: Vec<std::rc::Rc<str>> =
            bt.errors.keys().chain(ct.errors.keys()).cloned().collect();
        classes.sort();
        classes.dedup();
        for class in classes {
            let bx = bt.errors.get(&class).copied().unwrap_or(0);
            let cx = ct.errors.get(&class).copied().unwrap_or(0);
            let p_value = two_proportions(bx, bt.calls, cx, ct.calls);
            let significant = enough && p_value < args.alpha;
            let (baseline, current) = (share(bx, bt.calls), share(cx, ct.calls));
            let r = ratio(baseline, current);
            found.push(Source {
                tool: name.to_string(),
                measure: "error_rate",
                error_class: Some(class.to_string()),
                baseline,
                current,
                ratio: r,
                change: current.zip(baseline).map(|(c, b)| c - b),
                p_value,
                test: "two_proportions",
                significant,
                moved: moved(significant, r, args),
            });
        }
        let (bd, cd) = (bt.duration_ms.quantile(0.95), ct.duration_ms.quantile(0.95));
        if bd.is_some() || cd.is_some() {
            let p_value = mann_whitney(bt.duration_ms.sample(), ct.duration_ms.sample());
            let significant = enough && p_value < args.alpha;
            let r = ratio(bd, cd);
            found.push(Source {
                tool: name.to_string(),
                measure: "duration_p95_ms",
                error_class: None,
                baseline: bd,
                current: cd,
                ratio: r,
                change: cd.zip(bd).map(|(c, b)| c - b),
                p_value,
                test: "mann_whitney",
                significant,
                moved: moved(significant, r, args),
            });
        }
        let added = share(ct.calls, c.runs).unwrap_or(0.0) - share(bt.calls, b.runs).unwrap_or(0.0);
        by_tool.push((added, found));
    }
    by_tool.sort_by(|x, y| y.0.total_cmp(&x.0));
    by_tool.into_iter().flat_map(|(_, found)| found).collect()
}

pub(crate) fn p_text(p: f64) -> String {
    if p < 1e-16 {
        "<1e-16".to_owned()
    } else if p < 0.001 {
        format!("{p:.0e}")
    } else {
        format!("{p:.3}")
    }
}

pub(crate) fn ratio_text(ratio: Option<f64>) -> String {
    match ratio {
        Some(r) if r.is_infinite() => "new".to_owned(),
        Some(r) => format!("{r:.2}x"),
        None => "-".to_owned(),
    }
}

/// A value of `signal` or `measure` for a person.
pub(crate) fn value_text(what: &str, value: Option<f64>) -> String {
    let Some(v) = value else {
        return "-".to_owned();
    };
    if what.ends_with("_ms") {
        render::duration(v.round() as u64)
    } else if what.starts_with("spend") {
        render::spend(v)
    } else if what.starts_with("stop_reason") || what.ends_with("rate") {
        format!("{:.1}%", v * 100.0)
    } else {
        format!("{v:.2}")
    }
}

fn write_text(
    out: &mut impl Write,
    args: &DriftArgs,
    baseline: &Period,
    current: &Period,
    signals: &[Signal],
    sources: &[Source],
    enough: bool,
) -> std::io::Result<()> {
    let period = |p: &Period| {
        let mut text = format!("{} runs", p.aggregate.runs);
        if let Some(since) = p.since {
            text.push_str(&format!(" from {}", render::timestamp(since)));
        }
        if let Some(until) = p.until {
            text.push_str(&format!(" until {}", render::timestamp(until)));
        }
        text
    };
    writeln!(out, "baseline: {}", period(baseline))?;
    writeln!(out, "current:  {}", period(current))?;
    if !enough {
        writeln!(
            out,
            "{}",
            Cell::new(
                format!(
                    "fewer than {} runs on a side: nothing is called significant (--min-runs)",
                    args.thresholds.min_runs
                ),
                render::NOTE
            )
            .styled()
        )?;
    }
    writeln!(out)?;
    let mut table = Table::new(vec![
        Align::Left,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Left,
        Align::Left,
    ]);
    table.header(&[
        "signal",
        "baseline",
        "current",
        "ratio",
        "p-value",
        "threshold",
        "",
    ]);
    for s in signals {
        let verdict = if s.drifted {
            Cell::new("DRIFTED", render::BAD)
        } else if s.significant {
            Cell::new("significant, under threshold", render::NOTE)
        } else {
            Cell::new("ok", render::GOOD)
        };
        table.row(vec![
            Cell::plain(s.signal.replace('_', " ")),
            Cell::plain(value_text(&s.signal, s.baseline)),
            Cell::plain(value_text(&s.signal, s.current)),
            Cell::plain(ratio_text(s.ratio)),
            Cell::plain(p_text(s.p_value)),
            Cell::plain(&s.threshold),
            verdict,
        ]);
    }
    for line in table.lines("") {
        writeln!(out, "{line}")?;
    }

    let moved: Vec<&Source> = sources.iter().filter(|s| s.moved).collect();
    writeln!(out)?;
    if moved.is_empty() {
        writeln!(
            out,
            "where it comes from: no tool's calls, retries, error classes or durations moved"
        )?;
    } else {
        writeln!(
            out,
            "where it comes from (tools whose calls, retries, errors or durations moved):"
        )?;
        let mut table = Table::new(vec![
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
        ]);
        table.header(&["tool", "what", "baseline", "current", "ratio", "p-value"]);
        for s in moved {
            table.row(vec![
                Cell::plain(&s.tool),
                Cell::plain(s.what()),
                Cell::plain(value_text(s.measure, s.baseline)),
                Cell::plain(value_text(s.measure, s.current)),
                Cell::plain(ratio_text(s.ratio)),
                Cell::plain(p_text(s.p_value)),
            ]);
        }
        for line in table.lines("  ") {
            writeln!(out, "{line}")?;
        }
    }
    writeln!(out)?;
    let drifted: Vec<String> = signals
        .iter()
        .filter(|s| s.drifted)
        .map(|s| s.signal.replace('_', " "))
        .collect();
    if drifted.is_empty() {
        writeln!(out, "{}", Cell::new("no drift", render::GOOD).styled())?;
    } else {
        writeln!(
            out,
            "{}",
            Cell::new(format!("drifted: {}", drifted.join(", ")), render::BAD).styled()
        )?;
    }
    Ok(())
}
