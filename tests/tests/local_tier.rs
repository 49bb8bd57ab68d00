//! The local tier's cases (`cache_version_tests::local`, issue 16) on `MemoryStore`, one real
//! redis-server and a three-primary Redis Cluster (two stores each: separate connections, as
//! two processes would have), and what only Redis can do: a killed tracking connection
//! clears the tier until the reports are back.

use std::time::{Duration, Instant};

use cache_version_core::MemoryStore;
use cache_version_redis::RedisStore;
use cache_version_tests::local::{local_cache, usable, WITHIN};
use cache_version_tests::redis_harness::{RedisCluster, RedisServer};
use cache_version_tests::rollout::User;
use cache_version_tests::suite::unique_ns;

async fn memory_pair() -> (MemoryStore, MemoryStore) {
    let store = MemoryStore::new();
    (store.clone(), store)
}

async fn standalone_pair() -> (RedisStore, RedisStore) {
    let url = RedisServer::shared().url();
    (
        RedisStore::open(&url).await.expect("connect"),
        RedisStore::open(&url).await.expect("connect"),
    )
}

async fn cluster_pair() -> (RedisStore, RedisStore) {
    let urls = RedisCluster::shared().urls();
    (
        RedisStore::open_cluster(&urls).await.expect("connect"),
        RedisStore::open_cluster(&urls).await.expect("connect"),
    )
}

mod memory {
    cache_version_tests::local_suite!(super::memory_pair);
}

mod standalone {
    cache_version_tests::local_suite!(super::standalone_pair);
}

mod cluster {
    cache_version_tests::local_suite!(super::cluster_pair);
}

/// `CLIENT KILL` of the tracking connection clears the tier and keeps it unused (every read
/// goes to Redis) until tracking is back; then it serves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_tracking_connection_clears_the_tier() {
    let server = RedisServer::start();
    let store = RedisStore::open(server.url()).await.unwrap();
    let cache = local_cache(store, &unique_ns("local-kill"));
    usable(&cache).await;
    let users = cache.model::<User>();
    let v = User {
        user_id: 1,
        full_name: "r1".into(),
    };
    for round in 0..3 {
        for k in ["a", "b", "c"] {
            users.set(k, &v).await.unwrap();
            users.get(k).await.unwrap();
        }
        // A fill is refused while the report of this cache's own write may still be on its
        // way (a loaded machine delays it): read again until one sticks.
        let start = Instant::now();
        while cache.local_stats().unwrap().entries == 0 && start.elapsed() < WITHIN {
            tokio::time::sleep(Duration::from_millis(1)).await;
            users.get("a").await.unwrap();
        }
        let before = cache.local_stats().unwrap();
        assert!(before.entries >= 1, "{before:?}");
        let ids = server.tracking_clients();
        assert_eq!(ids.len(), 1, "one tracking connection");
        let _: i64 = server.cmd(&["CLIENT", "KILL", "ID", &ids[0]]);
        let start = Instant::now();
        loop {
            let s = cache.local_stats().unwrap();
            if s.losses > before.losses {
                break;
            }
            assert!(start.elapsed() < WITHIN, "no loss seen: {s:?}");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // Until the reports are back the tier holds and serves nothing (the entries may
        // already be back if tracking was re-established at once; then they are new fills).
        let s = cache.local_stats().unwrap();
        if !s.usable {
            assert_eq!(s.entries, 0, "round {round}: {s:?}");
            let hits = users.stats().local_hit;
            assert_eq!(users.get("a").await.unwrap(), Some(v.clone()));
            if !cache.local_stats().unwrap().usable {
                assert_eq!(users.stats().local_hit, hits, "served locally while lost");
            }
        }
        usable(&cache).await;
        let s = cache.local_stats().unwrap();
        assert!(s.establishments > before.establishments, "{s:?}");
        // Serving again.
        let start = Instant::now();
        loop {
            let hits = users.stats().local_hit;
            users.get("b").await.unwrap();
            if users.stats().local_hit > hits {
                break;
            }
            assert!(start.elapsed() < WITHIN, "not serving locally again");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// A store that cannot report changes cannot have a local tier, nor can a cache without the
/// envelope.
#[tokio::test]
async fn the_tier_needs_reports_and_the_envelope() {
    use cache_version_core::{Cache, ConfigError, LocalConfig};
    let e = Cache::builder(MemoryStore::new())
        .namespace("n")
        .envelope(false)
        .local_tier(LocalConfig::default())
        .build()
        .unwrap_err();
    assert_eq!(e, ConfigError::LocalTierNeedsEnvelope);
    let server = RedisServer::shared();
    let client = cache_version_redis::redis::Client::open(server.url()).unwrap();
    let manager = cache_version_redis::redis::aio::ConnectionManager::new(client)
        .await
        .unwrap();
    let store =
        RedisStore::from_connection_manager(manager, cache_version_redis::RedisConfig::default());
    let e = Cache::builder(store)
        .namespace("n")
        .local_tier(LocalConfig::default())
        .build()
        .unwrap_err();
    assert_eq!(e, ConfigError::LocalTierNeedsWatch);
}
