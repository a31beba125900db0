//! The commands run in-process through the library, as the binary runs them: the same
//! output, the same warnings and errors, the same exit status.

mod common;

use std::process::ExitCode;

use clap::Parser;
use common::{cli, strip_ansi, AGENT_LOG, OLDER_LOG};
use tracing_agent_cli::Cli;

/// `tracing-agent ARGS` in-process: exit status, stdout and stderr (colors stripped, as
/// the binary strips them when its streams are not terminals).
fn in_process(args: &[&str]) -> (ExitCode, String, String) {
    let cli = Cli::try_parse_from(std::iter::once("tracing-agent").chain(args.iter().copied()))
        .expect("the arguments parse");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli.command.run(&mut out, &mut err);
    let text = |bytes: Vec<u8>| strip_ansi(&String::from_utf8(bytes).unwrap());
    (code, text(out), text(err))
}

fn code(status: Option<i32>) -> ExitCode {
    ExitCode::from(u8::try_from(status.expect("an exit status")).unwrap())
}

#[test]
fn every_command_says_in_process_what_the_binary_says() {
    for args in [
        &["runs", OLDER_LOG, AGENT_LOG][..],
        &["runs", "--json", "--agent", "support-agent", AGENT_LOG],
        &["runs", "--stop-reason", "nothing-stops-so", AGENT_LOG],
        &["show", "0193a5e0-7c4a", AGENT_LOG],
        &["show", "0193a5e1", AGENT_LOG],
        &["show", "0193a5e0-7c4a", "tests/fixtures/no-such.log"],
        &["hash", r#"{"b":1,"a":[1.0,2]}"#],
        &["hash", "not json"],
    ] {
        let binary = cli(args, "");
        let (status, stdout, stderr) = in_process(args);
        assert_eq!(status, code(binary.code), "{args:?}");
        assert_eq!(stdout, binary.stdout, "{args:?}");
        assert_eq!(stderr, binary.stderr, "{args:?}");
    }
}
