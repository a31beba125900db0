//! The state of one run, shared by its [`Run`](crate::Run) handle and its span's
//! extensions, so that tool calls reach their run through the span they run in.
//!
//! The state, not the handle, owns the run's end: the `stop` event is written here, once,
//! by whichever caller stops the run first (the handle or its drop guard), and every
//! later caller is told what was recorded. A guard that trips (a budget, a loop, the kill
//! switch) records its trip here; from then on tool calls are refused, `check` fails, and
//! the stop, whenever it comes, carries the trip's reason.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use crate::clock::{self, millis, Instant};
use crate::config::Tokens;
use crate::guard::{
    Budgets, CallKey, Hit, KillSwitch, Limits, Outcome, Refused, Remaining, Verdict, Warning,
};
use crate::hash::Sha24;
use crate::schema::{Event, EventKind, Meta, RunUsage, StopReason, Stopped, Usage};
use crate::sink::Emitter;

/// Per-run counters and identity. Bounded: counters only, whatever the run does.
pub(crate) struct RunState {
    run_id: String,
    agent: Arc<str>,
    started: Instant,
    /// The layer that writes this run's events; `None` when no `AgentLayer` saw the run
    /// start (the run still counts, and writes nothing).
    emitter: Option<Arc<Emitter>>,
    next_step: AtomicU64,
    tool_calls: AtomicU64,
    tool_errors: AtomicU64,
    llm_calls: AtomicU64,
    input_tokens: AtomicU64,
    output_tokens: AtomicU64,
    cached_input_tokens: AtomicU64,
    reasoning_tokens: AtomicU64,
    spend_usd_bits: AtomicU64,
    /// LLM calls whose cost is known (given, or from a price).
    priced_llm_calls: AtomicU64,
    unpriced_llm_calls: AtomicU64,
    /// `None` for a run without limits: it pays for nothing but the kill switch's load.
    budgets: Option<Budgets>,
    /// Set once a guard has tripped; the trip itself is in `trip`.
    tripped: AtomicBool,
    trip: Mutex<Option<Hit>>,
    /// The recorded end, once there is one: the first reason wins.
    ended: Mutex<Option<Ended>>,
    /// The run's key among the open runs (see [`register_open`]); 0 when not listed.
    open_key: AtomicU64,
}

/// What is known of one LLM call's cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Spend {
    /// Given by the caller, or computed from the model's price.
    Known(f64),
    /// The call used tokens, gave no cost, and its model has no price.
    Unpriced,
    /// Nothing to bill: the call failed before it used a token.
    None,
}

impl Spend {
    pub(crate) fn usd(self) -> Option<f64> {
        match self {
            Spend::Known(usd) => Some(usd),
            Spend::Unpriced | Spend::None => None,
        }
    }
}

/// What the `stop` event recorded.
#[derive(Clone)]
struct Ended {
    reason: StopReason,
    usage: RunUsage,
}

/// The tool call a guard decision is about, for the `guard` event.
#[derive(Clone, Copy)]
pub(crate) struct Attempt<'a> {
    pub(crate) tool: &'a str,
    pub(crate) step: Option<u64>,
}

/// The tool call being admitted: its key for the loop detector and its step.
#[derive(Clone, Copy)]
pub(crate) struct Admission<'a> {
    pub(crate) call: CallKey<'a>,
    pub(crate) step: Option<u64>,
}

impl RunState {
    pub(crate) fn new(
        run_id: String,
        agent: &str,
        started: Instant,
        emitter: Option<Arc<Emitter>>,
        limits: Limits,
    ) -> Self {
        RunState {
            run_id,
            agent: Arc::from(agent),
            started,
            emitter,
            next_step: AtomicU64::new(0),
            tool_calls: AtomicU64::new(0),
            tool_errors: AtomicU64::new(0),
            llm_calls: AtomicU64::new(0),
            input_tokens: AtomicU64::new(0),
            output_tokens: AtomicU64::new(0),
            cached_input_tokens: AtomicU64::new(0),
            reasoning_tokens: AtomicU64::new(0),
            spend_usd_bits: AtomicU64::new(0f64.to_bits()),
            priced_llm_calls: AtomicU64::new(0),
            unpriced_llm_calls: AtomicU64::new(0),
            budgets: Budgets::new(limits, started),
            tripped: AtomicBool::new(false),
            trip: Mutex::new(None),
            ended: Mutex::new(None),
            open_key: AtomicU64::new(0),
        }
    }

    pub(crate) fn run_id(&self) -> &str {
        &self.run_id
    }

    pub(crate) fn agent(&self) -> &Arc<str> {
        &self.agent
    }

    pub(crate) fn emitter(&self) -> Option<&Arc<Emitter>> {
        self.emitter.as_ref()
    }

    /// Writes the run's `run_start` event with `meta` (nothing without an emitter).
    pub(crate) fn write_start(&self, meta: Meta<'_>) {
        if let Some(emitter) = &self.emitter {
            let mut event = Event::new(
                EventKind::RunStart,
                Some(&self.run_id),
                clock::unix_ms_at(self.started),
            );
            event.meta = Some(meta);
            emitter.emit(&mut event);
        }
    }

    /// The next step id: 1-based, unique within the run even across threads.
    pub(crate) fn next_step(&self) -> u64 {
        self.next_step.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Whether the guards want the arguments hashed even when `store_args_hash` is off.
    pub(crate) fn needs_args_hash(&self) -> bool {
        self.budgets.as_ref().is_some_and(Budgets::needs_args_hash)
    }

    /// Decides whether the tool call `attempt` may run its body, before it does: the
    /// trip so far, the kill switch, the allow and deny lists, and the budgets (a place
    /// is reserved). `Some` is the refusal; a limit hit on the way is recorded as the
    /// run's trip.
    pub(crate) fn admit_tool(
        &self,
        admission: Admission<'_>,
        writes: bool,
        args: Option<&Sha24>,
        now: Instant,
    ) -> Option<Refused> {
        let attempt = Attempt {
            tool: admission.call.tool,
            step: admission.step,
        };
        if self.tripped.load(Ordering::Acquire) {
            return Some(self.refusal(attempt.tool));
        }
        match KillSwitch::global().verdict(&self.agent, &self.run_id) {
            Verdict::Live => {}
            Verdict::Killed => {
                self.record_trip(killed(), Some(attempt.tool), attempt.step);
                return Some(self.refusal(attempt.tool));
            }
            Verdict::WritesDenied if writes => {
                return Some(self.deny(
                    attempt,
                    "deny_writes",
                    format!("writes are denied for `{}` by the kill switch", self.agent),
                ));
            }
            Verdict::WritesDenied => {}
        }
        let budgets = self.budgets.as_ref()?;
        let mut warnings = Vec::new();
        let admitted = budgets.admit_tool(admission.call, args, now, &mut warnings);
        self.write_warnings(&warnings, attempt);
        match admitted {
            Ok(()) => None,
            Err(hit) if hit.reason == StopReason::Denied => {
                Some(self.deny(attempt, hit.guard, hit.detail))
            }
            Err(hit) => {
                self.record_trip(hit, Some(attempt.tool), attempt.step);
                Some(self.refusal(attempt.tool))
            }
        }
    }

    /// Notes how a tool call ended, for the loop detector.
    pub(crate) fn tool_ended(&self, tool: CallKey<'_>, args: Option<&Sha24>, outcome: Outcome) {
        if let Some(budgets) = &self.budgets {
            budgets.tool_ended(tool, args, outcome);
        }
    }

    pub(crate) fn count_tool(&self, failed: bool) {
        self.tool_calls.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.tool_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts one LLM call as step `step` toward the run's usage and its budgets.
    pub(crate) fn count_llm(&self, model: &str, step: Option<u64>, tokens: &Tokens, spend: Spend) {
        let Tokens {
            input: input_tokens,
            output: output_tokens,
            ..
        } = *tokens;
        self.llm_calls.fetch_add(1, Ordering::Relaxed);
        // Token counts come from the caller: a wrong one must not wrap the run's total.
        saturating_add(&self.input_tokens, input_tokens);
        saturating_add(&self.output_tokens, output_tokens);
        saturating_add(&self.cached_input_tokens, tokens.cached_input);
        saturating_add(&self.reasoning_tokens, tokens.reasoning);
        let spend = match spend {
            Spend::Known(usd) => {
                self.priced_llm_calls.fetch_add(1, Ordering::Relaxed);
                Some(usd)
            }
            Spend::Unpriced => {
                self.unpriced_llm_calls.fetch_add(1, Ordering::Relaxed);
                None
            }
            Spend::None => None,
        };
        if let Some(spend) = spend {
            // An f64 sum kept as bits: no lock on the hot path.
            let _ =
                self.spend_usd_bits
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                        Some((f64::from_bits(bits) + spend).to_bits())
                    });
        }
        if let Some(budgets) = &self.budgets {
            let mut warnings = Vec::new();
            let tokens = input_tokens.saturating_add(output_tokens);
            let counted = budgets.count_llm(tokens, spend, model, &mut warnings);
            let attempt = Attempt { tool: model, step };
            self.write_warnings(&warnings, attempt);
            if let Err(hit) = counted {
                self.record_trip(hit, None, step);
            }
        }
    }

    /// `Ok` while no guard has tripped; checks the kill switch, the deadline and whether
    /// any step is left, tripping the run when one of them says stop.
    pub(crate) fn check(&self) -> Result<(), StopReason> {
        if let Some(reason) = self.trip_reason() {
            return Err(reason);
        }
        if KillSwitch::global().verdict(&self.agent, &self.run_id) == Verdict::Killed {
            // Found by `check`: no tool call is involved.
            self.record_trip(killed(), None, None);
        } else if let Some(budgets) = &self.budgets {
            if let Err(hit) = budgets.check(clock::now()) {
                self.record_trip(hit, None, None);
            }
        }
        self.trip_reason().map_or(Ok(()), Err)
    }

    /// The reason of the run's trip, if a guard has tripped.
    pub(crate) fn trip_reason(&self) -> Option<StopReason> {
        if !self.tripped.load(Ordering::Acquire) {
            return None;
        }
        self.lock_trip().as_ref().map(|hit| hit.reason.clone())
    }

    /// The deadline of the run's time budget, if it has one.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.budgets.as_ref().and_then(Budgets::deadline)
    }

    /// What is left of each budget.
    pub(crate) fn remaining(&self) -> Remaining {
        self.budgets
            .as_ref()
            .map(|budgets| budgets.remaining(clock::now()))
            .unwrap_or_default()
    }

    /// Records `hit` as the run's trip if it is the first (writing the `guard` event,
    /// with the tool call and step that hit it, if any), and counts it in the metrics
    /// either way.
    fn record_trip(&self, hit: Hit, tool: Option<&str>, step: Option<u64>) {
        let first = {
            let mut trip = self.lock_trip();
            if trip.is_none() {
                *trip = Some(hit.clone());
                self.tripped.store(true, Ordering::Release);
                true
            } else {
                false
            }
        };
        let Some(emitter) = &self.emitter else {
            return;
        };
        crate::metrics::guard_tripped(&emitter.metrics, &self.agent, hit.guard);
        if first {
            let reason = hit.reason.clone();
            let mut event = Event::new(
                EventKind::Guard,
                Some(&self.run_id),
                clock::unix_ms_at(clock::now()),
            );
            event.step_id = step;
            event.tool = tool;
            event.stop_reason = Some(&reason);
            event.guard = Some(hit.guard);
            event.limit = hit.limit;
            event.used = hit.used;
            event.detail = Some(&hit.detail);
            emitter.emit(&mut event);
        }
    }

    /// A policy refused one call: the run goes on. Counted, and visible in the call's
    /// own `tool_result`.
    fn deny(&self, attempt: Attempt<'_>, guard: &'static str, detail: String) -> Refused {
        if let Some(emitter) = &self.emitter {
            crate::metrics::guard_tripped(&emitter.metrics, &self.agent, guard);
        }
        Refused::new(StopReason::Denied, attempt.tool, detail)
    }

    /// The refusal for a call made after the run tripped.
    fn refusal(&self, tool: &str) -> Refused {
        let trip = self.lock_trip();
        match trip.as_ref() {
            Some(hit) => Refused::new(hit.reason.clone(), tool, hit.detail.clone()),
            None => Refused::new(StopReason::Error, tool, "the run has stopped".into()),
        }
    }

    fn write_warnings(&self, warnings: &[Warning], attempt: Attempt<'_>) {
        let Some(emitter) = &self.emitter else {
            return;
        };
        for warning in warnings {
            let mut event = Event::new(
                EventKind::BudgetWarning,
                Some(&self.run_id),
                clock::unix_ms_at(clock::now()),
            );
            event.step_id = attempt.step;
            event.guard = Some(warning.guard);
            event.limit = Some(warning.limit);
            event.used = Some(warning.used);
            emitter.emit(&mut event);
        }
    }

    /// What the run has used so far.
    pub(crate) fn usage(&self) -> RunUsage {
        RunUsage {
            steps: self.next_step.load(Ordering::Relaxed),
            tool_calls: self.tool_calls.load(Ordering::Relaxed),
            tool_errors: self.tool_errors.load(Ordering::Relaxed),
            llm_calls: self.llm_calls.load(Ordering::Relaxed),
            input_tokens: self.input_tokens.load(Ordering::Relaxed),
            output_tokens: self.output_tokens.load(Ordering::Relaxed),
            cached_input_tokens: self.cached_input_tokens.load(Ordering::Relaxed),
            reasoning_tokens: self.reasoning_tokens.load(Ordering::Relaxed),
            spend_usd: self.spend_usd(),
            unpriced_llm_calls: self.unpriced_llm_calls.load(Ordering::Relaxed),
        }
    }

    /// The known spend: `None` when the run's only costs are unknown ones.
    fn spend_usd(&self) -> Option<f64> {
        let priced = self.priced_llm_calls.load(Ordering::Relaxed);
        let unpriced = self.unpriced_llm_calls.load(Ordering::Relaxed);
        if priced == 0 && unpriced > 0 {
            None
        } else {
            Some(f64::from_bits(self.spend_usd_bits.load(Ordering::Relaxed)))
        }
    }

    /// Whether the run's end has been recorded.
    pub(crate) fn is_stopped(&self) -> bool {
        self.lock_ended().is_some()
    }

    /// Ends the run, unless it has ended already: the first caller writes the one `stop`
    /// event and records the metrics; every caller gets what was recorded. The reason is
    /// the trip's when a guard has tripped (a run a limit ended does not exit like a
    /// success), otherwise `reason`.
    pub(crate) fn stop(&self, reason: StopReason) -> Stopped {
        let ended_now = clock::now();
        let reason = self.trip_reason().unwrap_or(reason);
        let (ended, first) = {
            let mut slot = self.lock_ended();
            match &*slot {
                Some(ended) => (ended.clone(), false),
                None => {
                    let ended = Ended {
                        reason,
                        usage: self.usage(),
                    };
                    *slot = Some(ended.clone());
                    (ended, true)
                }
            }
        };
        // Written outside the lock: a writer that waits (lossless back-pressure) must not
        // hold up another caller that only wants to learn how the run ended.
        if first {
            self.write_stop(&ended, ended_now);
            let key = self.open_key.swap(0, Ordering::AcqRel);
            if key != 0 {
                lock_open().remove(&key);
            }
        }
        Stopped {
            run_id: self.run_id.clone(),
            stop_reason: ended.reason,
            usage: ended.usage,
        }
    }

    fn write_stop(&self, ended: &Ended, at: Instant) {
        let Some(emitter) = &self.emitter else {
            return;
        };
        let elapsed = at.saturating_duration_since(self.started);
        let mut event = Event::new(EventKind::Stop, Some(&self.run_id), clock::unix_ms_at(at));
        event.stop_reason = Some(&ended.reason);
        event.duration_ms = Some(millis(elapsed));
        event.usage = Some(Usage::Run(&ended.usage));
        emitter.emit(&mut event);
        crate::metrics::run_stopped(
            &emitter.metrics,
            &self.agent,
            &ended.reason,
            &ended.usage,
            elapsed,
        );
    }

    /// The locks are held only to read or set a value; a panic elsewhere while one was
    /// held leaves valid data, so poisoning is ignored rather than turned into a panic.
    fn lock_ended(&self) -> std::sync::MutexGuard<'_, Option<Ended>> {
        self.ended.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_trip(&self) -> std::sync::MutexGuard<'_, Option<Hit>> {
        self.trip.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs that write events and have not stopped, by a process-unique key: what
/// [`stop_open_runs`] ends. A run leaves at its stop, so the map holds only runs still
/// open (and those leaked or kept in a `static`, which is what it is for).
fn lock_open() -> std::sync::MutexGuard<'static, HashMap<u64, Weak<RunState>>> {
    static OPEN: OnceLock<Mutex<HashMap<u64, Weak<RunState>>>> = OnceLock::new();
    OPEN.get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Lists `run` among the open runs, if it writes events.
pub(crate) fn register_open(run: &Arc<RunState>) {
    static NEXT_KEY: AtomicU64 = AtomicU64::new(1);
    if run.emitter.is_none() {
        return;
    }
    let key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
    run.open_key.store(key, Ordering::Release);
    lock_open().insert(key, Arc::downgrade(run));
}

/// Ends every open run with `reason`, writing its `stop`; returns how many.
pub(crate) fn stop_open_runs(reason: &StopReason) -> usize {
    // Taken out of the map first: stopping a run removes it, under the same lock.
    let open: Vec<Arc<RunState>> = lock_open().values().filter_map(Weak::upgrade).collect();
    for run in &open {
        run.stop(reason.clone());
    }
    open.len()
}

/// Adds `n` to `counter`, stopping at `u64::MAX`.
fn saturating_add(counter: &AtomicU64, n: u64) {
    let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
        Some(old.saturating_add(n))
    });
}

fn killed() -> Hit {
    Hit {
        reason: StopReason::Killed,
        guard: "kill_switch",
        limit: None,
        used: None,
        detail: "the kill switch names this run or its agent".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::RunState;
    use crate::clock;
    use crate::guard::Limits;
    use crate::metrics::Metrics;
    use crate::schema::StopReason;
    use crate::settings::Settings;
    use crate::sink::{Emitter, SinkStats};
    use crate::testing::Lines;

    fn state_writing_to(lines: &Lines) -> RunState {
        let lines = lines.clone();
        let emitter = Emitter::new(
            move || lines.clone(),
            Arc::new(Settings::everything()),
            Arc::new(SinkStats::default()),
            Metrics::off(),
        );
        RunState::new(
            "r-1".into(),
            "agent",
            clock::now(),
            Some(Arc::new(emitter)),
            Limits::new(),
        )
    }

    #[test]
    fn the_first_reason_wins_and_later_callers_are_told_it() {
        let lines = Lines::default();
        let state = state_writing_to(&lines);
        state.count_tool(false);
        assert!(!state.is_stopped());
        let first = state.stop(StopReason::Killed);
        state.count_tool(true);
        let second = state.stop(StopReason::Completed);
        assert!(state.is_stopped());
        assert_eq!(first.stop_reason, StopReason::Killed);
        assert_eq!(second.stop_reason, StopReason::Killed);
        // The usage recorded with the first stop, not the one counted after it.
        assert_eq!(second.usage.tool_calls, 1);
        assert_eq!(second.usage.tool_errors, 0);
        assert_eq!(lines.stop_reasons(), ["killed"]);
    }

    #[test]
    fn racing_stops_write_one_event_and_all_agree() {
        for round in 0..50 {
            let lines = Lines::default();
            let state = Arc::new(state_writing_to(&lines));
            let reasons = [
                StopReason::Killed,
                StopReason::LoopDetected,
                StopReason::MaxSteps,
                StopReason::Completed,
            ];
            let returned: Vec<StopReason> = std::thread::scope(|scope| {
                let handles: Vec<_> = reasons
                    .iter()
                    .map(|reason| {
                        let state = Arc::clone(&state);
                        scope.spawn(move || state.stop(reason.clone()).stop_reason)
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let written = lines.stop_reasons();
            assert_eq!(written.len(), 1, "round {round}: {written:?}");
            for reason in returned {
                assert_eq!(reason.as_str(), written[0], "round {round}");
            }
        }
    }
}
