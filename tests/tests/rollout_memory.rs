//! The rolling-deploy cases (`cache_version_tests::rollout`) on `MemoryStore`.

use cache_version_core::MemoryStore;

async fn memory_store() -> MemoryStore {
    MemoryStore::new()
}

cache_version_tests::rollout_suite!(memory_store);

/// The futures of a handle with a rollout, and of a sweep, can be spawned on a
/// multi-threaded runtime (`tokio::spawn(users.cleanup().run())`).
#[test]
fn rollout_futures_are_send() {
    use cache_version_core::Cache;
    use cache_version_tests::rollout::{build_b, v2};

    fn send<F: std::future::Future + Send + 'static>(_: F) {}
    fn send_borrowed<F: std::future::Future + Send>(_: F) {}
    let cache = Cache::builder(MemoryStore::new())
        .namespace("send")
        .build()
        .unwrap();
    let users = build_b(&cache);
    send(users.sweep().run());
    send(users.migrator().run());
    send(users.cleanup().dry_run(true).run());
    let value = v2(1, "Ada");
    send_borrowed(users.get("1"));
    send_borrowed(users.set("1", &value));
    send_borrowed(users.delete("1"));
    send_borrowed(users.get_many(&["1", "2"]));
    send_borrowed(users.set_many([("1", value.clone())]));
    send_borrowed(users.delete_many(&["1"]));
}

/// A sweep over a store that loses its place mid-walk (as a restarted Redis does: the walk
/// starts again) still deals with every old key, counts the restart, and balances.
#[tokio::test]
async fn a_sweep_counts_a_restarted_walk_and_misses_nothing() {
    use cache_version_core::{Cache, Store};
    use cache_version_tests::rollout::{build_b, v1, UserV1};
    use cache_version_tests::suite::{unique_ns, FaultyStore};

    let store = FaultyStore::new(MemoryStore::new());
    let ns = unique_ns("sweep-restart");
    let old = Cache::builder(store.clone())
        .namespace(&ns)
        .live_versions(false)
        .build()
        .unwrap()
        .model::<UserV1>();
    let entries: Vec<(String, UserV1)> = (0..600).map(|i| (format!("{i}"), v1(i, "x"))).collect();
    old.set_many(entries).await.unwrap();
    let cache = Cache::builder(store.clone())
        .namespace(&ns)
        .live_versions(false)
        .build()
        .unwrap();
    let users = build_b(&cache);
    store.restart_scan_at(4);
    let report = users.cleanup().batch_size(50).run().await.unwrap();
    assert_eq!(report.restarts, 1, "{report:?}");
    assert!(report.balances(), "{report:?}");
    assert!(report.is_complete(), "{report:?}");
    let prefix = format!("{ns}:");
    let mut left = 0;
    let mut cursor = cache_version_core::ScanCursor::start();
    loop {
        let page = store
            .inner()
            .scan_prefix(prefix.as_bytes(), cursor, 100)
            .await
            .unwrap();
        left += page.keys.len();
        match page.cursor {
            Some(c) => cursor = c,
            None => break,
        }
    }
    assert_eq!(left, 0, "old keys left after the sweep: {report:?}");
    assert_eq!(report.deleted, 600, "{report:?}");
}
