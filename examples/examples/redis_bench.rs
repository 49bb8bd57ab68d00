//! Typed cache on `RedisStore` against raw `redis` commands, on one local server.
//!
//! ```text
//! cargo run --release -p cache-version-examples --example redis_bench -- --redis redis://127.0.0.1:6379
//! cargo run --release -p cache-version-examples --example redis_bench      # starts its own server
//! ```
//!
//! Both sides use a `redis::aio::ConnectionManager` to the same server and move the same
//! bytes: the typed side calls `ModelHandle::get`/`set`/`get_many`/`set_many` with a ~1 KB
//! model (encode, envelope, key building, timeouts, counters included); the raw side sends
//! `GET`/`SET … PX`/`MGET`/pipelined `SET`s of the bytes the typed side would write, under the
//! same keys. Two more columns tell the layers apart: `store` sends the encoded bytes through
//! `RedisStore` (this crate alone), `raw+json` adds the codec by hand to the raw commands
//! (`serde_json::from_slice`/`to_writer`: what an application without this library writes).
//! Rounds rotate which side goes first; the figures are medians over rounds, ratios are
//! medians of per-round ratios.
//!
//! A second table gives the CPU time per key operation of this process (the client, from
//! `CLOCK_PROCESS_CPUTIME_ID`) and of the server (`INFO cpu`), which says where the time goes:
//! `typed - raw` is what the codec and this library cost together, `typed - raw+json` what
//! this library costs on top of the codec. Throughput and CPU are loosely coupled in this
//! closed loop: a slower client lets more commands queue per write, so a side that does more
//! work can still send its commands in fewer system calls (the typed `set` often beats raw
//! `SET`). The machine's CPU steal during the run (from `/proc/stat`) is printed at the end:
//! compare ratios from one run, not absolute numbers.
//!
//! Options: `--redis URL`, `--rounds N` (7), `--ops N` per measurement (20000),
//! `--tasks N` concurrent tasks (16), `--batch N` keys per batch (100), `--codec
//! json|msgpack|postcard` (json), `--works get,set,get_many,set_many` to compare only some
//! operations, `--tables main,hot,live` to print only some of the tables (the main
//! comparison, the hot-key table, the live-versions table), `--pin` to bind this process to CPU 0 and the (local) server to CPU 1 (the
//! steadiest figures on a 2-core machine: no scheduler shuffling client and server threads
//! across cores; the client gets one core), `--only WORK:SIDE` to run one path alone for a
//! profiler
//! (`get`, `set`, `get_many`, `set_many` : `typed`, `store`, `raw`, `raw+codec`).
//!
//! The allocator matters at this grain: the figures above use the system allocator (glibc);
//! `LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2` (what redis-server ships with)
//! makes every side faster and the typed side's overhead steadier.
//!
//! `--cluster` measures instead how batches reach a local three-primary Redis Cluster
//! (started by the test harness): `ClusterWrites::PerSlot` (one pipeline per hash slot),
//! `ClusterWrites::PerKey` (one command per key) and `ClusterWrites::PerNode` (one pipeline
//! per primary), for keys spread over all slots and for keys sharing one hash tag.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_version_core::codec::{JsonCodec, MsgPackCodec, PostcardCodec};
use cache_version_core::envelope::HEADER_LEN;
use cache_version_core::{Cache, CacheVersion, Codec, ModelHandle, SetEntry, Store};
use cache_version_redis::redis::{self, aio::ConnectionManager};
use cache_version_redis::RedisStore;
use serde::{Deserialize, Serialize};

/// A model of about 1 KB as JSON.
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

/// The old build's `Profile` (same model name, another shape): the second live version of
/// the live-versions table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
#[cache_version(name = "Profile")]
struct ProfileV0 {
    id: u64,
    name: String,
}

fn profile(id: u64) -> Profile {
    Profile {
        id,
        name: format!("User Number {id}"),
        email: format!("user{id}@example.com"),
        bio: "lorem ipsum dolor sit amet ".repeat(24),
        tags: (0..12).map(|i| format!("tag-{i}")).collect(),
        scores: (0..40).map(|i| i * 37 % 1000).collect(),
        active: id.is_multiple_of(2),
    }
}

struct Args {
    url: Option<String>,
    cluster: bool,
    rounds: usize,
    ops: usize,
    tasks: usize,
    batch: usize,
    /// `--only WORK:SIDE` (for profiling one path, e.g. `get_many:typed`).
    only: Option<(Work, Side)>,
    /// `--codec json|msgpack|postcard`.
    codec: String,
    /// `--works get,set,…`: the operations to compare (all by default).
    works: Vec<Work>,
    /// `--pin`: this process on CPU 0, the server on CPU 1.
    pin: bool,
    /// `--tables main,hot,live`: the tables to print (all by default).
    tables: Vec<String>,
}

impl Args {
    /// Whether `--tables` asks for `table` (every table when it was not given).
    fn table(&self, table: &str) -> bool {
        self.tables.is_empty() || self.tables.iter().any(|t| t == table)
    }
}

fn args() -> Args {
    let mut a = Args {
        url: None,
        cluster: false,
        rounds: 7,
        ops: 20_000,
        tasks: 16,
        batch: 100,
        only: None,
        codec: "json".into(),
        works: Vec::new(),
        pin: false,
        tables: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--redis" => a.url = Some(value()),
            "--cluster" => a.cluster = true,
            "--pin" => a.pin = true,
            "--rounds" => a.rounds = value().parse().expect("--rounds N"),
            "--ops" => a.ops = value().parse().expect("--ops N"),
            "--tasks" => a.tasks = value().parse().expect("--tasks N"),
            "--batch" => a.batch = value().parse().expect("--batch N"),
            "--only" => a.only = Some(parse_only(&value())),
            "--codec" => a.codec = value(),
            "--tables" => {
                a.tables = value().split(',').map(str::to_string).collect();
                if let Some(t) = a
                    .tables
                    .iter()
                    .find(|t| !["main", "hot", "live"].contains(&t.as_str()))
                {
                    panic!("--tables {t}: main, hot or live");
                }
            }
            "--works" => {
                a.works = value()
                    .split(',')
                    .map(|w| parse_only(&format!("{w}:typed")).0)
                    .collect()
            }
            other => panic!("unknown option {other}; see the file's header"),
        }
    }
    a.tasks = a.tasks.max(1);
    if a.pin && std::thread::available_parallelism().map_or(0, |n| n.get()) < 2 {
        panic!("--pin needs two CPUs");
    }
    a.batch = a.batch.clamp(1, KEYS as usize);
    a
}

fn parse_only(spec: &str) -> (Work, Side) {
    let (w, s) = spec.split_once(':').unwrap_or((spec, "typed"));
    let work = match w {
        "get" => Work::Get,
        "set" => Work::Set,
        "get_many" => Work::GetMany,
        "set_many" => Work::SetMany,
        other => panic!("--only: unknown operation {other} (get, set, get_many, set_many)"),
    };
    let side = match s {
        "typed" => Side::Typed,
        "store" => Side::Store,
        "raw" => Side::Raw,
        "raw+codec" | "raw+json" => Side::RawCodec,
        other => panic!("--only: unknown side {other} (typed, store, raw, raw+codec)"),
    };
    (work, side)
}

/// CPU time counters of `/proc/stat` (user+nice, system, idle+iowait, steal, total).
#[derive(Clone, Copy, Default)]
struct Cpu {
    user: u64,
    system: u64,
    idle: u64,
    steal: u64,
    total: u64,
}

fn cpu() -> Option<Cpu> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let get = |i: usize| v.get(i).copied().unwrap_or(0);
    Some(Cpu {
        user: get(0) + get(1),
        system: get(2) + get(5) + get(6),
        idle: get(3) + get(4),
        steal: get(7),
        total: v.iter().take(8).sum(),
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Work {
    Get,
    Set,
    GetMany,
    SetMany,
}

impl Work {
    const ALL: [Work; 4] = [Work::Get, Work::Set, Work::GetMany, Work::SetMany];

    fn label(self, batch: usize) -> String {
        match self {
            Work::Get => "get (1 key)".into(),
            Work::Set => "set (1 key)".into(),
            Work::GetMany => format!("get_many ({batch} keys) / MGET"),
            Work::SetMany => format!("set_many ({batch} keys) / pipelined SET"),
        }
    }
}

/// Who sends the operations.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    /// The typed cache (`ModelHandle`) on `RedisStore`: codec, envelope, keys, counters.
    Typed,
    /// `RedisStore` through the `Store` trait, with the encoded bytes: this crate alone.
    Store,
    /// Raw `redis` commands on a `ConnectionManager`.
    Raw,
    /// Raw commands plus the codec by hand (what an application without this library
    /// would write; `serde_json` by default): decode after `GET`/`MGET`, encode before `SET`.
    RawCodec,
}

const KEYS: u64 = 1000;
const TTL: Duration = Duration::from_secs(600);

/// One key: logical key, full key, the stored (enveloped) bytes, the model.
type Row = (String, Vec<u8>, Vec<u8>, Profile);

struct Bench<C: Codec> {
    users: ModelHandle<Profile, RedisStore, C>,
    /// The codec, for the raw+codec side (the codec crate's own call: `serde_json::from_slice`,
    /// `postcard::from_bytes`, …).
    codec: C,
    store: RedisStore,
    raw: ConnectionManager,
    /// `(logical key, full key, encoded value, model)` per key.
    data: Arc<Vec<Row>>,
    /// The same as store entries and full keys, so batches are slices (no copies).
    entries: Arc<Vec<SetEntry>>,
    full_keys: Arc<Vec<Vec<u8>>>,
    batch: usize,
}

/// One measurement: throughput, and CPU time per key operation of this process (the client)
/// and of the server.
#[derive(Clone, Copy, Default)]
struct Measure {
    ops_per_sec: f64,
    client_ns: f64,
    server_ns: f64,
}

/// CPU time of this process, all threads (`CLOCK_PROCESS_CPUTIME_ID`), in nanoseconds.
fn process_cpu_ns() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant of the platform.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}

/// Commands the server has processed (`INFO stats`).
async fn server_commands(conn: &mut ConnectionManager) -> f64 {
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(conn)
        .await
        .expect("INFO stats");
    info.lines()
        .find_map(|l| l.strip_prefix("total_commands_processed:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// CPU time the server has used (`INFO cpu`: user + system), in nanoseconds.
async fn server_cpu_ns(conn: &mut ConnectionManager) -> f64 {
    let info: String = redis::cmd("INFO")
        .arg("cpu")
        .query_async(conn)
        .await
        .expect("INFO cpu");
    info.lines()
        .filter_map(|l| {
            l.strip_prefix("used_cpu_sys:")
                .or_else(|| l.strip_prefix("used_cpu_user:"))
        })
        .filter_map(|v| v.trim().parse::<f64>().ok())
        .sum::<f64>()
        * 1e9
}

impl<C: Codec + Clone> Bench<C> {
    /// Runs `ops` key operations of `work` on `tasks` tasks and measures them.
    async fn run(&self, work: Work, side: Side, ops: usize, tasks: usize) -> Measure {
        let mut info = self.raw.clone();
        let server_before = server_cpu_ns(&mut info).await;
        let client_before = process_cpu_ns();
        let per_call = match work {
            Work::Get | Work::Set => 1,
            Work::GetMany | Work::SetMany => self.batch,
        };
        let calls_per_task = (ops / per_call / tasks).max(1);
        let start = Instant::now();
        let mut handles = Vec::with_capacity(tasks);
        for t in 0..tasks {
            let users = self.users.clone();
            let codec = self.codec.clone();
            let store = self.store.clone();
            let mut raw = self.raw.clone();
            let data = self.data.clone();
            let entries = self.entries.clone();
            let full_keys = self.full_keys.clone();
            let batch = self.batch;
            handles.push(tokio::spawn(async move {
                let n = data.len();
                for c in 0..calls_per_task {
                    // Batches are contiguous windows of the keys (no wrap-around).
                    let base = (t * 7919 + c * per_call) % (n - per_call + 1);
                    match (work, side) {
                        (Work::Get, Side::Typed) => {
                            let v = users.get(&data[base].0).await.unwrap();
                            assert!(v.is_some());
                        }
                        (Work::Get, Side::Store) => {
                            let v = store.get(&data[base].1).await.unwrap();
                            assert!(v.is_some());
                        }
                        (Work::Get, Side::RawCodec) => {
                            let v: Option<Vec<u8>> = redis::cmd("GET")
                                .arg(&data[base].1)
                                .query_async(&mut raw)
                                .await
                                .unwrap();
                            let p: Profile = codec.decode(&v.unwrap()[HEADER_LEN..]).unwrap();
                            std::hint::black_box(p);
                        }
                        (Work::Get, Side::Raw) => {
                            let v: Option<Vec<u8>> = redis::cmd("GET")
                                .arg(&data[base].1)
                                .query_async(&mut raw)
                                .await
                                .unwrap();
                            assert!(v.is_some());
                        }
                        (Work::Set, Side::Typed) => {
                            users.set(&data[base].0, &data[base].3).await.unwrap();
                        }
                        (Work::Set, Side::Store) => {
                            let (_, key, value, _) = &data[base];
                            store.set(key, value, Some(TTL)).await.unwrap();
                        }
                        (Work::Set, Side::RawCodec) => {
                            let (_, key, stored, p) = &data[base];
                            let mut value = stored[..HEADER_LEN].to_vec();
                            codec.encode(p, &mut value).unwrap();
                            redis::cmd("SET")
                                .arg(key)
                                .arg(value)
                                .arg("PX")
                                .arg(TTL.as_millis() as u64)
                                .query_async::<()>(&mut raw)
                                .await
                                .unwrap();
                        }
                        (Work::Set, Side::Raw) => {
                            let (_, key, value, _) = &data[base];
                            redis::cmd("SET")
                                .arg(key)
                                .arg(value)
                                .arg("PX")
                                .arg(TTL.as_millis() as u64)
                                .query_async::<()>(&mut raw)
                                .await
                                .unwrap();
                        }
                        (Work::GetMany, Side::Typed) => {
                            let keys: Vec<&str> =
                                (0..batch).map(|i| data[base + i].0.as_str()).collect();
                            let v = users.get_many(&keys).await.unwrap();
                            assert!(v.iter().all(Option::is_some));
                        }
                        (Work::GetMany, Side::Store) => {
                            let v = store
                                .get_many(&full_keys[base..base + batch])
                                .await
                                .unwrap();
                            assert!(v.iter().all(Option::is_some));
                        }
                        (Work::GetMany, Side::RawCodec) => {
                            let mut cmd = redis::cmd("MGET");
                            for i in 0..batch {
                                cmd.arg(&data[base + i].1);
                            }
                            let v: Vec<Option<Vec<u8>>> = cmd.query_async(&mut raw).await.unwrap();
                            let ps: Vec<Profile> = v
                                .iter()
                                .map(|b| codec.decode(&b.as_ref().unwrap()[HEADER_LEN..]).unwrap())
                                .collect();
                            std::hint::black_box(ps);
                        }
                        (Work::GetMany, Side::Raw) => {
                            let mut cmd = redis::cmd("MGET");
                            for i in 0..batch {
                                cmd.arg(&data[base + i].1);
                            }
                            let v: Vec<Option<Vec<u8>>> = cmd.query_async(&mut raw).await.unwrap();
                            assert!(v.iter().all(Option::is_some));
                        }
                        (Work::SetMany, Side::Typed) => {
                            users
                                .set_many((0..batch).map(|i| {
                                    let d = &data[base + i];
                                    (d.0.as_str(), &d.3)
                                }))
                                .await
                                .unwrap();
                        }
                        (Work::SetMany, Side::Store) => {
                            store.set_many(&entries[base..base + batch]).await.unwrap();
                        }
                        (Work::SetMany, Side::RawCodec) => {
                            let mut pipe = redis::pipe();
                            for i in 0..batch {
                                let (_, key, stored, p) = &data[base + i];
                                let mut value = stored[..HEADER_LEN].to_vec();
                                codec.encode(p, &mut value).unwrap();
                                pipe.cmd("SET")
                                    .arg(key)
                                    .arg(value)
                                    .arg("PX")
                                    .arg(TTL.as_millis() as u64)
                                    .ignore();
                            }
                            pipe.query_async::<()>(&mut raw).await.unwrap();
                        }
                        (Work::SetMany, Side::Raw) => {
                            let mut pipe = redis::pipe();
                            for i in 0..batch {
                                let (_, key, value, _) = &data[base + i];
                                pipe.cmd("SET")
                                    .arg(key)
                                    .arg(value)
                                    .arg("PX")
                                    .arg(TTL.as_millis() as u64)
                                    .ignore();
                            }
                            pipe.query_async::<()>(&mut raw).await.unwrap();
                        }
                    }
                }
            }));
        }
        for h in handles {
            h.await.expect("bench task");
        }
        let elapsed = start.elapsed().as_secs_f64();
        let client = process_cpu_ns() - client_before;
        let server = server_cpu_ns(&mut info).await - server_before;
        let n = (calls_per_task * tasks * per_call) as f64;
        Measure {
            ops_per_sec: n / elapsed,
            client_ns: client / n,
            server_ns: server / n,
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args();
    if a.pin {
        // Before the runtime starts, so its worker threads inherit the mask.
        pin(0, 0).map_err(|e| format!("--pin: this process to CPU 0: {e}"))?;
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run(a))
}

/// Binds process `pid` (0: this one) to one CPU.
fn pin(pid: libc::pid_t, cpu: usize) -> std::io::Result<()> {
    // SAFETY: `set` is a zeroed, valid cpu_set_t; CPU_SET writes inside it (cpu is below
    // CPU_SETSIZE, checked by the caller's CPU count); sched_setaffinity reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

async fn run(a: Args) -> Result<(), Box<dyn std::error::Error>> {
    if a.cluster {
        return cluster_writes(&a).await;
    }
    // Without --redis, a server of our own (stopped when this program ends).
    let own_server;
    let url = match &a.url {
        Some(u) => u.clone(),
        None => {
            own_server = cache_version_tests::redis_harness::RedisServer::start();
            println!("started redis-server on {}", own_server.url());
            own_server.url()
        }
    };
    match a.codec.as_str() {
        "json" => standalone(&a, &url, JsonCodec).await,
        "msgpack" => standalone(&a, &url, MsgPackCodec).await,
        "postcard" => standalone(&a, &url, PostcardCodec).await,
        other => Err(format!("--codec {other}: json, msgpack or postcard").into()),
    }
}

/// The typed/store/raw/raw+codec comparison on one standalone server.
async fn standalone<C: Codec + Clone>(
    a: &Args,
    url: &str,
    codec: C,
) -> Result<(), Box<dyn std::error::Error>> {
    // One timer per call on both sides, as a service would configure it: the raw
    // ConnectionManager times each request itself (redis-rs' default response timeout), and
    // the store's bound (2 x 2 s, an attempt and a retry) is within the cache's 5 s timeout,
    // so the cache relies on it (`Store::call_bound`) instead of adding a second timer.
    let store = RedisStore::builder(url)
        .response_timeout(Duration::from_secs(2))
        .build()
        .await?;
    let cache = Cache::builder(store.clone())
        .codec(codec.clone())
        .namespace("bench")
        .default_ttl(TTL)
        .ttl_jitter(0.0)
        .timeout(Duration::from_secs(5))
        .build()?;
    let users = cache.model::<Profile>();
    let mut raw = ConnectionManager::new(redis::Client::open(url)?).await?;
    if a.pin {
        // The server on the other CPU (it must run on this machine).
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query_async(&mut raw)
            .await?;
        let pid: libc::pid_t = info
            .lines()
            .find_map(|l| l.strip_prefix("process_id:"))
            .and_then(|v| v.trim().parse().ok())
            .ok_or("--pin: no process_id in INFO server")?;
        pin(pid, 1).map_err(|e| format!("--pin: redis-server (pid {pid}) to CPU 1: {e}"))?;
        println!("pinned: this process to CPU 0, redis-server (pid {pid}) to CPU 1");
    }
    let data: Vec<Row> = (0..KEYS)
        .map(|i| {
            let logical = format!("p{i}");
            let p = profile(i);
            let key = users.key(&logical).expect("key");
            let value = users.encode_value(&p).expect("encode");
            (logical, key, value, p)
        })
        .collect();
    let payload_len = data[0].2.len() - HEADER_LEN;
    println!(
        "model: {payload_len} bytes of {}, {} bytes stored with the envelope; {} keys; {} tasks; \
         {} key operations per measurement; {} rounds",
        C::NAME,
        data[0].2.len(),
        KEYS,
        a.tasks,
        a.ops,
        a.rounds
    );
    let entries = data
        .iter()
        .map(|(_, key, value, _)| SetEntry {
            key: key.clone(),
            value: value.clone(),
            ttl: Some(TTL),
        })
        .collect();
    let full_keys = data.iter().map(|d| d.1.clone()).collect();
    let bench = Bench {
        users,
        codec,
        store,
        entries: Arc::new(entries),
        full_keys: Arc::new(full_keys),
        raw,
        data: Arc::new(data),
        batch: a.batch,
    };
    if let Some((work, side)) = a.only {
        // One path only, for a profiler: no comparison, no ratios.
        bench
            .run(Work::SetMany, Side::Store, KEYS as usize, 1)
            .await;
        let mut figures = Vec::new();
        for _ in 0..a.rounds {
            figures.push(bench.run(work, side, a.ops, a.tasks).await);
        }
        let m = |f: fn(&Measure) -> f64| median(figures.iter().map(f).collect());
        println!(
            "{} on {side:?}: {:.0} key ops/s, client {:.2} µs, server {:.2} µs of CPU per key op \
             (medians of {} rounds)",
            work.label(a.batch),
            m(|x| x.ops_per_sec),
            m(|x| x.client_ns) / 1000.0,
            m(|x| x.server_ns) / 1000.0,
            a.rounds
        );
        return Ok(());
    }
    if a.table("main") {
        main_table(a, &bench).await;
    }
    if a.table("hot") {
        hot_key(a, url, bench.codec.clone()).await?;
    }
    if a.table("live") {
        live_versions(a, url, bench.codec.clone()).await?;
    }
    Ok(())
}

/// The main table: every operation on every side, then the CPU per operation and the codec
/// alone.
async fn main_table<C: Codec + Clone>(a: &Args, bench: &Bench<C>) {
    // Populate and warm up every path.
    for side in [Side::Typed, Side::Store, Side::Raw, Side::RawCodec] {
        bench.run(Work::SetMany, side, KEYS as usize, 1).await;
        bench.run(Work::Get, side, 2000, a.tasks).await;
    }

    let before = cpu();
    let started = Instant::now();
    // results[work][side]: key ops/s per round.
    let works: Vec<Work> = Work::ALL
        .into_iter()
        .filter(|w| a.works.is_empty() || a.works.contains(w))
        .collect();
    let mut results = vec![[vec![], vec![], vec![], vec![]]; works.len()];
    let sides = [Side::Typed, Side::Store, Side::Raw, Side::RawCodec];
    for round in 0..a.rounds {
        for (w, work) in works.iter().enumerate() {
            // Rotate which side goes first.
            for k in 0..sides.len() {
                let i = (round + k) % sides.len();
                let r = bench.run(*work, sides[i], a.ops, a.tasks).await;
                results[w][i].push(r);
            }
        }
        eprint!("round {}/{} done\r", round + 1, a.rounds);
    }
    let elapsed = started.elapsed();
    let after = cpu();
    eprintln!();

    println!(
        "\n{:<38} {:>9} {:>9} {:>9} {:>9} | {:>10} {:>10} {:>10}",
        "key ops/s, median of rounds",
        "typed",
        "store",
        "raw",
        format!("raw+{}", C::NAME),
        "typed/raw",
        "store/raw",
        "typed/r+c"
    );
    for (w, work) in works.iter().enumerate() {
        let tput = |side: usize| -> Vec<f64> {
            results[w][side]
                .iter()
                .map(|m: &Measure| m.ops_per_sec)
                .collect()
        };
        let [typed, store, raw, raw_json] = [0, 1, 2, 3].map(tput);
        let m = |v: &Vec<f64>| median(v.clone());
        // The ratio per round (same conditions), then its median and range.
        let per_round = |side: &Vec<f64>, base: &Vec<f64>| -> (f64, f64, f64) {
            let r: Vec<f64> = side.iter().zip(base).map(|(x, y)| x / y).collect();
            let lo = r.iter().copied().fold(f64::MAX, f64::min);
            let hi = r.iter().copied().fold(f64::MIN, f64::max);
            (median(r), lo, hi)
        };
        let ratios = [
            per_round(&typed, &raw),
            per_round(&store, &raw),
            per_round(&typed, &raw_json),
        ];
        println!(
            "{:<38} {:>9.0} {:>9.0} {:>9.0} {:>9.0} | {:>10} {:>10} {:>10}",
            work.label(a.batch),
            m(&typed),
            m(&store),
            m(&raw),
            m(&raw_json),
            format!("{:.3}", ratios[0].0),
            format!("{:.3}", ratios[1].0),
            format!("{:.3}", ratios[2].0),
        );
        println!(
            "{:<38} {:>9} {:>9} {:>9} {:>9} | {:>10} {:>10} {:>10}",
            "  (range of per-round ratios)",
            "",
            "",
            "",
            "",
            format!("{:.2}-{:.2}", ratios[0].1, ratios[0].2),
            format!("{:.2}-{:.2}", ratios[1].1, ratios[1].2),
            format!("{:.2}-{:.2}", ratios[2].1, ratios[2].2),
        );
    }

    // CPU time per key operation: steadier than throughput on a shared machine, and it says
    // where the time goes (this process = the client side; the server's from INFO cpu).
    println!(
        "\n{:<38} {:>9} {:>9} {:>9} {:>9} | {:>10} {:>10}",
        "CPU µs per key op, median of rounds",
        "typed",
        "store",
        "raw",
        format!("raw+{}", C::NAME),
        "typed-raw",
        "typed-r+c"
    );
    for (w, work) in works.iter().enumerate() {
        let us = |side: usize, f: fn(&Measure) -> f64| -> f64 {
            median(results[w][side].iter().map(f).collect()) / 1000.0
        };
        let client = [0, 1, 2, 3].map(|s| us(s, |m| m.client_ns));
        let server = [0, 1, 2, 3].map(|s| us(s, |m| m.server_ns));
        println!(
            "{:<38} {:>9.2} {:>9.2} {:>9.2} {:>9.2} | {:>+10.2} {:>+10.2}",
            format!("{} client", work.label(a.batch)),
            client[0],
            client[1],
            client[2],
            client[3],
            client[0] - client[2],
            client[0] - client[3],
        );
        println!(
            "{:<38} {:>9.2} {:>9.2} {:>9.2} {:>9.2} |",
            "  server", server[0], server[1], server[2], server[3],
        );
    }
    // Where the typed side's extra time goes: the codec and envelope alone, one thread.
    let (p, bytes) = (&bench.data[0].3, &bench.data[0].2);
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(bench.users.encode_value(std::hint::black_box(p)).unwrap());
    }
    let enc = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(
            bench
                .users
                .decode_value(std::hint::black_box(bytes))
                .unwrap(),
        );
    }
    let dec = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!(
        "\ncodec + envelope alone (one thread): encode_value {enc:.2} µs, decode_value {dec:.2} µs \
         per {}-byte value",
        bytes.len()
    );
    if let (Some(b), Some(e)) = (before, after) {
        let total = (e.total - b.total).max(1) as f64;
        let pct = |x: u64| 100.0 * x as f64 / total;
        println!(
            "\nCPU during the {:.1} s run (all cores, /proc/stat): user {:.1}%, system {:.1}%, \
             idle {:.1}%, steal {:.1}%",
            elapsed.as_secs_f64(),
            pct(e.user - b.user),
            pct(e.system - b.system),
            pct(e.idle - b.idle),
            pct(e.steal - b.steal)
        );
    }
}

/// Runs `ops` operations over `tasks` spawned tasks: `task(t, n)` is task `t`'s future,
/// which does `n` operations (its state is set up once, outside the timed loop's
/// operations); key ops/s.
async fn throughput<F, Fut>(tasks: usize, ops: usize, task: F) -> f64
where
    F: Fn(usize, usize) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let per_task = (ops / tasks).max(1);
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| tokio::spawn(task(t, per_task)))
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    (per_task * tasks) as f64 / start.elapsed().as_secs_f64()
}

/// A cache on its own `RedisStore` with the bench's settings (TTL, no jitter, 5 s timeout),
/// in namespace `ns`, with `more` settings.
async fn bench_cache<C: Codec + Clone>(
    url: &str,
    codec: C,
    ns: &str,
    more: impl FnOnce(
        cache_version_core::CacheBuilder<RedisStore, C>,
    ) -> cache_version_core::CacheBuilder<RedisStore, C>,
) -> Result<Cache<RedisStore, C>, Box<dyn std::error::Error>> {
    let store = RedisStore::builder(url)
        .response_timeout(Duration::from_secs(2))
        .build()
        .await?;
    let builder = Cache::builder(store)
        .codec(codec)
        .namespace(ns)
        .default_ttl(TTL)
        .ttl_jitter(0.0)
        .timeout(Duration::from_secs(5));
    Ok(more(builder).build()?)
}

/// The hot-key table: one key read by every task, by a typed `get` (and `get_shared`) through
/// a cache with a local tier, against raw `GET` of the same bytes on a `ConnectionManager`
/// (the same connection kind the cache's store uses). Interleaved rounds, medians; the goal
/// is a typed `get` at least 20x raw `GET`.
async fn hot_key<C: Codec + Clone>(
    a: &Args,
    url: &str,
    codec: C,
) -> Result<(), Box<dyn std::error::Error>> {
    let cache = bench_cache(url, codec, "bench-hot", |b| {
        b.local_tier(cache_version_core::LocalConfig::default())
    })
    .await?;
    let users = cache.model::<Profile>();
    let started = Instant::now();
    while !cache.local_stats().is_some_and(|s| s.usable) {
        if started.elapsed() > Duration::from_secs(10) {
            return Err("the local tier's tracking connection did not come up".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let hot = profile(1);
    users.set("hot", &hot).await?;
    let full = users.key("hot")?;
    let raw = ConnectionManager::new(redis::Client::open(url)?).await?;
    // Fill the tier.
    for _ in 0..10 {
        users.get("hot").await?;
    }
    #[derive(Clone, Copy)]
    enum Hot {
        Typed,
        Shared,
        Raw,
        Clone,
    }
    // What `get` must do beyond `get_shared`: clone the model (here 16 allocations) out of
    // the one shared copy, and the caller drops it.
    let shared_copy = Arc::new(hot.clone());
    let run = |side: Hot, ops: usize| {
        let users = users.clone();
        let raw = raw.clone();
        let full = full.clone();
        let shared_copy = shared_copy.clone();
        throughput(a.tasks, ops, move |_, n| {
            let users = users.clone();
            let mut raw = raw.clone();
            let full = full.clone();
            let shared_copy = shared_copy.clone();
            async move {
                for _ in 0..n {
                    match side {
                        Hot::Clone => {
                            std::hint::black_box(Profile::clone(std::hint::black_box(
                                &shared_copy,
                            )));
                        }
                        Hot::Typed => {
                            std::hint::black_box(users.get("hot").await.unwrap().unwrap());
                        }
                        Hot::Shared => {
                            std::hint::black_box(users.get_shared("hot").await.unwrap());
                        }
                        Hot::Raw => {
                            let v: Option<Vec<u8>> = redis::cmd("GET")
                                .arg(&full)
                                .query_async(&mut raw)
                                .await
                                .unwrap();
                            std::hint::black_box(v.unwrap());
                        }
                    }
                }
            }
        })
    };
    let local_before = users.stats().local_hit;
    let sides = [Hot::Typed, Hot::Shared, Hot::Raw, Hot::Clone];
    let mut figures: [Vec<f64>; 4] = [vec![], vec![], vec![], vec![]];
    let mut typed_ratios = Vec::new();
    let mut shared_ratios = Vec::new();
    for round in 0..a.rounds {
        let mut this = [0.0; 4];
        for k in 0..sides.len() {
            let i = (round + k) % sides.len();
            // The local sides do 20x the operations (a raw-sized count would end in
            // microseconds).
            let ops = if matches!(sides[i], Hot::Raw) {
                a.ops
            } else {
                a.ops * 20
            };
            this[i] = run(sides[i], ops).await;
            figures[i].push(this[i]);
        }
        typed_ratios.push(this[0] / this[2]);
        shared_ratios.push(this[1] / this[2]);
    }
    let local = users.stats().local_hit - local_before;
    let [typed, shared, raw_gets, clones] = figures.map(median);
    // Per operation, on both cores: a typed get is about get_shared plus the clone.
    let ns = |ops_per_s: f64| 1e9 / ops_per_s;
    println!(
        "\nhot key (one key, {} tasks), key ops/s, median of {} rounds: typed get with the local \
         tier {typed:.0}, get_shared {shared:.0}, raw GET {raw_gets:.0}; typed/raw {:.1}x (median \
         of per-round ratios; goal 20x), get_shared/raw {:.1}x; the model's clone and drop alone \
         {clones:.0}/s: wall ns per op typed {:.0} = get_shared {:.0} + clone {:.0} + {:.0}; \
         {local} local hits, local tier {:?}",
        a.tasks,
        a.rounds,
        median(typed_ratios),
        median(shared_ratios),
        ns(typed),
        ns(shared),
        ns(clones),
        ns(typed) - ns(shared) - ns(clones),
        cache.local_stats().expect("a local tier"),
    );
    Ok(())
}

/// The cost of a second live version: typed `set` and `delete` in a namespace where this
/// build's version is the only live one, against one where another build's version of the
/// model is live too (so every write and delete also deletes the key under it, in the same
/// pipeline). Interleaved rounds, medians; also the server's CPU per operation.
async fn live_versions<C: Codec + Clone>(
    a: &Args,
    url: &str,
    codec: C,
) -> Result<(), Box<dyn std::error::Error>> {
    let beat = Duration::from_millis(100);
    let cache_in =
        |ns: &'static str| bench_cache(url, codec.clone(), ns, move |b| b.heartbeat(beat));
    let alone = cache_in("bench-live-1").await?.model::<Profile>();
    let shared = cache_in("bench-live-2").await?.model::<Profile>();
    let old_build = cache_in("bench-live-2").await?;
    let old = old_build.model::<ProfileV0>();
    old.get("join").await?;
    alone.get("join").await?;
    shared.get("join").await?;
    // Past the young window, and the shared namespace's view holds both versions.
    tokio::time::sleep(beat * 4).await;
    let live = shared.live_versions().await?;
    if live.iter().filter(|l| l.live).count() != 2 {
        return Err(format!("expected two live versions, got {live:?}").into());
    }
    let mut info = ConnectionManager::new(redis::Client::open(url)?).await?;
    let value = profile(7);
    let run = |h: ModelHandle<Profile, RedisStore, C>, delete: bool, ops: usize| {
        let value = value.clone();
        throughput(a.tasks, ops, move |t, n| {
            let (h, value) = (h.clone(), value.clone());
            async move {
                for i in 0..n {
                    let key = (t * n + i) % 1000;
                    if delete {
                        h.delete(key).await.unwrap();
                    } else {
                        h.set(key, &value).await.unwrap();
                    }
                }
            }
        })
    };
    // [set, delete] x [one live version, two].
    let mut tput: [[Vec<f64>; 2]; 2] = Default::default();
    let mut server: [[Vec<f64>; 2]; 2] = Default::default();
    let mut commands: [[Vec<f64>; 2]; 2] = Default::default();
    let mut ratios: [Vec<f64>; 2] = Default::default();
    for round in 0..a.rounds {
        for (w, delete) in [false, true].into_iter().enumerate() {
            let mut this = [0.0; 2];
            for k in 0..2 {
                let i = (round + k) % 2;
                let h = if i == 0 {
                    alone.clone()
                } else {
                    shared.clone()
                };
                let before = server_cpu_ns(&mut info).await;
                let cmds = server_commands(&mut info).await;
                this[i] = run(h, delete, a.ops).await;
                // Less the INFO call that reads the count.
                commands[w][i].push((server_commands(&mut info).await - cmds - 1.0) / a.ops as f64);
                server[w][i].push((server_cpu_ns(&mut info).await - before) / a.ops as f64);
                tput[w][i].push(this[i]);
            }
            ratios[w].push(this[1] / this[0]);
        }
    }
    println!(
        "\nlive versions ({} tasks, medians of {} rounds): key ops/s with this build's version \
         alone -> with a second build's version live too (every write and delete also deletes \
         the key under it, in the same pipeline)",
        a.tasks, a.rounds
    );
    for (w, name) in ["set", "delete"].into_iter().enumerate() {
        let [one, two] = tput[w].clone().map(median);
        let [s1, s2] = server[w].clone().map(median);
        let [c1, c2] = commands[w].clone().map(median);
        println!(
            "  {name:<6} {one:>9.0} -> {two:>9.0} ops/s: {:.2}x (median of per-round ratios); \
             server CPU {:.2} -> {:.2} µs, commands {c1:.2} -> {c2:.2} per op, one round trip \
             (one pipeline) either way",
            median(ratios[w].clone()),
            s1 / 1000.0,
            s2 / 1000.0
        );
    }
    drop(old_build);
    Ok(())
}

/// `--cluster`: `set_many`/`delete_many` (and `get_many`, for reference) on a local cluster,
/// per slot against per key.
async fn cluster_writes(a: &Args) -> Result<(), Box<dyn std::error::Error>> {
    use cache_version_redis::ClusterWrites;
    let cluster = cache_version_tests::redis_harness::RedisCluster::start(3);
    println!("started a 3-primary cluster: {:?}", cluster.urls());
    let modes = [
        ClusterWrites::PerSlot,
        ClusterWrites::PerKey,
        ClusterWrites::PerNode,
    ];
    let mut stores = Vec::new();
    for mode in modes {
        stores.push(
            RedisStore::cluster_builder(cluster.urls())
                .cluster_writes(mode)
                .response_timeout(Duration::from_secs(5))
                .build()
                .await?,
        );
    }
    let value = vec![7u8; 1024];
    let batches: Vec<(&str, Vec<SetEntry>)> = ["spread", "tagged"]
        .into_iter()
        .map(|kind| {
            let entries = (0..a.batch)
                .map(|i| SetEntry {
                    key: match kind {
                        "spread" => format!("bench:{i}").into_bytes(),
                        _ => format!("bench:{{user:1}}:{i}").into_bytes(),
                    },
                    value: value.clone(),
                    ttl: Some(TTL),
                })
                .collect();
            (kind, entries)
        })
        .collect();
    let calls = (a.ops / a.batch).max(1);
    println!(
        "{} keys of 1 KB per batch, {calls} batches per measurement, {} tasks, {} rounds",
        a.batch, a.tasks, a.rounds
    );
    println!(
        "\n{:<28} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "batches/s, median", "per slot", "per key", "per node", "slot/key", "node/key"
    );
    for (kind, entries) in &batches {
        let keys: Vec<Vec<u8>> = entries.iter().map(|e| e.key.clone()).collect();
        for op in ["set_many", "delete_many", "get_many"] {
            let mut figures = [vec![], vec![], vec![]];
            for round in 0..a.rounds {
                for k in 0..modes.len() {
                    let i = (round + k) % modes.len();
                    let store = stores[i].clone();
                    if op == "get_many" || op == "delete_many" {
                        store.set_many(entries).await?;
                    }
                    let per_task = (calls / a.tasks).max(1);
                    let start = Instant::now();
                    let mut handles = Vec::new();
                    for _ in 0..a.tasks {
                        let (store, entries, keys) = (store.clone(), entries.clone(), keys.clone());
                        handles.push(tokio::spawn(async move {
                            for _ in 0..per_task {
                                match op {
                                    "set_many" => store.set_many(&entries).await.map(|_| ()),
                                    "delete_many" => store.delete_many(&keys).await.map(|_| ()),
                                    _ => store.get_many(&keys).await.map(|_| ()),
                                }
                                .unwrap();
                            }
                        }));
                    }
                    for h in handles {
                        h.await?;
                    }
                    figures[i].push((per_task * a.tasks) as f64 / start.elapsed().as_secs_f64());
                }
            }
            let [slot, key, node] = figures.map(median);
            println!(
                "{:<28} {:>10.0} {:>10.0} {:>10.0} {:>10.2} {:>10.2}",
                format!("{op} ({kind})"),
                slot,
                key,
                node,
                slot / key,
                node / key
            );
        }
    }
    Ok(())
}
