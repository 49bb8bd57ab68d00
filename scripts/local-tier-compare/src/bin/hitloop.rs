//! Hit latency, interleaved: each round times 200 000 `get`s of a hot set of 1000 keys
//! (1 KB models behind `Arc`) on each candidate in turn, so a noisy machine slows all alike;
//! prints the median and the minimum over rounds, in ns per hit of this thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`: time the thread was descheduled on a busy machine is not
//! counted).

use std::sync::Arc;
use std::time::{Duration, Instant};

use local_tier_compare::{key, Moka, QuickFold, QuickStd, Tier};

fn cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid pointer to a timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn main() {
    let rounds: usize = std::env::args().nth(1).map_or(31, |a| a.parse().unwrap());
    let set: usize = std::env::args().nth(2).map_or(1000, |a| a.parse().unwrap());
    let keys: Vec<Vec<u8>> = (0..set).map(key).collect();
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
    for (_, t) in &tiers {
        for (i, k) in keys.iter().enumerate() {
            t.insert(k, Arc::new(vec![i as u8; 1024]), 1100, far);
        }
        t.settle();
    }
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); tiers.len()];
    const OPS: usize = 200_000;
    for _ in 0..rounds {
        for (j, (_, t)) in tiers.iter().enumerate() {
            let start = cpu_ns();
            let mut sum = 0usize;
            let mut i = 0;
            for _ in 0..OPS {
                i = (i + 7919) % set;
                sum += t.get(&keys[i]).unwrap().downcast_ref::<Vec<u8>>().unwrap()[0] as usize;
            }
            std::hint::black_box(sum);
            per[j].push((cpu_ns() - start) as f64 / OPS as f64);
        }
    }
    // The clock that per-entry expiry reads on every hit.
    let start = cpu_ns();
    for _ in 0..OPS {
        std::hint::black_box(Instant::now());
    }
    println!(
        "Instant::now            {:6.1} ns",
        (cpu_ns() - start) as f64 / OPS as f64
    );
    for (j, (name, _)) in tiers.iter().enumerate() {
        let v = &mut per[j];
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "{name:24} median {:6.1} ns  min {:6.1} ns",
            v[v.len() / 2],
            v[0]
        );
    }
}
