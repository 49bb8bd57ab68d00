//! Fail-safe, eager refresh and background write-back (issue 15), on `MemoryStore` with
//! short real TTLs (the envelope's logical expiry follows the system clock).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_version_core::{Cache, FailSafe, MemoryStore, Store};
use cache_version_tests::suite::{user, User};

#[derive(Debug)]
struct DbDown;

impl std::fmt::Display for DbDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("database down")
    }
}

impl std::error::Error for DbDown {}

const TTL: Duration = Duration::from_millis(300);
const MAX_STALE: Duration = Duration::from_millis(900);
const THROTTLE: Duration = Duration::from_millis(300);

fn fail_safe_cache() -> Cache<MemoryStore> {
    Cache::builder(MemoryStore::new())
        .namespace("failsafe")
        .default_ttl(TTL)
        .ttl_jitter(0.0)
        .fail_safe(FailSafe::new(MAX_STALE).with_throttle(THROTTLE))
        .soft_timeout(Duration::from_millis(100))
        .build()
        .unwrap()
}

/// The loader fails while a stale value exists: the stale value is served (to the caller and
/// to every waiter) within the max stale duration and never after it; the loader is retried
/// no sooner than the throttle; a slow loader is cut at the soft timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_values_stand_in_for_failed_loads_within_max_stale() {
    let cache = fail_safe_cache();
    let users = cache.model::<User>();
    let written = Instant::now();
    users.get_or_load("1", || async { user(1) }).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let failing = || {
        let calls = calls.clone();
        move || async move {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<User, _>(DbDown)
        }
    };
    // Fresh: a hit, no load.
    assert_eq!(users.get_or_load("1", failing()).await.unwrap(), user(1));
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // Past its logical expiry: a plain read misses, the entry is kept.
    tokio::time::sleep(TTL + Duration::from_millis(50)).await;
    assert_eq!(users.get("1").await.unwrap(), None);
    assert!(cache
        .store()
        .get(&users.key("1").unwrap())
        .await
        .unwrap()
        .is_some());

    // The loader fails: the stale value, and the loader throttled.
    assert_eq!(users.get_or_load("1", failing()).await.unwrap(), user(1));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    for _ in 0..5 {
        assert_eq!(users.get_or_load("1", failing()).await.unwrap(), user(1));
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "throttled: not called again"
    );
    assert_eq!(users.stats().stale_hit, 6);

    // After the throttle it is tried again (and fails again: still the stale value).
    tokio::time::sleep(THROTTLE + Duration::from_millis(30)).await;
    assert_eq!(users.get_or_load("1", failing()).await.unwrap(), user(1));
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // A loader slower than the soft timeout: the stale value at the soft timeout.
    tokio::time::sleep(THROTTLE + Duration::from_millis(30)).await;
    let t = Instant::now();
    let slow = users
        .get_or_load("1", || async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok::<_, DbDown>(user(99))
        })
        .await
        .unwrap();
    assert_eq!(slow, user(1));
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

    // Past max stale: never served again.
    let past = (TTL + MAX_STALE + Duration::from_millis(50)).saturating_sub(written.elapsed());
    tokio::time::sleep(past).await;
    let err = users.get_or_load("1", failing()).await.unwrap_err();
    assert!(err.loader_error().is_some(), "{err:?}");

    // A successful load ends it all: fresh again.
    assert_eq!(
        users.get_or_load("1", || async { user(2) }).await.unwrap(),
        user(2)
    );
    assert_eq!(users.get("1").await.unwrap(), Some(user(2)));
}

/// Waiters on a failing load get the stale value too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_get_the_stale_value() {
    let cache = fail_safe_cache();
    let users = cache.model::<User>();
    users.set("w", &user(5)).await.unwrap();
    tokio::time::sleep(TTL + Duration::from_millis(50)).await;
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let users = users.clone();
        tasks.push(tokio::spawn(async move {
            users
                .get_or_load("w", || async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Err::<User, _>(DbDown)
                })
                .await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), user(5));
    }
    assert_eq!(users.stats().load, 1, "one load for all of them");
}

/// Eager refresh: a hot key read through `get_or_refresh` across several TTLs is always a
/// hit (the loader runs in the background before the entry expires).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eager_refresh_keeps_a_hot_key_warm_across_its_ttl() {
    let cache = Cache::builder(MemoryStore::new())
        .namespace("eager")
        .default_ttl(Duration::from_millis(400))
        .ttl_jitter(0.0)
        .eager_refresh(0.5)
        .build()
        .unwrap();
    let users = cache.model::<User>();
    let loads = Arc::new(AtomicUsize::new(0));
    let loader = || {
        let loads = loads.clone();
        move || async move {
            let n = loads.fetch_add(1, Ordering::SeqCst) as u64;
            user(n)
        }
    };
    users.get_or_refresh("hot", loader()).await.unwrap();
    let before = users.stats();
    let start = Instant::now();
    let mut reads = 0;
    while start.elapsed() < Duration::from_millis(1500) {
        users.get_or_refresh("hot", loader()).await.unwrap();
        reads += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cache.flush_background().await;
    let s = users.stats().since(&before);
    println!("eager refresh: {reads} reads over 1.5 s (TTL 400 ms): {s:?}, loads {loads:?}");
    assert_eq!(s.miss, 0, "every read was a hit: {s:?}");
    assert_eq!(s.hit, reads);
    let refreshes = loads.load(Ordering::SeqCst) - 1;
    assert!(refreshes >= 3, "reloaded in the background: {refreshes}");
    assert!(
        refreshes <= 10,
        "once per half TTL, not per read: {refreshes}"
    );
    assert_eq!(s.refresh as usize, refreshes);
}

/// Background write-back: `get_or_load` returns before the write lands, this cache reads the
/// pending value, and a write of the key meanwhile wins over the loaded value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_write_back_is_visible_here_and_yields_to_writes() {
    let cache = Cache::builder(MemoryStore::new())
        .namespace("bg")
        .background_write_back(true)
        .build()
        .unwrap();
    let users = cache.model::<User>();
    assert_eq!(
        users.get_or_load("1", || async { user(1) }).await.unwrap(),
        user(1)
    );
    assert_eq!(users.get("1").await.unwrap(), Some(user(1)));
    cache.flush_background().await;
    assert!(cache
        .store()
        .get(&users.key("1").unwrap())
        .await
        .unwrap()
        .is_some());

    // A write of the key during the load: the loaded (older) value is not written back.
    let writer = users.clone();
    let got = users
        .get_or_load("2", || async move {
            writer.set("2", &user(22)).await.unwrap();
            user(2)
        })
        .await
        .unwrap();
    assert_eq!(got, user(2));
    cache.flush_background().await;
    assert_eq!(
        users.get("2").await.unwrap(),
        Some(user(22)),
        "the write won"
    );
}
