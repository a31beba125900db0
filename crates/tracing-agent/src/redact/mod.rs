//! Redaction of stored tool arguments (`store_args: true`).
//!
//! Two kinds of rule, applied anywhere in the tree:
//!
//! - **Key rules** ([`keys`]): the value under a key that names a secret or personal data
//!   (`password`, `X-Api-Key`, `*token`) is replaced, whatever it is.
//! - **Value rules** ([`rules`], with `redact_values`): a string that holds a secret
//!   (a card number, an email address, a provider API key, a password in a URL…) is
//!   replaced, and so is a map key that holds one (as `[REDACTED]#n`, `n` counting the
//!   map's keys from 1: a map indexed by email address is data), an integer or integral
//!   float that is a card number, and an array whose consecutive digit-only elements
//!   spell one (`["4111", "1111", "1111", "1111"]`) or that carries a PEM private key
//!   line by line.
//!
//! Text is [normalized](normalize) before any rule sees it (NFKC, invisible characters
//! removed), so look-alike and zero-width spellings match like plain ones.
//!
//! **A match replaces the whole string, not only the secret's span.** A string is
//! usually one field (a header, a note, a URL), and what surrounds a secret is often
//! about it where no rule looks: the user beside a password in a DSN, the expiry after
//! a card number, the words around a token a rule only half recognised. Cutting out
//! spans would also mean mapping offsets in normalized text back to what was written.
//! Replacing the whole string is the safe default and an easy one to read: a
//! `[REDACTED]` string had something in it; a readable one had nothing the rules know.
//!
//! This module is a leaf: it depends on nothing else in the crate, so the layer's
//! modules can move around it.

mod keys;
mod normalize;
mod rules;
mod validate;

#[cfg(test)]
mod findings;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use serde_json::{Number, Value};

use keys::KeyRules;

/// What a redacted value becomes.
pub const REDACTED: &str = "[REDACTED]";

/// The redaction rules of one layer, compiled from `logging.privacy`.
#[derive(Clone, Debug)]
pub(crate) struct Redactor {
    keys: KeyRules,
    /// `redact_values`: the value rules on too.
    values: bool,
}

impl Redactor {
    /// `keys` are `redact_keys` entries (see [`keys`] for their syntax); `values` turns
    /// the value rules on.
    pub(crate) fn new(keys: &[String], values: bool) -> Self {
        Redactor {
            keys: KeyRules::new(keys),
            values,
        }
    }

    /// Redacts `value` in place; `key` is the key it sits under, if any.
    pub(crate) fn redact(&self, key: Option<&str>, value: &mut Value) {
        if key.is_some_and(|k| self.keys.matches(k)) {
            *value = redacted();
            return;
        }
        match value {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    self.redact(Some(k), v);
                }
                if !self.values {
                    return;
                }
                let sensitive: Vec<bool> = map.keys().map(|k| detect(k).is_some()).collect();
                if sensitive.contains(&true) {
                    *map = std::mem::take(map)
                        .into_iter()
                        .zip(sensitive)
                        .enumerate()
                        .map(|(n, ((k, v), sensitive))| {
                            if sensitive {
                                (format!("{REDACTED}#{}", n + 1), v)
                            } else {
                                (k, v)
                            }
                        })
                        .collect();
                }
            }
            Value::Array(items) => {
                if self.values {
                    redact_split_card_numbers(items);
                    redact_private_key_lines(items);
                }
                for item in items {
                    self.redact(None, item);
                }
            }
            Value::String(text) if self.values && detect(text).is_some() => {
                *value = redacted();
            }
            Value::Number(n) if self.values && is_card_number(n) => {
                *value = redacted();
            }
            _ => {}
        }
    }
}

fn redacted() -> Value {
    Value::String(REDACTED.to_owned())
}

/// What a string on its way to the events holds by the value rules: the id of the first
/// rule that matches, or `oversized` for a string too long to scan (which is replaced
/// all the same: failing closed).
fn detect(raw: &str) -> Option<&'static str> {
    const OVERSIZED: &str = "oversized";
    if raw.len() > rules::MAX_SCAN_BYTES {
        return Some(OVERSIZED);
    }
    let text = normalize::text(raw);
    if text.len() > rules::MAX_SCAN_BYTES {
        return Some(OVERSIZED); // NFKC can expand a few characters many times over
    }
    rules::first_match(&text).map(|rule| rule.id)
}

/// An integer, or a float with nothing after the point (`4111111111111111.0`), that is a
/// card number. Negative numbers are read without their sign.
fn is_card_number(n: &Number) -> bool {
    let magnitude = if let Some(u) = n.as_u64() {
        Some(u)
    } else if let Some(i) = n.as_i64() {
        Some(i.unsigned_abs())
    } else {
        // 1e19 is past u64 and past any card; `as` saturates, but a float that large
        // has lost the digits it was written with anyway.
        n.as_f64()
            .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 1e19)
            .map(|f| f.abs() as u64)
    };
    magnitude.is_some_and(|m| validate::card_digits(&validate::digits_of(m)))
}

/// The digits of an array element that is only digits: a non-negative integer, or a
/// string of ASCII digits once normalized and trimmed (`"４１１１"`, `" 4111 "`); and
/// whether it was an integer (which has lost any leading zeros it was written with).
fn digit_group(item: &Value) -> Option<(Vec<u8>, bool)> {
    match item {
        Value::Number(n) => n.as_u64().map(|n| (validate::digits_of(n), true)),
        // Longer strings cannot be one group, whatever look-alikes they are spelled in.
        Value::String(s) if s.len() <= 256 => {
            let text = normalize::text(s);
            let digits = text.trim();
            (!digits.is_empty() && digits.len() <= 19 && digits.bytes().all(|b| b.is_ascii_digit()))
                .then(|| (digits.bytes().map(|b| b - b'0').collect(), false))
        }
        _ => None,
    }
}

/// A card number split over consecutive elements (`["4111", "1111", "1111", "1111"]`,
/// or the same as integers): the whole run of digit-only elements it sits in is
/// replaced, element by element, so no group of it is left to be put back together.
fn redact_split_card_numbers(items: &mut [Value]) {
    let groups: Vec<Option<(Vec<u8>, bool)>> = items.iter().map(digit_group).collect();
    let mut start = 0;
    while start < items.len() {
        if groups[start].is_none() {
            start += 1;
            continue;
        }
        let end = (start..items.len())
            .find(|&i| groups[i].is_none())
            .unwrap_or(items.len());
        if end - start >= 2 && split_card_in(&groups[start..end]) {
            items[start..end].fill(redacted());
        }
        start = end;
    }
}

/// Whether a run of digit groups spells a card, as written or, for integers shorter than
/// a card's group of 4, as the zero-padded group they may have been (`5500 0055 …`
/// arrives as `[5500, 55, …]`).
fn split_card_in(run: &[Option<(Vec<u8>, bool)>]) -> bool {
    let as_written: Vec<&[u8]> = run
        .iter()
        .map(|g| g.as_ref().expect("in the run").0.as_slice())
        .collect();
    // Elements have no separator of their own: any one is "the same".
    if validate::card_in_groups(&as_written, |_| true) {
        return true;
    }
    let padded: Vec<Vec<u8>> = run
        .iter()
        .map(|g| {
            let (digits, integer) = g.as_ref().expect("in the run");
            let missing = if *integer {
                4usize.saturating_sub(digits.len())
            } else {
                0
            };
            std::iter::repeat_n(0, missing)
                .chain(digits.iter().copied())
                .collect()
        })
        .collect();
    let padded: Vec<&[u8]> = padded.iter().map(Vec::as_slice).collect();
    padded != as_written && validate::card_in_groups(&padded, |_| true)
}

/// A PEM private key stored line by line (`["-----BEGIN RSA PRIVATE KEY-----",
/// "MIIEow…", …, "-----END RSA PRIVATE KEY-----"]`): the header is caught by the
/// `private-key` rule, and the lines after it up to the footer are the key itself.
fn redact_private_key_lines(items: &mut [Value]) {
    let mut in_key = false;
    for item in items.iter_mut() {
        let Value::String(line) = item else {
            continue;
        };
        let text = normalize::text(line);
        if in_key {
            in_key = !text.contains("-----END");
            *item = redacted();
        } else if text.contains("-----BEGIN")
            && text.contains("PRIVATE KEY")
            && !text.contains("-----END")
        {
            in_key = true;
        }
    }
}
