use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
#[cache_version(bound = "T CacheVersion")]
struct Wrapper<T> {
    inner: T,
}

fn main() {}
