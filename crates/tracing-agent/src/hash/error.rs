//! Errors: the public [`HashError`] / [`JsonTextError`] and the serializer's internal error,
//! which collects its path while it propagates so the success path never tracks one.

use std::fmt;

/// Why a value could not be hashed. The message names the problem and where it is, e.g.
/// ``parameter `headers`: map key at `headers.<key>` is not a string (found integer)``.
#[derive(Clone, PartialEq, Eq)]
pub struct HashError {
    message: String,
    without_data: String,
}

impl HashError {
    /// The full message (the same text as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The message without map keys or a `Serialize` impl's own words (they may hold
    /// argument values): what the `hash_error` key of an event says.
    pub fn message_without_data(&self) -> &str {
        &self.without_data
    }
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HashError").field(&self.message).finish()
    }
}

impl std::error::Error for HashError {}

/// Why a JSON text could not be parsed, and where: the byte offset plus line and column
/// (1-based, counted in characters), e.g. ``expected `,` or `}` at column 17 (byte offset 16)``.
#[derive(Clone, PartialEq, Eq)]
pub struct JsonTextError {
    problem: String,
    offset: usize,
    line: usize,
    column: usize,
}

impl JsonTextError {
    pub(crate) fn new(text: &str, offset: usize, problem: impl Into<String>) -> Self {
        let before = text.get(..offset).unwrap_or(text);
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        JsonTextError {
            problem: problem.into(),
            offset,
            line: before.matches('\n').count() + 1,
            column: before.get(line_start..).unwrap_or("").chars().count() + 1,
        }
    }

    /// What was wrong or expected, without the position.
    pub fn problem(&self) -> &str {
        &self.problem
    }

    /// Byte offset into the text.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// 1-based line.
    pub fn line(&self) -> usize {
        self.line
    }

    /// 1-based column, in characters.
    pub fn column(&self) -> usize {
        self.column
    }
}

impl fmt::Display for JsonTextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at ", self.problem)?;
        if self.line > 1 {
            write!(f, "line {}, ", self.line)?;
        }
        write!(f, "column {} (byte offset {})", self.column, self.offset)
    }
}

impl fmt::Debug for JsonTextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonTextError({self})")
    }
}

impl std::error::Error for JsonTextError {}

/// Segments of a path shown in a message; the rest is `...`.
const MAX_SEGMENTS: usize = 16;

/// One step of the path from the hashed value down to the failure.
#[derive(Debug)]
pub(crate) enum Segment {
    /// A struct field or enum variant: a name from the code.
    Field(String),
    /// The value of a map entry, under this key: data, left out of event-safe messages.
    Entry(String),
    Index(usize),
    /// The key (rather than the value) of a map entry.
    Key,
}

#[derive(Debug)]
enum Kind {
    Custom(String),
    KeyNotString(String),
    Protocol(&'static str),
    TooDeep(usize),
}

/// The serializer's error, boxed so every `Result` on the success path stays one word.
#[derive(Debug)]
pub(crate) struct SerError(Box<Inner>);

/// `path` is innermost first: each level appends its segment as the error passes through it.
#[derive(Debug)]
struct Inner {
    kind: Kind,
    path: Vec<Segment>,
}

impl SerError {
    pub(crate) fn key_not_string(found: impl Into<String>) -> Self {
        Self::new(Kind::KeyNotString(found.into()))
    }

    /// Nesting beyond `limit` levels.
    pub(crate) fn too_deep(limit: usize) -> Self {
        Self::new(Kind::TooDeep(limit))
    }

    /// Whether this is the nesting limit (rather than a value the hash refuses).
    pub(crate) fn is_too_deep(&self) -> bool {
        matches!(self.0.kind, Kind::TooDeep(_))
    }

    /// The serde protocol was broken (e.g. a map value without a key).
    pub(crate) fn protocol(what: &'static str) -> Self {
        Self::new(Kind::Protocol(what))
    }

    fn new(kind: Kind) -> Self {
        SerError(Box::new(Inner {
            kind,
            path: Vec::new(),
        }))
    }

    pub(crate) fn at(mut self, segment: Segment) -> Self {
        self.0.path.push(segment);
        self
    }

    /// The public error; `param` is the tool parameter the value was (the path's root).
    pub(crate) fn into_public(self, param: Option<&str>) -> HashError {
        let prefix = param.map_or_else(String::new, |param| format!("parameter `{param}`: "));
        let root = param.unwrap_or("$");
        HashError {
            message: format!("{prefix}{}", self.describe(root, false)),
            without_data: format!("{prefix}{}", self.describe(root, true)),
        }
    }

    /// `without_data` leaves out map keys and custom messages: they may hold the very
    /// values (emails, secrets) that events must never contain.
    fn describe(&self, root: &str, without_data: bool) -> String {
        let path = self.render_path(root, without_data);
        match &self.0.kind {
            Kind::KeyNotString(found) => {
                format!("map key at `{path}` is not a string (found {found})")
            }
            Kind::Custom(_) if without_data => format!("`Serialize` impl failed at `{path}`"),
            Kind::Custom(message) => format!("`Serialize` impl failed at `{path}`: {message}"),
            Kind::Protocol(what) => format!("`Serialize` impl misbehaved at `{path}`: {what}"),
            Kind::TooDeep(limit) => format!("nesting deeper than {limit} levels at `{path}`"),
        }
    }

    fn render_path(&self, root: &str, without_data: bool) -> String {
        let mut path = root.to_owned();
        // A path hundreds of levels long says nothing more than its first few.
        let shown = self.0.path.len().min(MAX_SEGMENTS);
        for segment in self.0.path.iter().rev().take(shown) {
            match segment {
                Segment::Entry(_) if without_data => path.push_str("[<key>]"),
                Segment::Field(name) | Segment::Entry(name) if is_plain(name) => {
                    path.push('.');
                    path.push_str(name);
                }
                Segment::Field(name) | Segment::Entry(name) => {
                    path.push_str(&format!("[{name:?}]"))
                }
                Segment::Index(index) => path.push_str(&format!("[{index}]")),
                Segment::Key => path.push_str(".<key>"),
            }
        }
        if shown < self.0.path.len() {
            path.push_str("...");
        }
        path
    }
}

/// Names that read unambiguously after a `.`.
fn is_plain(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

impl fmt::Display for SerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe("$", false))
    }
}

impl std::error::Error for SerError {}

impl serde::ser::Error for SerError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::new(Kind::Custom(msg.to_string()))
    }
}
