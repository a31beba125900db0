//! Unit tests: each rule on its own (what it must catch, in several spellings and
//! positions, and the near-misses it must leave alone), then the redactor on JSON trees.

use serde_json::json;

use super::rules::{self, RULES};
use super::*;

/// The layer's redactor with the default keys: what every redaction test module uses.
pub(super) fn default_redactor() -> Redactor {
    let keys: Vec<String> = crate::config::DEFAULT_REDACT_KEYS
        .iter()
        .map(|k| (*k).to_owned())
        .collect();
    Redactor::new(&keys, true)
}

/// Whether the rule `id` alone matches `raw` (normalized first, as in redaction).
fn rule_matches(id: &str, raw: &str) -> bool {
    let index = RULES
        .iter()
        .position(|r| r.id == id)
        .unwrap_or_else(|| panic!("no rule {id}"));
    rules::rule_matches_at(index, &normalize::text(raw))
}

/// Per rule: texts it must match, and near-misses it must not.
const CASES: &[(&str, &[&str], &[&str])] = &[
    (
        "private-key",
        &[
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----",
            "key: -----BEGIN OPENSSH PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN EC PRIVATE KEY-----",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----",
            "－－－－－BEGIN PRIVATE KEY－－－－－",
        ],
        &[
            "-----BEGIN PUBLIC KEY-----",
            "-----BEGIN CERTIFICATE-----",
            "BEGIN PRIVATE KEY",
            "the private key is on the HSM",
        ],
    ),
    (
        "jwt",
        &[
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "id_token=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
            "cookie jwt eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJhIn0.c2ln; path=/",
        ],
        &[
            "eyJhbGciOiJIUzI1NiJ9",
            "keyJhbGciOi.eyJzdWIiOi.x",
            "eyJ.eyJ.x",
        ],
    ),
    (
        "bearer-token",
        &[
            "Authorization: Bearer abcdefgh12345",
            "bearer\tabcDEF123456",
            "Bearer%20abc.def.ghi",
            "BEARER  ZXhhbXBsZS10b2tlbg==",
            "Bearer\u{00A0}abcdefgh12345",
            "bearer aaaaaaaaaaaaaaaaaaaaaaaa",
        ],
        &[
            "the bearer of bad news",
            "a bearer instrument",
            "Bearer abc",
            "Bearer: Securities",
        ],
    ),
    (
        "basic-auth",
        &[
            "Authorization: Basic dXNlcjpwYXNz",
            "basic\tQWxhZGRpbjpvcGVuIHNlc2FtZQ==",
            "Basic%20YWRtaW46aHVudGVyMg==",
        ],
        &[
            "basic understanding",
            "Basic auth is disabled",
            "basic Zm9vYmFy", // "foobar": no colon
        ],
    ),
    (
        "sk-api-key",
        &[
            "sk-proj-Ab3dEf9hIjKlMnOpQrStUvWx",
            "OPENAI_API_KEY=sk-abcdefghijklmnopqrstuvwxyzABCDEF0123456789ab",
            "x-api-key: sk-ant-api03-AbCdEf012345678901234567890",
            "ｓｋ－ｐｒｏｊ－Ａｂ３ｄＥｆ９ｈＩｊＫｌＭｎＯｐＱｒＳｔＵｖＷｘ",
        ],
        &[
            "sk-learn-compatible-estimator",
            "task-0123456789abcdefghij",
            "sk-short1",
        ],
    ),
    (
        "aws-access-key-id",
        &[
            "AKIAIOSFODNN7EXAMPLE",
            "aws key ASIAY34FZKBOKMUTVV7A in use",
            "id=\"AKIA1234567890ABCDEF\"",
        ],
        &[
            "AKIAIOSFODNN7EXAMPL",
            "XAKIAIOSFODNN7EXAMPLE",
            "akiaiosfodnn7example",
        ],
    ),
    (
        "github-token",
        &[
            "ghp_1234567890abcdefghijABCDEFGHIJ123456",
            "https://ghs_abcdefghijklmnopqrst0123@github.com/org/repo",
        ],
        &["ghp_short", "ghx_1234567890abcdefghijABCDEFGH"],
    ),
    (
        "github-fine-grained-pat",
        &[
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
            "GH_TOKEN github_pat_11AAAAAAA0aaaaaaaaaaaaaa",
        ],
        &["github_pat_short", "my_github_pat_"],
    ),
    (
        "gitlab-token",
        &["glpat-abcdefghij0123456789", "PRIVATE-TOKEN: glpat-xxxxxxxxxxxxxxxxxxxx"],
        &["glpat-abc", "glpat_abcdefghij0123456789"],
    ),
    (
        "slack-token",
        &[
            "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
            "token xoxp-1234567890-abc",
        ],
        &["xoxz-1234567890abc", "xoxb-12"],
    ),
    (
        "slack-webhook",
        &[
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "hooks.slack.com/workflows/T0123/A0123/abcdef",
        ],
        &["https://hooks.slack.com/services/", "https://slack.com/services/T00000000/B00000000/XXXX"],
    ),
    (
        "stripe-key",
        &["sk_live_4eC39HqLyjWDarjtT1zdp7dc", "rk_test_abcdefghijklmnop1234"],
        &["sk_live_short", "desk_live_abcdefghijklmnopqrst"],
    ),
    (
        "google-api-key",
        &[
            "AIzaSyA-1234567890abcdefghijklmnopqrstu",
            "?key=AIzaSyA-1234567890abcdefghijklmnopqrstu&q=x",
        ],
        &["AIzaShort", "AIza"],
    ),
    (
        "huggingface-token",
        &["hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "HF_TOKEN=hf_0123456789abcdefghijklmnopqrst"],
        &["hf_hub_download", "hf_short"],
    ),
    (
        "npm-token",
        &["npm_abcdefghijklmnopqrstuvwxyz0123456789", "//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789"],
        &["npm_install", "npm_abcdefghijklmnopqrstuvwxyz01234567890"],
    ),
    (
        "url-credentials",
        &[
            "postgres://user:pass@db.example.com:5432/app",
            "redis://:s3cret@cache:6379/0",
            "DSN user:hunter2@tcp(127.0.0.1:3306)/db",
            "mongodb+srv://admin:pw@cluster0.mongodb.net",
            "git clone https://x-access-token:abc@github.com/o/r",
        ],
        &[
            "https://example.com:8080/path",
            "https://user@example.com/",
            "ssh://git@github.com/org/repo.git",
            "see https://example.com/a:b@c",
        ],
    ),
    (
        "secret-assignment",
        &[
            "https://api.example.com/v1?token=abc123",
            "GET /cb?state=x&access_token=ya29.a0Af",
            "api_key=abc123",
            "PASSWORD: hunter2",
            "{\"client_secret\": \"s3cr3t\"}",
            "X-Amz-Signature=abcdef0123",
            "export GITHUB_TOKEN=abc",
            "pwd=hunter2",
            "DB_PASS=hunter2",
            "Cookie: sessionid=abc; csrftoken=def",
            "jdbc:postgresql://h/db?user=u&password=p",
            "Server=db;User Id=sa;Password=Pa55;",
            "otp: 123456",
            "ｐａｓｓｗｏｒｄ＝ｈｕｎｔｅｒ２",
        ],
        &[
            "max_tokens=1000",
            "max_tokens: 1000",
            "tokens=5",
            "input_tokens: 12, output_tokens: 34",
            "token_count=3",
            "bypass=1",
            "compass: north",
            "the secret of success",
            "config=debug",
            "password reset requested",
            "tokenizer: bert",
            "token=",
        ],
    ),
    (
        "url-query-secret",
        &[
            "https://maps.googleapis.com/maps/api?key=abc123",
            "/oauth/callback?code=4/0AX4Xf&state=1",
        ],
        &["?keys=1", "?encode=1", "monkey=banana", "?key="],
    ),
    (
        "email",
        &[
            "write to josé.núñez@correo.es today",
            "ADA@EXAMPLE.COM",
            "zoe＠example.com",
            "zoe@example。com",
            "zoe\u{200B}@exa\u{200B}mple.com",
            "<zoe+tag@example.co.uk>",
            "mailto:zoe@example.com?subject=hi",
        ],
        &[
            "user@localhost",
            "@handle and a.b",
            "lodash@4.17.21",
            "npm i @types/node@18.0.0",
            "a@b.c",
        ],
    ),
    (
        "iban",
        &[
            "DE89 3704 0044 0532 0130 00",
            "IBAN: GB82WEST12345698765432",
            "pay to fr1420041010050500013m02606 today",
            "NL91-ABNA-0417-1643-00",
            "ＤＥ８９３７０４００４４０５３２０１３０００",
        ],
        &[
            "DE89 3704 0044 0532 0130 01",
            "AB12 3456 7890 1234 5678",
            "ID: XY99ABCDEFGHIJKLMNOP",
            "DE89 3704",
        ],
    ),
    (
        "card-number",
        &[
            "4111 1111 1111 1111",
            "4111.1111.1111.1111",
            "4111/1111/1111/1111",
            "4111  1111  1111  1111",
            "４１１１ １１１１ １１１１ １１１１",
            "4111111111111111.0",
            "card 4111-1111-1111-1111 exp 12/29",
            "3782 822463 10005",
            "5500005555555559",
            "4111\u{200B}1111\u{200B}1111\u{200B}1111",
            "paid:4111111111111111;",
        ],
        &[
            "4111111111111112",
            "order 20240611000123",
            "1732000000000",
            "ref 2024-10-08",
            "call 555 0100",
            "41111111111111111111111",
            "4111.1111.1111 1111",
        ],
    ),
    (
        "us-ssn",
        &["SSN 123-45-6789", "078-05-1120", "ssn:１２３－４５－６７８９"],
        &[
            "000-12-3456",
            "666-45-6789",
            "912-45-6789",
            "123-00-6789",
            "123-45-0000",
            "4111-123-45-6789",
            "123456789",
        ],
    ),
    (
        "phone-e164",
        &[
            "+1 415 555 2671",
            "+14155552671",
            "call +44 20 7946 0958",
            "+49 (0)30 1234 5678",
            "+33 6 12 34 56 78",
            "+１ ４１５ ５５５ ２６７１",
            "+1 (415) 555-2671",
        ],
        &["+1 555 0100", "x+441234567890", "+12345", "UTC+0100", "+1 415 555 26712"],
    ),
    (
        "phone-nanp",
        &["555-123-4567", "(555) 123-4567", "call 415.555.2671 now", "1-800-555-0199"],
        &[
            "2024-10-08",
            "123-456-7890",
            // Spaces alone are not enough: `256 512 1024` is a list of numbers.
            "555 123 4567",
            "256 512 1024",
            "555-123-45678",
        ],
    ),
    (
        "phone-national",
        &[
            "020 7946 0958",
            "06 12 34 56 78",
            "(02) 1234 5678",
            "030-12345678",
            "Tel. 07700 900123",
            "06.12.34.56.78",
        ],
        &[
            "05.11.2024 14:30",
            "0712345678",
            "v0.12.345",
            "01/02/2024 10:30",
            "020 7946",
            "DE89 3704 0044 0532 0130 01",
            "ref 1234 0532 0130 01",
        ],
    ),
];

#[test]
fn every_rule_has_cases_and_every_case_a_rule() {
    for rule in RULES {
        let case = CASES.iter().find(|(id, _, _)| *id == rule.id);
        let (_, positives, negatives) =
            case.unwrap_or_else(|| panic!("rule {} has no cases", rule.id));
        assert!(positives.len() >= 2, "{}: too few positives", rule.id);
        assert!(!negatives.is_empty(), "{}: no negatives", rule.id);
        assert!(!rule.description.is_empty());
    }
    assert_eq!(CASES.len(), RULES.len());
}

#[test]
fn each_rule_catches_its_positives() {
    for (id, positives, _) in CASES {
        for text in *positives {
            assert!(rule_matches(id, text), "{id} should match {text:?}");
            assert!(detect(text).is_some(), "{text:?} should be redacted");
        }
    }
}

#[test]
fn each_rule_leaves_its_near_misses() {
    for (id, _, negatives) in CASES {
        for text in *negatives {
            assert!(!rule_matches(id, text), "{id} should not match {text:?}");
        }
    }
}

#[test]
fn near_misses_are_not_redacted_by_any_rule() {
    for text in [
        "max_tokens",
        "max_tokens=1000",
        "input_tokens=1200 output_tokens=300",
        "tokens: 512",
        "4111111111111112",
        "order 20240611000123",
        "order #A-20240611-0001",
        "1732000000000",
        "ts 1732000000",
        "550e8400-e29b-41d4-a716-446655440000",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "v1.2.3",
        "version 10.4.12-rc.1",
        "refund for order 42",
        "call +1 555 0100",
        "2024-10-08T12:34:56Z",
        "192.168.1.1 and 10.0.0.255",
        "the bearer of bad news",
        "sk-learn",
        "Hello, world!",
        "lodash@4.17.21",
        "a basic understanding",
        "x = a@b.T",
        "shape [3, 224, 224]",
        "[REDACTED]",
        "",
    ] {
        assert_eq!(detect(text), None, "{text:?}");
    }
}

#[test]
fn oversized_strings_fail_closed() {
    let big = "a".repeat(rules::MAX_SCAN_BYTES + 1);
    assert_eq!(detect(&big), Some("oversized"));
    assert_eq!(detect(&big[1..]), None);
}

#[test]
fn readme_lists_every_rule() {
    let readme = include_str!("../../../../README.md");
    let section = readme
        .split("### What redaction catches")
        .nth(1)
        .expect("README.md has a \"What redaction catches\" section");
    for rule in RULES {
        assert!(
            section.contains(&format!("| `{}` |", rule.id)),
            "README.md's table lacks {}",
            rule.id
        );
    }
}

#[test]
fn value_shapes() {
    assert_eq!(detect("write to josé.núñez@correo.es today"), Some("email"));
    assert_eq!(detect("ADA@EXAMPLE.COM"), Some("email"));
    assert_eq!(detect("user@localhost"), None);
    assert_eq!(detect("@handle and a.b"), None);
    assert_eq!(
        detect("Authorization: Bearer eyJhbGciOi.abc"),
        Some("bearer-token")
    );
    assert_eq!(detect("the bearer of bad news"), None);
    assert_eq!(
        detect("card 4111 1111 1111 1111 exp 12/29"),
        Some("card-number")
    );
    assert_eq!(detect("4111-1111-1111-1111"), Some("card-number"));
    assert_eq!(detect("order 4111111111111112"), None);
    assert_eq!(detect("call 555 0100, ref 2024-10-08"), None);
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
        assert!(r.keys.matches(key), "{key}");
    }
    assert!(!r.keys.matches("author"));
    assert!(!r.keys.matches("query"));
    // Whole-key words: `token` and `session` alone, not inside other words.
    for key in [
        "token",
        "Token",
        "session",
        "access_token",
        "refresh-token",
        "session_token",
    ] {
        assert!(r.keys.matches(key), "{key}");
    }
    for key in ["max_tokens", "session_id", "token_count"] {
        assert!(!r.keys.matches(key), "{key}");
    }
}

#[test]
fn default_keys_cover_common_secrets_and_spare_usage_fields() {
    let r = default_redactor();
    for key in [
        "pwd",
        "pass",
        "DB_PASS",
        "passphrase",
        "api_token",
        "apiToken",
        "github_token",
        "csrf_token",
        "csrfmiddlewaretoken",
        "X-CSRF-Token",
        "X-XSRF-TOKEN",
        "sessionid",
        "JSESSIONID",
        "PHPSESSID",
        "otp",
        "otp_code",
        "totp",
        "pem",
        "private_pem",
        "mobile",
        "mobile_number",
        "tel",
        "tel_no",
        "ｐａｓｓｗｏｒｄ",
        "pass\u{200B}word",
        "api\u{200B}_key",
        "ＡＰＩ＿ＫＥＹ",
        "client_secret",
        "refreshToken",
        "auth",
        "basic_auth",
        "pin",
        "pin_code",
        "ssn",
        "user_ssn",
        "cvc",
        "passport_number",
        "dob",
        "date_of_birth",
        "iban",
        "api_key=abc123",
    ] {
        assert!(r.keys.matches(key), "{key}");
    }
    for key in [
        "max_tokens",
        "input_tokens",
        "output_tokens",
        "tokens",
        "total_tokens",
        "token_count",
        "tokenizer",
        "session_id",
        "sessionId",
        "passenger",
        "compass",
        "bypass",
        "telemetry",
        "hotel",
        "shipping",
        "classname",
        "business_name",
        "author",
        "oauth_provider",
        "temperature",
        "options",
        "model",
        "query",
    ] {
        assert!(!r.keys.matches(key), "{key}");
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
    let mut args = json!({"digits": ["4111", "1111", "1111", "1111"], "n": 4111111111111111u64, "api_key=abc": 1});
    let before = args.clone();
    Redactor::new(&[], false).redact(None, &mut args);
    assert_eq!(args, before);
}

#[test]
fn a_key_whose_text_holds_a_secret_is_replaced() {
    let mut args = json!({"api_key=abc123": "x", "q": {"Bearer abcdefgh12345": true, "ok": 1}});
    default_redactor().redact(None, &mut args);
    assert_eq!(
        args,
        json!({"[REDACTED]#1": REDACTED, "q": {"[REDACTED]#1": true, "ok": 1}})
    );
    let text = serde_json::to_string(&args).unwrap();
    assert!(!text.contains("abc123") && !text.contains("abcdefgh12345"));
}

#[test]
fn card_numbers_as_numbers() {
    let r = default_redactor();
    for card in [
        json!(4111111111111111u64),
        json!(4111111111111111.0f64),
        json!(-4111111111111111i64),
        json!(5500005555555559u64),
        serde_json::from_str::<Value>("4111111111111111.0").unwrap(),
        serde_json::from_str::<Value>("4.111111111111111e15").unwrap(),
    ] {
        let mut value = json!({"n": card.clone()});
        r.redact(None, &mut value);
        assert_eq!(value, json!({"n": REDACTED}), "{card}");
    }
    for plain in [
        json!(4111111111111112u64),
        json!(1732000000000u64),
        json!(4111111111111111.5f64),
        json!(12345),
        json!(-1),
        json!(1e300),
        json!(f64::MIN_POSITIVE),
    ] {
        let mut value = json!({"n": plain.clone()});
        r.redact(None, &mut value);
        assert_eq!(value, json!({"n": plain}));
    }
}

#[test]
fn card_numbers_split_over_an_array() {
    let r = default_redactor();
    for (split, redacted) in [
        (
            json!(["4111", "1111", "1111", "1111"]),
            json!([REDACTED, REDACTED, REDACTED, REDACTED]),
        ),
        (
            json!([4111, 1111, 1111, 1111]),
            json!([REDACTED, REDACTED, REDACTED, REDACTED]),
        ),
        (
            json!(["４１１１", " 1111", "1111 ", 1111]),
            json!([REDACTED, REDACTED, REDACTED, REDACTED]),
        ),
        (
            json!(["exp", "12", "4111", "1111", "1111", "1111", "29", "x"]),
            json!(["exp", REDACTED, REDACTED, REDACTED, REDACTED, REDACTED, REDACTED, "x"]),
        ),
        (
            json!(["3782", "822463", "10005"]),
            json!([REDACTED, REDACTED, REDACTED]),
        ),
        // 5500 0055 5555 5559, the groups as integers.
        (
            json!([5500, 55, 5555, 5559]),
            json!([REDACTED, REDACTED, REDACTED, REDACTED]),
        ),
    ] {
        let mut value = split.clone();
        r.redact(None, &mut value);
        assert_eq!(value, redacted, "{split}");
    }
    for plain in [
        json!(["4111", "1111", "1111", "1112"]),
        json!([1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7]),
        json!(["4111", "x", "1111", "1111", "1111"]),
        json!([2024, 10, 8, 1732000000000u64]),
    ] {
        let mut value = plain.clone();
        r.redact(None, &mut value);
        assert_eq!(value, plain);
    }
}

#[test]
fn private_keys_stored_line_by_line() {
    let mut value = json!({"lines": [
        "intro",
        "-----BEGIN RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEA7",
        "q3Kx9fVb",
        "-----END RSA PRIVATE KEY-----",
        "outro"
    ]});
    default_redactor().redact(None, &mut value);
    assert_eq!(
        value,
        json!({"lines": ["intro", REDACTED, REDACTED, REDACTED, REDACTED, "outro"]})
    );
}

#[test]
fn look_alike_spellings_are_redacted() {
    let mut args = json!({
        "note": "mail zoe＠example。com",
        "card": "４１１１ １１１１ １１１１ １１１１",
        "hdr": "Bearer\tabcdefgh12345",
        "ｐａｓｓｗｏｒｄ": "hunter2",
        "pass\u{200B}word": "hunter2",
        "ok": "nothing here"
    });
    default_redactor().redact(None, &mut args);
    assert_eq!(
        args,
        json!({
            "note": REDACTED,
            "card": REDACTED,
            "hdr": REDACTED,
            "ｐａｓｓｗｏｒｄ": REDACTED,
            "pass\u{200B}word": REDACTED,
            "ok": "nothing here"
        })
    );
}

#[test]
fn the_whole_string_is_replaced() {
    let mut args = json!({"dsn": "connect to postgres://app:hunter2@db/prod then migrate"});
    default_redactor().redact(None, &mut args);
    assert_eq!(args, json!({"dsn": REDACTED}));
}

#[test]
fn huge_strings_are_bounded() {
    // Linear-time matching: a string just under the limit, built to make every rule
    // look at many candidates, is scanned in one pass each.
    let unit = "4111 1111 x sk- AKIA eyJ. +1 0 (0) @a. DE89 ";
    let text = unit.repeat(rules::MAX_SCAN_BYTES / unit.len());
    let start = std::time::Instant::now();
    let _ = detect(&text);
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
}
