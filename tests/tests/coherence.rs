//! The coherence cases (`cache_version_tests::coherence`, issue 14) on `MemoryStore`, one
//! real redis-server and a three-primary Redis Cluster, both started by the harness.

use cache_version_core::MemoryStore;
use cache_version_redis::RedisStore;
use cache_version_tests::redis_harness::{RedisCluster, RedisServer};

async fn memory_store() -> MemoryStore {
    MemoryStore::new()
}

async fn standalone_store() -> RedisStore {
    RedisStore::open(RedisServer::shared().url())
        .await
        .expect("connect to the test server")
}

async fn cluster_store() -> RedisStore {
    RedisStore::open_cluster(RedisCluster::shared().urls())
        .await
        .expect("connect to the test cluster")
}

mod memory {
    cache_version_tests::coherence_suite!(super::memory_store);
}

mod standalone {
    cache_version_tests::coherence_suite!(super::standalone_store);
}

mod cluster {
    cache_version_tests::coherence_suite!(super::cluster_store);
}
