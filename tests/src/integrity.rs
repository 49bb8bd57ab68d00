//! The integrity cases (issue 13): a read returns exactly what this model's current version
//! wrote, or a counted miss, whatever the store hands back. Generic over the store, so they
//! run on `MemoryStore`, standalone Redis and the cluster
//! ([`integrity_suite!`](crate::integrity_suite)).
#![allow(missing_docs)]

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cache_version_core::envelope;
use cache_version_core::rollout::{SweepError, SweepReport};
use cache_version_core::{
    Cache, CacheVersion, Codec, JsonCodec, ModelHandle, MsgPackCodec, PostcardCodec, ScanCursor,
    ScanPage, SetEntry, Store, StoreError, ValueAndTtl,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::suite::unique_ns;

// ---------------------------------------------------------------------------------------------
// Models: the bare numbers and strings a cut value turns into other values, and nested ones.

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
pub struct Balance(pub u64);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
pub struct Ratio(pub f64);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
pub struct Label(pub String);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
pub struct Account {
    pub id: u64,
    pub owner: String,
    pub balance: Balance,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
pub enum Activity {
    Opened { at: u64 },
    Closed,
    Renamed(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
pub struct Ledger {
    pub account: Account,
    pub events: Vec<Activity>,
    pub ratio: Option<Ratio>,
}

/// A directly recursive model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
pub struct Node {
    pub value: u32,
    pub children: Vec<Node>,
}

pub fn account() -> Account {
    Account {
        id: 1234567,
        owner: "Ada Lovelace".into(),
        balance: Balance(1_000_000_007),
        tags: vec!["gold".into(), "eu".into()],
    }
}

pub fn ledger() -> Ledger {
    Ledger {
        account: account(),
        events: vec![
            Activity::Opened { at: 1_700_000_000 },
            Activity::Renamed("Countess".into()),
            Activity::Closed,
        ],
        ratio: Some(Ratio(0.125)),
    }
}

fn cache_with<S: Store, C: Codec>(store: S, codec: C, tag: &str) -> Cache<S, C> {
    Cache::builder(store)
        .namespace(unique_ns(tag))
        .codec(codec)
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Cut values.

/// Stores every prefix of `value`'s stored bytes under one key and reads it back: every one
/// is a miss, counted as a decode error.
async fn every_prefix_is_a_miss<T, S, C>(handle: &ModelHandle<T, S, C>, value: &T)
where
    T: CacheVersion
        + Serialize
        + DeserializeOwned
        + Clone
        + Debug
        + PartialEq
        + Send
        + Sync
        + 'static,
    S: Store,
    C: Codec,
{
    handle.set("whole", value).await.unwrap();
    let whole = handle
        .cache()
        .store()
        .get(&handle.key("whole").unwrap())
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(handle.get("whole").await.unwrap().as_ref(), Some(value));
    let before = handle.stats();
    let key = handle.key("cut").unwrap();
    for len in 0..whole.len() {
        handle
            .cache()
            .store()
            .set(&key, &whole[..len], None)
            .await
            .unwrap();
        let got = handle.get("cut").await.unwrap();
        assert_eq!(
            got,
            None,
            "{} cut to {len} of {} bytes",
            handle.name(),
            whole.len()
        );
        assert!(handle.decode_value(&whole[..len]).is_err());
    }
    let after = handle.stats();
    let n = whole.len() as u64;
    assert_eq!(
        after.decode_error - before.decode_error,
        n,
        "{}",
        handle.name()
    );
    assert_eq!(after.miss - before.miss, n);
    assert_eq!(after.hit - before.hit, 0);
    // The same through a batch read and get_or_load (which loads instead).
    handle
        .cache()
        .store()
        .set(&key, &whole[..whole.len() - 1], None)
        .await
        .unwrap();
    assert_eq!(handle.get_many(&["cut"]).await.unwrap(), vec![None]);
    let loaded = handle
        .get_or_load("cut", || async { value.clone() })
        .await
        .unwrap();
    assert_eq!(&loaded, value);
}

async fn prefixes_with<S: Store + Clone, C: Codec + Clone>(store: S, codec: C) {
    let cache = cache_with(store, codec, "cuts");
    every_prefix_is_a_miss(&cache.model::<Balance>(), &Balance(1234567)).await;
    every_prefix_is_a_miss(&cache.model::<Ratio>(), &Ratio(0.125)).await;
    every_prefix_is_a_miss(&cache.model::<Label>(), &Label("Ada Lovelace".into())).await;
    every_prefix_is_a_miss(&cache.model::<Account>(), &account()).await;
    every_prefix_is_a_miss(&cache.model::<Activity>(), &Activity::Renamed("x".into())).await;
    every_prefix_is_a_miss(&cache.model::<Ledger>(), &ledger()).await;
    let bare = cache.model_named::<u64>("Count").unwrap();
    every_prefix_is_a_miss(&bare, &1234567u64).await;
}

/// Every prefix of stored values of six models and a bare number, under every codec, reads
/// as a counted miss (a JSON number cut short used to be a smaller number, served as a hit).
pub async fn every_prefix_of_a_value_is_a_counted_miss<S: Store + Clone>(store: S) {
    prefixes_with(store.clone(), JsonCodec).await;
    prefixes_with(store.clone(), MsgPackCodec).await;
    prefixes_with(store, PostcardCodec).await;
}

// ---------------------------------------------------------------------------------------------
// Bit flips.

/// A small deterministic generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// What `flips` random changes of one to eight bits of `stored` decoded to: (rejected,
/// accepted as the same value, accepted as a wrong value).
pub fn flip_outcomes<T, S, C>(
    handle: &ModelHandle<T, S, C>,
    stored: &[u8],
    original: &T,
    flips: u64,
    rng: &mut Rng,
) -> (u64, u64, u64)
where
    T: CacheVersion + Serialize + DeserializeOwned + PartialEq + 'static,
    S: Store,
    C: Codec,
{
    let (mut rejected, mut same, mut wrong) = (0, 0, 0);
    let mut buf = stored.to_vec();
    for _ in 0..flips {
        buf.copy_from_slice(stored);
        let bits = 1 + rng.below(8);
        for _ in 0..bits {
            let bit = rng.below(buf.len() * 8);
            buf[bit / 8] ^= 1 << (bit % 8);
        }
        if buf == stored {
            continue; // two flips of one bit undid each other
        }
        match handle.decode_value(&buf) {
            Err(_) => rejected += 1,
            Ok(v) if v == *original => same += 1,
            Ok(_) => wrong += 1,
        }
    }
    (rejected, same, wrong)
}

/// Random one- to eight-bit flips of stored values never come back as a wrong value: a
/// sample through the store (every read path counts them), and `CACHE_VERSION_FLIPS` (default
/// 20,000) more per model and codec through the read path directly.
pub async fn bit_flips_never_serve_wrong_values<S: Store + Clone>(store: S) {
    async fn with<S: Store + Clone, C: Codec>(store: S, codec: C) {
        let cache = cache_with(store.clone(), codec, "flips");
        let handle = cache.model::<Ledger>();
        let value = ledger();
        handle.set("v", &value).await.unwrap();
        let key = handle.key("v").unwrap();
        let stored = store.get(&key).await.unwrap().unwrap();
        let mut rng = Rng::new(u64::from(C::ID));
        // Through the store.
        for i in 0..40 {
            let mut buf = stored.clone();
            let bit = rng.below(buf.len() * 8);
            buf[bit / 8] ^= 1 << (bit % 8);
            store.set(&key, &buf, None).await.unwrap();
            assert_eq!(
                handle.get("v").await.unwrap(),
                None,
                "flip {i} at bit {bit}"
            );
        }
        // Directly.
        let flips = std::env::var("CACHE_VERSION_FLIPS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000);
        let (rejected, same, wrong) = flip_outcomes(&handle, &stored, &value, flips, &mut rng);
        println!(
            "{}: {flips} flips: {rejected} rejected, {same} same, {wrong} wrong",
            C::NAME
        );
        assert_eq!(wrong, 0, "{} served a wrong value", C::NAME);
        assert_eq!(same, 0, "{}: a changed value was accepted", C::NAME);
    }
    with(store.clone(), JsonCodec).await;
    with(store.clone(), MsgPackCodec).await;
    with(store, PostcardCodec).await;
}

// ---------------------------------------------------------------------------------------------
// Size and depth limits.

/// A stored value over `max_value_len` (a valid value written by a cache with a higher
/// limit, so it would decode) is a counted miss on every read path: get, get_many,
/// get_or_load (its read and the leader's re-read), a migration fallback and a sweep.
pub async fn oversized_values_are_misses_on_every_read_path<S: Store + Clone>(store: S) {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
    #[cache_version(name = "Blob")]
    struct BlobV1 {
        data: String,
    }
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
    struct Blob {
        data: String,
        size: u64,
    }
    let limit = 64 << 10;
    let ns = unique_ns("oversized");
    let big = "x".repeat(4 * limit);
    // The writers: builds with a higher limit (the old one in a cache of its own: one cache
    // holds one version of a model unless one is registered on the other).
    let lenient = || {
        Cache::builder(store.clone())
            .namespace(ns.clone())
            .max_value_len(8 * limit)
            .build()
            .unwrap()
    };
    let strict = Cache::builder(store.clone())
        .namespace(ns.clone())
        .max_value_len(limit)
        .build()
        .unwrap();
    let writer = lenient().model::<Blob>();
    let old_writer = lenient().model::<BlobV1>();
    for k in ["get", "many", "load", "fallback-source-unused"] {
        writer
            .set(
                k,
                &Blob {
                    data: big.clone(),
                    size: 1,
                },
            )
            .await
            .unwrap();
    }
    old_writer
        .set("fallback", &BlobV1 { data: big.clone() })
        .await
        .unwrap();

    let reader = strict.model::<Blob>();
    assert_eq!(reader.get("get").await.unwrap(), None);
    assert_eq!(reader.get_many(&["many"]).await.unwrap(), vec![None]);
    let small = Blob {
        data: "small".into(),
        size: 5,
    };
    let loaded = reader
        .get_or_load("load", || async { small.clone() })
        .await
        .unwrap();
    assert_eq!(loaded, small, "loaded, not the oversized value");
    let s = reader.stats();
    assert_eq!(s.hit, 0, "{s:?}");
    assert!(s.decode_error >= 3, "{s:?}");

    // A migration fallback reads the old version through the same limit.
    let migrating = strict
        .model::<Blob>()
        .migrate_from::<BlobV1, _>(|old| Blob {
            size: old.data.len() as u64,
            data: old.data,
        })
        .unwrap();
    assert_eq!(migrating.get("fallback").await.unwrap(), None);
    let old_stats = strict.model::<BlobV1>().stats();
    assert_eq!(old_stats.decode_error, 1, "counted on the old version");
    assert_eq!(migrating.stats().fallback_hit, 0);

    // And a migrator sweep neither migrates nor counts it as done.
    let report = migrating.migrator().run().await.unwrap();
    assert_eq!(report.migrated, 0, "{report:?}");
    assert!(report.balances(), "{report:?}");
    assert!(report.failed >= 1, "{report:?}");
}

/// The postcard bytes of a [`Node`] chain `depth` deep (built by hand: encoding one with
/// serde would recurse as deep).
fn deep_postcard(depth: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 * depth);
    for _ in 1..depth {
        out.extend_from_slice(&[1, 1]); // value 1, one child
    }
    out.extend_from_slice(&[1, 0]); // value 1, no children
    out
}

fn deep_json(depth: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..depth {
        out.extend_from_slice(br#"{"value":1,"children":["#);
    }
    for _ in 0..depth {
        out.extend_from_slice(b"]}");
    }
    out
}

fn deep_msgpack(depth: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..depth {
        out.push(0x82); // fixmap of 2
        out.push(0xa5);
        out.extend_from_slice(b"value");
        out.push(1);
        out.push(0xa8);
        out.extend_from_slice(b"children");
        out.push(if i + 1 < depth { 0x91 } else { 0x90 }); // fixarray of 1 or 0
    }
    out
}

/// Seals `payload` as a value of `handle`'s version (what a hostile writer who knows the
/// format can do: the checksum is no defence against one).
pub fn seal_as<T, S, C>(handle: &ModelHandle<T, S, C>, payload: &[u8]) -> Vec<u8>
where
    T: CacheVersion + Serialize + DeserializeOwned + 'static,
    S: Store,
    C: Codec,
{
    let expected = envelope::Expected::new(C::ID, &handle.key_version());
    let mut v = Vec::new();
    let start = envelope::begin(&mut v, &expected);
    v.extend_from_slice(payload);
    envelope::seal(&mut v, start, &expected, envelope::Times::now(None)).unwrap();
    v
}

/// A recursive model nested 10,000 deep (20 KB with postcard) is a counted miss under every
/// codec, and the process lives (postcard has no depth limit of its own; it aborted on
/// stack overflow).
pub async fn deep_values_are_counted_misses<S: Store + Clone>(store: S) {
    async fn with<S: Store + Clone, C: Codec>(store: S, codec: C, payload: Vec<u8>) {
        let cache = cache_with(store.clone(), codec, "deep");
        let nodes = cache.model::<Node>();
        // Shallow ones still work.
        let shallow = Node {
            value: 1,
            children: vec![Node {
                value: 2,
                children: vec![],
            }],
        };
        nodes.set("shallow", &shallow).await.unwrap();
        assert_eq!(nodes.get("shallow").await.unwrap(), Some(shallow));
        let sealed = seal_as(&nodes, &payload);
        store
            .set(&nodes.key("deep").unwrap(), &sealed, None)
            .await
            .unwrap();
        assert_eq!(nodes.get("deep").await.unwrap(), None, "{}", C::NAME);
        assert_eq!(nodes.stats().decode_error, 1, "{}", C::NAME);
        assert!(nodes.decode_value(&sealed).is_err());
    }
    let depth = 10_000;
    let postcard = deep_postcard(depth);
    assert_eq!(postcard.len(), 20_000);
    with(store.clone(), PostcardCodec, postcard).await;
    with(store.clone(), JsonCodec, deep_json(depth)).await;
    with(store, MsgPackCodec, deep_msgpack(depth)).await;
}

// ---------------------------------------------------------------------------------------------
// Sweeps under injected failures.

/// Which store method a [`FailNth`] fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    GetWithTtl,
    GetMany,
    SetManyIfAbsent,
    DeleteMany,
    ScanPrefix,
}

pub const METHODS: [Method; 5] = [
    Method::GetWithTtl,
    Method::GetMany,
    Method::SetManyIfAbsent,
    Method::DeleteMany,
    Method::ScanPrefix,
];

/// A store that fails the `n`th call (0-based, counted per method) of one method, and
/// counts the calls that failed.
#[derive(Clone)]
pub struct FailNth<S> {
    inner: S,
    /// (method, first failing call, whether every later call fails too).
    target: Arc<Mutex<Option<(Method, u64, bool)>>>,
    seen: Arc<[AtomicU64; 5]>,
    failed: Arc<AtomicU64>,
}

impl<S: Store> FailNth<S> {
    pub fn new(inner: S) -> Self {
        FailNth {
            inner,
            target: Arc::default(),
            seen: Arc::new(Default::default()),
            failed: Arc::default(),
        }
    }

    /// From now on, fail call `n` of `method` (counting from the next call), and with
    /// `persistent` every later call of it too.
    pub fn arm(&self, method: Method, n: u64, persistent: bool) {
        for s in self.seen.iter() {
            s.store(0, Ordering::SeqCst);
        }
        self.failed.store(0, Ordering::SeqCst);
        *self.target.lock().unwrap() = Some((method, n, persistent));
    }

    pub fn disarm(&self) {
        *self.target.lock().unwrap() = None;
    }

    /// How many injected failures happened since `arm`.
    pub fn failures(&self) -> u64 {
        self.failed.load(Ordering::SeqCst)
    }

    fn gate(&self, method: Method) -> Result<(), StoreError> {
        let i = METHODS.iter().position(|m| *m == method).unwrap();
        let n = self.seen[i].fetch_add(1, Ordering::SeqCst);
        let fails = match *self.target.lock().unwrap() {
            Some((m, first, persistent)) if m == method => n == first || (persistent && n > first),
            _ => false,
        };
        if fails {
            self.failed.fetch_add(1, Ordering::SeqCst);
            return Err(StoreError::unavailable(format!(
                "injected: {method:?} #{n}"
            )));
        }
        Ok(())
    }
}

impl<S: Store> Store for FailNth<S> {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key).await
    }
    async fn get_with_ttl(&self, key: &[u8]) -> Result<Option<ValueAndTtl>, StoreError> {
        self.gate(Method::GetWithTtl)?;
        self.inner.get_with_ttl(key).await
    }
    async fn set(&self, key: &[u8], value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.inner.set(key, value, ttl).await
    }
    async fn set_if_absent(
        &self,
        key: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        self.inner.set_if_absent(key, value, ttl).await
    }
    async fn set_many_if_absent(&self, entries: &[SetEntry]) -> Result<Vec<bool>, StoreError> {
        self.gate(Method::SetManyIfAbsent)?;
        self.inner.set_many_if_absent(entries).await
    }
    async fn delete(&self, key: &[u8]) -> Result<bool, StoreError> {
        self.inner.delete(key).await
    }
    async fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.gate(Method::GetMany)?;
        self.inner.get_many(keys).await
    }
    async fn set_many(&self, entries: &[SetEntry]) -> Result<(), StoreError> {
        self.inner.set_many(entries).await
    }
    async fn delete_many(&self, keys: &[Vec<u8>]) -> Result<u64, StoreError> {
        self.gate(Method::DeleteMany)?;
        self.inner.delete_many(keys).await
    }
    async fn scan_prefix(
        &self,
        prefix: &[u8],
        cursor: ScanCursor,
        count: usize,
    ) -> Result<ScanPage, StoreError> {
        self.gate(Method::ScanPrefix)?;
        self.inner.scan_prefix(prefix, cursor, count).await
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
#[cache_version(name = "Swept")]
pub struct SweptV1 {
    pub id: u64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
#[cache_version(name = "Swept")]
pub struct SweptV2 {
    pub id: u64,
    pub full_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, CacheVersion)]
#[cache_version(name = "Swept")]
pub struct SweptV3 {
    pub id: u64,
    pub full_name: String,
    pub verified: bool,
}

/// `scanned == migrated + deleted + skipped + failed + pending` for every sweep mode, with
/// every store call a sweep makes failing in turn (the first, second and third call of each
/// method), and every injected failure ends up in `failed` or `pending`. A scan page that
/// fails once is tried again (so the walk completes); a scan that keeps failing ends the run
/// with an error whose report counts the unprocessed keys as `pending`.
pub async fn sweep_reports_balance_under_injected_failures<S: Store + Clone>(store: S) {
    let faulty = FailNth::new(store.clone());
    for mode in ["cleanup", "migrator", "sweep", "dry-run"] {
        for method in METHODS {
            for n in 0..3 {
                let ns = unique_ns("sweepfail");
                let cache = Cache::builder(faulty.clone())
                    .namespace(ns.clone())
                    .build()
                    .unwrap();
                // 120 old keys of two older versions (one migratable, one not), some current,
                // written by builds that are gone (so the sweep may delete their keys).
                let gone = || {
                    Cache::builder(store.clone())
                        .namespace(ns.clone())
                        .live_versions(false)
                        .build()
                        .unwrap()
                };
                let v1h = gone().model::<SweptV1>();
                let v2h = gone().model::<SweptV2>();
                for i in 0..60u64 {
                    let k = i.to_string();
                    v1h.set(
                        &k,
                        &SweptV1 {
                            id: i,
                            name: format!("n{i}"),
                        },
                    )
                    .await
                    .unwrap();
                    v2h.set(
                        &k,
                        &SweptV2 {
                            id: i,
                            full_name: format!("f{i}"),
                        },
                    )
                    .await
                    .unwrap();
                }
                let current = cache
                    .model::<SweptV3>()
                    .migrate_from::<SweptV2, _>(|o| SweptV3 {
                        id: o.id,
                        full_name: o.full_name,
                        verified: false,
                    })
                    .unwrap();
                for i in 0..10u64 {
                    current
                        .set(
                            i.to_string(),
                            &SweptV3 {
                                id: i,
                                full_name: "c".into(),
                                verified: true,
                            },
                        )
                        .await
                        .unwrap();
                }
                let sweep = match mode {
                    "cleanup" => current.cleanup(),
                    "migrator" => current.migrator(),
                    "sweep" => current.sweep(),
                    _ => current.sweep().dry_run(true),
                }
                .batch_size(25);
                faulty.arm(method, n, method == Method::ScanPrefix);
                let result = sweep.run().await;
                faulty.disarm();
                let injected = faulty.failures();
                let mut errored = false;
                let report: SweepReport = match result {
                    Ok(r) => r,
                    Err(SweepError::Scan { report, .. }) => {
                        assert_eq!(method, Method::ScanPrefix, "{mode}");
                        errored = true;
                        *report
                    }
                    Err(e) => panic!("{mode} {method:?} #{n}: {e}"),
                };
                let at = format!("{mode}, {method:?} call #{n} failing: {report:?}");
                assert!(report.balances(), "{at}");
                if method != Method::ScanPrefix {
                    // 120 old keys, less the 10 that the current version's writes deleted
                    // (writes reach the versions a handle migrates from).
                    assert_eq!(report.scanned, 110, "{at}");
                }
                if injected > 0 {
                    assert!(
                        errored || report.failed + report.pending > 0,
                        "an injected failure must be reported: {at}"
                    );
                } else {
                    assert!(report.is_complete(), "{at}");
                }
            }
        }
    }
}

/// The names of every case, in order.
pub const CASES: &[&str] = &[
    "every_prefix_of_a_value_is_a_counted_miss",
    "bit_flips_never_serve_wrong_values",
    "oversized_values_are_misses_on_every_read_path",
    "deep_values_are_counted_misses",
    "sweep_reports_balance_under_injected_failures",
];

/// One `#[tokio::test]` per case of this module, each on a store from `$make`.
#[macro_export]
macro_rules! integrity_suite {
    ($make:path) => {
        $crate::integrity_suite!(@cases $make;
            every_prefix_of_a_value_is_a_counted_miss,
            bit_flips_never_serve_wrong_values,
            oversized_values_are_misses_on_every_read_path,
            deep_values_are_counted_misses,
            sweep_reports_balance_under_injected_failures,
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::integrity::$case($make().await).await;
            }
        )*
        #[test]
        fn every_case_is_listed() {
            let listed: &[&str] = &[$(stringify!($case)),*];
            assert_eq!(listed, $crate::integrity::CASES);
        }
    };
}
