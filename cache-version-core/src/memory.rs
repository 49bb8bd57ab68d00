//! [`MemoryStore`]: a bounded in-process [`Store`], for tests, examples and single-instance
//! services.

use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::ops::Bound;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::store::{
    HashFields, ScanCursor, ScanPage, SetEntry, Store, StoreError, ValueAndTtl, Watch, WatchSender,
};

/// A bounded in-memory [`Store`]. Cloning is cheap and shares the data.
///
/// - **TTL**: an expired entry is never returned. It is removed when it is read, by a small
///   sweep (up to 16 expired entries of the shard) on every write, when space is needed, and by
///   [`MemoryStore::purge_expired`].
/// - **Bounds**: at most `max_entries` entries and `max_bytes` bytes of memory, counted as the
///   key and value lengths plus [`MemoryStore::ENTRY_OVERHEAD`] per entry (what the store's
///   own maps and allocations cost per entry, measured), so the bound covers the memory the
///   store really holds. A single entry whose key and value are larger than `max_bytes` is
///   refused with [`StoreError::TooLarge`]; [`MemoryStore::bytes`] reports key and value
///   lengths only.
/// - **Eviction**: when a write goes over a bound, expired entries go first, then the least
///   recently used entries (read or written) of the shard that was written, then of the other
///   shards in turn. LRU is exact per shard; with `shards(1)` it is exact for the store.
/// - **Concurrency**: keys are spread over shards (16 by default), each behind its own mutex
///   held for a few map operations, never across an `await`.
/// - **Scans** walk shard after shard in key order; a key present for the whole walk is
///   returned exactly once (a page is never [`restarted`](ScanPage::restarted)).
/// - **Hash records** ([`Store::hash_put`] and friends) are native, like on Redis: a key holds
///   a value or a hash record, the record's key and fields count toward the bounds, it
///   expires with its TTL and `scan_prefix` lists it. Reading a hash record with `get` is an
///   error (Redis' `WRONGTYPE`), and `get_many` reads it as missing (as `MGET` does).
/// - **`set_many_and_delete`** writes and deletes in one pass, each key under its shard's
///   lock.
/// - **Why not on `quick_cache`** (the local tier's crate): the store must walk its keys in
///   order with a resumable cursor that returns each key exactly once (`scan_prefix`, which
///   the sweeps rely on), expire entries on their own TTL and report every eviction and
///   expiry to watches; `quick_cache` has no ordered iteration and no expiry. The memory
///   problem it was considered for (a byte bound that counted only keys and values) is fixed
///   by counting the measured overhead instead.
///
/// ```
/// use cache_version_core::{MemoryStore, Store};
/// use std::time::Duration;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryStore::builder().max_entries(1000).build();
/// store.set(b"k", b"v", Some(Duration::from_secs(60))).await.unwrap();
/// assert_eq!(store.get(b"k").await.unwrap(), Some(b"v".to_vec()));
/// # });
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.len())
            .field("bytes", &self.bytes())
            .field("max_entries", &self.inner.max_entries)
            .field("max_bytes", &self.inner.max_bytes)
            .field("shards", &self.inner.shards.len())
            .finish()
    }
}

/// Configures a [`MemoryStore`].
#[derive(Debug, Clone)]
pub struct MemoryStoreBuilder {
    max_entries: usize,
    max_bytes: usize,
    shards: usize,
}

impl Default for MemoryStoreBuilder {
    fn default() -> Self {
        MemoryStoreBuilder {
            max_entries: MemoryStore::DEFAULT_MAX_ENTRIES,
            max_bytes: MemoryStore::DEFAULT_MAX_BYTES,
            shards: 16,
        }
    }
}

impl MemoryStoreBuilder {
    /// The most entries kept (at least 1; default 100 000).
    pub fn max_entries(mut self, n: usize) -> Self {
        self.max_entries = n.max(1);
        self
    }

    /// The most bytes kept, counting key and value lengths plus
    /// [`MemoryStore::ENTRY_OVERHEAD`] per entry (at least 1; default 64 MiB).
    pub fn max_bytes(mut self, n: usize) -> Self {
        self.max_bytes = n.max(1);
        self
    }

    /// The number of shards (1..=256; default 16). One shard makes eviction exact LRU.
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = n.clamp(1, 256);
        self
    }

    /// Builds the store.
    pub fn build(self) -> MemoryStore {
        MemoryStore {
            inner: Arc::new(Inner {
                shards: (0..self.shards)
                    .map(|_| Mutex::new(Shard::default()))
                    .collect(),
                hasher: RandomState::new(),
                max_entries: self.max_entries,
                max_bytes: self.max_bytes,
                entries: AtomicUsize::new(0),
                bytes: AtomicUsize::new(0),
                watchers: Mutex::new(Vec::new()),
                watching: AtomicUsize::new(0),
            }),
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl MemoryStore {
    /// The default entry bound.
    pub const DEFAULT_MAX_ENTRIES: usize = 100_000;
    /// The default byte bound (64 MiB).
    pub const DEFAULT_MAX_BYTES: usize = 64 << 20;

    /// What the byte bound counts per entry on top of its key and value lengths: the store's
    /// three ordered maps (by key, by last use, by deadline), the entry record and the
    /// allocation headers. Measured: with 40-byte keys and 16-byte values, when only key and
    /// value lengths were counted, a 16 MiB bound let 284 000 entries in and RSS grow by
    /// 94 MiB, about 290 bytes an entry beyond the 56 counted (`rss memstore` in
    /// `scripts/local-tier-compare`).
    pub const ENTRY_OVERHEAD: usize = 288;

    /// A store with the default bounds.
    pub fn new() -> Self {
        MemoryStoreBuilder::default().build()
    }

    /// Configures a store.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder::default()
    }

    /// Entries held, including expired ones not yet removed.
    pub fn len(&self) -> usize {
        self.inner.entries.load(Ordering::Relaxed)
    }

    /// Whether the store holds no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held (key plus value lengths).
    pub fn bytes(&self) -> usize {
        self.inner.bytes.load(Ordering::Relaxed)
    }

    /// Removes every expired entry now; returns how many.
    pub fn purge_expired(&self) -> usize {
        let now = Instant::now();
        let inner = &*self.inner;
        (0..inner.shards.len())
            .map(|i| inner.lock(i).sweep(inner, now, usize::MAX))
            .sum()
    }

    /// Removes everything. Watches ([`Store::watch`]) get [`Flushed`](crate::WatchEvent::Flushed).
    pub fn clear(&self) {
        let inner = &*self.inner;
        for i in 0..inner.shards.len() {
            let mut shard = inner.lock(i);
            let keys: Vec<Arc<[u8]>> = shard.map.keys().cloned().collect();
            for k in keys {
                shard.remove(inner, &k);
            }
        }
        inner.flushed();
    }

    /// The live value at `key`; an error when the key holds a hash record.
    fn get_now(&self, key: &[u8]) -> Result<Option<ValueAndTtl>, StoreError> {
        let inner = &*self.inner;
        let now = Instant::now();
        let mut shard = inner.lock(inner.shard_of(key));
        match shard.lookup(inner, key, now) {
            None => Ok(None),
            Some(Entry {
                value: Value::Bytes(v),
                expires,
                ..
            }) => Ok(Some((v.to_vec(), expires.map(|t| t - now)))),
            Some(_) => Err(wrong_type()),
        }
    }

    /// `get_now` for a batch: a hash record reads as missing (as Redis' `MGET`).
    fn get_bytes_now(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.get_now(key).ok().flatten().map(|(v, _)| v)
    }

    fn set_now(&self, key: &[u8], value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.write_now(key, value, ttl, false).map(|_| ())
    }

    /// Writes `value`; with `only_if_absent`, only when `key` holds no live value (checked
    /// and written under the shard's lock). Returns whether it wrote.
    fn write_now(
        &self,
        key: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
        only_if_absent: bool,
    ) -> Result<bool, StoreError> {
        let inner = &*self.inner;
        let size = key.len() + value.len();
        if size > inner.max_bytes {
            return Err(StoreError::TooLarge {
                size,
                limit: inner.max_bytes,
            });
        }
        let now = Instant::now();
        let idx = inner.shard_of(key);
        {
            let mut shard = inner.lock(idx);
            shard.sweep(inner, now, 16);
            if only_if_absent && shard.map.get(key).is_some_and(|e| !e.expired(now)) {
                return Ok(false);
            }
            shard.remove(inner, key);
            if ttl == Some(Duration::ZERO) {
                inner.changed(key);
                return Ok(true);
            }
            // An unrepresentable deadline (a TTL of centuries) means "no expiry".
            let expires = ttl.and_then(|t| now.checked_add(t));
            shard.insert(inner, key, Value::Bytes(value.into()), expires);
            inner.changed(key);
            while inner.over() && shard.map.len() > 1 {
                shard.evict_one(inner, now);
            }
        }
        self.evict_elsewhere(idx, now);
        Ok(true)
    }

    /// While over a bound, evicts from the shards after `idx`, in turn.
    fn evict_elsewhere(&self, idx: usize, now: Instant) {
        let inner = &*self.inner;
        let n = inner.shards.len();
        let mut i = (idx + 1) % n;
        while inner.over() && i != idx {
            let mut shard = inner.lock(i);
            while inner.over() && shard.evict_one(inner, now) {}
            drop(shard);
            i = (i + 1) % n;
        }
    }

    /// Applies `edit` to the fields of the live hash record at `key` (an empty map when there
    /// is none) under the shard's lock, then stores what is left (nothing, when no field is
    /// left) with the new deadline (`ttl`, or the record's own when `None`). Returns `edit`'s
    /// result and the fields after it.
    fn edit_hash<R>(
        &self,
        key: &[u8],
        ttl: Option<Duration>,
        edit: impl FnOnce(&mut BTreeMap<Box<[u8]>, Box<[u8]>>) -> R,
    ) -> Result<(R, HashFields), StoreError> {
        let inner = &*self.inner;
        let now = Instant::now();
        let idx = inner.shard_of(key);
        let out;
        {
            let mut shard = inner.lock(idx);
            shard.sweep(inner, now, 16);
            let (mut fields, old_expiry) = match shard.map.get(key) {
                Some(e) if !e.expired(now) => match &e.value {
                    Value::Hash(h) => (h.clone(), e.expires),
                    Value::Bytes(_) => return Err(wrong_type()),
                },
                _ => (BTreeMap::new(), None),
            };
            let r = edit(&mut fields);
            let size = key.len() + fields.iter().map(|(f, v)| f.len() + v.len()).sum::<usize>();
            if size > inner.max_bytes {
                return Err(StoreError::TooLarge {
                    size,
                    limit: inner.max_bytes,
                });
            }
            let listed: HashFields = fields
                .iter()
                .map(|(f, v)| (f.to_vec(), v.to_vec()))
                .collect();
            let existed = shard.remove(inner, key).is_some();
            let expires = match ttl {
                Some(t) => now.checked_add(t),
                None => old_expiry,
            };
            if !fields.is_empty() && ttl != Some(Duration::ZERO) {
                shard.insert(inner, key, Value::Hash(fields), expires);
                inner.changed(key);
                while inner.over() && shard.map.len() > 1 {
                    shard.evict_one(inner, now);
                }
            } else if existed {
                inner.changed(key);
            }
            out = (r, listed);
        }
        self.evict_elsewhere(idx, now);
        Ok(out)
    }

    /// The fields of the live hash record at `key`.
    fn hash_now(&self, key: &[u8]) -> Result<HashFields, StoreError> {
        let inner = &*self.inner;
        let now = Instant::now();
        let mut shard = inner.lock(inner.shard_of(key));
        match shard.lookup(inner, key, now) {
            None => Ok(Vec::new()),
            Some(Entry {
                value: Value::Hash(h),
                ..
            }) => Ok(h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()),
            Some(_) => Err(wrong_type()),
        }
    }

    fn delete_now(&self, key: &[u8]) -> bool {
        let inner = &*self.inner;
        let now = Instant::now();
        let mut shard = inner.lock(inner.shard_of(key));
        match shard.remove(inner, key) {
            Some(e) => {
                inner.changed(key);
                !e.expired(now)
            }
            None => false,
        }
    }

    fn scan_now(&self, prefix: &[u8], cursor: &ScanCursor, count: usize) -> ScanPage {
        let inner = &*self.inner;
        let count = count.max(1);
        let now = Instant::now();
        // Cursor: shard index (u32 BE), then 1 and the last key returned, or 0.
        let (mut shard_idx, mut last): (usize, Option<Vec<u8>>) = match cursor.as_bytes() {
            [] => (0, None),
            [a, b, c, d, 1, rest @ ..] => (
                u32::from_be_bytes([*a, *b, *c, *d]) as usize,
                Some(rest.to_vec()),
            ),
            [a, b, c, d, ..] => (u32::from_be_bytes([*a, *b, *c, *d]) as usize, None),
            _ => (usize::MAX, None),
        };
        let mut keys = Vec::new();
        while shard_idx < inner.shards.len() {
            let shard = inner.lock(shard_idx);
            let lower = match &last {
                Some(k) => Bound::Excluded(k.as_slice()),
                None => Bound::Included(prefix),
            };
            let mut full = false;
            for (k, e) in shard
                .map
                .range::<[u8], _>((lower, Bound::Unbounded))
                .take_while(|(k, _)| k.starts_with(prefix))
            {
                if e.expired(now) {
                    continue;
                }
                keys.push(k.to_vec());
                if keys.len() >= count {
                    full = true;
                    break;
                }
            }
            drop(shard);
            if full {
                let mut state = Vec::with_capacity(5 + keys.last().map_or(0, Vec::len));
                state.extend_from_slice(&(shard_idx as u32).to_be_bytes());
                state.push(1);
                state.extend_from_slice(keys.last().map_or(&[][..], Vec::as_slice));
                return ScanPage {
                    keys,
                    cursor: Some(ScanCursor::from_bytes(state)),
                    restarted: false,
                };
            }
            shard_idx += 1;
            last = None;
        }
        ScanPage {
            keys,
            cursor: None,
            restarted: false,
        }
    }
}

struct Inner {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    max_entries: usize,
    max_bytes: usize,
    entries: AtomicUsize,
    bytes: AtomicUsize,
    /// The prefixes watched ([`Store::watch`]) and their senders.
    watchers: Mutex<Vec<(Box<[u8]>, WatchSender)>>,
    /// `watchers.len()`, read without the lock on every change.
    watching: AtomicUsize,
}

impl Inner {
    /// Reports a change of `key` (written, deleted, expired or evicted) to the watches whose
    /// prefix it starts with. Called after the change, under the key's shard lock, so a read
    /// that starts after the report sees the change.
    fn changed(&self, key: &[u8]) {
        if self.watching.load(Ordering::Acquire) == 0 {
            return;
        }
        self.each_watcher(|prefix, tx| {
            if key.starts_with(prefix) {
                tx.invalidated_key(key);
            }
        });
    }

    /// Reports to every watch that every key may have changed.
    fn flushed(&self) {
        if self.watching.load(Ordering::Acquire) == 0 {
            return;
        }
        self.each_watcher(|_, tx| tx.flushed());
    }

    /// Calls `f` on every open watch, forgetting those whose consumer is gone.
    fn each_watcher(&self, mut f: impl FnMut(&[u8], &WatchSender)) {
        let mut watchers = self.watchers.lock().unwrap_or_else(|e| e.into_inner());
        watchers.retain(|(_, tx)| !tx.is_closed());
        for (prefix, tx) in watchers.iter() {
            f(prefix, tx);
        }
        self.watching.store(watchers.len(), Ordering::Release);
    }

    fn shard_of(&self, key: &[u8]) -> usize {
        (self.hasher.hash_one(key) % self.shards.len() as u64) as usize
    }

    fn lock(&self, i: usize) -> MutexGuard<'_, Shard> {
        // A panic while holding a shard lock cannot leave the maps inconsistent in a way that
        // matters more than losing the store, so keep serving.
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    fn over(&self) -> bool {
        let entries = self.entries.load(Ordering::Relaxed);
        entries > self.max_entries
            || self
                .bytes
                .load(Ordering::Relaxed)
                .saturating_add(entries.saturating_mul(MemoryStore::ENTRY_OVERHEAD))
                > self.max_bytes
    }
}

/// Redis' answer to a command on a key of the other kind.
fn wrong_type() -> StoreError {
    StoreError::backend("WRONGTYPE Operation against a key holding the wrong kind of value")
}

/// What a key holds.
enum Value {
    Bytes(Box<[u8]>),
    Hash(BTreeMap<Box<[u8]>, Box<[u8]>>),
}

impl Value {
    fn size(&self) -> usize {
        match self {
            Value::Bytes(b) => b.len(),
            Value::Hash(h) => h.iter().map(|(f, v)| f.len() + v.len()).sum(),
        }
    }
}

struct Entry {
    key: Arc<[u8]>,
    value: Value,
    expires: Option<Instant>,
    /// Position in the shard's LRU order.
    used: u64,
    /// Unique id within the shard (for the expiry index).
    id: u64,
}

impl Entry {
    fn expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|t| t <= now)
    }

    fn size(&self) -> usize {
        self.key.len() + self.value.size()
    }
}

#[derive(Default)]
struct Shard {
    map: BTreeMap<Arc<[u8]>, Entry>,
    lru: BTreeMap<u64, Arc<[u8]>>,
    expiry: BTreeMap<(Instant, u64), Arc<[u8]>>,
    tick: u64,
}

impl Shard {
    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    fn lookup(&mut self, inner: &Inner, key: &[u8], now: Instant) -> Option<&Entry> {
        let expired = self.map.get(key)?.expired(now);
        if expired {
            self.remove(inner, key);
            inner.changed(key);
            return None;
        }
        let tick = self.next_tick();
        let e = self.map.get_mut(key)?;
        let k = self.lru.remove(&e.used)?;
        e.used = tick;
        self.lru.insert(tick, k);
        self.map.get(key)
    }

    fn insert(&mut self, inner: &Inner, key: &[u8], value: Value, expires: Option<Instant>) {
        let tick = self.next_tick();
        let key: Arc<[u8]> = Arc::from(key);
        let e = Entry {
            key: key.clone(),
            value,
            expires,
            used: tick,
            id: tick,
        };
        inner.entries.fetch_add(1, Ordering::Relaxed);
        inner.bytes.fetch_add(e.size(), Ordering::Relaxed);
        self.lru.insert(tick, key.clone());
        if let Some(t) = expires {
            self.expiry.insert((t, tick), key.clone());
        }
        self.map.insert(key, e);
    }

    fn remove(&mut self, inner: &Inner, key: &[u8]) -> Option<Entry> {
        let e = self.map.remove(key)?;
        self.lru.remove(&e.used);
        if let Some(t) = e.expires {
            self.expiry.remove(&(t, e.id));
        }
        inner.entries.fetch_sub(1, Ordering::Relaxed);
        inner.bytes.fetch_sub(e.size(), Ordering::Relaxed);
        Some(e)
    }

    /// Removes up to `max` expired entries; returns how many.
    fn sweep(&mut self, inner: &Inner, now: Instant, max: usize) -> usize {
        let mut n = 0;
        while n < max {
            match self.expiry.first_key_value() {
                Some(((t, _), key)) if *t <= now => {
                    let key = key.clone();
                    self.remove(inner, &key);
                    inner.changed(&key);
                    n += 1;
                }
                _ => break,
            }
        }
        n
    }

    /// Evicts one entry: an expired one if any, else the least recently used.
    fn evict_one(&mut self, inner: &Inner, now: Instant) -> bool {
        if self.sweep(inner, now, 1) == 1 {
            return true;
        }
        match self.lru.first_key_value() {
            Some((_, key)) => {
                let key = key.clone();
                self.remove(inner, &key);
                inner.changed(&key);
                true
            }
            None => false,
        }
    }
}

impl Store for MemoryStore {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.get_now(key)?.map(|(v, _)| v))
    }

    async fn get_with_ttl(&self, key: &[u8]) -> Result<Option<ValueAndTtl>, StoreError> {
        self.get_now(key)
    }

    async fn set(&self, key: &[u8], value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.set_now(key, value, ttl)
    }

    async fn set_if_absent(
        &self,
        key: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        self.write_now(key, value, ttl, true)
    }

    async fn set_many_if_absent(&self, entries: &[SetEntry]) -> Result<Vec<bool>, StoreError> {
        entries
            .iter()
            .map(|e| self.write_now(&e.key, &e.value, e.ttl, true))
            .collect()
    }

    async fn delete(&self, key: &[u8]) -> Result<bool, StoreError> {
        Ok(self.delete_now(key))
    }

    async fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        Ok(keys.iter().map(|k| self.get_bytes_now(k)).collect())
    }

    async fn set_many(&self, entries: &[SetEntry]) -> Result<(), StoreError> {
        for e in entries {
            self.set_now(&e.key, &e.value, e.ttl)?;
        }
        Ok(())
    }

    async fn delete_many(&self, keys: &[Vec<u8>]) -> Result<u64, StoreError> {
        Ok(keys.iter().map(|k| u64::from(self.delete_now(k))).sum())
    }

    /// One pass: every write, then every delete, each under its key's shard lock.
    async fn set_many_and_delete(
        &self,
        sets: &[SetEntry],
        deletes: &[Vec<u8>],
    ) -> Result<u64, StoreError> {
        for e in sets {
            self.set_now(&e.key, &e.value, e.ttl)?;
        }
        Ok(deletes.iter().map(|k| u64::from(self.delete_now(k))).sum())
    }

    async fn hash_put(
        &self,
        key: &[u8],
        field: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<HashFields, StoreError> {
        let ((), fields) = self.edit_hash(key, ttl, |h| {
            h.insert(field.into(), value.into());
        })?;
        Ok(fields)
    }

    async fn hash_get_all(&self, key: &[u8]) -> Result<HashFields, StoreError> {
        self.hash_now(key)
    }

    async fn hash_remove(&self, key: &[u8], fields: &[Vec<u8>]) -> Result<u64, StoreError> {
        if fields.is_empty() {
            return Ok(0);
        }
        let (removed, _) = self.edit_hash(key, None, |h| {
            fields
                .iter()
                .filter(|f| h.remove(f.as_slice()).is_some())
                .count() as u64
        })?;
        Ok(removed)
    }

    async fn scan_prefix(
        &self,
        prefix: &[u8],
        cursor: ScanCursor,
        count: usize,
    ) -> Result<ScanPage, StoreError> {
        Ok(self.scan_now(prefix, &cursor, count))
    }

    /// In process: every write, delete, expiry (when the store removes the entry: on a read,
    /// by a write's sweep, by [`MemoryStore::purge_expired`]) and eviction under `prefix` is
    /// reported at once, before the call that made it returns; [`MemoryStore::clear`] is a
    /// flush. Established from the start.
    fn watch(&self, prefix: &[u8]) -> Option<Watch> {
        let (tx, watch) = Watch::channel();
        tx.established();
        let mut watchers = self
            .inner
            .watchers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        watchers.retain(|(_, tx)| !tx.is_closed());
        watchers.push((prefix.into(), tx));
        self.inner.watching.store(watchers.len(), Ordering::Release);
        Some(watch)
    }

    /// Zero: every call finishes when first polled (it never waits on anything but a shard's
    /// lock, which no timer could interrupt), so a cache needs no timer around it.
    fn call_bound(&self) -> Option<Duration> {
        Some(Duration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn k(i: usize) -> Vec<u8> {
        format!("key:{i:04}").into_bytes()
    }

    #[test]
    fn basic_operations() {
        block_on(async {
            let s = MemoryStore::new();
            // Calls finish when first polled: a cache adds no timer around them.
            assert_eq!(s.call_bound(), Some(Duration::ZERO));
            assert_eq!(s.get(b"a").await.unwrap(), None);
            s.set(b"a", b"1", None).await.unwrap();
            s.set(b"b", b"", Some(Duration::from_secs(100)))
                .await
                .unwrap();
            assert_eq!(s.get(b"a").await.unwrap(), Some(b"1".to_vec()));
            assert_eq!(
                s.get(b"b").await.unwrap(),
                Some(Vec::new()),
                "empty is not missing"
            );
            let (_, ttl) = s.get_with_ttl(b"b").await.unwrap().unwrap();
            let ttl = ttl.unwrap();
            assert!(ttl <= Duration::from_secs(100) && ttl > Duration::from_secs(90));
            assert_eq!(
                s.get_with_ttl(b"a").await.unwrap(),
                Some((b"1".to_vec(), None))
            );
            assert_eq!(s.len(), 2);
            assert_eq!(s.bytes(), 3);
            assert!(s.delete(b"a").await.unwrap());
            assert!(!s.delete(b"a").await.unwrap());
            let keys = vec![b"a".to_vec(), b"b".to_vec()];
            assert_eq!(
                s.get_many(&keys).await.unwrap(),
                vec![None, Some(Vec::new())]
            );
            assert_eq!(s.delete_many(&keys).await.unwrap(), 1);
            assert!(s.is_empty());
            assert_eq!(s.bytes(), 0);
        });
    }

    #[test]
    fn ttl_expiry_and_sweep() {
        block_on(async {
            let s = MemoryStore::builder().shards(1).build();
            for i in 0..10 {
                s.set(&k(i), b"v", Some(Duration::from_millis(20)))
                    .await
                    .unwrap();
            }
            s.set(b"forever", b"v", None).await.unwrap();
            s.set(b"zero", b"v", Some(Duration::ZERO)).await.unwrap();
            assert_eq!(s.get(b"zero").await.unwrap(), None);
            assert_eq!(s.len(), 11);
            tokio::time::sleep(Duration::from_millis(30)).await;
            assert_eq!(s.get(&k(0)).await.unwrap(), None, "expired on read");
            assert_eq!(s.len(), 10);
            s.set(b"other", b"v", None).await.unwrap();
            assert_eq!(s.len(), 2, "the write swept the rest");
            s.set(b"t", b"v", Some(Duration::from_millis(1)))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
            assert_eq!(s.purge_expired(), 1);
            assert_eq!(s.bytes(), b"forevervotherv".len());
        });
    }

    #[test]
    fn lru_eviction_by_entries_and_bytes() {
        block_on(async {
            let s = MemoryStore::builder().shards(1).max_entries(3).build();
            for i in 0..3 {
                s.set(&k(i), b"v", None).await.unwrap();
            }
            // Touch 0, so 1 is the least recently used.
            s.get(&k(0)).await.unwrap();
            s.set(&k(3), b"v", None).await.unwrap();
            assert_eq!(s.len(), 3);
            assert!(s.get(&k(1)).await.unwrap().is_none());
            assert!(s.get(&k(0)).await.unwrap().is_some());

            let s = MemoryStore::builder().shards(4).max_bytes(100).build();
            for i in 0..50 {
                s.set(&k(i), &[0u8; 10], None).await.unwrap();
                assert!(s.bytes() <= 100);
            }
            assert!(s.get(&k(49)).await.unwrap().is_some(), "newest kept");
            assert!(matches!(
                s.set(b"big", &[0u8; 200], None).await,
                Err(StoreError::TooLarge { limit: 100, .. })
            ));
        });
    }

    #[test]
    fn expired_entries_are_evicted_first() {
        block_on(async {
            let s = MemoryStore::builder().shards(1).max_entries(2).build();
            s.set(b"old", b"v", None).await.unwrap();
            s.set(b"short", b"v", Some(Duration::from_millis(1)))
                .await
                .unwrap();
            std::thread::sleep(Duration::from_millis(3));
            // The sweep on write removes "short"; "old" (least recently used) survives.
            s.set(b"new", b"v", None).await.unwrap();
            assert!(s.get(b"old").await.unwrap().is_some());
            assert!(s.get(b"new").await.unwrap().is_some());
        });
    }

    #[test]
    fn hash_records_count_toward_the_bounds() {
        block_on(async {
            let s = MemoryStore::builder().shards(1).max_bytes(100).build();
            let fields = s.hash_put(b"h", b"f1", &[0u8; 20], None).await.unwrap();
            assert_eq!(fields.len(), 1);
            assert_eq!(s.bytes(), 1 + 2 + 20);
            s.hash_put(b"h", b"f2", &[0u8; 20], None).await.unwrap();
            assert_eq!((s.len(), s.bytes()), (1, 1 + 2 * 22));
            // Overwriting a field replaces its size.
            s.hash_put(b"h", b"f2", b"x", None).await.unwrap();
            assert_eq!(s.bytes(), 1 + 22 + 3);
            // Too large as a whole: refused, the record stays as it was.
            assert!(matches!(
                s.hash_put(b"h", b"big", &[0u8; 200], None).await,
                Err(StoreError::TooLarge { limit: 100, .. })
            ));
            assert_eq!(s.hash_get_all(b"h").await.unwrap().len(), 2);
            // Plain values evict the record when it is the least recently used.
            for i in 0..10 {
                s.set(&k(i), &[0u8; 10], None).await.unwrap();
            }
            assert!(s.bytes() <= 100);
            assert_eq!(s.hash_get_all(b"h").await.unwrap(), vec![]);
            // Removing every field removes the key.
            s.clear();
            s.hash_put(b"h", b"f", b"v", Some(Duration::from_secs(5)))
                .await
                .unwrap();
            assert_eq!(s.hash_remove(b"h", &[b"f".to_vec()]).await.unwrap(), 1);
            assert!(s.is_empty());
            assert_eq!(s.bytes(), 0);
            // An expired record is purged like a value.
            s.hash_put(b"t", b"f", b"v", Some(Duration::from_millis(1)))
                .await
                .unwrap();
            std::thread::sleep(Duration::from_millis(3));
            assert_eq!(s.purge_expired(), 1);
            assert!(s.is_empty());
        });
    }

    #[test]
    fn scan_pages_cover_every_key_once() {
        block_on(async {
            let s = MemoryStore::new();
            for i in 0..250 {
                s.set(&k(i), b"v", None).await.unwrap();
            }
            s.set(b"kez", b"v", None).await.unwrap();
            s.set(b"ke", b"v", None).await.unwrap();
            s.set(b"key:", b"v", None).await.unwrap();
            let mut seen = Vec::new();
            let mut cursor = ScanCursor::start();
            let mut pages = 0;
            loop {
                let page = s.scan_prefix(b"key:", cursor, 7).await.unwrap();
                assert!(page.keys.len() <= 7);
                seen.extend(page.keys);
                pages += 1;
                match page.cursor {
                    Some(c) => cursor = c,
                    None => break,
                }
            }
            assert!(pages >= 36);
            seen.sort();
            let mut expected: Vec<Vec<u8>> = (0..250).map(k).collect();
            expected.push(b"key:".to_vec());
            expected.sort();
            assert_eq!(seen, expected);
        });
    }
}
