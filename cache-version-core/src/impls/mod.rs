//! `CacheVersion` impls for std and, behind features, for popular crates. One file each,
//! named with the crate's major version.

mod std;
