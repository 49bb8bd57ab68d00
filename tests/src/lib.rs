//! Cross-crate integration tests of cache-version (derive + core + redis). Unpublished.

pub mod models;
pub mod suite;
