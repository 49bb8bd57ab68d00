//! Honest scans: a `scan_prefix` walk over a redis-server that restarts in the middle (with
//! its data: `SAVE`, `kill -9`, start again on the same port and directory) returns every key
//! that was present for the whole walk, and says it restarted. Standalone and on a cluster
//! (the node being walked is the one restarted).
//!
//! Each server here is dedicated. The restarted processes run under the same kind of
//! watchdog as the harness's servers (`cache_version_tests::restartable`), so none outlives
//! the test binary.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use cache_version_core::{ScanCursor, SetEntry, Store};
use cache_version_redis::{redis, RedisStore};
use cache_version_tests::redis_harness::{RedisCluster, RedisServer};
use cache_version_tests::restartable::{kill, Restarted};
use cache_version_tests::suite::unique_ns;

const KEYS: usize = 20_000;
const PAGE: usize = 100;

fn save_and_kill(node: &RedisServer) {
    kill(node, true);
}

async fn fill(store: &RedisStore, ns: &str) -> HashSet<Vec<u8>> {
    let entries: Vec<SetEntry> = (0..KEYS)
        .map(|i| SetEntry {
            key: format!("{ns}:k{i}").into_bytes(),
            value: vec![b'v'; 16],
            ttl: None,
        })
        .collect();
    store.set_many(&entries).await.unwrap();
    entries.into_iter().map(|e| e.key).collect()
}

/// What a walk returned.
#[derive(Debug, Default)]
struct Walk {
    seen: HashSet<Vec<u8>>,
    /// What was seen when `disturb` ran.
    before: HashSet<Vec<u8>>,
    returned: usize,
    pages: usize,
    restarted_pages: usize,
    errors: usize,
}

/// Walks `prefix`; after `disturb_after` pages calls `disturb` with the current cursor. A page
/// that fails is asked again with the same cursor (within 20 s).
async fn walk(
    store: &RedisStore,
    prefix: &[u8],
    disturb_after: usize,
    mut disturb: impl FnMut(&ScanCursor),
) -> Walk {
    let mut w = Walk::default();
    let mut cursor = ScanCursor::start();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if w.pages == disturb_after && w.before.is_empty() {
            w.before = w.seen.clone();
            disturb(&cursor);
        }
        let page = match store.scan_prefix(prefix, cursor.clone(), PAGE).await {
            Ok(p) => p,
            Err(e) => {
                w.errors += 1;
                assert!(Instant::now() < deadline, "the walk does not recover: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        w.pages += 1;
        w.restarted_pages += usize::from(page.restarted);
        w.returned += page.keys.len();
        w.seen.extend(page.keys);
        match page.cursor {
            Some(c) => cursor = c,
            None => return w,
        }
    }
}

/// Raw `SCAN` of a server from `cursor` to the end: what a walk that kept its cursor across
/// the restart would have seen.
fn raw_scan_from(node: &RedisServer, cursor: u64, pattern: &str) -> HashSet<Vec<u8>> {
    let mut con = node.admin();
    let mut cursor = cursor;
    let mut out = HashSet::new();
    loop {
        let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(PAGE)
            .query(&mut con)
            .unwrap();
        out.extend(keys);
        if next == 0 {
            return out;
        }
        cursor = next;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walk_over_a_restarted_server_misses_no_key() {
    let server = RedisServer::start();
    let port = server.port();
    let store = RedisStore::builder(server.url())
        .response_timeout(Duration::from_secs(2))
        .build()
        .await
        .unwrap();
    let ns = unique_ns("restart");
    let want = fill(&store, &ns).await;
    let prefix = format!("{ns}:");
    let mut restarted = None;
    let mut old_cursor = 0u64;
    let t = Instant::now();
    let w = walk(&store, prefix.as_bytes(), 50, |cursor| {
        // The server cursor is bytes 1..9 of the store's cursor (documented in keys.rs):
        // kept to show what a walk that trusted it would have missed.
        old_cursor = u64::from_be_bytes(cursor.as_bytes()[1..9].try_into().unwrap());
        save_and_kill(&server);
        restarted = Some(Restarted::start(port, server.dir(), &[]));
    })
    .await;
    let took = t.elapsed();
    let missing = want.difference(&w.seen).count();
    let mut trusted = raw_scan_from(&server, old_cursor, &format!("{prefix}*"));
    trusted.extend(w.before.iter().cloned());
    let would_miss = want.difference(&trusted).count();
    println!(
        "standalone, {KEYS} keys, pages of {PAGE}, restarted after page 50: {} pages, {} \
         returned ({} repeats), {} restarted page(s), {} failed page(s), {missing} missing, \
         {took:?}; the old cursor continued on the restarted server would have missed {} keys",
        w.pages,
        w.returned,
        w.returned - w.seen.len(),
        w.restarted_pages,
        w.errors,
        would_miss
    );
    assert_eq!(
        missing, 0,
        "every key present for the whole walk is returned"
    );
    assert!(w.seen.is_subset(&want));
    assert_eq!(
        w.restarted_pages, 1,
        "the walk says it started again: {w:?}"
    );
    assert!(took < Duration::from_secs(30), "{took:?}");
    drop(restarted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_walk_over_a_restarted_primary_misses_no_key() {
    let cluster = RedisCluster::start(3);
    let store = RedisStore::cluster_builder(cluster.urls())
        .response_timeout(Duration::from_secs(2))
        .build()
        .await
        .unwrap();
    let ns = unique_ns("crestart");
    let want = fill(&store, &ns).await;
    let prefix = format!("{ns}:");
    let mut restarted = None;
    let mut killed_port = 0;
    let t = Instant::now();
    // About 65 pages per primary: page 30 is in the middle of the first one.
    let w = walk(&store, prefix.as_bytes(), 30, |cursor| {
        // The slot of the node being walked is bytes 3..5 of the cursor (keys.rs): restart
        // that node.
        let slot = i64::from(u16::from_be_bytes(
            cursor.as_bytes()[3..5].try_into().unwrap(),
        ));
        let node = cluster
            .nodes()
            .iter()
            .find(|n| {
                let slots: Vec<redis::Value> = redis::cmd("CLUSTER")
                    .arg("SLOTS")
                    .query(&mut n.admin())
                    .unwrap();
                slots.iter().any(|r| match r {
                    redis::Value::Array(v) => {
                        let int = |v: &redis::Value| match v {
                            redis::Value::Int(i) => *i,
                            _ => -1,
                        };
                        let port = match &v[2] {
                            redis::Value::Array(n) => int(&n[1]),
                            _ => -1,
                        };
                        int(&v[0]) <= slot && slot <= int(&v[1]) && port == i64::from(n.port())
                    }
                    _ => false,
                })
            })
            .expect("a node owns the slot");
        killed_port = node.port();
        save_and_kill(node);
        restarted = Some(Restarted::start(
            node.port(),
            node.dir(),
            &[
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "5000",
            ],
        ));
    })
    .await;
    let took = t.elapsed();
    let missing = want.difference(&w.seen).count();
    println!(
        "cluster, {KEYS} keys, pages of {PAGE}, primary on port {killed_port} restarted after \
         page 30: {} pages, {} returned ({} repeats), {} restarted page(s), {} failed \
         page(s), {missing} missing, {took:?}",
        w.pages,
        w.returned,
        w.returned - w.seen.len(),
        w.restarted_pages,
        w.errors
    );
    assert_eq!(
        missing, 0,
        "every key present for the whole walk is returned"
    );
    assert!(
        w.restarted_pages >= 1,
        "the walk says it started again: {w:?}"
    );
    assert!(took < Duration::from_secs(40), "{took:?}");
    drop(restarted);
}

/// A resharding during a walk (one slot moved between primaries: `CLUSTER SETSLOT`) changes
/// the slot map; when the node being walked is done, the walk sees the change and starts
/// again rather than trust a map under which keys may have moved to a node already walked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_walk_starts_again_when_the_slot_map_changes() {
    let cluster = RedisCluster::start(3);
    let store = RedisStore::cluster_builder(cluster.urls())
        .build()
        .await
        .unwrap();
    let ns = unique_ns("reshard");
    // Keys all in one hash tag's slot, so every other slot is empty and can move freely.
    let entries: Vec<SetEntry> = (0..500)
        .map(|i| SetEntry {
            key: format!("{ns}:{{tag}}:{i}").into_bytes(),
            value: vec![1],
            ttl: None,
        })
        .collect();
    store.set_many(&entries).await.unwrap();
    let want: HashSet<Vec<u8>> = entries.iter().map(|e| e.key.clone()).collect();
    let tag_slot = cache_version_redis::key_slot(b"tag");
    let ids: Vec<String> = cluster
        .nodes()
        .iter()
        .map(|n| n.cmd(&["CLUSTER", "MYID"]))
        .collect();
    // Slot 0 belongs to the primary with the lowest slots; move it to another one.
    let moved = if tag_slot == 0 { 1 } else { 0 };
    let owner = |slot: u16| -> usize {
        let slots: Vec<redis::Value> = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query(&mut cluster.nodes()[0].admin())
            .unwrap();
        let port = slots
            .iter()
            .find_map(|r| match r {
                redis::Value::Array(v) => match (&v[0], &v[1], &v[2]) {
                    (redis::Value::Int(a), redis::Value::Int(b), redis::Value::Array(n))
                        if *a <= i64::from(slot) && i64::from(slot) <= *b =>
                    {
                        match &n[1] {
                            redis::Value::Int(p) => Some(*p),
                            _ => None,
                        }
                    }
                    _ => None,
                },
                _ => None,
            })
            .expect("an owner");
        cluster
            .nodes()
            .iter()
            .position(|n| i64::from(n.port()) == port)
            .expect("a node")
    };
    let from = owner(moved);
    let to = (from + 1) % 3;
    let mut moved_at = None;
    let w = walk(&store, ns.as_bytes(), 1, |_| {
        let slot = moved.to_string();
        let _: () =
            cluster.nodes()[to].cmd(&["CLUSTER", "SETSLOT", &slot, "IMPORTING", &ids[from]]);
        let _: () =
            cluster.nodes()[from].cmd(&["CLUSTER", "SETSLOT", &slot, "MIGRATING", &ids[to]]);
        for n in cluster.nodes() {
            let _: () = n.cmd(&["CLUSTER", "SETSLOT", &slot, "NODE", &ids[to]]);
        }
        moved_at = Some(Instant::now());
    })
    .await;
    assert!(moved_at.is_some(), "the walk had more than one page");
    assert_eq!(owner(moved), to, "the slot moved");
    println!(
        "slot {moved} moved from node {from} to node {to} during a walk: {} pages, {} \
         restarted, {} returned",
        w.pages, w.restarted_pages, w.returned
    );
    assert!(w.seen == want, "{} of {} seen", w.seen.len(), want.len());
    assert_eq!(w.restarted_pages, 1, "{w:?}");
}

/// A cleanup over a redis-server that restarts (with its data) in the middle of the run
/// either finishes with every old key dealt with, or says what it left: an `Ok` report whose
/// `failed` and `pending` count exactly the old keys still there, or a scan error saying the
/// walk is incomplete. Never `Ok` with keys silently left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cleanup_over_a_restarted_server_is_complete_or_says_so() {
    use cache_version_core::rollout::SweepError;
    use cache_version_core::Cache;
    use cache_version_tests::rollout::{v1, User, UserV1};

    const OLD: usize = 4_000;
    let server = RedisServer::start();
    let port = server.port();
    let store = RedisStore::builder(server.url())
        .response_timeout(Duration::from_secs(2))
        .build()
        .await
        .unwrap();
    let ns = unique_ns("sweep-restart");
    // Builds that announce nothing: only the restart stands between the sweep and its keys.
    let build = |s: RedisStore| {
        Cache::builder(s)
            .namespace(ns.as_str())
            .live_versions(false)
            .build()
            .unwrap()
    };
    let old = build(store.clone()).model::<UserV1>();
    let entries: Vec<(String, UserV1)> = (0..OLD as u64)
        .map(|i| (i.to_string(), v1(i, "old")))
        .collect();
    old.set_many(entries).await.unwrap();
    let users = build(store.clone()).model::<User>();
    // About two seconds of work at this rate; the server restarts a few hundred ms in.
    let run = tokio::spawn(async move {
        users
            .cleanup()
            .batch_size(100)
            .rate_limit(2_000.0)
            .run()
            .await
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    save_and_kill(&server);
    let restarted = Restarted::start(port, server.dir(), &[]);
    let outcome = run.await.unwrap();

    // What is left of the old version, read once the server is back.
    let prefix = format!("{ns}:User:{}:", old.key_version());
    let deadline = Instant::now() + Duration::from_secs(20);
    let left = loop {
        let mut left = 0;
        let mut cursor = ScanCursor::start();
        let walked = loop {
            match store.scan_prefix(prefix.as_bytes(), cursor, 1000).await {
                Ok(page) => {
                    left += page.keys.len();
                    match page.cursor {
                        Some(c) => cursor = c,
                        None => break true,
                    }
                }
                Err(_) => break false,
            }
        };
        if walked {
            break left;
        }
        assert!(Instant::now() < deadline, "the server did not come back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    match outcome {
        Ok(report) => {
            println!("cleanup over a restart: Ok {report:?}; {left} old keys left");
            assert!(report.balances(), "{report:?}");
            assert_eq!(
                left as u64,
                report.failed + report.pending,
                "keys left that the report does not own up to: {report:?}"
            );
        }
        Err(e @ SweepError::Scan { .. }) => {
            println!("cleanup over a restart: {e}; {left} old keys left");
            assert!(e.to_string().contains("incomplete"), "{e}");
            let SweepError::Scan { report, .. } = &e else {
                unreachable!()
            };
            assert!(report.balances(), "{report:?}");
            assert!(left > 0 || report.pending == 0, "{report:?}");
        }
        Err(e) => panic!("unexpected error: {e}"),
    }
    drop(restarted);
}
