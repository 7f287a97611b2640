//! The serde seeds that put YAML documents and List items straight into a snapshot (a List's
//! items are converted one by one, so a huge List never exists as one JSON tree in memory).
//! They read any serde `Deserializer`: the fast path's and serde-saphyr's.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::super::object::*;
use super::super::*;
use super::{finish_list, is_list_kind};

/// One YAML document into a fresh snapshot (for `from_multiple`).
pub(super) struct DocSink<F: Flavor>(pub(super) Snapshot<F>);

impl<'de, F: Flavor> Deserialize<'de> for DocSink<F> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let mut sink = Snapshot::default();
        DocSeed { sink: &mut sink }.deserialize(d)?;
        Ok(DocSink(sink))
    }
}

/// One YAML document: an object, a List (`kind: List` or a typed `…List`, or no kind with
/// `items`), or a bare sequence of objects.
pub(super) struct DocSeed<'a, F: Flavor> {
    pub(super) sink: &'a mut Snapshot<F>,
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

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<(), A::Error> {
        ObjectSeed {
            sink: self.sink,
            kindless: None,
        }
        .visit_map(map)
    }
}

pub(super) struct ItemsSeed<'a, F: Flavor> {
    pub(super) sink: &'a mut Snapshot<F>,
    pub(super) kindless: &'a mut Vec<Value>,
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
        while let Some(()) = seq.next_element_seed(ObjectSeed {
            sink: &mut *self.sink,
            kindless: Some(&mut *self.kindless),
        })? {}
        Ok(())
    }
}

/// One object: deserialized straight into its typed object when `apiVersion` and `kind` come
/// before its other keys (kubectl sorts keys, so they do); otherwise through a JSON value.
///
/// As a List item (`kindless` is `Some`), an item that lacks `kind` or `apiVersion` (raw API
/// lists), or is not even a mapping, is kept for the end of the List, whose kind and
/// apiVersion it takes (or whose reader reports it), as the JSON reader does. As a document
/// (`kindless` is `None`), an `items` field makes it a List only when its kind says so:
/// `kind: List`, a typed `…List`, or no kind at all.
pub(super) struct ObjectSeed<'a, F: Flavor> {
    pub(super) sink: &'a mut Snapshot<F>,
    pub(super) kindless: Option<&'a mut Vec<Value>>,
}

impl<'de, F: Flavor> DeserializeSeed<'de> for ObjectSeed<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<F: Flavor> ObjectSeed<'_, F> {
    /// A List item that is not a mapping: kept for the List's end, which reports it.
    fn odd<E: de::Error>(self, v: Value) -> std::result::Result<(), E> {
        match self.kindless {
            Some(k) => {
                k.push(v);
                Ok(())
            }
            None => Err(E::custom("a document is not a mapping")),
        }
    }
}

impl<'de, F: Flavor> Visitor<'de> for ObjectSeed<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Kubernetes object")
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        self.odd(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<(), E> {
        self.odd(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<(), E> {
        self.odd(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<(), E> {
        self.odd(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<(), E> {
        self.odd(Value::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<(), E> {
        self.odd(Value::from(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> std::result::Result<(), A::Error> {
        let v = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        self.odd(v)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let document = self.kindless.is_none();
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
            && !(document && is_list_kind(k))
        {
            return typed(self.sink, k, a, first.clone(), map);
        }
        let mut m = serde_json::Map::new();
        if let Some(a) = api {
            m.insert("apiVersion".into(), a);
        }
        if let Some(k) = kind {
            m.insert("kind".into(), k);
        }
        // A document's `items`, read before its kind was known: kept aside until it is.
        let mut items: Option<(Snapshot<F>, Vec<Value>)> = None;
        let mut key = first;
        while let Some(k) = key {
            if document && k == "items" && items.is_none() {
                let kind = m.get("kind").and_then(Value::as_str);
                let mut scratch = (Snapshot::<F>::default(), Vec::new());
                if kind.is_none_or(is_list_kind) {
                    map.next_value_seed(ItemsSeed {
                        sink: &mut scratch.0,
                        kindless: &mut scratch.1,
                    })?;
                } else {
                    map.next_value::<de::IgnoredAny>()?; // a field of an object, not a List
                }
                items = Some(scratch);
            } else {
                let v: Value = map.next_value()?;
                m.insert(k, v);
            }
            key = map.next_key::<String>()?;
        }
        let kind = m
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if let Some((scratch, kindless)) = items
            && is_list_kind(&kind)
        {
            self.sink.absorb(scratch);
            let api = m.get("apiVersion").and_then(Value::as_str).unwrap_or("v1");
            return finish_list(self.sink, kindless, &kind, api)
                .map_err(|(_, m)| de::Error::custom(m));
        }
        let v = Value::Object(m);
        match self.kindless {
            Some(kindless) if !has_kind_and_api(&v) => {
                kindless.push(v);
                Ok(())
            }
            _ if document && v.as_object().is_some_and(serde_json::Map::is_empty) => Ok(()),
            _ if document && kind.is_empty() => Err(de::Error::custom(
                "a document has no \"kind\": expected a Kubernetes object or a List (kubectl get -o yaml)",
            )),
            _ => self.sink.take(v, None).map_err(de::Error::custom),
        }
    }
}

fn has_kind_and_api(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str).is_some()
        && v.get("apiVersion").and_then(Value::as_str).is_some()
}

/// The rest of an object whose `apiVersion` and `kind` were read first: straight into its
/// typed object, or skipped (a kind the suite does not use). A conversion error notes the
/// object (from its `metadata`, when that comes first, as kubectl writes it) and the field.
fn typed<'de, F: Flavor, A: MapAccess<'de>>(
    sink: &mut Snapshot<F>,
    k: &str,
    a: &str,
    first: String,
    mut map: A,
) -> std::result::Result<(), A::Error> {
    let Some(kd) = Kind::from_kind(k, a) else {
        map.next_value::<de::IgnoredAny>()?;
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        sink.skip(k.to_string());
        return Ok(());
    };
    let a = read_as_api(kd, a);
    let mut pending = vec![
        ("apiVersion".to_string(), Value::from(a)),
        ("kind".to_string(), Value::from(k)),
    ];
    let mut first = Some(first);
    let mut label = "<unnamed>".to_string();
    if first.as_deref() == Some("metadata") {
        let meta: Value = map.next_value()?;
        label = object_label(&serde_json::json!({ "metadata": &meta }));
        pending.push(("metadata".into(), meta));
        first = None;
    }
    let rest = de::value::MapAccessDeserializer::new(Prefixed {
        pending: pending.into_iter(),
        value: None,
        first,
        inner: map,
    });
    let noted = |e: serde_path_to_error::Error<A::Error>| {
        super::note_failed_object(format!("{k} {label}: {}", e.path()));
        e.into_inner()
    };
    let obj = typed_object!(
        kd,
        serde_path_to_error::deserialize(rest).map_err(noted)?,
        {
            let mut v = Value::deserialize(rest)?;
            strip_noise(&mut v);
            Object::Dynamic(kd, v)
        }
    );
    sink.push(obj);
    Ok(())
}

/// A map whose first entries (`apiVersion`, `kind`, maybe `metadata`, or the key of the next
/// entry) were already read: hands them out again, then the rest of the underlying map.
struct Prefixed<I, A> {
    pending: I,
    value: Option<Value>,
    first: Option<String>,
    inner: A,
}

impl<'de, I, A> MapAccess<'de> for Prefixed<I, A>
where
    I: Iterator<Item = (String, Value)>,
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
        match self.value.take() {
            Some(v) => seed.deserialize(v).map_err(de::Error::custom),
            None => self.inner.next_value_seed(seed),
        }
    }
}
