//! Reading `kubectl get -o yaml|json` dumps: files or stdin, multi-document YAML, Lists, JSON.
//! Objects of kinds the suite does not use are skipped; errors name the file and line.
//!
//! One meaning whatever the form: YAML (block or flow, LF/CRLF/CR, BOM, comments) and JSON
//! (compact, indented, concatenated) give the same objects. `kind: List` and typed `…List`
//! documents are Lists alike (items without `kind`/`apiVersion` take the List's); any other
//! object's `items` field is a field. Plain scalars resolve like go-yaml, which wrote them:
//! `1e400` or `-.nan` are strings (go-yaml writes them unquoted because they are not floats
//! it can parse), so a value no plugin reads can never fail a file.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

use super::object::*;
use super::*;

/// Nesting accepted in YAML, as in JSON (serde_json's recursion limit is 128).
const MAX_DEPTH: usize = 128;

/// How many non-finite plain scalars are re-read as strings before the rest are given their
/// canonical spelling (`.inf`, `.nan`): each one costs a parse of the whole text.
const MAX_REQUOTES: usize = 64;

/// Read and merge several dump files (`-` = stdin).
///
/// A YAML file is read piece by piece (one List item at a time, see [`stateful_yaml::yaml_split`]), so
/// its text is never all in memory; whatever the splitter does not handle, or any piece that
/// does not parse, sends the whole file through the ordinary parser, which also gives the
/// error message. JSON files, stdin and that fallback parse the whole text.
pub fn read_dumps<F: Flavor>(files: &[String]) -> Result<Snapshot<F>>
where
    Snapshot<F>: Send,
{
    with_deep_stack(|| read_dumps_here(files))?
}

/// Run `f` on a thread whose stack holds [`MAX_DEPTH`] levels of nesting in serde-saphyr
/// (a debug build needs tens of KiB a level; the main thread has 8 MiB, tests 2 MiB).
fn with_deep_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T> {
    std::thread::scope(|s| {
        let h = std::thread::Builder::new()
            .name("dump-reader".into())
            .stack_size(256 << 20)
            .spawn_scoped(s, f)
            .map_err(|e| Error::Other(format!("cannot start the dump reader: {e}")))?;
        Ok(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    })
}

fn read_dumps_here<F: Flavor>(files: &[String]) -> Result<Snapshot<F>> {
    let mut snap = Snapshot::default();
    let mut stdin_used = false;
    for f in files {
        if f == "-" {
            if stdin_used {
                return Err(Error::Usage("--from-file - (stdin) given twice".into()));
            }
            stdin_used = true;
            let mut s = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut s).map_err(|e| Error::File {
                path: PathBuf::from("<stdin>"),
                line: None,
                message: e.to_string(),
            })?;
            let path = Path::new("<stdin>");
            parse_dump_text(&mut snap, path, &utf8(path, s)?)?;
            continue;
        }
        let p = PathBuf::from(f);
        let io_err = |e: std::io::Error| Error::File {
            path: p.clone(),
            line: None,
            message: e.to_string(),
        };
        let file = std::fs::File::open(&p).map_err(io_err)?;
        let mut input = std::io::BufReader::with_capacity(1 << 16, file);
        let whole = {
            let head = std::io::BufRead::fill_buf(&mut input).map_err(io_err)?;
            // JSON or flow YAML, a byte order mark, CR-only line breaks: read whole.
            matches!(
                head.iter().find(|b| !b.is_ascii_whitespace()),
                Some(b'{' | b'[' | 0xEF)
            ) || has_lone_cr(head)
        };
        if !whole {
            let mut sink = Snapshot::<F>::default();
            match yaml_streamed(&mut sink, input) {
                Ok(()) => {
                    snap.absorb(sink);
                    continue;
                }
                Err(Stop::Data(line, message)) => {
                    return Err(Error::File {
                        path: p.clone(),
                        line: Some(line),
                        message,
                    });
                }
                Err(Stop::Fallback) => {}
            }
        }
        let text = utf8(&p, std::fs::read(&p).map_err(io_err)?)?;
        if whole {
            parse_dump_text(&mut snap, &p, &text)?;
        } else {
            parse_yaml_whole(&mut snap, &p, &text)?;
        }
    }
    Ok(snap)
}

/// Bytes as text, or an error naming the line of the first byte that is not UTF-8.
fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        Error::File {
            path: path.to_path_buf(),
            line: Some(line),
            message: format!("not UTF-8 text: {}", e.utf8_error()),
        }
    })
}

/// Parse one dump's text into the snapshot. YAML or JSON (detected by the first character).
/// Text starting with `{` or `[` that is not JSON is tried as flow-style YAML (`{kind: Pod,
/// …}` is YAML too); when neither reads it, the JSON error is reported.
pub fn parse_dump_into<F: Flavor>(snap: &mut Snapshot<F>, path: &Path, text: &str) -> Result<()>
where
    Snapshot<F>: Send,
{
    with_deep_stack(|| parse_dump_text(snap, path, text))?
}

fn parse_dump_text<F: Flavor>(snap: &mut Snapshot<F>, path: &Path, text: &str) -> Result<()> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if has_lone_cr(text.as_bytes()) {
        // Old Mac line breaks: YAML counts a CR alone as a line break, the fast reader does
        // not; one break for one break keeps every line number.
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        return parse_dump_text(snap, path, &text);
    }
    let first = text.trim_start().chars().next();
    if !matches!(first, Some('{') | Some('[')) {
        let mut sink = Snapshot::<F>::default();
        return match yaml_streamed(&mut sink, text.as_bytes()) {
            Ok(()) => {
                snap.absorb(sink);
                Ok(())
            }
            Err(Stop::Data(line, message)) => Err(Error::File {
                path: path.to_path_buf(),
                line: Some(line),
                message,
            }),
            Err(Stop::Fallback) => parse_yaml_whole(snap, path, text),
        };
    }
    let mut sink = Snapshot::<F>::default();
    match parse_json_into(&mut sink, path, text) {
        Ok(()) => {
            snap.absorb(sink);
            Ok(())
        }
        Err(json_err) => {
            let mut sink = Snapshot::<F>::default();
            if parse_yaml_whole(&mut sink, path, text).is_ok() {
                snap.absorb(sink);
                Ok(())
            } else {
                Err(json_err)
            }
        }
    }
}

/// Whether `b` has a CR that is not part of a CRLF (a CR-only line break).
fn has_lone_cr(b: &[u8]) -> bool {
    b.iter()
        .enumerate()
        .any(|(i, &c)| c == b'\r' && b.get(i + 1).is_some_and(|&n| n != b'\n'))
}

/// Whether a document with this `kind` and an `items` field is a List: `kind: List`, a typed
/// `…List` (`PodList`), or no kind at all. Any other object's `items` is one of its fields.
pub(super) fn is_list_kind(kind: &str) -> bool {
    kind.is_empty() || kind.ends_with("List")
}

/// The end of a List: its items that lack `kind` or `apiVersion` take the List's (a typed
/// `PodList` names its items' kind; `kind: List` does not).
/// An error gives the index of the item (in `kindless`) that failed.
pub(super) fn finish_list<F: Flavor>(
    sink: &mut Snapshot<F>,
    kindless: Vec<Value>,
    kind: &str,
    api: &str,
) -> std::result::Result<(), (usize, String)> {
    let item_kind = kind.strip_suffix("List").unwrap_or("");
    for (i, v) in kindless.into_iter().enumerate() {
        sink.take(v, Some((item_kind, api))).map_err(|m| (i, m))?;
    }
    Ok(())
}

/// A JSON dump (one or more concatenated documents) into the snapshot.
fn parse_json_into<F: Flavor>(snap: &mut Snapshot<F>, path: &Path, text: &str) -> Result<()> {
    let file_err = |(line, message): JsonErr| Error::File {
        path: path.to_path_buf(),
        line: Some(line),
        message,
    };
    let mut sink = Snapshot::<F>::default();
    let stream =
        serde_json::Deserializer::from_str(text).into_iter::<&serde_json::value::RawValue>();
    for doc in stream {
        let doc = doc.map_err(|e| file_err((e.line().max(1), json_message(&e))))?;
        json_doc(&mut sink, text, doc).map_err(file_err)?;
    }
    snap.absorb(sink);
    Ok(())
}

/// A YAML dump parsed as one text: the reference path, and the one that names errors.
///
/// go-yaml writes a string that it cannot parse as a float (`1e400`, `-.nan`) as a plain
/// scalar; serde-saphyr would read it as a non-finite float. Each one is quoted (it is a string,
/// as go-yaml meant it) and the text read again, up to [`MAX_REQUOTES`] times.
fn parse_yaml_whole<F: Flavor>(snap: &mut Snapshot<F>, path: &Path, text: &str) -> Result<()> {
    let mut text = std::borrow::Cow::Borrowed(text);
    for round in 0..=MAX_REQUOTES {
        let opts = yaml_options(round == MAX_REQUOTES);
        take_failed_object();
        match serde_saphyr::from_multiple_with_options::<DocSink<F>>(&text, opts) {
            Ok(docs) => {
                for d in docs {
                    snap.absorb(d.0);
                }
                return Ok(());
            }
            Err(e) => {
                if let Some(quoted) = requote(&text, &e) {
                    text = std::borrow::Cow::Owned(quoted);
                    continue;
                }
                return Err(yaml_file_error(path, &text, &e));
            }
        }
    }
    unreachable!("the last round reads non-finite floats as strings")
}

/// `text` with the plain scalar a non-finite-float error points at put in single quotes.
fn requote(text: &str, e: &serde_saphyr::Error) -> Option<String> {
    let serde_saphyr::Error::NonFiniteFloat { value, location } = original(e) else {
        return None;
    };
    let value = value.trim_matches([' ', '\t']);
    let at = usize::try_from(location.span().byte_offset()?).ok()?;
    let rest = text.get(at..)?;
    let lead = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let at = at + lead;
    if value.is_empty() || !text.get(at..)?.starts_with(value) {
        return None;
    }
    let end = at + value.len();
    Some(format!("{}'{}'{}", &text[..at], value, &text[end..]))
}

/// The error under serde-saphyr's snippet and alias wrappers.
fn original(mut e: &serde_saphyr::Error) -> &serde_saphyr::Error {
    while let serde_saphyr::Error::WithSnippet { error, .. }
    | serde_saphyr::Error::AliasError { error, .. } = e
    {
        e = error;
    }
    e
}

/// serde-saphyr's options for dumps. `nonfinite_as_string`: the last resort of
/// [`parse_yaml_whole`], non-finite floats in untyped positions as `.inf`/`-.inf`/`.nan`.
fn yaml_options(nonfinite_as_string: bool) -> serde_saphyr::Options {
    // Dumps of big clusters are large: lift the default budget (it guards against hostile
    // YAML such as alias bombs, which kubectl never writes). Nesting as deep as JSON allows;
    // any number of aliases to one anchor (`yaml.safe_dump` writes one per shared map), with
    // alias expansion still bounded (serde-saphyr's replay limits).
    let mut opts = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: 1_000_000,
            max_nodes: 500_000_000,
            max_total_scalar_bytes: 8 * 1024 * 1024 * 1024,
            max_events: 2_000_000_000,
            max_depth: MAX_DEPTH,
            enforce_alias_anchor_ratio: false,
        },
    };
    if nonfinite_as_string {
        opts.non_finite_float_policy = serde_saphyr::NonFiniteFloatPolicy::AsString;
    }
    opts
}

/// A serde-saphyr error as a file error: one line (the error's, else the first line of the
/// text that is not blank), one sentence.
fn yaml_file_error(path: &Path, text: &str, e: &serde_saphyr::Error) -> Error {
    let line = e
        .location()
        .map(|l| l.line() as usize)
        .filter(|&l| l > 0)
        .unwrap_or_else(|| first_content_line(text));
    let message = match original(e) {
        serde_saphyr::Error::Budget { breach, .. } => match breach {
            serde_saphyr::budget::BudgetBreach::Depth { .. } => {
                format!("nesting deeper than {MAX_DEPTH} levels")
            }
            _ => format!("aliases expand beyond the reader's limits ({breach:?}): an alias bomb?"),
        },
        _ => yaml_message(e),
    };
    Error::File {
        path: path.to_path_buf(),
        line: Some(line),
        message,
    }
}

/// serde-saphyr's message, first line, without its position (the line is ours to give),
/// after the object and field a typed conversion failed in.
fn yaml_message(e: &serde_saphyr::Error) -> String {
    let msg = e.to_string();
    let first = msg.lines().next().unwrap_or("invalid YAML");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let first = strip_position(first);
    match take_failed_object() {
        Some(obj) => format!("{obj}: {first}"),
        None => first.to_string(),
    }
}

/// `msg` without a leading `line L column C: ` (serde-saphyr's position, given separately).
fn strip_position(msg: &str) -> &str {
    let Some(rest) = msg.strip_prefix("line ") else {
        return msg;
    };
    match rest.split_once(": ") {
        Some((pos, tail)) if pos.contains(" column ") => tail,
        _ => msg,
    }
}

fn first_content_line(text: &str) -> usize {
    text.lines()
        .position(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .unwrap_or(0)
        + 1
}

/// The line (1-based) at which `part` (a slice of `text`) starts.
fn line_of(text: &str, part: &str) -> usize {
    let offset = (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    text.get(..offset)
        .map(|t| t.matches('\n').count())
        .unwrap_or(0)
        + 1
}

/// A JSON error: the line in the file, and the message without serde_json's own position.
type JsonErr = (usize, String);

/// serde_json's message without its ` at line L column C` (relative to the piece it read).
fn json_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(" column ") => msg[..i].to_string(),
        _ => msg,
    }
}

/// An error inside `raw` (a slice of `text`), with its line in the file. Counting lines is
/// O(file), so it happens only here, on the error path.
fn json_err(text: &str, raw: &str, e: serde_json::Error) -> JsonErr {
    (
        line_of(text, raw) + e.line().saturating_sub(1),
        json_message(&e),
    )
}

/// One JSON document: a List (items deserialized one by one straight into typed objects,
/// no JSON tree), a bare array, or one object.
fn json_doc<F: Flavor>(
    sink: &mut Snapshot<F>,
    text: &str,
    doc: &serde_json::value::RawValue,
) -> std::result::Result<(), JsonErr> {
    #[derive(Deserialize)]
    struct Peek<'a> {
        kind: Option<String>,
        #[serde(rename = "apiVersion")]
        api_version: Option<String>,
        #[serde(borrow)]
        items: Option<&'a serde_json::value::RawValue>,
    }
    let raw = doc.get();
    let at = |e: serde_json::Error| json_err(text, raw, e);
    if raw.trim_start().starts_with('[') {
        let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(raw).map_err(at)?;
        for it in items {
            json_item(sink, text, it, None)?;
        }
        return Ok(());
    }
    let peek: Peek = serde_json::from_str(raw).map_err(at)?;
    let kind = peek.kind.as_deref().unwrap_or("");
    match peek.items {
        Some(items) if is_list_kind(kind) => {
            let api = peek.api_version.as_deref().unwrap_or("v1");
            let item_kind = kind.strip_suffix("List").unwrap_or("");
            let list: Option<Vec<&serde_json::value::RawValue>> =
                serde_json::from_str(items.get()).map_err(|e| json_err(text, items.get(), e))?;
            for it in list.into_iter().flatten() {
                json_item(sink, text, it, Some((item_kind, api)))?;
            }
            Ok(())
        }
        _ => json_item(sink, text, doc, None),
    }
}

fn json_item<F: Flavor>(
    sink: &mut Snapshot<F>,
    text: &str,
    item: &serde_json::value::RawValue,
    default_kind: Option<(&str, &str)>,
) -> std::result::Result<(), JsonErr> {
    #[derive(Deserialize)]
    struct KindPeek {
        kind: Option<String>,
        #[serde(rename = "apiVersion")]
        api_version: Option<String>,
    }
    let raw = item.get();
    let at = |e: serde_json::Error| json_err(text, raw, e);
    let peek: KindPeek = serde_json::from_str(raw).map_err(at)?;
    let (Some(kind_s), Some(api_s)) = (peek.kind.as_deref(), peek.api_version.as_deref()) else {
        // Items without kind/apiVersion (raw API lists): the general path fills them in.
        let v: Value = serde_json::from_str(raw).map_err(at)?;
        return sink
            .take(v, default_kind)
            .map_err(|m| (line_of(text, raw), m));
    };
    let Some(kind) = Kind::from_kind(kind_s, api_s) else {
        sink.skip(kind_s.to_string());
        return Ok(());
    };
    let obj = typed_object!(
        kind,
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(raw))
            .map_err(|e| typed_json_err(text, raw, kind_s, e))?,
        {
            let mut v: Value = serde_json::from_str(raw).map_err(at)?;
            strip_noise(&mut v);
            Object::Dynamic(kind, v)
        }
    );
    sink.push(obj);
    Ok(())
}

/// A typed object that does not convert: the line, the object and the field named
/// (`Pod ns/name: spec.containers: …`).
fn typed_json_err(
    text: &str,
    raw: &str,
    kind: &str,
    e: serde_path_to_error::Error<serde_json::Error>,
) -> JsonErr {
    let path = e.path().to_string();
    let (line, msg) = json_err(text, raw, e.into_inner());
    let name = serde_json::from_str::<Value>(raw)
        .map(|v| object_label(&v))
        .unwrap_or_else(|_| "<unnamed>".into());
    (line, format!("{kind} {name}: {path}: {msg}"))
}

thread_local! {
    /// The object (and field) a typed YAML conversion failed in, for the error message:
    /// serde-saphyr keeps the line of an error only when it is its own.
    static FAILED_OBJECT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Note the object and field a typed conversion failed in (see [`FAILED_OBJECT`]).
pub(super) fn note_failed_object(what: String) {
    FAILED_OBJECT.with(|f| *f.borrow_mut() = Some(what));
}

fn take_failed_object() -> Option<String> {
    FAILED_OBJECT.with(|f| f.borrow_mut().take())
}

/// Parsing puts objects straight into a snapshot (no intermediate list, so a big dump's
/// objects exist once).
impl<F: Flavor> Snapshot<F> {
    /// A JSON object by its kind; a kind we do not use is counted as skipped. A List's items
    /// take the missing `kind`/`apiVersion` from `default_kind` (an empty kind: none).
    fn take(
        &mut self,
        v: Value,
        default_kind: Option<(&str, &str)>,
    ) -> std::result::Result<(), String> {
        let kind = v.get("kind").and_then(Value::as_str).map(str::to_string);
        match Object::from_value(v, default_kind)? {
            Some(o) => self.push(o),
            None => {
                let k = kind
                    .or_else(|| default_kind.map(|(k, _)| k.to_string()))
                    .unwrap_or_default();
                self.skip(k);
            }
        }
        Ok(())
    }

    fn skip(&mut self, kind: String) {
        *self.skipped.entry(kind).or_default() += 1;
    }
}

mod seeds;
use seeds::*;
mod streamed;
use streamed::{Stop, yaml_streamed};

#[cfg(test)]
mod tests;
