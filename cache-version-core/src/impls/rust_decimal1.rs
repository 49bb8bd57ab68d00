//! Impls for rust_decimal 1 (feature `rust_decimal1`). Each describes what rust_decimal's own
//! serde impl writes (rust_decimal 1.43, `src/serde.rs`), not the Rust type.

use rust_decimal::Decimal;

use crate::shape::Shape;
use crate::CacheVersion;

// `src/serde.rs`, with the `serde` feature that `rust_decimal1` turns on:
// `serialize_str` of the decimal's text (`"1.50"`, scale kept), for every format.
//
// rust_decimal's `serde-float` feature (or `serde-arbitrary-precision`) replaces that impl with
// `serialize_f64` (or a serde_json number); it is off by default, but features are unified, so
// a build where another crate turns it on writes a number, not this shape. Keep `serde-float`
// off, or write such fields with `#[serde(with = "rust_decimal::serde::str")]` (rust_decimal's
// `serde-with-str` feature), which always writes a string.
#[diagnostic::do_not_recommend]
impl CacheVersion for Decimal {
    const SHAPE: &'static Shape = &Shape::Str;
}
