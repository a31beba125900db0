//! `tracing-agent`: the command-line companion of the tracing-agent library. Everything
//! but parsing the command line is in the library, where tests run it in-process.

use std::process::ExitCode;

use clap::Parser;
use tracing_agent_cli::Cli;

fn main() -> ExitCode {
    Cli::parse().run()
}
