use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
#[cache_version(name = "User Profile")]
struct User {
    id: u64,
}

fn main() {}
