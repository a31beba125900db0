//! `tracing-agent`: the command-line companion of the tracing-agent library.

mod error;
mod filter;
mod hash;
mod input;
mod progress;
mod render;
mod runs_cmd;
mod show_cmd;
mod summary;

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
        /// Print keyed hashes (HMAC-SHA256), with the key read from this environment
        /// variable: what the layer writes when its config sets `hash_key_env`.
        #[arg(long, value_name = "NAME")]
        key_env: Option<String>,
    },

    /// List runs, newest first: one line per run with its versions, tool calls, errors,
    /// duration, spend and stop reason.
    ///
    /// Reads every FILE in order (`-` is stdin) as one log: a run split over several
    /// files is one run. Lines that are not events (other logs, a line torn by a crash)
    /// are skipped and counted in one warning on stderr. Events of no run (`run_id`
    /// null) are not listed. A run without a stop event shows `-` as its stop reason;
    /// one whose run_start is not in the input shows `-` for its versions.
    Runs(runs_cmd::RunsArgs),

    /// Tell the whole story of one run: its versions, every step in order (nested calls
    /// indented under their parent), its LLM calls, sub-runs, stop reason and usage.
    ///
    /// RUN_ID is a whole run id, or its first 8 or more characters when only one run
    /// has them. Exits with 1 when no run matches or when several do (they are listed).
    Show(show_cmd::ShowArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Hash { json, key_env } => hash::run(json.as_deref(), key_env.as_deref()),
        Command::Runs(args) => error::exit("runs", runs_cmd::run(args)),
        Command::Show(args) => error::exit("show", show_cmd::run(args)),
    }
}
