use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
enum Event {
    #[cache_version(crate = "cache_version_core")]
    Created,
}

fn main() {}
