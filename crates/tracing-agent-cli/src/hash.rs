//! `tracing-agent hash`.

use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

use tracing_agent::hash::{canonical_json_of_text, hmac_sha24, sha24_of_json_text};
use tracing_agent::read::DEFAULT_MAX_LINE;

/// Hashes `json`, or every line of `input` without it; errors go to `err` (stderr),
/// each as it happens.
pub(crate) fn run(
    json: Option<&str>,
    key_env: Option<&str>,
    input: impl BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitCode {
    let key = match key_env.map(std::env::var_os) {
        None => None,
        Some(Some(key)) if !key.is_empty() => Some(key.into_encoded_bytes()),
        Some(_) => {
            let _ = writeln!(
                err,
                "tracing-agent hash: --key-env: the environment variable `{}` is not set (or empty)",
                key_env.unwrap_or_default()
            );
            return ExitCode::from(2);
        }
    };
    let mut hasher = Hasher {
        key,
        err,
        max_line: DEFAULT_MAX_LINE,
    };
    let mut out = BufWriter::new(out);
    let result = match json {
        Some(text) => hasher
            .hash_one(text, None, &mut out)
            .map(|ok| usize::from(!ok)),
        None => hasher.hash_lines(input, &mut out),
    };
    match result.and_then(|failed| out.flush().map(|()| failed)) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        // Our reader went away (`| head`): nothing more to say to anyone.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(hasher.err, "tracing-agent hash: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Plain reference hashes, or keyed ones with `key`; errors to `err`.
struct Hasher<'a> {
    key: Option<Vec<u8>>,
    err: &'a mut dyn Write,
    /// Longer lines are skipped unread (with an error), so that input without newlines
    /// (`< /dev/zero`) cannot take all memory: the event reader's limit.
    max_line: usize,
}

impl Hasher<'_> {
    /// Hashes every line of `input`; returns how many lines failed.
    fn hash_lines(&mut self, mut input: impl BufRead, out: &mut impl Write) -> io::Result<usize> {
        let mut failed = 0;
        let mut line = Vec::new();
        for line_no in 1.. {
            let Some(too_long) = read_line(&mut input, &mut line, self.max_line)? else {
                break;
            };
            let ok = if too_long {
                let mib = self.max_line >> 20;
                let limit = if mib > 0 {
                    format!("{mib} MiB")
                } else {
                    format!("{} bytes", self.max_line)
                };
                let _ = writeln!(
                    self.err,
                    "tracing-agent hash: line {line_no}: longer than {limit}, not read"
                );
                writeln!(out)?;
                false
            } else {
                match std::str::from_utf8(&line) {
                    Ok(text) => self.hash_one(text, Some(line_no), out)?,
                    Err(error) => {
                        self.report(Some(line_no), &format!("not UTF-8 ({error})"));
                        writeln!(out)?;
                        false
                    }
                }
            };
            failed += usize::from(!ok);
        }
        Ok(failed)
    }

    /// Writes the hash of `text`, or an empty line and an error naming the line.
    fn hash_one(
        &mut self,
        text: &str,
        line_no: Option<usize>,
        out: &mut impl Write,
    ) -> io::Result<bool> {
        let sha = match &self.key {
            None => sha24_of_json_text(text),
            Some(key) => canonical_json_of_text(text).map(|c| hmac_sha24(key, c.as_bytes())),
        };
        match sha {
            Ok(sha) => {
                writeln!(out, "{sha}")?;
                Ok(true)
            }
            Err(error) => {
                self.report(line_no, &error.to_string());
                writeln!(out)?;
                Ok(false)
            }
        }
    }

    /// An error on stderr, naming the line (or the argument). A stderr that cannot be
    /// written to has no one to tell.
    fn report(&mut self, line_no: Option<usize>, message: &str) {
        let _ = match line_no {
            Some(n) => writeln!(
                self.err,
                "tracing-agent hash: line {n}: not JSON: {message}"
            ),
            None => writeln!(
                self.err,
                "tracing-agent hash: argument: not JSON: {message}"
            ),
        };
    }
}

/// Reads the next line into `line` without its `\n`, keeping at most `max` bytes of it:
/// `None` at the end of the input, else whether the line was longer (then `line` is
/// empty and the rest of the line was read past, not kept).
fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>, max: usize) -> io::Result<Option<bool>> {
    line.clear();
    let mut too_long = false;
    let mut started = false;
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if buf.is_empty() {
            return Ok(started.then_some(too_long));
        }
        started = true;
        let newline = buf.iter().position(|&b| b == b'\n');
        let chunk = &buf[..newline.unwrap_or(buf.len())];
        if !too_long {
            if line.len() + chunk.len() > max {
                too_long = true;
                line.clear();
                line.shrink_to(max.min(64 << 10));
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = newline.map_or(buf.len(), |at| at + 1);
        input.consume(used);
        if newline.is_some() {
            return Ok(Some(too_long));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_with_limit(input: impl BufRead, max_line: usize) -> (String, String, usize) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let failed = Hasher {
            key: None,
            err: &mut err,
            max_line,
        }
        .hash_lines(input, &mut out)
        .unwrap();
        (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
            failed,
        )
    }

    #[test]
    fn a_line_over_the_limit_is_skipped_with_an_error_and_the_rest_is_hashed() {
        let mut input = vec![b'['; 100];
        input.extend_from_slice(b"\n{}\n1");
        let (out, err, failed) = hash_with_limit(input.as_slice(), 10);
        assert_eq!(failed, 1);
        assert_eq!(
            out,
            "\n44136fa355b3678a1146ad16\n6b86b273ff34fce19d6b804e\n"
        );
        assert_eq!(
            err,
            "tracing-agent hash: line 1: longer than 10 bytes, not read\n"
        );
        // Exactly at the limit is read.
        let (out, _, failed) = hash_with_limit(&b"{ }\n"[..], 3);
        assert_eq!((out.as_str(), failed), ("44136fa355b3678a1146ad16\n", 0));
    }

    #[test]
    fn input_without_newlines_is_not_kept() {
        // A reader of zeros that never ends a line: memory stays at the limit.
        let zeros = io::Read::take(io::repeat(0), 8 << 20);
        let (out, err, failed) = hash_with_limit(io::BufReader::new(zeros), 1 << 20);
        assert_eq!((out.as_str(), failed), ("\n", 1));
        assert!(err.contains("line 1: longer than 1 MiB"), "{err}");
    }
}
