//! A [`cache_version_core::Store`] on Redis and Redis Cluster, on the `redis` crate.
//!
//! ```no_run
//! use cache_version_core::Cache;
//! use cache_version_redis::RedisStore;
//!
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let store = RedisStore::open("redis://127.0.0.1:6379").await?;
//! let cache = Cache::builder(store).namespace("prod").build()?;
//! # Ok(()) }
//! ```
//!
//! # Connections
//! - **One server**: [`RedisStore::builder`] / [`RedisStore::open`] with a
//!   `redis://[user][:password@]host[:port][/db]` URL, or [`RedisStore::from_connection_manager`].
//!   Commands go through a [`redis::aio::ConnectionManager`] (one multiplexed connection that
//!   reconnects in the background). The manager does not retry the command that saw the
//!   connection drop; this store does, once, since every operation it sends is idempotent
//!   (reads, `SET` of a given value, `UNLINK`, `SCAN`). After such a retry, `delete` may
//!   report `false` for a key the first attempt removed.
//! - **Cluster**: [`RedisStore::cluster_builder`] / [`RedisStore::open_cluster`] with the URLs
//!   of some nodes, or [`RedisStore::from_cluster_connection`]; through
//!   [`redis::cluster_async`], which follows `MOVED`/`ASK` and retries by itself.
//! - **TLS**: `rediss://` URLs need the `tls` feature (rustls with the system's roots).
//! - **Timeouts** ([`RedisConfig`]): `connect_timeout` bounds each connect attempt;
//!   `response_timeout` bounds each attempt of an operation, including the wait for a
//!   connection being re-established, and is reported as
//!   [`StoreError::Timeout`](cache_version_core::StoreError::Timeout). Put the typed cache's
//!   own timeout at or above it.
//! - **Secrets**: `Debug` of the store and the builder, and every error, show URLs with the
//!   password replaced by `***`; errors carry the driver's message as scrubbed text, never
//!   the driver's error itself. See [`redact_url`].
//!
//! # Commands
//! | operation | one server | cluster |
//! |---|---|---|
//! | `get` | `GET` | `GET` |
//! | `get_with_ttl` | `GET` + `PTTL` pipelined | the same (one key, one slot) |
//! | `set` | `SET key value [PX ms]` | the same |
//! | `get_many` | `MGET` per `batch_chunk` keys, concurrently | per primary, one pipeline of an `MGET` per slot ([`ClusterWrites`]) |
//! | `set_many` | `SET`s pipelined per `batch_chunk`, concurrently | per primary, one pipeline of `SET`s |
//! | `delete`, `delete_many` | `UNLINK` per `unlink_chunk` keys | per primary, one pipeline of an `UNLINK` per slot and chunk |
//! | `scan_prefix` | `SCAN cursor MATCH <escaped prefix>* COUNT n` | the same on every primary in turn |
//!
//! Missing keys read as `None` (values are decoded as `Option<Vec<u8>>`; an empty value stays
//! an empty value). Keys are bytes and go to Redis unchanged, so a `{hash tag}` in a logical
//! key decides the slot ([`key_slot`]).
//!
//! # Scans
//! `scan_prefix` escapes `* ? [ ] \` of the prefix ([`prefix_pattern`]) and filters the
//! answer by the exact byte prefix as well. `count` is `SCAN`'s `COUNT` (0: the configured
//! [`RedisConfig::scan_count`], 1000 by default). On a cluster a plain `SCAN` sees one node,
//! so the walk visits every primary in turn, ordered by the lowest slot each owns; the
//! opaque cursor holds (node index, the node's lowest slot, the node's cursor). A key that
//! moves between nodes during a walk (resharding) may be missed or seen twice.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod builder;
mod cluster;
mod config;
mod error;
mod keys;
mod link;
mod store;

pub use builder::RedisStoreBuilder;
pub use config::{ClusterWrites, RedisConfig};
pub use error::{redact_url, ErrorKind, RedactedDriverError, RedisStoreError};
pub use keys::{key_slot, prefix_pattern, SLOTS};
pub use store::RedisStore;

/// The `redis` crate this store is built on (for [`RedisStore::from_connection_manager`] and
/// [`RedisStore::from_cluster_connection`]).
pub use redis;
