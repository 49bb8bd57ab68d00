use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
#[cache_version(bump = 0)]
struct User {
    #[cache_version(opaque = true)]
    id: u64,
    #[cache_version(colour = "red")]
    name: String,
}

fn main() {}
