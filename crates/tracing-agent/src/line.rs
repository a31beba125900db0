//! The event line, written by hand.
//!
//! Every tool call writes one, so its cost is paid on the agent's hot path. `serde_json`
//! escapes every key and digest byte by byte although they are static or hex; here keys
//! are literals and only the strings that can hold anything are escaped. The output is byte for byte what `serde_json` writes from the
//! `Serialize` derive on [`Event`] through the line-safe formatter below (the tests hold
//! them together), so the schema keeps one definition.

use std::io::{self, Write};

use serde::Serialize;

use crate::hash::{is_plain_ascii, write_json_escaped, Sha24};
use crate::schema::{Amount, Event, EventKind, Meta, Status};

/// Appends `event` as one JSON object and `\n`.
pub(crate) fn write_event_line(out: &mut Vec<u8>, event: &Event<'_>) -> serde_json::Result<()> {
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
    } = event;
    out.extend_from_slice(b"{\"run_id\":");
    opt_str(out, *run_id);
    out.extend_from_slice(b",\"kind\":\"");
    out.extend_from_slice(match kind {
        EventKind::RunStart => b"run_start",
        EventKind::ToolResult => b"tool_result",
        EventKind::LlmResult => b"llm_result",
        EventKind::Stop => b"stop",
        EventKind::Guard => b"guard",
        EventKind::BudgetWarning => b"budget_warning",
    });
    out.extend_from_slice(b"\",\"ts_ms\":");
    int(out, *ts_ms);
    out.extend_from_slice(b",\"step_id\":");
    opt_int(out, *step_id);
    out.extend_from_slice(b",\"tool\":");
    opt_str(out, *tool);
    out.extend_from_slice(b",\"args_sha\":");
    match args_sha {
        Some(sha) => digest(out, sha),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"duration_ms\":");
    opt_int(out, *duration_ms);
    out.extend_from_slice(b",\"status\":");
    out.extend_from_slice(match status {
        None => b"null".as_slice(),
        Some(Status::Ok) => b"\"ok\"",
        Some(Status::Error) => b"\"error\"",
    });
    out.extend_from_slice(b",\"error\":");
    opt_str(out, *error);
    out.extend_from_slice(b",\"stop_reason\":");
    opt_str(out, stop_reason.map(|reason| reason.as_str()));
    out.extend_from_slice(b",\"usage\":");
    match usage {
        None => out.extend_from_slice(b"null"),
        // Numbers only: serde_json's own float formatting keeps `spend_usd` identical.
        Some(usage) => serde_json::to_writer(&mut *out, usage)?,
    }
    if let Some(step) = parent_step_id {
        out.extend_from_slice(b",\"parent_step_id\":");
        int(out, *step);
    }
    if let Some(sha) = result_sha {
        out.extend_from_slice(b",\"result_sha\":");
        digest(out, sha);
    }
    if let Some(version) = tool_version {
        out.extend_from_slice(b",\"tool_version\":");
        str(out, version);
    }
    if let Some(model) = model {
        out.extend_from_slice(b",\"model\":");
        str(out, model);
    }
    if let Some(meta) = meta {
        out.extend_from_slice(b",\"meta\":");
        write_meta(out, meta);
    }
    if let Some(args) = args {
        // Stored arguments (`store_args`): rare, arbitrary, so written by serde_json.
        out.extend_from_slice(b",\"args\":");
        write_json_value(out, args)?;
    }
    if let Some(reason) = hash_error {
        out.extend_from_slice(b",\"hash_error\":");
        str(out, reason);
    }
    if let Some(guard) = guard {
        out.extend_from_slice(b",\"guard\":");
        str(out, guard);
    }
    if let Some(limit) = limit {
        out.extend_from_slice(b",\"limit\":");
        amount(out, limit)?;
    }
    if let Some(used) = used {
        out.extend_from_slice(b",\"used\":");
        amount(out, used)?;
    }
    if let Some(detail) = detail {
        out.extend_from_slice(b",\"detail\":");
        str(out, detail);
    }
    if let Some(attempt) = attempt {
        out.extend_from_slice(b",\"attempt\":");
        int(out, *attempt);
    }
    if let Some(id) = tool_call_id {
        out.extend_from_slice(b",\"tool_call_id\":");
        str(out, id);
    }
    if let Some(provider) = provider {
        out.extend_from_slice(b",\"provider\":");
        str(out, provider);
    }
    if let Some(model) = response_model {
        out.extend_from_slice(b",\"response_model\":");
        str(out, model);
    }
    if let Some(reasons) = finish_reasons {
        out.extend_from_slice(b",\"finish_reasons\":[");
        for (i, reason) in reasons.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            str(out, reason);
        }
        out.push(b']');
    }
    out.extend_from_slice(b"}\n");
    Ok(())
}

fn write_meta(out: &mut Vec<u8>, meta: &Meta<'_>) {
    let Meta {
        agent,
        model,
        prompt_version,
        tools_version,
        parent_run_id,
        schema_version,
    } = meta;
    out.extend_from_slice(b"{\"agent\":");
    str(out, agent);
    out.extend_from_slice(b",\"model\":");
    opt_str(out, *model);
    out.extend_from_slice(b",\"prompt_version\":");
    opt_str(out, *prompt_version);
    out.extend_from_slice(b",\"tools_version\":");
    opt_str(out, *tools_version);
    out.extend_from_slice(b",\"parent_run_id\":");
    opt_str(out, *parent_run_id);
    out.extend_from_slice(b",\"schema_version\":");
    int(out, *schema_version);
    out.push(b'}');
}

/// Counts as integers; USD through serde_json, whose float formatting the reference
/// writer shares.
fn amount(out: &mut Vec<u8>, amount: &Amount) -> serde_json::Result<()> {
    match amount {
        Amount::Count(n) => int(out, *n),
        Amount::Usd(usd) => serde_json::to_writer(&mut *out, usd)?,
    }
    Ok(())
}

fn int(out: &mut Vec<u8>, value: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

fn opt_int(out: &mut Vec<u8>, value: Option<u64>) {
    match value {
        Some(value) => int(out, value),
        None => out.extend_from_slice(b"null"),
    }
}

/// Hex digits need no escaping: one fixed-size copy, straight from the digest (assembling
/// the quoted string on the stack first made the copy reload it before its stores landed).
fn digest(out: &mut Vec<u8>, sha: &Sha24) {
    out.push(b'"');
    out.extend_from_slice(sha.as_bytes());
    out.push(b'"');
}

fn opt_str(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(value) => str(out, value),
        None => out.extend_from_slice(b"null"),
    }
}

/// A JSON string with JSON's escapes (the same as Python's, which the hash module already
/// writes fast), plus the [`LINE_BREAKS`]: some line readers break on them.
fn str(out: &mut Vec<u8>, value: &str) {
    out.push(b'"');
    // Ids, digests and tool names: one check, one copy.
    if is_plain_ascii(value.as_bytes()) {
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
        return;
    }
    let mut rest = value;
    // The separators start with 0xE2, NEL with 0xC2; most strings have neither.
    while rest.as_bytes().contains(&0xE2) || rest.as_bytes().contains(&0xC2) {
        let Some(at) = rest.find(LINE_BREAKS) else {
            break;
        };
        let (before, from) = rest.split_at(at);
        write_json_escaped(out, before);
        let (escape, len) = line_break_escape(from);
        out.extend_from_slice(escape);
        rest = from.get(len..).unwrap_or_default();
    }
    write_json_escaped(out, rest);
    out.push(b'"');
}

/// Characters JSON leaves unescaped that some line readers end a line on: U+2028 and
/// U+2029 (JavaScript, Python's `splitlines`) and NEL, U+0085 (`splitlines` again). One
/// event must always be exactly one line, whoever splits the file.
const LINE_BREAKS: [char; 3] = ['\u{85}', '\u{2028}', '\u{2029}'];

/// The escape of the line break `from` starts with, and its length in bytes.
fn line_break_escape(from: &str) -> (&'static [u8], usize) {
    match from.chars().next() {
        Some('\u{85}') => (b"\\u0085", 2),
        Some('\u{2028}') => (b"\\u2028", 3),
        _ => (b"\\u2029", 3),
    }
}

/// Writes `value` as JSON followed by `\n`. Besides JSON's own escapes, the
/// [`LINE_BREAKS`] are escaped.
// Events go through `write_event_line`; this stays as the reference it is tested against.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn write_json_line<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> serde_json::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(&mut *out, LineSafe);
    value.serialize(&mut serializer)?;
    out.push(b'\n');
    Ok(())
}

/// Writes `value` as JSON with the same line-safe escapes, without a newline.
pub(crate) fn write_json_value<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> serde_json::Result<()> {
    value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut *out, LineSafe,
    ))
}

struct LineSafe;

impl serde_json::ser::Formatter for LineSafe {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(LINE_BREAKS) {
            let (before, from) = rest.split_at(at);
            writer.write_all(before.as_bytes())?;
            let (escape, len) = line_break_escape(from);
            writer.write_all(escape)?;
            rest = from.get(len..).unwrap_or_default();
        }
        writer.write_all(rest.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::{write_event_line, write_json_line};
    use crate::hash::sha24;
    use crate::schema::{
        Amount, Event, EventKind, LlmTokens, Meta, RunUsage, Status, StopReason, Usage,
    };

    /// The hand-written line against serde_json's, from the derive.
    fn assert_same(event: &Event<'_>) {
        let mut fast = Vec::new();
        write_event_line(&mut fast, event).unwrap();
        let mut reference = Vec::new();
        write_json_line(&mut reference, event).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&reference)
        );
    }

    const NASTY: &str =
        "q\"b\\n\nr\rt\tb\u{8}f\u{c}z\u{0}u\u{1f}del\u{7f}é中😀\u{2028}x\u{2029}\u{2027}\u{202a}\u{85}n\u{84}\u{c2}/";

    #[test]
    fn every_key_set_writes_what_serde_json_writes() {
        let reason = StopReason::Other(NASTY.to_owned());
        let run_usage = RunUsage {
            steps: 4,
            tool_calls: 3,
            tool_errors: 1,
            llm_calls: 1,
            input_tokens: 1200,
            output_tokens: 350,
            cached_input_tokens: 1024,
            reasoning_tokens: 64,
            spend_usd: Some(0.0042),
            unpriced_llm_calls: 2,
        };
        let usages = [
            None,
            Some(Usage::Run(&run_usage)),
            Some(Usage::Llm(LlmTokens {
                input_tokens: 1,
                output_tokens: u64::MAX,
                cached_input_tokens: None,
                reasoning_tokens: Some(3),
                spend_usd: None,
            })),
            Some(Usage::Llm(LlmTokens {
                input_tokens: 0,
                output_tokens: 2,
                cached_input_tokens: Some(1),
                reasoning_tokens: None,
                spend_usd: Some(1e-7),
            })),
        ];
        let kinds = [
            EventKind::RunStart,
            EventKind::ToolResult,
            EventKind::LlmResult,
            EventKind::Stop,
            EventKind::Guard,
            EventKind::BudgetWarning,
        ];
        let args = serde_json::json!({
            "to": NASTY,
            "nested": {"line\u{2029}sep": [1, -2.5, null, true, "[REDACTED]"]},
        });
        let args_sha = sha24(&args).unwrap();
        let result_sha = sha24(&reason.as_str()).unwrap();
        let reasons = [NASTY.to_owned(), String::new(), "stop".to_owned()];
        for (i, (kind, usage)) in kinds
            .into_iter()
            .zip(usages.into_iter().cycle())
            .enumerate()
        {
            // Every field named (no `..`): a field added to `Event` fails to compile here
            // until the writer and this test know it.
            assert_same(&Event {
                run_id: Some(NASTY),
                kind,
                ts_ms: 1_795_545_605_239,
                step_id: Some(i as u64),
                tool: Some("crm.lookup\u{2028}"),
                args_sha: Some(&args_sha),
                duration_ms: Some(u64::MAX),
                status: Some(if i % 2 == 0 {
                    Status::Ok
                } else {
                    Status::Error
                }),
                error: Some(NASTY),
                stop_reason: Some(&reason),
                usage,
                parent_step_id: Some(7),
                result_sha: Some(&result_sha),
                tool_version: Some(NASTY),
                model: Some(NASTY),
                meta: Some(Meta {
                    agent: NASTY,
                    model: Some(NASTY),
                    prompt_version: None,
                    tools_version: Some(""),
                    parent_run_id: Some(NASTY),
                    schema_version: 1,
                }),
                args: Some(&args),
                hash_error: Some(NASTY),
                guard: Some(NASTY),
                limit: Some(if i % 2 == 0 {
                    Amount::Count(u64::MAX)
                } else {
                    Amount::Usd(0.1 + 0.2)
                }),
                used: Some(if i % 2 == 0 {
                    Amount::Usd(-0.0)
                } else {
                    Amount::Count(0)
                }),
                detail: Some(NASTY),
                attempt: Some(u32::MAX),
                tool_call_id: Some(NASTY),
                provider: Some(NASTY),
                response_model: Some(NASTY),
                finish_reasons: Some(&reasons),
            });
        }
    }

    #[test]
    fn every_key_null_or_absent_writes_what_serde_json_writes() {
        for kind in [EventKind::RunStart, EventKind::Stop] {
            let mut event = Event::new(kind, None, 1_700_000_000_000);
            assert_same(&event);
            event.stop_reason = Some(&StopReason::LoopDetected);
            assert_same(&event);
        }
    }

    #[test]
    fn nel_and_the_unicode_separators_never_break_the_line() {
        let text = "a\u{85}b\u{2028}c\u{2029}d\u{85}";
        let args = serde_json::json!({ text: text });
        let mut event = Event::new(EventKind::ToolResult, Some(text), 1);
        event.tool = Some(text);
        event.args = Some(&args);
        assert_same(&event);
        let mut line = Vec::new();
        write_event_line(&mut line, &event).unwrap();
        let line = String::from_utf8(line).unwrap();
        // As Python's `str.splitlines` would split it.
        let breaks = [
            '\n', '\r', '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}',
            '\u{2029}',
        ];
        assert_eq!(line.matches(breaks).count(), 1, "{line}");
        assert!(line.ends_with('\n'));
        assert_eq!(line.matches("\\u0085").count(), 8, "{line}");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    use super::write_event_line;
    use crate::schema::{Amount, Event, EventKind, Meta, StopReason};

    const KEYS: [&str; 11] = [
        "run_id",
        "kind",
        "ts_ms",
        "step_id",
        "tool",
        "args_sha",
        "duration_ms",
        "status",
        "error",
        "stop_reason",
        "usage",
    ];

    fn config() -> Config {
        Config {
            cases: 512,
            rng_seed: RngSeed::Fixed(0x11_4E),
            failure_persistence: None,
            ..Config::default()
        }
    }

    /// Strings rich in what breaks lines: every control character, the separators
    /// readers split on (U+0085, U+2028/2029), quotes and backslashes, astral chars.
    fn nasty() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            proptest::collection::vec(
                prop_oneof![
                    (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap()),
                    Just('\u{7f}'),
                    Just('\u{85}'),
                    Just('\u{2028}'),
                    Just('\u{2029}'),
                    Just('"'),
                    Just('\\'),
                    Just('😀'),
                    any::<char>(),
                ],
                0..24
            )
            .prop_map(|chars| chars.into_iter().collect()),
        ]
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_strings_make_exactly_one_json_line_with_the_eleven_keys(
            run_id in nasty(), tool in nasty(), error in nasty(), reason in nasty(),
            model in nasty(), agent in nasty(), detail in nasty(),
            kind in 0usize..6, step in any::<u64>(), ts in any::<u64>(),
        ) {
            let kinds = [
                EventKind::RunStart,
                EventKind::ToolResult,
                EventKind::LlmResult,
                EventKind::Stop,
                EventKind::Guard,
                EventKind::BudgetWarning,
            ];
            let reason = StopReason::Other(reason);
            let mut event = Event::new(kinds[kind], Some(&run_id), ts);
            event.step_id = Some(step);
            event.tool = Some(&tool);
            event.error = Some(&error);
            event.stop_reason = Some(&reason);
            event.model = Some(&model);
            event.guard = Some(&agent);
            event.detail = Some(&detail);
            event.limit = Some(Amount::Count(step));
            event.meta = Some(Meta {
                agent: &agent,
                model: Some(&model),
                prompt_version: None,
                tools_version: Some(&tool),
                parent_run_id: Some(&run_id),
                schema_version: 1,
            });
            let mut line = Vec::new();
            write_event_line(&mut line, &event).unwrap();
            let text = String::from_utf8(line).unwrap();
            let body = text.strip_suffix('\n').expect("ends with a newline");
            // Nothing any common reader splits lines on: Python's `splitlines` splits on
            // C0 separators, NEL and U+2028/2029 (JSON escapes every C0 character).
            prop_assert!(
                !body.contains(|c: char| c < ' ' || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}')),
                "{body:?}"
            );
            let value: serde_json::Value = serde_json::from_str(body).unwrap();
            // The eleven keys, in order: inside strings every quote is escaped, so
            // `"key":` can only be a key.
            let at: Vec<usize> = KEYS
                .iter()
                .map(|key| body.find(&format!("\"{key}\":")).expect(key))
                .collect();
            prop_assert!(at.windows(2).all(|w| w[0] < w[1]), "{body}");
            prop_assert_eq!(value["run_id"].as_str(), Some(run_id.as_str()));
            prop_assert_eq!(value["tool"].as_str(), Some(tool.as_str()));
            prop_assert_eq!(value["error"].as_str(), Some(error.as_str()));
            prop_assert_eq!(value["stop_reason"].as_str(), Some(reason.as_str()));
            prop_assert_eq!(value["meta"]["agent"].as_str(), Some(agent.as_str()));
            prop_assert_eq!(value["detail"].as_str(), Some(detail.as_str()));
            prop_assert_eq!(value["ts_ms"].as_u64(), Some(ts));
        }
    }
}
