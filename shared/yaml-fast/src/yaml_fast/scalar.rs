//! Scalar resolution, replicating serde-saphyr 2.1.1 (parse_scalars.rs, default options).

// ---------------------------------------------------------------------------------------------
// Scalar resolution, replicating serde-saphyr 2.1.1 (parse_scalars.rs, default options).

pub(super) fn yaml_trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

pub(super) fn is_nullish(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

pub(super) fn parse_bool(s: &str) -> Option<bool> {
    let t = yaml_trim(s);
    let any = |list: &[&str]| list.iter().any(|w| t.eq_ignore_ascii_case(w));
    if any(&["true", "yes", "y", "on"]) {
        Some(true)
    } else if any(&["false", "no", "n", "off"]) {
        Some(false)
    } else {
        None
    }
}

pub(super) fn digits_u128(digits: &str, radix: u32, decimal_only: bool) -> Option<u128> {
    let bytes = digits.as_bytes();
    let mut val: u128 = 0;
    let mut saw = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let prev_ok = i > 0 && bytes[i - 1] != b'_';
            let next_ok = i + 1 < bytes.len() && bytes[i + 1] != b'_';
            if !prev_ok || !next_ok {
                return None;
            }
            continue;
        }
        let d = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'a'..=b'f' if radix > 10 && !decimal_only => 10 + u32::from(b - b'a'),
            b'A'..=b'F' if radix > 10 && !decimal_only => 10 + u32::from(b - b'A'),
            _ => return None,
        };
        if d >= radix {
            return None;
        }
        val = val
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(d))?;
        saw = true;
    }
    saw.then_some(val)
}

pub(super) fn radix_and_digits(rest: &str) -> (u32, &str) {
    if let Some(r) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        (16, r)
    } else if let Some(r) = rest.strip_prefix("0o").or_else(|| rest.strip_prefix("0O")) {
        (8, r)
    } else if let Some(r) = rest.strip_prefix("0b").or_else(|| rest.strip_prefix("0B")) {
        (2, r)
    } else {
        (10, rest)
    }
}

pub(super) fn parse_signed(s: &str) -> Option<i128> {
    let t = yaml_trim(s);
    let (neg, rest) = match t.strip_prefix('+') {
        Some(r) => (false, r),
        None => match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t),
        },
    };
    let (radix, digits) = radix_and_digits(rest);
    if radix == 10 && digits.starts_with('0') && digits != "0" {
        return None;
    }
    let mag = digits_u128(digits, radix, radix == 10)?;
    if neg {
        if mag == (i128::MAX as u128) + 1 {
            Some(i128::MIN)
        } else {
            i128::try_from(mag).ok()?.checked_neg()
        }
    } else {
        i128::try_from(mag).ok()
    }
}

pub(super) fn parse_unsigned(s: &str) -> Option<u128> {
    let t = yaml_trim(s);
    if t.starts_with('-') {
        return None;
    }
    let rest = t.strip_prefix('+').unwrap_or(t);
    let (radix, digits) = radix_and_digits(rest);
    if radix == 10 && digits.starts_with('0') && digits != "0" {
        return None;
    }
    digits_u128(digits, radix, radix == 10)
}

/// YAML 1.2 float for typed targets: `.inf`/`.nan` spellings or a finite Rust parse.
pub(super) fn parse_float<T: std::str::FromStr + Into<f64> + Copy>(
    s: &str,
    nonfinite: fn(u8) -> T,
) -> Option<T> {
    let t = yaml_trim(s);
    let (neg, un) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    match un {
        ".nan" | ".NaN" | ".NAN" => return Some(nonfinite(b'n')),
        ".inf" | ".Inf" | ".INF" => return Some(nonfinite(if neg { b'-' } else { b'+' })),
        _ => {}
    }
    let v = t.parse::<T>().ok()?;
    v.into().is_finite().then_some(v)
}

pub(super) fn nonfinite_f64(k: u8) -> f64 {
    match k {
        b'n' => f64::NAN,
        b'-' => f64::NEG_INFINITY,
        _ => f64::INFINITY,
    }
}

pub(super) fn nonfinite_f32(k: u8) -> f32 {
    match k {
        b'n' => f32::NAN,
        b'-' => f32::NEG_INFINITY,
        _ => f32::INFINITY,
    }
}

pub(super) enum Resolved {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str,
    /// serde-saphyr rejects non-finite floats in untyped positions (or the integer overflows
    /// in a way we do not replicate): decline.
    Decline,
}

/// What serde-saphyr's `deserialize_any` makes of a plain scalar.
pub(super) fn resolve_plain(s: &str) -> Resolved {
    // Fast answer for the common case: text starting with a letter is a string unless it is
    // one of the short null or boolean words (no integer starts with a letter, and the only
    // float spellings that do, `inf`/`nan`, are not finite and stay strings), and text
    // starting with any other character that cannot begin a number, null or boolean.
    if let Some(&c) = s.as_bytes().first() {
        if c.is_ascii_alphabetic() {
            return if s.len() > 5 {
                Resolved::Str
            } else if is_nullish(s) {
                Resolved::Null
            } else if let Some(b) = parse_bool(s) {
                Resolved::Bool(b)
            } else {
                Resolved::Str
            };
        } else if !(c.is_ascii_digit()
            || matches!(c, b'+' | b'-' | b'.' | b'~' | b' ' | b'\t' | b'\n'))
        {
            return Resolved::Str;
        }
    }
    if is_nullish(s) {
        return Resolved::Null;
    }
    if let Some(b) = parse_bool(s) {
        return Resolved::Bool(b);
    }
    let t = yaml_trim(s);
    if let Some(digits) = t.strip_prefix('-') {
        let leading_zero = digits.len() > 1
            && digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit());
        if !leading_zero && let Some(v) = parse_signed(t).and_then(|v| i64::try_from(v).ok()) {
            return Resolved::I64(v);
        }
    } else if let Some(v) = parse_unsigned(t).and_then(|v| u64::try_from(v).ok()) {
        return Resolved::U64(v);
    }
    let un = t.strip_prefix(['+', '-']).unwrap_or(t);
    if matches!(un, ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF") {
        return Resolved::Decline;
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Resolved::F64(v),
        Ok(v) if v.is_infinite() && un.as_bytes().first().is_some_and(u8::is_ascii_digit) => {
            Resolved::Decline
        }
        _ => Resolved::Str,
    }
}
