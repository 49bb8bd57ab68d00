use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
#[cache_version(bump = "2")]
struct User {
    id: u64,
}

fn main() {}
