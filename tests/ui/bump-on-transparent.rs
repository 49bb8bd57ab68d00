use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
#[serde(transparent)]
#[cache_version(bump = 2)]
struct UserId {
    id: u64,
}

fn main() {}
