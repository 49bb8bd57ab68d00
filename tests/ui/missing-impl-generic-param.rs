use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
struct Wrapper<T> {
    inner: T,
}
struct NoImpl;
const _: cache_version_core::Version = <Wrapper<NoImpl> as CacheVersion>::VERSION;

fn main() {}
