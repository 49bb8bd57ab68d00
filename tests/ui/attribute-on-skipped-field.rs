use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
struct User {
    id: u64,
    #[serde(skip)]
    #[cache_version(bump = 1)]
    session: String,
}

fn main() {}
