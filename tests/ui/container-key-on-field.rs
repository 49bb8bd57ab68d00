use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
struct User {
    #[cache_version(name = "Id")]
    id: u64,
}

fn main() {}
