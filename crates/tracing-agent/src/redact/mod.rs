//! Redaction of stored tool arguments (`store_args: true`).
//!
//! Two rules, applied anywhere in the tree: values under keys that look like secrets or
//! personal data are replaced, and so are strings (and integers) that look like an email
//! address, a bearer token or a card number. Hand-written rather than a regex crate: the
//! three shapes are simple to scan for, and the Luhn check is not a regex anyway.

use serde_json::Value;

/// What a redacted value becomes.
pub const REDACTED: &str = "[REDACTED]";

/// The redaction rules of one layer.
#[derive(Clone, Debug)]
pub(crate) struct Redactor {
    /// Normalized (see [`normalize_key`]) fragments a key may contain.
    fragments: Vec<String>,
    /// Normalized keys matched whole (written `=token` in the config): words like `token`
    /// or `session` that would catch `max_tokens` or `session_id` as fragments.
    whole: Vec<String>,
    values: bool,
}

impl Redactor {
    pub(crate) fn new(keys: &[String], values: bool) -> Self {
        let (whole, fragments): (Vec<&String>, Vec<&String>) =
            keys.iter().partition(|k| k.starts_with('='));
        let normalized = |keys: Vec<&String>| -> Vec<String> {
            keys.into_iter()
                .map(|k| normalize_key(k.trim_start_matches('=')))
                .filter(|k| !k.is_empty())
                .collect()
        };
        Redactor {
            fragments: normalized(fragments),
            whole: normalized(whole),
            values,
        }
    }

    /// Redacts `value` in place; `key` is the key it sits under, if any.
    pub(crate) fn redact(&self, key: Option<&str>, value: &mut Value) {
        if key.is_some_and(|k| self.is_secret_key(k)) {
            *value = Value::String(REDACTED.to_owned());
            return;
        }
        match value {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    self.redact(Some(k), v);
                }
                if self.values && map.keys().any(|k| looks_sensitive(k)) {
                    // Keys are data too (a map indexed by email address).
                    *map = std::mem::take(map)
                        .into_iter()
                        .enumerate()
                        .map(|(n, (k, v))| {
                            if looks_sensitive(&k) {
                                (format!("{REDACTED}#{}", n + 1), v)
                            } else {
                                (k, v)
                            }
                        })
                        .collect();
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.redact(None, item);
                }
            }
            Value::String(text) if self.values && looks_sensitive(text) => {
                *value = Value::String(REDACTED.to_owned());
            }
            Value::Number(n) if self.values && n.as_u64().is_some_and(is_card_number_int) => {
                *value = Value::String(REDACTED.to_owned());
            }
            _ => {}
        }
    }

    fn is_secret_key(&self, key: &str) -> bool {
        let key = normalize_key(key);
        self.whole.contains(&key)
            || self
                .fragments
                .iter()
                .any(|fragment| key.contains(fragment.as_str()))
    }
}

/// Lowercase (Unicode), without `_`, `-`, `.` and white space: `X-Api-Key`, `api_key`
/// and `apiKey` all become `apikey`-containing.
fn normalize_key(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.') && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

fn looks_sensitive(text: &str) -> bool {
    contains_email(text) || contains_bearer_token(text) || contains_card_number(text)
}

/// `local@domain.tld`, with any non-space characters (non-ASCII too) on both sides.
fn contains_email(text: &str) -> bool {
    text.match_indices('@').any(|(at, _)| {
        let local = text[..at]
            .chars()
            .rev()
            .take_while(|c| is_address_char(*c))
            .count();
        let domain: String = text[at + 1..]
            .chars()
            .take_while(|c| is_address_char(*c))
            .collect();
        let domain = domain.trim_end_matches('.');
        local > 0
            && domain
                .split_once('.')
                .is_some_and(|(host, tld)| !host.is_empty() && !tld.is_empty())
    })
}

fn is_address_char(c: char) -> bool {
    !c.is_whitespace()
        && !matches!(
            c,
            '@' | '<' | '>' | '(' | ')' | ',' | ';' | ':' | '"' | '\''
        )
}

/// `Bearer <token>` (any case), the token at least 8 characters.
fn contains_bearer_token(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.match_indices("bearer ").any(|(at, _)| {
        lower[at + "bearer ".len()..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .count()
            >= 8
    })
}

/// 13 to 19 digits, optionally grouped by single spaces or dashes, passing the Luhn check.
fn contains_card_number(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let mut start = 0;
    while start < chars.len() {
        if !chars[start].is_ascii_digit() || (start > 0 && chars[start - 1].is_ascii_digit()) {
            start += 1;
            continue;
        }
        // Collect one run of digits with single separators between them.
        let mut digits = Vec::new();
        let mut i = start;
        while i < chars.len() {
            match chars[i] {
                c if c.is_ascii_digit() => digits.push(c as u8 - b'0'),
                ' ' | '-'
                    if i + 1 < chars.len()
                        && chars[i + 1].is_ascii_digit()
                        && !digits.is_empty() => {}
                _ => break,
            }
            i += 1;
        }
        // The whole run is the candidate: windows inside longer runs would find a
        // Luhn-valid stretch in one of ten random digit strings.
        if (13..=19).contains(&digits.len()) && luhn_valid(&digits) {
            return true;
        }
        start = i.max(start + 1);
    }
    false
}

fn is_card_number_int(n: u64) -> bool {
    let digits: Vec<u8> = n.to_string().bytes().map(|b| b - b'0').collect();
    (13..=19).contains(&digits.len()) && luhn_valid(&digits)
}

fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn default_redactor() -> Redactor {
        let keys: Vec<String> = crate::config::DEFAULT_REDACT_KEYS
            .iter()
            .map(|k| (*k).to_owned())
            .collect();
        Redactor::new(&keys, true)
    }

    #[test]
    fn luhn_accepts_known_test_numbers_only() {
        let digits = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<_>>();
        assert!(luhn_valid(&digits("4111111111111111")));
        assert!(luhn_valid(&digits("5500005555555559")));
        assert!(luhn_valid(&digits("378282246310005")));
        assert!(!luhn_valid(&digits("4111111111111112")));
        assert!(!luhn_valid(&digits("1234567890123")));
    }

    #[test]
    fn value_shapes() {
        assert!(contains_email("write to josé.núñez@correo.es today"));
        assert!(contains_email("ADA@EXAMPLE.COM"));
        assert!(!contains_email("user@localhost"));
        assert!(!contains_email("@handle and a.b"));
        assert!(contains_bearer_token(
            "Authorization: Bearer eyJhbGciOi.abc"
        ));
        assert!(!contains_bearer_token("the bearer of bad news"));
        assert!(contains_card_number("card 4111 1111 1111 1111 exp 12/29"));
        assert!(contains_card_number("4111-1111-1111-1111"));
        assert!(!contains_card_number("order 4111111111111112"));
        assert!(!contains_card_number("call 555 0100, ref 2024-10-08"));
    }

    #[test]
    fn keys_match_loosely_and_in_any_script_case() {
        let r = default_redactor();
        for key in [
            "password",
            "X-Api-Key",
            "apiKey",
            "user_EMAIL",
            "Set-Cookie",
            "PHONE_number",
            "ÜSER_PASSWORD",
        ] {
            assert!(r.is_secret_key(key), "{key}");
        }
        assert!(!r.is_secret_key("author"));
        assert!(!r.is_secret_key("query"));
        // Whole-key words: `token` and `session` alone, not inside other words.
        for key in [
            "token",
            "Token",
            "session",
            "access_token",
            "refresh-token",
            "session_token",
        ] {
            assert!(r.is_secret_key(key), "{key}");
        }
        for key in ["max_tokens", "session_id", "token_count"] {
            assert!(!r.is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn redacts_nested_values_and_keeps_the_rest() {
        let mut args = json!({
            "query": "refund for order 42",
            "customer": {"name": "Zoë", "email": "zoe@example.com", "notes": ["call +1 555 0100", "paid with 4111 1111 1111 1111"]},
            "headers": [{"Authorization": "Bearer abcdefgh12345"}],
            "to": "josé@exämple.com",
            "card": 4111111111111111u64,
            "visits_by_address": {"bob@example.com": {"visits": 3}, "plain": 1},
            "limit": 5
        });
        default_redactor().redact(None, &mut args);
        assert_eq!(
            args,
            json!({
                "query": "refund for order 42",
                "customer": {"name": "Zoë", "email": REDACTED, "notes": ["call +1 555 0100", REDACTED]},
                "headers": [{"Authorization": REDACTED}],
                "to": REDACTED,
                "card": REDACTED,
                "visits_by_address": {"[REDACTED]#1": {"visits": 3}, "plain": 1},
                "limit": 5
            })
        );
    }

    #[test]
    fn value_rules_can_be_turned_off() {
        let mut args = json!({"to": "zoe@example.com", "password": "x"});
        Redactor::new(&["password".to_owned()], false).redact(None, &mut args);
        assert_eq!(args, json!({"to": "zoe@example.com", "password": REDACTED}));
    }
}
