//! The local tier (`local.rs`): a hit on a 1 KB decoded model behind an `Arc` (the goal is
//! under 150 ns), with one hot key, a hot set of 1000 keys and 10 000 keys in turn (13 MB of
//! values: most reads then miss the CPU's caches); a miss; a fill after a store read (token
//! and insert); an invalidation. Next to it, a `MemoryStore` hit of the same key (the
//! cheapest store, bytes only: a typed read adds the decode, 2.7 µs for 1 KB of JSON).
//!
//! `cargo bench -p cache-version-core --bench local_tier -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::sync::Arc;

use cache_version_core::{__BenchTier as Tier, LocalConfig, MemoryStore, Store};
use criterion::{criterion_group, criterion_main, Criterion};

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

criterion_group!(benches, bench);
criterion_main!(benches);
