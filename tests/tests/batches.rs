//! Bounded batches (issue 15): a `get_many` whose current version is cold and that migrates
//! from an older one makes a small constant number of store calls whatever its size, and
//! large batches are chunked; partial writes under fail-open are counted.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cache_version_core::{
    Cache, HashFields, MemoryStore, ScanCursor, ScanPage, SetEntry, Store, StoreError, ValueAndTtl,
};
use cache_version_tests::coherence::Counting;
use cache_version_tests::rollout::{v1, v1_to_v2, User, UserV1};
use cache_version_tests::suite::unique_ns;

/// A store whose every call takes `delay` first (a 2 ms network, say).
#[derive(Clone)]
struct Slow<S> {
    inner: S,
    delay: Duration,
}

impl<S: Store> Store for Slow<S> {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.get(key).await
    }
    async fn get_with_ttl(&self, key: &[u8]) -> Result<Option<ValueAndTtl>, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.get_with_ttl(key).await
    }
    async fn set(&self, key: &[u8], value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.set(key, value, ttl).await
    }
    async fn set_many_if_absent(&self, entries: &[SetEntry]) -> Result<Vec<bool>, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.set_many_if_absent(entries).await
    }
    async fn delete(&self, key: &[u8]) -> Result<bool, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.delete(key).await
    }
    async fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.get_many(keys).await
    }
    async fn set_many(&self, entries: &[SetEntry]) -> Result<(), StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.set_many(entries).await
    }
    async fn delete_many(&self, keys: &[Vec<u8>]) -> Result<u64, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.delete_many(keys).await
    }
    async fn hash_put(
        &self,
        key: &[u8],
        field: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<HashFields, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.hash_put(key, field, value, ttl).await
    }
    async fn hash_get_all(&self, key: &[u8]) -> Result<HashFields, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.hash_get_all(key).await
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

/// 500 keys an old build wrote, read by the new build whose own version is cold.
async fn old_entries<S: Store>(store: S, ns: &str) {
    let old = Cache::builder(store)
        .namespace(ns)
        .live_versions(false)
        .build()
        .unwrap()
        .model::<UserV1>();
    let entries: Vec<(String, UserV1)> =
        (0..500u64).map(|i| (i.to_string(), v1(i, "old"))).collect();
    old.set_many(entries).await.unwrap();
}

fn keys() -> Vec<String> {
    (0..500u64).map(|i| i.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrating_get_many_makes_a_constant_number_of_store_calls() {
    let store = Counting::new(MemoryStore::new());
    let ns = unique_ns("batchcalls");
    old_entries(store.clone(), &ns).await;
    let cache = Cache::builder(store.clone())
        .namespace(ns.as_str())
        .build()
        .unwrap();
    let new = cache
        .model::<User>()
        .migrate_from::<UserV1, _>(v1_to_v2)
        .unwrap();
    new.get("warm-up").await.unwrap(); // joins the registry
    store.take();
    let got = new.get_many(&keys()).await.unwrap();
    assert!(got.iter().all(Option::is_some));
    cache.flush_background().await;
    let calls = store.take();
    println!("get_many of 500 keys migrating from V1: {calls:?}");
    let expected: BTreeMap<&str, u64> = [("get_many", 3), ("set_many_if_absent", 1)]
        .into_iter()
        .collect();
    assert_eq!(
        calls, expected,
        "one read of each version, one write-back, one re-read"
    );
    // Now they are the current version's: one call.
    assert!(new
        .get_many(&keys())
        .await
        .unwrap()
        .iter()
        .all(Option::is_some));
    assert_eq!(store.take(), [("get_many", 1)].into_iter().collect());
    assert_eq!(new.stats().fallback_hit, 500);
}

/// With 2 ms per store call, the same read takes two round trips on the request path (the
/// write-back runs in the background).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrating_get_many_on_a_slow_store_takes_two_round_trips() {
    let store = Slow {
        inner: MemoryStore::new(),
        delay: Duration::from_millis(2),
    };
    let ns = unique_ns("batchslow");
    old_entries(store.clone(), &ns).await;
    let cache = Cache::builder(store)
        .namespace(ns.as_str())
        .build()
        .unwrap();
    let new = cache
        .model::<User>()
        .migrate_from::<UserV1, _>(v1_to_v2)
        .unwrap();
    new.get("warm-up").await.unwrap();
    let t = Instant::now();
    let got = new.get_many(&keys()).await.unwrap();
    let took = t.elapsed();
    assert!(got.iter().all(Option::is_some));
    println!("get_many of 500 migrated keys at 2 ms per call: {took:?}");
    // Two calls of ~2 ms (tokio's timer rounds sleeps up to the next millisecond); key by key
    // it took 4.8 s.
    assert!(took < Duration::from_millis(50), "{took:?}");
}

/// A `set_many` larger than a chunk goes in chunks; under fail-open, one failing chunk does
/// not stop the others and the partial write is counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_batches_go_in_chunks() {
    let store = Counting::new(MemoryStore::builder().max_entries(1_000_000).build());
    let cache = Cache::builder(store.clone())
        .namespace(unique_ns("chunks"))
        .build()
        .unwrap();
    let users = cache.model::<User>();
    users.get("warm-up").await.unwrap();
    store.take();
    let n = 2 * Cache::<MemoryStore>::BATCH_CHUNK + 10;
    let entries: Vec<(String, User)> = (0..n as u64)
        .map(|i| {
            (
                i.to_string(),
                User {
                    user_id: i,
                    full_name: "x".into(),
                },
            )
        })
        .collect();
    users.set_many(entries).await.unwrap();
    assert_eq!(store.take(), [("set_many", 3)].into_iter().collect());
    let ks: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    assert!(users
        .get_many(&ks)
        .await
        .unwrap()
        .iter()
        .all(Option::is_some));
    assert_eq!(store.take(), [("get_many", 3)].into_iter().collect());
    assert_eq!(users.delete_many(&ks).await.unwrap(), n as u64);
    assert_eq!(store.take(), [("delete_many", 3)].into_iter().collect());
}
