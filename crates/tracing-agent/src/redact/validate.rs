//! The checks a rule's candidate must pass besides its shape: checksums (Luhn, mod-97),
//! number-plan rules (card issuers, SSN areas, phone lengths), and the cheap structural
//! tests that tell a credential from an English word after `Bearer`.
//!
//! Each validator gets the whole (normalized) text and the candidate's byte range, so a
//! check can look at what surrounds the candidate where the `regex` crate (which has no
//! look-around, the price of its linear-time guarantee) cannot.

use std::ops::Range;

/// The Luhn checksum of card numbers (ISO/IEC 7812-1).
pub(super) fn luhn_valid(digits: &[u8]) -> bool {
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

/// Whether `digits` starts like a card of a network that issues 13-19 digit numbers:
/// Visa `4`, Mastercard `51`-`55` and `2221`-`2720`, Mir `2200`-`2204`, American Express
/// `34`/`37`, Diners `30`/`36`/`38`/`39`, JCB `35`, Discover, UnionPay and Maestro `5`/`6`.
///
/// What this rules out matters more than what it lets in: nothing starting with `0`,
/// `1`, `7`, `8` or `9` is a card, so millisecond timestamps (`1732000000000`) and most
/// zero-padded or sequence ids never reach the Luhn check, which one in ten would pass.
fn card_issuer(digits: &[u8]) -> bool {
    let prefix = |n: usize| -> u32 {
        digits
            .iter()
            .take(n)
            .fold(0, |acc, &d| acc * 10 + u32::from(d))
    };
    match digits.first() {
        Some(4..=6) => true,
        Some(3) => matches!(prefix(2), 30 | 34..=39),
        Some(2) => matches!(prefix(4), 2200..=2204 | 2221..=2720),
        _ => false,
    }
}

/// 13 to 19 digits of a known issuer that pass the Luhn check.
pub(super) fn card_digits(digits: &[u8]) -> bool {
    (13..=19).contains(&digits.len()) && card_issuer(digits) && luhn_valid(digits)
}

/// The digits of a non-negative integer, most significant first.
pub(super) fn digits_of(mut n: u64) -> Vec<u8> {
    let mut digits = Vec::with_capacity(20);
    loop {
        digits.push((n % 10) as u8);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits.reverse();
    digits
}

/// Whether some run of consecutive digit groups, all written with the same separator,
/// is a card number (see [`card_digits`]).
///
/// A window is either one group of 13-19 digits, or several groups the way cards are
/// printed: a first group of 4 (every network's grouping starts so: 4-4-4-4, Amex 4-6-5,
/// Diners 4-6-4, 4-4-4-4-3), then groups of 3 to 6. Windows start and end only at group
/// boundaries and never inside a digit run: any 16 digits cut out of a long number pass
/// Luhn once in ten tries.
///
/// `groups` are digit groups; `same_sep(i)` tells whether the separator between groups
/// `i` and `i + 1` is the one between groups `i - 1` and `i`.
pub(super) fn card_in_groups(groups: &[&[u8]], same_sep: impl Fn(usize) -> bool) -> bool {
    let mut window: Vec<u8> = Vec::with_capacity(19);
    for start in 0..groups.len() {
        if card_digits(groups[start]) {
            return true;
        }
        if groups[start].len() != 4 {
            continue;
        }
        window.clear();
        window.extend_from_slice(groups[start]);
        for (end, &group) in groups.iter().enumerate().skip(start + 1) {
            if !(3..=6).contains(&group.len())
                || window.len() + group.len() > 19
                || (end > start + 1 && !same_sep(end - 1))
            {
                break;
            }
            window.extend_from_slice(group);
            if card_digits(&window) {
                return true;
            }
        }
    }
    false
}

/// The `card-number` rule's validator: the candidate is a run of digit groups with short
/// separators (space, tab, `-`, `.`, `/`, up to three of them).
pub(super) fn card_in_run(text: &str, range: Range<usize>) -> bool {
    let run = &text.as_bytes()[range];
    let mut groups: Vec<Vec<u8>> = Vec::new();
    let mut seps: Vec<&[u8]> = Vec::new();
    let mut i = 0;
    while i < run.len() {
        let start = i;
        while i < run.len() && run[i].is_ascii_digit() {
            i += 1;
        }
        groups.push(run[start..i].iter().map(|b| b - b'0').collect());
        let sep_start = i;
        while i < run.len() && !run[i].is_ascii_digit() {
            i += 1;
        }
        if i > sep_start {
            seps.push(&run[sep_start..i]);
        }
    }
    let groups: Vec<&[u8]> = groups.iter().map(Vec::as_slice).collect();
    card_in_groups(&groups, |i| seps[i] == seps[i - 1])
}

/// IBAN lengths by country, from the SWIFT IBAN registry.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HN", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// The `iban` rule's validator: the candidate's first letters and digits (separators
/// dropped), as many as its country's IBAN has, pass ISO 13616's mod-97 check. Taking
/// the country's length rather than the whole candidate lets a greedy match run on into
/// the next word without losing the IBAN in front of it.
pub(super) fn iban(text: &str, range: Range<usize>) -> bool {
    let compact: Vec<u8> = text.as_bytes()[range]
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(u8::to_ascii_uppercase)
        .collect();
    let Some(country) = compact.get(..2) else {
        return false;
    };
    let Some(&(_, len)) = IBAN_LENGTHS
        .iter()
        .find(|(code, _)| code.as_bytes() == country)
    else {
        return false;
    };
    compact.len() >= len && mod97(&compact[..len]) == 1
}

/// ISO 7064 MOD 97-10 over an IBAN: the first four characters moved to the end, letters
/// read as 10-35.
fn mod97(iban: &[u8]) -> u32 {
    let (head, tail) = iban.split_at(4);
    tail.iter().chain(head).fold(0, |acc, &c| {
        if c.is_ascii_digit() {
            (acc * 10 + u32::from(c - b'0')) % 97
        } else {
            (acc * 100 + u32::from(c - b'A') + 10) % 97
        }
    })
}

/// The `us-ssn` rule's validator (`AAA-GG-SSSS`): the SSA never issues area `000`, `666`
/// or `900`-`999` (the last are ITINs), group `00` or serial `0000`; and the candidate
/// must not be three groups cut out of a longer dashed number.
pub(super) fn ssn(text: &str, range: Range<usize>) -> bool {
    let b = text.as_bytes();
    let s = &b[range.clone()];
    let num = |r: Range<usize>| {
        s[r].iter()
            .fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0'))
    };
    let (area, group, serial) = (num(0..3), num(4..6), num(7..11));
    let dashed_before =
        range.start >= 2 && b[range.start - 1] == b'-' && b[range.start - 2].is_ascii_digit();
    let dashed_after =
        b.get(range.end) == Some(&b'-') && b.get(range.end + 1).is_some_and(u8::is_ascii_digit);
    area != 0
        && area != 666
        && area < 900
        && group != 0
        && serial != 0
        && !dashed_before
        && !dashed_after
}

/// The `bearer-token` rule's validator: what follows `Bearer` looks like a credential,
/// not like the next English word (`the bearer instrument`). A token does if it has a
/// digit, a symbol of RFC 6750's token alphabet, or a capital past its first letter, or
/// is 20 characters or longer; a real random token of 8 or more characters lacks all of
/// these about once in 2^16 (all one case, no digit).
pub(super) fn opaque_token(text: &str, range: Range<usize>) -> bool {
    let token = &text[range];
    token.len() >= 20
        || token.bytes().any(|b| {
            b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
        })
        || token.bytes().skip(1).any(|b| b.is_ascii_uppercase())
}

/// The `sk-api-key` rule's validator, on the part after `sk-`: a digit or a capital
/// somewhere (OpenAI and Anthropic keys are mixed-case base62), or 40 characters or
/// more. Keeps `sk-learn-compatible-estimator` readable.
pub(super) fn sk_key_body(text: &str, range: Range<usize>) -> bool {
    let body = &text[range];
    body.len() >= 40
        || body
            .bytes()
            .any(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// The `basic-auth` rule's validator: the candidate is base64 of `user:password`: it
/// decodes to UTF-8 text without control characters that holds a `:`, which no English
/// word after `basic` does but about once in a few hundred.
pub(super) fn basic_credentials(text: &str, range: Range<usize>) -> bool {
    let mut decoded = Vec::with_capacity(range.len() * 3 / 4);
    let mut bits: u32 = 0;
    let mut n_bits = 0;
    for b in text[range].bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => break, // `=` padding, or the end of the token
        };
        bits = (bits << 6) | u32::from(v);
        n_bits += 6;
        if n_bits >= 8 {
            n_bits -= 8;
            decoded.push((bits >> n_bits) as u8);
            bits &= (1 << n_bits) - 1;
        }
    }
    decoded.contains(&b':')
        && std::str::from_utf8(&decoded).is_ok_and(|s| !s.chars().any(char::is_control))
}

/// Digit counts at each group boundary of a phone candidate: `+1 415 555 2671 2` has
/// boundaries after 1, 4, 7, 11 and 12 digits. A greedy match can run into a number
/// that follows; a phone number ends at one of these boundaries.
fn digit_counts_at_boundaries(candidate: &str) -> Vec<usize> {
    let mut counts = Vec::new();
    let mut digits = 0;
    let mut in_digits = false;
    for b in candidate.bytes() {
        if b.is_ascii_digit() {
            digits += 1;
            in_digits = true;
        } else if in_digits {
            counts.push(digits);
            in_digits = false;
        }
    }
    if in_digits {
        counts.push(digits);
    }
    counts
}

/// The `phone-e164` rule's validator: `+`, a country code and the number, 9 to 15 digits
/// in all (E.164 allows at most 15); for `+1` (North America) exactly 11, so `+1 555 0100`
/// (a seven-digit local number) stays readable as the fragment it is. The `+` must not
/// follow a letter or digit (`x+12345678901` is arithmetic).
pub(super) fn phone_e164(text: &str, range: Range<usize>) -> bool {
    let before = text[..range.start].chars().next_back();
    if before.is_some_and(char::is_alphanumeric) {
        return false;
    }
    let candidate = &text[range];
    let nanp = candidate[1..].trim_start().starts_with('1');
    digit_counts_at_boundaries(candidate).into_iter().any(|n| {
        if nanp {
            n == 11
        } else {
            (9..=15).contains(&n)
        }
    })
}

/// The `phone-national` rule's validator, for numbers written with a leading trunk `0`
/// (`020 7946 0958`, `06 12 34 56 78`, `(02) 1234 5678`, `030-12345678`): a first group
/// of 2-5 digits (or in parentheses), then groups of 2 digits or more with one separator
/// throughout, 10 to 12 digits in all. The one-separator rule keeps dates with a time
/// out (`05.11.2024 14:30`); and a candidate that runs on from, or into, more digit
/// groups is part of a longer number (`DE89 3704 0044 0532 0130 01`, an IBAN that
/// fails its check), not a phone number.
pub(super) fn phone_national(text: &str, range: Range<usize>) -> bool {
    let bytes = text.as_bytes();
    let is_sep = |b: &u8| matches!(b, b' ' | b'.' | b'-' | b'/');
    let runs_on_from = range.start >= 2
        && is_sep(&bytes[range.start - 1])
        && bytes[range.start - 2].is_ascii_digit();
    let runs_into = bytes.get(range.end).is_some_and(is_sep)
        && bytes.get(range.end + 1).is_some_and(u8::is_ascii_digit);
    if runs_on_from || runs_into {
        return false;
    }
    let candidate = &bytes[range];
    let (area, rest) = match candidate.strip_prefix(b"(") {
        Some(after) => match after.iter().position(|&b| b == b')') {
            Some(close) => (close, after[close + 1..].trim_ascii_start()),
            None => return false,
        },
        None => {
            let n = candidate.iter().take_while(|b| b.is_ascii_digit()).count();
            (n, &candidate[n..])
        }
    };
    if !(2..=5).contains(&area) || rest.is_empty() {
        return false;
    }
    let mut digits = area;
    let mut sep: Option<u8> = None;
    let mut i = 0;
    while i < rest.len() {
        if !rest[i].is_ascii_digit() {
            if sep.is_some_and(|s| s != rest[i]) {
                return false;
            }
            sep = Some(rest[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < rest.len() && rest[i].is_ascii_digit() {
            i += 1;
        }
        if i - start < 2 {
            return false;
        }
        digits += i - start;
    }
    (10..=12).contains(&digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(s: &str) -> Vec<u8> {
        s.bytes().map(|b| b - b'0').collect()
    }

    /// `prefix` with the digit that makes it pass Luhn.
    pub(crate) fn luhn_complete(prefix: &str) -> String {
        (0..10)
            .map(|d| format!("{prefix}{d}"))
            .find(|n| luhn_valid(&digits(n)))
            .expect("one of ten digits completes any prefix")
    }

    fn whole(f: fn(&str, Range<usize>) -> bool, s: &str) -> bool {
        f(s, 0..s.len())
    }

    #[test]
    fn luhn_accepts_known_test_numbers_only() {
        assert!(luhn_valid(&digits("4111111111111111")));
        assert!(luhn_valid(&digits("5500005555555559")));
        assert!(luhn_valid(&digits("378282246310005")));
        assert!(!luhn_valid(&digits("4111111111111112")));
        assert!(!luhn_valid(&digits("1234567890123")));
    }

    #[test]
    fn card_issuers() {
        for card in [
            "4111111111111111",
            "5500005555555559",
            "378282246310005",
            "6011111111111117",
            "3530111333300000",
            "30569309025904",
            "2223003122003222",
            "4222222222222",
            "6250941006528599",
        ] {
            assert!(card_digits(&digits(card)), "{card}");
        }
        // Luhn-valid, but no network issues them: a timestamp, an id.
        for prefix in ["173200000000", "900000000000000", "700012345678901"] {
            let number = luhn_complete(prefix);
            assert!(luhn_valid(&digits(&number)), "{number}");
            assert!(!card_digits(&digits(&number)), "{number}");
        }
        assert!(!card_digits(&digits("411111111111"))); // 12 digits
        assert_eq!(digits_of(0), [0]);
        assert_eq!(digits_of(4111), [4, 1, 1, 1]);
    }

    #[test]
    fn card_runs() {
        for run in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "4111.1111.1111.1111",
            "4111/1111/1111/1111",
            "4111  1111  1111  1111",
            "4111 - 1111 - 1111 - 1111",
            "3782 822463 10005",
            "4111 1111 1111 1111 12 29",
            "12 4111 1111 1111 1111",
            "4111111111111111.0",
        ] {
            assert!(whole(card_in_run, run), "{run}");
        }
        for run in [
            "4111 1111 1111 1112",
            "4111.1111.1111 1111",        // mixed separators
            "41111111 11111111",          // not a card's grouping
            "4111111111111111111111",     // a longer number holds one
            "52.94.236.248 54.239.28.85", // addresses
            "1732000000000",
            "2024-10-08",
        ] {
            assert!(!whole(card_in_run, run), "{run}");
        }
    }

    #[test]
    fn ibans() {
        for iban_text in [
            "DE89370400440532013000",
            "DE89 3704 0044 0532 0130 00",
            "GB82 WEST 1234 5698 7654 32",
            "gb82west12345698765432",
            "FR14 2004 1010 0505 0001 3M02 606",
            "NL91ABNA0417164300",
            "DE89 3704 0044 0532 0130 00 AND MORE",
        ] {
            assert!(whole(iban, iban_text), "{iban_text}");
        }
        for not in [
            "DE89370400440532013001",
            "DE8937040044053201",
            "ZZ89370400440532013000",
        ] {
            assert!(!whole(iban, not), "{not}");
        }
    }

    #[test]
    fn ssns() {
        assert!(whole(ssn, "123-45-6789"));
        assert!(whole(ssn, "078-05-1120"));
        for not in [
            "000-12-3456",
            "666-12-3456",
            "900-12-3456",
            "123-00-4567",
            "123-45-0000",
        ] {
            assert!(!whole(ssn, not), "{not}");
        }
        let text = "4111-123-45-6789";
        assert!(!ssn(text, 5..16));
        let text = "123-45-6789-12";
        assert!(!ssn(text, 0..11));
    }

    #[test]
    fn tokens_and_credentials() {
        assert!(whole(opaque_token, "abcdefgh12345"));
        assert!(whole(opaque_token, "abcdEfgh"));
        assert!(whole(opaque_token, "abc.defgh"));
        assert!(!whole(opaque_token, "instrument"));
        assert!(!whole(opaque_token, "Securities"));
        assert!(whole(sk_key_body, "proj-Ab3dEf"));
        assert!(!whole(sk_key_body, "learn-compatible-estimator"));
        assert!(whole(basic_credentials, "dXNlcjpwYXNz")); // user:pass
        assert!(whole(basic_credentials, "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
        assert!(!whole(basic_credentials, "understanding"));
    }

    #[test]
    fn phones() {
        for p in [
            "+1 415 555 2671",
            "+14155552671",
            "+44 20 7946 0958",
            "+33 6 12 34 56 78",
            "+1 415 555 2671 2",
        ] {
            assert!(whole(phone_e164, p), "{p}");
        }
        for p in ["+1 555 0100", "+12345", "+1 415 555 26712"] {
            assert!(!whole(phone_e164, p), "{p}");
        }
        assert!(!phone_e164("x+441234567890", 1..14));
        for p in [
            "020 7946 0958",
            "06 12 34 56 78",
            "(02) 1234 5678",
            "030-12345678",
            "07700 900123",
        ] {
            assert!(whole(phone_national, p), "{p}");
        }
        let text = "DE89 3704 0044 0532 0130 01";
        assert!(!phone_national(text, 15..27));
        let text = "020 7946 0958 1";
        assert!(!phone_national(text, 0..13));
        assert!(whole(phone_national, "(02) 1234-5678"));
        for p in [
            "05.11.2024 14",
            "01/02/2024 10",
            "0 1 2 3 4 5 6 7 8 9",
            "020 7946",
            "0712345678",
        ] {
            assert!(!whole(phone_national, p), "{p}");
        }
    }
}
