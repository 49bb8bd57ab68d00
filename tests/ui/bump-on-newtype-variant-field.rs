use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
enum Id {
    User(#[cache_version(bump = 2)] u64),
}

fn main() {}
