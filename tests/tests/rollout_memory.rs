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
