//! `CacheVersion` impls for std and, behind features, for popular crates. One file each,
//! named with the crate's major version.

mod std;

#[cfg(feature = "bytes1")]
mod bytes1;
#[cfg(feature = "chrono04")]
mod chrono04;
#[cfg(feature = "indexmap2")]
mod indexmap2;
#[cfg(feature = "rust_decimal1")]
mod rust_decimal1;
#[cfg(feature = "serde_json1")]
mod serde_json1;
#[cfg(feature = "smallvec1")]
mod smallvec1;
#[cfg(feature = "time03")]
mod time03;
#[cfg(feature = "url2")]
mod url2;
#[cfg(feature = "uuid1")]
mod uuid1;
