//! Reading event logs back: any [`io::Read`], one line at a time, in bounded memory.
//!
//! Logs are read as they are found: a process killed mid-write leaves a torn last line,
//! a shared file holds other programs' lines, and a line can be anything at all. None of
//! that stops the reader: each line that is not an event is reported, with its number
//! and a reason for a person, and reading goes on. Blank lines hold nothing to lose and
//! are passed over.
//!
//! ```
//! use tracing_agent::read::{EventReader, Item};
//! use tracing_agent::{EventKind, StopReason};
//!
//! let log = concat!(
//!     r#"{"run_id":"r1","kind":"stop","ts_ms":5,"stop_reason":"completed"}"#, "\n",
//!     "INFO another program's line\n",
//!     r#"{"run_id":"r1","kind":"tool_res"#, // the writer was killed here
//! );
//! let mut skipped = Vec::new();
//! for item in EventReader::new(log.as_bytes()) {
//!     match item? {
//!         Item::Event(event) => {
//!             assert_eq!(event.kind, EventKind::Stop);
//!             assert_eq!(event.stop_reason, Some(StopReason::Completed));
//!         }
//!         Item::Skipped(line) => skipped.push(line.to_string()),
//!     }
//! }
//! assert_eq!(
//!     skipped,
//!     [
//!         "line 2: not JSON: expected value at column 1",
//!         "line 3: torn last line (no newline at the end)",
//!     ]
//! );
//! # Ok::<(), std::io::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::schema::{EventKind, EventRecord};

/// The longest line [`EventReader`] reads unless told otherwise: far beyond any event
/// (even with stored args), small enough that a file without newlines cannot exhaust
/// memory.
pub const DEFAULT_MAX_LINE: usize = 16 << 20;

/// How many times the longest line kept a line may run on without a newline before the
/// input is taken for something that is not a log at all (`/dev/zero`, a binary file):
/// reading then stops with an error instead of skipping for ever (1 GiB by default).
pub const GIVE_UP_AFTER_LINES: u64 = 64;

/// Reads [`EventRecord`]s from a log, one line at a time: an iterator of [`Item`]s.
///
/// Memory stays flat whatever the size of the input: one line is held at a time, and
/// never more than the maximum line length of it (a runaway line is skipped, not
/// loaded). After an error reading the input the iterator ends, so a loop that ignores
/// errors cannot spin on one.
pub struct EventReader<R> {
    input: BufReader<R>,
    line: Vec<u8>,
    max_line: usize,
    line_no: u64,
    bytes_read: u64,
    failed: bool,
}

/// What one line of a log is.
#[derive(Debug)]
// Events are the common case, so boxing the large variant would allocate for nothing.
#[allow(clippy::large_enum_variant)]
pub enum Item {
    /// An event.
    Event(EventRecord),
    /// A line that is not an event.
    Skipped(Skipped),
}

/// A line that is not an event: where, and why. Displays as `line 3: reason`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The line's number, from 1.
    pub line_no: u64,
    /// Why it was skipped.
    pub reason: SkipReason,
}

/// Why a line is not an event. Displays as a reason for a person.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// Longer than the maximum line length: skipped without being held in memory.
    TooLong {
        /// The maximum, in bytes.
        max: usize,
    },
    /// The last line, without a newline, and not an event: its writer was cut off
    /// mid-line (a crash, a rotation, a copy taken while it wrote).
    Torn,
    /// Not an event: not UTF-8, not JSON, not an object, no known `kind`, or a field of
    /// the wrong type, which the message names.
    NotEvent(String),
}

impl<R: Read> EventReader<R> {
    /// Reads `input`, which needs no buffering of its own.
    pub fn new(input: R) -> Self {
        EventReader {
            input: BufReader::with_capacity(1 << 16, input),
            line: Vec::new(),
            max_line: DEFAULT_MAX_LINE,
            line_no: 0,
            bytes_read: 0,
            failed: false,
        }
    }

    /// Skips lines longer than `bytes` (default [`DEFAULT_MAX_LINE`]).
    pub fn with_max_line(mut self, bytes: usize) -> Self {
        self.max_line = bytes;
        self
    }

    /// The number of the last line read, from 1; 0 before the first.
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// The bytes read so far, newlines included: for a progress indicator.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Reads one line into `self.line` (without its `\n`), keeping at most
    /// `self.max_line` bytes of it.
    fn read_line(&mut self) -> io::Result<Option<LineEnd>> {
        self.line.clear();
        let mut consumed = 0;
        let mut too_long = false;
        loop {
            let available = match self.input.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            if available.is_empty() {
                return Ok((consumed > 0).then_some(LineEnd {
                    terminated: false,
                    too_long,
                }));
            }
            let (chunk, used, terminated) = match available.iter().position(|&b| b == b'\n') {
                Some(at) => (&available[..at], at + 1, true),
                None => (available, available.len(), false),
            };
            let room = self.max_line - self.line.len();
            if chunk.len() > room {
                too_long = true;
            }
            self.line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            self.input.consume(used);
            consumed += used;
            self.bytes_read += used as u64;
            if !terminated && consumed as u64 > GIVE_UP_AFTER_LINES * self.max_line as u64 {
                let read = if consumed >= 1 << 20 {
                    format!("{} MiB", consumed >> 20)
                } else {
                    format!("{consumed} bytes")
                };
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "line {} has no newline in its first {read}: this is not an event log",
                        self.line_no + 1,
                    ),
                ));
            }
            if terminated {
                return Ok(Some(LineEnd {
                    terminated,
                    too_long,
                }));
            }
        }
    }
}

/// How a line read by [`EventReader::read_line`] ended.
struct LineEnd {
    /// Ended by `\n` rather than by the end of the input.
    terminated: bool,
    /// Longer than the maximum: only its start was kept.
    too_long: bool,
}

impl<R: Read> Iterator for EventReader<R> {
    type Item = io::Result<Item>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            let end = match self.read_line() {
                Ok(Some(end)) => end,
                Ok(None) => return None,
                Err(error) => {
                    self.failed = true;
                    return Some(Err(error));
                }
            };
            self.line_no += 1;
            let reason = if end.too_long {
                SkipReason::TooLong { max: self.max_line }
            } else {
                match parse(&self.line) {
                    Some(Ok(event)) => return Some(Ok(Item::Event(event))),
                    None => continue,
                    Some(Err(NotEvent)) if !end.terminated => SkipReason::Torn,
                    Some(Err(NotEvent)) => SkipReason::NotEvent(why_not(&self.line)),
                }
            };
            return Some(Ok(Item::Skipped(Skipped {
                line_no: self.line_no,
                reason,
            })));
        }
    }
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line_no, self.reason)
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::TooLong { max } if max % (1 << 20) == 0 && *max > 0 => {
                write!(f, "longer than {} MiB", max >> 20)
            }
            SkipReason::TooLong { max } => write!(f, "longer than {max} bytes"),
            SkipReason::Torn => f.write_str("torn last line (no newline at the end)"),
            SkipReason::NotEvent(why) => f.write_str(why),
        }
    }
}

/// A line that did not parse; [`why_not`] says why, when someone wants to know.
struct NotEvent;

/// Parses one line (without its `\n`); `None` for a blank line.
fn parse(line: &[u8]) -> Option<Result<EventRecord, NotEvent>> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    Some(serde_json::from_slice(line).map_err(|_| NotEvent))
}

/// The reason a line failed to parse; only computed for bad lines.
fn why_not(line: &[u8]) -> String {
    let text = match std::str::from_utf8(line) {
        Ok(text) => text,
        Err(_) => return "not UTF-8".to_owned(),
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) if error.to_string().starts_with("recursion limit exceeded") => {
            return why_not_deep(text)
        }
        Err(error) => return not_json(&error),
    };
    let Some(object) = value.as_object() else {
        return format!("a JSON {}, not an object", type_name(&value));
    };
    if let Some(problem) = kind_problem(object.get("kind")) {
        return problem;
    }
    // A known kind with a field of the wrong type: name the field. Deserializing the
    // `Value` (not the text) keeps serde_json's "at line 1 column N" out of the message,
    // which would read as a line number of the log.
    match serde_path_to_error::deserialize::<_, EventRecord>(value) {
        Ok(_) => "not an event".to_owned(),
        Err(error) => field_error(error),
    }
}

/// [`why_not`] for a line nested too deep for a `Value` (stored args can be): the same
/// checks, made on its top level, then the field's error from reading it as an event.
fn why_not_deep(text: &str) -> String {
    if let Err(error) = serde_json::from_str::<IgnoredAny>(text) {
        return not_json(&error);
    }
    // Only arrays and objects nest.
    let Ok(object) = serde_json::from_str::<BTreeMap<String, Box<RawValue>>>(text) else {
        return "a JSON array, not an object".to_owned();
    };
    // A `kind` too deep to parse is an array or an object, which is all there is to say.
    let kind = object.get("kind").map(|kind| {
        serde_json::from_str(kind.get()).unwrap_or_else(|_| {
            if kind.get().starts_with('[') {
                Value::Array(Vec::new())
            } else {
                Value::Object(Map::new())
            }
        })
    });
    if let Some(problem) = kind_problem(kind.as_ref()) {
        return problem;
    }
    let mut json = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, EventRecord>(&mut json) {
        Ok(_) => "not an event".to_owned(),
        Err(error) => field_error(error),
    }
}

/// What is wrong with the `kind` of an object, if anything.
fn kind_problem(kind: Option<&Value>) -> Option<String> {
    match kind {
        None => Some("an object without \"kind\"".to_owned()),
        Some(Value::String(kind)) => EventKind::deserialize(Value::String(kind.clone()))
            .is_err()
            .then(|| format!("unknown kind {kind:?}")),
        Some(other) => Some(format!("\"kind\" is a {}, not a string", type_name(other))),
    }
}

fn not_json(error: &serde_json::Error) -> String {
    format!(
        "not JSON: {} at column {}",
        without_position(error),
        error.column()
    )
}

/// `"usage.steps": invalid value: ...`, or the bare message for an error of the whole
/// object (a missing key), where there is no field to name.
fn field_error(error: serde_path_to_error::Error<serde_json::Error>) -> String {
    let message = without_position(error.inner());
    if error.path().iter().next().is_none() {
        return message;
    }
    format!("\"{}\": {message}", error.path())
}

/// serde_json's message without its "at line 1 column N": the line number that counts
/// is the log's.
fn without_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    if error.line() == 0 {
        return message;
    }
    message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(message, _)| message)
        .to_owned()
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
    use std::io::Cursor;

    use serde_json::json;

    use super::*;
    use crate::hash::sha24;
    use crate::line::{write_event_line, write_json_line, write_json_value};
    use crate::schema::{
        Amount, Event, LlmTokens, Meta, RecordArgs, RecordMeta, RecordUsage, RunUsage, Status,
        StopReason, Usage,
    };

    fn read_all(log: &[u8]) -> Vec<Item> {
        EventReader::new(log).map(Result::unwrap).collect()
    }

    fn read_one(line: &[u8]) -> EventRecord {
        match read_all(line).pop() {
            Some(Item::Event(event)) => event,
            other => panic!("{other:?} from {}", String::from_utf8_lossy(line)),
        }
    }

    /// Why a (terminated) line is skipped.
    fn reason(line: &str) -> String {
        match &read_all(format!("{line}\n").as_bytes())[..] {
            [Item::Skipped(Skipped { line_no: 1, reason })] => reason.to_string(),
            other => panic!("{other:?} from {line}"),
        }
    }

    const NASTY: &str =
        "q\"b\\n\nr\rt\tb\u{8}f\u{c}z\u{0}u\u{1f}del\u{7f}é中😀\u{2028}x\u{2029}\u{2027}/";

    #[test]
    fn every_field_written_is_read_back() {
        let run_usage = RunUsage {
            steps: 4,
            tool_calls: 3,
            tool_errors: 1,
            llm_calls: 1,
            input_tokens: 1200,
            output_tokens: u64::MAX,
            cached_input_tokens: 1024,
            reasoning_tokens: 64,
            spend_usd: Some(0.0042),
            unpriced_llm_calls: 2,
        };
        let usages = [
            Usage::Run(&run_usage),
            Usage::Llm(LlmTokens {
                input_tokens: 1,
                output_tokens: 2,
                cached_input_tokens: Some(1),
                reasoning_tokens: None,
                spend_usd: Some(1e-7),
            }),
            Usage::Llm(LlmTokens {
                input_tokens: 0,
                output_tokens: u64::MAX,
                cached_input_tokens: None,
                reasoning_tokens: Some(3),
                spend_usd: None,
            }),
        ];
        let kinds = [
            EventKind::Stop,
            EventKind::LlmResult,
            EventKind::ToolResult,
            EventKind::Guard,
            EventKind::BudgetWarning,
        ];
        let stored = json!({"to": NASTY, "nested": {"sep\u{2029}": [1, -2.5, null, true]}});
        let sha = sha24(&stored).unwrap();
        let reason = StopReason::Other(NASTY.to_owned());
        let reasons = [NASTY.to_owned(), "length".to_owned()];
        for (i, (kind, usage)) in kinds
            .into_iter()
            .zip(usages.into_iter().cycle())
            .enumerate()
        {
            // Every field named (no `..`): a field added to `Event` fails to compile here
            // until the record and this test know it.
            let written = Event {
                run_id: Some(NASTY),
                kind,
                ts_ms: 1_795_545_605_239,
                step_id: Some(i as u64 + 1),
                tool: Some("crm.lookup"),
                args_sha: Some(&sha),
                duration_ms: Some(u64::MAX),
                status: Some([Status::Ok, Status::Error][i % 2]),
                error: Some(NASTY),
                stop_reason: Some(&reason),
                usage: Some(usage),
                parent_step_id: Some(7),
                result_sha: Some(&sha),
                tool_version: Some("3"),
                model: Some("gpt-4o-2024-08-06"),
                meta: Some(Meta {
                    agent: NASTY,
                    model: Some("m"),
                    prompt_version: Some("v12"),
                    tools_version: Some(""),
                    parent_run_id: Some("parent"),
                    schema_version: 1,
                }),
                args: Some(&stored),
                hash_error: Some(NASTY),
                guard: Some(NASTY),
                limit: Some([Amount::Count(u64::MAX), Amount::Usd(0.5)][i % 2]),
                used: Some([Amount::Usd(1e-9), Amount::Count(0)][i % 2]),
                detail: Some(NASTY),
                attempt: Some(u32::MAX - i as u32),
                tool_call_id: Some(NASTY),
                provider: Some(NASTY),
                response_model: Some(NASTY),
                finish_reasons: Some(&reasons),
            };
            let mut line = Vec::new();
            write_event_line(&mut line, &written).unwrap();
            let read = read_one(&line);

            // Re-emitted through the writer's formatter, a record is the line it came from.
            let mut again = Vec::new();
            write_json_line(&mut again, &read).unwrap();
            assert_eq!(String::from_utf8(again), String::from_utf8(line.clone()));

            let Event {
                run_id,
                kind,
                ts_ms,
                step_id,
                tool,
                args_sha,
                duration_ms,
                status,
                error,
                stop_reason,
                usage,
                parent_step_id,
                result_sha,
                tool_version,
                model,
                meta,
                args,
                hash_error,
                guard,
                limit,
                used,
                detail,
                attempt,
                tool_call_id,
                provider,
                response_model,
                finish_reasons,
            } = written;
            // Every field named (no `..`): a field added to `EventRecord` fails to
            // compile here until the writer and this test know it.
            let EventRecord {
                run_id: read_run_id,
                kind: read_kind,
                ts_ms: read_ts_ms,
                step_id: read_step_id,
                tool: read_tool,
                args_sha: read_args_sha,
                duration_ms: read_duration_ms,
                status: read_status,
                error: read_error,
                stop_reason: read_stop_reason,
                usage: read_usage,
                parent_step_id: read_parent_step_id,
                result_sha: read_result_sha,
                tool_version: read_tool_version,
                model: read_model,
                meta: read_meta,
                args: read_args,
                hash_error: read_hash_error,
                guard: read_guard,
                limit: read_limit,
                used: read_used,
                detail: read_detail,
                attempt: read_attempt,
                tool_call_id: read_tool_call_id,
                provider: read_provider,
                response_model: read_response_model,
                finish_reasons: read_finish_reasons,
            } = read;
            assert_eq!(read_run_id.as_deref(), run_id);
            assert_eq!(read_kind, kind);
            assert_eq!(read_ts_ms, ts_ms);
            assert_eq!(read_step_id, step_id);
            assert_eq!(read_tool.as_deref(), tool);
            assert_eq!(read_args_sha.as_deref(), args_sha.map(|sha| sha.as_str()));
            assert_eq!(read_duration_ms, duration_ms);
            assert_eq!(read_status, status);
            assert_eq!(read_error.as_deref(), error);
            assert_eq!(read_stop_reason.as_ref(), stop_reason);
            assert_usage(usage, read_usage);
            assert_eq!(read_parent_step_id, parent_step_id);
            assert_eq!(
                read_result_sha.as_deref(),
                result_sha.map(|sha| sha.as_str())
            );
            assert_eq!(read_tool_version.as_deref(), tool_version);
            assert_eq!(read_model.as_deref(), model);
            assert_meta(meta, read_meta);
            let read_args = read_args.unwrap();
            assert_eq!(read_args.to_value().unwrap(), *args.unwrap());
            let mut args_text = Vec::new();
            write_json_value(&mut args_text, args.unwrap()).unwrap();
            assert_eq!(read_args.as_str().as_bytes(), args_text);
            assert_eq!(read_hash_error.as_deref(), hash_error);
            assert_eq!(read_guard.as_deref(), guard);
            assert_eq!(read_limit, limit);
            assert_eq!(read_used, used);
            assert_eq!(read_detail.as_deref(), detail);
            assert_eq!(read_attempt, attempt);
            assert_eq!(read_tool_call_id.as_deref(), tool_call_id);
            assert_eq!(read_provider.as_deref(), provider);
            assert_eq!(read_response_model.as_deref(), response_model);
            assert_eq!(read_finish_reasons.as_deref(), finish_reasons);
        }
    }

    fn assert_usage(written: Option<Usage<'_>>, read: Option<RecordUsage>) {
        let read = read.expect("usage");
        match written.expect("usage") {
            Usage::Run(&RunUsage {
                steps,
                tool_calls,
                tool_errors,
                llm_calls,
                input_tokens,
                output_tokens,
                cached_input_tokens,
                reasoning_tokens,
                spend_usd,
                unpriced_llm_calls,
            }) => {
                let RecordUsage {
                    steps: read_steps,
                    tool_calls: read_tool_calls,
                    tool_errors: read_tool_errors,
                    llm_calls: read_llm_calls,
                    input_tokens: read_input_tokens,
                    output_tokens: read_output_tokens,
                    cached_input_tokens: read_cached_input_tokens,
                    reasoning_tokens: read_reasoning_tokens,
                    spend_usd: read_spend_usd,
                    unpriced_llm_calls: read_unpriced_llm_calls,
                } = read;
                assert_eq!(read_cached_input_tokens, Some(cached_input_tokens));
                assert_eq!(read_reasoning_tokens, Some(reasoning_tokens));
                assert_eq!(read_unpriced_llm_calls, Some(unpriced_llm_calls));
                assert_eq!(read_steps, Some(steps));
                assert_eq!(read_tool_calls, Some(tool_calls));
                assert_eq!(read_tool_errors, Some(tool_errors));
                assert_eq!(read_llm_calls, Some(llm_calls));
                assert_eq!(read_input_tokens, Some(input_tokens));
                assert_eq!(read_output_tokens, Some(output_tokens));
                assert_eq!(read_spend_usd, spend_usd);
            }
            Usage::Llm(LlmTokens {
                input_tokens,
                output_tokens,
                cached_input_tokens,
                reasoning_tokens,
                spend_usd,
            }) => {
                let RecordUsage {
                    steps: None,
                    tool_calls: None,
                    tool_errors: None,
                    llm_calls: None,
                    input_tokens: read_input_tokens,
                    output_tokens: read_output_tokens,
                    cached_input_tokens: read_cached_input_tokens,
                    reasoning_tokens: read_reasoning_tokens,
                    spend_usd: read_spend_usd,
                    unpriced_llm_calls: None,
                } = read
                else {
                    panic!("run counts in an LLM call's usage: {read:?}");
                };
                assert_eq!(read_input_tokens, Some(input_tokens));
                assert_eq!(read_output_tokens, Some(output_tokens));
                assert_eq!(read_cached_input_tokens, cached_input_tokens);
                assert_eq!(read_reasoning_tokens, reasoning_tokens);
                assert_eq!(read_spend_usd, spend_usd);
            }
        }
    }

    fn assert_meta(written: Option<Meta<'_>>, read: Option<RecordMeta>) {
        let Meta {
            agent,
            model,
            prompt_version,
            tools_version,
            parent_run_id,
            schema_version,
        } = written.expect("meta");
        let RecordMeta {
            agent: read_agent,
            model: read_model,
            prompt_version: read_prompt_version,
            tools_version: read_tools_version,
            parent_run_id: read_parent_run_id,
            schema_version: read_schema_version,
        } = read.expect("meta");
        assert_eq!(read_agent.as_deref(), Some(agent));
        assert_eq!(read_model.as_deref(), model);
        assert_eq!(read_prompt_version.as_deref(), prompt_version);
        assert_eq!(read_tools_version.as_deref(), tools_version);
        assert_eq!(read_parent_run_id.as_deref(), parent_run_id);
        assert_eq!(read_schema_version, Some(u64::from(schema_version)));
    }

    #[test]
    fn an_event_with_every_optional_key_null_or_absent_reads_as_none() {
        let written = Event::new(EventKind::RunStart, None, 1_700_000_000_000);
        let mut line = Vec::new();
        write_event_line(&mut line, &written).unwrap();
        let read = read_one(&line);
        assert_eq!(read.kind, EventKind::RunStart);
        assert_eq!(read.ts_ms, 1_700_000_000_000);
        let mut again = Vec::new();
        write_json_line(&mut again, &read).unwrap();
        assert_eq!(again, line);
        // The first eleven keys may be left out too.
        let bare = read_one(br#"{"kind":"run_start","ts_ms":1700000000000}"#);
        assert_eq!(bare, read);
    }

    /// Nested `levels` deep: `{"a":[[...[0]...]]}`.
    fn deep_args(levels: usize) -> Value {
        let mut value = json!(0);
        for _ in 0..levels - 1 {
            value = Value::Array(vec![value]);
        }
        json!({ "a": value })
    }

    #[test]
    fn args_nested_deeper_than_a_parser_recurses_are_read() {
        let args = deep_args(1000);
        let mut event = Event::new(EventKind::ToolResult, Some("r"), 5);
        event.args = Some(&args);
        let mut line = Vec::new();
        write_event_line(&mut line, &event).unwrap();
        let read = read_one(&line);
        let mut args_text = Vec::new();
        write_json_value(&mut args_text, &args).unwrap();
        assert_eq!(read.args.unwrap().as_str().as_bytes(), args_text);

        // Deep and wrong elsewhere: the reason still says what is wrong, and where.
        let text = String::from_utf8(line).unwrap();
        let text = text.trim_end();
        assert_eq!(
            reason(&text.replace(r#""step_id":null"#, r#""step_id":"2""#)),
            "\"step_id\": invalid type: string \"2\", expected u64"
        );
        assert_eq!(
            reason(&format!("{text} x")),
            format!("not JSON: trailing characters at column {}", text.len() + 2)
        );
        // Other programs' deep lines get the reasons shallow ones get.
        let deep = deep_args(300);
        let nested = &deep["a"];
        assert_eq!(reason(&nested.to_string()), "a JSON array, not an object");
        assert_eq!(reason(&deep.to_string()), "an object without \"kind\"");
        assert_eq!(
            reason(&format!(r#"{{"kind":{nested}}}"#)),
            "\"kind\" is a array, not a string"
        );
        assert_eq!(
            reason(&format!(r#"{{"kind":"log","a":{nested}}}"#)),
            "unknown kind \"log\""
        );
    }

    #[test]
    fn args_must_be_an_object() {
        assert_eq!(
            reason(r#"{"kind":"tool_result","ts_ms":1,"args":5}"#),
            "\"args\": invalid type: integer `5`, expected a map"
        );
        assert_eq!(
            reason(r#"{"kind":"tool_result","ts_ms":1,"args":"x"}"#),
            "\"args\": invalid type: string \"x\", expected a map"
        );
        assert_eq!(
            reason(r#"{"kind":"tool_result","ts_ms":1,"args":[{}]}"#),
            "\"args\": invalid type: sequence, expected a map"
        );
        let deep = format!(
            "{{\"kind\":\"tool_result\",\"ts_ms\":1,\"args\":{}}}",
            deep_args(300)["a"]
        );
        assert_eq!(
            reason(&deep),
            "\"args\": invalid type: sequence, expected a map"
        );
        // Read from a `Value` to name the field, object args are still fine.
        assert_eq!(
            reason(r#"{"kind":"tool_result","ts_ms":1,"args":{"a":[1]},"step_id":-1}"#),
            "\"step_id\": invalid value: integer `-1`, expected u64"
        );
        let empty = read_one(br#"{"kind":"tool_result","ts_ms":1,"args":{ }}"#);
        assert_eq!(
            empty.args.map(|args| args.as_str().to_owned()).as_deref(),
            Some("{ }")
        );
        assert_eq!(
            read_one(br#"{"kind":"tool_result","ts_ms":1,"args":null}"#).args,
            None::<RecordArgs>
        );
    }

    #[test]
    fn a_full_event_parses_and_unknown_keys_are_ignored() {
        let line = br#"{"run_id":"r1","kind":"tool_result","ts_ms":5,"step_id":2,"tool":"t","args_sha":"ab","duration_ms":3,"status":"error","error":"Boom","stop_reason":null,"usage":null,"parent_step_id":1,"args":{"to":"[REDACTED]"},"future_key":[1]}"#;
        let event = read_one(line);
        assert_eq!(event.run_id.as_deref(), Some("r1"));
        assert_eq!(event.kind, EventKind::ToolResult);
        assert_eq!(event.step_id, Some(2));
        assert_eq!(event.parent_step_id, Some(1));
        assert_eq!(event.status, Some(Status::Error));
        assert_eq!(event.error.as_deref(), Some("Boom"));
        assert_eq!(event.args.unwrap().to_value().unwrap()["to"], "[REDACTED]");
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
        // serde_json's position is cut off its messages, not off the values they quote.
        assert_eq!(
            reason(r#"{"kind":"stop","ts_ms":"x at line 3"}"#),
            "\"ts_ms\": invalid type: string \"x at line 3\", expected u64"
        );
        match &read_all(b"{\"kind\":\"stop\xff\"}\n")[..] {
            [Item::Skipped(skipped)] => assert_eq!(skipped.to_string(), "line 1: not UTF-8"),
            other => panic!("{other:?}"),
        }
    }

    /// Hands out at most three bytes per read, so that lines span many reads.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(3).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn lines_span_reads_blank_lines_are_nothing_and_the_last_may_be_torn() {
        let first = r#"{"kind":"stop","ts_ms":1}"#;
        let log = format!("{first}\n\n  \r\n{{\"kind\":\"stop\",\"ts_ms\":2}}\n{{\"kind\":\"st");
        let mut reader = EventReader::new(Trickle(log.as_bytes()));
        let mut seen = Vec::new();
        while let Some(item) = reader.next() {
            let what = match item.unwrap() {
                Item::Event(event) => format!("event {}", event.ts_ms),
                Item::Skipped(skipped) => skipped.to_string(),
            };
            seen.push((what, reader.line_no(), reader.bytes_read()));
        }
        let end = log.len() as u64;
        assert_eq!(
            seen,
            [
                ("event 1".to_owned(), 1, first.len() as u64 + 1),
                ("event 2".to_owned(), 4, end - 11),
                (
                    "line 5: torn last line (no newline at the end)".to_owned(),
                    5,
                    end
                ),
            ]
        );
    }

    #[test]
    fn a_last_line_without_newline_that_is_an_event_is_an_event() {
        assert_eq!(read_one(br#"{"kind":"stop","ts_ms":3}"#).ts_ms, 3);
    }

    #[test]
    fn a_runaway_line_is_skipped_unread_and_reading_goes_on() {
        let mut log = vec![b'x'; 100];
        log.extend_from_slice(b"\n{\"kind\":\"stop\",\"ts_ms\":1}\n");
        let mut reader = EventReader::new(&log[..]).with_max_line(64);
        let first = reader.next().unwrap().unwrap();
        assert!(matches!(
            first,
            Item::Skipped(Skipped {
                line_no: 1,
                reason: SkipReason::TooLong { max: 64 }
            })
        ));
        assert_eq!(reader.line.len(), 64);
        assert!(matches!(reader.next(), Some(Ok(Item::Event(_)))));
        assert!(reader.next().is_none());
        assert_eq!(reader.bytes_read(), log.len() as u64);

        let too_long = |max| SkipReason::TooLong { max }.to_string();
        assert_eq!(too_long(DEFAULT_MAX_LINE), "longer than 16 MiB");
        assert_eq!(too_long(64), "longer than 64 bytes");
    }

    /// One line, then an error, then more that must not be read.
    struct Failing(Cursor<&'static [u8]>, bool);

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            if std::mem::replace(&mut self.1, true) {
                return Ok(0);
            }
            Err(io::Error::other("disk on fire"))
        }
    }

    #[test]
    fn an_error_reading_ends_the_items() {
        let mut reader = EventReader::new(Failing(
            Cursor::new(b"{\"kind\":\"stop\",\"ts_ms\":1}\n".as_slice()),
            false,
        ));
        assert!(matches!(reader.next(), Some(Ok(Item::Event(_)))));
        let error = reader.next().unwrap().unwrap_err();
        assert_eq!(error.to_string(), "disk on fire");
        assert!(reader.next().is_none());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    use super::{EventReader, Item};

    fn config() -> Config {
        Config {
            cases: 512,
            rng_seed: RngSeed::Fixed(0x2EAD),
            failure_persistence: None,
            ..Config::default()
        }
    }

    const GOOD: &str = r#"{"run_id":"r","kind":"stop","ts_ms":1,"step_id":null,"tool":null,"args_sha":null,"duration_ms":5,"status":null,"error":null,"stop_reason":"completed","usage":null}"#;

    proptest! {
        #![proptest_config(config())]

        /// Any bytes at all: no panic, one item at most per line, and no item longer
        /// than the limit was held.
        #[test]
        fn any_bytes_are_read_without_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..4096),
            max_line in 1usize..300,
        ) {
            let lines = bytes.iter().filter(|b| **b == b'\n').count() + 1;
            let mut items = 0;
            for item in EventReader::new(&bytes[..]).with_max_line(max_line) {
                // Reading may stop at a line that runs on far past the limit: that is
                // the one error allowed, and the last item.
                if let Err(error) = item {
                    prop_assert!(error.to_string().contains("not an event log"), "{error}");
                    prop_assert!(bytes.len() as u64 > super::GIVE_UP_AFTER_LINES * max_line as u64);
                }
                items += 1;
                prop_assert!(items <= lines);
            }
        }

        /// Good events between junk lines all come back, in order, and every junk line
        /// is reported, never taken for an event.
        #[test]
        fn events_among_junk_all_come_back(
            junk in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 0..12),
        ) {
            let junk: Vec<Vec<u8>> = junk
                .into_iter()
                .map(|line| line.into_iter().filter(|b| *b != b'\n').collect())
                .filter(|line: &Vec<u8>| !line.iter().all(u8::is_ascii_whitespace))
                .collect();
            let mut log = Vec::new();
            for line in &junk {
                log.extend_from_slice(GOOD.as_bytes());
                log.push(b'\n');
                log.extend_from_slice(line);
                log.push(b'\n');
            }
            let mut events = 0;
            let mut skipped = 0;
            for item in EventReader::new(&log[..]) {
                match item.unwrap() {
                    Item::Event(_) => events += 1,
                    Item::Skipped(_) => skipped += 1,
                }
            }
            // A junk line may by chance be an event too (a copy of GOOD is not
            // generated here: 80 random bytes), so every one is reported.
            prop_assert_eq!(events, junk.len());
            prop_assert_eq!(skipped, junk.len());
        }
    }
}

#[cfg(test)]
mod endless {
    use std::io::Read;

    use super::{EventReader, GIVE_UP_AFTER_LINES};

    /// Input that never ends and never has a newline, like `/dev/zero`: reading stops
    /// with an error that says why, after a bounded number of bytes.
    #[test]
    fn an_endless_line_is_an_error_not_a_hang() {
        let max_line = 64;
        let zeros = std::io::repeat(0).take(1 << 30);
        let mut reader = EventReader::new(zeros).with_max_line(max_line);
        let error = reader.next().expect("an item").expect_err("an error");
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
        assert!(error.to_string().contains("not an event log"), "{error}");
        // Checked once per buffer the reader fills: at most one buffer past the limit.
        assert!(reader.bytes_read() <= GIVE_UP_AFTER_LINES * 64 + (1 << 16));
        assert!(reader.next().is_none(), "ends after the error");
    }
}
