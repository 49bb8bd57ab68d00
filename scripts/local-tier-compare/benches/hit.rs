//! A local-tier hit: `get` of a present key whose value is a 1 KB decoded model behind an
//! `Arc`, from each candidate; plus a miss and the clock read that per-entry expiry needs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use local_tier_compare::{key, Moka, QuickFold, QuickStd, Tier, Value};

/// About 1 KB once decoded: what `redis_bench`'s `Profile` holds.
#[allow(dead_code)]
struct Profile {
    id: u64,
    name: String,
    email: String,
    bio: String,
    tags: Vec<String>,
}

fn model(i: u64) -> Value {
    Arc::new(Profile {
        id: i,
        name: format!("user {i}"),
        email: format!("user{i}@example.com"),
        bio: "x".repeat(900),
        tags: (0..5).map(|t| format!("tag{t}")).collect(),
    })
}

const N: usize = 10_000;

fn bench(c: &mut Criterion) {
    let keys: Vec<Vec<u8>> = (0..N).map(key).collect();
    let far = Instant::now() + Duration::from_secs(3600);
    let tiers: Vec<(&str, Box<dyn Tier>)> = vec![
        ("moka", Box::new(Moka::new(100_000, 1 << 30))),
        (
            "quick_cache+foldhash",
            Box::new(QuickFold::new(100_000, 1 << 30)),
        ),
        (
            "quick_cache+siphash",
            Box::new(QuickStd::new(100_000, 1 << 30)),
        ),
    ];
    for tier in tiers.iter().map(|(_, t)| t) {
        for (i, k) in keys.iter().enumerate() {
            tier.insert(k, model(i as u64), 1100, far);
        }
        tier.settle();
    }
    // One hot key, a hot set of 1000 keys (in the CPU's caches), 10 000 keys in turn (13 MB
    // of values: most reads miss the CPU's caches, so this measures memory as much as the tier).
    for (group, set) in [
        ("local_hit_1kb/hot_key", 1),
        ("local_hit_1kb/hot_1000", 1000),
        ("local_hit_1kb/spread_10000", N),
    ] {
        let mut g = c.benchmark_group(group);
        for (name, tier) in &tiers {
            let mut i = 0;
            g.bench_function(*name, |b| {
                b.iter(|| {
                    i = (i + 7919) % set;
                    let v = tier.get(&keys[i]).expect("present");
                    criterion::black_box(v.downcast_ref::<Profile>().expect("a Profile").id)
                })
            });
        }
        g.finish();
    }
    let mut g = c.benchmark_group("local_miss");
    let absent: Vec<Vec<u8>> = (N..2 * N).map(key).collect();
    for (name, tier) in &tiers {
        let mut i = 0;
        g.bench_function(*name, |b| {
            b.iter(|| {
                i = (i + 7919) % N;
                criterion::black_box(tier.get(&absent[i]).is_none())
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("local_insert_1kb");
    for (name, tier) in &tiers {
        let i = std::cell::Cell::new(0);
        g.bench_function(*name, |b| {
            b.iter_batched(
                || {
                    i.set((i.get() + 7919) % N);
                    model(i.get() as u64)
                },
                |v| tier.insert(&keys[i.get()], v, 1100, far),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
    c.bench_function("instant_now", |b| b.iter(Instant::now));
}

criterion_group!(benches, bench);
criterion_main!(benches);
