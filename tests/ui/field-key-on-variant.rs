use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
enum Event {
    #[cache_version(opaque)]
    Created(u64),
}

fn main() {}
