//! The serde Deserializer over the parser: values, maps, sequences, enums.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::borrow::Cow;

use super::*;

// ---------------------------------------------------------------------------------------------
// serde glue.

pub(super) struct De<'a, 'de> {
    pub(super) p: &'a mut Parser<'de>,
    pub(super) node: Node<'de>,
}

pub(super) fn visit_cow<'de, V: Visitor<'de>>(v: V, s: Cow<'de, str>) -> Result<V::Value> {
    match s {
        Cow::Borrowed(b) => v.visit_borrowed_str(b),
        Cow::Owned(o) => v.visit_string(o),
    }
}

impl<'a, 'de> De<'a, 'de> {
    pub(super) fn decline<T>(&self, reason: &str) -> Result<T> {
        self.p.decline(reason)
    }

    /// Consume a scalar node: (text, plain). Null counts as the empty plain scalar;
    /// collections give None (not consumed).
    pub(super) fn take_scalar(&mut self, build: bool) -> Result<Option<(Cow<'de, str>, bool)>> {
        match self.node {
            Node::Null => Ok(Some((Cow::Borrowed(""), true))),
            Node::Str(s, plain) => Ok(Some((Cow::Borrowed(s), plain))),
            Node::Scalar { bound, block_ok } => {
                self.p.parse_scalar(bound, block_ok, build).map(Some)
            }
            _ => Ok(None),
        }
    }

    pub(super) fn scalar(&mut self, what: &str) -> Result<(Cow<'de, str>, bool)> {
        match self.take_scalar(true)? {
            Some(s) => Ok(s),
            None => self.decline(what),
        }
    }

    pub(super) fn enter(&mut self) -> Result<()> {
        self.p.depth += 1;
        if self.p.depth > MAX_DEPTH {
            return self.decline("nesting too deep");
        }
        Ok(())
    }

    pub(super) fn visit_map_node<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
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

    pub(super) fn visit_seq_node<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
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

    pub(super) fn int<T: TryFrom<i128> + TryFrom<u128>>(&mut self, signed: bool) -> Result<T> {
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

    pub(super) fn is_null(&self) -> bool {
        match self.node {
            Node::Null => true,
            Node::Str(s, plain) => plain && is_nullish(s),
            _ => false,
        }
    }

    /// For a pending plain scalar, peek whether it is null-like (without consuming).
    pub(super) fn peek_null(&mut self) -> Result<bool> {
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

pub(super) struct UnitEnum<'de> {
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

pub(super) struct UnitOnly;

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

pub(super) struct MapEnum<'b, 'a, 'de> {
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

pub(super) struct MapAcc<'a, 'de> {
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

pub(super) struct SeqAcc<'a, 'de> {
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
