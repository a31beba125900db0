//! The report as one HTML document: the style sheet (light, dark, print), the drift
//! verdict, the charts over time, the notable runs and their waterfalls. Nothing is
//! loaded from anywhere: no scripts, fonts or images, so it opens offline and mailed.

use std::fmt::Write as _;

use super::escape::{esc, esc_short};
use super::notable::{Notable, RunRow};
use super::svg::{self, Bar, Chart, Mark, Point, Series, Stack, StackX, Unit, XAxis, BASELINE};
use super::timeline::{length_text, Period, Timeline};
use crate::aggregate::{share, Aggregate};
use crate::drift_cmd::{p_text, ratio_text, value_text, Comparison};
use crate::render;

/// Tools drawn in the error-rate chart: the most called.
const CHARTED_TOOLS: usize = 8;

/// Steps drawn in a waterfall.
const DRAWN_STEPS: usize = 60;

/// Quantiles drawn in a distribution chart (every 2 %).
const DISTRIBUTION_POINTS: usize = 50;

/// Picks one distribution of a set of runs.
type DistributionOf = fn(&mut Aggregate) -> &mut crate::quantile::Distribution;

/// One number of a bucket's runs, `None` when they have none (no latency without a stop).
type BucketValue = fn(&mut Aggregate) -> Option<f64>;

/// What a report is made of.
pub(crate) struct Contents<'a> {
    pub files: &'a [String],
    pub baseline_files: &'a [String],
    pub generated_ms: u64,
    pub timeline: &'a mut Timeline,
    pub current: &'a mut Aggregate,
    pub baseline: Option<&'a mut Aggregate>,
    pub comparison: Option<&'a Comparison>,
    pub notable: &'a Notable,
}

const STYLE: &str = r#"
:root { color-scheme: light dark;
  --bg: #ffffff; --fg: #1f2937; --muted: #6b7280; --grid: #e5e7eb; --axis: #9ca3af; --card: #f9fafb;
  --c0: #2563eb; --c1: #d97706; --c2: #059669; --c3: #dc2626; --c4: #7c3aed; --c5: #0891b2;
  --c6: #db2777; --c7: #65a30d; --c8: #6b7280; --bad: #b91c1c; --good: #047857; }
@media (prefers-color-scheme: dark) { :root {
  --bg: #111827; --fg: #e5e7eb; --muted: #9ca3af; --grid: #374151; --axis: #6b7280; --card: #1f2937;
  --c0: #60a5fa; --c1: #fbbf24; --c2: #34d399; --c3: #f87171; --c4: #a78bfa; --c5: #22d3ee;
  --c6: #f472b6; --c7: #a3e635; --c8: #9ca3af; --bad: #f87171; --good: #34d399; } }
body { background: var(--bg); color: var(--fg); margin: 0 auto; padding: 16px 24px; max-width: 800px;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 22px; margin: 8px 0; } h2 { font-size: 18px; margin: 28px 0 8px;
  border-bottom: 1px solid var(--grid); } h3 { font-size: 15px; margin: 16px 0 4px; }
.muted, figcaption { color: var(--muted); font-size: 12px; }
.cards { display: flex; flex-wrap: wrap; gap: 8px; }
.card { background: var(--card); border: 1px solid var(--grid); border-radius: 6px; padding: 6px 10px; }
.card b { display: block; font-size: 17px; }
.verdict { font-weight: bold; padding: 8px 12px; border-radius: 6px; border: 2px solid; }
.verdict.bad { color: var(--bad); } .verdict.good { color: var(--good); }
table { border-collapse: collapse; width: 100%; font-size: 12px; margin: 6px 0; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--grid); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.id { font-family: ui-monospace, Menlo, Consolas, monospace; word-break: break-all; }
.drifted { color: var(--bad); font-weight: bold; } .ok { color: var(--good); }
figure.chart { margin: 10px 0 18px; } figure.chart svg { max-width: 100%; height: auto; display: block; }
svg text { fill: var(--fg); font-size: 11px; font-family: system-ui, sans-serif; }
svg text.tick, svg text.empty { fill: var(--muted); } svg text.err-mark { fill: var(--c3); font-size: 10px; }
svg .grid { stroke: var(--grid); } svg .axis { stroke: var(--axis); }
svg .line { fill: none; stroke-width: 2; } svg .legend .line { stroke-width: 3; }
svg rect.pt { stroke: none; opacity: .9; }
.k0 { stroke: var(--c0); fill: var(--c0); } .k1 { stroke: var(--c1); fill: var(--c1); }
.k2 { stroke: var(--c2); fill: var(--c2); } .k3 { stroke: var(--c3); fill: var(--c3); }
.k4 { stroke: var(--c4); fill: var(--c4); } .k5 { stroke: var(--c5); fill: var(--c5); }
.k6 { stroke: var(--c6); fill: var(--c6); } .k7 { stroke: var(--c7); fill: var(--c7); }
.k8 { stroke: var(--c8); fill: var(--c8); }
svg path.line.k0, svg path.line.k1, svg path.line.k2, svg path.line.k3, svg path.line.k4,
svg path.line.k5, svg path.line.k6, svg path.line.k7, svg path.line.k8 { fill: none; }
@media print {
  :root { --bg: #fff; --fg: #000; --muted: #444; --card: #fff; }
  body { max-width: none; padding: 0; font-size: 11px; }
  figure.chart, table, .verdict { break-inside: avoid; }
  h2 { break-after: avoid; }
}
"#;

/// The whole document.
pub(crate) fn page(contents: Contents<'_>) -> String {
    let mut out = String::with_capacity(256 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    out.push_str("<meta name=\"color-scheme\" content=\"light dark\">");
    let _ = write!(
        out,
        "<title>tracing-agent report: {}</title><style>{STYLE}</style></head><body>",
        esc(&contents.files.join(", "))
    );
    header(&mut out, &contents);
    let Contents {
        baseline_files,
        timeline,
        current,
        baseline,
        comparison,
        notable,
        ..
    } = contents;
    cards(&mut out, current);
    if let (Some(baseline), Some(comparison)) = (baseline, comparison) {
        drift(&mut out, baseline, current, comparison);
    }
    over_time(&mut out, timeline, !baseline_files.is_empty());
    runs(&mut out, notable);
    out.push_str("</body></html>\n");
    out
}

fn header(out: &mut String, contents: &Contents<'_>) {
    let a = &*contents.current;
    let _ = write!(
        out,
        "<h1>tracing-agent report</h1><p class=\"muted\">{} of {} · generated {} · buckets of {} (UTC)",
        plural(a.runs, "run"),
        esc(&contents.files.join(", ")),
        render::timestamp(contents.generated_ms),
        length_text(contents.timeline.bucket_ms())
    );
    if !contents.baseline_files.is_empty() {
        let _ = write!(
            out,
            " · baseline: {}",
            esc(&contents.baseline_files.join(", "))
        );
    }
    out.push_str("</p>");
}

fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn cards(out: &mut String, a: &mut Aggregate) {
    let card = |out: &mut String, value: String, label: &str| {
        let _ = write!(
            out,
            "<div class=\"card\"><b>{}</b>{}</div>",
            esc(&value),
            esc(label)
        );
    };
    out.push_str("<div class=\"cards\">");
    card(out, a.runs.to_string(), "runs");
    card(
        out,
        a.tool_calls_per_run
            .quantile(0.95)
            .map_or("-".into(), |v| Unit::Count.value(v)),
        "tool calls per run, p95",
    );
    card(
        out,
        a.latency_ms
            .quantile(0.95)
            .map_or("-".into(), |v| Unit::Seconds.value(v)),
        "run latency p95",
    );
    card(
        out,
        a.spend_usd_per_run
            .mean()
            .map_or("-".into(), |v| Unit::Usd.value(v)),
        "spend per run (mean)",
    );
    card(
        out,
        a.unknown_spend_share()
            .map_or("-".into(), |v| Unit::Share.value(v)),
        "runs of unknown cost",
    );
    card(
        out,
        a.success_rate()
            .map_or("-".into(), |v| Unit::Share.value(v)),
        "completed (of runs with a stop)",
    );
    card(out, a.runs_without_stop.to_string(), "runs without a stop");
    out.push_str("</div>");
}

fn drift(out: &mut String, baseline: &mut Aggregate, current: &mut Aggregate, c: &Comparison) {
    out.push_str("<h2 id=\"drift\">Drift against the baseline</h2>");
    let drifted: Vec<String> = c
        .signals
        .iter()
        .filter(|s| s.drifted)
        .map(|s| s.signal.replace('_', " "))
        .collect();
    if drifted.is_empty() {
        out.push_str("<p class=\"verdict good\" data-verdict=\"no drift\">No drift</p>");
    } else {
        let _ = write!(
            out,
            "<p class=\"verdict bad\" data-verdict=\"drifted\">Drifted: {}</p>",
            esc(&drifted.join(", "))
        );
    }
    let _ = write!(
        out,
        "<p class=\"muted\">baseline {} · current {}",
        plural(baseline.runs, "run"),
        plural(current.runs, "run")
    );
    if !c.enough {
        out.push_str(
            " · too few runs on a side for anything to be called significant (--min-runs)",
        );
    }
    out.push_str("</p>");
    out.push_str("<table data-table=\"signals\"><tr><th>signal</th><th class=\"n\">baseline</th><th class=\"n\">current</th><th class=\"n\">ratio</th><th class=\"n\">p-value</th><th>threshold</th><th></th></tr>");
    for s in &c.signals {
        let verdict = if s.drifted {
            "<td class=\"drifted\">DRIFTED</td>"
        } else if s.significant {
            "<td>significant, under threshold</td>"
        } else {
            "<td class=\"ok\">ok</td>"
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td>{verdict}</tr>",
            esc(&s.signal.replace('_', " ")),
            esc(&value_text(&s.signal, s.baseline)),
            esc(&value_text(&s.signal, s.current)),
            esc(&ratio_text(s.ratio)),
            esc(&p_text(s.p_value)),
            esc(&s.threshold)
        );
    }
    out.push_str("</table>");
    let moved: Vec<_> = c.sources.iter().filter(|s| s.moved).collect();
    out.push_str("<h3>Where it comes from</h3>");
    if moved.is_empty() {
        out.push_str(
            "<p>No tool's calls, retries, error classes or durations moved significantly.</p>",
        );
    } else {
        out.push_str("<table data-table=\"drivers\"><tr><th>tool</th><th>what</th><th class=\"n\">baseline</th><th class=\"n\">current</th><th class=\"n\">ratio</th><th class=\"n\">p-value</th></tr>");
        for s in moved {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&s.tool),
                esc(&s.what()),
                esc(&value_text(s.measure, s.baseline)),
                esc(&value_text(s.measure, s.current)),
                esc(&ratio_text(s.ratio)),
                esc(&p_text(s.p_value))
            );
        }
        out.push_str("</table>");
    }

    out.push_str("<h3>Baseline and current distributions</h3>");
    let charts: [(&str, &str, Unit, DistributionOf); 3] = [
        (
            "tool_calls_distribution",
            "Tool calls per run: share of runs at or below",
            Unit::Count,
            |a| &mut a.tool_calls_per_run,
        ),
        (
            "latency_distribution",
            "Run latency: share of runs at or below",
            Unit::Seconds,
            |a| &mut a.latency_ms,
        ),
        (
            "spend_distribution",
            "Spend per run (runs of known cost): share of runs at or below",
            Unit::Usd,
            |a| &mut a.spend_usd_per_run,
        ),
    ];
    for (id, title, unit, pick) in charts {
        let mut series = Vec::new();
        for (name, color, dashed, a) in [
            ("baseline", BASELINE, true, &mut *baseline),
            ("current", 0, false, &mut *current),
        ] {
            let d = pick(a);
            let points = (1..=DISTRIBUTION_POINTS)
                .filter_map(|i| {
                    let p = i as f64 / DISTRIBUTION_POINTS as f64;
                    d.quantile(p).map(|v| Point {
                        x: v,
                        y: p,
                        label: format!(
                            "{name}: {:.0}% of runs at or below {}",
                            p * 100.0,
                            unit.value(v)
                        ),
                    })
                })
                .collect();
            series.push(Series {
                name: name.to_owned(),
                color,
                dashed,
                mark: Mark::Line,
                points,
            });
        }
        out.push_str(&svg::xy_chart(&Chart {
            id,
            title,
            x: XAxis::Value(unit),
            x_label: match unit {
                Unit::Count => "tool calls per run",
                Unit::Seconds => "run latency",
                _ => "spend per run (USD)",
            },
            y: Unit::Share,
            y_label: "share of runs",
            series,
        }));
    }
    let (categories, stacks) = stop_mix(&[
        (StackX::Named("baseline".into()), &*baseline),
        (StackX::Named("current".into()), &*current),
    ]);
    out.push_str(&svg::stacked_chart(
        "stop_reasons_compared",
        "Stop reasons, baseline and current",
        &categories,
        &stacks,
        None,
    ));
}

/// The stop reasons of several sets of runs as shares of their runs: `completed` first,
/// then the others by how often they were seen, then runs without a stop.
fn stop_mix(columns: &[(StackX, &Aggregate)]) -> (Vec<String>, Vec<Stack>) {
    let mut counts: std::collections::BTreeMap<&str, u64> = Default::default();
    let mut no_stop = 0;
    for (_, a) in columns {
        for (reason, count) in &a.stop_reasons {
            *counts.entry(reason.as_str()).or_default() += count;
        }
        no_stop += a.runs_without_stop;
    }
    let mut reasons: Vec<(&str, u64)> = counts.into_iter().collect();
    reasons.sort_by_key(|(reason, count)| (*reason != "completed", std::cmp::Reverse(*count)));
    let mut categories: Vec<String> = reasons.iter().map(|(r, _)| (*r).to_owned()).collect();
    if no_stop > 0 {
        categories.push("(no stop)".to_owned());
    }
    let stacks = columns
        .iter()
        .map(|(x, a)| {
            let mut shares: Vec<f64> = reasons
                .iter()
                .map(|(reason, _)| share(a.stopped(reason), a.runs).unwrap_or(0.0))
                .collect();
            if no_stop > 0 {
                shares.push(share(a.runs_without_stop, a.runs).unwrap_or(0.0));
            }
            Stack {
                x: x.clone(),
                shares,
                total: a.runs,
            }
        })
        .collect();
    (categories, stacks)
}

/// One value per bucket with runs, for both periods: a current series and, with a
/// baseline, a baseline one on the same axes.
fn per_bucket(
    timeline: &mut Timeline,
    name: &str,
    mark: Mark,
    unit: Unit,
    with_baseline: bool,
    value: BucketValue,
) -> Vec<Series> {
    let half = timeline.bucket_ms() as f64 / 2.0;
    let mut series = Vec::new();
    let periods: &[(Period, &str, usize, bool)] = if with_baseline {
        &[
            (Period::Baseline, "baseline", BASELINE, true),
            (Period::Current, "current", 0, false),
        ]
    } else {
        &[(Period::Current, "", 0, false)]
    };
    for (period, label, color, dashed) in periods {
        let points = timeline
            .buckets(*period)
            .iter_mut()
            .filter_map(|(start, a)| {
                let runs = a.runs;
                value(a).map(|v| Point {
                    x: *start as f64 + half,
                    y: v,
                    label: format!(
                        "{}{}: {} ({})",
                        if label.is_empty() {
                            String::new()
                        } else {
                            format!("{label}, ")
                        },
                        render::timestamp(*start),
                        unit.value(v),
                        plural(runs, "run")
                    ),
                })
            })
            .collect();
        series.push(Series {
            name: if label.is_empty() {
                name.to_owned()
            } else {
                format!("{name}, {label}")
            },
            color: *color,
            dashed: *dashed,
            mark,
            points,
        });
    }
    series
}

fn over_time(out: &mut String, timeline: &mut Timeline, with_baseline: bool) {
    let bucket_ms = timeline.bucket_ms();
    let x = XAxis::Time { bucket_ms };
    let x_label = "bucket start (UTC)";
    let _ = write!(
        out,
        "<h2 id=\"over-time\">Over time</h2><p class=\"muted\">Runs are counted in the bucket ({} long, UTC) they started in; a bucket without runs has no point.</p>",
        length_text(bucket_ms)
    );
    // The charts of one number per bucket: id, title, series name, mark, unit, the
    // unit's label, and the number.
    let charts: [(&str, &str, &str, Mark, Unit, &str, BucketValue); 4] = [
        (
            "runs",
            "Runs per bucket",
            "runs",
            Mark::Bars,
            Unit::Count,
            "runs",
            |a| Some(a.runs as f64),
        ),
        (
            "tool_calls_p95",
            "Tool calls per run, p95",
            "p95",
            Mark::Line,
            Unit::Count,
            "tool calls per run",
            |a| a.tool_calls_per_run.quantile(0.95),
        ),
        (
            "latency_p95",
            "Run latency p95",
            "p95",
            Mark::Line,
            Unit::Seconds,
            "seconds",
            |a| a.latency_ms.quantile(0.95),
        ),
        (
            "spend_per_run",
            "Spend per run, mean of the runs of known cost",
            "mean",
            Mark::Line,
            Unit::Usd,
            "USD per run",
            |a| a.spend_usd_per_run.mean(),
        ),
    ];
    for (id, title, name, mark, unit, y_label, value) in charts {
        let series = per_bucket(timeline, name, mark, unit, with_baseline, value);
        out.push_str(&svg::xy_chart(&Chart {
            id,
            title,
            x,
            x_label,
            y: unit,
            y_label,
            series,
        }));
    }
    let unknown: Vec<String> = timeline
        .buckets(Period::Current)
        .iter()
        .filter(|(_, a)| a.runs_with_unknown_spend > 0)
        .map(|(start, a)| {
            format!(
                "{} {}",
                render::timestamp(*start),
                Unit::Share.value(a.unknown_spend_share().unwrap_or(0.0))
            )
        })
        .collect();
    let _ = write!(
        out,
        "<p class=\"muted\" data-note=\"unknown_cost\">Runs of unknown cost (an LLM call without a price) are left out of the mean: {}.</p>",
        if unknown.is_empty() {
            "none".to_owned()
        } else {
            format!("share of runs by bucket: {}", esc(&unknown.join(", ")))
        }
    );

    let columns: Vec<(StackX, &Aggregate)> = timeline
        .buckets(Period::Current)
        .iter()
        .map(|(start, a)| (StackX::Time(*start), a))
        .collect();
    let (categories, stacks) = stop_mix(&columns);
    out.push_str(&svg::stacked_chart(
        "stop_reasons",
        "Stop reasons, share of runs per bucket",
        &categories,
        &stacks,
        Some(bucket_ms),
    ));

    // The tools called most over the whole current period.
    let mut totals: std::collections::BTreeMap<std::rc::Rc<str>, u64> = Default::default();
    for a in timeline.buckets(Period::Current).values() {
        for (name, tool) in &a.tools {
            *totals.entry(name.clone()).or_default() += tool.calls;
        }
    }
    let mut tools: Vec<(std::rc::Rc<str>, u64)> = totals.into_iter().collect();
    tools.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    let left_out = tools.len().saturating_sub(CHARTED_TOOLS);
    tools.truncate(CHARTED_TOOLS);
    let series = tools
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let points = timeline
                .buckets(Period::Current)
                .iter()
                .filter_map(|(start, a)| {
                    let tool = a.tools.get(name)?;
                    let rate = share(tool.failed(), tool.calls)?;
                    Some(Point {
                        x: *start as f64 + bucket_ms as f64 / 2.0,
                        y: rate,
                        label: format!(
                            "{name}, {}: {} of {} calls failed",
                            render::timestamp(*start),
                            Unit::Share.value(rate),
                            tool.calls
                        ),
                    })
                })
                .collect();
            Series {
                name: name.to_string(),
                color: i % BASELINE,
                dashed: false,
                mark: Mark::Line,
                points,
            }
        })
        .collect();
    out.push_str(&svg::xy_chart(&Chart {
        id: "tool_error_rate",
        title: "Error rate per tool (share of its calls that failed)",
        x,
        x_label,
        y: Unit::Share,
        y_label: "failed calls",
        series,
    }));
    if left_out > 0 {
        let _ = write!(
            out,
            "<p class=\"muted\">{left_out} less called tools are not drawn.</p>"
        );
    }
}

fn runs_table(out: &mut String, id: &str, runs: Vec<&RunRow>) {
    if runs.is_empty() {
        out.push_str("<p>None.</p>");
        return;
    }
    let _ = write!(out, "<table data-table=\"{id}\"><tr><th>run</th><th>agent</th><th>model</th><th>started (UTC)</th><th class=\"n\">latency</th><th class=\"n\">tool calls</th><th class=\"n\">errors</th><th class=\"n\">LLM calls</th><th class=\"n\">spend</th><th>stop</th></tr>");
    for run in runs {
        let _ = write!(
            out,
            "<tr><td class=\"id\" title=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&run.run_id),
            esc_short(&run.run_id, 40),
            esc(run.agent.as_deref().unwrap_or("-")),
            esc(run.model.as_deref().unwrap_or("-")),
            esc(&render::timestamp(run.started_ms)),
            run.latency_ms.map_or("-".into(), render::duration),
            run.tool_calls,
            run.tool_errors,
            run.llm_calls,
            esc(&render::run_spend(run.spend_usd, run.spend_partial)),
            esc(run.stop_reason.as_deref().unwrap_or("(no stop)"))
        );
    }
    out.push_str("</table>");
}

fn runs(out: &mut String, notable: &Notable) {
    out.push_str("<h2 id=\"slowest\">Slowest runs</h2>");
    runs_table(out, "slowest", notable.slowest.runs().collect());
    out.push_str("<h2 id=\"costliest\">Most expensive runs</h2>");
    runs_table(out, "costliest", notable.costliest.runs().collect());
    let picked = notable.waterfalls();
    if picked.is_empty() {
        return;
    }
    out.push_str("<h2 id=\"waterfalls\">Step waterfalls</h2><p class=\"muted\">The slowest runs and the most expensive one: each tool and LLM call from its start (its end less its duration) to its end, since the run started.</p>");
    for (i, run) in picked.into_iter().enumerate() {
        let start = run.started_ms as f64;
        let bars: Vec<Bar> = run
            .steps
            .iter()
            .take(DRAWN_STEPS)
            .map(|step| {
                let end = step.end_ms as f64 - start;
                let duration = step.duration_ms.unwrap_or(0) as f64;
                Bar {
                    label: step
                        .name
                        .as_deref()
                        .unwrap_or(if step.llm { "LLM" } else { "?" })
                        .to_owned(),
                    start_ms: (end - duration).max(0.0),
                    end_ms: end.max(0.0),
                    llm: step.llm,
                    error: step.error.as_deref().map(str::to_owned),
                }
            })
            .collect();
        let more = run.steps.len().saturating_sub(DRAWN_STEPS) as u64 + run.steps_left_out;
        let title = format!(
            "Run {} ({}, {}, {})",
            run.run_id,
            run.latency_ms.map_or("-".into(), render::duration),
            render::run_spend(run.spend_usd, run.spend_partial),
            run.stop_reason.as_deref().unwrap_or("no stop")
        );
        out.push_str(&svg::waterfall(
            &format!("waterfall_{i}"),
            &title,
            &bars,
            more,
        ));
    }
}
