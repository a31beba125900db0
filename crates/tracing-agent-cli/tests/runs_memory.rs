//! `runs` keeps memory for what it will print, not for every run it reads: 60,000 runs
//! a filter rejects stay far below what their summaries would take. In a test binary of
//! its own, so that the peak of this process's children is the one child's.

use std::io::Write;
use std::process::Command;

const RUNS: u64 = 60_000;

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
fn runs_a_filter_rejects_take_no_memory_of_their_own() {
    let mut log = tempfile::NamedTempFile::new().unwrap();
    {
        let mut out = std::io::BufWriter::new(log.as_file_mut());
        for n in 0..RUNS {
            let run = format!("0193a5e0-{n:08}-7b11-9d2e-5f6a7b8c9d01");
            writeln!(
                out,
                r#"{{"run_id":"{run}","kind":"run_start","ts_ms":{},"step_id":null,"tool":null,"args_sha":null,"duration_ms":null,"status":null,"error":null,"stop_reason":null,"usage":null,"meta":{{"agent":"support-agent","model":"gpt-4o","prompt_version":"v12","tools_version":"t1","parent_run_id":null,"schema_version":1}}}}"#,
                1_732_442_400_000 + n
            )
            .unwrap();
            writeln!(
                out,
                r#"{{"run_id":"{run}","kind":"stop","ts_ms":{},"step_id":null,"tool":null,"args_sha":null,"duration_ms":500,"status":null,"error":null,"stop_reason":"completed","usage":{{"steps":1,"tool_calls":1,"tool_errors":0,"llm_calls":0,"input_tokens":0,"output_tokens":0,"spend_usd":0.0}}}}"#,
                1_732_442_400_500 + n
            )
            .unwrap();
        }
    }
    let status = Command::new(env!("CARGO_BIN_EXE_tracing-agent"))
        .args(["runs", "--agent", "nobody"])
        .arg(log.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let peak = children_max_rss_kib();
    // Keeping every summary took about 0.85 KiB a run (51,000 KiB here) on top of the
    // program's own few MiB; leaving rejected runs out keeps it near the latter.
    assert!(peak < 20_000, "peak {peak} KiB for {RUNS} rejected runs");
}
