//! Store-contract cases for the `Store` additions (cross-version writes, hash records,
//! restarted scans, type erasure), generic over the store, so they run on `MemoryStore`,
//! standalone Redis and Redis Cluster, and on [`DefaultsOnly`] (the trait's default
//! implementations over each of them).
//!
//! [`contract_suite!`](crate::contract_suite) turns the cases into one `#[tokio::test]` each:
//!
//! ```text
//! async fn store() -> cache_version_core::MemoryStore { cache_version_core::MemoryStore::new() }
//! cache_version_tests::contract_suite!(store);
//! ```
#![allow(missing_docs)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cache_version_core::store::hash_record;
use cache_version_core::{
    DynStore, HashFields, ScanCursor, ScanPage, SetEntry, Store, StoreError, ValueAndTtl,
};

use crate::suite::unique_ns;

/// Every case, by name (the macro checks it lists them all).
pub const CASES: &[&str] = &[
    "set_many_and_delete_writes_then_deletes",
    "set_many_and_delete_big_batches",
    "hash_records",
    "hash_record_ttls",
    "hash_records_are_their_own_kind",
    "scans_see_hash_records_and_do_not_restart",
    "dyn_store_forwards_every_call",
    "defaults_only_store_keeps_the_contract",
];

fn entry(key: Vec<u8>, value: &str, ttl: Option<Duration>) -> SetEntry {
    SetEntry {
        key,
        value: value.as_bytes().to_vec(),
        ttl,
    }
}

/// Every key under `prefix`, and whether any page said it restarted.
pub async fn walk<S: Store>(store: &S, prefix: &[u8], count: usize) -> (Vec<Vec<u8>>, bool) {
    let mut out = Vec::new();
    let mut restarted = false;
    let mut cursor = ScanCursor::start();
    loop {
        let page: ScanPage = store.scan_prefix(prefix, cursor, count).await.unwrap();
        restarted |= page.restarted;
        out.extend(page.keys);
        match page.cursor {
            Some(c) => cursor = c,
            None => break,
        }
    }
    out.sort();
    out.dedup();
    (out, restarted)
}

/// `set_many_and_delete`: writes with their TTLs, counts the deletes that existed, and on a
/// key in both lists the delete wins; keys spread over every slot of a cluster.
pub async fn set_many_and_delete_writes_then_deletes<S: Store + Clone>(store: S) {
    let ns = unique_ns("smd");
    let k = |s: &str| format!("{ns}:{s}").into_bytes();
    // Three "versions" of 30 logical keys; write version a, delete b and c.
    for i in 0..30 {
        store
            .set(&k(&format!("b:{i}")), b"old-b", None)
            .await
            .unwrap();
        if i % 2 == 0 {
            store
                .set(&k(&format!("c:{i}")), b"old-c", None)
                .await
                .unwrap();
        }
    }
    let sets: Vec<SetEntry> = (0..30)
        .map(|i| {
            let ttl = (i % 3 == 0).then(|| Duration::from_secs(40));
            entry(k(&format!("a:{i}")), &format!("new{i}"), ttl)
        })
        .collect();
    let mut deletes: Vec<Vec<u8>> = (0..30)
        .flat_map(|i| [k(&format!("b:{i}")), k(&format!("c:{i}"))])
        .collect();
    deletes.push(k("never-there"));
    let existed = store.set_many_and_delete(&sets, &deletes).await.unwrap();
    assert_eq!(existed, 30 + 15, "every b and every even c existed");
    for (i, e) in sets.iter().enumerate() {
        let (v, ttl) = store.get_with_ttl(&e.key).await.unwrap().expect("written");
        assert_eq!(v, e.value);
        match e.ttl {
            Some(_) => assert!(
                ttl.is_some_and(|t| t <= Duration::from_secs(40) && t > Duration::from_secs(35)),
                "a:{i}: {ttl:?}"
            ),
            None => assert_eq!(ttl, None, "a:{i}"),
        }
    }
    let gone = store.get_many(&deletes).await.unwrap();
    assert!(gone.iter().all(Option::is_none), "every delete landed");
    // Deleting again: nothing existed.
    assert_eq!(store.set_many_and_delete(&[], &deletes).await.unwrap(), 0);
    // A key in both lists: written, then deleted (and counted, it existed when deleted).
    let both = k("both");
    let n = store
        .set_many_and_delete(
            &[entry(both.clone(), "x", None)],
            std::slice::from_ref(&both),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(store.get(&both).await.unwrap(), None);
    // Only writes; only deletes; nothing at all.
    let only = k("only");
    assert_eq!(
        store
            .set_many_and_delete(&[entry(only.clone(), "1", None)], &[])
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.get(&only).await.unwrap(), Some(b"1".to_vec()));
    assert_eq!(
        store
            .set_many_and_delete(&[], std::slice::from_ref(&only))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.set_many_and_delete(&[], &[]).await.unwrap(), 0);
    // Hash-tagged keys (one slot on a cluster) mixed with spread ones.
    let tagged: Vec<SetEntry> = (0..10)
        .map(|i| entry(k(&format!("{{tag}}:{i}")), "t", None))
        .collect();
    let tagged_keys: Vec<Vec<u8>> = tagged.iter().map(|e| e.key.clone()).collect();
    let all_a: Vec<Vec<u8>> = sets.iter().map(|e| e.key.clone()).collect();
    assert_eq!(
        store.set_many_and_delete(&tagged, &all_a).await.unwrap(),
        30
    );
    assert!(store
        .get_many(&tagged_keys)
        .await
        .unwrap()
        .iter()
        .all(|v| v.as_deref() == Some(b"t")));
    assert_eq!(store.delete_many(&tagged_keys).await.unwrap(), 10);
    let (left, _) = walk(&store, ns.as_bytes(), 100).await;
    assert!(left.is_empty(), "{left:?}");
}

/// Batches larger than a store's chunks (Redis: 1000 entries per pipeline by default).
pub async fn set_many_and_delete_big_batches<S: Store + Clone>(store: S) {
    let ns = unique_ns("smdbig");
    let k = |v: &str, i: usize| format!("{ns}:{v}:{i}").into_bytes();
    let old: Vec<SetEntry> = (0..2500).map(|i| entry(k("old", i), "o", None)).collect();
    store.set_many(&old).await.unwrap();
    let sets: Vec<SetEntry> = (0..2500)
        .map(|i| entry(k("new", i), &i.to_string(), Some(Duration::from_secs(60))))
        .collect();
    let mut deletes: Vec<Vec<u8>> = old.iter().map(|e| e.key.clone()).collect();
    deletes.extend((0..700).map(|i| k("missing", i)));
    assert_eq!(
        store.set_many_and_delete(&sets, &deletes).await.unwrap(),
        2500
    );
    let keys: Vec<Vec<u8>> = sets.iter().map(|e| e.key.clone()).collect();
    let got = store.get_many(&keys).await.unwrap();
    for (i, g) in got.iter().enumerate() {
        assert_eq!(g.as_deref(), Some(i.to_string().as_bytes()), "new:{i}");
    }
    let (left, _) = walk(&store, format!("{ns}:old:").as_bytes(), 1000).await;
    assert!(left.is_empty(), "{} old keys left", left.len());
    assert_eq!(store.delete_many(&keys).await.unwrap(), 2500);
}

fn fields(pairs: &[(&str, &str)]) -> HashFields {
    pairs
        .iter()
        .map(|(f, v)| (f.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

/// Hash records: `hash_put` returns every field after the write, sorted; `hash_get_all`
/// reads them; `hash_remove` counts and a record without fields is gone.
pub async fn hash_records<S: Store + Clone>(store: S) {
    let ns = unique_ns("hash");
    let key = format!("{ns}:registry:User").into_bytes();
    assert_eq!(store.hash_get_all(&key).await.unwrap(), vec![]);
    assert_eq!(store.hash_remove(&key, &[b"x".to_vec()]).await.unwrap(), 0);
    let ttl = Some(Duration::from_secs(60));
    assert_eq!(
        store.hash_put(&key, b"v2", b"t=2", ttl).await.unwrap(),
        fields(&[("v2", "t=2")])
    );
    assert_eq!(
        store.hash_put(&key, b"v1", b"t=1", ttl).await.unwrap(),
        fields(&[("v1", "t=1"), ("v2", "t=2")]),
        "sorted by field"
    );
    // Overwrite one field; binary fields and values, an empty value.
    let bin_field: Vec<u8> = vec![0, 255, b'{', b'}', b':'];
    store.hash_put(&key, &bin_field, b"", ttl).await.unwrap();
    let after = store.hash_put(&key, b"v2", b"t=3", None).await.unwrap();
    let mut want = fields(&[("v1", "t=1"), ("v2", "t=3")]);
    want.insert(0, (bin_field.clone(), Vec::new()));
    assert_eq!(after, want);
    assert_eq!(store.hash_get_all(&key).await.unwrap(), want);
    // Remove: counts only fields that were there; no fields, no call.
    assert_eq!(
        store
            .hash_remove(&key, &[b"v1".to_vec(), b"nope".to_vec()])
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.hash_remove(&key, &[]).await.unwrap(), 0);
    assert_eq!(store.hash_get_all(&key).await.unwrap().len(), 2);
    assert_eq!(
        store
            .hash_remove(&key, &[b"v2".to_vec(), bin_field.clone()])
            .await
            .unwrap(),
        2
    );
    assert_eq!(store.hash_get_all(&key).await.unwrap(), vec![]);
    let (left, _) = walk(&store, ns.as_bytes(), 10).await;
    assert!(left.is_empty(), "a record without fields is gone: {left:?}");
    // Many records, hash-tagged or not (other slots on a cluster), each its own.
    for i in 0..20 {
        let key = format!("{ns}:{{r{i}}}:rec").into_bytes();
        for f in 0..=i % 4 {
            store
                .hash_put(&key, format!("f{f}").as_bytes(), b"1", ttl)
                .await
                .unwrap();
        }
        assert_eq!(store.hash_get_all(&key).await.unwrap().len(), i % 4 + 1);
        store.delete(&key).await.unwrap();
        assert_eq!(store.hash_get_all(&key).await.unwrap(), vec![]);
    }
}

/// A hash record's TTL: `Some` sets the whole record's, `None` keeps it.
pub async fn hash_record_ttls<S: Store + Clone>(store: S) {
    let ns = unique_ns("hashttl");
    let short = format!("{ns}:short").into_bytes();
    let kept = format!("{ns}:kept").into_bytes();
    let forever = format!("{ns}:forever").into_bytes();
    store
        .hash_put(&short, b"a", b"1", Some(Duration::from_millis(150)))
        .await
        .unwrap();
    // `None` on the second put keeps the first put's TTL: the record still expires.
    store
        .hash_put(&kept, b"a", b"1", Some(Duration::from_millis(150)))
        .await
        .unwrap();
    store.hash_put(&kept, b"b", b"2", None).await.unwrap();
    store.hash_put(&forever, b"a", b"1", None).await.unwrap();
    // A later `Some` extends it.
    store
        .hash_put(&forever, b"b", b"2", Some(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(store.hash_get_all(&kept).await.unwrap().len(), 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(store.hash_get_all(&short).await.unwrap(), vec![]);
    assert_eq!(store.hash_get_all(&kept).await.unwrap(), vec![]);
    assert_eq!(store.hash_get_all(&forever).await.unwrap().len(), 2);
    // An expired record starts afresh.
    assert_eq!(
        store.hash_put(&short, b"z", b"9", None).await.unwrap(),
        fields(&[("z", "9")])
    );
    let (listed, _) = walk(&store, ns.as_bytes(), 10).await;
    assert_eq!(listed, vec![forever.clone(), short.clone()]);
    store.delete_many(&[short, forever]).await.unwrap();
}

/// On stores with hashes of their own (`MemoryStore`, Redis): a key holds a value or a hash
/// record; reading one as the other is an error (Redis' `WRONGTYPE`), except in a batch read,
/// where a record reads as missing (as `MGET` does).
pub async fn hash_records_are_their_own_kind<S: Store + Clone>(store: S) {
    let ns = unique_ns("hashkind");
    let rec = format!("{ns}:rec").into_bytes();
    let val = format!("{ns}:val").into_bytes();
    store.hash_put(&rec, b"f", b"v", None).await.unwrap();
    store.set(&val, b"plain", None).await.unwrap();
    let is_wrong_type = |r: Result<_, StoreError>| match r {
        Err(e @ StoreError::Backend(_)) => {
            assert!(e.to_string().contains("WRONGTYPE"), "{e}");
        }
        Err(e) => panic!("expected WRONGTYPE, got {e:?}"),
        Ok(_) => panic!("expected WRONGTYPE, got a value"),
    };
    is_wrong_type(store.get(&rec).await.map(|_| ()));
    is_wrong_type(store.get_with_ttl(&rec).await.map(|_| ()));
    is_wrong_type(store.hash_put(&val, b"f", b"v", None).await.map(|_| ()));
    is_wrong_type(store.hash_get_all(&val).await.map(|_| ()));
    is_wrong_type(store.hash_remove(&val, &[b"f".to_vec()]).await.map(|_| ()));
    assert_eq!(
        store.get_many(&[rec.clone(), val.clone()]).await.unwrap(),
        vec![None, Some(b"plain".to_vec())]
    );
    // A plain write replaces a record, and `set_if_absent` sees a record as a value.
    assert!(!store.set_if_absent(&rec, b"x", None).await.unwrap());
    store.set(&rec, b"now plain", None).await.unwrap();
    assert_eq!(store.get(&rec).await.unwrap(), Some(b"now plain".to_vec()));
    assert_eq!(store.delete_many(&[rec, val]).await.unwrap(), 2);
}

/// `scan_prefix` lists hash records with plain values, and a walk over a store that keeps its
/// place never says it restarted.
pub async fn scans_see_hash_records_and_do_not_restart<S: Store + Clone>(store: S) {
    let ns = unique_ns("scanhash");
    let mut want = BTreeSet::new();
    for i in 0..120 {
        let key = format!("{ns}:k{i}").into_bytes();
        if i % 4 == 0 {
            store.hash_put(&key, b"f", b"v", None).await.unwrap();
        } else {
            store.set(&key, b"v", None).await.unwrap();
        }
        want.insert(key);
    }
    for count in [1, 7, 1000] {
        let (listed, restarted) = walk(&store, ns.as_bytes(), count).await;
        assert!(!restarted, "count {count}");
        assert_eq!(listed.into_iter().collect::<BTreeSet<_>>(), want);
    }
    let keys: Vec<Vec<u8>> = want.into_iter().collect();
    assert_eq!(store.delete_many(&keys).await.unwrap(), 120);
}

/// A store wrapper that records which methods were called, forwarding every one.
#[derive(Clone)]
pub struct Recording<S> {
    inner: S,
    calls: Arc<Mutex<Vec<&'static str>>>,
}

impl<S> Recording<S> {
    pub fn new(inner: S) -> Self {
        Recording {
            inner,
            calls: Arc::default(),
        }
    }

    /// The calls since the last `take`.
    pub fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }

    fn note(&self, name: &'static str) {
        self.calls.lock().unwrap().push(name);
    }
}

impl<S: Store> Store for Recording<S> {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.note("get");
        self.inner.get(key).await
    }
    async fn get_with_ttl(&self, key: &[u8]) -> Result<Option<ValueAndTtl>, StoreError> {
        self.note("get_with_ttl");
        self.inner.get_with_ttl(key).await
    }
    async fn set(&self, key: &[u8], value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.note("set");
        self.inner.set(key, value, ttl).await
    }
    async fn set_if_absent(
        &self,
        key: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        self.note("set_if_absent");
        self.inner.set_if_absent(key, value, ttl).await
    }
    async fn set_many_if_absent(&self, entries: &[SetEntry]) -> Result<Vec<bool>, StoreError> {
        self.note("set_many_if_absent");
        self.inner.set_many_if_absent(entries).await
    }
    async fn delete(&self, key: &[u8]) -> Result<bool, StoreError> {
        self.note("delete");
        self.inner.delete(key).await
    }
    async fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.note("get_many");
        self.inner.get_many(keys).await
    }
    async fn set_many(&self, entries: &[SetEntry]) -> Result<(), StoreError> {
        self.note("set_many");
        self.inner.set_many(entries).await
    }
    async fn delete_many(&self, keys: &[Vec<u8>]) -> Result<u64, StoreError> {
        self.note("delete_many");
        self.inner.delete_many(keys).await
    }
    async fn set_many_and_delete(
        &self,
        sets: &[SetEntry],
        deletes: &[Vec<u8>],
    ) -> Result<u64, StoreError> {
        self.note("set_many_and_delete");
        self.inner.set_many_and_delete(sets, deletes).await
    }
    async fn hash_put(
        &self,
        key: &[u8],
        field: &[u8],
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<HashFields, StoreError> {
        self.note("hash_put");
        self.inner.hash_put(key, field, value, ttl).await
    }
    async fn hash_get_all(&self, key: &[u8]) -> Result<HashFields, StoreError> {
        self.note("hash_get_all");
        self.inner.hash_get_all(key).await
    }
    async fn hash_remove(&self, key: &[u8], fields: &[Vec<u8>]) -> Result<u64, StoreError> {
        self.note("hash_remove");
        self.inner.hash_remove(key, fields).await
    }
    async fn scan_prefix(
        &self,
        prefix: &[u8],
        cursor: ScanCursor,
        count: usize,
    ) -> Result<ScanPage, StoreError> {
        self.note("scan_prefix");
        self.inner.scan_prefix(prefix, cursor, count).await
    }
    fn call_bound(&self) -> Option<Duration> {
        self.note("call_bound");
        self.inner.call_bound()
    }
}

/// `DynStore` (and `Arc`/`Box`) forward each call to the same method of the store inside
/// (never to a default built from other methods), and `DynStore` works as a store.
pub async fn dyn_store_forwards_every_call<S: Store + Clone>(store: S) {
    let ns = unique_ns("dyn");
    let k = |s: &str| format!("{ns}:{s}").into_bytes();
    let want_bound = store.call_bound();
    let rec = Recording::new(store.clone());
    let erased = DynStore::new(rec.clone());
    // Erasing an erased store does not wrap it twice.
    let twice = DynStore::new(erased.clone());
    assert!(twice.downcast_ref::<Recording<S>>().is_some());
    assert!(format!("{twice:?}").contains("Recording"), "{twice:?}");
    let arc = Arc::new(erased.clone());
    let boxed: Box<DynStore> = Box::new(erased.clone());
    let e = |key: Vec<u8>| entry(key, "v", None);
    async fn each<T: Store>(s: &T, k: &dyn Fn(&str) -> Vec<u8>, e: &dyn Fn(Vec<u8>) -> SetEntry) {
        s.set(&k("a"), b"1", None).await.unwrap();
        assert_eq!(s.get(&k("a")).await.unwrap(), Some(b"1".to_vec()));
        assert_eq!(
            s.get_with_ttl(&k("a")).await.unwrap(),
            Some((b"1".to_vec(), None))
        );
        assert!(!s.set_if_absent(&k("a"), b"2", None).await.unwrap());
        assert_eq!(
            s.set_many_if_absent(&[e(k("a")), e(k("b"))]).await.unwrap(),
            vec![false, true]
        );
        assert!(s.delete(&k("b")).await.unwrap());
        assert_eq!(
            s.get_many(&[k("a"), k("b")]).await.unwrap(),
            vec![Some(b"1".to_vec()), None]
        );
        s.set_many(&[e(k("c"))]).await.unwrap();
        assert_eq!(s.delete_many(&[k("c")]).await.unwrap(), 1);
        assert_eq!(
            s.set_many_and_delete(&[e(k("d"))], &[k("a")])
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            s.hash_put(&k("h"), b"f", b"v", None).await.unwrap().len(),
            1
        );
        assert_eq!(s.hash_get_all(&k("h")).await.unwrap().len(), 1);
        assert_eq!(s.hash_remove(&k("h"), &[b"f".to_vec()]).await.unwrap(), 1);
        let page = s
            .scan_prefix(&k(""), ScanCursor::start(), 1000)
            .await
            .unwrap();
        assert!(!page.restarted);
        s.call_bound();
        assert!(s.delete(&k("d")).await.unwrap());
    }
    let want_calls = vec![
        "set",
        "get",
        "get_with_ttl",
        "set_if_absent",
        "set_many_if_absent",
        "delete",
        "get_many",
        "set_many",
        "delete_many",
        "set_many_and_delete",
        "hash_put",
        "hash_get_all",
        "hash_remove",
        "scan_prefix",
        "call_bound",
        "delete",
    ];
    each(&erased, &k, &e).await;
    assert_eq!(rec.take(), want_calls, "DynStore");
    each(&arc, &k, &e).await;
    assert_eq!(rec.take(), want_calls, "Arc<DynStore>");
    each(&boxed, &k, &e).await;
    assert_eq!(rec.take(), want_calls, "Box<DynStore>");
    assert_eq!(erased.call_bound(), want_bound);
    // The plain (unrecorded) store erased works the same.
    let plain = DynStore::new(store);
    assert!(plain.downcast_ref::<S>().is_some());
    assert!(plain.downcast_ref::<Recording<S>>().is_none());
    each(&plain, &k, &e).await;
    let (left, _) = walk(&plain, ns.as_bytes(), 100).await;
    assert!(left.is_empty(), "{left:?}");
}

/// A store that implements only the required methods of `Store`, so every other call runs
/// the trait's default implementation over `S`'s required methods.
#[derive(Clone)]
pub struct DefaultsOnly<S>(pub S);

impl<S: Store> Store for DefaultsOnly<S> {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.get(key).await
    }
    async fn get_with_ttl(&self, key: &[u8]) -> Result<Option<ValueAndTtl>, StoreError> {
        self.0.get_with_ttl(key).await
    }
    async fn set(&self, key: &[u8], value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.0.set(key, value, ttl).await
    }
    async fn delete(&self, key: &[u8]) -> Result<bool, StoreError> {
        self.0.delete(key).await
    }
    async fn scan_prefix(
        &self,
        prefix: &[u8],
        cursor: ScanCursor,
        count: usize,
    ) -> Result<ScanPage, StoreError> {
        self.0.scan_prefix(prefix, cursor, count).await
    }
}

/// The defaults of `Store` over `S` keep the same contract (the cases above, minus the
/// native-hash ones), and the emulated hash record is stored in the documented format.
pub async fn defaults_only_store_keeps_the_contract<S: Store + Clone>(store: S) {
    let d = DefaultsOnly(store.clone());
    set_many_and_delete_writes_then_deletes(d.clone()).await;
    hash_records(d.clone()).await;
    hash_record_ttls(d.clone()).await;
    let ns = unique_ns("defaults");
    let key = format!("{ns}:rec").into_bytes();
    d.hash_put(&key, b"b", b"2", Some(Duration::from_secs(30)))
        .await
        .unwrap();
    d.hash_put(&key, b"a", b"1", None).await.unwrap();
    let raw = store.get(&key).await.unwrap().expect("one plain value");
    let mut want = hash_record::MAGIC.to_vec();
    want.extend_from_slice(&2u32.to_be_bytes());
    for (f, v) in [("a", "1"), ("b", "2")] {
        want.extend_from_slice(&1u32.to_be_bytes());
        want.extend_from_slice(f.as_bytes());
        want.extend_from_slice(&1u32.to_be_bytes());
        want.extend_from_slice(v.as_bytes());
    }
    assert_eq!(raw, want);
    // The second put (`None`) kept the first one's TTL.
    let ttl = store.get_with_ttl(&key).await.unwrap().unwrap().1;
    assert!(ttl.is_some_and(|t| t <= Duration::from_secs(30)), "{ttl:?}");
    // A plain value under the key is not read as a record.
    store.set(&key, b"not a record", None).await.unwrap();
    match d.hash_get_all(&key).await {
        Err(StoreError::Backend(e)) => assert!(e.to_string().contains("not a hash record")),
        other => panic!("{other:?}"),
    }
    assert!(d.hash_put(&key, b"f", b"v", None).await.is_err());
    assert!(store.delete(&key).await.unwrap());
}

/// One `#[tokio::test]` (multi-threaded, two workers) per case of [`crate::contract`], each
/// on a store from `$make`, an `async fn() -> S`.
#[macro_export]
macro_rules! contract_suite {
    ($make:path) => {
        $crate::contract_suite!(@cases $make;
            set_many_and_delete_writes_then_deletes,
            set_many_and_delete_big_batches,
            hash_records,
            hash_record_ttls,
            hash_records_are_their_own_kind,
            scans_see_hash_records_and_do_not_restart,
            dyn_store_forwards_every_call,
            defaults_only_store_keeps_the_contract,
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::contract::$case($make().await).await;
            }
        )*
        #[test]
        fn every_contract_case_is_listed() {
            let listed: &[&str] = &[$(stringify!($case)),*];
            assert_eq!(listed, $crate::contract::CASES);
        }
    };
}
