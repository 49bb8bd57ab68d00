//! Invalidation latency: a write on one connection, the time until another store's
//! [`Watch`](cache_version_core::Watch) reports the key.
//!
//! ```text
//! cargo run --release -p cache-version-examples --example invalidation_latency               # starts its own redis-server
//! cargo run --release -p cache-version-examples --example invalidation_latency -- --redis redis://127.0.0.1:6379
//! cargo run --release -p cache-version-examples --example invalidation_latency -- --cluster  # a local 3-primary cluster
//! ```
//!
//! Two `RedisStore`s stand for two processes: `writer` sends `SET key value` (through its own
//! multiplexed connection), `reader` watches the prefix (its own tracking connection per
//! primary). A task takes each report off the watch and timestamps it; for each write the
//! figure is the time from just before the `SET` is sent to that timestamp (`report`), next
//! to the write's own round trip (`SET ack`). Writes go one at a time (each waits for its
//! report), `--writes N` of them (2000) after 200 not counted, over 100 keys. The same on a
//! `MemoryStore` (in process) for reference. Figures: p50, p90, p99, max in microseconds.
//!
//! A local tier drops the entry when its consumer of the watch applies the report, a few
//! hundred nanoseconds later (`cargo bench -p cache-version-core --bench local_tier`).

use std::time::{Duration, Instant};

use cache_version_core::{MemoryStore, Store, WatchEvent};
use cache_version_redis::RedisStore;
use cache_version_tests::redis_harness::{RedisCluster, RedisServer};
use tokio::sync::mpsc;

struct Args {
    redis: Option<String>,
    cluster: bool,
    writes: usize,
}

fn args() -> Args {
    let mut a = Args {
        redis: None,
        cluster: false,
        writes: 2000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--redis" => a.redis = it.next(),
            "--cluster" => a.cluster = true,
            "--writes" => a.writes = it.next().and_then(|n| n.parse().ok()).expect("--writes N"),
            other => panic!("unknown argument {other} (--redis URL, --cluster, --writes N)"),
        }
    }
    a
}

fn percentiles(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let at = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)].as_secs_f64() * 1e6;
    println!(
        "{name:28} p50 {:8.1}  p90 {:8.1}  p99 {:8.1}  max {:8.1}  (µs, {} writes)",
        at(0.5),
        at(0.9),
        at(0.99),
        v[v.len() - 1].as_secs_f64() * 1e6,
        v.len()
    );
}

/// Writes through `writer`, one at a time, and times each key's report on `reader`'s watch.
async fn measure<W: Store, R: Store>(label: &str, writer: &W, reader: &R, writes: usize) {
    let prefix = format!("lat{}:", std::process::id());
    let mut watch = reader
        .watch(prefix.as_bytes())
        .expect("the store can watch");
    match tokio::time::timeout(Duration::from_secs(10), watch.recv()).await {
        Ok(Some(WatchEvent::Established)) => {}
        other => panic!("not established: {other:?} ({:?})", watch.error()),
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<(Vec<u8>, Instant)>();
    let consumer = tokio::spawn(async move {
        while let Some(event) = watch.recv().await {
            let at = Instant::now();
            match event {
                WatchEvent::Invalidated(keys) => {
                    for k in keys {
                        let _ = tx.send((k, at));
                    }
                }
                other => eprintln!("{other:?} during the measurement"),
            }
        }
    });
    let warmup = 200;
    let mut report = Vec::with_capacity(writes);
    let mut ack = Vec::with_capacity(writes);
    for i in 0..warmup + writes {
        let key = format!("{prefix}{}", i % 100).into_bytes();
        let sent = Instant::now();
        writer.set(&key, b"value", None).await.expect("SET");
        let acked = sent.elapsed();
        let at = loop {
            let (k, at) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .expect("reported within 5 s")
                .expect("the watch runs");
            if k == key {
                break at;
            }
        };
        if i >= warmup {
            report.push(at.duration_since(sent));
            ack.push(acked);
        }
    }
    consumer.abort();
    percentiles(&format!("{label}: report"), report);
    percentiles(&format!("{label}: SET ack"), ack);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    let memory = MemoryStore::new();
    measure("MemoryStore", &memory, &memory.clone(), a.writes).await;
    if a.cluster {
        let cluster = RedisCluster::start(3);
        println!("started a 3-primary cluster on {:?}", cluster.urls());
        let writer = RedisStore::open_cluster(cluster.urls()).await.unwrap();
        let reader = RedisStore::open_cluster(cluster.urls()).await.unwrap();
        measure("cluster", &writer, &reader, a.writes).await;
        return;
    }
    let own;
    let url = match a.redis {
        Some(url) => url,
        None => {
            own = RedisServer::start();
            println!("started redis-server on {}", own.url());
            own.url()
        }
    };
    let writer = RedisStore::open(url.clone()).await.unwrap();
    let reader = RedisStore::open(url).await.unwrap();
    measure("Redis", &writer, &reader, a.writes).await;
}
