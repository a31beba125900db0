//! One line of a log: an event of the schema, or why it is not one.
//!
//! The reader is tolerant where the schema is (a key that may be `null` may also be
//! absent; unknown keys are ignored, so newer writers stay readable) and strict about
//! types: a line whose `step_id` is a string is not an event we can trust, so it is
//! skipped and the warning names the field.

use serde::Deserialize;
use serde_json::{Map, Value};
use tracing_agent::{EventKind, Status, StopReason};

/// One event, owned: `show` keeps the matching run's events, `runs` drops each one
/// once it has been added to its run's summary.
#[derive(Debug, Deserialize)]
pub(crate) struct Event {
    pub run_id: Option<String>,
    pub kind: EventKind,
    pub ts_ms: u64,
    pub step_id: Option<u64>,
    pub tool: Option<String>,
    pub args_sha: Option<String>,
    pub duration_ms: Option<u64>,
    pub status: Option<Status>,
    pub error: Option<String>,
    pub stop_reason: Option<StopReason>,
    pub usage: Option<Usage>,
    pub parent_step_id: Option<u64>,
    pub result_sha: Option<String>,
    pub tool_version: Option<String>,
    pub model: Option<String>,
    pub meta: Option<Meta>,
    /// Redacted arguments, only when the operator enabled `store_args`.
    pub args: Option<Map<String, Value>>,
    pub hash_error: Option<String>,
}

/// `usage` of an `llm_result` (tokens, spend) or of a `stop` (all of them). One type
/// for both so that a wrong type in either is caught while parsing.
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct Usage {
    pub steps: Option<u64>,
    pub tool_calls: Option<u64>,
    pub tool_errors: Option<u64>,
    pub llm_calls: Option<u64>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub spend_usd: Option<f64>,
}

/// `meta` of a `run_start`.
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct Meta {
    pub agent: Option<String>,
    pub model: Option<String>,
    pub prompt_version: Option<String>,
    pub tools_version: Option<String>,
    pub parent_run_id: Option<String>,
    pub schema_version: Option<u64>,
}

/// Parses one line (without its `\n`). `Ok(None)` for a blank line, which holds nothing
/// to lose; `Err` says, for a person, why the line is not an event.
pub(crate) fn parse(line: &[u8]) -> Result<Option<Event>, String> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    // The fast path: almost every line is a good event.
    if let Ok(event) = serde_json::from_slice::<Event>(line) {
        return Ok(Some(event));
    }
    Err(why_not(line))
}

/// The reason a line failed to parse; only computed for bad lines.
fn why_not(line: &[u8]) -> String {
    let text = match std::str::from_utf8(line) {
        Ok(text) => text,
        Err(_) => return "not UTF-8".to_owned(),
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        // serde_json says "at line 1 column 5"; the line number is the log's, given by
        // the caller, so only the column is kept.
        Err(error) => {
            let message = error.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(&*message, |(m, _)| m);
            return format!("not JSON: {message} at column {}", error.column());
        }
    };
    let Some(object) = value.as_object() else {
        return format!("a JSON {}, not an object", type_name(&value));
    };
    match object.get("kind") {
        None => return "an object without \"kind\"".to_owned(),
        Some(Value::String(kind)) => {
            if EventKind::deserialize(Value::String(kind.clone())).is_err() {
                return format!("unknown kind {kind:?}");
            }
        }
        Some(other) => return format!("\"kind\" is a {}, not a string", type_name(other)),
    }
    // A known kind with a field of the wrong type: name the field. Deserializing the
    // `Value` (not the text) keeps serde_json's "at line 1 column N" out of the message,
    // which would read as a line number of the log.
    match serde_path_to_error::deserialize::<_, Event>(value) {
        Ok(_) => "not an event".to_owned(),
        // A missing key is an error of the whole object: there is no field to name.
        Err(error) if error.path().iter().next().is_none() => error.inner().to_string(),
        Err(error) => format!("\"{}\": {}", error.path(), error.inner()),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(line: &str) -> String {
        parse(line.as_bytes()).expect_err(line)
    }

    #[test]
    fn a_full_event_parses_and_unknown_keys_are_ignored() {
        let line = r#"{"run_id":"r1","kind":"tool_result","ts_ms":5,"step_id":2,"tool":"t","args_sha":"ab","duration_ms":3,"status":"error","error":"Boom","stop_reason":null,"usage":null,"parent_step_id":1,"args":{"to":"[REDACTED]"},"future_key":[1]}"#;
        let event = parse(line.as_bytes()).unwrap().unwrap();
        assert_eq!(event.run_id.as_deref(), Some("r1"));
        assert_eq!(event.kind, EventKind::ToolResult);
        assert_eq!(event.step_id, Some(2));
        assert_eq!(event.parent_step_id, Some(1));
        assert_eq!(event.status, Some(Status::Error));
        assert_eq!(event.error.as_deref(), Some("Boom"));
        assert_eq!(event.args.unwrap()["to"], "[REDACTED]");
    }

    #[test]
    fn blank_lines_are_nothing() {
        assert!(parse(b"").unwrap().is_none());
        assert!(parse(b"  \r").unwrap().is_none());
    }

    #[test]
    fn each_kind_of_bad_line_says_why() {
        assert_eq!(reason("INFO hello"), "not JSON: expected value at column 1");
        assert_eq!(
            reason("2024-11-24 INFO"),
            "not JSON: trailing characters at column 5"
        );
        assert_eq!(reason("[1,2]"), "a JSON array, not an object");
        assert_eq!(reason("42"), "a JSON number, not an object");
        assert_eq!(reason(r#"{"msg":"x"}"#), "an object without \"kind\"");
        assert_eq!(
            reason(r#"{"kind":"hello","ts_ms":1}"#),
            "unknown kind \"hello\""
        );
        assert_eq!(
            reason(r#"{"kind":7}"#),
            "\"kind\" is a number, not a string"
        );
        assert_eq!(
            reason(r#"{"kind":"stop","ts_ms":1,"step_id":"2"}"#),
            "\"step_id\": invalid type: string \"2\", expected u64"
        );
        assert_eq!(
            reason(r#"{"kind":"stop","ts_ms":1,"usage":{"steps":-1}}"#),
            "\"usage.steps\": invalid value: integer `-1`, expected u64"
        );
        assert_eq!(
            reason(r#"{"kind":"stop","run_id":"r"}"#),
            "missing field `ts_ms`"
        );
        assert_eq!(parse(b"{\"kind\":\"stop\xff\"}").unwrap_err(), "not UTF-8");
    }
}
