//! A fast path for reading the block-style YAML subset that `kubectl get -o yaml` (go-yaml) writes.
//!
//! serde-saphyr remains the reference parser of this project: it is the fallback for everything
//! this module does not handle, and the source of every error message a user sees. This module
//! only exists because big cluster dumps (tens of MiB) take seconds to parse with serde-saphyr.
//!
//! The contract: for any input, [`from_multiple`] / [`from_str`] either produce exactly what
//! `serde_saphyr::from_multiple_with_options` / `serde_saphyr::from_str` would produce (with a
//! budget large enough for the input, like the one `snapshot` uses), or return [`Declined`], in
//! which case the caller re-parses the text with serde-saphyr. Declining is always allowed;
//! a different successful result never is. So whenever a construct is outside the subset, or
//! its meaning is not certain, the fast path declines: anchors, aliases, tags, directives,
//! complex keys, merge keys, non-empty flow collections, tabs outside of block scalar text,
//! carriage returns, byte order marks and control characters, duplicate keys, keys that would
//! not resolve to a string, root scalars, non-finite floats in untyped positions, nesting
//! deeper than serde-saphyr's default depth limit, and a few rare scalar shapes.
//!
//! Supported: block mappings and sequences by indentation (including go-yaml's `key:\n- item`
//! style, compact `- key: v` mappings and `- - a` nested sequences), multi-document streams with
//! `---` and `...` (empty documents are skipped, as serde-saphyr does), plain scalars (also
//! folded over several lines), single- and double-quoted scalars with every YAML escape and
//! line folding, literal and folded block scalars with chomping and indentation indicators,
//! empty flow collections `{}` and `[]`, and comments. Plain scalars resolve like
//! serde-saphyr's `deserialize_any` (YAML 1.1 booleans such as `yes`/`off`, YAML 1.2
//! integers with `0x`/`0o`/`0b` and `_`, floats; `0755` is the float 755.0 there too), and
//! typed targets get serde-saphyr's conversions (`"123"` into an `i32`, `yes` into a `bool`,
//! null-like plain scalars into `None`, enums from a variant name or a single-key mapping).
//!
//! Scalars without escapes or folding are handed to visitors borrowed from the input (only
//! escaped, folded and block scalars allocate); the structure itself is parsed in one forward
//! pass over the bytes (memchr scans), without per-line or per-node allocation, and
//! `deserialize_ignored_any` checks skipped values without building them. [`from_str`] also
//! declines inputs that could exceed serde-saphyr's default budget (nodes, scalar bytes).
//!
//! Equality with serde-saphyr is tested differentially (`shared/yaml-fast/tests/yaml_fast.rs` and the
//! tests below): the project's YAML corpus and hand-written snippets for every scalar style are
//! deserialized by both parsers into `serde_json::Value` and into typed k8s-openapi objects and
//! compared, and a mutation test feeds thousands of corrupted variants of the corpus to both,
//! asserting that the fast path never panics and never accepts a text with a different result.

use serde::de;
use std::fmt;

/// Why the fast path did not produce a value; the caller falls back to serde-saphyr.
#[derive(Debug)]
pub struct Declined {
    /// 1-based line where the fast path gave up (0 if unknown).
    pub line: usize,
    /// A short reason, for debugging only: users see serde-saphyr's message.
    pub reason: String,
}

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for Declined {}

impl de::Error for Declined {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Declined {
            line: 0,
            reason: msg.to_string(),
        }
    }
}

type Result<T> = std::result::Result<T, Declined>;

/// Every document of a multi-document stream, like `serde_saphyr::from_multiple_with_options`
/// (null and empty documents are skipped).
pub fn from_multiple<'de, T: de::Deserialize<'de>>(text: &'de str) -> Result<Vec<T>> {
    let mut p = Parser::new(text)?;
    let mut out = Vec::new();
    p.documents(|p, node| {
        if let Some(node) = node {
            out.push(p.deserialize_root::<T>(node)?);
        }
        Ok(())
    })?;
    Ok(out)
}

/// One document through a seed, like `serde_saphyr::with_deserializer_from_str_with_options`
/// with the raised budget of [`from_multiple`] (the dump reader parses each List item this way).
pub fn from_str_seed<'de, S: de::DeserializeSeed<'de>>(
    text: &'de str,
    seed: S,
) -> Result<S::Value> {
    let mut p = Parser::new(text)?;
    let mut seed = Some(seed);
    let mut out: Option<S::Value> = None;
    p.documents(|p, node| {
        let (Some(node), Some(seed)) = (node, seed.take()) else {
            return p.decline("not exactly one document");
        };
        let r = seed.deserialize(De { p: &mut *p, node });
        out = Some(r.map_err(|mut e| {
            if e.line == 0 {
                e.line = p.line;
            }
            e
        })?);
        Ok(())
    })?;
    match out {
        Some(v) => Ok(v),
        None => p.decline("no document"),
    }
}

/// One document, like `serde_saphyr::from_str` (with its default budget).
pub fn from_str<'de, T: de::Deserialize<'de>>(text: &'de str) -> Result<T> {
    // serde-saphyr's default budget: stay well inside it, decline beyond.
    if text.len() > 32 * 1024 * 1024 {
        return Err(Declined {
            line: 0,
            reason: "input larger than the default budget".into(),
        });
    }
    let mut p = Parser::new(text)?;
    p.max_nodes = 200_000;
    let mut out: Option<T> = None;
    let mut docs = 0usize;
    p.documents(|p, node| {
        docs += 1;
        if docs > 1 {
            return p.decline("more than one document");
        }
        match node {
            Some(node) => {
                out = Some(p.deserialize_root::<T>(node)?);
                Ok(())
            }
            None => p.decline("empty document"),
        }
    })?;
    match out {
        Some(v) => Ok(v),
        None => p.decline("no document"),
    }
}

mod deser;
mod parser;
mod scalar;
#[cfg(test)]
mod tests;

use deser::*;
use parser::*;
use scalar::*;
