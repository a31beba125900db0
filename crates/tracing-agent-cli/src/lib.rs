//! The `tracing-agent` command-line tool, as a library: [`Cli`] parses the arguments,
//! [`Command::run`] runs one with any output and error streams, so commands run
//! in-process in tests as they do in the binary.
//!
//! Modules, one line each on what it owns (events are read only through
//! [`tracing_agent::read`]; this crate keeps no schema of its own):
//! - `error`: `CliError`, what ends a command early, and its exit status.
//! - `input`: the `FILE...` arguments, each file read once through the library's reader
//!   with a progress indicator, and the warnings about files given twice and the one
//!   about the lines that are not events.
//! - `parallel_read`: one input parsed on every core, its items handed over in order.
//! - `filter`: the options that select runs (`--since`, `--agent`, ...) and applying them.
//! - `progress`: the progress indicator on stderr.
//! - `summary`: the data model: one run summed up from its events, numbers and no format.
//! - `render`: how things look: durations, spend, times, colors, aligned tables, the
//!   table of runs.
//! - `hash`: the `hash` command.
//! - `runs_cmd`: the `runs` command, and its `--json` line.
//! - `export`: the tables `export` writes and a writer for each format.
//! - `export_cmd`: the `export` command.
//! - `show_cmd`: the `show` command, the story of one run.
//! - `diff_cmd`: the `diff` command, two runs aligned with replay's divergence codes.
//! - `snapshots_cmd`: the `snapshots` command: verify, gc, report and pin a replay store.
//! - `quantile`: distributions: exact quantiles up to a limit, a DDSketch beyond.
//! - `significance`: the statistical tests of `drift`.
//! - `aggregate`: runs folded into statistics as they complete, for `stats` and `drift`.
//! - `stats_cmd`: the `stats` command.
//! - `drift_cmd`: the `drift` command.
//! - `report`: how `report` draws: HTML escaping, SVG charts, time buckets, notable runs,
//!   the page.
//! - `report_cmd`: the `report` command.

mod aggregate;
mod diff_cmd;
mod drift_cmd;
mod error;
mod export;
mod export_cmd;
mod filter;
mod hash;
mod input;
mod parallel_read;
mod progress;
mod quantile;
mod render;
mod report;
mod report_cmd;
mod runs_cmd;
mod show_cmd;
mod significance;
mod snapshots_cmd;
mod stats_cmd;
mod summary;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use diff_cmd::DiffArgs;
pub use drift_cmd::DriftArgs;
pub use export_cmd::ExportArgs;
pub use report_cmd::ReportArgs;
pub use runs_cmd::RunsArgs;
pub use show_cmd::ShowArgs;
pub use snapshots_cmd::SnapshotsArgs;
pub use stats_cmd::StatsArgs;

/// The command line of `tracing-agent`.
#[derive(Parser, Debug)]
#[command(
    name = "tracing-agent",
    version,
    about = "Work with tracing-agent events"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// A command of `tracing-agent`, with its arguments.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the args_sha of JSON documents: one per stdin line, or the one given.
    ///
    /// The hash is the reference one: the first 24 hex digits of the SHA-256 of the
    /// document re-serialized as Python's json.dumps(sort_keys=True,
    /// separators=(",", ":"), ensure_ascii=False) would write it. NaN, Infinity and
    /// -Infinity are accepted, numbers of any size are kept exact. A line that is not
    /// JSON prints an empty line (so output stays aligned with input), an error on
    /// stderr, and makes the exit status 1 once every line is hashed.
    Hash {
        /// A JSON document to hash instead of reading stdin.
        json: Option<String>,
        /// Print keyed hashes (HMAC-SHA256), with the key read from this environment
        /// variable: what the layer writes when its config sets `hash_key_env`.
        #[arg(long, value_name = "NAME")]
        key_env: Option<String>,
    },

    /// List runs, newest first: one line per run with its versions, tool calls, errors,
    /// duration, spend and stop reason.
    ///
    /// Reads every FILE in order (`-` is stdin) as one log: a run split over several
    /// files is one run. Lines that are not events (other logs, a line torn by a crash)
    /// are skipped and counted in one warning on stderr. Events of no run (`run_id`
    /// null) are not listed. A run without a stop event shows `-` as its stop reason;
    /// one whose run_start is not in the input shows `-` for its versions. A run is
    /// listed when it passes every filter given; a filter repeated keeps any of its
    /// values.
    Runs(RunsArgs),

    /// Tell the whole story of one run: its versions, every step in order (nested calls
    /// indented under their parent), its LLM calls, sub-runs, stop reason and usage.
    ///
    /// RUN_ID is a whole run id, or 8 or more characters from anywhere in it when only
    /// one run's id contains them. Exits with 1 when no run matches or when several do
    /// (they are listed).
    Show(ShowArgs),

    /// Align two runs' tool calls from the logs alone and report where they diverge,
    /// with the codes of a replay's report: args_mismatch, tool_mismatch, extra,
    /// missing, outcome_mismatch, reordered.
    ///
    /// Calls pair up by (tool, args_sha, occurrence); the longest run of pairs in order
    /// anchors the alignment. Exits with 0 when the runs match, 1 when they diverge, 2
    /// when a run is not found or a prefix names several.
    Diff(DiffArgs),

    /// Verify, garbage-collect, report or pin a replay snapshot store.
    Snapshots(SnapshotsArgs),
    /// The seed's drift signals per time bucket (UTC day or hour) and overall: runs,
    /// tool calls per run, latency, tokens per LLM call, spend per run (and the share of
    /// runs of unknown cost), stop reasons, success rate, and per tool its calls,
    /// retries, error classes and durations.
    ///
    /// Reads the FILEs as `runs` does and takes the same filters. A run belongs to the
    /// bucket it started in. Quantiles are exact up to 4096 values, and from a DDSketch
    /// within 1% beyond.
    Stats(StatsArgs),

    /// Compare a baseline with a current period: each drift signal's values, ratio and
    /// statistical significance, then which tools, error classes and retries the change
    /// comes from.
    ///
    /// Exit status 0 when nothing drifted, 1 when something did, 2 on bad input (a file
    /// that cannot be read, no runs in a period, bad options).
    Drift(DriftArgs),

    /// Write the runs (or the events) of logs as a table for SQL: a Parquet or CSV file,
    /// or a PostgreSQL table.
    ///
    /// `--table runs` (the default) writes agent_runs, one row per run, with the same
    /// numbers as `runs`; `--table events` writes agent_events, one row per event. The
    /// columns and their types are in the README and in `sql/` (PostgreSQL and
    /// ClickHouse DDL). A file is written beside its name and renamed into place when
    /// complete; an existing one is replaced only with `--force`. A PostgreSQL table is
    /// created when missing and loaded in one transaction with COPY: exporting the same
    /// log again replaces its rows, it does not add them.
    Export(ExportArgs),

    /// Write one self-contained HTML file (no scripts, fonts or anything loaded from
    /// elsewhere) for a person to look at: the drift signals over time as charts, the
    /// slowest and most expensive runs with a waterfall of their steps, and, with
    /// `--baseline`, the drift verdict and its drivers as `drift` computes them.
    ///
    /// Time buckets are chosen to fit the logs (at most 120 between the first run and
    /// the last). An existing output is replaced only with `--force`; the file is written
    /// beside its name and renamed into place when complete. Exit status 2 on bad input
    /// (a log that cannot be read, no events, no runs).
    Report(ReportArgs),
}

impl Cli {
    /// Runs the command on the process's stdin, stdout and stderr.
    pub fn run(self) -> ExitCode {
        match self.command {
            // Hashes and their errors are plain text: nothing to color or strip.
            Command::Hash { .. } => self.command.run(&mut io::stdout(), &mut io::stderr()),
            // Colors that honor NO_COLOR, CLICOLOR_FORCE and whether it is a terminal.
            _ => self
                .command
                .run(&mut anstream::stdout(), &mut anstream::stderr()),
        }
    }
}

impl Command {
    /// Runs the command, writing its output to `out` and its warnings and errors to
    /// `err`, and returns its exit status. Styles are written as ANSI codes; wrap a
    /// stream in [`anstream::AutoStream`] to have them dropped where they do not belong.
    /// `-` among the inputs and `hash` without a document read the process's stdin.
    pub fn run(self, out: &mut dyn Write, err: &mut dyn Write) -> ExitCode {
        match self {
            Command::Hash { json, key_env } => hash::run(
                json.as_deref(),
                key_env.as_deref(),
                io::stdin().lock(),
                out,
                err,
            ),
            Command::Runs(args) => {
                let result = runs_cmd::run(&args, out, err);
                error::exit(err, "runs", result)
            }
            Command::Show(args) => {
                let result = show_cmd::run(&args, out, err);
                error::exit(err, "show", result)
            }
            Command::Diff(args) => match diff_cmd::run(&args, out, err) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(1),
                // 2, not 1: 1 means the runs diverge.
                Err(mut error) => {
                    if error.code != 0 {
                        error.code = 2;
                    }
                    error::exit(err, "diff", Err(error))
                }
            },
            Command::Snapshots(args) => match snapshots_cmd::run(&args, out) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(1),
                Err(error) => error::exit(err, "snapshots", Err(error)),
            },
            Command::Stats(args) => {
                let result = stats_cmd::run(&args, out, err);
                error::exit(err, "stats", result)
            }
            Command::Drift(args) => drift_cmd::run(&args, out, err),
            Command::Export(args) => {
                let result = export_cmd::run(&args, out, err);
                error::exit(err, "export", result)
            }
            Command::Report(args) => {
                let result = report_cmd::run(&args, out, err);
                error::exit(err, "report", result)
            }
        }
    }
}
