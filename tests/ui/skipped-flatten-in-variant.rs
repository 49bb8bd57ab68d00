// serde writes a struct variant holding a skipped flattened field as a map; not describable yet.
use cache_version_core::CacheVersion;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize, CacheVersion)]
pub enum E {
    S {
        a: u8,
        #[serde(flatten, skip_serializing)]
        m: BTreeMap<String, u8>,
    },
}

fn main() {}
