//! UI tests: one small file per diagnostic of `#[derive(CacheVersion)]` in `tests/ui/`, each
//! with the compiler output it must produce in the matching `.stderr`.
//!
//! The `.stderr` files are pinned to the toolchain CI uses (rustc 1.95): rustc's own messages
//! (the missing-impl and const-cycle cases) and its rendering change between releases, so run
//! this test with that toolchain. After an intended change to a diagnostic (or a toolchain
//! bump), regenerate them and review every diff before committing:
//!
//! ```text
//! TRYBUILD=overwrite cargo test -p cache-version-tests --test ui
//! ```

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
