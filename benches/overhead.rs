//! What a tool call costs with `#[agent_tool]` + `AgentLayer`, side by side with what users
//! already run, every case in one run on the same arguments:
//!
//! ```sh
//! cargo bench --bench overhead            # everything, then a summary of the ratios
//! cargo bench --bench overhead -- hash/   # one group (the summary shows what ran)
//! ```
//!
//! Only ratios between cases of the same run mean anything: absolute times move with the
//! machine and with whatever else it is doing. The README's "Performance" section records
//! the figures.

use std::hint::black_box;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, Throughput};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tracing::Dispatch;
use tracing_agent::hash::{sha24, ArgsHasher};
use tracing_agent::{agent_tool, AgentLayer, Limits, Run, RunMeta, StopReason};
use tracing_bunyan_formatter::{BunyanFormattingLayer, JsonStorageLayer};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

// ---------------------------------------------------------------------------------------
// The tool: four parameters (two short strings, an integer, a list of two strings: about
// 100 bytes of canonical JSON) and a small struct result. The same body three times, so
// each case pays for its own instrumentation and nothing else.

const CUSTOMER: &str = "customer-4217@example.com";
const SUBJECT: &str = "Refund for order #8812";
const PRIORITY: u32 = 2;
const TAGS: [&str; 2] = ["billing", "refund"];

#[derive(Debug, Serialize)]
struct Ticket {
    id: u64,
    queue: &'static str,
    urgent: bool,
}

#[inline(always)]
fn open_ticket_body(customer: &str, subject: &str, priority: u32, tags: &[&str]) -> Ticket {
    Ticket {
        id: 90_210 + u64::from(priority) + (customer.len() + subject.len() + tags.len()) as u64,
        queue: "billing",
        urgent: priority > 3,
    }
}

#[agent_tool]
fn open_ticket(customer: &str, subject: &str, priority: u32, tags: &[&str]) -> Ticket {
    open_ticket_body(customer, subject, priority, tags)
}

#[tracing::instrument]
fn open_ticket_instrumented(customer: &str, subject: &str, priority: u32, tags: &[&str]) -> Ticket {
    open_ticket_body(customer, subject, priority, tags)
}

/// The arguments as one value, for the hash-only cases.
#[derive(Serialize)]
struct Args<'a> {
    customer: &'a str,
    priority: u32,
    subject: &'a str,
    tags: &'a [&'a str],
}

const ARGS: Args<'static> = Args {
    customer: CUSTOMER,
    priority: PRIORITY,
    subject: SUBJECT,
    tags: &TAGS,
};

fn call_agent_tool() -> Ticket {
    open_ticket(
        black_box(CUSTOMER),
        black_box(SUBJECT),
        black_box(PRIORITY),
        black_box(&TAGS),
    )
}

fn call_instrumented() -> Ticket {
    open_ticket_instrumented(
        black_box(CUSTOMER),
        black_box(SUBJECT),
        black_box(PRIORITY),
        black_box(&TAGS),
    )
}

/// What `#[agent_tool]` hashes, without anything else: the floor.
fn hash_args_and_result() -> (tracing_agent::hash::Sha24, tracing_agent::hash::Sha24) {
    let (customer, subject, priority, tags) = (
        black_box(CUSTOMER),
        black_box(SUBJECT),
        black_box(PRIORITY),
        black_box(&TAGS[..]),
    );
    let mut hasher = ArgsHasher::new();
    hasher.arg("customer", customer);
    hasher.arg("priority", &priority);
    hasher.arg("subject", subject);
    hasher.arg("tags", tags);
    let args = hasher.finish().expect("hashable");
    let result = open_ticket_body(customer, subject, priority, tags);
    (args, sha24(&result).expect("hashable"))
}

/// The obvious way to get the same bytes: a `serde_json::Value` (its map sorts keys), then
/// compact text, then SHA-256. Matches the reference only for values without floats or
/// non-ASCII escapes, which holds for these arguments. The hex step is the same table
/// lookup as ours, so the comparison is about canonical JSON and hashing, not formatting.
fn naive_sha24<T: Serialize>(value: &T) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let value = serde_json::to_value(value).expect("serializable");
    let text = serde_json::to_vec(&value).expect("serializable");
    let digest = Sha256::digest(&text);
    let mut hex = String::with_capacity(24);
    for byte in &digest[..12] {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    hex
}

// ---------------------------------------------------------------------------------------
// Subscribers. Each case installs its own for the duration of its measurement only, and
// the interest cache is rebuilt afterwards, so no case runs with another's callsite
// interest.

fn with_dispatch<T>(dispatch: Dispatch, f: impl FnOnce() -> T) -> T {
    let value = tracing::dispatcher::with_default(&dispatch, f);
    drop(dispatch);
    tracing::callsite::rebuild_interest_cache();
    value
}

fn agent_layer_to_sink() -> AgentLayer {
    AgentLayer::new().with_writer(io::sink)
}

fn fmt_to_sink<S>() -> tracing_subscriber::fmt::Layer<
    S,
    tracing_subscriber::fmt::format::DefaultFields,
    tracing_subscriber::fmt::format::Format,
    fn() -> io::Sink,
>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer().with_writer(io::sink as fn() -> io::Sink)
}

/// The span `#[instrument]` tools run in for the comparison cases: the counterpart of the
/// run's `invoke_agent` span, so every case formats one enclosing span.
fn parent_span() -> tracing::Span {
    tracing::info_span!(
        "invoke_agent",
        run_id = "0196b1c4-5d2e-7c3a-9f10-2b3c4d5e6f70"
    )
}

// ---------------------------------------------------------------------------------------
// 1-4: one tool call, fully recorded, against the alternatives and the floor.

fn tool_call(c: &mut Criterion) {
    let mut group = c.benchmark_group("tool_call");

    let subscriber = tracing_subscriber::registry().with(agent_layer_to_sink());
    with_dispatch(Dispatch::new(subscriber), || {
        let run = Run::start(RunMeta::new("bench-agent").model("m").prompt_version("v1"));
        run.in_scope(|| group.bench_function("agent_tool+AgentLayer", |b| b.iter(call_agent_tool)));
        run.stop(StopReason::Completed);
    });

    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(io::sink)
        .finish();
    with_dispatch(Dispatch::new(subscriber), || {
        parent_span().in_scope(|| {
            group.bench_function("instrument+fmt_json", |b| b.iter(call_instrumented))
        });
    });

    let subscriber = tracing_subscriber::registry()
        .with(JsonStorageLayer)
        .with(BunyanFormattingLayer::new("bench".to_owned(), io::sink));
    with_dispatch(Dispatch::new(subscriber), || {
        parent_span()
            .in_scope(|| group.bench_function("instrument+bunyan", |b| b.iter(call_instrumented)));
    });

    group.bench_function("floor_hash_only", |b| b.iter(hash_args_and_result));
    group.finish();
}

// 8: the same call under a run with every limit and loop detection on, against none.
// The limits are set so that nothing trips in millions of calls: the admission's work
// (kill-switch load, allow list, deadline, two reservations, the loop detector) is the
// same whatever the thresholds.
fn guards(c: &mut Criterion) {
    let mut group = c.benchmark_group("guards");
    let subscriber = tracing_subscriber::registry().with(agent_layer_to_sink());
    with_dispatch(Dispatch::new(subscriber), || {
        let run = Run::start(RunMeta::new("bench-agent"));
        run.in_scope(|| group.bench_function("no_limits", |b| b.iter(call_agent_tool)));
        run.stop(StopReason::Completed);
        let limits = Limits::new()
            .max_steps(u64::MAX)
            .max_tool_calls(u64::MAX)
            .max_tokens(u64::MAX)
            .max_spend_usd(1e12)
            .max_duration(Duration::from_secs(365 * 24 * 3600))
            .loop_repeats(u32::MAX)
            .allow_tools(["open_ticket", "crm.lookup", "send_email"]);
        let run = Run::start(RunMeta::new("bench-agent").limits(limits));
        run.in_scope(|| group.bench_function("all_limits", |b| b.iter(call_agent_tool)));
        let stopped = run.stop(StopReason::Completed);
        assert_eq!(
            stopped.stop_reason,
            StopReason::Completed,
            "nothing tripped"
        );
    });
    group.finish();
}

// 5: nothing listening. Measured under a dispatcher that enables nothing rather than
// under none at all: this build has `tracing`'s `log` feature (bunyan-formatter turns it
// on), which hands every disabled span to `log` until a dispatcher has been set. Users
// without that feature get, with no subscriber, exactly this: max level OFF, every span
// disabled at its level check.
fn disabled(c: &mut Criterion) {
    let nothing = tracing_subscriber::registry().with(tracing_subscriber::filter::LevelFilter::OFF);
    with_dispatch(Dispatch::new(nothing), || {
        let mut group = c.benchmark_group("disabled");
        group.bench_function("agent_tool", |b| b.iter(call_agent_tool));
        group.bench_function("instrument", |b| b.iter(call_instrumented));
        group.finish();
    });
}

// 6: the canonical hash against the naive route, on the same arguments.
fn hash(c: &mut Criterion) {
    // The comparison is only fair if both routes hash the same bytes.
    assert_eq!(sha24(&ARGS).expect("hashable").as_str(), naive_sha24(&ARGS));
    let mut group = c.benchmark_group("hash");
    group.bench_function("naive_to_value", |b| {
        b.iter(|| naive_sha24(black_box(&ARGS)))
    });
    group.bench_function("sha24_struct", |b| b.iter(|| sha24(black_box(&ARGS))));
    group.bench_function("args_hasher", |b| {
        b.iter(|| {
            let mut hasher = ArgsHasher::new();
            hasher.arg("customer", black_box(CUSTOMER));
            hasher.arg("priority", black_box(&PRIORITY));
            hasher.arg("subject", black_box(SUBJECT));
            hasher.arg("tags", black_box(&TAGS[..]));
            hasher.finish()
        })
    });
    group.finish();
}

// 7: the user's other logs, with and without `AgentLayer` beside them.
fn other_logs(c: &mut Criterion) {
    let mut group = c.benchmark_group("other_logs");
    let info = || tracing::info!(order = 8812, "refund approved");
    let debug = || tracing::debug!(order = 8812, "cache miss");

    let mut case = |name: &str, dispatch: Dispatch, log: &dyn Fn()| {
        with_dispatch(dispatch, || group.bench_function(name, |b| b.iter(log)));
    };

    // An enabled `info!` through the stock `fmt` layer.
    case(
        "info_fmt",
        Dispatch::new(tracing_subscriber::registry().with(fmt_to_sink())),
        &info,
    );
    case(
        "info_fmt+agent",
        Dispatch::new(
            tracing_subscriber::registry()
                .with(fmt_to_sink())
                .with(agent_layer_to_sink()),
        ),
        &info,
    );

    // A `debug!` a global `EnvFilter` turns off.
    let global = || {
        tracing_subscriber::registry()
            .with(EnvFilter::new("info"))
            .with(fmt_to_sink())
    };
    case("debug_off_global_filter", Dispatch::new(global()), &debug);
    case(
        "debug_off_global_filter+agent",
        Dispatch::new(global().with(agent_layer_to_sink())),
        &debug,
    );

    // The same, with the filter on the `fmt` layer only (the README's advice, so that
    // `AgentLayer` sees its spans whatever the user's filter says).
    let per_layer =
        || tracing_subscriber::registry().with(fmt_to_sink().with_filter(EnvFilter::new("info")));
    case("debug_off_layer_filter", Dispatch::new(per_layer()), &debug);
    case(
        "debug_off_layer_filter+agent",
        Dispatch::new(per_layer().with(agent_layer_to_sink())),
        &debug,
    );
    group.finish();
}

// ---------------------------------------------------------------------------------------
// Throughput through a file: one and two producer threads, each running its own run.
// Every sample builds a fresh sink and counts its time until every event is written out
// (for the background writer: until its guard has flushed), so queued events are never
// counted as done. New sinks go in `FILE_SINKS`.

/// A sink under test: the layer, plus whatever must be dropped to flush it.
type FileSink = fn(&Path) -> (AgentLayer, Box<dyn std::any::Any>);

const FILE_SINKS: [(&str, FileSink); 3] = [
    ("file_direct", |path| {
        // One `write` per event, on the calling thread.
        let file = std::fs::File::create(path).expect("create the bench file");
        (AgentLayer::new().with_writer(file), Box::new(()))
    }),
    ("file_non_blocking", |path| {
        // Written by a background thread; not lossy, so a full queue slows the producers
        // instead of dropping events that would then count as written.
        let file = std::fs::File::create(path).expect("create the bench file");
        let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
            .lossy(false)
            .finish(file);
        (AgentLayer::new().with_writer(writer), Box::new(guard))
    }),
    ("file_sink", |path| {
        // The configured file output: O_APPEND, its own background writer, lossless.
        let _ = std::fs::remove_file(path);
        let yaml = format!("logging:\n  events:\n    include: [step_id, tool, duration_ms, status, error, stop_reason, usage]\n  output:\n    to: file\n    path: {}\n", path.display());
        let (layer, guard) = AgentLayer::from_config_str(&yaml).expect("the file sink config");
        (
            layer.with_metrics(tracing_agent::metrics::Metrics::off()),
            Box::new(guard),
        )
    }),
];

fn produce(dispatch: &Dispatch, calls: u64) {
    tracing::dispatcher::with_default(dispatch, || {
        let run = Run::start(RunMeta::new("bench-agent"));
        run.in_scope(|| {
            for _ in 0..calls {
                black_box(call_agent_tool());
            }
        });
        run.stop(StopReason::Completed);
    });
}

fn throughput(c: &mut Criterion) {
    let path = bench_file();
    let mut group = c.benchmark_group("throughput");
    group.throughput(Throughput::Elements(1));
    for (sink, make) in FILE_SINKS {
        for threads in [1u64, 2] {
            group.bench_function(throughput_id(sink, threads), |b| {
                b.iter_custom(|iters| {
                    let (layer, flush) = make(&path);
                    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
                    let per_thread = iters.div_ceil(threads);
                    let start = Instant::now();
                    std::thread::scope(|scope| {
                        for _ in 0..threads {
                            scope.spawn(|| produce(&dispatch, per_thread));
                        }
                    });
                    drop(dispatch);
                    drop(flush);
                    // Time per event written, whatever rounding up per thread added.
                    start
                        .elapsed()
                        .mul_f64(iters as f64 / (per_thread * threads) as f64)
                })
            });
        }
    }
    group.finish();
    let _ = std::fs::remove_file(&path);
}

/// `/` would become `_` in criterion's directory names, which the summary reads.
fn throughput_id(sink: &str, threads: u64) -> String {
    format!(
        "{sink}_{threads}_thread{}",
        if threads > 1 { "s" } else { "" }
    )
}

fn bench_file() -> PathBuf {
    std::env::temp_dir().join(format!("tracing-agent-bench-{}.jsonl", std::process::id()))
}

// ---------------------------------------------------------------------------------------
// The summary: ratios between cases measured in this process (criterion's mean estimates).

struct Estimates {
    dir: PathBuf,
    since: SystemTime,
}

impl Estimates {
    /// The median time in ns of `id` (the median, because other work on a shared machine
    /// shows up as outliers), if it was measured by this process.
    fn median(&self, id: &str) -> Option<f64> {
        let path = self.dir.join(id).join("new/estimates.json");
        let fresh = std::fs::metadata(&path).and_then(|m| m.modified()).ok()? >= self.since;
        if !fresh {
            return None;
        }
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        json["median"]["point_estimate"].as_f64()
    }
}

fn summary(estimates: &Estimates) {
    let ratio = |label: &str, ours: &str, theirs: &str, target: &str| {
        let (Some(a), Some(b)) = (estimates.median(ours), estimates.median(theirs)) else {
            return;
        };
        println!(
            "  {label:<44} {:>7.3}x  ({a:>9.1} ns / {b:>9.1} ns)  target {target}",
            a / b
        );
    };
    println!("\nsummary (ratios of median times, this run):");
    ratio(
        "1/2 agent_tool vs instrument+fmt json",
        "tool_call/agent_tool+AgentLayer",
        "tool_call/instrument+fmt_json",
        "<= 0.25x",
    );
    ratio(
        "1/3 agent_tool vs instrument+bunyan",
        "tool_call/agent_tool+AgentLayer",
        "tool_call/instrument+bunyan",
        "<= 0.45x",
    );
    ratio(
        "1/4 agent_tool vs floor (hash only)",
        "tool_call/agent_tool+AgentLayer",
        "tool_call/floor_hash_only",
        "<= 3x",
    );
    ratio(
        "5   disabled: agent_tool vs instrument",
        "disabled/agent_tool",
        "disabled/instrument",
        "<= 2x",
    );
    ratio(
        "6   naive vs sha24 (struct)",
        "hash/naive_to_value",
        "hash/sha24_struct",
        ">= 3x",
    );
    ratio(
        "6   naive vs ArgsHasher (#[agent_tool]'s)",
        "hash/naive_to_value",
        "hash/args_hasher",
        ">= 3x",
    );
    ratio(
        "7   info! via fmt: with / without agent",
        "other_logs/info_fmt+agent",
        "other_logs/info_fmt",
        "<= 1.10x",
    );
    ratio(
        "7   debug! off, global filter: with / without",
        "other_logs/debug_off_global_filter+agent",
        "other_logs/debug_off_global_filter",
        "<= 1.10x",
    );
    ratio(
        "7   debug! off, layer filter: with / without",
        "other_logs/debug_off_layer_filter+agent",
        "other_logs/debug_off_layer_filter",
        "<= 1.10x",
    );
    ratio(
        "8   guards: all limits on / none",
        "guards/all_limits",
        "guards/no_limits",
        "<= 1.10x",
    );
    for (sink, _) in FILE_SINKS {
        let one = estimates.median(&format!("throughput/{}", throughput_id(sink, 1)));
        let two = estimates.median(&format!("throughput/{}", throughput_id(sink, 2)));
        if let (Some(one), Some(two)) = (one, two) {
            println!(
                "  throughput {sink:<20} 1 thread {:>9.0} events/s, 2 threads {:>9.0} events/s",
                1e9 / one,
                1e9 / two
            );
        }
    }
}

fn main() {
    let since = SystemTime::now();
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    for bench in [tool_call, disabled, hash, other_logs, guards, throughput] {
        bench(&mut criterion);
    }
    criterion.final_summary();
    summary(&Estimates {
        dir: criterion_dir(),
        since,
    });
}

/// Where criterion writes its estimates (its own rule: `CRITERION_HOME`, else the target
/// directory's `criterion/`).
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("criterion")
}
