//! Loads that end (issue 13): the load timeout bounds every `get_or_load`, a hung loader does
//! not hold later callers, a re-entrant call fails instead of waiting for itself, and the
//! loader's own error type and "do not cache" reach the caller. On a paused clock, so the
//! timings are exact.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cache_version_core::{Cache, CacheError, LoadError, Loaded, MemoryStore, Store};
use cache_version_tests::suite::{user, User};
use tokio::time::Instant;

fn cache(load_timeout: Duration) -> Cache<MemoryStore> {
    Cache::builder(MemoryStore::new())
        .namespace("loads")
        .load_timeout(load_timeout)
        .build()
        .unwrap()
}

/// One `get_or_load` whose loader never returns makes a caller 2 s later wait no longer than
/// the load timeout, and that caller's own loader then answers; the hung caller gets a
/// timeout error at the load timeout.
#[tokio::test(start_paused = true)]
async fn a_hung_loader_delays_a_later_caller_by_at_most_the_load_timeout() {
    let timeout = Duration::from_secs(5);
    let users = cache(timeout).model::<User>();
    let start = Instant::now();
    let hung = {
        let users = users.clone();
        tokio::spawn(async move {
            users
                .get_or_load("k", std::future::pending::<Result<User, std::io::Error>>)
                .await
        })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let later_start = Instant::now();
    let later = users
        .get_or_load("k", || async { Ok::<_, std::io::Error>(user(2)) })
        .await
        .unwrap();
    let waited = later_start.elapsed();
    assert_eq!(later, user(2));
    assert!(waited <= timeout, "waited {waited:?}");
    assert_eq!(
        waited,
        Duration::from_secs(3),
        "until the hung load gave up"
    );

    let err = hung.await.unwrap().unwrap_err();
    assert!(err.is_timeout(), "{err}");
    match err {
        LoadError::Cache(CacheError::LoadTimeout { after, .. }) => assert_eq!(after, timeout),
        other => panic!("{other:?}"),
    }
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert_eq!(users.stats().load_timeout, 1);
    // The later caller's value was cached.
    assert_eq!(users.get("k").await.unwrap(), Some(user(2)));
}

/// Waiters share the leader's load while it is healthy, and every one of them is bounded by
/// its own load timeout when it is not.
#[tokio::test(start_paused = true)]
async fn every_waiter_is_bounded_by_its_load_timeout() {
    let timeout = Duration::from_secs(1);
    let users = cache(timeout).model::<User>();
    let calls = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..10u64 {
        let users = users.clone();
        let calls = calls.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50 * i)).await;
            let started = Instant::now();
            let r = users
                .get_or_load("slow", || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    // Slower than the timeout: every load gives up.
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok::<_, std::io::Error>(user(1))
                })
                .await;
            (started.elapsed(), r)
        }));
    }
    for t in tasks {
        let (took, r) = t.await.unwrap();
        assert!(took <= timeout, "a caller waited {took:?}");
        assert!(r.unwrap_err().is_timeout());
    }
    assert!(calls.load(Ordering::SeqCst) >= 1);
}

/// `get_or_load` of a key from inside its own loader fails at once with `Reentrant` instead
/// of waiting for itself (it used to deadlock until the caller's own timeout).
#[tokio::test(start_paused = true)]
async fn a_reentrant_get_or_load_is_an_error_not_a_deadlock() {
    let users = cache(Duration::from_secs(30)).model::<User>();
    let inner_users = users.clone();
    let start = Instant::now();
    let got = users
        .get_or_load("k", || async move {
            let inner = inner_users
                .get_or_load("k", || async { Ok::<_, std::io::Error>(user(9)) })
                .await;
            match inner {
                Err(LoadError::Cache(CacheError::Reentrant { key, .. })) => assert_eq!(key, "k"),
                other => panic!("expected Reentrant, got {other:?}"),
            }
            // Another key from inside a loader is fine.
            let other = inner_users
                .get_or_load("other", || async { user(3) })
                .await
                .unwrap();
            Ok::<_, std::io::Error>(User { id: 1, ..other })
        })
        .await
        .unwrap();
    assert_eq!(got.id, 1);
    assert_eq!(start.elapsed(), Duration::ZERO, "no wait at all");
}

/// The loader's own error comes back typed, to the leader and to every waiter; infallible
/// loaders need no annotation; `Loaded::uncached` returns the value without caching it and
/// `Loaded::with_ttl` gives it its own TTL.
#[tokio::test(start_paused = true)]
async fn typed_errors_infallible_loaders_and_loaded() {
    #[derive(Debug, PartialEq)]
    enum DbError {
        NotFound(u64),
    }
    let users = cache(Duration::from_secs(10)).model::<User>();
    let leader = {
        let users = users.clone();
        tokio::spawn(async move {
            users
                .get_or_load("7", || async {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Err::<User, _>(DbError::NotFound(7))
                })
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    let waiter = users
        .get_or_load("7", || async { Err::<User, _>(DbError::NotFound(0)) })
        .await
        .unwrap_err();
    assert_eq!(
        waiter.loader_error(),
        Some(&DbError::NotFound(7)),
        "the leader's"
    );
    let led = leader.await.unwrap().unwrap_err();
    assert_eq!(led.loader_error(), Some(&DbError::NotFound(7)));
    assert!(format!("{led:?}").contains("NotFound(7)"), "{led:?}");

    // Infallible.
    let v: User = users.get_or_load("8", || async { user(8) }).await.unwrap();
    assert_eq!(v, user(8));
    assert_eq!(users.get("8").await.unwrap(), Some(user(8)));

    // Not cached.
    let v = users
        .get_or_load("9", || async { Loaded::uncached(user(9)) })
        .await
        .unwrap();
    assert_eq!(v, user(9));
    assert_eq!(users.get("9").await.unwrap(), None);

    // Its own TTL.
    users
        .get_or_load("10", || async {
            Ok::<_, std::io::Error>(Loaded::with_ttl(user(10), Duration::from_millis(500)))
        })
        .await
        .unwrap();
    let (_, ttl) = users
        .cache()
        .store()
        .get_with_ttl(&users.key("10").unwrap())
        .await
        .unwrap()
        .unwrap();
    let ttl = ttl.expect("a TTL");
    assert!(ttl <= Duration::from_millis(550), "{ttl:?}");
    assert_eq!(users.get("10").await.unwrap(), Some(user(10)));
}
