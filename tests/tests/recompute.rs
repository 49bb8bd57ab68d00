//! Every version can be recomputed from printed definitions alone, with the `blake3` crate:
//! the rule of cache-version-core/docs/canonical-form.md needs nothing from this library.

use cache_version_core::canonical::{recompute_with, schema, verify};
use cache_version_tests::models;

fn blake3_crate(bytes: &[u8]) -> [u8; 32] {
    *blake3::hash(bytes).as_bytes()
}

#[test]
fn every_model_version_is_recomputed_from_its_printed_definition() {
    for (name, shape, version) in models::all() {
        let text = shape.to_string();
        let recomputed =
            recompute_with(&text, blake3_crate).unwrap_or_else(|e| panic!("{name}: {e}\n  {text}"));
        assert_eq!(recomputed, version, "{name}: {text}");
        // The same holds for every definition reachable from it.
        for def in schema(shape).definitions {
            let again = recompute_with(&def.definition, blake3_crate).unwrap();
            assert_eq!(
                again, def.version,
                "{name} / {}: {}",
                def.name, def.definition
            );
        }
    }
}

#[test]
fn every_model_shape_agrees_with_its_stored_digests() {
    for (name, shape, _) in models::all() {
        verify(shape).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn recompute_rejects_text_that_is_not_canonical() {
    for bad in [
        "",
        "struct{",
        "seq<u8",
        "User@12",
        "enum{A(}",
        "tuple<u8*>",
        "float",
    ] {
        assert!(
            recompute_with(bad, blake3_crate).is_err(),
            "{bad:?} should not parse"
        );
    }
}

#[test]
fn the_rule_by_hand_for_one_type() {
    // v(option<u8>) = B(B("cache-version/1:option<_>") || v(u8)), v(u8) = B(B("cache-version/1:u8")).
    let leaf = blake3_crate(&blake3_crate(b"cache-version/1:u8"));
    let mut outer = blake3_crate(b"cache-version/1:option<_>").to_vec();
    outer.extend_from_slice(&leaf);
    let expected = blake3_crate(&outer);
    use cache_version_core::CacheVersion;
    assert_eq!(<Option<u8> as CacheVersion>::VERSION.as_bytes(), &expected);
}
