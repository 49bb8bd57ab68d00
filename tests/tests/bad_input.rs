//! Bad input, on `MemoryStore` and standalone Redis (the shared server of this binary).
//!
//! Already covered elsewhere, and not repeated here:
//! - truncated, random, other-model, other-version, other-codec values:
//!   `suite::corrupt_values_are_counted_misses`, `corrupt_values_fail_closed`,
//!   `models_with_equal_keys_are_isolated`, `versions_are_isolated`, `codecs_are_isolated`
//!   (memory_suite.rs, redis_suite.rs);
//! - every byte 0..=255 and glob characters in one logical key, and a 1 MiB logical key:
//!   `suite::binary_and_hash_tagged_keys`, `suite::name_and_key_validation` (also on Cluster);
//! - namespaces with forbidden characters, and `set` over `max_value_len`:
//!   `suite::name_and_key_validation`;
//! - a cleanup next to look-alike sentinel keys (glob characters, near-miss versions, models
//!   and namespaces sharing a prefix): `rollout::cleanup_deletes_exactly_the_old_versions`.
//!
//! Added here: each hostile byte class in its own logical key (so a failure names the class),
//! logical keys that embed another key's layout, a 1 MiB key made of hostile bytes, model
//! names with each forbidden character, oversized values on every write path and on read, and
//! a cleanup next to sentinels whose logical keys are hostile.

use cache_version_core::key::{NameKind, ParsedKey};
use cache_version_core::{Cache, CacheError, MemoryStore, NameError, Store};
use cache_version_redis::RedisStore;
use cache_version_tests::redis_harness::RedisServer;
use cache_version_tests::rollout::{v1, v1_to_v2, v2, User as RUser, UserV1};
use cache_version_tests::suite::{builder, scan_all, unique_ns, user, User};

async fn redis() -> RedisStore {
    RedisStore::open(RedisServer::shared().url())
        .await
        .expect("connect to the test server")
}

/// Logical keys with each hostile byte class, and keys that look like keys.
fn hostile_keys() -> Vec<(&'static str, Vec<u8>)> {
    let mut big: Vec<u8> = b"*?[]\\:\n\r\0\xff\xfe{}".repeat((1 << 20) / 15);
    big.resize(1 << 20, 0x80);
    vec![
        ("star", b"a*b".to_vec()),
        ("only star", b"*".to_vec()),
        ("question", b"a?b".to_vec()),
        ("brackets", b"[a-z]".to_vec()),
        ("lone bracket", b"]".to_vec()),
        ("backslash", b"a\\b\\".to_vec()),
        ("colons", b"::a::".to_vec()),
        ("newline", b"a\nb\r\n".to_vec()),
        ("nul", b"\0".to_vec()),
        ("nuls inside", b"a\0b\0".to_vec()),
        ("non-utf8", b"\xff\xfe\xc0\x80".to_vec()),
        ("lone continuation", b"\x80".to_vec()),
        ("key-like", b"prod:User:0123456789abcdef:1".to_vec()),
        ("glob of the model", b"*:*:*:*".to_vec()),
        ("1 MiB hostile", big),
    ]
}

async fn hostile_keys_round_trip<S: Store + Clone>(store: S) {
    let cache = builder(store.clone(), "hostile")
        .max_key_len(1 << 20)
        .build()
        .unwrap();
    let users = cache.model::<User>();
    let keys = hostile_keys();
    for (i, (what, k)) in keys.iter().enumerate() {
        users
            .set(k, &user(i as u64))
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
    }
    for (i, (what, k)) in keys.iter().enumerate() {
        assert_eq!(users.get(k).await.unwrap(), Some(user(i as u64)), "{what}");
        // The full key splits back to exactly this logical key.
        let full = users.key(k).unwrap();
        let parsed = ParsedKey::parse(&full).unwrap_or_else(|| panic!("{what}: no parse"));
        assert_eq!(parsed.namespace, cache.namespace(), "{what}");
        assert_eq!(parsed.model, "User", "{what}");
        assert_eq!(parsed.version, users.key_version().to_string(), "{what}");
        assert_eq!(parsed.logical, &k[..], "{what}");
        // The raw store sees the exact bytes under the exact key.
        assert!(store.get(&full).await.unwrap().is_some(), "{what}");
    }
    // No key is confused with another (the glob-looking ones match nothing).
    let listed = scan_all(&store, users.prefix().as_bytes(), 100).await;
    assert_eq!(listed.len(), keys.len());
    for (what, k) in &keys {
        assert!(users.delete(k).await.unwrap(), "{what}");
        assert_eq!(users.get(k).await.unwrap(), None, "{what}");
    }
    // One byte over the raised limit is refused before the store is touched.
    let err = users.get(vec![0u8; (1 << 20) + 1]).await.unwrap_err();
    assert!(matches!(err, CacheError::KeyTooLong { .. }), "{err}");
}

#[tokio::test]
async fn hostile_keys_memory() {
    hostile_keys_round_trip(MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_keys_redis() {
    hostile_keys_round_trip(redis().await).await;
}

/// Model names with each forbidden character are refused with the character and its offset
/// (`suite::name_and_key_validation` does the same for namespaces).
#[test]
fn model_names_with_forbidden_characters() {
    let cache = Cache::builder(MemoryStore::new())
        .namespace("ns")
        .build()
        .unwrap();
    for (name, ch, pos) in [
        ("a*", '*', 1),
        ("?", '?', 0),
        ("a[1", '[', 1),
        ("a]", ']', 1),
        ("a\\b", '\\', 1),
        ("ns:User", ':', 2),
        ("a\nb", '\n', 1),
        ("a\rb", '\r', 1),
        ("a\0", '\0', 1),
        ("é\u{0}", '\0', 2),
        ("a{b}", '{', 1),
        ("tab\t", '\t', 3),
        ("a\u{85}", '\u{85}', 1),
    ] {
        match cache.model_named::<User>(name) {
            Err(e @ NameError::ForbiddenChar { .. }) => {
                let NameError::ForbiddenChar {
                    kind,
                    ch: c,
                    pos: p,
                    ..
                } = &e
                else {
                    unreachable!()
                };
                assert_eq!((*kind, *c, *p), (NameKind::Model, ch, pos), "{name:?}");
                let msg = e.to_string();
                assert!(
                    msg.contains("model name") && msg.contains(&format!("at byte {pos}")),
                    "{msg}"
                );
            }
            Err(other) => panic!("{name:?}: {other}"),
            Ok(_) => panic!("{name:?} accepted"),
        }
    }
    // A namespace made of nothing but forbidden characters fails at byte 0.
    for ns in ["*", "?", "[", "]", "\\", ":", "\n", "\0"] {
        let err = Cache::builder(MemoryStore::new())
            .namespace(ns)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("at byte 0"), "{ns:?}: {err}");
    }
}

/// A big value: `n` bytes of name.
fn big_user(n: usize) -> User {
    User {
        id: 1,
        name: "x".repeat(n),
        email: String::new(),
    }
}

async fn oversized_values_refused<S: Store + Clone>(store: S) {
    let cache = builder(store.clone(), "oversize")
        .max_value_len(1024)
        .build()
        .unwrap();
    let users = cache.model::<User>();
    // set: a clear error naming model, key, size and limit; nothing written.
    let err = users.set("k", &big_user(2000)).await.unwrap_err();
    let msg = err.to_string();
    match &err {
        CacheError::ValueTooLarge { size, limit, .. } => {
            assert_eq!(*limit, 1024);
            assert!(*size > 2000, "{size}");
            assert!(msg.contains("User") && msg.contains("\"k\"") && msg.contains("1024"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(users.get("k").await.unwrap(), None);
    // set_with_ttl and set_many too; set_many writes nothing of a refused batch.
    let err = users
        .set_with_ttl("k", &big_user(2000), std::time::Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(matches!(err, CacheError::ValueTooLarge { .. }), "{err}");
    let err = users
        .set_many([("small", user(1)), ("big", big_user(2000))])
        .await
        .unwrap_err();
    assert!(matches!(err, CacheError::ValueTooLarge { .. }), "{err}");
    assert_eq!(users.get("small").await.unwrap(), None, "no partial batch");
    // Exactly at the limit is accepted.
    let overhead = users.encode_value(&big_user(0)).unwrap().len();
    let exact = big_user(1024 - overhead);
    assert_eq!(users.encode_value(&exact).unwrap().len(), 1024);
    users.set("exact", &exact).await.unwrap();
    assert_eq!(users.get("exact").await.unwrap(), Some(exact));
    // get_or_load: the loaded value is returned (the write-back is best effort) and the
    // oversized value is not written.
    let loaded = users
        .get_or_load("loaded", || async {
            Ok::<_, std::convert::Infallible>(big_user(2000))
        })
        .await
        .unwrap();
    assert_eq!(loaded.name.len(), 2000);
    assert_eq!(users.get("loaded").await.unwrap(), None);
}

#[tokio::test]
async fn oversized_values_memory() {
    oversized_values_refused(MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_values_redis() {
    oversized_values_refused(redis().await).await;
}

/// A stored value over this reader's `max_value_len` (written by a writer with a larger
/// limit, or by anything else) should be a miss, as issue 9 asks.
async fn oversized_stored_value_is_a_miss<S: Store + Clone>(store: S) {
    let ns = unique_ns("oversize-read");
    let writer = Cache::builder(store.clone())
        .namespace(&ns)
        .max_value_len(1 << 20)
        .build()
        .unwrap();
    let reader = Cache::builder(store.clone())
        .namespace(&ns)
        .max_value_len(1024)
        .build()
        .unwrap();
    writer
        .model::<User>()
        .set("k", &big_user(4096))
        .await
        .unwrap();
    let got = reader.model::<User>().get("k").await.unwrap();
    assert_eq!(
        got.map(|u| u.name.len()),
        None,
        "a 4 KiB value was returned by a reader limited to 1 KiB"
    );
}

#[tokio::test]
async fn oversized_stored_value_is_a_miss_memory() {
    oversized_stored_value_is_a_miss(MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_stored_value_is_a_miss_redis() {
    oversized_stored_value_is_a_miss(redis().await).await;
}

/// A cleanup of old `User` versions next to sentinels whose logical keys are hostile:
/// current-version keys and another namespace with the same logical keys survive, the old
/// version's keys (hostile logical keys included) go.
async fn cleanup_with_hostile_logical_keys<S: Store + Clone>(store: S) {
    let base = unique_ns("hostile-cleanup");
    let ns = format!("{base}-ns");
    let other_ns = format!("{base}-ns2");
    let mk = |ns: &str| {
        Cache::builder(store.clone())
            .namespace(ns)
            .ttl_jitter(0.0)
            .max_key_len(1 << 20)
            .build()
            .unwrap()
    };
    let (cache, other) = (mk(&ns), mk(&other_ns));
    // The old build: its own cache, from before the live-version registry (so its version
    // is not live and the cleanup may delete it).
    let old_build = Cache::builder(store.clone())
        .namespace(&ns)
        .ttl_jitter(0.0)
        .max_key_len(1 << 20)
        .live_versions(false)
        .build()
        .unwrap();
    let old = old_build.model::<UserV1>();
    let new = cache
        .model::<RUser>()
        .migrate_from::<UserV1, _>(v1_to_v2)
        .unwrap();
    let keys: Vec<Vec<u8>> = hostile_keys()
        .into_iter()
        .map(|(_, k)| k)
        .filter(|k| k.len() < 4096)
        .chain([
            // A logical key spelling the old version's own key: still a current-version key.
            format!("{ns}:User:{}:1", new.key_version_of::<UserV1>()).into_bytes(),
        ])
        .collect();
    let mut sentinels = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        // The new build first: its writes delete the key under the versions it reads.
        new.set(k, &v2(i as u64, "current")).await.unwrap();
        old.set(k, &v1(i as u64, "old")).await.unwrap();
        other
            .model::<UserV1>()
            .set(k, &v1(i as u64, "other ns"))
            .await
            .unwrap();
        sentinels.push(new.key(k).unwrap());
        sentinels.push(other.model::<UserV1>().key(k).unwrap());
    }
    // The two caches' live-version records stay too (outside every version's key space).
    sentinels.push(format!("{ns}:User:live").into_bytes());
    sentinels.push(format!("{other_ns}:User:live").into_bytes());
    let report = new.cleanup().batch_size(7).run().await.unwrap();
    assert_eq!(report.deleted, keys.len() as u64, "{report:?}");
    let mut left = scan_all(&store, base.as_bytes(), 50).await;
    left.sort();
    sentinels.sort();
    assert_eq!(left, sentinels, "exactly the sentinels are left");
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(old.get(k).await.unwrap(), None);
        assert_eq!(new.get(k).await.unwrap(), Some(v2(i as u64, "current")));
    }
}

#[tokio::test]
async fn cleanup_with_hostile_keys_memory() {
    cleanup_with_hostile_logical_keys(MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_with_hostile_keys_redis() {
    cleanup_with_hostile_logical_keys(redis().await).await;
}
