//! The per-run side of [`Limits`]: reservations, the loop detector, token and spend
//! totals, and the 80% warnings. It decides; the run state writes what it decided.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::time::Duration;

use super::limits::Limits;
use crate::clock::Instant;
use crate::hash::Sha24;
use crate::schema::{Amount, StopReason};

/// A limit that was hit: what to refuse with and what the `guard` event says.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Hit {
    pub(crate) reason: StopReason,
    /// The limit's name, as in the config (`max_tool_calls`, `loop_repeats`, ...).
    pub(crate) guard: &'static str,
    pub(crate) limit: Option<Amount>,
    pub(crate) used: Option<Amount>,
    pub(crate) detail: String,
}

/// A budget that passed 80% of its limit, said once per run.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Warning {
    pub(crate) guard: &'static str,
    pub(crate) limit: Amount,
    pub(crate) used: Amount,
}

/// What is left of each budget mid-run; `None` where no limit is set.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Remaining {
    /// Steps left (tool calls and LLM calls).
    pub steps: Option<u64>,
    /// Tool calls left.
    pub tool_calls: Option<u64>,
    /// Tokens left.
    pub tokens: Option<u64>,
    /// USD left.
    pub spend_usd: Option<f64>,
    /// Wall time left.
    pub duration: Option<Duration>,
}

const WARN_STEPS: u8 = 1;
const WARN_TOOL_CALLS: u8 = 2;
const WARN_TOKENS: u8 = 4;
const WARN_SPEND: u8 = 8;

pub(crate) struct Budgets {
    limits: Limits,
    deadline: Option<Instant>,
    steps: AtomicU64,
    tool_calls: AtomicU64,
    tokens: AtomicU64,
    spend_usd_bits: AtomicU64,
    warned: AtomicU8,
    loops: Option<LoopDetector>,
}

/// The run of identical calls the detector is watching, lock-free: a tool call pays a
/// few atomic operations for it. Calls and outcomes are compared by 64-bit fingerprints
/// of their SHA-256 digests, so two different ones look alike with odds of about 2^-64.
/// Under concurrency "in a row" means in the order calls are admitted.
#[derive(Default)]
struct LoopDetector {
    /// The fingerprint of the (tool, args_sha) being repeated; 0 before any call.
    key: AtomicU64,
    /// Calls in a row with this key, the one being admitted included.
    repeats: AtomicU32,
    /// The fingerprint of the last outcome of this key; 0 when none has ended yet.
    last_outcome: AtomicU64,
}

/// A call's outcome as the loop detector compares them: a fingerprint of its
/// `result_sha`, or of its error class, so two errors of one class are the same outcome.
pub(crate) type Outcome = u64;

/// The fingerprint of a digest: 64 of its bits, never 0.
pub(crate) fn digest_fingerprint(sha: &Sha24) -> u64 {
    let hex = sha.as_bytes();
    let word = |at: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&hex[at..at + 8]);
        u64::from_le_bytes(bytes)
    };
    // Hex digits carry 4 bits a byte: folding two words keeps 64 bits of the digest.
    (word(0) ^ word(8).rotate_left(4) ^ word(16).rotate_left(2)) | 1
}

/// The fingerprint of a short text (a tool name, an error class): FNV-1a, never 0. A
/// `const fn`, so a tool's is computed once, at compile time, in its `static ToolInfo`.
pub(crate) const fn text_fingerprint(text: &str) -> u64 {
    let bytes = text.as_bytes();
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    let mut at = 0;
    while at < bytes.len() {
        hash = (hash ^ bytes[at] as u64).wrapping_mul(0x0000_0100_0000_01b3);
        at += 1;
    }
    hash | 1
}

/// A tool call's identity for the loop detector: the tool's fingerprint and its
/// arguments' digest.
#[derive(Clone, Copy)]
pub(crate) struct CallKey<'a> {
    pub(crate) tool: &'a str,
    pub(crate) tool_fingerprint: u64,
}

fn call_fingerprint(tool: CallKey<'_>, args: &Sha24) -> u64 {
    (tool.tool_fingerprint.rotate_left(17) ^ digest_fingerprint(args)) | 1
}

impl Budgets {
    /// The budgets of a run started at `started` under `limits`; `None` when no limit is
    /// set, so an unlimited run carries and checks nothing.
    pub(crate) fn new(limits: Limits, started: Instant) -> Option<Self> {
        if limits.is_empty() {
            return None;
        }
        Some(Budgets {
            deadline: limits.max_duration.and_then(|d| started.checked_add(d)),
            loops: limits.loop_repeats.map(|_| LoopDetector::default()),
            limits,
            steps: AtomicU64::new(0),
            tool_calls: AtomicU64::new(0),
            tokens: AtomicU64::new(0),
            spend_usd_bits: AtomicU64::new(0f64.to_bits()),
            warned: AtomicU8::new(0),
        })
    }

    /// Whether a loop detector needs the arguments hashed.
    pub(crate) fn needs_args_hash(&self) -> bool {
        self.loops.is_some()
    }

    /// Reserves a place for a tool call, before its body runs. `Err` when a limit is
    /// hit (the place is not given back: the run trips and nothing more runs).
    pub(crate) fn admit_tool(
        &self,
        call: CallKey<'_>,
        args: Option<&Sha24>,
        now: Instant,
        warnings: &mut Vec<Warning>,
    ) -> Result<(), Hit> {
        let tool = call.tool;
        if !self.limits.permits(tool) {
            return Err(Hit {
                reason: StopReason::Denied,
                guard: if self.limits.deny_tools.contains(tool) {
                    "deny_tools"
                } else {
                    "allow_tools"
                },
                limit: None,
                used: None,
                detail: format!("`{tool}` is not allowed in this run"),
            });
        }
        self.check_time(now)?;
        if let Some(max) = self.limits.max_steps {
            reserve(&self.steps, max, "max_steps", StopReason::MaxSteps)?;
        }
        if let Some(max) = self.limits.max_tool_calls {
            reserve(
                &self.tool_calls,
                max,
                "max_tool_calls",
                StopReason::MaxToolCalls,
            )?;
        }
        self.check_loop(call, args)?;
        self.warn(warnings);
        Ok(())
    }

    /// Notes how a tool call ended, for the loop detector.
    pub(crate) fn tool_ended(&self, tool: CallKey<'_>, args: Option<&Sha24>, outcome: Outcome) {
        let (Some(loops), Some(args)) = (&self.loops, args) else {
            return;
        };
        if loops.key.load(Ordering::Acquire) != call_fingerprint(tool, args) {
            return;
        }
        let previous = loops.last_outcome.swap(outcome, Ordering::AcqRel);
        if previous != 0 && previous != outcome {
            // The same call, a different answer: progress (polling), not a loop.
            loops.repeats.store(1, Ordering::Release);
        }
    }

    fn check_loop(&self, call: CallKey<'_>, args: Option<&Sha24>) -> Result<(), Hit> {
        let (Some(loops), Some(max), Some(args)) = (&self.loops, self.limits.loop_repeats, args)
        else {
            return Ok(());
        };
        let key = call_fingerprint(call, args);
        let tool = call.tool;
        let repeats = if loops.key.swap(key, Ordering::AcqRel) == key {
            loops
                .repeats
                .fetch_add(1, Ordering::AcqRel)
                .saturating_add(1)
        } else {
            loops.repeats.store(1, Ordering::Release);
            loops.last_outcome.store(0, Ordering::Release);
            1
        };
        if repeats >= max {
            return Err(Hit {
                reason: StopReason::LoopDetected,
                guard: "loop_repeats",
                limit: Some(Amount::Count(u64::from(max))),
                used: Some(Amount::Count(u64::from(repeats))),
                detail: format!(
                    "`{tool}` called {repeats} times in a row with the same arguments and the same outcome"
                ),
            });
        }
        Ok(())
    }

    /// Counts one LLM call: a step, its tokens and its cost (`None`: unknown).
    pub(crate) fn count_llm(
        &self,
        tokens: u64,
        spend_usd: Option<f64>,
        model: &str,
        warnings: &mut Vec<Warning>,
    ) -> Result<(), Hit> {
        let steps = self.steps.fetch_add(1, Ordering::AcqRel).saturating_add(1);
        let mut total = 0;
        let _ = self
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |old| {
                total = old.saturating_add(tokens);
                Some(total)
            });
        let spent = spend_usd.map(|usd| add_f64(&self.spend_usd_bits, usd));
        self.warn(warnings);
        if let Some(max) = self.limits.max_steps {
            if steps > max {
                return Err(over("max_steps", StopReason::MaxSteps, max, steps));
            }
        }
        if let Some(max) = self.limits.max_tokens {
            if total > max {
                return Err(over("max_tokens", StopReason::TokenBudget, max, total));
            }
        }
        if let Some(max) = self.limits.max_spend_usd {
            match spent {
                None => {
                    return Err(Hit {
                        reason: StopReason::SpendBudget,
                        guard: "max_spend_usd",
                        limit: Some(Amount::Usd(max)),
                        used: None,
                        detail: format!(
                            "the cost of a call to `{model}` is unknown (no cost given, no price for the model), so the spend budget cannot be kept"
                        ),
                    })
                }
                Some(spent) if spent > max => {
                    return Err(Hit {
                        reason: StopReason::SpendBudget,
                        guard: "max_spend_usd",
                        limit: Some(Amount::Usd(max)),
                        used: Some(Amount::Usd(spent)),
                        detail: format!("spent {spent} USD of {max}"),
                    })
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// `Run::check`'s part: the deadline, and budgets with nothing left for another step.
    pub(crate) fn check(&self, now: Instant) -> Result<(), Hit> {
        self.check_time(now)?;
        if let Some(max) = self.limits.max_steps {
            let steps = self.steps.load(Ordering::Acquire);
            if steps >= max {
                return Err(over("max_steps", StopReason::MaxSteps, max, steps));
            }
        }
        if let Some(max) = self.limits.max_tokens {
            let tokens = self.tokens.load(Ordering::Acquire);
            if tokens >= max {
                return Err(over("max_tokens", StopReason::TokenBudget, max, tokens));
            }
        }
        Ok(())
    }

    fn check_time(&self, now: Instant) -> Result<(), Hit> {
        match (self.deadline, self.limits.max_duration) {
            (Some(deadline), Some(max)) if now >= deadline => Err(Hit {
                reason: StopReason::TimeBudget,
                guard: "max_duration",
                limit: Some(Amount::Count(crate::clock::millis(max))),
                used: None,
                detail: format!("the run is past its {} ms", crate::clock::millis(max)),
            }),
            _ => Ok(()),
        }
    }

    /// The deadline, for `Run::guard`.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// What is left of each budget at `now`.
    pub(crate) fn remaining(&self, now: Instant) -> Remaining {
        let left = |max: Option<u64>, used: &AtomicU64| {
            max.map(|max| max.saturating_sub(used.load(Ordering::Acquire)))
        };
        Remaining {
            steps: left(self.limits.max_steps, &self.steps),
            tool_calls: left(self.limits.max_tool_calls, &self.tool_calls),
            tokens: left(self.limits.max_tokens, &self.tokens),
            spend_usd: self.limits.max_spend_usd.map(|max| {
                (max - f64::from_bits(self.spend_usd_bits.load(Ordering::Acquire))).max(0.0)
            }),
            duration: self
                .deadline
                .map(|deadline| deadline.saturating_duration_since(now)),
        }
    }

    /// Adds a warning for each budget that has just passed 80% of its limit.
    fn warn(&self, warnings: &mut Vec<Warning>) {
        let counts = [
            (WARN_STEPS, "max_steps", self.limits.max_steps, &self.steps),
            (
                WARN_TOOL_CALLS,
                "max_tool_calls",
                self.limits.max_tool_calls,
                &self.tool_calls,
            ),
            (
                WARN_TOKENS,
                "max_tokens",
                self.limits.max_tokens,
                &self.tokens,
            ),
        ];
        for (bit, guard, max, used) in counts {
            let Some(max) = max else { continue };
            let used = used.load(Ordering::Acquire);
            // used >= 80% of max, in integers: 5 * used >= 4 * max.
            if u128::from(used) * 5 >= u128::from(max) * 4 && self.first_warning(bit) {
                warnings.push(Warning {
                    guard,
                    limit: Amount::Count(max),
                    used: Amount::Count(used),
                });
            }
        }
        if let Some(max) = self.limits.max_spend_usd {
            let spent = f64::from_bits(self.spend_usd_bits.load(Ordering::Acquire));
            if spent >= 0.8 * max && self.first_warning(WARN_SPEND) {
                warnings.push(Warning {
                    guard: "max_spend_usd",
                    limit: Amount::Usd(max),
                    used: Amount::Usd(spent),
                });
            }
        }
    }

    fn first_warning(&self, bit: u8) -> bool {
        self.warned.fetch_or(bit, Ordering::AcqRel) & bit == 0
    }
}

/// Takes one place of `max` in `used`; `Err` for the call that would be one over.
fn reserve(used: &AtomicU64, max: u64, guard: &'static str, reason: StopReason) -> Result<(), Hit> {
    let taken = used.fetch_add(1, Ordering::AcqRel).saturating_add(1);
    if taken > max {
        Err(over(guard, reason, max, taken))
    } else {
        Ok(())
    }
}

fn over(guard: &'static str, reason: StopReason, max: u64, used: u64) -> Hit {
    Hit {
        reason,
        guard,
        limit: Some(Amount::Count(max)),
        used: Some(Amount::Count(used)),
        detail: format!("{guard} is {max}"),
    }
}

/// Adds `usd` to an f64 kept as bits; returns the new total.
fn add_f64(bits: &AtomicU64, usd: f64) -> f64 {
    let mut total = 0.0;
    let _ = bits.fetch_update(Ordering::AcqRel, Ordering::Acquire, |old| {
        total = f64::from_bits(old) + usd;
        Some(total.to_bits())
    });
    total
}

#[cfg(test)]
mod tests {
    use super::{digest_fingerprint, text_fingerprint};
    use crate::hash::sha24;

    #[test]
    fn fingerprints() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the FNV reference vectors); the low bit
        // is set so that 0 stays free for "none".
        assert_eq!(text_fingerprint("a"), 0xaf63_dc4c_8601_ec8d);
        assert_ne!(text_fingerprint("http.get"), text_fingerprint("http.post"));
        const AT_COMPILE_TIME: u64 = text_fingerprint("a");
        assert_eq!(AT_COMPILE_TIME, text_fingerprint("a"));
        let digests: Vec<u64> = (0..1000)
            .map(|n| digest_fingerprint(&sha24(&n).unwrap()))
            .collect();
        let distinct: std::collections::BTreeSet<_> = digests.iter().collect();
        assert_eq!(distinct.len(), digests.len());
        assert!(digests.iter().all(|fp| *fp != 0));
    }
}
