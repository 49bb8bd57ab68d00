//! The local tier (`local.rs`): a hit on a 1 KB decoded model behind an `Arc` (the goal is
//! under 150 ns), with one hot key, a hot set of 1000 keys and 10 000 keys in turn (13 MB of
//! values: most reads then miss the CPU's caches); a miss; a fill after a store read (token
//! and insert); an invalidation. Next to it, a `MemoryStore` hit of the same key (the
//! cheapest store, bytes only: a typed read adds the decode, 2.7 µs for 1 KB of JSON).
//!
//! Then the typed cache end to end (`typed_get_1kb`): `ModelHandle::get` of a 1 KB model on a
//! `MemoryStore`, without a local tier (a store hit: the store's copy of the bytes, the
//! envelope check and the decode) and with one (a local hit: the key, the tier, the trust
//! check and a clone of the value) and `get_shared` with one (the same without the clone: the
//! goal is under 5% of the store hit).
//!
//! `cargo bench -p cache-version-core --bench local_tier -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::sync::Arc;

use cache_version_core::{
    __BenchTier as Tier, Body, Cache, CacheModel, CacheVersion, Field, LocalConfig, MemoryStore,
    Named, Shape, Store, Ty,
};
use criterion::{criterion_group, criterion_main, Criterion};
use serde::{Deserialize, Serialize};

/// The typed half's model: about 1 KB of JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct User {
    id: u64,
    name: String,
    email: String,
    bio: String,
    tags: Vec<String>,
}

impl CacheVersion for User {
    const SHAPE: &'static Shape = &Shape::Named(&Named::new(
        "User",
        Body::Struct {
            tag: None,
            fields: &[
                Field::new("id", Ty::of::<u64>()),
                Field::new("name", Ty::of::<String>()),
                Field::new("email", Ty::of::<String>()),
                Field::new("bio", Ty::of::<String>()),
                Field::new("tags", Ty::of::<Vec<String>>()),
            ],
        },
    ));
}
impl CacheModel for User {}

/// About 1 KB once decoded.
#[allow(dead_code)]
struct Profile {
    id: u64,
    name: String,
    email: String,
    bio: String,
    tags: Vec<String>,
}

fn model(i: u64) -> Arc<Profile> {
    Arc::new(Profile {
        id: i,
        name: format!("user {i}"),
        email: format!("user{i}@example.com"),
        bio: "x".repeat(900),
        tags: (0..5).map(|t| format!("tag{t}")).collect(),
    })
}

fn key(i: usize) -> Vec<u8> {
    format!("prod:Profile:3f9a1c2b7d4e5f60:user-{i:08}").into_bytes()
}

const N: usize = 10_000;

fn bench(c: &mut Criterion) {
    let mut config = LocalConfig::default();
    config.max_entries = 100_000;
    config.max_bytes = 1 << 30;
    let tier = Tier::new(&config);
    let keys: Vec<Vec<u8>> = (0..N).map(key).collect();
    for (i, k) in keys.iter().enumerate() {
        assert!(tier.fill(k, model(i as u64), 1000));
    }
    let mut g = c.benchmark_group("local_hit_1kb");
    for (name, set) in [("hot_key", 1), ("hot_1000", 1000), ("spread_10000", N)] {
        let mut i = 0;
        g.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 7919) % set;
                let v = tier.get_as::<Profile>(&keys[i]).expect("present");
                black_box(v.id)
            })
        });
    }
    g.finish();
    let absent = key(N + 1);
    c.bench_function("local_miss", |b| {
        b.iter(|| black_box(tier.get_as::<Profile>(&absent).is_none()))
    });
    let value = model(7);
    c.bench_function("local_fill_1kb", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 7919) % N;
            tier.fill(&keys[i], value.clone(), 1000)
        })
    });
    c.bench_function("local_invalidate", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 7919) % N;
            tier.invalidate(&keys[i])
        })
    });
    let store = MemoryStore::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(store.set(&keys[0], &[7u8; 1024], None))
        .unwrap();
    c.bench_function("memory_store_hit_1kb_bytes", |b| {
        b.iter(|| rt.block_on(async { black_box(store.get(&keys[0]).await.unwrap()) }))
    });
}

fn typed(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let user = User {
        id: 7,
        name: "Ada Lovelace".into(),
        email: "ada@example.com".into(),
        bio: "x".repeat(900),
        tags: (0..5).map(|t| format!("tag{t}")).collect(),
    };
    let mut g = c.benchmark_group("typed_get_1kb");
    for local in [false, true] {
        let builder = Cache::builder(MemoryStore::new())
            .namespace("prod")
            .live_versions(false);
        let builder = if local {
            builder.local_tier(LocalConfig::default())
        } else {
            builder
        };
        let cache = rt.block_on(async { builder.build().unwrap() });
        let users = cache.model::<User>();
        rt.block_on(async {
            users.set("7", &user).await.unwrap();
            if local {
                while !cache.local_stats().unwrap().usable {
                    tokio::task::yield_now().await;
                }
            }
            // Fills the tier.
            users.get("7").await.unwrap();
            users.get("7").await.unwrap();
        });
        if local {
            assert!(users.stats().local_hit > 0, "the tier serves");
        }
        if local {
            g.bench_function("local_hit_shared", |b| {
                b.iter_custom(|n| {
                    rt.block_on(async {
                        let start = std::time::Instant::now();
                        for _ in 0..n {
                            black_box(users.get_shared("7").await.unwrap());
                        }
                        start.elapsed()
                    })
                })
            });
        }
        let name = if local { "local_hit" } else { "store_hit" };
        // Many reads in one `block_on`: entering the runtime costs about as much as a hit.
        g.bench_function(name, |b| {
            b.iter_custom(|n| {
                rt.block_on(async {
                    let start = std::time::Instant::now();
                    for _ in 0..n {
                        black_box(users.get("7").await.unwrap());
                    }
                    start.elapsed()
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench, typed);
criterion_main!(benches);
