//! Impls for smallvec 1 (feature `smallvec1`). Each describes what smallvec's own serde impl
//! writes (smallvec 1.16, `src/lib.rs`), not the Rust type.

use smallvec::{Array, SmallVec};

use crate::shape::{Shape, Ty};
use crate::CacheVersion;

// `src/lib.rs`: `serialize_seq` of the elements, whatever the inline capacity (like `Vec`).
impl<A: Array> CacheVersion for SmallVec<A>
where
    A::Item: CacheVersion,
{
    const SHAPE: &'static Shape = &Shape::Seq(Ty::of::<A::Item>());
}
