//! The kill switch is process-wide, so its scenarios run one after another in one test
//! (in a binary of their own): in-process kills of an agent, a run, everything; "deny
//! writes"; reset; and the file an operator edits from outside the process.

mod common;

use std::time::{Duration, Instant};

use common::{capture, current_thread_runtime};
use tracing_agent::{agent_tool, ErrorClass, KillSwitch, Refused, Run, RunMeta, StopReason};

#[derive(Debug, ErrorClass)]
enum ToolError {
    #[allow(dead_code)]
    Refused(Refused),
}

impl From<Refused> for ToolError {
    fn from(refused: Refused) -> Self {
        ToolError::Refused(refused)
    }
}

fn refusal(result: Result<u32, ToolError>) -> Option<StopReason> {
    match result {
        Ok(_) => None,
        Err(ToolError::Refused(refused)) => Some(refused.reason()),
    }
}

#[agent_tool(name = "crm.lookup")]
fn lookup(id: u32) -> Result<u32, ToolError> {
    Ok(id)
}

#[agent_tool(name = "email.send", writes)]
fn send_email(id: u32) -> Result<u32, ToolError> {
    Ok(id)
}

/// Polls until `done` holds, for at most `limit`.
fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

#[test]
fn the_kill_switch_in_process_and_from_a_file() {
    let switch = KillSwitch::global();

    // kill_agent: a running run of the agent is killed at its next call, another agent
    // goes on, and runs of the agent started later are killed from the start.
    let (_, cap) = capture(|| {
        let run = Run::start(RunMeta::new("support"));
        let other = Run::start(RunMeta::new("billing"));
        assert_eq!(refusal(run.in_scope(|| lookup(1))), None);
        switch.kill_agent("support");
        assert_eq!(
            refusal(run.in_scope(|| lookup(2))),
            Some(StopReason::Killed)
        );
        assert_eq!(refusal(other.in_scope(|| lookup(3))), None, "another agent");
        let later = Run::start(RunMeta::new("support"));
        assert_eq!(later.check(), Err(StopReason::Killed));
        assert_eq!(
            run.stop(StopReason::Completed).stop_reason,
            StopReason::Killed
        );
        assert_eq!(
            later.stop(StopReason::Completed).stop_reason,
            StopReason::Killed
        );
        assert_eq!(
            other.stop(StopReason::Completed).stop_reason,
            StopReason::Completed
        );
        switch.reset();
        let after_reset = Run::start(RunMeta::new("support"));
        assert_eq!(after_reset.check(), Ok(()));
        after_reset.stop(StopReason::Completed);
    });
    let guards = cap.of_kind("guard");
    assert_eq!(guards.len(), 2, "one per killed run: {guards:?}");
    assert!(guards.iter().all(|g| g["guard"] == "kill_switch"));
    assert!(guards.iter().all(|g| g["stop_reason"] == "killed"));

    // kill_run: only that run.
    capture(|| {
        let a = Run::start(RunMeta::new("agent-a").run_id("run-kill-me"));
        let b = Run::start(RunMeta::new("agent-a").run_id("run-keep-me"));
        switch.kill_run("run-kill-me");
        assert_eq!(refusal(a.in_scope(|| lookup(1))), Some(StopReason::Killed));
        assert_eq!(refusal(b.in_scope(|| lookup(1))), None);
        switch.reset();
        a.stop(StopReason::Completed);
        b.stop(StopReason::Completed);
    });

    // kill_all, and `Run::guard` wakes a future that is waiting when the kill comes.
    let rt = current_thread_runtime();
    capture(|| {
        let run = Run::start(RunMeta::new("sleeper"));
        let killer = std::thread::spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            KillSwitch::global().kill_all();
        });
        let started = Instant::now();
        let ended = rt.block_on(run.guard(std::future::pending::<()>()));
        killer.join().unwrap();
        assert_eq!(ended, Err(StopReason::Killed));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "woken, not timed out"
        );
        switch.reset();
        run.stop(StopReason::Completed);
    });

    // deny_writes: the agent's `writes` tools are refused with `denied`, its reads go on
    // and the run is not ended.
    capture(|| {
        let run = Run::start(RunMeta::new("writer"));
        switch.deny_writes("writer");
        assert_eq!(
            refusal(run.in_scope(|| send_email(1))),
            Some(StopReason::Denied)
        );
        assert_eq!(refusal(run.in_scope(|| lookup(1))), None);
        assert_eq!(run.check(), Ok(()));
        switch.reset();
        assert_eq!(refusal(run.in_scope(|| send_email(2))), None);
        assert_eq!(
            run.stop(StopReason::Completed).stop_reason,
            StopReason::Completed
        );
    });

    // From outside the process: a file named in the config, edited while runs go on.
    let dir = tempfile::tempdir().unwrap();
    let kill_file = dir.path().join("kill");
    let yaml = format!(
        "logging:\n  output:\n    to: stderr\nguards:\n  kill_file: {}\n",
        kill_file.display()
    );
    let (layer, flush_guard) = tracing_agent::AgentLayer::from_config_str(&yaml).unwrap();
    let cap = common::Capture::default();
    use tracing_subscriber::prelude::*;
    let subscriber = tracing_subscriber::registry().with(layer.with_writer(cap.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let run = Run::start(RunMeta::new("remote"));
        assert_eq!(
            refusal(run.in_scope(|| lookup(1))),
            None,
            "no file: nothing killed"
        );
        std::fs::write(&kill_file, "# incident 4711\nwrites:remote\n").unwrap();
        assert!(
            eventually(Duration::from_secs(3), || refusal(
                run.in_scope(|| send_email(1))
            ) == Some(StopReason::Denied)),
            "writes denied from the file within a second or so"
        );
        std::fs::write(&kill_file, "remote\n").unwrap();
        assert!(
            eventually(Duration::from_secs(3), || run.check()
                == Err(StopReason::Killed)),
            "killed from the file"
        );
        assert_eq!(
            run.stop(StopReason::Completed).stop_reason,
            StopReason::Killed
        );
        std::fs::remove_file(&kill_file).unwrap();
        assert!(
            eventually(Duration::from_secs(3), || {
                let run = Run::start(RunMeta::new("remote"));
                let live = run.check().is_ok();
                run.stop(StopReason::Completed);
                live
            }),
            "removing the line lifts it"
        );
    });
    // Dropping the layer's guard stops the watch and lifts what the file said; a kill
    // written afterwards is not applied.
    std::fs::write(&kill_file, "after-watch\n").unwrap();
    assert!(
        eventually(Duration::from_secs(3), || {
            let run = Run::start(RunMeta::new("after-watch"));
            let killed = run.check() == Err(StopReason::Killed);
            run.stop(StopReason::Completed);
            killed
        }),
        "applied while watched"
    );
    drop(flush_guard);
    let run = Run::start(RunMeta::new("after-watch"));
    assert_eq!(run.check(), Ok(()), "lifted with the watch");
    run.stop(StopReason::Completed);
    std::fs::write(&kill_file, "*\n").unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    capture(|| {
        let run = Run::start(RunMeta::new("after-watch"));
        assert_eq!(run.check(), Ok(()), "no longer watched");
        run.stop(StopReason::Completed);
    });
}
