use cache_version_core::CacheVersion;

#[derive(CacheVersion)]
#[cache_version(as = "String", opaque)]
enum Method {
    Get,
}

#[derive(CacheVersion)]
#[cache_version(as = "String", bump = 1)]
enum Verb {
    Get,
}

#[derive(CacheVersion)]
#[cache_version(opaque, name = "Header")]
struct Header;

fn main() {}
