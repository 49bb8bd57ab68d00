use cache_version_core::CacheVersion;
use serde::Serialize;

// Pins current output: a spurious "expected `,`" comes first and `bump = 0` is never
// reported (parsing stops). Wanted: one error on `User` and the `bump = 0` error.
#[derive(Serialize, CacheVersion)]
#[cache_version(name = User, bump = 0)]
struct User {
    id: u64,
}

fn main() {}
