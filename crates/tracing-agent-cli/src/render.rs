//! How values look to a person: durations, spend, times, aligned tables (the table of
//! runs among them) and colors.
//!
//! Styles are written as ANSI codes into [`anstream`] streams, which drop them when the
//! stream is not a terminal or `NO_COLOR` is set: one rendering path, plain or colored.

use std::borrow::Cow;
use std::io::{self, Write};
use std::time::{Duration, UNIX_EPOCH};

use anstyle::{AnsiColor, Style};

use crate::summary::RunSummary;

pub(crate) const HEADER: Style = Style::new().bold();
pub(crate) const DIM: Style = Style::new().dimmed();
pub(crate) const GOOD: Style = AnsiColor::Green.on_default();
pub(crate) const BAD: Style = AnsiColor::Red.on_default();
pub(crate) const NOTE: Style = AnsiColor::Yellow.on_default();
pub(crate) const PLAIN: Style = Style::new();

/// `850ms`, `1.2s`, `2m05s`, `1h02m`: exact where it matters (short calls), and short
/// enough to scan in a column. Rounds to nearest, in integers, so 1250ms is `1.3s`.
pub(crate) fn duration(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms}ms");
    }
    // Saturating: a log may claim any duration, and a debug build would panic.
    let tenths = ms.saturating_add(50) / 100;
    if tenths < 600 {
        return format!("{}.{}s", tenths / 10, tenths % 10);
    }
    let secs = ms.saturating_add(500) / 1000;
    if secs < 3600 {
        return format!("{}m{:02}s", secs / 60, secs % 60);
    }
    let mins = secs.saturating_add(30) / 60;
    format!("{}h{:02}m", mins / 60, mins % 60)
}

/// `$0.0042`. A spend too small for four decimals is not shown as `$0.0000`, which
/// would read as "free".
pub(crate) fn spend(usd: f64) -> String {
    if usd > 0.0 && usd < 0.00005 {
        return "<$0.0001".to_owned();
    }
    format!("${usd:.4}")
}

/// A run's spend as a person should read it: `$0.0042`; `>=$0.0042` when some LLM
/// call's cost is unknown (the amount is a lower bound); `unknown` when nothing of it is
/// known; `-` when the run reported no spend at all.
pub(crate) fn run_spend(usd: Option<f64>, partial: bool) -> String {
    match (usd, partial) {
        (Some(usd), true) if usd > 0.0 => format!(">={}", spend(usd)),
        (_, true) => "unknown".to_owned(),
        (Some(usd), false) => spend(usd),
        (None, false) => "-".to_owned(),
    }
}

/// The last millisecond RFC 3339 can write: 9999-12-31T23:59:59.999Z.
const LAST_RFC3339_MS: u64 = 253_402_300_799_999;

/// UTC, RFC 3339, to the second: `2024-11-24T10:00:00Z`. A time past year 9999 (only a
/// corrupt or hostile log has one) is shown as its number, rather than panicking and
/// taking the whole listing with it.
pub(crate) fn timestamp(ms: u64) -> String {
    if ms > LAST_RFC3339_MS {
        return format!("ts_ms={ms}");
    }
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// `text` with every character that could act on a terminal or fake a line written as
/// a visible escape (`\u{1b}`): C0 and C1 controls, DEL, and the bidi overrides and
/// isolates that reorder what is shown. Every value from a log goes through this before
/// it is printed for a person: a log is data, and may be written by anyone.
pub(crate) fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut clean = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            clean.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            clean.push(c);
        }
    }
    Cow::Owned(clean)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `-` for what is unknown, so every cell has something and columns stay readable.
pub(crate) fn or_dash(value: Option<&str>) -> &str {
    value.unwrap_or("-")
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// One cell: its text and its style.
pub(crate) struct Cell {
    text: String,
    style: Style,
}

impl Cell {
    /// A cell of `text`, made [`printable`]: cells hold values from the log.
    pub fn new(text: impl Into<String>, style: Style) -> Self {
        let text = text.into();
        let text = match printable(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(clean) => clean,
        };
        Cell { text, style }
    }

    pub fn plain(text: impl Into<String>) -> Self {
        Cell::new(text, PLAIN)
    }

    /// The text with its style, for use outside a table.
    pub fn styled(&self) -> String {
        let style = self.style;
        format!("{style}{}{}", self.text, style.render_reset())
    }
}

/// Columns aligned on the plain text, so colors never shift them.
pub(crate) struct Table {
    align: Vec<Align>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(align: Vec<Align>) -> Self {
        Table {
            align,
            rows: Vec::new(),
        }
    }

    pub fn header(&mut self, names: &[&str]) {
        self.row(names.iter().map(|name| Cell::new(*name, HEADER)).collect());
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// Rows so far, the header included: the index of the next row's line.
    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// Width of column `col`, in characters.
    pub fn width(&self, col: usize) -> usize {
        let width = |row: &Vec<Cell>| row.get(col).map_or(0, |c| c.text.chars().count());
        self.rows.iter().map(width).max().unwrap_or(0)
    }

    /// Lines of the table, each prefixed with `indent`.
    pub fn lines(&self, indent: &str) -> Vec<String> {
        let widths = widths(self.rows.iter().map(Vec::as_slice));
        self.rows
            .iter()
            .map(|row| line(row, &widths, &self.align, indent))
            .collect()
    }
}

/// Writes a header and one row per item, aligned, without holding every row's text:
/// the cells are made once to measure the columns and again to write them.
pub(crate) fn write_rows<T>(
    out: &mut impl Write,
    indent: &str,
    align: &[Align],
    header: &[&str],
    items: &[T],
    cells: impl Fn(&T) -> Vec<Cell>,
) -> io::Result<()> {
    let header: Vec<Cell> = header.iter().map(|name| Cell::new(*name, HEADER)).collect();
    let mut widths = widths([header.as_slice()].into_iter());
    for item in items {
        for (width, cell) in widths.iter_mut().zip(cells(item)) {
            *width = (*width).max(cell.text.chars().count());
        }
    }
    writeln!(out, "{}", line(&header, &widths, align, indent))?;
    for item in items {
        writeln!(out, "{}", line(&cells(item), &widths, align, indent))?;
    }
    Ok(())
}

/// The width of each column, in characters.
fn widths<'a>(rows: impl Iterator<Item = &'a [Cell]>) -> Vec<usize> {
    let mut widths = Vec::new();
    for row in rows {
        widths.resize(widths.len().max(row.len()), 0);
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.text.chars().count());
        }
    }
    widths
}

/// One line: `indent`, then the cells padded to `widths` and two spaces apart, with no
/// padding after the last one.
fn line(row: &[Cell], widths: &[usize], align: &[Align], indent: &str) -> String {
    let mut line = indent.to_owned();
    // Trailing empty cells would only leave trailing blanks.
    let used = row
        .iter()
        .rposition(|c| !c.text.is_empty())
        .map_or(0, |i| i + 1);
    for (col, cell) in row[..used].iter().enumerate() {
        let last = col + 1 == used;
        let pad = widths[col].saturating_sub(cell.text.chars().count());
        let right = align.get(col) == Some(&Align::Right);
        if right {
            line.push_str(&" ".repeat(pad));
        }
        line.push_str(&cell.styled());
        if !last {
            if !right {
                line.push_str(&" ".repeat(pad));
            }
            line.push_str("  ");
        }
    }
    line
}

/// The table of runs, one line each: what `runs` lists, and the sub-runs of `show`.
pub(crate) fn run_table(out: &mut impl Write, indent: &str, runs: &[RunSummary]) -> io::Result<()> {
    use Align::{Left, Right};
    write_rows(
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
                Cell::plain(timestamp(run.started_ms())),
                Cell::plain(or_dash(run.agent())),
                Cell::plain(or_dash(run.model())),
                Cell::plain(or_dash(run.prompt_version())),
                Cell::plain(run.tool_calls().to_string()),
                Cell::new(errors.to_string(), if errors > 0 { BAD } else { PLAIN }),
                Cell::plain(run.duration_ms().map_or("-".to_owned(), duration)),
                Cell::plain(run_spend(run.spend_usd(), run.spend_is_partial())),
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

/// `tracing-agent runs: warning: ...`, for stderr. A warning that cannot be written has
/// no one to warn.
pub(crate) fn warning(err: &mut dyn Write, command: &str, message: &str) {
    // Line by line: a warning may have several, each of them made printable.
    let message = message
        .split('\n')
        .map(printable)
        .collect::<Vec<_>>()
        .join("\n");
    let _ = writeln!(
        err,
        "tracing-agent {command}: {NOTE}warning{NOTE:#}: {message}"
    );
}

/// `tracing-agent runs: error: ...`, for stderr.
pub(crate) fn error(err: &mut dyn Write, command: &str, message: &str) {
    let message = message
        .split('\n')
        .map(printable)
        .collect::<Vec<_>>()
        .join("\n");
    let _ = writeln!(err, "tracing-agent {command}: {BAD}error{BAD:#}: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration(0), "0ms");
        assert_eq!(duration(999), "999ms");
        assert_eq!(duration(1000), "1.0s");
        assert_eq!(duration(1249), "1.2s");
        assert_eq!(duration(1250), "1.3s");
        assert_eq!(duration(59_949), "59.9s");
        assert_eq!(duration(59_950), "1m00s");
        assert_eq!(duration(125_000), "2m05s");
        assert_eq!(duration(3_599_499), "59m59s");
        assert_eq!(duration(3_600_000), "1h00m");
        assert_eq!(duration(3_720_000), "1h02m");
        assert_eq!(duration(90_000_000), "25h00m");
    }

    #[test]
    fn spend_has_four_decimals_and_never_reads_as_free() {
        assert_eq!(spend(0.0042), "$0.0042");
        assert_eq!(spend(0.0), "$0.0000");
        assert_eq!(spend(12.5), "$12.5000");
        assert_eq!(spend(0.00001), "<$0.0001");
    }

    #[test]
    fn a_partial_spend_is_a_lower_bound_and_an_unknown_one_says_so() {
        assert_eq!(run_spend(Some(0.0042), false), "$0.0042");
        assert_eq!(run_spend(Some(0.0042), true), ">=$0.0042");
        assert_eq!(run_spend(None, true), "unknown");
        // An older writer's stop said 0.0 for calls it could not price.
        assert_eq!(run_spend(Some(0.0), true), "unknown");
        assert_eq!(run_spend(None, false), "-");
    }

    #[test]
    fn times_are_utc_to_the_second() {
        assert_eq!(timestamp(1_732_442_400_999), "2024-11-24T10:00:00Z");
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(LAST_RFC3339_MS), "9999-12-31T23:59:59Z");
        assert_eq!(timestamp(LAST_RFC3339_MS + 1), "ts_ms=253402300800000");
        assert_eq!(timestamp(u64::MAX), format!("ts_ms={}", u64::MAX));
    }

    #[test]
    fn durations_of_any_size_do_not_overflow() {
        assert_eq!(duration(u64::MAX), "5124095576030h26m");
    }

    #[test]
    fn control_characters_are_shown_not_acted_on() {
        assert_eq!(printable("plain é 中"), "plain é 中");
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
        assert_eq!(
            printable("a\nb\u{1b}]0;t\u{7}\u{7f}\u{85}\u{9b}\u{202e}\u{2066}z"),
            "a\\u{a}b\\u{1b}]0;t\\u{7}\\u{7f}\\u{85}\\u{9b}\\u{202e}\\u{2066}z"
        );
    }

    #[test]
    fn columns_align_on_text_and_the_last_cell_is_not_padded() {
        let mut table = Table::new(vec![Align::Left, Align::Right, Align::Left]);
        table.header(&["NAME", "N", "NOTE"]);
        table.row(vec![Cell::plain("a"), Cell::plain("100"), Cell::plain("x")]);
        table.row(vec![
            Cell::new("long-name", BAD),
            Cell::plain("7"),
            Cell::plain(""),
        ]);
        let plain: Vec<String> = table
            .lines("> ")
            .iter()
            .map(|line| anstream::adapter::strip_str(line).to_string())
            .collect();
        assert_eq!(
            plain,
            [
                "> NAME         N  NOTE",
                "> a          100  x",
                "> long-name    7",
            ]
        );
    }
}
