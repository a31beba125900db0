//! `tracing-agent export`: the runs (or the events) of logs as a table in a Parquet or
//! CSV file or a PostgreSQL database, for teams that query their agents with SQL.
//!
//! Streams: an event becomes a row as it is read (`--table events`), and a run becomes
//! a row as soon as both its `run_start` and its `stop` have been read, leaving only an
//! 8-byte hash behind, so memory grows with the runs still open, not with the log.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use tracing_agent::EventKind;

use crate::error::CliError;
use crate::export::csv::CsvWriter;
use crate::export::output_file::{self, OutputFile};
use crate::export::parquet::ParquetWriter;
use crate::export::postgres::{Database, PgRows};
use crate::export::table::{event_id, event_row, run_row, Clamped, Table, Value, EVENTS, RUNS};
use crate::input::Inputs;
use crate::render;
use crate::summary::Summaries;

/// The arguments of `export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    inputs: Inputs,

    /// Where to write: a file whose name ends in `.parquet` or `.csv`, or a
    /// `postgres://USER:PASSWORD@HOST:PORT/DB` URL (the table is created if missing).
    #[arg(long, value_name = "TARGET")]
    to: String,

    /// Which table: `runs` (agent_runs, one row per run) or `events` (agent_events,
    /// one row per event).
    #[arg(long, value_enum, default_value_t = TableArg::Runs)]
    table: TableArg,

    /// Replace an output file that exists.
    #[arg(long)]
    force: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TableArg {
    Runs,
    Events,
}

enum Target {
    File(PathBuf, Format),
    Postgres(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Parquet,
    Csv,
}

impl Target {
    fn parse(to: &str) -> Result<Self, CliError> {
        if to.starts_with("postgres://") || to.starts_with("postgresql://") {
            return Ok(Target::Postgres(to.to_owned()));
        }
        let lower = to.to_ascii_lowercase();
        if lower.ends_with(".parquet") {
            Ok(Target::File(PathBuf::from(to), Format::Parquet))
        } else if lower.ends_with(".csv") {
            Ok(Target::File(PathBuf::from(to), Format::Csv))
        } else {
            Err(CliError::usage(format!(
                "--to {to}: give a file ending in .parquet or .csv, or a postgres:// URL"
            )))
        }
    }
}

/// Where rows go.
enum Sink<'a> {
    Csv(CsvWriter<BufWriter<&'a mut File>>, &'a Path),
    Parquet(Box<ParquetWriter<BufWriter<&'a mut File>>>, &'a Path),
    Postgres(PgRows<'a>),
}

fn write_error(path: &Path, error: impl std::fmt::Display) -> CliError {
    CliError::failure(format!("cannot write {}: {error}", path.display()))
}

impl Sink<'_> {
    fn write(&mut self, row: &[Value]) -> Result<(), CliError> {
        match self {
            Sink::Csv(csv, path) => csv.write(row).map_err(|e| write_error(path, e)),
            Sink::Parquet(parquet, path) => parquet.write(row).map_err(|e| write_error(path, e)),
            Sink::Postgres(rows) => rows.write(row),
        }
    }

    /// Writes what is buffered; returns a warning if values had to be changed.
    fn finish(self) -> Result<Option<String>, CliError> {
        match self {
            Sink::Csv(csv, path) => output_file::flush(csv.into_inner(), path).map(|()| None),
            Sink::Parquet(parquet, path) => {
                let buffered = parquet.finish().map_err(|e| write_error(path, e))?;
                output_file::flush(buffered, path).map(|()| None)
            }
            Sink::Postgres(rows) => {
                let replaced = rows.nul_replaced;
                rows.finish()?;
                Ok((replaced > 0).then(|| {
                    format!(
                        "{replaced} NUL characters (U+0000), which PostgreSQL's text cannot \
                         hold, were written as U+FFFD"
                    )
                }))
            }
        }
    }
}

/// What reading the log into a sink came to.
struct Fed {
    rows: u64,
    warnings: Vec<String>,
}

/// Reads every input into `sink` as rows of `table`.
fn feed(inputs: &Inputs, table: &Table, sink: &mut Sink) -> Result<Fed, CliError> {
    let mut clamped = Clamped::default();
    let mut rows = 0u64;
    let mut late = 0u64;
    let skipped = if table.name == RUNS.name {
        let mut summaries = Summaries::default();
        let skipped = inputs.try_read_events(|event| {
            let Some(run) = summaries.add(event) else {
                // A run already written: a later event cannot change its row any more.
                late += u64::from(event.run_id.is_some());
                return Ok(());
            };
            if event.kind == EventKind::Stop && run.has_run_start() {
                sink.write(&run_row(run, &mut clamped))?;
                rows += 1;
                let run_id = run.run_id.clone();
                summaries.leave_out(&run_id);
            }
            Ok(())
        })?;
        // Runs without a start or a stop in the input: written as far as they are known.
        for run in summaries.newest_first() {
            sink.write(&run_row(&run, &mut clamped))?;
            rows += 1;
        }
        skipped
    } else {
        inputs.try_read_events(|event| {
            let id = event_id(event);
            sink.write(&event_row(event, &id, &mut clamped))?;
            rows += 1;
            Ok(())
        })?
    };
    let mut warnings = skipped.warnings();
    if late > 0 {
        warnings.push(format!(
            "{late} events came after their run's stop and are not counted in {} \
             (`--table events` has them)",
            table.name
        ));
    }
    if clamped.count > 0 {
        warnings.push(format!(
            "{} values were out of the table's range and were written as the nearest it \
             holds (integers above 2^63-1 as 2^63-1, times after 9999 as \
             9999-12-31T23:59:59.999Z)",
            clamped.count
        ));
    }
    Ok(Fed { rows, warnings })
}

pub(crate) fn run(
    args: &ExportArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CliError> {
    let table = match args.table {
        TableArg::Runs => &RUNS,
        TableArg::Events => &EVENTS,
    };
    let what = match args.table {
        TableArg::Runs => "runs",
        TableArg::Events => "events",
    };
    let (fed, last_warning, done) = match Target::parse(&args.to)? {
        Target::Postgres(url) => {
            // Connected and checked before the log is read: a wrong password or an
            // incompatible table fails at once, not after minutes of reading.
            let mut db = Database::connect(&url)?;
            db.prepare(table)?;
            let mut sink = Sink::Postgres(db.copy(table)?);
            let fed = feed(&args.inputs, table, &mut sink)?;
            let last_warning = sink.finish()?;
            let (new, replaced) = db.merge(table)?;
            let again = match args.table {
                TableArg::Runs => "replaced",
                TableArg::Events => "already there",
            };
            let done = format!(
                "into {} at {}: {new} new, {replaced} {again}",
                table.name,
                db.shown()
            );
            (fed, last_warning, done)
        }
        Target::File(path, format) => {
            let mut file = OutputFile::create(&path, args.force)?;
            let (fed, last_warning) = {
                let writer = file.writer();
                let mut sink = if format == Format::Parquet {
                    let parquet =
                        ParquetWriter::new(writer, table).map_err(|e| write_error(&path, e))?;
                    Sink::Parquet(Box::new(parquet), &path)
                } else {
                    let csv = CsvWriter::new(writer, table).map_err(|e| write_error(&path, e))?;
                    Sink::Csv(csv, &path)
                };
                let fed = feed(&args.inputs, table, &mut sink)?;
                (fed, sink.finish()?)
            };
            file.commit()?;
            (fed, last_warning, format!("to {}", path.display()))
        }
    };
    for warning in fed.warnings.iter().chain(&last_warning) {
        render::warning(err, "export", warning);
    }
    writeln!(out, "exported {} {what} {done}", fed.rows)?;
    Ok(())
}
