//! Numbers as Python's `json.dumps` writes them: integers in plain decimal, floats as `repr(float)`.

/// Appends an integer in plain decimal.
#[inline]
pub(crate) fn write_int<I: itoa::Integer>(out: &mut Vec<u8>, value: I) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Appends `repr(value)` (Python), or the `NaN` / `Infinity` / `-Infinity` tokens `json.dumps` emits.
pub(crate) fn write_f64(out: &mut Vec<u8>, value: f64) {
    if value.is_finite() {
        relayout(out, ryu::Buffer::new().format_finite(value).as_bytes());
    } else {
        write_non_finite(out, value.is_nan(), value.is_sign_negative());
    }
}

/// Appends an `f32` with its own shortest digits, so `0.1f32` is written `0.1` (not
/// `0.10000000149011612`), in the same layout as [`write_f64`].
pub(crate) fn write_f32(out: &mut Vec<u8>, value: f32) {
    if value.is_finite() {
        relayout(out, ryu::Buffer::new().format_finite(value).as_bytes());
    } else {
        write_non_finite(out, value.is_nan(), value.is_sign_negative());
    }
}

fn write_non_finite(out: &mut Vec<u8>, nan: bool, negative: bool) {
    out.extend_from_slice(match (nan, negative) {
        (true, _) => b"NaN",
        (false, false) => b"Infinity",
        (false, true) => b"-Infinity",
    });
}

/// Writes ryu's shortest round-trip output in Python's layout. Ryu's fixed notation
/// (used for 1e-5 <= |v| < 1e16) already matches Python's except for 1e-5 <= |v| < 1e-4,
/// where Python switches to exponent form; everything else goes through [`layout`].
fn relayout(out: &mut Vec<u8>, ryu: &[u8]) {
    let unsigned = ryu.strip_prefix(b"-").unwrap_or(ryu);
    if !ryu.contains(&b'e') && !unsigned.starts_with(b"0.0000") {
        out.extend_from_slice(ryu);
    } else {
        reshape(out, ryu);
    }
}

/// Parses any `[-]I[.F][e[±]X]` decimal into digits and decimal point, then [`layout`]s it.
fn reshape(out: &mut Vec<u8>, ryu: &[u8]) {
    let (negative, ryu) = match ryu.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, ryu),
    };
    let (mantissa, exponent) = match ryu.iter().position(|&b| b == b'e' || b == b'E') {
        Some(e) => (
            ryu.get(..e).unwrap_or_default(),
            parse_exponent(ryu.get(e + 1..).unwrap_or_default()),
        ),
        None => (ryu, 0),
    };
    // value = 0.DIGITS × 10^decpt with DIGITS free of leading and trailing zeros.
    let mut digits = [0u8; 24];
    let mut len = 0usize;
    let mut int_digits = 0i32;
    let mut leading_zeros = 0i32;
    let mut pending_zeros = 0usize;
    let mut in_fraction = false;
    for &byte in mantissa {
        if byte == b'.' {
            in_fraction = true;
            continue;
        }
        if !in_fraction {
            int_digits += 1;
        }
        if byte == b'0' {
            if len == 0 {
                leading_zeros += 1;
            } else {
                pending_zeros += 1;
            }
            continue;
        }
        for _ in 0..pending_zeros {
            push_digit(&mut digits, &mut len, b'0');
        }
        pending_zeros = 0;
        push_digit(&mut digits, &mut len, byte);
    }
    let decpt = int_digits + exponent - leading_zeros;
    layout(out, negative, digits.get(..len).unwrap_or_default(), decpt);
}

fn push_digit(digits: &mut [u8; 24], len: &mut usize, digit: u8) {
    // Shortest round-trip output never exceeds 17 significant digits.
    if let Some(slot) = digits.get_mut(*len) {
        *slot = digit;
        *len += 1;
    }
}

fn parse_exponent(text: &[u8]) -> i32 {
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let magnitude = text.iter().fold(0i32, |acc, &d| {
        acc.saturating_mul(10)
            .saturating_add(i32::from(d.wrapping_sub(b'0')))
    });
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// Writes `±0.DIGITS × 10^decpt` the way CPython's `float_repr` does: exponent form
/// (`d[.ddd]e±XX`, at least two exponent digits) when `decpt <= -4 || decpt > 16`,
/// otherwise fixed form with at least one digit after the point. No digits means zero.
pub(crate) fn layout(out: &mut Vec<u8>, negative: bool, digits: &[u8], decpt: i32) {
    if negative {
        out.push(b'-');
    }
    let Some((&first, rest)) = digits.split_first() else {
        out.extend_from_slice(b"0.0");
        return;
    };
    if decpt <= -4 || decpt > 16 {
        out.push(first);
        if !rest.is_empty() {
            out.push(b'.');
            out.extend_from_slice(rest);
        }
        let exponent = decpt - 1;
        out.push(b'e');
        out.push(if exponent < 0 { b'-' } else { b'+' });
        let magnitude = exponent.unsigned_abs();
        if magnitude < 10 {
            out.push(b'0');
        }
        write_int(out, magnitude);
    } else if decpt <= 0 {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + decpt.unsigned_abs() as usize, b'0');
        out.extend_from_slice(digits);
    } else {
        let int_len = decpt.unsigned_abs() as usize;
        match (digits.get(..int_len), digits.get(int_len..)) {
            (Some(int), Some(frac)) if !frac.is_empty() => {
                out.extend_from_slice(int);
                out.push(b'.');
                out.extend_from_slice(frac);
            }
            _ => {
                out.extend_from_slice(digits);
                out.resize(out.len() + (int_len.saturating_sub(digits.len())), b'0');
                out.extend_from_slice(b".0");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f64_str(v: f64) -> String {
        let mut out = Vec::new();
        write_f64(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    fn f32_str(v: f32) -> String {
        let mut out = Vec::new();
        write_f32(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    fn laid_out(digits: &str, decpt: i32) -> String {
        let mut out = Vec::new();
        layout(&mut out, false, digits.as_bytes(), decpt);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn layout_switches_form_at_python_thresholds() {
        assert_eq!(laid_out("1", 17), "1e+16");
        assert_eq!(laid_out("1", 16), "1000000000000000.0");
        assert_eq!(laid_out("1", -3), "0.0001");
        assert_eq!(laid_out("1", -4), "1e-05");
        assert_eq!(laid_out("15", -6), "1.5e-07");
        assert_eq!(laid_out("1", 101), "1e+100");
        assert_eq!(laid_out("123456", 3), "123.456");
        assert_eq!(laid_out("1", 3), "100.0");
        assert_eq!(laid_out("5", 0), "0.5");
        assert_eq!(laid_out("", 0), "0.0");
    }

    #[test]
    fn reshape_handles_every_ryu_form() {
        let reshaped = |ryu: &str| {
            let mut out = Vec::new();
            reshape(&mut out, ryu.as_bytes());
            String::from_utf8(out).unwrap()
        };
        assert_eq!(reshaped("100.0"), "100.0");
        assert_eq!(reshaped("1000000000000000.0"), "1000000000000000.0");
        assert_eq!(reshaped("123.456"), "123.456");
        assert_eq!(reshaped("0.0001"), "0.0001");
        assert_eq!(reshaped("-0.00012"), "-0.00012");
        assert_eq!(reshaped("0.00001"), "1e-05");
        assert_eq!(reshaped("1e16"), "1e+16");
        assert_eq!(reshaped("-1.5e-7"), "-1.5e-07");
        assert_eq!(
            reshaped("1.7976931348623157e308"),
            "1.7976931348623157e+308"
        );
        assert_eq!(reshaped("5E-324"), "5e-324");
    }

    #[test]
    fn floats_match_python_repr() {
        assert_eq!(f64_str(0.1), "0.1");
        assert_eq!(f64_str(-0.0), "-0.0");
        assert_eq!(f64_str(0.0), "0.0");
        assert_eq!(f64_str(1e16), "1e+16");
        assert_eq!(f64_str(1e15), "1000000000000000.0");
        assert_eq!(f64_str(9999999999999998.0), "9999999999999998.0");
        assert_eq!(f64_str(5e-324), "5e-324");
        assert_eq!(f64_str(1.7976931348623157e308), "1.7976931348623157e+308");
        assert_eq!(f64_str(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(f64_str(-1.5e-7), "-1.5e-07");
        assert_eq!(f64_str(f64::NAN), "NaN");
        assert_eq!(f64_str(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn f32_uses_its_own_shortest_digits() {
        assert_eq!(f32_str(0.1), "0.1");
        assert_eq!(f32_str(1e16), "1e+16");
        assert_eq!(f32_str(16777216.0), "16777216.0");
        assert_eq!(f32_str(f32::MAX), "3.4028235e+38");
        assert_eq!(f32_str(f32::MIN_POSITIVE), "1.1754944e-38");
        assert_eq!(f32_str(f32::from_bits(1)), "1e-45");
        assert_eq!(f32_str(f32::INFINITY), "Infinity");
    }
}
