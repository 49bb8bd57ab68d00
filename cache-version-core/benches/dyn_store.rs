//! What [`DynStore`] (one boxed future per call) adds to a store call, next to the same call
//! on the concrete store in the same run:
//!
//! - `nop`: a store whose calls return at once, so the figure is the erasure alone;
//! - `memory`: `MemoryStore` `get` (a hit on a 1 KB value), `set` and a 10-key `get_many`.
//!
//! Each sample runs the calls in one `block_on` of a current-thread runtime, so the runtime's
//! own cost is not in the figures. Then the pairs are measured in alternating batches
//! (medians) and printed as `interleaved ...: +N ns/call (M%)`: the robust figure on a busy
//! machine.
//!
//! `cargo bench -p cache-version-core --bench dyn_store -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::{Duration, Instant};

use cache_version_core::{DynStore, MemoryStore, ScanCursor, ScanPage, Store, StoreError};
use criterion::{criterion_group, criterion_main, Criterion};

/// A store that does nothing: every call is ready at once.
#[derive(Clone)]
struct Nop;

impl Store for Nop {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(black_box(key).is_empty().then(Vec::new))
    }
    async fn get_with_ttl(
        &self,
        _key: &[u8],
    ) -> Result<Option<(Vec<u8>, Option<Duration>)>, StoreError> {
        Ok(None)
    }
    async fn set(&self, key: &[u8], _v: &[u8], _t: Option<Duration>) -> Result<(), StoreError> {
        black_box(key);
        Ok(())
    }
    async fn delete(&self, _key: &[u8]) -> Result<bool, StoreError> {
        Ok(false)
    }
    async fn scan_prefix(
        &self,
        _prefix: &[u8],
        _cursor: ScanCursor,
        _count: usize,
    ) -> Result<ScanPage, StoreError> {
        Ok(ScanPage::default())
    }
}

const KEY: &[u8] = b"bench:Profile:3f9a1c2b7d4e5f60:1234567";

fn keys() -> Vec<Vec<u8>> {
    (0..10)
        .map(|i| format!("bench:Profile:3f9a1c2b7d4e5f60:{i}").into_bytes())
        .collect()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

/// `$n` calls of `$op` (an expression on `$s`) in one `block_on` of `$rt`; the time per call.
macro_rules! per_call {
    ($rt:expr, $n:expr, $s:ident => $op:expr) => {{
        let n: u64 = $n;
        $rt.block_on(async {
            let t = Instant::now();
            for _ in 0..n {
                let $s = black_box(&$s);
                black_box($op.await).ok();
            }
            t.elapsed() / n as u32
        })
    }};
}

fn memory_store() -> MemoryStore {
    let s = MemoryStore::new();
    let rt = rt();
    rt.block_on(async {
        s.set(KEY, &[7u8; 1024], None).await.unwrap();
        for k in keys() {
            s.set(&k, &[7u8; 1024], None).await.unwrap();
        }
    });
    s
}

fn bench(c: &mut Criterion) {
    let rt = rt();
    let nop = Nop;
    let dyn_nop = DynStore::new(Nop);
    let mem = memory_store();
    let dyn_mem = DynStore::new(mem.clone());
    let ks = keys();
    let value = vec![7u8; 1024];

    let mut g = c.benchmark_group("dyn_store");
    macro_rules! pair {
        ($name:literal, $a:ident, $b:ident, $s:ident => $op:expr) => {
            g.bench_function(concat!($name, "/concrete"), |bench| {
                bench.iter_custom(|n| {
                    let $s = &$a;
                    per_call!(rt, n, $s => $op) * n as u32
                })
            });
            g.bench_function(concat!($name, "/dyn"), |bench| {
                bench.iter_custom(|n| {
                    let $s = &$b;
                    per_call!(rt, n, $s => $op) * n as u32
                })
            });
        };
    }
    pair!("nop_get", nop, dyn_nop, s => s.get(KEY));
    pair!("memory_get", mem, dyn_mem, s => s.get(KEY));
    pair!("memory_set", mem, dyn_mem, s => s.set(KEY, &value, None));
    pair!("memory_get_many_10", mem, dyn_mem, s => s.get_many(&ks));
    g.finish();

    // Interleaved: alternate batches of the two sides, medians of the per-call times.
    const N: u64 = 20_000;
    macro_rules! interleaved {
        ($name:literal, $n:expr, $a:ident, $b:ident, $s:ident => $op:expr) => {{
            let (mut xs, mut ys) = (Vec::new(), Vec::new());
            for _ in 0..41 {
                let $s = &$a;
                xs.push(per_call!(rt, $n, $s => $op));
                let $s = &$b;
                ys.push(per_call!(rt, $n, $s => $op));
            }
            xs.sort();
            ys.sort();
            let (x, y) = (xs[20], ys[20]);
            let extra = y.as_nanos() as f64 - x.as_nanos() as f64;
            println!(
                "interleaved {}: concrete {x:?}, dyn {y:?}: {extra:+.1} ns/call ({:+.1}%)",
                $name,
                100.0 * extra / x.as_nanos().max(1) as f64
            );
        }};
    }
    interleaved!("nop get", N, nop, dyn_nop, s => s.get(KEY));
    interleaved!("memory get", N, mem, dyn_mem, s => s.get(KEY));
    interleaved!("memory set", N, mem, dyn_mem, s => s.set(KEY, &value, None));
    interleaved!("memory get_many(10)", N / 10, mem, dyn_mem, s => s.get_many(&ks));
}

criterion_group!(benches, bench);
criterion_main!(benches);
