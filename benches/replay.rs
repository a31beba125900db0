//! What recording tool outcomes for replay costs:
//!
//! - `record/off` and `record/on`: the same `#[agent_tool]` call (four parameters, a
//!   ~100-byte result) under an `AgentLayer` writing to `io::sink()`, without and with a
//!   snapshot store. Only the calling thread is timed: the store write happens on the
//!   recorder's thread. The result is the same every call, so after the first write
//!   the recorder skips it (identical outcomes are stored once; the summary counts the
//!   files).
//! - `store/put_1_producer`, `store/put_2_producers`: snapshots per second into a store
//!   on the target directory's disk (each a new content: temporary file, fsync, rename,
//!   directory fsync).
//!
//! ```sh
//! cargo bench --bench replay
//! ```
//!
//! Only ratios between cases of one run mean anything. The README's "Performance" section
//! records the figures.

use std::hint::black_box;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use serde::{Deserialize, Serialize};
use tracing::Dispatch;
use tracing_agent::replay::SnapshotStore;
use tracing_agent::{agent_tool, AgentLayer, Run, RunMeta, StopReason};
use tracing_subscriber::prelude::*;

const CUSTOMER: &str = "customer-4217@example.com";
const SUBJECT: &str = "Refund for order #8812";
const TAGS: [&str; 2] = ["billing", "refund"];

#[derive(Debug, Serialize, Deserialize)]
struct Ticket {
    id: u64,
    queue: String,
    urgent: bool,
    customer: String,
    subject: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Never;

#[agent_tool]
fn open_ticket(
    customer: &str,
    subject: &str,
    priority: u32,
    tags: &[&str],
) -> Result<Ticket, Never> {
    Ok(Ticket {
        id: 8812,
        queue: tags.first().copied().unwrap_or("general").to_owned(),
        urgent: priority < 2,
        customer: customer.to_owned(),
        subject: subject.to_owned(),
    })
}

fn call() -> Result<Ticket, Never> {
    open_ticket(
        black_box(CUSTOMER),
        black_box(SUBJECT),
        black_box(2),
        black_box(&TAGS),
    )
}

fn bench_dir(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("bench-replay").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn in_run(layer: AgentLayer, f: impl FnOnce()) {
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        let run = Run::start(RunMeta::new("bench-agent"));
        run.in_scope(f);
        run.stop(StopReason::Completed);
    });
    drop(dispatch);
    tracing::callsite::rebuild_interest_cache();
}

fn count_files(store: &SnapshotStore) -> usize {
    std::fs::read_dir(store.root().join("v1/sha256"))
        .map(|shards| {
            shards
                .flatten()
                .map(|shard| std::fs::read_dir(shard.path()).map_or(0, |f| f.count()))
                .sum()
        })
        .unwrap_or(0)
}

fn record(c: &mut Criterion) {
    let mut group = c.benchmark_group("record");
    in_run(AgentLayer::new().with_writer(io::sink), || {
        group.bench_function("off", |b| b.iter(call));
    });
    let store = SnapshotStore::open(bench_dir("record")).expect("the bench store opens");
    in_run(
        AgentLayer::new()
            .with_writer(io::sink)
            .with_snapshots(store.clone()),
        || {
            group.bench_function("on", |b| b.iter(call));
        },
    );
    group.finish();
    assert!(store.flush(Duration::from_secs(30)));
    println!(
        "record/on: {} snapshot file(s) for every identical outcome recorded, {} lost",
        count_files(&store),
        store.lost()
    );
}

fn store_throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("store");
    group.sample_size(10);
    const PER_ITERATION: u64 = 32;
    group.throughput(Throughput::Elements(PER_ITERATION));
    let next = AtomicU64::new(0);
    for producers in [1u64, 2] {
        let store = SnapshotStore::open(bench_dir(&format!("put{producers}"))).unwrap();
        let id = if producers == 1 {
            "put_1_producer"
        } else {
            "put_2_producers"
        };
        group.bench_function(id, |b| {
            b.iter_custom(|iterations| {
                let started = Instant::now();
                for _ in 0..iterations {
                    std::thread::scope(|scope| {
                        for _ in 0..producers {
                            scope.spawn(|| {
                                for _ in 0..PER_ITERATION / producers {
                                    let n = next.fetch_add(1, Ordering::Relaxed);
                                    let content = format!(
                                        r#"{{"customer":"{CUSTOMER}","id":{n},"queue":"billing","subject":"{SUBJECT}","urgent":false}}"#
                                    );
                                    store.put(content.as_bytes()).expect("put");
                                }
                            });
                        }
                    });
                }
                started.elapsed()
            });
        });
    }
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    record(&mut criterion);
    store_throughput(&mut criterion);
    criterion.final_summary();
    let _ = std::fs::remove_dir_all(bench_dir(""));
}
