//! `tracing-agent`: the command-line companion of the tracing-agent library.

mod hash;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "tracing-agent",
    version,
    about = "Work with tracing-agent events"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Hash { json } => hash::run(json.as_deref()),
    }
}
