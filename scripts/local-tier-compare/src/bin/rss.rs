//! Memory per entry: RSS growth (from /proc/self/statm) while filling a tier with `n` entries
//! of 40-byte keys and `Arc<Vec<u8>>` values of a given size, each case in a fresh process.
//!
//! `rss` runs every case; `rss CASE SIZE N` runs one (what the parent starts).
//! Cases: `moka`, `quick` (quick_cache + foldhash), `payload` (the keys and values alone in a
//! `Vec`: what any tier must hold), `memstore` (a `MemoryStore` with a byte bound of
//! `SIZE`-byte values, see below).

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_version_core::{MemoryStore, Store};
use local_tier_compare::{key, Moka, QuickFold, Tier, Value};

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn value(size: usize, i: usize) -> Value {
    let mut v = vec![0u8; size];
    v[..8.min(size)].copy_from_slice(&i.to_le_bytes()[..8.min(size)]);
    Arc::new(v)
}

fn one(case: &str, size: usize, n: usize) {
    let far = Instant::now() + Duration::from_secs(3600);
    let keys: Vec<Vec<u8>> = (0..n).map(key).collect();
    let before = rss_bytes();
    let weight = (size + 40 + 64) as u32;
    let held: Box<dyn std::any::Any> = match case {
        "moka" | "quick" => {
            let tier: Box<dyn Tier> = if case == "moka" {
                Box::new(Moka::new(n as u64, u64::MAX / 2))
            } else {
                Box::new(QuickFold::new(n as u64, u64::MAX / 2))
            };
            for (i, k) in keys.iter().enumerate() {
                tier.insert(k, value(size, i), weight, far);
            }
            tier.settle();
            assert!(
                tier.len() >= n * 99 / 100,
                "{case}: {} of {n} kept",
                tier.len()
            );
            Box::new(tier)
        }
        "payload" => {
            let v: Vec<(Box<[u8]>, Value)> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| (k.as_slice().into(), value(size, i)))
                .collect();
            Box::new(v)
        }
        "memstore" => {
            // A 16 MiB byte bound, entries unbounded: how much memory the bound lets in.
            let store = MemoryStore::builder()
                .max_entries(usize::MAX)
                .max_bytes(16 << 20)
                .build();
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let payload = vec![7u8; size];
            rt.block_on(async {
                for k in &keys {
                    store.set(k, &payload, None).await.unwrap();
                }
            });
            println!(
                "memstore entries={} counted_bytes={}",
                store.len(),
                store.bytes()
            );
            Box::new(store)
        }
        other => panic!("unknown case {other}"),
    };
    let after = rss_bytes();
    drop(keys);
    let grown = after.saturating_sub(before);
    println!(
        "RESULT {case} size={size} n={n} rss_growth_mib={:.1} per_entry={:.0}",
        grown as f64 / (1 << 20) as f64,
        grown as f64 / n as f64
    );
    std::mem::forget(held);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 4 {
        one(&args[1], args[2].parse().unwrap(), args[3].parse().unwrap());
        return;
    }
    let me = std::env::current_exe().unwrap();
    let mut cases: Vec<(&str, usize, usize)> = Vec::new();
    for size in [16, 1024] {
        for n in [100_000, 1_000_000] {
            for case in ["payload", "moka", "quick"] {
                cases.push((case, size, n));
            }
        }
    }
    for n in [1_000_000, 2_000_000] {
        cases.push(("memstore", 16, n));
    }
    for (case, size, n) in cases {
        let out = Command::new(&me)
            .args([case, &size.to_string(), &n.to_string()])
            .output()
            .unwrap();
        print!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
    }
}
