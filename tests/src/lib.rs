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
