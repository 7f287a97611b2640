//! Names as Kubernetes checks them (DNS-1123), checked before any request or command is built.
//! A leaf: it depends on nothing.

/// RFC 1123 label (namespaces, Service names): lowercase alphanumerics and '-', ≤ 63.
pub fn validate_dns1123_label(s: &str) -> std::result::Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a valid name: lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit"
        ))
    }
}

/// RFC 1123 subdomain (most object names): ≤ 253, labels of [a-z0-9-] joined by '.'.
pub fn validate_dns1123_subdomain(s: &str) -> std::result::Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a valid object name: lowercase letters, digits, '-' and '.', at most 253"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_dns1123_label("prod-db").is_ok());
        assert!(validate_dns1123_label("Prod").is_err());
        assert!(validate_dns1123_label("-a").is_err());
        assert!(validate_dns1123_label("a;rm -rf /").is_err());
        assert!(validate_dns1123_subdomain("data-db-0.x").is_ok());
        assert!(validate_dns1123_subdomain("a..b").is_err());
        assert!(validate_dns1123_subdomain(&"a".repeat(254)).is_err());
    }
}
