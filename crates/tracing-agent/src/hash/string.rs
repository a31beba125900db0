//! String escaping exactly as Python's `json.dumps(..., ensure_ascii=False)` writes it.

use std::cmp::Ordering;
use std::fmt;

/// Per byte: 0 = copy as is, otherwise the letter after the backslash (`u` = `\u00XX`).
/// Only ASCII bytes are ever escaped, so multi-byte UTF-8 sequences are copied untouched.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the escaped content of `s` (without quotes); returns whether anything was escaped,
/// which lets key comparison skip unescaping in the common case.
#[inline]
pub(crate) fn write_escaped(out: &mut Vec<u8>, s: &str) -> bool {
    let bytes = s.as_bytes();
    if !needs_escape(bytes) {
        // The common case: one copy, no per-byte work.
        out.extend_from_slice(bytes);
        return false;
    }
    write_escaped_from(out, bytes, first_escape(bytes).unwrap_or(0))
}

/// The escaping loop, from the first byte that needs it.
#[cold]
fn write_escaped_from(out: &mut Vec<u8>, bytes: &[u8], first: usize) -> bool {
    let mut run_start = 0;
    for (i, &byte) in bytes.iter().enumerate().skip(first) {
        let code = ESCAPE[usize::from(byte)];
        if code == 0 {
            continue;
        }
        out.extend_from_slice(bytes.get(run_start..i).unwrap_or_default());
        run_start = i + 1;
        if code == b'u' {
            // Python writes `\u00XX` with lowercase hex.
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', code]);
        }
    }
    out.extend_from_slice(bytes.get(run_start..).unwrap_or_default());
    true
}

/// Whether any byte needs escaping. Arguments are mostly short strings, so instead of a
/// byte loop for what does not fill a word, the tail is read as one more word ending at the
/// last byte (overlapping bytes already checked, which cannot change a yes/no answer), and
/// strings under eight bytes as two overlapping halves or, under four, three single bytes.
#[inline]
fn needs_escape(bytes: &[u8]) -> bool {
    any_word(bytes, word_needs_escape, |b| ESCAPE[usize::from(b)] != 0)
}

/// Whether `bytes` are ASCII that JSON writes as is: nothing to escape, and no line
/// separator (U+2028/2029) possible, so a line writer can copy them whole.
#[inline]
pub(crate) fn is_plain_ascii(bytes: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    !any_word(
        bytes,
        |word| word & HIGH != 0 || word_needs_escape(word),
        |b| b >= 0x80 || ESCAPE[usize::from(b)] != 0,
    )
}

/// Whether `word_test` holds for any word of `bytes` (short strings: `byte_test` for
/// any byte), without a byte loop (see `needs_escape`).
#[inline(always)]
fn any_word(bytes: &[u8], word_test: impl Fn(u64) -> bool, byte_test: impl Fn(u8) -> bool) -> bool {
    let len = bytes.len();
    if len >= 8 {
        let mut chunks = bytes.chunks_exact(8);
        let any = chunks.any(|chunk| word_test(le_word(chunk)));
        return any || word_test(le_word(bytes.get(len - 8..).unwrap_or_default()));
    }
    if len >= 4 {
        let head = le_half(bytes.get(..4).unwrap_or_default());
        let tail = le_half(bytes.get(len - 4..).unwrap_or_default());
        return word_test(head | (tail << 32));
    }
    [0, len / 2, len.wrapping_sub(1)]
        .iter()
        .filter_map(|&i| bytes.get(i))
        .any(|&b| byte_test(b))
}

#[inline]
fn le_word(chunk: &[u8]) -> u64 {
    chunk
        .first_chunk::<8>()
        .map_or(0, |w| u64::from_le_bytes(*w))
}

#[inline]
fn le_half(chunk: &[u8]) -> u64 {
    chunk
        .first_chunk::<4>()
        .map_or(0, |w| u64::from(u32::from_le_bytes(*w)))
}

/// Index of the first byte that needs escaping, checking eight bytes at a time.
#[inline]
fn first_escape(bytes: &[u8]) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut clean = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or([0; 8]));
        if word_needs_escape(word) {
            break;
        }
        clean += 8;
    }
    let rest = bytes.get(clean..).unwrap_or_default();
    rest.iter()
        .position(|&b| ESCAPE[usize::from(b)] != 0)
        .map(|i| clean + i)
}

/// Whether any byte of `word` is below 0x20, `"` or `\` (classic "has byte less than /
/// equal to" bit tricks; exact as a yes/no answer).
#[inline]
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = word.wrapping_sub(ONES * 0x20);
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let zero_in = |x: u64| x.wrapping_sub(ONES) & !x;
    ((below_space & !word) | zero_in(quote) | zero_in(backslash)) & HIGH != 0
}

/// Appends `"s"`.
#[inline]
pub(crate) fn write_quoted(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    write_escaped(out, s);
    out.push(b'"');
}

/// Escapes `Display` output chunk by chunk, so `collect_str` needs no temporary `String`.
pub(crate) struct EscapingWriter<'a> {
    pub(crate) out: &'a mut Vec<u8>,
    pub(crate) escaped: bool,
}

impl fmt::Write for EscapingWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.escaped |= write_escaped(self.out, s);
        Ok(())
    }
}

/// Yields the raw UTF-8 bytes behind content written by [`write_escaped`].
struct Unescape<'a> {
    rest: &'a [u8],
}

impl Iterator for Unescape<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (&byte, rest) = self.rest.split_first()?;
        if byte != b'\\' {
            self.rest = rest;
            return Some(byte);
        }
        let (&code, rest) = rest.split_first()?;
        self.rest = rest;
        Some(match code {
            b'b' => 0x08,
            b't' => 0x09,
            b'n' => 0x0a,
            b'f' => 0x0c,
            b'r' => 0x0d,
            b'u' => {
                // Always `\u00XX`: only bytes below 0x20 get this form.
                let digits = rest.get(..4)?;
                self.rest = rest.get(4..)?;
                digits
                    .iter()
                    .try_fold(0u8, |acc, &d| Some(acc.wrapping_shl(4) | hex_value(d)?))?
            }
            other => other,
        })
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

/// Orders two escaped keys by their raw strings (code-point order == UTF-8 byte order).
/// Escaped bytes alone would misorder: `"\n"` sorts before `"A"` but `\` (0x5c) does not.
pub(crate) fn cmp_escaped(a: &[u8], a_escaped: bool, b: &[u8], b_escaped: bool) -> Ordering {
    if a_escaped || b_escaped {
        Unescape { rest: a }.cmp(Unescape { rest: b })
    } else {
        a.cmp(b)
    }
}

/// The first eight raw bytes behind escaped content (see `prefix::prefix_of`).
pub(crate) fn raw_prefix(escaped: &[u8]) -> u64 {
    super::prefix::pack(Unescape { rest: escaped })
}

/// The raw string behind escaped content, for error messages.
pub(crate) fn unescape_lossy(escaped: &[u8]) -> String {
    let raw: Vec<u8> = Unescape { rest: escaped }.collect();
    String::from_utf8_lossy(&raw).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escape(s: &str) -> (String, bool) {
        let mut out = Vec::new();
        let escaped = write_escaped(&mut out, s);
        (String::from_utf8(out).unwrap(), escaped)
    }

    #[test]
    fn escapes_like_python() {
        assert_eq!(escape("plain é 中 😀"), ("plain é 中 😀".into(), false));
        assert_eq!(
            escape("\"\\\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}\u{2028}/"),
            (
                "\\\"\\\\\\n\\r\\t\\b\\f\\u0000\\u001f\u{7f}\u{2028}/".into(),
                true
            )
        );
    }

    #[test]
    fn word_scan_finds_every_escapable_byte_at_every_position() {
        for byte in 0u8..=255 {
            for pos in 0..20 {
                let mut bytes = vec![b'a'; 20];
                bytes[pos] = byte;
                let want = (ESCAPE[usize::from(byte)] != 0).then_some(pos);
                assert_eq!(first_escape(&bytes), want, "byte {byte:#x} at {pos}");
            }
        }
    }

    #[test]
    fn quick_check_finds_every_escapable_byte_at_every_position_and_length() {
        for len in 1..20 {
            for byte in 0u8..=255 {
                for pos in 0..len {
                    let mut bytes = vec![b'a'; len];
                    bytes[pos] = byte;
                    let want = ESCAPE[usize::from(byte)] != 0;
                    assert_eq!(
                        needs_escape(&bytes),
                        want,
                        "byte {byte:#x} at {pos} of {len}"
                    );
                }
            }
        }
        assert!(!needs_escape(b""));
    }

    #[test]
    fn plain_ascii_check_finds_every_escapable_or_non_ascii_byte_at_every_position_and_length() {
        for len in 1..20 {
            for byte in 0u8..=255 {
                for pos in 0..len {
                    let mut bytes = vec![b'a'; len];
                    bytes[pos] = byte;
                    let want = byte.is_ascii() && !matches!(byte, 0..=0x1f | b'"' | b'\\');
                    assert_eq!(
                        is_plain_ascii(&bytes),
                        want,
                        "byte {byte:#x} at {pos} of {len}"
                    );
                }
            }
        }
        assert!(is_plain_ascii(b""));
    }

    #[test]
    fn unescape_round_trips_every_ascii_byte() {
        let all: String = (0u8..0x80).map(char::from).collect();
        let mut out = Vec::new();
        write_escaped(&mut out, &all);
        assert_eq!(unescape_lossy(&out), all);
    }

    #[test]
    fn compares_raw_strings() {
        let key = |s: &str| {
            let mut out = Vec::new();
            let e = write_escaped(&mut out, s);
            (out, e)
        };
        let (nl, nl_e) = key("\n");
        let (a, a_e) = key("A");
        assert_eq!(cmp_escaped(&nl, nl_e, &a, a_e), Ordering::Less);
        let (q, q_e) = key("a\"");
        let (bang, bang_e) = key("a!");
        assert_eq!(cmp_escaped(&q, q_e, &bang, bang_e), Ordering::Greater);
    }
}
