use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
enum Event {
    #[cache_version(bound = "u64: CacheVersion")]
    Created(u64),
}

fn main() {}
