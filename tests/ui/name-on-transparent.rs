// A transparent type has its field's shape: it is not a model of its own, so `name` would
// name nothing.
use cache_version_core::CacheVersion;

#[derive(serde::Serialize, CacheVersion)]
#[serde(transparent)]
#[cache_version(name = "UserId")]
struct UserId(u64);

fn main() {}
