//! Impls for bytes 1 (feature `bytes1`). Each describes what bytes' own serde impl writes
//! (bytes 1.12, `src/serde.rs`), not the Rust type.

use bytes::{Bytes, BytesMut};

use crate::shape::Shape;
use crate::CacheVersion;

// `src/serde.rs`: `serialize_bytes` of the contents, for every format.
#[diagnostic::do_not_recommend]
impl CacheVersion for Bytes {
    const SHAPE: &'static Shape = &Shape::Bytes;
}

// `src/serde.rs`: `serialize_bytes` of the contents, as for `Bytes`.
#[diagnostic::do_not_recommend]
impl CacheVersion for BytesMut {
    const SHAPE: &'static Shape = &Shape::Bytes;
}
