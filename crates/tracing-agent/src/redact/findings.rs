//! One test per finding of the reliability review, through nothing but the two calls the
//! layer makes, `Redactor::new` (with the default key list, as `default_redactor` builds
//! it) and `Redactor::redact`: each failed before the rule set and passes with it.

use serde_json::{json, Value};

use super::tests::default_redactor;
use super::REDACTED;

fn redact(mut args: Value) -> Value {
    default_redactor().redact(None, &mut args);
    args
}

/// Every value of `args` (an object of strings) is redacted. The keys are chosen to
/// match no key rule: each test is about what the values hold.
#[track_caller]
fn all_redacted(args: Value) {
    let out = redact(args.clone());
    for (key, value) in out.as_object().expect("an object") {
        assert_eq!(value, REDACTED, "{key}: {} was kept", args[key]);
    }
}

/// No value of `args` is redacted.
#[track_caller]
fn none_redacted(args: Value) {
    assert_eq!(redact(args.clone()), args);
}

#[test]
fn card_numbers_with_dots_slashes_double_spaces_or_fullwidth_digits() {
    all_redacted(json!({
        "dots": "4111.1111.1111.1111",
        "slashes": "4111/1111/1111/1111",
        "double_spaces": "4111  1111  1111  1111",
        "fullwidth": "４１１１１１１１１１１１１１１１",
        "fullwidth_grouped": "４１１１ １１１１ １１１１ １１１１",
        "float_text": "4111111111111111.0",
    }));
}

#[test]
fn card_numbers_as_floats_or_split_over_an_array() {
    let out = redact(json!({
        "float": 4111111111111111.0,
        "groups": ["4111", "1111", "1111", "1111"],
        "integer_groups": [4111, 1111, 1111, 1111],
    }));
    assert_eq!(
        out,
        json!({
            "float": REDACTED,
            "groups": [REDACTED, REDACTED, REDACTED, REDACTED],
            "integer_groups": [REDACTED, REDACTED, REDACTED, REDACTED],
        })
    );
}

#[test]
fn bearer_with_a_tab() {
    all_redacted(json!({"h": "Bearer\tabcdefgh12345"}));
}

#[test]
fn emails_with_fullwidth_at_or_ideographic_full_stop() {
    all_redacted(json!({
        "fullwidth_at": "zoe＠example.com",
        "ideographic_stop": "zoe@example。com",
    }));
}

#[test]
fn keys_with_zero_width_space_or_fullwidth_letters() {
    all_redacted(json!({
        "pass\u{200B}word": "hunter2",
        "ｐａｓｓｗｏｒｄ": "hunter2",
        "api\u{FEFF}_key": "abc",
    }));
}

#[test]
fn common_secret_keys_are_in_the_defaults() {
    all_redacted(json!({
        "pwd": "x", "pass": "x", "passphrase": "x", "api_token": "x", "github_token": "x",
        "csrf_token": "x", "csrfmiddlewaretoken": "x", "sessionid": "x", "otp": "x",
        "pem": "x", "mobile": "x", "tel": "x", "totp": "x", "pin_code": "x",
    }));
    none_redacted(json!({
        "max_tokens": 1000, "input_tokens": 12, "output_tokens": 34, "tokens": 46,
        "token_count": 2, "session_id": "s-1",
    }));
}

#[test]
fn provider_api_keys() {
    all_redacted(json!({
        "openai": "key sk-proj-Ab3dEf9hIjKlMnOpQrStUvWx",
        "anthropic": "sk-ant-api03-AbCdEf012345678901234567890",
        "aws": "AKIAIOSFODNN7EXAMPLE",
        "github": "ghp_1234567890abcdefghijABCDEFGHIJ123456",
        "github_pat": "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
        "slack": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp",
    }));
}

#[test]
fn jwts_and_basic_credentials() {
    all_redacted(json!({
        "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
        "basic": "Authorization: Basic dXNlcjpwYXNz",
    }));
}

#[test]
fn passwords_in_urls_and_tokens_in_query_strings() {
    all_redacted(json!({
        "a": "postgres://user:pass@host/db",
        "b": "redis://:s3cret@cache:6379",
        "c": "https://api.example.com/v1?token=abc123",
        "d": "https://x.example/cb?a=1&access_token=ya29.a0Af",
        "e": "GET /search?api_key=abc123&q=x",
    }));
}

#[test]
fn phone_numbers_but_not_ids_or_timestamps() {
    all_redacted(json!({
        "e164": "+44 20 7946 0958",
        "e164_compact": "+14155552671",
        "nanp": "(555) 123-4567",
        "nanp_dashed": "call 555-123-4567",
        "uk": "020 7946 0958",
        "fr": "06 12 34 56 78",
    }));
    // Plain integers and digit strings are ids and timestamps, not phone numbers.
    none_redacted(json!({
        "id": 14155552671u64, "ts": 1732000000000u64, "ts_text": "1732000000",
        "order": "0712345678",
    }));
}

#[test]
fn ibans_with_their_check_digits() {
    all_redacted(json!({
        "grouped": "DE89 3704 0044 0532 0130 00",
        "compact": "GB82WEST12345698765432",
    }));
    none_redacted(json!({"bad_check": "DE89 3704 0044 0532 0130 01"}));
}

#[test]
fn us_ssns_with_the_area_rules() {
    all_redacted(json!({"note": "SSN 123-45-6789", "n": "078-05-1120"}));
    none_redacted(
        json!({"area_000": "000-12-3456", "area_666": "666-12-3456", "area_9xx": "912-34-5678"}),
    );
}

#[test]
fn pem_private_keys() {
    all_redacted(json!({
        "key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----",
        "openssh": "-----BEGIN OPENSSH PRIVATE KEY-----",
    }));
}

#[test]
fn a_map_key_whose_text_holds_a_secret_is_replaced() {
    let out = redact(json!({"api_key=abc123": "v", "note": 1}));
    assert_eq!(out, json!({"[REDACTED]#1": REDACTED, "note": 1}));
}

#[test]
fn near_misses_stay_readable() {
    none_redacted(json!({
        "max_tokens": 1000,
        "not_luhn": "4111111111111112",
        "order_id": "order 20240611000123",
        "ts": 1732000000000u64,
        "uuid": "550e8400-e29b-41d4-a716-446655440000",
        "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "version": "v1.2.3",
    }));
}
