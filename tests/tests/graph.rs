//! Generated graphs of 200 models (see `build.rs`): each model holds `Option<Box<previous>>`
//! and `Vec<three back>`. They compile in seconds and every version is a constant.
#![allow(dead_code)]
// The chains are 200 levels deep: emitting the shape functions of the top model nests ~2
// instantiations per level, past the default limit of 128 (reached near 65 levels).
#![recursion_limit = "512"]

use cache_version_core::{CacheVersion, Version};

include!(concat!(env!("OUT_DIR"), "/graph200.rs"));

// Const assertions: evaluated by the compiler, zero run-time cost.
const TOP: Version = <a::M199 as CacheVersion>::VERSION;
const _: () = assert!(TOP.eq_const(&a::VERSIONS[199]));
const _: () = assert!(!TOP.eq_const(&b::VERSIONS[199]));

#[test]
fn all_200_versions_are_distinct_and_recomputable() {
    let unique: std::collections::HashSet<Version> = a::VERSIONS.iter().copied().collect();
    assert_eq!(unique.len(), 200);
    let schema = cache_version_core::schema_of::<a::M199>();
    assert_eq!(
        schema.definitions.len(),
        200,
        "every model reachable from the top, once"
    );
    for def in &schema.definitions {
        let again = cache_version_core::canonical::recompute_with(&def.definition, |b| {
            *blake3::hash(b).as_bytes()
        })
        .unwrap();
        assert_eq!(again, def.version, "{}", def.name);
    }
}

#[test]
fn a_change_at_the_bottom_reaches_every_model_above_it() {
    for i in 0..200 {
        assert_ne!(
            a::VERSIONS[i],
            b::VERSIONS[i],
            "M{i} missed the change in M0"
        );
    }
}
