//! Key rules: which map keys hold a secret or personal data, whatever their value.
//!
//! Three kinds of entry (the syntax of `logging.privacy.redact_keys`):
//!
//! - `api_key`: a fragment, found anywhere in the compact key (lowercase, without `_`,
//!   `-`, `.` and spaces): `X-Api-Key`, `apiKey`, `user_api_key`.
//! - `=token`: the whole compact key and nothing else.
//! - an entry with `*`: a glob over the key's words, `*` standing for any number of
//!   whole words (none included). `*token` is any key whose last word is `token`
//!   (`access_token`, `refreshToken`, `X-CSRF-Token`, `token`, but not `max_tokens` or
//!   `token_count`); `*tel*` is any key with the word `tel` (`tel`, `home_tel`,
//!   `telNumber`, but not `telemetry` or `hotel`).
//!
//! Keys and entries are both [normalized](super::normalize) first, so `ｐａｓｓｗｏｒｄ`
//! and `pass\u{200B}word` are `password`.

use super::normalize;

/// One part of a glob entry.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    /// `*`: zero or more whole words.
    Any,
    Word(String),
}

/// The key rules of one layer.
#[derive(Clone, Debug)]
pub(super) struct KeyRules {
    fragments: Vec<String>,
    whole: Vec<String>,
    globs: Vec<Vec<Part>>,
}

impl KeyRules {
    /// Compiles `redact_keys` entries; entries that normalize to nothing are dropped
    /// (an entry `*` or `_` would otherwise redact every key).
    pub(super) fn new(entries: &[String]) -> Self {
        let mut rules = KeyRules {
            fragments: Vec::new(),
            whole: Vec::new(),
            globs: Vec::new(),
        };
        for entry in entries {
            if let Some(whole) = entry.strip_prefix('=') {
                let whole = normalize::compact_key(whole);
                if !whole.is_empty() {
                    rules.whole.push(whole);
                }
            } else if entry.contains('*') {
                let glob = parse_glob(entry);
                if glob.iter().any(|p| matches!(p, Part::Word(_))) {
                    rules.globs.push(glob);
                }
            } else {
                let fragment = normalize::compact_key(entry);
                if !fragment.is_empty() {
                    rules.fragments.push(fragment);
                }
            }
        }
        rules
    }

    /// Whether `key` holds a secret by its name.
    pub(super) fn matches(&self, key: &str) -> bool {
        let compact = normalize::compact_key(key);
        if self.whole.contains(&compact)
            || self
                .fragments
                .iter()
                .any(|fragment| compact.contains(fragment.as_str()))
        {
            return true;
        }
        if self.globs.is_empty() {
            return false;
        }
        let words = normalize::key_words(key);
        self.globs.iter().any(|glob| glob_matches(glob, &words))
    }
}

fn parse_glob(entry: &str) -> Vec<Part> {
    let mut glob = Vec::new();
    for (i, piece) in entry.split('*').enumerate() {
        if i > 0 && glob.last() != Some(&Part::Any) {
            glob.push(Part::Any);
        }
        glob.extend(normalize::key_words(piece).into_iter().map(Part::Word));
    }
    glob
}

/// Wildcard matching over words, `Any` matching zero or more of them: the classic
/// two-pointer algorithm that backtracks only to the last `Any`, so O(words × parts).
fn glob_matches(glob: &[Part], words: &[String]) -> bool {
    let (mut g, mut w) = (0, 0);
    let mut last_any: Option<(usize, usize)> = None;
    while w < words.len() {
        match glob.get(g) {
            Some(Part::Word(word)) if *word == words[w] => {
                g += 1;
                w += 1;
            }
            Some(Part::Any) => {
                last_any = Some((g, w));
                g += 1;
            }
            _ => match last_any {
                Some((any_g, any_w)) => {
                    last_any = Some((any_g, any_w + 1));
                    g = any_g + 1;
                    w = any_w + 1;
                }
                None => return false,
            },
        }
    }
    glob[g..].iter().all(|p| *p == Part::Any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(entries: &[&str]) -> KeyRules {
        KeyRules::new(&entries.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn fragments_whole_keys_and_globs() {
        let r = rules(&["api_key", "=session", "*token", "*tel*", "csrf*"]);
        for key in [
            "X-Api-Key",
            "apiKey",
            "session",
            "Session",
            "token",
            "access_token",
            "refreshToken",
            "X-CSRF-Token",
            "tel",
            "home_tel",
            "telNumber",
            "csrf",
            "csrf_value",
        ] {
            assert!(r.matches(key), "{key}");
        }
        for key in [
            "session_id",
            "max_tokens",
            "tokens",
            "token_count",
            "telemetry",
            "hotel",
            "x_csrf",
            "query",
        ] {
            assert!(!r.matches(key), "{key}");
        }
    }

    #[test]
    fn empty_entries_match_nothing() {
        let r = rules(&["*", "_", "=", "=-", "**"]);
        assert!(!r.matches("anything"));
        assert!(!r.matches(""));
    }

    #[test]
    fn globs_backtrack_over_words() {
        let glob = parse_glob("*a*b");
        let words = |s: &str| normalize::key_words(s);
        assert!(glob_matches(&glob, &words("a_b")));
        assert!(glob_matches(&glob, &words("x_a_y_a_b")));
        assert!(glob_matches(&glob, &words("a_b_a_b")));
        assert!(!glob_matches(&glob, &words("a_b_c")));
        assert!(!glob_matches(&glob, &words("b_a")));
        assert_eq!(parse_glob("**x"), [Part::Any, Part::Word("x".to_owned())]);
    }
}
