//! [`DepthLimited`]: a serde `Deserializer` wrapper that bounds how deeply a value nests, so a
//! hostile or damaged value cannot overflow the stack of a decoder that has no limit of its
//! own (postcard has none; a recursive model nested 10,000 deep aborted the process).
//!
//! Every step into a nested value (a sequence element, a map key or value, an `Option`'s
//! content, a newtype's content, an enum variant's content) costs one level; past the limit
//! the wrapper returns the format's own error (`Error::custom`) instead of descending.

use std::fmt;

use serde::de::{
    DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

/// The default nesting limit of the built-in codecs: serde_json's own (128 levels).
pub const MAX_DEPTH: usize = 128;

/// A deserializer that fails instead of nesting deeper than its limit.
///
/// ```
/// use cache_version_core::codec::DepthLimited;
/// use serde::Deserialize;
///
/// let mut de = serde_json::Deserializer::from_str("[[[1]]]");
/// let ok = Vec::<Vec<Vec<u8>>>::deserialize(DepthLimited::new(&mut de, 3)).unwrap();
/// assert_eq!(ok, vec![vec![vec![1]]]);
///
/// let mut de = serde_json::Deserializer::from_str("[[[1]]]");
/// let err = Vec::<Vec<Vec<u8>>>::deserialize(DepthLimited::new(&mut de, 2)).unwrap_err();
/// assert!(err.to_string().contains("nested deeper than 2 levels"));
/// ```
pub struct DepthLimited<D> {
    inner: D,
    remaining: usize,
    limit: usize,
}

impl<D> DepthLimited<D> {
    /// Wraps `inner`, allowing `limit` levels of nesting.
    pub fn new(inner: D, limit: usize) -> Self {
        DepthLimited {
            inner,
            remaining: limit,
            limit,
        }
    }
}

/// The budget passed down to nested values.
#[derive(Clone, Copy)]
struct Budget {
    remaining: usize,
    limit: usize,
}

impl Budget {
    /// One level deeper, or the error of the format `E`.
    fn descend<E: serde::de::Error>(self) -> Result<Budget, E> {
        match self.remaining.checked_sub(1) {
            Some(remaining) => Ok(Budget {
                remaining,
                limit: self.limit,
            }),
            None => Err(E::custom(format_args!(
                "the value is nested deeper than {} levels",
                self.limit
            ))),
        }
    }

    fn wrap<D>(self, inner: D) -> DepthLimited<D> {
        DepthLimited {
            inner,
            remaining: self.remaining,
            limit: self.limit,
        }
    }
}

impl<D> DepthLimited<D> {
    fn budget(&self) -> Budget {
        Budget {
            remaining: self.remaining,
            limit: self.limit,
        }
    }
}

macro_rules! forward_deserialize {
    ($($method:ident $(($($arg:ident: $ty:ty),*))?),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, $($($arg: $ty,)*)? visitor: V) -> Result<V::Value, D::Error> {
            let budget = self.budget();
            self.inner.$method($($($arg,)*)? Limit { inner: visitor, budget })
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for DepthLimited<D> {
    type Error = D::Error;

    forward_deserialize! {
        deserialize_any, deserialize_bool, deserialize_i8, deserialize_i16, deserialize_i32,
        deserialize_i64, deserialize_i128, deserialize_u8, deserialize_u16, deserialize_u32,
        deserialize_u64, deserialize_u128, deserialize_f32, deserialize_f64, deserialize_char,
        deserialize_str, deserialize_string, deserialize_bytes, deserialize_byte_buf,
        deserialize_option, deserialize_unit, deserialize_seq, deserialize_map,
        deserialize_identifier, deserialize_ignored_any,
        deserialize_unit_struct(name: &'static str),
        deserialize_newtype_struct(name: &'static str),
        deserialize_tuple(len: usize),
        deserialize_tuple_struct(name: &'static str, len: usize),
        deserialize_struct(name: &'static str, fields: &'static [&'static str]),
        deserialize_enum(name: &'static str, variants: &'static [&'static str]),
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// A visitor whose nested accesses carry the budget.
struct Limit<V> {
    inner: V,
    budget: Budget,
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        fn $method<E: serde::de::Error>(self, v: $ty) -> Result<Self::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Limit<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit! {
        visit_bool(bool), visit_i8(i8), visit_i16(i16), visit_i32(i32), visit_i64(i64),
        visit_i128(i128), visit_u8(u8), visit_u16(u16), visit_u32(u32), visit_u64(u64),
        visit_u128(u128), visit_f32(f32), visit_f64(f64), visit_char(char),
        visit_str(&str), visit_borrowed_str(&'de str), visit_string(String),
        visit_bytes(&[u8]), visit_borrowed_bytes(&'de [u8]), visit_byte_buf(Vec<u8>),
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
        let budget = self.budget.descend()?;
        self.inner.visit_some(budget.wrap(d))
    }

    fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
        let budget = self.budget.descend()?;
        self.inner.visit_newtype_struct(budget.wrap(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let budget = self.budget.descend()?;
        self.inner.visit_seq(Access { inner: seq, budget })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let budget = self.budget.descend()?;
        self.inner.visit_map(Access { inner: map, budget })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        let budget = self.budget.descend()?;
        self.inner.visit_enum(Access {
            inner: data,
            budget,
        })
    }
}

/// A sequence, map, enum or variant access whose elements carry the budget (already one
/// level down).
struct Access<A> {
    inner: A,
    budget: Budget,
}

/// A seed whose deserializer carries the budget.
struct Seed<S> {
    inner: S,
    budget: Budget,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;

    fn deserialize<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
        self.inner.deserialize(self.budget.wrap(d))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Access<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.inner.next_element_seed(Seed {
            inner: seed,
            budget: self.budget,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Access<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(Seed {
            inner: seed,
            budget: self.budget,
        })
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(Seed {
            inner: seed,
            budget: self.budget,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Access<A> {
    type Error = A::Error;
    type Variant = Access<A::Variant>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), A::Error> {
        let budget = self.budget;
        let (value, variant) = self.inner.variant_seed(Seed {
            inner: seed,
            budget,
        })?;
        Ok((
            value,
            Access {
                inner: variant,
                budget,
            },
        ))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Access<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.newtype_variant_seed(Seed {
            inner: seed,
            budget: self.budget,
        })
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.inner.tuple_variant(
            len,
            Limit {
                inner: visitor,
                budget: self.budget,
            },
        )
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.inner.struct_variant(
            fields,
            Limit {
                inner: visitor,
                budget: self.budget,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Node {
        value: u32,
        children: Vec<Node>,
    }

    fn nested_json(depth: usize) -> String {
        let mut s = String::new();
        for _ in 0..depth {
            s.push_str(r#"{"value":1,"children":["#);
        }
        for _ in 0..depth {
            s.push_str("]}");
        }
        s
    }

    #[test]
    fn limits_every_kind_of_nesting() {
        let decode = |json: &str, limit| {
            let mut de = serde_json::Deserializer::from_str(json);
            Node::deserialize(DepthLimited::new(&mut de, limit))
        };
        // Each node costs two levels (the struct, then the children sequence).
        assert!(decode(&nested_json(3), 6).is_ok());
        assert!(decode(&nested_json(3), 5).is_err());

        let opt = |json: &str, limit| {
            let mut de = serde_json::Deserializer::from_str(json);
            Option::<Option<Vec<u8>>>::deserialize(DepthLimited::new(&mut de, limit))
        };
        assert_eq!(opt("[1]", 3).unwrap(), Some(Some(vec![1])));
        assert!(opt("[1]", 2).is_err());

        #[derive(Debug, Deserialize, PartialEq)]
        enum E {
            A(Box<E>),
            B { x: Vec<u8> },
            C,
        }
        let e = |json: &str, limit| {
            let mut de = serde_json::Deserializer::from_str(json);
            E::deserialize(DepthLimited::new(&mut de, limit))
        };
        assert_eq!(
            e(r#"{"A":{"B":{"x":[1]}}}"#, 8).unwrap(),
            E::A(Box::new(E::B { x: vec![1] }))
        );
        assert!(e(r#"{"A":{"A":{"A":{"A":"C"}}}}"#, 3).is_err());
        assert_eq!(e(r#""C""#, 1).unwrap(), E::C);
    }
}
