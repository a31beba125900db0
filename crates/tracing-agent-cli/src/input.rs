//! The event logs a command reads: the `FILE...` arguments, opened, and read through
//! the library's [`EventReader`] with a progress indicator, the lines that are not
//! events gathered into one warning.

use std::fs::File;
use std::io::{self, Read};

use clap::Args;
use tracing_agent::read::{EventReader, Item};
use tracing_agent::EventRecord;

use crate::error::CliError;
use crate::progress::Progress;

/// How many bad lines the warning names; the rest are only counted.
const EXAMPLES: usize = 5;

/// The `FILE...` arguments of every command that reads event logs.
#[derive(Args, Debug)]
pub(crate) struct Inputs {
    /// Event logs to read, in order; `-` is stdin.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
}

/// An input, opened.
struct Input {
    name: String,
    reader: Box<dyn Read>,
    len: Option<u64>,
}

impl Inputs {
    /// Reads every input in order and calls `on_event` for each event. Every file is
    /// opened before any is read, so a typo in the last name fails at once rather than
    /// after minutes of reading.
    pub(crate) fn read_events(
        &self,
        mut on_event: impl FnMut(EventRecord),
    ) -> Result<Skipped, CliError> {
        let inputs = self.open()?;
        let total = inputs.iter().map(|input| input.len).sum::<Option<u64>>();
        let mut progress = Progress::new(total);
        let mut skipped = Skipped::default();
        for input in inputs {
            let name = input.name;
            let mut events = EventReader::new(input.reader);
            let mut counted = 0;
            while let Some(item) = events.next() {
                let item = item
                    .map_err(|error| CliError::failure(format!("cannot read {name}: {error}")))?;
                progress.advance(events.bytes_read() - counted);
                counted = events.bytes_read();
                match item {
                    Item::Event(event) => on_event(event),
                    Item::Skipped(line) => skipped.add(&name, line.line_no, &line.reason),
                }
            }
            progress.advance(events.bytes_read() - counted);
        }
        progress.finish();
        Ok(skipped)
    }

    /// Opens every input; `-` is stdin.
    fn open(&self) -> Result<Vec<Input>, CliError> {
        self.files
            .iter()
            .map(|path| {
                if path == "-" {
                    return Ok(Input {
                        name: "<stdin>".to_owned(),
                        reader: Box::new(io::stdin()),
                        len: None,
                    });
                }
                let file = File::open(path)
                    .map_err(|error| CliError::failure(format!("cannot open {path}: {error}")))?;
                let len = file.metadata().ok().map(|meta| meta.len());
                Ok(Input {
                    name: path.clone(),
                    reader: Box::new(file),
                    len,
                })
            })
            .collect()
    }
}

/// The lines that were not events: how many, and where the first few were.
#[derive(Debug, Default)]
pub(crate) struct Skipped {
    count: u64,
    examples: Vec<String>,
}

impl Skipped {
    fn add(&mut self, input: &str, line_no: u64, reason: &impl std::fmt::Display) {
        self.count += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(format!("{input}:{line_no}: {reason}"));
        }
    }

    /// The one warning for all skipped lines, or `None` when every line was an event.
    pub(crate) fn warning(&self) -> Option<String> {
        if self.count == 0 {
            return None;
        }
        let what = if self.count == 1 {
            "line that is not an event"
        } else {
            "lines that are not events"
        };
        let mut text = format!("skipped {} {what}:", self.count);
        for example in &self.examples {
            text.push_str("\n  ");
            text.push_str(example);
        }
        let unnamed = self.count - self.examples.len() as u64;
        if unnamed > 0 {
            text.push_str(&format!("\n  ... and {unnamed} more"));
        }
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_names_five_and_counts_the_rest() {
        let mut skipped = Skipped::default();
        assert_eq!(skipped.warning(), None);
        for n in 1..=7 {
            skipped.add("a.log", n, &"bad");
        }
        assert_eq!(
            skipped.warning().unwrap(),
            "skipped 7 lines that are not events:\n  a.log:1: bad\n  a.log:2: bad\n  a.log:3: bad\n  a.log:4: bad\n  a.log:5: bad\n  ... and 2 more"
        );
    }
}
