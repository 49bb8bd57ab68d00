// A type whose `Serialize` is hand-written states what it writes; the stated type must have
// an impl (the error points at the attribute).
use cache_version_core::CacheVersion;

struct Wire;

#[derive(CacheVersion)]
#[cache_version(as = "Wire")]
enum Method {
    Get,
}

fn main() {}
