// `Cache::model::<T>()` needs a model of its own: a collection is refused by `cargo check`,
// with the call to write instead.
use cache_version_core::{Cache, CacheVersion, MemoryStore};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, CacheVersion)]
struct User {
    id: u64,
}

fn main() {
    let cache = Cache::builder(MemoryStore::new()).build().unwrap();
    let _users = cache.model::<Vec<User>>();
}
