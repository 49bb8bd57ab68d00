use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
#[cache_version(name = "User")]
#[cache_version(name = "Account")]
struct User {
    id: u64,
}

fn main() {}
