//! The two tables `export` writes, `agent_runs` and `agent_events`: their columns with
//! types, and one row of each made from a run's summary or an event. Every format
//! (Parquet, CSV, PostgreSQL) writes these rows; none has columns of its own.

use tracing_agent::hash::sha24;
use tracing_agent::schema::Amount;
use tracing_agent::{EventKind, EventRecord, Status};

use crate::summary::RunSummary;

/// The type of a column, as every format has one: Parquet's physical and logical type,
/// PostgreSQL's and ClickHouse's (see `sql/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    /// A signed 64-bit integer: what PostgreSQL, BigQuery and Parquet readers all have.
    Int,
    Float,
    /// A point in time, in milliseconds since the Unix epoch, UTC.
    Time,
    Bool,
    /// JSON text, kept as written.
    Json,
}

/// One column of a table.
#[derive(Debug)]
pub(crate) struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub nullable: bool,
}

const fn col(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        nullable: true,
    }
}

const fn required(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        nullable: false,
    }
}

/// A table: its name in a database, its columns in order, and the column that tells
/// one row from another (exporting a row again replaces the one with its key).
#[derive(Debug)]
pub(crate) struct Table {
    pub name: &'static str,
    pub key: &'static str,
    pub columns: &'static [Column],
}

/// One row per run: `--table runs` (the default).
pub(crate) const RUNS: Table = Table {
    name: "agent_runs",
    key: "run_id",
    columns: &[
        required("run_id", Kind::Text),
        required("created_at", Kind::Time),
        required("last_event_at", Kind::Time),
        col("agent", Kind::Text),
        col("model", Kind::Text),
        col("prompt_version", Kind::Text),
        col("tools_version", Kind::Text),
        col("parent_run_id", Kind::Text),
        required("steps", Kind::Int),
        required("tool_calls", Kind::Int),
        required("tool_errors", Kind::Int),
        required("llm_calls", Kind::Int),
        required("input_tokens", Kind::Int),
        required("output_tokens", Kind::Int),
        col("spend_usd", Kind::Float),
        required("unpriced_llm_calls", Kind::Int),
        col("duration_ms", Kind::Int),
        col("stop_reason", Kind::Text),
        required("has_run_start", Kind::Bool),
        required("has_stop", Kind::Bool),
        col("schema_version", Kind::Int),
    ],
};

/// One row per event: `--table events`.
pub(crate) const EVENTS: Table = Table {
    name: "agent_events",
    key: "event_id",
    columns: &[
        required("event_id", Kind::Text),
        col("run_id", Kind::Text),
        required("kind", Kind::Text),
        required("ts", Kind::Time),
        col("step_id", Kind::Int),
        col("parent_step_id", Kind::Int),
        col("tool", Kind::Text),
        col("tool_version", Kind::Text),
        col("attempt", Kind::Int),
        col("args_sha", Kind::Text),
        col("result_sha", Kind::Text),
        col("hash_error", Kind::Text),
        col("args", Kind::Json),
        col("duration_ms", Kind::Int),
        col("status", Kind::Text),
        col("error", Kind::Text),
        col("model", Kind::Text),
        col("input_tokens", Kind::Int),
        col("output_tokens", Kind::Int),
        col("spend_usd", Kind::Float),
        col("unpriced_llm_calls", Kind::Int),
        col("stop_reason", Kind::Text),
        col("steps", Kind::Int),
        col("tool_calls", Kind::Int),
        col("tool_errors", Kind::Int),
        col("llm_calls", Kind::Int),
        col("agent", Kind::Text),
        col("prompt_version", Kind::Text),
        col("tools_version", Kind::Text),
        col("parent_run_id", Kind::Text),
        col("schema_version", Kind::Int),
        col("guard", Kind::Text),
        col("limit_value", Kind::Float),
        col("used_value", Kind::Float),
        col("detail", Kind::Text),
    ],
};

/// One value of a row; `Null` in a nullable column only.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Text(&'a str),
    Int(i64),
    Float(f64),
    /// Milliseconds since the Unix epoch, at most [`LAST_MS`].
    Time(i64),
    Bool(bool),
    Json(&'a str),
}

/// The last millisecond of year 9999 (9999-12-31T23:59:59.999Z): the last that RFC 3339,
/// BigQuery and ClickHouse can write, and the cap of a timestamp from a log.
pub(crate) const LAST_MS: i64 = 253_402_300_799_999;

/// Numbers a table cannot hold as they are, brought into range and counted, so that the
/// command can say so: a log may hold any `u64`, a database's integers stop at
/// `i64::MAX`, its timestamps at year 9999.
#[derive(Debug, Default)]
pub(crate) struct Clamped {
    pub count: u64,
}

impl Clamped {
    fn int(&mut self, value: u64) -> Value<'static> {
        match i64::try_from(value) {
            Ok(value) => Value::Int(value),
            Err(_) => {
                self.count += 1;
                Value::Int(i64::MAX)
            }
        }
    }

    fn opt_int(&mut self, value: Option<u64>) -> Value<'static> {
        value.map_or(Value::Null, |value| self.int(value))
    }

    fn time(&mut self, ms: u64) -> Value<'static> {
        match i64::try_from(ms) {
            Ok(ms) if ms <= LAST_MS => Value::Time(ms),
            _ => {
                self.count += 1;
                Value::Time(LAST_MS)
            }
        }
    }
}

fn text(value: Option<&str>) -> Value<'_> {
    value.map_or(Value::Null, Value::Text)
}

fn float(value: Option<f64>) -> Value<'static> {
    value.map_or(Value::Null, Value::Float)
}

/// The `agent_runs` row of `run`, in the order of [`RUNS`].
pub(crate) fn run_row<'a>(run: &'a RunSummary, clamped: &mut Clamped) -> Vec<Value<'a>> {
    vec![
        Value::Text(&run.run_id),
        clamped.time(run.started_ms()),
        clamped.time(run.last_ts_ms()),
        text(run.agent()),
        text(run.model()),
        text(run.prompt_version()),
        text(run.tools_version()),
        text(run.parent_run_id()),
        clamped.int(run.steps()),
        clamped.int(run.tool_calls()),
        clamped.int(run.tool_errors()),
        clamped.int(run.llm_calls()),
        clamped.int(run.input_tokens()),
        clamped.int(run.output_tokens()),
        float(run.spend_usd()),
        clamped.int(run.unpriced_llm_calls()),
        clamped.opt_int(run.duration_ms()),
        text(run.stop_reason()),
        Value::Bool(run.has_run_start()),
        Value::Bool(run.has_stop()),
        clamped.opt_int(run.schema_version()),
    ]
}

/// The `event_id` of `event`: the `sha24` of its canonical JSON over the keys the schema
/// knows (as `tracing-agent hash` computes it for that JSON), so the same event exported
/// twice has the same key.
pub(crate) fn event_id(event: &EventRecord) -> String {
    match sha24(event) {
        Ok(sha) => sha.as_str().to_owned(),
        // Arguments nested too deep for the canonical form: the event without them still
        // tells it from every other event but one that differs in those arguments only.
        Err(_) => {
            let mut shallow = event.clone();
            shallow.args = None;
            sha24(&shallow).map_or_else(|_| String::new(), |sha| sha.as_str().to_owned())
        }
    }
}

fn amount(value: Option<&Amount>) -> Value<'static> {
    match value {
        None => Value::Null,
        // A count is at most 2^53 in any real log: a double holds it exactly.
        Some(Amount::Count(count)) => Value::Float(*count as f64),
        Some(Amount::Usd(usd)) => Value::Float(*usd),
    }
}

fn kind_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::RunStart => "run_start",
        EventKind::ToolResult => "tool_result",
        EventKind::LlmResult => "llm_result",
        EventKind::Stop => "stop",
        EventKind::Guard => "guard",
        EventKind::BudgetWarning => "budget_warning",
    }
}

/// The `agent_events` row of `event`, in the order of [`EVENTS`]; `id` is its
/// [`event_id`].
pub(crate) fn event_row<'a>(
    event: &'a EventRecord,
    id: &'a str,
    clamped: &mut Clamped,
) -> Vec<Value<'a>> {
    let usage = event.usage.as_ref();
    let meta = event.meta.as_ref();
    let model = event
        .model
        .as_deref()
        .or_else(|| meta.and_then(|meta| meta.model.as_deref()));
    vec![
        Value::Text(id),
        text(event.run_id.as_deref()),
        Value::Text(kind_name(event.kind)),
        clamped.time(event.ts_ms),
        clamped.opt_int(event.step_id),
        clamped.opt_int(event.parent_step_id),
        text(event.tool.as_deref()),
        text(event.tool_version.as_deref()),
        event
            .attempt
            .map_or(Value::Null, |attempt| Value::Int(attempt.into())),
        text(event.args_sha.as_deref()),
        text(event.result_sha.as_deref()),
        text(event.hash_error.as_deref()),
        event
            .args
            .as_ref()
            .map_or(Value::Null, |args| Value::Json(args.as_str())),
        clamped.opt_int(event.duration_ms),
        event.status.map_or(Value::Null, |status| {
            Value::Text(match status {
                Status::Ok => "ok",
                Status::Error => "error",
            })
        }),
        text(event.error.as_deref()),
        text(model),
        clamped.opt_int(usage.and_then(|u| u.input_tokens)),
        clamped.opt_int(usage.and_then(|u| u.output_tokens)),
        float(usage.and_then(|u| u.spend_usd)),
        clamped.opt_int(usage.and_then(|u| u.unpriced_llm_calls)),
        text(event.stop_reason.as_ref().map(|reason| reason.as_str())),
        clamped.opt_int(usage.and_then(|u| u.steps)),
        clamped.opt_int(usage.and_then(|u| u.tool_calls)),
        clamped.opt_int(usage.and_then(|u| u.tool_errors)),
        clamped.opt_int(usage.and_then(|u| u.llm_calls)),
        text(meta.and_then(|m| m.agent.as_deref())),
        text(meta.and_then(|m| m.prompt_version.as_deref())),
        text(meta.and_then(|m| m.tools_version.as_deref())),
        text(meta.and_then(|m| m.parent_run_id.as_deref())),
        clamped.opt_int(meta.and_then(|m| m.schema_version)),
        text(event.guard.as_deref()),
        amount(event.limit.as_ref()),
        amount(event.used.as_ref()),
        text(event.detail.as_deref()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_have_a_value_for_every_column() {
        let line = r#"{"run_id":"r","kind":"stop","ts_ms":5,"duration_ms":4,"stop_reason":"completed","usage":{"steps":1,"tool_calls":1,"tool_errors":0,"llm_calls":0,"input_tokens":0,"output_tokens":0,"spend_usd":null}}"#;
        let event: EventRecord = serde_json::from_str(line).unwrap();
        let mut clamped = Clamped::default();
        let id = event_id(&event);
        assert_eq!(
            event_row(&event, &id, &mut clamped).len(),
            EVENTS.columns.len()
        );
    }

    /// The column lines of a `CREATE TABLE` file: name, and the rest of the line without
    /// its comment and trailing comma.
    fn ddl_columns(ddl: &str) -> Vec<(String, String)> {
        let create = ddl.find("CREATE TABLE").unwrap();
        let open = create + ddl[create..].find('(').unwrap() + 1;
        let body = &ddl[open..ddl.find("\n)").unwrap()];
        body.lines()
            .map(|line| {
                line.split("--")
                    .next()
                    .unwrap()
                    .trim()
                    .trim_end_matches(',')
            })
            .filter(|line| !line.is_empty())
            .map(|line| {
                let (name, rest) = line.split_once(' ').unwrap();
                (name.to_owned(), rest.trim().to_owned())
            })
            .collect()
    }

    fn postgres_type(column: &Column) -> String {
        let base = match column.kind {
            Kind::Text => "text",
            Kind::Int => "bigint",
            Kind::Float => "double precision",
            Kind::Time => "timestamptz",
            Kind::Bool => "boolean",
            Kind::Json => "json",
        };
        match column.nullable {
            true => base.to_owned(),
            false => format!("{base} NOT NULL"),
        }
    }

    fn clickhouse_type(column: &Column) -> String {
        let base = match column.kind {
            Kind::Text | Kind::Json => "String",
            Kind::Int => "Int64",
            Kind::Float => "Float64",
            Kind::Time => "DateTime64(3, 'UTC')",
            Kind::Bool => "Bool",
        };
        match column.nullable {
            true => format!("Nullable({base})"),
            false => base.to_owned(),
        }
    }

    /// The DDL in `sql/` is what teams load the Parquet files with: every column the
    /// export writes, in its order, with its type and nullability.
    #[test]
    fn the_ddl_files_declare_the_exported_columns() {
        let files = [
            (
                &RUNS,
                include_str!("../../sql/postgres/agent_runs.sql"),
                include_str!("../../sql/clickhouse/agent_runs.sql"),
            ),
            (
                &EVENTS,
                include_str!("../../sql/postgres/agent_events.sql"),
                include_str!("../../sql/clickhouse/agent_events.sql"),
            ),
        ];
        for (table, postgres, clickhouse) in files {
            let expected: Vec<(String, String)> = table
                .columns
                .iter()
                .map(|c| {
                    let mut pg = postgres_type(c);
                    if c.name == table.key {
                        pg = pg.replace(" NOT NULL", "") + " PRIMARY KEY";
                    }
                    (c.name.to_owned(), pg)
                })
                .collect();
            assert_eq!(ddl_columns(postgres), expected, "{}", table.name);
            let expected: Vec<(String, String)> = table
                .columns
                .iter()
                .map(|c| (c.name.to_owned(), clickhouse_type(c)))
                .collect();
            let found: Vec<(String, String)> = ddl_columns(clickhouse)
                .into_iter()
                // A dictionary encoding, not another type.
                .map(|(n, t)| (n, t.replace("LowCardinality(String)", "String")))
                .collect();
            assert_eq!(found, expected, "{}", table.name);
        }
    }

    #[test]
    fn out_of_range_numbers_are_capped_and_counted() {
        let mut clamped = Clamped::default();
        assert_eq!(clamped.int(u64::MAX), Value::Int(i64::MAX));
        assert_eq!(clamped.time(u64::MAX), Value::Time(LAST_MS));
        assert_eq!(clamped.time(LAST_MS as u64), Value::Time(LAST_MS));
        assert_eq!(clamped.int(7), Value::Int(7));
        assert_eq!(clamped.count, 2);
    }
}
