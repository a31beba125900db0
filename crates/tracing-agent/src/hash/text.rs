//! A parser for JSON text in Python's `json.loads` dialect, and the canonical writer for it.
//!
//! Hand-written because no crate parses Python's `NaN` / `Infinity` / `-Infinity` tokens
//! together with exact integers of any size (`serde_json` rejects the tokens and, without
//! `arbitrary_precision`, turns big integers into floats, which changes the hash).

use std::borrow::Cow;

use super::error::JsonTextError;
use super::{number, string};

/// Deeper nesting is rejected with an error instead of risking a stack overflow.
pub(crate) const MAX_DEPTH: usize = 512;

/// A parsed value. Objects are sorted by key (stably, so duplicates keep their order).
pub(crate) enum Node<'a> {
    Null,
    Bool(bool),
    /// The integer's digits exactly as written (any size).
    Int(&'a str),
    Float(f64),
    Str(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

/// Parses a whole document; only whitespace may follow the value.
pub(crate) fn parse(text: &str) -> Result<Node<'_>, JsonTextError> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    let node = parser.value()?;
    parser.skip_whitespace();
    if parser.pos < parser.bytes.len() {
        return Err(parser.error("unexpected data after the JSON value"));
    }
    Ok(node)
}

/// Writes `node` canonically.
pub(crate) fn write(out: &mut Vec<u8>, node: &Node<'_>) {
    match node {
        Node::Null => out.extend_from_slice(b"null"),
        Node::Bool(true) => out.extend_from_slice(b"true"),
        Node::Bool(false) => out.extend_from_slice(b"false"),
        // Python's int("-0") is 0.
        Node::Int("-0") => out.push(b'0'),
        Node::Int(digits) => out.extend_from_slice(digits.as_bytes()),
        Node::Float(value) => number::write_f64(out, *value),
        Node::Str(s) => string::write_quoted(out, s),
        Node::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(out, item);
            }
            out.push(b']');
        }
        Node::Object(entries) => {
            out.push(b'{');
            let mut first = true;
            for (i, (key, value)) in entries.iter().enumerate() {
                // A Python dict keeps the last value of a repeated key.
                if entries.get(i + 1).is_some_and(|(next, _)| next == key) {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                string::write_quoted(out, key);
                out.push(b':');
                write(out, value);
            }
            out.push(b'}');
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, problem: impl Into<String>) -> JsonTextError {
        self.error_at(self.pos, problem)
    }

    fn error_at(&self, offset: usize, problem: impl Into<String>) -> JsonTextError {
        JsonTextError::new(self.text, offset, problem)
    }

    /// Describes the character at the current position, for "expected X, found Y".
    fn found(&self) -> String {
        match self
            .text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
        {
            None => "end of input".to_owned(),
            Some(c) => format!("{:?}", c),
        }
    }

    fn expected(&self, what: &str) -> JsonTextError {
        self.error(format!("expected {what}, found {}", self.found()))
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<Node<'a>, JsonTextError> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'"') => Ok(Node::Str(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Node::Bool(true)),
            Some(b'f') => self.literal("false", Node::Bool(false)),
            Some(b'n') => self.literal("null", Node::Null),
            Some(b'N') => self.literal("NaN", Node::Float(f64::NAN)),
            Some(b'I') => self.literal("Infinity", Node::Float(f64::INFINITY)),
            _ => Err(self.expected("a JSON value")),
        }
    }

    fn literal(&mut self, word: &str, node: Node<'a>) -> Result<Node<'a>, JsonTextError> {
        let matches = self
            .bytes
            .get(self.pos..)
            .is_some_and(|rest| rest.starts_with(word.as_bytes()));
        if !matches {
            return Err(self.expected("a JSON value"));
        }
        self.pos += word.len();
        Ok(node)
    }

    /// Parses an array or object one level deeper.
    fn nested(
        &mut self,
        parse: fn(&mut Self) -> Result<Node<'a>, JsonTextError>,
    ) -> Result<Node<'a>, JsonTextError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.depth += 1;
        let node = parse(self);
        self.depth -= 1;
        node
    }

    fn array(&mut self) -> Result<Node<'a>, JsonTextError> {
        self.pos += 1; // `[`
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Node::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Node::Array(items));
                }
                _ => return Err(self.expected("`,` or `]`")),
            }
        }
    }

    fn object(&mut self) -> Result<Node<'a>, JsonTextError> {
        self.pos += 1; // `{`
        let mut entries = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Node::Object(entries));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.expected("a string key in double quotes"));
            }
            let key = self.string()?;
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.expected("`:`"));
            }
            self.pos += 1;
            let value = self.value()?;
            entries.push((key, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    // Stable: among equal keys the last stays last, and `write` keeps it.
                    entries.sort_by(|(a, _), (b, _)| a.cmp(b));
                    return Ok(Node::Object(entries));
                }
                _ => return Err(self.expected("`,` or `}`")),
            }
        }
    }

    fn string(&mut self) -> Result<Cow<'a, str>, JsonTextError> {
        let open = self.pos;
        self.pos += 1; // `"`
        let mut owned: Option<String> = None;
        let mut run_start = self.pos;
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.error_at(open, "unterminated string"));
            };
            match byte {
                b'"' => {
                    let run = self.slice(run_start, self.pos)?;
                    self.pos += 1;
                    return Ok(match owned {
                        None => Cow::Borrowed(run),
                        Some(mut s) => {
                            s.push_str(run);
                            Cow::Owned(s)
                        }
                    });
                }
                b'\\' => {
                    let run = self.slice(run_start, self.pos)?;
                    let c = self.escape()?;
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(run);
                    s.push(c);
                    run_start = self.pos;
                }
                0x00..=0x1f => {
                    return Err(self.error(format!(
                        "control character U+{byte:04X} in string (Python's strict mode requires it escaped)"
                    )));
                }
                _ => self.pos += 1,
            }
        }
    }

    /// The text between two positions that sit at ASCII bytes (hence char boundaries).
    fn slice(&self, start: usize, end: usize) -> Result<&'a str, JsonTextError> {
        self.text
            .get(start..end)
            .ok_or_else(|| self.error_at(start, "invalid UTF-8 boundary"))
    }

    /// Decodes the escape at the current `\`, leaving the position after it.
    fn escape(&mut self) -> Result<char, JsonTextError> {
        let start = self.pos;
        self.pos += 1; // `\`
        let Some(code) = self.peek() else {
            return Err(self.error_at(start, "unterminated string"));
        };
        self.pos += 1;
        Ok(match code {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(start),
            _ => {
                self.pos = start;
                return Err(self.error(format!(
                    "invalid escape `\\{}`",
                    self.text
                        .get(start + 1..)
                        .and_then(|rest| rest.chars().next())
                        .unwrap_or('?')
                )));
            }
        })
    }

    /// `\uXXXX`, combining a surrogate pair; `start` is the backslash.
    fn unicode_escape(&mut self, start: usize) -> Result<char, JsonTextError> {
        let unit = self.hex4(start)?;
        let code = match unit {
            0xd800..=0xdbff => {
                let low = self
                    .bytes
                    .get(self.pos..self.pos + 2)
                    .filter(|next| *next == b"\\u")
                    .and_then(|_| {
                        let saved = self.pos;
                        self.pos += 2;
                        match self.hex4(saved) {
                            Ok(low @ 0xdc00..=0xdfff) => Some(low),
                            _ => {
                                self.pos = saved;
                                None
                            }
                        }
                    });
                let Some(low) = low else {
                    return Err(self.lone_surrogate(start, unit));
                };
                0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00)
            }
            0xdc00..=0xdfff => return Err(self.lone_surrogate(start, unit)),
            _ => unit,
        };
        char::from_u32(code).ok_or_else(|| self.error_at(start, "invalid `\\u` escape"))
    }

    fn lone_surrogate(&self, start: usize, unit: u32) -> JsonTextError {
        self.error_at(
            start,
            format!("lone surrogate `\\u{unit:04x}` (Python could not encode it as UTF-8)"),
        )
    }

    /// Four hex digits after `\u` (the escape starts at `start`).
    fn hex4(&mut self, start: usize) -> Result<u32, JsonTextError> {
        let digits = self.bytes.get(self.pos..self.pos + 4);
        let value = digits.and_then(|digits| {
            digits.iter().try_fold(0u32, |acc, &d| {
                let d = char::from(d).to_digit(16)?;
                Some((acc << 4) | d)
            })
        });
        match value {
            Some(value) => {
                self.pos += 4;
                Ok(value)
            }
            None => Err(self.error_at(start, "invalid `\\u` escape: expected 4 hex digits")),
        }
    }

    fn number(&mut self) -> Result<Node<'a>, JsonTextError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
            if self.peek() == Some(b'I') {
                return self.literal("Infinity", Node::Float(f64::NEG_INFINITY));
            }
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(
                        self.error_at(start, "invalid number: leading zeros are not allowed")
                    );
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.expected("a digit")),
        }
        let mut is_float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digits("a digit after `.`")?;
            is_float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.required_digits("a digit in the exponent")?;
            is_float = true;
        }
        let token = self.slice(start, self.pos)?;
        if !is_float {
            return Ok(Node::Int(token));
        }
        // Correctly rounded, like Python's float(); overflow gives ±inf as in Python.
        token
            .parse::<f64>()
            .map(Node::Float)
            .map_err(|_| self.error_at(start, "invalid number"))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self, what: &str) -> Result<(), JsonTextError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.expected(what));
        }
        self.digits();
        Ok(())
    }
}
