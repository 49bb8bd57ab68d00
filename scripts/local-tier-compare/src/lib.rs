//! The two candidate local tiers, with the same small interface as the project's own tier:
//! decoded values (`Arc<dyn Any>`) under full store keys, each with a weight and a deadline.

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub type Value = Arc<dyn Any + Send + Sync>;

#[derive(Clone)]
pub struct Entry {
    pub value: Value,
    pub weight: u32,
    pub expires: Instant,
}

pub trait Tier: Send + Sync {
    fn get(&self, key: &[u8]) -> Option<Value>;
    fn insert(&self, key: &[u8], value: Value, weight: u32, expires: Instant);
    fn invalidate(&self, key: &[u8]);
    fn settle(&self) {}
    fn len(&self) -> usize;
}

// ---------------------------------------------------------------------------------------
// moka: sync::Cache with a weigher and per-entry expiry (`Expiry`).

pub struct Moka(moka::sync::Cache<Box<[u8]>, Entry>);

struct Deadline;

impl moka::Expiry<Box<[u8]>, Entry> for Deadline {
    fn expire_after_create(&self, _: &Box<[u8]>, v: &Entry, now: Instant) -> Option<Duration> {
        Some(v.expires.saturating_duration_since(now))
    }
    fn expire_after_update(
        &self,
        _: &Box<[u8]>,
        v: &Entry,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(v.expires.saturating_duration_since(now))
    }
}

impl Moka {
    pub fn new(max_entries: u64, max_weight: u64) -> Self {
        Moka(
            moka::sync::Cache::builder()
                .initial_capacity(max_entries.min(1 << 20) as usize)
                .max_capacity(max_weight)
                .weigher(|_, e: &Entry| e.weight)
                .expire_after(Deadline)
                .build(),
        )
    }
}

impl Tier for Moka {
    fn get(&self, key: &[u8]) -> Option<Value> {
        self.0.get(key).map(|e| e.value)
    }
    fn insert(&self, key: &[u8], value: Value, weight: u32, expires: Instant) {
        self.0.insert(
            key.into(),
            Entry {
                value,
                weight,
                expires,
            },
        );
    }
    fn invalidate(&self, key: &[u8]) {
        self.0.invalidate(key);
    }
    fn settle(&self) {
        self.0.run_pending_tasks();
    }
    fn len(&self) -> usize {
        self.0.entry_count() as usize
    }
}

// ---------------------------------------------------------------------------------------
// quick_cache: sync::Cache with a weighter; the deadline is kept in the value and checked on
// `get` (an expired entry is removed then, or evicted in its turn).

#[derive(Clone)]
pub struct ByWeight;

impl quick_cache::Weighter<Box<[u8]>, Entry> for ByWeight {
    fn weight(&self, _: &Box<[u8]>, e: &Entry) -> u64 {
        u64::from(e.weight)
    }
}

pub struct Quick<B: std::hash::BuildHasher + Clone + Send + Sync>(
    quick_cache::sync::Cache<Box<[u8]>, Entry, ByWeight, B>,
);

pub type QuickFold = Quick<foldhash::fast::RandomState>;
pub type QuickStd = Quick<std::collections::hash_map::RandomState>;

impl<B: std::hash::BuildHasher + Clone + Default + Send + Sync> Quick<B> {
    pub fn new(max_entries: u64, max_weight: u64) -> Self {
        Quick(quick_cache::sync::Cache::with(
            max_entries as usize,
            max_weight,
            ByWeight,
            B::default(),
            Default::default(),
        ))
    }
}

impl<B: std::hash::BuildHasher + Clone + Send + Sync> Tier for Quick<B> {
    fn get(&self, key: &[u8]) -> Option<Value> {
        let e = self.0.get(key)?;
        if e.expires > Instant::now() {
            Some(e.value)
        } else {
            self.0.remove_if(key, |e| e.expires <= Instant::now());
            None
        }
    }
    fn insert(&self, key: &[u8], value: Value, weight: u32, expires: Instant) {
        self.0.insert(
            key.into(),
            Entry {
                value,
                weight,
                expires,
            },
        );
    }
    fn invalidate(&self, key: &[u8]) {
        self.0.remove(key);
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// A key like the typed cache's: `{ns}:{model}:{16 hex}:{logical}` (about 40 bytes).
pub fn key(i: usize) -> Vec<u8> {
    format!("prod:Profile:3f9a1c2b7d4e5f60:user-{i:08}").into_bytes()
}
