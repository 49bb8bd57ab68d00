//! Outages, store side, on real servers: starting without Redis (`build_lazy`), failing fast
//! while a server is down and recovering when it returns, big batches within a generous
//! timeout, errors that retrying cannot fix (not retried, and saying what to do), a dead
//! cluster node reported as unavailable. Each test prints its figures (`--nocapture`).
//!
//! Every server here is dedicated: each test stops or reconfigures the ones it starts.

use std::convert::Infallible;
use std::error::Error as _;
use std::time::{Duration, Instant};

use cache_version_core::{Cache, SetEntry, Store, StoreError};
use cache_version_redis::{redis, ErrorKind, RedisStore, RedisStoreError};
use cache_version_tests::redis_harness::{RedisCluster, RedisServer};
use cache_version_tests::restartable::{kill, unused_port, Restarted};
use cache_version_tests::suite::{unique_ns, user, User};

/// The `p`-th percentile of `xs` (sorted here).
fn percentile(xs: &mut [Duration], p: f64) -> Duration {
    xs.sort();
    xs[((xs.len() as f64 - 1.0) * p).round() as usize]
}

/// `n` calls of `get`, each an error; their latencies.
async fn failing_gets(store: &RedisStore, n: usize) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let r = store.get(format!("k{i}").as_bytes()).await;
        out.push(t.elapsed());
        match r {
            Err(StoreError::Unavailable(_)) => {}
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
    out
}

async fn wait_connected(store: &RedisStore, within: Duration) -> Duration {
    let t = Instant::now();
    while !store.is_connected() {
        assert!(t.elapsed() < within, "not connected within {within:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    t.elapsed()
}

/// A service built while nothing listens: it starts, every store call fails at once, the
/// cache serves from its loader; once a server comes up on the port the store connects on
/// its own and the cache hits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazy_standalone_starts_without_redis_and_uses_it_once_up() {
    let port = unused_port();
    let t = Instant::now();
    let store = RedisStore::builder(format!("redis://127.0.0.1:{port}"))
        .build_lazy()
        .unwrap();
    assert!(t.elapsed() < Duration::from_millis(50), "{:?}", t.elapsed());
    assert!(!store.is_connected());
    let mut lat = failing_gets(&store, 200).await;
    let (p50, p99) = (percentile(&mut lat, 0.5), percentile(&mut lat, 0.99));
    println!("lazy, no server: store get p50 {p50:?}, p99 {p99:?}");
    assert!(
        p99 < Duration::from_millis(10),
        "fails at once: p99 {p99:?}"
    );
    let err = store.get(b"x").await.unwrap_err();
    assert!(
        err.to_string().contains("connecting in the background")
            || err.to_string().contains("refused"),
        "{err}"
    );

    // The cache over it serves from the loader (fail-open), without waiting on Redis.
    let cache = Cache::builder(store.clone())
        .namespace(unique_ns("lazy"))
        .build()
        .unwrap();
    let users = cache.model::<User>();
    let t = Instant::now();
    for id in 0..20 {
        let v = users
            .get_or_load(
                id.to_string(),
                || async move { Ok::<_, Infallible>(user(id)) },
            )
            .await
            .unwrap();
        assert_eq!(v, user(id));
    }
    let served = t.elapsed();
    println!("lazy, no server: 20 get_or_load from the loader in {served:?}");
    assert!(served < Duration::from_millis(200), "{served:?}");

    // Redis comes up: the store connects by itself (backoff at most 1 s).
    let dir = std::env::temp_dir().join(format!("cv-lazy-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = Restarted::start(port, &dir, &[]);
    let connected_in = wait_connected(&store, Duration::from_secs(5)).await;
    println!("lazy: connected {connected_in:?} after the server answered");
    assert!(
        connected_in < Duration::from_millis(2500),
        "{connected_in:?}"
    );
    store.set(b"k", b"v", None).await.unwrap();
    assert_eq!(store.get(b"k").await.unwrap(), Some(b"v".to_vec()));
    // The cache's circuit breaker (opened while Redis was down) lets a probe through within
    // its cooldown (1 s), then the cache uses Redis again.
    let back = Instant::now();
    while users.cache().circuit_open() {
        assert!(
            back.elapsed() < Duration::from_secs(3),
            "the breaker never closed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        let _ = users.get("probe").await;
    }
    println!(
        "lazy: cache back on Redis {:?} after the store connected",
        back.elapsed()
    );
    for id in 0..20 {
        users.set(id.to_string(), &user(id)).await.unwrap();
        assert_eq!(users.get(id.to_string()).await.unwrap(), Some(user(id)));
    }
    assert!(users.stats().hit >= 20, "{:?}", users.stats());
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A cluster whose nodes do not answer when the store is built (`CLIENT PAUSE`): the store
/// starts, fails at once, and connects once they answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazy_cluster_connects_once_the_nodes_answer() {
    let cluster = RedisCluster::start(3);
    let pause = Duration::from_millis(1500);
    for n in cluster.nodes() {
        let _: () = n.cmd(&["CLIENT", "PAUSE", &pause.as_millis().to_string(), "ALL"]);
    }
    let paused = Instant::now();
    let store = RedisStore::cluster_builder(cluster.urls())
        .connect_timeout(Duration::from_millis(200))
        .build_lazy()
        .unwrap();
    assert!(store.is_cluster() && !store.is_connected());
    let mut lat = failing_gets(&store, 50).await;
    let p99 = percentile(&mut lat, 0.99);
    println!("lazy cluster, nodes paused: get p99 {p99:?}");
    assert!(p99 < Duration::from_millis(10), "{p99:?}");
    let connected_in = wait_connected(&store, Duration::from_secs(8)).await;
    println!(
        "lazy cluster: connected {:?} after the pause ended",
        (paused + connected_in).saturating_duration_since(paused + pause)
    );
    let ns = unique_ns("lazyc");
    let entries: Vec<SetEntry> = (0..100)
        .map(|i| SetEntry {
            key: format!("{ns}:{i}").into_bytes(),
            value: vec![1],
            ttl: None,
        })
        .collect();
    store.set_many(&entries).await.unwrap();
    let keys: Vec<Vec<u8>> = entries.iter().map(|e| e.key.clone()).collect();
    assert_eq!(store.delete_many(&keys).await.unwrap(), 100);
}

/// A server killed under a running store: after the first call sees the drop, calls fail at
/// once with `Unavailable` (none waits out the response timeout); when a server is back on
/// the port, calls succeed again within the reconnect backoff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_server_fails_fast_and_comes_back() {
    let server = RedisServer::start();
    let port = server.port();
    let store = RedisStore::builder(server.url())
        .response_timeout(Duration::from_millis(500))
        .build()
        .await
        .unwrap();
    store.set(b"k", b"v", None).await.unwrap();
    kill(&server, true);
    // The first call meets the dropped connection; one reconnect attempt is refused.
    let t = Instant::now();
    let first = store.get(b"k").await;
    let first_took = t.elapsed();
    assert!(
        matches!(first, Err(StoreError::Unavailable(_))),
        "{first:?}"
    );
    let mut lat = failing_gets(&store, 500).await;
    let (p50, p99, max) = (
        percentile(&mut lat, 0.5),
        percentile(&mut lat, 0.99),
        *lat.last().unwrap(),
    );
    println!(
        "server down: first call {first_took:?}, then 500 gets p50 {p50:?} p99 {p99:?} max {max:?}"
    );
    assert!(first_took < Duration::from_millis(500), "{first_took:?}");
    // Microseconds when quiet (see the figures); the bound leaves room for a loaded machine
    // while staying far below the 500 ms a call waiting out its timeout would take.
    assert!(p99 < Duration::from_millis(10), "p99 {p99:?}");
    assert!(!store.is_connected());
    // Back, with its data.
    let back = Restarted::start(port, server.dir(), &[]);
    let t = Instant::now();
    loop {
        match store.get(b"k").await {
            Ok(v) => {
                assert_eq!(v, Some(b"v".to_vec()));
                break;
            }
            Err(e) => {
                assert!(t.elapsed() < Duration::from_secs(5), "not back: {e}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
    let back_in = t.elapsed();
    println!("server back: first success after {back_in:?}");
    assert!(back_in < Duration::from_millis(2500), "{back_in:?}");
    drop(back);
}

/// A batch of 100,000 entries within a generous caller timeout succeeds with the default
/// 500 ms response timeout: chunks go a few at a time, each bounded from when it is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_batches_succeed_with_the_default_response_timeout() {
    let server = RedisServer::start();
    let cluster = RedisCluster::shared();
    for (name, store) in [
        ("standalone", RedisStore::open(server.url()).await.unwrap()),
        (
            "cluster",
            RedisStore::open_cluster(cluster.urls()).await.unwrap(),
        ),
    ] {
        assert_eq!(store.config().response_timeout, Duration::from_millis(500));
        let ns = unique_ns("big");
        const N: usize = 100_000;
        let entries: Vec<SetEntry> = (0..N)
            .map(|i| SetEntry {
                key: format!("{ns}:{i}").into_bytes(),
                value: vec![b'x'; 200],
                ttl: Some(Duration::from_secs(120)),
            })
            .collect();
        let keys: Vec<Vec<u8>> = entries.iter().map(|e| e.key.clone()).collect();
        let t = Instant::now();
        tokio::time::timeout(Duration::from_secs(30), store.set_many(&entries))
            .await
            .expect("within the caller's 30 s")
            .unwrap();
        let wrote = t.elapsed();
        let t = Instant::now();
        let got = store.get_many(&keys).await.unwrap();
        let read = t.elapsed();
        assert!(got
            .iter()
            .all(|v| v.as_ref().is_some_and(|v| v.len() == 200)));
        let renamed: Vec<SetEntry> = (0..N)
            .map(|i| SetEntry {
                key: format!("{ns}:new:{i}").into_bytes(),
                value: vec![b'y'; 200],
                ttl: None,
            })
            .collect();
        let t = Instant::now();
        assert_eq!(
            store.set_many_and_delete(&renamed, &keys).await.unwrap(),
            N as u64
        );
        let swapped = t.elapsed();
        let new_keys: Vec<Vec<u8>> = renamed.iter().map(|e| e.key.clone()).collect();
        let t = Instant::now();
        assert_eq!(store.delete_many(&new_keys).await.unwrap(), N as u64);
        let deleted = t.elapsed();
        println!(
            "{name}: {N} x 200 B: set_many {wrote:?}, get_many {read:?}, \
             set_many_and_delete {swapped:?}, delete_many {deleted:?}"
        );
    }
    let dbsize: u64 = server.cmd(&["DBSIZE"]);
    assert_eq!(dbsize, 0);
}

/// Errors that retrying cannot fix end at once, say so, and are not retried: a wrong
/// password (even with 5 retries configured), a database the server does not have, an ACL
/// that denies a command; a lazily built store with a wrong password stops trying. URL typos
/// name the expected forms. The driver's error stays reachable as `source()`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_that_retrying_cannot_fix() {
    const PW: &str = "right-password-1";
    let server = RedisServer::start_with(&["--requirepass", PW]);
    let port = server.port();
    let admin = |args: &[&str]| -> redis::Value {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query(&mut server.admin_as(Some(("default", PW))))
            .unwrap()
    };
    let conns = || -> u64 {
        let info: String = redis::cmd("INFO")
            .arg("stats")
            .query(&mut server.admin_as(Some(("default", PW))))
            .unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("total_connections_received:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };

    // A wrong password: one attempt, though 5 retries are allowed.
    let before = conns();
    let t = Instant::now();
    let err = RedisStore::builder(format!("redis://:wrong-password@127.0.0.1:{port}"))
        .reconnect_retries(5)
        .build()
        .await
        .unwrap_err();
    let took = t.elapsed();
    println!("wrong password: {err} ({took:?})");
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("not retried"), "{err}");
    assert!(
        err.to_string().contains("check the user name and password"),
        "{err}"
    );
    assert!(took < Duration::from_millis(500), "no backoff: {took:?}");
    assert_eq!(
        conns() - before - 1,
        1,
        "one connection attempt (and the admin's)"
    );
    // The driver's error is the source.
    let src = err.source().expect("a source");
    assert!(
        src.downcast_ref::<redis::RedisError>().is_some(),
        "the driver's error itself: {src:?}"
    );

    // A database the server does not have.
    let before = conns();
    let err = RedisStore::builder(format!("redis://:{PW}@127.0.0.1:{port}/99"))
        .reconnect_retries(5)
        .build()
        .await
        .unwrap_err();
    println!("bad database: {err}");
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains("database number"), "{err}");
    assert!(!err.to_string().contains(PW), "{err}");
    assert_eq!(conns() - before - 1, 1);

    // An ACL that denies SET: the write fails as a permission error, sent once.
    let _ = admin(&[
        "ACL",
        "SETUSER",
        "reader",
        "on",
        ">reader-pw",
        "~*",
        "+get",
        "+ping",
    ]);
    let store = RedisStore::builder(format!("redis://reader:reader-pw@127.0.0.1:{port}"))
        .build()
        .await
        .unwrap();
    store.ping().await.unwrap();
    let trips = store.round_trips_for_tests();
    let err = store.set(b"k", b"v", None).await.unwrap_err();
    assert_eq!(store.round_trips_for_tests() - trips, 1, "not retried");
    println!("NOPERM: {err}");
    let StoreError::Backend(inner) = &err else {
        panic!("{err:?}")
    };
    let inner = inner
        .downcast_ref::<RedisStoreError>()
        .expect("a RedisStoreError");
    assert_eq!(inner.kind(), ErrorKind::Permission);
    assert!(inner.to_string().contains("ACL") && inner.to_string().contains("not retried"));

    // Lazily built with a wrong password: fails, says so, and stops trying.
    let store = RedisStore::builder(format!("redis://:wrong-again@127.0.0.1:{port}"))
        .build_lazy()
        .unwrap();
    let t = Instant::now();
    let err = loop {
        let e = store.get(b"k").await.unwrap_err();
        if e.to_string().contains("not retried") {
            break e;
        }
        assert!(t.elapsed() < Duration::from_secs(3), "{e}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let before = conns();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        conns() - before,
        1,
        "no attempt after the refusal (only the admin's)"
    );
    assert!(!err.to_string().contains("wrong-again"));

    // URL typos.
    for (url, says) in [
        ("redis//127.0.0.1:6379", "`redis` must be followed by `://`"),
        ("rdis://127.0.0.1:6379", "did you mean `redis://`"),
        ("127.0.0.1:6379", "no scheme"),
        ("redis://127.0.0.1:6379/x", "must be a whole number"),
    ] {
        let err = RedisStore::open(url).await.unwrap_err();
        println!("{url}: {err}");
        assert_eq!(err.kind(), ErrorKind::Config, "{url}: {err}");
        assert!(err.to_string().contains(says), "{url}: {err}");
        assert!(
            err.to_string().contains("expected redis://"),
            "{url}: {err}"
        );
    }
    let err = RedisStore::builder("rdis://x").build_lazy().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

/// A killed cluster primary: calls on its keys fail as `Unavailable` (not `Timeout`), within
/// a fraction of the response timeout; the other primaries keep serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_cluster_node_is_unavailable() {
    let cluster = RedisCluster::start(3);
    let rt = Duration::from_millis(1000);
    let store = RedisStore::cluster_builder(cluster.urls())
        .response_timeout(rt)
        .build()
        .await
        .unwrap();
    let keys: Vec<Vec<u8>> = (0..60).map(|i| format!("k{i}").into_bytes()).collect();
    for k in &keys {
        store.set(k, b"v", None).await.unwrap();
    }
    kill(&cluster.nodes()[1], false);
    let (mut ok, mut unavailable, mut worst) = (0, 0, Duration::ZERO);
    for round in 0..2 {
        for k in &keys {
            let t = Instant::now();
            match store.get(k).await {
                Ok(_) => ok += 1,
                Err(StoreError::Unavailable(_)) => unavailable += 1,
                Err(e) => panic!("round {round}: {e:?}"),
            }
            worst = worst.max(t.elapsed());
        }
    }
    println!("dead primary: {ok} served, {unavailable} unavailable, worst {worst:?}");
    assert!(unavailable >= 2 && ok >= 2, "{ok} / {unavailable}");
    assert!(
        worst < rt,
        "never waits out the response timeout: {worst:?}"
    );
}

/// A store whose background connection loop ran on a runtime that is gone (a test's, a
/// service's shut down) connects again from the next runtime that uses it.
#[test]
fn a_store_outlives_the_runtime_of_its_reconnect_loop() {
    let port = unused_port();
    let first = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let store = {
        let _in = first.enter();
        RedisStore::builder(format!("redis://127.0.0.1:{port}"))
            .build_lazy()
            .unwrap()
    };
    first.block_on(async {
        // The loop runs (and fails) on this runtime.
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(store.get(b"k").await.is_err());
    });
    drop(first);
    let dir = std::env::temp_dir().join(format!("cv-outlive-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = Restarted::start(port, &dir, &[]);
    let second = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    second.block_on(async {
        // The first call finds no loop running and starts one here.
        assert!(store.get(b"k").await.is_err());
        let t = Instant::now();
        loop {
            match store.get(b"k").await {
                Ok(v) => {
                    assert_eq!(v, None);
                    break;
                }
                Err(e) => {
                    assert!(t.elapsed() < Duration::from_secs(5), "never connects: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
        println!("connected from the second runtime after {:?}", t.elapsed());
    });
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A user whose ACL denies `INFO`: scans still list every key (plain `SCAN`, without the
/// restart check, and the store says so once in its log).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_work_when_the_acl_denies_info() {
    let server = RedisServer::start();
    let _: () = server.cmd(&[
        "ACL",
        "SETUSER",
        "noinfo",
        "on",
        ">noinfo-pw",
        "~*",
        "+@all",
        "-info",
    ]);
    let store = RedisStore::builder(format!(
        "redis://noinfo:noinfo-pw@127.0.0.1:{}",
        server.port()
    ))
    .build()
    .await
    .unwrap();
    let denied: redis::RedisResult<String> = redis::cmd("INFO")
        .arg("server")
        .query(&mut server.admin_as(Some(("noinfo", "noinfo-pw"))));
    assert_eq!(denied.unwrap_err().code(), Some("NOPERM"));
    let ns = unique_ns("noinfo");
    let entries: Vec<SetEntry> = (0..250)
        .map(|i| SetEntry {
            key: format!("{ns}:{i}").into_bytes(),
            value: vec![1],
            ttl: None,
        })
        .collect();
    store.set_many(&entries).await.unwrap();
    for _ in 0..2 {
        let (keys, restarted) =
            cache_version_tests::contract::walk(&store, ns.as_bytes(), 40).await;
        assert_eq!(keys.len(), 250);
        assert!(!restarted);
    }
}
