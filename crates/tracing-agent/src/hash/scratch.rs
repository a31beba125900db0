//! The reused output buffer, and objects whose keys are sorted in place when they close.
//!
//! An object is written in the order its entries arrive while each entry's byte range is
//! recorded; on close, if the keys were not already ascending, the object's body is copied
//! aside and rewritten in key order. That keeps the common path free of maps and per-key
//! allocations.

use std::cell::Cell;

use super::prefix::prefix_of;
use super::string;

/// Scratch buffers above this size are dropped rather than kept for the next hash.
const MAX_RETAINED: usize = 64 * 1024;

thread_local! {
    // Taken (not borrowed) while in use: a `Serialize` impl that hashes something itself
    // finds the slot empty and gets a fresh buffer, so nested hashing is safe.
    // Boxed so taking and returning it moves one pointer.
    static POOL: Cell<Option<Box<Scratch>>> = const { Cell::new(None) };
}

#[derive(Default)]
pub(crate) struct Scratch {
    /// The canonical JSON being built.
    pub(crate) out: Vec<u8>,
    /// Entries of every open object, innermost last.
    entries: Vec<Entry>,
    /// Copy of an object body while it is rewritten in key order.
    spare: Vec<u8>,
    /// Sequences and objects begun but not ended.
    pub(crate) open: usize,
    /// Map keys the hash refuses are written as `""` instead: for measuring a value's
    /// depth, not for hashing it.
    pub(crate) lenient_keys: bool,
    /// How many values down the serializer is: bounded, see `canonical::nested`.
    pub(crate) depth: usize,
    /// Set once any value failed: a `Serialize` impl that swallows an error (or breaks the
    /// serde protocol) must not yield a hash of half-written output.
    pub(crate) poisoned: bool,
}

/// One `"key":value` entry of an open object, as offsets into [`Scratch::out`].
#[derive(Clone, Copy)]
struct Entry {
    /// The key's opening quote.
    start: usize,
    /// The key's closing quote.
    key_end: usize,
    /// One past the value.
    end: usize,
    /// Whether the key contains escapes (then comparison must unescape).
    escaped: bool,
    /// The raw key's first eight bytes, big-endian and zero-padded: ordering by it first
    /// decides almost every comparison without touching the buffer.
    prefix: u64,
}

/// A key written by [`Scratch::write_key`], waiting for its value.
#[derive(Clone, Copy)]
pub(crate) struct KeySpan {
    start: usize,
    key_end: usize,
    escaped: bool,
    prefix: u64,
}

/// An object opened by [`Scratch::begin_object`].
#[derive(Clone, Copy)]
pub(crate) struct Object {
    /// `entries.len()` when it opened.
    base: usize,
    /// Offset just after its `{`.
    body: usize,
}

impl Scratch {
    /// Takes this thread's buffer, or a fresh one if it is in use further up the stack.
    #[inline]
    pub(crate) fn acquire() -> Box<Scratch> {
        let mut scratch = POOL.try_with(Cell::take).ok().flatten().unwrap_or_default();
        scratch.reset();
        scratch
    }

    /// Gives the buffer back for the next hash on this thread.
    #[inline]
    pub(crate) fn release(self: Box<Self>) {
        if self.out.capacity() <= MAX_RETAINED && self.spare.capacity() <= MAX_RETAINED {
            let _ = POOL.try_with(|pool| pool.set(Some(self)));
        }
    }

    #[inline]
    fn reset(&mut self) {
        self.out.clear();
        self.entries.clear();
        self.open = 0;
        self.depth = 0;
        self.lenient_keys = false;
        self.poisoned = false;
    }

    #[inline]
    pub(crate) fn begin_object(&mut self) -> Object {
        self.out.push(b'{');
        Object {
            base: self.entries.len(),
            body: self.out.len(),
        }
    }

    /// Writes `,` unless this is the object's first entry, then `"key":`.
    #[inline]
    pub(crate) fn write_key(&mut self, object: &Object, key: &str) -> KeySpan {
        self.separate(object);
        let start = self.out.len();
        self.out.push(b'"');
        let escaped = string::write_escaped(&mut self.out, key);
        self.close_key(start, escaped, prefix_of(key.as_bytes()))
    }

    #[inline]
    pub(crate) fn separate(&mut self, object: &Object) {
        if self.out.len() > object.body {
            self.out.push(b',');
        }
    }

    /// Ends a key whose opening quote is at `start` and content was just written;
    /// `prefix` is [`prefix_of`](super::prefix::prefix_of) the raw key.
    #[inline]
    pub(crate) fn close_key(&mut self, start: usize, escaped: bool, prefix: u64) -> KeySpan {
        let key_end = self.out.len();
        self.out.extend_from_slice(b"\":");
        KeySpan {
            start,
            key_end,
            escaped,
            prefix,
        }
    }

    /// Records the entry whose value was just written.
    #[inline]
    pub(crate) fn end_entry(&mut self, key: KeySpan) {
        self.entries.push(Entry {
            start: key.start,
            key_end: key.key_end,
            end: self.out.len(),
            escaped: key.escaped,
            prefix: key.prefix,
        });
    }

    /// [`prefix_of`](super::prefix::prefix_of) the raw key written since `start` (its opening quote), for keys only
    /// available as escaped output (`collect_str`).
    pub(crate) fn written_prefix(&self, start: usize) -> u64 {
        string::raw_prefix(self.out.get(start + 1..).unwrap_or_default())
    }

    /// The raw key of a pending entry, for error messages.
    pub(crate) fn key_text(&self, key: &KeySpan) -> String {
        string::unescape_lossy(self.out.get(key.start + 1..key.key_end).unwrap_or_default())
    }

    /// Closes the object, rewriting its body in key order if needed. Duplicate keys keep
    /// the last value, as a Python dict built from them would.
    #[inline]
    pub(crate) fn end_object(&mut self, object: &Object) {
        let in_order = self.entries.get(object.base..).is_none_or(|list| {
            list.windows(2).all(|pair| match pair {
                [a, b] => compare(&self.out, 0, a, b).is_lt(),
                _ => true,
            })
        });
        if !in_order {
            self.rewrite_sorted(object);
        }
        self.entries.truncate(object.base);
        self.out.push(b'}');
    }

    /// Rewrites an object body whose keys arrived out of order (or repeated) in key order.
    #[cold]
    fn rewrite_sorted(&mut self, object: &Object) {
        let Scratch {
            out,
            entries,
            spare,
            poisoned,
            ..
        } = self;
        let Some(list) = entries.get_mut(object.base..) else {
            return;
        };
        list.sort_by(|a, b| compare(out, 0, a, b));
        spare.clear();
        spare.extend_from_slice(out.get(object.body..).unwrap_or_default());
        out.truncate(object.body);
        let mut first = true;
        for (i, entry) in list.iter().enumerate() {
            let superseded = list
                .get(i + 1)
                .is_some_and(|next| compare(spare, object.body, entry, next).is_eq());
            if superseded {
                continue;
            }
            let bytes = entry
                .start
                .checked_sub(object.body)
                .zip(entry.end.checked_sub(object.body))
                .and_then(|(start, end)| spare.get(start..end));
            match bytes {
                Some(bytes) => {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    out.extend_from_slice(bytes);
                }
                // Only reachable if a `Serialize` impl broke the serde protocol.
                None => *poisoned = true,
            }
        }
    }
}

/// Compares two entries' keys in `buf`, which holds the output from offset `origin` on.
#[inline]
fn compare(buf: &[u8], origin: usize, a: &Entry, b: &Entry) -> std::cmp::Ordering {
    if a.prefix != b.prefix {
        return a.prefix.cmp(&b.prefix);
    }
    compare_keys(buf, origin, a, b)
}

/// [`compare`] for keys that share their first eight bytes.
fn compare_keys(buf: &[u8], origin: usize, a: &Entry, b: &Entry) -> std::cmp::Ordering {
    let key = |e: &Entry| {
        (e.start + 1)
            .checked_sub(origin)
            .zip(e.key_end.checked_sub(origin))
            .and_then(|(start, end)| buf.get(start..end))
            .unwrap_or_default()
    };
    string::cmp_escaped(key(a), a.escaped, key(b), b.escaped)
}
