//! [`KillSwitch`]: ends runs from anywhere in the process, or from outside it through a
//! file.
//!
//! The hot path reads one atomic: while nothing is killed, a tool call pays a single
//! load. Runs notice a kill at their next tool call, `check()`, or poll of
//! `Run::guard`; futures waiting inside `Run::guard` are woken so they notice at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// The process-wide kill switch.
///
/// ```
/// use tracing_agent::KillSwitch;
/// let switch = KillSwitch::global();
/// switch.kill_agent("support-agent"); // its running runs, and every one it starts
/// switch.deny_writes("support-agent"); // only its `#[agent_tool(writes)]` tools
/// switch.reset();                     // lifts what code set
/// ```
///
/// From outside the process: name a file in the config (`guards: { kill_file: PATH }`)
/// or call [`KillSwitch::watch_file`]. Each line of the file is one of `*` (every run),
/// an agent name, `run:<run_id>`, or `writes:<agent>` / `writes:*` (deny
/// `#[agent_tool(writes)]` tools); `#` starts a comment. Changes are noticed within a
/// second; removing a line lifts it.
#[derive(Debug)]
pub struct KillSwitch {
    /// Non-zero while anything is killed or denied: the one load on the hot path.
    active: AtomicBool,
    state: Mutex<State>,
    next_waiter: AtomicU64,
}

/// What is killed, from code and from the watched file (kept apart so that a file
/// change does not undo what code set, nor `reset` what the file says).
#[derive(Debug)]
struct State {
    code: Kills,
    file: Kills,
    /// Futures waiting inside `Run::guard`, woken on every kill.
    waiters: BTreeMap<u64, Waker>,
}

#[derive(Debug, PartialEq)]
struct Kills {
    all: bool,
    agents: BTreeSet<String>,
    runs: BTreeSet<String>,
    deny_writes_all: bool,
    deny_writes: BTreeSet<String>,
}

impl Kills {
    const NONE: Kills = Kills {
        all: false,
        agents: BTreeSet::new(),
        runs: BTreeSet::new(),
        deny_writes_all: false,
        deny_writes: BTreeSet::new(),
    };

    fn is_empty(&self) -> bool {
        *self == Kills::NONE
    }

    fn kills(&self, agent: &str, run_id: &str) -> bool {
        self.all || self.agents.contains(agent) || self.runs.contains(run_id)
    }

    fn denies_writes(&self, agent: &str) -> bool {
        self.deny_writes_all || self.deny_writes.contains(agent)
    }

    fn parse(text: &str) -> Kills {
        let mut kills = Kills::NONE;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            if line == "*" {
                kills.all = true;
            } else if let Some(run) = line.strip_prefix("run:") {
                kills.runs.insert(run.trim().to_owned());
            } else if let Some(agent) = line.strip_prefix("writes:") {
                match agent.trim() {
                    "*" => kills.deny_writes_all = true,
                    agent => {
                        kills.deny_writes.insert(agent.to_owned());
                    }
                }
            } else {
                kills.agents.insert(line.to_owned());
            }
        }
        kills
    }
}

/// What the switch says about one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Live,
    Killed,
    /// Alive, but its `writes` tools are denied.
    WritesDenied,
}

impl KillSwitch {
    const fn new() -> Self {
        KillSwitch {
            active: AtomicBool::new(false),
            state: Mutex::new(State {
                code: Kills::NONE,
                file: Kills::NONE,
                waiters: BTreeMap::new(),
            }),
            next_waiter: AtomicU64::new(0),
        }
    }

    /// The one switch of this process.
    pub fn global() -> &'static KillSwitch {
        static GLOBAL: KillSwitch = KillSwitch::new();
        &GLOBAL
    }

    /// Kills every running run of `agent` and every run of it started until
    /// [`reset`](KillSwitch::reset).
    pub fn kill_agent(&self, agent: &str) {
        self.change(|kills| {
            kills.agents.insert(agent.to_owned());
        });
    }

    /// Kills the run `run_id`.
    pub fn kill_run(&self, run_id: &str) {
        self.change(|kills| {
            kills.runs.insert(run_id.to_owned());
        });
    }

    /// Kills every run, running or to come, until [`reset`](KillSwitch::reset).
    pub fn kill_all(&self) {
        self.change(|kills| kills.all = true);
    }

    /// Refuses the `#[agent_tool(writes)]` tools of `agent` (`"*"`: of every agent) with
    /// `denied`, while its other tools go on.
    pub fn deny_writes(&self, agent: &str) {
        self.change(|kills| match agent {
            "*" => kills.deny_writes_all = true,
            agent => {
                kills.deny_writes.insert(agent.to_owned());
            }
        });
    }

    /// Lifts every kill and denial set from code (a watched file's entries stay while
    /// the file names them). Runs already killed stay stopped.
    pub fn reset(&self) {
        self.change(|kills| *kills = Kills::NONE);
    }

    /// Applies the file at `path` now and whenever it changes (checked every half
    /// second) until the returned watch is dropped, which lifts what the file said. A
    /// missing file kills nothing.
    pub fn watch_file(&'static self, path: impl AsRef<Path>) -> KillFileWatch {
        let path = path.as_ref().to_owned();
        self.apply_file(&path, &mut None);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("tracing-agent-kill-file".into())
                .spawn(move || {
                    let mut seen = None;
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::park_timeout(Duration::from_millis(500));
                        self.apply_file(&path, &mut seen);
                    }
                })
                .ok()
        };
        KillFileWatch {
            switch: self,
            stop,
            thread,
        }
    }

    /// Reads `path` when its modification time or length changed since `seen`.
    fn apply_file(&self, path: &PathBuf, seen: &mut Option<(SystemTime, u64)>) {
        let stamp = std::fs::metadata(path).ok().map(|meta| {
            (
                meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                meta.len(),
            )
        });
        if stamp.is_some() && stamp == *seen {
            return;
        }
        *seen = stamp;
        // A kill file is a handful of lines; a larger one is cut rather than read whole.
        const MAX_BYTES: u64 = 1 << 20;
        let text = std::fs::File::open(path)
            .and_then(|file| {
                let mut text = String::new();
                std::io::Read::read_to_string(
                    &mut std::io::Read::take(file, MAX_BYTES),
                    &mut text,
                )?;
                Ok(text)
            })
            .unwrap_or_default();
        let kills = Kills::parse(&text);
        let mut state = self.lock();
        if state.file != kills {
            state.file = kills;
            self.settle(state);
        }
    }

    fn change(&self, f: impl FnOnce(&mut Kills)) {
        let mut state = self.lock();
        f(&mut state.code);
        self.settle(state);
    }

    /// Publishes whether anything is active and wakes every waiting guard.
    fn settle(&self, mut state: MutexGuard<'_, State>) {
        let active = !state.code.is_empty() || !state.file.is_empty();
        self.active.store(active, Ordering::Release);
        let waiters = std::mem::take(&mut state.waiters);
        drop(state);
        for waker in waiters.into_values() {
            waker.wake();
        }
    }

    /// The verdict for a run of `agent` with id `run_id`.
    #[inline]
    pub(crate) fn verdict(&self, agent: &str, run_id: &str) -> Verdict {
        if !self.active.load(Ordering::Acquire) {
            return Verdict::Live;
        }
        let state = self.lock();
        if state.code.kills(agent, run_id) || state.file.kills(agent, run_id) {
            Verdict::Killed
        } else if state.code.denies_writes(agent) || state.file.denies_writes(agent) {
            Verdict::WritesDenied
        } else {
            Verdict::Live
        }
    }

    /// A key for [`wait`](KillSwitch::wait) and [`unwait`](KillSwitch::unwait).
    pub(crate) fn waiter_key(&self) -> u64 {
        self.next_waiter.fetch_add(1, Ordering::Relaxed)
    }

    /// Wakes `waker` at the next change of the switch.
    pub(crate) fn wait(&self, key: u64, waker: &Waker) {
        let mut state = self.lock();
        match state.waiters.get_mut(&key) {
            Some(known) if known.will_wake(waker) => {}
            Some(known) => known.clone_from(waker),
            None => {
                state.waiters.insert(key, waker.clone());
            }
        }
    }

    /// Forgets the waker registered under `key`.
    pub(crate) fn unwait(&self, key: u64) {
        self.lock().waiters.remove(&key);
    }

    /// Only sets are changed under the lock: a panic there leaves them valid.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Watches a kill file until dropped (see [`KillSwitch::watch_file`]); dropping it lifts
/// what the file said. One file at a time: a second watch replaces the first's entries.
#[derive(Debug)]
pub struct KillFileWatch {
    switch: &'static KillSwitch,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for KillFileWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
        let mut state = self.switch.lock();
        state.file = Kills::NONE;
        self.switch.settle(state);
    }
}

#[cfg(test)]
mod tests {
    use super::Kills;

    #[test]
    fn the_file_format() {
        let kills = Kills::parse(
            "# incident 42\nsupport-agent\n  run:r-7 \nwrites:*\n\n*  # all\nwrites:crm\n",
        );
        assert!(kills.all);
        assert!(kills.agents.contains("support-agent"));
        assert!(kills.runs.contains("r-7"));
        assert!(kills.deny_writes_all);
        assert!(kills.deny_writes.contains("crm"));
        assert!(Kills::parse("# nothing\n\n").is_empty());
    }
}
