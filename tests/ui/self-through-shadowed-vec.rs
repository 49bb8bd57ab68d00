// A self reference is replaced by a back reference only through std's wrappers; a type of
// the user's own named like one is refused (it would make the back reference mean it).
use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
pub struct Vec<T> {
    pub items: std::vec::Vec<T>,
}

#[derive(Serialize, CacheVersion)]
pub struct Node {
    pub children: Vec<Node>,
}

fn main() {}
