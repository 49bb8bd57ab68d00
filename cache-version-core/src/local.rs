//! The local tier: decoded values in process, in front of the store, kept coherent by the
//! store's change reports ([`Store::watch`](crate::Store::watch)).
//!
//! Entries are keyed by the full store key (`{ns}:{model}:{keyversion}:{logical}`), so an
//! entry can never be another version's value. The tier is bounded by entries and by weight
//! (the caller's estimate of an entry's memory, see [`entry_weight`]), and each entry has a
//! deadline never later than the caller says (its remaining time in the store) nor than
//! [`LocalConfig::max_ttl`].
//!
//! # Built on quick_cache
//! Measured on this project's 2-core machine against moka 0.12 (`sync::Cache` with a weigher
//! and `Expiry`), with the same interface (`scripts/local-tier-compare`):
//!
//! | | quick_cache 0.7 | moka 0.12 |
//! |---|---|---|
//! | hit, 1 KB model as `Arc`, hot set of 1000 keys (CPU time, median) | 100-125 ns | 295-375 ns |
//! | miss | 56 ns | 313 ns |
//! | insert | 0.47 µs | 2.3 µs |
//! | memory per entry beyond the keys and values (RSS, 100k and 1M entries) | 50 bytes | 370 bytes |
//! | clean debug build of the crate and its dependencies (new crates in this tree) | 4.2 s wall, 1.7 s CPU (3: hashbrown, equivalent, quick_cache) | 19.1 s wall, 9.2 s CPU (15) |
//!
//! quick_cache has no expiry of its own: the deadline is kept in the entry (wall-clock
//! milliseconds, like the envelope's logical expiry) and checked on every hit against the
//! clock read the cache's trust check uses too (one read per hit). The tier keeps the latest
//! reading to within a second: a clock that steps back further than that clears the tier (an
//! entry's deadline, `max_ttl` included, is never overrun by more than about two seconds
//! whatever the clock does). An expired entry is removed when it is
//! read, else it waits for eviction (it still counts toward the bounds). Its eviction is
//! CLOCK-Pro (scan resistant), per shard (`4 × cores` shards): an entry heavier than about
//! `max_bytes / shards` is not kept. The bound on entries is kept by weighing every entry at
//! least `max_bytes / max_entries`. Evicted values are dropped outside the shard's lock.
//!
//! The shards are quick_cache's single-threaded cache, each behind a lock whose readers
//! share no cache line ([`table`]), and a hit runs the cache's function on the entry in
//! place: a typed `get` clones the model out of the tier without touching the `Arc`'s
//! reference count, which every core would otherwise bounce on one hot key.
//!
//! # Fills and invalidations race safely
//! A value read from the store may be overtaken by an invalidation that arrives before the
//! value is put in the tier. So a fill carries a [`FillToken`] taken *before* the store call
//! ([`LocalTier::token`]): an invalidation of the key, a flush or a lost period since then
//! refuses the fill. Keys are spread over 1024 stripes, each a mutex around a count of its
//! invalidations: a fill checks its token and writes its entry under its stripe's lock, an
//! invalidation counts and removes under it, a flush holds every stripe. So once
//! [`LocalTier::invalidate`] returns, no value read before it is in the tier, nor can be put
//! there, not even for a moment; reads (`get`) take no stripe lock.
//!
//! A new tier is *suspended* (it serves and keeps nothing) until [`LocalTier::resume`], which
//! the cache calls on [`WatchEvent::Established`].
//!
//! # A cache's own writes drop, not fill
//! A write or delete through the cache drops the key from its own tier once the store has
//! answered (so the cache reads its own writes), and the next read fills it from the store.
//! Keeping the written value instead would be undone at once: in broadcast mode the store
//! reports every change to every tracking connection, the writer's own included, and the
//! report does not say who wrote. Telling "the report of my write" from "another build's
//! write just before mine" would mean swallowing the first report that arrives while a write
//! is under way, and one report that never came (a write the server did not apply as sent)
//! would then swallow another build's change and leave a stale entry until
//! [`LocalConfig::max_ttl`]. An extra store read after a write is the cheaper price.

use std::any::Any;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use crate::envelope::{now_ms, Times};
use crate::store::{Watch, WatchEvent};

mod table;
use table::Table;

/// A decoded value in the local tier: the cache stores an `Arc<T>` and gets it back with
/// [`LocalTier::read_as`] (one reference count for the tier and every reader, no second
/// allocation around it).
pub(crate) type LocalValue = Arc<dyn Any + Send + Sync>;

/// The settings of a local tier of decoded values in front of the store. Start from
/// [`LocalConfig::default`] and change fields.
///
/// ```
/// use cache_version_core::LocalConfig;
/// use std::time::Duration;
///
/// let mut config = LocalConfig::default();
/// config.max_entries = 50_000;
/// config.max_bytes = 128 << 20;
/// config.max_ttl = Duration::from_secs(60);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocalConfig {
    /// The most entries kept (at least 1). Default: 10 000.
    pub max_entries: usize,
    /// The most bytes kept, as estimated per entry from its encoded size, its key and a fixed
    /// overhead (at least 1). Default: 64 MiB.
    pub max_bytes: u64,
    /// The longest an entry stays in the tier, however long it lives in the store: a bound
    /// on staleness should a change report ever be missed without the store noticing. Default:
    /// 5 minutes.
    pub max_ttl: Duration,
}

impl Default for LocalConfig {
    fn default() -> Self {
        LocalConfig {
            max_entries: 10_000,
            max_bytes: 64 << 20,
            max_ttl: Duration::from_secs(300),
        }
    }
}

/// What the tier itself holds per entry beyond the key's bytes and the value's own memory:
/// the table slot (key and value handles, deadline, weight, the policy's bookkeeping, 1.5
/// slots per entry with the ghost entries), the key's and the `Arc`'s allocation headers.
/// Measured: 100 000 entries of 40-byte keys and 16-byte values grew RSS by 224 bytes an
/// entry, 1 000 000 by 227 (`scripts/local-tier-compare`, case `quick`), of which 56 are the
/// key and value bytes and 40 the value's own `Vec` header: about 130 bytes.
pub(crate) const ENTRY_OVERHEAD: usize = 128;

/// The weight of an entry for [`LocalTier::insert`]: its encoded length (a proxy for the
/// decoded value's memory), its key and [`ENTRY_OVERHEAD`].
pub(crate) fn entry_weight(key_len: usize, encoded_len: usize) -> usize {
    key_len
        .saturating_add(encoded_len)
        .saturating_add(ENTRY_OVERHEAD)
}

/// How far behind the latest reading the wall clock may go before the tier takes it for a
/// step back and clears itself; deadlines may thus be overrun by at most about twice this.
const CLOCK_STEP_MS: u64 = 1000;

/// Stripes of keys for fill tokens: an invalidation refuses the fills of the keys of its
/// stripe that are under way (a collision costs a fill, never correctness).
const STRIPES: usize = 1024;

/// Taken before the store call whose answer will fill the tier; see the
/// [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FillToken {
    epoch: u64,
    stripe: usize,
    seq: u64,
    hash: u64,
}

#[derive(Clone)]
struct Slot {
    value: LocalValue,
    times: Option<Times>,
    /// The deadline, wall-clock milliseconds since the Unix epoch ([`now_ms`]).
    expires_ms: u64,
    weight: u32,
}

#[derive(Clone)]
struct ByWeight;

impl quick_cache::Weighter<Box<[u8]>, Slot> for ByWeight {
    fn weight(&self, _: &Box<[u8]>, slot: &Slot) -> u64 {
        u64::from(slot.weight)
    }
}

type Hasher = rapidhash::fast::RandomState;

/// Counts evictions (not replacements) and drops what it evicts outside the shard's lock.
#[derive(Clone)]
struct Evictions {
    count: Arc<AtomicU64>,
    hasher: Hasher,
}

#[derive(Default)]
struct Request {
    /// The hash of the key being inserted: its old entry is replaced, not evicted.
    inserting: Option<u64>,
    /// Dropped when the request ends, after the lock is released.
    dropped: [Option<(Box<[u8]>, Slot)>; 2],
}

impl quick_cache::Lifecycle<Box<[u8]>, Slot> for Evictions {
    type RequestState = Request;

    fn on_evict(&self, state: &mut Request, key: Box<[u8]>, slot: Slot) {
        if state.inserting != Some(self.hasher.hash_one(&*key)) {
            self.count.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(free) = state.dropped.iter_mut().find(|d| d.is_none()) {
            *free = Some((key, slot));
        }
    }
}

/// The local tier; see the [module documentation](self).
pub(crate) struct LocalTier {
    table: Table<Slot, ByWeight, Hasher, Evictions>,
    hasher: Hasher,
    /// Invalidations per stripe of keys; see the [module documentation](self).
    stripes: Box<[Mutex<u64>]>,
    /// Bumped by every flush, suspension and resumption, with every stripe locked.
    epoch: AtomicU64,
    /// The latest clock reading seen by `get`, kept to within [`CLOCK_STEP_MS`]: a reading
    /// further behind it is a clock stepped back, and the tier is cleared.
    clock_seen: AtomicU64,
    /// Changed with every stripe locked; read without a lock by `get`.
    usable: AtomicBool,
    min_weight: u32,
    max_ttl: Duration,
    evictions: Arc<AtomicU64>,
    expirations: AtomicU64,
    refused: AtomicU64,
    clock_steps: AtomicU64,
}

/// The tier's own counters (hits and misses are the cache's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LocalCounts {
    /// Entries dropped to make room.
    pub(crate) evictions: u64,
    /// Entries found past their deadline (and removed) on a read.
    pub(crate) expirations: u64,
    /// Fills refused because their token went stale (an invalidation, a flush or a lost
    /// period since the store call) or the deadline had passed.
    pub(crate) refused_fills: u64,
    /// Times the wall clock was seen to step back (the tier was cleared).
    pub(crate) clock_steps: u64,
}

impl std::fmt::Debug for LocalTier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalTier")
            .field("entries", &self.len())
            .field("weight", &self.weight())
            .field("usable", &self.is_usable())
            .field("counts", &self.counts())
            .finish()
    }
}

impl LocalTier {
    /// A tier with `config`'s bounds, suspended until [`LocalTier::resume`].
    pub(crate) fn new(config: &LocalConfig) -> LocalTier {
        let max_entries = config.max_entries.max(1);
        let max_bytes = config.max_bytes.max(1);
        let min_weight = max_bytes.div_ceil(max_entries as u64);
        let hasher = Hasher::new();
        let evictions = Arc::new(AtomicU64::new(0));
        LocalTier {
            table: Table::new(
                max_entries,
                max_bytes,
                ByWeight,
                hasher,
                Evictions {
                    count: evictions.clone(),
                    hasher,
                },
            ),
            hasher,
            stripes: (0..STRIPES).map(|_| Mutex::new(0)).collect(),
            epoch: AtomicU64::new(0),
            clock_seen: AtomicU64::new(0),
            usable: AtomicBool::new(false),
            min_weight: u32::try_from(min_weight).unwrap_or(u32::MAX),
            max_ttl: config.max_ttl,
            evictions,
            expirations: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            clock_steps: AtomicU64::new(0),
        }
    }

    /// `f` of the value under `key` and its envelope times, run in place (see
    /// [`Table::read`]), when the tier holds it and its deadline is after `now_ms`
    /// ([`now_ms`]); `None` while suspended.
    fn read<R>(
        &self,
        key: &[u8],
        now_ms: u64,
        f: impl FnOnce(&LocalValue, Option<Times>) -> Option<R>,
    ) -> Option<R> {
        if !self.usable.load(Ordering::Relaxed) {
            return None;
        }
        let seen = self.clock_seen.load(Ordering::Relaxed);
        if now_ms.saturating_add(CLOCK_STEP_MS) < seen {
            self.clock_stepped_back(now_ms);
            return None;
        }
        if now_ms > seen.saturating_add(CLOCK_STEP_MS) {
            // At most about once a second: the line stays shared between cores.
            self.clock_seen.fetch_max(now_ms, Ordering::Relaxed);
        }
        let live = self.table.read(key, |slot| {
            (slot.expires_ms > now_ms).then(|| f(&slot.value, slot.times))
        })?;
        if let Some(r) = live {
            return r;
        }
        let expired = self.table.remove_if(key, |s| s.expires_ms <= now_ms);
        if expired.is_some() {
            self.expirations.fetch_add(1, Ordering::Relaxed);
        }
        None
    }

    /// The wall clock went back: every deadline was set on the clock as it was, so an entry
    /// could now outlive [`LocalConfig::max_ttl`] by the step. Drops everything (and refuses
    /// the fills under way, whose deadlines came from the old clock).
    #[cold]
    fn clock_stepped_back(&self, now_ms: u64) {
        self.all_stripes(|| {
            self.epoch.fetch_add(1, Ordering::SeqCst);
            self.table.clear();
            self.clock_seen.store(now_ms, Ordering::Relaxed);
        });
        self.clock_steps.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            "local tier cleared: the system clock went back, and its entries' deadlines were \
             set on the clock as it was"
        );
    }

    /// [`LocalTier::read`] of the `T` the cache stored (`None` for a value of another type,
    /// which the full key rules out).
    pub(crate) fn read_as<T: Send + Sync + 'static, R>(
        &self,
        key: &[u8],
        now_ms: u64,
        f: impl FnOnce(Found<'_, T>) -> Option<R>,
    ) -> Option<R> {
        self.read(key, now_ms, |shared, times| {
            let value = shared.downcast_ref::<T>()?;
            f(Found {
                value,
                shared,
                times,
            })
        })
    }

    /// Taken before the store call whose answer fills the tier (a read, or a write whose
    /// value the cache then keeps).
    pub(crate) fn token(&self, key: &[u8]) -> FillToken {
        let hash = self.hasher.hash_one(key);
        let stripe = (hash % STRIPES as u64) as usize;
        let seq = self.stripe(stripe);
        FillToken {
            epoch: self.epoch.load(Ordering::SeqCst),
            stripe,
            seq: *seq,
            hash,
        }
    }

    fn stripe(&self, i: usize) -> MutexGuard<'_, u64> {
        // A count cannot be left half-updated.
        self.stripes[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` with every stripe locked (no fill or invalidation in between).
    fn all_stripes<R>(&self, f: impl FnOnce() -> R) -> R {
        let guards: Vec<MutexGuard<'_, u64>> = (0..STRIPES).map(|i| self.stripe(i)).collect();
        let r = f();
        drop(guards);
        r
    }

    /// Keeps `value` (written at `times`) under `key` until `expires_ms` (wall-clock
    /// milliseconds, at most [`LocalConfig::max_ttl`] from now), weighing `weight`
    /// ([`entry_weight`]), unless `token` (taken with [`LocalTier::token`] for this key
    /// before the store call) went stale; `true` when kept.
    pub(crate) fn insert(
        &self,
        key: &[u8],
        value: LocalValue,
        times: Option<Times>,
        weight: usize,
        expires_ms: u64,
        token: FillToken,
    ) -> bool {
        let now = now_ms();
        let max_ttl = u64::try_from(self.max_ttl.as_millis()).unwrap_or(u64::MAX);
        let expires_ms = expires_ms.min(now.saturating_add(max_ttl));
        if expires_ms <= now {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let weight = u32::try_from(weight)
            .unwrap_or(u32::MAX)
            .max(self.min_weight);
        let slot = Slot {
            value,
            times,
            expires_ms,
            weight,
        };
        let mut request = Request {
            inserting: Some(token.hash),
            ..Request::default()
        };
        {
            let seq = self.stripe(token.stripe);
            let fresh = *seq == token.seq
                && self.epoch.load(Ordering::SeqCst) == token.epoch
                && self.usable.load(Ordering::SeqCst);
            if !fresh {
                drop(seq);
                self.refused.fetch_add(1, Ordering::Relaxed);
                return false;
            }
            self.table.insert(key, slot, &mut request);
        }
        // Evicted values are dropped here, outside every lock.
        drop(request);
        true
    }

    /// Drops `key` (its value changed in the store) and refuses the fills of its stripe that
    /// are under way.
    pub(crate) fn invalidate(&self, key: &[u8]) {
        let stripe = (self.hasher.hash_one(key) % STRIPES as u64) as usize;
        let removed = {
            let mut seq = self.stripe(stripe);
            *seq += 1;
            self.table.remove(key)
        };
        drop(removed);
    }

    /// Drops every entry and refuses the fills under way.
    pub(crate) fn clear(&self) {
        self.all_stripes(|| {
            self.epoch.fetch_add(1, Ordering::SeqCst);
            self.table.clear();
        });
    }

    /// Drops everything and keeps nothing until [`LocalTier::resume`] (changes are not seen).
    pub(crate) fn suspend(&self) {
        self.all_stripes(|| {
            self.usable.store(false, Ordering::SeqCst);
            self.epoch.fetch_add(1, Ordering::SeqCst);
            self.table.clear();
        });
    }

    /// Serves and keeps entries again (changes are seen from now on). Fills whose token was
    /// taken before are refused.
    pub(crate) fn resume(&self) {
        self.all_stripes(|| {
            self.epoch.fetch_add(1, Ordering::SeqCst);
            self.usable.store(true, Ordering::SeqCst);
        });
    }

    /// Whether the tier serves and keeps entries now.
    pub(crate) fn is_usable(&self) -> bool {
        self.usable.load(Ordering::Relaxed)
    }

    /// Acts on one event of the store's [`Watch`](crate::Watch): `Established` resumes,
    /// `Invalidated` drops the keys, `Flushed` clears, `Lost` suspends.
    pub(crate) fn apply(&self, event: &WatchEvent) {
        match event {
            WatchEvent::Established => self.resume(),
            WatchEvent::Invalidated(keys) => {
                for key in keys {
                    self.invalidate(key);
                }
            }
            WatchEvent::Flushed => self.clear(),
            WatchEvent::Lost => self.suspend(),
        }
    }

    /// Entries held (some may be past their deadline, not yet removed).
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// The weight held.
    pub(crate) fn weight(&self) -> u64 {
        self.table.weight()
    }

    /// The tier's counters.
    pub(crate) fn counts(&self) -> LocalCounts {
        LocalCounts {
            evictions: self.evictions.load(Ordering::Relaxed),
            expirations: self.expirations.load(Ordering::Relaxed),
            refused_fills: self.refused.load(Ordering::Relaxed),
            clock_steps: self.clock_steps.load(Ordering::Relaxed),
        }
    }
}

/// A local hit: the decoded value and its envelope times (for the trust check of
/// [`crate::live`] and eager refresh on a local hit).
pub(crate) struct Found<'a, T> {
    /// The value, in the tier (a read lock of its shard is held).
    pub(crate) value: &'a T,
    shared: &'a LocalValue,
    /// The envelope times it was written with.
    pub(crate) times: Option<Times>,
}

impl<T: Send + Sync + 'static> Found<'_, T> {
    /// The tier's own `Arc` of the value, for
    /// [`ModelHandle::get_shared`](crate::ModelHandle::get_shared) (a reference count, no
    /// copy).
    pub(crate) fn shared(&self) -> Option<Arc<T>> {
        Arc::clone(self.shared).downcast::<T>().ok()
    }
}

/// What a cache's local tier counted and holds now ([`Cache::local_stats`](crate::Cache::local_stats)).
/// Local hits are counted per model ([`Stats::local_hit`](crate::Stats::local_hit)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocalStats {
    /// Entries held now (some may be past their deadline, not yet removed).
    pub entries: usize,
    /// Their weight (see [`LocalConfig::max_bytes`]).
    pub weight: u64,
    /// Whether the tier serves and keeps entries now: the store's change reports are
    /// established. While they are not (before the first report, after a lost tracking
    /// connection), every read goes to the store.
    pub usable: bool,
    /// Keys the store reported changed (writes, deletes, expiries and evictions by any
    /// client; this cache's own writes too).
    pub invalidations: u64,
    /// Flushes the store reported (`FLUSHALL`, `FLUSHDB`, `MemoryStore::clear`): the tier was
    /// cleared.
    pub flushes: u64,
    /// Times the change reports were lost (a dropped tracking connection, a changed cluster
    /// topology, a consumer that fell behind): the tier was cleared and suspended until they
    /// were established again.
    pub losses: u64,
    /// Times the change reports were (re-)established and the tier resumed.
    pub establishments: u64,
    /// Entries dropped to make room.
    pub evictions: u64,
    /// Entries found past their deadline on a read.
    pub expirations: u64,
    /// Fills refused: an invalidation, flush or loss came between the store read and the
    /// fill, or the entry's deadline had passed.
    pub refused_fills: u64,
    /// Times the system clock was seen to go back by more than a second: the tier was cleared
    /// (its entries' deadlines were set on the clock as it was).
    pub clock_steps: u64,
}

#[derive(Default)]
struct WatchCounts {
    invalidations: AtomicU64,
    flushes: AtomicU64,
    losses: AtomicU64,
    establishments: AtomicU64,
}

/// A cache's local tier: the tier and the task that applies the store's change reports to it.
///
/// The task starts on the first use of the tier from within a Tokio runtime (the tier is
/// suspended until the store's first [`WatchEvent::Established`]) and stops with the cache.
pub(crate) struct LocalFront {
    tier: Arc<LocalTier>,
    watch: Mutex<Option<Watch>>,
    /// Told of every key the store reports changed (the cache marks a load of that key in
    /// flight as overtaken, so it does not write back a value read before the change).
    on_change: ChangeHook,
    task: OnceLock<tokio::task::AbortHandle>,
    counts: Arc<WatchCounts>,
}

impl std::fmt::Debug for LocalFront {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalFront")
            .field("tier", &self.tier)
            .field("started", &self.task.get().is_some())
            .finish()
    }
}

impl Drop for LocalFront {
    fn drop(&mut self) {
        if let Some(task) = self.task.get() {
            task.abort();
        }
    }
}

/// What the cache does with each key the store reports changed, besides the tier.
pub(crate) type ChangeHook = Arc<dyn Fn(&[u8]) + Send + Sync>;

impl LocalFront {
    /// A tier with `config`'s bounds, fed by `watch` once started; `on_change` is told of
    /// every key reported changed.
    pub(crate) fn new(config: &LocalConfig, watch: Watch, on_change: ChangeHook) -> LocalFront {
        LocalFront {
            tier: Arc::new(LocalTier::new(config)),
            watch: Mutex::new(Some(watch)),
            on_change,
            task: OnceLock::new(),
            counts: Arc::default(),
        }
    }

    /// The tier, with its task started (when called within a Tokio runtime).
    #[inline]
    fn tier(&self) -> &LocalTier {
        if self.task.get().is_none() {
            self.start();
        }
        &self.tier
    }

    /// Starts the task that applies the store's reports, when called within a Tokio runtime
    /// (else the first use from within one starts it).
    #[cold]
    pub(crate) fn start(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut slot = self.watch.lock().unwrap_or_else(|e| e.into_inner());
        let Some(watch) = slot.take() else {
            return;
        };
        let task = runtime.spawn(follow(
            self.tier.clone(),
            watch,
            self.counts.clone(),
            self.on_change.clone(),
        ));
        // Only the holder of the watch gets here.
        let _ = self.task.set(task.abort_handle());
    }

    /// `f` of the entry under the full key `key`, run in place (under its shard's read lock:
    /// keep it short), if the tier holds one of type `T` whose deadline is after `now_ms`
    /// ([`now_ms`]).
    #[inline]
    pub(crate) fn lookup<T: Send + Sync + 'static, R>(
        &self,
        key: &[u8],
        now_ms: u64,
        f: impl FnOnce(Found<'_, T>) -> Option<R>,
    ) -> Option<R> {
        self.tier().read_as::<T, R>(key, now_ms, f)
    }

    /// Taken before the store read whose answer may fill the tier.
    #[inline]
    pub(crate) fn token(&self, key: &[u8]) -> FillToken {
        self.tier().token(key)
    }

    /// Keeps a value read from the store under `key` until its logical expiry (or, with eager
    /// refresh at `refresh`, until the point of its life where a read should refresh it), at
    /// most [`LocalConfig::max_ttl`]; refused when `token` went stale. Raw payloads (no times)
    /// are not kept: nothing bounds their life.
    pub(crate) fn fill<T: Send + Sync + 'static>(
        &self,
        key: &[u8],
        value: T,
        times: Option<Times>,
        encoded_len: usize,
        refresh: Option<f64>,
        token: FillToken,
    ) {
        let Some(t) = times else { return };
        // No logical expiry: max_ttl bounds it.
        let expires_ms = t.expires_ms.map_or(u64::MAX, |end_ms| match refresh {
            Some(f) => {
                let life = end_ms.saturating_sub(t.written_ms) as f64;
                t.written_ms.saturating_add((life * f) as u64)
            }
            None => end_ms,
        });
        let weight = entry_weight(key.len(), encoded_len);
        let value: LocalValue = Arc::new(value);
        self.tier
            .insert(key, value, times, weight, expires_ms, token);
    }

    /// Drops the entries of keys this cache has just written or deleted (the store's report of
    /// the change follows; this makes the cache read its own writes at once).
    pub(crate) fn drop_keys<'k>(&self, keys: impl IntoIterator<Item = &'k [u8]>) {
        for key in keys {
            self.tier.invalidate(key);
        }
    }

    /// What the tier counted and holds.
    pub(crate) fn stats(&self) -> LocalStats {
        let counts = self.tier.counts();
        LocalStats {
            entries: self.tier.len(),
            weight: self.tier.weight(),
            usable: self.tier.is_usable(),
            invalidations: self.counts.invalidations.load(Ordering::Relaxed),
            flushes: self.counts.flushes.load(Ordering::Relaxed),
            losses: self.counts.losses.load(Ordering::Relaxed),
            establishments: self.counts.establishments.load(Ordering::Relaxed),
            evictions: counts.evictions,
            expirations: counts.expirations,
            refused_fills: counts.refused_fills,
            clock_steps: counts.clock_steps,
        }
    }
}

/// The task of a [`LocalFront`]: applies every report of the watch to the tier, logging each
/// change of state once.
async fn follow(
    tier: Arc<LocalTier>,
    mut watch: Watch,
    counts: Arc<WatchCounts>,
    on_change: ChangeHook,
) {
    while let Some(event) = watch.recv().await {
        match &event {
            WatchEvent::Invalidated(keys) => {
                for key in keys {
                    on_change(key);
                }
                counts
                    .invalidations
                    .fetch_add(keys.len() as u64, Ordering::Relaxed);
                metrics::counter!("cache_version_local_invalidation").increment(keys.len() as u64);
            }
            WatchEvent::Flushed => {
                counts.flushes.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("cache_version_local_flush").increment(1);
                tracing::info!("local tier cleared: the store reported a flush");
            }
            WatchEvent::Lost => {
                counts.losses.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("cache_version_local_lost").increment(1);
                tracing::warn!(
                    "local tier cleared and suspended: the store's change reports were lost; \
                     reads go to the store until they are back"
                );
            }
            WatchEvent::Established => {
                counts.establishments.fetch_add(1, Ordering::Relaxed);
                tracing::info!("local tier in use: the store's change reports are established");
            }
        }
        tier.apply(&event);
    }
    tier.suspend();
    tracing::warn!(
        error = watch.error().as_deref().unwrap_or("the store was dropped"),
        "local tier off for good: the store's change reports ended"
    );
}

/// The tier behind a public face for this crate's benches (`benches/local_tier.rs`). Not API.
#[doc(hidden)]
pub struct BenchTier(LocalTier);

#[doc(hidden)]
impl BenchTier {
    /// A usable tier with `config`'s bounds.
    pub fn new(config: &LocalConfig) -> BenchTier {
        let t = LocalTier::new(config);
        t.resume();
        BenchTier(t)
    }
    /// The tier's `Arc` of the value under `key` (a clock read, as the cache does it).
    pub fn get_as<T: Send + Sync + 'static>(&self, key: &[u8]) -> Option<Arc<T>> {
        self.0
            .read_as(key, now_ms(), |found: Found<'_, T>| found.shared())
    }
    /// A token, then an insert (what a fill after a store read costs).
    pub fn fill(&self, key: &[u8], value: LocalValue, encoded_len: usize) -> bool {
        let token = self.0.token(key);
        let weight = entry_weight(key.len(), encoded_len);
        let expires = now_ms() + 3_600_000;
        self.0.insert(key, value, None, weight, expires, token)
    }
    /// [`LocalTier::invalidate`].
    pub fn invalidate(&self, key: &[u8]) {
        self.0.invalidate(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(max_entries: usize, max_bytes: u64) -> LocalTier {
        let config = LocalConfig {
            max_entries,
            max_bytes,
            ..LocalConfig::default()
        };
        let t = LocalTier::new(&config);
        t.resume();
        t
    }

    fn later() -> u64 {
        now_ms() + 60_000
    }

    fn put(t: &LocalTier, key: &[u8], v: u64) -> bool {
        let token = t.token(key);
        t.insert(key, Arc::new(v), None, 100, later(), token)
    }

    fn get(t: &LocalTier, key: &[u8]) -> Option<LocalValue> {
        t.read(key, now_ms(), |v, _| Some(v.clone()))
    }

    fn get_as<T: Send + Sync + 'static>(t: &LocalTier, key: &[u8]) -> Option<Arc<T>> {
        t.read_as(key, now_ms(), |found: Found<'_, T>| found.shared())
    }

    #[test]
    fn get_insert_invalidate() {
        let t = tier(100, 1 << 20);
        assert!(get(&t, b"k").is_none());
        assert!(put(&t, b"k", 7));
        assert_eq!(get_as::<u64>(&t, b"k").as_deref(), Some(&7));
        assert!(get_as::<String>(&t, b"k").is_none(), "another type");
        assert_eq!(t.len(), 1);
        t.invalidate(b"k");
        assert!(get(&t, b"k").is_none());
        assert!(put(&t, b"a", 1) && put(&t, b"b", 2));
        t.clear();
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn a_panic_in_a_read_leaves_the_tier_working() {
        // The caller's function (a model's `Clone`) runs under the shard's read lock.
        let t = tier(100, 1 << 20);
        assert!(put(&t, b"k", 7));
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            t.read_as(b"k", now_ms(), |_: Found<'_, u64>| -> Option<()> {
                panic!("a model's Clone panicked")
            })
        }));
        assert!(r.is_err());
        // Readers, writers and invalidations of that shard go on.
        assert_eq!(get_as::<u64>(&t, b"k").as_deref(), Some(&7));
        assert!(put(&t, b"k", 8));
        assert_eq!(get_as::<u64>(&t, b"k").as_deref(), Some(&8));
        t.invalidate(b"k");
        assert!(get(&t, b"k").is_none());
        t.clear();
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn reads_in_place_and_shared_see_the_same_value() {
        let t = tier(100, 1 << 20);
        let token = t.token(b"k");
        assert!(t.insert(b"k", Arc::new(String::from("v")), None, 100, later(), token));
        let cloned = t.read_as(b"k", now_ms(), |f: Found<'_, String>| Some(f.value.clone()));
        let shared = get_as::<String>(&t, b"k").unwrap();
        assert_eq!(cloned.as_deref(), Some("v"));
        assert_eq!(*shared, "v");
        // The tier's copy and the shared one are one allocation; the in-place clone is not.
        let again = get_as::<String>(&t, b"k").unwrap();
        assert!(Arc::ptr_eq(&shared, &again));
        // A function that declines is not a hit and removes nothing.
        assert!(t
            .read_as(b"k", now_ms(), |_: Found<'_, String>| None::<()>)
            .is_none());
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn stale_tokens_refuse_fills() {
        let t = tier(100, 1 << 20);
        // An invalidation between the token and the fill.
        let token = t.token(b"k");
        t.invalidate(b"k");
        assert!(!t.insert(b"k", Arc::new(1u64), None, 100, later(), token));
        assert!(get(&t, b"k").is_none());
        // A flush.
        let token = t.token(b"k");
        t.clear();
        assert!(!t.insert(b"k", Arc::new(1u64), None, 100, later(), token));
        // A lost period, even once resumed.
        let token = t.token(b"k");
        t.suspend();
        assert!(get(&t, b"k").is_none());
        let during = t.token(b"k");
        assert!(!t.insert(b"k", Arc::new(1u64), None, 100, later(), during));
        t.resume();
        assert!(!t.insert(b"k", Arc::new(1u64), None, 100, later(), token));
        assert!(!t.insert(b"k", Arc::new(1u64), None, 100, later(), during));
        // Another key's invalidation in another stripe does not matter.
        let token = t.token(b"k");
        let other = (0..)
            .map(|i: u32| i.to_be_bytes().to_vec())
            .find(|o| t.token(o).stripe != token.stripe)
            .unwrap();
        t.invalidate(&other);
        assert!(t.insert(b"k", Arc::new(1u64), None, 100, later(), token));
        assert_eq!(t.counts().refused_fills, 5);
        // Resuming while usable also refuses the fills under way.
        let token = t.token(b"k");
        t.resume();
        assert!(!t.insert(b"k", Arc::new(1u64), None, 100, later(), token));
    }

    #[test]
    fn a_new_tier_is_suspended_and_events_drive_it() {
        let t = LocalTier::new(&LocalConfig::default());
        assert!(!t.is_usable());
        let token = t.token(b"k");
        assert!(!t.insert(b"k", Arc::new(1u64), None, 100, later(), token));
        t.apply(&WatchEvent::Established);
        assert!(put(&t, b"k", 1) && put(&t, b"j", 2));
        t.apply(&WatchEvent::Invalidated(vec![b"k".to_vec()]));
        assert!(get(&t, b"k").is_none() && get(&t, b"j").is_some());
        t.apply(&WatchEvent::Flushed);
        assert!(get(&t, b"j").is_none() && t.is_usable());
        assert!(put(&t, b"j", 2));
        t.apply(&WatchEvent::Lost);
        assert!(!t.is_usable() && t.len() == 0);
        assert!(!put(&t, b"j", 2));
    }

    #[test]
    fn deadlines() {
        let config = LocalConfig {
            max_ttl: Duration::from_millis(30),
            ..LocalConfig::default()
        };
        let t = LocalTier::new(&config);
        t.resume();
        let token = t.token(b"short");
        assert!(t.insert(b"short", Arc::new(1u64), None, 10, now_ms() + 10, token));
        // A deadline past max_ttl is cut to it.
        assert!(put(&t, b"long", 2));
        // A deadline already past: refused.
        let token = t.token(b"gone");
        assert!(!t.insert(b"gone", Arc::new(3u64), None, 10, now_ms(), token));
        assert!(get(&t, b"short").is_some());
        std::thread::sleep(Duration::from_millis(15));
        assert!(get(&t, b"short").is_none());
        assert!(get(&t, b"long").is_some());
        std::thread::sleep(Duration::from_millis(20));
        assert!(get(&t, b"long").is_none());
        assert_eq!(t.counts().expirations, 2);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn a_clock_stepped_back_clears_the_tier() {
        let t = tier(100, 1 << 20);
        assert!(put(&t, b"k", 1));
        let now = now_ms();
        assert!(t.read(b"k", now, |_, _| Some(())).is_some());
        // Back by less than the tolerance: still served (the deadline holds on its own).
        assert!(t
            .read(b"k", now - CLOCK_STEP_MS / 2, |_, _| Some(()))
            .is_some());
        assert_eq!(t.counts().clock_steps, 0);
        // A fill under way when the clock steps back is refused: its deadline came from the
        // old clock.
        let token = t.token(b"j");
        // Back by an hour: every entry's deadline may now be an hour too far.
        let back = now - 3_600_000;
        assert!(t.read(b"k", back, |_, _| Some(())).is_none());
        assert_eq!(t.counts().clock_steps, 1);
        assert_eq!(t.len(), 0);
        assert!(!t.insert(b"j", Arc::new(2u64), None, 100, later(), token));
        // The new reading is the reference from then on; a clock going forward again clears
        // nothing.
        assert!(t.read(b"k", back + 1, |_, _| Some(())).is_none());
        assert!(put(&t, b"k", 3));
        assert!(t.read(b"k", now_ms(), |_, _| Some(())).is_some());
        assert_eq!(t.counts().clock_steps, 1);
    }

    #[test]
    fn bounded_by_entries_and_by_weight() {
        // By entries: 1000 at most, whatever their weight.
        let t = tier(1000, 1 << 30);
        for i in 0..5000u32 {
            put(&t, &i.to_be_bytes(), u64::from(i));
        }
        assert!(t.len() <= 1000, "{} entries", t.len());
        assert!(t.len() >= 900, "{} entries", t.len());
        let evicted = t.counts().evictions;
        assert!(evicted >= 4000, "{evicted} evictions");
        // Replacing a key is not an eviction.
        for _ in 0..10 {
            put(&t, &4999u32.to_be_bytes(), 1);
        }
        assert_eq!(t.counts().evictions, evicted);
        // By weight: 1 MiB of 10 KiB entries.
        let t = tier(1_000_000, 1 << 20);
        for i in 0..1000u32 {
            let token = t.token(&i.to_be_bytes());
            t.insert(
                &i.to_be_bytes(),
                Arc::new(i),
                None,
                10 << 10,
                later(),
                token,
            );
        }
        assert!(t.weight() <= 1 << 20);
        assert!(t.len() <= 102 && t.len() >= 80, "{} entries", t.len());
    }

    #[test]
    fn concurrent_fills_never_outlive_an_invalidation() {
        // Writers bump a version and invalidate; readers "read the store" (the version),
        // then fill. After every invalidation has been applied, whatever the tier holds must
        // be the last version.
        use std::sync::atomic::AtomicU64 as Version;
        let t = Arc::new(tier(1000, 1 << 20));
        let store = Arc::new(Version::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let mut handles = Vec::new();
        for _ in 0..2 {
            let (t, store, stop) = (t.clone(), store.clone(), stop.clone());
            handles.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let token = t.token(b"k");
                    let v = store.load(Ordering::SeqCst);
                    std::hint::spin_loop();
                    t.insert(b"k", Arc::new(v), None, 100, later(), token);
                }
            }));
        }
        let mut hits = 0;
        for _ in 0..20_000 {
            let n = store.fetch_add(1, Ordering::SeqCst) + 1;
            t.invalidate(b"k");
            // Once the invalidation is applied, no value read before the write is there,
            // not even for a moment.
            if let Some(v) = get_as::<u64>(&t, b"k") {
                assert_eq!(*v, n);
                hits += 1;
            }
            std::thread::yield_now();
        }
        stop.store(true, Ordering::Relaxed);
        for h in handles {
            h.join().unwrap();
        }
        if let Some(v) = get_as::<u64>(&t, b"k") {
            assert_eq!(*v, store.load(Ordering::SeqCst));
        }
        assert!(hits > 0, "the fills never got in");
    }
}
