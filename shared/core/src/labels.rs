//! Label selectors as kubectl parses them: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
//! `a`, `!a`, joined by commas. Used to filter dump objects in memory exactly as the API server
//! would filter a LIST, and to match a workload's `spec.selector` against pods.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Req {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed selector; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    reqs: Vec<Req>,
    /// The text it was parsed from (sent as-is to the API server).
    pub text: String,
}

impl Selector {
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |why: &str| Error::Usage(format!("invalid label selector {text:?}: {why}"));
        let mut reqs = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let req = if let Some(key) = part.strip_prefix('!') {
                Req::NotExists(check_key(key.trim()).map_err(|e| bad(&e))?)
            } else if let Some((k, v)) = part.split_once("!=") {
                Req::NotEq(
                    check_key(k.trim()).map_err(|e| bad(&e))?,
                    check_value(v.trim()).map_err(|e| bad(&e))?,
                )
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                Req::Eq(
                    check_key(k.trim()).map_err(|e| bad(&e))?,
                    check_value(v.trim()).map_err(|e| bad(&e))?,
                )
            } else if let Some((k, set)) = split_set_op(part, " notin ") {
                Req::NotIn(
                    check_key(k).map_err(|e| bad(&e))?,
                    parse_set(set).map_err(|e| bad(&e))?,
                )
            } else if let Some((k, set)) = split_set_op(part, " in ") {
                Req::In(
                    check_key(k).map_err(|e| bad(&e))?,
                    parse_set(set).map_err(|e| bad(&e))?,
                )
            } else {
                Req::Exists(check_key(part).map_err(|e| bad(&e))?)
            };
            reqs.push(req);
        }
        Ok(Selector {
            reqs,
            text: text.trim().to_string(),
        })
    }

    /// Build from a workload's `spec.selector` (matchLabels + matchExpressions).
    pub fn from_label_selector(sel: &LabelSelector) -> Self {
        let mut reqs = Vec::new();
        if let Some(ml) = &sel.match_labels {
            for (k, v) in ml {
                reqs.push(Req::Eq(k.clone(), v.clone()));
            }
        }
        for e in sel.match_expressions.iter().flatten() {
            let vals = e.values.clone().unwrap_or_default();
            reqs.push(match e.operator.as_str() {
                "In" => Req::In(e.key.clone(), vals),
                "NotIn" => Req::NotIn(e.key.clone(), vals),
                "Exists" => Req::Exists(e.key.clone()),
                "DoesNotExist" => Req::NotExists(e.key.clone()),
                // An unknown operator matches nothing, as the API server would reject it.
                _ => Req::In(e.key.clone(), Vec::new()),
            });
        }
        Selector {
            reqs,
            text: String::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    pub fn matches<L: crate::snapshot::lean::Lookup + ?Sized>(&self, labels: Option<&L>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.lookup(k));
        self.reqs.iter().all(|r| match r {
            Req::Eq(k, v) => get(k) == Some(v),
            Req::NotEq(k, v) => get(k) != Some(v),
            Req::In(k, vs) => get(k).is_some_and(|x| vs.contains(x)),
            Req::NotIn(k, vs) => get(k).is_none_or(|x| !vs.contains(x)),
            Req::Exists(k) => get(k).is_some(),
            Req::NotExists(k) => get(k).is_none(),
        })
    }
}

/// Split on commas that are not inside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn split_set_op<'a>(part: &'a str, op: &str) -> Option<(&'a str, &'a str)> {
    let i = part.find(op)?;
    Some((part[..i].trim(), part[i + op.len()..].trim()))
}

fn parse_set(set: &str) -> std::result::Result<Vec<String>, String> {
    let inner = set
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("expected (a,b) after in/notin, got {set:?}"))?;
    inner.split(',').map(|v| check_value(v.trim())).collect()
}

fn check_key(k: &str) -> std::result::Result<String, String> {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if let Some(p) = prefix {
        crate::names::validate_dns1123_subdomain(p).map_err(|_| format!("bad key prefix {p:?}"))?;
    }
    if name.is_empty() || name.len() > 63 || !name.bytes().all(is_label_char) {
        return Err(format!("bad key {k:?}"));
    }
    Ok(k.to_string())
}

fn check_value(v: &str) -> std::result::Result<String, String> {
    if v.len() > 63 || !v.bytes().all(is_label_char) {
        return Err(format!("bad value {v:?}"));
    }
    Ok(v.to_string())
}

fn is_label_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn equality_and_sets() {
        let l = labels(&[("app", "db"), ("tier", "data"), ("env", "prod")]);
        let m = |s: &str| Selector::parse(s).unwrap().matches(Some(&l));
        assert!(m("app=db"));
        assert!(m("app==db,tier=data"));
        assert!(!m("app=web"));
        assert!(m("app!=web"));
        assert!(m("env in (prod,qa)"));
        assert!(!m("env notin (prod)"));
        assert!(m("missing notin (x)"));
        assert!(m("app"));
        assert!(m("!missing"));
        assert!(!m("!app"));
        assert!(m("env in (prod, qa),app=db"));
        assert!(m(""));
        assert!(
            !Selector::parse("x=y")
                .unwrap()
                .matches::<crate::snapshot::lean::SmallMap<String>>(None)
        );
    }

    #[test]
    fn bad_selectors_are_usage_errors() {
        for s in ["a=b c", "a in prod", "=x", "a=(", "a/b/c=d"] {
            let e = Selector::parse(s).unwrap_err();
            assert_eq!(e.exit_code().code(), 2, "{s}");
        }
    }

    #[test]
    fn from_workload_selector() {
        let sel: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchLabels": {"app": "mongo"},
            "matchExpressions": [{"key": "role", "operator": "In", "values": ["db"]}]
        }))
        .unwrap();
        let s = Selector::from_label_selector(&sel);
        assert!(s.matches(Some(&labels(&[("app", "mongo"), ("role", "db")]))));
        assert!(!s.matches(Some(&labels(&[("app", "mongo")]))));
    }
}
