//! Runs over time for the report's charts: each period's runs in time buckets of one
//! length, chosen as the runs arrive so that a chart has at most [`MOST_BUCKETS`]
//! buckets whatever the logs span (a minute of a test, or a year).
//!
//! Buckets start at a second and grow along a ladder of readable lengths when the runs
//! seen span too many: neighbouring buckets are merged ([`Aggregate::merge`]), so a log
//! is read once, in any order, and memory stays bounded by the bucket count.

use std::collections::BTreeMap;

use crate::aggregate::{Aggregate, FinishedRun};

/// The most buckets between the first run and the last, over both periods.
pub(crate) const MOST_BUCKETS: u64 = 120;

const SECOND: u64 = 1_000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// Bucket lengths, shortest first; beyond the last, lengths double.
const LADDER: [u64; 13] = [
    SECOND,
    5 * SECOND,
    15 * SECOND,
    30 * SECOND,
    MINUTE,
    5 * MINUTE,
    15 * MINUTE,
    HOUR,
    3 * HOUR,
    6 * HOUR,
    DAY,
    7 * DAY,
    28 * DAY,
];

/// The period a run belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Period {
    Baseline = 0,
    Current = 1,
}

/// Both periods' runs by bucket start, in buckets of [`Timeline::bucket_ms`].
#[derive(Debug)]
pub(crate) struct Timeline {
    bucket_ms: u64,
    buckets: [BTreeMap<u64, Aggregate>; 2],
    first: Option<u64>,
    last: Option<u64>,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            bucket_ms: LADDER[0],
            buckets: [BTreeMap::new(), BTreeMap::new()],
            first: None,
            last: None,
        }
    }
}

impl Timeline {
    pub fn add(&mut self, period: Period, run: &FinishedRun) {
        let started = run.summary.started_ms();
        self.first = Some(self.first.map_or(started, |f| f.min(started)));
        self.last = Some(self.last.map_or(started, |l| l.max(started)));
        while self.span_buckets() > MOST_BUCKETS {
            self.coarsen();
        }
        let start = started / self.bucket_ms * self.bucket_ms;
        self.buckets[period as usize]
            .entry(start)
            .or_default()
            .add(run);
    }

    fn span_buckets(&self) -> u64 {
        match (self.first, self.last) {
            (Some(first), Some(last)) => last / self.bucket_ms - first / self.bucket_ms + 1,
            _ => 0,
        }
    }

    /// Moves to the next length of the ladder, merging buckets into the longer ones.
    fn coarsen(&mut self) {
        let next = LADDER
            .iter()
            .copied()
            .find(|len| *len > self.bucket_ms)
            .unwrap_or(self.bucket_ms.saturating_mul(2));
        self.bucket_ms = next;
        for buckets in &mut self.buckets {
            let old = std::mem::take(buckets);
            for (start, aggregate) in old {
                buckets
                    .entry(start / next * next)
                    .or_default()
                    .merge(&aggregate);
            }
        }
    }

    /// The length of every bucket, in milliseconds.
    pub fn bucket_ms(&self) -> u64 {
        self.bucket_ms
    }

    /// A period's buckets that hold runs, by start; empty buckets are not in it.
    pub fn buckets(&mut self, period: Period) -> &mut BTreeMap<u64, Aggregate> {
        &mut self.buckets[period as usize]
    }
}

/// The bucket length as a person says it: `1 minute`, `6 hours`, `7 days`.
pub(crate) fn length_text(ms: u64) -> String {
    let (n, unit) = if ms.is_multiple_of(DAY) {
        (ms / DAY, "day")
    } else if ms.is_multiple_of(HOUR) {
        (ms / HOUR, "hour")
    } else if ms.is_multiple_of(MINUTE) {
        (ms / MINUTE, "minute")
    } else {
        (ms / SECOND, "second")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::Collector;

    /// A run of one event, a stop, at `ts_ms`.
    fn run_at(id: u64, ts_ms: u64) -> FinishedRun {
        let stop = format!(
            r#"{{"run_id":"r{id}","kind":"stop","ts_ms":{ts_ms},"duration_ms":0,"stop_reason":"completed"}}"#
        );
        let event: tracing_agent::EventRecord = serde_json::from_str(&stop).unwrap();
        Collector::default()
            .add(&event)
            .expect("a stop completes its run")
    }

    #[test]
    fn buckets_grow_to_fit_the_span_and_keep_every_run() {
        let mut timeline = Timeline::default();
        // One run a minute for two hours: 120 one-minute buckets fit.
        for i in 0..120 {
            timeline.add(Period::Current, &run_at(i, i * MINUTE));
        }
        assert_eq!(timeline.bucket_ms(), MINUTE);
        assert_eq!(timeline.buckets(Period::Current).len(), 120);
        // A baseline run a day later: 1441 minutes, then 289 five-minute buckets, 97
        // quarters of an hour.
        timeline.add(Period::Baseline, &run_at(1000, DAY));
        assert_eq!(timeline.bucket_ms(), 15 * MINUTE);
        let current = timeline.buckets(Period::Current);
        assert_eq!(current.len(), 8);
        assert!(current.values().all(|a| a.runs == 15));
        assert_eq!(
            timeline
                .buckets(Period::Baseline)
                .keys()
                .collect::<Vec<_>>(),
            [&DAY]
        );
        // A run a year before: weeks, then four weeks, then doubling.
        timeline.add(Period::Current, &run_at(2000, 0));
        timeline.add(Period::Current, &run_at(2001, 400 * DAY));
        assert_eq!(timeline.bucket_ms(), 7 * DAY);
        let runs: u64 = timeline
            .buckets(Period::Current)
            .values()
            .map(|a| a.runs)
            .sum();
        assert_eq!(runs, 122);
    }

    #[test]
    fn lengths_read_as_words() {
        assert_eq!(length_text(SECOND), "1 second");
        assert_eq!(length_text(15 * SECOND), "15 seconds");
        assert_eq!(length_text(MINUTE), "1 minute");
        assert_eq!(length_text(15 * MINUTE), "15 minutes");
        assert_eq!(length_text(6 * HOUR), "6 hours");
        assert_eq!(length_text(7 * DAY), "7 days");
    }
}
