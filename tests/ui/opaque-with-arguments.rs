use cache_version_core::CacheVersion;
use serde::Serialize;

// Pins current output: syn's "expected `,`". Wanted: "`opaque` takes no arguments".
#[derive(Serialize, CacheVersion)]
struct User {
    #[cache_version(opaque(u64))]
    id: u64,
}

fn main() {}
