//! The local tier's table: quick_cache's single-threaded cache in shards, each behind a
//! [`ShardedLock`], and reads that look at an entry in place.
//!
//! quick_cache's own concurrent cache answers a read with a clone of the stored value: for
//! the tier's `Arc` that is an increment and a decrement of one reference count, and when
//! every core reads the same hot entry that count's cache line moves between them on every
//! read (measured: a local hit cost about twice as much per core on two threads as on one).
//! Here a read runs the caller's function on the entry under the shard's read lock, so a
//! typed `get` clones the model straight out of the tier and writes no shared memory:
//! a [`ShardedLock`]'s readers each lock a part of their own, and the entry's
//! recency count stops being written once it is at its maximum.
//!
//! Shards are chosen by the key's hash, `4 × cores` of them (a power of two, fewer when
//! that would leave a shard under 32 entries), each with its share of both bounds: the
//! layout quick_cache's concurrent cache uses.

use std::hash::BuildHasher;
use std::sync::{LockResult, PoisonError};

use crossbeam_utils::sync::ShardedLock;
use quick_cache::unsync::Cache;
use quick_cache::{Lifecycle, OptionsBuilder, Weighter};

/// Entries a shard should hold at least (quick_cache's own rule for its shards).
const MIN_SHARD_ITEMS: u64 = 32;

/// One shard: quick_cache's single-threaded cache behind its lock.
type Shard<V, W, H, L> = ShardedLock<Cache<Box<[u8]>, V, W, H, L>>;

/// A bounded table of `V` by byte-string key, sharded; see the [module documentation](self).
pub(super) struct Table<V, W, H, L> {
    shards: Box<[Shard<V, W, H, L>]>,
    hasher: H,
    mask: u64,
}

/// A lock's guard whether or not a panic poisoned it: no operation here leaves a shard
/// half-changed (quick_cache's own concurrent cache ignores poisoning too).
fn unpoisoned<G>(r: LockResult<G>) -> G {
    r.unwrap_or_else(PoisonError::into_inner)
}

impl<V, W, H, L> Table<V, W, H, L>
where
    W: Weighter<Box<[u8]>, V> + Clone,
    H: BuildHasher + Clone,
    L: Lifecycle<Box<[u8]>, V> + Clone,
{
    /// A table of about `items` entries and at most `weight` in all.
    pub(super) fn new(items: usize, weight: u64, weighter: W, hasher: H, lifecycle: L) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut shards = (cores as u64 * 4).next_power_of_two();
        let items = items as u64;
        while shards > 1 && items.div_ceil(shards) < MIN_SHARD_ITEMS {
            shards /= 2;
        }
        let options = OptionsBuilder::new()
            .estimated_items_capacity(usize::try_from(items.div_ceil(shards)).unwrap_or(usize::MAX))
            .weight_capacity(weight.div_ceil(shards))
            .build()
            .expect("both capacities are set");
        let mask = shards - 1;
        let shards = (0..shards)
            .map(|_| {
                ShardedLock::new(Cache::with_options(
                    options.clone(),
                    weighter.clone(),
                    hasher.clone(),
                    lifecycle.clone(),
                ))
            })
            .collect();
        Table {
            shards,
            hasher,
            mask,
        }
    }

    fn shard(&self, key: &[u8]) -> &Shard<V, W, H, L> {
        // The high bits: the shard's own table indexes by the low ones.
        let hash = self.hasher.hash_one(key);
        &self.shards[((hash >> 32) & self.mask) as usize]
    }

    /// `f` of the entry under `key`, run under its shard's read lock (which holds writers of
    /// that shard off until `f` returns); `None` when there is no entry. Counts as a use of
    /// the entry for eviction.
    pub(super) fn read<R>(&self, key: &[u8], f: impl FnOnce(&V) -> R) -> Option<R> {
        let shard = unpoisoned(self.shard(key).read());
        shard.get(key).map(f)
    }

    /// Keeps `value` under `key`, replacing its entry; what this evicts goes into `request`
    /// (see [`Lifecycle`]), to be dropped by the caller once the lock is released.
    pub(super) fn insert(&self, key: &[u8], value: V, request: &mut L::RequestState) {
        unpoisoned(self.shard(key).write()).insert_with_lifecycle(key.into(), value, request);
    }

    /// Takes the entry under `key` out (for the caller to drop outside the lock).
    pub(super) fn remove(&self, key: &[u8]) -> Option<(Box<[u8]>, V)> {
        unpoisoned(self.shard(key).write()).remove(key)
    }

    /// Takes the entry under `key` out if `f` says so.
    pub(super) fn remove_if(
        &self,
        key: &[u8],
        f: impl FnOnce(&V) -> bool,
    ) -> Option<(Box<[u8]>, V)> {
        unpoisoned(self.shard(key).write()).remove_if(key, f)
    }

    /// Drops every entry.
    pub(super) fn clear(&self) {
        for shard in self.shards.iter() {
            unpoisoned(shard.write()).clear();
        }
    }

    /// Entries held.
    pub(super) fn len(&self) -> usize {
        self.shards.iter().map(|s| unpoisoned(s.read()).len()).sum()
    }

    /// The sum of the entries' weights.
    pub(super) fn weight(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| unpoisoned(s.read()).weight())
            .sum()
    }
}
