//! The typed-cache suite (`cache_version_tests::suite`) on real Redis: one server and a
//! three-primary Redis Cluster, both started by the harness for this test binary (the same
//! suite runs on `MemoryStore` in `memory_suite.rs`), and the store-contract cases
//! (`cache_version_tests::contract`) on both.

use cache_version_redis::RedisStore;
use cache_version_tests::redis_harness::{RedisCluster, RedisServer};

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

mod standalone {
    cache_version_tests::store_suite!(super::standalone_store);

    /// The store-contract cases (`cache_version_tests::contract`).
    mod contract {
        cache_version_tests::contract_suite!(super::super::standalone_store);
    }
}

mod cluster {
    cache_version_tests::store_suite!(super::cluster_store);

    /// The store-contract cases (`cache_version_tests::contract`).
    mod contract {
        cache_version_tests::contract_suite!(super::super::cluster_store);
    }
}
