//! [`Shape`]: what serde writes for a type, as a `const` tree in the terms of serde's data
//! model.
//!
//! The tree is built at compile time: by the std impls of this crate, by
//! `#[derive(CacheVersion)]`, or by hand (see [`Named::new`]). Every child is a [`Ty`], which
//! carries the child's shape *and* its version, so computing a version never walks the whole
//! tree: it stops at the first named type, whose version is already known. That keeps shared
//! types cheap (a model graph whose fully expanded schema would be astronomically large costs
//! one small hash per type).
//!
//! `Display` prints the canonical form (see `docs/canonical-form.md`).

use crate::version::Version;

/// A serialized shape, in the terms of serde's data model.
///
/// Wrappers that serde treats as transparent (`Box`, `Rc`, `Arc`, `&T`, `Cow`) have no node of
/// their own; collections that serde writes the same way share one (`Vec`, `VecDeque`,
/// `HashSet`, … are all [`Shape::Seq`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Shape {
    /// `bool`
    Bool,
    /// `i8`
    I8,
    /// `i16`
    I16,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `i128`
    I128,
    /// `u8`
    U8,
    /// `u16`
    U16,
    /// `u32`
    U32,
    /// `u64`
    U64,
    /// `u128`
    U128,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `char`
    Char,
    /// A string (`String`, `str`, `PathBuf`, …).
    Str,
    /// A byte array (`serialize_bytes`; `Vec<u8>` is a `seq` of `u8`, not bytes).
    Bytes,
    /// `()`: serde's unit.
    Unit,
    /// `Option<T>`: serde's option.
    Option(Ty),
    /// A sequence of unknown length: `Vec`, `VecDeque`, `LinkedList`, `BinaryHeap`, sets, slices.
    Seq(Ty),
    /// A map: `HashMap`, `BTreeMap`, `IndexMap`.
    Map(Ty, Ty),
    /// A tuple of known length. Runs of equal element types are written `T*n`, so
    /// `(u8, u8, u8, u8)` and `[u8; 4]` (both a serde tuple of four `u8`) are one shape.
    Tuple(&'static [Ty]),
    /// `[T; N]`: a serde tuple of `N` elements of `T` (the same shape as an `N`-tuple of `T`).
    Array(Ty, usize),
    /// A type that serde writes one way for human-readable formats (JSON: usually a string)
    /// and another for compact ones (bincode, postcard: usually bytes or a tuple), by
    /// `Serializer::is_human_readable`: `IpAddr`, `Uuid`, `time` dates.
    Readable {
        /// The shape written for human-readable formats.
        human: Ty,
        /// The shape written for compact formats.
        compact: Ty,
    },
    /// A type serialized through a proxy (`#[serde(into = "W", from = "R")]` with different
    /// types, or only one of them): what the writer writes and what the reader reads.
    Proxy {
        /// The shape written (`into`, or the type's own shape).
        write: Ty,
        /// The shape read (`from`/`try_from`, or the type's own shape).
        read: Ty,
    },
    /// A named type: a derived (or hand-described) struct or enum. Inside another shape it is
    /// written as a reference `Name@<version>`.
    Named(&'static Named),
    /// A value written by custom code (`#[serde(with = "...")]`), named by the code's path.
    Opaque(&'static str),
    /// A back reference to the innermost enclosing named type (direct recursion, such as
    /// `children: Vec<Self>`).
    SelfRef,
}

/// A child type: its version (computed once per type by the compiler) and a function that
/// returns its shape.
///
/// The shape is behind a function pointer, not a reference, on purpose: a constant that holds
/// references to other constants' trees makes the compiler walk every path through a shared
/// model graph when it emits the tree, which grows exponentially with the depth of sharing
/// (measured: 40 models that each hold the previous one and the one three back took 11 s;
/// each 4 more models tripled it). Through functions, each type's tree is emitted once.
#[derive(Clone, Copy)]
pub struct Ty {
    /// Returns the child's shape (see [`Ty::shape`]).
    pub shape_fn: fn() -> &'static Shape,
    /// The child's version, `Version::of(self.shape())`.
    pub version: Version,
}

impl Ty {
    /// The child's shape.
    pub fn shape(&self) -> &'static Shape {
        (self.shape_fn)()
    }
}

impl core::fmt::Debug for Ty {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The version identifies the whole subtree; printing it avoids walking the graph.
        write!(f, "Ty({})", self.version)
    }
}

/// Stand-in for a value written with `serialize_bytes` (for example through `serde_bytes`):
/// `#[cache_version(as = "cache_version_core::shape::SerdeBytes")]`.
pub enum SerdeBytes {}

#[diagnostic::do_not_recommend]
impl crate::CacheVersion for SerdeBytes {
    const SHAPE: &'static Shape = &Shape::Bytes;
}

/// A named type: a struct or enum described field by field.
#[derive(Debug)]
pub struct Named {
    /// The name used for people and as the default model name in keys (the Rust type name,
    /// or `#[cache_version(name = "...")]`). It is **not** part of the version: serde's
    /// formats do not write type names, so renaming a type keeps its cache warm.
    pub name: &'static str,
    /// `BLAKE3(TEMPLATE_PREFIX ‖ template)`, where the template is this type's definition
    /// with every child type written as `_` (computed by the derive at native speed).
    pub template: [u8; 32],
    /// The body: fields or variants, and the serde representation.
    pub body: Body,
    /// Reader-side leniency, recorded for compatibility checks; not part of the version.
    pub meta: ContainerMeta,
    /// A manual bump (`#[cache_version(bump = N)]`), part of the version; 0 when absent.
    pub bump: u32,
    /// The type's generic arguments, in declaration order (lifetimes left out), for its
    /// model name: `Page<User>` is named `Page<User>` in keys and lockfiles, not `Page`
    /// (see [`Named::model_name`]). Metadata, **not** part of the version or the canonical
    /// form. Empty for a type without type or const parameters, and by [`Named::new`].
    pub args: &'static [ModelArg],
}

/// One generic argument of a [`Named`] type, as its model name shows it (see
/// [`Named::model_name`]). Not part of the version.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum ModelArg {
    /// A type argument, by its shape (a function, like [`Ty::shape_fn`], so that building
    /// the tree never walks it): `Page<User>`, `Page<u64>`, `Pair<str,option<u64>>`.
    Type(fn() -> &'static Shape),
    /// A type parameter without a `CacheVersion` bound (used only in `PhantomData` or in
    /// skipped fields): its shape is unknown, written `_`.
    Unbound,
    /// A signed integer const argument (`const N: i32`).
    Int(i128),
    /// An unsigned integer const argument (`const N: usize`).
    Uint(u128),
    /// A `bool` const argument.
    Bool(bool),
    /// A `char` const argument.
    Char(char),
}

impl ModelArg {
    /// The type argument `T`, by its shape.
    pub const fn of<T: crate::CacheVersion + ?Sized>() -> ModelArg {
        ModelArg::Type(arg_shape_of::<T>)
    }
}

fn arg_shape_of<T: crate::CacheVersion + ?Sized>() -> &'static Shape {
    T::SHAPE
}

/// The body of a [`Named`] type.
#[derive(Debug)]
pub enum Body {
    /// `struct S;`: serde's unit struct.
    UnitStruct,
    /// `struct S(T);`: serde's newtype struct.
    NewtypeStruct(Ty),
    /// `struct S(A, B);`: serde's tuple struct; the fields have empty names.
    TupleStruct(&'static [Field]),
    /// `struct S { .. }`: serde's struct, fields by serialized name.
    Struct {
        /// `#[serde(tag = "...")]` on a struct: the tag field and the value written into it.
        tag: Option<StructTag>,
        /// Serialized fields in declaration order (skipped fields left out).
        fields: &'static [Field],
    },
    /// An enum.
    Enum {
        /// How serde represents the variant.
        repr: EnumRepr,
        /// All variants in declaration order, skipped ones as [`VariantStyle::Skipped`]
        /// (they still take an index, which positional formats write).
        variants: &'static [Variant],
    },
}

/// The tag written by `#[serde(tag = "...")]` on a struct.
#[derive(Debug)]
pub struct StructTag {
    /// The tag field's name.
    pub tag: &'static str,
    /// The value written into it: the struct's serialized name.
    pub name: &'static str,
}

/// How an enum's variant is represented (serde's four representations).
#[derive(Debug, Clone, Copy)]
pub enum EnumRepr {
    /// `{"Variant": content}` (serde's default).
    External,
    /// `#[serde(tag = "t")]`: `{"t": "Variant", ..fields}`.
    Internal {
        /// The tag field.
        tag: &'static str,
    },
    /// `#[serde(tag = "t", content = "c")]`: `{"t": "Variant", "c": content}`.
    Adjacent {
        /// The tag field.
        tag: &'static str,
        /// The content field.
        content: &'static str,
    },
    /// `#[serde(untagged)]`: the content alone.
    Untagged,
}

/// How a field is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Always written.
    Always,
    /// `skip_serializing_if`: may be absent.
    MaybeAbsent,
    /// `#[serde(flatten)]`: the child's entries are merged into this map.
    Flatten,
    /// `#[serde(flatten, skip_serializing_if = "...")]`: merged entries that may be absent.
    FlattenMaybeAbsent,
}

/// A serialized field.
#[derive(Debug)]
pub struct Field {
    /// The serialized name (empty for tuple fields).
    pub name: &'static str,
    /// The name the reader expects, when serde was told a different one
    /// (`rename(deserialize = "...")`); equal to `name` otherwise.
    pub de_name: &'static str,
    /// How the field is written.
    pub kind: FieldKind,
    /// The field's type.
    pub ty: Ty,
    /// A manual bump; 0 when absent.
    pub bump: u32,
    /// Reader-side leniency.
    pub meta: FieldMeta,
}

/// The style of a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariantStyle {
    /// `A`
    Unit,
    /// `A(T)`
    Newtype,
    /// `A(T, U)`
    Tuple,
    /// `A { x: T }`
    Struct,
    /// `#[serde(skip)]` / `skip_serializing`: never written, but it keeps its index.
    Skipped,
}

/// An enum variant.
#[derive(Debug)]
pub struct Variant {
    /// The serialized name.
    pub name: &'static str,
    /// The name the reader expects (equal to `name` unless serde was told otherwise).
    pub de_name: &'static str,
    /// The variant's style.
    pub style: VariantStyle,
    /// `#[serde(untagged)]` on the variant.
    pub untagged: bool,
    /// The variant's fields (tuple fields have empty names).
    pub fields: &'static [Field],
    /// A manual bump; 0 when absent.
    pub bump: u32,
    /// Reader-side leniency.
    pub meta: VariantMeta,
}

/// Reader-side leniency of a container (evolution metadata, not identity).
#[derive(Debug, Clone, Copy, Default)]
pub struct ContainerMeta {
    /// `#[serde(default)]` on the container: missing fields are filled in.
    pub default: bool,
    /// `#[serde(deny_unknown_fields)]`: the reader rejects fields it does not know.
    pub deny_unknown_fields: bool,
}

/// Reader-side leniency of a field (evolution metadata, not identity).
#[derive(Debug, Clone, Copy, Default)]
pub struct FieldMeta {
    /// The reader fills the field in when it is missing (`default`, on the field or the
    /// container).
    pub default: bool,
    /// Other names the reader accepts (`alias`).
    pub aliases: &'static [&'static str],
    /// `skip_deserializing`: the reader ignores the field.
    pub skip_deserializing: bool,
    /// The field is written by `#[serde(with)]`/`serialize_with` code and nobody stated what
    /// it writes (no `as`, no `opaque`): an opaque leaf that was not acknowledged, reported
    /// as a warning by the lockfile check. Not about reading, but like the rest of this
    /// struct not part of the version.
    pub with_unstated: bool,
}

/// Reader-side leniency of a variant (evolution metadata, not identity).
#[derive(Debug, Clone, Copy, Default)]
pub struct VariantMeta {
    /// Other names the reader accepts (`alias`).
    pub aliases: &'static [&'static str],
    /// `#[serde(other)]`: unknown variants read as this one.
    pub other: bool,
    /// `skip_deserializing`: the reader rejects this variant.
    pub skip_deserializing: bool,
}

impl FieldMeta {
    /// No leniency.
    pub const NONE: FieldMeta = FieldMeta {
        default: false,
        aliases: &[],
        skip_deserializing: false,
        with_unstated: false,
    };
}

impl VariantMeta {
    /// No leniency.
    pub const NONE: VariantMeta = VariantMeta {
        aliases: &[],
        other: false,
        skip_deserializing: false,
    };
}

impl ContainerMeta {
    /// No leniency.
    pub const NONE: ContainerMeta = ContainerMeta {
        default: false,
        deny_unknown_fields: false,
    };
}

impl Field {
    /// A plain field (always written, no leniency): for describing types by hand.
    pub const fn new(name: &'static str, ty: Ty) -> Field {
        Field {
            name,
            de_name: name,
            kind: FieldKind::Always,
            ty,
            bump: 0,
            meta: FieldMeta::NONE,
        }
    }
}

impl Named {
    /// Describes a named type by hand, computing the template digest in `const` (the derive
    /// computes it at native speed instead). Use it for types serde serializes by hand-written
    /// code, or in tests.
    ///
    /// ```
    /// use cache_version_core::{CacheVersion, Shape, Named, Body, Field, Ty};
    ///
    /// struct Point { x: i32, y: i32 }
    /// impl CacheVersion for Point {
    ///     const SHAPE: &'static Shape = &Shape::Named(&Named::new("Point", Body::Struct {
    ///         tag: None,
    ///         fields: &[Field::new("x", Ty::of::<i32>()), Field::new("y", Ty::of::<i32>())],
    ///     }));
    /// }
    /// assert_eq!(Point::SHAPE.to_string(), "struct{x:i32,y:i32}");
    /// ```
    pub const fn new(name: &'static str, body: Body) -> Named {
        Named::with_meta(name, 0, body, ContainerMeta::NONE)
    }

    /// [`Named::new`] with a manual bump and container metadata.
    pub const fn with_meta(
        name: &'static str,
        bump: u32,
        body: Body,
        meta: ContainerMeta,
    ) -> Named {
        let mut buf = crate::canonical::TemplateBuf::new();
        crate::canonical::write_named_template(&mut buf, bump, &body);
        Named {
            name,
            template: buf.digest(),
            body,
            meta,
            bump,
            args: &[],
        }
    }

    /// This type with its generic arguments recorded for its model name (metadata only: the
    /// version does not change).
    ///
    /// ```
    /// use cache_version_core::{shape::ModelArg, Body, CacheModel, CacheVersion, Field, Named, Shape, Ty};
    ///
    /// struct Page<T>(Vec<T>);
    /// impl<T: CacheVersion> CacheVersion for Page<T> {
    ///     const SHAPE: &'static Shape = &Shape::Named(
    ///         &Named::new("Page", Body::NewtypeStruct(Ty::of::<Vec<T>>()))
    ///             .with_args(&[ModelArg::of::<T>()]),
    ///     );
    /// }
    /// impl<T: CacheVersion> CacheModel for Page<T> {}
    ///
    /// assert_eq!(Page::<u64>::model_name(), "Page<u64>");
    /// assert_eq!(Page::<Option<String>>::model_name(), "Page<option<str>>");
    /// ```
    pub const fn with_args(mut self, args: &'static [ModelArg]) -> Named {
        self.args = args;
        self
    }
}
