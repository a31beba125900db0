//! `export` streams: a run becomes a row once its run_start and stop are read, and its
//! summary is dropped (an 8-byte hash of its id stays), so 100,000 runs export in the
//! memory of the few still open plus a Parquet row group. In a test binary of its own,
//! so that the peak of this process's children is the one child's.

use std::io::Write;
use std::process::Command;

const RUNS: u64 = 100_000;

/// The largest resident set of the children this process has waited for, in KiB.
fn children_max_rss_kib() -> i64 {
    // SAFETY: getrusage writes one `rusage` into the zeroed struct we pass.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage), 0);
        usage.ru_maxrss
    }
}

#[test]
fn runs_export_in_memory_that_does_not_grow_with_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("big.log");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&log).unwrap());
        for n in 0..RUNS {
            let run = format!("0193a5e0-{n:08}-7b11-9d2e-5f6a7b8c9d01");
            let ts = 1_732_442_400_000 + n * 10;
            writeln!(
                out,
                r#"{{"run_id":"{run}","kind":"run_start","ts_ms":{ts},"meta":{{"agent":"support-agent","model":"gpt-4o","prompt_version":"v12","tools_version":"t1","parent_run_id":null,"schema_version":1}}}}"#,
            )
            .unwrap();
            writeln!(
                out,
                r#"{{"run_id":"{run}","kind":"tool_result","ts_ms":{},"step_id":1,"tool":"crm.lookup","args_sha":"b2cd4705677b6b5311a4b635","duration_ms":3,"status":"ok"}}"#,
                ts + 4
            )
            .unwrap();
            writeln!(
                out,
                r#"{{"run_id":"{run}","kind":"stop","ts_ms":{},"duration_ms":5,"stop_reason":"completed","usage":{{"steps":1,"tool_calls":1,"tool_errors":0,"llm_calls":0,"input_tokens":0,"output_tokens":0,"spend_usd":null}}}}"#,
                ts + 5
            )
            .unwrap();
        }
    }
    let parquet = dir.path().join("runs.parquet");
    let output = Command::new(env!("CARGO_BIN_EXE_tracing-agent"))
        .arg("export")
        .arg(&log)
        .arg("--to")
        .arg(&parquet)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("exported {RUNS} runs to {}\n", parquet.display())
    );
    let peak = children_max_rss_kib();
    // Holding every run's summary to the end peaks at about 85,000 KiB here; written and
    // dropped as they end, about 30,000 KiB: the program, one row group, the ids' hashes.
    assert!(peak < 50_000, "peak {peak} KiB for {RUNS} runs");
}
