use cache_version_core::CacheVersion;
use serde::Serialize;

// rustc's const-eval cycle error (the derive cannot see mutual recursion). It quotes
// lines of cache-version-core/src/{version.rs,impls/std.rs}: regenerate after editing them.
// Fix for users: `#[cache_version(opaque)]` on one edge of the cycle.
#[derive(Serialize, CacheVersion)]
struct A {
    b: Option<Box<B>>,
}

#[derive(Serialize, CacheVersion)]
struct B {
    a: Vec<A>,
}

fn main() {}
