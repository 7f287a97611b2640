//! Kubernetes resource quantities (`10Gi`, `500M`, `1.5Ti`, `1e9`) as bytes, for comparisons.

/// Parse a quantity into a number of bytes (fractional values allowed). None if malformed.
pub fn parse(q: &str) -> Option<f64> {
    let q = q.trim();
    if q.is_empty() {
        return None;
    }
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        s if s.starts_with(['e', 'E']) => 10f64.powi(s[1..].parse::<i32>().ok()?),
        _ => return None,
    };
    Some(n * mult)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn quantities() {
        assert_eq!(parse("10Gi"), Some(10.0 * 1024f64.powi(3)));
        assert_eq!(parse("500M"), Some(5e8));
        assert_eq!(parse("1.5Ki"), Some(1536.0));
        assert_eq!(parse("1e3"), Some(1000.0));
        assert_eq!(parse("100"), Some(100.0));
        assert_eq!(parse("5Qi"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("Gi"), None);
        assert!(parse("1Gi") > parse("1G"));
    }
}
