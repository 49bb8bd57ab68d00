// `Self` inside a generic type that is not a std wrapper is refused (spanned on the field),
// never a back reference that would mean `Page` instead of `Node`.
use cache_version_core::CacheVersion;
use serde::Serialize;

#[derive(Serialize, CacheVersion)]
pub struct Page<T> {
    pub items: Vec<T>,
}

#[derive(Serialize, CacheVersion)]
pub struct Node {
    pub id: u8,
    pub kids: Page<Node>,
}

fn main() {
    let _ = <Node as CacheVersion>::VERSION;
}
