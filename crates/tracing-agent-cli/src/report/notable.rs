//! The runs a report names one by one: the slowest and the most expensive, each with
//! its steps for a waterfall. Only the leaders are kept as runs go by.

use crate::aggregate::{FinishedRun, Step};

/// Runs listed in each table.
pub(crate) const LISTED: usize = 10;

/// A run as the report shows it.
#[derive(Debug, Clone)]
pub(crate) struct RunRow {
    pub run_id: String,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub started_ms: u64,
    pub latency_ms: Option<u64>,
    pub tool_calls: u64,
    pub tool_errors: u64,
    pub llm_calls: u64,
    pub spend_usd: Option<f64>,
    /// Some LLM call's cost is unknown: `spend_usd` is a lower bound.
    pub spend_partial: bool,
    pub stop_reason: Option<String>,
    pub steps: Vec<Step>,
    pub steps_left_out: u64,
}

impl RunRow {
    fn of(run: &FinishedRun) -> Self {
        let (steps, steps_left_out) = run.steps();
        let s = &run.summary;
        RunRow {
            run_id: s.run_id.to_string(),
            agent: s.agent().map(str::to_owned),
            model: s.model().map(str::to_owned),
            started_ms: s.started_ms(),
            latency_ms: s.latency_ms(),
            tool_calls: s.tool_calls(),
            tool_errors: s.tool_errors(),
            llm_calls: s.llm_calls(),
            spend_usd: s.spend_usd(),
            spend_partial: s.spend_is_partial(),
            stop_reason: s.stop_reason().map(str::to_owned),
            steps: steps.to_vec(),
            steps_left_out,
        }
    }
}

/// The [`LISTED`] runs with the largest key, largest first; ties keep the earlier run.
#[derive(Debug, Default)]
pub(crate) struct Leaders(Vec<(f64, RunRow)>);

impl Leaders {
    fn offer(&mut self, key: f64, run: &FinishedRun) {
        if self.0.len() == LISTED && self.0.last().is_some_and(|(last, _)| *last >= key) {
            return;
        }
        let at = self.0.partition_point(|(known, _)| *known >= key);
        self.0.insert(at, (key, RunRow::of(run)));
        self.0.truncate(LISTED);
    }

    pub fn runs(&self) -> impl Iterator<Item = &RunRow> {
        self.0.iter().map(|(_, run)| run)
    }
}

/// The slowest runs (by latency) and the most expensive (runs of unknown cost are not
/// ranked: a lower bound is not a cost).
#[derive(Debug, Default)]
pub(crate) struct Notable {
    pub slowest: Leaders,
    pub costliest: Leaders,
}

impl Notable {
    pub fn offer(&mut self, run: &FinishedRun) {
        if let Some(latency) = run.summary.latency_ms() {
            self.slowest.offer(latency as f64, run);
        }
        if let Some(spend) = run.summary.spend_usd() {
            if !run.summary.spend_is_partial() {
                self.costliest.offer(spend, run);
            }
        }
    }

    /// The runs drawn as waterfalls: the three slowest and the most expensive one.
    pub fn waterfalls(&self) -> Vec<&RunRow> {
        let mut picked: Vec<&RunRow> = self.slowest.runs().take(3).collect();
        if let Some(costliest) = self.costliest.runs().next() {
            if !picked.iter().any(|run| run.run_id == costliest.run_id) {
                picked.push(costliest);
            }
        }
        picked
    }
}
