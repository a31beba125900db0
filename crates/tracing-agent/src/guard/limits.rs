//! What a run may use: [`Limits`].

use std::collections::BTreeSet;
use std::time::Duration;

/// The budgets and policies of a run, given with
/// [`RunMeta::limits`](crate::RunMeta::limits) or per agent in the config file.
///
/// A limit left unset does not apply. Tool calls and steps are reserved before the
/// call's body runs, so a budget of `n` lets at most `n` bodies run however many calls
/// race for it; tokens and spend are counted as LLM calls are recorded.
///
/// ```
/// use std::time::Duration;
/// use tracing_agent::Limits;
/// let limits = Limits::new()
///     .max_steps(40)            // tool calls + LLM calls
///     .max_tool_calls(30)
///     .max_tokens(200_000)      // input + output, over the run's LLM calls
///     .max_spend_usd(0.50)
///     .max_duration(Duration::from_secs(120))
///     .loop_repeats(3)          // the 3rd identical call in a row is a loop
///     .deny_tools(["shell.exec"]);
/// assert_eq!(limits.get_max_tool_calls(), Some(30));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Limits {
    pub(crate) max_steps: Option<u64>,
    pub(crate) max_tool_calls: Option<u64>,
    pub(crate) max_tokens: Option<u64>,
    pub(crate) max_spend_usd: Option<f64>,
    pub(crate) max_duration: Option<Duration>,
    pub(crate) loop_repeats: Option<u32>,
    pub(crate) allow_tools: Option<BTreeSet<String>>,
    pub(crate) deny_tools: BTreeSet<String>,
}

// By hand: the spend budget is never NaN (see `max_spend_usd`), so comparing its bits
// is an equivalence, and `RunMeta` stays `Eq`.
impl PartialEq for Limits {
    fn eq(&self, other: &Self) -> bool {
        self.max_steps == other.max_steps
            && self.max_tool_calls == other.max_tool_calls
            && self.max_tokens == other.max_tokens
            && self.max_spend_usd.map(f64::to_bits) == other.max_spend_usd.map(f64::to_bits)
            && self.max_duration == other.max_duration
            && self.loop_repeats == other.loop_repeats
            && self.allow_tools == other.allow_tools
            && self.deny_tools == other.deny_tools
    }
}

impl Eq for Limits {}

impl Limits {
    /// No limits at all.
    pub fn new() -> Self {
        Limits::default()
    }

    /// At most `n` steps (tool calls and LLM calls together).
    pub fn max_steps(mut self, n: u64) -> Self {
        self.max_steps = Some(n);
        self
    }

    /// At most `n` tool calls whose body runs.
    pub fn max_tool_calls(mut self, n: u64) -> Self {
        self.max_tool_calls = Some(n);
        self
    }

    /// At most `n` tokens, input plus output, over the run's LLM calls.
    pub fn max_tokens(mut self, n: u64) -> Self {
        self.max_tokens = Some(n);
        self
    }

    /// At most `usd` spent on LLM calls. A value that is not a finite amount `>= 0`
    /// (NaN, negative) is taken as `0.0`: a budget that cannot be read fails closed.
    ///
    /// Under a spend budget an LLM call whose cost is unknown (no cost given, no price
    /// for its model) trips the budget: a cost that cannot be counted is never left out.
    pub fn max_spend_usd(mut self, usd: f64) -> Self {
        self.max_spend_usd = Some(if usd.is_finite() && usd >= 0.0 {
            usd
        } else {
            0.0
        });
        self
    }

    /// At most `duration` of wall time from the run's start.
    pub fn max_duration(mut self, duration: Duration) -> Self {
        self.max_duration = Some(duration);
        self
    }

    /// The `n`th call in a row of one tool with the same `args_sha`, each earlier one
    /// having come back with the same outcome, is a loop: it is refused and trips
    /// `loop_detected`. A call that comes back with a different outcome (polling that
    /// sees progress) starts the count again. Values below 2 are taken as 2.
    pub fn loop_repeats(mut self, n: u32) -> Self {
        self.loop_repeats = Some(n.max(2));
        self
    }

    /// Only these tools may be called; any other call is refused with `denied`.
    pub fn allow_tools<I, S>(mut self, tools: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allow_tools = Some(tools.into_iter().map(Into::into).collect());
        self
    }

    /// These tools may not be called: a call is refused with `denied`.
    pub fn deny_tools<I, S>(mut self, tools: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.deny_tools.extend(tools.into_iter().map(Into::into));
        self
    }

    /// The step budget, if set.
    pub fn get_max_steps(&self) -> Option<u64> {
        self.max_steps
    }

    /// The tool-call budget, if set.
    pub fn get_max_tool_calls(&self) -> Option<u64> {
        self.max_tool_calls
    }

    /// The token budget, if set.
    pub fn get_max_tokens(&self) -> Option<u64> {
        self.max_tokens
    }

    /// The spend budget in USD, if set.
    pub fn get_max_spend_usd(&self) -> Option<f64> {
        self.max_spend_usd
    }

    /// The wall-time budget, if set.
    pub fn get_max_duration(&self) -> Option<Duration> {
        self.max_duration
    }

    /// The loop threshold, if set.
    pub fn get_loop_repeats(&self) -> Option<u32> {
        self.loop_repeats
    }

    /// Whether any limit or policy is set.
    pub fn is_empty(&self) -> bool {
        *self == Limits::default()
    }

    /// `self`, with each limit it leaves unset taken from `base` (the config's), and both
    /// deny lists.
    pub(crate) fn or(mut self, base: &Limits) -> Limits {
        self.max_steps = self.max_steps.or(base.max_steps);
        self.max_tool_calls = self.max_tool_calls.or(base.max_tool_calls);
        self.max_tokens = self.max_tokens.or(base.max_tokens);
        self.max_spend_usd = self.max_spend_usd.or(base.max_spend_usd);
        self.max_duration = self.max_duration.or(base.max_duration);
        self.loop_repeats = self.loop_repeats.or(base.loop_repeats);
        if self.allow_tools.is_none() {
            self.allow_tools.clone_from(&base.allow_tools);
        }
        self.deny_tools.extend(base.deny_tools.iter().cloned());
        self
    }

    /// Whether a tool named `tool` may be called under the allow and deny lists.
    pub(crate) fn permits(&self, tool: &str) -> bool {
        !self.deny_tools.contains(tool)
            && self
                .allow_tools
                .as_ref()
                .is_none_or(|allowed| allowed.contains(tool))
    }
}
