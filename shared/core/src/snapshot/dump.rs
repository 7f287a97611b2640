//! Reading `kubectl get -o yaml|json` dumps: files or stdin, multi-document YAML, Lists, JSON.
//! Objects of kinds the suite does not use are skipped; errors name the file and line.

use std::fmt;
use std::path::PathBuf;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::error::{Error, Result};

use super::object::*;
use super::*;

/// Read and merge several dump files (`-` = stdin).
///
/// A YAML file is read piece by piece (one List item at a time, see [`stateful_yaml::yaml_split`]), so
/// its text is never all in memory; whatever the splitter does not handle, or any piece that
/// does not parse, sends the whole file through the ordinary parser, which also gives the
/// error message. JSON files, stdin and that fallback parse the whole text.
pub fn read_dumps<F: Flavor>(files: &[String]) -> Result<Snapshot<F>> {
    let mut snap = Snapshot::default();
    let mut stdin_used = false;
    for f in files {
        if f == "-" {
            if stdin_used {
                return Err(Error::Usage("--from-file - (stdin) given twice".into()));
            }
            stdin_used = true;
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| {
                Error::File {
                    path: PathBuf::from("<stdin>"),
                    line: None,
                    message: e.to_string(),
                }
            })?;
            parse_dump_into(&mut snap, std::path::Path::new("<stdin>"), &s)?;
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
        let json = {
            let head = std::io::BufRead::fill_buf(&mut input).map_err(io_err)?;
            matches!(
                head.iter().find(|b| !b.is_ascii_whitespace()),
                Some(b'{') | Some(b'[')
            )
        };
        let lone_cr = {
            let head = std::io::BufRead::fill_buf(&mut input).map_err(io_err)?;
            has_lone_cr(head)
        };
        if !json && !lone_cr {
            let mut sink = Snapshot::<F>::default();
            if yaml_streamed(&mut sink, input).is_ok() {
                snap.absorb(sink);
                continue;
            }
        }
        let text = std::fs::read(&p).map_err(io_err)?;
        let text = String::from_utf8(text).map_err(|e| Error::File {
            path: p.clone(),
            line: None,
            message: format!("not UTF-8 text: {e}"),
        })?;
        if json || lone_cr {
            parse_dump_into(&mut snap, &p, &text)?;
        } else {
            parse_yaml_whole(&mut snap, &p, &text)?;
        }
    }
    Ok(snap)
}

/// Parse one dump's text into the snapshot. YAML or JSON (detected by the first character).
/// Text starting with `{` or `[` that is not JSON is tried as flow-style YAML (`{kind: Pod,
/// …}` is YAML too); when neither reads it, the JSON error is reported.
pub fn parse_dump_into<F: Flavor>(
    snap: &mut Snapshot<F>,
    path: &std::path::Path,
    text: &str,
) -> Result<()> {
    if has_lone_cr(text.as_bytes()) {
        // Old Mac line breaks: YAML counts a CR alone as a line break, the fast reader does
        // not; one break for one break keeps every line number.
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        return parse_dump_into(snap, path, &text);
    }
    let first = text.trim_start().chars().next();
    if !matches!(first, Some('{') | Some('[')) {
        let mut sink = Snapshot::<F>::default();
        if yaml_streamed(&mut sink, text.as_bytes()).is_ok() {
            snap.absorb(sink);
            return Ok(());
        }
        return parse_yaml_whole(snap, path, text);
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

/// A JSON dump (one or more concatenated documents) into the snapshot.
fn parse_json_into<F: Flavor>(
    snap: &mut Snapshot<F>,
    path: &std::path::Path,
    text: &str,
) -> Result<()> {
    let file_err = |line: Option<usize>, message: String| Error::File {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut sink = Snapshot::<F>::default();
    let stream =
        serde_json::Deserializer::from_str(text).into_iter::<&serde_json::value::RawValue>();
    for doc in stream {
        let doc = doc.map_err(|e| {
            let line = if e.line() > 0 { Some(e.line()) } else { None };
            file_err(line, e.to_string())
        })?;
        json_doc(&mut sink, text, doc).map_err(|(line, msg)| file_err(line, msg))?;
    }
    snap.absorb(sink);
    Ok(())
}

/// A YAML dump parsed as one text: the reference path, and the one that names errors.
fn parse_yaml_whole<F: Flavor>(
    snap: &mut Snapshot<F>,
    path: &std::path::Path,
    text: &str,
) -> Result<()> {
    let docs: Vec<DocSink<F>> = serde_saphyr::from_multiple_with_options(text, yaml_options())
        .map_err(|e| {
            let (line, message) = saphyr_error_parts(&e);
            Error::File {
                path: path.to_path_buf(),
                line,
                message,
            }
        })?;
    for d in docs {
        snap.absorb(d.0);
    }
    Ok(())
}

/// The streamed read gave up: parse the whole text instead.
struct Fallback;

/// Read a YAML dump piece by piece into `sink`.
fn yaml_streamed<F: Flavor, R: std::io::BufRead>(
    sink: &mut Snapshot<F>,
    input: R,
) -> std::result::Result<(), Fallback> {
    use stateful_yaml::yaml_split::{Piece, Splitter};
    #[derive(Deserialize)]
    struct Header {
        kind: Option<String>,
        #[serde(rename = "apiVersion")]
        api_version: Option<String>,
    }
    let mut split = Splitter::new(input);
    let mut kindless: Vec<Value> = Vec::new();
    loop {
        let piece = match split.next_piece() {
            Ok(Ok(Some(p))) => p,
            Ok(Ok(None)) => return Ok(()),
            _ => return Err(Fallback),
        };
        match piece {
            Piece::Item { text, .. } => yaml_piece(sink, &mut kindless, &text, false)?,
            Piece::Document { text, .. } => yaml_piece(sink, &mut kindless, &text, true)?,
            Piece::ListEnd { header, .. } => {
                let h: Header = serde_saphyr::from_str_with_options(&header, yaml_options())
                    .map_err(|_| Fallback)?;
                let kind = h.kind.unwrap_or_default();
                if !kind.is_empty() && !kind.ends_with("List") {
                    return Err(Fallback); // an object with an `items` field, not a List
                }
                let item_kind = kind.strip_suffix("List").unwrap_or("");
                let api = h.api_version.unwrap_or_else(|| "v1".into());
                for v in kindless.drain(..) {
                    if item_kind.is_empty() {
                        return Err(Fallback);
                    }
                    sink.take(v, Some((item_kind, &api)))
                        .map_err(|_| Fallback)?;
                }
            }
        }
    }
}

/// One piece into `sink`: through the fast path for the block YAML kubectl writes
/// ([`stateful_yaml::yaml_fast`]), into a scratch sink so that a decline halfway leaves nothing
/// behind, else through serde-saphyr. Any error means [`Fallback`].
fn yaml_piece<F: Flavor>(
    sink: &mut Snapshot<F>,
    kindless: &mut Vec<Value>,
    text: &str,
    document: bool,
) -> std::result::Result<(), Fallback> {
    let mut scratch = Snapshot::<F>::default();
    let mut scratch_kindless = Vec::new();
    let fast = if document {
        stateful_yaml::yaml_fast::from_str_seed(text, DocSeed { sink: &mut scratch })
    } else {
        stateful_yaml::yaml_fast::from_str_seed(
            text,
            ItemsSeed {
                sink: &mut scratch,
                kindless: &mut scratch_kindless,
            },
        )
    };
    if fast.is_ok() {
        sink.absorb(scratch);
        kindless.append(&mut scratch_kindless);
        return Ok(());
    }
    drop(scratch);
    let res = if document {
        serde_saphyr::with_deserializer_from_str_with_options(text, yaml_options(), |d| {
            DocSeed { sink }.deserialize(d)
        })
    } else {
        serde_saphyr::with_deserializer_from_str_with_options(text, yaml_options(), |d| {
            ItemsSeed { sink, kindless }.deserialize(d)
        })
    };
    res.map_err(|_| Fallback)
}

fn yaml_options() -> serde_saphyr::Options {
    // Dumps of big clusters are large: lift the default budget (it guards against hostile
    // YAML such as alias bombs, which kubectl never writes), keep alias expansion bounded.
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: 1_000_000,
            max_nodes: 500_000_000,
            max_total_scalar_bytes: 8 * 1024 * 1024 * 1024,
            max_events: 2_000_000_000,
        },
    }
}

fn saphyr_error_parts(e: &serde_saphyr::Error) -> (Option<usize>, String) {
    let msg = e.to_string();
    let line = e.location().map(|l| l.line() as usize);
    (
        line,
        msg.lines().next().unwrap_or("invalid YAML").to_string(),
    )
}

/// The line (1-based) at which `part` (a slice of `text`) starts.
fn line_of(text: &str, part: &str) -> usize {
    let offset = (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    text.get(..offset)
        .map(|t| t.matches('\n').count())
        .unwrap_or(0)
        + 1
}

type JsonErr = (Option<usize>, String);

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
        items: Option<Option<Vec<&'a serde_json::value::RawValue>>>,
    }
    let raw = doc.get();
    let at = |e: serde_json::Error| {
        (
            Some(line_of(text, raw) + e.line().saturating_sub(1)),
            e.to_string(),
        )
    };
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
        Some(items) if kind.is_empty() || kind.ends_with("List") => {
            let item_kind = kind.strip_suffix("List").unwrap_or("");
            let api = peek.api_version.as_deref().unwrap_or("v1");
            let default = (!item_kind.is_empty()).then_some((item_kind, api));
            for it in items.into_iter().flatten() {
                json_item(sink, text, it, default)?;
            }
            Ok(())
        }
        _ => json_item(sink, text, doc, None),
    }
}

fn json_typed<T: serde::de::DeserializeOwned>(
    text: &str,
    raw: &str,
) -> std::result::Result<T, JsonErr> {
    serde_json::from_str(raw).map_err(|e| json_err(text, raw, e))
}

/// An error inside `raw` (a slice of `text`), with its line in the file. Counting lines is
/// O(file), so it happens only here, on the error path.
fn json_err(text: &str, raw: &str, e: serde_json::Error) -> JsonErr {
    (
        Some(line_of(text, raw) + e.line().saturating_sub(1)),
        e.to_string(),
    )
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
            .map_err(|m| (Some(line_of(text, raw)), m));
    };
    let Some(kind) = Kind::from_kind(kind_s, api_s) else {
        sink.skip(kind_s.to_string());
        return Ok(());
    };
    let obj = typed_object!(kind, json_typed(text, raw)?, {
        let mut v: Value = serde_json::from_str(raw).map_err(at)?;
        strip_noise(&mut v);
        Object::Dynamic(kind, v)
    });
    sink.push(obj);
    Ok(())
}

/// Parsing puts objects straight into a snapshot (no intermediate list, so a big dump's
/// objects exist once).
impl<F: Flavor> Snapshot<F> {
    /// A JSON object by its kind; a kind we do not use is counted as skipped.
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

/// One YAML document, deserialized straight into objects (a List's items are converted one by
/// one, so a huge List never exists as one JSON tree in memory).
struct DocSink<F: Flavor>(Snapshot<F>);

impl<'de, F: Flavor> Deserialize<'de> for DocSink<F> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let mut sink = Snapshot::default();
        DocSeed { sink: &mut sink }.deserialize(d)?;
        Ok(DocSink(sink))
    }
}

struct DocSeed<'a, F: Flavor> {
    sink: &'a mut Snapshot<F>,
}

impl<'de, F: Flavor> DeserializeSeed<'de> for DocSeed<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: Flavor> Visitor<'de> for DocSeed<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object or a List of objects")
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(()) // an empty document
    }

    fn visit_none<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        // A bare array of objects (e.g. `jq '.items'` output).
        while let Some(v) = seq.next_element::<Value>()? {
            self.sink.take(v, None).map_err(de::Error::custom)?;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut rest = serde_json::Map::new();
        let mut had_items = false;
        let mut kindless: Vec<Value> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                had_items = true;
                map.next_value_seed(ItemsSeed {
                    sink: &mut *self.sink,
                    kindless: &mut kindless,
                })?;
            } else {
                let v: Value = map.next_value()?;
                rest.insert(key, v);
            }
        }
        let kind = rest.get("kind").and_then(Value::as_str).unwrap_or("");
        let api = rest
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("v1");
        if had_items && (kind.is_empty() || kind.ends_with("List")) {
            // Items without their own kind (raw API lists such as PodList) take the list's.
            let item_kind = kind.strip_suffix("List").unwrap_or("");
            for v in kindless {
                if item_kind.is_empty() {
                    return Err(de::Error::custom(
                        "a list item has no \"kind\" and the list does not say which kind it holds",
                    ));
                }
                self.sink
                    .take(v, Some((item_kind, api)))
                    .map_err(de::Error::custom)?;
            }
            return Ok(());
        }
        if rest.is_empty() && !had_items {
            return Ok(());
        }
        if kind.is_empty() {
            return Err(de::Error::custom(
                "a document has no \"kind\": expected a Kubernetes object or a List (kubectl get -o yaml)",
            ));
        }
        self.sink
            .take(Value::Object(rest), None)
            .map_err(de::Error::custom)
    }
}

struct ItemsSeed<'a, F: Flavor> {
    sink: &'a mut Snapshot<F>,
    kindless: &'a mut Vec<Value>,
}

impl<'de, F: Flavor> DeserializeSeed<'de> for ItemsSeed<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: Flavor> Visitor<'de> for ItemsSeed<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of objects")
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(()) // `items: null`
    }

    fn visit_none<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        while let Some(()) = seq.next_element_seed(ItemSeed {
            sink: &mut *self.sink,
            kindless: &mut *self.kindless,
        })? {}
        Ok(())
    }
}

/// One List item, deserialized straight into its typed object when `apiVersion` and `kind`
/// come before its other keys (kubectl sorts keys, so they do); otherwise through a JSON value.
/// Items without a kind (raw API lists) are kept for the list's kind.
struct ItemSeed<'a, F: Flavor> {
    sink: &'a mut Snapshot<F>,
    kindless: &'a mut Vec<Value>,
}

impl<'de, F: Flavor> DeserializeSeed<'de> for ItemSeed<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: Flavor> Visitor<'de> for ItemSeed<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object")
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        Err(E::custom("object has no \"kind\""))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut api: Option<Value> = None;
        let mut kind: Option<Value> = None;
        let first = loop {
            match map.next_key::<String>()? {
                None => break None,
                Some(k) if k == "apiVersion" && api.is_none() => api = Some(map.next_value()?),
                Some(k) if k == "kind" && kind.is_none() => kind = Some(map.next_value()?),
                Some(k) => break Some(k),
            }
        };
        if let (Some(Value::String(k)), Some(Value::String(a)), Some(first)) = (&kind, &api, &first)
        {
            let Some(kd) = Kind::from_kind(k, a) else {
                map.next_value::<de::IgnoredAny>()?;
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                self.sink.skip(k.clone());
                return Ok(());
            };
            let rest = de::value::MapAccessDeserializer::new(Prefixed {
                pending: [("apiVersion", a.clone()), ("kind", k.clone())].into_iter(),
                value: None,
                first: Some(first.clone()),
                inner: map,
            });
            let obj = typed_object!(kd, Deserialize::deserialize(rest)?, {
                let mut v = Value::deserialize(rest)?;
                strip_noise(&mut v);
                Object::Dynamic(kd, v)
            });
            self.sink.push(obj);
            return Ok(());
        }
        let mut m = serde_json::Map::new();
        if let Some(a) = api {
            m.insert("apiVersion".into(), a);
        }
        if let Some(k) = kind {
            m.insert("kind".into(), k);
        }
        if let Some(first) = first {
            let v: Value = map.next_value()?;
            m.insert(first, v);
            while let Some((k, v)) = map.next_entry::<String, Value>()? {
                m.insert(k, v);
            }
        }
        let v = Value::Object(m);
        if v.get("kind").and_then(Value::as_str).is_some() {
            self.sink.take(v, None).map_err(de::Error::custom)
        } else {
            self.kindless.push(v);
            Ok(())
        }
    }
}

/// A map whose first entries (`apiVersion`, `kind`, then the key of the next entry) were
/// already read: hands them out again, then the rest of the underlying map.
struct Prefixed<I, A> {
    pending: I,
    value: Option<String>,
    first: Option<String>,
    inner: A,
}

impl<'de, I, A> MapAccess<'de> for Prefixed<I, A>
where
    I: Iterator<Item = (&'static str, String)>,
    A: MapAccess<'de>,
{
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> std::result::Result<Option<K::Value>, A::Error> {
        use serde::de::IntoDeserializer;
        if let Some((k, v)) = self.pending.next() {
            self.value = Some(v);
            return seed
                .deserialize(IntoDeserializer::<A::Error>::into_deserializer(k))
                .map(Some);
        }
        if let Some(k) = self.first.take() {
            return seed
                .deserialize(IntoDeserializer::<A::Error>::into_deserializer(k))
                .map(Some);
        }
        self.inner.next_key_seed(seed)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> std::result::Result<V::Value, A::Error> {
        use serde::de::IntoDeserializer;
        match self.value.take() {
            Some(v) => seed.deserialize(IntoDeserializer::<A::Error>::into_deserializer(v)),
            None => self.inner.next_value_seed(seed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Snapshot> {
        let mut s = Snapshot::default();
        parse_dump_into(&mut s, std::path::Path::new("dump.yaml"), text)?;
        Ok(s)
    }

    const LIST: &str = r#"apiVersion: v1
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: db-0
    namespace: prod
    labels: {app: db}
    managedFields: [{manager: kubectl}]
  spec:
    containers: [{name: db, image: postgres:16}]
    volumes:
    - name: data
      persistentVolumeClaim: {claimName: data-db-0}
- apiVersion: v1
  kind: PersistentVolumeClaim
  metadata: {name: data-db-0, namespace: prod}
  spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
- apiVersion: v1
  kind: Secret
  metadata: {name: s, namespace: prod}
  data: {password: c2VjcmV0}
- apiVersion: example.com/v1
  kind: Widget
  metadata: {name: w}
kind: List
metadata:
  resourceVersion: ""
"#;

    #[test]
    fn list_dump_keeps_known_kinds_and_skips_others() {
        let s = parse(LIST).unwrap();
        assert_eq!(s.pods.len(), 1);
        assert_eq!(s.pvcs.len(), 1);
        assert_eq!(s.skipped.get("Secret"), Some(&1));
        assert_eq!(s.skipped.get("Widget"), Some(&1));
        assert!(
            s.pods[0].metadata.managed_fields.is_none(),
            "managedFields stripped"
        );
        assert!(s.knows(Kind::Pod) && !s.knows(Kind::PersistentVolume));
    }

    #[test]
    fn multi_document_yaml_and_json_agree() {
        let yaml = "---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv1}\nspec: {nfs: {server: 10.0.0.5, path: /x}}\n---\n---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast}\nprovisioner: ebs.csi.aws.com\n";
        let s = parse(yaml).unwrap();
        assert_eq!(s.pvs.len(), 1);
        assert_eq!(s.storage_classes.len(), 1);
        let json = r#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv1"}}]}
{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"fast"},"provisioner":"x"}"#;
        let s = parse(json).unwrap();
        assert_eq!(s.pvs.len(), 1);
        assert_eq!(s.storage_classes.len(), 1);
    }

    /// Every way through the dump reader gives the same snapshot: pieces through the fast path,
    /// a piece the fast path declines (an anchor) through serde-saphyr, a file the splitter
    /// does not split (a directive) parsed whole, and items whose keys are not in kubectl's
    /// order (through a JSON value).
    #[test]
    fn every_yaml_path_gives_the_same_objects() {
        let pv = |name: &str| {
            format!(
                "- apiVersion: v1\n  kind: PersistentVolume\n  metadata:\n    name: {name}\n    labels: {{a: b}}\n  spec:\n    capacity:\n      storage: 1Gi\n    csi:\n      driver: ebs.csi.aws.com\n      volumeHandle: vol-{name}\n"
            )
        };
        let plain = format!("apiVersion: v1\nitems:\n{}{}kind: List\n", pv("a"), pv("b"));
        let anchored = plain.replace("labels: {a: b}", "labels: &l {a: b}");
        let reordered = plain.replace(
            "- apiVersion: v1\n  kind: PersistentVolume\n  metadata:\n    name: b\n    labels: {a: b}\n",
            "- metadata:\n    name: b\n    labels: {a: b}\n  kind: PersistentVolume\n  apiVersion: v1\n",
        );
        let directive = format!("%YAML 1.2\n---\n{plain}");
        let lean = |text: &str| {
            let mut s = Snapshot::<Lean>::default();
            parse_dump_into(&mut s, std::path::Path::new("d.yaml"), text).unwrap();
            s
        };
        let whole = {
            let mut s = Snapshot::<Lean>::default();
            parse_yaml_whole(&mut s, std::path::Path::new("d.yaml"), &plain).unwrap();
            s
        };
        assert_eq!(whole.pvs.len(), 2);
        for text in [&plain, &anchored, &reordered, &directive] {
            let s = lean(text);
            assert_eq!(s.pvs, whole.pvs, "{text}");
            assert!(s.knows(Kind::PersistentVolume));
        }
        // The reader's own fallback: a piece that fails sends the whole text to serde-saphyr,
        // whose error names the line.
        let broken = plain.replace("      storage: 1Gi\n", "      storage: \"1Gi\n");
        let streamed = parse(&broken).unwrap_err().to_string();
        let mut s = Snapshot::<Full>::default();
        let whole = parse_yaml_whole(&mut s, std::path::Path::new("dump.yaml"), &broken)
            .unwrap_err()
            .to_string();
        assert_eq!(streamed, whole);
        assert!(streamed.contains("dump.yaml:21"), "{streamed}");
    }

    #[test]
    fn flow_style_yaml_starting_with_a_brace_is_yaml_not_a_json_error() {
        let block = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: []}\n";
        let flow = "{apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x},\n spec: {containers: []}}\n";
        let list = "{apiVersion: v1, kind: List, items: [{apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x}, spec: {containers: []}}]}";
        let want = parse(block).unwrap();
        for text in [flow, list] {
            let s = parse(text).unwrap();
            assert_eq!(s.pods.len(), 1, "{text}");
            assert_eq!(s.pods[0].metadata.name, want.pods[0].metadata.name);
        }
        // Neither JSON nor YAML: the JSON error, naming the file and line.
        let e = parse("{\"kind\": \"Pod\",\n \"metadata\": {")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":2"), "{e}");
    }

    #[test]
    fn cr_only_line_breaks_are_line_breaks() {
        let lf = "# a dump\napiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: []}\n";
        let want = parse(lf).unwrap();
        assert_eq!(want.pods.len(), 1);
        for text in [lf.replace('\n', "\r"), lf.replace('\n', "\r\n")] {
            let s = parse(&text).unwrap();
            assert_eq!(s.pods.len(), 1, "{text:?}");
            assert_eq!(s.pods[0].metadata.name, want.pods[0].metadata.name);
        }
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("cr.yaml");
        std::fs::write(&f, lf.replace('\n', "\r")).unwrap();
        let s = read_dumps::<Full>(&[f.to_string_lossy().into_owned()]).unwrap();
        assert_eq!(s.pods.len(), 1);
        let bad = "# c\rapiVersion: v1\rkind: Pod\rmetadata:\r  labels: [x\r";
        let e = parse(bad).unwrap_err().to_string();
        assert!(e.contains("dump.yaml:"), "{e}");
    }

    #[test]
    fn raw_api_list_items_take_the_list_kind() {
        let json = r#"{"apiVersion":"v1","kind":"PodList","items":[{"metadata":{"name":"a","namespace":"x"},"spec":{"containers":[]}}]}"#;
        let s = parse(json).unwrap();
        assert_eq!(s.pods.len(), 1);
    }

    #[test]
    fn malformed_yaml_names_file_and_line() {
        let bad = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: [unclosed\n";
        let e = parse(bad).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("dump.yaml:"), "{msg}");
        match e {
            Error::File { line, .. } => assert!(line.is_some(), "{msg}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_json_names_file_and_line() {
        let e = parse("{\"kind\": \"List\",\n \"items\": [\n {\"kind\": }]}").unwrap_err();
        match e {
            Error::File { line, .. } => assert_eq!(line, Some(3)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn json_type_errors_name_the_line_in_the_file() {
        let text = "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"}},\n{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\"},\n \"spec\":{\"containers\":7}}]}";
        match parse(text).unwrap_err() {
            Error::File { line, message, .. } => {
                assert_eq!(line, Some(4), "{message}");
            }
            other => panic!("{other:?}"),
        }
        // Kinds we do not use are skipped without being parsed as typed objects.
        let s = parse("[{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"data\":{}}]").unwrap();
        assert_eq!(s.skipped.get("Secret"), Some(&1));
    }

    #[test]
    fn wrong_types_are_errors_not_panics() {
        let bad = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: 7}\n";
        let e = parse(bad).unwrap_err();
        assert!(e.to_string().contains("Pod a"), "{e}");
        let e = parse("just a string\n").unwrap_err();
        assert_eq!(e.exit_code().code(), 1);
        let e = parse("metadata: {name: a}\n").unwrap_err();
        assert!(e.to_string().contains("kind"), "{e}");
    }

    #[test]
    fn scope_filters_namespace_and_pod_labels() {
        let mut s = parse(LIST).unwrap();
        s.retain_scope(&Scope {
            namespace: Some("prod".into()),
            pod_selector: Some(Selector::parse("app=web").unwrap()),
        });
        assert_eq!(s.pods.len(), 0);
        assert_eq!(s.pvcs.len(), 1);
        let mut s = parse(LIST).unwrap();
        s.retain_scope(&Scope {
            namespace: Some("other".into()),
            pod_selector: None,
        });
        assert_eq!(s.pvcs.len(), 0);
    }
}
