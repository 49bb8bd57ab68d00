use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
struct User {
    #[cache_version(opaq)]
    id: u64,
}

fn main() {}
