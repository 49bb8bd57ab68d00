//! The cost the typed cache adds around the codec, per operation, next to bare `serde_json` on
//! the same ~1 KB value in the same run:
//!
//! - `key`: building a full key (one allocation) vs `format!` of the same string;
//! - `encode`: envelope header + JSON payload in one buffer vs `serde_json::to_vec`;
//! - `decode`: envelope check + JSON decode vs `serde_json::from_slice`;
//! - `roundtrip`: encode then decode, both ways (the envelope's overhead on the pair);
//! - then the same three pairs measured in alternating batches (medians), printed as
//!   `interleaved ...: overhead N%`: the robust figure on a busy machine.
//!
//! `cargo bench -p cache-version-core --bench cache -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::Instant;

use cache_version_core::{Body, Cache, CacheVersion, Field, MemoryStore, Named, Shape, Ty};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Profile {
    id: u64,
    name: String,
    email: String,
    bio: String,
    tags: Vec<String>,
    scores: Vec<u32>,
    active: bool,
}

impl CacheVersion for Profile {
    const SHAPE: &'static Shape = &Shape::Named(&Named::new(
        "Profile",
        Body::Struct {
            tag: None,
            fields: &[
                Field::new("id", Ty::of::<u64>()),
                Field::new("name", Ty::of::<String>()),
                Field::new("email", Ty::of::<String>()),
                Field::new("bio", Ty::of::<String>()),
                Field::new("tags", Ty::of::<Vec<String>>()),
                Field::new("scores", Ty::of::<Vec<u32>>()),
                Field::new("active", Ty::of::<bool>()),
            ],
        },
    ));
}
impl cache_version_core::CacheModel for Profile {}

fn profile() -> Profile {
    Profile {
        id: 1_234_567,
        name: "Ada Lovelace".into(),
        email: "ada.lovelace@analytical-engine.example".into(),
        bio: "Mathematician and writer, chiefly known for her work on the proposed \
              mechanical general-purpose computer, the Analytical Engine. "
            .repeat(4),
        tags: (0..12).map(|i| format!("tag-number-{i}")).collect(),
        scores: (0..40).map(|i| i * 7919 % 100_000).collect(),
        active: true,
    }
}

fn benches(c: &mut Criterion) {
    let cache = Cache::builder(MemoryStore::new())
        .namespace("prod")
        .build()
        .expect("valid config");
    let handle = cache.model::<Profile>();
    let value = profile();
    let bare = serde_json::to_vec(&value).unwrap();
    let stored = handle.encode_value(&value).unwrap();
    assert_eq!(
        &stored[cache_version_core::envelope::HEADER_LEN..],
        &bare[..]
    );
    println!(
        "value: {} bytes of JSON, {} bytes stored (envelope {} bytes)",
        bare.len(),
        stored.len(),
        stored.len() - bare.len()
    );

    let mut g = c.benchmark_group("key");
    let logical = "user:1234567";
    g.bench_function("cache_key", |b| {
        b.iter(|| handle.key(black_box(logical)).unwrap())
    });
    let (ns, model, ver) = ("prod", "Profile", handle.key_version().to_string());
    g.bench_function("format_macro", |b| {
        b.iter(|| format!("{ns}:{model}:{ver}:{}", black_box(logical)).into_bytes())
    });
    g.finish();

    let mut g = c.benchmark_group("encode");
    g.throughput(Throughput::Bytes(bare.len() as u64));
    g.bench_function("serde_json", |b| {
        b.iter(|| serde_json::to_vec(black_box(&value)).unwrap())
    });
    g.bench_function("envelope_json", |b| {
        b.iter(|| handle.encode_value(black_box(&value)).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(bare.len() as u64));
    g.bench_function("serde_json", |b| {
        b.iter(|| serde_json::from_slice::<Profile>(black_box(&bare)).unwrap())
    });
    g.bench_function("envelope_json", |b| {
        b.iter(|| handle.decode_value(black_box(&stored)).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("roundtrip");
    g.throughput(Throughput::Bytes(bare.len() as u64));
    g.bench_function("serde_json", |b| {
        b.iter(|| {
            let bytes = serde_json::to_vec(black_box(&value)).unwrap();
            serde_json::from_slice::<Profile>(&bytes).unwrap()
        })
    });
    g.bench_function("envelope_json", |b| {
        b.iter(|| {
            let bytes = handle.encode_value(black_box(&value)).unwrap();
            handle.decode_value(&bytes).unwrap()
        })
    });
    g.finish();
}

/// Per-operation medians of A and B measured in alternating batches, so a noisy machine
/// (other builds, CPU steal) slows both alike; criterion measures one after the other.
fn interleaved<A: Fn(), B: Fn()>(a: A, b: B) -> (f64, f64) {
    interleaved_in(64, a, b)
}

/// [`interleaved`] with `BATCH` calls per timed batch (fewer for slow calls).
fn interleaved_in<A: Fn(), B: Fn()>(batch: u32, a: A, b: B) -> (f64, f64) {
    const ROUNDS: usize = 1500;
    let batch = batch.max(1);
    let time = |f: &dyn Fn()| {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        t.elapsed().as_nanos() as f64 / f64::from(batch)
    };
    for _ in 0..50 {
        time(&a);
        time(&b);
    }
    let (mut ta, mut tb) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
    // A B B A: neither side always runs first.
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            ta.push(time(&a));
            tb.push(time(&b));
        } else {
            tb.push(time(&b));
            ta.push(time(&a));
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut ta), median(&mut tb))
}

fn summary(c: &mut Criterion) {
    let _ = c;
    let cache = Cache::builder(MemoryStore::new())
        .namespace("prod")
        .build()
        .expect("valid config");
    let handle = cache.model::<Profile>();
    let value = profile();
    let bare = serde_json::to_vec(&value).unwrap();
    let stored = handle.encode_value(&value).unwrap();
    let report = |what: &str, (a, b): (f64, f64)| {
        println!(
            "interleaved {what}: serde_json {a:.0} ns, envelope+json {b:.0} ns, overhead {:+.1}%",
            (b / a - 1.0) * 100.0
        );
    };
    report(
        "encode",
        interleaved(
            || {
                black_box(serde_json::to_vec(black_box(&value)).unwrap());
            },
            || {
                black_box(handle.encode_value(black_box(&value)).unwrap());
            },
        ),
    );
    report(
        "decode",
        interleaved(
            || {
                black_box(serde_json::from_slice::<Profile>(black_box(&bare)).unwrap());
            },
            || {
                black_box(handle.decode_value(black_box(&stored)).unwrap());
            },
        ),
    );
    report(
        "encode+decode",
        interleaved(
            || {
                let bytes = serde_json::to_vec(black_box(&value)).unwrap();
                black_box(serde_json::from_slice::<Profile>(&bytes).unwrap());
            },
            || {
                let bytes = handle.encode_value(black_box(&value)).unwrap();
                black_box(handle.decode_value(&bytes).unwrap());
            },
        ),
    );
    // The keyed MAC instead of the checksum (CacheBuilder::mac_key).
    let mac = Cache::builder(MemoryStore::new())
        .namespace("prod")
        .mac_key(cache_version_core::envelope::MacKey::new([7; 32]))
        .build()
        .expect("valid config");
    let mac_handle = mac.model::<Profile>();
    report(
        "encode+decode with a MAC",
        interleaved(
            || {
                let bytes = serde_json::to_vec(black_box(&value)).unwrap();
                black_box(serde_json::from_slice::<Profile>(&bytes).unwrap());
            },
            || {
                let bytes = mac_handle.encode_value(black_box(&value)).unwrap();
                black_box(mac_handle.decode_value(&bytes).unwrap());
            },
        ),
    );
}

/// What `ModelHandle` adds around a store call and the codec: the typed call against the same
/// store call plus the codec by hand, on a `MemoryStore` (so the store costs little), one
/// operation per `block_on`, interleaved.
fn typed_overhead(c: &mut Criterion) {
    use cache_version_core::{SetEntry, Store};
    let _ = c;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let store = MemoryStore::new();
    let cache = Cache::builder(store.clone())
        .namespace("prod")
        .ttl_jitter(0.0)
        .build()
        .expect("valid config");
    let handle = cache.model::<Profile>();
    let value = profile();
    let ttl = handle.default_ttl();
    let logical: Vec<String> = (0..100).map(|i| format!("user:{i}")).collect();
    let full: Vec<Vec<u8>> = logical.iter().map(|k| handle.key(k).unwrap()).collect();
    rt.block_on(async {
        for k in &logical {
            handle.set(k, &value).await.unwrap();
        }
    });
    let report = |what: &str, (a, b): (f64, f64)| {
        println!(
            "interleaved {what}: store+codec by hand {a:.0} ns, typed {b:.0} ns, overhead {:+.1}%",
            (b / a - 1.0) * 100.0
        );
    };
    report(
        "get",
        interleaved(
            || {
                rt.block_on(async {
                    let bytes = store.get(&full[7]).await.unwrap().unwrap();
                    black_box(handle.decode_value(&bytes).unwrap());
                })
            },
            || {
                rt.block_on(async {
                    black_box(handle.get(&logical[7]).await.unwrap().unwrap());
                })
            },
        ),
    );
    report(
        "set",
        interleaved(
            || {
                rt.block_on(async {
                    let bytes = handle.encode_value(black_box(&value)).unwrap();
                    store.set(&full[7], &bytes, ttl).await.unwrap();
                })
            },
            || {
                rt.block_on(async {
                    handle.set(&logical[7], black_box(&value)).await.unwrap();
                })
            },
        ),
    );
    report(
        "get_many (100)",
        interleaved_in(
            2,
            || {
                rt.block_on(async {
                    let values = store.get_many(&full).await.unwrap();
                    let out: Vec<Profile> = values
                        .iter()
                        .map(|b| handle.decode_value(b.as_ref().unwrap()).unwrap())
                        .collect();
                    black_box(out);
                })
            },
            || {
                rt.block_on(async {
                    black_box(handle.get_many(&logical).await.unwrap());
                })
            },
        ),
    );
    report(
        "set_many (100)",
        interleaved_in(
            2,
            || {
                rt.block_on(async {
                    let entries: Vec<SetEntry> = full
                        .iter()
                        .map(|k| SetEntry {
                            key: k.clone(),
                            value: handle.encode_value(black_box(&value)).unwrap(),
                            ttl,
                        })
                        .collect();
                    store.set_many(&entries).await.unwrap();
                })
            },
            || {
                rt.block_on(async {
                    handle
                        .set_many(logical.iter().map(|k| (k, &value)))
                        .await
                        .unwrap();
                })
            },
        ),
    );
}

criterion_group!(cache_benches, benches, summary, typed_overhead);
criterion_main!(cache_benches);
