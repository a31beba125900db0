//! `export --to FILE.parquet|FILE.csv`: the rows checked against the log by hand, the
//! Parquet read back by an independent reader (DuckDB's, from Python), and the ways an
//! export refuses or fails, none of which leaves anything under the output's name.

mod common;

use std::path::Path;
use std::process::Command;

use common::{cli, AGENT_LOG};
use serde_json::{json, Value};

fn export(args: &[&str]) -> common::Run {
    let mut all = vec!["export"];
    all.extend_from_slice(args);
    cli(&all, "")
}

fn export_ok(args: &[&str]) -> String {
    let run = export(args);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.stdout
}

/// The files in `dir`, by name.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs `script` with Python's DuckDB, with `args`; its stdout parsed as JSON. `None`
/// (and SKIPPED) where python3 or its duckdb module is missing, outside CI.
fn duckdb(script: &str, args: &[&str]) -> Option<Value> {
    let probe = Command::new("python3")
        .args(["-c", "import duckdb"])
        .output();
    if !probe.is_ok_and(|out| out.status.success()) {
        common::skip(
            "python3 with the duckdb module is missing; `python3 -m pip install duckdb` \
             (.ci/run does this)",
        );
        return None;
    }
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the DuckDB script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// Prints the columns (name and DuckDB type) and the rows, times as epoch milliseconds.
const READ_PARQUET: &str = r#"
import duckdb, json, sys
path, order = sys.argv[1], sys.argv[2]
con = duckdb.connect()
columns = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
times = [name for name, kind, *_ in columns if kind.startswith("TIMESTAMP")]
select = "SELECT * REPLACE (" + ", ".join(f"epoch_ms({t}) AS {t}" for t in times) + ")"
rows = con.execute(select + f" FROM read_parquet(?) ORDER BY {order}", [path]).fetchall()
print(json.dumps({"columns": [[c[0], c[1]] for c in columns], "rows": rows}))
"#;

// The runs of tests/fixtures/agent.log as worked out by hand from its lines: counts from
// each run's stop where it has one, else from its events (the billing run's LLM call has
// no price, so its spend is unknown: null, not 0, and it counts one unpriced call); req-7f3a91c2 has no run_start, so it
// started at its stop less its duration (1732442290100 - 95100) and has no versions.
fn expected_runs() -> Vec<Value> {
    vec![
        json!([
            "0193a5e1-2f90-7a33-8c4d-e5f6a7b8c923",
            1732442460000i64,
            1732442461300i64,
            "support-agent",
            "gpt-4o-2024-08-06",
            "v13",
            "2024-10-01",
            null,
            4,
            3,
            2,
            1,
            900,
            200,
            0.0031,
            0,
            1300,
            "tool_error",
            true,
            true,
            1
        ]),
        json!([
            "0193a5e1-2fa1-7c44-9e5f-a6b7c8d9e034",
            1732442520000i64,
            1732442520700i64,
            "billing-agent",
            "gpt-4o-mini-2024-07-18",
            "b2",
            "2024-10-01",
            null,
            3,
            2,
            0,
            1,
            500,
            80,
            null,
            1,
            null,
            null,
            true,
            false,
            1
        ]),
        json!([
            "req-7f3a91c2",
            1732442195000i64,
            1732442290100i64,
            null,
            null,
            null,
            null,
            null,
            6,
            4,
            0,
            2,
            2000,
            500,
            0.009,
            0,
            95100,
            "completed",
            false,
            true,
            null
        ]),
    ]
}

#[test]
fn parquet_read_back_by_duckdb_has_typed_columns_and_the_logs_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.parquet");
    let path = path.to_str().unwrap();
    let stdout = export_ok(&[AGENT_LOG, "--to", path]);
    assert_eq!(stdout, format!("exported 5 runs to {path}\n"));
    let Some(read) = duckdb(READ_PARQUET, &[path, "run_id"]) else {
        return;
    };
    let columns = [
        ("run_id", "VARCHAR"),
        ("created_at", "TIMESTAMP WITH TIME ZONE"),
        ("last_event_at", "TIMESTAMP WITH TIME ZONE"),
        ("agent", "VARCHAR"),
        ("model", "VARCHAR"),
        ("prompt_version", "VARCHAR"),
        ("tools_version", "VARCHAR"),
        ("parent_run_id", "VARCHAR"),
        ("steps", "BIGINT"),
        ("tool_calls", "BIGINT"),
        ("tool_errors", "BIGINT"),
        ("llm_calls", "BIGINT"),
        ("input_tokens", "BIGINT"),
        ("output_tokens", "BIGINT"),
        ("spend_usd", "DOUBLE"),
        ("unpriced_llm_calls", "BIGINT"),
        ("duration_ms", "BIGINT"),
        ("stop_reason", "VARCHAR"),
        ("has_run_start", "BOOLEAN"),
        ("has_stop", "BOOLEAN"),
        ("schema_version", "BIGINT"),
    ];
    let expected_columns: Vec<Value> = columns.iter().map(|(n, t)| json!([n, t])).collect();
    assert_eq!(read["columns"].as_array().unwrap(), &expected_columns);
    let rows = read["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    for expected in expected_runs() {
        let row = rows.iter().find(|row| row[0] == expected[0]).unwrap();
        assert_eq!(row, &expected);
    }
    // The sub-run names its parent.
    let child = rows
        .iter()
        .find(|row| row[0] == "0193a5e0-8d13-7e02-a4b5-c6d7e8f90a12")
        .unwrap();
    assert_eq!(child[7], "0193a5e0-7c4a-7b11-9d2e-5f6a7b8c9d01");
}

#[test]
fn events_parquet_has_one_row_per_event_with_its_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.parquet");
    let path = path.to_str().unwrap();
    let stdout = export_ok(&[AGENT_LOG, "--table", "events", "--to", path]);
    // 31 lines, of which 6 are not events.
    assert_eq!(stdout, format!("exported 25 events to {path}\n"));
    let Some(read) = duckdb(READ_PARQUET, &[path, "ts, kind"]) else {
        return;
    };
    let names: Vec<&str> = read["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c[0].as_str().unwrap())
        .collect();
    let column = |name: &str| names.iter().position(|n| *n == name).unwrap();
    let rows = read["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 25);
    let ids: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r[0].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 25, "event ids are unique");
    let at = |ts: i64| rows.iter().find(|r| r[column("ts")] == ts).unwrap();
    // Line 3: a tool call outside any run.
    let healthcheck = at(1732442340000);
    assert_eq!(healthcheck[column("run_id")], Value::Null);
    assert_eq!(healthcheck[column("tool")], "healthcheck");
    assert_eq!(healthcheck[column("duration_ms")], 12);
    // Line 17: stored arguments, as JSON text, and a nested call.
    let email = at(1732442403290);
    assert_eq!(
        email[column("args")],
        r#"{"subject":"Your order","to":"[REDACTED]"}"#
    );
    assert_eq!(email[column("parent_step_id")], 5);
    assert_eq!(email[column("step_id")], 7);
    // Line 22: a failed call.
    let failed = at(1732442460950);
    assert_eq!(failed[column("status")], "error");
    assert_eq!(failed[column("error")], "RateLimited");
    // Line 4: a run_start's versions.
    let start = at(1732442400000);
    assert_eq!(start[column("kind")], "run_start");
    assert_eq!(start[column("agent")], "support-agent");
    assert_eq!(start[column("model")], "gpt-4o-2024-08-06");
    assert_eq!(start[column("schema_version")], 1);
    // Line 28: an LLM call without a price.
    let llm = at(1732442520600);
    assert_eq!(llm[column("input_tokens")], 500);
    assert_eq!(llm[column("spend_usd")], Value::Null);
    // Line 25: a stop's counts.
    let stop = at(1732442461300);
    assert_eq!(stop[column("stop_reason")], "tool_error");
    assert_eq!(stop[column("tool_errors")], 2);
    assert_eq!(stop[column("duration_ms")], 1300);
}

#[test]
fn csv_has_a_header_and_the_logs_values_with_null_apart_from_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.csv");
    let path = path.to_str().unwrap();
    export_ok(&[AGENT_LOG, "--to", path]);
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(
        lines[0],
        "run_id,created_at,last_event_at,agent,model,prompt_version,tools_version,\
         parent_run_id,steps,tool_calls,tool_errors,llm_calls,input_tokens,output_tokens,\
         spend_usd,unpriced_llm_calls,duration_ms,stop_reason,has_run_start,has_stop,schema_version"
    );
    assert_eq!(lines.len(), 6);
    for expected in [
        "0193a5e1-2f90-7a33-8c4d-e5f6a7b8c923,2024-11-24T10:01:00.000Z,2024-11-24T10:01:01.300Z,\
         support-agent,gpt-4o-2024-08-06,v13,2024-10-01,,4,3,2,1,900,200,0.0031,0,1300,tool_error,\
         true,true,1",
        "0193a5e1-2fa1-7c44-9e5f-a6b7c8d9e034,2024-11-24T10:02:00.000Z,2024-11-24T10:02:00.700Z,\
         billing-agent,gpt-4o-mini-2024-07-18,b2,2024-10-01,,3,2,0,1,500,80,,1,,,true,false,1",
        "req-7f3a91c2,2024-11-24T09:56:35.000Z,2024-11-24T09:58:10.100Z,,,,,,6,4,0,2,2000,500,\
         0.009,0,95100,completed,false,true,",
    ] {
        assert!(lines.contains(&expected), "no line\n{expected}\nin\n{text}");
    }

    // An empty string is "", NULL is nothing; commas, quotes and newlines are quoted.
    let log = dir.path().join("odd.log");
    std::fs::write(
        &log,
        r#"{"run_id":"r1","kind":"run_start","ts_ms":0,"meta":{"agent":"night, \"ops\"\nshift","model":"","prompt_version":null}}"#,
    )
    .unwrap();
    let odd = dir.path().join("odd.csv");
    export_ok(&[log.to_str().unwrap(), "--to", odd.to_str().unwrap()]);
    let text = std::fs::read_to_string(&odd).unwrap();
    assert_eq!(
        text.split_once("\r\n").unwrap().1,
        "r1,1970-01-01T00:00:00.000Z,1970-01-01T00:00:00.000Z,\"night, \"\"ops\"\"\nshift\",\"\",,,,\
         0,0,0,0,0,0,,0,,,true,false,\r\n"
    );
}

#[test]
fn an_existing_output_is_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.csv");
    std::fs::write(&path, "precious").unwrap();
    let path = path.to_str().unwrap();
    let run = export(&[AGENT_LOG, "--to", path]);
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stderr,
        format!("tracing-agent export: error: {path} exists; give --force to replace it\n")
    );
    assert_eq!(std::fs::read_to_string(path).unwrap(), "precious");
    export_ok(&[AGENT_LOG, "--to", path, "--force"]);
    assert!(std::fs::read_to_string(path)
        .unwrap()
        .starts_with("run_id,created_at,"));
    assert_eq!(listing(dir.path()), ["runs.csv"]);
    // Made as any file the user writes (0666 less the umask), not private (0600) as a
    // temporary file is.
    use std::os::unix::fs::PermissionsExt;
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let umask = status
        .lines()
        .find_map(|line| line.strip_prefix("Umask:"))
        .map(|mask| u32::from_str_radix(mask.trim(), 8).unwrap())
        .unwrap();
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o666 & !umask, "{mode:o}");
}

#[test]
fn a_failed_export_leaves_nothing_under_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    for name in ["runs.parquet", "runs.csv"] {
        let path = out.join(name);
        let path = path.to_str().unwrap();
        // A log that cannot be read, after the output was started: a directory.
        let input = dir.path().to_str().unwrap();
        let run = export(&[AGENT_LOG, input, "--to", path]);
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("cannot read {input}: ")),
            "{}",
            run.stderr
        );
        // Neither the output nor its temporary file is left.
        assert_eq!(listing(&out), [] as [&str; 0]);
        // A log that does not exist.
        let run = export(&["no-such.log", "--to", path]);
        assert_eq!(run.code, Some(1));
        assert!(
            run.stderr.contains("cannot open no-such.log: "),
            "{}",
            run.stderr
        );
        assert_eq!(listing(&out), [] as [&str; 0]);
    }
}

#[test]
fn targets_that_cannot_be_are_usage_or_clear_errors() {
    let run = export(&[AGENT_LOG, "--to", "runs.json"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains(
            "--to runs.json: give a file ending in .parquet or .csv, or a postgres:// URL"
        ),
        "{}",
        run.stderr
    );
    let run = export(&[AGENT_LOG, "--to", "/no/such/dir/runs.parquet"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("cannot create a file in /no/such/dir: No such file or directory"),
        "{}",
        run.stderr
    );
    let run = export(&[AGENT_LOG, "--to", "postgres://u@localhost:notaport/db"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("--to: not a PostgreSQL URL"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unreachable_database_is_said_so() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://ada:pw@127.0.0.1:{port}/runs");
    let run = export(&[AGENT_LOG, "--to", &url]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains(&format!(
            "cannot reach the database at postgres://ada@127.0.0.1:{port}/runs: "
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(":pw@"), "{}", run.stderr);
}
