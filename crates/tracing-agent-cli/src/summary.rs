//! One run, summed up from its events: what `runs` lists and what `show` says of
//! sub-runs.
//!
//! A summary holds counters and a few strings, never the events, so `runs` over a log of
//! any size needs memory for its number of runs only; the strings many runs share
//! (agents, models, versions, tool names) are kept once.
//!
//! The `stop` event is the authority on what a run used: it was counted by the run
//! itself, and the log may hold only part of the run (rotated, or several files of which
//! one was not given). A run without a `stop` (still running, or its process died) is
//! summed up from the events that are there.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use tracing_agent::schema::{RecordMeta, RecordUsage};
use tracing_agent::{EventKind, EventRecord, Status, StopReason};

fn id_hash(run_id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    run_id.hash(&mut hasher);
    hasher.finish()
}

/// Strings shared between runs, each kept once.
#[derive(Debug, Default)]
pub(crate) struct Strings(HashSet<Rc<str>>);

impl Strings {
    pub(crate) fn get(&mut self, text: &str) -> Rc<str> {
        if let Some(known) = self.0.get(text) {
            return known.clone();
        }
        let text: Rc<str> = text.into();
        self.0.insert(text.clone());
        text
    }

    fn get_opt(&mut self, text: Option<&str>) -> Option<Rc<str>> {
        text.map(|text| self.get(text))
    }
}

/// Adds `text` to the sorted `set` unless it is there.
fn insert_sorted(set: &mut Vec<Rc<str>>, text: &str, strings: &mut Strings) {
    if let Err(at) = set.binary_search_by(|known| (**known).cmp(text)) {
        set.insert(at, strings.get(text));
    }
}

#[derive(Debug)]
pub(crate) struct RunSummary {
    pub run_id: Rc<str>,
    start_ts_ms: Option<u64>,
    /// Boxed, as is `stop`: they are most of a summary, and a run may lack either.
    meta: Option<Box<RunMeta>>,
    first_ts_ms: u64,
    last_ts_ms: u64,
    /// The distinct tools the run called, sorted: for `--tool` and `--json`.
    tools: Vec<Rc<str>>,
    /// The distinct error classes of its failed tool calls, sorted: for `--error`. Kept
    /// as `tools` is, each class once per run and once over all runs.
    errors: Vec<Rc<str>>,
    seen: Seen,
    /// Model of the first LLM call: the model when `run_start` is missing.
    llm_model: Option<Rc<str>>,
    stop: Option<Box<Stop>>,
    /// A second `run_start` at another time: two runs were given this id.
    shared: bool,
}

/// The `meta` of the run's `run_start`.
#[derive(Debug)]
struct RunMeta {
    agent: Option<Rc<str>>,
    model: Option<Rc<str>>,
    prompt_version: Option<Rc<str>>,
    tools_version: Option<Rc<str>>,
    parent_run_id: Option<Rc<str>>,
    schema_version: Option<u64>,
}

impl RunMeta {
    fn new(meta: Option<&RecordMeta>, strings: &mut Strings) -> Self {
        let default = RecordMeta::default();
        let meta = meta.unwrap_or(&default);
        RunMeta {
            agent: strings.get_opt(meta.agent.as_deref()),
            model: strings.get_opt(meta.model.as_deref()),
            prompt_version: strings.get_opt(meta.prompt_version.as_deref()),
            tools_version: strings.get_opt(meta.tools_version.as_deref()),
            // Not shared: a parent's id is (almost) as unique as a run's.
            parent_run_id: meta.parent_run_id.as_deref().map(Rc::from),
            schema_version: meta.schema_version,
        }
    }
}

/// What the events in the input add up to.
#[derive(Debug, Default)]
struct Seen {
    steps: u64,
    tool_calls: u64,
    tool_errors: u64,
    llm_calls: u64,
    input_tokens: u64,
    output_tokens: u64,
    spend_usd: Option<f64>,
    /// LLM calls that used tokens and have no spend: their cost is unknown.
    unpriced_llm_calls: u64,
}

#[derive(Debug)]
struct Stop {
    ts_ms: u64,
    reason: Option<StopReason>,
    duration_ms: Option<u64>,
    usage: RecordUsage,
}

impl RunSummary {
    fn new(run_id: Rc<str>, ts_ms: u64) -> Self {
        RunSummary {
            run_id,
            start_ts_ms: None,
            meta: None,
            first_ts_ms: ts_ms,
            last_ts_ms: ts_ms,
            tools: Vec::new(),
            errors: Vec::new(),
            seen: Seen::default(),
            llm_model: None,
            stop: None,
            shared: false,
        }
    }

    fn add(&mut self, event: &EventRecord, strings: &mut Strings) {
        self.first_ts_ms = self.first_ts_ms.min(event.ts_ms);
        self.last_ts_ms = self.last_ts_ms.max(event.ts_ms);
        match event.kind {
            // The first one wins: a log given twice must not change what is shown.
            EventKind::RunStart if self.start_ts_ms.is_none() => {
                self.start_ts_ms = Some(event.ts_ms);
                self.meta = Some(Box::new(RunMeta::new(event.meta.as_ref(), strings)));
            }
            // The same start again is a log given twice; another one is another run.
            EventKind::RunStart => self.shared |= self.start_ts_ms != Some(event.ts_ms),
            EventKind::ToolResult => {
                // Saturating, as every sum here: a log may hold any numbers, and a
                // debug build would panic where a release one wraps to nonsense.
                self.seen.steps = self.seen.steps.saturating_add(1);
                self.seen.tool_calls = self.seen.tool_calls.saturating_add(1);
                if event.status == Some(Status::Error) {
                    self.seen.tool_errors = self.seen.tool_errors.saturating_add(1);
                    if let Some(class) = event.error.as_deref() {
                        insert_sorted(&mut self.errors, class, strings);
                    }
                }
                if let Some(tool) = event.tool.as_deref() {
                    insert_sorted(&mut self.tools, tool, strings);
                }
            }
            EventKind::LlmResult => {
                self.seen.steps = self.seen.steps.saturating_add(1);
                self.seen.llm_calls = self.seen.llm_calls.saturating_add(1);
                if let Some(usage) = &event.usage {
                    let seen = &mut self.seen;
                    seen.input_tokens = seen
                        .input_tokens
                        .saturating_add(usage.input_tokens.unwrap_or(0));
                    seen.output_tokens = seen
                        .output_tokens
                        .saturating_add(usage.output_tokens.unwrap_or(0));
                    match usage.spend_usd {
                        Some(spend) => *self.seen.spend_usd.get_or_insert(0.0) += spend,
                        None if usage.input_tokens.unwrap_or(0) > 0
                            || usage.output_tokens.unwrap_or(0) > 0 =>
                        {
                            seen.unpriced_llm_calls = seen.unpriced_llm_calls.saturating_add(1);
                        }
                        None => {}
                    }
                }
                if self.llm_model.is_none() {
                    self.llm_model = strings.get_opt(event.model.as_deref());
                }
            }
            EventKind::Stop if self.stop.is_none() => {
                self.stop = Some(Box::new(Stop {
                    ts_ms: event.ts_ms,
                    reason: event.stop_reason.clone(),
                    duration_ms: event.duration_ms,
                    usage: event.usage.clone().unwrap_or_default(),
                }));
            }
            EventKind::Stop => {}
            // What a guard said is in the run's stop reason; neither is a step.
            EventKind::Guard | EventKind::BudgetWarning => {}
        }
    }

    /// When the run started: its `run_start`; without one, its `stop` less the run's
    /// duration; without either, its earliest event (a tool's event is written when the
    /// call ends, so that is a little late).
    pub fn started_ms(&self) -> u64 {
        if let Some(ts) = self.start_ts_ms {
            return ts;
        }
        match self.stop.as_deref() {
            Some(Stop {
                ts_ms,
                duration_ms: Some(duration),
                ..
            }) => ts_ms.saturating_sub(*duration),
            _ => self.first_ts_ms,
        }
    }

    /// Whether two runs started with this id (their events are summed up as one).
    pub fn shared_id(&self) -> bool {
        self.shared
    }

    pub fn has_run_start(&self) -> bool {
        self.start_ts_ms.is_some()
    }

    pub fn has_stop(&self) -> bool {
        self.stop.is_some()
    }

    pub fn last_ts_ms(&self) -> u64 {
        self.last_ts_ms
    }

    fn meta(&self) -> Option<&RunMeta> {
        self.meta.as_deref()
    }

    pub fn agent(&self) -> Option<&str> {
        self.meta()?.agent.as_deref()
    }

    pub fn model(&self) -> Option<&str> {
        self.meta()
            .and_then(|meta| meta.model.as_deref())
            .or(self.llm_model.as_deref())
    }

    pub fn prompt_version(&self) -> Option<&str> {
        self.meta()?.prompt_version.as_deref()
    }

    pub fn tools_version(&self) -> Option<&str> {
        self.meta()?.tools_version.as_deref()
    }

    pub fn parent_run_id(&self) -> Option<&str> {
        self.meta()?.parent_run_id.as_deref()
    }

    pub fn schema_version(&self) -> Option<u64> {
        self.meta()?.schema_version
    }

    /// Whether a `tool_result` of `tool` is in the input.
    pub fn called(&self, tool: &str) -> bool {
        self.tools.iter().any(|known| &**known == tool)
    }

    /// Whether a tool call of the run failed with the error class `class`.
    pub fn failed_with(&self, class: &str) -> bool {
        self.errors.iter().any(|known| &**known == class)
    }

    /// The distinct tools the run called, sorted.
    pub fn tools(&self) -> impl Iterator<Item = &str> {
        self.tools.iter().map(|tool| &**tool)
    }

    /// The stop's count if there is a stop that has it, else what the events add up to.
    fn counted(&self, from_stop: impl Fn(&RecordUsage) -> Option<u64>, seen: u64) -> u64 {
        self.stop
            .as_ref()
            .and_then(|stop| from_stop(&stop.usage))
            .unwrap_or(seen)
    }

    pub fn steps(&self) -> u64 {
        self.counted(|u| u.steps, self.seen.steps)
    }

    pub fn tool_calls(&self) -> u64 {
        self.counted(|u| u.tool_calls, self.seen.tool_calls)
    }

    pub fn tool_errors(&self) -> u64 {
        self.counted(|u| u.tool_errors, self.seen.tool_errors)
    }

    pub fn llm_calls(&self) -> u64 {
        self.counted(|u| u.llm_calls, self.seen.llm_calls)
    }

    pub fn input_tokens(&self) -> u64 {
        self.counted(|u| u.input_tokens, self.seen.input_tokens)
    }

    pub fn output_tokens(&self) -> u64 {
        self.counted(|u| u.output_tokens, self.seen.output_tokens)
    }

    /// LLM calls whose cost is unknown: from the `stop` event where it says, else
    /// counted from the `llm_result` events (logs of writers before the count).
    pub fn unpriced_llm_calls(&self) -> u64 {
        self.counted(|u| u.unpriced_llm_calls, self.seen.unpriced_llm_calls)
    }

    /// Whether the spend is a lower bound: some LLM call's cost is unknown.
    pub fn spend_is_partial(&self) -> bool {
        self.unpriced_llm_calls() > 0
    }

    /// `None` when no event gave a spend. With [`spend_is_partial`](Self::spend_is_partial),
    /// the known part only.
    pub fn spend_usd(&self) -> Option<f64> {
        self.stop
            .as_ref()
            .and_then(|stop| stop.usage.spend_usd)
            .or(self.seen.spend_usd)
    }

    /// The run's wall time: from its `stop`, or, when the stop does not say (the seed's
    /// reference sample), from its first event to its stop; unknown without a stop.
    pub fn latency_ms(&self) -> Option<u64> {
        let stop = self.stop.as_ref()?;
        stop.duration_ms
            .or_else(|| Some(stop.ts_ms.saturating_sub(self.first_ts_ms)))
    }

    /// The run's wall time, from its `stop`; unknown without one.
    pub fn duration_ms(&self) -> Option<u64> {
        self.stop.as_ref()?.duration_ms
    }

    /// `None` without a `stop` event.
    pub fn stop_reason(&self) -> Option<&str> {
        let stop = self.stop.as_ref()?;
        Some(stop.reason.as_ref().map_or("?", StopReason::as_str))
    }
}

/// Summaries of runs by run id. Events of no run (`run_id: null`) are not a run and
/// are left out.
#[derive(Default)]
pub(crate) struct Summaries {
    runs: HashMap<Rc<str>, RunSummary>,
    strings: Strings,
    /// Runs already left out (see [`Summaries::leave_out`]), as hashes of their ids: 8
    /// bytes where a summary takes about a kilobyte.
    left_out: HashSet<u64>,
}

impl Summaries {
    /// Adds `event` to its run's summary, starting one for a run not seen before, unless
    /// the run was left out. Returns the run's summary, if it is still summed up.
    pub fn add(&mut self, event: &EventRecord) -> Option<&RunSummary> {
        let run_id = event.run_id.as_deref()?;
        if !self.runs.contains_key(run_id) {
            if !self.left_out.is_empty() && self.left_out.contains(&id_hash(run_id)) {
                return None;
            }
            self.start(run_id, event.ts_ms);
        }
        self.add_if_known(event);
        self.runs.get(run_id)
    }

    /// Forgets the summary of `run_id` and skips its later events: a filter has decided
    /// against it, and only its count is kept.
    pub fn leave_out(&mut self, run_id: &str) {
        if self.runs.remove(run_id).is_some() {
            self.left_out.insert(id_hash(run_id));
        }
    }

    /// Takes the summary of `run_id` out, to be folded elsewhere, and skips the run's
    /// later events as [`Summaries::leave_out`] does.
    pub fn take(&mut self, run_id: &str) -> Option<RunSummary> {
        let run = self.runs.remove(run_id)?;
        self.left_out.insert(id_hash(run_id));
        Some(run)
    }

    /// How many runs were left out.
    pub fn left_out(&self) -> usize {
        self.left_out.len()
    }

    /// Adds `event` to its run's summary if that run is being summed up.
    pub fn add_if_known(&mut self, event: &EventRecord) {
        let Some(run_id) = event.run_id.as_deref() else {
            return;
        };
        if let Some(run) = self.runs.get_mut(run_id) {
            run.add(event, &mut self.strings);
        }
    }

    /// Starts summing up the run `run_id`: from now on [`add_if_known`] takes its
    /// events.
    ///
    /// [`add_if_known`]: Summaries::add_if_known
    pub fn start(&mut self, run_id: &str, ts_ms: u64) {
        let run_id: Rc<str> = run_id.into();
        self.runs
            .entry(run_id.clone())
            .or_insert_with(|| RunSummary::new(run_id, ts_ms));
    }

    /// Newest first; runs that started in the same millisecond by id, newest UUID v7
    /// first, so the order never depends on the hash map.
    pub fn newest_first(self) -> Vec<RunSummary> {
        let mut runs: Vec<RunSummary> = self.runs.into_values().collect();
        runs.sort_by(|a, b| (b.started_ms(), &b.run_id).cmp(&(a.started_ms(), &a.run_id)));
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(line: &str) -> EventRecord {
        serde_json::from_str(line).unwrap()
    }

    fn summary(lines: &[&str]) -> RunSummary {
        let mut summaries = Summaries::default();
        for line in lines {
            summaries.add(&event(line));
        }
        summaries.newest_first().pop().unwrap()
    }

    const TOOL_ERR: &str =
        r#"{"run_id":"r","kind":"tool_result","ts_ms":2000,"tool":"a","status":"error"}"#;
    const TOOL_OK: &str =
        r#"{"run_id":"r","kind":"tool_result","ts_ms":3000,"tool":"b","status":"ok"}"#;
    const LLM: &str = r#"{"run_id":"r","kind":"llm_result","ts_ms":1500,"model":"m1","usage":{"input_tokens":10,"output_tokens":2,"spend_usd":0.5}}"#;

    #[test]
    fn without_stop_the_events_are_counted() {
        let run = summary(&[TOOL_ERR, LLM, TOOL_OK]);
        assert_eq!(run.tool_calls(), 2);
        assert_eq!(run.tool_errors(), 1);
        assert_eq!(run.llm_calls(), 1);
        assert_eq!(run.steps(), 3);
        assert_eq!(run.spend_usd(), Some(0.5));
        assert_eq!(run.stop_reason(), None);
        assert_eq!(run.duration_ms(), None);
        // No run_start: the earliest event, and the model of the LLM call.
        assert_eq!(run.started_ms(), 1500);
        assert_eq!(run.model(), Some("m1"));
        assert_eq!(run.agent(), None);
        assert_eq!(run.tools().collect::<Vec<_>>(), ["a", "b"]);
        assert!(run.called("a") && !run.called("c"));
    }

    #[test]
    fn the_error_classes_of_failed_calls_are_kept_once_each() {
        let err = |ts: u64, class: &str| {
            format!(
                r#"{{"run_id":"r","kind":"tool_result","ts_ms":{ts},"tool":"a","status":"error","error":"{class}"}}"#
            )
        };
        // An ok call's error field is not a failure.
        let ok = r#"{"run_id":"r","kind":"tool_result","ts_ms":9,"tool":"a","status":"ok","error":"Odd"}"#;
        let run = summary(&[&err(1, "Timeout"), &err(2, "Http"), &err(3, "Timeout"), ok]);
        assert_eq!(
            run.errors,
            ["Http".into(), "Timeout".into()] as [Rc<str>; 2]
        );
        assert!(run.failed_with("Timeout") && !run.failed_with("Odd"));
    }

    #[test]
    fn the_stop_is_the_authority_and_dates_a_run_without_start() {
        let stop = r#"{"run_id":"r","kind":"stop","ts_ms":9000,"duration_ms":8000,"stop_reason":"max_steps","usage":{"steps":9,"tool_calls":7,"tool_errors":3,"llm_calls":2,"input_tokens":1,"output_tokens":1,"spend_usd":0.25}}"#;
        let run = summary(&[TOOL_ERR, stop]);
        assert_eq!(run.tool_calls(), 7);
        assert_eq!(run.tool_errors(), 3);
        assert_eq!(run.spend_usd(), Some(0.25));
        assert_eq!(run.stop_reason(), Some("max_steps"));
        assert_eq!(run.started_ms(), 1000);
    }

    #[test]
    fn the_run_start_gives_versions_and_start() {
        let start = r#"{"run_id":"r","kind":"run_start","ts_ms":1200,"meta":{"agent":"a1","model":"m0","prompt_version":"v1","tools_version":"t1","parent_run_id":"p","schema_version":1}}"#;
        let run = summary(&[LLM, start, TOOL_OK]);
        assert_eq!(run.started_ms(), 1200);
        assert_eq!(run.model(), Some("m0"));
        assert_eq!(run.agent(), Some("a1"));
        assert_eq!(run.parent_run_id(), Some("p"));
        assert_eq!(run.spend_usd(), Some(0.5));
    }

    #[test]
    fn sums_saturate_instead_of_wrapping() {
        let max = u64::MAX;
        let big = format!(
            r#"{{"run_id":"r","kind":"llm_result","ts_ms":1,"usage":{{"input_tokens":{max},"output_tokens":{max}}}}}"#
        );
        let small = r#"{"run_id":"r","kind":"llm_result","ts_ms":2,"usage":{"input_tokens":2,"output_tokens":3}}"#;
        let run = summary(&[&big, small, small]);
        assert_eq!(run.input_tokens(), u64::MAX);
        assert_eq!(run.output_tokens(), u64::MAX);
        assert_eq!(run.llm_calls(), 3);
    }

    #[test]
    fn events_of_no_run_make_no_run() {
        let mut summaries = Summaries::default();
        let line = r#"{"run_id":null,"kind":"tool_result","ts_ms":1,"tool":"x"}"#;
        summaries.add(&event(line));
        assert!(summaries.newest_first().is_empty());
    }
}
