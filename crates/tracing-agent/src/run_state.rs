//! The state of one run, shared by its [`Run`](crate::Run) handle and its span's
//! extensions, so that tool calls reach their run through the span they run in.
//!
//! The state, not the handle, owns the run's end: the `stop` event is written here, once,
//! by whichever caller stops the run first (the handle, its drop guard, or a guard that
//! trips inside a tool call), and every later caller is told what was recorded.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::clock::{self, millis, Instant};
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
    spend_usd_bits: AtomicU64,
    /// The recorded end, once there is one: the first reason wins.
    ended: Mutex<Option<Ended>>,
}

/// What the `stop` event recorded.
#[derive(Clone)]
struct Ended {
    reason: StopReason,
    usage: RunUsage,
}

impl RunState {
    pub(crate) fn new(
        run_id: String,
        agent: &str,
        started: Instant,
        emitter: Option<Arc<Emitter>>,
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
            spend_usd_bits: AtomicU64::new(0f64.to_bits()),
            ended: Mutex::new(None),
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

    pub(crate) fn count_tool(&self, failed: bool) {
        self.tool_calls.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.tool_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn count_llm(&self, input_tokens: u64, output_tokens: u64, spend: Option<f64>) {
        self.llm_calls.fetch_add(1, Ordering::Relaxed);
        self.input_tokens.fetch_add(input_tokens, Ordering::Relaxed);
        self.output_tokens
            .fetch_add(output_tokens, Ordering::Relaxed);
        if let Some(spend) = spend {
            // An f64 sum kept as bits: no lock on the hot path.
            let _ =
                self.spend_usd_bits
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                        Some((f64::from_bits(bits) + spend).to_bits())
                    });
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
            spend_usd: f64::from_bits(self.spend_usd_bits.load(Ordering::Relaxed)),
        }
    }

    /// Whether the run's end has been recorded.
    pub(crate) fn is_stopped(&self) -> bool {
        self.lock_ended().is_some()
    }

    /// Ends the run for `reason`, unless it has ended already: the first caller writes
    /// the one `stop` event and records the metrics; every caller gets what was recorded,
    /// so a reason given after a guard stopped the run is not the one returned.
    pub(crate) fn stop(&self, reason: StopReason) -> Stopped {
        let ended_now = clock::now();
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

    /// The lock is held only to read or set the end; a panic elsewhere while it was held
    /// leaves valid data, so poisoning is ignored rather than turned into a panic here.
    fn lock_ended(&self) -> std::sync::MutexGuard<'_, Option<Ended>> {
        self.ended.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::RunState;
    use crate::clock;
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
        RunState::new("r-1".into(), "agent", clock::now(), Some(Arc::new(emitter)))
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
