use cache_version_core::CacheVersion;
use serde::Serialize;

// Pins current output: spanned on the derive, not on the `crate` string.
#[derive(Serialize, CacheVersion)]
#[cache_version(crate = "not_a_crate")]
struct User {
    id: u64,
}

fn main() {}
