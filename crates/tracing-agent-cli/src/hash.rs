//! `tracing-agent hash`.

use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

use tracing_agent::hash::sha24_of_json_text;

pub(crate) fn run(json: Option<&str>) -> ExitCode {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = match json {
        Some(text) => hash_one(text, None, &mut out).map(|ok| usize::from(!ok)),
        None => hash_lines(io::stdin().lock(), &mut out),
    };
    match result.and_then(|failed| out.flush().map(|()| failed)) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        // Our reader went away (`| head`): nothing more to say to anyone.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tracing-agent hash: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Hashes every line of `input`; returns how many lines failed.
fn hash_lines(mut input: impl BufRead, out: &mut impl Write) -> io::Result<usize> {
    let mut failed = 0;
    let mut line = Vec::new();
    for line_no in 1.. {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let ok = match std::str::from_utf8(text) {
            Ok(text) => hash_one(text, Some(line_no), out)?,
            Err(error) => {
                report(Some(line_no), &format!("not UTF-8 ({error})"));
                writeln!(out)?;
                false
            }
        };
        failed += usize::from(!ok);
    }
    Ok(failed)
}

/// Writes the hash of `text`, or an empty line and an error naming the line.
fn hash_one(text: &str, line_no: Option<usize>, out: &mut impl Write) -> io::Result<bool> {
    match sha24_of_json_text(text) {
        Ok(sha) => {
            writeln!(out, "{sha}")?;
            Ok(true)
        }
        Err(error) => {
            report(line_no, &error.to_string());
            writeln!(out)?;
            Ok(false)
        }
    }
}

fn report(line_no: Option<usize>, message: &str) {
    match line_no {
        Some(n) => eprintln!("tracing-agent hash: line {n}: not JSON: {message}"),
        None => eprintln!("tracing-agent hash: argument: not JSON: {message}"),
    }
}
