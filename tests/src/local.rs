//! The local tier (issue 16), generic over the store: two caches (two processes' worth of
//! state: separate stores where the store allows, so separate connections) on one store.
//! Whatever one writes or deletes, by any path and under any version, leaves the other's tier
//! within the store's report latency; a cache reads its own writes at once; an entry never
//! outlives its logical expiry. [`local_suite!`](crate::local_suite) runs every case on a
//! pair of stores.
#![allow(missing_docs)]

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

use cache_version_core::{Cache, CacheVersion, LocalConfig, LocalStats, ModelHandle, Store};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::rollout::{User, UserV1};
use crate::suite::{past_young_window, unique_ns, FAST_BEAT};

/// How long any one change may take to reach another cache's tier (loopback: well under a
/// millisecond; generous for a loaded 2-core machine).
pub const WITHIN: Duration = Duration::from_secs(5);

/// A cache with a local tier whose entries would live a minute without reports, so a missed
/// report shows.
pub fn local_cache<S: Store>(store: S, ns: &str) -> Cache<S> {
    let mut config = LocalConfig::default();
    config.max_ttl = Duration::from_secs(60);
    Cache::builder(store)
        .namespace(ns)
        .ttl_jitter(0.0)
        .heartbeat(FAST_BEAT)
        .clock_skew(Duration::ZERO)
        .local_tier(config)
        .build()
        .expect("valid config")
}

fn stats<S: Store>(cache: &Cache<S>) -> LocalStats {
    cache.local_stats().expect("a local tier")
}

/// Waits until the cache's tier is in use (the store's reports are established).
pub async fn usable<S: Store>(cache: &Cache<S>) {
    let start = Instant::now();
    while !stats(cache).usable {
        assert!(
            start.elapsed() < WITHIN,
            "the local tier was not in use within {WITHIN:?}: {:?}",
            stats(cache)
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Polls `done` until it holds (returns how long that took); panics after [`WITHIN`].
pub async fn eventually<F, Fut>(what: &str, mut done: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if done().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < WITHIN, "{what}: not within {WITHIN:?}");
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

fn user(name: &str) -> User {
    User {
        user_id: 1,
        full_name: name.into(),
    }
}

fn name(v: Option<User>) -> Option<String> {
    v.map(|u| u.full_name)
}

/// Reads `key` until it is served by the tier (a read fills it; reports of earlier changes
/// may still refuse fills for a moment); returns the value.
async fn held<T, S>(h: &ModelHandle<T, S>, key: &str) -> Option<T>
where
    T: CacheVersion + Serialize + DeserializeOwned + Clone + Send + Sync + Debug + 'static,
    S: Store,
{
    let start = Instant::now();
    loop {
        let before = h.stats().local_hit;
        let got = h.get(key).await.unwrap();
        if got.is_some() && h.stats().local_hit > before {
            return got;
        }
        assert!(
            start.elapsed() < WITHIN,
            "{key} not served locally within {WITHIN:?} (last read: {got:?})"
        );
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

/// One cache: a second read is served by the tier (no store call), a write or delete through
/// the cache is read back at once, `get_many` mixes local and stored values, `get_or_load`
/// serves a local entry without loading.
pub async fn local_hits_skip_the_store_and_writes_read_back<S: Store + Clone>(store: S, _other: S) {
    let cache = local_cache(store, &unique_ns("local"));
    usable(&cache).await;
    let users = cache.model::<User>();
    users.set("1", &user("r1")).await.unwrap();
    assert_eq!(name(held(&users, "1").await).as_deref(), Some("r1"));
    let before = users.stats();
    for _ in 0..10 {
        assert_eq!(users.get("1").await.unwrap(), Some(user("r1")));
    }
    let after = users.stats().since(&before);
    assert_eq!((after.hit, after.local_hit, after.miss), (10, 10, 0));

    // Own writes and deletes, read at once (before the store's report arrives).
    for round in 0..20 {
        let v = user(&format!("w{round}"));
        users.set("1", &v).await.unwrap();
        assert_eq!(users.get("1").await.unwrap(), Some(v), "round {round}");
    }
    assert!(users.delete("1").await.unwrap());
    assert_eq!(users.get("1").await.unwrap(), None);

    // get_many: one local, one stored, one absent.
    users.set("a", &user("a")).await.unwrap();
    users.set("b", &user("b")).await.unwrap();
    held(&users, "a").await;
    let before = users.stats();
    let got = users.get_many(&["a", "b", "none"]).await.unwrap();
    assert_eq!(got, vec![Some(user("a")), Some(user("b")), None]);
    let after = users.stats().since(&before);
    assert_eq!((after.hit, after.miss), (2, 1), "{after:?}");
    assert_eq!(after.local_hit, 1, "{after:?}");
    // ... and "b" is local now.
    held(&users, "b").await;

    // get_or_load serves the local entry without loading.
    let loaded = users
        .get_or_load("a", || async { user("from the loader") })
        .await
        .unwrap();
    assert_eq!(loaded, user("a"));
    assert_eq!(users.stats().load, 0);

    let s = stats(&cache);
    assert!(s.entries >= 2 && s.weight > 0, "{s:?}");
}

/// Another cache's write, delete and a raw store delete reach this cache's tier; an entry
/// expires with its logical TTL however long the tier would keep it.
pub async fn other_caches_changes_reach_the_tier<S: Store + Clone>(store: S, other: S) {
    let ns = unique_ns("local");
    let a = local_cache(store, &ns);
    let b = local_cache(other.clone(), &ns);
    usable(&a).await;
    usable(&b).await;
    let (ua, ub) = (a.model::<User>(), b.model::<User>());
    ub.get("join").await.unwrap();
    ua.get("join").await.unwrap();
    past_young_window().await;

    let mut latencies = Vec::new();
    for round in 0..10 {
        let key = format!("k{round}");
        ub.set(&key, &user("r1")).await.unwrap();
        held(&ua, &key).await;
        // A write by the other cache.
        ub.set(&key, &user("r2")).await.unwrap();
        latencies.push(
            eventually("another cache's write", || async {
                name(ua.get(&key).await.unwrap()).as_deref() == Some("r2")
            })
            .await,
        );
        held(&ua, &key).await;
        // A delete by the other cache.
        ub.delete(&key).await.unwrap();
        eventually("another cache's delete", || async {
            ua.get(&key).await.unwrap().is_none()
        })
        .await;
        // A delete behind every cache's back (redis-cli DEL).
        ub.set(&key, &user("r3")).await.unwrap();
        held(&ua, &key).await;
        other.delete(&ua.key(&key).unwrap()).await.unwrap();
        eventually("a raw delete", || async {
            ua.get(&key).await.unwrap().is_none()
        })
        .await;
    }
    latencies.sort();
    assert!(
        latencies[latencies.len() / 2] < Duration::from_secs(1),
        "{latencies:?}"
    );

    // Logical expiry bounds an entry, whatever the tier's own bound.
    ub.set_with_ttl("ttl", &user("short"), Duration::from_millis(400))
        .await
        .unwrap();
    held(&ua, "ttl").await;
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(ua.get("ttl").await.unwrap(), None, "served past its TTL");
}

/// Another build (a new version of the model) writes and deletes: its cross-version deletes
/// (issue 14) reach this build's tier.
pub async fn another_builds_writes_reach_the_tier<S: Store + Clone>(store: S, other: S) {
    let ns = unique_ns("local");
    let a = local_cache(store, &ns);
    let b = local_cache(other, &ns);
    usable(&a).await;
    usable(&b).await;
    let old = a.model::<UserV1>();
    let new = b.model::<User>();
    old.get("join").await.unwrap();
    new.get("join").await.unwrap();
    past_young_window().await;
    let v1 = |n: &str| UserV1 {
        user_id: 1,
        user_name: n.into(),
    };
    for (round, delete) in [(0, false), (1, true), (2, false), (3, true)] {
        let key = format!("x{round}");
        old.set(&key, &v1("r1")).await.unwrap();
        held(&old, &key).await;
        if delete {
            new.delete(&key).await.unwrap();
        } else {
            new.set(&key, &user("r2")).await.unwrap();
        }
        // The new build's write deleted the old version's key: the old build misses (and
        // would reload), never the older value.
        eventually("the other build's change", || async {
            old.get(&key).await.unwrap().is_none()
        })
        .await;
    }
}

/// Concurrent misses of one key still load once per cache with the tier on, and the
/// loaded value reaches the tier through the store (the next reads are local).
pub async fn single_flight_is_unchanged<S: Store + Clone>(store: S, _other: S) {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    let cache = local_cache(store, &unique_ns("local-flight"));
    usable(&cache).await;
    let users = cache.model::<User>();
    let loads = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let users = users.clone();
        let loads = loads.clone();
        tasks.push(tokio::spawn(async move {
            users
                .get_or_load("hot", || async move {
                    loads.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    user("loaded")
                })
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), user("loaded"));
    }
    assert_eq!(loads.load(Ordering::SeqCst), 1, "one load for 32 callers");
    assert_eq!(name(held(&users, "hot").await).as_deref(), Some("loaded"));
}

/// The cache-aside race, narrowed: while this cache loads a key, another cache (or this one)
/// writes or deletes it; the loaded value is returned but not written back over the newer
/// state (the change, or its report from the store, marks the load overtaken).
pub async fn another_caches_change_overtakes_a_load<S: Store + Clone>(store: S, other: S) {
    let ns = unique_ns("local-overtake");
    let a = local_cache(store.clone(), &ns);
    let b = local_cache(other, &ns);
    usable(&a).await;
    usable(&b).await;
    let (ua, ub) = (a.model::<User>(), b.model::<User>());
    ub.get("join").await.unwrap();
    ua.get("join").await.unwrap();
    past_young_window().await;
    for (delete, same_cache) in [(true, false), (false, false), (true, true)] {
        let key = format!("race-{delete}-{same_cache}");
        let writer = if same_cache { ua.clone() } else { ub.clone() };
        // A load that read the database before the other cache's change.
        let load = {
            let ua = ua.clone();
            let key = key.clone();
            tokio::spawn(async move {
                ua.get_or_load(&key, || async {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    user("loaded before the change")
                })
                .await
                .unwrap()
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        if delete {
            // The key must exist for its delete to be a change.
            writer.set(&key, &user("to delete")).await.unwrap();
            writer.delete(&key).await.unwrap();
        } else {
            writer.set(&key, &user("newer")).await.unwrap();
        }
        assert_eq!(load.await.unwrap(), user("loaded before the change"));
        let stored = store.get(&ua.key(&key).unwrap()).await.unwrap();
        let stored = stored.map(|bytes| ua.decode_value(&bytes).unwrap().full_name);
        let want = if delete {
            None
        } else {
            Some("newer".to_string())
        };
        assert_eq!(
            stored, want,
            "the load wrote back over the other cache's change"
        );
    }
}

/// The names of every case, in order.
pub const CASES: &[&str] = &[
    "local_hits_skip_the_store_and_writes_read_back",
    "other_caches_changes_reach_the_tier",
    "another_builds_writes_reach_the_tier",
    "single_flight_is_unchanged",
    "another_caches_change_overtakes_a_load",
];

/// One `#[tokio::test]` per case of this module, each on two stores from `$make` (which
/// returns a pair: two stores over one backend).
#[macro_export]
macro_rules! local_suite {
    ($make:path) => {
        $crate::local_suite!(@cases $make;
            local_hits_skip_the_store_and_writes_read_back,
            other_caches_changes_reach_the_tier,
            another_builds_writes_reach_the_tier,
            single_flight_is_unchanged,
            another_caches_change_overtakes_a_load,
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (a, b) = $make().await;
                $crate::local::$case(a, b).await;
            }
        )*
        #[test]
        fn every_case_is_listed() {
            let listed: &[&str] = &[$(stringify!($case)),*];
            assert_eq!(listed, $crate::local::CASES);
        }
    };
}
