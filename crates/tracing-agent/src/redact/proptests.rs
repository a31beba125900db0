//! The property: a planted secret of any documented kind, in any spelling, embedded in
//! random text at a random place in random JSON (as a value or as a map key, at any
//! depth), is never in what the redactor leaves.
//!
//! One test per kind, each a fixed number of cases from a fixed seed: CI sees the same
//! inputs on every run, and a failure names its kind. The oracle does its own Unicode
//! normalization (not the module's), so a normalization bug cannot hide a leak.

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestRunner};
use serde_json::{json, Map, Value};
use unicode_normalization::UnicodeNormalization;

use super::tests::default_redactor;

/// Cases per kind; 26 kinds.
const CASES: u32 = 64;

fn config() -> Config {
    Config {
        cases: CASES,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x5EC2E75),
        failure_persistence: None,
        max_shrink_iters: 512,
        ..Config::default()
    }
}

/// What must not survive redaction.
#[derive(Clone, Debug)]
enum Core {
    /// Text that must not be in any string (normalized).
    Text(String),
    /// Letters and digits that must not be in any string or array with everything else
    /// taken out (a card number's digits, however they were grouped).
    Compact(String),
}

/// A secret as planted.
#[derive(Clone, Debug)]
enum Planted {
    /// Text: embedded in filler, as a string value or a map key.
    Text(String),
    /// A JSON value planted as it is (a card number as a number, split over an array).
    Json(Value),
}

#[derive(Clone, Debug)]
struct Secret {
    planted: Planted,
    core: Core,
}

fn text_secret(text: String, core: Core) -> Secret {
    Secret {
        planted: Planted::Text(text),
        core,
    }
}

// ---- The secrets, one generator per documented kind. ----

fn digits(n: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(0u8..10, n).prop_map(|d| d.iter().map(|d| char::from(b'0' + d)).collect())
}

fn luhn_complete(prefix: &str) -> String {
    (0..10)
        .map(|d| format!("{prefix}{d}"))
        .find(|n| {
            let sum: u32 = n
                .bytes()
                .rev()
                .enumerate()
                .map(|(i, b)| {
                    let d = u32::from(b - b'0');
                    if i % 2 == 1 {
                        (d * 2) / 10 + (d * 2) % 10
                    } else {
                        d
                    }
                })
                .sum();
            sum.is_multiple_of(10)
        })
        .expect("a check digit exists")
}

/// A card number (Visa, Mastercard, Amex, Discover, JCB, Mastercard 2-series).
fn card_digits() -> impl Strategy<Value = String> {
    select(vec![
        ("4", 16),
        ("51", 16),
        ("55", 16),
        ("37", 15),
        ("6011", 16),
        ("35", 16),
        ("2221", 16),
        ("4", 13),
    ])
    .prop_flat_map(|(prefix, len)| {
        digits(len - prefix.len() - 1)
            .prop_map(move |body| luhn_complete(&format!("{prefix}{body}")))
    })
}

/// The groups a card is printed in.
fn card_groups(number: &str) -> Vec<String> {
    let sizes: &[usize] = match number.len() {
        15 => &[4, 6, 5],
        13 => &[4, 4, 5],
        _ => &[4, 4, 4, 4],
    };
    let mut rest = number;
    sizes
        .iter()
        .map(|&n| {
            let (group, tail) = rest.split_at(n);
            rest = tail;
            group.to_owned()
        })
        .collect()
}

fn card_text() -> impl Strategy<Value = Secret> {
    (
        card_digits(),
        select(vec!["", " ", "-", ".", "/", "  ", "\t", " - "]),
        any::<bool>(),
    )
        .prop_map(|(number, sep, float_text)| {
            let text = if sep.is_empty() && float_text {
                format!("{number}.0")
            } else {
                card_groups(&number).join(sep)
            };
            text_secret(text, Core::Compact(number))
        })
}

fn card_json() -> impl Strategy<Value = Secret> {
    (card_digits(), 0..4u8).prop_map(|(number, form)| {
        let n: u64 = number.parse().expect("digits");
        let planted = match form {
            0 => json!(n),
            // Every generated card is below 2^53: exact as a float.
            1 => json!(n as f64),
            2 => Value::Array(
                card_groups(&number)
                    .into_iter()
                    .map(Value::String)
                    .collect(),
            ),
            _ => Value::Array(
                card_groups(&number)
                    .iter()
                    .map(|g| json!(g.parse::<u64>().expect("digits")))
                    .collect(),
            ),
        };
        // A group of leading zeros read as an integer loses them: check the groups
        // the way they were planted.
        let core = match &planted {
            Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
            _ => number,
        };
        Secret {
            planted: Planted::Json(planted),
            core: Core::Compact(core),
        }
    })
}

fn email() -> impl Strategy<Value = Secret> {
    (
        "[a-z]{1,8}(\\.[a-z]{1,6})?|zoë|josé\\.núñez",
        select(vec!['@', '＠', '﹫']),
        "[a-z]{2,10}",
        select(vec!['.', '。', '．']),
        select(vec!["com", "org", "io", "de", "co.uk", "example"]),
    )
        .prop_map(|(local, at, domain, dot, tld)| {
            text_secret(
                format!("{local}{at}{domain}{dot}{tld}"),
                Core::Text(format!("{local}@{domain}.{tld}")),
            )
        })
}

fn bearer() -> impl Strategy<Value = Secret> {
    (
        select(vec!["Bearer", "bearer", "BEARER"]),
        select(vec![" ", "\t", "  ", "%20"]),
        "[A-Za-z0-9._~+/-]{7,40}[0-9]",
    )
        .prop_map(|(word, sep, token)| {
            text_secret(format!("{word}{sep}{token}"), Core::Text(token))
        })
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn basic_auth() -> impl Strategy<Value = Secret> {
    (
        "[a-z]{3,8}",
        "[A-Za-z0-9!#%]{6,14}",
        select(vec![" ", "\t", "%20"]),
    )
        .prop_map(|(user, password, sep)| {
            let credentials = base64(format!("{user}:{password}").as_bytes());
            text_secret(format!("Basic{sep}{credentials}"), Core::Text(credentials))
        })
}

fn jwt() -> impl Strategy<Value = Secret> {
    (
        "[A-Za-z0-9_-]{10,30}",
        "[A-Za-z0-9_-]{10,60}",
        "[A-Za-z0-9_-]{0,43}",
    )
        .prop_map(|(h, p, s)| {
            let token = format!("eyJ{h}.eyJ{p}.{s}");
            text_secret(token.clone(), Core::Text(token))
        })
}

/// A token with a fixed prefix: the whole token is its core.
fn prefixed(prefix: Vec<&'static str>, body: &'static str) -> impl Strategy<Value = Secret> {
    (select(prefix), body).prop_map(|(prefix, body)| {
        let token = format!("{prefix}{body}");
        text_secret(token.clone(), Core::Text(token))
    })
}

fn private_key_text() -> impl Strategy<Value = Secret> {
    (
        select(vec!["RSA ", "EC ", "OPENSSH ", "", "ENCRYPTED "]),
        "[A-Za-z0-9+/]{40,64}",
        any::<bool>(),
    )
        .prop_map(|(kind, body, as_lines)| {
            let header = format!("-----BEGIN {kind}PRIVATE KEY-----");
            let footer = format!("-----END {kind}PRIVATE KEY-----");
            if as_lines {
                Secret {
                    planted: Planted::Json(json!([header, body.clone(), body.clone(), footer])),
                    core: Core::Text(body),
                }
            } else {
                text_secret(format!("{header}\n{body}\n{footer}"), Core::Text(body))
            }
        })
}

fn url_credentials() -> impl Strategy<Value = Secret> {
    (
        select(vec![
            "postgres",
            "postgresql",
            "mysql",
            "redis",
            "mongodb+srv",
            "https",
            "amqp",
        ]),
        "[a-z]{0,8}",
        "[A-Za-z0-9]{7,16}[0-9]",
        "[a-z]{3,8}\\.(internal|com)(:5432)?/[a-z]{2,6}",
    )
        .prop_map(|(scheme, user, password, rest)| {
            text_secret(
                format!("{scheme}://{user}:{password}@{rest}"),
                Core::Text(password),
            )
        })
}

fn query_secret() -> impl Strategy<Value = Secret> {
    (
        "[a-z]{3,8}\\.com/[a-z]{1,8}",
        select(vec!["?", "?a=b&", "?page=2&"]),
        select(vec![
            "token",
            "access_token",
            "api_key",
            "key",
            "code",
            "id_token",
            "client_secret",
            "password",
            "sig",
            "apiKey",
        ]),
        "[A-Za-z0-9._-]{9,30}[0-9]",
        select(vec!["", "&x=y", "#frag"]),
    )
        .prop_map(|(host, lead, name, value, tail)| {
            text_secret(
                format!("https://{host}{lead}{name}={value}{tail}"),
                Core::Text(value),
            )
        })
}

fn assignment() -> impl Strategy<Value = Secret> {
    (
        select(vec![
            "DB_PASSWORD",
            "API_KEY",
            "GITHUB_TOKEN",
            "client_secret",
            "pwd",
            "passphrase",
            "aws_secret_access_key",
            "X-Api-Key",
            "pass",
            "sessionid",
        ]),
        select(vec!["=", ": ", " = ", "json"]),
        "[A-Za-z0-9]{8,24}",
    )
        .prop_map(|(name, sep, value)| {
            let text = if sep == "json" {
                format!("{{\"{name}\": \"{value}\"}}")
            } else {
                format!("{name}{sep}{value}")
            };
            text_secret(text, Core::Text(value))
        })
}

fn iban() -> impl Strategy<Value = Secret> {
    (
        select(vec![
            ("DE", "[0-9]{18}"),
            ("GB", "[A-Z]{4}[0-9]{14}"),
            ("FR", "[0-9]{10}[A-Z0-9]{11}[0-9]{2}"),
            ("NL", "[A-Z]{4}[0-9]{10}"),
            ("ES", "[0-9]{20}"),
            ("IT", "[A-Z][0-9]{10}[A-Z0-9]{12}"),
        ]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(|((country, bban), grouped, lower)| {
            bban.prop_map(move |bban| {
                // ISO 13616: the check digits make BBAN + country + check ≡ 1 (mod 97).
                let rearranged = format!("{bban}{country}00");
                let remainder = rearranged.chars().fold(0u32, |acc, c| {
                    let v = c.to_digit(36).expect("alphanumeric");
                    if v < 10 {
                        (acc * 10 + v) % 97
                    } else {
                        (acc * 100 + v) % 97
                    }
                });
                let compact = format!("{country}{:02}{bban}", 98 - remainder);
                let mut text = if grouped {
                    compact
                        .as_bytes()
                        .chunks(4)
                        .map(|c| std::str::from_utf8(c).expect("ascii"))
                        .collect::<Vec<_>>()
                        .join(" ")
                } else {
                    compact.clone()
                };
                if lower {
                    text = text.to_lowercase();
                }
                text_secret(text, Core::Compact(compact))
            })
        })
}

fn ssn() -> impl Strategy<Value = Secret> {
    (
        (1u32..900).prop_filter("666 is never issued", |a| *a != 666),
        1u32..100,
        1u32..10000,
    )
        .prop_map(|(area, group, serial)| {
            let text = format!("{area:03}-{group:02}-{serial:04}");
            text_secret(
                text,
                Core::Compact(format!("{area:03}{group:02}{serial:04}")),
            )
        })
}

fn grouped(digits: &str, sizes: &[usize], sep: &str) -> String {
    let mut rest = digits;
    let mut groups = Vec::new();
    for &n in sizes {
        let (g, tail) = rest.split_at(n);
        groups.push(g);
        rest = tail;
    }
    groups.join(sep)
}

fn phone_e164() -> impl Strategy<Value = Secret> {
    (
        select(vec!["1", "44", "49", "33", "61", "81", "34", "39"]),
        "[2-9][0-9]{9}",
        select(vec!["", " ", "-", "."]),
    )
        .prop_map(|(cc, national, sep)| {
            let body = grouped(&national, &[3, 3, 4], sep);
            let text = if cc == "1" && sep == "-" {
                format!(
                    "+1 ({}) {}",
                    &national[..3],
                    grouped(&national[3..], &[3, 4], "-")
                )
            } else {
                format!("+{cc}{}{body}", if sep.is_empty() { "" } else { " " })
            };
            text_secret(text, Core::Compact(format!("{cc}{national}")))
        })
}

fn phone_nanp() -> impl Strategy<Value = Secret> {
    ("[2-9][0-9]{2}", "[0-9]{3}", "[0-9]{4}", 0..3u8).prop_map(|(area, exchange, line, form)| {
        let text = match form {
            0 => format!("{area}-{exchange}-{line}"),
            1 => format!("{area}.{exchange}.{line}"),
            _ => format!("({area}) {exchange}-{line}"),
        };
        text_secret(text, Core::Compact(format!("{area}{exchange}{line}")))
    })
}

fn phone_national() -> impl Strategy<Value = Secret> {
    (
        select(vec![
            (&[3usize, 4, 4][..], "0[1-9][0-9]{9}"),  // UK: 020 7946 0958
            (&[5, 6][..], "07[0-9]{9}"),              // UK mobile: 07700 900123
            (&[2, 2, 2, 2, 2][..], "0[1-9][0-9]{8}"), // FR: 06 12 34 56 78
            (&[3, 8][..], "0[1-9][0-9]{9}"),          // DE: 030 12345678
            (&[4, 3, 3][..], "04[0-9]{8}"),           // AU mobile: 0412 345 678
        ]),
        select(vec![" ", "-", ".", "/"]),
    )
        .prop_flat_map(|((sizes, pattern), sep)| {
            pattern.prop_map(move |number| {
                text_secret(grouped(&number, sizes, sep), Core::Compact(number))
            })
        })
}

/// Any value under a key that names a secret, the key spelled in look-alikes or with
/// invisible characters inside.
fn under_secret_key() -> impl Strategy<Value = Secret> {
    (
        select(vec![
            "password",
            "pwd",
            "pass",
            "passphrase",
            "api_token",
            "X-CSRF-Token",
            "sessionid",
            "otp",
            "pem",
            "mobile",
            "tel",
            "ssn",
            "refreshToken",
            "client_secret",
            "Authorization",
        ]),
        spelling(),
        "[A-Za-z0-9]{8,20}",
    )
        .prop_map(|(key, spelling, value)| Secret {
            planted: Planted::Json(json!({ spell(key, spelling): value.clone() })),
            core: Core::Text(value),
        })
}

// ---- Spelling, surroundings and placement. ----

/// How a text secret is spelled.
#[derive(Clone, Copy, Debug)]
enum Spelling {
    Plain,
    /// Every printable ASCII character in its fullwidth form (`ｐａｓｓ`, `４１１１`).
    Fullwidth,
    /// An invisible character after every `n`th character.
    Invisible(usize, char),
}

fn spelling() -> impl Strategy<Value = Spelling> {
    prop_oneof![
        2 => Just(Spelling::Plain),
        1 => Just(Spelling::Fullwidth),
        1 => (1usize..5, select(vec!['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}']))
            .prop_map(|(n, c)| Spelling::Invisible(n, c)),
    ]
}

fn spell(text: &str, spelling: Spelling) -> String {
    match spelling {
        Spelling::Plain => text.to_owned(),
        Spelling::Fullwidth => text
            .chars()
            .map(|c| match c {
                '!'..='~' => char::from_u32(u32::from(c) + 0xFEE0).expect("fullwidth form"),
                ' ' => '\u{3000}',
                c => c,
            })
            .collect(),
        Spelling::Invisible(n, invisible) => {
            let mut out = String::new();
            for (i, c) in text.chars().enumerate() {
                out.push(c);
                if (i + 1) % n == 0 {
                    out.push(invisible);
                }
            }
            out
        }
    }
}

/// Words that start with a letter (of any script) and may hold digits after it: text
/// around a secret, never glued to it (a delimiter always sits in between).
fn filler() -> impl Strategy<Value = String> {
    let word = (
        select(vec!['a', 'k', 'Q', 'z', 'é', 'ß', 'Ж', '中', 'ね']),
        prop::collection::vec(
            select(vec!['a', 'e', 'r', 'T', 'x', '1', '7', 'ü', 'ı', '_']),
            0..7,
        ),
    )
        .prop_map(|(first, rest)| std::iter::once(first).chain(rest).collect::<String>());
    prop::collection::vec(word, 0..4).prop_map(|words| words.join(" "))
}

fn delimiter() -> impl Strategy<Value = &'static str> {
    select(vec![
        " ", ": ", "\n", " (", ") ", ", ", "=", "\"", "'", "<", ">", "\t", "; ", " | ",
    ])
}

fn benign_key() -> impl Strategy<Value = String> {
    select(vec![
        "note",
        "data",
        "items",
        "q",
        "text",
        "meta",
        "x",
        "args",
        "list",
        "body",
        "id",
        "max_tokens",
    ])
    .prop_map(str::to_owned)
}

fn benign_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        filler().prop_map(Value::String),
        (0u64..100_000).prop_map(|n| json!(n)),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        (benign_key(), filler()).prop_map(|(k, v)| json!({ k: v })),
    ]
}

/// One level of nesting around the secret.
#[derive(Clone, Debug)]
enum Layer {
    /// In an array, among `siblings`, at `index` (modulo their number + 1).
    Array { siblings: Vec<Value>, index: usize },
    /// In an object, under `key`, among `siblings`.
    Object {
        key: String,
        siblings: Vec<(String, Value)>,
    },
}

fn layer() -> impl Strategy<Value = Layer> {
    prop_oneof![
        (prop::collection::vec(benign_leaf(), 0..4), any::<usize>())
            .prop_map(|(siblings, index)| Layer::Array { siblings, index }),
        (
            benign_key(),
            prop::collection::vec((benign_key(), benign_leaf()), 0..4)
        )
            .prop_map(|(key, siblings)| Layer::Object { key, siblings }),
    ]
}

fn wrap(mut value: Value, layers: &[Layer]) -> Value {
    for layer in layers {
        value = match layer {
            Layer::Array { siblings, index } => {
                let mut items = siblings.clone();
                items.insert(index % (siblings.len() + 1), value);
                Value::Array(items)
            }
            Layer::Object { key, siblings } => {
                let mut map: Map<String, Value> = siblings.iter().cloned().collect();
                map.insert(key.clone(), value);
                Value::Object(map)
            }
        };
    }
    value
}

#[derive(Clone, Debug)]
struct Case {
    secret: Secret,
    /// The secret as written: spelled, with its surroundings.
    written: Option<String>,
    args: Value,
}

fn case(secret: impl Strategy<Value = Secret>) -> impl Strategy<Value = Case> {
    (
        secret,
        spelling(),
        (filler(), delimiter(), delimiter(), filler()),
        any::<bool>(),
        prop::collection::vec(layer(), 0..5),
        benign_leaf(),
    )
        .prop_map(
            |(secret, spelling, (before, d1, d2, after), as_key, layers, leaf)| {
                let (planted, written) = match &secret.planted {
                    Planted::Text(text) => {
                        let written = format!("{before}{d1}{}{d2}{after}", spell(text, spelling));
                        let planted = if as_key {
                            json!({ written.clone(): leaf })
                        } else {
                            Value::String(written.clone())
                        };
                        (planted, Some(written))
                    }
                    Planted::Json(value) => (value.clone(), None),
                };
                Case {
                    secret,
                    written,
                    args: wrap(planted, &layers),
                }
            },
        )
}

// ---- The oracle. ----

/// NFKC without the invisible characters: written here rather than borrowed from the
/// module, so that the module's normalization is under test too.
fn oracle_normalize(text: &str) -> String {
    text.nfkc()
        .filter(|c| {
            !matches!(
                c,
                '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
            )
        })
        .map(|c| if c == '\u{3002}' { '.' } else { c })
        .collect()
}

fn compact(text: &str) -> String {
    oracle_normalize(text)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Every string in `value` (keys too), every number as written, and every array's
/// elements run together.
fn haystacks(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(items) => {
            out.push(
                items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
            );
            for item in items {
                haystacks(item, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                haystacks(v, out);
            }
        }
        _ => {}
    }
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let mut args = case.args.clone();
    default_redactor().redact(None, &mut args);
    let serialized = serde_json::to_string(&args).expect("serializable");
    if let Some(written) = &case.written {
        let escaped = serde_json::to_string(written).expect("serializable");
        prop_assert!(
            !serialized.contains(escaped.trim_matches('"')),
            "written secret kept: {serialized}"
        );
    }
    let mut found = Vec::new();
    haystacks(&args, &mut found);
    for haystack in &found {
        match &case.secret.core {
            Core::Text(core) => prop_assert!(
                !oracle_normalize(haystack).contains(core.as_str()),
                "{core:?} left in {haystack:?}; output {serialized}"
            ),
            Core::Compact(core) => prop_assert!(
                !compact(haystack).contains(&core.to_ascii_uppercase()),
                "{core:?} left in {haystack:?}; output {serialized}"
            ),
        }
    }
    Ok(())
}

fn run(secret: impl Strategy<Value = Secret>) {
    let mut runner = TestRunner::new(config());
    if let Err(e) = runner.run(&case(secret), |case| check(&case)) {
        panic!("{e}");
    }
}

macro_rules! planted {
    ($($name:ident: $secret:expr;)*) => {
        $(
            #[test]
            fn $name() {
                run($secret);
            }
        )*
    };
}

planted! {
    card_number_in_text: card_text();
    card_number_as_json: card_json();
    email_address: email();
    bearer_token: bearer();
    basic_credentials: basic_auth();
    json_web_token: jwt();
    sk_api_key: prefixed(vec!["sk-", "sk-proj-", "sk-ant-api03-", "sk-svcacct-"], "[A-Za-z0-9_-]{19,60}[0-9A-Z]");
    aws_access_key_id: prefixed(vec!["AKIA", "ASIA"], "[A-Z0-9]{16}");
    github_token: prefixed(vec!["ghp_", "gho_", "ghs_", "ghu_", "ghr_"], "[A-Za-z0-9]{36}");
    github_fine_grained_pat: prefixed(vec!["github_pat_"], "[A-Za-z0-9_]{82}");
    gitlab_token: prefixed(vec!["glpat-"], "[A-Za-z0-9_-]{20}");
    slack_token: prefixed(vec!["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-"], "[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24}");
    slack_webhook: prefixed(vec!["https://hooks.slack.com/services/"], "T[A-Z0-9]{8}/B[A-Z0-9]{8}/[A-Za-z0-9]{24}");
    stripe_key: prefixed(vec!["sk_live_", "sk_test_", "rk_live_"], "[A-Za-z0-9]{24}");
    google_api_key: prefixed(vec!["AIza"], "[A-Za-z0-9_-]{35}");
    huggingface_token: prefixed(vec!["hf_"], "[A-Za-z]{34}");
    npm_token: prefixed(vec!["npm_"], "[A-Za-z0-9]{36}");
    private_key: private_key_text();
    password_in_url: url_credentials();
    secret_in_query_string: query_secret();
    secret_assignment: assignment();
    iban_with_check_digits: iban();
    us_ssn: ssn();
    phone_international: phone_e164();
    phone_north_american: phone_nanp();
    phone_national_trunk_0: phone_national();
    any_value_under_a_secret_key: under_secret_key();
}
