//! Rows per second of `tracing-agent export`, each target beside `runs --json` on the
//! same log (reading and summing up the runs, which every export of agent_runs does too):
//!
//! ```sh
//! cargo bench -p tracing-agent-cli --bench export
//! ```
//!
//! The PostgreSQL cases run when PostgreSQL is installed (a throwaway cluster, as the
//! tests start one). Only ratios between cases of the same run mean anything; the
//! README's "Performance" section records the figures.

// The tests' cluster, and the one thing of the tests' common module it uses.
#[path = "../tests/pg_cluster/mod.rs"]
mod pg_cluster;
mod common {
    pub fn skip(why: &str) {
        eprintln!("SKIPPED the PostgreSQL cases: {why}");
    }
}

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use clap::Parser;
use criterion::{Criterion, Throughput};
use tracing_agent_cli::Cli;

/// Runs in the log, and events per run.
const RUNS: u64 = 20_000;
const EVENTS_PER_RUN: u64 = 6;

/// A log of `RUNS` runs: run_start, two LLM calls, two tool calls (one failed), stop.
fn write_log(path: &Path) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for n in 0..RUNS {
        let run = format!("0193a5e0-{n:08}-7b11-9d2e-5f6a7b8c9d01");
        let ts = 1_732_442_400_000 + n * 1_000;
        writeln!(out, r#"{{"run_id":"{run}","kind":"run_start","ts_ms":{ts},"step_id":null,"tool":null,"args_sha":null,"duration_ms":null,"status":null,"error":null,"stop_reason":null,"usage":null,"meta":{{"agent":"support-agent","model":"gpt-4o-2024-08-06","prompt_version":"v12","tools_version":"2024-10-01","parent_run_id":null,"schema_version":1}}}}"#).unwrap();
        for step in [1, 3] {
            writeln!(out, r#"{{"run_id":"{run}","kind":"llm_result","ts_ms":{},"step_id":{step},"tool":null,"args_sha":null,"duration_ms":850,"status":null,"error":null,"stop_reason":null,"usage":{{"input_tokens":1200,"output_tokens":350,"spend_usd":0.0042}},"model":"gpt-4o-2024-08-06"}}"#, ts + step * 100).unwrap();
        }
        writeln!(out, r#"{{"run_id":"{run}","kind":"tool_result","ts_ms":{},"step_id":2,"tool":"crm.lookup","args_sha":"b2cd4705677b6b5311a4b635","duration_ms":120,"status":"ok","error":null,"stop_reason":null,"usage":null,"result_sha":"e1b8d605404dcf1bb38102d0"}}"#, ts + 250).unwrap();
        writeln!(out, r#"{{"run_id":"{run}","kind":"tool_result","ts_ms":{},"step_id":4,"tool":"http.get","args_sha":"50ef56df9e4f1d438129bfa5","duration_ms":210,"status":"error","error":"RateLimited","stop_reason":null,"usage":null}}"#, ts + 450).unwrap();
        writeln!(out, r#"{{"run_id":"{run}","kind":"stop","ts_ms":{},"step_id":null,"tool":null,"args_sha":null,"duration_ms":500,"status":null,"error":null,"stop_reason":"completed","usage":{{"steps":4,"tool_calls":2,"tool_errors":1,"llm_calls":2,"input_tokens":2400,"output_tokens":700,"spend_usd":0.0084}}}}"#, ts + 500).unwrap();
    }
    out.flush().unwrap();
}

/// Runs `tracing-agent ARGS` in-process; panics unless it succeeds.
fn cli(args: &[&str]) {
    let cli =
        Cli::try_parse_from(std::iter::once("tracing-agent").chain(args.iter().copied())).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli.command.run(&mut out, &mut err);
    assert_eq!(
        code,
        std::process::ExitCode::SUCCESS,
        "{}",
        String::from_utf8_lossy(&err)
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bench.log");
    write_log(&log);
    let log = log.to_str().unwrap();
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let (runs_parquet, runs_csv, events_parquet, events_csv) = (
        out("runs.parquet"),
        out("runs.csv"),
        out("events.parquet"),
        out("events.csv"),
    );
    let cluster = pg_cluster::PgCluster::start();
    let url = cluster.as_ref().map(|c| c.admin_url("postgres"));

    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8))
        .configure_from_args();

    let mut runs = criterion.benchmark_group("export/runs");
    runs.throughput(Throughput::Elements(RUNS));
    runs.bench_function("runs --json (reading alone)", |b| {
        b.iter(|| cli(&["runs", "--json", log]))
    });
    runs.bench_function("parquet", |b| {
        b.iter(|| cli(&["export", log, "--to", &runs_parquet, "--force"]))
    });
    runs.bench_function("csv", |b| {
        b.iter(|| cli(&["export", log, "--to", &runs_csv, "--force"]))
    });
    if let Some(url) = &url {
        runs.bench_function("postgres", |b| {
            b.iter(|| cli(&["export", log, "--to", url]))
        });
    }
    runs.finish();

    let mut events = criterion.benchmark_group("export/events");
    events.throughput(Throughput::Elements(RUNS * EVENTS_PER_RUN));
    events.bench_function("parquet", |b| {
        b.iter(|| {
            cli(&[
                "export",
                log,
                "--table",
                "events",
                "--to",
                &events_parquet,
                "--force",
            ])
        })
    });
    events.bench_function("csv", |b| {
        b.iter(|| {
            cli(&[
                "export",
                log,
                "--table",
                "events",
                "--to",
                &events_csv,
                "--force",
            ])
        })
    });
    if let Some(url) = &url {
        events.bench_function("postgres", |b| {
            b.iter(|| cli(&["export", log, "--table", "events", "--to", url]))
        });
    }
    events.finish();
    criterion.final_summary();
    drop(cluster);
}
