//! Fault injection against real Redis servers started (and stopped) by the test harness:
//! a server killed and restarted mid-run, `CLIENT PAUSE` longer than the timeout, `maxmemory`
//! with `noeviction`, and a cluster primary killed. Each test prints its figures (run with
//! `--nocapture` to see them).
//!
//! Every server here is dedicated (never the shared one) and stopped when its guard drops:
//! [`RedisServer`] / [`RedisCluster`] through the harness's watchdog, the hand-restarted server
//! of `killed_and_restarted_server` by its PID ([`Restarted`]).

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cache_version_core::{Cache, CacheError, FailureMode, ModelHandle, Stats};
use cache_version_redis::RedisStore;
use cache_version_tests::redis_harness::{RedisCluster, RedisServer};
use cache_version_tests::suite::{builder, user, User};

/// The cache's bound on each store operation.
const TIMEOUT: Duration = Duration::from_millis(300);
/// A generous bound on one `get_or_load` during a fault: a read and a best-effort write-back,
/// each bounded by [`TIMEOUT`], plus scheduling slack on a loaded 2-core machine.
const OP_BOUND: Duration = Duration::from_millis(2_000);

async fn standalone(url: String) -> RedisStore {
    RedisStore::builder(url)
        .connect_timeout(Duration::from_millis(200))
        .response_timeout(Duration::from_millis(200))
        .build()
        .await
        .expect("connect to the dedicated server")
}

fn user_cache(store: RedisStore, tag: &str, mode: FailureMode) -> Cache<RedisStore> {
    builder(store, tag)
        .timeout(TIMEOUT)
        .failure_mode(mode)
        .build()
        .expect("valid config")
}

/// `get_or_load(id)` with a loader that returns `user(id)`; the value and the elapsed time.
async fn load(users: &ModelHandle<User, RedisStore>, id: u64) -> (User, Duration) {
    let t = Instant::now();
    let v = users
        .get_or_load(
            id.to_string(),
            || async move { Ok::<_, Infallible>(user(id)) },
        )
        .await
        .expect("fail-open get_or_load never fails when the loader succeeds");
    (v, t.elapsed())
}

fn stats(cache: &Cache<RedisStore>) -> Stats {
    cache.stats().model("User")
}

/// The PID of the server behind `node` (`INFO server`).
fn server_pid(node: &RedisServer) -> u32 {
    let info: String = node.cmd(&["INFO", "server"]);
    info.lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .and_then(|p| p.trim().parse().ok())
        .expect("process_id in INFO server")
}

/// `kill -9` of one server, by its PID, and waits until its port is closed.
fn kill_server(node: &RedisServer) {
    let pid = server_pid(node);
    let status = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -9 {pid}");
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, node.port()));
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
        assert!(Instant::now() < deadline, "port {} still open", node.port());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A `redis-server` restarted by hand on a given port; killed by its PID when dropped.
struct Restarted {
    child: Child,
    dir: PathBuf,
}

impl Restarted {
    fn start(port: u16) -> Restarted {
        let dir = std::env::temp_dir().join(format!(
            "cache-version-faults-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create dir");
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let mut restarted = Restarted { child, dir };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            if let Ok(Some(s)) = restarted.child.try_wait() {
                panic!("the restarted redis-server exited: {s}");
            }
            assert!(Instant::now() < deadline, "restarted server not listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        restarted
    }
}

impl Drop for Restarted {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Kills a dedicated server (`kill -9`) in the middle of a run of `get_or_load` traffic and
/// restarts one on the same port: during the outage every call is a bounded miss plus a
/// loader call (the loaded value is returned), counted as store errors; after the restart the
/// client reconnects on its own and hits resume.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_and_restarted_server() {
    let server = RedisServer::start();
    let port = server.port();
    let cache = user_cache(standalone(server.url()).await, "kill", FailureMode::Open);
    let users = cache.model::<User>();

    // Before: loads, then hits.
    for id in 0..20 {
        assert_eq!(load(&users, id).await.0, user(id));
    }
    for id in 0..20 {
        assert_eq!(load(&users, id).await.0, user(id));
    }
    let before = stats(&cache);
    assert_eq!((before.load, before.hit, before.store_error), (20, 20, 0));

    kill_server(&server);
    let mut worst = Duration::ZERO;
    for round in 0..3 {
        for id in 0..20 {
            let (v, took) = load(&users, id).await;
            assert_eq!(v, user(id), "round {round}");
            worst = worst.max(took);
        }
    }
    let down = stats(&cache).since(&before);
    println!("server down: 60 get_or_load, worst {worst:?}, {down:?}");
    assert!(
        worst < OP_BOUND,
        "a call took {worst:?} with the server down"
    );
    assert_eq!(down.hit, 0);
    assert_eq!(
        down.load, 60,
        "every call during the outage called its loader"
    );
    assert!(down.miss >= 60, "{down:?}");
    // The first failures open the circuit breaker; the calls after it skip the store.
    assert!(
        down.store_error + down.breaker_rejected >= 60,
        "reads (and write-backs) counted: {down:?}"
    );
    assert!(down.breaker_rejected > 0, "the breaker opened: {down:?}");

    // Restart on the same port (empty: no persistence). The client reconnects by itself.
    let _restarted = Restarted::start(port);
    let restart = Instant::now();
    let after = stats(&cache);
    let deadline = restart + Duration::from_secs(30);
    let mut calls = 0u64;
    loop {
        let id = calls % 20;
        let (v, took) = load(&users, id).await;
        assert_eq!(v, user(id));
        assert!(took < OP_BOUND, "a call took {took:?} after the restart");
        calls += 1;
        if stats(&cache).since(&after).hit > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no hit within 30 s of the restart: {:?}",
            stats(&cache).since(&after)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let recovered_in = restart.elapsed();
    // Once reconnected, everything is served from the cache again.
    for id in 0..20 {
        load(&users, id).await;
    }
    let mid = stats(&cache);
    for id in 0..20 {
        assert_eq!(load(&users, id).await.0, user(id));
    }
    let steady = stats(&cache).since(&mid);
    println!(
        "restarted: first hit after {recovered_in:?} ({calls} calls), then {steady:?}, \
         total {:?}",
        stats(&cache)
    );
    assert_eq!((steady.hit, steady.load, steady.store_error), (20, 0, 0));
}

/// `CLIENT PAUSE` longer than the timeout: every call during the pause is a miss within the
/// bound (the loader's value is returned); after the pause hits come back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_pause_longer_than_the_timeout() {
    let server = RedisServer::start();
    let cache = user_cache(standalone(server.url()).await, "pause", FailureMode::Open);
    let users = cache.model::<User>();
    for id in 0..5 {
        load(&users, id).await;
    }
    let before = stats(&cache);

    let pause = Duration::from_millis(2_500);
    let _: () = server.cmd(&["CLIENT", "PAUSE", &pause.as_millis().to_string(), "ALL"]);
    let paused_at = Instant::now();
    let mut worst = Duration::ZERO;
    let mut calls = 0;
    while paused_at.elapsed() < pause - Duration::from_millis(700) {
        let id = calls % 5;
        let (v, took) = load(&users, id).await;
        assert_eq!(v, user(id));
        worst = worst.max(took);
        calls += 1;
    }
    let during = stats(&cache).since(&before);
    println!("paused {pause:?}: {calls} calls, worst {worst:?}, {during:?}");
    assert!(worst < OP_BOUND, "{worst:?}");
    assert!(calls >= 1);
    assert_eq!(during.hit, 0, "{during:?}");
    assert!(
        during.store_error + during.breaker_rejected >= calls,
        "{during:?}"
    );
    assert_eq!(during.load, calls);

    // After the pause: the queued commands drain and hits resume.
    tokio::time::sleep(pause.saturating_sub(paused_at.elapsed()) + Duration::from_millis(300))
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let after = stats(&cache);
    while stats(&cache).since(&after).hit == 0 {
        assert!(Instant::now() < deadline, "no hit after the pause");
        load(&users, 0).await;
    }
    println!("after the pause: {:?}", stats(&cache).since(&after));
}

/// `maxmemory` reached with `noeviction`: `set` fails cleanly (fail-closed: an error naming
/// the OOM; fail-open: `Ok` and a counted store error), reads keep working and `get_or_load`
/// still returns loaded values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maxmemory_noeviction() {
    let server = RedisServer::start_with(&["--maxmemory-policy", "noeviction"]);
    let closed = user_cache(standalone(server.url()).await, "oomc", FailureMode::Closed);
    let open = user_cache(standalone(server.url()).await, "oomo", FailureMode::Open);
    let c_users = closed.model::<User>();
    let o_users = open.model::<User>();
    // A few entries written before the limit stay readable.
    for id in 0..5 {
        o_users.set(id.to_string(), &user(id)).await.unwrap();
    }
    let used: String = server.cmd(&["INFO", "memory"]);
    let used: u64 = used
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory");
    let limit = used + 64 * 1024;
    let _: () = server.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);

    // Fill until Redis refuses (fail-closed, so we see the error).
    let big = User {
        id: 0,
        name: "x".repeat(16 * 1024),
        email: String::new(),
    };
    let mut refused = None;
    for i in 0..1000 {
        match c_users.set(format!("fill{i}"), &big).await {
            Ok(()) => {}
            Err(e) => {
                refused = Some((i, e));
                break;
            }
        }
    }
    let (filled, err) = refused.expect("Redis refused a write below 16 MiB");
    let msg = err.to_string();
    println!("maxmemory {limit}: {filled} writes of 16 KiB accepted, then: {msg}");
    assert!(matches!(err, CacheError::Store { .. }), "{err:?}");
    assert!(msg.contains("OOM"), "{msg}");
    assert_eq!(stats(&closed).store_error, 1);

    // Fail-open: set is Ok and counted; reads and get_or_load keep serving.
    let before = stats(&open);
    o_users.set("new", &big).await.unwrap();
    assert_eq!(stats(&open).since(&before).store_error, 1);
    for id in 0..5 {
        assert_eq!(o_users.get(id.to_string()).await.unwrap(), Some(user(id)));
    }
    for id in 100..110 {
        let (v, took) = load(&o_users, id).await;
        assert_eq!(v, user(id));
        assert!(took < OP_BOUND);
    }
    let d = stats(&open).since(&before);
    println!("fail-open under OOM: {d:?}");
    // The small user writes may or may not fit; at least the big one was refused.
    assert!(d.store_error >= 1 && d.hit == 5 && d.load == 10, "{d:?}");
    // Deletes still work under noeviction (they free memory).
    assert!(o_users.delete("0").await.unwrap());
}

/// A cluster primary killed (a dedicated three-primary cluster without replicas).
///
/// What happens during failover: there is none. With no replica, nothing can be promoted, so
/// the slots of the dead primary (about a third of them) stay unserved; after
/// `cluster-node-timeout` (5 s here) the other nodes mark it `FAIL` and, with the default
/// `cluster-require-full-coverage yes`, answer `CLUSTERDOWN` for every slot until it returns.
/// Before that, the keys of the other primaries are still served. Either way every call
/// stays a bounded miss plus a loader call, never a panic, and counts a store error. With
/// replicas, a replica would be promoted after the node timeout and the client would follow
/// the `MOVED` redirections once its slot map refreshes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_primary_killed() {
    let cluster = RedisCluster::start(3);
    let store = RedisStore::cluster_builder(cluster.urls())
        .connect_timeout(Duration::from_millis(200))
        .response_timeout(Duration::from_millis(200))
        .build()
        .await
        .expect("connect to the dedicated cluster");
    let cache = user_cache(store, "ckill", FailureMode::Open);
    let users = cache.model::<User>();
    const N: u64 = 60;
    for id in 0..N {
        load(&users, id).await;
    }
    let warm = stats(&cache);
    assert_eq!((warm.load, warm.store_error), (N, 0));

    kill_server(&cluster.nodes()[1]);
    let before = stats(&cache);
    let killed_at = Instant::now();
    let mut worst = Duration::ZERO;
    for id in 0..N {
        let (v, took) = load(&users, id).await;
        assert_eq!(v, user(id));
        worst = worst.max(took);
    }
    let early = stats(&cache).since(&before);
    println!(
        "primary killed, first pass ({:?} after the kill): worst {worst:?}, {early:?}",
        killed_at.elapsed()
    );
    assert!(worst < OP_BOUND, "{worst:?}");
    assert!(early.store_error >= 1, "{early:?}");
    assert_eq!(early.hit + early.load, N, "{early:?}");

    // After the node timeout: still bounded misses, no panic.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let mid = stats(&cache);
    let mut worst = Duration::ZERO;
    for id in 0..N {
        let (v, took) = load(&users, id).await;
        assert_eq!(v, user(id));
        worst = worst.max(took);
    }
    let late = stats(&cache).since(&mid);
    println!("after the node timeout: worst {worst:?}, {late:?}");
    assert!(worst < OP_BOUND, "{worst:?}");
    assert_eq!(late.hit + late.load, N, "{late:?}");
}

/// Issue 15's outage figures: with Redis stopped, once the circuit breaker is open a `get`
/// through the cache costs microseconds (p99 under 1 ms; it was the 500 ms timeout) and no
/// error reaches the caller (fail-open); after Redis returns, hits resume within 2 s. Uses the
/// default breaker (5 failures, 1 s cooldown).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_gets_are_fast_and_hits_resume_when_it_returns() {
    let server = RedisServer::start();
    let port = server.port();
    let store = standalone(server.url()).await;
    let cache = Cache::builder(store)
        .namespace(cache_version_tests::suite::unique_ns("breaker"))
        .timeout(TIMEOUT)
        .build()
        .unwrap();
    let users = cache.model::<User>();
    for id in 0..10 {
        users.set(id.to_string(), &user(id)).await.unwrap();
    }
    kill_server(&server);
    // The failures that open the breaker.
    let opening = Instant::now();
    while !cache.circuit_open() {
        assert_eq!(users.get("1").await.unwrap(), None);
        assert!(opening.elapsed() < Duration::from_secs(10), "never opened");
    }
    println!("breaker open after {:?}", opening.elapsed());
    let mut lat = Vec::with_capacity(2000);
    for i in 0..2000u64 {
        let t = Instant::now();
        let got = users.get((i % 10).to_string()).await;
        lat.push(t.elapsed());
        assert_eq!(got.unwrap(), None, "fail-open: a miss, no error");
    }
    lat.sort();
    let (p50, p99, max) = (lat[1000], lat[1980], lat[1999]);
    println!("Redis down, breaker open: get p50 {p50:?}, p99 {p99:?}, max {max:?}");
    assert!(p99 < Duration::from_millis(1), "p99 {p99:?}");

    // Redis returns (empty): within 2 s the cache writes and hits again.
    let _back = Restarted::start(port);
    let back = Instant::now();
    loop {
        users.set("r", &user(7)).await.unwrap();
        if users.get("r").await.unwrap() == Some(user(7)) {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(5), "no hit within 5 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let recovered = back.elapsed();
    println!("Redis back: first hit after {recovered:?}");
    assert!(recovered < Duration::from_secs(2), "{recovered:?}");
}
