//! A [`cache_version_core::Store`] on Redis and Redis Cluster, on the `redis` crate.
//!
//! ```no_run
//! use cache_version_redis::prelude::*;
//!
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let store = RedisStore::open("redis://127.0.0.1:6379").await?;
//! let cache = Cache::builder(store).namespace("prod").build()?;
//! // A cluster: the URLs of some of its nodes.
//! let cluster = RedisStore::open_cluster(&["redis://127.0.0.1:7000"]).await?;
//! # Ok(()) }
//! ```
//!
//! # One dependency
//! This crate re-exports the core crate ([`cache_version_core`]) and, in [`prelude`], what a
//! Redis user needs: the typed cache, the store types and errors. With the `derive` feature
//! it also re-exports `#[derive(CacheVersion)]`. The derive writes paths to
//! `::cache_version_core`, which only resolves when that crate is a direct dependency, so a
//! service that depends on this crate alone names the path on each model (as with serde's
//! `#[serde(crate = "…")]`):
//!
//! ```
//! // Cargo.toml: cache-version-redis = { version = "0.1", features = ["derive"] }
//! # #[cfg(feature = "derive")]
//! # mod with_derive {
//! use cache_version_redis::prelude::*;
//!
//! #[derive(CacheVersion)] // with serde's Serialize/Deserialize in a service
//! #[cache_version(crate = "cache_version_redis::cache_version_core")]
//! struct User {
//!     id: u64,
//!     name: String,
//! }
//!
//! const _: () = assert!(!User::VERSION.eq_const(&<u64 as CacheVersion>::VERSION));
//! # }
//! ```
//!
//! A service with many models may rather depend on `cache-version-core` too (same version),
//! and write no attribute.
//!
//! # Connections
//! - **One server**: [`RedisStore::builder`] / [`RedisStore::open`] with a
//!   `redis://[[user]:password@]host[:port][/db]` or `redis+unix:///path?db=N&pass=P` URL, or
//!   [`RedisStore::from_connection_manager`]. Commands go over one multiplexed connection
//!   that the store re-establishes itself: while a reconnect is under way, calls wait for it
//!   (within their response timeout); once an attempt has failed, calls fail at once with
//!   [`StoreError::Unavailable`](cache_version_core::StoreError::Unavailable) while attempts
//!   go on in the background (100 ms, doubling up to
//!   [`RedisConfig::max_reconnect_delay`]). An operation that saw its connection drop is
//!   sent once more, since every operation is idempotent (reads, `SET` of a given value,
//!   `UNLINK`, `SCAN`, `HSET`); after such a retry, `delete` may report `false` for a key the
//!   first attempt removed.
//! - **Cluster**: [`RedisStore::cluster_builder`] / [`RedisStore::open_cluster`] with the URLs
//!   of some nodes (any string items: `&["redis://…"]`, `Vec<String>`), or
//!   [`RedisStore::from_cluster_connection`]; through [`redis::cluster_async`], which follows
//!   `MOVED`/`ASK` and repairs node connections by itself (a few retries, 10-100 ms apart, so a
//!   dead node is reported as unavailable rather than as a timeout).
//! - **Starting without Redis**: [`RedisStoreBuilder::build_lazy`] returns at once and
//!   connects in the background; until then calls fail at once as unavailable, so a
//!   fail-open cache serves from its loaders. [`RedisStoreBuilder::build`] connects first and
//!   fails when it cannot. [`RedisStore::is_connected`] is there for readiness probes.
//! - **Errors retrying cannot fix** (wrong credentials, an ACL that denies a command, a
//!   database number the server does not have, a bad URL) are never retried, and their
//!   message says what to fix ([`RedisStoreError::is_retryable`]).
//! - **TLS**: `rediss://` URLs need the `tls` feature (rustls with the system's roots).
//! - **Timeouts** ([`RedisConfig`]): `connect_timeout` bounds each connect attempt;
//!   `response_timeout` bounds each attempt of an operation, including the wait for a
//!   connection being re-established, and is reported as
//!   [`StoreError::Timeout`](cache_version_core::StoreError::Timeout). Single-key calls are
//!   bounded by [`call_bound`](cache_version_core::Store::call_bound) (twice the response
//!   timeout on one server, once on a cluster); batches are not, see below.
//! - **Secrets**: `Debug` of the store and the builder, every error (and its `source()`
//!   chain) and every log line show URLs with the password replaced by `***`, however the URL
//!   is written ([`redact_url`]).
//!
//! # Batches: time and memory
//! `get_many`, `set_many`, `delete_many`, `set_many_if_absent` and `set_many_and_delete` go
//! in chunks: at most [`batch_chunk`](RedisConfig::batch_chunk) entries (1000) and about
//! [`batch_bytes`](RedisConfig::batch_bytes) (1 MiB) of keys and values per pipeline,
//! [`batch_concurrency`](RedisConfig::batch_concurrency) (4) chunks in flight (per primary on a
//! cluster). A chunk is encoded when it is sent, and its response timeout starts then, so a
//! batch of any size succeeds as long as each chunk answers in time: the caller's own
//! timeout, not a per-chunk bound, limits the whole batch. Time: about
//! `chunks / batch_concurrency` chunk round trips (100,000 entries of 200 bytes: 0.1-1.3 s on
//! one local server, 1.1-2.2 s on a local 3-primary cluster). Memory beyond the caller's
//! entries and the answers: at most `batch_concurrency` encoded chunks (4 MiB by default).
//!
//! # Commands
//! | operation | one server | cluster |
//! |---|---|---|
//! | `get` | `GET` | `GET` |
//! | `get_with_ttl` | `GET` + `PTTL` pipelined | the same (one key, one slot) |
//! | `set` | `SET key value [PX ms]` | the same |
//! | `get_many` | `MGET` per `batch_chunk` keys | per primary, pipelines of an `MGET` per slot ([`ClusterWrites`]) |
//! | `set_many` | `SET`s pipelined per chunk | per primary, pipelines of `SET`s |
//! | `delete`, `delete_many` | `UNLINK` per `unlink_chunk` keys | per primary, pipelines of an `UNLINK` per slot and chunk |
//! | `set_many_and_delete` | one pipeline of the `SET`s and `UNLINK`s (chunked when large, writes first) | the same per primary |
//! | `hash_put` | `HSET` + `PEXPIRE` + `HGETALL` pipelined | the same (one key) |
//! | `hash_get_all`, `hash_remove` | `HGETALL`, `HDEL` | the same |
//! | `scan_prefix` | `INFO server` + `SCAN cursor MATCH <escaped prefix>* COUNT n` pipelined | the same on every primary in turn |
//! | `watch` | a RESP3 connection of its own: `CLIENT TRACKING ON BCAST PREFIX <prefix>`, then `PING` every second | the same to every primary, and `CLUSTER SLOTS` every second |
//!
//! Missing keys read as `None` (values are decoded as `Option<Vec<u8>>`; an empty value stays
//! an empty value). Keys are bytes and go to Redis unchanged, so a `{hash tag}` in a logical
//! key decides the slot ([`key_slot`]).
//!
//! # Scans
//! `scan_prefix` escapes `* ? [ ] \` of the prefix ([`prefix_pattern`]) and filters the
//! answer by the exact byte prefix as well. `count` is `SCAN`'s `COUNT` (0: the configured
//! [`RedisConfig::scan_count`], 1000 by default). On a cluster a plain `SCAN` sees one node,
//! so the walk visits every primary in turn, ordered by the lowest slot each owns.
//!
//! A `SCAN` cursor only means something to the server that issued it. Each page therefore
//! pipelines `INFO server` with the `SCAN` and keeps the server's `run_id` in the opaque
//! cursor; on a cluster the cursor also keeps a fingerprint of the slot map, checked each
//! time a primary is done. When the `run_id` changed (the server restarted, a reconnect or a
//! failover reached another node) or the slot map changed (a failover, a resharding), the
//! walk starts again from the beginning and the page says
//! [`restarted`](cache_version_core::ScanPage::restarted): keys may repeat, but every key
//! present for the whole walk is returned at least once. (If the ACL denies `INFO`, scans
//! cannot see a restart; the store logs a warning once.)
//!
//! # Local tier coherence
//! [`Store::watch`](cache_version_core::Store::watch) reports every change of the keys under a
//! prefix, whoever makes it, through Redis' server-assisted client-side caching in
//! broadcasting mode: each watch opens its own RESP3 connection to every primary (the one
//! server, or each primary of a cluster, read from `CLUSTER SLOTS` every second) and sends
//! `CLIENT TRACKING ON BCAST PREFIX <prefix>`. Redis then pushes the keys that change under
//! the prefix: writes by any client, `DEL`/`UNLINK`, TTL expiries and evictions; `FLUSHALL`
//! and `FLUSHDB` come as a flush. Each push reaches the watch from the connection's reader,
//! with no task in between: on loopback a write by another connection is reported at a p50 of
//! 25-230 µs and a p99 of 0.16-1.7 ms, usually before the writer has its own `OK` back
//! (`invalidation_latency` example, 2 cores; the idle machine is the slower one).
//!
//! A tracking connection that drops (a restart, `CLIENT KILL`, a network error) or leaves a
//! `PING` (sent every second) unanswered within
//! [`response_timeout`](RedisConfig::response_timeout) makes the watch
//! [`Lost`](cache_version_core::WatchEvent::Lost); it is reopened with backoff (100 ms,
//! doubling up to [`max_reconnect_delay`](RedisConfig::max_reconnect_delay)) and the watch is
//! [`Established`](cache_version_core::WatchEvent::Established) again once every primary
//! tracks. A change of a cluster's primaries is a lost period too. What stays unseen: a write
//! made on a primary the watch does not know yet (after a failover that kept the old
//! primary's connection up, until the next `CLUSTER SLOTS`, at most about a second). Every
//! write is reported to every watch, the writer's own included (broadcasting mode cannot
//! tell writers apart).
//!
//! A refusal no retry fixes ends the watch with [`Watch::error`](cache_version_core::Watch::error)
//! (redacted like every message of this crate): wrong credentials, an ACL without `CLIENT`
//! (the user needs `CLIENT TRACKING`, `HELLO` and `PING`), a server older than Redis 6. A
//! store made from a caller's `ConnectionManager` or cluster connection cannot watch (it has
//! no address to open connections to): `watch` returns `None`.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod builder;
mod cluster;
mod config;
mod error;
mod keys;
mod link;
mod store;
mod tracking;

pub use builder::RedisStoreBuilder;
pub use config::{ClusterWrites, RedisConfig};
pub use error::{redact_url, ErrorKind, RedactedDriverError, RedisStoreError};
pub use keys::{key_slot, prefix_pattern, SLOTS};
pub use store::RedisStore;

/// The `redis` crate this store is built on (for [`RedisStore::from_connection_manager`] and
/// [`RedisStore::from_cluster_connection`]).
pub use redis;

/// The core crate: the typed cache, the `Store` trait, versions, codecs and the rollout tools
/// (see [One dependency](crate#one-dependency)).
pub use cache_version_core;

/// What a service on Redis needs, in one `use`:
///
/// ```no_run
/// use cache_version_redis::prelude::*;
///
/// struct AppState {
///     cache: Cache<DynStore>,
/// }
///
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisStore::builder("redis://127.0.0.1:6379").build_lazy()?;
/// let state = AppState { cache: Cache::builder(DynStore::new(store)).namespace("prod").build()? };
/// # Ok(()) }
/// ```
///
/// With the `derive` feature, `CacheVersion` is the derive as well as the trait.
pub mod prelude {
    pub use crate::{ClusterWrites, RedisConfig, RedisStore, RedisStoreBuilder, RedisStoreError};
    pub use cache_version_core::{
        Cache, CacheBuilder, CacheError, CacheVersion, DynStore, FailureMode, MemoryStore,
        ModelHandle, Store, StoreError,
    };
}
