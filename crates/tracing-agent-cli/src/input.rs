//! Reading logs: many files and `-` (stdin), one line at a time, handing each event on
//! and counting the lines that are not events.
//!
//! Memory stays flat whatever the size of the input: one line is held at a time, and a
//! line is never held beyond [`MAX_LINE`] bytes (a runaway line is skipped, not loaded).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};

use crate::error::CliError;
use crate::event::{self, Event};
use crate::progress::Progress;

/// Longest line kept: far beyond any event (even with stored args), small enough that
/// a file without newlines cannot exhaust memory.
const MAX_LINE: usize = 16 << 20;

/// How many bad lines the warning names; the rest are only counted.
const EXAMPLES: usize = 5;

/// An input, opened: every file is opened before any is read, so a typo in the last
/// name fails at once rather than after minutes of reading.
pub(crate) struct Input {
    name: String,
    reader: Box<dyn Read>,
    len: Option<u64>,
}

/// Opens `paths`; `-` is stdin.
pub(crate) fn open(paths: &[String]) -> Result<Vec<Input>, CliError> {
    paths
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

/// The lines that were not events: how many, and where the first few were.
#[derive(Debug, Default)]
pub(crate) struct Skipped {
    count: u64,
    examples: Vec<String>,
}

impl Skipped {
    fn add(&mut self, input: &str, line_no: u64, reason: &str) {
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

/// Reads every input in order and calls `on_event` for each event.
pub(crate) fn read_events(
    inputs: Vec<Input>,
    mut on_event: impl FnMut(Event),
) -> Result<Skipped, CliError> {
    let total = inputs.iter().map(|input| input.len).sum::<Option<u64>>();
    let mut progress = Progress::new(total);
    let mut skipped = Skipped::default();
    let mut buf = Vec::new();
    for input in inputs {
        let name = input.name;
        let mut reader = BufReader::with_capacity(1 << 16, input.reader);
        let read_error =
            |error: io::Error| CliError::failure(format!("cannot read {name}: {error}"));
        let mut line_no = 0;
        while let Some(line) = read_line(&mut reader, &mut buf).map_err(read_error)? {
            line_no += 1;
            progress.advance(line.consumed);
            if line.too_long {
                let reason = format!("longer than {} MiB", MAX_LINE >> 20);
                skipped.add(&name, line_no, &reason);
                continue;
            }
            match event::parse(&buf) {
                Ok(Some(event)) => on_event(event),
                Ok(None) => {}
                // The writer was cut off mid-line (crash, rotation, a copy taken while
                // it wrote): expected at the very end, and said so.
                Err(_) if !line.terminated => {
                    skipped.add(&name, line_no, "torn last line (no newline at the end)")
                }
                Err(reason) => skipped.add(&name, line_no, &reason),
            }
        }
    }
    progress.finish();
    Ok(skipped)
}

struct Line {
    /// Bytes read from the input, newline included.
    consumed: u64,
    /// Ended by `\n` rather than by the end of the input.
    terminated: bool,
    /// Longer than [`MAX_LINE`]: `buf` holds only its start.
    too_long: bool,
}

/// Reads one line into `buf` (without its `\n`), keeping at most [`MAX_LINE`] bytes of it.
fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<Option<Line>> {
    buf.clear();
    let mut consumed = 0;
    let mut too_long = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok((consumed > 0).then_some(Line {
                consumed,
                terminated: false,
                too_long,
            }));
        }
        let (chunk, used, terminated) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (&available[..at], at + 1, true),
            None => (available, available.len(), false),
        };
        let room = MAX_LINE - buf.len();
        if chunk.len() > room {
            too_long = true;
        }
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        reader.consume(used);
        consumed += used as u64;
        if terminated {
            return Ok(Some(Line {
                consumed,
                terminated,
                too_long,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_and_the_last_one_may_be_torn() {
        // A reader that hands out 3 bytes at a time, so lines span many fill_buf calls.
        let data: &[u8] = b"ab\n\ncdefgh\nij";
        let mut reader = BufReader::with_capacity(3, data);
        let mut buf = Vec::new();
        let mut seen = Vec::new();
        while let Some(line) = read_line(&mut reader, &mut buf).unwrap() {
            seen.push((
                String::from_utf8(buf.clone()).unwrap(),
                line.consumed,
                line.terminated,
            ));
        }
        assert_eq!(
            seen,
            [
                ("ab".to_owned(), 3, true),
                (String::new(), 1, true),
                ("cdefgh".to_owned(), 7, true),
                ("ij".to_owned(), 2, false),
            ]
        );
    }

    #[test]
    fn a_runaway_line_is_cut_at_the_limit_and_flagged() {
        let mut data = vec![b'x'; MAX_LINE + 10];
        data.extend_from_slice(b"\n{}\n");
        let mut reader = BufReader::new(&data[..]);
        let mut buf = Vec::new();
        let line = read_line(&mut reader, &mut buf).unwrap().unwrap();
        assert!(line.too_long);
        assert_eq!(buf.len(), MAX_LINE);
        assert_eq!(line.consumed, MAX_LINE as u64 + 11);
        let next = read_line(&mut reader, &mut buf).unwrap().unwrap();
        assert!(!next.too_long);
        assert_eq!(buf, b"{}");
    }

    #[test]
    fn the_warning_names_five_and_counts_the_rest() {
        let mut skipped = Skipped::default();
        assert_eq!(skipped.warning(), None);
        for n in 1..=7 {
            skipped.add("a.log", n, "bad");
        }
        assert_eq!(
            skipped.warning().unwrap(),
            "skipped 7 lines that are not events:\n  a.log:1: bad\n  a.log:2: bad\n  a.log:3: bad\n  a.log:4: bad\n  a.log:5: bad\n  ... and 2 more"
        );
    }
}
