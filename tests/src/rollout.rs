//! The rolling-deploy tests (issue 6), generic over the store so they run on `MemoryStore`,
//! standalone Redis and Redis Cluster: [`rollout_suite!`](crate::rollout_suite) turns each
//! case into a `#[tokio::test]`. The skew test lives in `tests/rollout_skew.rs`.
//!
//! Every case isolates itself with fresh namespaces, so cases can share one store (one Redis
//! server) and run in parallel; the cleanup case counts keys under a base prefix no other
//! case uses.
#![allow(missing_docs)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cache_version_core::rollout::{RolloutError, SweepError};
use cache_version_core::{
    Cache, CacheVersion, ModelHandle, ScanCursor, ScanPage, SetEntry, Store, StoreError,
    ValueAndTtl,
};
use serde::{Deserialize, Serialize};

use crate::suite::{scan_all, unique_ns};

// ---------------------------------------------------------------------------------------------
// Models: three generations of `User` (seed 000's rename, then a new field), and an
// unrelated model.

/// Build A's `User`: `user_name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, CacheVersion)]
#[cache_version(name = "User")]
pub struct UserV1 {
    pub user_id: u64,
    pub user_name: String,
}

/// Build B's `User`: `user_name` renamed `full_name` (seed 000).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, CacheVersion)]
pub struct User {
    pub user_id: u64,
    pub full_name: String,
}

/// The generation after: a new field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, CacheVersion)]
#[cache_version(name = "User")]
pub struct UserV3 {
    pub user_id: u64,
    pub full_name: String,
    pub verified: bool,
}

/// Another model, whose keys a `User` job must never touch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, CacheVersion)]
pub struct Order {
    pub id: u64,
    pub amount: u64,
}

pub fn v1_to_v2(old: UserV1) -> User {
    User {
        user_id: old.user_id,
        full_name: old.user_name,
    }
}

pub fn v2_to_v1(new: &User) -> UserV1 {
    UserV1 {
        user_id: new.user_id,
        user_name: new.full_name.clone(),
    }
}

pub fn v2_to_v3(old: User) -> UserV3 {
    UserV3 {
        user_id: old.user_id,
        full_name: old.full_name,
        verified: false,
    }
}

pub fn v1(id: u64, name: &str) -> UserV1 {
    UserV1 {
        user_id: id,
        user_name: name.into(),
    }
}

pub fn v2(id: u64, name: &str) -> User {
    User {
        user_id: id,
        full_name: name.into(),
    }
}

/// Build B's handle: migrates from V1 and dual-writes V1.
pub fn build_b<S: Store>(cache: &Cache<S>) -> ModelHandle<User, S> {
    cache
        .model::<User>()
        .migrate_from::<UserV1, _>(v1_to_v2)
        .expect("V1 is an older version")
        .dual_write_to::<UserV1, _>(v2_to_v1)
        .expect("V1 is an older version")
}

fn cache_in<S: Store>(store: S, ns: &str) -> Cache<S> {
    Cache::builder(store)
        .namespace(ns)
        .ttl_jitter(0.0)
        .timeout(Duration::from_secs(2))
        .build()
        .expect("valid config")
}

fn cache<S: Store>(store: S, tag: &str) -> Cache<S> {
    cache_in(store, &unique_ns(tag))
}

/// The cache of builds that are gone (or predate the live-version registry) in the
/// namespace of `of`: their handles write old versions' entries, announce nothing, and their
/// writes reach no other version; sweeps may delete their keys. One such cache may hold
/// handles of several versions of a model.
fn gone_build<S: Store>(store: S, of: &Cache<impl Store>) -> Cache<S> {
    Cache::builder(store)
        .namespace(of.namespace())
        .ttl_jitter(0.0)
        .timeout(Duration::from_secs(2))
        .live_versions(false)
        .build()
        .expect("valid config")
}

/// The remaining TTL of a key.
async fn ttl_of<S: Store>(store: &S, key: &[u8]) -> Option<Option<Duration>> {
    store.get_with_ttl(key).await.unwrap().map(|(_, ttl)| ttl)
}

fn assert_ttl_near(got: Option<Option<Duration>>, want: Duration, what: &str) {
    let ttl = got
        .unwrap_or_else(|| panic!("{what}: key missing"))
        .unwrap_or_else(|| panic!("{what}: no TTL"));
    // The entry's remaining TTL, give or take the time the test took (and PX rounding).
    assert!(
        ttl <= want && ttl + Duration::from_secs(5) >= want,
        "{what}: remaining TTL {ttl:?}, expected about {want:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// A store double that runs a hook before a write of one key (to stage races).

/// What another instance does just before the staged write lands.
pub enum Interference {
    /// Deletes this key.
    Delete(Vec<u8>),
    /// Writes this value under this key (no TTL).
    Set(Vec<u8>, Vec<u8>),
}

type Hook = Box<dyn Fn() -> Interference + Send + Sync>;

#[derive(Clone)]
pub struct RaceStore<S> {
    inner: S,
    /// When armed, the next write of `trigger` (`set`, `set_if_absent`, or a batch holding
    /// it) first runs the hook's interference.
    armed: Arc<AtomicBool>,
    trigger: Arc<Mutex<Vec<u8>>>,
    hook: Arc<Mutex<Option<Hook>>>,
}

impl<S: Store> RaceStore<S> {
    pub fn new(inner: S) -> Self {
        RaceStore {
            inner,
            armed: Arc::default(),
            trigger: Arc::default(),
            hook: Arc::default(),
        }
    }

    /// Before the next write of `trigger`, delete the key `victim` returns.
    pub fn arm(&self, trigger: Vec<u8>, victim: impl Fn() -> Vec<u8> + Send + Sync + 'static) {
        self.arm_with(trigger, move || Interference::Delete(victim()));
    }

    /// Before the next write of `trigger`, do what `hook` returns.
    pub fn arm_with(
        &self,
        trigger: Vec<u8>,
        hook: impl Fn() -> Interference + Send + Sync + 'static,
    ) {
        *self.trigger.lock().unwrap() = trigger;
        *self.hook.lock().unwrap() = Some(Box::new(hook));
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Before the next write of `key`, another writer stores `value` under it.
    pub fn arm_set(&self, key: Vec<u8>, value: Vec<u8>) {
        let k = key.clone();
        self.arm_with(key, move || Interference::Set(k.clone(), value.clone()));
    }

    /// Runs the interference if one of `keys` is the armed trigger.
    async fn interfere<'k>(
        &self,
        mut keys: impl Iterator<Item = &'k [u8]>,
    ) -> Result<(), StoreError> {
        let hit = {
            let trigger = self.trigger.lock().unwrap();
            keys.any(|k| *trigger == k)
        };
        if !hit || !self.armed.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        let action = self.hook.lock().unwrap().as_ref().map(|h| h());
        match action {
            Some(Interference::Delete(key)) => {
                self.inner.delete(&key).await?;
            }
            Some(Interference::Set(key, value)) => self.inner.set(&key, &value, None).await?,
            None => {}
        }
        Ok(())
    }
}

impl<S: Store> Store for RaceStore<S> {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key).await
    }
    async fn get_with_ttl(&self, key: &[u8]) -> Result<Option<ValueAndTtl>, StoreError> {
        self.inner.get_with_ttl(key).await
    }
    async fn set(&self, key: &[u8], value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.interfere(std::iter::once(key)).await?;
        self.inner.set(key, value, ttl).await
    }
    async fn set_if_absent(
        &self,
        key: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        self.interfere(std::iter::once(key)).await?;
        self.inner.set_if_absent(key, value, ttl).await
    }
    async fn set_many_if_absent(&self, entries: &[SetEntry]) -> Result<Vec<bool>, StoreError> {
        self.interfere(entries.iter().map(|e| e.key.as_slice()))
            .await?;
        self.inner.set_many_if_absent(entries).await
    }
    async fn delete(&self, key: &[u8]) -> Result<bool, StoreError> {
        self.inner.delete(key).await
    }
    async fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.inner.get_many(keys).await
    }
    async fn set_many(&self, entries: &[SetEntry]) -> Result<(), StoreError> {
        self.interfere(entries.iter().map(|e| e.key.as_slice()))
            .await?;
        self.inner.set_many(entries).await
    }
    async fn delete_many(&self, keys: &[Vec<u8>]) -> Result<u64, StoreError> {
        self.inner.delete_many(keys).await
    }
    async fn scan_prefix(
        &self,
        prefix: &[u8],
        cursor: ScanCursor,
        count: usize,
    ) -> Result<ScanPage, StoreError> {
        self.inner.scan_prefix(prefix, cursor, count).await
    }
}

// ---------------------------------------------------------------------------------------------
// The cases.

/// The names of every case, in order (what [`rollout_suite!`](crate::rollout_suite) expands).
pub const CASES: &[&str] = &[
    "migration_chain_preserves_ttl",
    "version_tolerant_reads_and_switches",
    "batch_reads_and_get_or_load_fall_back",
    "write_back_is_withdrawn_after_a_racing_delete",
    "write_back_never_replaces_a_newer_value",
    "migrator_never_replaces_a_newer_value",
    "dual_write_on_and_off",
    "dual_write_that_cannot_convert_deletes_the_old_key",
    "delete_reaches_every_registered_version",
    "registration_errors",
    "version_report_says_what_is_still_read",
    "cleanup_deletes_exactly_the_old_versions",
    "migrator_moves_entries_forward",
    "sweep_rate_limit",
    "sweep_stops_on_a_failing_store",
];

/// V1 -> V2 -> V3: a miss on V3 reads V2, then V1 (newest first), converts, writes back
/// with the old entry's remaining TTL, and counts fallback hits and reads per version.
pub async fn migration_chain_preserves_ttl<S: Store + Clone>(store: S) {
    let cache = cache(store.clone(), "chain");
    let old = gone_build(store.clone(), &cache);
    let h1 = old.model::<UserV1>();
    let h2 = old.model::<User>();
    let h3 = cache
        .model::<UserV3>()
        .migrate_from::<User, _>(v2_to_v3)
        .unwrap()
        .migrate_via::<UserV1, User, _>(v1_to_v2)
        .unwrap();
    let (k1, k2, k3) = (
        h3.key_version_of::<UserV1>(),
        h3.key_version_of::<User>(),
        h3.key_version(),
    );
    assert_eq!(k1, h1.key_version());
    assert_eq!(k2, h2.key_version());
    assert!(k1 != k2 && k2 != k3 && k1 != k3);
    let order: Vec<(String, u32)> = h3
        .registered_versions()
        .into_iter()
        .map(|r| (r.version, r.migration_depth))
        .collect();
    assert_eq!(order, vec![(k2.to_string(), 1), (k1.to_string(), 2)]);

    h1.set_with_ttl("a", &v1(1, "Ada"), Duration::from_secs(60))
        .await
        .unwrap();
    h2.set_with_ttl("b", &v2(2, "Bob"), Duration::from_secs(30))
        .await
        .unwrap();
    // Both older versions have "c": the newer one (V2) wins.
    h1.set("c", &v1(3, "old Cy")).await.unwrap();
    h2.set("c", &v2(3, "Cy")).await.unwrap();
    // No expiry in the old version: none in the migrated one.
    h1.with_default_ttl(None)
        .set("forever", &v1(4, "Di"))
        .await
        .unwrap();

    let want = |id, name: &str| UserV3 {
        user_id: id,
        full_name: name.into(),
        verified: false,
    };
    assert_eq!(h3.get("a").await.unwrap(), Some(want(1, "Ada")));
    assert_eq!(h3.get("b").await.unwrap(), Some(want(2, "Bob")));
    assert_eq!(h3.get("c").await.unwrap(), Some(want(3, "Cy")));
    assert_eq!(h3.get("forever").await.unwrap(), Some(want(4, "Di")));
    assert_eq!(h3.get("nobody").await.unwrap(), None);
    let s = h3.stats();
    assert_eq!((s.hit, s.miss, s.fallback_hit), (0, 1, 4), "{s:?}");

    // Written back with the remaining TTL of the entry it came from.
    assert_ttl_near(
        ttl_of(&store, &h3.key("a").unwrap()).await,
        Duration::from_secs(60),
        "a",
    );
    assert_ttl_near(
        ttl_of(&store, &h3.key("b").unwrap()).await,
        Duration::from_secs(30),
        "b",
    );
    assert_eq!(
        ttl_of(&store, &h3.key("forever").unwrap()).await,
        Some(None)
    );
    // The old entries stay (the old build may still read them).
    assert!(store.get(&h1.key("a").unwrap()).await.unwrap().is_some());

    // Now plain hits.
    for k in ["a", "b", "c", "forever"] {
        assert!(h3.get(k).await.unwrap().is_some());
    }
    let s = h3.stats();
    assert_eq!((s.hit, s.miss, s.fallback_hit), (4, 1, 4), "{s:?}");
    // Reads per version: V2's entries were read twice (b, c), V1's twice (a, forever).
    let report = h3.version_report().await.unwrap();
    assert_eq!(report.get(&k2.to_string()).unwrap().stats.fallback_read, 2);
    assert_eq!(report.get(&k1.to_string()).unwrap().stats.fallback_read, 2);
    assert!(report.get(&k3.to_string()).unwrap().current);
}

/// Version-tolerant reads (no write-back), and the fallback switch.
pub async fn version_tolerant_reads_and_switches<S: Store + Clone>(store: S) {
    let cache = cache(store.clone(), "tolerant");
    let old = cache.model::<UserV1>();
    let new = cache
        .model::<User>()
        .migrate_from::<UserV1, _>(v1_to_v2)
        .unwrap();
    old.set("1", &v1(1, "Ada")).await.unwrap();
    let settings = new.rollout_settings().unwrap();
    assert!(settings.fallback_reads && settings.write_back && settings.dual_write);

    new.set_fallback_write_back(false);
    for _ in 0..3 {
        assert_eq!(new.get("1").await.unwrap(), Some(v2(1, "Ada")));
    }
    assert_eq!(store.get(&new.key("1").unwrap()).await.unwrap(), None);
    assert_eq!(new.stats().fallback_hit, 3);

    // A clone shares the switches.
    let clone = new.clone();
    clone.set_fallback_reads(false);
    assert!(!new.rollout_settings().unwrap().fallback_reads);
    assert_eq!(new.get("1").await.unwrap(), None);
    assert_eq!(new.stats().miss, 1);

    new.set_fallback_reads(true);
    new.set_fallback_write_back(true);
    assert_eq!(new.get("1").await.unwrap(), Some(v2(1, "Ada")));
    assert!(store.get(&new.key("1").unwrap()).await.unwrap().is_some());
    // Handles without a rollout ignore the switches.
    let plain = cache.model::<User>();
    plain.set_dual_write(true);
    assert!(plain.rollout_settings().is_none());
}

/// `get_many` and `get_or_load` fall back too (the loader is not called for a migrated key).
pub async fn batch_reads_and_get_or_load_fall_back<S: Store + Clone>(store: S) {
    let cache = cache(store, "batch");
    let old = cache.model::<UserV1>();
    let new = cache
        .model::<User>()
        .migrate_from::<UserV1, _>(v1_to_v2)
        .unwrap();
    old.set("1", &v1(1, "Ada")).await.unwrap();
    old.set("2", &v1(2, "Bob")).await.unwrap();
    new.set("3", &v2(3, "Cy")).await.unwrap();
    let got = new.get_many(&["1", "2", "3", "4"]).await.unwrap();
    assert_eq!(
        got,
        vec![
            Some(v2(1, "Ada")),
            Some(v2(2, "Bob")),
            Some(v2(3, "Cy")),
            None
        ]
    );
    let s = new.stats();
    assert_eq!((s.hit, s.miss, s.fallback_hit), (1, 1, 2), "{s:?}");

    old.set("5", &v1(5, "Eve")).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let got = new
        .get_or_load("5", || async move {
            c.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::io::Error>(v2(5, "from the database"))
        })
        .await
        .unwrap();
    assert_eq!(got, v2(5, "Eve"));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(new.get("5").await.unwrap(), Some(v2(5, "Eve")));
}

/// A racing store, build A's handle (V1) on it, and a handle of V2 that migrates from V1.
type RacePair<S> = (
    RaceStore<S>,
    ModelHandle<UserV1, RaceStore<S>>,
    ModelHandle<User, RaceStore<S>>,
);

/// A racing store, and on it build A's handle (V1) and a handle of V2 that migrates from V1.
fn race_pair<S: Store + Clone>(store: S, tag: &str) -> RacePair<S> {
    let race = RaceStore::new(store);
    let cache = cache(race.clone(), tag);
    let old = cache.model::<UserV1>();
    let new = cache
        .model::<User>()
        .migrate_from::<UserV1, _>(v1_to_v2)
        .unwrap();
    (race, old, new)
}

/// A delete that lands between the fallback read and the write-back must not be undone:
/// the write-back sees the old entry gone and withdraws what it wrote.
pub async fn write_back_is_withdrawn_after_a_racing_delete<S: Store + Clone>(store: S) {
    let (race, old, new) = race_pair(store.clone(), "race");
    old.set("1", &v1(1, "Ada")).await.unwrap();
    let old_key = old.key("1").unwrap();
    race.arm(new.key("1").unwrap(), move || old_key.clone());
    // The read still returns what it read...
    assert_eq!(new.get("1").await.unwrap(), Some(v2(1, "Ada")));
    // ...but neither version holds the deleted entry afterwards.
    assert_eq!(store.get(&old.key("1").unwrap()).await.unwrap(), None);
    assert_eq!(store.get(&new.key("1").unwrap()).await.unwrap(), None);
    assert_eq!(new.get("1").await.unwrap(), None);
}

/// A writer of the current version that stores a newer value between the fallback read and
/// the write-back keeps it: the write-back only fills an empty key (with dual-write off,
/// nothing else would ever correct the stale migrated value before its TTL).
pub async fn write_back_never_replaces_a_newer_value<S: Store + Clone>(store: S) {
    let (race, old, new) = race_pair(store.clone(), "race-newer");
    old.set("1", &v1(1, "Ada")).await.unwrap();
    let new_key = new.key("1").unwrap();
    let fresh = new.encode_value(&v2(1, "Ada Lovelace")).unwrap();
    race.arm_set(new_key.clone(), fresh.clone());
    // The read returns what it read...
    assert_eq!(new.get("1").await.unwrap(), Some(v2(1, "Ada")));
    // ...and the newer value written meanwhile stays.
    assert_eq!(store.get(&new_key).await.unwrap(), Some(fresh));
    assert_eq!(new.get("1").await.unwrap(), Some(v2(1, "Ada Lovelace")));
    assert_eq!(new.stats().fallback_hit, 1);
}

/// The same race against the background migrator: a value the current version gains between
/// the migrator's check and its write stays, and the old entry is handled as for a key the
/// current version already had (skipped by the migrator, deleted by a sweep with
/// `delete_old`).
pub async fn migrator_never_replaces_a_newer_value<S: Store + Clone>(store: S) {
    let (race, old, new) = race_pair(store.clone(), "race-sweep");
    for i in 0..5 {
        old.set(&i.to_string(), &v1(i, "Old")).await.unwrap();
    }
    let new_key = new.key("3").unwrap();
    let fresh = new.encode_value(&v2(3, "Fresh")).unwrap();
    race.arm_set(new_key.clone(), fresh.clone());
    let report = new.migrator().run().await.unwrap();
    assert_eq!(
        (report.migrated, report.skipped, report.failed),
        (4, 1, 0),
        "{report:?}"
    );
    assert_eq!(store.get(&new_key).await.unwrap(), Some(fresh));
    for i in [0u64, 1, 2, 4] {
        assert_eq!(new.get(&i.to_string()).await.unwrap(), Some(v2(i, "Old")));
    }
    assert_eq!(new.get("3").await.unwrap(), Some(v2(3, "Fresh")));
}

/// Dual-write keeps the old build's key fresh while on, with the same TTL; off, it does not.
pub async fn dual_write_on_and_off<S: Store + Clone>(store: S) {
    let cache = cache(store.clone(), "dual");
    let old = gone_build(store.clone(), &cache).model::<UserV1>();
    let new = build_b(&cache);
    assert_eq!(new.registered_versions()[0].migration_depth, 1);
    assert!(new.registered_versions()[0].dual_written);

    new.set_with_ttl("1", &v2(1, "Ada"), Duration::from_secs(40))
        .await
        .unwrap();
    assert_eq!(old.get("1").await.unwrap(), Some(v1(1, "Ada")));
    assert_ttl_near(
        ttl_of(&store, &old.key("1").unwrap()).await,
        Duration::from_secs(40),
        "dual-written",
    );

    new.set_dual_write(false);
    assert!(!new.rollout_settings().unwrap().dual_write);
    new.set("1", &v2(1, "Ada Lovelace")).await.unwrap();
    new.set("2", &v2(2, "Bob")).await.unwrap();
    // Off, a write still reaches the old version: its stale copy is deleted.
    assert_eq!(old.get("1").await.unwrap(), None);
    assert_eq!(old.get("2").await.unwrap(), None);
    assert_eq!(new.get("1").await.unwrap(), Some(v2(1, "Ada Lovelace")));

    new.set_dual_write(true);
    new.set_many([("3", v2(3, "Cy")), ("4", v2(4, "Di"))])
        .await
        .unwrap();
    assert_eq!(old.get("3").await.unwrap(), Some(v1(3, "Cy")));
    assert_eq!(old.get("4").await.unwrap(), Some(v1(4, "Di")));
    assert_eq!(new.get("4").await.unwrap(), Some(v2(4, "Di")));

    // Dual-write alone (no migration): reads do not fall back.
    let writer_only = cache
        .model::<User>()
        .dual_write_to::<UserV1, _>(v2_to_v1)
        .unwrap();
    old.set("5", &v1(5, "Eve")).await.unwrap();
    assert_eq!(writer_only.get("5").await.unwrap(), None);
    writer_only.set("6", &v2(6, "Fay")).await.unwrap();
    assert_eq!(old.get("6").await.unwrap(), Some(v1(6, "Fay")));
}

/// When a value cannot be written in the old version (here: over the size limit after
/// conversion), the old key is deleted rather than left stale.
pub async fn dual_write_that_cannot_convert_deletes_the_old_key<S: Store + Clone>(store: S) {
    let cache = Cache::builder(store.clone())
        .namespace(unique_ns("dualbig"))
        .max_value_len(200)
        .build()
        .unwrap();
    let old = gone_build(store, &cache).model::<UserV1>();
    let new = cache
        .model::<User>()
        .dual_write_to::<UserV1, _>(|u: &User| UserV1 {
            user_id: u.user_id,
            user_name: u.full_name.repeat(100),
        })
        .unwrap();
    old.set("1", &v1(1, "stale")).await.unwrap();
    new.set("1", &v2(1, "Ada")).await.unwrap();
    assert_eq!(new.get("1").await.unwrap(), Some(v2(1, "Ada")));
    assert_eq!(old.get("1").await.unwrap(), None);
}

/// `delete` and `delete_many` reach the current and every registered version, and nothing
/// else.
pub async fn delete_reaches_every_registered_version<S: Store + Clone>(store: S) {
    let cache = cache(store.clone(), "delete");
    let old = gone_build(store.clone(), &cache);
    let h1 = old.model::<UserV1>();
    let h3 = old.model::<UserV3>();
    let new = build_b(&cache);
    for k in ["1", "2", "3"] {
        h1.set(k, &v1(1, "old")).await.unwrap();
        h3.set(
            k,
            &UserV3 {
                user_id: 1,
                full_name: "newer".into(),
                verified: true,
            },
        )
        .await
        .unwrap();
    }
    new.set_dual_write(false);
    new.set("1", &v2(1, "new")).await.unwrap();
    assert!(new.delete("1").await.unwrap());
    assert_eq!(h1.get("1").await.unwrap(), None);
    assert_eq!(new.get("1").await.unwrap(), None);
    // Only the old version had "2": still reported as existing, and gone.
    assert!(new.delete("2").await.unwrap());
    assert_eq!(h1.get("2").await.unwrap(), None);
    assert!(!new.delete("nothing").await.unwrap());
    // An unregistered version of a gone build (V3 here) is not touched.
    assert!(h3.get("1").await.unwrap().is_some());
    assert!(h3.get("2").await.unwrap().is_some());

    new.set("3", &v2(3, "new")).await.unwrap();
    new.set("4", &v2(4, "new")).await.unwrap();
    let n = new.delete_many(&["3", "4", "5"]).await.unwrap();
    assert_eq!(
        n, 2,
        "3 and 4 in the new version (their writes deleted V1's 3 already)"
    );
    assert_eq!(h1.get("3").await.unwrap(), None);
    assert!(h3.get("3").await.unwrap().is_some());
}

/// Registering the handle's own version, or a chain step without its next step, fails.
pub async fn registration_errors<S: Store + Clone>(store: S) {
    let cache = cache(store, "errors");
    let users = cache.model::<User>();
    let same = users.migrate_from::<User, _>(|u| u);
    assert!(matches!(same, Err(RolloutError::SameVersion { .. })));
    let same = users.dual_write_to::<User, _>(|u| u.clone());
    assert!(matches!(same, Err(RolloutError::SameVersion { .. })));
    let v3 = cache.model::<UserV3>();
    let orphan = v3.migrate_via::<UserV1, User, _>(v1_to_v2);
    assert!(matches!(orphan, Err(RolloutError::NotRegistered { .. })));
    // A dual-write target is not a migration source.
    let dual_only = v3
        .dual_write_to::<User, _>(|u: &UserV3| User {
            user_id: u.user_id,
            full_name: u.full_name.clone(),
        })
        .unwrap();
    let orphan = dual_only.migrate_via::<UserV1, User, _>(v1_to_v2);
    assert!(matches!(orphan, Err(RolloutError::NotRegistered { .. })));
    // The intermediate may be the current type itself.
    let direct = users.migrate_via::<UserV1, User, _>(v1_to_v2).unwrap();
    assert_eq!(direct.registered_versions()[0].migration_depth, 1);
    // The errors explain themselves.
    let msg = users
        .migrate_from::<User, _>(|u| u)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("own version"), "{msg}");
}

/// Reads per version, and whether an old version is still being read.
pub async fn version_report_says_what_is_still_read<S: Store + Clone>(store: S) {
    let cache = cache(store.clone(), "report");
    // The old build's writes come from a build that is gone (not live).
    let old = gone_build(store, &cache).model::<UserV1>();
    let new = build_b(&cache);
    let v1_hex = new.key_version_of::<UserV1>().to_string();
    let v3_hex = new.key_version_of::<UserV3>().to_string();
    let cur_hex = new.key_version().to_string();

    let start = new.version_report().await.unwrap();
    assert_eq!(start.current, cur_hex);
    assert!(start.versions[0].current);
    let row = start.get(&v1_hex).unwrap();
    assert!(row.migrates && row.dual_written && !row.current);
    assert!(!start.is_version_still_read(&v1_hex));

    old.set("1", &v1(1, "Ada")).await.unwrap();
    new.get("1").await.unwrap(); // a fallback read of V1
    assert!(new.is_version_still_read(&v1_hex, &start).await.unwrap());
    assert!(!new.is_version_still_read(&v3_hex, &start).await.unwrap());

    // Only new-version reads from here: V1 is no longer read.
    let mid = new.version_report().await.unwrap();
    for _ in 0..5 {
        new.get("1").await.unwrap();
    }
    assert!(!new.is_version_still_read(&v1_hex, &mid).await.unwrap());
    let window = new.version_report().await.unwrap().since(&mid);
    assert_eq!(window.get(&cur_hex).unwrap().stats.hit, 5);
    let d = window.deprecation(&v1_hex);
    assert!(d.safe && d.reads == 0, "{d:?}");
    assert!(!window.deprecation(&cur_hex).safe);

    // The old build reading V1 (a handle of V1 in this cache) also counts, and makes V1
    // live: the report shows its heartbeat, and it is not safe to retire.
    let old_here = cache.model::<UserV1>();
    old_here.get("1").await.unwrap();
    let report = new.version_report().await.unwrap();
    let row = report.get(&v1_hex).unwrap();
    assert!(row.live.as_ref().is_some_and(|l| l.live), "{row:?}");
    assert!(report.get(&cur_hex).unwrap().live.is_some());
    let d = report.since(&mid).deprecation(&v1_hex);
    assert!(!d.safe && d.reads == 1, "{d:?}");
    assert!(d.recommendation.contains("live"), "{d:?}");
}

/// The keys [`populate`] wrote.
pub struct Population {
    /// Every key written starts with `base`, and no other key does.
    pub base: String,
    /// Every key written.
    pub all: BTreeSet<Vec<u8>>,
    /// The keys of older versions of `User` in the cleaned namespace: what cleanup deletes.
    pub old: BTreeSet<Vec<u8>>,
    /// Keys of the current version.
    pub current: usize,
    /// Look-alike keys under `{ns}:User:` that are not keys of the model.
    pub ignored: usize,
    /// Old keys of V1 (with a migration) and of V0 (unknown).
    pub old_v1: usize,
    pub old_v0: usize,
}

/// A key version no type has: an older version nobody registers any more.
pub const V0: &str = "00000000deadbeef";

/// Writes current-version keys, keys of two older versions (one with a migration, one
/// unknown), other models, other namespaces and look-alike sentinels.
/// Returns them with the `User` handle (migrating from V1) of the cleaned namespace.
pub async fn populate<S: Store + Clone>(
    store: &S,
    tag: &str,
) -> (Population, ModelHandle<User, S>) {
    let base = unique_ns(tag);
    let ns = format!("{base}-ns");
    let cache = cache_in(store.clone(), &ns);
    let old = gone_build(store.clone(), &cache).model::<UserV1>();
    let new = cache
        .model::<User>()
        .migrate_from::<UserV1, _>(v1_to_v2)
        .unwrap();
    let orders = cache.model::<Order>();
    let v1_hex = new.key_version_of::<UserV1>().to_string();
    let cur_hex = new.key_version().to_string();
    let model_prefix = format!("{ns}:User:");

    let mut old_keys = BTreeSet::new();
    let mut current = 0;
    let glob_logicals = [
        "a*b",
        "x?",
        "[ab]",
        "back\\slash",
        "{tag}:*",
        "",
        "*",
        "?*[]\\",
    ];
    for i in 0..40u64 {
        new.set(format!("c{i}"), &v2(i, "current")).await.unwrap();
        current += 1;
    }
    for l in glob_logicals {
        new.set(l, &v2(0, "current glob")).await.unwrap();
        current += 1;
    }
    for i in 0..60u64 {
        old.set(format!("o{i}"), &v1(i, "old")).await.unwrap();
        old_keys.insert(old.key(format!("o{i}")).unwrap());
    }
    for l in glob_logicals {
        old.set(l, &v1(0, "old glob")).await.unwrap();
        old_keys.insert(old.key(l).unwrap());
    }
    let old_v1 = old_keys.len();
    // An older version nobody registered any more (raw bytes: only its key matters).
    for i in 0..25 {
        let k = format!("{model_prefix}{V0}:z{i}").into_bytes();
        store.set(&k, b"junk", None).await.unwrap();
        old_keys.insert(k);
    }
    let old_v0 = old_keys.len() - old_v1;
    // Other models and namespaces (real entries of the same versions).
    for i in 0..10u64 {
        orders
            .set(format!("o{i}"), &Order { id: i, amount: 1 })
            .await
            .unwrap();
    }
    for other_ns in [format!("{base}-nsx"), format!("{base}-other")] {
        let other = gone_build(store.clone(), &cache_in(store.clone(), &other_ns));
        for i in 0..10u64 {
            other
                .model::<UserV1>()
                .set(format!("o{i}"), &v1(i, "other ns"))
                .await
                .unwrap();
            other
                .model::<User>()
                .set(format!("c{i}"), &v2(i, "other ns"))
                .await
                .unwrap();
        }
    }
    // Look-alikes: raw keys that share bytes with the old version's keys.
    let upper = v1_hex.to_uppercase();
    let sentinels: Vec<String> = vec![
        format!("{ns}:User:*"),
        format!("{ns}:User:?"),
        format!("{ns}:User:[0-9a-f]*"),
        format!("{ns}:User:\\*"),
        format!("{ns}:User:*:1"),
        format!("{ns}:User:{v1_hex}*"),
        format!("{ns}:User:{v1_hex}"),
        format!("{ns}:User:{v1_hex}0:1"),
        format!("{ns}:User:{}:1", &v1_hex[..15]),
        format!("{ns}:User:{upper}:1"),
        format!("{ns}:User:notahexversion:1"),
        format!("{ns}:User:{cur_hex}x:1"),
        format!("{ns}:User:"),
        format!("{ns}:User2:{v1_hex}:1"),
        format!("{ns}:Use:{v1_hex}:1"),
        format!("{ns}:Users:{v1_hex}:1"),
        format!("{ns}:User*:{v1_hex}:1"),
        format!("{ns}:Us?r:{v1_hex}:1"),
        format!("{ns}:[U]ser:{v1_hex}:1"),
        format!("{ns}:User\\:{v1_hex}:1"),
        format!("{ns}*:User:{v1_hex}:1"),
        format!("{ns}?User:{v1_hex}:1"),
        format!("{ns}:user:{v1_hex}:1"),
        format!("{ns}x:User:{v1_hex}:1"),
        format!("{ns}:Order:{v1_hex}:1"),
        format!("{base}:User:{v1_hex}:1"),
    ];
    // The live-version records of the cleaned namespace's two models (`User` is under the
    // model prefix, and never a key of the model).
    let live_records = 2;
    let mut ignored = 1;
    for s in &sentinels {
        store.set(s.as_bytes(), b"sentinel", None).await.unwrap();
        if s.starts_with(&model_prefix) {
            ignored += 1;
        }
    }
    let all: BTreeSet<Vec<u8>> = scan_all(store, base.as_bytes(), 7)
        .await
        .into_iter()
        .collect();
    let expected_total = current + old_keys.len() + 10 + 2 * 20 + sentinels.len() + live_records;
    assert_eq!(all.len(), expected_total, "population");
    assert!(old_keys.is_subset(&all));
    (
        Population {
            base,
            all,
            old: old_keys,
            current,
            ignored,
            old_v1,
            old_v0,
        },
        new,
    )
}

/// Cleanup deletes exactly the keys of the older versions: not the current version, not
/// other models or namespaces, not look-alikes with glob characters. A dry run deletes
/// nothing and reports the same counts.
pub async fn cleanup_deletes_exactly_the_old_versions<S: Store + Clone>(store: S) {
    let (pop, users) = populate(&store, "cleanup").await;
    let v1_hex = users.key_version_of::<UserV1>().to_string();

    let dry = users
        .cleanup()
        .batch_size(16)
        .dry_run(true)
        .run()
        .await
        .unwrap();
    let after_dry: BTreeSet<Vec<u8>> = scan_all(&store, pop.base.as_bytes(), 50)
        .await
        .into_iter()
        .collect();
    assert_eq!(after_dry, pop.all, "a dry run deletes nothing");
    assert!(dry.dry_run);

    let report = users.cleanup().batch_size(16).run().await.unwrap();
    let after: BTreeSet<Vec<u8>> = scan_all(&store, pop.base.as_bytes(), 50)
        .await
        .into_iter()
        .collect();
    let expected: BTreeSet<Vec<u8>> = pop.all.difference(&pop.old).cloned().collect();
    let wrongly_deleted: Vec<String> = expected
        .difference(&after)
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .collect();
    let left_behind: Vec<String> = after
        .difference(&expected)
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .collect();
    assert!(wrongly_deleted.is_empty(), "deleted: {wrongly_deleted:?}");
    assert!(left_behind.is_empty(), "left: {left_behind:?}");
    assert_eq!(after.len(), pop.all.len() - pop.old.len());

    let old = pop.old.len() as u64;
    assert_eq!(report.scanned, old, "{report:?}");
    assert_eq!(report.deleted, old, "{report:?}");
    assert_eq!(report.unlinked, old, "{report:?}");
    assert_eq!(
        (report.migrated, report.skipped, report.failed),
        (0, 0, 0),
        "{report:?}"
    );
    assert_eq!(report.current, pop.current as u64);
    assert_eq!(report.ignored, pop.ignored as u64);
    assert_eq!(report.versions.get(&v1_hex), Some(&(pop.old_v1 as u64)));
    assert_eq!(report.versions.get(V0), Some(&(pop.old_v0 as u64)));
    // The dry run reported the same.
    assert_eq!(
        (
            dry.scanned,
            dry.migrated,
            dry.deleted,
            dry.skipped,
            dry.failed,
            dry.unlinked
        ),
        (
            report.scanned,
            report.migrated,
            report.deleted,
            report.skipped,
            report.failed,
            report.unlinked
        )
    );
    assert_eq!(
        (dry.current, dry.ignored, &dry.versions),
        (report.current, report.ignored, &report.versions)
    );

    // Nothing left to do.
    let again = users.cleanup().run().await.unwrap();
    assert_eq!((again.scanned, again.deleted), (0, 0), "{again:?}");
}

/// The migrator converts old entries with a migration into the current version (keeping
/// their TTL, never overwriting the current version) and leaves old keys in place; a full
/// sweep then deletes them; `keep` spares a version.
pub async fn migrator_moves_entries_forward<S: Store + Clone>(store: S) {
    let cache = cache(store.clone(), "migrator");
    let gone = gone_build(store.clone(), &cache);
    let old = gone.model::<UserV1>();
    let new = cache
        .model::<User>()
        .migrate_from::<UserV1, _>(v1_to_v2)
        .unwrap();
    let h3 = gone.model::<UserV3>();
    for i in 0..30u64 {
        old.set_with_ttl(
            format!("{i}"),
            &v1(i, &format!("old {i}")),
            Duration::from_secs(90),
        )
        .await
        .unwrap();
    }
    for i in 0..5u64 {
        new.set(format!("{i}"), &v2(i, "newer")).await.unwrap();
    }
    for i in 0..4u64 {
        h3.set(
            format!("{i}"),
            &UserV3 {
                user_id: i,
                full_name: "v3".into(),
                verified: true,
            },
        )
        .await
        .unwrap();
    }
    let v3_hex = new.key_version_of::<UserV3>().to_string();

    let dry = new
        .migrator()
        .batch_size(8)
        .dry_run(true)
        .run()
        .await
        .unwrap();
    let report = new.migrator().batch_size(8).run().await.unwrap();
    // 30 V1 keys less the 5 the current version's writes deleted, and 4 V3 keys.
    assert_eq!(report.scanned, 29, "{report:?}");
    assert_eq!(report.migrated, 25, "{report:?}");
    assert_eq!(report.skipped, 4, "4 without a migration: {report:?}");
    assert_eq!((report.deleted, report.failed, report.unlinked), (0, 0, 0));
    assert_eq!(
        (dry.scanned, dry.migrated, dry.skipped, dry.deleted),
        (29, 25, 4, 0)
    );
    for i in 0..5u64 {
        assert_eq!(new.get(format!("{i}")).await.unwrap(), Some(v2(i, "newer")));
    }
    let before = new.stats();
    for i in 5..30u64 {
        assert_eq!(
            new.get(format!("{i}")).await.unwrap(),
            Some(v2(i, &format!("old {i}")))
        );
    }
    let s = new.stats();
    assert_eq!(s.hit - before.hit, 25, "migrated entries are plain hits");
    assert_ttl_near(
        ttl_of(&store, &new.key("17").unwrap()).await,
        Duration::from_secs(90),
        "migrated",
    );
    assert!(old.get("17").await.unwrap().is_some(), "old keys stay");

    // Now the full sweep, sparing V3: V1's keys go, V3's stay.
    let report = new.sweep().keep_version(&v3_hex).run().await.unwrap();
    assert_eq!(report.scanned, 29, "{report:?}");
    assert_eq!(
        (report.deleted, report.skipped, report.migrated),
        (25, 4, 0)
    );
    assert!(old.get("17").await.unwrap().is_none());
    assert!(h3.get("1").await.unwrap().is_some());
    assert_eq!(new.get("17").await.unwrap().map(|u| u.user_id), Some(17));
    // `only` picks versions; bad versions are refused.
    let report = new
        .sweep()
        .only::<UserV3>()
        .dry_run(true)
        .run()
        .await
        .unwrap();
    assert_eq!((report.scanned, report.deleted), (4, 4));
    assert!(new.sweep().keep_version("XYZ").run().await.is_err());
    assert!(new.sweep().rate_limit(0.0).run().await.is_err());
    assert!(new.sweep().rate_limit(f64::NAN).run().await.is_err());
}

/// The rate limit paces the job: 60 keys at 200 keys/s take at least about 0.3 s.
pub async fn sweep_rate_limit<S: Store + Clone>(store: S) {
    let cache = cache(store.clone(), "rate");
    let old = gone_build(store, &cache).model::<UserV1>();
    let new = cache.model::<User>();
    for i in 0..60u64 {
        old.set(format!("{i}"), &v1(i, "x")).await.unwrap();
    }
    let start = Instant::now();
    let report = new
        .cleanup()
        .batch_size(10)
        .rate_limit(200.0)
        .dry_run(true)
        .run()
        .await
        .unwrap();
    let took = start.elapsed();
    assert_eq!(report.scanned, 60);
    assert!(took >= Duration::from_millis(280), "{took:?}");
    assert!(report.elapsed >= Duration::from_millis(280));
}

/// A store that keeps failing ends the job with the scan error (after retrying the page)
/// and the counts so far; nothing is deleted.
pub async fn sweep_stops_on_a_failing_store<S: Store + Clone>(store: S) {
    let faulty = crate::suite::FaultyStore::new(store.clone());
    let cache = cache(faulty.clone(), "failing");
    let old = gone_build(store, &cache).model::<UserV1>();
    let new = cache.model::<User>();
    for i in 0..5u64 {
        old.set(format!("{i}"), &v1(i, "x")).await.unwrap();
    }
    // Failing before the job starts: it cannot even read the live versions.
    faulty.set_failing(true);
    let err = new.cleanup().run().await.unwrap_err();
    assert!(matches!(err, SweepError::Cache(_)), "{err:?}");
    faulty.set_failing(false);
    // (A scan that fails mid-walk: `tests/src/integrity.rs`, under injected failures.)
    assert!(old.get("3").await.unwrap().is_some());
    let report = new.cleanup().run().await.unwrap();
    assert_eq!(report.deleted, 5);
}

/// One `#[tokio::test]` per case of this module, on the store `$make().await` returns.
#[macro_export]
macro_rules! rollout_suite {
    ($make:path) => {
        $crate::rollout_suite!(@cases $make;
            migration_chain_preserves_ttl,
            version_tolerant_reads_and_switches,
            batch_reads_and_get_or_load_fall_back,
            write_back_is_withdrawn_after_a_racing_delete,
            write_back_never_replaces_a_newer_value,
            migrator_never_replaces_a_newer_value,
            dual_write_on_and_off,
            dual_write_that_cannot_convert_deletes_the_old_key,
            delete_reaches_every_registered_version,
            registration_errors,
            version_report_says_what_is_still_read,
            cleanup_deletes_exactly_the_old_versions,
            migrator_moves_entries_forward,
            sweep_rate_limit,
            sweep_stops_on_a_failing_store,
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::rollout::$case($make().await).await;
            }
        )*
        #[test]
        fn every_rollout_case_is_listed() {
            let listed: &[&str] = &[$(stringify!($case)),*];
            assert_eq!(listed, $crate::rollout::CASES);
        }
    };
}
