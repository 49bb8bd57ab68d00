use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
struct User {
    #[cache_version(as = "Vec<String")]
    tags: Vec<String>,
}

fn main() {}
