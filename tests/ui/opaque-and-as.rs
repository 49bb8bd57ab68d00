use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
struct User {
    #[cache_version(opaque, as = "u64")]
    id: u64,
}

fn main() {}
