use cache_version_core::CacheVersion;
use serde::Serialize;

// Pins current output: it says to put `bump` on the type, which bump-on-transparent.rs rejects.
#[derive(Serialize, CacheVersion)]
#[serde(transparent)]
struct UserId {
    #[cache_version(bump = 2)]
    id: u64,
}

fn main() {}
