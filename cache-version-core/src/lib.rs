//! Cache keys that carry a version of the serialized shape of their model.
//!
//! A service that caches serialized structs in a shared store breaks during a rolling deploy
//! when the old and the new build disagree about a struct's shape: each fails to decode what
//! the other wrote. `cache-version` derives, at compile time, a version from exactly what serde
//! writes for a type, so a shape change moves that model (and only that model) to a new key
//! space, with nobody remembering to bump anything.
//!
//! ```
//! use cache_version_core::{CacheVersion, Version};
//!
//! #[derive(serde::Serialize, CacheVersion)]
//! struct Address { city: String, zip: String }
//!
//! #[derive(serde::Serialize, CacheVersion)]
//! struct User {
//!     id: u64,
//!     #[serde(rename = "fullName")]
//!     name: String,
//!     address: Option<Box<Address>>,
//! }
//!
//! // A `const`: zero run-time cost.
//! const USER: Version = <User as CacheVersion>::VERSION;
//! const _: () = assert!(!USER.eq_const(&<Address as CacheVersion>::VERSION));
//!
//! let definition = User::SHAPE.to_string();
//! assert!(definition.starts_with("struct{id:u64,fullName:str,address:option<Address@"));
//! ```
//!
//! The pieces:
//! - [`CacheVersion`]: the trait, with `SHAPE` (a `const` [`Shape`] tree) and `VERSION`.
//! - [`CacheModel`]: a type cached as a model of its own, with its model name (`Page<User>`)
//!   for keys and lockfiles.
//! - [`Shape`] and [`canonical`]: the canonical form (specified in `docs/canonical-form.md`),
//!   [`canonical::schema`] for the whole readable schema, [`canonical::recompute()`] to derive
//!   a version from printed text alone.
//! - [`blake3`]: BLAKE3 as a `const fn`.
//!
//! # Features
//! - `derive` (default): re-exports `#[derive(CacheVersion)]`.
//! - `cache` (default): the runtime half (keys, codecs, envelope, stores, the typed cache,
//!   rollout tools). A crate that only defines models can use
//!   `default-features = false, features = ["derive"]`.
//! - `registry` (default): [`register!`] for the schema lockfile ([`lockfile`]), through
//!   `inventory`.
//! - `conformance`: [`conformance::check`], which checks that what serde writes for a value
//!   matches its shape (for hand-written `Serialize` impls and `as` annotations), through
//!   `serde`.
//! - `msgpack`: [`MsgPackCodec`], MessagePack through `rmp-serde` (structs written as maps);
//!   turns on `cache`.
//! - `postcard`: [`PostcardCodec`], the compact `postcard` format (positional, not
//!   self-describing); turns on `cache`.
//! - `chrono04`, `time03`, `uuid1`, `serde_json1`, `rust_decimal1`, `url2`, `bytes1`,
//!   `indexmap2`, `smallvec1`: impls for those crates' types, each describing what that crate's
//!   serde impl writes.
//!
//! On docs.rs every feature is on, and each item that needs one says which.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
// The one exception is `clock.rs`: one `clock_gettime` call, 15 ns cheaper than `SystemTime`.
#![deny(unsafe_code)]

pub mod blake3;
pub mod canonical;
#[cfg(feature = "conformance")]
pub mod conformance;
#[doc(hidden)]
pub mod hints;
mod impls;
mod model;
mod recursion;
pub mod shape;
mod version;

pub use model::CacheModel;
pub use shape::{
    Body, ContainerMeta, EnumRepr, Field, FieldKind, FieldMeta, ModelArg, Named, Shape, StructTag,
    Ty, Variant, VariantMeta, VariantStyle,
};
pub use version::{ParseVersionError, ShortVersion, Version, TEMPLATE_PREFIX};

// The runtime half: keys, codecs, the value envelope, stores and the typed cache.
// - [`key`]: the stable key layout `{namespace}:{model}:{keyversion}:{logical key}`.
// - [`codec`]: `JsonCodec` (default), `MsgPackCodec` (`msgpack`), `PostcardCodec` (`postcard`).
// - [`envelope`]: the 20-byte header checked before decoding.
// - [`Store`], [`MemoryStore`]: byte storage; [`Cache`], [`ModelHandle`]: the typed cache.
#[cfg(feature = "cache")]
pub mod breaker;
#[cfg(feature = "cache")]
mod cache;
#[cfg(feature = "cache")]
mod clock;
#[cfg(feature = "cache")]
pub mod codec;
#[cfg(feature = "cache")]
mod depth;
#[cfg(feature = "cache")]
pub mod envelope;
#[cfg(feature = "cache")]
mod error;
#[cfg(feature = "cache")]
pub mod failsafe;
#[cfg(feature = "cache")]
mod flight;
#[cfg(feature = "cache")]
pub mod key;
#[cfg(feature = "cache")]
pub mod live;
#[cfg(feature = "cache")]
pub mod load;
#[cfg(feature = "cache")]
mod local;
#[cfg(feature = "cache")]
pub mod logical;
#[cfg(feature = "cache")]
mod memory;
#[cfg(feature = "cache")]
pub mod stats;
#[cfg(feature = "cache")]
pub mod store;
#[cfg(all(test, feature = "cache"))]
mod test_recorder;
#[cfg(feature = "cache")]
mod value;
#[cfg(feature = "cache")]
pub use breaker::BreakerConfig;
#[cfg(feature = "cache")]
pub use cache::{Cache, CacheBuilder, CacheConfig, FailureMode, ModelHandle};
#[cfg(feature = "msgpack")]
pub use codec::MsgPackCodec;
#[cfg(feature = "postcard")]
pub use codec::PostcardCodec;
#[cfg(feature = "cache")]
pub use codec::{Codec, CodecError, JsonCodec};
#[cfg(feature = "cache")]
pub use error::{CacheError, ConfigError, DecodeError};
#[cfg(feature = "cache")]
pub use failsafe::FailSafe;
#[cfg(feature = "cache")]
pub use key::{KeyPrefix, KeyVersion, NameError};
#[cfg(feature = "cache")]
pub use live::{LiveConfig, LiveVersion};
#[cfg(feature = "cache")]
pub use load::{LoadError, LoadOutput, Loaded};
#[cfg(feature = "cache")]
#[doc(hidden)]
pub use local::BenchTier as __BenchTier;
#[cfg(feature = "cache")]
pub use local::{LocalConfig, LocalStats};
#[cfg(feature = "cache")]
pub use logical::{CacheKey, KeyBytes};
#[cfg(feature = "cache")]
pub use memory::{MemoryStore, MemoryStoreBuilder};
#[cfg(feature = "cache")]
pub use stats::{Stats, StatsSnapshot};
#[cfg(feature = "cache")]
pub use store::{
    DynStore, HashFields, ScanCursor, ScanPage, SetEntry, Store, StoreError, ValueAndTtl, Watch,
    WatchEvent, WatchSender,
};
// Rolling-deploy tools: migrations, dual-write, cross-version deletes, sweeps, version reports.
#[cfg(feature = "cache")]
pub mod rollout;
#[cfg(feature = "cache")]
pub use rollout::{RolloutError, Sweep, SweepError, SweepReport, VersionReport};

// The schema lockfile and its CI diff (`register!` needs the default feature `registry`).
pub mod lockfile;

/// `#[derive(CacheVersion)]`: see [`attributes`] for the attribute reference.
#[cfg(feature = "derive")]
pub use cache_version_derive::CacheVersion;

#[cfg(feature = "derive")]
#[doc = include_str!("../docs/attributes.md")]
pub mod attributes {}

#[doc = include_str!("../docs/canonical-form.md")]
pub mod canonical_form {}

/// A type whose serialized shape has a compile-time version.
///
/// Implement it with `#[derive(CacheVersion)]`; this crate implements it for the std types
/// serde supports. `VERSION` is always `Version::of(Self::SHAPE)`: the provided default is the
/// definition, and the derive writes the same value out with the children's versions it
/// already knows.
///
/// ```
/// use cache_version_core::CacheVersion;
/// use std::sync::Arc;
///
/// // Wrappers serde writes transparently have the version of what they wrap.
/// const _: () = assert!(<Arc<Box<String>> as CacheVersion>::VERSION.eq_const(&String::VERSION));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no cache version",
    label = "no `CacheVersion` impl for this type",
    note = "derive it (`#[derive(serde::Serialize, cache_version_core::CacheVersion)]`); if its \
            `Serialize` is hand-written, state what it writes on the type: \
            `#[derive(CacheVersion)] #[cache_version(as = \"String\")]` (check it with \
            `conformance::check`); or on the field: `#[cache_version(as = \"Type\")]`, or \
            `#[cache_version(opaque)]` (changes inside it then need a manual `bump`)"
)]
pub trait CacheVersion {
    /// What serde writes for this type.
    const SHAPE: &'static Shape;
    /// The version of [`Self::SHAPE`].
    const VERSION: Version = Version::of(Self::SHAPE);
}

/// The whole schema of `T`: every definition reachable from it, each once.
///
/// ```
/// #[derive(serde::Serialize, cache_version_core::CacheVersion)]
/// struct Point { x: i32, y: i32 }
///
/// let schema = cache_version_core::schema_of::<Vec<Point>>();
/// assert_eq!(schema.definitions.len(), 1);
/// assert_eq!(schema.definitions[0].definition, "struct{x:i32,y:i32}");
/// ```
pub fn schema_of<T: CacheVersion + ?Sized>() -> canonical::Schema {
    canonical::schema(T::SHAPE)
}

/// Implementation details of the derive. Not public API: no semver guarantees.
#[doc(hidden)]
pub mod __private {
    pub use crate::shape::*;
    pub use crate::version::Version;
    pub use crate::{CacheModel, CacheVersion};
    pub use core::marker::PhantomData;
    pub use core::option::Option::{None, Some};
    pub use std::borrow::Cow;

    pub use crate::recursion::{
        self_ref_path, self_ref_path_if, CheckIf, Checked, MaybeSelf, NotSelf, SelfRef, SelfRefPath,
    };

    /// A plain field of type `T` (always written, no bump, no reader metadata): the short
    /// form the derive writes for most fields. `Field::new(name, Ty::of::<T>())` written out:
    /// const evaluation runs this for every field of every model (rustc evaluates each
    /// model's `SHAPE`), and each call it makes is a stack frame of its own.
    pub const fn field<T: CacheVersion + ?Sized>(name: &'static str) -> Field {
        plain_field!(name, shape_of::<T>, T::VERSION)
    }

    /// `Field::new(name, Ty { shape_fn, version })` as a literal: no call, no stack frame.
    macro_rules! plain_field {
        ($name:expr, $shape_fn:expr, $version:expr) => {
            Field {
                name: $name,
                de_name: $name,
                kind: FieldKind::Always,
                ty: Ty {
                    shape_fn: $shape_fn,
                    version: $version,
                },
                bump: 0,
                meta: FieldMeta::NONE,
            }
        };
    }
    use plain_field;

    use crate::version::shape_of;

    pub use crate::hints as features;

    /// `VERSION` of a derived named type whose template digest and first `children`
    /// children the derive hashed at native speed, ending at chaining value `cv`, assuming
    /// those children are the std types it named; `std` is the compiler's answer
    /// ([`SameProbe`]). Equal to `Version::of(shape)` whatever the arguments: see
    /// `Version::resumed`.
    pub const fn version_resumed(
        shape: &Shape,
        std: bool,
        children: usize,
        cv: &[u8; 32],
    ) -> Version {
        if std {
            Version::resumed(shape, children, cv)
        } else {
            Version::of(shape)
        }
    }

    /// The std types the derive may assume a field has (see `version_resumed`), by paths no
    /// user type can shadow.
    pub use core::option::Option;
    pub use core::primitive;
    /// The primitives by name (`_cv::u64`), for the derive's [`SameProbe`]: shorter than
    /// `_cv::primitive::u64`, and no user type can shadow them here.
    pub use core::primitive::{
        bool, char, f32, f64, i128, i16, i32, i64, i8, isize, u128, u16, u32, u64, u8, usize,
    };
    pub use std::boxed::Box;
    pub use std::collections::{BTreeMap, HashMap, VecDeque};
    pub use std::string::String;
    pub use std::vec::Vec;

    /// Answers "is `A` the type `B`?" for concrete types: the inherent `SAME` below applies
    /// only when they are equal and takes precedence over [`NotSame::SAME`].
    pub struct SameProbe<A: ?Sized, B: ?Sized>(PhantomData<A>, PhantomData<B>);

    impl<A: ?Sized> SameProbe<A, A> {
        /// The two types are one.
        pub const SAME: bool = true;
    }

    /// The fallback of [`SameProbe`]: two different types.
    pub trait NotSame {
        /// Different types.
        const SAME: bool = false;
    }
    impl<A: ?Sized, B: ?Sized> NotSame for SameProbe<A, B> {}

    /// Whether the derive's assumptions about a model hold: `Holds<true>` or `Holds<false>`,
    /// the compiler's answer (a [`SameProbe`] and a comparison with each named field type's
    /// `VERSION`), written once per model as `type __CvHolds = Holds<{ ... }>;` so the
    /// answer is one anonymous constant however many fields use it.
    pub struct Holds<const OK: bool>;

    /// A version the derive computed at native speed, from the template, the std types it
    /// took the field types for and the versions earlier derives in this compilation
    /// computed for the named types among them, used through `__CvHolds`, which is
    /// `Holds<true>` when those assumptions are true. True: the functions use that version,
    /// and const evaluation hashes nothing (a 64-byte compression costs about a millisecond
    /// of compile time). False: they use the version the trait defines, computed as it would
    /// be without the derive's help.
    ///
    /// Chosen by type, not by an `if`: const evaluation evaluates every constant a body
    /// mentions, taken branch or not, so a fallback written next to the literal would be paid
    /// for anyway. Inherent functions, so the derive writes `__CvHolds::field::<T>(..)`: the
    /// expansion is parsed, resolved and hashed on every build, its length is compile time.
    impl Holds<true> {
        /// The child for a field of type `T`, with the derive's version of `T`.
        pub const fn ty<T: CacheVersion + ?Sized>(version: &[u8; 32]) -> Ty {
            Ty {
                shape_fn: shape_of::<T>,
                version: Version(*version),
            }
        }

        /// A plain field (see [`field`]) of type `T`, with the derive's version of `T`.
        pub const fn field<T: CacheVersion + ?Sized>(
            name: &'static str,
            version: &[u8; 32],
        ) -> Field {
            plain_field!(name, shape_of::<T>, Version(*version))
        }

        /// The derive's version of `T`, the derived type: its own `VERSION`.
        pub const fn pick_own<T: CacheVersion + ?Sized>(version: &[u8; 32]) -> Version {
            Version(*version)
        }
    }

    impl Holds<false> {
        /// `Ty::of::<T>()`: the derive's assumptions did not hold.
        pub const fn ty<T: CacheVersion + ?Sized>(_: &[u8; 32]) -> Ty {
            Ty::of::<T>()
        }

        /// [`field`]`::<T>(name)`: the derive's assumptions did not hold.
        pub const fn field<T: CacheVersion + ?Sized>(name: &'static str, _: &[u8; 32]) -> Field {
            field::<T>(name)
        }

        /// `Version::of(T::SHAPE)` (`T::VERSION` is the constant being defined): the
        /// derive's assumptions did not hold.
        pub const fn pick_own<T: CacheVersion + ?Sized>(_: &[u8; 32]) -> Version {
            Version::of(T::SHAPE)
        }
    }

    /// Whether two 32-byte digests are equal, as two 128-bit words a side cut out by array
    /// patterns (no index, no slice method, no helper: in const evaluation each call is a
    /// stack frame): about a hundred interpreter steps, byte by byte about 580.
    macro_rules! digest_eq {
        ($a:expr, $b:expr) => {{
            let [a @ .., _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _] = $a;
            let [_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, b @ ..] = $a;
            let [c @ .., _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _] = $b;
            let [_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, d @ ..] = $b;
            u128::from_ne_bytes(a) == u128::from_ne_bytes(c)
                && u128::from_ne_bytes(b) == u128::from_ne_bytes(d)
        }};
    }

    /// Whether `version` is `expected` (the derive uses [`version_of_is`], which reads a
    /// type's `VERSION` itself).
    pub const fn version_is(version: Version, expected: &[u8; 32]) -> bool {
        digest_eq!(version.0, *expected)
    }

    /// Whether `T::VERSION` is `expected`: the derive's check of a version it assumed, about
    /// three times per model in const evaluation. `T::VERSION` read here by value: a borrow of
    /// a constant makes rustc's const checking prove the constant's type `Freeze`, at every
    /// use.
    pub const fn version_of_is<T: CacheVersion + ?Sized>(expected: &[u8; 32]) -> bool {
        digest_eq!(T::VERSION.0, *expected)
    }

    /// Answers "does `T` implement `CacheVersion`?" for a concrete `T`: the inherent `TY` below
    /// applies when it does and takes precedence over [`WithFallback::TY`]. Used for a field
    /// written by `#[serde(with = "Def")]` where `Def` may be a remote definition that derives
    /// `CacheVersion` (its shape is what the field writes).
    pub struct WithProbe<T: ?Sized>(core::marker::PhantomData<T>);

    impl<T: CacheVersion + ?Sized> WithProbe<T> {
        /// `T`'s shape and version.
        pub const TY: Option<Ty> = Some(Ty::of::<T>());
        /// `T`'s shape.
        pub const SHAPE: Option<&'static Shape> = Some(T::SHAPE);
    }

    /// The fallback of [`WithProbe`]: `T` has no impl.
    pub trait WithFallback {
        /// No shape known.
        const TY: Option<Ty> = None;
        /// No shape known.
        const SHAPE: Option<&'static Shape> = None;
    }
    impl<T: ?Sized> WithFallback for WithProbe<T> {}

    /// The probed type's child, or the opaque leaf named `path` (its version computed only
    /// when it is used).
    pub const fn with_or_opaque(
        probe: Option<Ty>,
        opaque: fn() -> &'static Shape,
        path: &'static str,
    ) -> Ty {
        match probe {
            Some(ty) => ty,
            None => Ty {
                shape_fn: opaque,
                version: Version::of(&Shape::Opaque(path)),
            },
        }
    }

    /// The own (derived) shape of a type serialized through a proxy (`into`/`from`), so the
    /// proxy shape can point at it through a function like every other child.
    pub trait OwnShape {
        /// The type's own derived shape.
        const OWN: &'static Shape;
    }

    fn own_shape_of<T: OwnShape + ?Sized>() -> &'static Shape {
        T::OWN
    }

    /// The child for a type's own shape.
    pub const fn own<T: OwnShape + ?Sized>() -> Ty {
        Ty {
            shape_fn: own_shape_of::<T>,
            version: Version::of(T::OWN),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::__private::{version_is, version_of_is};
    use super::{CacheVersion, Version};

    #[test]
    fn version_is_compares_every_byte() {
        let bytes: [u8; 32] = core::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5a);
        let v = Version::from_bytes(bytes);
        assert!(version_is(v, &bytes));
        // In const evaluation too, where the derive uses it.
        const { assert!(version_is(Version::from_bytes([7; 32]), &[7; 32])) };
        const { assert!(!version_is(Version::from_bytes([7; 32]), &[8; 32])) };
        // The derive's form reads the type's own VERSION.
        const {
            assert!(version_of_is::<u64>(
                <u64 as CacheVersion>::VERSION.as_bytes()
            ))
        };
        const {
            assert!(!version_of_is::<u32>(
                <u64 as CacheVersion>::VERSION.as_bytes()
            ))
        };
        for i in 0..32 {
            for bit in 0..8 {
                let mut other = bytes;
                other[i] ^= 1 << bit;
                assert!(!version_is(v, &other), "byte {i} bit {bit}");
                assert!(
                    !version_is(Version::from_bytes(other), &bytes),
                    "byte {i} bit {bit}"
                );
            }
        }
    }
}
