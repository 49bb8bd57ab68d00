// A well-known crate's type without its impl (the feature is off): the error names the
// feature of cache-version-core that provides it. (A stand-in `uuid` module, so that the
// test does not depend on which features the test run turns on.)
mod uuid {
    #[derive(serde::Serialize)]
    pub struct Uuid(pub u128);
}

#[derive(serde::Serialize, cache_version_core::CacheVersion)]
struct Session {
    id: uuid::Uuid,
    previous: Option<uuid::Uuid>,
}

fn main() {}
