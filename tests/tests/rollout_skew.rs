//! Version skew during a rolling deploy (`cache_version_tests::skew`): two builds of one
//! model update, delete and read the same keys on one store, against the same workload on
//! one build; on `MemoryStore`, one real redis-server and a three-primary Redis Cluster.

use cache_version_core::MemoryStore;
use cache_version_redis::RedisStore;
use cache_version_tests::redis_harness::{RedisCluster, RedisServer};
use cache_version_tests::skew::{
    g, local_tier_against_none, rate, run, skew_against_the_baseline, Plan,
};
use std::time::Duration;

async fn standalone() -> RedisStore {
    RedisStore::open(RedisServer::shared().url())
        .await
        .expect("connect to the test server")
}

async fn cluster() -> RedisStore {
    RedisStore::open_cluster(RedisCluster::shared().urls())
        .await
        .expect("connect to the test cluster")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skew_on_memory() {
    let store = MemoryStore::new();
    skew_against_the_baseline(|| async { store.clone() }, "memory").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skew_on_redis() {
    skew_against_the_baseline(standalone, "redis").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skew_on_the_cluster() {
    skew_against_the_baseline(cluster, "cluster").await;
}

/// The control: without the migration B is colder on A's keys (the two versions really are
/// separate key spaces, so the warmth above is the migration's), and still correct.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skew_without_migration_is_colder_for_b_but_still_correct() {
    let store = MemoryStore::new();
    let plan = Plan {
        prepopulated: 500,
        churn: 100,
        tasks_per_build: 4,
        run_for: Duration::from_millis(700),
        max_ops_per_task: 50_000,
        migration: false,
        second_build: true,
        local: false,
    };
    let cold = run(|| async { store.clone() }, plan).await;
    let warm = run(
        || async { store.clone() },
        Plan {
            migration: true,
            ..plan
        },
    )
    .await;
    let (fc, fw) = (&*cold.figures, &*warm.figures);
    let (rc, rw) = (
        rate(g(&fc.b_prepop_hits), g(&fc.b_prepop_misses)),
        rate(g(&fw.b_prepop_hits), g(&fw.b_prepop_misses)),
    );
    println!(
        "B's hit rate on A's keys: {:.1}% without migration, {:.1}% with",
        100.0 * rc,
        100.0 * rw
    );
    assert_eq!(g(&fc.wrong) + g(&fc.errors), 0);
    assert_eq!(cold.b_stats.fallback_hit, 0);
    assert!(rc < rw, "without migration {rc} vs with {rw}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skew_with_the_local_tier_on_memory() {
    let store = MemoryStore::new();
    local_tier_against_none(|| async { store.clone() }, "memory").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skew_with_the_local_tier_on_redis() {
    local_tier_against_none(standalone, "redis").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skew_with_the_local_tier_on_the_cluster() {
    local_tier_against_none(cluster, "cluster").await;
}
