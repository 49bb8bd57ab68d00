//! A local-tier hit against a store hit on a real Redis, one 1 KB model, in one run.
//!
//! ```text
//! cargo bench -p cache-version-tests --bench local_tier_redis
//! ```
//!
//! Starts its own `redis-server` on 127.0.0.1 (the test harness's; it needs `redis-server`
//! installed). Every case reads the same key of the same model through `ModelHandle`, many
//! reads in one task on a runtime worker, while the other worker runs the caches' tasks:
//!
//! - `local_hit_shared`: `get_shared` served by the local tier (an `Arc<T>`, no copy);
//! - `local_hit`: `get` served by the local tier (the value cloned: this model's clone is 16
//!   allocations, most of the figure);
//! - `redis_store_hit`: `get` on a cache without a tier: a Redis round trip on loopback and
//!   the decode;
//! - `memory_store_hit`: `get` on a `MemoryStore` cache without a tier (no network: the decode
//!   and the cache's own work).
//!
//! Both caches run with the live-version registry on (the default), so a local hit pays its
//! trust check as in a service.

use std::hint::black_box;
use std::time::{Duration, Instant};

use cache_version_core::{Cache, CacheVersion, LocalConfig, MemoryStore, ModelHandle, Store};
use cache_version_redis::RedisStore;
use cache_version_tests::redis_harness::RedisServer;
use criterion::{criterion_group, criterion_main, Criterion};
use serde::{Deserialize, Serialize};

/// About 1 KB as JSON: the model of `redis_bench`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
struct Profile {
    id: u64,
    name: String,
    email: String,
    bio: String,
    tags: Vec<String>,
    scores: Vec<u32>,
    active: bool,
}

fn profile() -> Profile {
    Profile {
        id: 7,
        name: "User Number 7".into(),
        email: "user7@example.com".into(),
        bio: "lorem ipsum dolor sit amet ".repeat(24),
        tags: (0..12).map(|i| format!("tag-{i}")).collect(),
        scores: (0..40).map(|i| i * 37 % 1000).collect(),
        active: false,
    }
}

/// Writes the key and reads it until `users` serves it from where the case wants it.
async fn ready<S: Store>(users: &ModelHandle<Profile, S>, local: bool) {
    users.set("7", &profile()).await.unwrap();
    let started = Instant::now();
    loop {
        assert_eq!(users.get("7").await.unwrap(), Some(profile()));
        let stats = users.stats();
        if !local || stats.local_hit > 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the local tier never served: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `n` reads of key 7 by `read`, timed inside one task on a runtime worker (where a service's
/// reads run, next to the runtime's I/O driver).
fn timed<F>(rt: &tokio::runtime::Runtime, n: u64, read: impl Fn() -> F + Send + 'static) -> Duration
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    rt.block_on(rt.spawn(async move {
        let start = Instant::now();
        for _ in 0..n {
            black_box(read().await);
        }
        start.elapsed()
    }))
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let server = RedisServer::start();
    // Two workers: the timed task on one, the caches' own tasks (the registry's heartbeats,
    // the tier's change reports) on the other, as in a service. (A current-thread runtime
    // would leave them stalled between samples, and a build whose heartbeat is late rightly
    // stops trusting its entries.)
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let redis_cache = |local: bool| {
        let url = server.url();
        rt.block_on(async move {
            let store = RedisStore::builder(&url).build().await.unwrap();
            let b = Cache::builder(store).namespace(if local { "tier" } else { "plain" });
            let b = if local {
                b.local_tier(LocalConfig::default())
            } else {
                b
            };
            b.build().unwrap()
        })
    };
    let tiered = redis_cache(true);
    let plain = redis_cache(false);
    let memory = Cache::builder(MemoryStore::new())
        .namespace("memory")
        .build()
        .unwrap();
    let (t, p, m) = (
        tiered.model::<Profile>(),
        plain.model::<Profile>(),
        memory.model::<Profile>(),
    );
    rt.block_on(async {
        ready(&t, true).await;
        ready(&p, false).await;
        ready(&m, false).await;
    });

    let (t0, p0) = (t.stats(), p.stats());
    let mut g = c.benchmark_group("local_tier_1kb");
    // `n` reads of key "7" in a row on the runtime, through `$method` of handle `$h`.
    macro_rules! read_bench {
        ($name:literal, $h:expr, $method:ident) => {
            g.bench_function($name, |b| {
                b.iter_custom(|n| {
                    let h = $h.clone();
                    timed(&rt, n, move || {
                        let h = h.clone();
                        async move { h.$method("7").await.unwrap() }
                    })
                })
            });
        };
    }
    read_bench!("local_hit_shared", t, get_shared);
    read_bench!("local_hit", t, get);
    read_bench!("redis_store_hit", p, get);
    read_bench!("memory_store_hit", m, get);
    g.finish();
    // Every timed read of the tiered cache was a local hit, every other one a store hit.
    let (t1, p1) = (t.stats(), p.stats());
    assert_eq!(t1.hit - t0.hit, t1.local_hit - t0.local_hit, "{t1:?}");
    assert!(p1.hit > p0.hit && p1.local_hit == 0, "{p1:?}");
    assert_eq!(t1.miss + p1.miss, t0.miss + p0.miss, "no misses");
}

criterion_group!(benches, bench);
criterion_main!(benches);
