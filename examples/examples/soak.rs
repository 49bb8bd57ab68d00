//! A soak run: many workers, a mixed load, injected faults, and a check of every value read.
//!
//! ```text
//! cargo run --release --example soak
//! cargo run --release --example soak -- --duration-secs 300 --workers 16
//! cargo run --release --example soak -- --redis redis://127.0.0.1:6379
//! ```
//!
//! Options: `--redis URL` (without it, a redis-server of our own on 127.0.0.1 is started
//! through the test harness), `--duration-secs N` (60), `--workers N` (16), `--keys N` (1000
//! logical keys), `--fault-every-secs N` (10; 0 for no faults), `--namespace NS` (`soak`).
//!
//! Each worker runs, until the deadline, a 70/20/10 mix of `get`/`set`/`delete` on a random
//! logical key of a bounded key space, on one of two models that share the logical keys and
//! the model name (`Item`) but not the shape, so not the version: `Item` and `ItemV2`. Every
//! value written carries its logical key, its model, the writer's id, a sequence number unique
//! to the writer, and a checksum over all of them. Before a write, the writer records that
//! sequence number as the highest it has written for (model, key); a value read is right only
//! when its key and model are the ones read, its checksum holds, and its (writer, seq) was
//! written for that exact key and model (`seq <= ` the recorded maximum of that writer).
//!
//! Every `--fault-every-secs` (the first at half that) a fault is injected over a plain connection to the server,
//! alternately `CLIENT PAUSE 1500 ALL` (longer than the cache timeout) and
//! `CLIENT KILL TYPE normal` (every client connection dropped). The cache is fail-open (the
//! default), so faults become misses and skipped writes, counted as store errors.
//!
//! Prints a progress line every 5 s and, at the end, operations by kind, ops/s, the cache's
//! counters, errors returned, p50/p99/max latency per kind and the wrong values. Exits with
//! status 1 on any wrong value, decode error or version mismatch.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cache_version_core::{Cache, CacheError, CacheVersion, ModelHandle};
use cache_version_redis::RedisStore;
use cache_version_tests::restartable::Restarted;
use serde::{Deserialize, Serialize};

/// The TTL of every write (longer than any run).
const TTL: Duration = Duration::from_secs(3600);
/// The cap on latency samples kept per op kind (over all workers).
const MAX_SAMPLES: usize = 200_000;

// ---------------------------------------------------------------------------------------------
// The models: same name, same logical keys, different shapes (so different versions).

#[derive(Debug, Clone, Serialize, Deserialize, CacheVersion)]
struct Item {
    key: String,
    model: u8,
    writer: u32,
    seq: u64,
    payload: String,
    checksum: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, CacheVersion)]
#[cache_version(name = "Item")]
struct ItemV2 {
    key: String,
    model: u8,
    writer: u32,
    seq: u64,
    payload: String,
    /// The field that makes the shape, so the version, differ.
    tags: Vec<u32>,
    checksum: u64,
}

/// FNV-1a over the parts of a value.
fn checksum(key: &str, model: u8, writer: u32, seq: u64, payload: &str, tags: &[u32]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    eat(key.as_bytes());
    eat(&[model]);
    eat(&writer.to_le_bytes());
    eat(&seq.to_le_bytes());
    eat(payload.as_bytes());
    for t in tags {
        eat(&t.to_le_bytes());
    }
    h
}

/// What the checker needs of a value read.
trait Checked:
    Clone + CacheVersion + Serialize + serde::de::DeserializeOwned + Send + Sync + 'static
{
    const MODEL: u8;
    fn make(key: &str, writer: u32, seq: u64, payload: String) -> Self;
    /// `(key, model, writer, seq, checksum holds)`.
    fn parts(&self) -> (&str, u8, u32, u64, bool);
}

impl Checked for Item {
    const MODEL: u8 = 0;
    fn make(key: &str, writer: u32, seq: u64, payload: String) -> Self {
        let checksum = checksum(key, Self::MODEL, writer, seq, &payload, &[]);
        Item {
            key: key.to_owned(),
            model: Self::MODEL,
            writer,
            seq,
            payload,
            checksum,
        }
    }
    fn parts(&self) -> (&str, u8, u32, u64, bool) {
        let ok = self.checksum
            == checksum(
                &self.key,
                self.model,
                self.writer,
                self.seq,
                &self.payload,
                &[],
            );
        (&self.key, self.model, self.writer, self.seq, ok)
    }
}

impl Checked for ItemV2 {
    const MODEL: u8 = 1;
    fn make(key: &str, writer: u32, seq: u64, payload: String) -> Self {
        let tags = vec![writer, (seq % 997) as u32];
        let checksum = checksum(key, Self::MODEL, writer, seq, &payload, &tags);
        ItemV2 {
            key: key.to_owned(),
            model: Self::MODEL,
            writer,
            seq,
            payload,
            tags,
            checksum,
        }
    }
    fn parts(&self) -> (&str, u8, u32, u64, bool) {
        let ok = self.checksum
            == checksum(
                &self.key,
                self.model,
                self.writer,
                self.seq,
                &self.payload,
                &self.tags,
            );
        (&self.key, self.model, self.writer, self.seq, ok)
    }
}

// ---------------------------------------------------------------------------------------------
// Arguments.

struct Args {
    url: Option<String>,
    duration: Duration,
    workers: usize,
    keys: usize,
    fault_every: Duration,
    namespace: String,
}

fn args() -> Args {
    let mut a = Args {
        url: None,
        duration: Duration::from_secs(60),
        workers: 16,
        keys: 1000,
        fault_every: Duration::from_secs(10),
        namespace: "soak".to_owned(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--redis" => a.url = Some(value()),
            "--duration-secs" => {
                a.duration = Duration::from_secs(value().parse().expect("--duration-secs N"))
            }
            "--workers" => a.workers = value().parse().expect("--workers N"),
            "--keys" => a.keys = value().parse().expect("--keys N"),
            "--fault-every-secs" => {
                a.fault_every = Duration::from_secs(value().parse().expect("--fault-every-secs N"))
            }
            "--namespace" => a.namespace = value(),
            "--help" | "-h" => {
                println!(
                    "soak [--redis URL] [--duration-secs N] [--workers N] [--keys N] \
                     [--fault-every-secs N] [--namespace NS]"
                );
                std::process::exit(0);
            }
            other => panic!("unknown option {other}; see the file's header"),
        }
    }
    a.workers = a.workers.max(1);
    a.keys = a.keys.max(1);
    a
}

// ---------------------------------------------------------------------------------------------
// Shared state.

const GET: usize = 0;
const SET: usize = 1;
const DEL: usize = 2;
const KINDS: [&str; 3] = ["get", "set", "delete"];

struct Shared {
    workers: usize,
    keys: usize,
    /// `[model][key][writer]`: the highest sequence number the writer wrote (or is writing).
    written: Vec<AtomicU64>,
    ops: [AtomicU64; 3],
    hits: AtomicU64,
    wrong: AtomicU64,
    /// Errors returned by the cache API, by kind.
    errors: Mutex<BTreeMap<String, u64>>,
    /// The first few wrong values, for the report.
    wrong_samples: Mutex<Vec<String>>,
}

impl Shared {
    fn slot(&self, model: u8, key: usize, writer: u32) -> &AtomicU64 {
        &self.written[(usize::from(model) * self.keys + key) * self.workers + writer as usize]
    }
}

/// A per-worker xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Latency samples of one op kind in one worker: all until the cap, then reservoir sampling.
#[derive(Default)]
struct Samples {
    micros: Vec<u32>,
    seen: u64,
    max: u32,
}

impl Samples {
    fn add(&mut self, micros: u32, cap: usize, rng: &mut Rng) {
        self.seen += 1;
        self.max = self.max.max(micros);
        if self.micros.len() < cap {
            self.micros.push(micros);
        } else {
            let j = rng.next() % self.seen;
            if (j as usize) < cap {
                self.micros[j as usize] = micros;
            }
        }
    }
}

fn error_kind(e: &CacheError) -> &'static str {
    match e {
        CacheError::Store { .. } => "store",
        CacheError::Decode { .. } => "decode",
        _ => "other",
    }
}

fn record_error(shared: &Shared, kind: &str, e: &CacheError) {
    let name = format!("{kind}/{}", error_kind(e));
    *shared.errors.lock().unwrap().entry(name).or_default() += 1;
}

/// Checks a value read under `(T::MODEL, key)`.
fn check<T: Checked>(shared: &Shared, key_index: usize, key: &str, v: &T) {
    let (k, model, writer, seq, sum_ok) = v.parts();
    let ok = sum_ok
        && k == key
        && model == T::MODEL
        && (writer as usize) < shared.workers
        && seq > 0
        && seq <= shared.slot(model, key_index, writer).load(Relaxed);
    if !ok {
        shared.wrong.fetch_add(1, Relaxed);
        let mut samples = shared.wrong_samples.lock().unwrap();
        if samples.len() < 10 {
            samples.push(format!(
                "model {} key {key}: read key {k} model {model} writer {writer} seq {seq} \
                 checksum ok {sum_ok}",
                T::MODEL
            ));
        }
    }
}

/// One operation on model `T`; returns its kind.
async fn op<T: Checked, S: cache_version_core::Store>(
    h: &ModelHandle<T, S>,
    shared: &Shared,
    writer: u32,
    seq: &mut u64,
    rng: &mut Rng,
) -> usize {
    let key_index = rng.below(shared.keys);
    let key = format!("k{key_index}");
    let roll = rng.below(100);
    if roll < 70 {
        match h.get(&key).await {
            Ok(Some(v)) => {
                shared.hits.fetch_add(1, Relaxed);
                check(shared, key_index, &key, &v);
            }
            Ok(None) => {}
            Err(e) => record_error(shared, "get", &e),
        }
        GET
    } else if roll < 90 {
        *seq += 1;
        // Recorded before the write: a reader may see the value as soon as it is sent.
        shared
            .slot(T::MODEL, key_index, writer)
            .fetch_max(*seq, Relaxed);
        let payload = "x".repeat(16 + rng.below(240));
        let v = T::make(&key, writer, *seq, payload);
        if let Err(e) = h.set(&key, &v).await {
            record_error(shared, "set", &e);
        }
        SET
    } else {
        if let Err(e) = h.delete(&key).await {
            record_error(shared, "delete", &e);
        }
        DEL
    }
}

async fn worker(
    caches: [Cache<RedisStore>; 2],
    shared: Arc<Shared>,
    writer: u32,
    deadline: Instant,
) -> [Samples; 3] {
    // Two builds, each with its own cache (its own connection and live-version record).
    let v1 = caches[0].model::<Item>().with_default_ttl(Some(TTL));
    let v2 = caches[1].model::<ItemV2>().with_default_ttl(Some(TTL));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (u64::from(writer) + 1).wrapping_mul(0x2545_f491));
    let cap = MAX_SAMPLES / shared.workers;
    let mut samples: [Samples; 3] = Default::default();
    let mut seq = 0u64;
    while Instant::now() < deadline {
        let start = Instant::now();
        let kind = if rng.next() & 1 == 0 {
            op(&v1, &shared, writer, &mut seq, &mut rng).await
        } else {
            op(&v2, &shared, writer, &mut seq, &mut rng).await
        };
        let micros = u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX);
        samples[kind].add(micros, cap, &mut rng);
        shared.ops[kind].fetch_add(1, Relaxed);
        // While the circuit breaker is open an operation answers without awaiting anything:
        // let the fault and progress tasks run (a service awaits its own I/O anyway).
        if seq.is_multiple_of(64) || rng.next().is_multiple_of(64) {
            tokio::task::yield_now().await;
        }
    }
    samples
}

// ---------------------------------------------------------------------------------------------
// Faults, over a plain RESP connection (no client library needed for two commands).

/// `host:port` of a `redis://[user:pw@]host[:port][/db]` URL.
fn address(url: &str) -> String {
    let rest = url
        .strip_prefix("redis://")
        .or_else(|| url.strip_prefix("rediss://"))
        .unwrap_or(url);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let host = rest.split('/').next().unwrap_or(rest);
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:6379")
    }
}

/// Sends one command and returns the first reply line.
fn admin_cmd(addr: &str, args: &[&str]) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut req = format!("*{}\r\n", args.len());
    for a in args {
        req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    s.write_all(req.as_bytes())?;
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).trim().to_owned())
}

/// The server this program started (`None` with `--redis`): the fault task may restart it.
type OwnServer = Arc<Mutex<Option<(Restarted, std::path::PathBuf)>>>;

async fn faults(
    addr: String,
    every: Duration,
    deadline: Instant,
    log: Arc<Mutex<Vec<String>>>,
    own: OwnServer,
) {
    let t0 = Instant::now();
    let mut n = 0u32;
    // The first fault half a period in, then one a period: a 20 s run sees both kinds.
    let mut wait = every / 2;
    loop {
        tokio::time::sleep(wait).await;
        wait = every;
        // No fault in the last couple of seconds: the run should end healthy.
        if Instant::now() + Duration::from_secs(2) >= deadline {
            return;
        }
        // Pause, kill every connection, and (on a server of our own) a full restart.
        let restart = own.lock().unwrap().is_some() && n % 3 == 2;
        let args: &'static [&'static str] = if restart {
            &["restart the server (kill -9, start empty on the same port)"]
        } else if n.is_multiple_of(2) {
            &["CLIENT", "PAUSE", "1500", "ALL"]
        } else {
            &["CLIENT", "KILL", "TYPE", "normal"]
        };
        n += 1;
        let a = addr.clone();
        let own = own.clone();
        let reply = tokio::task::spawn_blocking(move || {
            if restart {
                let mut slot = own.lock().unwrap();
                let (old, dir) = slot.take().expect("our server");
                let port = old.port();
                drop(old); // kill -9 through its watchdog
                let t = Instant::now();
                let new = Restarted::start(port, &dir, &[]);
                *slot = Some((new, dir));
                Ok(format!("back in {:?}", t.elapsed()))
            } else {
                admin_cmd(&a, args)
            }
        })
        .await
        .expect("fault task");
        let line = format!(
            "[{:>5.1}s] fault: {} -> {}",
            t0.elapsed().as_secs_f64(),
            args.join(" "),
            match reply {
                Ok(r) => r,
                Err(e) => format!("error: {e}"),
            }
        );
        println!("{line}");
        log.lock().unwrap().push(line);
    }
}

// ---------------------------------------------------------------------------------------------

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(micros: u32) -> String {
    format!("{:.3} ms", f64::from(micros) / 1000.0)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args();
    // Without --redis, a server of our own on 127.0.0.1 (stopped when this program ends).
    let own: OwnServer = Arc::default();
    let url = match &a.url {
        Some(u) => u.clone(),
        None => {
            let port = cache_version_tests::restartable::unused_port();
            let dir = std::env::temp_dir().join(format!("cv-soak-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let server = Restarted::start(port, &dir, &[]);
            let url = server.url();
            println!("started redis-server on {url}");
            *own.lock().unwrap() = Some((server, dir));
            url
        }
    };
    let mut caches = Vec::new();
    for _ in 0..2 {
        let store = RedisStore::builder(url.clone())
            .connect_timeout(Duration::from_millis(500))
            .response_timeout(Duration::from_millis(500))
            .build()
            .await?;
        caches.push(
            Cache::builder(store)
                .namespace(a.namespace.clone())
                .default_ttl(TTL)
                .timeout(Duration::from_millis(300))
                .build()?,
        );
    }
    let caches: [Cache<RedisStore>; 2] = [caches.remove(0), caches.remove(0)];
    {
        let v1 = caches[0].model::<Item>();
        let v2 = caches[1].model::<ItemV2>();
        assert_ne!(v1.version(), v2.version(), "the two shapes share a version");
        println!(
            "soak: {} workers, {} s, {} keys x 2 models (Item {} / Item {}), faults every {} s, \
             namespace {:?}",
            a.workers,
            a.duration.as_secs(),
            a.keys,
            v1.key_version(),
            v2.key_version(),
            a.fault_every.as_secs(),
            a.namespace
        );
    }

    let shared = Arc::new(Shared {
        workers: a.workers,
        keys: a.keys,
        written: (0..2 * a.keys * a.workers)
            .map(|_| AtomicU64::new(0))
            .collect(),
        ops: Default::default(),
        hits: AtomicU64::new(0),
        wrong: AtomicU64::new(0),
        errors: Mutex::new(BTreeMap::new()),
        wrong_samples: Mutex::new(Vec::new()),
    });

    let start = Instant::now();
    let deadline = start + a.duration;
    let fault_log = Arc::new(Mutex::new(Vec::new()));
    let fault_task = (!a.fault_every.is_zero()).then(|| {
        tokio::spawn(faults(
            address(&url),
            a.fault_every,
            deadline,
            fault_log.clone(),
            own.clone(),
        ))
    });
    let progress = {
        let shared = shared.clone();
        let caches = caches.clone();
        tokio::spawn(async move {
            let mut last = 0u64;
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                let ops: Vec<u64> = shared.ops.iter().map(|o| o.load(Relaxed)).collect();
                let total: u64 = ops.iter().sum();
                let mut s = caches[0].stats().total();
                let t = caches[1].stats().total();
                s.hit += t.hit;
                s.miss += t.miss;
                s.store_error += t.store_error;
                s.decode_error += t.decode_error;
                s.version_mismatch += t.version_mismatch;
                println!(
                    "[{:>5.1}s] ops {total} (+{}/5s: {:.0}/s) get {} set {} delete {} | hit {} \
                     miss {} store_error {} decode_error {} version_mismatch {} | wrong {}",
                    start.elapsed().as_secs_f64(),
                    total - last,
                    (total - last) as f64 / 5.0,
                    ops[GET],
                    ops[SET],
                    ops[DEL],
                    s.hit,
                    s.miss,
                    s.store_error,
                    s.decode_error,
                    s.version_mismatch,
                    shared.wrong.load(Relaxed)
                );
                last = total;
            }
        })
    };

    let handles: Vec<_> = (0..a.workers)
        .map(|w| tokio::spawn(worker(caches.clone(), shared.clone(), w as u32, deadline)))
        .collect();
    let mut merged: [Vec<u32>; 3] = Default::default();
    let mut max = [0u32; 3];
    for h in handles {
        let samples = h.await?;
        for (k, s) in samples.into_iter().enumerate() {
            merged[k].extend(s.micros);
            max[k] = max[k].max(s.max);
        }
    }
    let elapsed = start.elapsed();
    progress.abort();
    if let Some(t) = fault_task {
        t.abort();
    }

    // The report.
    let ops: Vec<u64> = shared.ops.iter().map(|o| o.load(Relaxed)).collect();
    let total: u64 = ops.iter().sum();
    println!();
    println!("== soak report ==");
    println!(
        "duration {:.1} s, workers {}, keys {} x 2 models",
        elapsed.as_secs_f64(),
        a.workers,
        a.keys
    );
    println!(
        "operations: {total} total ({:.0} ops/s): get {}, set {}, delete {}",
        total as f64 / elapsed.as_secs_f64(),
        ops[GET],
        ops[SET],
        ops[DEL]
    );
    println!("faults injected: {}", fault_log.lock().unwrap().len());
    let mut snapshot = caches[0].stats();
    snapshot.models.extend(caches[1].stats().models);
    println!(
        "{:<8} {:<18} {:>10} {:>10} {:>12} {:>16} {:>12} {:>6}",
        "model",
        "version",
        "hit",
        "miss",
        "decode_error",
        "version_mismatch",
        "store_error",
        "load"
    );
    for m in &snapshot.models {
        let s = m.stats;
        println!(
            "{:<8} {:<18} {:>10} {:>10} {:>12} {:>16} {:>12} {:>6}",
            m.model,
            m.version,
            s.hit,
            s.miss,
            s.decode_error,
            s.version_mismatch,
            s.store_error,
            s.load
        );
    }
    let t = snapshot.total();
    println!(
        "{:<8} {:<18} {:>10} {:>10} {:>12} {:>16} {:>12} {:>6}",
        "total", "", t.hit, t.miss, t.decode_error, t.version_mismatch, t.store_error, t.load
    );
    let errors = shared.errors.lock().unwrap();
    if errors.is_empty() {
        println!("errors returned: none");
    } else {
        let list: Vec<String> = errors.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("errors returned: {}", list.join(", "));
    }
    println!(
        "{:<8} {:>10} {:>12} {:>12} {:>12}",
        "latency", "samples", "p50", "p99", "max"
    );
    for (k, samples) in merged.iter_mut().enumerate() {
        samples.sort_unstable();
        println!(
            "{:<8} {:>10} {:>12} {:>12} {:>12}",
            KINDS[k],
            samples.len(),
            ms(percentile(samples, 0.50)),
            ms(percentile(samples, 0.99)),
            ms(max[k])
        );
    }
    let wrong = shared.wrong.load(Relaxed);
    println!(
        "reads checked: {} hits, wrong values: {wrong}",
        shared.hits.load(Relaxed)
    );
    for w in shared.wrong_samples.lock().unwrap().iter() {
        println!("  wrong: {w}");
    }
    if wrong > 0 || t.decode_error > 0 || t.version_mismatch > 0 {
        println!("FAIL: wrong values, decode errors or version mismatches");
        std::process::exit(1);
    }
    println!("OK");
    Ok(())
}
