use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
struct UserId(#[cache_version(bump = 2)] u64);

fn main() {}
