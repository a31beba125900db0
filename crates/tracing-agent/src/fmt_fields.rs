//! [`AgentFields`]: `fmt`'s text lines with the run's identity and without the
//! OpenTelemetry attributes that every line would otherwise repeat.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::span::Record;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FormatFields, FormattedFields};

/// The fields of this crate's spans that are for OpenTelemetry (and the `run started`
/// line) rather than for every text line: the run's versions, the convention's names and
/// kinds, and what is recorded when a span ends.
const LEFT_OUT: &[&str] = &[
    "gen_ai.agent.name",
    "gen_ai.operation.name",
    "gen_ai.request.model",
    "gen_ai.provider.name",
    "gen_ai.tool.call.id",
    "gen_ai.agent.finish_reason",
    "prompt_version",
    "tools_version",
    "otel.name",
    "otel.status_code",
    "error.type",
];

/// A [`FormatFields`] for `tracing_subscriber::fmt` that keeps the lines short: the run's
/// span shows `run_id`, a tool's span `tool` and `step_id`, and the rest of the run's
/// fields (agent, model, prompt and tools versions) are on its `run started` line only.
/// Fields of other spans and events are written as `fmt`'s default writes them.
///
/// ```
/// use tracing_subscriber::prelude::*;
/// tracing_subscriber::registry()
///     .with(tracing_subscriber::fmt::layer().fmt_fields(tracing_agent::AgentFields::default()))
///     .with(tracing_agent::AgentLayer::new())
///     .try_init()
///     .ok();
/// // INFO invoke_agent{run_id=01a2..}:execute_tool{tool="crm.lookup" step_id=2}: customer found
/// ```
///
/// The fields are left out by name, so a field of the user's own with one of these
/// names (`gen_ai.request.model`, `otel.name`, ...) is left out too.
#[derive(Clone, Copy, Debug, Default)]
pub struct AgentFields {
    _private: (),
}

impl<'writer> FormatFields<'writer> for AgentFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = Visitor {
            writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }

    /// Fields recorded after the span began (`step_id`, ...): appended after a space,
    /// unless every one of them is left out.
    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &Record<'_>,
    ) -> fmt::Result {
        let mut added = String::new();
        self.format_fields(Writer::new(&mut added), fields)?;
        if !added.is_empty() {
            if !current.fields.is_empty() {
                current.fields.push(' ');
            }
            current.fields.push_str(&added);
        }
        Ok(())
    }
}

struct Visitor<'writer> {
    writer: Writer<'writer>,
    first: bool,
    result: fmt::Result,
}

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_debug(field, &value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() || LEFT_OUT.contains(&field.name()) {
            return;
        }
        let separator = if self.first { "" } else { " " };
        self.first = false;
        self.result = match field.name() {
            "message" => write!(self.writer, "{separator}{value:?}"),
            // The convention's name is long, and on every line inside the tool.
            "gen_ai.tool.name" => write!(self.writer, "{separator}tool={value:?}"),
            name => write!(self.writer, "{separator}{name}={value:?}"),
        };
    }
}
