// A type alias without parameters hides the self reference from the derive: rustc reports a
// cycle, and the constant named after `Node` is the only type in it (so: direct recursion,
// write the alias out).
use cache_version_core::CacheVersion;
use serde::Serialize;

type Kids = Vec<Node>;

#[derive(Serialize, CacheVersion)]
struct Node {
    id: u8,
    kids: Kids,
}

fn main() {
    let _ = <Node as CacheVersion>::VERSION;
}
