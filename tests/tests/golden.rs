//! Golden vectors: type, canonical definition and version, frozen in `tests/golden/vectors.tsv`.
//!
//! The canonical form is a public, frozen format: every byte of it decides whether users'
//! caches stay warm when they upgrade this library. If this test fails, the library now writes
//! a different definition or version for an unchanged type: that moves every affected key of
//! every user. It is only acceptable together with a new canonical-form format version
//! (`FORMAT_VERSION`, `TEMPLATE_PREFIX`) and a release note; then regenerate the file with
//! `CACHE_VERSION_BLESS=1 cargo test -p cache-version-tests --test golden`.

use std::fmt::Write;

use cache_version_tests::models;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/golden/vectors.tsv");

fn current() -> String {
    let mut out = String::from(
        "# type\tversion\tcanonical definition (format 1; see cache-version-core/docs/canonical-form.md)\n",
    );
    for (name, shape, version) in models::all() {
        writeln!(out, "{name}\t{version}\t{shape}").unwrap();
    }
    out
}

#[test]
fn golden_vectors_are_unchanged() {
    let now = current();
    if std::env::var_os("CACHE_VERSION_BLESS").is_some() {
        std::fs::write(PATH, &now).unwrap();
        return;
    }
    let frozen = std::fs::read_to_string(PATH).expect("tests/golden/vectors.tsv is missing");
    let mut problems = String::new();
    let frozen_lines: Vec<&str> = frozen.lines().collect();
    let now_lines: Vec<&str> = now.lines().collect();
    for (i, line) in now_lines.iter().enumerate() {
        match frozen_lines.get(i) {
            Some(old) if old == line => {}
            Some(old) => writeln!(problems, "- was: {old}\n  now: {line}").unwrap(),
            None => writeln!(problems, "- new: {line}").unwrap(),
        }
    }
    for old in frozen_lines.iter().skip(now_lines.len()) {
        writeln!(problems, "- gone: {old}").unwrap();
    }
    assert!(
        problems.is_empty(),
        "\nTHE CANONICAL FORM CHANGED. This is a breaking change for every user's cache: each \
         affected model moves to a new key space on upgrade and its entries go cold.\nOnly do \
         this with a new canonical-form format version (FORMAT_VERSION / TEMPLATE_PREFIX) and a \
         release note, then regenerate with CACHE_VERSION_BLESS=1.\n{problems}"
    );
}

#[test]
fn golden_vectors_recompute_with_the_blake3_crate() {
    // The frozen file alone is enough to check the rule, without the Rust types.
    let frozen = std::fs::read_to_string(PATH).expect("tests/golden/vectors.tsv is missing");
    let mut n = 0;
    for line in frozen.lines().filter(|l| !l.starts_with('#')) {
        let mut parts = line.splitn(3, '\t');
        let (name, version, definition) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let recomputed = cache_version_core::canonical::recompute_with(definition, |b| {
            *blake3::hash(b).as_bytes()
        })
        .unwrap();
        assert_eq!(recomputed.to_string(), version, "{name}");
        n += 1;
    }
    assert!(n >= 25, "only {n} vectors");
}
