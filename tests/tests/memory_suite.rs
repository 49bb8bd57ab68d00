//! The typed-cache suite (`cache_version_tests::suite`) on `MemoryStore`: one `#[tokio::test]`
//! per case.

use cache_version_core::MemoryStore;

async fn memory_store() -> MemoryStore {
    MemoryStore::new()
}

cache_version_tests::store_suite!(memory_store);

/// The suite also runs on a store with tight bounds and one shard (exact LRU), where
/// nothing a case needs is evicted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_on_a_small_single_shard_store() {
    cache_version_tests::suite::run_all(|| async {
        MemoryStore::builder()
            .shards(1)
            .max_entries(10_000)
            .max_bytes(8 << 20)
            .build()
    })
    .await;
}

/// The store-contract cases (`cache_version_tests::contract`) on `MemoryStore`.
mod contract {
    cache_version_tests::contract_suite!(super::memory_store);
}
