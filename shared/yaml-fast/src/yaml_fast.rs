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

use memchr::{memchr, memchr2, memchr3};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::borrow::Cow;
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

const fn byte_set(chars: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < chars.len() {
        t[chars[i] as usize] = true;
        i += 1;
    }
    t
}

/// First characters that do not start a plain key.
static KEY_STOP: [bool; 256] = byte_set(b"-?:,[]{}#&*!|>%@`\t \n\0\"'");

/// serde-saphyr's default `max_depth` is 64; stay below it.
const MAX_DEPTH: usize = 60;

#[derive(Clone, Copy)]
struct Mark {
    pos: usize,
    line: usize,
    line_start: usize,
}

struct Parser<'de> {
    src: &'de str,
    b: &'de [u8],
    pos: usize,
    line: usize,
    line_start: usize,
    depth: usize,
    nodes: usize,
    max_nodes: usize,
    /// Keys of the mappings being read, innermost last, for duplicate detection.
    keys: Vec<&'de str>,
}

/// A node whose kind is known but whose content is not consumed yet (except keys).
enum Node<'de> {
    /// An empty value (no text at all).
    Null,
    /// An already parsed scalar (used for keys): text and whether it was plain.
    Str(&'de str, bool),
    /// A scalar starting at the parser position.
    Scalar {
        bound: isize,
        block_ok: bool,
    },
    /// A block mapping whose first key is at the parser position, at this indentation.
    Map(usize),
    /// A block sequence whose first `-` is at the parser position.
    Seq(usize),
    EmptyMap,
    EmptySeq,
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    MapValue,
    SeqEntry,
}

fn is_blank_or_eof(c: u8) -> bool {
    c == b' ' || c == b'\n' || c == 0
}

impl<'de> Parser<'de> {
    fn new(src: &'de str) -> Result<Self> {
        let b = src.as_bytes();
        let mut p = Parser {
            src,
            b,
            pos: 0,
            line: 1,
            line_start: 0,
            depth: 0,
            nodes: 0,
            max_nodes: usize::MAX,
            keys: Vec::new(),
        };
        // Characters whose treatment we do not replicate: CR, control characters, DEL; and
        // among non-ASCII characters the BOM, C1 controls, Unicode line separators and
        // non-characters. Branch-free per 64-byte chunk so that it vectorizes.
        for (k, chunk) in b.chunks(64).enumerate() {
            let (mut bad, mut high) = (false, false);
            for &c in chunk {
                bad |= (c < 0x20) & (c != b'\n') & (c != b'\t') | (c == 0x7f);
                high |= c >= 0x80;
            }
            if !(bad || high) {
                continue;
            }
            let base = k * 64;
            for (j, &c) in chunk.iter().enumerate() {
                let i = base + j;
                let b1 = p.byte(i + 1);
                let b2 = p.byte(i + 2);
                let special = ((c < 0x20) & (c != b'\n') & (c != b'\t'))
                    || c == 0x7f
                    || (c == 0xc2 && (0x80..=0x9f).contains(&b1))
                    || (c == 0xef && b1 == 0xbb && b2 == 0xbf)
                    || (c == 0xe2 && b1 == 0x80 && (b2 == 0xa8 || b2 == 0xa9))
                    || (c == 0xef && b1 == 0xbf && (b2 == 0xbe || b2 == 0xbf));
                if special {
                    p.line = 1 + memchr::memchr_iter(b'\n', &b[..i]).count();
                    return p.decline("control or special character");
                }
            }
        }
        Ok(p)
    }

    fn decline<T>(&self, reason: &str) -> Result<T> {
        Err(Declined {
            line: self.line,
            reason: reason.to_string(),
        })
    }

    #[inline]
    fn byte(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    /// Index of the `\n` ending the line containing `i`, or the input length.
    #[inline]
    fn eol(&self, i: usize) -> usize {
        match self.b.get(i..) {
            Some(rest) => memchr(b'\n', rest).map_or(self.b.len(), |x| i + x),
            None => self.b.len(),
        }
    }

    fn slice(&self, a: usize, z: usize) -> Result<&'de str> {
        match self.src.get(a..z) {
            Some(s) => Ok(s),
            None => self.decline("internal: bad slice"),
        }
    }

    fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            line: self.line,
            line_start: self.line_start,
        }
    }

    fn reset(&mut self, m: Mark) {
        self.pos = m.pos;
        self.line = m.line;
        self.line_start = m.line_start;
    }

    /// Move forward to `np`, keeping the line bookkeeping right.
    fn goto(&mut self, np: usize) {
        let np = np.min(self.b.len());
        if np <= self.pos {
            self.pos = np;
            return;
        }
        let seg = &self.b[self.pos..np];
        let mut last = None;
        for i in memchr::memchr_iter(b'\n', seg) {
            self.line += 1;
            last = Some(i);
        }
        if let Some(i) = last {
            self.line_start = self.pos + i + 1;
        }
        self.pos = np;
    }

    /// Move past the line end at `e` (a `\n` or the end of input) on the current line.
    #[inline]
    fn past_eol(&mut self, e: usize) {
        if e < self.b.len() {
            self.pos = e + 1;
            self.line += 1;
            self.line_start = self.pos;
        } else {
            self.pos = self.b.len();
        }
    }

    /// Move to the start of the next line (or EOF).
    fn next_line(&mut self) {
        let e = self.eol(self.pos);
        if e < self.b.len() {
            self.pos = e + 1;
            self.line += 1;
            self.line_start = self.pos;
        } else {
            self.pos = e;
        }
    }

    fn col(&self) -> usize {
        self.pos - self.line_start
    }

    fn spaces_at(&self, mut i: usize) -> usize {
        let s = i;
        while self.byte(i) == b' ' {
            i += 1;
        }
        i - s
    }

    /// From a line start, skip empty and comment-only lines. Returns the indentation of the
    /// next content line (the position stays at its start), or None at end of input.
    fn skip_blank_lines(&mut self) -> Result<Option<usize>> {
        loop {
            let i = self.spaces_at(self.pos);
            match self.byte(self.pos + i) {
                b'\n' => self.next_line(),
                b'#' => self.next_line(),
                b'\t' => return self.decline("tab in indentation"),
                0 if self.pos + i >= self.b.len() => {
                    self.pos = self.b.len();
                    return Ok(None);
                }
                _ => return Ok(Some(i)),
            }
        }
    }

    /// `---` or `...` at the position (a line start).
    fn doc_marker(&self, at: usize) -> Option<u8> {
        let m = self.b.get(at..at + 3)?;
        if (m == b"---" || m == b"...") && is_blank_or_eof(self.byte(at + 3)) {
            Some(m[0])
        } else if (m == b"---" || m == b"...") && self.byte(at + 3) == b'\t' {
            Some(b'\t')
        } else {
            None
        }
    }

    /// Rest of a line after a node or marker: spaces, an optional comment, the line end.
    fn finish_line(&mut self) -> Result<()> {
        let i = self.spaces_at(self.pos);
        let at = self.pos + i;
        match self.byte(at) {
            b'\n' => {
                self.goto(at);
                self.next_line();
                Ok(())
            }
            0 if at >= self.b.len() => {
                self.pos = at;
                Ok(())
            }
            b'#' if i > 0 => {
                self.goto(at);
                self.next_line();
                Ok(())
            }
            b'\t' => self.decline("tab"),
            _ => self.decline("unexpected text after a value"),
        }
    }

    fn count_node(&mut self) -> Result<()> {
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            return self.decline("too many nodes for the default budget");
        }
        Ok(())
    }

    /// Walk the documents of the stream; `f` gets the root node of each (None: empty).
    fn documents(
        &mut self,
        mut f: impl FnMut(&mut Self, Option<Node<'de>>) -> Result<()>,
    ) -> Result<()> {
        let mut need_start = false;
        let mut ndocs = 0usize;
        loop {
            let Some(i) = self.skip_blank_lines()? else {
                return Ok(());
            };
            let at = self.pos + i;
            if i == 0 && self.byte(at) == b'%' {
                return self.decline("directive");
            }
            let marker = if i == 0 { self.doc_marker(at) } else { None };
            match marker {
                Some(b'-') => {
                    self.goto(at + 3);
                    let s = self.spaces_at(self.pos);
                    let c = self.byte(self.pos + s);
                    if !(c == b'\n' || c == 0 || (c == b'#' && s > 0)) {
                        return self.decline("content after ---");
                    }
                    self.finish_line()?;
                }
                Some(_) => return self.decline("unexpected document marker"),
                None if need_start => return self.decline("bare document after ..."),
                None => {}
            }
            need_start = false;
            ndocs += 1;
            if ndocs > 1_000_000 {
                return self.decline("too many documents");
            }
            let node = self.classify_root()?;
            f(self, node)?;
            // After the root node: end of input, `---`, or `...`.
            let Some(i) = self.skip_blank_lines()? else {
                return Ok(());
            };
            let at = self.pos + i;
            match if i == 0 { self.doc_marker(at) } else { None } {
                Some(b'-') => {}
                Some(b'.') => {
                    self.goto(at + 3);
                    self.finish_line()?;
                    need_start = true;
                }
                _ => return self.decline("unexpected content after the document"),
            }
        }
    }

    fn deserialize_root<T: de::Deserialize<'de>>(&mut self, node: Node<'de>) -> Result<T> {
        let r = T::deserialize(De { p: self, node });
        r.map_err(|mut e| {
            if e.line == 0 {
                e.line = self.line;
            }
            e
        })
    }

    fn classify_root(&mut self) -> Result<Option<Node<'de>>> {
        let Some(i) = self.skip_blank_lines()? else {
            return Ok(None);
        };
        if i == 0 && self.doc_marker(self.pos).is_some() {
            return Ok(None);
        }
        self.goto(self.pos + i);
        let c = self.byte(self.pos);
        if c == b'-' && is_blank_or_eof(self.byte(self.pos + 1)) {
            self.count_node()?;
            return Ok(Some(Node::Seq(i)));
        }
        if self.scan_key(self.pos)?.is_some() {
            self.count_node()?;
            return Ok(Some(Node::Map(i)));
        }
        self.decline("root scalar")
    }

    /// Classify the value after `key:` or `-` (position just after the indicator).
    fn classify_value(&mut self, bound: usize, ctx: Ctx) -> Result<Node<'de>> {
        self.count_node()?;
        let s = self.spaces_at(self.pos);
        let at = self.pos + s;
        let c = self.byte(at);
        if c == b'\n' || (c == 0 && at >= self.b.len()) || (c == b'#' && s > 0) {
            self.goto(at);
            self.next_line();
            return self.classify_next_line(bound, ctx);
        }
        if c == b'\t' {
            return self.decline("tab");
        }
        if s == 0 {
            return self.decline("no space after indicator");
        }
        self.pos = at; // on the same line
        let is_dash = c == b'-' && is_blank_or_eof(self.byte(at + 1));
        match ctx {
            Ctx::SeqEntry => {
                if is_dash {
                    return Ok(Node::Seq(self.col()));
                }
                if self.scan_key(at)?.is_some() {
                    return Ok(Node::Map(self.col()));
                }
            }
            // A `key: value: x` line is declined by the scalar scanners (`: ` in a plain
            // scalar, text after a quoted scalar).
            Ctx::MapValue if is_dash => return self.decline("sequence on a key line"),
            Ctx::MapValue => {}
        }
        self.scalar_start(bound as isize, true)
    }

    /// The value is on the following lines (the position is at a line start).
    fn classify_next_line(&mut self, bound: usize, ctx: Ctx) -> Result<Node<'de>> {
        let Some(i) = self.skip_blank_lines()? else {
            return Ok(Node::Null);
        };
        if i == 0 && self.doc_marker(self.pos).is_some() {
            return Ok(Node::Null);
        }
        let at = self.pos + i;
        let is_dash = self.byte(at) == b'-' && is_blank_or_eof(self.byte(at + 1));
        if i > bound {
            self.goto(at);
            if is_dash {
                return Ok(Node::Seq(i));
            }
            if self.scan_key(at)?.is_some() {
                return Ok(Node::Map(i));
            }
            return self.scalar_start(bound as isize, false);
        }
        if i == bound && ctx == Ctx::MapValue && is_dash {
            self.goto(at);
            return Ok(Node::Seq(i));
        }
        Ok(Node::Null)
    }

    /// Checks on the first character of a scalar in value position.
    fn scalar_start(&mut self, bound: isize, block_ok: bool) -> Result<Node<'de>> {
        let c = self.byte(self.pos);
        match c {
            b'&' => self.decline("anchor"),
            b'*' => self.decline("alias"),
            b'!' => self.decline("tag"),
            b'%' | b'@' | b'`' | b'?' | b':' | b',' | b']' | b'}' | b'#' => {
                self.decline("indicator at scalar start")
            }
            b'[' | b'{' => {
                let close = if c == b'[' { b']' } else { b'}' };
                let sp = self.spaces_at(self.pos + 1);
                if self.byte(self.pos + 1 + sp) != close {
                    return self.decline("non-empty flow collection");
                }
                self.pos += 2 + sp; // on the same line
                self.finish_line()?;
                Ok(if c == b'[' {
                    Node::EmptySeq
                } else {
                    Node::EmptyMap
                })
            }
            b'-' if is_blank_or_eof(self.byte(self.pos + 1)) => self.decline("sequence entry"),
            b'\t' => self.decline("tab"),
            _ => Ok(Node::Scalar { bound, block_ok }),
        }
    }

    /// If a mapping key starts at `at`: the key text, whether it is plain, and the position
    /// just after its `:`. Only single-line keys without escapes are accepted.
    fn scan_key(&self, at: usize) -> Result<Option<(&'de str, bool, usize)>> {
        let c = self.byte(at);
        if c == b'"' || c == b'\'' {
            let Some(rel) = self.b.get(at + 1..).and_then(|s| memchr2(c, b'\n', s)) else {
                return Ok(None);
            };
            let q = at + 1 + rel;
            if self.b[q] == b'\n' {
                return Ok(None);
            }
            if self.byte(q + 1) != b':' || !is_blank_or_eof(self.byte(q + 2)) {
                return Ok(None);
            }
            let key = self.slice(at + 1, q)?;
            if (c == b'"' && key.contains('\\')) || key.contains('\t') {
                return self.decline("escaped key");
            }
            if q + 2 - at > 1000 {
                return self.decline("long key");
            }
            return Ok(Some((key, false, q + 2)));
        }
        if KEY_STOP[c as usize] {
            return Ok(None);
        }
        let mut i = at;
        loop {
            let Some(rel) = self.b.get(i..).and_then(|s| memchr3(b':', b'#', b'\n', s)) else {
                return Ok(None);
            };
            let j = i + rel;
            if self.b[j] == b'\n' {
                return Ok(None);
            } else if self.b[j] == b'#' {
                if self.byte(j - 1) == b' ' {
                    return Ok(None);
                }
            } else if is_blank_or_eof(self.byte(j + 1)) {
                let raw = self.slice(at, j)?;
                let key = raw.trim_end_matches(' ');
                if key.contains('\t') {
                    return self.decline("tab in key");
                }
                if j - at > 1000 {
                    return self.decline("long key");
                }
                return Ok(Some((key, true, j + 1)));
            }
            i = j + 1;
        }
    }

    /// Parse the scalar at the position; returns its value and whether it is plain. When
    /// `build` is false, escaped or folded values are checked but not built (value empty).
    fn parse_scalar(
        &mut self,
        bound: isize,
        block_ok: bool,
        build: bool,
    ) -> Result<(Cow<'de, str>, bool)> {
        match self.byte(self.pos) {
            b'"' => {
                let v = self.double_quoted(bound, build)?;
                self.finish_line()?;
                Ok((v, false))
            }
            b'\'' => {
                let v = self.single_quoted(bound, build)?;
                self.finish_line()?;
                Ok((v, false))
            }
            b'|' | b'>' if block_ok && bound >= 0 => {
                Ok((Cow::Owned(self.block_scalar(bound as usize)?), false))
            }
            b'|' | b'>' => self.decline("block scalar in this position"),
            _ => Ok((self.plain(bound, build)?, true)),
        }
    }

    /// Content end of one line of a plain scalar in [a, e): declines on `: ` and tabs, stops
    /// at ` #`. Returns (content end with trailing spaces trimmed, comment seen).
    fn plain_line(&self, a: usize, e: usize) -> Result<(usize, bool)> {
        let mut i = a;
        let mut end = e;
        let mut comment = false;
        while let Some(rel) = self.b.get(i..e).and_then(|s| memchr3(b':', b'#', b'\t', s)) {
            let j = i + rel;
            match self.b[j] {
                b':' if is_blank_or_eof(self.byte(j + 1)) => {
                    return self.decline("': ' in a plain scalar");
                }
                b'#' if j > a && self.byte(j - 1) == b' ' => {
                    end = j;
                    comment = true;
                    break;
                }
                b'\t' => return self.decline("tab in a plain scalar"),
                _ => {}
            }
            i = j + 1;
        }
        while end > a && self.byte(end - 1) == b' ' {
            end -= 1;
        }
        Ok((end, comment))
    }

    fn plain(&mut self, bound: isize, build: bool) -> Result<Cow<'de, str>> {
        let start = self.pos;
        let e = self.eol(start);
        let (end, comment) = self.plain_line(start, e)?;
        let first = self.slice(start, end)?;
        self.past_eol(e);
        if comment || bound < 0 {
            return Ok(Cow::Borrowed(first));
        }
        let mut out: Option<String> = None;
        loop {
            let m = self.mark();
            // Empty lines (only spaces) inside the scalar.
            let mut empty = 0usize;
            let i = loop {
                let i = self.spaces_at(self.pos);
                match self.byte(self.pos + i) {
                    b'\n' => {
                        empty += 1;
                        self.next_line();
                    }
                    b'\t' => return self.decline("tab"),
                    _ => break i,
                }
            };
            let at = self.pos + i;
            let c = self.byte(at);
            if (c == 0 && at >= self.b.len()) || i as isize <= bound || c == b'#' {
                self.reset(m);
                break;
            }
            // Indicators are ordinary text on a continuation line (checked against
            // serde-saphyr); a `- ` entry shape is declined to stay clear of sequences.
            if c == b'-' && is_blank_or_eof(self.byte(at + 1)) {
                return self.decline("plain continuation line starts with an indicator");
            }
            let le = self.eol(at);
            let (cend, comment) = self.plain_line(at, le)?;
            if build {
                let o = out.get_or_insert_with(|| first.to_string());
                if empty == 0 {
                    o.push(' ');
                } else {
                    o.extend(std::iter::repeat_n('\n', empty));
                }
                o.push_str(self.slice(at, cend)?);
            } else if out.is_none() {
                out = Some(String::new());
            }
            self.goto(le);
            self.next_line();
            if comment {
                break;
            }
        }
        Ok(match out {
            Some(s) => Cow::Owned(s),
            None => Cow::Borrowed(first),
        })
    }

    /// At a line break inside a quoted scalar (position on the `\n`): skip to the next
    /// content, returning the number of empty lines. Continuation lines must be indented
    /// more than `bound`.
    fn quoted_fold(&mut self, bound: isize) -> Result<usize> {
        if bound < 0 {
            return self.decline("multi-line root scalar");
        }
        self.next_line();
        let mut empty = 0;
        loop {
            let i = self.spaces_at(self.pos);
            match self.byte(self.pos + i) {
                b'\n' => {
                    empty += 1;
                    self.next_line();
                }
                b'\t' => return self.decline("tab in a quoted scalar"),
                0 if self.pos + i >= self.b.len() => {
                    return self.decline("unterminated quoted scalar");
                }
                _ => {
                    if i as isize <= bound {
                        return self.decline("quoted continuation not indented");
                    }
                    self.goto(self.pos + i);
                    return Ok(empty);
                }
            }
        }
    }

    fn single_quoted(&mut self, bound: isize, build: bool) -> Result<Cow<'de, str>> {
        let start = self.pos + 1;
        let mut i = start;
        let mut out = String::new();
        let mut owned = false;
        loop {
            let Some(rel) = self
                .b
                .get(i..)
                .and_then(|s| memchr3(b'\'', b'\n', b'\t', s))
            else {
                return self.decline("unterminated quoted scalar");
            };
            let j = i + rel;
            match self.b[j] {
                b'\'' if self.byte(j + 1) == b'\'' => {
                    if build {
                        out.push_str(self.slice(i, j + 1)?);
                    }
                    owned = true;
                    i = j + 2;
                }
                b'\'' => {
                    self.goto(j + 1);
                    if !owned {
                        return Ok(Cow::Borrowed(self.slice(start, j)?));
                    }
                    if build {
                        out.push_str(self.slice(i, j)?);
                    }
                    return Ok(Cow::Owned(out));
                }
                b'\n' => {
                    owned = true;
                    if build {
                        out.push_str(self.slice(i, j)?.trim_end_matches(' '));
                    }
                    self.goto(j);
                    let empty = self.quoted_fold(bound)?;
                    if build {
                        push_fold(&mut out, empty);
                    }
                    i = self.pos;
                }
                _ => return self.decline("tab in a quoted scalar"),
            }
        }
    }

    fn double_quoted(&mut self, bound: isize, build: bool) -> Result<Cow<'de, str>> {
        let start = self.pos + 1;
        let mut i = start;
        let mut out = String::new();
        let mut owned = false;
        // Literal trailing spaces of `out` (stripped at a folded line break).
        let mut trail = 0usize;
        loop {
            let Some(rel) = self.b.get(i..).and_then(|s| memchr3(b'"', b'\\', b'\n', s)) else {
                return self.decline("unterminated quoted scalar");
            };
            let j = i + rel;
            let chunk = self.slice(i, j)?;
            if j > i {
                if owned && chunk.contains('\t') {
                    return self.decline("tab in a quoted scalar");
                }
                let t = chunk.len() - chunk.trim_end_matches(' ').len();
                trail = if t == chunk.len() { trail + t } else { t };
            }
            match self.b[j] {
                b'"' => {
                    self.goto(j + 1);
                    if !owned {
                        return Ok(Cow::Borrowed(chunk));
                    }
                    if build {
                        out.push_str(chunk);
                    }
                    return Ok(Cow::Owned(out));
                }
                b'\n' => {
                    if !owned && chunk.contains('\t') {
                        return self.decline("tab in a quoted scalar");
                    }
                    owned = true;
                    if build {
                        out.push_str(chunk);
                        out.truncate(out.len().saturating_sub(trail));
                    }
                    self.goto(j);
                    let empty = self.quoted_fold(bound)?;
                    if build {
                        push_fold(&mut out, empty);
                    }
                    trail = 0;
                    i = self.pos;
                }
                _ => {
                    // Escape.
                    if !owned && chunk.contains('\t') {
                        return self.decline("tab in a quoted scalar");
                    }
                    owned = true;
                    if build {
                        out.push_str(chunk);
                    }
                    trail = 0;
                    let e = self.byte(j + 1);
                    let simple = match e {
                        b'0' => Some('\0'),
                        b'a' => Some('\u{07}'),
                        b'b' => Some('\u{08}'),
                        b't' => Some('\t'),
                        b'n' => Some('\n'),
                        b'v' => Some('\u{0b}'),
                        b'f' => Some('\u{0c}'),
                        b'r' => Some('\r'),
                        b'e' => Some('\u{1b}'),
                        b' ' => Some(' '),
                        b'"' => Some('"'),
                        b'/' => Some('/'),
                        b'\\' => Some('\\'),
                        b'N' => Some('\u{85}'),
                        b'_' => Some('\u{a0}'),
                        b'L' => Some('\u{2028}'),
                        b'P' => Some('\u{2029}'),
                        _ => None,
                    };
                    if let Some(ch) = simple {
                        if build {
                            out.push(ch);
                        }
                        i = j + 2;
                        continue;
                    }
                    let n = match e {
                        b'x' => 2,
                        b'u' => 4,
                        b'U' => 8,
                        b'\n' => {
                            // Escaped line break: join without a space.
                            self.goto(j + 1);
                            if bound < 0 {
                                return self.decline("multi-line root scalar");
                            }
                            self.next_line();
                            let sp = self.spaces_at(self.pos);
                            let c = self.byte(self.pos + sp);
                            if c == b'\n' || c == b'\t' || c == 0 || sp as isize <= bound {
                                return self.decline("escaped line break shape");
                            }
                            self.goto(self.pos + sp);
                            i = self.pos;
                            continue;
                        }
                        _ => return self.decline("unknown escape"),
                    };
                    let hex = self
                        .b
                        .get(j + 2..j + 2 + n)
                        .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
                    let Some(hex) = hex else {
                        return self.decline("bad hex escape");
                    };
                    let mut v = 0u32;
                    for &h in hex {
                        v = v * 16 + (h as char).to_digit(16).unwrap_or(0);
                    }
                    let Some(ch) = char::from_u32(v) else {
                        return self.decline("bad code point");
                    };
                    if build {
                        out.push(ch);
                    }
                    i = j + 2 + n;
                }
            }
        }
    }

    /// A literal or folded block scalar (position at `|` or `>`), value of a mapping at
    /// indentation `bound`.
    fn block_scalar(&mut self, bound: usize) -> Result<String> {
        let folded = self.byte(self.pos) == b'>';
        let mut i = self.pos + 1;
        let mut chomp = 0i8; // -1 strip, 0 clip, 1 keep
        let mut explicit: Option<usize> = None;
        for _ in 0..2 {
            match self.byte(i) {
                b'-' if chomp == 0 => chomp = -1,
                b'+' if chomp == 0 => chomp = 1,
                d @ b'1'..=b'9' if explicit.is_none() => explicit = Some((d - b'0') as usize),
                _ => break,
            }
            i += 1;
        }
        let c = self.byte(i);
        if !(c == b' ' || c == b'\n' || c == 0) {
            return self.decline("block scalar header");
        }
        self.goto(i);
        self.finish_line()?;
        // Find the content indentation.
        let m = self.mark();
        let mut max_empty = 0usize;
        let mut empties = 0usize;
        let indent = loop {
            let sp = self.spaces_at(self.pos);
            match self.byte(self.pos + sp) {
                b'\n' => {
                    max_empty = max_empty.max(sp);
                    empties += 1;
                    self.next_line();
                }
                b'\t' => return self.decline("tab in block scalar indentation"),
                0 if self.pos + sp >= self.b.len() && sp > 0 => {
                    return self.decline("block scalar ending in spaces at end of input");
                }
                0 if self.pos + sp >= self.b.len() => break None,
                _ => break Some(sp),
            }
        };
        self.reset(m);
        let indent = match (explicit, indent) {
            (Some(d), _) => bound + d,
            (None, Some(k)) if k > bound => {
                if max_empty > k {
                    return self.decline("leading empty lines more indented than the content");
                }
                k
            }
            _ => {
                // No content at all.
                if empties > 0 || chomp == 1 {
                    return self.decline("empty block scalar with blank lines");
                }
                return Ok(String::new());
            }
        };
        let mut out = String::new();
        let mut pending = 0usize; // line breaks not yet emitted
        let mut started = false;
        let mut prev_more = false;
        let mut last_break = true;
        loop {
            let sp = self.spaces_at(self.pos);
            let at = self.pos + sp;
            let c = self.byte(at);
            if c == b'\n' || (c == 0 && at >= self.b.len() && sp > 0) {
                if sp > indent {
                    return self.decline("whitespace-only line in block scalar");
                }
                if c == 0 {
                    self.goto(at);
                    last_break = false;
                    break;
                }
                pending += 1;
                self.next_line();
                continue;
            }
            if (c == 0 && at >= self.b.len()) || sp < indent {
                break;
            }
            let e = self.eol(at);
            let text = self.slice(self.pos + indent, e)?;
            let more = text.starts_with(' ') || text.starts_with('\t');
            if folded && (more || (!started && pending > 0)) {
                return self.decline("folded scalar with more-indented or leading empty lines");
            }
            if started {
                if folded && !more && !prev_more {
                    if pending == 0 {
                        out.push(' ');
                    } else {
                        out.extend(std::iter::repeat_n('\n', pending));
                    }
                } else {
                    out.extend(std::iter::repeat_n('\n', pending + 1));
                }
            } else {
                out.extend(std::iter::repeat_n('\n', pending));
            }
            out.push_str(text);
            started = true;
            prev_more = more;
            pending = 0;
            self.goto(e);
            last_break = e < self.b.len();
            self.next_line();
        }
        if !started {
            return self.decline("block scalar without content");
        }
        if !last_break && chomp == 1 {
            return self.decline("kept block scalar at end of input without line break");
        }
        match chomp {
            -1 => {}
            0 => out.push('\n'),
            _ => out.extend(std::iter::repeat_n('\n', pending + 1)),
        }
        Ok(out)
    }
}

fn push_fold(out: &mut String, empty: usize) {
    if empty == 0 {
        out.push(' ');
    } else {
        out.extend(std::iter::repeat_n('\n', empty));
    }
}

// ---------------------------------------------------------------------------------------------
// Scalar resolution, replicating serde-saphyr 2.1.1 (parse_scalars.rs, default options).

fn yaml_trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

fn is_nullish(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

fn parse_bool(s: &str) -> Option<bool> {
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

fn digits_u128(digits: &str, radix: u32, decimal_only: bool) -> Option<u128> {
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

fn radix_and_digits(rest: &str) -> (u32, &str) {
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

fn parse_signed(s: &str) -> Option<i128> {
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

fn parse_unsigned(s: &str) -> Option<u128> {
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
fn parse_float<T: std::str::FromStr + Into<f64> + Copy>(
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

fn nonfinite_f64(k: u8) -> f64 {
    match k {
        b'n' => f64::NAN,
        b'-' => f64::NEG_INFINITY,
        _ => f64::INFINITY,
    }
}

fn nonfinite_f32(k: u8) -> f32 {
    match k {
        b'n' => f32::NAN,
        b'-' => f32::NEG_INFINITY,
        _ => f32::INFINITY,
    }
}

enum Resolved {
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
fn resolve_plain(s: &str) -> Resolved {
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

// ---------------------------------------------------------------------------------------------
// serde glue.

struct De<'a, 'de> {
    p: &'a mut Parser<'de>,
    node: Node<'de>,
}

fn visit_cow<'de, V: Visitor<'de>>(v: V, s: Cow<'de, str>) -> Result<V::Value> {
    match s {
        Cow::Borrowed(b) => v.visit_borrowed_str(b),
        Cow::Owned(o) => v.visit_string(o),
    }
}

impl<'a, 'de> De<'a, 'de> {
    fn decline<T>(&self, reason: &str) -> Result<T> {
        self.p.decline(reason)
    }

    /// Consume a scalar node: (text, plain). Null counts as the empty plain scalar;
    /// collections give None (not consumed).
    fn take_scalar(&mut self, build: bool) -> Result<Option<(Cow<'de, str>, bool)>> {
        match self.node {
            Node::Null => Ok(Some((Cow::Borrowed(""), true))),
            Node::Str(s, plain) => Ok(Some((Cow::Borrowed(s), plain))),
            Node::Scalar { bound, block_ok } => {
                self.p.parse_scalar(bound, block_ok, build).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn scalar(&mut self, what: &str) -> Result<(Cow<'de, str>, bool)> {
        match self.take_scalar(true)? {
            Some(s) => Ok(s),
            None => self.decline(what),
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.p.depth += 1;
        if self.p.depth > MAX_DEPTH {
            return self.decline("nesting too deep");
        }
        Ok(())
    }

    fn visit_map_node<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        let (indent, done) = match self.node {
            Node::Map(i) => (i, false),
            Node::EmptyMap => (0, true),
            _ => return self.decline("expected a mapping"),
        };
        self.enter()?;
        let start = self.p.keys.len();
        let mut acc = MapAcc {
            p: &mut *self.p,
            indent,
            first: true,
            done,
            keys_start: start,
        };
        let v = visitor.visit_map(&mut acc)?;
        if !acc.done {
            return self.decline("mapping not fully read");
        }
        self.p.keys.truncate(start);
        self.p.depth -= 1;
        Ok(v)
    }

    fn visit_seq_node<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        let (indent, done) = match self.node {
            Node::Seq(i) => (i, false),
            Node::EmptySeq => (0, true),
            _ => return self.decline("expected a sequence"),
        };
        self.enter()?;
        let mut acc = SeqAcc {
            p: &mut *self.p,
            indent,
            first: true,
            done,
        };
        let v = visitor.visit_seq(&mut acc)?;
        if !acc.done {
            return self.decline("sequence not fully read");
        }
        self.p.depth -= 1;
        Ok(v)
    }

    fn int<T: TryFrom<i128> + TryFrom<u128>>(&mut self, signed: bool) -> Result<T> {
        let (s, _) = self.scalar("expected an integer")?;
        let v = if signed {
            parse_signed(&s).and_then(|v| T::try_from(v).ok())
        } else {
            parse_unsigned(&s).and_then(|v| T::try_from(v).ok())
        };
        match v {
            Some(v) => Ok(v),
            None => self.decline("invalid integer"),
        }
    }

    fn is_null(&self) -> bool {
        match self.node {
            Node::Null => true,
            Node::Str(s, plain) => plain && is_nullish(s),
            _ => false,
        }
    }

    /// For a pending plain scalar, peek whether it is null-like (without consuming).
    fn peek_null(&mut self) -> Result<bool> {
        if let Node::Scalar { .. } = self.node {
            let c = self.p.byte(self.p.pos);
            if matches!(c, b'~' | b'n' | b'N') {
                let m = self.p.mark();
                let r = self.p.parse_scalar(-1, false, false);
                self.p.reset(m);
                if let Ok((s, true)) = r
                    && is_nullish(&s)
                {
                    // Consume it for real (with its multi-line rules).
                    let (s2, _) = self.scalar("scalar")?;
                    if !is_nullish(&s2) {
                        return self.decline("null-like scalar continued on the next line");
                    }
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        Ok(self.is_null())
    }
}

macro_rules! int_methods {
    ($($m:ident $t:ty, $signed:expr, $visit:ident;)*) => {$(
        fn $m<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
            let v: $t = self.int($signed)?;
            visitor.$visit(v)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for De<'_, 'de> {
    type Error = Declined;

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        match self.node {
            Node::Map(_) | Node::EmptyMap => self.visit_map_node(visitor),
            Node::Seq(_) | Node::EmptySeq => self.visit_seq_node(visitor),
            Node::Null => visitor.visit_unit(),
            _ => {
                let (s, plain) = self.scalar("scalar")?;
                if !plain {
                    return visit_cow(visitor, s);
                }
                match resolve_plain(&s) {
                    Resolved::Null => visitor.visit_unit(),
                    Resolved::Bool(b) => visitor.visit_bool(b),
                    Resolved::U64(v) => visitor.visit_u64(v),
                    Resolved::I64(v) => visitor.visit_i64(v),
                    Resolved::F64(v) => visitor.visit_f64(v),
                    Resolved::Str => visit_cow(visitor, s),
                    Resolved::Decline => self.decline("non-finite float"),
                }
            }
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        match self.node {
            Node::Map(_) | Node::EmptyMap => self.visit_map_node(visitor),
            Node::Seq(_) | Node::EmptySeq => self.visit_seq_node(visitor),
            _ => {
                let (s, plain) = match self.take_scalar(false)? {
                    Some(s) => s,
                    None => return self.decline("scalar"),
                };
                if plain
                    && s.as_bytes()
                        .first()
                        .is_some_and(|c| b"+-.0123456789".contains(c))
                    && matches!(resolve_plain(&s), Resolved::Decline)
                {
                    return self.decline("non-finite float");
                }
                visitor.visit_unit()
            }
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        let (s, _) = self.scalar("expected a boolean")?;
        match parse_bool(&s) {
            Some(b) => visitor.visit_bool(b),
            None => self.decline("invalid boolean"),
        }
    }

    int_methods! {
        deserialize_i8 i8, true, visit_i8;
        deserialize_i16 i16, true, visit_i16;
        deserialize_i32 i32, true, visit_i32;
        deserialize_i64 i64, true, visit_i64;
        deserialize_i128 i128, true, visit_i128;
        deserialize_u8 u8, false, visit_u8;
        deserialize_u16 u16, false, visit_u16;
        deserialize_u32 u32, false, visit_u32;
        deserialize_u64 u64, false, visit_u64;
        deserialize_u128 u128, false, visit_u128;
    }

    fn deserialize_f32<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        let (s, _) = self.scalar("expected a float")?;
        match parse_float::<f32>(&s, nonfinite_f32) {
            Some(v) => visitor.visit_f32(v),
            None => self.decline("invalid float"),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        let (s, _) = self.scalar("expected a float")?;
        match parse_float::<f64>(&s, nonfinite_f64) {
            Some(v) => visitor.visit_f64(v),
            None => self.decline("invalid float"),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        let (s, plain) = self.scalar("expected a character")?;
        if plain && is_nullish(&s) {
            return self.decline("null into char");
        }
        let mut it = s.chars();
        match (it.next(), it.next()) {
            (Some(c), None) => visitor.visit_char(c),
            _ => self.decline("not a single character"),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        let (s, plain) = self.scalar("expected a string")?;
        if plain && is_nullish(&s) {
            return self.decline("null into string");
        }
        visit_cow(visitor, s)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        self.decline("bytes")
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        self.decline("bytes")
    }

    fn deserialize_option<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        if self.peek_null()? {
            return visitor.visit_none();
        }
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        if self.peek_null()? {
            return visitor.visit_unit();
        }
        self.decline("expected unit")
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if let Node::EmptyMap = self.node {
            return visitor.visit_unit();
        }
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name.starts_with("__yaml") {
            return self.decline("serde-saphyr wrapper type");
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.visit_seq_node(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value> {
        self.decline("tuple")
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value> {
        self.decline("tuple struct")
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.visit_map_node(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.visit_map_node(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        mut self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.node {
            Node::Scalar { .. } | Node::Str(..) => {
                let (s, plain) = self.scalar("enum")?;
                if plain && is_nullish(&s) {
                    return self.decline("null enum");
                }
                visitor.visit_enum(UnitEnum { variant: s })
            }
            // `Variant: value`, a mapping with a single key.
            Node::Map(indent) => {
                use de::MapAccess;
                self.enter()?;
                let start = self.p.keys.len();
                let mut acc = MapAcc {
                    p: &mut *self.p,
                    indent,
                    first: true,
                    done: false,
                    keys_start: start,
                };
                let v = visitor.visit_enum(MapEnum { acc: &mut acc })?;
                if acc
                    .next_key_seed(std::marker::PhantomData::<de::IgnoredAny>)?
                    .is_some()
                {
                    return self.decline("enum mapping with more than one key");
                }
                self.p.keys.truncate(start);
                self.p.depth -= 1;
                Ok(v)
            }
            _ => self.decline("enum that is neither a variant name nor a single-key mapping"),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn is_human_readable(&self) -> bool {
        true
    }
}

struct UnitEnum<'de> {
    variant: Cow<'de, str>,
}

impl<'de> de::EnumAccess<'de> for UnitEnum<'de> {
    type Error = Declined;
    type Variant = UnitOnly;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, UnitOnly)> {
        let v = match self.variant {
            Cow::Borrowed(b) => seed.deserialize(de::value::BorrowedStrDeserializer::new(b))?,
            Cow::Owned(o) => seed.deserialize(o.into_deserializer())?,
        };
        Ok((v, UnitOnly))
    }
}

struct UnitOnly;

impl<'de> de::VariantAccess<'de> for UnitOnly {
    type Error = Declined;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, _seed: S) -> Result<S::Value> {
        Err(de::Error::custom("newtype variant from a scalar"))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value> {
        Err(de::Error::custom("tuple variant from a scalar"))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value> {
        Err(de::Error::custom("struct variant from a scalar"))
    }
}

struct MapEnum<'b, 'a, 'de> {
    acc: &'b mut MapAcc<'a, 'de>,
}

impl<'de> de::EnumAccess<'de> for MapEnum<'_, '_, 'de> {
    type Error = Declined;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self)> {
        use de::MapAccess;
        match self.acc.next_key_seed(seed)? {
            Some(v) => Ok((v, self)),
            None => self.acc.p.decline("empty enum mapping"),
        }
    }
}

impl<'de> de::VariantAccess<'de> for MapEnum<'_, '_, 'de> {
    type Error = Declined;

    fn unit_variant(self) -> Result<()> {
        let node = self.acc.p.classify_value(self.acc.indent, Ctx::MapValue)?;
        let mut d = De {
            p: &mut *self.acc.p,
            node,
        };
        if d.peek_null()? {
            Ok(())
        } else {
            d.decline("unit variant with a value")
        }
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value> {
        use de::MapAccess;
        self.acc.next_value_seed(seed)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value> {
        self.acc.p.decline("tuple variant")
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let node = self.acc.p.classify_value(self.acc.indent, Ctx::MapValue)?;
        de::Deserializer::deserialize_struct(
            De {
                p: &mut *self.acc.p,
                node,
            },
            "",
            fields,
            visitor,
        )
    }
}

struct MapAcc<'a, 'de> {
    p: &'a mut Parser<'de>,
    indent: usize,
    first: bool,
    done: bool,
    keys_start: usize,
}

impl<'de> de::MapAccess<'de> for MapAcc<'_, 'de> {
    type Error = Declined;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.done {
            return Ok(None);
        }
        if !self.first {
            let Some(i) = self.p.skip_blank_lines()? else {
                self.done = true;
                return Ok(None);
            };
            if i < self.indent || (i == 0 && self.p.doc_marker(self.p.pos).is_some()) {
                self.done = true;
                return Ok(None);
            }
            if i > self.indent {
                return self.p.decline("unexpected indentation in a mapping");
            }
            self.p.pos += i; // on the same line
        }
        self.first = false;
        self.p.count_node()?;
        let Some((key, plain, after)) = self.p.scan_key(self.p.pos)? else {
            return self.p.decline("expected a mapping key");
        };
        if plain && (key == "<<" || !matches!(resolve_plain(key), Resolved::Str)) {
            return self.p.decline("key that is not a plain string");
        }
        let Some(seen) = self.p.keys.get(self.keys_start..) else {
            return self.p.decline("internal: key stack");
        };
        if seen.contains(&key) {
            return self.p.decline("duplicate key");
        }
        self.p.keys.push(key);
        self.p.pos = after; // on the same line
        seed.deserialize(De {
            p: &mut *self.p,
            node: Node::Str(key, plain),
        })
        .map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value> {
        let node = self.p.classify_value(self.indent, Ctx::MapValue)?;
        seed.deserialize(De {
            p: &mut *self.p,
            node,
        })
    }
}

struct SeqAcc<'a, 'de> {
    p: &'a mut Parser<'de>,
    indent: usize,
    first: bool,
    done: bool,
}

impl<'de> de::SeqAccess<'de> for SeqAcc<'_, 'de> {
    type Error = Declined;

    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>> {
        if self.done {
            return Ok(None);
        }
        if !self.first {
            let Some(i) = self.p.skip_blank_lines()? else {
                self.done = true;
                return Ok(None);
            };
            let at = self.p.pos + i;
            let dash = self.p.byte(at) == b'-' && is_blank_or_eof(self.p.byte(at + 1));
            if i < self.indent
                || (i == 0 && self.p.doc_marker(self.p.pos).is_some())
                || (i == self.indent && !dash)
            {
                self.done = true;
                return Ok(None);
            }
            if i > self.indent {
                return self.p.decline("unexpected indentation in a sequence");
            }
            self.p.pos = at; // on the same line
        }
        self.first = false;
        // At the `-`.
        self.p.goto(self.p.pos + 1);
        let node = self.p.classify_value(self.indent, Ctx::SeqEntry)?;
        seed.deserialize(De {
            p: &mut *self.p,
            node,
        })
        .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        PersistentVolume, PersistentVolumeClaim, Pod, ProjectedVolumeSource,
    };
    use serde::Deserialize;
    use serde_json::{Value, json};

    /// A stream in the style `kubectl get -o yaml` (go-yaml) writes.
    const KUBECTL: &str = r#"apiVersion: v1
items:
- apiVersion: v1
  kind: Pod
  metadata:
    annotations:
      kubectl.kubernetes.io/last-applied-configuration: |
        {"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{},"name":"web-0"}}
      note: this is a long annotation value that go-yaml wraps onto continuation lines
        at about eighty columns, folded back with single spaces
    creationTimestamp: "2026-11-20T09:14:03Z"
    labels:
      app: web
      statefulset.kubernetes.io/pod-name: web-0
    name: web-0
    namespace: shop
    ownerReferences:
    - apiVersion: apps/v1
      blockOwnerDeletion: true
      controller: true
      kind: StatefulSet
      name: web
      uid: 0b5c6a8e-1111-2222-3333-444455556666
    resourceVersion: "48213"
  spec:
    containers:
    - args:
      - -c
      - |-
        echo start
        exec sleep infinity
      command:
      - /bin/sh
      env:
      - name: MODE
        value: "yes"
      - name: PORT
        value: "8080"
      image: nginx:1.27
      name: web
      ports:
      - containerPort: 80
        name: http
        protocol: TCP
      resources:
        limits:
          cpu: 500m
          memory: 1Gi
        requests:
          cpu: "1"
          memory: 512Mi
      securityContext: {}
      volumeMounts:
      - mountPath: /data
        name: data
    securityContext:
      fsGroup: 2000
    terminationGracePeriodSeconds: 30
    tolerations: []
    volumes:
    - name: data
      persistentVolumeClaim:
        claimName: data-web-0
    - name: kube-api-access
      projected:
        defaultMode: 420
        sources:
        - serviceAccountToken:
            expirationSeconds: 3607
            path: token
        - configMap:
            items:
            - key: ca.crt
              path: ca.crt
            name: kube-root-ca.crt
  status:
    phase: Pending
- apiVersion: v1
  kind: PersistentVolumeClaim
  metadata:
    name: data-web-0
    namespace: shop
  spec:
    accessModes:
    - ReadWriteOnce
    resources:
      requests:
        storage: 10Gi
    storageClassName: gp3
    volumeMode: Filesystem
    volumeName: pvc-0b5c6a8e
  status:
    capacity:
      storage: 10Gi
    phase: Bound
- apiVersion: v1
  kind: PersistentVolume
  metadata:
    name: pvc-0b5c6a8e
  spec:
    accessModes:
    - ReadWriteOnce
    capacity:
      storage: 10Gi
    claimRef:
      name: data-web-0
      namespace: shop
    csi:
      driver: ebs.csi.aws.com
      fsType: ext4
      volumeHandle: vol-0123456789abcdef0
    nodeAffinity:
      required:
        nodeSelectorTerms:
        - matchExpressions:
          - key: topology.ebs.csi.aws.com/zone
            operator: In
            values:
            - eu-west-1a
    persistentVolumeReclaimPolicy: Delete
  status:
    phase: Bound
kind: List
metadata:
  resourceVersion: ""
"#;

    fn saphyr<'de, T: Deserialize<'de>>(text: &'de str) -> T {
        serde_saphyr::from_str(text).expect("serde-saphyr")
    }

    #[test]
    fn kubectl_list_matches_serde_saphyr_untyped() {
        let fast: Value = from_str(KUBECTL).expect("fast path");
        assert_eq!(fast, saphyr::<Value>(KUBECTL));
        let many: Vec<Value> = from_multiple(KUBECTL).expect("fast path");
        assert_eq!(many, vec![fast.clone()]);
        let note = &fast["items"][0]["metadata"]["annotations"]["note"];
        assert_eq!(
            note,
            "this is a long annotation value that go-yaml wraps onto continuation lines at about eighty columns, folded back with single spaces"
        );
        assert_eq!(
            fast["items"][0]["spec"]["containers"][0]["args"][1],
            "echo start\nexec sleep infinity"
        );
        assert_eq!(
            fast["items"][0]["spec"]["containers"][0]["env"][0]["value"],
            "yes"
        );
    }

    #[test]
    fn kubectl_objects_match_serde_saphyr_typed() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct List {
            items: Vec<Value>,
        }
        let list: List = from_str(KUBECTL).expect("fast path");
        let mut kinds = 0;
        for item in &list.items {
            // Re-emit each item at the root, the way kubectl prints a single object.
            let text = serde_saphyr::to_string(item).expect("serialize");
            match item["kind"].as_str() {
                Some("Pod") => {
                    let pod: Pod = from_str(&text).expect("fast Pod");
                    assert_eq!(pod, saphyr::<Pod>(&text));
                    let projected = pod
                        .spec
                        .as_ref()
                        .and_then(|s| s.volumes.as_ref())
                        .map(|v| v[1].projected.clone());
                    let sources: ProjectedVolumeSource = from_str(
                        &serde_saphyr::to_string(&item["spec"]["volumes"][1]["projected"])
                            .expect("serialize"),
                    )
                    .expect("fast ProjectedVolumeSource");
                    assert_eq!(projected, Some(Some(sources)));
                }
                Some("PersistentVolumeClaim") => {
                    let pvc: PersistentVolumeClaim = from_str(&text).expect("fast PVC");
                    assert_eq!(pvc, saphyr::<PersistentVolumeClaim>(&text));
                }
                Some("PersistentVolume") => {
                    let pv: PersistentVolume = from_str(&text).expect("fast PV");
                    assert_eq!(pv, saphyr::<PersistentVolume>(&text));
                }
                other => panic!("unexpected kind {other:?}"),
            }
            kinds += 1;
        }
        assert_eq!(kinds, 3);
    }

    /// The visitor pattern snapshot.rs's DocSink uses: `deserialize_any`, string keys, `Value`
    /// values, a seed for `items`, `Value` elements.
    #[test]
    fn docsink_style_visitor() {
        struct Sink(Vec<(String, usize)>);
        struct ItemsSeed<'a>(&'a mut usize);
        impl<'de> DeserializeSeed<'de> for ItemsSeed<'_> {
            type Value = ();
            fn deserialize<D: de::Deserializer<'de>>(
                self,
                d: D,
            ) -> std::result::Result<(), D::Error> {
                struct V<'a>(&'a mut usize);
                impl<'de> Visitor<'de> for V<'_> {
                    type Value = ();
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("items")
                    }
                    fn visit_seq<A: de::SeqAccess<'de>>(
                        self,
                        mut seq: A,
                    ) -> std::result::Result<(), A::Error> {
                        while let Some(v) = seq.next_element::<Value>()? {
                            assert!(v.get("kind").is_some());
                            *self.0 += 1;
                        }
                        Ok(())
                    }
                }
                d.deserialize_any(V(self.0))
            }
        }
        impl<'de> Deserialize<'de> for Sink {
            fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Sink;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a document")
                    }
                    fn visit_map<A: de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> std::result::Result<Sink, A::Error> {
                        let mut out = Vec::new();
                        while let Some(k) = map.next_key::<String>()? {
                            if k == "items" {
                                let mut n = 0;
                                map.next_value_seed(ItemsSeed(&mut n))?;
                                out.push((k, n));
                            } else {
                                let _v: Value = map.next_value()?;
                                out.push((k, 0));
                            }
                        }
                        Ok(Sink(out))
                    }
                }
                d.deserialize_any(V)
            }
        }
        let fast: Vec<Sink> = from_multiple(KUBECTL).expect("fast path");
        let slow: Vec<Sink> = serde_saphyr::from_multiple(KUBECTL).expect("serde-saphyr");
        assert_eq!(fast.len(), 1);
        assert_eq!(fast[0].0, slow[0].0);
        assert!(fast[0].0.contains(&("items".to_string(), 3)));
    }

    #[test]
    fn unmodified_scalars_are_borrowed() {
        #[derive(Deserialize)]
        struct B<'a> {
            #[serde(borrow)]
            plain: &'a str,
            #[serde(borrow)]
            single: &'a str,
            #[serde(borrow)]
            double: &'a str,
            #[serde(borrow)]
            key_like: Vec<&'a str>,
        }
        let b: B =
            from_str("plain: a b # c\nsingle: 'x y'\ndouble: \"z\"\nkey_like:\n- http://h:80/p\n")
                .expect("borrowed");
        assert_eq!(
            (b.plain, b.single, b.double, b.key_like[0]),
            ("a b", "x y", "z", "http://h:80/p")
        );
        // Folded or escaped scalars are built, so a borrowed target cannot take them.
        assert!(from_str::<B>("plain: a\n  b\nsingle: x\ndouble: y\nkey_like: []\n").is_err());
        assert!(from_str::<B>("plain: a\nsingle: 'it''s'\ndouble: y\nkey_like: []\n").is_err());
    }

    #[test]
    fn plain_scalar_resolution() {
        let cases: &[(&str, Value)] = &[
            ("~", Value::Null),
            ("null", Value::Null),
            ("Yes", json!(true)),
            ("off", json!(false)),
            ("0755", json!(755.0)),
            ("0x1F", json!(31)),
            ("-0x1F", json!(-31)),
            ("0o17", json!(15)),
            ("1_000", json!(1000)),
            ("+12", json!(12)),
            ("1e3", json!(1000.0)),
            ("-.5", json!(-0.5)),
            ("12:30", json!("12:30")),
            ("10Gi", json!("10Gi")),
            ("nan", json!("nan")),
            ("2026-11-20T09:14:03Z", json!("2026-11-20T09:14:03Z")),
        ];
        for (tok, want) in cases {
            let text = format!("k: {tok}\n");
            let fast: Value = from_str(&text).expect("fast path");
            assert_eq!(&fast["k"], want, "{tok}");
            assert_eq!(fast, saphyr::<Value>(&text), "{tok}");
        }
        for tok in [".inf", "-.Inf", ".nan", "1e999"] {
            let text = format!("k: {tok}\n");
            assert!(
                from_str::<Value>(&text).is_err(),
                "{tok}: serde-saphyr rejects non-finite floats here"
            );
            assert!(from_str::<de::IgnoredAny>(&text).is_err(), "{tok}");
        }
    }

    #[test]
    fn declines_name_the_line() {
        let cases: &[(&str, usize)] = &[
            ("a: 1\nb: &anchor 2\n", 2),
            ("a: 1\nb: *alias\n", 2),
            ("a:\n  b: !!int 3\n", 2),
            ("a:\n- [1, 2]\n", 2),
            ("a:\n  b: 1\n\tc: 2\n", 3),
            ("a: 1\n\nb: {x: 1}\n", 3),
            ("a: 1\nb: 2\nc: \"x\u{7}\"\n", 3),
            ("a:\n  b: 1\n  b: 2\n", 3),
        ];
        for (text, line) in cases {
            let e = from_multiple::<Value>(text).expect_err(text);
            assert_eq!(e.line, *line, "{text:?}: {e}");
        }
        assert!(
            from_str::<Value>("a: 1\n---\nb: 2\n").is_err(),
            "from_str takes one document"
        );
    }

    #[test]
    fn empty_and_null_documents_are_skipped_like_serde_saphyr() {
        for text in [
            "",
            "---\n",
            "---\n---\na: 1\n---\n",
            "# c\n---\n# c\n...\n---\nb: 2\n",
        ] {
            let fast: Vec<Value> = from_multiple(text).expect(text);
            let slow: Vec<Value> = serde_saphyr::from_multiple(text).expect(text);
            assert_eq!(fast, slow, "{text:?}");
        }
    }
}
