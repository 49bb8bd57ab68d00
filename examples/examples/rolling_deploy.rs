//! The main example: a rolling deploy of a service with a shared cache, measured.
//!
//! ```text
//! cargo run --release --example rolling_deploy
//! cargo run --release --example rolling_deploy -- --redis redis://127.0.0.1:6379
//! cargo run --release --example rolling_deploy -- --help
//! ```
//!
//! Eight instances of a service (concurrent Tokio tasks) cache four models (users, orders,
//! products, sessions) in one shared store, in front of a simulated database that counts its
//! loads. Reads go through get-or-load; some requests update a record (write-through) or
//! invalidate it (delete). Over the run the instances switch, one at a scheduled tick each,
//! from the old build to a new one whose only change is the incident's: `User.userName` is
//! renamed `User.fullName`. The old build's `User` reads its name leniently
//! (`#[serde(default)]`), as a lot of real code does.
//!
//! The same workload (same seed, same requests per instance and tick) runs under four
//! strategies, each on a fresh namespace of the same store:
//!
//! 1. unversioned keys: `ns:User:123` holding plain JSON, written and read by hand through the
//!    same `Store` trait. The new build fails to decode what the old one wrote (a decode
//!    error, then a database load), and the old build silently reads the new build's JSON as a
//!    user with an empty name (a wrong value, found by comparing with the database).
//! 2. a build-id prefix: the typed cache with the build id in the namespace. No errors, but
//!    every model goes cold on each instance that flips (seed 003's "cache hits drop to zero").
//! 3. cache-version: one namespace, the version of each model's shape in its key. No errors;
//!    orders, products and sessions stay warm, only `User` goes cold.
//! 4. cache-version with `migrate_from` and `dual_write_to`: the new build reads the old
//!    build's `User` entries on a miss (and migrates them), and writes both versions, so the
//!    old build stays fresh too: `User` stays warm.
//!
//! A hit is a read answered without a database load on its behalf. Wrong values are checked
//! against the database record of the revision the value carries, so a value that is merely
//! stale (an older revision) is not counted, only one the database never held.
//!
//! Exits with status 1 when a cache-version row shows a decode error or a wrong value, so the
//! example doubles as a check.

use std::collections::HashSet;
use std::error::Error;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cache_version_core::{
    Cache, CacheError, CacheVersion, MemoryStore, ModelHandle, ScanCursor, SetEntry, Store,
};
use cache_version_redis::RedisStore;
use indicatif::{ProgressBar, ProgressStyle};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::Barrier;

type BoxError = Box<dyn Error + Send + Sync>;

/// The TTL of every cache write (the run ends long before it).
const TTL: Duration = Duration::from_secs(3600);

// ---------------------------------------------------------------------------------------------
// The models. The old build has `UserV1`; the new build has `User`; the rest is unchanged.

/// The old build's user, as seed 000's incident: `{"userId":123,"userName":"alice"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
#[serde(rename_all = "camelCase")]
#[cache_version(name = "User")]
struct UserV1 {
    user_id: u64,
    /// Lenient: a missing name reads as empty instead of failing.
    #[serde(default)]
    user_name: String,
    rev: u32,
}

/// The new build's user: one field renamed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
#[serde(rename_all = "camelCase")]
struct User {
    user_id: u64,
    full_name: String,
    rev: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
#[serde(rename_all = "camelCase")]
struct Order {
    order_id: u64,
    user_id: u64,
    total_cents: u64,
    items: Vec<String>,
    rev: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
#[serde(rename_all = "camelCase")]
struct Product {
    product_id: u64,
    title: String,
    price_cents: u64,
    rev: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
#[serde(rename_all = "camelCase")]
struct Session {
    session_id: u64,
    user_id: u64,
    expires_at: u64,
    rev: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Users,
    Orders,
    Products,
    Sessions,
}

/// A cached record: what the database holds for `(id, rev)` is a pure function, so any value
/// read from the cache can be checked against the truth of the revision it carries.
trait Record:
    CacheVersion + Serialize + DeserializeOwned + Clone + PartialEq + Send + Sync + 'static
{
    const TABLE: Table;
    /// The model name in the unversioned keys.
    const NAME: &'static str;
    fn truth(id: u64, rev: u32) -> Self;
    fn rev(&self) -> u32;
}

const FIRST: [&str; 8] = [
    "Alice", "Bob", "Carol", "Dan", "Erin", "Frank", "Grace", "Heidi",
];
const LAST: [&str; 8] = [
    "Liddell", "Hope", "Jones", "Brown", "Smith", "Moore", "Hopper", "Klum",
];

fn person(id: u64, rev: u32) -> String {
    let first = FIRST[(id % 8) as usize];
    let last = LAST[((id / 8 + u64::from(rev)) % 8) as usize];
    format!("{first} {last}")
}

impl Record for UserV1 {
    const TABLE: Table = Table::Users;
    const NAME: &'static str = "User";
    fn truth(id: u64, rev: u32) -> Self {
        UserV1 {
            user_id: id,
            user_name: person(id, rev),
            rev,
        }
    }
    fn rev(&self) -> u32 {
        self.rev
    }
}

impl Record for User {
    const TABLE: Table = Table::Users;
    const NAME: &'static str = "User";
    fn truth(id: u64, rev: u32) -> Self {
        User {
            user_id: id,
            full_name: person(id, rev),
            rev,
        }
    }
    fn rev(&self) -> u32 {
        self.rev
    }
}

impl Record for Order {
    const TABLE: Table = Table::Orders;
    const NAME: &'static str = "Order";
    fn truth(id: u64, rev: u32) -> Self {
        let rev64 = u64::from(rev);
        Order {
            order_id: id,
            user_id: id * 7 % 1000,
            total_cents: 500 + (id * 37 + rev64 * 11) % 20_000,
            items: (0..1 + id % 3)
                .map(|i| format!("sku-{}", (id + i) % 97))
                .collect(),
            rev,
        }
    }
    fn rev(&self) -> u32 {
        self.rev
    }
}

impl Record for Product {
    const TABLE: Table = Table::Products;
    const NAME: &'static str = "Product";
    fn truth(id: u64, rev: u32) -> Self {
        let colour = ["red", "green", "blue"][(rev % 3) as usize];
        Product {
            product_id: id,
            title: format!("Product {id} ({colour})"),
            price_cents: 199 + (id * 13 + u64::from(rev)) % 5_000,
            rev,
        }
    }
    fn rev(&self) -> u32 {
        self.rev
    }
}

impl Record for Session {
    const TABLE: Table = Table::Sessions;
    const NAME: &'static str = "Session";
    fn truth(id: u64, rev: u32) -> Self {
        Session {
            session_id: id,
            user_id: id % 1000,
            expires_at: 1_700_000_000 + id * 60 + u64::from(rev) * 3_600,
            rev,
        }
    }
    fn rev(&self) -> u32 {
        self.rev
    }
}

// ---------------------------------------------------------------------------------------------
// The simulated database and workload.

/// Records are `(table, id) -> revision`; loads are counted and take `latency`. Every
/// revision's commit time is kept, to tell a stale read from one that merely raced an update.
struct Db {
    revs: [Vec<AtomicU32>; 4],
    /// Per record, the commit time of revision `i + 1` at index `i`.
    commits: [Vec<Mutex<Vec<Instant>>>; 4],
    loads: AtomicU64,
    latency: Duration,
}

/// A read that started less than this after an update may still see the revision before it
/// (the update's cache write had not landed yet); past it, an older revision is stale.
const RACE_WINDOW: Duration = Duration::from_millis(50);

impl Db {
    fn new(sizes: [u64; 4], latency: Duration) -> Self {
        Db {
            revs: sizes.map(|n| (0..n).map(|_| AtomicU32::new(0)).collect()),
            commits: sizes.map(|n| (0..n).map(|_| Mutex::new(Vec::new())).collect()),
            loads: AtomicU64::new(0),
            latency,
        }
    }

    /// Whether a value of revision `rev`, read by a request that started at `started`, is
    /// stale: a newer revision was committed more than [`RACE_WINDOW`] before.
    fn stale(&self, table: Table, id: u64, rev: u32, started: Instant) -> bool {
        let commits = self.commits[table as usize][id as usize].lock().unwrap();
        commits
            .get(rev as usize)
            .is_some_and(|&newer| newer + RACE_WINDOW < started)
    }

    fn slot(&self, table: Table, id: u64) -> &AtomicU32 {
        &self.revs[table as usize][id as usize]
    }

    async fn load<R: Record>(&self, id: u64) -> Result<R, std::io::Error> {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        self.loads.fetch_add(1, Relaxed);
        Ok(R::truth(id, self.slot(R::TABLE, id).load(Relaxed)))
    }

    /// An update: the next revision of the record.
    fn bump(&self, table: Table, id: u64) -> u32 {
        let mut commits = self.commits[table as usize][id as usize].lock().unwrap();
        let rev = self.slot(table, id).fetch_add(1, Relaxed) + 1;
        commits.push(Instant::now());
        rev
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    /// Update the record, then write the new value to the cache.
    Update,
    /// Update the record, then delete its cache entry.
    Invalidate,
}

#[derive(Debug, Clone, Copy)]
struct Op {
    table: Table,
    kind: Kind,
    id: u64,
}

/// xorshift64*, seeded per instance: the same seed replays the same requests.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // splitmix64 of the seed, so nearby seeds give unrelated streams.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Request mix: 35% users, 25% orders, 25% products, 15% sessions; 90% reads, 7% updates, 3%
/// invalidations; ids skewed (the hottest 10% of keys get about half the traffic).
fn next_op(sizes: &[u64; 4], rng: &mut Rng) -> Op {
    let table = match rng.below(100) {
        0..35 => Table::Users,
        35..60 => Table::Orders,
        60..85 => Table::Products,
        _ => Table::Sessions,
    };
    let kind = match rng.below(100) {
        0..90 => Kind::Read,
        90..97 => Kind::Update,
        _ => Kind::Invalidate,
    };
    let n = sizes[table as usize];
    let id = ((n as f64 * rng.unit().powi(3)) as u64).min(n - 1);
    Op { table, kind, id }
}

// ---------------------------------------------------------------------------------------------
// The strategies.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    /// The same workload with no deploy: every instance stays on the old build.
    NoDeploy,
    Unversioned,
    BuildId,
    CacheVersion,
    Migrate,
}

impl Strategy {
    const ALL: [Strategy; 5] = [
        Strategy::NoDeploy,
        Strategy::Unversioned,
        Strategy::BuildId,
        Strategy::CacheVersion,
        Strategy::Migrate,
    ];

    fn label(self) -> &'static str {
        match self {
            Strategy::NoDeploy => "no deploy (cache-version, one build)",
            Strategy::Unversioned => "unversioned keys",
            Strategy::BuildId => "build-id prefix",
            Strategy::CacheVersion => "cache-version",
            Strategy::Migrate => "cache-version + migrate_from + dual-write",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Strategy::NoDeploy => "nodeploy",
            Strategy::Unversioned => "unversioned",
            Strategy::BuildId => "buildid",
            Strategy::CacheVersion => "cv",
            Strategy::Migrate => "cvmigrate",
        }
    }

    /// The rows the exit status checks.
    fn is_cache_version(self) -> bool {
        matches!(
            self,
            Strategy::NoDeploy | Strategy::CacheVersion | Strategy::Migrate
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Build {
    Old,
    New,
}

/// One build's handles; `U` is its user type.
struct Handles<U, S: Store> {
    users: ModelHandle<U, S>,
    orders: ModelHandle<Order, S>,
    products: ModelHandle<Product, S>,
    sessions: ModelHandle<Session, S>,
}

impl<U: Record, S: Store> Handles<U, S> {
    fn new(cache: &Cache<S>, users: ModelHandle<U, S>) -> Self {
        Handles {
            users,
            orders: cache.model(),
            products: cache.model(),
            sessions: cache.model(),
        }
    }
}

enum Backend<S: Store> {
    /// Plain JSON under `{namespace}:{model}:{id}`, by hand.
    Raw {
        store: S,
        namespace: String,
        decode_errors: AtomicU64,
    },
    /// The typed cache; `caches` holds one cache per namespace in use.
    Typed {
        caches: Vec<Cache<S>>,
        old: Handles<UserV1, S>,
        new: Handles<User, S>,
    },
}

/// One build's cache (each build is its own processes: its own cache, announcing its
/// versions in the store's live-version registry). The instances run on one machine, so
/// there is no clock skew, and a 100 ms heartbeat fits the seconds a simulated rollout takes
/// (a build that starts while another runs distrusts its own entries for two heartbeats).
fn typed_cache<S: Store>(store: S, namespace: &str) -> Result<Cache<S>, BoxError> {
    Ok(Cache::builder(store)
        .namespace(namespace)
        .default_ttl(TTL)
        .heartbeat(Duration::from_millis(100))
        .clock_skew(Duration::ZERO)
        .build()?)
}

impl<S: Store + Clone> Backend<S> {
    fn new(strategy: Strategy, store: S, base: &str) -> Result<Self, BoxError> {
        let ns = format!("{base}-{}", strategy.slug());
        Ok(match strategy {
            Strategy::Unversioned => Backend::Raw {
                store,
                namespace: ns,
                decode_errors: AtomicU64::new(0),
            },
            Strategy::BuildId => {
                // Two builds, two namespaces: what a git sha in the key prefix does.
                let b1 = typed_cache(store.clone(), &format!("{ns}-b1"))?;
                let b2 = typed_cache(store, &format!("{ns}-b2"))?;
                Backend::Typed {
                    old: Handles::new(&b1, b1.model()),
                    new: Handles::new(&b2, b2.model()),
                    caches: vec![b1, b2],
                }
            }
            Strategy::NoDeploy | Strategy::CacheVersion => {
                let old = typed_cache(store.clone(), &ns)?;
                let new = typed_cache(store, &ns)?;
                Backend::Typed {
                    old: Handles::new(&old, old.model()),
                    new: Handles::new(&new, new.model()),
                    caches: vec![old, new],
                }
            }
            Strategy::Migrate => {
                let old = typed_cache(store.clone(), &ns)?;
                let cache = typed_cache(store, &ns)?;
                let users = cache
                    .model::<User>()
                    .migrate_from::<UserV1, _>(|old| User {
                        user_id: old.user_id,
                        full_name: old.user_name,
                        rev: old.rev,
                    })?
                    .dual_write_to::<UserV1, _>(|new| UserV1 {
                        user_id: new.user_id,
                        user_name: new.full_name.clone(),
                        rev: new.rev,
                    })?;
                Backend::Typed {
                    old: Handles::new(&old, old.model()),
                    new: Handles::new(&cache, users),
                    caches: vec![old, cache],
                }
            }
        })
    }

    fn store(&self) -> &S {
        match self {
            Backend::Raw { store, .. } => store,
            Backend::Typed { caches, .. } => caches[0].store(),
        }
    }

    /// The key prefixes this strategy writes under.
    fn prefixes(&self) -> Vec<String> {
        match self {
            Backend::Raw { namespace, .. } => vec![format!("{namespace}:")],
            Backend::Typed { caches, .. } => {
                let mut prefixes: Vec<String> = caches
                    .iter()
                    .map(|c| format!("{}:", c.namespace()))
                    .collect();
                prefixes.dedup();
                prefixes
            }
        }
    }

    /// Decode errors and version mismatches so far.
    fn decode_errors(&self) -> u64 {
        match self {
            Backend::Raw { decode_errors, .. } => decode_errors.load(Relaxed),
            Backend::Typed { caches, .. } => caches
                .iter()
                .map(|c| {
                    let t = c.stats().total();
                    t.decode_error + t.version_mismatch
                })
                .sum(),
        }
    }

    /// The old build has been running for a while: every record is cached.
    async fn prefill(&self, sizes: &[u64; 4]) -> Result<(), BoxError> {
        match self {
            Backend::Raw {
                store, namespace, ..
            } => {
                prefill_raw::<UserV1, S>(store, namespace, sizes[0]).await?;
                prefill_raw::<Order, S>(store, namespace, sizes[1]).await?;
                prefill_raw::<Product, S>(store, namespace, sizes[2]).await?;
                prefill_raw::<Session, S>(store, namespace, sizes[3]).await?;
            }
            Backend::Typed { old, .. } => {
                prefill_typed(&old.users, sizes[0]).await?;
                prefill_typed(&old.orders, sizes[1]).await?;
                prefill_typed(&old.products, sizes[2]).await?;
                prefill_typed(&old.sessions, sizes[3]).await?;
            }
        }
        Ok(())
    }

    async fn exec(&self, build: Build, op: Op, db: &Db) -> Result<Outcome, BoxError> {
        match self {
            Backend::Raw {
                store,
                namespace,
                decode_errors,
            } => {
                let raw = Raw {
                    store,
                    namespace,
                    decode_errors,
                    db,
                };
                match (build, op.table) {
                    (Build::Old, Table::Users) => raw.exec::<UserV1>(op).await,
                    (Build::New, Table::Users) => raw.exec::<User>(op).await,
                    (_, Table::Orders) => raw.exec::<Order>(op).await,
                    (_, Table::Products) => raw.exec::<Product>(op).await,
                    (_, Table::Sessions) => raw.exec::<Session>(op).await,
                }
            }
            Backend::Typed { old, new, .. } => {
                let (orders, products, sessions) = match build {
                    Build::Old => (&old.orders, &old.products, &old.sessions),
                    Build::New => (&new.orders, &new.products, &new.sessions),
                };
                Ok(match (build, op.table) {
                    (Build::Old, Table::Users) => exec_typed(&old.users, db, op).await?,
                    (Build::New, Table::Users) => exec_typed(&new.users, db, op).await?,
                    (_, Table::Orders) => exec_typed(orders, db, op).await?,
                    (_, Table::Products) => exec_typed(products, db, op).await?,
                    (_, Table::Sessions) => exec_typed(sessions, db, op).await?,
                })
            }
        }
    }
}

/// What one request did.
#[derive(Debug, Clone, Copy, Default)]
struct Outcome {
    read: bool,
    hit: bool,
    wrong: bool,
    stale: bool,
}

impl Outcome {
    fn read(hit: bool, wrong: bool, stale: bool) -> Self {
        Outcome {
            read: true,
            hit,
            wrong,
            stale,
        }
    }
}

/// The unversioned strategy, written the way services without versioned keys do it.
struct Raw<'a, S> {
    store: &'a S,
    namespace: &'a str,
    decode_errors: &'a AtomicU64,
    db: &'a Db,
}

impl<S: Store> Raw<'_, S> {
    async fn exec<R: Record>(&self, op: Op) -> Result<Outcome, BoxError> {
        let key = format!("{}:{}:{}", self.namespace, R::NAME, op.id);
        let key = key.as_bytes();
        match op.kind {
            Kind::Read => {
                let started = Instant::now();
                if let Some(bytes) = self.store.get(key).await? {
                    match serde_json::from_slice::<R>(&bytes) {
                        Ok(v) => {
                            let wrong = v != R::truth(op.id, v.rev());
                            let stale = self.db.stale(R::TABLE, op.id, v.rev(), started);
                            return Ok(Outcome::read(true, wrong, stale && !wrong));
                        }
                        // The incident: log, count, and fall through to the database.
                        Err(_) => {
                            self.decode_errors.fetch_add(1, Relaxed);
                        }
                    }
                }
                let v: R = self.db.load(op.id).await?;
                self.store
                    .set(key, &serde_json::to_vec(&v)?, Some(TTL))
                    .await?;
                Ok(Outcome::read(false, false, false))
            }
            Kind::Update => {
                let v = R::truth(op.id, self.db.bump(R::TABLE, op.id));
                self.store
                    .set(key, &serde_json::to_vec(&v)?, Some(TTL))
                    .await?;
                Ok(Outcome::default())
            }
            Kind::Invalidate => {
                self.db.bump(R::TABLE, op.id);
                self.store.delete(key).await?;
                Ok(Outcome::default())
            }
        }
    }
}

async fn exec_typed<R: Record, S: Store>(
    handle: &ModelHandle<R, S>,
    db: &Db,
    op: Op,
) -> Result<Outcome, CacheError> {
    let key = op.id.to_string();
    match op.kind {
        Kind::Read => {
            let started = Instant::now();
            let loaded = AtomicBool::new(false);
            let flag = &loaded;
            let v = handle
                .get_or_load(&key, move || async move {
                    flag.store(true, Relaxed);
                    db.load::<R>(op.id).await
                })
                .await?;
            let wrong = v != R::truth(op.id, v.rev());
            let stale = !wrong && db.stale(R::TABLE, op.id, v.rev(), started);
            Ok(Outcome::read(!loaded.load(Relaxed), wrong, stale))
        }
        Kind::Update => {
            let v = R::truth(op.id, db.bump(R::TABLE, op.id));
            handle.set(&key, &v).await?;
            Ok(Outcome::default())
        }
        Kind::Invalidate => {
            db.bump(R::TABLE, op.id);
            handle.delete(&key).await?;
            Ok(Outcome::default())
        }
    }
}

const PREFILL_BATCH: u64 = 500;

async fn prefill_raw<R: Record, S: Store>(
    store: &S,
    namespace: &str,
    n: u64,
) -> Result<(), BoxError> {
    for start in (0..n).step_by(PREFILL_BATCH as usize) {
        let mut batch = Vec::new();
        for id in start..n.min(start + PREFILL_BATCH) {
            batch.push(SetEntry {
                key: format!("{namespace}:{}:{id}", R::NAME).into_bytes(),
                value: serde_json::to_vec(&R::truth(id, 0))?,
                ttl: Some(TTL),
            });
        }
        store.set_many(&batch).await?;
    }
    Ok(())
}

async fn prefill_typed<R: Record, S: Store>(
    handle: &ModelHandle<R, S>,
    n: u64,
) -> Result<(), BoxError> {
    for start in (0..n).step_by(PREFILL_BATCH as usize) {
        let end = n.min(start + PREFILL_BATCH);
        handle
            .set_many((start..end).map(|id| (id.to_string(), R::truth(id, 0))))
            .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The run: instances, ticks, phases.

#[derive(Debug, Clone)]
struct Settings {
    redis: Option<String>,
    instances: usize,
    ticks: u32,
    rate: u32,
    users: u64,
    db_latency: Duration,
    seed: u64,
    progress: bool,
    cleanup: bool,
}

impl Settings {
    fn sizes(&self) -> [u64; 4] {
        let u = self.users;
        [u, 2 * u, (u / 4).max(1), (u / 2).max(1)]
    }

    /// Ticks before the rollout, and the tick the rollout ends at.
    fn bounds(&self) -> (u32, u32) {
        let before = self.ticks / 4;
        let after = self.ticks / 4;
        (before, self.ticks - after)
    }

    /// Instance `i` switches to the new build at this tick: evenly through the rollout.
    fn flip_tick(&self, i: usize) -> u32 {
        let (start, end) = self.bounds();
        let n = self.instances as u64;
        let d = u64::from(end - start);
        start + ((2 * i as u64 + 1) * d / (2 * n)) as u32
    }

    fn phase(&self, tick: u32) -> usize {
        let (start, end) = self.bounds();
        if tick < start {
            0
        } else if tick < end {
            1
        } else {
            2
        }
    }
}

const PHASES: [&str; 3] = ["before the rollout", "rolling out", "after the rollout"];

#[derive(Default)]
struct PhaseCounters {
    requests: AtomicU64,
    reads: AtomicU64,
    hits: AtomicU64,
    wrong: AtomicU64,
    stale: AtomicU64,
}

/// Database loads and decode errors at a phase boundary.
#[derive(Debug, Clone, Copy)]
struct Mark {
    loads: u64,
    decode_errors: u64,
}

struct Run<S: Store> {
    settings: Settings,
    /// Every instance stays on the old build.
    no_deploy: bool,
    backend: Backend<S>,
    db: Db,
    phases: [PhaseCounters; 3],
    errors: AtomicU64,
    marks: Mutex<Vec<Mark>>,
    barrier: Barrier,
    progress: ProgressBar,
}

impl<S: Store + Clone> Run<S> {
    fn mark(&self) -> Mark {
        Mark {
            loads: self.db.loads.load(Relaxed),
            decode_errors: self.backend.decode_errors(),
        }
    }

    async fn instance(self: Arc<Self>, i: usize) {
        let s = &self.settings;
        let sizes = s.sizes();
        let mut rng = Rng::new(s.seed.wrapping_mul(1_000_003).wrapping_add(i as u64));
        let flip = if self.no_deploy {
            u32::MAX
        } else {
            s.flip_tick(i)
        };
        let (start, end) = s.bounds();
        for tick in 0..s.ticks {
            let build = if tick >= flip { Build::New } else { Build::Old };
            let phase = &self.phases[s.phase(tick)];
            for _ in 0..s.rate {
                let op = next_op(&sizes, &mut rng);
                phase.requests.fetch_add(1, Relaxed);
                match self.backend.exec(build, op, &self.db).await {
                    Ok(o) => {
                        if o.read {
                            phase.reads.fetch_add(1, Relaxed);
                            phase.hits.fetch_add(u64::from(o.hit), Relaxed);
                            phase.wrong.fetch_add(u64::from(o.wrong), Relaxed);
                            phase.stale.fetch_add(u64::from(o.stale), Relaxed);
                        }
                    }
                    Err(e) => {
                        if self.errors.fetch_add(1, Relaxed) == 0 {
                            self.progress
                                .suspend(|| eprintln!("first cache error: {e}"));
                        }
                    }
                }
            }
            // Every instance has finished this tick: record the phase boundaries exactly.
            if self.barrier.wait().await.is_leader() {
                let next = tick + 1;
                if next == start || next == end || next == s.ticks {
                    let mark = self.mark();
                    self.marks.lock().unwrap().push(mark);
                }
                let new = (0..s.instances).filter(|&j| s.flip_tick(j) <= next).count();
                self.progress.set_message(format!(
                    "{}: {new}/{} instances on the new build",
                    PHASES[s.phase(next.min(s.ticks - 1))],
                    s.instances
                ));
                self.progress.inc(1);
            }
            self.barrier.wait().await;
        }
    }
}

/// One line of the table.
struct Row {
    strategy: Strategy,
    requests: u64,
    hit_rate: [Option<f64>; 3],
    decode_errors: u64,
    wrong: u64,
    stale: u64,
    loads: u64,
    keys: u64,
    extra_keys: u64,
    errors: u64,
    user_keys: Vec<String>,
}

async fn run_strategy<S: Store + Clone>(
    strategy: Strategy,
    store: S,
    base: &str,
    settings: &Settings,
    progress: &ProgressBar,
) -> Result<Row, BoxError> {
    let sizes = settings.sizes();
    let backend = Backend::new(strategy, store, base)?;
    progress.set_prefix(strategy.label());
    progress.set_message("filling the cache (the old build has been running)");
    backend.prefill(&sizes).await?;
    let run = Arc::new(Run {
        settings: settings.clone(),
        no_deploy: strategy == Strategy::NoDeploy,
        backend,
        db: Db::new(sizes, settings.db_latency),
        phases: Default::default(),
        errors: AtomicU64::new(0),
        marks: Mutex::new(Vec::new()),
        barrier: Barrier::new(settings.instances),
        progress: progress.clone(),
    });
    let start_mark = run.mark();
    run.marks.lock().unwrap().push(start_mark);
    let tasks: Vec<_> = (0..settings.instances)
        .map(|i| tokio::spawn(run.clone().instance(i)))
        .collect();
    for t in tasks {
        t.await?;
    }
    let marks = run.marks.lock().unwrap().clone();
    let (first, last) = (marks[0], marks[marks.len() - 1]);
    let mut hit_rate = [None; 3];
    let (mut requests, mut wrong, mut stale) = (0, 0, 0);
    for (rate, p) in hit_rate.iter_mut().zip(&run.phases) {
        let reads = p.reads.load(Relaxed);
        if reads > 0 {
            *rate = Some(p.hits.load(Relaxed) as f64 / reads as f64);
        }
        requests += p.requests.load(Relaxed);
        wrong += p.wrong.load(Relaxed);
        stale += p.stale.load(Relaxed);
    }
    let scan = scan_keys(&run.backend).await?;
    if settings.cleanup {
        for chunk in scan.all.chunks(1000) {
            run.backend.store().delete_many(chunk).await?;
        }
    }
    Ok(Row {
        strategy,
        requests,
        hit_rate,
        decode_errors: last.decode_errors - first.decode_errors,
        wrong,
        stale,
        loads: last.loads - first.loads,
        keys: scan.all.len() as u64,
        extra_keys: scan.all.len() as u64 - scan.distinct,
        errors: run.errors.load(Relaxed),
        user_keys: scan.user_keys,
    })
}

struct Scan {
    all: Vec<Vec<u8>>,
    /// Distinct (model, logical key) pairs.
    distinct: u64,
    /// The keys of user 0, every version and build.
    user_keys: Vec<String>,
}

/// Walks the strategy's keys: `{namespace}:{model}[:{version}]:{id}`.
async fn scan_keys<S: Store + Clone>(backend: &Backend<S>) -> Result<Scan, BoxError> {
    let store = backend.store();
    let mut all = Vec::new();
    for prefix in backend.prefixes() {
        let mut cursor = ScanCursor::start();
        loop {
            let page = store.scan_prefix(prefix.as_bytes(), cursor, 1000).await?;
            all.extend(page.keys);
            match page.cursor {
                Some(c) => cursor = c,
                None => break,
            }
        }
    }
    let mut distinct = HashSet::new();
    let mut user_keys = Vec::new();
    for key in &all {
        let key = String::from_utf8_lossy(key);
        let parts: Vec<&str> = key.split(':').collect();
        let (model, id) = (parts[1], parts[parts.len() - 1]);
        distinct.insert((model.to_string(), id.to_string()));
        if model == "User" && id == "0" {
            user_keys.push(key.to_string());
        }
    }
    user_keys.sort();
    Ok(Scan {
        all,
        distinct: distinct.len() as u64,
        user_keys,
    })
}

async fn run_all<S: Store + Clone>(
    store: S,
    store_label: &str,
    settings: &Settings,
) -> Result<bool, BoxError> {
    let base = run_namespace();
    let sizes = settings.sizes();
    println!(
        "rolling deploy on {store_label}: {} instances, {} ticks x {} requests per instance \
         ({} requests per strategy), {} records, database latency {:?}, seed {}",
        settings.instances,
        settings.ticks,
        settings.rate,
        u64::from(settings.ticks) * u64::from(settings.rate) * settings.instances as u64,
        sizes.iter().sum::<u64>(),
        settings.db_latency,
        settings.seed,
    );
    let (start, end) = settings.bounds();
    println!(
        "ticks 0..{start}: old build; {start}..{end}: instances switch one by one \
         (User.userName -> User.fullName); {end}..{}: new build. Namespaces {base}-*.",
        settings.ticks
    );
    let progress = if settings.progress {
        ProgressBar::new(u64::from(settings.ticks) * Strategy::ALL.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    progress.set_style(
        ProgressStyle::with_template(
            "{prefix:>42} [{bar:30}] {pos}/{len} ticks {elapsed:>3} {msg}",
        )?
        .progress_chars("=> "),
    );
    progress.enable_steady_tick(Duration::from_millis(200));
    let t0 = Instant::now();
    let mut rows = Vec::new();
    for strategy in Strategy::ALL {
        rows.push(run_strategy(strategy, store.clone(), &base, settings, &progress).await?);
    }
    progress.finish_and_clear();
    let elapsed = t0.elapsed();

    println!();
    print_table(&rows);
    println!();
    println!("hit rate: reads answered without a database load on their behalf; wrong values:");
    println!("values read that the database never held (checked against the revision they carry);");
    println!(
        "stale reads: values of a revision older than one the database committed more than \
         {RACE_WINDOW:?} before the read started;"
    );
    println!(
        "loader calls: database loads during the run; extra keys: keys left beyond one per record."
    );
    println!();
    println!("keys of user 0 left in the store:");
    for row in &rows {
        println!(
            "  {:<42} {}",
            row.strategy.label(),
            row.user_keys.join("  ")
        );
    }
    if settings.cleanup {
        println!("(deleted afterwards: --cleanup)");
    }
    println!();
    println!("finished in {:.1} s", elapsed.as_secs_f64());

    let mut ok = true;
    for row in &rows {
        if row.errors > 0 {
            eprintln!(
                "warning: {}: {} requests failed with a cache error",
                row.strategy.label(),
                row.errors
            );
        }
        if row.strategy.is_cache_version()
            && (row.decode_errors > 0 || row.wrong > 0 || row.errors > 0)
        {
            eprintln!(
                "FAILED: {}: {} decode errors, {} wrong values, {} errors",
                row.strategy.label(),
                row.decode_errors,
                row.wrong,
                row.errors
            );
            ok = false;
        }
    }
    Ok(ok)
}

fn print_table(rows: &[Row]) {
    let header = [
        "strategy",
        "requests",
        "hit rate before",
        "during",
        "after",
        "decode errors",
        "wrong values",
        "stale reads",
        "loader calls",
        "extra keys",
    ];
    let pct = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{:.1}%", r * 100.0));
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.strategy.label().to_string(),
                r.requests.to_string(),
                pct(r.hit_rate[0]),
                pct(r.hit_rate[1]),
                pct(r.hit_rate[2]),
                r.decode_errors.to_string(),
                r.wrong.to_string(),
                r.stale.to_string(),
                r.loads.to_string(),
                format!("{} of {}", r.extra_keys, r.keys),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            cells
                .iter()
                .map(|row| row[c].len())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |row: Vec<String>| {
        let padded: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, s)| {
                if c == 0 {
                    format!("{s:<w$}", w = widths[c])
                } else {
                    format!("{s:>w$}", w = widths[c])
                }
            })
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    line(header.iter().map(|s| s.to_string()).collect());
    // Markdown: the first column left-aligned, the numbers right-aligned.
    let rule: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(c, &w)| {
            if c == 0 {
                "-".repeat(w + 2)
            } else {
                format!("{}:", "-".repeat(w + 1))
            }
        })
        .collect();
    println!("|{}|", rule.join("|"));
    for row in cells {
        line(row);
    }
}

/// A fresh namespace base per run, so runs on one Redis never mix.
fn run_namespace() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let id = Rng::new(nanos ^ u64::from(std::process::id())).next();
    format!("rd-{:08x}", id as u32)
}

// ---------------------------------------------------------------------------------------------
// Command line.

const HELP: &str = "\
rolling_deploy: a rolling deploy of a service with a shared cache, measured.

Instances of a service (concurrent Tokio tasks) cache users, orders, products and sessions
in one shared store in front of a simulated database. Over the run they switch, one by one,
from the old build to a new one that renames User.userName to User.fullName. The same
workload runs under four strategies, and a table compares them:
  unversioned keys    plain JSON under ns:User:123 (decode errors, wrong values)
  build-id prefix     the build id in the namespace (no errors; every model goes cold)
  cache-version       the shape's version in each key (only User goes cold)
  cache-version + migrate_from + dual-write   (User stays warm too)

USAGE:
    cargo run --release --example rolling_deploy [-- OPTIONS]

OPTIONS:
    --redis URL         Run on Redis at URL, e.g. redis://127.0.0.1:6379 (default: $REDIS_URL
                        if set, else the in-memory store). Each run writes under fresh
                        namespaces rd-<run id>-*, with a one-hour TTL; nothing is flushed.
    --instances N       Service instances (default 8).
    --ticks N           Length of the run: the first quarter of the ticks runs the old build,
                        the middle half rolls out, the last quarter runs the new build
                        (default 120).
    --rate N            Requests per instance per tick (default 40).
    --users N           Records: N users, 2N orders, N/4 products, N/2 sessions (default 2000).
    --db-latency-ms N   Simulated database latency per load, in ms (default 1; 0 for none).
    --seed N            Workload seed (default 42): the same seed replays the same requests.
    --cleanup           Delete this run's keys at the end (default: keep them until their TTL).
    --no-progress       No progress bar (it is hidden anyway when stderr is not a terminal).
    -h, --help          Print this help.

EXIT STATUS:
    0 when the cache-version rows show no decode error and no wrong value, 1 when one does
    (or on a failure), 2 on a usage error.
";

fn parse_args() -> Result<Option<Settings>, String> {
    let mut s = Settings {
        redis: std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()),
        instances: 8,
        ticks: 120,
        rate: 40,
        users: 2000,
        db_latency: Duration::from_millis(1),
        seed: 42,
        progress: true,
        cleanup: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        fn num<T: std::str::FromStr>(name: &str, v: String) -> Result<T, String> {
            v.parse()
                .map_err(|_| format!("{name}: not a valid number: {v:?}"))
        }
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--redis" => s.redis = Some(value("--redis")?),
            "--instances" => s.instances = num("--instances", value("--instances")?)?,
            "--ticks" => s.ticks = num("--ticks", value("--ticks")?)?,
            "--rate" => s.rate = num("--rate", value("--rate")?)?,
            "--users" => s.users = num("--users", value("--users")?)?,
            "--db-latency-ms" => {
                s.db_latency =
                    Duration::from_millis(num("--db-latency-ms", value("--db-latency-ms")?)?)
            }
            "--seed" => s.seed = num("--seed", value("--seed")?)?,
            "--cleanup" => s.cleanup = true,
            "--no-progress" => s.progress = false,
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if s.instances == 0 || s.ticks < 4 || s.rate == 0 || s.users < 4 {
        return Err("need --instances >= 1, --ticks >= 4, --rate >= 1, --users >= 4".into());
    }
    if s.ticks < 2 * s.instances as u32 {
        return Err("--ticks must be at least twice --instances (one flip per instance)".into());
    }
    Ok(Some(s))
}

#[tokio::main]
async fn main() {
    let settings = match parse_args() {
        Ok(Some(s)) => s,
        Ok(None) => {
            print!("{HELP}");
            return;
        }
        Err(e) => {
            eprintln!("rolling_deploy: {e}\n(--help lists the options)");
            std::process::exit(2);
        }
    };
    let result = match &settings.redis {
        Some(url) => match RedisStore::open(url.clone()).await {
            Ok(store) => {
                let label = format!("Redis at {}", cache_version_redis::redact_url(url));
                run_all(store, &label, &settings).await
            }
            Err(e) => Err(e.into()),
        },
        None => run_all(Arc::new(MemoryStore::new()), "MemoryStore", &settings).await,
    };
    match result {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("rolling_deploy: {e}");
            std::process::exit(1);
        }
    }
}
