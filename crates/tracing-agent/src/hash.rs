//! The canonical hash behind `args_sha` and `result_sha`.
//!
//! It must equal, byte for byte, the hash the Python reference implementation computes:
//!
//! ```text
//! sha256(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
//!        .encode("utf-8")).hexdigest()[:24]
//! ```
//!
//! so that hashes from Rust and Python agents can be compared. Values come either from a
//! [`serde::Serialize`] impl ([`sha24`]) or from JSON text in Python's dialect
//! ([`sha24_of_json_text`]); both are written in Python's canonical form (sorted keys, no
//! spaces, Python's float `repr` and string escapes) and then hashed.

mod canonical;
mod error;
mod number;
mod prefix;
mod scratch;
mod string;
mod text;

use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use self::error::{HashError, JsonTextError};
use self::scratch::{Object, Scratch};
pub(crate) use self::string::is_plain_ascii;
pub(crate) use self::string::write_escaped as write_json_escaped;

/// 24 lowercase hex chars: the first 96 bits of SHA-256 over the canonical JSON.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha24([u8; 24]);

impl Sha24 {
    /// The hex digits.
    pub fn as_str(&self) -> &str {
        // Always ASCII hex (built by `digest`), so this never takes the fallback.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The first 24 digits of a longer lowercase hex digest (a SHA-256 computed for
    /// another purpose, e.g. a snapshot's name), when they are hex.
    pub(crate) fn from_hex_prefix(hex: &str) -> Option<Sha24> {
        let digits = hex.as_bytes().get(..24)?;
        if !digits
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return None;
        }
        let mut sha = [0u8; 24];
        sha.copy_from_slice(digits);
        Some(Sha24(sha))
    }

    /// The hex digits as bytes: a line writer copies them without a UTF-8 check.
    pub(crate) fn as_bytes(&self) -> &[u8; 24] {
        &self.0
    }
}

impl fmt::Display for Sha24 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Sha24 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Sha24").field(&self.as_str()).finish()
    }
}

impl Serialize for Sha24 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[inline]
fn digest(canonical: &[u8]) -> Sha24 {
    Sha24::from_digest(&Sha256::digest(canonical))
}

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// [`digest`] of a scratch buffer's content, padded in place (FIPS 180-4, 5.1.1) so the
/// blocks go straight to the compression function: no copy into a block buffer and no
/// finalization step. The buffer's content is spent afterwards.
#[inline]
fn digest_in_place(buf: &mut Vec<u8>) -> Sha24 {
    use sha2::digest::generic_array::GenericArray;
    let bit_len = (buf.len() as u64).wrapping_mul(8);
    buf.push(0x80);
    let padded = (buf.len() + 8).next_multiple_of(64);
    buf.resize(padded - 8, 0);
    buf.extend_from_slice(&bit_len.to_be_bytes());
    let mut state = SHA256_IV;
    for block in buf.chunks_exact(64) {
        // `chunks_exact(64)` yields exactly 64 bytes, the length `from_slice` requires.
        sha2::compress256(
            &mut state,
            std::slice::from_ref(GenericArray::from_slice(block)),
        );
    }
    Sha24::from_words([state[0], state[1], state[2]])
}

impl Sha24 {
    /// The first three (big-endian) words of a SHA-256 state, as 24 hex digits: eight
    /// digits per word computed in a register, so the result is written with three wide
    /// stores instead of 24 byte stores (which the next wide read of it would stall on).
    #[inline]
    fn from_words(words: [u32; 3]) -> Sha24 {
        const ONES: u64 = 0x0101_0101_0101_0101;
        let mut hex = [0u8; 24];
        for (digits, word) in hex.chunks_exact_mut(8).zip(words) {
            // One nibble per byte, most significant first.
            let mut n = u64::from(word);
            n = ((n & 0xffff_0000) << 16) | (n & 0xffff);
            n = ((n & 0x0000_ff00_0000_ff00) << 8) | (n & 0x0000_00ff_0000_00ff);
            n = ((n & 0x00f0_00f0_00f0_00f0) << 4) | (n & 0x000f_000f_000f_000f);
            // Nibbles of 10 and up (bit 4 set after adding 6) skip to 'a' (39 past '9' + 1).
            let letters = ((n + 6 * ONES) >> 4) & ONES;
            let ascii = n + u64::from(b'0') * ONES + letters * 39;
            digits.copy_from_slice(&ascii.to_be_bytes());
        }
        Sha24(hex)
    }

    /// The first 12 bytes of a 32-byte digest, as 24 hex digits.
    #[inline]
    fn from_digest(digest: &[u8]) -> Sha24 {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 24];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(digest.iter()) {
            pair.copy_from_slice(&[HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]]);
        }
        Sha24(hex)
    }
}

/// The keyed hash: HMAC-SHA256 with `key` over the canonical JSON, truncated like the
/// plain one. Used instead of [`sha24`] when a hash key is configured, so that
/// low-entropy values (an email address) cannot be recovered by hashing guesses.
///
/// ```
/// let canonical = tracing_agent::hash::canonical_json_of_text(r#"{"to": "ada@example.com"}"#).unwrap();
/// let keyed = tracing_agent::hash::hmac_sha24(b"secret key", canonical.as_bytes());
/// assert_ne!(keyed, tracing_agent::hash::sha24_of_json_text(&canonical).unwrap());
/// ```
pub fn hmac_sha24(key: &[u8], canonical: &[u8]) -> Sha24 {
    use hmac::{Hmac, Mac};
    // HMAC takes keys of any length, so `new_from_slice` cannot fail; the fallback keeps
    // this free of panics all the same.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(canonical);
            Sha24::from_digest(&mac.finalize().into_bytes())
        }
        Err(_) => digest(canonical),
    }
}

/// Runs `f` on this thread's scratch buffer (or a fresh one when it is already in use).
fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut scratch = Scratch::acquire();
    let result = f(&mut scratch);
    scratch.release();
    result
}

/// The canonical hash of `value`.
///
/// Fails if a map key is not a string (Python's `json.dumps` could not have produced it, so
/// no string form is guessed) or if the `Serialize` impl fails.
///
/// ```
/// use std::collections::BTreeMap;
/// use tracing_agent::hash::sha24;
///
/// let args = BTreeMap::from([("to", "customer@example.com"), ("subject", "Your order")]);
/// assert_eq!(sha24(&args)?.as_str(), "aee843f2b4cfbb67c6993837");
///
/// let bad = BTreeMap::from([(1, "one")]);
/// assert_eq!(
///     sha24(&bad).unwrap_err().to_string(),
///     "map key at `$.<key>` is not a string (found integer)"
/// );
/// # Ok::<(), tracing_agent::hash::HashError>(())
/// ```
pub fn sha24<T: Serialize + ?Sized>(value: &T) -> Result<Sha24, HashError> {
    with_scratch(|scratch| {
        canonical::write(scratch, value).map_err(|e| e.into_public(None))?;
        Ok(digest_in_place(&mut scratch.out))
    })
}

/// Whether `value` nests deeper than the hashers accept, with the error that says so:
/// for code that must not walk a value on the stack (`serde_json::to_value`, which has no
/// limit) before knowing it is not too deep. Map keys the hash refuses (integers) are
/// let through here, as `serde_json` lets them through, so that what follows them is
/// still measured.
pub(crate) fn nesting_error<T: Serialize + ?Sized>(value: &T) -> Option<HashError> {
    with_scratch(|scratch| {
        scratch.lenient_keys = true;
        let written = canonical::nested(scratch, value);
        scratch.lenient_keys = false;
        match written {
            Err(e) if e.is_too_deep() => Some(e.into_public(None)),
            _ => None,
        }
    })
}

/// The canonical JSON text [`sha24`] hashes.
///
/// ```
/// use tracing_agent::hash::canonical_json;
///
/// #[derive(serde::Serialize)]
/// struct Args { to: &'static str, retries: u8, delay: f64 }
///
/// let json = canonical_json(&Args { to: "a@b.c", retries: 3, delay: 1e16 })?;
/// assert_eq!(json, r#"{"delay":1e+16,"retries":3,"to":"a@b.c"}"#);
/// # Ok::<(), tracing_agent::hash::HashError>(())
/// ```
pub fn canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<String, HashError> {
    with_scratch(|scratch| {
        canonical::write(scratch, value).map_err(|e| e.into_public(None))?;
        // Always valid UTF-8 (only `str` content and ASCII are written).
        Ok(std::str::from_utf8(&scratch.out).map_or_else(
            |_| String::from_utf8_lossy(&scratch.out).into_owned(),
            str::to_owned,
        ))
    })
}

/// The canonical hash of JSON text, parsed exactly as Python's `json.loads` would:
/// integers of any size, `NaN` / `Infinity` / `-Infinity`, duplicate keys keeping the last
/// value. Nesting deeper than 512 levels is rejected.
///
/// ```
/// use tracing_agent::hash::sha24_of_json_text;
///
/// let sha = sha24_of_json_text(r#"{"to": "customer@example.com", "subject": "Your order"}"#)?;
/// assert_eq!(sha.as_str(), "aee843f2b4cfbb67c6993837");
///
/// let err = sha24_of_json_text(r#"{"to": "x" "subject": 1}"#).unwrap_err();
/// assert_eq!(err.to_string(), "expected `,` or `}`, found '\"' at column 12 (byte offset 11)");
/// # Ok::<(), tracing_agent::hash::JsonTextError>(())
/// ```
pub fn sha24_of_json_text(text: &str) -> Result<Sha24, JsonTextError> {
    let node = text::parse(text)?;
    Ok(with_scratch(|scratch| {
        text::write(&mut scratch.out, &node);
        digest(&scratch.out)
    }))
}

/// The canonical JSON text [`sha24_of_json_text`] hashes.
///
/// ```
/// use tracing_agent::hash::canonical_json_of_text;
///
/// let json = canonical_json_of_text(r#"{"b": 1E400, "a": [1.0, 123456789012345678901234567890, -0]}"#)?;
/// assert_eq!(json, r#"{"a":[1.0,123456789012345678901234567890,0],"b":Infinity}"#);
/// # Ok::<(), tracing_agent::hash::JsonTextError>(())
/// ```
pub fn canonical_json_of_text(text: &str) -> Result<String, JsonTextError> {
    let node = text::parse(text)?;
    let mut out = Vec::with_capacity(text.len());
    text::write(&mut out, &node);
    // Always valid UTF-8 (only `str` content and ASCII are written).
    Ok(String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// Hashes the object `{name: value, ...}` of a tool's parameters, fed one parameter at a
/// time, without building a map.
///
/// The result equals [`sha24`] of the equivalent map. Used by the code `#[agent_tool]`
/// generates, on every tool call.
///
/// ```
/// use tracing_agent::hash::{sha24, ArgsHasher};
///
/// let mut hasher = ArgsHasher::new();
/// hasher.arg("retries", &3);
/// hasher.arg("to", "a@b.c");
/// let sha = hasher.finish()?;
/// assert_eq!(sha.as_str(), "3fd21cdfef606bf0f0bc4ca7");
/// assert_eq!(sha, sha24(&serde_json::json!({"to": "a@b.c", "retries": 3}))?);
/// # Ok::<(), tracing_agent::hash::HashError>(())
/// ```
pub struct ArgsHasher {
    // Owned (taken from the thread's pool) rather than borrowed, because argument
    // expressions evaluated between `arg` calls may hash things themselves. `None` only
    // once dropped.
    scratch: Option<Box<Scratch>>,
    object: Object,
    error: Option<HashError>,
}

impl ArgsHasher {
    /// Starts an empty argument object.
    #[inline]
    pub fn new() -> Self {
        let mut scratch = Scratch::acquire();
        let object = scratch.begin_object();
        // The values sit one level down, in the arguments object: the nesting limit falls
        // where it does for the same object given as one value or as text.
        scratch.depth = 1;
        ArgsHasher {
            scratch: Some(scratch),
            object,
            error: None,
        }
    }

    /// Adds parameter `name`. Records the first error (naming the parameter) and ignores
    /// later parameters.
    ///
    /// Feed names in ascending code-point (byte) order, as the `#[agent_tool]` macro does
    /// at compile time: then nothing is re-sorted. Names in another order still give the
    /// reference hash, at the cost of a rewrite.
    #[inline]
    pub fn arg<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) {
        let Some(scratch) = self.scratch.as_deref_mut() else {
            return;
        };
        if self.error.is_some() {
            return;
        }
        let key = scratch.write_key(&self.object, name);
        let written = value
            .serialize(&mut *scratch)
            .and_then(|()| canonical::check_complete(scratch));
        match written {
            Ok(()) => scratch.end_entry(key),
            Err(e) => self.error = Some(e.into_public(Some(name))),
        }
    }

    /// The hash of all parameters, or the first error.
    #[inline]
    pub fn finish(self) -> Result<Sha24, HashError> {
        // Padded in place: the buffer is cleared before its next use.
        self.finish_with(digest_in_place)
    }

    /// The keyed hash of all parameters ([`hmac_sha24`] with `key`), or the first error.
    pub fn finish_keyed(self, key: &[u8]) -> Result<Sha24, HashError> {
        self.finish_with(|canonical| hmac_sha24(key, canonical))
    }

    /// Closes the object and digests it with `digest`, or returns the first error.
    #[inline]
    fn finish_with(
        mut self,
        digest: impl FnOnce(&mut Vec<u8>) -> Sha24,
    ) -> Result<Sha24, HashError> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        let Some(mut scratch) = self.scratch.take() else {
            // Unreachable: only the finishers (which consume `self`) and `drop` take it.
            return Err(
                error::SerError::protocol("ArgsHasher used after finishing").into_public(None)
            );
        };
        scratch.end_object(&self.object);
        let sha = digest(&mut scratch.out);
        scratch.release();
        Ok(sha)
    }
}

impl Default for ArgsHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ArgsHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArgsHasher")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl Drop for ArgsHasher {
    fn drop(&mut self) {
        if let Some(scratch) = self.scratch.take() {
            scratch.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{digest, digest_in_place, Sha24};

    #[test]
    fn in_place_padding_matches_sha2_at_every_length_around_block_edges() {
        for len in 0..=300usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
            let mut buf = bytes.clone();
            assert_eq!(digest_in_place(&mut buf), digest(&bytes), "length {len}");
            assert_eq!(buf.len() % 64, 0, "length {len}");
        }
    }

    #[test]
    fn word_hex_matches_byte_hex() {
        let words = [0x0123_4567, 0x89ab_cdef, 0xf0e1_d2c3];
        let bytes: Vec<u8> = words.iter().flat_map(|w: &u32| w.to_be_bytes()).collect();
        assert_eq!(Sha24::from_words(words), Sha24::from_digest(&bytes));
        assert_eq!(
            Sha24::from_words(words).as_str(),
            "0123456789abcdeff0e1d2c3"
        );
        for nibble in 0..16u32 {
            let word = nibble * 0x1111_1111;
            let bytes = word.to_be_bytes();
            assert_eq!(
                Sha24::from_words([word, !word, word ^ 0x0f0f_0f0f]),
                Sha24::from_digest(
                    &[
                        bytes,
                        (!word).to_be_bytes(),
                        (word ^ 0x0f0f_0f0f).to_be_bytes()
                    ]
                    .concat()
                ),
                "nibble {nibble}"
            );
        }
    }
}
