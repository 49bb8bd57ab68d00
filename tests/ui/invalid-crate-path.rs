use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
#[cache_version(crate = "my facade::cache_version_core")]
struct User {
    id: u64,
}

fn main() {}
