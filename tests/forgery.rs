//! Values that could forge log lines: a run id or agent name with a newline must not
//! make a line of its own in `fmt`'s text output.

mod common;

use common::Capture;
use tracing_agent::{AgentLayer, Run, RunMeta, StopReason};
use tracing_subscriber::prelude::*;

#[test]
fn a_newline_in_run_id_or_agent_forges_no_fmt_line() {
    let text = Capture::default();
    let events = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(text.clone()),
        )
        .with(AgentLayer::new().with_writer(events.clone()));
    let forged = "\n2024-01-01T00:00:00.000000Z  INFO forged: admin logged in";
    tracing::subscriber::with_default(subscriber, || {
        let run = Run::start(RunMeta::new(format!("agent{forged}")).run_id(format!("r1{forged}")));
        run.in_scope(|| tracing::info!("inside the run"));
        run.stop(StopReason::Completed);
    });
    let text = text.text();
    // The run's `run started` line and the event inside it: two lines, not more.
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains(r#"run started agent=agent\n2024"#), "{text}");
    assert!(
        !text.lines().any(|line| line.starts_with("2024-01-01")),
        "{text}"
    );
    // Escaped on its own line, unquoted like any other run id.
    assert!(text.contains(r#"run_id=r1\n2024"#), "{text}");
    // The events themselves were always one line each.
    assert_eq!(events.events().len(), 2);
}
