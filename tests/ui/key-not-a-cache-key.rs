use cache_version_core::{Cache, CacheVersion, MemoryStore};

#[derive(Clone, serde::Serialize, serde::Deserialize, CacheVersion)]
struct User {
    id: u64,
}

async fn read(cache: Cache<MemoryStore>) {
    let users = cache.model::<User>();
    // A float is not a key: its text is not one canonical form.
    let _ = users.get(1.5f64).await;
}

fn main() {
    let _ = read;
}
