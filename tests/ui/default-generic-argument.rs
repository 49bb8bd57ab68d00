// A default generic argument without an impl: the error is at the use, names the argument
// type, and says what to write for it (derive, or state its shape on the type).
use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize)]
pub struct ReasonData {
    pub code: u32,
}

#[derive(Serialize, CacheVersion)]
pub struct Alarm<R = ReasonData> {
    pub id: u64,
    pub reason: R,
}

#[derive(Serialize, CacheVersion)]
pub struct Device {
    pub alarm: Alarm,
}

fn main() {}
