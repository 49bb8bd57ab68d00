use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize)]
struct Token(String);

#[derive(Serialize, CacheVersion)]
struct Session {
    id: u64,
    token: Token,
}

fn main() {}
