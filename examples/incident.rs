//! The seed's incident, reproduced: a support agent whose `http.get` starts answering
//! intermittent 429s and 503s, while its tool layer retries up to 8 times instead of 2, both
//! without jitter, and the agent answers each failure it sees with a new query.
//!
//! ```text
//! cargo run --release --example incident -- --out DIR [--seed N] [--spread-days D]
//! ```
//!
//! It drives the real library (`#[agent_tool]`, `AgentLayer`, the `to: file` output) and
//! writes two logs:
//!
//! - `DIR/baseline.jsonl`: 500 runs before the incident: `http.get` retried at most 2 times
//!   with a fixed delay, errors rare;
//! - `DIR/incident.jsonl`: 500 runs during it: 60 % of `http.get` attempts fail
//!   (`RateLimited` for a 429, `Unavailable` for a 503), retried at most 8 times with the
//!   same fixed delay, and after a call that saw a failure the agent usually searches
//!   again and fetches another page (up to 4 times a run).
//!
//! Time is compressed: one second of the story lasts 40 ms here, so the whole example runs in
//! a few seconds. Its numbers land where the seed's do: tool calls per run about 4.3 before
//! and 11.7 during, run latency p95 about 4 times higher, spend per run about twice, and
//! 91 % of runs `completed` in both logs (their stop reasons are dealt in exact shares, not
//! caused).
//!
//! A retried attempt is its own `#[agent_tool]` call with the same arguments, so in the log
//! a retry is a call of the same tool with the same `args_sha` right after a failed one.
//! The library's own `Run::retry` draws its delays with full jitter, which is the fix; this
//! example deliberately loops by hand with a fixed delay, as the team in the seed did.
//!
//! With `--spread-days D` (8 to 90) it also writes, for dashboards and SQL alerts over a
//! time range:
//!
//! - `DIR/spread.jsonl`: more runs of both kinds, re-timed onto the `D` days (`D * 24` full hours)
//!   before the current hour (UTC): every event of a run is shifted by one offset, so the
//!   run's internal timing is kept and it starts at a minute of its hour. Runs are dealt
//!   to hours by their tool calls like cards, so each hour gets a fair mix. Every hour holds
//!   4 to 6 runs that behave as the baseline, except 12 consecutive incident hours of 6
//!   incident runs each, 40 to 51 hours before the current one: inside the last 7 days, far (3 hours or more) from
//!   now and from the 7-day and 14-day boundaries.
//! - `DIR/incident_hours.json`: those 12 hours, a JSON array of UTC hour starts
//!   `"YYYY-MM-DDTHH:00:00Z"`: exactly the hours in which the seed's SQL alert
//!   (`avg(tool_calls)` per hour over the last 7 days above twice the average of 14 to 7
//!   days ago) fires. The example checks that on what it wrote, and fails if not.
//!
//! The logs are deterministic in their structure for a given `--seed` (default 1); the
//! durations are measured, so they vary a little from one run of the example to the next.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tracing_agent::{agent_tool, AgentLayer, ErrorClass, LlmUsage, Run, RunMeta, StopReason};
use tracing_subscriber::prelude::*;

const USAGE: &str = "usage: incident --out DIR [--seed N] [--spread-days D]";

/// Runs in each of `baseline.jsonl` and `incident.jsonl`.
const RUNS_PER_LOG: u64 = 500;

/// How long one second of the story lasts here.
const STORY_SECOND: Duration = Duration::from_millis(40);

/// Runs in flight at once (one thread; they mostly sleep).
const IN_FLIGHT: usize = 64;

/// The incident hours of `spread.jsonl`: this many hours before the current one.
const INCIDENT_HOURS_AGO: std::ops::RangeInclusive<u64> = 40..=51;

const HOUR_MS: u64 = 3_600_000;
const DAY_HOURS: u64 = 24;

struct Args {
    out: PathBuf,
    seed: u64,
    spread_days: Option<u64>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut out, mut seed, mut spread_days) = (None, 1, None);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name}: a value is missing"));
        match arg.as_str() {
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--seed" => {
                let text = value("--seed")?;
                seed = text
                    .parse()
                    .map_err(|_| format!("--seed: {text:?} is not a whole number"))?;
            }
            "--spread-days" => {
                let text = value("--spread-days")?;
                let days: u64 = text
                    .parse()
                    .map_err(|_| format!("--spread-days: {text:?} is not a whole number"))?;
                if !(8..=90).contains(&days) {
                    return Err(format!(
                        "--spread-days: {days} is outside 8..=90 (the alert compares the last \
                         7 days with the 7 before)"
                    ));
                }
                spread_days = Some(days);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        out: out.ok_or("--out is required")?,
        seed,
        spread_days,
    })
}

#[derive(Debug, ErrorClass)]
enum HttpError {
    /// The upstream answered 429.
    RateLimited,
    /// The upstream answered 503.
    Unavailable,
}

/// A source of deterministic variety: xorshift64.
struct Dice(u64);

impl Dice {
    fn new(seed: u64) -> Self {
        let mut dice = Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        dice.next();
        dice
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `low..=high`.
    fn roll(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// A story duration in `low..=high` seconds, in milliseconds of the story.
    fn story_ms(&mut self, low: f64, high: f64) -> u64 {
        self.roll((low * 1000.0) as u64, (high * 1000.0) as u64)
    }
}

/// Sleeps for `story_ms` milliseconds of the story.
async fn pass(story_ms: u64) {
    tokio::time::sleep(STORY_SECOND * story_ms as u32 / 1000).await;
}

/// What the simulated upstream does on one call; not an argument of the tool's contract,
/// so it is left out of `args_sha` (`skip`).
struct Upstream {
    story_ms: u64,
    failure: Option<HttpError>,
}

#[agent_tool(name = "kb.search", skip(story_ms))]
async fn search(query: String, story_ms: u64) -> Vec<String> {
    pass(story_ms).await;
    vec![format!("https://kb.example/articles/{}", query.len())]
}

#[agent_tool(name = "crm.lookup", skip(story_ms))]
async fn lookup(customer_id: u64, story_ms: u64) -> u64 {
    pass(story_ms).await;
    customer_id
}

#[agent_tool(name = "http.get", skip(upstream))]
async fn http_get(url: String, upstream: Upstream) -> Result<String, HttpError> {
    pass(upstream.story_ms).await;
    match upstream.failure {
        Some(error) => Err(error),
        None => Ok(format!("200 OK from {url}")),
    }
}

/// The behaviour of one period.
struct Period {
    /// Attempts of one `http.get` call, the first included.
    attempts: u32,
    /// The chance that one attempt fails.
    failure_rate: f64,
    /// The chance that, after a call that saw a failure, the agent searches again.
    requery_rate: f64,
    /// New queries at most, per run.
    max_requeries: u32,
    /// Stop reasons other than `completed`, in percent of runs.
    other_stops: [(u64, StopReason); 4],
}

const BASELINE: Period = Period {
    attempts: 3,
    failure_rate: 0.03,
    requery_rate: 0.8,
    max_requeries: 4,
    other_stops: [
        (3, StopReason::ToolError),
        (2, StopReason::MaxSteps),
        (2, StopReason::ToolTimeout),
        (2, StopReason::LoopDetected),
    ],
};

const INCIDENT: Period = Period {
    attempts: 9,
    failure_rate: 0.6,
    requery_rate: 0.8,
    max_requeries: 4,
    other_stops: [
        (4, StopReason::ToolTimeout),
        (3, StopReason::LoopDetected),
        (1, StopReason::MaxToolCalls),
        (1, StopReason::ToolError),
    ],
};

/// The fixed wait between two attempts: no jitter, so every client retries in step.
const RETRY_DELAY_STORY_MS: u64 = 120;

/// One run's state of mind: its dice and how many failures it has seen.
struct Agent {
    dice: Dice,
    failures_seen: u64,
}

impl Agent {
    /// An LLM call; its prompt grows with every failure the model has to explain.
    async fn think(&mut self) {
        let started = Instant::now();
        pass(self.dice.story_ms(0.15, 0.45)).await;
        let input = self.dice.roll(700, 2200) + 150 * self.failures_seen.min(8);
        let output = self.dice.roll(60, 350);
        let spend = (input as f64 * 2.5 + output as f64 * 10.0) / 1_000_000.0;
        tracing_agent::record_llm(
            LlmUsage::new("gpt-4o-2024-08-06", input, output)
                .spend_usd(spend)
                .duration(started.elapsed()),
        );
    }

    async fn search(&mut self, query: String) -> Vec<String> {
        let story_ms = self.dice.story_ms(0.03, 0.12);
        search(query, story_ms).await
    }

    /// `http.get` through the tool layer's retries: the same call again after a fixed
    /// delay, at most `period.attempts` times. Returns how many attempts failed.
    async fn fetch(&mut self, url: &str, period: &Period) -> u32 {
        let mut failed = 0;
        for attempt in 1..=period.attempts {
            let upstream = if self.dice.chance(period.failure_rate) {
                let failure = if self.dice.chance(0.6) {
                    HttpError::RateLimited
                } else {
                    HttpError::Unavailable
                };
                Upstream {
                    story_ms: self.dice.story_ms(0.05, 0.2),
                    failure: Some(failure),
                }
            } else {
                Upstream {
                    story_ms: self.dice.story_ms(0.1, 0.35),
                    failure: None,
                }
            };
            if http_get(url.to_owned(), upstream).await.is_ok() {
                break;
            }
            failed += 1;
            self.failures_seen += 1;
            if attempt < period.attempts {
                pass(RETRY_DELAY_STORY_MS).await;
            }
        }
        failed
    }
}

async fn one_run(number: u64, seed: u64, period: &'static Period) {
    let mut agent = Agent {
        dice: Dice::new(seed),
        failures_seen: 0,
    };
    let run = Run::start(
        RunMeta::new("support-agent")
            .model("gpt-4o-2024-08-06")
            .prompt_version("v12")
            .tools_version("2024-10-01"),
    );
    let topics = [1, 1, 2, 2, 2, 3][agent.dice.roll(0, 5) as usize];
    let lookup = agent.dice.chance(0.5);
    // Runs 0..100, 100..200, ... each hold the stop reasons in their exact shares.
    let stop_roll = number * 37 % 100 + 1;
    run.instrument(async {
        agent.think().await;
        let mut requeries = 0;
        for topic in 0..topics {
            let mut query = format!("order {topic} status");
            loop {
                let pages = agent.search(query.clone()).await;
                let failed = agent.fetch(&pages[0], period).await;
                let requery = failed > 0
                    && requeries < period.max_requeries
                    && agent.dice.chance(period.requery_rate);
                if !requery {
                    break;
                }
                requeries += 1;
                agent.think().await;
                query = format!("{query} (rephrased {requeries})");
            }
        }
        if lookup {
            let story_ms = agent.dice.story_ms(0.02, 0.08);
            self::lookup(4217, story_ms).await;
        }
        agent.think().await;
    })
    .await;
    let mut threshold = 0;
    let mut reason = StopReason::Completed;
    for (percent, other) in &period.other_stops {
        threshold += *percent;
        if stop_roll <= threshold {
            reason = other.clone();
            break;
        }
    }
    run.stop(reason);
}

/// Writes `runs` runs of `period` to `path`, through an `AgentLayer` with the file output.
fn write_log(path: &Path, period: &'static Period, runs: u64, seed: u64) -> Result<(), String> {
    let yaml = format!(
        "logging:\n  events:\n    include: [run_id, step_id, tool, duration_ms, status, error, stop_reason, usage]\n  output:\n    to: file\n    path: {}\n",
        serde_json::to_string(&path.display().to_string()).expect("a string serializes")
    );
    let (layer, guard) = AgentLayer::from_config_str(&yaml).map_err(|e| e.to_string())?;
    let subscriber = tracing_subscriber::registry().with(layer);
    let _default = tracing::subscriber::set_default(subscriber);
    // One thread: the runs mostly sleep, and the subscriber is this thread's default.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(async {
        let mut in_flight = tokio::task::JoinSet::new();
        for number in 0..runs {
            if in_flight.len() >= IN_FLIGHT {
                in_flight.join_next().await;
            }
            in_flight.spawn(one_run(
                number,
                seed.wrapping_mul(1_000_003).wrapping_add(number),
                period,
            ));
        }
        while in_flight.join_next().await.is_some() {}
    });
    guard
        .flush(Duration::from_secs(30))
        .map_err(|e| format!("{}: {e:?}", path.display()))?;
    Ok(())
}

/// One run's lines as written, and when it started.
struct RunLines {
    started_ms: u64,
    tool_calls: u64,
    lines: Vec<String>,
}

/// Reads a log this example wrote, run by run, in the order the runs started.
fn runs_of(path: &Path) -> Result<Vec<RunLines>, String> {
    let file = fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut runs: BTreeMap<String, RunLines> = BTreeMap::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
        let event: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| format!("{}: {e}", path.display()))?;
        let run_id = event["run_id"].as_str().unwrap_or_default().to_owned();
        let ts_ms = event["ts_ms"].as_u64().unwrap_or_default();
        let run = runs.entry(run_id).or_insert(RunLines {
            started_ms: ts_ms,
            tool_calls: 0,
            lines: Vec::new(),
        });
        run.started_ms = run.started_ms.min(ts_ms);
        if event["kind"] == "stop" {
            run.tool_calls = event["usage"]["tool_calls"].as_u64().unwrap_or_default();
        }
        run.lines.push(line);
    }
    let mut runs: Vec<RunLines> = runs.into_values().collect();
    runs.sort_by_key(|run| run.started_ms);
    Ok(runs)
}

/// Deals `runs` to `slots` (hours ago, runs in that hour) like cards, sorted by tool calls
/// and in snake order, so every hour gets a fair share of short and long runs and no hour
/// of the baseline crosses the alert's threshold by the luck of the draw.
fn deal(mut runs: Vec<RunLines>, slots: &[&(u64, u64)]) -> Vec<(u64, RunLines)> {
    runs.sort_by_key(|run| run.tool_calls);
    let mut runs = runs.into_iter();
    let mut dealt = Vec::new();
    let rounds = slots.iter().map(|(_, count)| *count).max().unwrap_or(0);
    for round in 0..rounds {
        let order: Vec<&&(u64, u64)> = if round % 2 == 0 {
            slots.iter().collect()
        } else {
            slots.iter().rev().collect()
        };
        for &&(ago, count) in order {
            if round < count {
                if let Some(run) = runs.next() {
                    dealt.push((ago, run));
                }
            }
        }
    }
    dealt
}

/// `line` with its `"ts_ms":N` moved by `shift_ms`. The library writes that key once, as
/// a plain integer, so the rest of the line stays byte for byte as written.
fn shifted(line: &str, shift_ms: i64) -> String {
    const KEY: &str = "\"ts_ms\":";
    let Some(at) = line.find(KEY) else {
        return line.to_owned();
    };
    let digits_at = at + KEY.len();
    let digits = line[digits_at..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    let ts: i64 = line[digits_at..digits_at + digits].parse().unwrap_or(0);
    format!(
        "{}{}{}",
        &line[..digits_at],
        ts + shift_ms,
        &line[digits_at + digits..]
    )
}

/// `YYYY-MM-DDTHH:00:00Z` of an hour start given in Unix milliseconds.
fn hour_label(ms: u64) -> String {
    let hours = ms / HOUR_MS;
    let days = (hours / DAY_HOURS) as i64;
    // Howard Hinnant's days-to-civil: no date crate for one conversion.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:00:00Z",
        hours % DAY_HOURS
    )
}

/// Writes `spread.jsonl` and `incident_hours.json` (see the module's doc).
fn write_spread(out: &Path, days: u64, seed: u64) -> Result<(), String> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_millis() as u64;
    let current_hour = now_ms / HOUR_MS * HOUR_MS;
    let hours_ago = 1..=days * DAY_HOURS;
    // Incident hours hold the same number of runs each, so dealing gives each the same mix.
    let runs_in = |ago: u64| {
        if INCIDENT_HOURS_AGO.contains(&ago) {
            6
        } else {
            4 + ago % 3
        }
    };
    let (mut baseline_runs, mut incident_runs) = (0, 0);
    for ago in hours_ago.clone() {
        if INCIDENT_HOURS_AGO.contains(&ago) {
            incident_runs += runs_in(ago);
        } else {
            baseline_runs += runs_in(ago);
        }
    }
    let raw_baseline = out.join(".spread-baseline.raw.jsonl");
    let raw_incident = out.join(".spread-incident.raw.jsonl");
    write_log(&raw_baseline, &BASELINE, baseline_runs, seed ^ 0x5EED_0001)?;
    write_log(&raw_incident, &INCIDENT, incident_runs, seed ^ 0x5EED_0002)?;
    let hours: Vec<(u64, u64)> = hours_ago.rev().map(|ago| (ago, runs_in(ago))).collect();
    let (incident_slots, baseline_slots): (Vec<_>, Vec<_>) = hours
        .iter()
        .partition(|(ago, _)| INCIDENT_HOURS_AGO.contains(ago));
    let mut dealt = deal(runs_of(&raw_baseline)?, &baseline_slots);
    dealt.append(&mut deal(runs_of(&raw_incident)?, &incident_slots));
    fs::remove_file(&raw_baseline).map_err(|e| e.to_string())?;
    fs::remove_file(&raw_incident).map_err(|e| e.to_string())?;

    let path = out.join("spread.jsonl");
    let file = fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut spread = BufWriter::new(file);
    let mut dice = Dice::new(seed ^ 0x5EED_0003);
    // Hour start -> tool calls of its runs, to check the alert fires exactly where meant.
    let mut tool_calls: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    let incident_hours: BTreeSet<u64> = incident_slots
        .iter()
        .map(|(ago, _)| current_hour - ago * HOUR_MS)
        .collect();
    dealt.sort_by_key(|(ago, _)| std::cmp::Reverse(*ago));
    for (ago, run) in dealt {
        let hour = current_hour - ago * HOUR_MS;
        // Start between minute 1 and minute 58: a run of a few seconds stays in its hour.
        let start = hour + dice.roll(60_000, 58 * 60_000);
        let shift = start as i64 - run.started_ms as i64;
        for line in &run.lines {
            writeln!(spread, "{}", shifted(line, shift))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        tool_calls.entry(hour).or_default().push(run.tool_calls);
    }
    spread
        .flush()
        .map_err(|e| format!("{}: {e}", path.display()))?;

    // The seed's alert, evaluated on what was written, with "now" at the current hour
    // plus the margin of 3 hours the incident keeps from every boundary.
    let week_ago = current_hour - 7 * DAY_HOURS * HOUR_MS;
    let two_weeks_ago = current_hour - 14 * DAY_HOURS * HOUR_MS;
    let earlier: Vec<u64> = tool_calls
        .range(two_weeks_ago..week_ago)
        .flat_map(|(_, calls)| calls.iter().copied())
        .collect();
    let baseline_mean = earlier.iter().sum::<u64>() as f64 / earlier.len() as f64;
    let firing: BTreeSet<u64> = tool_calls
        .range(week_ago..)
        .filter(|(_, calls)| {
            calls.iter().sum::<u64>() as f64 / calls.len() as f64 > 2.0 * baseline_mean
        })
        .map(|(hour, _)| *hour)
        .collect();
    if firing != incident_hours {
        return Err(format!(
            "spread.jsonl: the alert would fire in {} hours, not in the {} incident hours; \
             try another --seed",
            firing.len(),
            incident_hours.len()
        ));
    }
    let labels: Vec<String> = incident_hours.iter().map(|&h| hour_label(h)).collect();
    let hours_path = out.join("incident_hours.json");
    fs::write(
        &hours_path,
        serde_json::to_string_pretty(&labels).expect("strings serialize") + "\n",
    )
    .map_err(|e| format!("{}: {e}", hours_path.display()))
}

/// Writes the logs into `out` (see the module's doc); `tests/incident.rs` calls it too.
pub(crate) fn write_logs(out: &Path, seed: u64, spread_days: Option<u64>) -> Result<(), String> {
    let args = Args {
        out: out.to_owned(),
        seed,
        spread_days,
    };
    fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    for name in ["baseline.jsonl", "incident.jsonl", "spread.jsonl"] {
        // The file output appends; a second run of the example starts afresh.
        let _ = fs::remove_file(args.out.join(name));
    }
    write_log(
        &args.out.join("baseline.jsonl"),
        &BASELINE,
        RUNS_PER_LOG,
        args.seed,
    )?;
    write_log(
        &args.out.join("incident.jsonl"),
        &INCIDENT,
        RUNS_PER_LOG,
        args.seed ^ 0xBAD,
    )?;
    if let Some(days) = args.spread_days {
        write_spread(&args.out, days, args.seed)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(error) => {
            eprintln!("incident: {error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match write_logs(&args.out, args.seed, args.spread_days) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("incident: {error}");
            ExitCode::FAILURE
        }
    }
}
