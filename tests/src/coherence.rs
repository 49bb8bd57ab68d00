//! Cross-build coherence (issue 14), generic over the store: two builds (two caches, so two
//! processes' worth of state) share one store; whatever one writes or deletes, the other
//! never reads the older value afterwards. [`coherence_suite!`](crate::coherence_suite) runs
//! every case on a store.
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cache_version_core::rollout::SweepError;
use cache_version_core::{
    Cache, CacheVersion, HashFields, ModelHandle, ScanCursor, ScanPage, SetEntry, Store,
    StoreError, ValueAndTtl,
};
use serde::{Deserialize, Serialize};

use crate::rollout::{v1_to_v2, v2_to_v1, User, UserV1};
use crate::suite::{past_young_window, unique_ns, FAST_BEAT};

/// How build B (the new one) relates to build A's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// B knows nothing of A's version.
    None,
    /// B migrates from A's version.
    Migrate,
    /// B migrates from and dual-writes A's version.
    MigrateAndDual,
}

/// The two builds on one store, in one fresh namespace.
pub struct Builds<S: Store> {
    pub a: ModelHandle<UserV1, S>,
    pub b: ModelHandle<User, S>,
}

fn cache_for<S: Store>(store: S, ns: &str, fast: bool) -> Cache<S> {
    let b = Cache::builder(store).namespace(ns).ttl_jitter(0.0);
    let b = if fast {
        b.heartbeat(FAST_BEAT).clock_skew(Duration::ZERO)
    } else {
        b
    };
    b.build().expect("valid config")
}

/// Build A (`UserV1`) and build B (`User`, registered per `reg`), both joined: A first.
pub async fn builds<S: Store + Clone>(store: &S, reg: Registration, fast: bool) -> Builds<S> {
    let ns = unique_ns("coherence");
    let a = cache_for(store.clone(), &ns, fast).model::<UserV1>();
    let b = cache_for(store.clone(), &ns, fast).model::<User>();
    let b = match reg {
        Registration::None => b,
        Registration::Migrate => b.migrate_from::<UserV1, _>(v1_to_v2).unwrap(),
        Registration::MigrateAndDual => b
            .migrate_from::<UserV1, _>(v1_to_v2)
            .unwrap()
            .dual_write_to::<UserV1, _>(v2_to_v1)
            .unwrap(),
    };
    // Both join the registry (A first: B starts while A runs).
    a.get("join").await.unwrap();
    b.get("join").await.unwrap();
    Builds { a, b }
}

fn v1(name: &str) -> UserV1 {
    UserV1 {
        user_id: 1,
        user_name: name.into(),
    }
}

fn v2(name: &str) -> User {
    User {
        user_id: 1,
        full_name: name.into(),
    }
}

/// Both builds hold the key with the old revision `r1`, written behind the cache's back
/// (so neither write reached the other).
async fn warm_both<S: Store>(store: &S, w: &Builds<S>, key: &str) {
    let a = w.a.encode_value(&v1("r1")).unwrap();
    store.set(&w.a.key(key).unwrap(), &a, None).await.unwrap();
    let b = w.b.encode_value(&v2("r1")).unwrap();
    store.set(&w.b.key(key).unwrap(), &b, None).await.unwrap();
}

/// What the other build may read after an update to `r2` or a delete: never `r1`.
fn assert_not_older(got: Option<String>, what: &str) {
    assert_ne!(got.as_deref(), Some("r1"), "{what}: read the older value");
    if let Some(name) = got {
        assert_eq!(name, "r2", "{what}: read something never written");
    }
}

/// One sequenced step: `writer` updates or deletes, then the other build reads the key by
/// `get`, `get_many` and `get_or_load` (whose loader returns the database's `r2`).
async fn step<S: Store + Clone>(
    store: &S,
    w: &Builds<S>,
    a_writes: bool,
    delete: bool,
    what: &str,
) {
    let key = format!("k-{what}");
    warm_both(store, w, &key).await;
    match (a_writes, delete) {
        (true, false) => w.a.set(&key, &v1("r2")).await.unwrap(),
        (true, true) => {
            w.a.delete(&key).await.unwrap();
        }
        (false, false) => w.b.set(&key, &v2("r2")).await.unwrap(),
        (false, true) => {
            w.b.delete(&key).await.unwrap();
        }
    }
    if a_writes {
        let got = w.b.get(&key).await.unwrap().map(|u| u.full_name);
        assert_not_older(got, &format!("{what}: B get"));
        let got = w.b.get_many(&[&key]).await.unwrap();
        assert_not_older(
            got[0].clone().map(|u| u.full_name),
            &format!("{what}: B get_many"),
        );
        let got = w.b.get_or_load(&key, || async { v2("r2") }).await.unwrap();
        assert_not_older(Some(got.full_name), &format!("{what}: B get_or_load"));
    } else {
        let got = w.a.get(&key).await.unwrap().map(|u| u.user_name);
        assert_not_older(got, &format!("{what}: A get"));
        let got = w.a.get_many(&[&key]).await.unwrap();
        assert_not_older(
            got[0].clone().map(|u| u.user_name),
            &format!("{what}: A get_many"),
        );
        let got = w.a.get_or_load(&key, || async { v1("r2") }).await.unwrap();
        assert_not_older(Some(got.user_name), &format!("{what}: A get_or_load"));
    }
}

/// Every direction (A writes or deletes then B reads, and the reverse), with B registering
/// nothing, a migration, or a migration and dual-write; right after B starts (A does not
/// know B yet: B's young window protects it) and once both know each other.
pub async fn the_other_build_never_reads_the_older_value<S: Store + Clone>(store: S) {
    for reg in [
        Registration::None,
        Registration::Migrate,
        Registration::MigrateAndDual,
    ] {
        for settled in [false, true] {
            let w = builds(&store, reg, settled).await;
            if settled {
                past_young_window().await;
            }
            for (a_writes, delete) in [(true, false), (true, true), (false, false), (false, true)] {
                let what = format!(
                    "{reg:?}, {}, {} {}",
                    if settled { "settled" } else { "B just started" },
                    if a_writes { "A" } else { "B" },
                    if delete { "deletes" } else { "writes" }
                );
                step(&store, &w, a_writes, delete, &what).await;
            }
        }
    }
}

/// Once both builds know each other, a write by either reaches the other's copy directly:
/// after A's update B migrates (or reloads) the fresh value, and after B's update A reads
/// B's dual-written value.
pub async fn settled_builds_read_each_others_fresh_values<S: Store + Clone>(store: S) {
    let w = builds(&store, Registration::MigrateAndDual, true).await;
    past_young_window().await;
    warm_both(&store, &w, "k").await;
    w.a.set("k", &v1("r2")).await.unwrap();
    assert_eq!(
        w.b.get("k").await.unwrap(),
        Some(v2("r2")),
        "migrated from A"
    );
    warm_both(&store, &w, "k2").await;
    w.b.set("k2", &v2("r2")).await.unwrap();
    assert_eq!(
        w.a.get("k2").await.unwrap(),
        Some(v1("r2")),
        "dual-written by B"
    );
    // Without registrations: a miss, then the loader.
    let w = builds(&store, Registration::None, true).await;
    past_young_window().await;
    warm_both(&store, &w, "k").await;
    w.a.set("k", &v1("r2")).await.unwrap();
    assert_eq!(w.b.get("k").await.unwrap(), None);
    w.b.set("k", &v2("r2")).await.unwrap();
    assert_eq!(w.a.get("k").await.unwrap(), None);
    assert_eq!(w.b.get("k").await.unwrap(), Some(v2("r2")));
}

// ---------------------------------------------------------------------------------------------
// Store calls.

/// Counts the calls of each store method (heartbeats included).
#[derive(Clone)]
pub struct Counting<S> {
    inner: S,
    calls: Arc<Mutex<BTreeMap<&'static str, u64>>>,
    total: Arc<AtomicU64>,
}

impl<S: Store> Counting<S> {
    pub fn new(inner: S) -> Self {
        Counting {
            inner,
            calls: Arc::default(),
            total: Arc::default(),
        }
    }

    /// The calls since the last `take`, by method.
    pub fn take(&self) -> BTreeMap<&'static str, u64> {
        self.total.store(0, Ordering::SeqCst);
        std::mem::take(&mut *self.calls.lock().unwrap())
    }

    fn count(&self, method: &'static str) {
        self.total.fetch_add(1, Ordering::SeqCst);
        *self.calls.lock().unwrap().entry(method).or_default() += 1;
    }
}

impl<S: Store> Store for Counting<S> {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.count("get");
        self.inner.get(key).await
    }
    async fn get_with_ttl(&self, key: &[u8]) -> Result<Option<ValueAndTtl>, StoreError> {
        self.count("get_with_ttl");
        self.inner.get_with_ttl(key).await
    }
    async fn set(&self, key: &[u8], value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.count("set");
        self.inner.set(key, value, ttl).await
    }
    async fn set_if_absent(
        &self,
        key: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        self.count("set_if_absent");
        self.inner.set_if_absent(key, value, ttl).await
    }
    async fn set_many_if_absent(&self, entries: &[SetEntry]) -> Result<Vec<bool>, StoreError> {
        self.count("set_many_if_absent");
        self.inner.set_many_if_absent(entries).await
    }
    async fn delete(&self, key: &[u8]) -> Result<bool, StoreError> {
        self.count("delete");
        self.inner.delete(key).await
    }
    async fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.count("get_many");
        self.inner.get_many(keys).await
    }
    async fn set_many(&self, entries: &[SetEntry]) -> Result<(), StoreError> {
        self.count("set_many");
        self.inner.set_many(entries).await
    }
    async fn delete_many(&self, keys: &[Vec<u8>]) -> Result<u64, StoreError> {
        self.count("delete_many");
        self.inner.delete_many(keys).await
    }
    async fn set_many_and_delete(
        &self,
        sets: &[SetEntry],
        deletes: &[Vec<u8>],
    ) -> Result<u64, StoreError> {
        self.count("set_many_and_delete");
        self.inner.set_many_and_delete(sets, deletes).await
    }
    async fn hash_put(
        &self,
        key: &[u8],
        field: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<HashFields, StoreError> {
        self.count("hash_put");
        self.inner.hash_put(key, field, value, ttl).await
    }
    async fn hash_get_all(&self, key: &[u8]) -> Result<HashFields, StoreError> {
        self.count("hash_get_all");
        self.inner.hash_get_all(key).await
    }
    async fn hash_remove(&self, key: &[u8], fields: &[Vec<u8>]) -> Result<u64, StoreError> {
        self.count("hash_remove");
        self.inner.hash_remove(key, fields).await
    }
    async fn scan_prefix(
        &self,
        prefix: &[u8],
        cursor: ScanCursor,
        count: usize,
    ) -> Result<ScanPage, StoreError> {
        self.count("scan_prefix");
        self.inner.scan_prefix(prefix, cursor, count).await
    }
    fn call_bound(&self) -> Option<Duration> {
        self.inner.call_bound()
    }
}

fn calls(pairs: &[(&'static str, u64)]) -> BTreeMap<&'static str, u64> {
    pairs.iter().copied().collect()
}

/// With one live version, `set`, `delete` and their batches make exactly one store call
/// each, the same as without the registry; with two live versions, still one call each (the
/// other version's keys ride in the same call), and a read makes one call either way.
pub async fn store_calls_with_one_and_two_live_versions<S: Store + Clone>(store: S) {
    let counting = Counting::new(store);
    let ns = unique_ns("calls");
    // A heartbeat far away, so none lands inside the measurements.
    let quiet = |s: Counting<S>| {
        Cache::builder(s)
            .namespace(ns.as_str())
            .heartbeat(Duration::from_secs(600))
            .build()
            .unwrap()
    };
    let a = quiet(counting.clone()).model::<UserV1>();
    a.get("join").await.unwrap();
    let joined = counting.take();
    assert_eq!(
        joined,
        calls(&[("get", 1), ("hash_get_all", 1), ("hash_put", 1)]),
        "joining reads the record and announces once"
    );
    // One live version: exactly the calls of a cache without the registry.
    a.set("1", &v1("x")).await.unwrap();
    assert_eq!(counting.take(), calls(&[("set", 1)]));
    a.delete("1").await.unwrap();
    assert_eq!(counting.take(), calls(&[("delete", 1)]));
    a.set_many([("1", v1("x")), ("2", v1("y"))]).await.unwrap();
    assert_eq!(counting.take(), calls(&[("set_many", 1)]));
    a.delete_many(&["1", "2"]).await.unwrap();
    assert_eq!(counting.take(), calls(&[("delete_many", 1)]));
    a.get("1").await.unwrap();
    assert_eq!(counting.take(), calls(&[("get", 1)]));

    // A second build with another version joins: it knows A at once.
    let b = quiet(counting.clone()).model::<User>();
    b.get("join").await.unwrap();
    counting.take();
    b.set("1", &v2("x")).await.unwrap();
    assert_eq!(counting.take(), calls(&[("set_many_and_delete", 1)]));
    b.delete("1").await.unwrap();
    assert_eq!(counting.take(), calls(&[("delete_many", 1)]));
    b.set_many([("1", v2("x")), ("2", v2("y"))]).await.unwrap();
    assert_eq!(counting.take(), calls(&[("set_many_and_delete", 1)]));
    b.get("1").await.unwrap();
    assert_eq!(counting.take(), calls(&[("get", 1)]));
    // And a build of A's version that reads the record now reaches B the same way.
    let a_again = quiet(counting.clone()).model::<UserV1>();
    a_again.get("join").await.unwrap();
    counting.take();
    a_again.set("3", &v1("z")).await.unwrap();
    assert_eq!(counting.take(), calls(&[("set_many_and_delete", 1)]));
}

// ---------------------------------------------------------------------------------------------
// Model identity and sweeps.

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
pub struct Order {
    pub id: u64,
    pub amount: u64,
}

/// `Page<User>` and `Page<Order>` are two models (two key spaces): a cleanup of one leaves
/// the other's entries; a cleanup that would delete a live version is refused, naming it.
pub async fn sweeps_never_touch_another_type_or_a_live_version<S: Store + Clone>(store: S) {
    let ns = unique_ns("identity");
    let cache = Cache::builder(store.clone())
        .namespace(ns.as_str())
        .build()
        .unwrap();
    let users = cache.model::<Page<User>>();
    let orders = cache.model::<Page<Order>>();
    assert_eq!(users.name(), "Page<User>");
    assert_eq!(orders.name(), "Page<Order>");
    for i in 0..20u64 {
        orders
            .set(
                i.to_string(),
                &Page {
                    items: vec![Order { id: i, amount: 1 }],
                    next: None,
                },
            )
            .await
            .unwrap();
        users
            .set(
                i.to_string(),
                &Page {
                    items: vec![v2("u")],
                    next: None,
                },
            )
            .await
            .unwrap();
    }
    let report = users.cleanup().run().await.unwrap();
    assert_eq!(report.scanned, 0, "{report:?}");
    for i in 0..20u64 {
        assert!(orders.get(i.to_string()).await.unwrap().is_some());
    }

    // Another build of `User` is running: its version is live, so a cleanup refuses.
    let other = Cache::builder(store.clone())
        .namespace(ns.as_str())
        .build()
        .unwrap();
    let old = other.model::<UserV1>();
    old.set("1", &v1("old")).await.unwrap();
    let current = cache.model::<User>();
    current.set("2", &v2("new")).await.unwrap();
    let err = current.cleanup().run().await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SweepError::LiveVersion { .. }), "{err:?}");
    assert!(text.contains(&old.key_version().to_string()), "{text}");
    assert!(text.contains("heartbeat"), "{text}");
    assert!(old.get("1").await.unwrap().is_some(), "nothing touched");
    // The migrator deletes nothing, so it may run; a forced cleanup deletes.
    current.migrator().run().await.unwrap();
    let forced = current.cleanup().force(true).run().await.unwrap();
    assert_eq!(forced.deleted, 1, "{forced:?}");
    let live = current.live_versions().await.unwrap();
    assert!(live
        .iter()
        .any(|v| v.version == old.key_version().to_string() && v.live));
    assert!(live
        .iter()
        .any(|v| v.version == current.key_version().to_string() && v.live));
}

/// The names of every case, in order.
pub const CASES: &[&str] = &[
    "the_other_build_never_reads_the_older_value",
    "settled_builds_read_each_others_fresh_values",
    "store_calls_with_one_and_two_live_versions",
    "sweeps_never_touch_another_type_or_a_live_version",
];

/// One `#[tokio::test]` per case of this module, each on a store from `$make`.
#[macro_export]
macro_rules! coherence_suite {
    ($make:path) => {
        $crate::coherence_suite!(@cases $make;
            the_other_build_never_reads_the_older_value,
            settled_builds_read_each_others_fresh_values,
            store_calls_with_one_and_two_live_versions,
            sweeps_never_touch_another_type_or_a_live_version,
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::coherence::$case($make().await).await;
            }
        )*
        #[test]
        fn every_case_is_listed() {
            let listed: &[&str] = &[$(stringify!($case)),*];
            assert_eq!(listed, $crate::coherence::CASES);
        }
    };
}
