//! Impls for indexmap 2 (feature `indexmap2`). Each describes what indexmap's own serde impl
//! writes (indexmap 2.14, `src/serde.rs` and `src/map/serde_seq.rs`), not the Rust type.

use indexmap::{map, set, IndexMap, IndexSet};

use crate::shape::{Shape, Ty};
use crate::CacheVersion;

// `src/serde.rs`: `collect_map` of the entries, whatever the hasher `S` (like `HashMap`).
impl<K: CacheVersion, V: CacheVersion, S> CacheVersion for IndexMap<K, V, S> {
    const SHAPE: &'static Shape = &Shape::Map(Ty::of::<K>(), Ty::of::<V>());
}

// `src/serde.rs`: `collect_seq` of the elements, whatever the hasher `S` (like `HashSet`).
impl<T: CacheVersion, S> CacheVersion for IndexSet<T, S> {
    const SHAPE: &'static Shape = &Shape::Seq(Ty::of::<T>());
}

// `src/map/serde_seq.rs`: a map slice is `collect_seq` of its `(key, value)` pairs (a seq of
// 2-tuples, unlike the whole map).
impl<K: CacheVersion, V: CacheVersion> CacheVersion for map::Slice<K, V> {
    const SHAPE: &'static Shape = &Shape::Seq(Ty::of::<(K, V)>());
}

// `src/map/serde_seq.rs`: a set slice is `collect_seq` of its elements.
impl<T: CacheVersion> CacheVersion for set::Slice<T> {
    const SHAPE: &'static Shape = &Shape::Seq(Ty::of::<T>());
}
