//! Where two sequences of tool calls part: the alignment behind a replay's report and
//! `tracing-agent diff`, with a stable code for each kind of difference.
//!
//! Plain data and one algorithm, below the event schema, so that a run's
//! [`Stopped`](crate::Stopped) can carry its replay report and the CLI can align two runs
//! read from logs with exactly the same rules.
//!
//! The rules (matcher version [`ALIGNMENT_VERSION`]):
//! 1. Calls pair up by `(tool, args_sha, occurrence)`: the k-th call of a tool with given
//!    arguments on one side pairs with the k-th such call on the other, whatever their
//!    step ids (concurrent calls finish in any order).
//! 2. The longest run of pairs in the same order on both sides anchors the alignment; a
//!    pair outside it is `reordered`.
//! 3. Between two anchors, the unpaired calls are matched by tool name first
//!    (`args_mismatch`), then by position (`tool_mismatch`); what is left over is
//!    `missing` (only in the first sequence) or `extra` (only in the second).
//! 4. Paired calls whose outcomes are compared (all of them for `diff`, the ones that ran
//!    live for a replay) differ in status, error class or `result_sha`:
//!    `outcome_mismatch`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;

use serde::{Deserialize, Serialize};

/// The version of the alignment rules: written into a replayed run's `run_start`, so a
/// later, stricter matcher can tell which rules an old replay was judged by.
pub const ALIGNMENT_VERSION: u32 = 1;

/// What kind of difference a [`Divergence`] is. Serialized as the stable snake_case
/// names shown, which scripts may match on.
///
/// ```
/// use tracing_agent::replay::DivergenceCode;
/// assert_eq!(DivergenceCode::ArgsMismatch.to_string(), "args_mismatch");
/// assert_eq!(serde_json::to_string(&DivergenceCode::Extra).unwrap(), "\"extra\"");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DivergenceCode {
    /// The same tool at the aligned position, called with different `args_sha`.
    ArgsMismatch,
    /// A different tool at the aligned position.
    ToolMismatch,
    /// A call the recording (or the first run) lacks.
    Extra,
    /// A recorded call (a call of the first run) never made.
    Missing,
    /// A paired call whose outcome differs: status, error class or `result_sha`.
    OutcomeMismatch,
    /// A call made with the same tool and arguments, but out of the recorded order.
    Reordered,
    /// The recorded call has no outcome to serve: its tool opted out of recording, its
    /// types cannot be restored, or it panicked or was cancelled.
    Unreplayable,
}

impl DivergenceCode {
    /// The stable name, e.g. `args_mismatch`.
    pub fn as_str(self) -> &'static str {
        match self {
            DivergenceCode::ArgsMismatch => "args_mismatch",
            DivergenceCode::ToolMismatch => "tool_mismatch",
            DivergenceCode::Extra => "extra",
            DivergenceCode::Missing => "missing",
            DivergenceCode::OutcomeMismatch => "outcome_mismatch",
            DivergenceCode::Reordered => "reordered",
            DivergenceCode::Unreplayable => "unreplayable",
        }
    }
}

impl fmt::Display for DivergenceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One tool call as the alignment sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSummary {
    /// Its step id in its run.
    pub step: Option<u64>,
    /// The tool's name.
    pub tool: String,
    /// The hash of its arguments, when written.
    pub args_sha: Option<String>,
    /// `None` for a call that returned, else its error class.
    pub error: Option<String>,
    /// The hash of its returned value, when written.
    pub result_sha: Option<String>,
    /// In a replayed run: `served`, `live` or `refused`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub replay: Option<String>,
}

impl CallSummary {
    fn same_outcome(&self, other: &CallSummary) -> bool {
        self.error == other.error && self.result_sha == other.result_sha
    }

    fn describe(&self) -> String {
        let step = self
            .step
            .map_or_else(|| "?".to_owned(), |step| step.to_string());
        format!(
            "step {step} called {} with args_sha {}",
            self.tool,
            self.args_sha.as_deref().unwrap_or("-")
        )
    }
}

/// Which paired calls have their outcomes compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOutcomes {
    /// Every pair (two runs that both ran their tools).
    All,
    /// Only pairs whose second call ran live (a replay: served calls answer with the
    /// recorded outcome by construction).
    LiveOnly,
}

/// One line of the full alignment: a call on either side or both, and how they differ.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlignedRow {
    /// The call of the first (recorded) sequence, by index.
    pub recorded: Option<usize>,
    /// The call of the second (replayed) sequence, by index.
    pub replayed: Option<usize>,
    /// `None` where the two agree.
    pub code: Option<DivergenceCode>,
}

/// One difference between the recorded and the replayed sequence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    code: DivergenceCode,
    recorded_step: Option<u64>,
    replayed_step: Option<u64>,
    tool: String,
    recorded_tool: Option<String>,
    recorded_args_sha: Option<String>,
    replayed_args_sha: Option<String>,
    detail: String,
    hint: Option<String>,
}

impl Divergence {
    /// What kind of difference.
    pub fn code(&self) -> DivergenceCode {
        self.code
    }

    /// The step on the recorded side, if the call has one there.
    pub fn recorded_step(&self) -> Option<u64> {
        self.recorded_step
    }

    /// The step on the replayed side, if the call has one there.
    pub fn replayed_step(&self) -> Option<u64> {
        self.replayed_step
    }

    /// The tool: the replayed call's, or the recorded one's for `missing`.
    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// The recorded call's tool, when it differs from [`tool`](Self::tool).
    pub fn recorded_tool(&self) -> Option<&str> {
        self.recorded_tool.as_deref()
    }

    /// The recorded call's `args_sha`.
    pub fn recorded_args_sha(&self) -> Option<&str> {
        self.recorded_args_sha.as_deref()
    }

    /// The replayed call's `args_sha`.
    pub fn replayed_args_sha(&self) -> Option<&str> {
        self.replayed_args_sha.as_deref()
    }

    /// What differs, in words.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The nearest recorded candidate for a call without an exact match, e.g.
    /// "recorded step 5 called crm.lookup with args_sha …".
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = |s: Option<u64>| s.map_or_else(|| "-".to_owned(), |s| s.to_string());
        write!(
            f,
            "{} recorded step {} / replayed step {}: {}",
            self.code,
            step(self.recorded_step),
            step(self.replayed_step),
            self.detail
        )?;
        if let Some(hint) = &self.hint {
            write!(f, " (nearest: {hint})")?;
        }
        Ok(())
    }
}

/// The full alignment of two call sequences.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Alignment {
    /// The first (recorded) sequence, in step order.
    pub recorded: Vec<CallSummary>,
    /// The second (replayed) sequence, in step order.
    pub replayed: Vec<CallSummary>,
    /// Every call of both, aligned.
    pub rows: Vec<AlignedRow>,
    /// Every difference, in alignment order.
    pub divergences: Vec<Divergence>,
}

impl Alignment {
    /// Whether the two sequences agree everywhere.
    pub fn is_match(&self) -> bool {
        self.divergences.is_empty()
    }

    /// Writes the alignment as a table: one row per call, its code where the sides differ.
    pub fn write_table(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        let side = |call: Option<&CallSummary>| match call {
            None => "-".to_owned(),
            Some(call) => {
                let step = call.step.map_or_else(|| "?".to_owned(), |s| s.to_string());
                let outcome = match &call.error {
                    None => "ok".to_owned(),
                    Some(class) => format!("error {class}"),
                };
                let args = call.args_sha.as_deref().unwrap_or("-");
                let how = call
                    .replay
                    .as_deref()
                    .map_or_else(String::new, |how| format!(" [{how}]"));
                format!(
                    "#{step} {} {} {outcome}{how}",
                    call.tool,
                    &args[..args.len().min(12)]
                )
            }
        };
        for row in &self.rows {
            let code = row.code.map_or("same", DivergenceCode::as_str);
            writeln!(
                f,
                "  {code:<16} {:<48} | {}",
                side(row.recorded.and_then(|i| self.recorded.get(i))),
                side(row.replayed.and_then(|j| self.replayed.get(j))),
            )?;
        }
        Ok(())
    }
}

/// How a replayed run departed from the run it replayed: returned in
/// [`Stopped::replay`](crate::Stopped::replay). Displays as a table for a person;
/// serializes to JSON for a program.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The run that was recorded.
    pub recorded_run: String,
    /// The replayed run.
    pub replayed_run: String,
    /// The version of the alignment rules ([`ALIGNMENT_VERSION`]).
    pub matcher: u32,
    /// How the recorded run stopped, if its `stop` was in the log.
    pub recorded_stop_reason: Option<String>,
    /// How the replayed run stopped: its final outcome.
    pub stop_reason: String,
    /// Calls answered from the recording (their bodies did not run).
    pub served: u64,
    /// Calls that ran live (allowed by the live allowlist, or whose return type could
    /// neither carry a recorded answer nor a refusal).
    pub live: u64,
    /// Calls refused for want of a recorded answer.
    pub refused: u64,
    /// Recorded calls made inside a call that was served: never made again (the served
    /// call's body did not run), so left out of the alignment.
    pub inside_served: u64,
    /// The full alignment of the recorded and the replayed calls.
    pub alignment: Alignment,
}

impl Report {
    /// Every divergence, in alignment order.
    pub fn divergences(&self) -> &[Divergence] {
        &self.alignment.divergences
    }

    /// Whether the replay made exactly the recorded calls.
    pub fn is_match(&self) -> bool {
        self.alignment.is_match()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "replay of {} as {} (matcher v{}): {} served, {} live, {} refused{}; stopped {} (recorded: {})",
            self.recorded_run,
            self.replayed_run,
            self.matcher,
            self.served,
            self.live,
            self.refused,
            match self.inside_served {
                0 => String::new(),
                n => format!(", {n} recorded inside served calls"),
            },
            self.stop_reason,
            self.recorded_stop_reason.as_deref().unwrap_or("-"),
        )?;
        writeln!(f, "  {:<16} {:<48} | replayed", "", "recorded")?;
        self.alignment.write_table(f)?;
        if self.alignment.divergences.is_empty() {
            writeln!(f, "no divergence")
        } else {
            writeln!(f, "{} divergences:", self.alignment.divergences.len())?;
            for divergence in &self.alignment.divergences {
                writeln!(f, "  {divergence}")?;
            }
            Ok(())
        }
    }
}

type Key<'a> = (&'a str, Option<&'a str>);

fn key(call: &CallSummary) -> Key<'_> {
    (call.tool.as_str(), call.args_sha.as_deref())
}

/// Aligns `recorded` with `replayed` by the rules in the module documentation.
///
/// ```
/// use tracing_agent::replay::{align, CallSummary, CompareOutcomes, DivergenceCode};
/// let call = |step, tool: &str, args: &str| CallSummary {
///     step: Some(step),
///     tool: tool.into(),
///     args_sha: Some(args.into()),
///     ..CallSummary::default()
/// };
/// let recorded = vec![call(1, "crm.lookup", "aa"), call(2, "send_email", "bb")];
/// let replayed = vec![call(1, "crm.lookup", "aa"), call(2, "send_email", "cc")];
/// let alignment = align(recorded, replayed, CompareOutcomes::All);
/// let codes: Vec<_> = alignment.divergences.iter().map(|d| d.code()).collect();
/// assert_eq!(codes, [DivergenceCode::ArgsMismatch]);
/// ```
pub fn align(
    recorded: Vec<CallSummary>,
    replayed: Vec<CallSummary>,
    compare: CompareOutcomes,
) -> Alignment {
    // 1. Pairs by (tool, args_sha, occurrence).
    let mut waiting: HashMap<Key<'_>, VecDeque<usize>> = HashMap::new();
    for (i, call) in recorded.iter().enumerate() {
        waiting.entry(key(call)).or_default().push_back(i);
    }
    let mut pair_of_recorded: Vec<Option<usize>> = vec![None; recorded.len()];
    let mut paired_replayed = vec![false; replayed.len()];
    for (j, call) in replayed.iter().enumerate() {
        if let Some(i) = waiting.get_mut(&key(call)).and_then(VecDeque::pop_front) {
            pair_of_recorded[i] = Some(j);
            paired_replayed[j] = true;
        }
    }
    // 2. Anchors: the longest increasing run of replayed indices, in recorded order.
    let pairs: Vec<(usize, usize)> = pair_of_recorded
        .iter()
        .enumerate()
        .filter_map(|(i, j)| j.map(|j| (i, j)))
        .collect();
    let anchored = longest_increasing(&pairs);

    // 3. Walk the gaps between anchors.
    let mut rows = Vec::new();
    let mut boundaries: Vec<(usize, usize)> = pairs
        .iter()
        .zip(&anchored)
        .filter(|(_, anchored)| **anchored)
        .map(|(pair, _)| *pair)
        .collect();
    boundaries.push((recorded.len(), replayed.len()));
    let reordered: BTreeMap<usize, usize> = pairs
        .iter()
        .zip(&anchored)
        .filter(|(_, anchored)| !**anchored)
        .map(|(pair, _)| *pair)
        .collect();
    let (mut from_i, mut from_j) = (0, 0);
    for (to_i, to_j) in boundaries {
        let gap_recorded: Vec<usize> = (from_i..to_i)
            .filter(|i| pair_of_recorded[*i].is_none())
            .collect();
        let mut gap_replayed: Vec<Option<usize>> = (from_j..to_j.min(replayed.len()))
            .filter(|j| !paired_replayed[*j])
            .map(Some)
            .collect();
        let mut gap_rows: Vec<(usize, AlignedRow)> = Vec::new();
        let mut unmatched_recorded = Vec::new();
        for &i in &gap_recorded {
            let same_tool = gap_replayed
                .iter_mut()
                .find(|slot| slot.is_some_and(|j| replayed[j].tool == recorded[i].tool));
            match same_tool.and_then(Option::take) {
                Some(j) => gap_rows.push((i, row(i, j, DivergenceCode::ArgsMismatch))),
                None => unmatched_recorded.push(i),
            }
        }
        let mut rest_replayed = gap_replayed.into_iter().flatten();
        for i in unmatched_recorded {
            match rest_replayed.next() {
                Some(j) => gap_rows.push((i, row(i, j, DivergenceCode::ToolMismatch))),
                None => gap_rows.push((
                    i,
                    AlignedRow {
                        recorded: Some(i),
                        replayed: None,
                        code: Some(DivergenceCode::Missing),
                    },
                )),
            }
        }
        for j in rest_replayed {
            gap_rows.push((
                to_i,
                AlignedRow {
                    recorded: None,
                    replayed: Some(j),
                    code: Some(DivergenceCode::Extra),
                },
            ));
        }
        for (&i, &j) in reordered.range(from_i..to_i) {
            gap_rows.push((i, row(i, j, DivergenceCode::Reordered)));
        }
        // Stable: rows of one recorded position keep the order they were found in.
        gap_rows.sort_by_key(|(at, _)| *at);
        rows.extend(gap_rows.into_iter().map(|(_, row)| row));
        if to_i < recorded.len() {
            rows.push(AlignedRow {
                recorded: Some(to_i),
                replayed: Some(to_j),
                code: None,
            });
        }
        (from_i, from_j) = (to_i + 1, to_j + 1);
    }

    // 4. Outcomes of paired calls, and the divergences in row order.
    let mut divergences = Vec::new();
    for row in &mut rows {
        let a = row.recorded.map(|i| &recorded[i]);
        let b = row.replayed.map(|j| &replayed[j]);
        if let (Some(a), Some(b), None | Some(DivergenceCode::Reordered)) = (a, b, row.code) {
            // A replayed call paired with its recorded twin but refused: the recorded
            // outcome could not be served.
            if compare == CompareOutcomes::LiveOnly
                && b.replay.as_deref() == Some("refused")
                && row.code.is_none()
            {
                row.code = Some(DivergenceCode::Unreplayable);
            }
            let compared = match compare {
                CompareOutcomes::All => true,
                CompareOutcomes::LiveOnly => b.replay.as_deref() == Some("live"),
            };
            if compared && !a.same_outcome(b) {
                if row.code.is_none() {
                    row.code = Some(DivergenceCode::OutcomeMismatch);
                } else {
                    divergences.push(divergence(
                        DivergenceCode::Reordered,
                        Some(a),
                        Some(b),
                        &recorded,
                    ));
                }
                divergences.push(divergence(
                    DivergenceCode::OutcomeMismatch,
                    Some(a),
                    Some(b),
                    &recorded,
                ));
                continue;
            }
        }
        if let Some(code) = row.code {
            divergences.push(divergence(code, a, b, &recorded));
        }
    }
    Alignment {
        recorded,
        replayed,
        rows,
        divergences,
    }
}

fn row(i: usize, j: usize, code: DivergenceCode) -> AlignedRow {
    AlignedRow {
        recorded: Some(i),
        replayed: Some(j),
        code: Some(code),
    }
}

/// Marks the pairs (sorted by their first index) that belong to one longest run of
/// increasing second indices (patience sorting, O(n log n)).
fn longest_increasing(pairs: &[(usize, usize)]) -> Vec<bool> {
    let mut tails: Vec<usize> = Vec::new(); // index into `pairs` of the smallest tail per length
    let mut previous: Vec<Option<usize>> = vec![None; pairs.len()];
    for (at, &(_, j)) in pairs.iter().enumerate() {
        let length = tails.partition_point(|&t| pairs[t].1 < j);
        previous[at] = length.checked_sub(1).map(|l| tails[l]);
        if length == tails.len() {
            tails.push(at);
        } else {
            tails[length] = at;
        }
    }
    let mut kept = vec![false; pairs.len()];
    let mut at = tails.last().copied();
    while let Some(index) = at {
        kept[index] = true;
        at = previous[index];
    }
    kept
}

fn divergence(
    code: DivergenceCode,
    a: Option<&CallSummary>,
    b: Option<&CallSummary>,
    recorded: &[CallSummary],
) -> Divergence {
    let tool = b.or(a).map(|c| c.tool.clone()).unwrap_or_default();
    let outcome = |c: &CallSummary| match (&c.error, &c.result_sha) {
        (None, Some(sha)) => format!("ok {sha}"),
        (None, None) => "ok".to_owned(),
        (Some(class), _) => format!("error {class}"),
    };
    let args = |c: Option<&CallSummary>| {
        c.and_then(|c| c.args_sha.clone())
            .unwrap_or_else(|| "-".into())
    };
    let detail = match code {
        DivergenceCode::ArgsMismatch => format!(
            "{tool} called with args_sha {} where the recording has {}",
            args(b),
            args(a)
        ),
        DivergenceCode::ToolMismatch => format!(
            "{tool} called where the recording calls {}",
            a.map_or("-", |a| a.tool.as_str())
        ),
        DivergenceCode::Extra => format!(
            "{tool} called with args_sha {}, which the recording lacks",
            args(b)
        ),
        DivergenceCode::Missing => format!(
            "the recording calls {tool} with args_sha {}, never called",
            args(a)
        ),
        DivergenceCode::OutcomeMismatch => format!(
            "{tool} returned {} where the recording has {}",
            b.map(outcome).unwrap_or_default(),
            a.map(outcome).unwrap_or_default()
        ),
        DivergenceCode::Reordered => format!("{tool} called out of the recorded order"),
        DivergenceCode::Unreplayable => {
            format!("{tool}'s recorded outcome cannot be served")
        }
    };
    let hint = match code {
        DivergenceCode::Extra | DivergenceCode::ArgsMismatch | DivergenceCode::ToolMismatch => {
            b.and_then(|b| nearest(b, recorded))
        }
        _ => None,
    };
    Divergence {
        code,
        recorded_step: a.and_then(|a| a.step),
        replayed_step: b.and_then(|b| b.step),
        recorded_tool: a.filter(|a| a.tool != tool).map(|a| a.tool.clone()),
        tool,
        recorded_args_sha: a.and_then(|a| a.args_sha.clone()),
        replayed_args_sha: b.and_then(|b| b.args_sha.clone()),
        detail,
        hint,
    }
}

/// The recorded call nearest to `call` by step: of the same tool if there is one.
pub(crate) fn nearest(call: &CallSummary, recorded: &[CallSummary]) -> Option<String> {
    let distance = |c: &CallSummary| match (c.step, call.step) {
        (Some(a), Some(b)) => a.abs_diff(b),
        _ => u64::MAX,
    };
    recorded
        .iter()
        .filter(|c| c.tool == call.tool)
        .min_by_key(|c| distance(c))
        .or_else(|| recorded.iter().min_by_key(|c| distance(c)))
        .map(|c| format!("recorded {}", c.describe()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(step: u64, tool: &str, args: &str) -> CallSummary {
        CallSummary {
            step: Some(step),
            tool: tool.into(),
            args_sha: Some(args.into()),
            ..CallSummary::default()
        }
    }

    fn codes(alignment: &Alignment) -> Vec<(&'static str, Option<u64>, Option<u64>)> {
        alignment
            .divergences
            .iter()
            .map(|d| (d.code().as_str(), d.recorded_step(), d.replayed_step()))
            .collect()
    }

    #[test]
    fn identical_sequences_match() {
        let a = vec![call(1, "a", "1"), call(2, "a", "1"), call(3, "b", "2")];
        let alignment = align(a.clone(), a, CompareOutcomes::All);
        assert!(alignment.is_match());
        assert_eq!(alignment.rows.len(), 3);
    }

    #[test]
    fn every_code_at_its_step() {
        let recorded = vec![
            call(1, "lookup", "aa"),
            call(2, "send_email", "bb"),
            call(3, "log", "cc"),
            call(4, "notify", "dd"),
            call(5, "x", "1"),
            call(6, "y", "2"),
        ];
        let mut replayed = vec![
            call(1, "lookup", "aa"),
            call(2, "send_email", "zz"), // args_mismatch
            call(3, "audit", "cc"),      // tool_mismatch with log
            call(4, "notify", "dd"),
            call(5, "y", "2"), // y before x: x is reordered
            call(6, "x", "1"),
            call(7, "extra", "ee"), // extra
        ];
        replayed[3].error = Some("timeout".into()); // outcome_mismatch
        let alignment = align(recorded, replayed, CompareOutcomes::All);
        assert_eq!(
            codes(&alignment),
            [
                ("args_mismatch", Some(2), Some(2)),
                ("tool_mismatch", Some(3), Some(3)),
                ("outcome_mismatch", Some(4), Some(4)),
                ("reordered", Some(5), Some(6)),
                ("extra", None, Some(7)),
            ]
        );
        let extra = &alignment.divergences[4];
        assert_eq!(
            extra.hint(),
            Some("recorded step 6 called y with args_sha 2")
        );
    }

    #[test]
    fn missing_calls_and_identical_calls_by_occurrence() {
        let recorded = vec![call(1, "a", "1"), call(2, "a", "1"), call(3, "a", "1")];
        let replayed = vec![call(1, "a", "1"), call(2, "a", "1")];
        let alignment = align(recorded, replayed, CompareOutcomes::All);
        assert_eq!(codes(&alignment), [("missing", Some(3), None)]);
    }

    #[test]
    fn live_only_compares_live_calls() {
        let recorded = vec![call(1, "a", "1"), call(2, "b", "2")];
        let mut replayed = recorded.clone();
        replayed[0].result_sha = Some("x".into());
        replayed[0].replay = Some("served".into());
        replayed[1].result_sha = Some("y".into());
        replayed[1].replay = Some("live".into());
        let alignment = align(recorded, replayed, CompareOutcomes::LiveOnly);
        assert_eq!(codes(&alignment), [("outcome_mismatch", Some(2), Some(2))]);
    }

    #[test]
    fn codes_serialize_as_stable_names() {
        let all = [
            DivergenceCode::ArgsMismatch,
            DivergenceCode::ToolMismatch,
            DivergenceCode::Extra,
            DivergenceCode::Missing,
            DivergenceCode::OutcomeMismatch,
            DivergenceCode::Reordered,
            DivergenceCode::Unreplayable,
        ];
        let names: Vec<String> = all
            .iter()
            .map(|c| serde_json::to_string(c).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "\"args_mismatch\"",
                "\"tool_mismatch\"",
                "\"extra\"",
                "\"missing\"",
                "\"outcome_mismatch\"",
                "\"reordered\"",
                "\"unreplayable\""
            ]
        );
        for code in all {
            assert_eq!(format!("\"{code}\""), serde_json::to_string(&code).unwrap());
        }
    }
}
