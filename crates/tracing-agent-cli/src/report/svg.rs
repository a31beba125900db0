//! The report's charts, as inline SVG: lines and bars over time or over a value, stacked
//! shares, and a run's step waterfall.
//!
//! Hand-written rather than drawn with `plotters`: the report needs four kinds of chart
//! whose every mark carries its value (`data-x`/`data-y` attributes the tests read, a
//! `<title>` a reader hovers), colors from CSS variables so one file follows the
//! reader's light or dark setting and prints well, and no fonts or scripts embedded.
//! plotters' SVG backend writes fixed colors and sizes into every element and knows
//! neither `<title>` nor classes, so it would be patched afterwards; the few hundred
//! lines here are smaller than that and than the crate. Every text from a log goes
//! through [`esc`].

use std::fmt::Write as _;

use super::escape::{esc, esc_short};
use crate::render;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 250.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 40.0;

/// The palette entry of the baseline (grey in both color schemes).
pub(crate) const BASELINE: usize = 8;

/// What a number on an axis is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Unit {
    Count,
    /// Given in milliseconds, shown in seconds.
    Seconds,
    Usd,
    /// 0..1, shown as a percentage.
    Share,
}

impl Unit {
    fn tick(self, value: f64, step: f64) -> String {
        let decimals = if step >= 1.0 || step <= 0.0 {
            0
        } else {
            (-step.log10()).ceil() as usize
        };
        match self {
            Unit::Count => format!("{value:.decimals$}"),
            Unit::Seconds => {
                let step = step / 1000.0;
                let decimals = if step >= 1.0 || step <= 0.0 {
                    0
                } else {
                    (-step.log10()).ceil() as usize
                };
                format!("{:.decimals$}s", value / 1000.0)
            }
            Unit::Usd => format!("${value:.decimals$}"),
            Unit::Share => {
                let step = step * 100.0;
                let decimals = if step >= 1.0 || step <= 0.0 {
                    0
                } else {
                    (-step.log10()).ceil() as usize
                };
                format!("{:.decimals$}%", value * 100.0)
            }
        }
    }

    /// A value for a person, in a tooltip.
    pub(crate) fn value(self, value: f64) -> String {
        match self {
            Unit::Count => {
                if value.fract() == 0.0 {
                    format!("{value:.0}")
                } else {
                    format!("{value:.2}")
                }
            }
            Unit::Seconds => render::duration(value.round() as u64),
            Unit::Usd => render::spend(value),
            Unit::Share => format!("{:.1}%", value * 100.0),
        }
    }
}

/// The horizontal axis.
#[derive(Clone, Copy, Debug)]
pub(crate) enum XAxis {
    /// Unix milliseconds, in buckets of this length (points at a bucket's middle).
    Time { bucket_ms: u64 },
    /// A value in this unit.
    Value(Unit),
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Mark {
    /// Points joined by a line; over time, a bucket without a value breaks the line.
    Line,
    /// One bar per point, from zero.
    Bars,
}

/// One point: where, and what a reader hovering it is told.
#[derive(Clone, Debug)]
pub(crate) struct Point {
    pub x: f64,
    pub y: f64,
    pub label: String,
}

/// A named series of points.
#[derive(Clone, Debug)]
pub(crate) struct Series {
    pub name: String,
    /// Palette entry, 0..8, or [`BASELINE`].
    pub color: usize,
    pub dashed: bool,
    pub mark: Mark,
    pub points: Vec<Point>,
}

/// A chart of series against a common pair of axes.
pub(crate) struct Chart<'a> {
    /// The `data-chart` attribute: what tests and readers find the chart by.
    pub id: &'a str,
    pub title: &'a str,
    pub x: XAxis,
    pub x_label: &'a str,
    pub y: Unit,
    pub y_label: &'a str,
    pub series: Vec<Series>,
}

/// Plot area coordinates from data coordinates.
struct Frame {
    x0: f64,
    x1: f64,
    y1: f64,
    /// The plot's top, below the legend, and the whole chart's height.
    top: f64,
    height: f64,
}

impl Frame {
    fn x(&self, x: f64) -> f64 {
        let span = (self.x1 - self.x0).max(f64::MIN_POSITIVE);
        LEFT + (x - self.x0) / span * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, y: f64) -> f64 {
        let bottom = self.height - BOTTOM;
        bottom - y / self.y1.max(f64::MIN_POSITIVE) * (bottom - self.top)
    }
}

/// A round step that cuts `range` into about `target` parts (1, 2 or 5 times a power of 10).
fn nice_step(range: f64, target: f64) -> f64 {
    if range <= 0.0 || !range.is_finite() {
        return 1.0;
    }
    let raw = range / target;
    let magnitude = 10f64.powf(raw.log10().floor());
    let normalized = raw / magnitude;
    let nice = if normalized <= 1.0 {
        1.0
    } else if normalized <= 2.0 {
        2.0
    } else if normalized <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// Ticks on a time axis: a step from a ladder of readable lengths, labels as long as
/// needed to tell them apart.
fn time_ticks(x0: f64, x1: f64) -> Vec<(f64, String)> {
    const MINUTE: u64 = 60_000;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    let ladder = [
        1_000,
        5_000,
        10_000,
        15_000,
        30_000,
        MINUTE,
        5 * MINUTE,
        10 * MINUTE,
        15 * MINUTE,
        30 * MINUTE,
        HOUR,
        2 * HOUR,
        3 * HOUR,
        6 * HOUR,
        12 * HOUR,
        DAY,
        2 * DAY,
        7 * DAY,
        14 * DAY,
        30 * DAY,
        91 * DAY,
        365 * DAY,
    ];
    let range = (x1 - x0).max(1.0);
    let step = ladder
        .iter()
        .copied()
        .find(|step| range / (*step as f64) <= 7.0)
        .unwrap_or_else(|| (range / 7.0).ceil() as u64)
        .max(1);
    let first = (x0.max(0.0) as u64).div_ceil(step) * step;
    let mut ticks = Vec::new();
    let mut at = first;
    while (at as f64) <= x1 && ticks.len() < 20 {
        let text = render::timestamp(at);
        let label = if step < MINUTE {
            text.get(11..19).unwrap_or(&text).to_owned()
        } else if step >= DAY {
            text.get(..10).unwrap_or(&text).to_owned()
        } else if range > DAY as f64 {
            text.get(5..16)
                .map_or(text.clone(), |t| t.replacen('T', " ", 1))
        } else {
            text.get(11..16).unwrap_or(&text).to_owned()
        };
        ticks.push((at as f64, label));
        at += step;
    }
    ticks
}

fn open_svg(out: &mut String, id: &str, title: &str, height: f64) {
    let _ = write!(
        out,
        r#"<figure class="chart"><svg data-chart="{id}" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        esc(title)
    );
}

fn close_svg(out: &mut String, caption: &str) {
    let _ = write!(out, "</svg><figcaption>{caption}</figcaption></figure>");
}

/// Height of a legend row.
const LEGEND_ROW: f64 = 16.0;

/// The legend along the top, one swatch and name per series, in as many rows as the
/// names need; returns its markup and how much taller than one row it is.
fn legend(entries: &[(String, usize, bool)]) -> (String, f64) {
    let mut out = String::new();
    let (mut x, mut y) = (LEFT, 12.0);
    for (name, color, dashed) in entries {
        let width = 30.0 + 6.5 * name.chars().count().min(40) as f64;
        if x > LEFT && x + width > WIDTH - RIGHT {
            (x, y) = (LEFT, y + LEGEND_ROW);
        }
        let dash = if *dashed {
            r#" stroke-dasharray="4 3""#
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"<g class="legend"><line class="line k{color}" x1="{x:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"{dash}/><text x="{:.1}" y="{:.1}">{}</text></g>"#,
            x + 18.0,
            x + 22.0,
            y + 4.0,
            esc_short(name, 40)
        );
        x += width;
    }
    (out, y - 12.0)
}

fn y_axis(out: &mut String, frame: &Frame, unit: Unit, label: &str) {
    let step = nice_step(frame.y1, 4.0);
    let mut at = 0.0;
    while at <= frame.y1 + step * 1e-9 {
        let y = frame.y(at);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            esc(&unit.tick(at, step))
        );
        at += step;
    }
    let _ = write!(
        out,
        r#"<text class="axis-label" transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        (frame.top + frame.height - BOTTOM) / 2.0,
        esc(label)
    );
}

fn x_axis(out: &mut String, frame: &Frame, axis: XAxis, label: &str) {
    let bottom = frame.height - BOTTOM;
    let _ = write!(
        out,
        r#"<line class="axis" x1="{LEFT}" y1="{bottom:.1}" x2="{:.1}" y2="{bottom:.1}"/>"#,
        WIDTH - RIGHT
    );
    let ticks = match axis {
        XAxis::Time { .. } => time_ticks(frame.x0, frame.x1),
        XAxis::Value(unit) => {
            let step = nice_step(frame.x1 - frame.x0, 6.0);
            let mut ticks = Vec::new();
            let mut at = (frame.x0 / step).ceil() * step;
            while at <= frame.x1 + step * 1e-9 && ticks.len() < 20 {
                ticks.push((at, unit.tick(at, step)));
                at += step;
            }
            ticks
        }
    };
    for (at, text) in ticks {
        let x = frame.x(at);
        let _ = write!(
            out,
            r#"<line class="axis" x1="{x:.1}" y1="{bottom:.1}" x2="{x:.1}" y2="{:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            bottom + 4.0,
            bottom + 16.0,
            esc(&text)
        );
    }
    let _ = write!(
        out,
        r#"<text class="axis-label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        (LEFT + WIDTH - RIGHT) / 2.0,
        frame.height - 6.0,
        esc(label)
    );
}

fn no_data(out: &mut String, frame: &Frame) {
    let _ = write!(
        out,
        r#"<text class="empty" x="{:.1}" y="{:.1}" text-anchor="middle">no data</text>"#,
        (LEFT + WIDTH - RIGHT) / 2.0,
        (frame.top + frame.height - BOTTOM) / 2.0
    );
}

/// A chart of lines and bars, with axes, units, a legend and one marked point per value.
pub(crate) fn xy_chart(chart: &Chart<'_>) -> String {
    let points = || chart.series.iter().flat_map(|s| s.points.iter());
    let bucket = match chart.x {
        XAxis::Time { bucket_ms } => bucket_ms as f64,
        XAxis::Value(_) => 0.0,
    };
    let (mut x0, mut x1) = points().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
        (lo.min(p.x), hi.max(p.x))
    });
    if !x0.is_finite() {
        (x0, x1) = (0.0, 1.0);
    }
    if let XAxis::Time { bucket_ms } = chart.x {
        // Points sit at their bucket's middle; the axis spans whole buckets.
        x0 -= bucket_ms as f64 / 2.0;
        x1 += bucket_ms as f64 / 2.0;
    } else {
        x0 = x0.min(0.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let max_y = points().map(|p| p.y).fold(0.0, f64::max);
    let y1 = if max_y > 0.0 {
        let step = nice_step(max_y, 4.0);
        (max_y / step).ceil() * step
    } else {
        1.0
    };
    let entries: Vec<(String, usize, bool)> = chart
        .series
        .iter()
        .map(|s| (s.name.clone(), s.color, s.dashed))
        .collect();
    let (legend, taller) = legend(&entries);
    let frame = Frame {
        x0,
        x1,
        y1,
        top: TOP + taller,
        height: HEIGHT + taller,
    };
    let mut out = String::new();
    open_svg(&mut out, chart.id, chart.title, frame.height);
    out.push_str(&legend);
    y_axis(&mut out, &frame, chart.y, chart.y_label);
    x_axis(&mut out, &frame, chart.x, chart.x_label);
    if points().next().is_none() {
        no_data(&mut out, &frame);
    }
    let bar_series = chart
        .series
        .iter()
        .filter(|s| s.mark == Mark::Bars)
        .count()
        .max(1) as f64;
    let mut bar_index = 0.0;
    for series in &chart.series {
        let color = series.color;
        let name = esc(&series.name);
        let _ = write!(out, r#"<g class="series" data-series="{name}">"#);
        match series.mark {
            Mark::Bars => {
                let slot = (frame.x(x0 + bucket) - frame.x(x0)).max(2.0) * 0.8;
                let width = slot / bar_series;
                for p in &series.points {
                    let left = frame.x(p.x) - slot / 2.0 + bar_index * width;
                    let top = frame.y(p.y);
                    let _ = write!(
                        out,
                        r#"<rect class="pt k{color}" data-x="{}" data-y="{}" x="{left:.1}" y="{top:.1}" width="{width:.1}" height="{:.1}"><title>{}</title></rect>"#,
                        p.x,
                        p.y,
                        (frame.y(0.0) - top).max(0.0),
                        esc(&p.label)
                    );
                }
                bar_index += 1.0;
            }
            Mark::Line => {
                let dash = if series.dashed {
                    r#" stroke-dasharray="5 4""#
                } else {
                    ""
                };
                let mut path = String::new();
                let mut last: Option<f64> = None;
                for p in &series.points {
                    // Over time, a line only joins neighbouring buckets: a gap is a
                    // bucket without a value, not a straight line across it.
                    let joined = last.is_some_and(|x| bucket == 0.0 || p.x - x <= bucket * 1.5);
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if joined { "L" } else { "M" },
                        frame.x(p.x),
                        frame.y(p.y)
                    );
                    last = Some(p.x);
                }
                if !path.is_empty() {
                    let _ = write!(
                        out,
                        r#"<path class="line k{color}" d="{}"{dash}/>"#,
                        path.trim_end()
                    );
                }
                for p in &series.points {
                    let _ = write!(
                        out,
                        r#"<circle class="pt k{color}" data-x="{}" data-y="{}" cx="{:.1}" cy="{:.1}" r="2.5"><title>{}</title></circle>"#,
                        p.x,
                        p.y,
                        frame.x(p.x),
                        frame.y(p.y),
                        esc(&p.label)
                    );
                }
            }
        }
        out.push_str("</g>");
    }
    close_svg(&mut out, &esc(chart.title));
    out
}

/// One column of a stacked chart: its shares of each category, in the categories' order.
#[derive(Clone, Debug)]
pub(crate) struct Stack {
    /// The bucket's start (time axis) or the column's name.
    pub x: StackX,
    pub shares: Vec<f64>,
    /// What the shares are of, for the tooltip.
    pub total: u64,
}

/// Where a stacked column stands.
#[derive(Clone, Debug)]
pub(crate) enum StackX {
    Time(u64),
    Named(String),
}

/// Columns of shares stacked to 100 %: over time (`bucket_ms` given) or side by side.
pub(crate) fn stacked_chart(
    id: &str,
    title: &str,
    categories: &[String],
    stacks: &[Stack],
    bucket_ms: Option<u64>,
) -> String {
    let (x0, x1) = match bucket_ms {
        Some(bucket) => {
            let starts = stacks.iter().filter_map(|s| match s.x {
                StackX::Time(t) => Some(t as f64),
                StackX::Named(_) => None,
            });
            let (lo, hi) = starts.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
                (lo.min(t), hi.max(t))
            });
            if lo.is_finite() {
                (lo, hi + bucket as f64)
            } else {
                (0.0, 1.0)
            }
        }
        None => (0.0, stacks.len().max(1) as f64),
    };
    let entries: Vec<(String, usize, bool)> = categories
        .iter()
        .enumerate()
        .map(|(i, c)| (c.clone(), i % BASELINE, false))
        .collect();
    let (legend, taller) = legend(&entries);
    let frame = Frame {
        x0,
        x1,
        y1: 1.0,
        top: TOP + taller,
        height: HEIGHT + taller,
    };
    let mut out = String::new();
    open_svg(&mut out, id, title, frame.height);
    out.push_str(&legend);
    y_axis(&mut out, &frame, Unit::Share, "share of runs");
    match bucket_ms {
        Some(_) => x_axis(
            &mut out,
            &frame,
            XAxis::Time { bucket_ms: 0 },
            "bucket start (UTC)",
        ),
        None => {
            let bottom = frame.height - BOTTOM;
            let _ = write!(
                out,
                r#"<line class="axis" x1="{LEFT}" y1="{bottom:.1}" x2="{:.1}" y2="{bottom:.1}"/>"#,
                WIDTH - RIGHT
            );
            for (i, stack) in stacks.iter().enumerate() {
                if let StackX::Named(name) = &stack.x {
                    let _ = write!(
                        out,
                        r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                        frame.x(i as f64 + 0.5),
                        bottom + 16.0,
                        esc(name)
                    );
                }
            }
        }
    }
    if stacks.is_empty() {
        no_data(&mut out, &frame);
    }
    for (i, stack) in stacks.iter().enumerate() {
        let (start, width, name) = match (&stack.x, bucket_ms) {
            (StackX::Time(t), Some(bucket)) => (
                frame.x(*t as f64),
                frame.x(*t as f64 + bucket as f64) - frame.x(*t as f64),
                render::timestamp(*t),
            ),
            (StackX::Named(name), _) => {
                (frame.x(i as f64), frame.x(1.0) - frame.x(0.0), name.clone())
            }
            (StackX::Time(t), None) => (
                frame.x(i as f64),
                frame.x(1.0) - frame.x(0.0),
                render::timestamp(*t),
            ),
        };
        let (left, width) = (start + width * 0.1, (width * 0.8).max(1.0));
        let _ = write!(out, r#"<g class="stack" data-x="{}">"#, esc(&name));
        let mut below = 0.0;
        for (c, share) in stack.shares.iter().enumerate() {
            if *share <= 0.0 {
                continue;
            }
            let (top, bottom) = (frame.y(below + share), frame.y(below));
            let category = categories.get(c).map_or("?", String::as_str);
            let _ = write!(
                out,
                r#"<rect class="pt k{}" data-category="{}" data-y="{share}" x="{left:.1}" y="{top:.1}" width="{width:.1}" height="{:.1}"><title>{}: {} {:.1}% of {} runs</title></rect>"#,
                c % BASELINE,
                esc(category),
                (bottom - top).max(0.0),
                esc(&name),
                esc(category),
                share * 100.0,
                stack.total
            );
            below += share;
        }
        out.push_str("</g>");
    }
    close_svg(&mut out, &esc(title));
    out
}

/// One step of a run's waterfall.
#[derive(Clone, Debug)]
pub(crate) struct Bar {
    pub label: String,
    /// Milliseconds since the run started.
    pub start_ms: f64,
    pub end_ms: f64,
    pub llm: bool,
    /// The error class of a failed call.
    pub error: Option<String>,
}

const ROW: f64 = 14.0;
const LABEL_WIDTH: f64 = 150.0;

/// A run's steps on a time axis, one row each: tool calls and LLM calls in their
/// colors, failed calls marked with a cross and their error class.
pub(crate) fn waterfall(id: &str, title: &str, bars: &[Bar], more: u64) -> String {
    let height = TOP + ROW * bars.len().max(1) as f64 + BOTTOM;
    let x1 = bars.iter().map(|b| b.end_ms).fold(1.0, f64::max);
    let x1 = {
        let step = nice_step(x1, 6.0);
        (x1 / step).ceil() * step
    };
    let left = LEFT + LABEL_WIDTH - LEFT;
    let scale = |ms: f64| left + ms / x1 * (WIDTH - RIGHT - left);
    let mut out = String::new();
    open_svg(&mut out, id, title, height);
    out.push_str(
        &legend(&[
            ("tool call".to_owned(), 0, false),
            ("LLM call".to_owned(), 2, false),
            ("failed call".to_owned(), 3, false),
        ])
        .0,
    );
    let bottom = height - BOTTOM;
    let step = nice_step(x1, 6.0);
    let mut at = 0.0;
    while at <= x1 + step * 1e-9 {
        let x = scale(at);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{bottom:.1}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            bottom + 16.0,
            esc(&Unit::Seconds.tick(at, step))
        );
        at += step;
    }
    let _ = write!(
        out,
        r#"<text class="axis-label" x="{:.1}" y="{:.1}" text-anchor="middle">time since the run started</text>"#,
        (left + WIDTH - RIGHT) / 2.0,
        height - 6.0
    );
    if bars.is_empty() {
        let _ = write!(
            out,
            r#"<text class="empty" x="{:.1}" y="{:.1}" text-anchor="middle">no tool or LLM calls</text>"#,
            (left + WIDTH - RIGHT) / 2.0,
            TOP + ROW
        );
    }
    for (i, bar) in bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let color = match (&bar.error, bar.llm) {
            (Some(_), _) => 3,
            (None, true) => 2,
            (None, false) => 0,
        };
        let (x, end) = (scale(bar.start_ms), scale(bar.end_ms));
        let what = if bar.llm { "LLM call" } else { "tool call" };
        let outcome = bar
            .error
            .as_deref()
            .map_or(String::new(), |class| format!(", failed: {class}"));
        let _ = write!(
            out,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="pt k{color}" data-x="{}" data-y="{}" x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{} {}: {} to {}{}</title></rect>"#,
            left - 6.0,
            y + ROW - 4.0,
            esc_short(&bar.label, 22),
            bar.start_ms,
            bar.end_ms - bar.start_ms,
            y + 2.0,
            (end - x).max(1.5),
            ROW - 4.0,
            what,
            esc(&bar.label),
            render::duration(bar.start_ms.round() as u64),
            render::duration(bar.end_ms.round() as u64),
            esc(&outcome)
        );
        if let Some(class) = &bar.error {
            // After the bar, or before it when it ends too near the right edge.
            let label = format!("✕ {}", class.chars().take(24).collect::<String>());
            let width = 6.0 * label.chars().count() as f64;
            let after = end.max(x + 1.5) + 3.0;
            let (at, anchor) = if after + width > WIDTH - RIGHT {
                (x - 3.0, "end")
            } else {
                (after, "start")
            };
            let _ = write!(
                out,
                r#"<text class="err-mark" x="{at:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
                y + ROW - 4.0,
                esc(&label)
            );
        }
    }
    let caption = if more > 0 {
        format!("{} ({more} more steps not drawn)", esc(title))
    } else {
        esc(title)
    };
    close_svg(&mut out, &caption);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(100.0, 4.0), 50.0);
        assert_eq!(nice_step(7.0, 4.0), 2.0);
        assert_eq!(nice_step(0.03, 4.0), 0.01);
        assert_eq!(nice_step(0.0, 4.0), 1.0);
    }

    #[test]
    fn ticks_say_their_unit() {
        assert_eq!(Unit::Seconds.tick(2500.0, 500.0), "2.5s");
        assert_eq!(Unit::Seconds.tick(20_000.0, 10_000.0), "20s");
        assert_eq!(Unit::Share.tick(0.25, 0.25), "25%");
        assert_eq!(Unit::Usd.tick(0.02, 0.01), "$0.02");
        assert_eq!(Unit::Count.tick(10.0, 5.0), "10");
    }

    #[test]
    fn hourly_ticks_within_a_day_show_hours() {
        // 2024-11-24T10:00Z to 16:00Z.
        let start = 1_732_442_400_000.0;
        let ticks = time_ticks(start, start + 6.0 * 3_600_000.0);
        assert_eq!(ticks.first().map(|t| t.1.as_str()), Some("10:00"));
        assert_eq!(ticks.last().map(|t| t.1.as_str()), Some("16:00"));
    }

    #[test]
    fn a_line_breaks_over_an_empty_bucket() {
        let point = |x: f64| Point {
            x,
            y: 1.0,
            label: String::new(),
        };
        let svg = xy_chart(&Chart {
            id: "t",
            title: "t",
            x: XAxis::Time { bucket_ms: 10 },
            x_label: "",
            y: Unit::Count,
            y_label: "",
            series: vec![Series {
                name: "s".into(),
                color: 0,
                dashed: false,
                mark: Mark::Line,
                points: vec![point(5.0), point(15.0), point(35.0)],
            }],
        });
        let path = svg
            .split(r#"d=""#)
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(path.matches('M').count(), 2, "{path}");
        assert_eq!(path.matches('L').count(), 1, "{path}");
    }

    #[test]
    fn a_long_legend_wraps_and_the_plot_moves_down() {
        let names: Vec<(String, usize, bool)> = (0..8)
            .map(|i| (format!("tool-with-a-rather-long-name-{i}"), i, false))
            .collect();
        let (markup, taller) = legend(&names[..1]);
        assert_eq!(taller, 0.0);
        assert_eq!(markup.matches("<g class=\"legend\">").count(), 1);
        let (_, taller) = legend(&names);
        // 30 characters: 30 + 6.5 * 30 = 225 px an entry, and 760 - 72 - 16 = 672 px a
        // row: two a row (a third would end at 747), so four rows.
        assert_eq!(taller, 3.0 * LEGEND_ROW);
    }
}
