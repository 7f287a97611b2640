//! The block-YAML parser: lines, indentation, keys, scalars and structure, into nodes.

use memchr::{memchr, memchr2, memchr3};
use serde::de;
use std::borrow::Cow;

use super::*;

pub(super) const fn byte_set(chars: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < chars.len() {
        t[chars[i] as usize] = true;
        i += 1;
    }
    t
}

/// First characters that do not start a plain key.
pub(super) static KEY_STOP: [bool; 256] = byte_set(b"-?:,[]{}#&*!|>%@`\t \n\0\"'");

/// serde-saphyr's default `max_depth` is 64; stay below it.
pub(super) const MAX_DEPTH: usize = 60;

#[derive(Clone, Copy)]
pub(super) struct Mark {
    pub(super) pos: usize,
    pub(super) line: usize,
    pub(super) line_start: usize,
}

pub(super) struct Parser<'de> {
    pub(super) src: &'de str,
    pub(super) b: &'de [u8],
    pub(super) pos: usize,
    pub(super) line: usize,
    pub(super) line_start: usize,
    pub(super) depth: usize,
    pub(super) nodes: usize,
    pub(super) max_nodes: usize,
    /// Keys of the mappings being read, innermost last, for duplicate detection.
    pub(super) keys: Vec<&'de str>,
}

/// A node whose kind is known but whose content is not consumed yet (except keys).
pub(super) enum Node<'de> {
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
pub(super) enum Ctx {
    MapValue,
    SeqEntry,
}

pub(super) fn is_blank_or_eof(c: u8) -> bool {
    c == b' ' || c == b'\n' || c == 0
}

impl<'de> Parser<'de> {
    pub(super) fn new(src: &'de str) -> Result<Self> {
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

    pub(super) fn decline<T>(&self, reason: &str) -> Result<T> {
        Err(Declined {
            line: self.line,
            reason: reason.to_string(),
        })
    }

    #[inline]
    pub(super) fn byte(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    /// Index of the `\n` ending the line containing `i`, or the input length.
    #[inline]
    pub(super) fn eol(&self, i: usize) -> usize {
        match self.b.get(i..) {
            Some(rest) => memchr(b'\n', rest).map_or(self.b.len(), |x| i + x),
            None => self.b.len(),
        }
    }

    pub(super) fn slice(&self, a: usize, z: usize) -> Result<&'de str> {
        match self.src.get(a..z) {
            Some(s) => Ok(s),
            None => self.decline("internal: bad slice"),
        }
    }

    pub(super) fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            line: self.line,
            line_start: self.line_start,
        }
    }

    pub(super) fn reset(&mut self, m: Mark) {
        self.pos = m.pos;
        self.line = m.line;
        self.line_start = m.line_start;
    }

    /// Move forward to `np`, keeping the line bookkeeping right.
    pub(super) fn goto(&mut self, np: usize) {
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
    pub(super) fn past_eol(&mut self, e: usize) {
        if e < self.b.len() {
            self.pos = e + 1;
            self.line += 1;
            self.line_start = self.pos;
        } else {
            self.pos = self.b.len();
        }
    }

    /// Move to the start of the next line (or EOF).
    pub(super) fn next_line(&mut self) {
        let e = self.eol(self.pos);
        if e < self.b.len() {
            self.pos = e + 1;
            self.line += 1;
            self.line_start = self.pos;
        } else {
            self.pos = e;
        }
    }

    pub(super) fn col(&self) -> usize {
        self.pos - self.line_start
    }

    pub(super) fn spaces_at(&self, mut i: usize) -> usize {
        let s = i;
        while self.byte(i) == b' ' {
            i += 1;
        }
        i - s
    }

    /// From a line start, skip empty and comment-only lines. Returns the indentation of the
    /// next content line (the position stays at its start), or None at end of input.
    pub(super) fn skip_blank_lines(&mut self) -> Result<Option<usize>> {
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
    pub(super) fn doc_marker(&self, at: usize) -> Option<u8> {
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
    pub(super) fn finish_line(&mut self) -> Result<()> {
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

    pub(super) fn count_node(&mut self) -> Result<()> {
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            return self.decline("too many nodes for the default budget");
        }
        Ok(())
    }

    /// Walk the documents of the stream; `f` gets the root node of each (None: empty).
    pub(super) fn documents(
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

    pub(super) fn deserialize_root<T: de::Deserialize<'de>>(
        &mut self,
        node: Node<'de>,
    ) -> Result<T> {
        let r = T::deserialize(De { p: self, node });
        r.map_err(|mut e| {
            if e.line == 0 {
                e.line = self.line;
            }
            e
        })
    }

    pub(super) fn classify_root(&mut self) -> Result<Option<Node<'de>>> {
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
    pub(super) fn classify_value(&mut self, bound: usize, ctx: Ctx) -> Result<Node<'de>> {
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
    pub(super) fn classify_next_line(&mut self, bound: usize, ctx: Ctx) -> Result<Node<'de>> {
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
    pub(super) fn scalar_start(&mut self, bound: isize, block_ok: bool) -> Result<Node<'de>> {
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
    pub(super) fn scan_key(&self, at: usize) -> Result<Option<(&'de str, bool, usize)>> {
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
    pub(super) fn parse_scalar(
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
    pub(super) fn plain_line(&self, a: usize, e: usize) -> Result<(usize, bool)> {
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

    pub(super) fn plain(&mut self, bound: isize, build: bool) -> Result<Cow<'de, str>> {
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
    pub(super) fn quoted_fold(&mut self, bound: isize) -> Result<usize> {
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

    pub(super) fn single_quoted(&mut self, bound: isize, build: bool) -> Result<Cow<'de, str>> {
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

    pub(super) fn double_quoted(&mut self, bound: isize, build: bool) -> Result<Cow<'de, str>> {
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
    pub(super) fn block_scalar(&mut self, bound: usize) -> Result<String> {
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

pub(super) fn push_fold(out: &mut String, empty: usize) {
    if empty == 0 {
        out.push(' ');
    } else {
        out.extend(std::iter::repeat_n('\n', empty));
    }
}
