use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize)]
struct Token(String);
#[derive(Serialize, CacheVersion)]
struct Session {
    #[cache_version(as = "Token")]
    token: String,
}

fn main() {}
