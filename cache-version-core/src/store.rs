//! [`Store`]: the byte-level storage under the typed cache.
//!
//! A store maps byte keys to byte values with an optional time to live. It knows nothing of
//! models, versions or codecs; the typed cache builds the keys and the values. Implementations:
//! [`crate::MemoryStore`] here, `RedisStore` in the `cache-version-redis` crate.
//!
//! The methods return `impl Future + Send` (no `async-trait`), so a store is usable from
//! multi-threaded runtimes and inside `tokio::spawn`. The batch methods have defaults that loop
//! over the single-key ones; a networked store should override them.
//!
//! Conventions every implementation follows:
//! - A missing or expired key reads as `None`, never as an empty value.
//! - `ttl: None` means no expiry. A `Some` TTL below one millisecond may be rounded up to one
//!   millisecond (Redis' `PX` granularity); the typed cache never asks for less.
//! - `scan_prefix` walks the keys starting with a byte prefix in pages. The prefix is literal:
//!   a store that matches with glob patterns escapes it. A key present for the whole walk is
//!   returned at least once; keys written or deleted during the walk may or may not be.

use std::future::Future;
use std::time::Duration;

/// A boxed error from a store's backend.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A value and its remaining time to live (`None`: it does not expire), as
/// [`Store::get_with_ttl`] returns it.
pub type ValueAndTtl = (Vec<u8>, Option<Duration>);

/// An error from a [`Store`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The operation did not finish within the bound.
    #[error("store operation timed out after {0:?}")]
    Timeout(Duration),
    /// The store could not be reached (connection refused, reset, not yet reconnected).
    #[error("store unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// The value is larger than the store accepts.
    #[error("value of {size} bytes is larger than the store's limit of {limit} bytes")]
    TooLarge {
        /// The entry's size.
        size: usize,
        /// The store's limit.
        limit: usize,
    },
    /// Any other error of the backend.
    #[error("store error: {0}")]
    Backend(#[source] BoxError),
}

impl StoreError {
    /// Wraps a backend error.
    pub fn backend(e: impl Into<BoxError>) -> Self {
        StoreError::Backend(e.into())
    }

    /// Wraps a connection error.
    pub fn unavailable(e: impl Into<BoxError>) -> Self {
        StoreError::Unavailable(e.into())
    }

    /// Whether the error is a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, StoreError::Timeout(_))
    }
}

/// One entry of [`Store::set_many`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetEntry {
    /// The key.
    pub key: Vec<u8>,
    /// The value.
    pub value: Vec<u8>,
    /// The time to live; `None` for no expiry.
    pub ttl: Option<Duration>,
}

/// Where a [`Store::scan_prefix`] walk resumes. Opaque to callers: start with
/// [`ScanCursor::start`] and pass back what the previous page returned.
///
/// Stores encode their own position in the bytes (the memory store: a shard and the last key;
/// a cluster store: a node and that node's cursor).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ScanCursor(Vec<u8>);

impl ScanCursor {
    /// The start of a walk.
    pub fn start() -> Self {
        ScanCursor(Vec::new())
    }

    /// Whether this is the start of a walk.
    pub fn is_start(&self) -> bool {
        self.0.is_empty()
    }

    /// For store implementations: a cursor holding `state` (never empty for a cursor that is
    /// not the start).
    pub fn from_bytes(state: Vec<u8>) -> Self {
        ScanCursor(state)
    }

    /// For store implementations: the state bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// One page of a [`Store::scan_prefix`] walk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanPage {
    /// Keys found on this page (possibly none, even when the walk is not finished).
    pub keys: Vec<Vec<u8>>,
    /// Where to resume; `None` when the walk is finished.
    pub cursor: Option<ScanCursor>,
}

/// Byte-level storage with TTLs: what the typed cache runs on.
pub trait Store: Send + Sync + 'static {
    /// Reads one value.
    fn get(&self, key: &[u8]) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;

    /// Reads one value and its remaining time to live (`None` when it does not expire).
    fn get_with_ttl(
        &self,
        key: &[u8],
    ) -> impl Future<Output = Result<Option<ValueAndTtl>, StoreError>> + Send;

    /// Writes one value, replacing any previous one and its TTL.
    fn set(
        &self,
        key: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Writes one value only if the key holds none; `true` when it wrote. The TTL applies
    /// to the new value.
    ///
    /// The migration write-back uses it so a value migrated from an older version never
    /// replaces one a newer writer stored meanwhile. Stores that can do it atomically (both
    /// of this crate's, Redis with `SET … NX`) override it; the default reads, then writes
    /// when the read found nothing, which leaves a window between the two.
    fn set_if_absent(
        &self,
        key: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        async move {
            if self.get(key).await?.is_some() {
                return Ok(false);
            }
            self.set(key, value, ttl).await?;
            Ok(true)
        }
    }

    /// [`Store::set_if_absent`] for many entries, each on its own (not atomic as a whole);
    /// one result per entry, in order. The default calls `set_if_absent` entry by entry.
    fn set_many_if_absent(
        &self,
        entries: &[SetEntry],
    ) -> impl Future<Output = Result<Vec<bool>, StoreError>> + Send {
        async move {
            let mut out = Vec::with_capacity(entries.len());
            for e in entries {
                out.push(self.set_if_absent(&e.key, &e.value, e.ttl).await?);
            }
            Ok(out)
        }
    }

    /// Deletes one key; `true` when it existed.
    fn delete(&self, key: &[u8]) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Reads many values; the result has one slot per key, in order.
    fn get_many(
        &self,
        keys: &[Vec<u8>],
    ) -> impl Future<Output = Result<Vec<Option<Vec<u8>>>, StoreError>> + Send {
        async move {
            let mut out = Vec::with_capacity(keys.len());
            for key in keys {
                out.push(self.get(key).await?);
            }
            Ok(out)
        }
    }

    /// Writes many values, each with its own TTL. Not atomic: on error, some may be written.
    fn set_many(
        &self,
        entries: &[SetEntry],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            for e in entries {
                self.set(&e.key, &e.value, e.ttl).await?;
            }
            Ok(())
        }
    }

    /// Deletes many keys; returns how many existed.
    fn delete_many(
        &self,
        keys: &[Vec<u8>],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        async move {
            let mut n = 0;
            for key in keys {
                n += u64::from(self.delete(key).await?);
            }
            Ok(n)
        }
    }

    /// One page of the keys that start with `prefix`, about `count` of them (a hint).
    fn scan_prefix(
        &self,
        prefix: &[u8],
        cursor: ScanCursor,
        count: usize,
    ) -> impl Future<Output = Result<ScanPage, StoreError>> + Send;

    /// The longest any call of this store takes before it returns on its own (with a timeout
    /// error at worst), when the store bounds its calls itself; `None` (the default) when it
    /// does not.
    ///
    /// A [`Cache`](crate::Cache) whose timeout is at least this bound relies on it and starts
    /// no timer of its own around `get`, `set`, `delete` and the batch calls (one timer per
    /// call instead of two). A store must only return a bound it enforces on every one of
    /// those calls, retries included: a wrapper that adds delays must not forward it.
    fn call_bound(&self) -> Option<Duration> {
        None
    }
}

/// `Arc<S>` and `Box<S>` are stores too.
macro_rules! forward_store {
    ($($ty:ty),*) => {$(
        impl<S: Store> Store for $ty {
            fn get(&self, key: &[u8]) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send {
                (**self).get(key)
            }
            fn get_with_ttl(
                &self,
                key: &[u8],
            ) -> impl Future<Output = Result<Option<ValueAndTtl>, StoreError>> + Send {
                (**self).get_with_ttl(key)
            }
            fn set(
                &self,
                key: &[u8],
                value: &[u8],
                ttl: Option<Duration>,
            ) -> impl Future<Output = Result<(), StoreError>> + Send {
                (**self).set(key, value, ttl)
            }
            fn set_if_absent(
                &self,
                key: &[u8],
                value: &[u8],
                ttl: Option<Duration>,
            ) -> impl Future<Output = Result<bool, StoreError>> + Send {
                (**self).set_if_absent(key, value, ttl)
            }
            fn set_many_if_absent(
                &self,
                entries: &[SetEntry],
            ) -> impl Future<Output = Result<Vec<bool>, StoreError>> + Send {
                (**self).set_many_if_absent(entries)
            }
            fn delete(&self, key: &[u8]) -> impl Future<Output = Result<bool, StoreError>> + Send {
                (**self).delete(key)
            }
            fn get_many(
                &self,
                keys: &[Vec<u8>],
            ) -> impl Future<Output = Result<Vec<Option<Vec<u8>>>, StoreError>> + Send {
                (**self).get_many(keys)
            }
            fn set_many(&self, entries: &[SetEntry]) -> impl Future<Output = Result<(), StoreError>> + Send {
                (**self).set_many(entries)
            }
            fn delete_many(&self, keys: &[Vec<u8>]) -> impl Future<Output = Result<u64, StoreError>> + Send {
                (**self).delete_many(keys)
            }
            fn scan_prefix(
                &self,
                prefix: &[u8],
                cursor: ScanCursor,
                count: usize,
            ) -> impl Future<Output = Result<ScanPage, StoreError>> + Send {
                (**self).scan_prefix(prefix, cursor, count)
            }
            fn call_bound(&self) -> Option<Duration> {
                (**self).call_bound()
            }
        }
    )*};
}

forward_store!(std::sync::Arc<S>, Box<S>);
