//! `tracing-agent hash`.

use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

use tracing_agent::hash::{canonical_json_of_text, hmac_sha24, sha24_of_json_text};

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
    let mut hasher = Hasher { key, err };
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
}

impl Hasher<'_> {
    /// Hashes every line of `input`; returns how many lines failed.
    fn hash_lines(&mut self, mut input: impl BufRead, out: &mut impl Write) -> io::Result<usize> {
        let mut failed = 0;
        let mut line = Vec::new();
        for line_no in 1.. {
            line.clear();
            if input.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let ok = match std::str::from_utf8(text) {
                Ok(text) => self.hash_one(text, Some(line_no), out)?,
                Err(error) => {
                    self.report(Some(line_no), &format!("not UTF-8 ({error})"));
                    writeln!(out)?;
                    false
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
