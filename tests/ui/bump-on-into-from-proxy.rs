use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion, Clone)]
#[serde(into = "u64", from = "u64")]
#[cache_version(bump = 2)]
struct UserId {
    id: u64,
}

impl From<UserId> for u64 {
    fn from(u: UserId) -> u64 {
        u.id
    }
}

impl From<u64> for UserId {
    fn from(id: u64) -> UserId {
        UserId { id }
    }
}

fn main() {}
