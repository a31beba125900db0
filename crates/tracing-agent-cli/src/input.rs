//! The event logs a command reads: the `FILE...` arguments, opened, and read through
//! the library's `EventReader` on every core (`parallel_read`) with a progress
//! indicator, the lines that are not events gathered into one warning.

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;

use clap::Args;
use tracing_agent::read::Item;
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
    reader: Box<dyn Read + Send>,
    len: Option<u64>,
}

impl Inputs {
    /// Inputs given other than as positional arguments (`drift --baseline FILE...`).
    pub(crate) fn of(files: Vec<String>) -> Self {
        Inputs { files }
    }

    /// The inputs' names, as given.
    pub(crate) fn files(&self) -> &[String] {
        &self.files
    }

    /// Reads every input in order and calls `on_event` for each event. Every file is
    /// opened before any is read, so a typo in the last name fails at once rather than
    /// after minutes of reading. A file given again (by the same name, or another name
    /// of the same path) is read only the first time, and said in the warnings.
    pub(crate) fn read_events(
        &self,
        mut on_event: impl FnMut(&EventRecord),
    ) -> Result<Skipped, CliError> {
        self.try_read_events(|event| {
            on_event(event);
            Ok(())
        })
    }

    /// [`Inputs::read_events`] for a consumer that can fail: its first error stops the
    /// reading and is returned.
    pub(crate) fn try_read_events(
        &self,
        mut on_event: impl FnMut(&EventRecord) -> Result<(), CliError>,
    ) -> Result<Skipped, CliError> {
        let mut skipped = Skipped::default();
        let inputs = self.open(&mut skipped.repeated)?;
        let total = inputs.iter().map(|input| input.len).sum::<Option<u64>>();
        let mut progress = Progress::new(total);
        for input in inputs {
            let name = input.name;
            let mut failed = None;
            crate::parallel_read::read_items(
                input.reader,
                |item| match item {
                    Item::Event(event) => match on_event(event) {
                        Ok(()) => true,
                        Err(error) => {
                            failed = Some(error);
                            false
                        }
                    },
                    Item::Skipped(line) => {
                        skipped.add(&name, line.line_no, &line.reason);
                        true
                    }
                },
                |bytes| progress.advance(bytes),
            )
            .map_err(|error| CliError::failure(format!("cannot read {name}: {error}")))?;
            if let Some(error) = failed {
                return Err(error);
            }
        }
        progress.finish();
        Ok(skipped)
    }

    /// Opens every input but those given before, which are named in `repeated`; `-` is
    /// stdin.
    fn open(&self, repeated: &mut Vec<String>) -> Result<Vec<Input>, CliError> {
        // Read twice, a log's calls would be counted twice in a run without a stop to
        // take its counts from, and `show` would list each of its steps twice.
        let mut seen: Vec<(&str, Option<PathBuf>)> = Vec::new();
        self.files
            .iter()
            .filter(|path| {
                let canonical = match path.as_str() {
                    "-" => None,
                    path => std::fs::canonicalize(path).ok(),
                };
                let before = seen.iter().find(|(name, known)| {
                    *name == path.as_str() || (canonical.is_some() && *known == canonical)
                });
                match before {
                    Some((name, _)) if *name == path.as_str() => {
                        repeated.push(format!("{path} is given more than once; it is read once"));
                        false
                    }
                    Some((name, _)) => {
                        repeated.push(format!(
                            "{path} is the same file as {name}; it is read once"
                        ));
                        false
                    }
                    None => {
                        seen.push((path, canonical));
                        true
                    }
                }
            })
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

/// What was not read: inputs given more than once, and the lines that were not events
/// (how many, and where the first few were).
#[derive(Debug, Default)]
pub(crate) struct Skipped {
    /// One warning for each input given again.
    repeated: Vec<String>,
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

    /// The warnings to print: one for each input given again, then [`Skipped::warning`].
    pub(crate) fn warnings(&self) -> Vec<String> {
        let mut warnings = self.repeated.clone();
        warnings.extend(self.warning());
        warnings
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
