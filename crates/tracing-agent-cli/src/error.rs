//! What ends a command early, and with which exit status.

use std::io::{self, Write};
use std::process::ExitCode;

/// An error for the person at the terminal: `message` says what was wrong and where.
#[derive(Debug)]
pub(crate) struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    /// Exit status 1: the command ran but could not do what was asked (unreadable
    /// file, no such run, an ambiguous part of a run id).
    pub fn failure(message: impl Into<String>) -> Self {
        CliError {
            code: 1,
            message: message.into(),
        }
    }

    /// Exit status 2, as clap uses for its own usage errors: the request itself is wrong.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: 2,
            message: message.into(),
        }
    }
}

impl From<io::Error> for CliError {
    /// Errors writing stdout. A closed pipe (`| head`) means the reader has what it
    /// wanted: stop quietly, with success.
    fn from(error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::BrokenPipe {
            return CliError {
                code: 0,
                message: String::new(),
            };
        }
        CliError::failure(format!("cannot write the output: {error}"))
    }
}

/// Reports `result` on `err` (stderr) as `tracing-agent COMMAND: message` and turns it
/// into the exit status.
pub(crate) fn exit(err: &mut dyn Write, command: &str, result: Result<(), CliError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.code == 0 => ExitCode::SUCCESS,
        Err(error) => {
            crate::render::error(err, command, &error.message);
            ExitCode::from(error.code)
        }
    }
}
