//! A failing writer never breaks the agent: failures are counted, reported once.

use std::io;

use tracing_agent::{agent_tool, AgentLayer, Run, RunMeta, StopReason};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

struct FullDisk;
impl io::Write for FullDisk {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("no space left on device"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct Panicking;
impl<'a> MakeWriter<'a> for Panicking {
    type Writer = FullDisk;
    fn make_writer(&'a self) -> FullDisk {
        panic!("writer bug")
    }
}

#[agent_tool]
fn work(n: u32) -> u32 {
    n + 1
}

#[test]
fn a_failing_writer_is_counted_and_the_agent_goes_on() {
    let layer = AgentLayer::new().with_writer(|| FullDisk);
    let stats = layer.stats();
    let subscriber = tracing_subscriber::registry().with(layer);
    let stopped = tracing::subscriber::with_default(subscriber, || {
        let run = Run::start(RunMeta::new("t"));
        assert_eq!(run.in_scope(|| work(1) + work(2)), 5);
        run.stop(StopReason::Completed)
    });
    assert_eq!(stopped.usage.tool_calls, 2, "the run kept counting");
    assert_eq!(stats.failed(), 4, "run_start, two tool_results, stop");
    assert_eq!(stats.written(), 0);
}

#[test]
fn a_panicking_writer_never_panics_into_the_agent() {
    let layer = AgentLayer::new().with_writer(Panicking);
    let stats = layer.stats();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let run = Run::start(RunMeta::new("t"));
        assert_eq!(run.in_scope(|| work(1)), 2);
        run.stop(StopReason::Completed);
    });
    assert_eq!(stats.failed(), 3);
}
