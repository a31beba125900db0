//! The value rules: what in a string (or a map key) counts as a secret or personal data.
//!
//! Organised the way secret scanners (gitleaks, trufflehog, detect-secrets) organise
//! theirs, so that each rule can be reviewed, tested and documented on its own: an id,
//! what it catches, the pattern a candidate must match, and where the shape alone would
//! catch too much, a validator the candidate must also pass (a checksum, number-plan
//! rules, a look at its surroundings). README.md's "What redaction catches" lists the
//! same ids with what each one does not catch.
//!
//! Patterns use the `regex` crate rather than hand-written scanners: there are two dozen
//! shapes, the crate's finite automata guarantee time linear in the text for each search
//! (no backtracking blow-up on hostile input, which tool arguments can be), and the parts
//! a regex cannot say (Luhn, mod-97, area rules) stay plain Rust in `validate`.
//! Patterns are matched against [`normalize::text`](super::normalize::text), never
//! against what was written.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::validate;

/// One detection rule.
#[derive(Debug)]
pub(crate) struct Rule {
    /// Stable, kebab-case, as in README.md's table.
    pub(crate) id: &'static str,
    /// What it catches, for people.
    #[cfg_attr(
        not(test),
        allow(
            dead_code,
            reason = "documentation for reviewers; the tests check that every rule has one"
        )
    )]
    pub(crate) description: &'static str,
    /// What a candidate must match (a `regex` crate pattern). With a capture group, the
    /// first group is the part the validator checks.
    pub(crate) pattern: &'static str,
    /// What a candidate must also pass, if anything (a checksum, number-plan rules, its
    /// surroundings): given the whole normalized text and the candidate's byte range.
    pub(crate) validator: Option<fn(&str, Range<usize>) -> bool>,
}

/// Every rule, in the order they are tried (the first that matches decides; the order
/// only matters for which id a test sees).
pub(crate) const RULES: &[Rule] = &[
    Rule {
        id: "private-key",
        description: "a PEM private key block header: `-----BEGIN RSA PRIVATE KEY-----`, `-----BEGIN OPENSSH PRIVATE KEY-----`, `-----BEGIN PGP PRIVATE KEY BLOCK-----`",
        pattern: r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----",
        validator: None,
    },
    Rule {
        id: "jwt",
        description: "a JSON Web Token: `eyJ…` header, `.eyJ…` payload, `.` signature (possibly empty)",
        pattern: r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
        validator: None,
    },
    Rule {
        id: "bearer-token",
        description: "`Bearer <token>` (any case; after spaces, a tab, `%20` or `+`), the token 8 characters or longer and not an English word",
        pattern: r"(?i)\bbearer(?:\s|%20|\+)+([A-Za-z0-9\-._~+/]{8,}=*)",
        validator: Some(validate::opaque_token),
    },
    Rule {
        id: "basic-auth",
        description: "`Basic <base64>` HTTP credentials: base64 that decodes to `user:password`",
        pattern: r"(?i)\bbasic(?:\s|%20|\+)+([A-Za-z0-9+/_-]{6,}={0,2})",
        validator: Some(validate::basic_credentials),
    },
    Rule {
        id: "sk-api-key",
        description: "OpenAI (`sk-…`, `sk-proj-…`) and Anthropic (`sk-ant-…`) API keys",
        pattern: r"\bsk-([A-Za-z0-9_-]{20,})",
        validator: Some(validate::sk_key_body),
    },
    Rule {
        id: "aws-access-key-id",
        description: "AWS access key ids: `AKIA`, `ASIA`, `ABIA`, `ACCA` or `A3T…` and 16 more capitals or digits",
        pattern: r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b",
        validator: None,
    },
    Rule {
        id: "github-token",
        description: "GitHub tokens: `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and 20 or more letters and digits",
        pattern: r"\bgh[pousr]_[A-Za-z0-9]{20,}\b",
        validator: None,
    },
    Rule {
        id: "github-fine-grained-pat",
        description: "GitHub fine-grained personal access tokens: `github_pat_…`",
        pattern: r"\bgithub_pat_[A-Za-z0-9_]{22,}",
        validator: None,
    },
    Rule {
        id: "gitlab-token",
        description: "GitLab personal access tokens: `glpat-…`",
        pattern: r"\bglpat-[A-Za-z0-9_-]{20,}",
        validator: None,
    },
    Rule {
        id: "slack-token",
        description: "Slack tokens: `xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-`, `xoxe-`, `xoxo-` and 10 or more characters",
        pattern: r"\bxox[abeoprs]-[A-Za-z0-9-]{10,}",
        validator: None,
    },
    Rule {
        id: "slack-webhook",
        description: "Slack incoming-webhook URLs: `hooks.slack.com/services/…`",
        pattern: r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{16,}",
        validator: None,
    },
    Rule {
        id: "stripe-key",
        description: "Stripe secret and restricted keys: `sk_live_…`, `sk_test_…`, `rk_live_…`, `rk_test_…`",
        pattern: r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}",
        validator: None,
    },
    Rule {
        id: "google-api-key",
        description: "Google API keys: `AIza` and 35 more characters",
        pattern: r"\bAIza[A-Za-z0-9_-]{35}",
        validator: None,
    },
    Rule {
        id: "huggingface-token",
        description: "Hugging Face tokens: `hf_` and 30 or more letters and digits",
        pattern: r"\bhf_[A-Za-z0-9]{30,}\b",
        validator: None,
    },
    Rule {
        id: "npm-token",
        description: "npm access tokens: `npm_` and 36 letters and digits",
        pattern: r"\bnpm_[A-Za-z0-9]{36}\b",
        validator: None,
    },
    Rule {
        id: "url-credentials",
        description: "a password in a URL or DSN: `postgres://user:pass@host`, `redis://:pass@host`, Go's `user:pass@tcp(host)/db`",
        pattern: r"(?i)\b[a-z][a-z0-9+.-]*://[^\s/?#@:]*:[^\s/?#@]+@|\b[a-z0-9_.-]+:[^\s@/:]+@(?:tcp|udp|unix)\(",
        validator: None,
    },
    Rule {
        id: "secret-assignment",
        description: "a secret-named parameter with a value, in a query string, an env or config line, a header or JSON text: `?token=…`, `&access_token=…`, `api_key=…`, `password: …`, `\"client_secret\": \"…\"`, `X-Amz-Signature=…`",
        // Strong names (`password`, `secret`, `token`, `api_key`…) count with any prefix
        // glued on (`mytoken=`); weak ones (`pass`, `pwd`, `auth`, `sig`…) only as whole
        // words, so `bypass=1` and `config=…` stay readable. `tokens=` and `max_tokens:`
        // never match: the name must end right before the `=` or `:`.
        pattern: r#"(?i)(?:\b(?:[a-z0-9]+[_.-])*(?:pass|pwd|auth|credentials?|cookie|otp|pin|sig|signature)|[a-z0-9_.-]*(?:password|passwd|passphrase|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|sessionid|sessid|authorization))["']?[ \t]*[=:][ \t]*["']?[^\s"'&,;#<>]"#,
        validator: None,
    },
    Rule {
        id: "url-query-secret",
        description: "API keys and authorization codes in query strings: `?key=…`, `&code=…`",
        pattern: r"(?i)[?&](?:key|code)=[^&#\s]",
        validator: None,
    },
    Rule {
        id: "email",
        description: "an email address, in any script: `local@domain.tld` (the top-level domain 2 or more characters, starting with a letter)",
        pattern: r#"[^\s@<>()\[\]{},;:"'`]+@(?:[\p{L}\p{M}\p{N}_-]+\.)+\p{L}[\p{L}\p{M}\p{N}-]+"#,
        validator: None,
    },
    Rule {
        id: "iban",
        description: "an IBAN, grouped or not, of a country in the SWIFT registry, with the right length and a valid mod-97 check",
        pattern: r"(?i)\b[A-Z]{2}[0-9]{2}(?:[ -]?[A-Z0-9]){11,30}",
        validator: Some(validate::iban),
    },
    Rule {
        id: "card-number",
        description: "a payment card number: 13-19 digits of a known issuer passing Luhn, bare or grouped the way cards are printed (4-4-4-4, 4-6-5) with one separator throughout (space, double space, tab, `-`, `.`, `/`)",
        pattern: r"[0-9]+(?:[ \t./-]{1,3}[0-9]+)*",
        validator: Some(validate::card_in_run),
    },
    Rule {
        id: "us-ssn",
        description: "a US Social Security number written `AAA-GG-SSSS`, with an area the SSA issues (not 000, 666 or 900-999), group not 00, serial not 0000",
        pattern: r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b",
        validator: Some(validate::ssn),
    },
    Rule {
        id: "phone-e164",
        description: "an international phone number: `+`, then 9-15 digits (exactly 11 after `+1`), spaces, dots, dashes and parentheses allowed",
        pattern: r"\+[1-9](?:[ .\-]?\(?[0-9]\)?){6,16}",
        validator: Some(validate::phone_e164),
    },
    Rule {
        id: "phone-nanp",
        description: "a North American phone number: `555-123-4567`, `555.123.4567`, `(555) 123-4567`",
        pattern: r"\b[2-9][0-9]{2}-[0-9]{3}-[0-9]{4}\b|\b[2-9][0-9]{2}\.[0-9]{3}\.[0-9]{4}\b|\(\s*[2-9][0-9]{2}\s*\)\s?[0-9]{3}[ .-][0-9]{4}\b",
        validator: None,
    },
    Rule {
        id: "phone-national",
        description: "a national phone number with a trunk `0` and separators: `020 7946 0958`, `06 12 34 56 78`, `(02) 1234 5678`, `030-12345678` (10-12 digits, one separator throughout)",
        pattern: r"\(0[0-9]{1,4}\)\s?[0-9]{2,}(?:[ .\-/][0-9]{2,})*|\b0[1-9][0-9]{0,3}(?:[ .\-/][0-9]{2,}){1,7}\b",
        validator: Some(validate::phone_national),
    },
];

/// Strings longer than this are replaced whole, unscanned. Matching is linear, but a
/// rule set times a megabyte is already more than a tool argument's record is worth,
/// and failing closed is the safe answer to text too big to vouch for.
pub(crate) const MAX_SCAN_BYTES: usize = 1 << 20;

/// Candidates one rule may check in one string before the string counts as matched:
/// iterating over matches is where the `regex` crate's guarantee weakens (each search is
/// linear, a search per candidate is not), so the number of searches is bounded too.
const MAX_CANDIDATES: usize = 10_000;

static COMPILED: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    RULES
        .iter()
        .map(|rule| Regex::new(rule.pattern).unwrap_or_else(|e| panic!("rule {}: {e}", rule.id)))
        .collect()
});

/// The first rule that matches `text` (already normalized and no longer than
/// [`MAX_SCAN_BYTES`]: the caller decides what a longer one is), if any.
pub(crate) fn first_match(text: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .zip(COMPILED.iter())
        .find(|(rule, regex)| matches(rule, regex, text))
        .map(|(rule, _)| rule)
}

fn matches(rule: &Rule, regex: &Regex, text: &str) -> bool {
    let Some(validator) = rule.validator else {
        return regex.is_match(text);
    };
    let mut candidates = 0;
    for caps in regex.captures_iter(text) {
        candidates += 1;
        if candidates > MAX_CANDIDATES {
            return true;
        }
        let m = caps
            .get(1)
            .or_else(|| caps.get(0))
            .expect("group 0 is always set");
        if validator(text, m.range()) {
            return true;
        }
    }
    false
}

/// Whether rule `index` alone matches `text` (already normalized).
#[cfg(test)]
pub(crate) fn rule_matches_at(index: usize, text: &str) -> bool {
    matches(&RULES[index], &COMPILED[index], text)
}
