//! What `stats` and `drift` compute over sets of runs: runs are summed up from their
//! events as they stream by ([`Collector`]), and each one, once complete, is folded into
//! an [`Aggregate`] and forgotten.
//!
//! A run is complete at its `stop` event. A run's events after its stop (a rotated file
//! given after a later one) are counted as late and left out, as are the events of a
//! run already folded; runs still without a stop at the end of the input are folded
//! then, with what they have. So memory holds the runs in flight (started, not stopped)
//! plus 8 bytes per folded run (its id's hash), never the events.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use tracing_agent::{EventKind, EventRecord, Status};

use crate::quantile::Distribution;
use crate::summary::{RunSummary, Strings, Summaries};

/// A run's tool calls, as far as the run summary does not keep them.
#[derive(Debug, Default)]
struct ToolInRun {
    calls: u64,
    retries: u64,
    errors: Vec<(Rc<str>, u64)>,
    durations_ms: Vec<u64>,
}

/// What a run adds to the summary that `stats` and `drift` need: per tool, and per LLM
/// call.
#[derive(Debug, Default)]
struct RunDetail {
    tools: Vec<(Rc<str>, ToolInRun)>,
    tokens_per_llm_call: Vec<u64>,
    /// The run's last tool call: tool, args_sha, failed. A call of the same tool with
    /// the same arguments right after a failed one is a retry.
    last_call: Option<(Rc<str>, Option<String>, bool)>,
    /// The run's tool and LLM calls, when the collector keeps them (`report`'s
    /// waterfalls); at most [`MOST_STEPS`].
    steps: Vec<Step>,
    steps_left_out: u64,
}

/// Steps kept per run for a waterfall: more would not be readable in one anyway.
pub(crate) const MOST_STEPS: usize = 400;

/// One tool or LLM call of a run, on a time axis.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// The tool's name, or the LLM's model (`None` when the event does not say).
    pub name: Option<Rc<str>>,
    pub llm: bool,
    /// When the call ended (its event's `ts_ms`).
    pub end_ms: u64,
    pub duration_ms: Option<u64>,
    /// The error class of a failed tool call.
    pub error: Option<Rc<str>>,
}

impl RunDetail {
    fn tool(&mut self, name: &Rc<str>) -> &mut ToolInRun {
        let at = match self.tools.iter().position(|(known, _)| known == name) {
            Some(at) => at,
            None => {
                self.tools.push((name.clone(), ToolInRun::default()));
                self.tools.len() - 1
            }
        };
        &mut self.tools[at].1
    }

    fn add(&mut self, event: &EventRecord, names: &mut Strings, keep_steps: bool) {
        if keep_steps && matches!(event.kind, EventKind::ToolResult | EventKind::LlmResult) {
            if self.steps.len() < MOST_STEPS {
                let llm = event.kind == EventKind::LlmResult;
                let name = if llm { &event.model } else { &event.tool };
                self.steps.push(Step {
                    name: name.as_deref().map(|name| names.get(name)),
                    llm,
                    end_ms: event.ts_ms,
                    duration_ms: event.duration_ms,
                    error: (event.status == Some(Status::Error))
                        .then(|| names.get(event.error.as_deref().unwrap_or("?"))),
                });
            } else {
                self.steps_left_out += 1;
            }
        }
        match event.kind {
            EventKind::ToolResult => {
                let name = names.get(event.tool.as_deref().unwrap_or("?"));
                let failed = event.status == Some(Status::Error);
                let retry = event.attempt.is_some_and(|attempt| attempt > 1)
                    || self
                        .last_call
                        .as_ref()
                        .is_some_and(|(tool, args, was_failed)| {
                            *was_failed
                                && *tool == name
                                && args.is_some()
                                && *args == event.args_sha
                        });
                let error_class = failed.then(|| names.get(event.error.as_deref().unwrap_or("?")));
                let tool = self.tool(&name);
                tool.calls += 1;
                tool.retries += u64::from(retry);
                if let Some(class) = error_class {
                    match tool.errors.iter_mut().find(|(known, _)| *known == class) {
                        Some((_, count)) => *count += 1,
                        None => tool.errors.push((class, 1)),
                    }
                }
                if let Some(duration) = event.duration_ms {
                    tool.durations_ms.push(duration);
                }
                self.last_call = Some((name, event.args_sha.clone(), failed));
            }
            EventKind::LlmResult => {
                if let Some(usage) = &event.usage {
                    let tokens = usage
                        .input_tokens
                        .unwrap_or(0)
                        .saturating_add(usage.output_tokens.unwrap_or(0));
                    self.tokens_per_llm_call.push(tokens);
                }
            }
            _ => {}
        }
    }
}

/// A run, complete or at the end of the input, ready to be folded.
pub(crate) struct FinishedRun {
    pub summary: RunSummary,
    detail: RunDetail,
}

impl FinishedRun {
    /// Its tool and LLM calls in the order written (empty unless the collector keeps
    /// them), and how many more there were.
    pub fn steps(&self) -> (&[Step], u64) {
        (&self.detail.steps, self.detail.steps_left_out)
    }
}

/// Sums runs up from their events and hands each over when it is complete.
#[derive(Default)]
pub(crate) struct Collector {
    summaries: Summaries,
    details: HashMap<Rc<str>, RunDetail>,
    names: Strings,
    late_events: u64,
    keep_steps: bool,
}

impl Collector {
    /// A collector that also keeps each run's steps (see [`FinishedRun::steps`]),
    /// as long as the run is in flight.
    pub fn keeping_steps() -> Self {
        Collector {
            keep_steps: true,
            ..Collector::default()
        }
    }

    /// Adds `event`; returns its run when the event was the run's stop.
    pub fn add(&mut self, event: &EventRecord) -> Option<FinishedRun> {
        let run_id = event.run_id.as_deref()?;
        if self.summaries.add(event).is_none() {
            self.late_events += 1;
            return None;
        }
        let detail = match self.details.get_mut(run_id) {
            Some(detail) => detail,
            None => self.details.entry(run_id.into()).or_default(),
        };
        detail.add(event, &mut self.names, self.keep_steps);
        if event.kind != EventKind::Stop {
            return None;
        }
        let detail = self.details.remove(run_id).unwrap_or_default();
        let summary = self.summaries.take(run_id)?;
        Some(FinishedRun { summary, detail })
    }

    /// The runs without a stop, at the end of the input.
    pub fn finish(mut self) -> (Vec<FinishedRun>, Counts) {
        let counts = Counts {
            late_events: self.late_events,
        };
        let runs = self
            .summaries
            .newest_first()
            .into_iter()
            .map(|summary| FinishedRun {
                detail: self.details.remove(&summary.run_id).unwrap_or_default(),
                summary,
            })
            .collect();
        (runs, counts)
    }
}

/// What the collector noticed on the way.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counts {
    /// Events of runs already folded (read after their run's stop).
    pub late_events: u64,
}

impl Counts {
    /// The warning about late events, if any.
    pub fn warning(&self) -> Option<String> {
        (self.late_events > 0).then(|| {
            format!(
                "{} events came after their run's stop (a rotated file given after a later one?) and were left out; give the files oldest first",
                self.late_events
            )
        })
    }
}

/// One tool over a set of runs.
#[derive(Debug, Default, Clone)]
pub(crate) struct ToolAggregate {
    pub calls: u64,
    /// Sum over runs of the square of the run's calls: with `calls`, the variance of
    /// calls per run for `drift`'s test.
    pub calls_squared: f64,
    pub retries: u64,
    pub retries_squared: f64,
    pub errors: BTreeMap<Rc<str>, u64>,
    pub duration_ms: Distribution,
}

impl ToolAggregate {
    pub fn failed(&self) -> u64 {
        self.errors.values().sum()
    }

    fn merge(&mut self, other: &ToolAggregate) {
        self.calls += other.calls;
        self.calls_squared += other.calls_squared;
        self.retries += other.retries;
        self.retries_squared += other.retries_squared;
        for (class, count) in &other.errors {
            *self.errors.entry(class.clone()).or_default() += count;
        }
        self.duration_ms.merge(&other.duration_ms);
    }
}

/// Every statistic of a set of runs.
#[derive(Debug, Default, Clone)]
pub(crate) struct Aggregate {
    pub runs: u64,
    pub runs_without_start: u64,
    pub runs_without_stop: u64,
    /// Runs by stop reason; runs without a stop are not in it.
    pub stop_reasons: BTreeMap<String, u64>,
    pub tool_calls_per_run: Distribution,
    pub latency_ms: Distribution,
    pub tokens_per_llm_call: Distribution,
    /// Runs whose spend is known.
    pub spend_usd_per_run: Distribution,
    pub runs_with_unknown_spend: u64,
    pub tools: BTreeMap<Rc<str>, ToolAggregate>,
}

impl Aggregate {
    pub fn add(&mut self, run: &FinishedRun) {
        let summary = &run.summary;
        self.runs += 1;
        self.runs_without_start += u64::from(!summary.has_run_start());
        match summary.stop_reason() {
            Some(reason) => *self.stop_reasons.entry(reason.to_owned()).or_default() += 1,
            None => self.runs_without_stop += 1,
        }
        self.tool_calls_per_run.add(summary.tool_calls() as f64);
        if let Some(latency) = summary.latency_ms() {
            self.latency_ms.add(latency as f64);
        }
        for tokens in &run.detail.tokens_per_llm_call {
            self.tokens_per_llm_call.add(*tokens as f64);
        }
        // A spend with unpriced LLM calls in it is a lower bound: the run's cost is
        // unknown, and a mean of lower bounds would read as a real figure.
        match summary.spend_usd() {
            Some(spend) if !summary.spend_is_partial() => self.spend_usd_per_run.add(spend),
            _ => self.runs_with_unknown_spend += 1,
        }
        for (name, in_run) in &run.detail.tools {
            let tool = self.tools.entry(name.clone()).or_default();
            tool.calls += in_run.calls;
            tool.calls_squared += (in_run.calls as f64).powi(2);
            tool.retries += in_run.retries;
            tool.retries_squared += (in_run.retries as f64).powi(2);
            for (class, count) in &in_run.errors {
                *tool.errors.entry(class.clone()).or_default() += count;
            }
            for duration in &in_run.durations_ms {
                tool.duration_ms.add(*duration as f64);
            }
        }
    }

    /// Adds the runs of `other`, as if each had been added here.
    pub fn merge(&mut self, other: &Aggregate) {
        self.runs += other.runs;
        self.runs_without_start += other.runs_without_start;
        self.runs_without_stop += other.runs_without_stop;
        for (reason, count) in &other.stop_reasons {
            *self.stop_reasons.entry(reason.clone()).or_default() += count;
        }
        self.tool_calls_per_run.merge(&other.tool_calls_per_run);
        self.latency_ms.merge(&other.latency_ms);
        self.tokens_per_llm_call.merge(&other.tokens_per_llm_call);
        self.spend_usd_per_run.merge(&other.spend_usd_per_run);
        self.runs_with_unknown_spend += other.runs_with_unknown_spend;
        for (name, tool) in &other.tools {
            self.tools.entry(name.clone()).or_default().merge(tool);
        }
    }

    /// Runs with a stop event: what shares of stop reasons are shares of.
    pub fn runs_with_stop(&self) -> u64 {
        self.runs - self.runs_without_stop
    }

    /// Runs that stopped for `reason`.
    pub fn stopped(&self, reason: &str) -> u64 {
        self.stop_reasons.get(reason).copied().unwrap_or(0)
    }

    /// The share of runs with a stop that `completed`; `None` without any.
    pub fn success_rate(&self) -> Option<f64> {
        share(self.stopped("completed"), self.runs_with_stop())
    }

    /// The share of runs whose spend is unknown; `None` without runs.
    pub fn unknown_spend_share(&self) -> Option<f64> {
        share(self.runs_with_unknown_spend, self.runs)
    }

    /// Whether every quantile is exact (no distribution went past the exact limit).
    pub fn quantiles_exact(&self) -> bool {
        self.tool_calls_per_run.exact()
            && self.latency_ms.exact()
            && self.tokens_per_llm_call.exact()
            && self.spend_usd_per_run.exact()
            && self.tools.values().all(|tool| tool.duration_ms.exact())
    }
}

/// `part / whole`, `None` when `whole` is 0.
pub(crate) fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(lines: &[&str]) -> Aggregate {
        let mut collector = Collector::default();
        let mut aggregate = Aggregate::default();
        for line in lines {
            let event: EventRecord = serde_json::from_str(line).unwrap();
            if let Some(run) = collector.add(&event) {
                aggregate.add(&run);
            }
        }
        let (rest, _) = collector.finish();
        rest.iter().for_each(|run| aggregate.add(run));
        aggregate
    }

    #[test]
    fn a_retry_is_the_same_call_again_after_a_failure() {
        let call = |ts: u64, tool: &str, sha: &str, status: &str| {
            format!(
                r#"{{"run_id":"r","kind":"tool_result","ts_ms":{ts},"tool":"{tool}","args_sha":"{sha}","status":"{status}","error":{}}}"#,
                if status == "error" {
                    "\"RateLimited\""
                } else {
                    "null"
                }
            )
        };
        let lines = [
            call(1, "http.get", "aaa", "error"),
            call(2, "http.get", "aaa", "error"), // retry 1
            call(3, "http.get", "aaa", "ok"),    // retry 2
            call(4, "http.get", "aaa", "ok"),    // after a success: not a retry
            call(5, "http.get", "bbb", "error"),
            call(6, "kb.search", "bbb", "ok"), // another tool: not a retry
            call(7, "http.get", "bbb", "ok"),  // not right after the failure
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let aggregate = collect(&lines);
        let http = &aggregate.tools["http.get"];
        assert_eq!(http.calls, 6);
        assert_eq!(http.retries, 2);
        assert_eq!(http.errors["RateLimited"], 3);
        assert_eq!(aggregate.runs, 1);
        assert_eq!(aggregate.runs_without_stop, 1);
    }

    #[test]
    fn events_after_the_stop_are_late() {
        let mut collector = Collector::default();
        let stop = r#"{"run_id":"r","kind":"stop","ts_ms":5,"stop_reason":"completed"}"#;
        let late = r#"{"run_id":"r","kind":"tool_result","ts_ms":9,"tool":"t","status":"ok"}"#;
        let stop: EventRecord = serde_json::from_str(stop).unwrap();
        let late: EventRecord = serde_json::from_str(late).unwrap();
        assert!(collector.add(&stop).is_some());
        assert!(collector.add(&late).is_none());
        let (rest, counts) = collector.finish();
        assert!(rest.is_empty());
        assert_eq!(counts.late_events, 1);
    }

    #[test]
    fn merged_aggregates_are_the_aggregate_of_all_runs() {
        let run = |id: &str, calls: u64, failed: bool, reason: Option<&str>| {
            let mut lines = Vec::new();
            for i in 0..calls {
                lines.push(format!(
                    r#"{{"run_id":"{id}","kind":"tool_result","ts_ms":{},"tool":"t","duration_ms":{},"status":"{}","error":{}}}"#,
                    i + 1,
                    10 * (i + 1),
                    if failed { "error" } else { "ok" },
                    if failed { "\"Boom\"" } else { "null" }
                ));
            }
            if let Some(reason) = reason {
                lines.push(format!(
                    r#"{{"run_id":"{id}","kind":"stop","ts_ms":100,"duration_ms":100,"stop_reason":"{reason}","usage":{{"spend_usd":0.5}}}}"#
                ));
            }
            lines
        };
        let first = [
            run("a", 2, false, Some("completed")),
            run("b", 1, true, None),
        ]
        .concat();
        let second = [run("c", 3, true, Some("max_steps"))].concat();
        fn refs(lines: &[String]) -> Vec<&str> {
            lines.iter().map(String::as_str).collect()
        }
        let mut merged = collect(&refs(&first));
        merged.merge(&collect(&refs(&second)));
        let mut all = collect(&refs(&[first, second].concat()));
        assert_eq!(merged.runs, 3);
        assert_eq!(merged.runs, all.runs);
        assert_eq!(merged.runs_without_stop, all.runs_without_stop);
        assert_eq!(merged.stop_reasons, all.stop_reasons);
        assert_eq!(merged.runs_with_unknown_spend, all.runs_with_unknown_spend);
        assert_eq!(merged.tool_calls_per_run.quantile(0.5), Some(2.0));
        assert_eq!(
            merged.tool_calls_per_run.quantile(0.5),
            all.tool_calls_per_run.quantile(0.5)
        );
        assert_eq!(merged.latency_ms.mean(), all.latency_ms.mean());
        let (m, a) = (&mut merged.tools["t"].clone(), &mut all.tools["t"].clone());
        assert_eq!((m.calls, m.failed(), m.calls_squared), (6, 4, 14.0));
        assert_eq!(
            (m.calls, m.failed(), m.calls_squared),
            (a.calls, a.failed(), a.calls_squared)
        );
        assert_eq!(m.duration_ms.quantile(0.95), a.duration_ms.quantile(0.95));
    }
}
