//! Cross-crate integration tests of cache-version (derive + core + redis). Unpublished.

pub mod coherence;
pub mod contract;
pub mod integrity;
pub mod local;
pub mod models;
pub mod redis_harness;
pub mod restartable;
pub mod rollout;
pub mod skew;
pub mod suite;

/// The root README's examples, compiled and run as doctests by `cargo test --workspace`. They
/// are here, in the unpublished tests crate, because a published crate's package cannot
/// include a file outside its own directory.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The published crates' own READMEs (shown on crates.io), tested the same way.
#[cfg(doctest)]
#[doc = include_str!("../../cache-version-core/README.md")]
pub struct CoreReadmeDoctests;

/// See [`CoreReadmeDoctests`].
#[cfg(doctest)]
#[doc = include_str!("../../cache-version-derive/README.md")]
pub struct DeriveReadmeDoctests;

/// See [`CoreReadmeDoctests`].
#[cfg(doctest)]
#[doc = include_str!("../../cache-version-redis/README.md")]
pub struct RedisReadmeDoctests;
