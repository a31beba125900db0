//! One replayed run: the matcher that answers each tool call from the recording (or
//! refuses it, or lets it run live), and the calls it saw, for the report.
//!
//! Matching: the tool name is the hard key and `args_sha` the second; the k-th call with
//! a given `(tool, args_sha)` is answered by the k-th recorded call with them, so
//! identical calls are served in recorded order and concurrent calls are matched by
//! `(tool, args_sha, occurrence)`, never by racing step ids.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use super::recording::Recording;
use crate::divergence::{self, CallSummary, CompareOutcomes, DivergenceCode, Report};
use crate::guard::Refused;
use crate::schema::StopReason;

/// A recorded outcome handed to the generated code in place of running the body.
/// Restored into the tool's return type by `#[agent_tool]`'s expansion.
#[derive(Clone)]
pub struct Answer {
    content: Arc<[u8]>,
    key: Option<String>,
    ok: bool,
    recorded_step: Option<u64>,
}

/// The recorded value stays out of debug output: it may be anything a tool returned.
impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("ok", &self.ok)
            .field("bytes", &self.content.len())
            .field("snapshot", &self.key)
            .finish()
    }
}

impl Answer {
    /// The recorded value, as canonical JSON.
    pub fn json(&self) -> &[u8] {
        &self.content
    }

    /// Whether the recorded call returned (`Ok`, or a plain value) rather than failed.
    pub fn is_ok(&self) -> bool {
        self.ok
    }

    /// The key of the snapshot it comes from.
    pub fn snapshot(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The recorded call's step.
    pub fn recorded_step(&self) -> Option<u64> {
        self.recorded_step
    }
}

/// What the matcher says about one call.
pub(crate) enum Verdict {
    /// Answer with the recorded outcome; the body does not run.
    Serve(Answer),
    /// Run the body (the tool is on the live allowlist).
    Live,
    /// No recorded answer: refuse, for this reason.
    Refuse(Refused, DivergenceCode),
}

/// The matcher and the calls of one replayed run.
pub(crate) struct Session {
    recording: Recording,
    state: Mutex<State>,
}

type Key = (String, Option<String>);

struct State {
    /// For each `(tool, args_sha)`: the recorded calls not yet matched, in step order.
    waiting: HashMap<Key, VecDeque<usize>>,
    /// The replayed calls, as they finished.
    replayed: Vec<CallSummary>,
    /// The recorded steps whose outcome was served: the calls recorded inside them were
    /// never made again, since the served call's body did not run.
    served: HashSet<u64>,
}

impl Session {
    pub(crate) fn new(recording: Recording) -> Session {
        let mut waiting: HashMap<Key, VecDeque<usize>> = HashMap::new();
        for (i, call) in recording.recorded().iter().enumerate() {
            let key = (call.summary.tool.clone(), call.summary.args_sha.clone());
            waiting.entry(key).or_default().push_back(i);
        }
        Session {
            recording,
            state: Mutex::new(State {
                waiting,
                replayed: Vec::new(),
                served: HashSet::new(),
            }),
        }
    }

    pub(crate) fn recording(&self) -> &Recording {
        &self.recording
    }

    /// Decides the call of `tool` with `args_sha`.
    pub(crate) fn decide(&self, tool: &str, args_sha: Option<&str>) -> Verdict {
        let recorded = self.recording.recorded();
        let matched = {
            let mut state = self.lock();
            let key = (tool.to_owned(), args_sha.map(str::to_owned));
            state.waiting.get_mut(&key).and_then(VecDeque::pop_front)
        };
        if self.recording.may_run_live(tool) {
            return Verdict::Live;
        }
        match matched.map(|i| &recorded[i]) {
            Some(call) => match &call.content {
                Some(content) => {
                    if let Some(step) = call.summary.step {
                        self.lock().served.insert(step);
                    }
                    Verdict::Serve(Answer {
                        content: Arc::clone(content),
                        key: call.snapshot_key.clone(),
                        ok: call.summary.error.is_none(),
                        recorded_step: call.summary.step,
                    })
                }
                None => {
                    let why = call
                        .unreplayable
                        .as_deref()
                        .unwrap_or("no recorded outcome");
                    let detail = format!(
                        "recorded step {} cannot be served: {why}",
                        step_text(call.summary.step)
                    );
                    refuse(tool, DivergenceCode::Unreplayable, detail)
                }
            },
            None => {
                let same_tool = {
                    let state = self.lock();
                    state
                        .waiting
                        .iter()
                        .any(|((t, _), queue)| t == tool && !queue.is_empty())
                };
                let code = if same_tool {
                    DivergenceCode::ArgsMismatch
                } else {
                    DivergenceCode::Extra
                };
                let probe = CallSummary {
                    tool: tool.to_owned(),
                    args_sha: args_sha.map(str::to_owned),
                    ..CallSummary::default()
                };
                let summaries: Vec<CallSummary> =
                    recorded.iter().map(|c| c.summary.clone()).collect();
                let hint = divergence::nearest(&probe, &summaries)
                    .map_or_else(String::new, |hint| format!("; nearest: {hint}"));
                let detail = format!(
                    "no recorded call of {tool} with args_sha {} is left to answer it{hint}",
                    args_sha.unwrap_or("-")
                );
                refuse(tool, code, detail)
            }
        }
    }

    /// Notes a replayed call that finished.
    pub(crate) fn finished(&self, call: CallSummary) {
        self.lock().replayed.push(call);
    }

    /// The report, for the replayed run `run_id` that stopped with `reason`.
    pub(crate) fn report(&self, run_id: &str, reason: &StopReason) -> Report {
        let (mut replayed, served_steps) = {
            let state = self.lock();
            (state.replayed.clone(), state.served.clone())
        };
        replayed.sort_by_key(|call| call.step);
        let count = |how: &str| {
            replayed
                .iter()
                .filter(|c| c.replay.as_deref() == Some(how))
                .count() as u64
        };
        let (served, live, refused) = (count("served"), count("live"), count("refused"));
        let parents: HashMap<u64, u64> = self
            .recording
            .recorded()
            .iter()
            .filter_map(|call| Some((call.summary.step?, call.parent_step?)))
            .collect();
        let (recorded, inside_served): (Vec<_>, Vec<_>) = self
            .recording
            .recorded()
            .iter()
            .map(|call| call.summary.clone())
            .partition(|call| !has_served_ancestor(call.step, &parents, &served_steps));
        Report {
            recorded_run: self.recording.run_id().to_owned(),
            replayed_run: run_id.to_owned(),
            matcher: divergence::ALIGNMENT_VERSION,
            recorded_stop_reason: self.recording.stop_reason().map(str::to_owned),
            stop_reason: reason.to_string(),
            served,
            live,
            refused,
            inside_served: inside_served.len() as u64,
            alignment: divergence::align(recorded, replayed, CompareOutcomes::LiveOnly),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether a call's parent, or its parent's parent, ..., was served. Bounded by the
/// number of recorded calls, so a log with a cycle in its parents cannot loop.
fn has_served_ancestor(
    step: Option<u64>,
    parents: &HashMap<u64, u64>,
    served: &HashSet<u64>,
) -> bool {
    let mut at = step.and_then(|step| parents.get(&step));
    for _ in 0..=parents.len() {
        match at {
            None => return false,
            Some(parent) if served.contains(parent) => return true,
            Some(parent) => at = parents.get(parent),
        }
    }
    false
}

fn step_text(step: Option<u64>) -> String {
    step.map_or_else(|| "?".to_owned(), |s| s.to_string())
}

/// A refusal whose class names the divergence: `refused:replay_args_mismatch`, ...
fn refuse(tool: &str, code: DivergenceCode, detail: String) -> Verdict {
    let reason = StopReason::Other(format!("replay_{code}"));
    Verdict::Refuse(Refused::new(reason, tool, detail), code)
}

/// The refusal for a recorded answer the tool's types cannot take back.
pub(crate) fn cannot_restore(tool: &str, why: &str) -> Refused {
    Refused::new(
        StopReason::Other(format!("replay_{}", DivergenceCode::Unreplayable)),
        tool,
        why.to_owned(),
    )
}
