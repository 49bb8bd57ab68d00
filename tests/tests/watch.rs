//! `Store::watch` on real servers: every change under the prefix, by any client and however
//! it happens (write, `DEL`/`UNLINK`, `redis-cli`, TTL expiry, eviction, `FLUSHALL`), reaches
//! every watch; keys outside the prefix do not; a killed tracking connection is `Lost`, then
//! `Established` again. The same on `MemoryStore`. Two watches on separate stores stand for
//! two processes.
//!
//! Tests that disturb a server (`FLUSHALL`, `CLIENT KILL`, `maxmemory`) start their own.

use std::process::Command;
use std::time::{Duration, Instant};

use cache_version_core::{MemoryStore, Store, Watch, WatchEvent};
use cache_version_redis::redis;
use cache_version_redis::RedisStore;
use cache_version_tests::redis_harness::{RedisCluster, RedisServer};
use cache_version_tests::suite::unique_ns;

/// How long any one expected event may take (loopback: milliseconds; generous for a loaded
/// 2-core machine).
const WITHIN: Duration = Duration::from_secs(5);

/// The next event within `within`, or `None`.
async fn next(w: &mut Watch, within: Duration) -> Option<WatchEvent> {
    tokio::time::timeout(within, w.recv()).await.ok().flatten()
}

/// Waits for `Established` (the first event of a watch, or the end of a lost period).
async fn established(w: &mut Watch) {
    let deadline = Instant::now() + WITHIN;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match next(w, left).await {
            Some(WatchEvent::Established) => return,
            Some(_) => {}
            None => panic!("not established within {WITHIN:?} (error: {:?})", w.error()),
        }
    }
}

/// Collects invalidated keys until every one of `want` was seen (as many times as it is
/// listed: a key written then expired is listed twice); panics on a key outside `prefix`, on
/// a flush or a lost period, and after [`WITHIN`]. Returns every key seen (reports that
/// arrive together are taken together, so there may be more).
async fn expect_keys(w: &mut Watch, prefix: &[u8], want: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + WITHIN;
    let mut missing: Vec<Vec<u8>> = want.to_vec();
    let mut seen = Vec::new();
    while !missing.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        match next(w, left).await {
            Some(WatchEvent::Invalidated(keys)) => {
                for k in keys {
                    assert!(
                        k.starts_with(prefix),
                        "a key outside the prefix: {}",
                        String::from_utf8_lossy(&k)
                    );
                    if let Some(i) = missing.iter().position(|m| *m == k) {
                        missing.swap_remove(i);
                    }
                    seen.push(k);
                }
            }
            Some(other) => panic!("unexpected {other:?} while waiting for keys"),
            None => panic!(
                "not reported within {WITHIN:?}: {:?}",
                missing
                    .iter()
                    .map(|k| String::from_utf8_lossy(k).into_owned())
                    .collect::<Vec<_>>()
            ),
        }
    }
    seen
}

/// Waits for `want` (skipping invalidations); panics after [`WITHIN`].
async fn expect_event(w: &mut Watch, want: WatchEvent) {
    let deadline = Instant::now() + WITHIN;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match next(w, left).await {
            Some(e) if e == want => return,
            Some(WatchEvent::Invalidated(_)) => {}
            Some(other) => panic!("{other:?} while waiting for {want:?}"),
            None => panic!("no {want:?} within {WITHIN:?} (error: {:?})", w.error()),
        }
    }
}

/// No event at all for `quiet`.
async fn expect_quiet(w: &mut Watch, quiet: Duration) {
    if let Some(e) = next(w, quiet).await {
        panic!("unexpected {e:?}");
    }
}

fn k(prefix: &str, rest: &str) -> Vec<u8> {
    format!("{prefix}{rest}").into_bytes()
}

fn plain(url: &str) -> redis::Connection {
    let client = redis::Client::open(url).unwrap();
    client
        .get_connection_with_timeout(Duration::from_secs(5))
        .unwrap()
}

fn redis_cli(port: u16, args: &[&str]) {
    let out = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .expect("redis-cli runs");
    assert!(out.status.success(), "redis-cli {args:?}: {out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_reports_every_writer_to_every_watch() {
    let server = RedisServer::shared();
    let prefix = format!("{}:", unique_ns("w"));
    let p = prefix.as_bytes();
    let a = RedisStore::open(server.url()).await.unwrap();
    let b = RedisStore::open(server.url()).await.unwrap();
    let mut wa = a.watch(p).expect("Redis can watch");
    let mut wb = b.watch(p).expect("Redis can watch");
    established(&mut wa).await;
    established(&mut wb).await;

    // Through a store; a hash record too.
    a.set(&k(&prefix, "set"), b"v", None).await.unwrap();
    b.hash_put(&k(&prefix, "hash"), b"f", b"v", None)
        .await
        .unwrap();
    // Another client, plain commands; and keys outside the prefix, which nobody reports.
    let mut other = plain(&server.url());
    let _: () = redis::cmd("SET")
        .arg("elsewhere:x")
        .arg("v")
        .query(&mut other)
        .unwrap();
    let _: () = redis::cmd("MSET")
        .arg(k(&prefix, "m1"))
        .arg("1")
        .arg(k(&prefix, "m2"))
        .arg("2")
        .query(&mut other)
        .unwrap();
    let _: i64 = redis::cmd("DEL")
        .arg(k(&prefix, "m1"))
        .query(&mut other)
        .unwrap();
    let _: i64 = redis::cmd("UNLINK")
        .arg(k(&prefix, "m2"))
        .query(&mut other)
        .unwrap();
    // redis-cli, as an operator would.
    let cli = k(&prefix, "cli");
    a.set(&cli, b"v", None).await.unwrap();
    let want = [
        k(&prefix, "set"),
        k(&prefix, "hash"),
        k(&prefix, "m1"),
        k(&prefix, "m2"),
        cli.clone(),
    ];
    for w in [&mut wa, &mut wb] {
        expect_keys(w, p, &want).await;
    }
    redis_cli(server.port(), &["DEL", std::str::from_utf8(&cli).unwrap()]);
    for w in [&mut wa, &mut wb] {
        expect_keys(w, p, std::slice::from_ref(&cli)).await;
    }
    // A DEL of a missing key changes nothing, and nothing is reported; nor is a read.
    let _: i64 = redis::cmd("DEL")
        .arg(k(&prefix, "never"))
        .query(&mut other)
        .unwrap();
    let _: Option<String> = redis::cmd("GET")
        .arg(k(&prefix, "set"))
        .query(&mut other)
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg("elsewhere:y")
        .arg("v")
        .query(&mut other)
        .unwrap();
    for w in [&mut wa, &mut wb] {
        expect_quiet(w, Duration::from_millis(300)).await;
    }
    // Dropping a watch closes its tracking connection.
    let before = server.tracking_clients().len();
    drop(wa);
    let deadline = Instant::now() + WITHIN;
    while server.tracking_clients().len() >= before {
        assert!(Instant::now() < deadline, "the tracking connection stayed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_reports_expiries() {
    let server = RedisServer::shared();
    let prefix = format!("{}:", unique_ns("ttl"));
    let p = prefix.as_bytes();
    let store = RedisStore::open(server.url()).await.unwrap();
    let mut w = store.watch(p).unwrap();
    established(&mut w).await;
    let key = k(&prefix, "short");
    store
        .set(&key, b"v", Some(Duration::from_millis(50)))
        .await
        .unwrap();
    // The write, then the expiry: Redis' active expiry finds it (10 times a second) without
    // anyone reading it.
    expect_keys(&mut w, p, &[key.clone(), key.clone()]).await;
    assert_eq!(store.get(&key).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_reports_evictions() {
    let server =
        RedisServer::start_with(&["--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru"]);
    let prefix = "tracked:";
    let p = prefix.as_bytes();
    let store = RedisStore::open(server.url()).await.unwrap();
    let mut w = store.watch(p).unwrap();
    established(&mut w).await;
    // Tracked keys first (each write is reported), then untracked ones until the server
    // evicts: what is reported after that can only be evictions of the tracked keys.
    let tracked: Vec<Vec<u8>> = (0..200).map(|i| k(prefix, &i.to_string())).collect();
    for key in &tracked {
        store.set(key, &[1u8; 1000], None).await.unwrap();
    }
    expect_keys(&mut w, p, &tracked).await;
    let mut i = 0;
    let evicted = loop {
        store
            .set(format!("filler:{i}").as_bytes(), &[2u8; 10_000], None)
            .await
            .unwrap();
        i += 1;
        match next(&mut w, Duration::ZERO).await {
            Some(WatchEvent::Invalidated(keys)) => break keys,
            Some(other) => panic!("unexpected {other:?}"),
            None => assert!(i < 10_000, "no eviction reported"),
        }
    };
    assert!(!evicted.is_empty());
    for key in &evicted {
        assert!(key.starts_with(p));
        assert_eq!(
            store.get(key).await.unwrap(),
            None,
            "reported but still there"
        );
    }
    let info: String = server.cmd(&["INFO", "stats"]);
    assert!(!info.contains("evicted_keys:0\r"), "{info}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_flushes_and_lost_connections() {
    let server = RedisServer::start();
    let prefix = "p:";
    let store = RedisStore::open(server.url()).await.unwrap();
    let other = RedisStore::open(server.url()).await.unwrap();
    let mut w = store.watch(prefix.as_bytes()).unwrap();
    let mut w2 = other.watch(prefix.as_bytes()).unwrap();
    established(&mut w).await;
    established(&mut w2).await;
    assert_eq!(server.tracking_clients().len(), 2);
    store.set(b"p:a", b"v", None).await.unwrap();
    for w in [&mut w, &mut w2] {
        expect_keys(w, b"p:", &[b"p:a".to_vec()]).await;
    }
    // FLUSHALL (and FLUSHDB) is a flush for every watch.
    let _: () = server.cmd(&["FLUSHALL"]);
    for w in [&mut w, &mut w2] {
        expect_event(w, WatchEvent::Flushed).await;
    }
    let _: () = server.cmd(&["FLUSHDB"]);
    for w in [&mut w, &mut w2] {
        expect_event(w, WatchEvent::Flushed).await;
    }
    // Killing every tracking connection: lost, then established again, then reporting.
    for _round in 0..3 {
        for id in server.tracking_clients() {
            let _: i64 = server.cmd(&["CLIENT", "KILL", "ID", &id]);
        }
        for w in [&mut w, &mut w2] {
            expect_event(w, WatchEvent::Lost).await;
            expect_event(w, WatchEvent::Established).await;
        }
        store.set(b"p:after", b"v", None).await.unwrap();
        for w in [&mut w, &mut w2] {
            expect_keys(w, b"p:", &[b"p:after".to_vec()]).await;
        }
    }
    // Killing every client (data and tracking connections alike): lost and back.
    let _: i64 = server.cmd(&["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]);
    for w in [&mut w, &mut w2] {
        expect_event(w, WatchEvent::Lost).await;
        expect_event(w, WatchEvent::Established).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_unresponsive_server_is_lost_until_back() {
    let server = RedisServer::start();
    let store = RedisStore::open(server.url()).await.unwrap();
    let mut w = store.watch(b"r:").unwrap();
    established(&mut w).await;
    // A server that stops answering (paused) is found by the PING within a second or two.
    let _: () = server.cmd(&["CLIENT", "PAUSE", "3000", "ALL"]);
    let started = Instant::now();
    expect_event(&mut w, WatchEvent::Lost).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    expect_event(&mut w, WatchEvent::Established).await;
    store.set(b"r:k", b"v", None).await.unwrap();
    expect_keys(&mut w, b"r:", &[b"r:k".to_vec()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_refusals_end_the_watch_without_leaking_the_password() {
    let server = RedisServer::start_with(&["--requirepass", "s3cret-pw"]);
    // An ACL user that may read and write but not run CLIENT.
    let mut admin = server.admin_as(Some(("default", "s3cret-pw")));
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg("app")
        .arg("on")
        .arg(">app-pw-123")
        .arg("~*")
        .arg("+@all")
        .arg("-client")
        .query(&mut admin)
        .unwrap();
    let store = RedisStore::builder(format!(
        "redis://app:app-pw-123@127.0.0.1:{}",
        server.port()
    ))
    .build()
    .await
    .unwrap();
    let mut w = store.watch(b"x:").unwrap();
    assert_eq!(next(&mut w, WITHIN).await, None, "the watch ends");
    let error = w.error().expect("a reason");
    assert!(
        error.contains("NOPERM") || error.contains("permission"),
        "{error}"
    );
    assert!(!error.contains("app-pw-123"), "{error}");
    // A wrong password: the same, redacted.
    let lazy = RedisStore::builder(format!(
        "redis://app:wrong-pw-456@127.0.0.1:{}",
        server.port()
    ))
    .build_lazy()
    .unwrap();
    let mut w = lazy.watch(b"x:").unwrap();
    assert_eq!(next(&mut w, WITHIN).await, None, "the watch ends");
    let error = w.error().expect("a reason");
    assert!(!error.contains("wrong-pw-456"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_reports_from_every_primary() {
    let cluster = RedisCluster::shared();
    let prefix = format!("{}:", unique_ns("cw"));
    let p = prefix.as_bytes();
    let a = RedisStore::open_cluster(cluster.urls()).await.unwrap();
    let b = RedisStore::open_cluster(cluster.urls()).await.unwrap();
    let mut wa = a.watch(p).unwrap();
    let mut wb = b.watch(p).unwrap();
    established(&mut wa).await;
    established(&mut wb).await;
    // Keys on every primary.
    let keys: Vec<Vec<u8>> = (0..30).map(|i| k(&prefix, &i.to_string())).collect();
    let dbsizes_before = cluster.dbsizes();
    for key in &keys {
        a.set(key, b"v", None).await.unwrap();
    }
    let grown = cluster
        .dbsizes()
        .iter()
        .zip(&dbsizes_before)
        .filter(|(n, b)| n > b)
        .count();
    assert_eq!(grown, 3, "keys on every primary");
    for w in [&mut wa, &mut wb] {
        expect_keys(w, p, &keys).await;
    }
    // Deletes by another client, on the node that owns each key (`redis-cli -c` follows
    // MOVED); an expiry; keys outside the prefix are not reported.
    for key in &keys[..6] {
        let port = cluster.nodes()[0].port();
        redis_cli(port, &["-c", "DEL", std::str::from_utf8(key).unwrap()]);
    }
    redis_cli(
        cluster.nodes()[1].port(),
        &["-c", "SET", "elsewhere:c", "v"],
    );
    let short = k(&prefix, "short");
    b.set(&short, b"v", Some(Duration::from_millis(50)))
        .await
        .unwrap();
    let mut want = keys[..6].to_vec();
    // The write, then the expiry.
    want.push(short.clone());
    want.push(short.clone());
    for w in [&mut wa, &mut wb] {
        expect_keys(w, p, &want).await;
        expect_quiet(w, Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_flushes_and_lost_connections() {
    let cluster = RedisCluster::start(3);
    let store = RedisStore::open_cluster(cluster.urls()).await.unwrap();
    let mut w = store.watch(b"c:").unwrap();
    established(&mut w).await;
    for node in cluster.nodes() {
        assert_eq!(
            node.tracking_clients().len(),
            1,
            "one tracking connection per primary"
        );
    }
    // Killing the tracking connection of one primary: lost, then established.
    let node = &cluster.nodes()[1];
    for id in node.tracking_clients() {
        let _: i64 = node.cmd(&["CLIENT", "KILL", "ID", &id]);
    }
    expect_event(&mut w, WatchEvent::Lost).await;
    expect_event(&mut w, WatchEvent::Established).await;
    let keys: Vec<Vec<u8>> = (0..10).map(|i| format!("c:{i}").into_bytes()).collect();
    for key in &keys {
        store.set(key, b"v", None).await.unwrap();
    }
    expect_keys(&mut w, b"c:", &keys).await;
    // FLUSHALL on one primary.
    let _: () = cluster.nodes()[2].cmd(&["FLUSHALL"]);
    expect_event(&mut w, WatchEvent::Flushed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_reports_every_change() {
    let store = MemoryStore::builder().shards(1).max_entries(10).build();
    let other_handle = store.clone();
    let mut wa = store.watch(b"m:").unwrap();
    let mut wb = other_handle.watch(b"m:").unwrap();
    established(&mut wa).await;
    established(&mut wb).await;
    store.set(b"m:a", b"v", None).await.unwrap();
    store.set(b"elsewhere", b"v", None).await.unwrap();
    other_handle.delete(b"m:a").await.unwrap();
    // A delete of a missing key reports nothing.
    other_handle.delete(b"m:never").await.unwrap();
    store.hash_put(b"m:h", b"f", b"v", None).await.unwrap();
    store.hash_remove(b"m:h", &[b"f".to_vec()]).await.unwrap();
    assert!(store.set_if_absent(b"m:n", b"v", None).await.unwrap());
    assert!(!store.set_if_absent(b"m:n", b"w", None).await.unwrap());
    store
        .set_many_and_delete(
            &[cache_version_core::SetEntry {
                key: b"m:s".to_vec(),
                value: b"v".to_vec(),
                ttl: None,
            }],
            &[b"m:n".to_vec()],
        )
        .await
        .unwrap();
    let want: Vec<Vec<u8>> = ["m:a", "m:a", "m:h", "m:h", "m:n", "m:s", "m:n"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    for w in [&mut wa, &mut wb] {
        let seen = expect_keys(w, b"m:", &want).await;
        assert_eq!(seen, want, "each change once, in order");
        expect_quiet(w, Duration::from_millis(50)).await;
    }
    // An expiry, found by a read (or a write's sweep, or purge_expired).
    store
        .set(b"m:t", b"v", Some(Duration::from_millis(5)))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(store.purge_expired(), 1);
    for w in [&mut wa, &mut wb] {
        let seen = expect_keys(w, b"m:", &[b"m:t".to_vec(), b"m:t".to_vec()]).await;
        assert_eq!(seen.len(), 2, "the write and the expiry");
    }
    // Evictions: 10 entries at most, m:s is the least recently used.
    for i in 0..10 {
        store
            .set(format!("e{i}").as_bytes(), b"v", None)
            .await
            .unwrap();
    }
    for w in [&mut wa, &mut wb] {
        expect_keys(w, b"m:", &[b"m:s".to_vec()]).await;
    }
    // clear() is a flush; a dropped watch is forgotten.
    drop(wb);
    store.clear();
    expect_event(&mut wa, WatchEvent::Flushed).await;
    // DynStore, Arc and Box forward the watch.
    let dynamic = cache_version_core::DynStore::new(store.clone());
    let mut wd = dynamic.watch(b"m:").unwrap();
    let mut warc = std::sync::Arc::new(store.clone()).watch(b"m:").unwrap();
    established(&mut wd).await;
    established(&mut warc).await;
    store.set(b"m:x", b"v", None).await.unwrap();
    expect_keys(&mut wd, b"m:", &[b"m:x".to_vec()]).await;
    expect_keys(&mut warc, b"m:", &[b"m:x".to_vec()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_built_on_a_callers_connection_cannot_watch() {
    let client = redis::Client::open(RedisServer::shared().url()).unwrap();
    let manager = redis::aio::ConnectionManager::new(client).await.unwrap();
    let store =
        RedisStore::from_connection_manager(manager, cache_version_redis::RedisConfig::default());
    assert!(store.watch(b"x:").is_none());
}
