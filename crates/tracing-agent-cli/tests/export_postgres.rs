//! `export --to postgres://...` against a real PostgreSQL that the test starts: the
//! background article's alert SQL, verbatim, on the incident example's runs spread over
//! 14 days, returns exactly the incident's hours; exporting again changes nothing; and
//! each way a database can refuse is a clear error that leaves it as it was.

mod common;
mod pg_cluster;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::SystemTime;

use common::{cli, example_binary, AGENT_LOG};
use pg_cluster::PgCluster;
use serde_json::Value;

/// The article's alert, verbatim, as shipped in the repository.
const SEED_ALERT: &str = include_str!("../sql/postgres/tool_calls_alert.sql");

fn export(args: &[&str]) -> common::Run {
    let mut all = vec!["export"];
    all.extend_from_slice(args);
    cli(&all, "")
}

fn events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn count(cluster: &PgCluster, db: &str, table: &str) -> i64 {
    let mut client = cluster.admin(db).unwrap();
    client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .unwrap()
        .get(0)
}

/// The incident example's `spread.jsonl` over 14 days and its `incident_hours.json`.
fn incident_logs(dir: &Path) -> (std::path::PathBuf, Vec<String>) {
    let example = example_binary("incident");
    let out = std::process::Command::new(example)
        .args(["--out"])
        .arg(dir)
        .args(["--spread-days", "14"])
        .output()
        .expect("the incident example runs");
    assert!(
        out.status.success(),
        "the incident example failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hours = std::fs::read_to_string(dir.join("incident_hours.json")).unwrap();
    let hours: Vec<String> = serde_json::from_str(&hours).unwrap();
    (dir.join("spread.jsonl"), hours)
}

#[test]
fn the_seed_alert_finds_exactly_the_incident_hours_and_exports_are_idempotent() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (spread, incident_hours) = incident_logs(dir.path());
    let spread = spread.to_str().unwrap();
    let url = cluster.admin_url("postgres");
    let log = events(Path::new(spread));
    let runs: BTreeSet<&str> = log.iter().filter_map(|e| e["run_id"].as_str()).collect();
    assert!(runs.len() > 1000, "{} runs", runs.len());

    let first = export(&[spread, "--to", &url]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let shown = format!("postgres://tester@127.0.0.1:{}/postgres", cluster.port);
    assert_eq!(
        first.stdout,
        format!(
            "exported {n} runs into agent_runs at {shown}: {n} new, 0 replaced\n",
            n = runs.len()
        )
    );
    assert!(!first.stderr.contains(pg_cluster::ADMIN_PASSWORD));
    assert_eq!(count(&cluster, "postgres", "agent_runs"), runs.len() as i64);

    // The alert, verbatim: exactly the hours the example made an incident of.
    let mut client = cluster.admin("postgres").unwrap();
    let fired: Vec<String> = client
        .query(SEED_ALERT, &[])
        .unwrap()
        .iter()
        .map(|row| humantime::format_rfc3339_seconds(row.get::<_, SystemTime>(0)).to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(fired, incident_hours);

    // One run checked column by column against its events in the log.
    let run_id = log
        .iter()
        .find(|e| e["kind"] == "stop" && e["usage"]["tool_errors"].as_u64() > Some(0))
        .and_then(|e| e["run_id"].as_str())
        .expect("a run with a failed tool call");
    let of_run = |kind: &str| {
        log.iter()
            .find(|e| e["run_id"] == run_id && e["kind"] == kind)
            .unwrap()
    };
    let (start, stop) = (of_run("run_start"), of_run("stop"));
    let row = client
        .query_one(
            "SELECT (extract(epoch FROM created_at) * 1000)::bigint, agent, prompt_version, \
             tool_calls, tool_errors, llm_calls, input_tokens, spend_usd, duration_ms, \
             stop_reason, has_stop FROM agent_runs WHERE run_id = $1",
            &[&run_id],
        )
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), start["ts_ms"].as_i64().unwrap());
    assert_eq!(row.get::<_, &str>(1), start["meta"]["agent"]);
    assert_eq!(row.get::<_, &str>(2), start["meta"]["prompt_version"]);
    let usage = &stop["usage"];
    assert_eq!(row.get::<_, i64>(3), usage["tool_calls"].as_i64().unwrap());
    assert_eq!(row.get::<_, i64>(4), usage["tool_errors"].as_i64().unwrap());
    assert_eq!(row.get::<_, i64>(5), usage["llm_calls"].as_i64().unwrap());
    assert_eq!(
        row.get::<_, i64>(6),
        usage["input_tokens"].as_i64().unwrap()
    );
    assert_eq!(row.get::<_, Option<f64>>(7), usage["spend_usd"].as_f64());
    assert_eq!(row.get::<_, Option<i64>>(8), stop["duration_ms"].as_i64());
    assert_eq!(row.get::<_, &str>(9), stop["stop_reason"]);
    assert!(row.get::<_, bool>(10));

    // The CSV export loads into the same table with PostgreSQL's own CSV reader, and
    // holds exactly the same rows: NULL apart from empty, every number and time exact.
    let csv = dir.path().join("runs.csv");
    let done = export(&[spread, "--to", csv.to_str().unwrap()]);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    cluster.execute("postgres", "CREATE DATABASE fromcsv");
    cluster.execute("fromcsv", include_str!("../sql/postgres/agent_runs.sql"));
    let mut from_csv = cluster.admin("fromcsv").unwrap();
    let mut copy = from_csv
        .copy_in("COPY agent_runs FROM STDIN (FORMAT csv, HEADER true)")
        .unwrap();
    std::io::Write::write_all(&mut copy, &std::fs::read(&csv).unwrap()).unwrap();
    copy.finish().unwrap();
    let digest =
        "SELECT count(*), md5(string_agg(t::text, E'\\n' ORDER BY run_id)) FROM agent_runs t";
    let digest_of = |client: &mut postgres::Client| -> (i64, String) {
        let row = client.query_one(digest, &[]).unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(digest_of(&mut from_csv), digest_of(&mut client));

    // The same log again: one row per run still, each replaced by itself.
    let again = export(&[spread, "--to", &url]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(
        again
            .stdout
            .ends_with(&format!(": 0 new, {} replaced\n", runs.len())),
        "{}",
        again.stdout
    );
    assert_eq!(count(&cluster, "postgres", "agent_runs"), runs.len() as i64);

    // The events: one row per event, once however often they are exported.
    let first = export(&[spread, "--table", "events", "--to", &url]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert_eq!(
        count(&cluster, "postgres", "agent_events"),
        log.len() as i64
    );
    let again = export(&[spread, "--table", "events", "--to", &url]);
    assert!(
        again
            .stdout
            .ends_with(&format!(": 0 new, {} already there\n", log.len())),
        "{}",
        again.stdout
    );
    assert_eq!(
        count(&cluster, "postgres", "agent_events"),
        log.len() as i64
    );
    let tool_results = log.iter().filter(|e| e["kind"] == "tool_result").count() as i64;
    let per_kind: i64 = client
        .query_one(
            "SELECT count(*) FROM agent_events WHERE kind = 'tool_result' AND tool IS NOT NULL \
             AND step_id IS NOT NULL AND status IN ('ok', 'error')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(per_kind, tool_results);
}

/// Whether `table` exists in `db`.
fn exists(cluster: &PgCluster, db: &str, table: &str) -> bool {
    let mut client = cluster.admin(db).unwrap();
    client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .unwrap()
        .get(0)
}

fn fails(args: &[&str], expected: &str) -> String {
    let run = export(args);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(expected),
        "expected {expected:?} in:\n{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    run.stderr
}

#[test]
fn a_database_that_refuses_is_a_clear_error_and_left_as_it_was() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    // Over the Unix socket, for a start: it works, and says where it wrote.
    cluster.execute("postgres", "CREATE DATABASE viasocket");
    let run = export(&[AGENT_LOG, "--to", &cluster.socket_url("viasocket")]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "exported 5 runs into agent_runs at postgres://tester@{}:{}/viasocket: 5 new, 0 replaced\n",
            cluster.socket_dir().display(),
            cluster.port
        )
    );

    // A wrong password: said as such, and the password tried is not repeated.
    let wrong = cluster.url(pg_cluster::ADMIN, "not-the-password", "postgres");
    let stderr = fails(
        &[AGENT_LOG, "--to", &wrong],
        "wrong password for user \"tester\" at postgres://tester@127.0.0.1:",
    );
    assert!(!stderr.contains("not-the-password"), "{stderr}");

    // A database that does not exist.
    fails(
        &[AGENT_LOG, "--to", &cluster.admin_url("nope")],
        "database \"nope\" does not exist",
    );

    // A log that fails to read after rows were already sent (a directory): the
    // transaction is rolled back, the table it created with it.
    let unreadable = tempfile::tempdir().unwrap();
    let unreadable = unreadable.path().to_str().unwrap();
    cluster.execute("postgres", "CREATE DATABASE halfway");
    let run = export(&[AGENT_LOG, unreadable, "--to", &cluster.admin_url("halfway")]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("cannot read {unreadable}: ")),
        "{}",
        run.stderr
    );
    assert!(!exists(&cluster, "halfway", "agent_runs"));

    // A read-only database.
    cluster.execute("postgres", "CREATE DATABASE ro");
    cluster.execute(
        "postgres",
        "ALTER DATABASE ro SET default_transaction_read_only = on",
    );
    fails(
        &[AGENT_LOG, "--to", &cluster.admin_url("ro")],
        "/ro is read-only, cannot create the table agent_runs",
    );
    assert!(!exists(&cluster, "ro", "agent_runs"));

    // A user who may read but not create tables.
    cluster.execute("postgres", "CREATE DATABASE shared");
    cluster.execute("postgres", "CREATE ROLE reader LOGIN PASSWORD 'reader-pw'");
    cluster.execute("shared", "REVOKE CREATE ON SCHEMA public FROM PUBLIC");
    fails(
        &[
            AGENT_LOG,
            "--to",
            &cluster.url("reader", "reader-pw", "shared"),
        ],
        "user \"reader\" may not create the table agent_runs",
    );
    assert!(!exists(&cluster, "shared", "agent_runs"));

    // A table of that name with other columns: every difference named, its rows kept.
    cluster.execute(
        "postgres",
        "CREATE TABLE agent_runs (run_id text PRIMARY KEY, tool_calls text, created_at timestamp); \
         INSERT INTO agent_runs VALUES ('mine', 'many', now())",
    );
    let stderr = fails(
        &[AGENT_LOG, "--to", &cluster.admin_url("postgres")],
        "the table agent_runs at postgres://tester@127.0.0.1:",
    );
    for problem in [
        "column tool_calls is text, the export writes bigint",
        "column created_at is timestamp without time zone, the export writes timestamp with time zone",
        "columns missing: last_event_at, agent, model, prompt_version, tools_version, \
         parent_run_id, steps, tool_errors,",
    ] {
        assert!(stderr.contains(problem), "no {problem:?} in {stderr}");
    }
    assert_eq!(count(&cluster, "postgres", "agent_runs"), 1);

    // The right columns but no key to replace rows by.
    let ddl = include_str!("../sql/postgres/agent_runs.sql").replace("text PRIMARY KEY", "text");
    cluster.execute("postgres", "CREATE DATABASE nokey");
    cluster.execute("nokey", &ddl);
    fails(
        &[AGENT_LOG, "--to", &cluster.admin_url("nokey")],
        "/nokey has no primary key or unique index on run_id",
    );
    assert_eq!(count(&cluster, "nokey", "agent_runs"), 0);
}
