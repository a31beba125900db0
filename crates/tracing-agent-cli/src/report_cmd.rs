//! `tracing-agent report`: one self-contained HTML file of the logs' drift signals over
//! time, the drift verdict against a baseline, and the slowest and most expensive runs
//! with their steps.
//!
//! The logs are read once, as `stats` and `drift` read them: runs are folded into time
//! buckets as they complete ([`crate::report::timeline`]), and only the leading runs
//! keep their steps. The file is written beside its name and renamed into place.

use std::io::Write;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;

use crate::aggregate::{Aggregate, Collector, FinishedRun};
use crate::drift_cmd::{compare_aggregates, Thresholds};
use crate::error::CliError;
use crate::export::output_file::{flush, OutputFile};
use crate::input::Inputs;
use crate::render;
use crate::report::html::{self, Contents};
use crate::report::notable::Notable;
use crate::report::timeline::{Period, Timeline};

/// The arguments of `report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    inputs: Inputs,

    /// The HTML file to write.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,

    /// Replace the output file if it exists.
    #[arg(long)]
    force: bool,

    /// Logs of a baseline period: adds the drift verdict (as `drift` computes it) and
    /// draws the baseline beside the current runs.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    baseline: Vec<String>,

    #[command(flatten)]
    thresholds: Thresholds,
}

/// What reading one period's logs found.
#[derive(Default)]
struct Read {
    events: u64,
    aggregate: Aggregate,
}

/// Reads `files` into `timeline` as `period`; the current period's leading runs go to
/// `notable`.
fn read(
    files: &[String],
    period: Period,
    timeline: &mut Timeline,
    notable: &mut Notable,
    err: &mut dyn Write,
) -> Result<Read, CliError> {
    let mut read = Read::default();
    let mut collector = match period {
        Period::Current => Collector::keeping_steps(),
        Period::Baseline => Collector::default(),
    };
    let mut fold = |run: FinishedRun, read: &mut Read| {
        timeline.add(period, &run);
        read.aggregate.add(&run);
        if period == Period::Current {
            notable.offer(&run);
        }
    };
    let inputs = Inputs::of(files.to_vec());
    let skipped = inputs
        .read_events(|event| {
            read.events += 1;
            if let Some(run) = collector.add(event) {
                fold(run, &mut read);
            }
        })
        // A log that cannot be read is bad input: exit status 2, like the rest of it.
        .map_err(|error| CliError::usage(error.message))?;
    let (rest, counts) = collector.finish();
    for run in rest {
        fold(run, &mut read);
    }
    for warning in skipped.warnings().into_iter().chain(counts.warning()) {
        render::warning(err, "report", &warning);
    }
    let which = match period {
        Period::Current => "",
        Period::Baseline => "baseline ",
    };
    if read.events == 0 {
        return Err(CliError::usage(format!(
            "no events in the {which}logs {}",
            files.join(", ")
        )));
    }
    if read.aggregate.runs == 0 {
        return Err(CliError::usage(format!(
            "no runs in the {which}logs {} ({} events, none with a run_id)",
            files.join(", "),
            read.events
        )));
    }
    Ok(read)
}

pub(crate) fn run(
    args: &ReportArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CliError> {
    args.thresholds.check()?;
    // Before minutes of reading: an output that would be refused is refused now.
    let mut output = OutputFile::create(&args.output, args.force)
        .map_err(|error| CliError::usage(error.message))?;
    let files = args.inputs.files();
    let mut timeline = Timeline::default();
    let mut notable = Notable::default();
    let mut baseline = if args.baseline.is_empty() {
        None
    } else {
        Some(read(
            &args.baseline,
            Period::Baseline,
            &mut timeline,
            &mut notable,
            err,
        )?)
    };
    let mut current = read(files, Period::Current, &mut timeline, &mut notable, err)?;
    let comparison = baseline.as_mut().map(|baseline| {
        compare_aggregates(
            &args.thresholds,
            &mut baseline.aggregate,
            &mut current.aggregate,
        )
    });
    let generated_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let runs = current.aggregate.runs;
    let page = html::page(Contents {
        files,
        baseline_files: &args.baseline,
        generated_ms,
        timeline: &mut timeline,
        current: &mut current.aggregate,
        baseline: baseline.as_mut().map(|b| &mut b.aggregate),
        comparison: comparison.as_ref(),
        notable: &notable,
    });
    let mut writer = output.writer();
    writer.write_all(page.as_bytes()).map_err(|error| {
        CliError::failure(format!("cannot write {}: {error}", args.output.display()))
    })?;
    flush(writer, &args.output)?;
    output.commit()?;
    writeln!(
        out,
        "wrote {} ({} runs, {} KiB)",
        args.output.display(),
        runs,
        page.len().div_ceil(1024)
    )?;
    Ok(())
}
