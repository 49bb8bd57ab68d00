use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
#[serde(renam = "x")]
#[cache_version(bump = 0)]
struct User {
    id: u64,
}

fn main() {}
