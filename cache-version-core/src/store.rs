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
//!   returned at least once; keys written or deleted during the walk may or may not be. A
//!   store that loses its place (a server restarted, a failover) starts the walk again and
//!   says so with [`ScanPage::restarted`].
//! - Hash records (`hash_put`, `hash_get_all`, `hash_remove`) are small maps of fields to
//!   values under one key with one TTL, for bookkeeping such as a registry of live versions.
//!   They live in the same key space as plain values (a `scan_prefix` sees them), and a key
//!   holds either a value or a hash record, never both. Fields come back sorted by name.
//!
//! [`DynStore`] erases the type of a store (boxed futures), for application state that should
//! not be generic over its store.
//!
//! [`Store::watch`] reports changes to keys under a prefix ([`Watch`], see [`watch`]), for a
//! local tier of decoded values kept coherent by the store itself.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub mod watch;

pub use watch::{Watch, WatchEvent, WatchSender};

/// A boxed error from a store's backend.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A value and its remaining time to live (`None`: it does not expire), as
/// [`Store::get_with_ttl`] returns it.
pub type ValueAndTtl = (Vec<u8>, Option<Duration>);

/// The fields of a hash record and their values, sorted by field, as [`Store::hash_put`] and
/// [`Store::hash_get_all`] return them.
pub type HashFields = Vec<(Vec<u8>, Vec<u8>)>;

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
    /// The store lost its place (its server restarted, a failover or a reconnect reached
    /// another node, a cluster's primaries changed) and this page starts the walk again from
    /// the beginning: keys returned by earlier pages may be returned again. The walk still
    /// returns every key present for its whole duration at least once. A caller that counts
    /// keys (a sweep's report) must not count the repeats twice.
    pub restarted: bool,
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

    /// Writes `sets` and deletes `deletes` together, in one round trip where the store allows
    /// it; returns how many of `deletes` existed. Not atomic: on error, some of either may have
    /// been applied. On each key, the writes come before the deletes, so a key in both lists
    /// ends up deleted.
    ///
    /// The typed cache uses it for cross-version invalidation: a write of a key under one
    /// version deletes the same logical key under the other live versions in the same trip.
    /// The default calls [`Store::set_many`], then [`Store::delete_many`] (two trips), and
    /// skips an empty list.
    fn set_many_and_delete(
        &self,
        sets: &[SetEntry],
        deletes: &[Vec<u8>],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        async move {
            if !sets.is_empty() {
                self.set_many(sets).await?;
            }
            if deletes.is_empty() {
                return Ok(0);
            }
            self.delete_many(deletes).await
        }
    }

    /// Sets one field of the hash record at `key` (creating the record when missing) and,
    /// when `ttl` is `Some`, the whole record's time to live (`None` leaves the TTL as it
    /// was); returns every field of the record after the write, sorted by field.
    ///
    /// On Redis: `HSET` + `PEXPIRE` + `HGETALL` in one pipeline. A key holding a plain value
    /// is an error (Redis' `WRONGTYPE`).
    ///
    /// The default emulates the record with [`Store::get_with_ttl`] and [`Store::set`] of one
    /// value per key in the format of [`hash_record`]. That is a read-modify-write: two
    /// writers of the same record at once may lose one's field, which a registry that
    /// heartbeats its fields restores on the next beat. Stores that can should override the
    /// three hash methods together.
    fn hash_put(
        &self,
        key: &[u8],
        field: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
    ) -> impl Future<Output = Result<HashFields, StoreError>> + Send {
        async move {
            let (mut fields, left) = match self.get_with_ttl(key).await? {
                Some((bytes, left)) => (hash_record::decode(&bytes)?, left),
                None => (Vec::new(), None),
            };
            match fields.binary_search_by(|(f, _)| f.as_slice().cmp(field)) {
                Ok(i) => fields[i].1 = value.to_vec(),
                Err(i) => fields.insert(i, (field.to_vec(), value.to_vec())),
            }
            self.set(key, &hash_record::encode(&fields), ttl.or(left))
                .await?;
            Ok(fields)
        }
    }

    /// Every field of the hash record at `key`, sorted by field; empty when the key is
    /// missing. A key holding a plain value is an error. The default reads the emulated
    /// record of [`Store::hash_put`].
    fn hash_get_all(
        &self,
        key: &[u8],
    ) -> impl Future<Output = Result<HashFields, StoreError>> + Send {
        async move {
            match self.get(key).await? {
                Some(bytes) => hash_record::decode(&bytes),
                None => Ok(Vec::new()),
            }
        }
    }

    /// Removes `fields` from the hash record at `key`; returns how many were there. A record
    /// left without fields is deleted (as Redis does). No call is made for an empty list.
    /// The default rewrites the emulated record of [`Store::hash_put`], keeping its TTL.
    fn hash_remove(
        &self,
        key: &[u8],
        fields: &[Vec<u8>],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        async move {
            if fields.is_empty() {
                return Ok(0);
            }
            let Some((bytes, left)) = self.get_with_ttl(key).await? else {
                return Ok(0);
            };
            let mut record = hash_record::decode(&bytes)?;
            let before = record.len();
            record.retain(|(f, _)| !fields.contains(f));
            let removed = (before - record.len()) as u64;
            if removed == 0 {
                return Ok(0);
            }
            if record.is_empty() {
                self.delete(key).await?;
            } else {
                self.set(key, &hash_record::encode(&record), left).await?;
            }
            Ok(removed)
        }
    }

    /// One page of the keys that start with `prefix`, about `count` of them (a hint).
    fn scan_prefix(
        &self,
        prefix: &[u8],
        cursor: ScanCursor,
        count: usize,
    ) -> impl Future<Output = Result<ScanPage, StoreError>> + Send;

    /// The longest a single-key call of this store takes before it returns on its own (with a
    /// timeout error at worst), when the store bounds those calls itself; `None` (the default)
    /// when it does not.
    ///
    /// Single-key calls: `get`, `get_with_ttl`, `set`, `set_if_absent`, `delete` and the three
    /// hash calls. The batch calls (`get_many`, `set_many`, `set_many_if_absent`,
    /// `delete_many`, `set_many_and_delete`) and `scan_prefix` are not covered: a batch's time
    /// grows with its size (a `RedisStore` sends a big batch in chunks, a few at a time, each
    /// chunk within its own bound), so a caller that promises a deadline times a batch itself.
    ///
    /// A [`Cache`](crate::Cache) whose timeout is at least this bound may rely on it and start
    /// no timer of its own around a single-key call (one timer per call instead of two). A
    /// store must only return a bound it enforces on every one of those calls, retries
    /// included: a wrapper that adds delays must not forward it.
    fn call_bound(&self) -> Option<Duration> {
        None
    }

    /// Starts reporting changes to the keys that start with `prefix`, made by any client: what
    /// a local tier of decoded values needs to stay coherent with the store. `None` (the
    /// default) when the store cannot see changes.
    ///
    /// The watch starts not established; its first event is [`WatchEvent::Established`] once
    /// every change is seen, then [`WatchEvent::Invalidated`] keys, [`WatchEvent::Flushed`]
    /// and [`WatchEvent::Lost`] periods (see [`watch`]). Every change is reported after it
    /// took effect: a read sent after its report was received sees the change. A write is
    /// reported to every watch, including those of the process that made it.
    ///
    /// - [`crate::MemoryStore`]: in process, at once, for every write, delete, expiry and
    ///   eviction; [`crate::MemoryStore::clear`] is a flush. Established from the start.
    /// - `RedisStore`: server-assisted client-side caching (`CLIENT TRACKING ON BCAST PREFIX`)
    ///   on a dedicated RESP3 connection per primary, reconnected with backoff (`Lost` until
    ///   it is back). Must be called within a Tokio runtime.
    ///
    /// Dropping the [`Watch`] stops it.
    fn watch(&self, prefix: &[u8]) -> Option<Watch> {
        let _ = prefix;
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
            fn set_many_and_delete(
                &self,
                sets: &[SetEntry],
                deletes: &[Vec<u8>],
            ) -> impl Future<Output = Result<u64, StoreError>> + Send {
                (**self).set_many_and_delete(sets, deletes)
            }
            fn hash_put(
                &self,
                key: &[u8],
                field: &[u8],
                value: &[u8],
                ttl: Option<Duration>,
            ) -> impl Future<Output = Result<HashFields, StoreError>> + Send {
                (**self).hash_put(key, field, value, ttl)
            }
            fn hash_get_all(&self, key: &[u8]) -> impl Future<Output = Result<HashFields, StoreError>> + Send {
                (**self).hash_get_all(key)
            }
            fn hash_remove(
                &self,
                key: &[u8],
                fields: &[Vec<u8>],
            ) -> impl Future<Output = Result<u64, StoreError>> + Send {
                (**self).hash_remove(key, fields)
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
            fn watch(&self, prefix: &[u8]) -> Option<Watch> {
                (**self).watch(prefix)
            }
        }
    )*};
}

forward_store!(std::sync::Arc<S>, Box<S>);

/// The format in which the default hash methods of [`Store`] keep a hash record in one plain
/// value, for stores that have no hashes of their own.
///
/// The value is `CVH` `0x01` (4 bytes), the number of fields (u32, big endian), then for each
/// field, sorted by field and each field once: the field's length (u32, big endian), the
/// field, the value's length (u32, big endian), the value. A value that does not follow it
/// reads as an error ([`StoreError::Backend`]), never as a record.
pub mod hash_record {
    use super::{HashFields, StoreError};

    /// The first four bytes of an emulated hash record.
    pub const MAGIC: &[u8; 4] = b"CVH\x01";

    /// Encodes `fields` (sorted by field, each once) as one value.
    pub fn encode(fields: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
        let len: usize = fields.iter().map(|(f, v)| 8 + f.len() + v.len()).sum();
        let mut out = Vec::with_capacity(8 + len);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&len_u32(fields.len()).to_be_bytes());
        for (f, v) in fields {
            out.extend_from_slice(&len_u32(f.len()).to_be_bytes());
            out.extend_from_slice(f);
            out.extend_from_slice(&len_u32(v.len()).to_be_bytes());
            out.extend_from_slice(v);
        }
        out
    }

    /// Decodes a value written by [`encode`]; the fields come back sorted, each once.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when `bytes` is not such a record (another kind of value
    /// under the key, or a damaged one).
    pub fn decode(bytes: &[u8]) -> Result<HashFields, StoreError> {
        let bad = |what: &str| {
            StoreError::backend(format!(
                "the value under this key is not a hash record ({what}; {} bytes)",
                bytes.len()
            ))
        };
        let rest = bytes
            .strip_prefix(&MAGIC[..])
            .ok_or_else(|| bad("no header"))?;
        let (count, mut rest) = take_u32(rest).ok_or_else(|| bad("truncated"))?;
        // Each field takes at least 8 bytes: a count beyond that is a damaged record.
        if count > rest.len() / 8 {
            return Err(bad("field count past the end"));
        }
        let mut fields = Vec::with_capacity(count);
        for _ in 0..count {
            let (f, r) = take_bytes(rest).ok_or_else(|| bad("truncated field"))?;
            let (v, r) = take_bytes(r).ok_or_else(|| bad("truncated value"))?;
            fields.push((f.to_vec(), v.to_vec()));
            rest = r;
        }
        if !rest.is_empty() {
            return Err(bad("trailing bytes"));
        }
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        fields.dedup_by(|a, b| a.0 == b.0);
        Ok(fields)
    }

    fn len_u32(n: usize) -> u32 {
        // A store refuses values of 4 GiB long before this matters.
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    fn take_u32(b: &[u8]) -> Option<(usize, &[u8])> {
        let (n, rest) = b.split_first_chunk::<4>()?;
        Some((usize::try_from(u32::from_be_bytes(*n)).ok()?, rest))
    }

    fn take_bytes(b: &[u8]) -> Option<(&[u8], &[u8])> {
        let (n, rest) = take_u32(b)?;
        (rest.len() >= n).then(|| rest.split_at(n))
    }
}

/// A boxed, type-erased future of a [`DynStore`] call.
type BoxFut<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// [`Store`] with boxed futures, so it can be a trait object.
trait ErasedStore: Send + Sync + 'static {
    fn get<'a>(&'a self, key: &'a [u8]) -> BoxFut<'a, Option<Vec<u8>>>;
    fn get_with_ttl<'a>(&'a self, key: &'a [u8]) -> BoxFut<'a, Option<ValueAndTtl>>;
    fn set<'a>(&'a self, key: &'a [u8], value: &'a [u8], ttl: Option<Duration>) -> BoxFut<'a, ()>;
    fn set_if_absent<'a>(
        &'a self,
        key: &'a [u8],
        value: &'a [u8],
        ttl: Option<Duration>,
    ) -> BoxFut<'a, bool>;
    fn set_many_if_absent<'a>(&'a self, entries: &'a [SetEntry]) -> BoxFut<'a, Vec<bool>>;
    fn delete<'a>(&'a self, key: &'a [u8]) -> BoxFut<'a, bool>;
    fn get_many<'a>(&'a self, keys: &'a [Vec<u8>]) -> BoxFut<'a, Vec<Option<Vec<u8>>>>;
    fn set_many<'a>(&'a self, entries: &'a [SetEntry]) -> BoxFut<'a, ()>;
    fn delete_many<'a>(&'a self, keys: &'a [Vec<u8>]) -> BoxFut<'a, u64>;
    fn set_many_and_delete<'a>(
        &'a self,
        sets: &'a [SetEntry],
        deletes: &'a [Vec<u8>],
    ) -> BoxFut<'a, u64>;
    fn hash_put<'a>(
        &'a self,
        key: &'a [u8],
        field: &'a [u8],
        value: &'a [u8],
        ttl: Option<Duration>,
    ) -> BoxFut<'a, HashFields>;
    fn hash_get_all<'a>(&'a self, key: &'a [u8]) -> BoxFut<'a, HashFields>;
    fn hash_remove<'a>(&'a self, key: &'a [u8], fields: &'a [Vec<u8>]) -> BoxFut<'a, u64>;
    fn scan_prefix<'a>(
        &'a self,
        prefix: &'a [u8],
        cursor: ScanCursor,
        count: usize,
    ) -> BoxFut<'a, ScanPage>;
    fn call_bound(&self) -> Option<Duration>;
    fn watch(&self, prefix: &[u8]) -> Option<Watch>;
    fn as_any(&self) -> &dyn Any;
}

impl<S: Store> ErasedStore for S {
    fn get<'a>(&'a self, key: &'a [u8]) -> BoxFut<'a, Option<Vec<u8>>> {
        Box::pin(Store::get(self, key))
    }
    fn get_with_ttl<'a>(&'a self, key: &'a [u8]) -> BoxFut<'a, Option<ValueAndTtl>> {
        Box::pin(Store::get_with_ttl(self, key))
    }
    fn set<'a>(&'a self, key: &'a [u8], value: &'a [u8], ttl: Option<Duration>) -> BoxFut<'a, ()> {
        Box::pin(Store::set(self, key, value, ttl))
    }
    fn set_if_absent<'a>(
        &'a self,
        key: &'a [u8],
        value: &'a [u8],
        ttl: Option<Duration>,
    ) -> BoxFut<'a, bool> {
        Box::pin(Store::set_if_absent(self, key, value, ttl))
    }
    fn set_many_if_absent<'a>(&'a self, entries: &'a [SetEntry]) -> BoxFut<'a, Vec<bool>> {
        Box::pin(Store::set_many_if_absent(self, entries))
    }
    fn delete<'a>(&'a self, key: &'a [u8]) -> BoxFut<'a, bool> {
        Box::pin(Store::delete(self, key))
    }
    fn get_many<'a>(&'a self, keys: &'a [Vec<u8>]) -> BoxFut<'a, Vec<Option<Vec<u8>>>> {
        Box::pin(Store::get_many(self, keys))
    }
    fn set_many<'a>(&'a self, entries: &'a [SetEntry]) -> BoxFut<'a, ()> {
        Box::pin(Store::set_many(self, entries))
    }
    fn delete_many<'a>(&'a self, keys: &'a [Vec<u8>]) -> BoxFut<'a, u64> {
        Box::pin(Store::delete_many(self, keys))
    }
    fn set_many_and_delete<'a>(
        &'a self,
        sets: &'a [SetEntry],
        deletes: &'a [Vec<u8>],
    ) -> BoxFut<'a, u64> {
        Box::pin(Store::set_many_and_delete(self, sets, deletes))
    }
    fn hash_put<'a>(
        &'a self,
        key: &'a [u8],
        field: &'a [u8],
        value: &'a [u8],
        ttl: Option<Duration>,
    ) -> BoxFut<'a, HashFields> {
        Box::pin(Store::hash_put(self, key, field, value, ttl))
    }
    fn hash_get_all<'a>(&'a self, key: &'a [u8]) -> BoxFut<'a, HashFields> {
        Box::pin(Store::hash_get_all(self, key))
    }
    fn hash_remove<'a>(&'a self, key: &'a [u8], fields: &'a [Vec<u8>]) -> BoxFut<'a, u64> {
        Box::pin(Store::hash_remove(self, key, fields))
    }
    fn scan_prefix<'a>(
        &'a self,
        prefix: &'a [u8],
        cursor: ScanCursor,
        count: usize,
    ) -> BoxFut<'a, ScanPage> {
        Box::pin(Store::scan_prefix(self, prefix, cursor, count))
    }
    fn call_bound(&self) -> Option<Duration> {
        Store::call_bound(self)
    }
    fn watch(&self, prefix: &[u8]) -> Option<Watch> {
        Store::watch(self, prefix)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A store of any type behind one type: application state can hold a `Cache<DynStore>` and
/// run on Redis in production and on a [`MemoryStore`](crate::MemoryStore) in tests, without
/// being generic over the store.
///
/// Every call forwards to the wrapped store (the batch and hash calls and
/// [`Store::call_bound`] included, so the store's own implementations and bounds apply), at
/// the cost of one boxed future per call (an allocation and an indirect call): about 25-30 ns
/// on top of the call, measured on a store whose calls do nothing (`cargo bench -p
/// cache-version-core --bench dyn_store`, 2 noisy cores). On `MemoryStore` calls (0.2-4 µs)
/// that is 0-8%, within the run-to-run noise; a Redis round trip is 20-100 µs. A service
/// that never swaps its store can keep the concrete type for zero cost. Cloning is cheap and
/// shares the store.
///
/// ```
/// use cache_version_core::{Cache, DynStore, MemoryStore, Store};
///
/// struct AppState {
///     cache: Cache<DynStore>,
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// // In tests; in production `DynStore::new(redis_store)`.
/// let store = DynStore::new(MemoryStore::new());
/// let state = AppState { cache: Cache::builder(store.clone()).namespace("test").build().unwrap() };
/// store.set(b"k", b"v", None).await.unwrap();
/// assert_eq!(store.get(b"k").await.unwrap(), Some(b"v".to_vec()));
/// assert!(store.downcast_ref::<MemoryStore>().is_some());
/// # drop(state);
/// # });
/// ```
#[derive(Clone)]
pub struct DynStore {
    inner: Arc<dyn ErasedStore>,
    type_name: &'static str,
}

impl DynStore {
    /// Erases the type of `store`. A `DynStore` given to it is returned as it is (not wrapped
    /// twice).
    pub fn new<S: Store>(store: S) -> DynStore {
        if let Some(d) = (&store as &dyn Any).downcast_ref::<DynStore>() {
            return d.clone();
        }
        DynStore {
            inner: Arc::new(store),
            type_name: std::any::type_name::<S>(),
        }
    }

    /// The wrapped store, when it is an `S`.
    pub fn downcast_ref<S: Store>(&self) -> Option<&S> {
        self.inner.as_any().downcast_ref::<S>()
    }
}

impl fmt::Debug for DynStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DynStore").field(&self.type_name).finish()
    }
}

impl Store for DynStore {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key).await
    }
    async fn get_with_ttl(&self, key: &[u8]) -> Result<Option<ValueAndTtl>, StoreError> {
        self.inner.get_with_ttl(key).await
    }
    async fn set(&self, key: &[u8], value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.inner.set(key, value, ttl).await
    }
    async fn set_if_absent(
        &self,
        key: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        self.inner.set_if_absent(key, value, ttl).await
    }
    async fn set_many_if_absent(&self, entries: &[SetEntry]) -> Result<Vec<bool>, StoreError> {
        self.inner.set_many_if_absent(entries).await
    }
    async fn delete(&self, key: &[u8]) -> Result<bool, StoreError> {
        self.inner.delete(key).await
    }
    async fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.inner.get_many(keys).await
    }
    async fn set_many(&self, entries: &[SetEntry]) -> Result<(), StoreError> {
        self.inner.set_many(entries).await
    }
    async fn delete_many(&self, keys: &[Vec<u8>]) -> Result<u64, StoreError> {
        self.inner.delete_many(keys).await
    }
    async fn set_many_and_delete(
        &self,
        sets: &[SetEntry],
        deletes: &[Vec<u8>],
    ) -> Result<u64, StoreError> {
        self.inner.set_many_and_delete(sets, deletes).await
    }
    async fn hash_put(
        &self,
        key: &[u8],
        field: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<HashFields, StoreError> {
        self.inner.hash_put(key, field, value, ttl).await
    }
    async fn hash_get_all(&self, key: &[u8]) -> Result<HashFields, StoreError> {
        self.inner.hash_get_all(key).await
    }
    async fn hash_remove(&self, key: &[u8], fields: &[Vec<u8>]) -> Result<u64, StoreError> {
        self.inner.hash_remove(key, fields).await
    }
    async fn scan_prefix(
        &self,
        prefix: &[u8],
        cursor: ScanCursor,
        count: usize,
    ) -> Result<ScanPage, StoreError> {
        self.inner.scan_prefix(prefix, cursor, count).await
    }
    fn call_bound(&self) -> Option<Duration> {
        self.inner.call_bound()
    }
    fn watch(&self, prefix: &[u8]) -> Option<Watch> {
        self.inner.watch(prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_records_round_trip_and_refuse_damage() {
        let fields: HashFields = vec![
            (b"".to_vec(), b"empty field".to_vec()),
            (vec![0, 255], vec![7; 300]),
            (b"a".to_vec(), Vec::new()),
        ];
        let bytes = hash_record::encode(&fields);
        assert_eq!(hash_record::decode(&bytes).unwrap(), fields);
        assert_eq!(
            hash_record::decode(&hash_record::encode(&[])).unwrap(),
            vec![]
        );
        // Every cut, and every single-byte change of the header and lengths, is an error or
        // another record, never a panic; only the whole record reads back as itself.
        for n in 0..bytes.len() {
            assert!(hash_record::decode(&bytes[..n]).is_err(), "cut at {n}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(hash_record::decode(&longer).is_err());
        for i in 0..bytes.len() {
            for x in [1u8, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[i] ^= x;
                let _ = hash_record::decode(&b);
            }
        }
        // A count far past the end is refused before allocating for it.
        let mut huge = hash_record::MAGIC.to_vec();
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(hash_record::decode(&huge).is_err());
        assert!(hash_record::decode(b"plain value").is_err());
        // Unsorted or repeated fields (another writer) come back sorted, each once.
        let messy = hash_record::encode(&[
            (b"b".to_vec(), b"2".to_vec()),
            (b"a".to_vec(), b"1".to_vec()),
            (b"b".to_vec(), b"3".to_vec()),
        ]);
        let got = hash_record::decode(&messy).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], (b"a".to_vec(), b"1".to_vec()));
    }

    #[test]
    fn dyn_store_keeps_its_type_and_bound() {
        let mem = crate::MemoryStore::new();
        let d = DynStore::new(mem.clone());
        assert_eq!(Store::call_bound(&d), Some(Duration::ZERO));
        assert!(d.downcast_ref::<crate::MemoryStore>().is_some());
        assert!(format!("{d:?}").contains("MemoryStore"));
        let again = DynStore::new(d.clone());
        assert!(Arc::ptr_eq(&again.inner, &d.inner), "not wrapped twice");
        let boxed = DynStore::new(Box::new(mem));
        assert!(boxed.downcast_ref::<crate::MemoryStore>().is_none());
        assert!(boxed.downcast_ref::<Box<crate::MemoryStore>>().is_some());
    }
}
