use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
enum Event {
    #[cache_version(bumps = 2)]
    Created,
}

fn main() {}
