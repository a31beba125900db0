//! What text and keys are matched on: one canonical spelling of what a reader would see.
//!
//! Secrets get past naive matching by being written in look-alike characters (`４１１１`,
//! `zoe＠example.com`, `ｐａｓｓｗｏｒｄ`) or with invisible ones inside (`pass\u{200B}word`).
//! Unicode NFKC folds the compatibility forms (fullwidth, superscript, ligatures, the
//! small `﹫`), and what NFKC leaves alone but a reader would read the same is mapped here
//! by hand. The normalized text is only ever matched, never written: a match replaces
//! the original string whole (see the module docs), so no offsets have to be mapped back.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

/// `text` as the rules see it: NFKC, without invisible characters, with the ideographic
/// full stop read as `.`, dashes as `-`, and decimal digits of other scripts as ASCII.
///
/// ASCII text is returned as it is (NFKC leaves it unchanged and it holds none of the
/// characters mapped here), which is nearly every string on the way through.
pub(super) fn text(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.nfkc()
            .filter(|&c| !is_invisible(c))
            .map(fold_char)
            .collect(),
    )
}

/// A key as its fragments and `=` entries are matched: [`text`], lowercased, without
/// `_`, `-`, `.` and white space (`X-Api-Key`, `api_key` and `apiKey` all hold `apikey`).
pub(super) fn compact_key(key: &str) -> String {
    text(key)
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | '.') && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A key's words, lowercased, as glob entries (`*token`) are matched: split at anything
/// that is not a letter or digit, and inside camelCase words (`refreshToken`,
/// `XCSRFToken` → `xcsrf`, `token`). `SESSIONID` and `sessionid` stay one word, which is
/// what tells Django's session cookie from an application's `session_id`.
pub(super) fn key_words(key: &str) -> Vec<String> {
    let text = text(key);
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        if c.is_uppercase() && !word.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // `fooBar` splits before `B`; `ABCDef` splits before `D` (an acronym, then a word).
            if prev.is_lowercase() || prev.is_numeric() || (prev.is_uppercase() && next_lower) {
                words.push(std::mem::take(&mut word));
            }
        }
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Characters that render as nothing: zero-width space, joiners and non-joiner, word
/// joiner, byte-order mark, soft hyphen, and the other format characters that only steer
/// rendering (bidi controls, variation selectors, tags, fillers). Removing them can only
/// join what a reader sees joined.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'                       // soft hyphen
        | '\u{034F}'                     // combining grapheme joiner
        | '\u{061C}'                     // Arabic letter mark
        | '\u{115F}' | '\u{1160}'        // Hangul fillers
        | '\u{17B4}' | '\u{17B5}'        // Khmer inherent vowels
        | '\u{180B}'..='\u{180F}'        // Mongolian variation selectors, vowel separator
        | '\u{200B}'..='\u{200F}'        // zero-width space, non-joiner, joiner, LRM, RLM
        | '\u{202A}'..='\u{202E}'        // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}'        // word joiner, invisible operators
        | '\u{2066}'..='\u{206F}'        // bidi isolates, deprecated format characters
        | '\u{3164}' | '\u{FFA0}'        // Hangul fillers
        | '\u{FE00}'..='\u{FE0F}'        // variation selectors
        | '\u{FEFF}'                     // byte-order mark / zero-width no-break space
        | '\u{E0000}'..='\u{E007F}'      // tags
        | '\u{E0100}'..='\u{E01EF}' // variation selectors supplement
    )
}

/// The zero of each script's decimal digits that NFKC leaves alone (it already folds
/// fullwidth and mathematical digits): a card number in Arabic-Indic or Devanagari
/// digits is still a card number.
const DIGIT_ZEROS: &[u32] = &[
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
    0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
];

fn fold_char(c: char) -> char {
    match c {
        // Ideographic and halfwidth ideographic full stops (NFKC maps U+FF61 to U+3002).
        '\u{3002}' | '\u{FF61}' => '.',
        // Hyphens, dashes and minus signs that NFKC keeps distinct from `-`.
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' => '-',
        _ => {
            let code = u32::from(c);
            DIGIT_ZEROS
                .iter()
                .find(|&&zero| (zero..zero + 10).contains(&code))
                .and_then(|&zero| char::from_digit(code - zero, 10))
                .unwrap_or(c)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_is_borrowed_and_unchanged() {
        assert!(matches!(text("plain ascii 4111"), Cow::Borrowed(_)));
    }

    #[test]
    fn look_alikes_and_invisibles_fold() {
        assert_eq!(text("４１１１　１１１１"), "4111 1111");
        assert_eq!(text("zoe＠example。com"), "zoe@example.com");
        assert_eq!(text("zoe﹫example｡com"), "zoe@example.com");
        assert_eq!(text("pass\u{200B}wo\u{00AD}rd\u{FEFF}"), "password");
        assert_eq!(text("a\u{2060}b\u{200D}c\u{200C}d"), "abcd");
        assert_eq!(text("٤١١١‐１١١١"), "4111-1111");
        assert_eq!(text("४१११"), "4111");
        assert_eq!(text("Bearer\u{00A0}tok"), "Bearer tok");
        // Letters of other scripts are not digits and stay what they are.
        assert_eq!(text("josé.núñez"), "josé.núñez");
    }

    #[test]
    fn keys_compact_and_split() {
        assert_eq!(compact_key("ｐａｓｓｗｏｒｄ"), "password");
        assert_eq!(compact_key("X-Api\u{200B}-Key"), "xapikey");
        assert_eq!(key_words("refreshToken"), ["refresh", "token"]);
        assert_eq!(key_words("XCSRFToken"), ["xcsrf", "token"]);
        assert_eq!(key_words("x-csrf-token"), ["x", "csrf", "token"]);
        assert_eq!(key_words("max_tokens"), ["max", "tokens"]);
        assert_eq!(key_words("SESSIONID"), ["sessionid"]);
        assert_eq!(key_words("sessionId"), ["session", "id"]);
        assert_eq!(key_words("oauth2Token"), ["oauth2", "token"]);
        assert_eq!(key_words("api_key=abc123"), ["api", "key", "abc123"]);
        assert_eq!(key_words("ｔｅｌ"), ["tel"]);
        assert_eq!(key_words("ÜSER_PASSWORD"), ["üser", "password"]);
        assert!(key_words("__").is_empty());
    }
}
