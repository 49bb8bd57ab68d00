//! Version skew during a rolling deploy, against one real Redis server: build A (`UserV1`,
//! `user_name`) and build B (`User`, the field renamed `full_name`, seed 000) share one
//! namespace and read, write and delete the same logical keys concurrently.
//!
//! Every value written is derived from the key, the writer and a counter, and recorded per
//! key before it is written; every value read must be one of those recorded for its key
//! (B reads A's values through the migration, A reads B's through dual-write). Asserted:
//! no decode error, no wrong value, no error (every read is a correct value or a miss), and
//! B's hit rate on the keys A wrote before B started above 90% with migration on.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cache_version_core::{Cache, ModelHandle};
use cache_version_redis::RedisStore;
use cache_version_tests::redis_harness::RedisServer;
use cache_version_tests::rollout::{build_b, User, UserV1};
use cache_version_tests::suite::unique_ns;

/// The shape of one run.
#[derive(Clone, Copy)]
struct Plan {
    /// Keys A writes before B starts (both builds read and write them afterwards).
    prepopulated: u64,
    /// Further keys both builds read, write and delete.
    churn: u64,
    tasks_per_build: usize,
    run_for: Duration,
    max_ops_per_task: u64,
    /// B migrates from and dual-writes to V1.
    migration: bool,
}

/// What the builds saw.
#[derive(Default)]
struct Figures {
    ops: AtomicU64,
    reads: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    wrong: AtomicU64,
    errors: AtomicU64,
    /// B's reads of the prepopulated keys.
    b_prepop_hits: AtomicU64,
    b_prepop_misses: AtomicU64,
    /// B's first read of a prepopulated key it had not written itself.
    b_first_hits: AtomicU64,
    b_first_misses: AtomicU64,
    /// A's reads of the prepopulated keys.
    a_prepop_hits: AtomicU64,
    a_prepop_misses: AtomicU64,
    samples: Mutex<Vec<String>>,
}

impl Figures {
    fn add(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
    fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

/// Per key: every name written for it, by either build.
struct Record {
    names: Vec<Mutex<HashSet<String>>>,
    /// B has touched the key (read or written) already.
    touched_by_b: Vec<AtomicBool>,
}

impl Record {
    fn new(n: u64) -> Self {
        Record {
            names: (0..n).map(|_| Mutex::default()).collect(),
            touched_by_b: (0..n).map(|_| AtomicBool::new(false)).collect(),
        }
    }
    fn note(&self, id: u64, name: &str) {
        self.names[id as usize]
            .lock()
            .unwrap()
            .insert(name.to_string());
    }
    fn knows(&self, id: u64, name: &str) -> bool {
        self.names[id as usize].lock().unwrap().contains(name)
    }
}

fn key(id: u64) -> String {
    format!("user:{id}")
}

/// xorshift64*: a deterministic per-task sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

enum Build {
    A(ModelHandle<UserV1, RedisStore>),
    B(ModelHandle<User, RedisStore>),
}

impl Build {
    /// Reads `id`: `Some(name)` on a hit (after checking the id), `None` on a miss.
    async fn read(&self, id: u64, figures: &Figures) -> Result<Option<String>, String> {
        let got = match self {
            Build::A(h) => h
                .get(key(id))
                .await
                .map(|v| v.map(|u| (u.user_id, u.user_name))),
            Build::B(h) => h
                .get(key(id))
                .await
                .map(|v| v.map(|u| (u.user_id, u.full_name))),
        };
        match got {
            Ok(Some((user_id, name))) if user_id == id => Ok(Some(name)),
            Ok(Some((user_id, name))) => {
                Figures::add(&figures.wrong);
                Err(format!("key {id} held user_id {user_id} ({name})"))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                Figures::add(&figures.errors);
                Err(format!("key {id}: {e}"))
            }
        }
    }

    async fn write(&self, id: u64, name: String) -> Result<(), String> {
        match self {
            Build::A(h) => h
                .set(
                    key(id),
                    &UserV1 {
                        user_id: id,
                        user_name: name,
                    },
                )
                .await
                .map_err(|e| e.to_string()),
            Build::B(h) => h
                .set(
                    key(id),
                    &User {
                        user_id: id,
                        full_name: name,
                    },
                )
                .await
                .map_err(|e| e.to_string()),
        }
    }

    async fn delete(&self, id: u64) -> Result<(), String> {
        match self {
            Build::A(h) => h.delete(key(id)).await.map(drop),
            Build::B(h) => h.delete(key(id)).await.map(drop),
        }
        .map_err(|e| e.to_string())
    }
}

#[allow(clippy::too_many_arguments)]
async fn worker(
    build: Arc<Build>,
    is_b: bool,
    task: usize,
    plan: Plan,
    deadline: Instant,
    record: Arc<Record>,
    figures: Arc<Figures>,
) {
    let tag = if is_b { "b" } else { "a" };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((task as u64 + 1) << 8) ^ u64::from(is_b));
    let mut n = 0u64;
    while n < plan.max_ops_per_task && Instant::now() < deadline {
        n += 1;
        Figures::add(&figures.ops);
        let r = rng.next();
        let prepop = r % 100 < 80;
        let id = if prepop {
            (r >> 8) % plan.prepopulated
        } else {
            plan.prepopulated + (r >> 8) % plan.churn
        };
        let op = (r >> 40) % 100;
        let (reads, writes) = if prepop { (75, 100) } else { (60, 90) };
        if op < reads {
            let first =
                is_b && prepop && !record.touched_by_b[id as usize].swap(true, Ordering::SeqCst);
            Figures::add(&figures.reads);
            let found = match build.read(id, &figures).await {
                Ok(found) => found,
                Err(e) => {
                    figures.samples.lock().unwrap().push(e);
                    continue;
                }
            };
            let hit = found.is_some();
            match found {
                Some(name) => {
                    Figures::add(&figures.hits);
                    if !record.knows(id, &name) {
                        Figures::add(&figures.wrong);
                        figures
                            .samples
                            .lock()
                            .unwrap()
                            .push(format!("{tag} read {name:?} for key {id}: never written"));
                    }
                }
                None => Figures::add(&figures.misses),
            }
            if prepop {
                let (h, m) = if is_b {
                    (&figures.b_prepop_hits, &figures.b_prepop_misses)
                } else {
                    (&figures.a_prepop_hits, &figures.a_prepop_misses)
                };
                Figures::add(if hit { h } else { m });
            }
            if first {
                Figures::add(if hit {
                    &figures.b_first_hits
                } else {
                    &figures.b_first_misses
                });
            }
        } else if op < writes {
            if is_b {
                record.touched_by_b[id as usize].store(true, Ordering::SeqCst);
            }
            let name = format!("{tag}:{id}:{task}:{n}");
            record.note(id, &name);
            if let Err(e) = build.write(id, name).await {
                Figures::add(&figures.errors);
                figures.samples.lock().unwrap().push(e);
            }
        } else if let Err(e) = build.delete(id).await {
            Figures::add(&figures.errors);
            figures.samples.lock().unwrap().push(e);
        }
    }
}

async fn open() -> RedisStore {
    RedisStore::open(RedisServer::shared().url())
        .await
        .expect("connect to the test server")
}

fn cache(store: RedisStore, ns: &str) -> Cache<RedisStore> {
    // A generous bound: the VM may lose CPU to steal; a timeout would only be a miss anyway.
    Cache::builder(store)
        .namespace(ns)
        .timeout(Duration::from_secs(2))
        .build()
        .expect("valid config")
}

struct Outcome {
    figures: Arc<Figures>,
    a_stats: cache_version_core::Stats,
    b_stats: cache_version_core::Stats,
    elapsed: Duration,
}

async fn run(plan: Plan) -> Outcome {
    let ns = unique_ns("skew");
    // Two builds, two connections, one namespace.
    let cache_a = cache(open().await, &ns);
    let cache_b = cache(open().await, &ns);
    let a = cache_a.model::<UserV1>();
    let b = if plan.migration {
        build_b(&cache_b)
    } else {
        cache_b.model::<User>()
    };
    assert_ne!(a.key_version(), b.key_version());

    let record = Arc::new(Record::new(plan.prepopulated + plan.churn));
    let figures = Arc::new(Figures::default());

    // A runs alone first and writes every prepopulated key.
    let ids: Vec<u64> = (0..plan.prepopulated).collect();
    for chunk in ids.chunks(200) {
        let mut batch = Vec::with_capacity(chunk.len());
        for &id in chunk {
            let name = format!("a:{id}:pre:0");
            record.note(id, &name);
            batch.push((
                key(id),
                UserV1 {
                    user_id: id,
                    user_name: name,
                },
            ));
        }
        a.set_many(batch).await.expect("prepopulate");
    }

    // Then both builds side by side.
    let started = Instant::now();
    let deadline = started + plan.run_for;
    let build_a = Arc::new(Build::A(a));
    let build_b = Arc::new(Build::B(b));
    let mut tasks = Vec::new();
    for task in 0..plan.tasks_per_build {
        for (build, is_b) in [(&build_a, false), (&build_b, true)] {
            tasks.push(tokio::spawn(worker(
                build.clone(),
                is_b,
                task,
                plan,
                deadline,
                record.clone(),
                figures.clone(),
            )));
        }
    }
    for t in tasks {
        t.await.expect("worker panicked");
    }
    let elapsed = started.elapsed();
    Outcome {
        figures,
        a_stats: cache_a.stats().total(),
        b_stats: cache_b.stats().total(),
        elapsed,
    }
}

fn rate(hits: u64, misses: u64) -> f64 {
    if hits + misses == 0 {
        0.0
    } else {
        hits as f64 / (hits + misses) as f64
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skew_with_migration_has_no_errors_and_stays_warm() {
    let plan = Plan {
        prepopulated: 2000,
        churn: 500,
        tasks_per_build: 16,
        run_for: Duration::from_secs(4),
        max_ops_per_task: 200_000,
        migration: true,
    };
    let out = run(plan).await;
    let f = &*out.figures;
    let g = Figures::get;
    let b_rate = rate(g(&f.b_prepop_hits), g(&f.b_prepop_misses));
    let b_first = rate(g(&f.b_first_hits), g(&f.b_first_misses));
    let a_rate = rate(g(&f.a_prepop_hits), g(&f.a_prepop_misses));
    println!(
        "skew (migration on): {} ops in {:.2?} ({:.0} ops/s) by {}+{} tasks; reads {} = {} hits + \
         {} misses; wrong {}, errors {}",
        g(&f.ops),
        out.elapsed,
        g(&f.ops) as f64 / out.elapsed.as_secs_f64(),
        plan.tasks_per_build,
        plan.tasks_per_build,
        g(&f.reads),
        g(&f.hits),
        g(&f.misses),
        g(&f.wrong),
        g(&f.errors),
    );
    println!(
        "  B on A's prepopulated keys: {} hits, {} misses, hit rate {:.2}%; first reads: {} hits, \
         {} misses ({:.2}%)",
        g(&f.b_prepop_hits),
        g(&f.b_prepop_misses),
        100.0 * b_rate,
        g(&f.b_first_hits),
        g(&f.b_first_misses),
        100.0 * b_first,
    );
    println!(
        "  A on the same keys (warm through B's dual-write): hit rate {:.2}%",
        100.0 * a_rate
    );
    println!("  stats A: {:?}", out.a_stats);
    println!("  stats B: {:?}", out.b_stats);
    let samples = f.samples.lock().unwrap();
    assert_eq!(
        g(&f.wrong),
        0,
        "wrong values: {:?}",
        &samples[..samples.len().min(5)]
    );
    assert_eq!(
        g(&f.errors),
        0,
        "errors: {:?}",
        &samples[..samples.len().min(5)]
    );
    for (build, s) in [("A", out.a_stats), ("B", out.b_stats)] {
        assert_eq!(s.decode_error, 0, "decode errors in build {build}");
        assert_eq!(s.version_mismatch, 0, "version mismatches in build {build}");
    }
    assert_eq!(g(&f.hits) + g(&f.misses), g(&f.reads));
    assert!(g(&f.b_prepop_hits) > 1000, "too few reads to judge");
    assert!(out.b_stats.fallback_hit > 0, "B never migrated anything");
    assert!(
        b_rate > 0.9,
        "B's hit rate on A's keys is {:.2}%",
        100.0 * b_rate
    );
}

/// The control: without the migration, B's first reads of A's keys all miss (the two
/// versions really are separate key spaces, so the warm cache above is the migration's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skew_without_migration_is_cold_for_b_but_still_correct() {
    let plan = Plan {
        prepopulated: 500,
        churn: 100,
        tasks_per_build: 4,
        run_for: Duration::from_secs(1),
        max_ops_per_task: 50_000,
        migration: false,
    };
    let out = run(plan).await;
    let f = &*out.figures;
    let g = Figures::get;
    println!(
        "skew (migration off): {} ops; B first reads of A's keys: {} hits, {} misses; B overall \
         hit rate on them {:.2}%",
        g(&f.ops),
        g(&f.b_first_hits),
        g(&f.b_first_misses),
        100.0 * rate(g(&f.b_prepop_hits), g(&f.b_prepop_misses)),
    );
    assert_eq!(g(&f.wrong), 0);
    assert_eq!(g(&f.errors), 0);
    assert_eq!(out.a_stats.decode_error + out.b_stats.decode_error, 0);
    // A first read can still hit when another B task wrote the key between this task
    // marking it and reading it: allow a few.
    assert!(g(&f.b_first_misses) > 0);
    assert!(
        g(&f.b_first_hits) * 20 <= g(&f.b_first_misses),
        "B's first reads hit without a migration: {} of {}",
        g(&f.b_first_hits),
        g(&f.b_first_hits) + g(&f.b_first_misses)
    );
}
