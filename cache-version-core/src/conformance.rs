//! A conformance check: does what serde writes for a value match `T::SHAPE`?
//!
//! A derived shape says what serde's derived `Serialize` writes; a hand-written `Serialize`,
//! a `#[cache_version(as = "...")]` annotation or a manual [`CacheVersion`] impl is a claim
//! nobody checked. [`check`] checks it on real values: it records the serde data-model calls
//! a value makes ([`record`], once with `is_human_readable() == true` and once with `false`,
//! as JSON and as compact formats see it) and matches them against the shape, with the rules
//! of serde's own code generation (tags, flatten, untagged enums, the `Content` buffer of
//! internally tagged enums, …). It returns the path and the difference of the first mismatch,
//! or, when the value conforms, what it could not check: the opaque leaves (values written by
//! custom code the shape does not describe).
//!
//! Use it in a test over fixtures, ideally values read from production data:
//!
//! ```
//! use cache_version_core::{conformance, CacheVersion};
//! use serde::{Serialize, Serializer};
//!
//! /// Written as its name by a hand-written `Serialize`: the derived shape (an enum) would be
//! /// wrong, so the shape is stated on the type.
//! #[derive(CacheVersion)]
//! #[cache_version(as = "String")]
//! enum Method { Get, Post }
//!
//! impl Serialize for Method {
//!     fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
//!         s.serialize_str(match self { Method::Get => "GET", Method::Post => "POST" })
//!     }
//! }
//!
//! #[derive(Serialize, CacheVersion)]
//! struct Request { method: Method, path: String, #[serde(with = "ts")] at: u64 }
//!
//! mod ts {
//!     pub fn serialize<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
//!         s.collect_str(v)
//!     }
//! }
//!
//! // #[test] fn fixtures_conform() {
//! let fixtures = [
//!     Request { method: Method::Get, path: "/".into(), at: 1 },
//!     Request { method: Method::Post, path: "/users".into(), at: 2 },
//! ];
//! for fixture in &fixtures {
//!     let checked = conformance::check(fixture).unwrap_or_else(|m| panic!("{m}"));
//!     // `at` is written by `ts`: nothing to check it against.
//!     assert_eq!(checked.opaque_leaves, ["$.at"]);
//! }
//! // }
//! ```
//!
//! A mismatch names the path and what differs (here `Method` without the stated shape):
//!
//! ```text
//! at $.method (human-readable): expected Method `enum{Get,Post}`, serde wrote str "GET"
//! ```
//!
//! The check never compares type names (`serialize_struct("Price", ..)` against
//! `Named::name`): formats other than RON do not write them and the version ignores them.
//! Feature `conformance` (it needs `serde`).

use std::collections::BTreeSet;
use std::fmt;

use serde::ser::{self, Serializer};
use serde::Serialize;

use crate::shape::{Body, EnumRepr, Field, FieldKind, Named, Shape, Variant, VariantStyle};
use crate::CacheVersion;

// ================================================================================================
// 1. The recording serializer
// ================================================================================================

/// One observed serde data-model call (with its children).
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    /// `serialize_bool`.
    Bool(bool),
    /// `serialize_i8`.
    I8(i8),
    /// `serialize_i16`.
    I16(i16),
    /// `serialize_i32`.
    I32(i32),
    /// `serialize_i64`.
    I64(i64),
    /// `serialize_i128`.
    I128(i128),
    /// `serialize_u8`.
    U8(u8),
    /// `serialize_u16`.
    U16(u16),
    /// `serialize_u32`.
    U32(u32),
    /// `serialize_u64`.
    U64(u64),
    /// `serialize_u128`.
    U128(u128),
    /// `serialize_f32`.
    F32(f32),
    /// `serialize_f64`.
    F64(f64),
    /// `serialize_char`.
    Char(char),
    /// `serialize_str`.
    Str(String),
    /// `serialize_bytes`.
    Bytes(Vec<u8>),
    /// `serialize_none`.
    None,
    /// `serialize_some`.
    Some(Box<Observed>),
    /// `serialize_unit`.
    Unit,
    /// `serialize_unit_struct`.
    UnitStruct {
        /// The type name passed.
        name: &'static str,
    },
    /// `serialize_unit_variant`.
    UnitVariant {
        /// The type name passed.
        name: &'static str,
        /// The variant index passed.
        index: u32,
        /// The variant name passed.
        variant: &'static str,
    },
    /// `serialize_newtype_struct`.
    NewtypeStruct {
        /// The type name passed.
        name: &'static str,
        /// The content.
        value: Box<Observed>,
    },
    /// `serialize_newtype_variant`.
    NewtypeVariant {
        /// The type name passed.
        name: &'static str,
        /// The variant index passed.
        index: u32,
        /// The variant name passed.
        variant: &'static str,
        /// The content.
        value: Box<Observed>,
    },
    /// `serialize_seq` and its elements.
    Seq {
        /// The length passed.
        len: Option<usize>,
        /// The elements, in order.
        elems: Vec<Observed>,
    },
    /// `serialize_tuple` and its elements.
    Tuple {
        /// The length passed.
        len: usize,
        /// The elements, in order.
        elems: Vec<Observed>,
    },
    /// `serialize_tuple_struct` and its fields.
    TupleStruct {
        /// The type name passed.
        name: &'static str,
        /// The length passed.
        len: usize,
        /// The elements, in order.
        elems: Vec<Observed>,
    },
    /// `serialize_tuple_variant` and its fields.
    TupleVariant {
        /// The type name passed.
        name: &'static str,
        /// The variant index passed.
        index: u32,
        /// The variant name passed.
        variant: &'static str,
        /// The length passed.
        len: usize,
        /// The elements, in order.
        elems: Vec<Observed>,
    },
    /// `serialize_map` and its entries.
    Map {
        /// The length passed.
        len: Option<usize>,
        /// The entries, in order.
        entries: Vec<(Observed, Observed)>,
    },
    /// `serialize_struct` and its fields.
    Struct {
        /// The type name passed.
        name: &'static str,
        /// The length passed.
        len: usize,
        /// The fields, in order.
        fields: Vec<(&'static str, Observed)>,
    },
    /// `serialize_struct_variant` and its fields.
    StructVariant {
        /// The type name passed.
        name: &'static str,
        /// The variant index passed.
        index: u32,
        /// The variant name passed.
        variant: &'static str,
        /// The length passed.
        len: usize,
        /// The fields, in order.
        fields: Vec<(&'static str, Observed)>,
    },
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<T>(
            f: &mut fmt::Formatter<'_>,
            open: &str,
            items: &[T],
            close: &str,
            each: impl Fn(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
        ) -> fmt::Result {
            f.write_str(open)?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                each(f, item)?;
            }
            f.write_str(close)
        }
        let kv =
            |f: &mut fmt::Formatter<'_>, (k, v): &(&'static str, Observed)| write!(f, "{k}: {v}");
        let el = |f: &mut fmt::Formatter<'_>, v: &Observed| write!(f, "{v}");
        match self {
            Observed::Bool(v) => write!(f, "bool {v}"),
            Observed::I8(v) => write!(f, "i8 {v}"),
            Observed::I16(v) => write!(f, "i16 {v}"),
            Observed::I32(v) => write!(f, "i32 {v}"),
            Observed::I64(v) => write!(f, "i64 {v}"),
            Observed::I128(v) => write!(f, "i128 {v}"),
            Observed::U8(v) => write!(f, "u8 {v}"),
            Observed::U16(v) => write!(f, "u16 {v}"),
            Observed::U32(v) => write!(f, "u32 {v}"),
            Observed::U64(v) => write!(f, "u64 {v}"),
            Observed::U128(v) => write!(f, "u128 {v}"),
            Observed::F32(v) => write!(f, "f32 {v}"),
            Observed::F64(v) => write!(f, "f64 {v}"),
            Observed::Char(v) => write!(f, "char {v:?}"),
            Observed::Str(v) => write!(f, "str {v:?}"),
            Observed::Bytes(v) => write!(f, "bytes {v:?}"),
            Observed::None => f.write_str("none"),
            Observed::Some(v) => write!(f, "some({v})"),
            Observed::Unit => f.write_str("unit"),
            Observed::UnitStruct { name } => write!(f, "unit_struct {name}"),
            Observed::UnitVariant {
                name,
                index,
                variant,
            } => write!(f, "unit_variant {name}::{variant}#{index}"),
            Observed::NewtypeStruct { name, value } => write!(f, "newtype_struct {name}({value})"),
            Observed::NewtypeVariant {
                name,
                index,
                variant,
                value,
            } => write!(f, "newtype_variant {name}::{variant}#{index}({value})"),
            Observed::Seq { elems, .. } => list(f, "seq[", elems, "]", el),
            Observed::Tuple { elems, .. } => list(f, "tuple(", elems, ")", el),
            Observed::TupleStruct { name, elems, .. } => {
                list(f, &format!("tuple_struct {name}("), elems, ")", el)
            }
            Observed::TupleVariant {
                name,
                index,
                variant,
                elems,
                ..
            } => list(
                f,
                &format!("tuple_variant {name}::{variant}#{index}("),
                elems,
                ")",
                el,
            ),
            Observed::Map { entries, .. } => {
                list(f, "map{", entries, "}", |f, (k, v)| write!(f, "{k} => {v}"))
            }
            Observed::Struct { name, fields, .. } => {
                list(f, &format!("struct {name}{{"), fields, "}", kv)
            }
            Observed::StructVariant {
                name,
                index,
                variant,
                fields,
                ..
            } => list(
                f,
                &format!("struct_variant {name}::{variant}#{index}{{"),
                fields,
                "}",
                kv,
            ),
        }
    }
}

/// The observed tree, cut short for messages.
fn short(obs: &Observed) -> String {
    let s = obs.to_string();
    if s.chars().count() > 240 {
        format!("{}…", s.chars().take(240).collect::<String>())
    } else {
        s
    }
}

/// Serializing the value failed (its `Serialize` returned an error).
#[derive(Debug)]
pub struct RecordError(String);

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RecordError {}

impl ser::Error for RecordError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        RecordError(msg.to_string())
    }
}

/// The recording serializer: a `serde::Serializer` whose output is the [`Observed`] tree of the
/// calls it received.
#[derive(Clone, Copy, Debug)]
pub struct Recorder {
    /// What `is_human_readable()` answers.
    pub human: bool,
}

/// Records what serde writes for `value`, with `is_human_readable()` answering `human`.
///
/// ```
/// use cache_version_core::conformance::{record, Observed};
///
/// assert_eq!(record(&Some(3u8), true).unwrap(), Observed::Some(Box::new(Observed::U8(3))));
/// ```
///
/// # Errors
///
/// The value's `Serialize` failed.
pub fn record<T: Serialize + ?Sized>(value: &T, human: bool) -> Result<Observed, RecordError> {
    value.serialize(Recorder { human })
}

/// A compound being recorded (seq, tuple, map, struct, and their variants): the
/// `SerializeSeq`, `SerializeMap`, … of [`Recorder`].
#[derive(Debug)]
pub struct Compound {
    human: bool,
    node: Observed,
    key: Option<Observed>,
}

impl Compound {
    fn rec<T: Serialize + ?Sized>(&self, v: &T) -> Result<Observed, RecordError> {
        v.serialize(Recorder { human: self.human })
    }

    fn push(&mut self, v: Observed) {
        match &mut self.node {
            Observed::Seq { elems, .. }
            | Observed::Tuple { elems, .. }
            | Observed::TupleStruct { elems, .. }
            | Observed::TupleVariant { elems, .. } => elems.push(v),
            _ => unreachable!("elements pushed into a non-sequence"),
        }
    }

    fn field(&mut self, k: &'static str, v: Observed) {
        match &mut self.node {
            Observed::Struct { fields, .. } | Observed::StructVariant { fields, .. } => {
                fields.push((k, v))
            }
            _ => unreachable!("fields pushed into a non-struct"),
        }
    }
}

macro_rules! prim {
    ($($method:ident($ty:ty) => $obs:ident),* $(,)?) => {
        $(fn $method(self, v: $ty) -> Result<Observed, RecordError> { Ok(Observed::$obs(v)) })*
    };
}

impl Recorder {
    fn open(self, node: Observed) -> Result<Compound, RecordError> {
        Ok(Compound {
            human: self.human,
            node,
            key: None,
        })
    }
}

impl Serializer for Recorder {
    type Ok = Observed;
    type Error = RecordError;
    type SerializeSeq = Compound;
    type SerializeTuple = Compound;
    type SerializeTupleStruct = Compound;
    type SerializeTupleVariant = Compound;
    type SerializeMap = Compound;
    type SerializeStruct = Compound;
    type SerializeStructVariant = Compound;

    prim! {
        serialize_bool(bool) => Bool, serialize_i8(i8) => I8, serialize_i16(i16) => I16,
        serialize_i32(i32) => I32, serialize_i64(i64) => I64, serialize_i128(i128) => I128,
        serialize_u8(u8) => U8, serialize_u16(u16) => U16, serialize_u32(u32) => U32,
        serialize_u64(u64) => U64, serialize_u128(u128) => U128, serialize_f32(f32) => F32,
        serialize_f64(f64) => F64, serialize_char(char) => Char,
    }

    fn serialize_str(self, v: &str) -> Result<Observed, RecordError> {
        Ok(Observed::Str(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Observed, RecordError> {
        Ok(Observed::Bytes(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Observed, RecordError> {
        Ok(Observed::None)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<Observed, RecordError> {
        Ok(Observed::Some(Box::new(v.serialize(self)?)))
    }
    fn serialize_unit(self) -> Result<Observed, RecordError> {
        Ok(Observed::Unit)
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<Observed, RecordError> {
        Ok(Observed::UnitStruct { name })
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<Observed, RecordError> {
        Ok(Observed::UnitVariant {
            name,
            index,
            variant,
        })
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<Observed, RecordError> {
        let value = Box::new(v.serialize(self)?);
        Ok(Observed::NewtypeStruct { name, value })
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<Observed, RecordError> {
        let value = Box::new(v.serialize(self)?);
        Ok(Observed::NewtypeVariant {
            name,
            index,
            variant,
            value,
        })
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound, RecordError> {
        self.open(Observed::Seq { len, elems: vec![] })
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound, RecordError> {
        self.open(Observed::Tuple { len, elems: vec![] })
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Compound, RecordError> {
        self.open(Observed::TupleStruct {
            name,
            len,
            elems: vec![],
        })
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound, RecordError> {
        self.open(Observed::TupleVariant {
            name,
            index,
            variant,
            len,
            elems: vec![],
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Compound, RecordError> {
        self.open(Observed::Map {
            len,
            entries: vec![],
        })
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Compound, RecordError> {
        self.open(Observed::Struct {
            name,
            len,
            fields: vec![],
        })
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound, RecordError> {
        self.open(Observed::StructVariant {
            name,
            index,
            variant,
            len,
            fields: vec![],
        })
    }
    fn is_human_readable(&self) -> bool {
        self.human
    }
}

macro_rules! elements {
    ($($tr:ident::$method:ident),*) => {$(
        impl ser::$tr for Compound {
            type Ok = Observed;
            type Error = RecordError;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), RecordError> {
                let o = self.rec(v)?;
                self.push(o);
                Ok(())
            }
            fn end(self) -> Result<Observed, RecordError> {
                Ok(self.node)
            }
        }
    )*};
}
elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

macro_rules! fields {
    ($($tr:ident),*) => {$(
        impl ser::$tr for Compound {
            type Ok = Observed;
            type Error = RecordError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                k: &'static str,
                v: &T,
            ) -> Result<(), RecordError> {
                let o = self.rec(v)?;
                self.field(k, o);
                Ok(())
            }
            fn end(self) -> Result<Observed, RecordError> {
                Ok(self.node)
            }
        }
    )*};
}
fields!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Compound {
    type Ok = Observed;
    type Error = RecordError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), RecordError> {
        assert!(self.key.is_none(), "two keys in a row");
        self.key = Some(self.rec(k)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), RecordError> {
        let k = self.key.take().expect("a value without a key");
        let v = self.rec(v)?;
        match &mut self.node {
            Observed::Map { entries, .. } => entries.push((k, v)),
            _ => unreachable!(),
        }
        Ok(())
    }
    fn end(self) -> Result<Observed, RecordError> {
        assert!(self.key.is_none(), "a key without a value");
        Ok(self.node)
    }
}

// ================================================================================================
// 2. The checker
// ================================================================================================

/// What [`check`] could not check in a value that conforms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Conformance {
    /// The paths of the opaque leaves met (values written by custom code, `with` or an
    /// `opaque` field, which the shape does not describe), in both modes, each once. A
    /// flattened field or an untagged enum is matched by trying alternatives; a leaf met only
    /// in an alternative that did not match may be listed too.
    pub opaque_leaves: Vec<String>,
}

impl Conformance {
    /// How many opaque leaves the check could not look into.
    pub fn opaque_count(&self) -> usize {
        self.opaque_leaves.len()
    }
}

/// The first difference between what serde wrote and the shape.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mismatch {
    /// Where: `$` is the value, `.name` a field, `[i]` an element, `?` the content of an
    /// option, `::Variant` an enum's variant (the innermost path the checker reached).
    pub path: String,
    /// What differs: the shape's expectation and what serde wrote there.
    pub difference: String,
    /// Whether the serializer was human-readable (`is_human_readable()`, as JSON) or compact
    /// (as bincode or postcard): some types write differently.
    pub human_readable: bool,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = if self.human_readable {
            "human-readable"
        } else {
            "compact"
        };
        let difference = self
            .difference
            .strip_prefix(&format!("at {}: ", self.path))
            .unwrap_or(&self.difference);
        write!(f, "at {} ({mode}): {difference}", self.path)
    }
}

impl std::error::Error for Mismatch {}

/// Checks `value` against `T::SHAPE` in both modes (see the [module docs](self)).
///
/// # Errors
///
/// The first [`Mismatch`], or serializing `value` failed (reported as a mismatch at `$`).
pub fn check<T: Serialize + CacheVersion + ?Sized>(value: &T) -> Result<Conformance, Mismatch> {
    check_shape(value, T::SHAPE)
}

/// Checks `value` against `shape` in both modes: for a value serialized as another type (a
/// proxy, or what an `as` annotation states: `check_shape(&v, <Stated as CacheVersion>::SHAPE)`).
///
/// # Errors
///
/// The first [`Mismatch`].
pub fn check_shape<V: Serialize + ?Sized>(
    value: &V,
    shape: &Shape,
) -> Result<Conformance, Mismatch> {
    let mut opaque = BTreeSet::new();
    for human_readable in [true, false] {
        let obs = record(value, human_readable).map_err(|e| Mismatch {
            path: "$".into(),
            difference: format!("serializing failed: {e}"),
            human_readable,
        })?;
        OPAQUE.with(|o| *o.borrow_mut() = Some(BTreeSet::new()));
        let result = conforms(&obs, shape, human_readable);
        let seen = OPAQUE.with(|o| o.borrow_mut().take()).unwrap_or_default();
        result.map_err(|difference| Mismatch {
            path: innermost_path(&difference),
            difference,
            human_readable,
        })?;
        opaque.extend(seen);
    }
    Ok(Conformance {
        opaque_leaves: opaque.into_iter().collect(),
    })
}

/// The last `at <path>:` of a message: the checker nests the furthest failure it reached.
fn innermost_path(message: &str) -> String {
    message
        .rmatch_indices("at $")
        .next()
        .and_then(|(i, _)| {
            let rest = &message[i + 3..];
            rest.find(": ").map(|end| rest[..end].to_owned())
        })
        .unwrap_or_else(|| "$".to_owned())
}

thread_local! {
    /// The opaque leaves met by the check running on this thread.
    static OPAQUE: std::cell::RefCell<Option<BTreeSet<String>>> = const { std::cell::RefCell::new(None) };
}

fn note_opaque(path: &str) {
    OPAQUE.with(|o| {
        if let Some(set) = o.borrow_mut().as_mut() {
            set.insert(path.to_owned());
        }
    });
}

/// Checks that `obs` (what serde wrote in the mode `human_readable`) is one of the values
/// `shape` describes; the error is the first difference, with its path (`at $.field: …`).
///
/// # Errors
///
/// The difference, as text.
pub fn conforms(obs: &Observed, shape: &Shape, human_readable: bool) -> Result<(), String> {
    let cx = Cx {
        human: human_readable,
        this: None,
    };
    check_value(obs, shape, cx, "$")
}

#[derive(Clone, Copy)]
struct Cx {
    /// `is_human_readable()` of the serializer at this point.
    human: bool,
    /// The innermost enclosing named shape (what `Shape::SelfRef` means).
    this: Option<&'static Named>,
}

impl Cx {
    fn enter(self, n: &'static Named) -> Cx {
        Cx {
            this: Some(n),
            ..self
        }
    }

    /// Inside serde's `Content` buffer (tuple and struct variants behind an internal tag or a
    /// flatten): `ContentSerializer` keeps the default `is_human_readable() == true`.
    fn buffered(self) -> Cx {
        Cx {
            human: true,
            ..self
        }
    }
}

/// A shape with the nodes that write nothing of their own resolved.
enum Resolved<'a> {
    /// `Opaque`: custom code, anything goes.
    Any,
    Leaf(&'a Shape),
    Named(&'static Named),
}

fn resolve<'a>(mut shape: &'a Shape, cx: Cx) -> Result<Resolved<'a>, String> {
    loop {
        shape = match shape {
            Shape::Readable { human, compact } => {
                if cx.human {
                    human.shape()
                } else {
                    compact.shape()
                }
            }
            Shape::Proxy { write, .. } => write.shape(),
            Shape::Opaque(_) => return Ok(Resolved::Any),
            Shape::SelfRef => {
                return cx
                    .this
                    .map(Resolved::Named)
                    .ok_or_else(|| "`self` outside of any named shape".to_string())
            }
            Shape::Named(n) => return Ok(Resolved::Named(n)),
            other => return Ok(Resolved::Leaf(other)),
        };
    }
}

fn at(path: &str, msg: impl fmt::Display) -> String {
    format!("at {path}: {msg}")
}

fn mismatch(path: &str, expected: impl fmt::Display, obs: &Observed) -> String {
    at(
        path,
        format!("expected {expected}, serde wrote {}", short(obs)),
    )
}

fn len_eq(path: &str, declared: usize, actual: usize) -> Result<(), String> {
    if declared == actual {
        Ok(())
    } else {
        Err(at(
            path,
            format!("declared length {declared} but {actual} items were written"),
        ))
    }
}

fn len_opt(path: &str, declared: Option<usize>, actual: usize) -> Result<(), String> {
    declared.map_or(Ok(()), |d| len_eq(path, d, actual))
}

fn check_value(obs: &Observed, shape: &Shape, cx: Cx, path: &str) -> Result<(), String> {
    let s = match resolve(shape, cx).map_err(|e| at(path, e))? {
        Resolved::Any => {
            note_opaque(path);
            return Ok(());
        }
        Resolved::Named(n) => return check_named(obs, n, cx.enter(n), path),
        Resolved::Leaf(s) => s,
    };
    match (s, obs) {
        (Shape::Bool, Observed::Bool(_))
        | (Shape::I8, Observed::I8(_))
        | (Shape::I16, Observed::I16(_))
        | (Shape::I32, Observed::I32(_))
        | (Shape::I64, Observed::I64(_))
        | (Shape::I128, Observed::I128(_))
        | (Shape::U8, Observed::U8(_))
        | (Shape::U16, Observed::U16(_))
        | (Shape::U32, Observed::U32(_))
        | (Shape::U64, Observed::U64(_))
        | (Shape::U128, Observed::U128(_))
        | (Shape::F32, Observed::F32(_))
        | (Shape::F64, Observed::F64(_))
        | (Shape::Char, Observed::Char(_))
        | (Shape::Str, Observed::Str(_))
        | (Shape::Bytes, Observed::Bytes(_))
        | (Shape::Unit, Observed::Unit)
        | (Shape::Option(_), Observed::None) => Ok(()),
        (Shape::Option(t), Observed::Some(v)) => check_value(v, t.shape(), cx, &format!("{path}?")),
        (Shape::Seq(t), Observed::Seq { len, elems }) => {
            len_opt(path, *len, elems.len())?;
            for (i, e) in elems.iter().enumerate() {
                check_value(e, t.shape(), cx, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Shape::Map(k, v), Observed::Map { len, entries }) => {
            len_opt(path, *len, entries.len())?;
            for (i, (ko, vo)) in entries.iter().enumerate() {
                check_value(ko, k.shape(), cx, &format!("{path}.<key {i}>"))?;
                check_value(vo, v.shape(), cx, &format!("{path}[{}]", short(ko)))?;
            }
            Ok(())
        }
        (Shape::Tuple(tys), Observed::Tuple { len, elems }) => {
            len_eq(path, tys.len(), *len)?;
            len_eq(path, tys.len(), elems.len())?;
            for (i, (t, e)) in tys.iter().zip(elems).enumerate() {
                check_value(e, t.shape(), cx, &format!("{path}.{i}"))?;
            }
            Ok(())
        }
        (Shape::Array(t, n), Observed::Tuple { len, elems }) => {
            len_eq(path, *n, *len)?;
            len_eq(path, *n, elems.len())?;
            for (i, e) in elems.iter().enumerate() {
                check_value(e, t.shape(), cx, &format!("{path}.{i}"))?;
            }
            Ok(())
        }
        _ => Err(mismatch(path, s, obs)),
    }
}

fn check_named(obs: &Observed, n: &'static Named, cx: Cx, path: &str) -> Result<(), String> {
    let expected = || format!("{} `{}`", n.name, Shape::Named(n));
    match (&n.body, obs) {
        (Body::UnitStruct, Observed::UnitStruct { .. }) => Ok(()),
        (Body::NewtypeStruct(t), Observed::NewtypeStruct { value, .. }) => {
            check_value(value, t.shape(), cx, &format!("{path}.0"))
        }
        (Body::TupleStruct(fields), Observed::TupleStruct { len, elems, .. }) => {
            len_eq(path, *len, elems.len())?;
            check_elems(elems, fields, cx, path)
        }
        (Body::Struct { tag, fields }, _) => {
            let tag = tag.as_ref().map(|t| (t.tag, TagVal::Str(t.name)));
            check_fields(obs, &items(tag, fields), has_flatten(fields), cx, path)
                .map_err(|e| format!("{e}\n  (in {})", expected()))
        }
        (Body::Enum { repr, variants }, _) => check_enum(obs, n, *repr, variants, cx, path),
        _ => Err(mismatch(path, expected(), obs)),
    }
}

// ---- fields (structs, struct variants, flatten) ------------------------------------------------

/// The value of a tag entry.
#[derive(Clone, Copy, Debug)]
enum TagVal {
    /// Internal tags and struct tags: `serialize_str(name)`.
    Str(&'static str),
    /// Adjacent tags: `serialize_unit_variant(enum, index, name)`.
    Variant(u32, &'static str),
}

impl TagVal {
    fn matches(self, obs: &Observed) -> bool {
        match (self, obs) {
            (TagVal::Str(s), Observed::Str(o)) => s == o,
            (TagVal::Variant(i, v), Observed::UnitVariant { index, variant, .. }) => {
                i == *index && v == *variant
            }
            _ => false,
        }
    }
}

/// One expected map/struct entry.
#[derive(Clone, Copy)]
enum Item {
    Tag(&'static str, TagVal),
    Field(&'static Field),
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Tag(k, v) => write!(f, "{k:?}={v:?}"),
            Item::Field(fl) => match fl.kind {
                FieldKind::Always => write!(f, "{:?}", fl.name),
                FieldKind::MaybeAbsent => write!(f, "{:?}?", fl.name),
                FieldKind::Flatten => write!(f, "..{}", fl.ty.shape()),
                FieldKind::FlattenMaybeAbsent => write!(f, "..?{}", fl.ty.shape()),
            },
        }
    }
}

fn items(tag: Option<(&'static str, TagVal)>, fields: &'static [Field]) -> Vec<Item> {
    tag.map(|(k, v)| Item::Tag(k, v))
        .into_iter()
        .chain(fields.iter().map(Item::Field))
        .collect()
}

fn has_flatten(fields: &[Field]) -> bool {
    fields
        .iter()
        .any(|f| matches!(f.kind, FieldKind::Flatten | FieldKind::FlattenMaybeAbsent))
}

/// The furthest failure seen while backtracking (the most useful message).
#[derive(Default)]
struct Fail {
    pos: usize,
    msg: Option<String>,
}

impl Fail {
    fn note(&mut self, pos: usize, msg: impl Into<String>) {
        if self.msg.is_none() || pos >= self.pos {
            self.pos = pos;
            self.msg = Some(msg.into());
        }
    }
}

fn struct_entries(fields: &[(&'static str, Observed)]) -> Vec<(Observed, Observed)> {
    fields
        .iter()
        .map(|(k, v)| (Observed::Str((*k).to_owned()), v.clone()))
        .collect()
}

/// Checks the fields of a struct-like value: written with `serialize_map` when a field is
/// flattened, with `serialize_struct` otherwise.
fn check_fields(
    obs: &Observed,
    items: &[Item],
    as_map: bool,
    cx: Cx,
    path: &str,
) -> Result<(), String> {
    let entries = match (as_map, obs) {
        (true, Observed::Map { len, entries }) => {
            len_opt(path, *len, entries.len())?;
            entries.clone()
        }
        (false, Observed::Struct { len, fields, .. }) => {
            len_eq(path, *len, fields.len())?;
            struct_entries(fields)
        }
        _ => {
            let how = if as_map {
                "serialize_map (a flattened field)"
            } else {
                "serialize_struct"
            };
            return Err(mismatch(path, format!("{how} of [{}]", list(items)), obs));
        }
    };
    match_all(&entries, items, cx, path)
}

fn list(items: &[Item]) -> String {
    items
        .iter()
        .map(Item::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn match_all(
    entries: &[(Observed, Observed)],
    items: &[Item],
    cx: Cx,
    path: &str,
) -> Result<(), String> {
    let mut fail = Fail::default();
    let ends = match_items(entries, 0, items, cx, path, &mut fail);
    if ends.contains(&entries.len()) {
        return Ok(());
    }
    let keys: Vec<String> = entries.iter().map(|(k, _)| short(k)).collect();
    let detail = match fail.msg {
        Some(m) => format!("\n  furthest failure (entry {}): {m}", fail.pos),
        None => String::new(),
    };
    Err(at(
        path,
        format!(
            "serde wrote the entries [{}], the shape has [{}]{detail}",
            keys.join(", "),
            list(items)
        ),
    ))
}

/// Every position in `entries` where matching `items` from `pos` can end.
fn match_items(
    entries: &[(Observed, Observed)],
    pos: usize,
    items: &[Item],
    cx: Cx,
    path: &str,
    fail: &mut Fail,
) -> Vec<usize> {
    let Some((item, rest)) = items.split_first() else {
        if pos < entries.len() {
            fail.note(pos, format!("unexpected entry {}", short(&entries[pos].0)));
        }
        return vec![pos];
    };
    let mut out = Vec::new();
    match item {
        Item::Tag(key, val) => match entries.get(pos) {
            Some((Observed::Str(k), v)) if k == key && val.matches(v) => {
                out.extend(match_items(entries, pos + 1, rest, cx, path, fail))
            }
            Some((k, v)) => fail.note(
                pos,
                format!(
                    "expected tag {key:?} = {val:?}, found {} => {}",
                    short(k),
                    short(v)
                ),
            ),
            None => fail.note(pos, format!("missing tag {key:?}")),
        },
        Item::Field(f) => {
            let fpath = format!("{path}.{}", f.name);
            match f.kind {
                FieldKind::Always | FieldKind::MaybeAbsent => {
                    match entries.get(pos) {
                        Some((Observed::Str(k), v)) if k == f.name => {
                            match check_value(v, f.ty.shape(), cx, &fpath) {
                                Ok(()) => {
                                    out.extend(match_items(entries, pos + 1, rest, cx, path, fail))
                                }
                                Err(e) => fail.note(pos, e),
                            }
                        }
                        Some((k, _)) => fail.note(
                            pos,
                            format!("expected field {:?}, found key {}", f.name, short(k)),
                        ),
                        None => fail.note(pos, format!("missing field {:?}", f.name)),
                    }
                    if f.kind == FieldKind::MaybeAbsent {
                        out.extend(match_items(entries, pos, rest, cx, path, fail));
                    }
                }
                FieldKind::Flatten | FieldKind::FlattenMaybeAbsent => {
                    let fpath = format!("{path}.(flatten {})", f.name);
                    for end in flat(entries, pos, f.ty.shape(), cx, &fpath, false, fail) {
                        out.extend(match_items(entries, end, rest, cx, path, fail));
                    }
                    if f.kind == FieldKind::FlattenMaybeAbsent {
                        out.extend(match_items(entries, pos, rest, cx, path, fail));
                    }
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A single entry `key => value` at `pos`, the value checked by `value`.
fn one_entry(
    entries: &[(Observed, Observed)],
    pos: usize,
    key: &str,
    fail: &mut Fail,
    value: impl FnOnce(&Observed) -> Result<(), String>,
) -> Vec<usize> {
    match entries.get(pos) {
        Some((Observed::Str(k), v)) if k == key => match value(v) {
            Ok(()) => vec![pos + 1],
            Err(e) => {
                fail.note(pos, e);
                vec![]
            }
        },
        Some((k, _)) => {
            fail.note(pos, format!("expected entry {key:?}, found {}", short(k)));
            vec![]
        }
        None => {
            fail.note(pos, format!("missing entry {key:?}"));
            vec![]
        }
    }
}

/// What a value of `shape` writes through serde's `FlatMapSerializer` (a `#[serde(flatten)]`
/// field): entries of the enclosing map. Returns every position where those entries can end.
/// `via_tagged`: the value goes through a `TaggedSerializer` first (an internally tagged
/// newtype variant that is itself flattened).
fn flat(
    entries: &[(Observed, Observed)],
    pos: usize,
    shape: &Shape,
    cx: Cx,
    path: &str,
    via_tagged: bool,
    fail: &mut Fail,
) -> Vec<usize> {
    let node = match resolve(shape, cx) {
        Ok(node) => node,
        Err(e) => {
            fail.note(pos, at(path, e));
            return vec![];
        }
    };
    match node {
        Resolved::Any => {
            note_opaque(path);
            (pos..=entries.len()).collect()
        }
        Resolved::Leaf(Shape::Map(k, v)) => {
            let mut out = vec![pos];
            let mut p = pos;
            while let Some((ko, vo)) = entries.get(p) {
                let kv = check_value(ko, k.shape(), cx, path)
                    .and_then(|()| check_value(vo, v.shape(), cx, path));
                if let Err(e) = kv {
                    fail.note(p, e);
                    break;
                }
                p += 1;
                out.push(p);
            }
            out
        }
        // `FlatMapSerializer::serialize_none`/`serialize_some`/`serialize_unit`.
        Resolved::Leaf(Shape::Option(t)) => {
            let mut out = vec![pos];
            out.extend(flat(entries, pos, t.shape(), cx, path, via_tagged, fail));
            out.sort_unstable();
            out.dedup();
            out
        }
        Resolved::Leaf(Shape::Unit) => vec![pos],
        Resolved::Leaf(other) => {
            fail.note(pos, at(path, format!("serde cannot flatten `{other}`")));
            vec![]
        }
        Resolved::Named(n) => {
            let cx = cx.enter(n);
            match &n.body {
                Body::UnitStruct => vec![pos],
                Body::NewtypeStruct(t) => flat(entries, pos, t.shape(), cx, path, via_tagged, fail),
                Body::TupleStruct(_) => {
                    fail.note(pos, at(path, "serde cannot flatten a tuple struct"));
                    vec![]
                }
                Body::Struct { tag, fields } => {
                    let tag = tag.as_ref().map(|t| (t.tag, TagVal::Str(t.name)));
                    match_items(entries, pos, &items(tag, fields), cx, path, fail)
                }
                Body::Enum { repr, variants } => {
                    let mut out = Vec::new();
                    for (i, v) in variants.iter().enumerate() {
                        out.extend(flat_variant(
                            entries, pos, *repr, i as u32, v, cx, path, via_tagged, fail,
                        ));
                    }
                    out.sort_unstable();
                    out.dedup();
                    out
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn flat_variant(
    entries: &[(Observed, Observed)],
    pos: usize,
    repr: EnumRepr,
    index: u32,
    v: &'static Variant,
    cx: Cx,
    path: &str,
    via_tagged: bool,
    fail: &mut Fail,
) -> Vec<usize> {
    let vpath = format!("{path}::{}", v.name);
    let fields = v.fields;
    if v.style == VariantStyle::Skipped {
        return vec![];
    }
    if v.untagged || matches!(repr, EnumRepr::Untagged) {
        return match v.style {
            VariantStyle::Unit => vec![pos],
            VariantStyle::Newtype => flat(
                entries,
                pos,
                fields[0].ty.shape(),
                cx,
                &vpath,
                via_tagged,
                fail,
            ),
            VariantStyle::Struct => {
                match_items(entries, pos, &items(None, fields), cx, &vpath, fail)
            }
            _ => vec![],
        };
    }
    match repr {
        EnumRepr::External => one_entry(entries, pos, v.name, fail, |value| match v.style {
            VariantStyle::Unit => match value {
                Observed::Unit => Ok(()),
                o => Err(mismatch(&vpath, "unit", o)),
            },
            VariantStyle::Newtype => check_value(value, fields[0].ty.shape(), cx, &vpath),
            // Buffered as `Content::Seq` (or `Content::TupleStruct` behind a `TaggedSerializer`).
            VariantStyle::Tuple => match (via_tagged, value) {
                (false, Observed::Seq { len, elems }) => {
                    len_opt(&vpath, *len, elems.len())?;
                    check_elems(elems, fields, cx.buffered(), &vpath)
                }
                (true, Observed::TupleStruct { len, elems, .. }) => {
                    len_eq(&vpath, *len, elems.len())?;
                    check_elems(elems, fields, cx.buffered(), &vpath)
                }
                (_, o) => Err(mismatch(&vpath, "the buffered tuple variant's fields", o)),
            },
            VariantStyle::Struct if has_flatten(fields) => {
                check_fields(value, &items(None, fields), true, cx, &vpath)
            }
            VariantStyle::Struct => {
                check_fields(value, &items(None, fields), false, cx.buffered(), &vpath)
            }
            VariantStyle::Skipped => unreachable!(),
        }),
        EnumRepr::Internal { tag } => {
            let tag_item = (tag, TagVal::Str(v.name));
            match v.style {
                VariantStyle::Unit => {
                    match_items(entries, pos, &items(Some(tag_item), &[]), cx, &vpath, fail)
                }
                VariantStyle::Struct => match_items(
                    entries,
                    pos,
                    &items(Some(tag_item), fields),
                    cx,
                    &vpath,
                    fail,
                ),
                VariantStyle::Newtype => {
                    let mut out = Vec::new();
                    let first =
                        match_items(entries, pos, &items(Some(tag_item), &[]), cx, &vpath, fail);
                    for p in first {
                        out.extend(flat(
                            entries,
                            p,
                            fields[0].ty.shape(),
                            cx,
                            &vpath,
                            true,
                            fail,
                        ));
                    }
                    out
                }
                _ => vec![],
            }
        }
        EnumRepr::Adjacent { tag, content } => {
            let tag_item = Item::Tag(tag, TagVal::Variant(index, v.name));
            let mut out = Vec::new();
            for p in match_items(entries, pos, &[tag_item], cx, &vpath, fail) {
                if v.style == VariantStyle::Unit {
                    out.push(p);
                } else {
                    out.extend(one_entry(entries, p, content, fail, |c| {
                        check_variant_content(c, v, cx, &vpath)
                    }));
                }
            }
            out
        }
        EnumRepr::Untagged => unreachable!(),
    }
}

// ---- positional fields (tuple structs, tuple variants) ----------------------------------------

fn check_elems(
    elems: &[Observed],
    fields: &'static [Field],
    cx: Cx,
    path: &str,
) -> Result<(), String> {
    let mut fail = Fail::default();
    if elems_match(elems, 0, fields, 0, cx, path, &mut fail) {
        Ok(())
    } else {
        Err(at(
            path,
            format!(
                "{} elements do not match {} fields: {}",
                elems.len(),
                fields.len(),
                fail.msg.unwrap_or_default()
            ),
        ))
    }
}

fn elems_match(
    elems: &[Observed],
    ei: usize,
    fields: &'static [Field],
    fi: usize,
    cx: Cx,
    path: &str,
    fail: &mut Fail,
) -> bool {
    let Some(f) = fields.get(fi) else {
        if ei < elems.len() {
            fail.note(ei, format!("unexpected element {}", short(&elems[ei])));
        }
        return ei == elems.len();
    };
    if let Some(e) = elems.get(ei) {
        match check_value(e, f.ty.shape(), cx, &format!("{path}.{fi}")) {
            Ok(()) if elems_match(elems, ei + 1, fields, fi + 1, cx, path, fail) => return true,
            Ok(()) => {}
            Err(msg) => fail.note(ei, msg),
        }
    } else {
        fail.note(ei, format!("missing element {fi}"));
    }
    f.kind == FieldKind::MaybeAbsent && elems_match(elems, ei, fields, fi + 1, cx, path, fail)
}

// ---- enums ------------------------------------------------------------------------------------

fn check_enum(
    obs: &Observed,
    n: &'static Named,
    repr: EnumRepr,
    variants: &'static [Variant],
    cx: Cx,
    path: &str,
) -> Result<(), String> {
    let mut errors = Vec::new();
    for (i, v) in variants.iter().enumerate() {
        if v.style == VariantStyle::Skipped {
            continue;
        }
        match check_variant(obs, repr, i as u32, v, cx, path) {
            Ok(()) => return Ok(()),
            Err(e) => errors.push(format!("    {}: {e}", v.name)),
        }
    }
    Err(at(
        path,
        format!(
            "{} matches no variant of {} `{}`:\n{}",
            short(obs),
            n.name,
            Shape::Named(n),
            errors.join("\n")
        ),
    ))
}

fn variant_id(path: &str, index: u32, variant: &str, i: u32, v: &Variant) -> Result<(), String> {
    if variant == v.name && index == i {
        Ok(())
    } else {
        Err(at(
            path,
            format!(
                "serde wrote variant {variant:?} #{index}, expected {:?} #{i}",
                v.name
            ),
        ))
    }
}

fn check_variant(
    obs: &Observed,
    repr: EnumRepr,
    i: u32,
    v: &'static Variant,
    cx: Cx,
    path: &str,
) -> Result<(), String> {
    if v.untagged || matches!(repr, EnumRepr::Untagged) {
        return check_variant_content(obs, v, cx, path);
    }
    let vpath = format!("{path}::{}", v.name);
    let fields = v.fields;
    match repr {
        EnumRepr::External => match (v.style, obs) {
            (VariantStyle::Unit, Observed::UnitVariant { index, variant, .. }) => {
                variant_id(path, *index, variant, i, v)
            }
            (
                VariantStyle::Newtype,
                Observed::NewtypeVariant {
                    index,
                    variant,
                    value,
                    ..
                },
            ) => {
                variant_id(path, *index, variant, i, v)?;
                check_value(value, fields[0].ty.shape(), cx, &vpath)
            }
            (
                VariantStyle::Tuple,
                Observed::TupleVariant {
                    index,
                    variant,
                    len,
                    elems,
                    ..
                },
            ) => {
                variant_id(path, *index, variant, i, v)?;
                len_eq(&vpath, *len, elems.len())?;
                check_elems(elems, fields, cx, &vpath)
            }
            // A struct variant with a flattened field: `serialize_newtype_variant` of a map.
            (
                VariantStyle::Struct,
                Observed::NewtypeVariant {
                    index,
                    variant,
                    value,
                    ..
                },
            ) if has_flatten(fields) => {
                variant_id(path, *index, variant, i, v)?;
                check_fields(value, &items(None, fields), true, cx, &vpath)
            }
            (
                VariantStyle::Struct,
                Observed::StructVariant {
                    index,
                    variant,
                    len,
                    fields: fo,
                    ..
                },
            ) if !has_flatten(fields) => {
                variant_id(path, *index, variant, i, v)?;
                len_eq(&vpath, *len, fo.len())?;
                match_all(&struct_entries(fo), &items(None, fields), cx, &vpath)
            }
            (style, o) => Err(mismatch(path, format!("a {style:?} variant"), o)),
        },
        EnumRepr::Internal { tag } => {
            let tag_item = Some((tag, TagVal::Str(v.name)));
            match v.style {
                VariantStyle::Unit => check_fields(obs, &items(tag_item, &[]), false, cx, &vpath),
                VariantStyle::Struct => check_fields(
                    obs,
                    &items(tag_item, fields),
                    has_flatten(fields),
                    cx,
                    &vpath,
                ),
                VariantStyle::Newtype => {
                    check_tagged(obs, fields[0].ty.shape(), tag, v.name, cx, &vpath)
                }
                style => Err(at(path, format!("an internally tagged {style:?} variant"))),
            }
        }
        EnumRepr::Adjacent { tag, content } => {
            let tag_val = TagVal::Variant(i, v.name);
            match (v.style, obs) {
                (VariantStyle::Unit, _) => {
                    check_fields(obs, &[Item::Tag(tag, tag_val)], false, cx, &vpath)
                }
                (_, Observed::Struct { len, fields, .. }) => {
                    len_eq(&vpath, *len, fields.len())?;
                    match fields.as_slice() {
                        [(t, tv), (c, cv)] if t == &tag && c == &content && tag_val.matches(tv) => {
                            check_variant_content(cv, v, cx, &vpath)
                        }
                        _ => Err(mismatch(
                            &vpath,
                            format!("struct {{{tag:?}: {tag_val:?}, {content:?}: ..}}"),
                            obs,
                        )),
                    }
                }
                (_, o) => Err(mismatch(&vpath, "an adjacently tagged struct", o)),
            }
        }
        EnumRepr::Untagged => unreachable!(),
    }
}

/// A variant's content alone (untagged, or the content of an adjacently tagged enum).
fn check_variant_content(
    obs: &Observed,
    v: &'static Variant,
    cx: Cx,
    path: &str,
) -> Result<(), String> {
    let vpath = format!("{path}::{}", v.name);
    match (v.style, obs) {
        (VariantStyle::Unit, Observed::Unit) => Ok(()),
        (VariantStyle::Newtype, _) => check_value(obs, v.fields[0].ty.shape(), cx, &vpath),
        (VariantStyle::Tuple, Observed::Tuple { len, elems }) => {
            len_eq(&vpath, *len, elems.len())?;
            check_elems(elems, v.fields, cx, &vpath)
        }
        (VariantStyle::Struct, _) => check_fields(
            obs,
            &items(None, v.fields),
            has_flatten(v.fields),
            cx,
            &vpath,
        ),
        (style, o) => Err(mismatch(
            &vpath,
            format!("the content of a {style:?} variant"),
            o,
        )),
    }
}

/// Removes the tag entry a `TaggedSerializer` writes first.
fn strip_tag(
    obs: &Observed,
    tag: &str,
    name: &'static str,
    path: &str,
) -> Result<Observed, String> {
    let tv = TagVal::Str(name);
    match obs {
        Observed::Struct {
            name: n,
            len,
            fields,
        } => match fields.split_first() {
            Some(((k, v), rest)) if k == &tag && tv.matches(v) => Ok(Observed::Struct {
                name: n,
                len: len.saturating_sub(1),
                fields: rest.to_vec(),
            }),
            _ => Err(mismatch(
                path,
                format!("the tag {tag:?} = {name:?} first"),
                obs,
            )),
        },
        Observed::Map { len, entries } => match entries.split_first() {
            Some(((Observed::Str(k), v), rest)) if k == tag && tv.matches(v) => Ok(Observed::Map {
                len: len.map(|l| l.saturating_sub(1)),
                entries: rest.to_vec(),
            }),
            _ => Err(mismatch(
                path,
                format!("the tag {tag:?} = {name:?} first"),
                obs,
            )),
        },
        _ => Err(mismatch(
            path,
            format!("a struct or map with the tag {tag:?} = {name:?}"),
            obs,
        )),
    }
}

/// A map holding only the tag: what `TaggedSerializer` writes for unit and unit structs.
fn only_tag(obs: &Observed, tag: &str, name: &'static str, path: &str) -> Result<(), String> {
    match strip_tag(obs, tag, name, path)? {
        Observed::Map { entries, .. } if entries.is_empty() => Ok(()),
        _ => Err(mismatch(path, format!("map{{{tag:?} => {name:?}}}"), obs)),
    }
}

/// A value of `shape` written through serde's `TaggedSerializer` (the content of an internally
/// tagged newtype variant): serde adds the tag entry to the struct or map the value writes.
fn check_tagged(
    obs: &Observed,
    shape: &Shape,
    tag: &'static str,
    name: &'static str,
    cx: Cx,
    path: &str,
) -> Result<(), String> {
    match resolve(shape, cx).map_err(|e| at(path, e))? {
        Resolved::Any => {
            note_opaque(path);
            Ok(())
        }
        Resolved::Leaf(Shape::Unit) => only_tag(obs, tag, name, path),
        Resolved::Leaf(s) => check_value(&strip_tag(obs, tag, name, path)?, s, cx, path),
        Resolved::Named(n) => {
            let cx = cx.enter(n);
            match &n.body {
                Body::UnitStruct => only_tag(obs, tag, name, path),
                Body::NewtypeStruct(t) => check_tagged(obs, t.shape(), tag, name, cx, path),
                Body::Enum { repr, variants } => {
                    let mut errors = Vec::new();
                    for (i, v) in variants.iter().enumerate() {
                        if v.style == VariantStyle::Skipped {
                            continue;
                        }
                        match check_tagged_variant(obs, *repr, i as u32, v, tag, name, cx, path) {
                            Ok(()) => return Ok(()),
                            Err(e) => errors.push(format!("    {}: {e}", v.name)),
                        }
                    }
                    Err(at(
                        path,
                        format!(
                            "{} (behind the tag {tag:?}) matches no variant of {}:\n{}",
                            short(obs),
                            n.name,
                            errors.join("\n")
                        ),
                    ))
                }
                _ => check_named(&strip_tag(obs, tag, name, path)?, n, cx, path),
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_tagged_variant(
    obs: &Observed,
    repr: EnumRepr,
    i: u32,
    v: &'static Variant,
    tag: &'static str,
    name: &'static str,
    cx: Cx,
    path: &str,
) -> Result<(), String> {
    let vpath = format!("{path}::{}", v.name);
    let fields = v.fields;
    if v.untagged || matches!(repr, EnumRepr::Untagged) {
        return match v.style {
            VariantStyle::Unit => only_tag(obs, tag, name, path),
            VariantStyle::Newtype => check_tagged(obs, fields[0].ty.shape(), tag, name, cx, &vpath),
            VariantStyle::Struct => {
                check_variant_content(&strip_tag(obs, tag, name, path)?, v, cx, path)
            }
            _ => Err(at(
                path,
                "serde cannot write a tuple behind an internal tag",
            )),
        };
    }
    match repr {
        // `TaggedSerializer::serialize_*_variant`: a map {tag: name, variant: content}.
        EnumRepr::External => {
            let rest = strip_tag(obs, tag, name, path)?;
            let Observed::Map { entries, .. } = &rest else {
                return Err(mismatch(path, "a map", obs));
            };
            let [(Observed::Str(k), value)] = entries.as_slice() else {
                return Err(mismatch(path, format!("map{{{tag:?}, {:?}}}", v.name), obs));
            };
            if k != v.name {
                return Err(mismatch(path, format!("map{{{tag:?}, {:?}}}", v.name), obs));
            }
            match (v.style, value) {
                (VariantStyle::Unit, Observed::Unit) => Ok(()),
                (VariantStyle::Newtype, _) => check_value(value, fields[0].ty.shape(), cx, &vpath),
                (VariantStyle::Tuple, Observed::TupleStruct { len, elems, .. }) => {
                    len_eq(&vpath, *len, elems.len())?;
                    check_elems(elems, fields, cx.buffered(), &vpath)
                }
                (VariantStyle::Struct, _) if has_flatten(fields) => {
                    check_fields(value, &items(None, fields), true, cx, &vpath)
                }
                (VariantStyle::Struct, _) => {
                    check_fields(value, &items(None, fields), false, cx.buffered(), &vpath)
                }
                (style, o) => Err(mismatch(&vpath, format!("a {style:?} variant"), o)),
            }
        }
        // These write a struct or a map themselves; the outer tag comes first.
        _ => check_variant(&strip_tag(obs, tag, name, path)?, repr, i, v, cx, path),
    }
}
