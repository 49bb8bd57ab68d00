//! Support for direct self-recursion in derived types (implementation details of the derive).
//!
//! Inside its own definition a type is replaced by [`SelfRef`] (shape `self`: "the innermost
//! enclosing named type"), which needs no recursive constant. That reading is right only when
//! no other named type stands between the occurrence and the type, so the derive asserts, for
//! each occurrence, that the path from the field's type to it goes through std's structural
//! and transparent wrappers only: [`SelfRefPath`] is implemented for those (however they are
//! spelled: a type alias or a full path resolves to the same type) and for nothing else.
//!
//! Where the derive cannot tell from the tokens whether a type is the type itself (a
//! projection `<Self as Trait>::Assoc`, a qualified path `crate::Node`), it writes
//! [`MaybeSelf`], which the compiler resolves: its shape is `self` when the type turns out to
//! be the derived type, and that type's own shape otherwise.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};
use std::marker::PhantomData;
use std::num::{Saturating, Wrapping};
use std::rc::Rc;
use std::sync::{Arc, Mutex, RwLock};

use crate::shape::Shape;
use crate::version::Version;
use crate::CacheVersion;

/// The stand-in for a type inside its own definition (`children: Vec<Self>`): its shape is
/// [`Shape::SelfRef`], so a self-recursive type needs no recursive constant.
#[derive(Clone, Copy)]
pub enum SelfRef {}

#[diagnostic::do_not_recommend]
impl CacheVersion for SelfRef {
    const SHAPE: &'static Shape = &Shape::SelfRef;
}

/// A path from a field's type to a self reference that keeps the back reference's meaning:
/// only std's structural and transparent wrappers (`()` stands for the other arguments).
#[diagnostic::on_unimplemented(
    message = "a field holds its own type through `{Self}`, which is not a std wrapper",
    label = "direct recursion through a type that is not a std wrapper",
    note = "`SelfRef` stands for the type being derived: a field may hold its own type only \
            through std's Option, Box, Vec, maps, sets, tuples, arrays, Rc/Arc and references \
            (the back reference `self` would otherwise mean the inner type); describe this \
            field with `#[cache_version(as = \"...\")]` (a type of yours without the back \
            edge), or mark it `#[cache_version(opaque)]` and `bump` when it changes \
            (cache_version_core::attributes, \"Recursion\")"
)]
pub trait SelfRefPath {}

impl SelfRefPath for SelfRef {}
impl SelfRefPath for () {}
// Serde's unit struct `PhantomData`, whatever it holds: a self reference inside is never
// part of the shape.
impl<T: ?Sized> SelfRefPath for PhantomData<T> {}

macro_rules! path_impls {
    ($([$($gen:tt)*] $ty:ty;)*) => {
        $(impl<$($gen)*> SelfRefPath for $ty {})*
    };
}

path_impls! {
    [T: SelfRefPath] Option<T>;
    [T: SelfRefPath + ?Sized] Box<T>;
    [T: SelfRefPath + ?Sized] Rc<T>;
    [T: SelfRefPath + ?Sized] Arc<T>;
    [T: SelfRefPath + ?Sized] std::rc::Weak<T>;
    [T: SelfRefPath + ?Sized] std::sync::Weak<T>;
    ['a, T: SelfRefPath + ?Sized] &'a T;
    ['a, T: SelfRefPath + ?Sized] &'a mut T;
    ['a, T: SelfRefPath + ?Sized + ToOwned] Cow<'a, T>;
    [T: SelfRefPath] Cell<T>;
    [T: SelfRefPath + ?Sized] RefCell<T>;
    [T: SelfRefPath + ?Sized] Mutex<T>;
    [T: SelfRefPath + ?Sized] RwLock<T>;
    [T: SelfRefPath] Wrapping<T>;
    [T: SelfRefPath] Saturating<T>;
    [T: SelfRefPath] Reverse<T>;
    [T: SelfRefPath] [T];
    [T: SelfRefPath, const N: usize] [T; N];
    [T: SelfRefPath] Vec<T>;
    [T: SelfRefPath] VecDeque<T>;
    [T: SelfRefPath] LinkedList<T>;
    [T: SelfRefPath] BinaryHeap<T>;
    [T: SelfRefPath] BTreeSet<T>;
    [T: SelfRefPath, S] HashSet<T, S>;
    [K: SelfRefPath, V: SelfRefPath] BTreeMap<K, V>;
    [K: SelfRefPath, V: SelfRefPath, S] HashMap<K, V, S>;
}

#[cfg(feature = "indexmap2")]
path_impls! {
    [K: SelfRefPath, V: SelfRefPath, S] indexmap::IndexMap<K, V, S>;
    [T: SelfRefPath, S] indexmap::IndexSet<T, S>;
}

#[cfg(feature = "smallvec1")]
path_impls! {
    [A: smallvec::Array] smallvec::SmallVec<A>;
}

macro_rules! tuple_impls {
    ($(($($name:ident),+))*) => {
        $(impl<$($name: SelfRefPath),+> SelfRefPath for ($($name,)+) {})*
    };
}

tuple_impls! {
    (A)
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
    (A, B, C, D, E, F, G)
    (A, B, C, D, E, F, G, H)
    (A, B, C, D, E, F, G, H, I)
    (A, B, C, D, E, F, G, H, I, J)
    (A, B, C, D, E, F, G, H, I, J, K)
    (A, B, C, D, E, F, G, H, I, J, K, L)
    (A, B, C, D, E, F, G, H, I, J, K, L, M)
    (A, B, C, D, E, F, G, H, I, J, K, L, M, N)
    (A, B, C, D, E, F, G, H, I, J, K, L, M, N, O)
    (A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P)
}

/// Type-checks only when `T` is a [`SelfRefPath`] (called from a function that never runs).
pub fn self_ref_path<T: SelfRefPath + ?Sized>() {}

/// `Skeleton` must be a [`SelfRefPath`] when `IS_SELF` (a [`MaybeSelf`] that is the type).
pub struct CheckIf<const IS_SELF: bool, Skeleton: ?Sized>(PhantomData<Skeleton>);

/// The proof behind [`self_ref_path_if`].
pub trait Checked {}
impl<S: ?Sized> Checked for CheckIf<false, S> {}
impl<S: SelfRefPath + ?Sized> Checked for CheckIf<true, S> {}

/// Type-checks only when `C` holds (called from a function that never runs).
pub fn self_ref_path_if<C: Checked + ?Sized>() {}

/// A type that may be the derived type itself: the shape `self` when `IS_SELF` (decided by the
/// compiler, see the module docs), `T`'s own otherwise. `T`'s constants are reached through
/// functions so that the branch not taken is never evaluated (it would be a cycle).
pub struct MaybeSelf<T: ?Sized, const IS_SELF: bool>(PhantomData<T>);

impl<T: CacheVersion + ?Sized, const IS_SELF: bool> CacheVersion for MaybeSelf<T, IS_SELF> {
    const SHAPE: &'static Shape = if IS_SELF {
        &Shape::SelfRef
    } else {
        shape_of::<T>()
    };
    const VERSION: Version = if IS_SELF {
        <SelfRef as CacheVersion>::VERSION
    } else {
        version_of::<T>()
    };
}

const fn shape_of<T: CacheVersion + ?Sized>() -> &'static Shape {
    T::SHAPE
}

const fn version_of<T: CacheVersion + ?Sized>() -> Version {
    T::VERSION
}

/// The fallback of a derive's local `__SelfProbe<T>`: `T` is not the derived type. The derive
/// adds an inherent `IS_SELF = true` for the type itself, which takes precedence.
pub trait NotSelf {
    /// `false`: not the derived type.
    const IS_SELF: bool = false;
}
