//! The typed-cache test suite, generic over the store, so one suite runs on `MemoryStore`,
//! standalone Redis and Redis Cluster.
//!
//! Every case is a `pub async fn case<S: Store + Clone>(store: S)` that panics on failure.
//! Cases isolate themselves with a fresh, unique namespace, so they can share one store (one
//! Redis server) and run in parallel. [`store_suite!`](crate::store_suite) turns the cases into
//! one `#[tokio::test]` each:
//!
//! ```text
//! async fn store() -> cache_version_core::MemoryStore { cache_version_core::MemoryStore::new() }
//! cache_version_tests::store_suite!(store);
//! ```
//!
//! Failures of the store are injected with [`FaultyStore`], a wrapper around the store under
//! test (a test double of the store, not of the cache).
#![allow(missing_docs)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cache_version_core::envelope::{self, EnvelopeError};
use cache_version_core::key::{NameKind, ParsedKey};
use cache_version_core::{
    Body, BreakerConfig, Cache, CacheBuilder, CacheError, CacheVersion, ConfigError, DecodeError,
    FailureMode, Field, LoadError, MsgPackCodec, NameError, Named, ScanCursor, ScanPage, SetEntry,
    Shape, Store, StoreError, Ty, ValueAndTtl,
};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Models, described by hand (the supported public API; the derive writes the same).

/// `User` as the old build writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub email: String,
}

impl CacheVersion for User {
    const SHAPE: &'static Shape = &Shape::Named(&Named::new(
        "User",
        Body::Struct {
            tag: None,
            fields: &[
                Field::new("id", Ty::of::<u64>()),
                Field::new("name", Ty::of::<String>()),
                Field::new("email", Ty::of::<String>()),
            ],
        },
    ));
}
impl cache_version_core::CacheModel for User {}

/// `User` after a field rename (`name` -> `full_name`): same model name, new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserV2 {
    pub id: u64,
    pub full_name: String,
    pub email: String,
}

impl CacheVersion for UserV2 {
    const SHAPE: &'static Shape = &Shape::Named(&Named::new(
        "User",
        Body::Struct {
            tag: None,
            fields: &[
                Field::new("id", Ty::of::<u64>()),
                Field::new("full_name", Ty::of::<String>()),
                Field::new("email", Ty::of::<String>()),
            ],
        },
    ));
}
impl cache_version_core::CacheModel for UserV2 {}

/// Two models with the same shape (so the same `VERSION`) and different names: only the
/// model name keeps their entries apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: u64,
    pub amount: u64,
}

impl CacheVersion for Order {
    const SHAPE: &'static Shape = &Shape::Named(&Named::new(
        "Order",
        Body::Struct {
            tag: None,
            fields: &[
                Field::new("id", Ty::of::<u64>()),
                Field::new("amount", Ty::of::<u64>()),
            ],
        },
    ));
}
impl cache_version_core::CacheModel for Order {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    pub id: u64,
    pub amount: u64,
}

impl CacheVersion for Invoice {
    const SHAPE: &'static Shape = &Shape::Named(&Named::new(
        "Invoice",
        Body::Struct {
            tag: None,
            fields: &[
                Field::new("id", Ty::of::<u64>()),
                Field::new("amount", Ty::of::<u64>()),
            ],
        },
    ));
}
impl cache_version_core::CacheModel for Invoice {}

pub fn user(id: u64) -> User {
    User {
        id,
        name: format!("user {id}"),
        email: format!("user{id}@example.com"),
    }
}

pub fn user_v2(id: u64) -> UserV2 {
    UserV2 {
        id,
        full_name: format!("User Number {id}"),
        email: format!("user{id}@example.com"),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/// A namespace no other case (or earlier run against the same server) uses.
pub fn unique_ns(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "t-{tag}-{}-{}-{nanos:x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The circuit breaker's cooldown in the suite's caches.
pub const BREAKER_COOLDOWN: Duration = Duration::from_millis(200);

/// A builder with a fresh namespace and no jitter (cases that test jitter turn it on), and
/// a short breaker cooldown (cases that take the store down wait it out).
pub fn builder<S: Store>(store: S, tag: &str) -> CacheBuilder<S> {
    Cache::builder(store)
        .namespace(unique_ns(tag))
        .ttl_jitter(0.0)
        .circuit_breaker(BreakerConfig::default().with_cooldown(BREAKER_COOLDOWN))
}

fn cache<S: Store>(store: S, tag: &str) -> Cache<S> {
    builder(store, tag).build().expect("valid config")
}

/// The heartbeat of caches that play two builds in one test: a young version's window of
/// untrusted entries is two heartbeats (the clocks are one machine's).
pub const FAST_BEAT: Duration = Duration::from_millis(50);

/// A build of its own in `namespace`, on a fast heartbeat.
pub fn build_in<S: Store>(store: S, namespace: &str) -> Cache<S> {
    Cache::builder(store)
        .namespace(namespace)
        .ttl_jitter(0.0)
        .heartbeat(FAST_BEAT)
        .clock_skew(Duration::ZERO)
        .build()
        .expect("valid config")
}

/// Waits out a young version's window (see `cache_version_core::live`) of caches built with
/// [`build_in`].
pub async fn past_young_window() {
    tokio::time::sleep(FAST_BEAT * 3).await;
}

/// Deterministic pseudo-random bytes.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

/// Every key under `prefix`, walking the scan in pages of `count`.
pub async fn scan_all<S: Store>(store: &S, prefix: &[u8], count: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cursor = ScanCursor::start();
    loop {
        let ScanPage {
            keys, cursor: next, ..
        } = store.scan_prefix(prefix, cursor, count).await.unwrap();
        out.extend(keys);
        match next {
            Some(c) => cursor = c,
            None => break,
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A store wrapper that fails or stalls on demand: the test double for outages.
#[derive(Clone)]
pub struct FaultyStore<S> {
    inner: S,
    faults: Arc<Faults>,
}

#[derive(Default)]
struct Faults {
    fail: AtomicBool,
    delay_ms: AtomicU64,
    calls: AtomicU64,
    /// The scan page (counted from 1) that loses its place: it walks again from the start
    /// and says so, as a restarted Redis does; 0: none.
    restart_scan_at: AtomicU64,
    scans: AtomicU64,
}

impl<S: Store> FaultyStore<S> {
    pub fn new(inner: S) -> Self {
        FaultyStore {
            inner,
            faults: Arc::default(),
        }
    }

    /// Every operation fails with `StoreError::Unavailable` while on.
    pub fn set_failing(&self, on: bool) {
        self.faults.fail.store(on, Ordering::SeqCst);
    }

    /// Every operation waits this long first.
    pub fn set_delay(&self, delay: Duration) {
        self.faults
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// The `page`-th `scan_prefix` call from now (1: the next) ignores its cursor and walks
    /// again from the start, with [`ScanPage::restarted`] set: what a restarted server does.
    pub fn restart_scan_at(&self, page: u64) {
        self.faults.scans.store(0, Ordering::SeqCst);
        self.faults.restart_scan_at.store(page, Ordering::SeqCst);
    }

    /// Operations started so far.
    pub fn calls(&self) -> u64 {
        self.faults.calls.load(Ordering::SeqCst)
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    async fn gate(&self) -> Result<(), StoreError> {
        self.faults.calls.fetch_add(1, Ordering::SeqCst);
        let delay = self.faults.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if self.faults.fail.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("injected failure"));
        }
        Ok(())
    }
}

impl<S: Store> Store for FaultyStore<S> {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.gate().await?;
        self.inner.get(key).await
    }

    async fn get_with_ttl(&self, key: &[u8]) -> Result<Option<ValueAndTtl>, StoreError> {
        self.gate().await?;
        self.inner.get_with_ttl(key).await
    }

    async fn set(&self, key: &[u8], value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.gate().await?;
        self.inner.set(key, value, ttl).await
    }

    async fn set_if_absent(
        &self,
        key: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        self.gate().await?;
        self.inner.set_if_absent(key, value, ttl).await
    }

    async fn set_many_if_absent(&self, entries: &[SetEntry]) -> Result<Vec<bool>, StoreError> {
        self.gate().await?;
        self.inner.set_many_if_absent(entries).await
    }

    async fn delete(&self, key: &[u8]) -> Result<bool, StoreError> {
        self.gate().await?;
        self.inner.delete(key).await
    }

    async fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.gate().await?;
        self.inner.get_many(keys).await
    }

    async fn set_many(&self, entries: &[SetEntry]) -> Result<(), StoreError> {
        self.gate().await?;
        self.inner.set_many(entries).await
    }

    async fn delete_many(&self, keys: &[Vec<u8>]) -> Result<u64, StoreError> {
        self.gate().await?;
        self.inner.delete_many(keys).await
    }

    async fn scan_prefix(
        &self,
        prefix: &[u8],
        cursor: ScanCursor,
        count: usize,
    ) -> Result<ScanPage, StoreError> {
        self.gate().await?;
        let page = self.faults.scans.fetch_add(1, Ordering::SeqCst) + 1;
        if page == self.faults.restart_scan_at.load(Ordering::SeqCst) {
            let mut page = self
                .inner
                .scan_prefix(prefix, ScanCursor::start(), count)
                .await?;
            page.restarted = true;
            return Ok(page);
        }
        self.inner.scan_prefix(prefix, cursor, count).await
    }
}

// ---------------------------------------------------------------------------------------------
// The cases.

/// The names of every case, in order (what [`store_suite!`](crate::store_suite) expands).
pub const CASES: &[&str] = &[
    "get_set_delete",
    "key_layout",
    "binary_and_hash_tagged_keys",
    "set_with_ttl_expires",
    "default_ttl_is_applied",
    "ttl_jitter_bounds",
    "batches",
    "get_or_load_single_flight",
    "get_or_load_errors_reach_every_waiter",
    "get_or_load_survives_a_cancelled_leader",
    "corrupt_values_are_counted_misses",
    "corrupt_values_fail_closed",
    "fail_open_vs_fail_closed",
    "timeouts_are_bounded",
    "name_and_key_validation",
    "models_with_equal_keys_are_isolated",
    "versions_are_isolated",
    "codecs_are_isolated",
    "raw_payloads_without_envelope",
    "scan_lists_every_version_of_a_model",
    "store_contract",
    "set_if_absent_keeps_what_is_there",
];

/// `get`, `set`, overwrite, `delete`, and the counters they leave.
pub async fn get_set_delete<S: Store + Clone>(store: S) {
    let cache = cache(store, "basic");
    let users = cache.model::<User>();
    assert_eq!(users.name(), "User");
    assert_eq!(users.get("1").await.unwrap(), None);
    users.set("1", &user(1)).await.unwrap();
    assert_eq!(users.get("1").await.unwrap(), Some(user(1)));
    let mut changed = user(1);
    changed.email = "new@example.com".into();
    users.set("1", &changed).await.unwrap();
    assert_eq!(users.get("1").await.unwrap(), Some(changed));
    assert!(users.delete("1").await.unwrap());
    assert!(!users.delete("1").await.unwrap());
    assert_eq!(users.get("1").await.unwrap(), None);

    let s = users.stats();
    assert_eq!((s.hit, s.miss), (2, 2));
    assert_eq!(
        s.decode_error + s.version_mismatch + s.store_error + s.load,
        0
    );
    // A clone and a second handle share the counters of (User, version).
    users.clone().get("nope").await.unwrap();
    cache.model::<User>().get("nope").await.unwrap();
    let snap = cache.stats();
    let row = snap
        .get("User", &users.key_version().to_string())
        .expect("a row per model version");
    assert_eq!(row.miss, 4);
}

/// The key is `{namespace}:{model}:{16 hex}:{logical}` and the stored value is enveloped.
pub async fn key_layout<S: Store + Clone>(store: S) {
    let cache = cache(store.clone(), "layout");
    let users = cache.model::<User>();
    let key = users.key("42").unwrap();
    let kv = users.key_version().to_string();
    assert_eq!(kv.len(), 16);
    assert!(kv
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_eq!(
        key,
        format!("{}:User:{kv}:42", cache.namespace()).into_bytes()
    );
    let parsed = ParsedKey::parse(&key).unwrap();
    assert_eq!(
        (
            parsed.namespace,
            parsed.model,
            parsed.version,
            parsed.logical
        ),
        (cache.namespace(), "User", kv.as_str(), &b"42"[..])
    );
    assert_eq!(users.prefix().as_bytes(), &key[..key.len() - 2]);

    users.set("42", &user(42)).await.unwrap();
    let raw = store
        .get(&key)
        .await
        .unwrap()
        .expect("written under the key");
    assert_eq!(&raw[..2], &envelope::MAGIC);
    assert_eq!(raw[2], envelope::FORMAT_CHECKSUM);
    assert_eq!(raw[3], 1, "JSON codec id");
    assert_eq!(&raw[4..20], &users.key_version().envelope_tag());
    let payload: User = serde_json::from_slice(&raw[envelope::HEADER_LEN..]).unwrap();
    assert_eq!(payload, user(42));
    let len = u32::from_le_bytes(raw[20..24].try_into().unwrap()) as usize;
    assert_eq!(len, raw.len() - envelope::HEADER_LEN, "the payload length");
    let encoded = users.encode_value(&user(42)).unwrap();
    assert_eq!(encoded[..24], raw[..24], "the same header up to the times");
    assert_eq!(encoded[envelope::HEADER_LEN..], raw[envelope::HEADER_LEN..]);
    assert_eq!(users.decode_value(&raw).unwrap(), user(42));
}

/// Logical keys are arbitrary bytes, written as given (Redis Cluster hash tags survive).
pub async fn binary_and_hash_tagged_keys<S: Store + Clone>(store: S) {
    let cache = cache(store.clone(), "binkeys");
    let users = cache.model::<User>();
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    let keys: Vec<Vec<u8>> = vec![
        all_bytes,
        b"user:{42}:profile".to_vec(),
        b"".to_vec(),
        b"*?[]\\ glob".to_vec(),
        "ключ 🔑".as_bytes().to_vec(),
    ];
    for (i, k) in keys.iter().enumerate() {
        users.set(k, &user(i as u64)).await.unwrap();
    }
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(users.get(k).await.unwrap(), Some(user(i as u64)), "{k:?}");
        let full = users.key(k).unwrap();
        assert!(full.ends_with(k));
        let added = &full[..full.len() - k.len()];
        assert!(!added.contains(&b'{') && !added.contains(&b'}'));
    }
    let tagged = users.key("user:{42}:profile").unwrap();
    let open = tagged.iter().position(|&b| b == b'{').unwrap();
    assert_eq!(
        &tagged[open..open + 4],
        b"{42}",
        "the first braces are the user's"
    );
}

/// `set_with_ttl` expires; the store sees the TTL.
pub async fn set_with_ttl_expires<S: Store + Clone>(store: S) {
    let cache = cache(store.clone(), "ttl");
    let users = cache.model::<User>();
    users
        .set_with_ttl("short", &user(1), Duration::from_millis(150))
        .await
        .unwrap();
    users
        .set_with_ttl("long", &user(2), Duration::from_secs(60))
        .await
        .unwrap();
    let (_, ttl) = store
        .get_with_ttl(&users.key("short").unwrap())
        .await
        .unwrap()
        .expect("present");
    assert!(ttl.expect("has a TTL") <= Duration::from_millis(150));
    assert_eq!(users.get("short").await.unwrap(), Some(user(1)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(users.get("short").await.unwrap(), None, "expired");
    assert_eq!(users.get("long").await.unwrap(), Some(user(2)));
}

/// Writes without a TTL use the cache's default TTL, or a handle's own.
pub async fn default_ttl_is_applied<S: Store + Clone>(store: S) {
    let cache = builder(store.clone(), "defttl")
        .default_ttl(Duration::from_secs(30))
        .build()
        .unwrap();
    let users = cache.model::<User>();
    users.set("1", &user(1)).await.unwrap();
    let (_, ttl) = store
        .get_with_ttl(&users.key("1").unwrap())
        .await
        .unwrap()
        .unwrap();
    let ttl = ttl.expect("the default TTL");
    assert!(
        ttl > Duration::from_secs(25) && ttl <= Duration::from_secs(30),
        "{ttl:?}"
    );

    let forever = users.with_default_ttl(None);
    assert_eq!(forever.default_ttl(), None);
    forever.set("2", &user(2)).await.unwrap();
    let (_, ttl) = store
        .get_with_ttl(&users.key("2").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ttl, None);

    users
        .set_many([("3", user(3)), ("4", user(4))])
        .await
        .unwrap();
    for k in ["3", "4"] {
        let (_, ttl) = store
            .get_with_ttl(&users.key(k).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(ttl.unwrap() > Duration::from_secs(25));
    }
}

/// Jitter keeps every TTL within `ttl * (1 ± jitter)` and spreads them; 0 turns it off.
pub async fn ttl_jitter_bounds<S: Store + Clone>(store: S) {
    const N: u64 = 200;
    let ttl = Duration::from_secs(100);
    let slack = Duration::from_secs(5); // time between the write and the read-back
    let jittered = builder(store.clone(), "jitter")
        .ttl_jitter(0.2)
        .default_ttl(ttl)
        .build()
        .unwrap();
    assert_eq!(jittered.config().ttl_jitter, 0.2);
    let users = jittered.model::<User>();
    for i in 0..N / 2 {
        users
            .set_with_ttl(i.to_string(), &user(i), ttl)
            .await
            .unwrap();
    }
    users
        .set_many((N / 2..N).map(|i| (i.to_string(), user(i))))
        .await
        .unwrap();
    let mut ttls = Vec::new();
    for i in 0..N {
        let (_, t) = store
            .get_with_ttl(&users.key(i.to_string()).unwrap())
            .await
            .unwrap()
            .unwrap();
        let t = t.unwrap();
        assert!(
            t >= Duration::from_secs(80) - slack && t <= Duration::from_secs(120),
            "{t:?} outside 100 s ± 20%"
        );
        ttls.push(t);
    }
    // Spread, separately for `set_with_ttl` and for `set_many` (jittered per entry).
    for half in ttls.chunks(N as usize / 2) {
        let min = half.iter().min().unwrap();
        let max = half.iter().max().unwrap();
        assert!(
            *min < Duration::from_secs(90) && *max > Duration::from_secs(110),
            "spread: {min:?}..{max:?}"
        );
    }

    let plain = cache(store.clone(), "nojitter");
    let users = plain.model::<User>();
    for i in 0..20 {
        users
            .set_with_ttl(i.to_string(), &user(i), ttl)
            .await
            .unwrap();
        let (_, t) = store
            .get_with_ttl(&users.key(i.to_string()).unwrap())
            .await
            .unwrap()
            .unwrap();
        let t = t.unwrap();
        assert!(t <= ttl && t >= ttl - slack, "{t:?}");
    }

    for bad in [1.0, 1.5, -0.1, f64::NAN] {
        let err = builder(store.clone(), "badjitter")
            .ttl_jitter(bad)
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::Jitter(_)), "{bad}: {err}");
    }
}

/// `get_many`, `set_many`, `delete_many`.
pub async fn batches<S: Store + Clone>(store: S) {
    let cache = cache(store, "batch");
    let users = cache.model::<User>();
    users
        .set_many(vec![
            ("a".to_string(), user(1)),
            ("b".to_string(), user(2)),
            ("c".to_string(), user(3)),
        ])
        .await
        .unwrap();
    let borrowed = user(4);
    users.set_many([("d", &borrowed)]).await.unwrap();
    users.set_many(Vec::<(&str, User)>::new()).await.unwrap();
    let got = users
        .get_many(&["a", "missing", "c", "d", "b"])
        .await
        .unwrap();
    assert_eq!(
        got,
        vec![
            Some(user(1)),
            None,
            Some(user(3)),
            Some(user(4)),
            Some(user(2))
        ]
    );
    assert_eq!(users.get_many::<&str>(&[]).await.unwrap(), vec![]);
    let s = users.stats();
    assert_eq!((s.hit, s.miss), (4, 1));
    assert_eq!(users.delete_many(&["a", "b", "missing"]).await.unwrap(), 2);
    assert_eq!(
        users.get_many(&["a", "b", "c"]).await.unwrap(),
        vec![None, None, Some(user(3))]
    );
}

/// 100 concurrent `get_or_load` of one key call the loader exactly once.
pub async fn get_or_load_single_flight<S: Store + Clone>(store: S) {
    let cache = cache(store, "flight");
    let users = cache.model::<User>();
    let calls = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(tokio::sync::Barrier::new(100));
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let users = users.clone();
        let calls = calls.clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            users
                .get_or_load("hot", || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Ok::<_, std::io::Error>(user(7))
                })
                .await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), user(7));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the loader ran once");
    assert_eq!(users.stats().load, 1);
    // Cached now: no more loads.
    let again = users
        .get_or_load("hot", || async {
            Err::<User, _>(std::io::Error::other("not called"))
        })
        .await
        .unwrap();
    assert_eq!(again, user(7));
    assert_eq!(users.get("hot").await.unwrap(), Some(user(7)));
    assert_eq!(users.stats().load, 1);
}

/// A loader error reaches every waiter, and the next call loads again (no poisoning).
pub async fn get_or_load_errors_reach_every_waiter<S: Store + Clone>(store: S) {
    #[derive(Debug)]
    struct DbDown;
    impl std::fmt::Display for DbDown {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("database down")
        }
    }
    impl std::error::Error for DbDown {}

    let cache = cache(store, "flighterr");
    let users = cache.model::<User>();
    let calls = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(tokio::sync::Barrier::new(20));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let users = users.clone();
        let calls = calls.clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            users
                .get_or_load("k", || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Err::<User, _>(DbDown)
                })
                .await
        }));
    }
    for t in tasks {
        match t.await.unwrap() {
            // The loader's own error type, shared by every waiter.
            Err(LoadError::Loader { model, key, error }) => {
                assert_eq!((&*model, key.as_str()), ("User", "k"));
                let _: &DbDown = &error;
            }
            other => panic!("expected a load error, got {other:?}"),
        }
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(users.get("k").await.unwrap(), None, "nothing cached");
    let v = users
        .get_or_load("k", || async { Ok::<_, DbDown>(user(1)) })
        .await
        .unwrap();
    assert_eq!(v, user(1));
    assert_eq!(users.get("k").await.unwrap(), Some(user(1)));
    assert_eq!(users.stats().load, 2);
}

/// A leader cancelled mid-load hands over to a waiter instead of leaving it stuck.
pub async fn get_or_load_survives_a_cancelled_leader<S: Store + Clone>(store: S) {
    let cache = cache(store, "flightcancel");
    let users = cache.model::<User>();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let leader = {
        let users = users.clone();
        tokio::spawn(async move {
            users
                .get_or_load("k", || async move {
                    let _ = started_tx.send(());
                    std::future::pending::<Result<User, std::io::Error>>().await
                })
                .await
        })
    };
    started_rx.await.unwrap();
    let waiter = {
        let users = users.clone();
        tokio::spawn(async move {
            users
                .get_or_load("k", || async { Ok::<_, std::io::Error>(user(9)) })
                .await
        })
    };
    // Let the waiter join the leader's flight, then cancel the leader.
    tokio::time::sleep(Duration::from_millis(50)).await;
    leader.abort();
    let got = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("the waiter took over")
        .unwrap()
        .unwrap();
    assert_eq!(got, user(9));
    assert_eq!(users.get("k").await.unwrap(), Some(user(9)));
}

/// What a corruption should be counted as.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Decode,
    Mismatch,
}

/// Stored values that must never decode: `(name, bytes, expected class)`.
async fn corruptions<S: Store + Clone>(
    store: &S,
    ns_tag: &str,
) -> Vec<(&'static str, Vec<u8>, Expect)> {
    // Build real values of other models, versions and codecs in a scratch namespace.
    let scratch = cache(store.clone(), ns_tag);
    let ns = scratch.namespace().to_string();
    let users = scratch.model::<User>();
    let valid = users.encode_value(&user(1)).unwrap();
    let v2 = scratch.model::<UserV2>().encode_value(&user_v2(1)).unwrap();
    let invoice = scratch
        .model::<Invoice>()
        .encode_value(&Invoice { id: 1, amount: 5 })
        .unwrap();
    let msgpack = Cache::builder(store.clone())
        .namespace(ns.clone())
        .codec(MsgPackCodec)
        .build()
        .unwrap()
        .model::<User>()
        .encode_value(&user(1))
        .unwrap();
    let mut random = noise(200, 0x9E37_79B9_7F4A_7C15);
    random[0] = b'x';
    let mut other_format = valid.clone();
    other_format[2] = 0x7F;
    let mut garbage_payload = valid[..envelope::HEADER_LEN].to_vec();
    garbage_payload.extend_from_slice(b"{\"id\": not json");
    // A well-sealed envelope around a payload of another shape: only the codec can tell.
    let wrong_fields = {
        let payload = br#"{"id":1,"full_name":"x","email":"y"}"#;
        let expected = envelope::Expected::new(1, &users.key_version());
        let mut v = Vec::new();
        let start = envelope::begin(&mut v, &expected);
        v.extend_from_slice(payload);
        envelope::seal(&mut v, start, &expected, envelope::Times::now(None)).unwrap();
        v
    };
    let mut flipped = valid.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 0x01;
    let mut padded = valid.clone();
    padded.push(b' ');
    vec![
        (
            "truncated payload",
            valid[..valid.len() / 2].to_vec(),
            Expect::Decode,
        ),
        ("truncated header", valid[..10].to_vec(), Expect::Decode),
        ("empty", Vec::new(), Expect::Decode),
        ("random bytes", random, Expect::Decode),
        (
            "bare json",
            serde_json::to_vec(&user(1)).unwrap(),
            Expect::Decode,
        ),
        ("garbage payload", garbage_payload, Expect::Decode),
        ("one flipped bit", flipped, Expect::Decode),
        ("padded", padded, Expect::Decode),
        ("payload of another shape", wrong_fields, Expect::Decode),
        ("another version of the model", v2, Expect::Mismatch),
        ("another model's value", invoice, Expect::Mismatch),
        ("another codec's value", msgpack, Expect::Mismatch),
        ("another envelope format", other_format, Expect::Mismatch),
    ]
}

/// Damaged and foreign values are misses, each counted as a decode error or a version
/// mismatch; never a panic or a wrong value.
pub async fn corrupt_values_are_counted_misses<S: Store + Clone>(store: S) {
    let cases = corruptions(&store, "corruptsrc").await;
    let cache = builder(store.clone(), "corrupt")
        .delete_invalid(false)
        .build()
        .unwrap();
    let users = cache.model::<User>();
    let mut expected = (0u64, 0u64);
    for (name, bytes, class) in &cases {
        let key = users.key(*name).unwrap();
        store.set(&key, bytes, None).await.unwrap();
        assert_eq!(users.get(*name).await.unwrap(), None, "{name}");
        match class {
            Expect::Decode => expected.0 += 1,
            Expect::Mismatch => expected.1 += 1,
        }
        let s = users.stats();
        assert_eq!((s.decode_error, s.version_mismatch), expected, "{name}");
        assert!(users.decode_value(bytes).is_err(), "{name}");
    }
    let s = users.stats();
    assert_eq!(s.miss, cases.len() as u64);
    assert_eq!(s.hit, 0);

    // The same through a batch read.
    let names: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let got = users.get_many(&names).await.unwrap();
    assert!(got.iter().all(Option::is_none));
    assert_eq!(users.stats().miss, 2 * cases.len() as u64);

    // get_or_load replaces a damaged value with a loaded one.
    let v = users
        .get_or_load("random bytes", || async {
            Ok::<_, std::io::Error>(user(5))
        })
        .await
        .unwrap();
    assert_eq!(v, user(5));
    assert_eq!(users.get("random bytes").await.unwrap(), Some(user(5)));

    // With delete_invalid, an unreadable value is removed when found.
    let deleting = builder(store.clone(), "corruptdel")
        .delete_invalid(true)
        .build()
        .unwrap();
    let users = deleting.model::<User>();
    let key = users.key("x").unwrap();
    store.set(&key, b"garbage", None).await.unwrap();
    assert_eq!(users.get("x").await.unwrap(), None);
    assert_eq!(store.get(&key).await.unwrap(), None, "deleted");
}

/// Under fail-closed, unreadable values are errors of the right kind naming model and key.
pub async fn corrupt_values_fail_closed<S: Store + Clone>(store: S) {
    let cases = corruptions(&store, "closedsrc").await;
    let cache = builder(store.clone(), "closed")
        .failure_mode(FailureMode::Closed)
        .build()
        .unwrap();
    let users = cache.model::<User>();
    for (name, bytes, class) in &cases {
        store
            .set(&users.key(*name).unwrap(), bytes, None)
            .await
            .unwrap();
        let err = users.get(*name).await.unwrap_err();
        assert_eq!(err.model(), "User");
        assert_eq!(err.key(), *name);
        match (class, &err) {
            (Expect::Decode, CacheError::Decode { source, .. }) => {
                assert!(matches!(
                    source,
                    DecodeError::Envelope(_) | DecodeError::Codec(_)
                ));
            }
            (Expect::Mismatch, CacheError::VersionMismatch { source, .. }) => {
                assert!(source.is_version_mismatch());
            }
            _ => panic!("{name}: expected {class:?}, got {err}"),
        }
        assert!(err.to_string().contains("User"), "{err}");
    }
    let s = users.stats();
    assert_eq!(s.decode_error + s.version_mismatch, cases.len() as u64);
    assert_eq!(s.miss, 0, "errors are not misses under fail-closed");
    // An envelope-level error names what differs.
    store
        .set(&users.key("short").unwrap(), b"\xC1V\x01", None)
        .await
        .unwrap();
    match users.get("short").await.unwrap_err() {
        CacheError::Decode {
            source: DecodeError::Envelope(EnvelopeError::Truncated { len: 3 }),
            ..
        } => {}
        other => panic!("{other:?}"),
    }
}

/// A failing store: misses and no-ops under fail-open, errors under fail-closed; counted.
pub async fn fail_open_vs_fail_closed<S: Store + Clone>(store: S) {
    let faulty = FaultyStore::new(store.clone());
    let open = cache(faulty.clone(), "failopen");
    let closed = builder(faulty.clone(), "failclosed")
        .failure_mode(FailureMode::Closed)
        .build()
        .unwrap();
    let (uo, uc) = (open.model::<User>(), closed.model::<User>());
    uo.set("1", &user(1)).await.unwrap();
    uc.set("1", &user(1)).await.unwrap();

    faulty.set_failing(true);
    // Fail-open: every operation carries on.
    assert_eq!(uo.get("1").await.unwrap(), None);
    uo.set("2", &user(2)).await.unwrap();
    uo.set_with_ttl("2", &user(2), Duration::from_secs(5))
        .await
        .unwrap();
    assert!(!uo.delete("1").await.unwrap());
    assert_eq!(uo.get_many(&["1", "2"]).await.unwrap(), vec![None, None]);
    uo.set_many([("3", user(3))]).await.unwrap();
    assert_eq!(uo.delete_many(&["1"]).await.unwrap(), 0);
    let loaded = uo
        .get_or_load("1", || async { Ok::<_, std::io::Error>(user(10)) })
        .await
        .unwrap();
    assert_eq!(
        loaded,
        user(10),
        "the loader serves while the store is down"
    );
    let s = uo.stats();
    // The first five failures open the circuit breaker; the later calls skip the store.
    assert_eq!(s.store_error, 5, "{s:?}");
    assert_eq!(s.store_error + s.breaker_rejected, 9, "{s:?}");
    assert_eq!(s.miss, 4);
    assert_eq!(s.load, 1);

    // Fail-closed: every operation reports the store error with model and key.
    fn is_store(r: Result<impl std::fmt::Debug, CacheError>, key: &str) {
        match r {
            Err(CacheError::Store {
                model,
                key: k,
                source,
            }) => {
                assert_eq!(&*model, "User");
                assert!(k.starts_with(key), "{k} vs {key}");
                assert!(matches!(source, StoreError::Unavailable(_)));
            }
            other => panic!("expected a store error, got {other:?}"),
        }
    }
    is_store(uc.get("1").await, "1");
    is_store(uc.set("2", &user(2)).await, "2");
    is_store(uc.delete("1").await, "1");
    is_store(uc.get_many(&["1", "2"]).await, "1");
    is_store(uc.set_many([("3", user(3))]).await, "3");
    is_store(uc.delete_many(&["1", "2"]).await, "1");
    is_store(
        uc.get_or_load("1", || async { Ok::<_, std::io::Error>(user(10)) })
            .await
            .map_err(CacheError::from),
        "1",
    );
    let s = uc.stats();
    assert_eq!(s.store_error + s.breaker_rejected, 7, "{s:?}");
    assert_eq!((s.miss, s.load), (0, 0));

    // Back up: both work again once their breakers' probes succeed (after the cooldown),
    // and nothing was lost that was not deleted.
    faulty.set_failing(false);
    tokio::time::sleep(BREAKER_COOLDOWN + Duration::from_millis(50)).await;
    assert_eq!(uc.get("1").await.unwrap(), Some(user(1)));
    assert_eq!(uo.get("1").await.unwrap(), Some(user(1)));
}

/// A stalled store costs at most the timeout: a miss under fail-open, an error under
/// fail-closed.
pub async fn timeouts_are_bounded<S: Store + Clone>(store: S) {
    let faulty = FaultyStore::new(store);
    let timeout = Duration::from_millis(50);
    let open = builder(faulty.clone(), "slowopen")
        .timeout(timeout)
        .build()
        .unwrap();
    let closed = builder(faulty.clone(), "slowclosed")
        .timeout(timeout)
        .failure_mode(FailureMode::Closed)
        .build()
        .unwrap();
    let (uo, uc) = (open.model::<User>(), closed.model::<User>());
    uo.set("1", &user(1)).await.unwrap();
    faulty.set_delay(Duration::from_secs(10));

    let t = Instant::now();
    assert_eq!(uo.get("1").await.unwrap(), None);
    uo.set("1", &user(1)).await.unwrap();
    assert_eq!(uo.get_many(&["1"]).await.unwrap(), vec![None]);
    let loaded = uo
        .get_or_load("1", || async { Ok::<_, std::io::Error>(user(2)) })
        .await
        .unwrap();
    assert_eq!(loaded, user(2));
    // 5 bounded operations (get_or_load: one read and one write).
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(uo.stats().store_error, 5);

    let t = Instant::now();
    match uc.get("1").await {
        Err(CacheError::Store {
            source: StoreError::Timeout(d),
            ..
        }) => assert_eq!(d, timeout),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(
        builder(faulty.inner().clone(), "zerotimeout")
            .timeout(Duration::ZERO)
            .build()
            .unwrap_err()
            == ConfigError::ZeroTimeout
    );
}

/// Namespaces, model names and logical keys are validated with clear errors.
pub async fn name_and_key_validation<S: Store + Clone>(store: S) {
    let err = Cache::builder(store.clone()).build().unwrap_err();
    assert_eq!(err, ConfigError::MissingNamespace);
    let bad_ns = |ns: &str| {
        Cache::builder(store.clone())
            .namespace(ns)
            .build()
            .unwrap_err()
    };
    assert_eq!(
        bad_ns(""),
        ConfigError::Name(NameError::Empty {
            kind: NameKind::Namespace
        })
    );
    for (ns, ch, pos) in [
        ("prod:eu", ':', 4),
        ("prod eu", ' ', 4),
        ("pr*d", '*', 2),
        ("p?", '?', 1),
        ("[p]", '[', 0),
        ("p\\", '\\', 1),
        ("{prod}", '{', 0),
        ("pro}", '}', 3),
        ("a\nb", '\n', 1),
        ("a\u{7f}", '\u{7f}', 1),
    ] {
        match bad_ns(ns) {
            ConfigError::Name(NameError::ForbiddenChar {
                kind: NameKind::Namespace,
                ch: c,
                pos: p,
                ..
            }) => assert_eq!((c, p), (ch, pos), "{ns:?}"),
            other => panic!("{ns:?}: {other}"),
        }
        let msg = bad_ns(ns).to_string();
        assert!(
            msg.contains("namespace") && msg.contains(&format!("at byte {pos}")),
            "{msg}"
        );
    }

    let cache = builder(store.clone(), "names")
        .max_key_len(16)
        .max_value_len(128)
        .build()
        .unwrap();
    match cache.model_named::<Order>("Ord er") {
        Err(NameError::ForbiddenChar {
            kind: NameKind::Model,
            ch: ' ',
            pos: 3,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        cache.model_named::<Order>(""),
        Err(NameError::Empty {
            kind: NameKind::Model
        })
    ));
    // Types without a name of their own take an explicit one.
    let blobs = cache.model_named::<Vec<u8>>("Blob").unwrap();
    blobs.set("b", &vec![1, 2, 3]).await.unwrap();
    assert_eq!(blobs.get("b").await.unwrap(), Some(vec![1, 2, 3]));
    assert!(blobs
        .key("b")
        .unwrap()
        .starts_with(format!("{}:Blob:", cache.namespace()).as_bytes()));

    let orders = cache.model::<Order>();
    let ok = "k".repeat(16);
    orders.set(&ok, &Order { id: 1, amount: 2 }).await.unwrap();
    let long = "k".repeat(17);
    for err in [
        orders.get(&long).await.unwrap_err(),
        orders
            .set(&long, &Order { id: 1, amount: 2 })
            .await
            .unwrap_err(),
        orders.delete(&long).await.unwrap_err(),
        orders.get_many(&[&ok, &long]).await.unwrap_err(),
        orders.key(&long).unwrap_err(),
    ] {
        match err {
            CacheError::KeyTooLong {
                model, len, limit, ..
            } => {
                assert_eq!((&*model, len, limit), ("Order", 17, 16));
            }
            other => panic!("{other:?}"),
        }
    }
    let blob_err = blobs.set("big", &vec![0u8; 200]).await.unwrap_err();
    assert!(
        matches!(blob_err, CacheError::ValueTooLarge { limit: 128, .. }),
        "{blob_err}"
    );

    // Long logical keys when configured (1 MiB and a bit).
    let big = builder(store.clone(), "bigkeys")
        .max_key_len((1 << 20) + 16)
        .build()
        .unwrap();
    let orders = big.model::<Order>();
    let huge = vec![b'x'; (1 << 20) + 1];
    orders
        .set(&huge, &Order { id: 3, amount: 4 })
        .await
        .unwrap();
    assert_eq!(
        orders.get(&huge).await.unwrap(),
        Some(Order { id: 3, amount: 4 })
    );
    assert!(orders.delete(&huge).await.unwrap());
    let err = orders.get(vec![b'x'; (1 << 20) + 17]).await.unwrap_err();
    assert!(
        err.key().len() < 100,
        "the key in errors is cut short: {}",
        err.key()
    );
}

/// Two models with the same shape and the same logical key never see each other's values
/// (with the envelope and without it).
pub async fn models_with_equal_keys_are_isolated<S: Store + Clone>(store: S) {
    assert!(
        Order::VERSION == Invoice::VERSION,
        "same shape, same version"
    );
    for envelope in [true, false] {
        let cache = builder(store.clone(), "isolation")
            .envelope(envelope)
            .build()
            .unwrap();
        let orders = cache.model::<Order>();
        let invoices = cache.model::<Invoice>();
        assert_ne!(orders.key("1").unwrap(), invoices.key("1").unwrap());
        assert_ne!(orders.key_version(), invoices.key_version());
        orders.set("1", &Order { id: 1, amount: 10 }).await.unwrap();
        assert_eq!(invoices.get("1").await.unwrap(), None);
        invoices
            .set("1", &Invoice { id: 1, amount: 99 })
            .await
            .unwrap();
        assert_eq!(
            orders.get("1").await.unwrap(),
            Some(Order { id: 1, amount: 10 })
        );
        assert_eq!(
            invoices.get("1").await.unwrap(),
            Some(Invoice { id: 1, amount: 99 })
        );
        assert!(orders.delete("1").await.unwrap());
        assert_eq!(
            invoices.get("1").await.unwrap(),
            Some(Invoice { id: 1, amount: 99 })
        );
    }
}

/// Two versions of one model (a renamed field) never see each other's values, and a write
/// by one build reaches the other's copy: the rolling deploy of seed 000.
pub async fn versions_are_isolated<S: Store + Clone>(store: S) {
    assert!(User::VERSION != UserV2::VERSION);
    let ns = unique_ns("versions");
    let old_build = build_in(store.clone(), &ns);
    let new_build = build_in(store.clone(), &ns);
    let v1 = old_build.model::<User>();
    let v2 = new_build.model::<UserV2>();
    assert_eq!(v1.name(), v2.name());
    let (k1, k2) = (v1.key("7").unwrap(), v2.key("7").unwrap());
    assert_ne!(k1, k2);
    let (p1, p2) = (
        ParsedKey::parse(&k1).unwrap(),
        ParsedKey::parse(&k2).unwrap(),
    );
    assert_eq!(
        (p1.namespace, p1.model, p1.logical),
        (p2.namespace, p2.model, p2.logical)
    );
    assert_ne!(p1.version, p2.version);

    v1.set("7", &user(7)).await.unwrap();
    assert_eq!(v2.get("7").await.unwrap(), None, "never the other's bytes");
    past_young_window().await;
    // The new build's write deletes the old build's copy in the same call.
    v2.set("7", &user_v2(7)).await.unwrap();
    assert_eq!(v1.get("7").await.unwrap(), None, "the old copy was reached");
    assert_eq!(v2.get("7").await.unwrap(), Some(user_v2(7)));
    // And the other way, once the old build has seen the new one.
    v1.set("8", &user(8)).await.unwrap();
    v2.set("8", &user_v2(8)).await.unwrap();
    v1.set("8", &user(8)).await.unwrap();
    assert_eq!(v2.get("8").await.unwrap(), None, "the new copy was reached");
    assert_eq!(v1.get("8").await.unwrap(), Some(user(8)));
    for h in [v1.stats(), v2.stats()] {
        assert_eq!(
            h.decode_error + h.version_mismatch,
            0,
            "no decode errors: {h:?}"
        );
    }
    // Each build's counters are kept per version.
    let snap = new_build.stats();
    assert_eq!(snap.models.len(), 1);
    assert_eq!(snap.models[0].version, p2.version);
}

/// Switching codecs moves a model to a fresh key space (and, like any other version, a
/// write with one codec reaches the other's copy).
pub async fn codecs_are_isolated<S: Store + Clone>(store: S) {
    let ns = unique_ns("codecs");
    let json = build_in(store.clone(), &ns);
    let msgpack = Cache::builder(store.clone())
        .namespace(json.namespace())
        .codec(MsgPackCodec)
        .heartbeat(FAST_BEAT)
        .clock_skew(Duration::ZERO)
        .build()
        .unwrap();
    let (uj, um) = (json.model::<User>(), msgpack.model::<User>());
    assert_ne!(uj.key_version(), um.key_version());
    uj.set("1", &user(1)).await.unwrap();
    assert_eq!(um.get("1").await.unwrap(), None);
    past_young_window().await;
    um.set("1", &user(2)).await.unwrap();
    assert_eq!(uj.get("1").await.unwrap(), None, "reached");
    assert_eq!(um.get("1").await.unwrap(), Some(user(2)));
    let raw = store.get(&um.key("1").unwrap()).await.unwrap().unwrap();
    assert_eq!(raw[3], 2, "MessagePack codec id in the envelope");
}

/// With the envelope off, values are bare codec payloads under their own key version.
pub async fn raw_payloads_without_envelope<S: Store + Clone>(store: S) {
    let enveloped = cache(store.clone(), "raw");
    let raw = Cache::builder(store.clone())
        .namespace(enveloped.namespace())
        .envelope(false)
        .build()
        .unwrap();
    assert!(!raw.config().envelope);
    let (ue, ur) = (enveloped.model::<User>(), raw.model::<User>());
    assert_ne!(
        ue.key_version(),
        ur.key_version(),
        "raw and enveloped never mix"
    );
    ur.set("1", &user(1)).await.unwrap();
    let bytes = store.get(&ur.key("1").unwrap()).await.unwrap().unwrap();
    assert_eq!(bytes, serde_json::to_vec(&user(1)).unwrap());
    assert_eq!(ur.get("1").await.unwrap(), Some(user(1)));
    assert_eq!(ue.get("1").await.unwrap(), None);
    // Undecodable bytes are still a counted miss.
    store
        .set(&ur.key("2").unwrap(), b"\x00\x01garbage", None)
        .await
        .unwrap();
    assert_eq!(ur.get("2").await.unwrap(), None);
    assert_eq!(ur.stats().decode_error, 1);
}

/// A scan by the model prefix finds every version of the model and nothing else, and
/// prefixes are literal (glob characters in logical keys match only themselves).
pub async fn scan_lists_every_version_of_a_model<S: Store + Clone>(store: S) {
    // Two builds that do not announce themselves, so neither write reaches the other.
    let c = builder(store.clone(), "scan")
        .live_versions(false)
        .build()
        .unwrap();
    let c2 = Cache::builder(store.clone())
        .namespace(c.namespace())
        .live_versions(false)
        .build()
        .unwrap();
    let (v1, v2, orders) = (c.model::<User>(), c2.model::<UserV2>(), c.model::<Order>());
    let mut expected = Vec::new();
    for i in 0..60u64 {
        v1.set(i.to_string(), &user(i)).await.unwrap();
        expected.push(v1.key(i.to_string()).unwrap());
    }
    for i in 0..30u64 {
        v2.set(i.to_string(), &user_v2(i)).await.unwrap();
        expected.push(v2.key(i.to_string()).unwrap());
        orders
            .set(i.to_string(), &Order { id: i, amount: i })
            .await
            .unwrap();
    }
    // A neighbour namespace that shares a prefix with ours.
    let neighbour = Cache::builder(store.clone())
        .namespace(format!("{}x", c.namespace()))
        .build()
        .unwrap();
    neighbour.model::<User>().set("0", &user(0)).await.unwrap();
    expected.sort();
    assert_eq!(v1.prefix().model_prefix(), v2.prefix().model_prefix());
    let found = scan_all(&store, v1.prefix().model_prefix(), 7).await;
    assert_eq!(found, expected);
    let only_v2 = scan_all(&store, v2.prefix().as_bytes(), 1000).await;
    assert_eq!(only_v2.len(), 30);

    // Glob characters in the logical key are literal in a prefix scan.
    for k in ["a*", "a?", "a[b]", "a\\", "ab", "aXb"] {
        v1.set(k, &user(1)).await.unwrap();
    }
    for (prefix, n) in [("a*", 1), ("a?", 1), ("a[", 1), ("a\\", 1), ("a", 6)] {
        let keys = scan_all(&store, &v1.key(prefix).unwrap(), 3).await;
        assert_eq!(keys.len(), n, "prefix {prefix:?}: {keys:?}");
    }
}

/// The raw `Store` contract the cache relies on.
pub async fn store_contract<S: Store + Clone>(store: S) {
    let ns = unique_ns("contract");
    let k = |s: &str| format!("{ns}:{s}").into_bytes();
    assert_eq!(store.get(&k("missing")).await.unwrap(), None);
    assert_eq!(store.get_with_ttl(&k("missing")).await.unwrap(), None);
    store.set(&k("empty"), b"", None).await.unwrap();
    assert_eq!(
        store.get(&k("empty")).await.unwrap(),
        Some(vec![]),
        "empty is not missing"
    );
    let all: Vec<u8> = (0..=255u8).collect();
    store.set(&k("bytes"), &all, None).await.unwrap();
    assert_eq!(store.get(&k("bytes")).await.unwrap(), Some(all.clone()));
    assert_eq!(
        store.get_with_ttl(&k("bytes")).await.unwrap(),
        Some((all.clone(), None))
    );
    store
        .set(&k("bytes"), b"v2", Some(Duration::from_secs(50)))
        .await
        .unwrap();
    let (v, ttl) = store.get_with_ttl(&k("bytes")).await.unwrap().unwrap();
    assert_eq!(v, b"v2");
    assert!(ttl.unwrap() <= Duration::from_secs(50) && ttl.unwrap() > Duration::from_secs(45));
    store
        .set_many(&[
            SetEntry {
                key: k("m1"),
                value: b"1".to_vec(),
                ttl: None,
            },
            SetEntry {
                key: k("m2"),
                value: b"2".to_vec(),
                ttl: Some(Duration::from_secs(20)),
            },
        ])
        .await
        .unwrap();
    let got = store
        .get_many(&[k("m1"), k("missing"), k("m2")])
        .await
        .unwrap();
    assert_eq!(got, vec![Some(b"1".to_vec()), None, Some(b"2".to_vec())]);
    assert_eq!(store.get_with_ttl(&k("m1")).await.unwrap().unwrap().1, None);
    assert!(store
        .get_with_ttl(&k("m2"))
        .await
        .unwrap()
        .unwrap()
        .1
        .is_some());
    assert_eq!(
        store
            .delete_many(&[k("m1"), k("m2"), k("missing")])
            .await
            .unwrap(),
        2
    );
    assert!(store.delete(&k("empty")).await.unwrap());
    assert!(!store.delete(&k("empty")).await.unwrap());
    let left: HashSet<Vec<u8>> = scan_all(&store, format!("{ns}:").as_bytes(), 10)
        .await
        .into_iter()
        .collect();
    assert_eq!(left, HashSet::from([k("bytes")]));
}

/// `set_if_absent` and `set_many_if_absent` write only where a key holds no live value, say
/// which they wrote, and give what they wrote its TTL.
pub async fn set_if_absent_keeps_what_is_there<S: Store + Clone>(store: S) {
    let ns = unique_ns("nx");
    let k = |s: &str| format!("{ns}:{s}").into_bytes();
    assert!(store.set_if_absent(&k("a"), b"1", None).await.unwrap());
    assert!(!store.set_if_absent(&k("a"), b"2", None).await.unwrap());
    assert_eq!(store.get(&k("a")).await.unwrap(), Some(b"1".to_vec()));
    // An empty value is a value.
    store.set(&k("empty"), b"", None).await.unwrap();
    assert!(!store.set_if_absent(&k("empty"), b"x", None).await.unwrap());
    assert_eq!(store.get(&k("empty")).await.unwrap(), Some(vec![]));
    // The TTL applies to what it wrote.
    assert!(store
        .set_if_absent(&k("ttl"), b"t", Some(Duration::from_secs(40)))
        .await
        .unwrap());
    let ttl = store.get_with_ttl(&k("ttl")).await.unwrap().unwrap().1;
    assert!(ttl.is_some_and(|t| t <= Duration::from_secs(40) && t > Duration::from_secs(35)));
    // An expired value is no value.
    store
        .set(&k("short"), b"old", Some(Duration::from_millis(50)))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert!(store
        .set_if_absent(&k("short"), b"new", None)
        .await
        .unwrap());
    assert_eq!(store.get(&k("short")).await.unwrap(), Some(b"new".to_vec()));
    // Many at once: one answer per entry, in order; keys spread over many slots on a cluster.
    let entries: Vec<SetEntry> = (0..40)
        .map(|i| SetEntry {
            key: k(&format!("m{i}")),
            value: format!("new{i}").into_bytes(),
            ttl: (i % 2 == 0).then(|| Duration::from_secs(30)),
        })
        .collect();
    for i in (0..40).step_by(3) {
        store
            .set(&k(&format!("m{i}")), format!("old{i}").as_bytes(), None)
            .await
            .unwrap();
    }
    let landed = store.set_many_if_absent(&entries).await.unwrap();
    let want: Vec<bool> = (0..40).map(|i| i % 3 != 0).collect();
    assert_eq!(landed, want);
    let keys: Vec<Vec<u8>> = entries.iter().map(|e| e.key.clone()).collect();
    let now = store.get_many(&keys).await.unwrap();
    for (i, v) in now.into_iter().enumerate() {
        let want = if i % 3 == 0 {
            format!("old{i}")
        } else {
            format!("new{i}")
        };
        assert_eq!(v, Some(want.into_bytes()), "m{i}");
    }
    assert_eq!(
        store.set_many_if_absent(&[]).await.unwrap(),
        Vec::<bool>::new()
    );
}

/// Runs every case, each on a fresh store from `make`.
pub async fn run_all<S, F, Fut>(make: F)
where
    S: Store + Clone,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = S>,
{
    get_set_delete(make().await).await;
    key_layout(make().await).await;
    binary_and_hash_tagged_keys(make().await).await;
    set_with_ttl_expires(make().await).await;
    default_ttl_is_applied(make().await).await;
    ttl_jitter_bounds(make().await).await;
    batches(make().await).await;
    get_or_load_single_flight(make().await).await;
    get_or_load_errors_reach_every_waiter(make().await).await;
    get_or_load_survives_a_cancelled_leader(make().await).await;
    corrupt_values_are_counted_misses(make().await).await;
    corrupt_values_fail_closed(make().await).await;
    fail_open_vs_fail_closed(make().await).await;
    timeouts_are_bounded(make().await).await;
    name_and_key_validation(make().await).await;
    models_with_equal_keys_are_isolated(make().await).await;
    versions_are_isolated(make().await).await;
    codecs_are_isolated(make().await).await;
    raw_payloads_without_envelope(make().await).await;
    scan_lists_every_version_of_a_model(make().await).await;
    store_contract(make().await).await;
    set_if_absent_keeps_what_is_there(make().await).await;
}

/// One `#[tokio::test]` (multi-threaded, two workers) per case of [`crate::suite`], each on a
/// store from `$make`, an `async fn() -> S`. The calling crate needs `tokio` with `macros`
/// and `rt-multi-thread`.
#[macro_export]
macro_rules! store_suite {
    ($make:path) => {
        $crate::store_suite!(@cases $make;
            get_set_delete,
            key_layout,
            binary_and_hash_tagged_keys,
            set_with_ttl_expires,
            default_ttl_is_applied,
            ttl_jitter_bounds,
            batches,
            get_or_load_single_flight,
            get_or_load_errors_reach_every_waiter,
            get_or_load_survives_a_cancelled_leader,
            corrupt_values_are_counted_misses,
            corrupt_values_fail_closed,
            fail_open_vs_fail_closed,
            timeouts_are_bounded,
            name_and_key_validation,
            models_with_equal_keys_are_isolated,
            versions_are_isolated,
            codecs_are_isolated,
            raw_payloads_without_envelope,
            scan_lists_every_version_of_a_model,
            store_contract,
            set_if_absent_keeps_what_is_there,
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::suite::$case($make().await).await;
            }
        )*
        #[test]
        fn every_case_is_listed() {
            let listed: &[&str] = &[$(stringify!($case)),*];
            assert_eq!(listed, $crate::suite::CASES);
        }
    };
}
