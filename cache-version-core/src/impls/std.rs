//! Impls for the std types serde implements `Serialize` for. Each describes what serde's own
//! impl writes (serde 1.x, `serde/src/ser/impls.rs`), not the Rust type.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};
use std::ffi::{CStr, CString, OsStr, OsString};
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::num::{
    NonZeroI128, NonZeroI16, NonZeroI32, NonZeroI64, NonZeroI8, NonZeroIsize, NonZeroU128,
    NonZeroU16, NonZeroU32, NonZeroU64, NonZeroU8, NonZeroUsize, Saturating, Wrapping,
};
use std::ops::{Bound, Range, RangeFrom, RangeInclusive, RangeTo};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use crate::shape::{Body, EnumRepr, Field, ModelArg, Named, Shape, Ty, Variant};
use crate::CacheVersion;

macro_rules! leaf {
    ($($shape:ident: $($ty:ty),+;)*) => {
        $($(
            #[diagnostic::do_not_recommend]
            impl CacheVersion for $ty {
                const SHAPE: &'static Shape = &Shape::$shape;
            }
        )+)*
    };
}

leaf! {
    Bool: bool, atomic::AtomicBool;
    I8: i8, NonZeroI8, atomic::AtomicI8;
    I16: i16, NonZeroI16, atomic::AtomicI16;
    I32: i32, NonZeroI32, atomic::AtomicI32;
    // serde writes pointer-width integers as 64-bit ones on every platform.
    I64: i64, NonZeroI64, atomic::AtomicI64, isize, NonZeroIsize, atomic::AtomicIsize;
    I128: i128, NonZeroI128;
    U8: u8, NonZeroU8, atomic::AtomicU8;
    U16: u16, NonZeroU16, atomic::AtomicU16;
    U32: u32, NonZeroU32, atomic::AtomicU32;
    U64: u64, NonZeroU64, atomic::AtomicU64, usize, NonZeroUsize, atomic::AtomicUsize;
    U128: u128, NonZeroU128;
    F32: f32;
    F64: f64;
    Char: char;
    Str: str, String, Path, PathBuf;
    Bytes: CStr, CString;
    Unit: ();
}

/// Types serde writes exactly as the type they hold.
macro_rules! transparent {
    ($($(#[$m:meta])* [$($gen:tt)*] $ty:ty => $inner:ty;)*) => {
        $(
            $(#[$m])*
            impl<$($gen)*> CacheVersion for $ty {
                const SHAPE: &'static Shape = <$inner as CacheVersion>::SHAPE;
                const VERSION: crate::Version = <$inner as CacheVersion>::VERSION;
            }
        )*
    };
}

transparent! {
    [T: CacheVersion + ?Sized] Box<T> => T;
    [T: CacheVersion + ?Sized] Rc<T> => T;
    [T: CacheVersion + ?Sized] Arc<T> => T;
    ['a, T: CacheVersion + ?Sized] &'a T => T;
    ['a, T: CacheVersion + ?Sized] &'a mut T => T;
    ['a, T: CacheVersion + ?Sized + ToOwned] Cow<'a, T> => T;
    [T: CacheVersion + Copy] Cell<T> => T;
    [T: CacheVersion + ?Sized] RefCell<T> => T;
    [T: CacheVersion + ?Sized] Mutex<T> => T;
    [T: CacheVersion + ?Sized] RwLock<T> => T;
    [T: CacheVersion] Wrapping<T> => T;
    [T: CacheVersion] Saturating<T> => T;
    [T: CacheVersion] Reverse<T> => T;
}

impl<T: CacheVersion> CacheVersion for Option<T> {
    const SHAPE: &'static Shape = &Shape::Option(Ty::of::<T>());
}

// serde writes `Weak` as an `Option` of its referent.
impl<T: CacheVersion + ?Sized> CacheVersion for std::rc::Weak<T> {
    const SHAPE: &'static Shape = &Shape::Option(Ty::of::<T>());
}
impl<T: CacheVersion + ?Sized> CacheVersion for std::sync::Weak<T> {
    const SHAPE: &'static Shape = &Shape::Option(Ty::of::<T>());
}

macro_rules! seq {
    ($($(#[$m:meta])* [$($gen:tt)*] $ty:ty;)*) => {
        $(
            $(#[$m])*
            impl<$($gen)*> CacheVersion for $ty {
                const SHAPE: &'static Shape = &Shape::Seq(Ty::of::<T>());
            }
        )*
    };
}

seq! {
    [T: CacheVersion] [T];
    [T: CacheVersion] Vec<T>;
    [T: CacheVersion] VecDeque<T>;
    [T: CacheVersion] LinkedList<T>;
    [T: CacheVersion] BinaryHeap<T>;
    [T: CacheVersion] BTreeSet<T>;
    [T: CacheVersion, S] HashSet<T, S>;
}

impl<K: CacheVersion, V: CacheVersion> CacheVersion for BTreeMap<K, V> {
    const SHAPE: &'static Shape = &Shape::Map(Ty::of::<K>(), Ty::of::<V>());
}

impl<K: CacheVersion, V: CacheVersion, S> CacheVersion for HashMap<K, V, S> {
    const SHAPE: &'static Shape = &Shape::Map(Ty::of::<K>(), Ty::of::<V>());
}

impl<T: CacheVersion, const N: usize> CacheVersion for [T; N] {
    const SHAPE: &'static Shape = &Shape::Array(Ty::of::<T>(), N);
}

macro_rules! tuple {
    ($(($($name:ident),+))*) => {
        $(
            impl<$($name: CacheVersion),+> CacheVersion for ($($name,)+) {
                const SHAPE: &'static Shape = &Shape::Tuple(&[$(Ty::of::<$name>()),+]);
            }
        )*
    };
}

tuple! {
    (T0)
    (T0, T1)
    (T0, T1, T2)
    (T0, T1, T2, T3)
    (T0, T1, T2, T3, T4)
    (T0, T1, T2, T3, T4, T5)
    (T0, T1, T2, T3, T4, T5, T6)
    (T0, T1, T2, T3, T4, T5, T6, T7)
    (T0, T1, T2, T3, T4, T5, T6, T7, T8)
    (T0, T1, T2, T3, T4, T5, T6, T7, T8, T9)
    (T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10)
    (T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11)
    (T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12)
    (T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13)
    (T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14)
    (T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15)
}

/// A field list entry.
const fn f<T: CacheVersion + ?Sized>(name: &'static str) -> Field {
    Field::new(name, Ty::of::<T>())
}

/// A variant with fields of the given style.
const fn variant(
    name: &'static str,
    style: crate::VariantStyle,
    fields: &'static [Field],
) -> Variant {
    Variant {
        name,
        de_name: name,
        style,
        untagged: false,
        fields,
        bump: 0,
        meta: crate::VariantMeta::NONE,
    }
}

use crate::VariantStyle::{Newtype, Unit as UnitStyle};

// `PhantomData<T>` is serde's unit struct "PhantomData", whatever `T` is.
impl<T: ?Sized> CacheVersion for PhantomData<T> {
    const SHAPE: &'static Shape = &Shape::Named(&Named::new("PhantomData", Body::UnitStruct));
}

// `Result` is an externally tagged enum `Ok(T) | Err(E)`.
impl<T: CacheVersion, E: CacheVersion> CacheVersion for Result<T, E> {
    const SHAPE: &'static Shape = &Shape::Named(
        &Named::new(
            "Result",
            Body::Enum {
                repr: EnumRepr::External,
                variants: &[
                    variant("Ok", Newtype, &[Field::new("", Ty::of::<T>())]),
                    variant("Err", Newtype, &[Field::new("", Ty::of::<E>())]),
                ],
            },
        )
        .with_args(&[ModelArg::of::<T>(), ModelArg::of::<E>()]),
    );
}

impl<T: CacheVersion> CacheVersion for Bound<T> {
    const SHAPE: &'static Shape = &Shape::Named(
        &Named::new(
            "Bound",
            Body::Enum {
                repr: EnumRepr::External,
                variants: &[
                    variant("Unbounded", UnitStyle, &[]),
                    variant("Included", Newtype, &[Field::new("", Ty::of::<T>())]),
                    variant("Excluded", Newtype, &[Field::new("", Ty::of::<T>())]),
                ],
            },
        )
        .with_args(&[ModelArg::of::<T>()]),
    );
}

impl<T: CacheVersion> CacheVersion for Range<T> {
    const SHAPE: &'static Shape = &Shape::Named(
        &Named::new(
            "Range",
            Body::Struct {
                tag: None,
                fields: &[f::<T>("start"), f::<T>("end")],
            },
        )
        .with_args(&[ModelArg::of::<T>()]),
    );
}

impl<T: CacheVersion> CacheVersion for RangeInclusive<T> {
    const SHAPE: &'static Shape = &Shape::Named(
        &Named::new(
            "RangeInclusive",
            Body::Struct {
                tag: None,
                fields: &[f::<T>("start"), f::<T>("end")],
            },
        )
        .with_args(&[ModelArg::of::<T>()]),
    );
}

impl<T: CacheVersion> CacheVersion for RangeFrom<T> {
    const SHAPE: &'static Shape = &Shape::Named(
        &Named::new(
            "RangeFrom",
            Body::Struct {
                tag: None,
                fields: &[f::<T>("start")],
            },
        )
        .with_args(&[ModelArg::of::<T>()]),
    );
}

impl<T: CacheVersion> CacheVersion for RangeTo<T> {
    const SHAPE: &'static Shape = &Shape::Named(
        &Named::new(
            "RangeTo",
            Body::Struct {
                tag: None,
                fields: &[f::<T>("end")],
            },
        )
        .with_args(&[ModelArg::of::<T>()]),
    );
}

#[diagnostic::do_not_recommend]
impl CacheVersion for Duration {
    const SHAPE: &'static Shape = &Shape::Named(&Named::new(
        "Duration",
        Body::Struct {
            tag: None,
            fields: &[f::<u64>("secs"), f::<u32>("nanos")],
        },
    ));
}

#[diagnostic::do_not_recommend]
impl CacheVersion for SystemTime {
    const SHAPE: &'static Shape = &Shape::Named(&Named::new(
        "SystemTime",
        Body::Struct {
            tag: None,
            fields: &[f::<u64>("secs_since_epoch"), f::<u32>("nanos_since_epoch")],
        },
    ));
}

// `OsStr` is the enum `Unix(bytes as a seq of u8) | Windows(seq of u16)`; each platform writes
// its own variant, and the shape names both so it does not depend on the platform.
#[diagnostic::do_not_recommend]
impl CacheVersion for OsStr {
    const SHAPE: &'static Shape = &Shape::Named(&Named::new(
        "OsString",
        Body::Enum {
            repr: EnumRepr::External,
            variants: &[
                variant("Unix", Newtype, &[Field::new("", Ty::of::<[u8]>())]),
                variant("Windows", Newtype, &[Field::new("", Ty::of::<[u16]>())]),
            ],
        },
    ));
}

transparent! {
    [] OsString => OsStr;
}

// Network addresses: a string in human-readable formats; in compact ones, octets as a tuple,
// and enums for the address families.
#[diagnostic::do_not_recommend]
impl CacheVersion for Ipv4Addr {
    const SHAPE: &'static Shape = &Shape::Readable {
        human: Ty::of::<str>(),
        compact: Ty::of::<[u8; 4]>(),
    };
}

#[diagnostic::do_not_recommend]
impl CacheVersion for Ipv6Addr {
    const SHAPE: &'static Shape = &Shape::Readable {
        human: Ty::of::<str>(),
        compact: Ty::of::<[u8; 16]>(),
    };
}

struct IpAddrCompact;
#[diagnostic::do_not_recommend]
impl CacheVersion for IpAddrCompact {
    const SHAPE: &'static Shape = &Shape::Named(&Named::new(
        "IpAddr",
        Body::Enum {
            repr: EnumRepr::External,
            variants: &[
                variant("V4", Newtype, &[Field::new("", Ty::of::<Ipv4Addr>())]),
                variant("V6", Newtype, &[Field::new("", Ty::of::<Ipv6Addr>())]),
            ],
        },
    ));
}

#[diagnostic::do_not_recommend]
impl CacheVersion for IpAddr {
    const SHAPE: &'static Shape = &Shape::Readable {
        human: Ty::of::<str>(),
        compact: Ty::of::<IpAddrCompact>(),
    };
}

#[diagnostic::do_not_recommend]
impl CacheVersion for SocketAddrV4 {
    const SHAPE: &'static Shape = &Shape::Readable {
        human: Ty::of::<str>(),
        compact: Ty::of::<(Ipv4Addr, u16)>(),
    };
}

#[diagnostic::do_not_recommend]
impl CacheVersion for SocketAddrV6 {
    const SHAPE: &'static Shape = &Shape::Readable {
        human: Ty::of::<str>(),
        compact: Ty::of::<(Ipv6Addr, u16)>(),
    };
}

struct SocketAddrCompact;
#[diagnostic::do_not_recommend]
impl CacheVersion for SocketAddrCompact {
    const SHAPE: &'static Shape = &Shape::Named(&Named::new(
        "SocketAddr",
        Body::Enum {
            repr: EnumRepr::External,
            variants: &[
                variant("V4", Newtype, &[Field::new("", Ty::of::<SocketAddrV4>())]),
                variant("V6", Newtype, &[Field::new("", Ty::of::<SocketAddrV6>())]),
            ],
        },
    ));
}

#[diagnostic::do_not_recommend]
impl CacheVersion for SocketAddr {
    const SHAPE: &'static Shape = &Shape::Readable {
        human: Ty::of::<str>(),
        compact: Ty::of::<SocketAddrCompact>(),
    };
}
